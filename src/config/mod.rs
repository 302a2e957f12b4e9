//! Config files → a validated `Directory` snapshot.
//!
//! Owns: reading hallpass.toml and the users, devices, bans and grants files (each `X.toml`
//! and/or `X.d/*.toml`), serde wire types that reject unknown keys, and the validation that
//! turns them into a `Directory` or reports EVERY problem with file, line and column.
//! Reading (`read`: which files, their text, list files in parts, secret files) is the only
//! file I/O; validation (`validate`, with `settings` for hallpass.toml and `lists` for the
//! list files) works on text in memory, so it can be checked without any file.
//! Must not: read the clock (the `[eap]` certificates are checked at the `now` the caller
//! passes), open sockets, start threads or tasks, or print secrets. The only files read are
//! the config files and the files hallpass.toml names (secret files, `[eap]` certificates
//! and key); the only other input is the system time zone when hallpass.toml names none.

use std::path::Path;

mod directory;
mod eap;
mod error;
mod lists;
mod read;
mod settings;
mod summary;
mod validate;
mod warning;
mod wire;

pub use directory::*;
pub use error::{ConfigError, ConfigErrorKind, ConfigErrors, Location};
pub use read::{FileFacts, MAIN_FILE, SECRET_FILE_MAX, SecretFile, Sources, config_files};
pub use settings::{EXAMPLE_SECRET, MIN_SECRET_LEN};
pub use summary::check_summary;
pub use validate::{NamedFiles, SecretFiles, validate};
pub use warning::{ConfigWarning, ConfigWarningKind};

/// Reads and validates the config directory `dir` (see DESIGN.md, "Config files").
///
/// Relative paths in the files resolve against `dir`; `server.state_dir` and `config_dir` in
/// the result are absolute. On failure every problem found is returned, each with file, line
/// and column. Besides the config files (and secret files they name), the only input read is
/// the system time zone, when hallpass.toml names none. The `[eap]` certificates must be
/// valid at `now` (the caller's clock: config never reads one).
pub fn load(dir: &Path, now: jiff::Timestamp) -> Result<Directory, ConfigErrors> {
    let sources = Sources::read(dir);
    validate(&sources, &read::DirFiles(sources.dir()), now)
}

#[cfg(test)]
mod tests;
