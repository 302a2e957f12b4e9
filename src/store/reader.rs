//! The read side of the store: [`Reader`] owns one read-only connection and answers in the
//! store's own types (sessions, sightings, auth-log entries, usage, audit rows). The CLI, the
//! enforcer (open sessions, today's usage) and the DHCP watcher (earlier sightings) read
//! through it; none of them sees how the rows are kept.
//!
//! Must not write: the connection is opened read-only, so a Reader can be held while the
//! writer thread commits (WAL) and can never take the writer's lock.

use std::path::Path;

use jiff::Timestamp;
use rusqlite::Connection;

use super::StoreError;
use super::accounting::{self, Session, SessionFilter};
use super::auth_log::{self, AuthLogEntry, AuthLogFilter};
use super::devices::{self, DeviceRecords, Enrolment, LastAccepted};
use super::erase::{self, PersonMacs};
use super::records::{self, AuditEntry, DisconnectEntry};
use super::schema;
use super::sightings::{self, RogueServer, SessionIp, Sighting, SightingEvent, SightingFilter};
use crate::model::MacAddr;

/// Read-only access to the runtime database.
#[derive(Debug)]
pub struct Reader {
    conn: Connection,
}

impl Reader {
    /// Opens the database at `db_path` (see [`super::db_path`]) for reading. Works while
    /// the daemon writes. Fails if the file does not exist or has another schema version
    /// than this program knows.
    pub fn open(db_path: &Path) -> Result<Reader, StoreError> {
        Ok(Reader {
            conn: schema::open_read_only(db_path)?,
        })
    }

    /// Sessions matching `filter`, the most recently started first.
    pub fn sessions(&self, filter: &SessionFilter) -> Result<Vec<Session>, StoreError> {
        accounting::sessions(&self.conn, filter)
    }

    /// Every open session, the most recently started first.
    pub fn open_sessions(&self) -> Result<Vec<Session>, StoreError> {
        accounting::open_sessions(&self.conn)
    }

    /// The open sessions of a person: those of `user` (if given) and those of any of
    /// `macs` (their devices), the most recently started first.
    pub fn open_sessions_of(
        &self,
        user: Option<&str>,
        macs: &[MacAddr],
    ) -> Result<Vec<Session>, StoreError> {
        accounting::open_sessions_of(&self.conn, user, macs)
    }

    /// Octets (input + output) of `user`'s sessions that overlap `[from, until)`. Whole
    /// sessions count: an overestimate at the window's edges, never an underestimate.
    pub fn usage_of(
        &self,
        user: &str,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<u64, StoreError> {
        accounting::usage_by_user_between(&self.conn, user, from, until)
    }

    /// Where a device is on the network: its newest open session's Framed-IP-Address, else
    /// the last address its DHCP sightings show.
    pub fn device_address(&self, mac: MacAddr) -> Result<Option<SessionIp>, StoreError> {
        sightings::session_ip(&self.conn, mac)
    }

    /// Sightings matching `filter`, the most recently seen first.
    pub fn sightings(&self, filter: &SightingFilter) -> Result<Vec<Sighting>, StoreError> {
        sightings::sightings(&self.conn, filter)
    }

    /// What the DHCP watcher knows about one device, if it was ever seen.
    pub fn sighting(&self, mac: MacAddr) -> Result<Option<Sighting>, StoreError> {
        sightings::sighting(&self.conn, mac)
    }

    /// The DHCP messages of one device, newest first, at most `limit`.
    pub fn sighting_history(
        &self,
        mac: MacAddr,
        limit: usize,
    ) -> Result<Vec<SightingEvent>, StoreError> {
        sightings::sighting_history(&self.conn, mac, limit)
    }

    /// Every rogue DHCP server seen (within retention), the most recently seen first.
    pub fn rogue_servers(&self) -> Result<Vec<RogueServer>, StoreError> {
        sightings::rogue_servers(&self.conn)
    }

    /// Access decisions matching `filter`, newest first.
    pub fn auth_log(&self, filter: &AuthLogFilter) -> Result<Vec<AuthLogEntry>, StoreError> {
        auth_log::auth_log(&self.conn, filter)
    }

    /// What admins did, newest first, at most `limit` (all if `None`).
    pub fn audit_log(&self, limit: Option<usize>) -> Result<Vec<AuditEntry>, StoreError> {
        records::audit_log(&self.conn, limit)
    }

    /// The MACs of a person: `registered` (their devices in the config), those the database
    /// links to `user`'s name, and the randomized MACs linked to either (see
    /// [`PersonMacs`]). What an export shows and an erasure deletes.
    pub fn person_macs(
        &self,
        user: Option<&str>,
        registered: &[MacAddr],
    ) -> Result<PersonMacs, StoreError> {
        erase::person_macs(&self.conn, user, registered)
    }

    /// Every enrolment and last-accepted time, and since when the latter are kept.
    pub fn device_records(&self) -> Result<DeviceRecords, StoreError> {
        devices::device_records(&self.conn)
    }

    /// The devices 802.1X logins enrolled to `user`, by MAC.
    pub fn enrolments_of(&self, user: &str) -> Result<Vec<Enrolment>, StoreError> {
        devices::enrolments_of(&self.conn, user)
    }

    /// When each of `macs` was last accepted (those known), by MAC.
    pub fn last_accepted_of(&self, macs: &[MacAddr]) -> Result<Vec<LastAccepted>, StoreError> {
        devices::last_accepted_of(&self.conn, macs)
    }

    /// Disconnect results, newest first, at most `limit` (all if `None`).
    pub fn disconnects(&self, limit: Option<usize>) -> Result<Vec<DisconnectEntry>, StoreError> {
        records::disconnects(&self.conn, limit)
    }
}
