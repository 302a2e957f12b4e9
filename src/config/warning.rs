//! Config warnings: settings that load and work but leave a known attack open, e.g. a client
//! that does not require Message-Authenticator. Each has a place (file, line, column) and a
//! typed kind, like an error; `hallpass check` prints them and still succeeds, the daemon
//! logs each once when it loads the config.
//! Must not: stop a config from loading, or name a secret or a person (client names are the
//! admins' names for their NAS).

use std::fmt;
use std::path::PathBuf;

/// One setting that weakens hallpass, where it is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// Relative to the config directory.
    pub file: PathBuf,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    pub kind: ConfigWarningKind,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: warning: {}",
            self.file.display(),
            self.line,
            self.column,
            self.kind
        )
    }
}

/// What a warning is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigWarningKind {
    /// Without Message-Authenticator an Access-Request is not signed: anyone who can send
    /// from the client's addresses (UDP, spoofed) gets a signed reply and a row in the log,
    /// and BlastRADIUS (CVE-2024-3596) can forge an Accept on the way back.
    #[error(
        "client {client:?} does not require Message-Authenticator: a spoofed 20-byte Access-Request from its addresses gets a signed reply and writes a row to the log, and replies can be forged (BlastRADIUS, CVE-2024-3596); remove `require_message_authenticator = false` once the NAS sends Message-Authenticator"
    )]
    NoMessageAuthenticator { client: String },
}

impl ConfigWarningKind {
    /// A short stable code, for the journal.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigWarningKind::NoMessageAuthenticator { .. } => "no_message_authenticator",
        }
    }
}
