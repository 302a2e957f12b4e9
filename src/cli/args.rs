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
    /// Send RADIUS load to a server and print requests/s, answers and latency percentiles.
    /// Only loopback targets unless --allow-remote is given.
    Load(LoadArgs),
    /// Write the man page or shell completions to stdout (used when packaging).
    #[command(hide = true)]
    Generate {
        #[command(subcommand)]
        what: GenerateWhat,
    },
}

#[derive(Subcommand, Debug)]
pub enum GenerateWhat {
    /// The man page (roff).
    Man,
    /// Shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// The server to load (address:port).
    #[arg(long, default_value = "127.0.0.1:1812")]
    pub target: std::net::SocketAddr,
    /// The shared secret (prefer --secret-file: the command line is visible to other users).
    #[arg(long, conflicts_with = "secret_file")]
    pub secret: Option<String>,
    /// A file holding the shared secret.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// What to send.
    #[arg(long, value_enum, default_value = "mab")]
    pub kind: LoadKindArg,
    /// MAB/accounting: this many generated MACs (3c:22:00:00:00:00 upwards).
    #[arg(long, default_value_t = 1000)]
    pub macs: u32,
    /// MAB/accounting: take the MACs from this devices file instead.
    #[arg(long)]
    pub devices: Option<PathBuf>,
    /// MAB: this share of requests (percent) uses MACs that are not registered.
    #[arg(long, default_value_t = 0)]
    pub unknown_percent: u8,
    /// PAP: the account name.
    #[arg(long, default_value = "load.test")]
    pub user: String,
    /// PAP: the password.
    #[arg(long, default_value = "")]
    pub password: String,
    /// Closed loop: requests in flight.
    #[arg(long, short = 'c', default_value_t = 64)]
    pub concurrency: usize,
    /// Open loop: requests per second (overrides --concurrency).
    #[arg(long, short = 'r')]
    pub rate: Option<u32>,
    /// Stop after this many requests.
    #[arg(long, short = 'n')]
    pub count: Option<u64>,
    /// Stop after this long (e.g. 10s, 2m).
    #[arg(long, short = 'd', default_value = "10s")]
    pub duration: String,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 1.0)]
    pub timeout: f64,
    /// NAS-Port-Type: wifi (Wireless-802.11) or lan (Ethernet).
    #[arg(long, default_value = "wifi")]
    pub module: String,
    /// Allow a target outside loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LoadKindArg {
    Mab,
    Pap,
    Acct,
}
