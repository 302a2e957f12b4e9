//! The CLI's writes: [`Admin`] owns a short read-write connection for the things an
//! admin command writes itself: audit rows, the erasure of one person, removing or replacing
//! a device's enrolment and last-accepted time. Everything the
//! daemon writes goes through its writer thread instead.
//!
//! Must not: hold the connection longer than one command. SQLite's busy timeout makes it
//! wait for the daemon's writer, so a long-lived Admin would stall the daemon's commits.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;
use super::devices::{self, DeviceForgotten};
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

    /// Deletes every runtime row of `user` (if given), of `macs` (the devices registered to
    /// them) and of their other MACs ([`PersonMacs`](super::PersonMacs)), all or nothing,
    /// then empties the write-ahead log so that no copy stays in the files. The audit log
    /// is kept.
    pub fn erase(
        &mut self,
        user: Option<&str>,
        macs: &[MacAddr],
    ) -> Result<EraseCounts, StoreError> {
        erase_user(&mut self.conn, user, macs)
    }

    /// Deletes the enrolment and the last-accepted time of each of `macs` (a device removed
    /// or pruned), in one transaction.
    pub fn forget_devices(&mut self, macs: &[MacAddr]) -> Result<Vec<DeviceForgotten>, StoreError> {
        devices::forget_devices(&mut self.conn, macs)
    }

    /// A device replaced by another: an enrolment of `old` moves to `new`, `old`'s
    /// last-accepted time goes, and `new` counts as accepted `now`. Returns whether `old`
    /// was enrolled.
    pub fn replace_device(
        &mut self,
        old: MacAddr,
        new: MacAddr,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        devices::replace_device(&mut self.conn, old, new, now)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::store::erase::tests::{ERIKA_PHONE, MAX_LAPTOP, MAX_PHONE, populate};
    use crate::store::records::tests::audit;
    use crate::store::{AuthLogFilter, Reader, SessionFilter, SightingFilter, db_path};

    #[test]
    fn what_admin_writes_the_reader_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = db_path(dir.path());
        let mut admin = Admin::open(&path, Duration::from_secs(1)).unwrap();
        populate(&admin.conn);
        let reader = Reader::open(&path).unwrap();
        let max_phone: MacAddr = MAX_PHONE.parse().unwrap();
        let max_laptop: MacAddr = MAX_LAPTOP.parse().unwrap();
        assert_eq!(reader.sessions(&SessionFilter::default()).unwrap().len(), 3);
        assert_eq!(reader.open_sessions().unwrap().len(), 3);
        assert_eq!(
            reader
                .open_sessions_of(Some("max"), &[max_laptop])
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            reader.sightings(&SightingFilter::default()).unwrap().len(),
            3
        );
        assert_eq!(reader.sighting_history(max_phone, 10).unwrap().len(), 2);
        assert_eq!(reader.rogue_servers().unwrap().len(), 2);
        assert_eq!(reader.disconnects(None).unwrap().len(), 3);
        assert_eq!(reader.audit_log(None).unwrap().len(), 1);

        admin
            .audit(&audit("2026-11-28T07:00:00Z", "erika"))
            .unwrap();
        let counts = admin.erase(Some("max"), &[max_phone, max_laptop]).unwrap();
        assert_eq!(counts.total(), 14);
        // the same Reader sees the erasure: nothing of max is left, erika's rows stay
        let max_log = AuthLogFilter {
            user: Some("max".into()),
            ..AuthLogFilter::default()
        };
        assert!(reader.auth_log(&max_log).unwrap().is_empty());
        assert!(reader.sighting(max_phone).unwrap().is_none());
        assert!(
            reader
                .open_sessions_of(Some("max"), &[])
                .unwrap()
                .is_empty()
        );
        assert!(
            reader
                .sighting(ERIKA_PHONE.parse().unwrap())
                .unwrap()
                .is_some()
        );
        let audit_log = reader.audit_log(None).unwrap();
        assert_eq!(
            audit_log
                .iter()
                .map(|e| e.record.subject.as_str())
                .collect::<Vec<_>>(),
            ["erika", "max"],
            "newest first, and the audit log is kept"
        );
    }

    #[test]
    fn a_reader_needs_an_existing_database_of_this_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = db_path(dir.path());
        assert!(matches!(Reader::open(&path), Err(StoreError::Open { .. })));
        let admin = Admin::open(&path, Duration::from_secs(1)).unwrap();
        admin.conn.pragma_update(None, "user_version", 1).unwrap();
        assert!(matches!(
            Reader::open(&path),
            Err(StoreError::SchemaVersion { found: 1, .. })
        ));
    }

    #[test]
    fn usage_counts_the_sessions_of_the_user_in_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = db_path(dir.path());
        let admin = Admin::open(&path, Duration::from_secs(1)).unwrap();
        let mut r = crate::store::accounting::tests::rec(
            crate::store::AcctStatus::Start,
            "S1",
            "2026-11-27T07:00:00Z",
        );
        r.input_octets = 1_000;
        r.output_octets = 234;
        crate::store::accounting::apply(&admin.conn, &r).unwrap();
        let reader = Reader::open(&path).unwrap();
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let day = (t("2026-11-26T23:00:00Z"), t("2026-11-27T23:00:00Z"));
        assert_eq!(reader.usage_of("max.muster", day.0, day.1).unwrap(), 1_234);
        assert_eq!(reader.usage_of("erika", day.0, day.1).unwrap(), 0);
        let next_day = (day.1, t("2026-11-28T23:00:00Z"));
        assert_eq!(
            reader
                .usage_of("max.muster", next_day.0, next_day.1)
                .unwrap(),
            1_234,
            "an open session counts on every day it overlaps"
        );
    }
}
