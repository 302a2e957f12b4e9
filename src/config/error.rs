//! Config errors: where (file, line, column) and what (a typed kind). Messages are written
//! for a school admin, and never contain a secret or a password.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use ipnetwork::IpNetwork;

use crate::model::{MacAddr, ModelError};

/// A position in a config file, e.g. where a MAC was registered first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Relative to the config directory, e.g. `devices.d/7b.toml`.
    pub file: PathBuf,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One problem in the config files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Relative to the config directory, e.g. `devices.d/7b.toml`.
    pub file: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file (e.g. it cannot be read).
    pub line: u32,
    /// 1-based column in characters; 0 when `line` is 0.
    pub column: u32,
    pub kind: ConfigErrorKind,
}

impl ConfigError {
    /// Whether the error points at a line and column.
    pub fn has_position(&self) -> bool {
        self.line != 0
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.has_position() {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.kind
            )
        } else {
            write!(f, "{}: {}", self.file.display(), self.kind)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in one load, in file order. Never empty when returned by `load`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// What is wrong. Values that may be secret (shared secrets, passwords) are never carried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigErrorKind {
    // --- files and TOML ---
    #[error("cannot read this file: {detail}")]
    Unreadable { detail: String },
    #[error("the file is not valid UTF-8 text")]
    NotUtf8,
    #[error("TOML syntax error: {message}")]
    Syntax { message: String },
    #[error("unknown key `{key}` ({allowed})")]
    UnknownKey { key: String, allowed: String },
    #[error("missing key `{key}`")]
    MissingKey { key: String },
    #[error("`{key}` must be a list of [[{key}]] entries")]
    NotAList { key: String },
    /// A value of the wrong TOML type, as the TOML reader describes it.
    #[error("{message}")]
    BadValue { message: String },

    // --- [server] ---
    #[error("unknown time zone {name:?} (expected a name like \"Europe/Berlin\")")]
    UnknownTimeZone { name: String },
    #[error("unknown language {value:?} (expected \"de\" or \"en\")")]
    BadLanguage { value: String },
    #[error("state_dir must not be empty")]
    EmptyStateDir,
    #[error(
        "not a metrics listen address: {value:?} (expected an address and port, e.g. \"127.0.0.1:9812\")"
    )]
    BadMetricsAddress { value: String },
    /// `min_free_space` or `max_database_size` that is not a data amount (or a zero cap).
    #[error("{key}: {problem}")]
    BadSize {
        key: &'static str,
        problem: ModelError,
    },

    // --- [radius] ---
    #[error("not a listen address: {value:?} (expected e.g. \"0.0.0.0:1812\" or \"[::]:1812\")")]
    BadListenAddress { value: String },
    #[error("client name must not be empty")]
    EmptyClientName,
    #[error(
        "not an address or network: {value:?} (expected e.g. \"10.0.0.5\", \"10.0.0.0/24\" or \"2001:db8::/64\")"
    )]
    BadClientAddress { value: String },
    #[error(
        "client {client:?} has the same network {network} as client {first_client:?} (first in {first})"
    )]
    DuplicateClientNetwork {
        client: String,
        network: IpNetwork,
        first_client: String,
        first: Location,
    },
    #[error("client {client:?} has both `secret` and `secret_file`; keep exactly one")]
    SecretBoth { client: String },
    #[error("client {client:?} has no secret: set `secret` or `secret_file`")]
    SecretMissing { client: String },
    #[error("the secret of client {client:?} is only {length} characters long; use at least 16")]
    SecretTooShort { client: String, length: usize },
    #[error(
        "client {client:?} still has the example secret of the shipped hallpass.toml, and hallpass listens on {listen}, not only on loopback: set a secret of your own (at least 16 characters, the same as on the NAS)"
    )]
    ExampleSecret { client: String, listen: SocketAddr },
    #[error("cannot read the secret file {path:?} of client {client:?}: {detail}")]
    SecretFileUnreadable {
        client: String,
        path: String,
        detail: String,
    },
    #[error(
        "the secret file {path:?} of client {client:?} can be read by every account or changed by others than its owner (mode {mode:04o}): run `chmod 0640 {}`",
        full.display()
    )]
    SecretFileMode {
        client: String,
        path: String,
        mode: u32,
        full: PathBuf,
    },
    #[error(
        "the secret file {path:?} of client {client:?} belongs to uid {uid}, not to root or the hallpass account: run `chown root:hallpass {}`",
        full.display()
    )]
    SecretFileOwner {
        client: String,
        path: String,
        uid: u32,
        full: PathBuf,
    },
    #[error(
        "the secret file {path:?} of client {client:?} is larger than {max} bytes; it holds the secret alone, on one line"
    )]
    SecretFileTooLarge {
        client: String,
        path: String,
        max: usize,
    },
    #[error("unknown client module {value:?} (expected \"wifi\" or \"lan\")")]
    BadClientModule { value: String },

    // --- [dhcp] ---
    #[error("not a network interface name: {value:?}")]
    BadInterface { value: String },
    #[error("not an IP address: {value:?}")]
    BadIp { value: String },

    // --- [policy] and [privacy] ---
    #[error("{key} must be at least {min}, not {value}")]
    TooSmall {
        key: &'static str,
        min: i64,
        value: i64,
    },
    #[error("{key} must be at most {max}, not {value}")]
    TooLarge {
        key: &'static str,
        max: i64,
        value: i64,
    },
    #[error(
        "not a duration: {value:?} (expected e.g. \"12h\", \"7d\", \"90m\", \"30s\" or \"1h30m\")"
    )]
    BadDuration { value: String },
    #[error("duration {value:?} must be longer than zero and at most 136 years")]
    DurationOutOfRange { value: String },
    #[error("VLAN {value} is out of range (1 to 4094)")]
    BadVlan { value: i64 },
    #[error("group name must not be empty")]
    EmptyGroupName,
    #[error("policy group {name:?} is defined twice (first in {first})")]
    DuplicateGroup { name: String, first: Location },
    #[error("unknown access {value:?} (expected \"always\" or \"grant\")")]
    BadAccess { value: String },
    /// A schedule window that does not parse, ends before it starts or is empty.
    #[error("{problem}")]
    BadSchedule { problem: ModelError },
    #[error(
        "`schedule` is empty: the group could never use the network (remove `schedule` for \"any time\")"
    )]
    EmptySchedule,
    /// A `daily_quota` that is not a data amount, or zero.
    #[error("{problem}")]
    BadQuota { problem: ModelError },

    // --- [eap] ---
    #[error("unknown EAP method {value:?} (expected \"peap\", \"ttls\" or \"tls\")")]
    BadEapMethod { value: String },
    #[error("EAP method {value:?} is listed twice")]
    DuplicateEapMethod { value: String },
    #[error(
        "`methods` is empty: offer at least one of \"peap\", \"ttls\", \"tls\" (or remove [eap])"
    )]
    NoEapMethods,
    #[error("tls_versions must be [\"1.2\"] or [\"1.2\", \"1.3\"], not {value}")]
    BadTlsVersions { value: String },
    #[error("unknown unregistered_devices {value:?} (expected \"reject\", \"allow\" or \"enrol\")")]
    BadUnregisteredDevices { value: String },
    #[error(
        "the EAP method \"tls\" needs `client_ca` (the CA that issued the client certificates)"
    )]
    ClientCaMissing,
    #[error("cannot read the {key} file {path:?}: {detail}")]
    EapFileUnreadable {
        key: &'static str,
        path: String,
        detail: String,
    },
    #[error(
        "the private key {path:?} can be read by group or others (mode {mode:03o}); make it readable by its owner only (chmod 600)"
    )]
    PrivateKeyReadable { path: String, mode: u32 },
    #[error("{path}: {problem}")]
    EapCertificate {
        path: String,
        problem: crate::eap::certs::CertError,
    },
    #[error("the TLS configuration cannot be built from {path}: {detail}")]
    EapTls { path: String, detail: String },

    // --- users ---
    #[error("user name must not be empty")]
    EmptyUserName,
    #[error("user name {name:?} contains a space or a control character")]
    BadUserName { name: String },
    #[error(
        "user name {name:?} looks like a MAC address; such a login would be taken for a device"
    )]
    UserNameIsMac { name: String },
    #[error("user {name:?} is defined twice (first in {first})")]
    DuplicateUser { name: String, first: Location },
    #[error(
        "the password of user {user:?} is not an argon2 hash (expected \"$argon2id$...\"; create one with the `hallpass user` command)"
    )]
    BadPasswordHash { user: String },
    #[error(
        "the nt_hash of user {user:?} is not 32 hexadecimal digits (the MD4 of the UTF-16LE password)"
    )]
    BadNtHash { user: String },

    // --- devices ---
    #[error(
        "not a MAC address: {value:?} (expected e.g. 3c:22:fb:12:34:56, 3C-22-FB-12-34-56, 3c22fb123456 or 3c22.fb12.3456)"
    )]
    BadMac { value: String },
    #[error("MAC {mac} is registered twice (first in {first})")]
    DuplicateMac { mac: MacAddr, first: Location },
    #[error("device {mac} belongs to {owner:?}, but there is no such user")]
    UnknownOwner { mac: MacAddr, owner: String },
    #[error(
        "device {mac} is device number {number} of {owner:?}, but max_devices_per_user is {max} ({owner:?} has {count} devices)"
    )]
    TooManyDevices {
        mac: MacAddr,
        owner: String,
        number: usize,
        max: usize,
        count: usize,
    },

    // --- bans ---
    #[error("a ban needs exactly one of `user` or `mac`, not both")]
    BanTargetBoth,
    #[error("a ban needs exactly one of `user` or `mac`")]
    BanTargetMissing,
    #[error("ban of unknown user {user:?}")]
    BanUnknownUser { user: String },
    #[error("unknown module {value:?} (expected \"wifi\", \"lan\" or \"all\")")]
    BadBanModule { value: String },
    #[error("`modules` is empty (use [\"all\"] for the whole account)")]
    NoModules,
    #[error("a ban needs a `reason`")]
    BanReasonMissing,
    #[error("the `reason` of a ban must not be empty")]
    BanReasonEmpty,
    #[error("`until` ({until}) is not after `from` ({from})")]
    BanEndsBeforeStart { from: String, until: String },

    // --- grants ---
    #[error("a grant needs exactly one of `user` or `group`, not both")]
    GrantTargetBoth,
    #[error("a grant needs exactly one of `user` or `group`")]
    GrantTargetMissing,
    #[error("grant for unknown user {user:?}")]
    GrantUnknownUser { user: String },
    #[error(
        "grant for unknown group {group:?} (no user is in it and there is no policy group of that name)"
    )]
    GrantUnknownGroup { group: String },
    #[error("unknown module {value:?} (expected \"wifi\", \"lan\" or \"all\")")]
    BadGrantModule { value: String },
    #[error("a grant needs `{key}` (grants always end; use a date or date-time)")]
    GrantTimeMissing { key: &'static str },
    #[error("`until` ({until}) is not after `from` ({from})")]
    GrantEndsBeforeStart { from: String, until: String },
    #[error("a grant needs a `reason`")]
    GrantReasonMissing,
    #[error("the `reason` of a grant must not be empty")]
    GrantReasonEmpty,

    // --- dates ---
    #[error(
        "{value} is not a date or date-time (expected e.g. 2026-12-04 or 2026-12-04T08:00:00+01:00)"
    )]
    BadDatetime { value: String },
}
