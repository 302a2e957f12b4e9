//! The `hallpass` command: parses the command line, sets up logging, calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use hallpass::cli::args::{Cli, Command};

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
        Command::Load(args) => match hallpass::cli::load(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("hallpass load: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
