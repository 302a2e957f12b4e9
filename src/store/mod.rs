//! The daemon's runtime state in SQLite (`<state_dir>/hallpass.db`, WAL): the schema and its
//! migrations, the single writer thread that owns the read-write connection, and the read
//! queries the CLI runs on a read-only connection.
//!
//! The store knows nothing of RADIUS or DHCP wire formats: it takes plain rows. It never
//! makes the authentication path wait on the disk: rows go to the writer over a bounded
//! channel and are dropped (and counted) when the queue is full or the database cannot be
//! written. It may read the clock (retention runs on a timer), but the functions that decide
//! what is old take `now` as a parameter.

mod auth_log;
mod retention;
mod schema;
mod writer;

use std::path::PathBuf;

pub use auth_log::{AuthLogEntry, AuthLogFilter, AuthLogRow, auth_log};
pub use retention::{delete_expired, retention_cutoff};
pub use schema::{DB_FILE_NAME, SCHEMA_VERSION, db_path, migrations, open_read_only};
pub use writer::{WriterConfig, WriterHandle, spawn_writer};

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the database {path} cannot use WAL journaling (journal_mode is {mode})")]
    NoWal { path: PathBuf, mode: String },
    #[error("cannot migrate the database schema: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error(
        "the database has schema version {found}, this hallpass expects {expected} (start the daemon once to migrate it)"
    )]
    SchemaVersion { found: i64, expected: i64 },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the database writer has stopped or is shutting down")]
    ShuttingDown,
    #[error("cannot start the database writer thread: {0}")]
    Spawn(std::io::Error),
    #[error("the database writer thread panicked")]
    WriterPanicked,
    #[error("{count} log rows could not be written to the database")]
    RowsLost { count: u64 },
    #[error("stored row {id} has an invalid {column}: {value:?}")]
    BadRow {
        id: i64,
        column: &'static str,
        value: String,
    },
}
