//! The daemon's runtime state in SQLite (`<state_dir>/hallpass.db`, WAL), behind three
//! handles that are the store's whole interface:
//! - [`Reader`]: one read-only connection; sessions, sightings, the auth log, usage, audit
//!   and Disconnect rows, in the store's own types. The CLI, the enforcer and the DHCP
//!   watcher read through it.
//! - [`Admin`]: the CLI's short read-write connection for what an admin command writes
//!   itself: audit rows, the erasure of one person, removing or replacing a device.
//! - [`WriterHandle`] (from [`spawn_writer`]): the single writer thread that owns the
//!   daemon's read-write connection, batches rows, keeps them durable and runs the timers
//!   (retention, stale sessions).
//!
//! Operations are named in the school's words, never SQL's, and nothing outside this module
//! names `rusqlite`: another backend (PostgreSQL, for several instances) can sit behind the
//! same three handles. The schema and its migrations live here too.
//!
//! The store knows nothing of RADIUS or DHCP wire formats: it takes plain rows. It never
//! makes the authentication path wait on the disk: rows go to the writer over a bounded
//! channel and are dropped (and counted) when the queue is full or the database cannot be
//! written. Accounting records are the exception: they are refused when the queue is full
//! (the NAS retries) and answered only after their commit. The store may read the clock
//! (retention and stale sessions run on timers), but the functions that decide what is old
//! or stale take `now` as a parameter.

mod accounting;
mod admin;
mod auth_log;
mod devices;
mod erase;
mod owner;
mod reader;
mod records;
mod retention;
mod schema;
mod sightings;
mod writer;

use std::path::PathBuf;

pub use accounting::{
    AccountingRecord, AcctStatus, ClosedBy, DEFAULT_INTERIM_SECS, Session, SessionFilter,
    stale_after,
};
pub use admin::Admin;
pub use auth_log::{AuthLogEntry, AuthLogFilter, AuthLogRow};
pub use devices::{DeviceForgotten, DeviceRecords, Enrolment, LastAccepted};
pub use erase::{EraseCounts, PersonMacs};
pub use reader::Reader;
pub use records::{AuditEntry, AuditRecord, DisconnectEntry, DisconnectRecord, DisconnectResult};
pub use retention::{Expiring, retention_cutoff};
pub use schema::{DB_FILE_NAME, SCHEMA_VERSION, db_path};
pub use sightings::{
    DhcpMessage, MessageCounts, RogueServer, RogueServerSeen, SessionIp, Sighting, SightingEvent,
    SightingFilter, SightingUpdate,
};
pub use writer::{
    AccountingDone, DEFAULT_DHCP_QUEUE, DEFAULT_MIN_FREE_SPACE, EraseDone, SpaceLimits,
    WriterConfig, WriterHandle, spawn_writer,
};

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
    #[error(
        "refusing {path}: it is a symbolic link; the state directory must hold the database files themselves"
    )]
    Symlink { path: PathBuf },
    #[error(
        "refusing {path}: it is owned by uid {uid}, not by root, the daemon's account (hallpass) or the account running hallpass"
    )]
    ForeignOwner { path: PathBuf, uid: u32 },
    #[error("cannot check {path}: {source}")]
    StateFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the rows are erased, but older copies of their pages remain in the write-ahead log of {path} (a reader held it): run the erasure again"
    )]
    WalKept { path: PathBuf },
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

/// A database at `db_path` with rows of two people in every table: max (by name and by his
/// devices `da:a1:19:00:00:01` and `3c:22:fb:00:00:02`) and erika (`3c:22:fb:00:00:03`),
/// all at 2026-11-27T07:00:00Z. For tests of what reads the store from outside it.
#[cfg(test)]
pub(crate) fn populate_for_tests(db_path: &std::path::Path) -> Result<(), StoreError> {
    let conn = schema::open_rw(db_path, std::time::Duration::from_secs(1))?;
    erase::tests::populate(&conn);
    Ok(())
}
