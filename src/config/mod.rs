//! Config files → a validated `Directory` snapshot.
//!
//! Owns: reading hallpass.toml and the users, devices, bans and grants files (each `X.toml` and/or
//! `X.d/*.toml`), serde wire types that reject unknown keys, and the validation that turns
//! them into a `Directory` or reports EVERY problem with file, line and column.
//! Must not: read the clock, open sockets, start threads or tasks, or print secrets. The
//! only files read are the config files and the secret files they name; the only other
//! input is the system time zone when hallpass.toml names none.

mod directory;
mod error;
mod load;
mod summary;
mod wire;

pub use directory::*;
pub use error::{ConfigError, ConfigErrorKind, ConfigErrors, Location};
pub use load::{EXAMPLE_SECRET, MAIN_FILE, MIN_SECRET_LEN, config_files, load};
pub use summary::check_summary;

#[cfg(test)]
mod tests;
