//! Temporary entry point of the packaging branch: only the hidden `generate` subcommand that
//! packaging/build-deb.sh calls. The real main (serve, check, ...) replaces this on merge.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use hallpass::cli::args::Cli;
use hallpass::cli::generate::{self, Shell};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let mut out = std::io::stdout().lock();
    let written = match args.get(1..).unwrap_or_default() {
        [cmd, what] if cmd == "generate" && what == "man" => generate::man_page(&mut out),
        [cmd, what, shell] if cmd == "generate" && what == "completions" => {
            match Shell::from_str(shell, true) {
                Ok(shell) => {
                    generate::completions(shell, &mut out);
                    Ok(())
                }
                Err(e) => {
                    eprintln!("hallpass: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        _ => {
            let cli = Cli::parse();
            eprintln!(
                "hallpass: {:?} is not implemented in this build",
                cli.command
            );
            return ExitCode::FAILURE;
        }
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hallpass: {e}");
            ExitCode::FAILURE
        }
    }
}
