//! The CLI's writes: [`Admin`] owns a short read-write connection for the two things an
//! admin command writes itself, audit rows and the erasure of one person. Everything the
//! daemon writes goes through its writer thread instead.
//!
//! Must not: hold the connection longer than one command. SQLite's busy timeout makes it
//! wait for the daemon's writer, so a long-lived Admin would stall the daemon's commits.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;
use super::erase::{EraseCounts, erase_user};
use super::records::{AuditRecord, insert_audit};
use super::schema;
use crate::model::MacAddr;

/// An admin command's own read-write connection to the runtime database.
#[derive(Debug)]
pub struct Admin {
    conn: Connection,
}

impl Admin {
    /// Opens the database at `db_path` for writing (creating and migrating it if needed),
    /// waiting up to `wait` whenever the daemon's writer holds the lock.
    pub fn open(db_path: &Path, wait: Duration) -> Result<Admin, StoreError> {
        Ok(Admin {
            conn: schema::open_rw(db_path, wait)?,
        })
    }

    /// Records what an admin did, and why.
    pub fn audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        Ok(insert_audit(&self.conn, record)?)
    }

    /// Deletes every runtime row of `user` (if given) and of `macs` (their devices), all
    /// or nothing. The audit log is kept.
    pub fn erase(
        &mut self,
        user: Option<&str>,
        macs: &[MacAddr],
    ) -> Result<EraseCounts, StoreError> {
        erase_user(&mut self.conn, user, macs)
    }
}
