//! The `hallpass` command: parses the command line, sets up logging, calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use hallpass::cli::args::{Cli, Command, GenerateWhat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    hallpass::cli::init_logging();
    match cli.command {
        Command::Serve { config } => match hallpass::daemon::run(&config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("hallpass: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Check { dir, config } => {
            let dir = dir
                .or(config)
                .unwrap_or_else(|| PathBuf::from("/etc/hallpass"));
            hallpass::cli::check(&dir)
        }
        Command::Generate { what } => {
            let mut out = std::io::stdout().lock();
            let written = match what {
                GenerateWhat::Man => hallpass::cli::generate::man_page(&mut out),
                GenerateWhat::Completions { shell } => {
                    hallpass::cli::generate::completions(shell, &mut out);
                    Ok(())
                }
            };
            match written.and_then(|()| std::io::Write::flush(&mut out)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hallpass: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        cmd @ (Command::Device { .. }
        | Command::Ban { .. }
        | Command::Grant { .. }
        | Command::User { .. }
        | Command::Why(_)
        | Command::Sessions(_)
        | Command::Sightings(_)
        | Command::Log(_)
        | Command::Audit(_)
        | Command::Eap { .. }) => hallpass::cli::run(cmd),
        Command::Load(args) => match hallpass::cli::load(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("hallpass load: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
