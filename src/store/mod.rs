//! The daemon's runtime state in SQLite (`<state_dir>/hallpass.db`, WAL): the schema and its
//! migrations, the single writer thread that owns the read-write connection, and the read
//! queries the CLI runs on a read-only connection.
//!
//! The store knows nothing of RADIUS or DHCP wire formats: it takes plain rows. It never
//! makes the authentication path wait on the disk: rows go to the writer over a bounded
//! channel and are dropped (and counted) when the queue is full or the database cannot be
//! written. Accounting records are the exception: they are refused when the queue is full
//! (the NAS retries) and answered only after their commit. The store may read the clock
//! (retention and stale sessions run on timers), but the functions that decide what is old
//! or stale take `now` as a parameter.

mod accounting;
mod auth_log;
mod erase;
mod records;
mod retention;
mod schema;
mod sightings;
mod writer;

use std::path::PathBuf;

pub use accounting::{
    AccountingRecord, AcctStatus, ClosedBy, DEFAULT_INTERIM_SECS, Session, SessionFilter,
    close_stale, open_sessions, open_sessions_of, sessions, stale_after, usage_by_user_between,
};
pub use auth_log::{AuthLogEntry, AuthLogFilter, AuthLogRow, auth_log};
pub use erase::{EraseCounts, erase_user};
pub use records::{
    AuditEntry, AuditRecord, DisconnectEntry, DisconnectRecord, DisconnectResult, audit_log,
    disconnects,
};
pub use retention::{Expiring, delete_expired, delete_expired_audit, retention_cutoff};
pub use schema::{DB_FILE_NAME, SCHEMA_VERSION, db_path, migrations, open_read_only};
// For the CLI's short read-write connection (erasure and audit rows; see src/cli/mod.rs).
pub(crate) use records::insert_audit;
pub(crate) use schema::open_rw;
pub use sightings::{
    DhcpMessage, MessageCounts, RogueServer, RogueServerSeen, SessionIp, Sighting, SightingEvent,
    SightingFilter, SightingUpdate, rogue_servers, session_ip, sighting, sighting_history,
    sightings,
};
pub use writer::{AccountingDone, EraseDone, WriterConfig, WriterHandle, spawn_writer};

/// Why the writer refused a job at once (nothing was queued).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountingRejected {
    #[error("the database writer's queue is full")]
    QueueFull,
    #[error("the database writer has stopped or is shutting down")]
    ShuttingDown,
}

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
    #[error("not stored: {0}")]
    Rejected(AccountingRejected),
    #[error("the transaction was rolled back, nothing of it is stored: {cause}")]
    NotCommitted { cause: String },
    #[error("the database could not be written a moment ago; not retried yet")]
    BackingOff,
    #[error("stored row {id} has an invalid {column}: {value:?}")]
    BadRow {
        id: i64,
        column: &'static str,
        value: String,
    },
}
