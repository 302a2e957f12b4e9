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
    /// Registered and enrolled devices: add, remove, replace, list, prune (edits devices.toml
    /// or the file holding the entry; enrolments live in the state database).
    Device {
        #[command(subcommand)]
        cmd: DeviceCmd,
    },
    /// Bans on accounts or devices: add, lift, list (edits bans.toml or the file holding it).
    Ban {
        #[command(subcommand)]
        cmd: BanCmd,
    },
    /// Teachers' grants: add (edits grants.toml).
    Grant {
        #[command(subcommand)]
        cmd: GrantCmd,
    },
    /// One account: show, export or erase its data, set its password.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Why a device or an account gets the answer it gets: the same policy as the daemon,
    /// every rule checked, and the Reply-Message the person would see.
    Why(WhyArgs),
    /// Accounting sessions from the database (needs --reason; audited before anything is read).
    Sessions(SessionsArgs),
    /// DHCP sightings from the database: which device was seen where (needs --reason;
    /// audited before anything is read).
    Sightings(SightingsArgs),
    /// Access decisions from the auth log (needs --reason; audited before anything is read).
    Log(LogArgs),
    /// The audit log: who read or changed what, when and why. "Who" is the account the
    /// admin logged in with (the kernel's login uid), not $SUDO_USER, which is shown beside it.
    Audit(AuditArgs),
    /// Certificates for 802.1X (EAP): a private CA and the server's certificate, client
    /// certificates for EAP-TLS.
    Eap {
        #[command(subcommand)]
        cmd: EapCmd,
    },
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
    /// Read replies one datagram at a time. By default the kernel may hand over a
    /// server's segmented replies together (UDP GRO); on loopback their splitting would
    /// otherwise run on the server's core and count as its CPU time.
    #[arg(long)]
    pub no_gro: bool,
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

/// The config directory, on every admin subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct ConfigArg {
    /// The config directory.
    #[arg(long, short = 'c', default_value = "/etc/hallpass")]
    pub config: PathBuf,
}

/// Options of every command that edits the config files.
#[derive(clap::Args, Debug, Clone)]
pub struct EditArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Do not ask the running daemon to reload (SIGHUP) after the edit.
    #[arg(long)]
    pub no_reload: bool,
}

#[derive(Subcommand, Debug)]
pub enum DeviceCmd {
    /// Register a device to an account.
    Add {
        /// The MAC address, in any common notation.
        mac: String,
        /// The account the device belongs to.
        #[arg(long)]
        owner: String,
        /// What the device is, e.g. "iPhone".
        #[arg(long)]
        label: Option<String>,
        /// The file to add it to, relative to the config directory (default devices.toml),
        /// e.g. devices.d/7b.toml.
        #[arg(long)]
        file: Option<PathBuf>,
        #[command(flatten)]
        edit: EditArgs,
    },
    /// Remove a registration (from whichever file holds it) or an enrolment, with the
    /// device's last-accepted time.
    Remove {
        mac: String,
        #[command(flatten)]
        edit: EditArgs,
    },
    /// Move a registration or an enrolment to a new MAC (a new phone, a new private
    /// address): owner, label, the entry's place and comments stay; one atomic edit.
    Replace {
        /// The MAC registered now.
        old: String,
        /// The MAC it becomes.
        new: String,
        #[command(flatten)]
        edit: EditArgs,
    },
    /// List registered and enrolled devices: where each is registered, when it was last
    /// accepted, whether its MAC is randomized (locally administered), when it expires.
    List {
        #[arg(long)]
        owner: Option<String>,
        /// Only devices that have expired ([policy] device_expiry) or expire within 30 days.
        #[arg(long)]
        stale: bool,
        /// Registered devices the DHCP watcher now sees under a new randomized MAC (same
        /// host name), each with the `device replace` command that would move it.
        #[arg(long, conflicts_with_all = ["stale", "json"])]
        suggest: bool,
        #[arg(long)]
        json: bool,
        /// Why the last-accepted times are read (required with --stale and --suggest;
        /// recorded in the audit log). Without it the list leaves out when each device was
        /// last accepted and when it expires: they tell when a person was at school.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Remove expired devices: their registrations from the files (the usual safe edit),
    /// their enrolments and last-accepted times from the database.
    Prune {
        /// Expired devices ([policy] device_expiry); required, as the only kind there is.
        #[arg(long, required = true)]
        stale: bool,
        /// Why (required; recorded in the audit log).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        edit: EditArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum BanCmd {
    /// Ban an account or a device from some modules.
    #[command(group = clap::ArgGroup::new("target").required(true).args(["user", "mac"]))]
    #[command(group = clap::ArgGroup::new("end").required(true).args(["until", "for_", "permanent"]))]
    Add {
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        mac: Option<String>,
        /// wifi, lan, or all (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        modules: Vec<String>,
        /// When it begins (default: now): RFC 3339, 2026-12-04 or "2026-12-04 08:00".
        #[arg(long)]
        from: Option<String>,
        /// When it ends.
        #[arg(long)]
        until: Option<String>,
        /// How long from --from (or now), e.g. 7d, 12h.
        #[arg(long = "for", id = "for_", value_name = "DURATION")]
        for_: Option<String>,
        /// No end.
        #[arg(long)]
        permanent: bool,
        /// Why (required; the person sees the ban, the school keeps the reason).
        #[arg(long)]
        reason: String,
        /// Who imposed it (default: the admin running the command).
        #[arg(long)]
        by: Option<String>,
        #[command(flatten)]
        edit: EditArgs,
    },
    /// Lift bans: those of a user or device that are in force or still to come, or one by
    /// its number in `ban list`.
    #[command(group = clap::ArgGroup::new("which").required(true).args(["user", "mac", "index"]))]
    Lift {
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        mac: Option<String>,
        /// The number shown by `hallpass ban list`.
        #[arg(long)]
        index: Option<usize>,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        edit: EditArgs,
    },
    /// List bans, numbered.
    List {
        /// Only bans in force now.
        #[arg(long)]
        active: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum GrantCmd {
    /// Give a group or a user access for a while.
    #[command(group = clap::ArgGroup::new("target").required(true).args(["group", "user"]))]
    #[command(group = clap::ArgGroup::new("end").required(true).args(["until", "for_"]))]
    Add {
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        user: Option<String>,
        /// wifi, lan, or all (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        modules: Vec<String>,
        /// When it begins: "now", RFC 3339, 2026-12-04 or "2026-12-04 08:00".
        #[arg(long)]
        from: String,
        #[arg(long)]
        until: Option<String>,
        /// How long from --from, e.g. 45m.
        #[arg(long = "for", id = "for_", value_name = "DURATION")]
        for_: Option<String>,
        #[arg(long)]
        reason: String,
        /// The teacher who granted it (default: the admin running the command).
        #[arg(long)]
        by: Option<String>,
        #[command(flatten)]
        edit: EditArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// The account, its devices, bans and grants (from the config files), and with
    /// --reason when each device was last accepted.
    Show {
        user: String,
        /// Why the device's last-accepted times are read (recorded in the audit log);
        /// without it they are left out.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Every record about the person as one JSON document (right of access, portability).
    Export {
        user: String,
        /// Why the data is read (required; recorded in the audit log).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Delete the runtime records of the person and their devices (right to erasure): also
    /// those of MACs no longer registered to them and of randomized MACs linked to theirs,
    /// overwritten in the database file and its write-ahead log.
    Erase {
        user: String,
        /// Why (required; recorded in the audit log, which keeps the erasure on record).
        #[arg(long)]
        reason: Option<String>,
        /// Also remove their device registrations from the config files.
        #[arg(long)]
        registrations: bool,
        #[command(flatten)]
        edit: EditArgs,
    },
    /// Set the password for PAP and EAP logins (asked without echo, or one line from stdin).
    ///
    /// Writes the argon2id `password`. When hallpass.toml's [eap] offers "peap" (listed in
    /// `methods`, or no `methods` given), also the `nt_hash` PEAP-MSCHAPv2 needs (MSCHAPv2 cannot work from argon2). Without "peap" an
    /// existing `nt_hash` is removed: it belongs to the old password, which must stop working
    /// everywhere; offering "peap" later needs the password set once more.
    Passwd {
        user: String,
        /// Read the password as one line from standard input.
        #[arg(long)]
        stdin: bool,
        #[command(flatten)]
        edit: EditArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum EapCmd {
    /// Write a private CA (ca.pem, ca.key) and a server certificate signed by it (server.pem
    /// with the CA after it, server.key) into <config>/eap/, and print the CA's fingerprint
    /// and the [eap] lines to add. Keys are written readable by their owner only.
    MakeCert {
        /// A DNS name of the RADIUS server (the first is the certificate's CN); what pupils
        /// enter as "Domain". Repeat for more names.
        #[arg(long = "dns", required = true, value_name = "NAME")]
        dns: Vec<String>,
        /// Where to write (default: eap/ in the config directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The CA's name (its CN; default: "hallpass EAP CA" and the first DNS name).
        #[arg(long)]
        ca_name: Option<String>,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Write what pupils install instead of typing settings: an Apple configuration profile
    /// (SSID.mobileconfig), a Windows 11 WLAN profile (SSID-windows.xml) and the Android
    /// fields (SSID-android.txt), with the CA to trust and the server name of [eap]'s
    /// certificate. No user name or password is in them.
    Profile {
        /// The network's name (SSID).
        #[arg(long)]
        ssid: String,
        /// Where to write the three files.
        #[arg(long)]
        out: PathBuf,
        /// peap or ttls (default: the first of them [eap] offers).
        #[arg(long)]
        method: Option<String>,
        /// The CA certificate to trust (default: eap/ca.pem, as make-cert writes it).
        #[arg(long)]
        ca: Option<PathBuf>,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Write a client certificate for EAP-TLS (USER.pem, USER.key), signed by the CA that
    /// make-cert wrote (ca.pem, ca.key in --ca-dir); the user is the certificate's CN.
    ClientCert {
        /// The account the certificate logs in as.
        #[arg(long)]
        user: String,
        /// The directory with ca.pem and ca.key.
        #[arg(long)]
        ca_dir: PathBuf,
        /// Where to write USER.pem and USER.key.
        #[arg(long)]
        out: PathBuf,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
    },
}

#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("who").required(true).multiple(true).args(["mac", "user"]))]
pub struct WhyArgs {
    /// A device, asked as a MAB request (with --user: an 802.1X login of the account from
    /// this device, its credentials taken as right).
    #[arg(long)]
    pub mac: Option<String>,
    /// An account, checked like an open session (no password).
    #[arg(long)]
    pub user: Option<String>,
    /// wifi or lan (default wifi).
    #[arg(long, default_value = "wifi")]
    pub module: String,
    /// The moment to decide for (default now).
    #[arg(long)]
    pub at: Option<String>,
    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(clap::Args, Debug)]
pub struct SessionsArgs {
    /// Only open sessions.
    #[arg(long)]
    pub open: bool,
    #[arg(long)]
    pub mac: Option<String>,
    #[arg(long)]
    pub user: Option<String>,
    /// Why the sessions are read (required; recorded in the audit log first).
    #[arg(long)]
    pub reason: Option<String>,
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(clap::Args, Debug)]
pub struct SightingsArgs {
    /// Only devices that are not registered.
    #[arg(long)]
    pub unregistered: bool,
    /// Only randomized (locally administered) MACs.
    #[arg(long)]
    pub randomized: bool,
    /// Why the sightings are read (required; recorded in the audit log first).
    #[arg(long)]
    pub reason: Option<String>,
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("who").args(["mac", "user"]))]
pub struct LogArgs {
    #[arg(long)]
    pub mac: Option<String>,
    #[arg(long)]
    pub user: Option<String>,
    /// Why the log is read (required; recorded in the audit log first).
    #[arg(long)]
    pub reason: Option<String>,
    /// Only rows at or after this time.
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArg,
}
