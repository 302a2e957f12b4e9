//! The command line, as clap definitions. Lives in the library so that the man page and
//! shell completions are generated from exactly what the binary parses.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// hallpass — RADIUS for school networks: registered devices, consent and bans.
#[derive(Parser, Debug)]
#[command(name = "hallpass", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon.
    Serve {
        /// The config directory.
        #[arg(long, short, default_value = "/etc/hallpass")]
        config: PathBuf,
    },
    /// Validate a config directory: prints every error (file:line:column) and exits 1, or a
    /// summary and exits 0.
    Check {
        /// The config directory (also accepted as --config).
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}
