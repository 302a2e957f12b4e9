//! The right to erasure (GDPR Art. 17): deletes every runtime row about one person — their
//! decisions in the auth log, their sessions, the DHCP sightings of their devices, rogue
//! server entries of their devices, and Disconnect results — in one transaction, and then
//! makes sure no copy of those rows stays in the files.
//!
//! Whose rows: see [`PersonMacs`]. The person's MACs are those registered to them in the
//! config, those the database itself links to their name (a device registered once and
//! removed since still has rows), and the randomized MACs the DHCP watcher linked to either.
//!
//! Deleting a row is not enough for the file: SQLite leaves deleted cells and freed pages
//! as they were, and the write-ahead log keeps earlier versions of every page it wrote.
//! Every read-write connection has `secure_delete` on (see `schema::open_rw`), so the
//! deleted content is overwritten with zeros; after the commit a `wal_checkpoint(TRUNCATE)`
//! copies the zeroed pages into the database and empties the log. The checkpoint runs here,
//! on the connection that erased, so the writer thread's erase job and
//! [`Admin::erase`](super::Admin::erase) both end with it.
//!
//! The audit log is kept: it records what admins did (including this erasure) and is the
//! school's accountability record, with its own retention.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;
use crate::model::MacAddr;

/// Rows deleted per table by one erasure ([`Admin::erase`](super::Admin::erase)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EraseCounts {
    pub auth_log: usize,
    pub sessions: usize,
    pub sightings: usize,
    pub sighting_history: usize,
    pub rogue_servers: usize,
    pub disconnects: usize,
    /// Devices 802.1X logins enrolled to the person.
    pub enrolments: usize,
    /// Last-accepted times of the person's registered and enrolled devices.
    pub last_accepted: usize,
}

impl EraseCounts {
    pub fn total(&self) -> usize {
        self.auth_log
            + self.sessions
            + self.sightings
            + self.sighting_history
            + self.rogue_servers
            + self.disconnects
            + self.enrolments
            + self.last_accepted
    }
}

/// One person's MACs, for an erasure or an export, each sorted and each MAC in one list
/// only.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PersonMacs {
    /// Registered to the person in the config, or enrolled to them by an 802.1X login: every
    /// row of these is theirs.
    pub registered: Vec<MacAddr>,
    /// Not registered to them (any more), but named together with their name in a session,
    /// a decision or a Disconnect: rows of these without a name are theirs too (rows with
    /// another name are that person's, e.g. on a shared device).
    pub unregistered: Vec<MacAddr>,
    /// Randomized MACs whose sighting links them (same host name) to one of the above.
    /// Erasure treats them like `unregistered`; an export shows their sightings only (the
    /// link is a guess, and an export must not hand out another person's rows).
    pub aliases: Vec<MacAddr>,
}

impl PersonMacs {
    /// Every MAC of the person, registered or not.
    pub fn all(&self) -> Vec<MacAddr> {
        let mut all: Vec<MacAddr> = self
            .registered
            .iter()
            .chain(&self.unregistered)
            .chain(&self.aliases)
            .copied()
            .collect();
        all.sort();
        all
    }
}

/// A MAC as stored, or the error naming the row it came from.
fn stored_mac(id: i64, column: &'static str, value: String) -> Result<MacAddr, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::BadRow { id, column, value })
}

/// The MACs of `user` (if given) and of the devices registered to them (`registered`).
/// Reads the whole auth log once (it has no index by user; see schema migration 4).
pub(crate) fn person_macs(
    conn: &Connection,
    user: Option<&str>,
    registered: &[MacAddr],
) -> Result<PersonMacs, StoreError> {
    let mut registered = registered.to_vec();
    if let Some(user) = user.filter(|u| !u.is_empty()) {
        let mut stmt = conn.prepare("SELECT rowid, mac FROM enrolments WHERE user = ?1")?;
        let mut rows = stmt.query([user])?;
        while let Some(row) = rows.next()? {
            registered.push(stored_mac(row.get(0)?, "mac", row.get(1)?)?);
        }
    }
    registered.sort();
    registered.dedup();
    let mut unregistered = Vec::new();
    if let Some(user) = user.filter(|u| !u.is_empty()) {
        // Table names are constants of this module, never input.
        for table in ["sessions", "auth_log", "disconnects"] {
            let mut stmt = conn.prepare(&format!(
                "SELECT min(id), mac FROM {table} WHERE user = ?1 AND mac IS NOT NULL GROUP BY mac"
            ))?;
            let mut rows = stmt.query([user])?;
            while let Some(row) = rows.next()? {
                let mac = stored_mac(row.get(0)?, "mac", row.get(1)?)?;
                if registered.binary_search(&mac).is_err() {
                    unregistered.push(mac);
                }
            }
        }
    }
    unregistered.sort();
    unregistered.dedup();
    let mut aliases = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT rowid, mac, randomized_alias_of FROM sightings
         WHERE randomized_alias_of IS NOT NULL",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let of = stored_mac(id, "randomized_alias_of", row.get(2)?)?;
        if registered.binary_search(&of).is_ok() || unregistered.binary_search(&of).is_ok() {
            let mac = stored_mac(id, "mac", row.get(1)?)?;
            if registered.binary_search(&mac).is_err() && unregistered.binary_search(&mac).is_err()
            {
                aliases.push(mac);
            }
        }
    }
    aliases.sort();
    aliases.dedup();
    Ok(PersonMacs {
        registered,
        unregistered,
        aliases,
    })
}

/// Adds `values` to `params` and returns their placeholders, e.g. `?3, ?4`.
fn marks<'a>(values: &'a [String], params: &mut Vec<&'a str>) -> String {
    let first = params.len() + 1;
    params.extend(values.iter().map(String::as_str));
    let marks: Vec<String> = (first..=params.len()).map(|i| format!("?{i}")).collect();
    marks.join(", ")
}

/// Deletes from `table` the rows of the person: those whose `user_col` is their name, those
/// of their registered MACs, and those of their other MACs that name nobody (tables without
/// a user column: every row of any of their MACs). Table and column names are constants of
/// this module, never input.
fn delete_of(
    conn: &Connection,
    table: &str,
    user_col: Option<&str>,
    mac_col: &str,
    user: Option<&str>,
    macs: &PersonMacs,
) -> rusqlite::Result<usize> {
    let registered: Vec<String> = macs.registered.iter().map(MacAddr::to_string).collect();
    let others: Vec<String> = macs
        .unregistered
        .iter()
        .chain(&macs.aliases)
        .map(MacAddr::to_string)
        .collect();
    let all: Vec<String> = registered.iter().chain(&others).cloned().collect();
    let mut params: Vec<&str> = Vec::new();
    let mut who: Vec<String> = Vec::new();
    match user_col {
        Some(col) => {
            if let Some(user) = user {
                params.push(user);
                who.push(format!("{col} = ?{}", params.len()));
            }
            if !registered.is_empty() {
                who.push(format!(
                    "{mac_col} IN ({})",
                    marks(&registered, &mut params)
                ));
            }
            if !others.is_empty() {
                who.push(format!(
                    "({mac_col} IN ({}) AND {col} IS NULL)",
                    marks(&others, &mut params)
                ));
            }
        }
        None => {
            if !all.is_empty() {
                who.push(format!("{mac_col} IN ({})", marks(&all, &mut params)));
            }
        }
    }
    if who.is_empty() {
        return Ok(0);
    }
    let sql = format!("DELETE FROM {table} WHERE {}", who.join(" OR "));
    conn.execute(&sql, rusqlite::params_from_iter(params))
}

/// Deletes every runtime row of `user` (if given), of `registered` (the devices registered
/// to them) and of their other MACs ([`person_macs`]), in one transaction: either all of it
/// is gone or nothing changed. Rows of other users and devices stay. Then empties the
/// write-ahead log (see the module doc); if a reader keeps it from being emptied, the rows
/// are gone but [`StoreError::WalKept`] says that copies remain. Called by the writer
/// thread and by [`Admin::erase`](super::Admin::erase).
pub(crate) fn erase_user(
    conn: &mut Connection,
    user: Option<&str>,
    registered: &[MacAddr],
) -> Result<EraseCounts, StoreError> {
    let user = user.filter(|u| !u.is_empty());
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let macs = person_macs(&tx, user, registered)?;
    let own = PersonMacs {
        registered: macs.registered.clone(),
        ..PersonMacs::default()
    };
    let counts = EraseCounts {
        auth_log: delete_of(&tx, "auth_log", Some("user"), "mac", user, &macs)?,
        sessions: delete_of(&tx, "sessions", Some("user"), "mac", user, &macs)?,
        sightings: delete_of(&tx, "sightings", None, "mac", user, &macs)?,
        sighting_history: delete_of(&tx, "sighting_history", None, "mac", user, &macs)?,
        rogue_servers: delete_of(&tx, "rogue_servers", None, "server_mac", user, &macs)?,
        disconnects: delete_of(&tx, "disconnects", Some("user"), "mac", user, &macs)?,
        enrolments: delete_of(&tx, "enrolments", Some("user"), "mac", user, &macs)?,
        // Only of their own devices: a MAC that is theirs no longer may be someone else's.
        last_accepted: delete_of(&tx, "last_accepted", None, "mac", None, &own)?,
    };
    tx.commit()?;
    empty_wal(conn)?;
    Ok(counts)
}

/// Copies every page of the write-ahead log into the database and truncates the log to
/// zero bytes. Waits (busy timeout) for the daemon's writer and for readers of older
/// snapshots.
fn empty_wal(conn: &Connection) -> Result<(), StoreError> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy != 0 {
        return Err(StoreError::WalKept {
            path: conn.path().unwrap_or_default().into(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::store::accounting::tests::{db, rec};
    use crate::store::accounting::{self, AcctStatus};
    use crate::store::auth_log;
    use crate::store::records::tests::{audit, disconnect};
    use crate::store::records::{insert_audit, insert_disconnect};
    use crate::store::sightings::tests::seen;
    use crate::store::sightings::{DhcpMessage, RogueServerSeen, upsert_rogue, upsert_sighting};

    pub(crate) const MAX_PHONE: &str = "da:a1:19:00:00:01";
    pub(crate) const MAX_LAPTOP: &str = "3c:22:fb:00:00:02";
    pub(crate) const ERIKA_PHONE: &str = "3c:22:fb:00:00:03";

    /// Rows of max (by name and by two devices) and of erika in every table.
    pub(crate) fn populate(conn: &Connection) {
        let t = "2026-11-27T07:00:00Z";
        for (mac, user) in [
            (Some(MAX_PHONE), Some("max")),
            (Some(MAX_LAPTOP), None),
            (None, Some("max")),
            (Some(ERIKA_PHONE), Some("erika")),
        ] {
            auth_log::insert(conn, &auth_log::tests::row(t, mac, user)).unwrap();
        }
        for (id, mac, user) in [
            ("M1", MAX_PHONE, Some("max")),
            ("M2", MAX_LAPTOP, None),
            ("E1", ERIKA_PHONE, Some("erika")),
        ] {
            let mut r = rec(AcctStatus::Start, id, t);
            r.mac = Some(mac.parse().unwrap());
            r.user = user.map(String::from);
            accounting::apply(conn, &r).unwrap();
        }
        for mac in [MAX_PHONE, MAX_LAPTOP, ERIKA_PHONE] {
            upsert_sighting(conn, &seen(mac, t, DhcpMessage::Request)).unwrap();
            upsert_sighting(conn, &seen(mac, t, DhcpMessage::Ack)).unwrap();
        }
        for mac in [MAX_LAPTOP, ERIKA_PHONE] {
            upsert_rogue(
                conn,
                &RogueServerSeen {
                    server_ip: "192.168.137.1".parse().unwrap(),
                    server_mac: mac.parse().unwrap(),
                    time: t.parse().unwrap(),
                    message: DhcpMessage::Offer,
                    interface: None,
                },
            )
            .unwrap();
        }
        insert_disconnect(conn, &disconnect(t, "max", MAX_PHONE)).unwrap();
        let mut by_mac = disconnect(t, "", MAX_LAPTOP);
        by_mac.user = None;
        insert_disconnect(conn, &by_mac).unwrap();
        insert_disconnect(conn, &disconnect(t, "erika", ERIKA_PHONE)).unwrap();
        insert_audit(conn, &audit(t, "max")).unwrap();
    }

    /// Rows in each table that name max or one of his devices.
    pub(crate) fn rows_of_max(conn: &Connection) -> i64 {
        let q = |sql: &str| -> i64 {
            conn.query_row(sql, rusqlite::params![MAX_PHONE, MAX_LAPTOP], |r| r.get(0))
                .unwrap()
        };
        q("SELECT count(*) FROM auth_log WHERE user = 'max' OR mac IN (?1, ?2)")
            + q("SELECT count(*) FROM sessions WHERE user = 'max' OR mac IN (?1, ?2)")
            + q("SELECT count(*) FROM sightings WHERE mac IN (?1, ?2)")
            + q("SELECT count(*) FROM sighting_history WHERE mac IN (?1, ?2)")
            + q("SELECT count(*) FROM rogue_servers WHERE server_mac IN (?1, ?2)")
            + q("SELECT count(*) FROM disconnects WHERE user = 'max' OR mac IN (?1, ?2)")
    }

    pub(crate) fn rows_of_erika(conn: &Connection) -> i64 {
        let q = |sql: &str| -> i64 { conn.query_row(sql, [ERIKA_PHONE], |r| r.get(0)).unwrap() };
        q("SELECT count(*) FROM auth_log WHERE user = 'erika' OR mac = ?1")
            + q("SELECT count(*) FROM sessions WHERE user = 'erika' OR mac = ?1")
            + q("SELECT count(*) FROM sightings WHERE mac = ?1")
            + q("SELECT count(*) FROM sighting_history WHERE mac = ?1")
            + q("SELECT count(*) FROM rogue_servers WHERE server_mac = ?1")
            + q("SELECT count(*) FROM disconnects WHERE user = 'erika' OR mac = ?1")
    }

    #[test]
    fn erase_leaves_nothing_of_the_person_and_keeps_others() {
        let (_dir, mut conn) = db();
        populate(&conn);
        assert_eq!(rows_of_max(&conn), 14);
        let erika_before = rows_of_erika(&conn);
        assert_eq!(erika_before, 7);
        let macs = [MAX_PHONE.parse().unwrap(), MAX_LAPTOP.parse().unwrap()];
        let counts = erase_user(&mut conn, Some("max"), &macs).unwrap();
        assert_eq!(
            counts,
            EraseCounts {
                auth_log: 3,
                sessions: 2,
                sightings: 2,
                sighting_history: 4,
                rogue_servers: 1,
                disconnects: 2,
                ..EraseCounts::default()
            }
        );
        assert_eq!(counts.total(), 14);
        assert_eq!(rows_of_max(&conn), 0);
        assert_eq!(rows_of_erika(&conn), erika_before);
        let audit_rows: i64 = conn
            .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
            .unwrap();
        assert_eq!(audit_rows, 1, "the audit log is kept");
        // Again: nothing left to delete.
        assert_eq!(
            erase_user(&mut conn, Some("max"), &macs).unwrap(),
            EraseCounts::default()
        );
    }

    #[test]
    fn erase_takes_enrolments_their_devices_rows_and_last_accepted_times() {
        use crate::store::devices::{self, Enrolment};
        let (_dir, mut conn) = db();
        populate(&conn);
        let t = "2026-12-03T07:00:00Z".parse().unwrap();
        let enrolled = |mac: &str, user: &str| Enrolment {
            mac: mac.parse().unwrap(),
            user: user.into(),
            enrolled: t,
            method: "peap".into(),
        };
        // max's phone is enrolled (not in the config), erika's phone too
        devices::enrol(&conn, &enrolled(MAX_PHONE, "max")).unwrap();
        devices::enrol(&conn, &enrolled(ERIKA_PHONE, "erika")).unwrap();
        let laptop: MacAddr = MAX_LAPTOP.parse().unwrap();
        devices::accepted(&conn, laptop, t).unwrap();
        let macs = person_macs(&conn, Some("max"), &[laptop]).unwrap();
        assert_eq!(
            macs.registered.len(),
            2,
            "the enrolled phone is his: {macs:?}"
        );
        let counts = erase_user(&mut conn, Some("max"), &[laptop]).unwrap();
        assert_eq!((counts.enrolments, counts.last_accepted), (1, 2));
        assert_eq!(rows_of_max(&conn), 0, "the enrolled phone's rows went too");
        let left = devices::device_records(&conn).unwrap();
        assert_eq!(left.enrolments, [enrolled(ERIKA_PHONE, "erika")]);
        assert_eq!(left.last_accepted.len(), 1);
        assert_eq!(left.last_accepted[0].mac, ERIKA_PHONE.parse().unwrap());
    }

    const OLD_TABLET: &str = "3c:22:fb:00:00:09";
    const PRIVATE_MAC: &str = "0a:11:22:33:44:55";

    /// Rows of a tablet max no longer has registered (named with him once, then without a
    /// name, and once by paul), and a randomized MAC linked to his phone.
    fn populate_unregistered(conn: &Connection) {
        let t = "2026-11-27T07:00:00Z";
        auth_log::insert(
            conn,
            &auth_log::tests::row(t, Some(OLD_TABLET), Some("max")),
        )
        .unwrap();
        auth_log::insert(conn, &auth_log::tests::row(t, Some(OLD_TABLET), None)).unwrap();
        auth_log::insert(
            conn,
            &auth_log::tests::row(t, Some(OLD_TABLET), Some("paul")),
        )
        .unwrap();
        for (id, user) in [("T1", None), ("T2", Some("paul"))] {
            let mut r = rec(AcctStatus::Start, id, t);
            r.mac = Some(OLD_TABLET.parse().unwrap());
            r.user = user.map(String::from);
            accounting::apply(conn, &r).unwrap();
        }
        upsert_sighting(conn, &seen(OLD_TABLET, t, DhcpMessage::Request)).unwrap();
        let mut alias = seen(PRIVATE_MAC, t, DhcpMessage::Request);
        alias.randomized = true;
        alias.randomized_alias_of = Some(MAX_PHONE.parse().unwrap());
        upsert_sighting(conn, &alias).unwrap();
        upsert_rogue(
            conn,
            &RogueServerSeen {
                server_ip: "192.168.137.1".parse().unwrap(),
                server_mac: OLD_TABLET.parse().unwrap(),
                time: t.parse().unwrap(),
                message: DhcpMessage::Offer,
                interface: None,
            },
        )
        .unwrap();
    }

    #[test]
    fn the_person_s_macs_come_from_the_database_too() {
        let (_dir, conn) = db();
        populate(&conn);
        populate_unregistered(&conn);
        let registered: Vec<MacAddr> = vec![MAX_LAPTOP.parse().unwrap()];
        let macs = person_macs(&conn, Some("max"), &registered).unwrap();
        assert_eq!(
            macs,
            PersonMacs {
                registered,
                unregistered: vec![OLD_TABLET.parse().unwrap(), MAX_PHONE.parse().unwrap(),],
                aliases: vec![PRIVATE_MAC.parse().unwrap()],
            }
        );
        assert_eq!(macs.all().len(), 4);
        // erika's only MAC is registered; nothing links another one to her
        let erika = person_macs(&conn, Some("erika"), &[ERIKA_PHONE.parse().unwrap()]).unwrap();
        assert!(erika.unregistered.is_empty() && erika.aliases.is_empty());
    }

    #[test]
    fn erase_covers_macs_no_longer_registered_and_aliases_but_not_other_names() {
        let (_dir, mut conn) = db();
        populate(&conn);
        populate_unregistered(&conn);
        let macs = [MAX_PHONE.parse().unwrap(), MAX_LAPTOP.parse().unwrap()];
        let counts = erase_user(&mut conn, Some("max"), &macs).unwrap();
        assert_eq!(
            counts.auth_log,
            3 + 2,
            "the tablet's row with his name and without"
        );
        assert_eq!(
            counts.sessions,
            2 + 1,
            "the tablet's session without a name"
        );
        assert_eq!(counts.sightings, 2 + 2, "the tablet and the private MAC");
        assert_eq!(counts.rogue_servers, 1 + 1);
        let q = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            q("SELECT count(*) FROM auth_log WHERE mac = '3c:22:fb:00:00:09'"),
            1,
            "paul's decision on the tablet is his"
        );
        assert_eq!(
            q("SELECT count(*) FROM sessions WHERE acct_session_id = 'T2'"),
            1
        );
        assert_eq!(
            q(
                "SELECT count(*) FROM sightings WHERE mac IN ('3c:22:fb:00:00:09', '0a:11:22:33:44:55')"
            ),
            0
        );
        assert_eq!(rows_of_erika(&conn), 7);
    }

    /// Every byte of the files of the database at `path`.
    fn file_bytes(path: &std::path::Path) -> Vec<u8> {
        let mut out = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            out.extend(std::fs::read(std::path::PathBuf::from(name)).unwrap_or_default());
        }
        out
    }

    fn contains(hay: &[u8], needle: &str) -> bool {
        hay.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[test]
    fn no_byte_of_the_erased_rows_stays_in_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::store::DB_FILE_NAME);
        let mut conn =
            crate::store::schema::open_rw(&path, std::time::Duration::from_secs(1)).unwrap();
        populate(&conn);
        let t = "2026-11-27T07:00:00Z";
        // unique strings in each kind of row, written and updated in several commits
        let mut r = rec(AcctStatus::Start, "SESSION-OF-MAX-7f3a", t);
        r.user = Some("max".into());
        r.mac = Some(MAX_PHONE.parse().unwrap());
        r.called_station_id = Some("AP-TURNHALLE-9c1e:Schule".into());
        accounting::apply(&conn, &r).unwrap();
        r.status = AcctStatus::Interim;
        r.input_octets = 12345;
        accounting::apply(&conn, &r).unwrap();
        let mut s = seen(MAX_PHONE, t, DhcpMessage::Request);
        s.hostname = Some("Maxens-iPhone-b7d2".into());
        upsert_sighting(&conn, &s).unwrap();
        let mut a = auth_log::tests::row(t, Some(MAX_LAPTOP), None);
        a.client = "ap-secret-wing-44e0".into();
        auth_log::insert(&conn, &a).unwrap();
        let needles = [
            "SESSION-OF-MAX-7f3a",
            "AP-TURNHALLE-9c1e",
            "Maxens-iPhone-b7d2",
            "ap-secret-wing-44e0",
            MAX_PHONE,
            MAX_LAPTOP,
        ];
        let before = file_bytes(&path);
        for n in needles {
            assert!(contains(&before, n), "{n} was written");
        }
        let macs = [MAX_PHONE.parse().unwrap(), MAX_LAPTOP.parse().unwrap()];
        erase_user(&mut conn, Some("max"), &macs).unwrap();
        let after = file_bytes(&path);
        for n in needles {
            assert!(!contains(&after, n), "{n} is still in the files");
        }
        assert!(contains(&after, ERIKA_PHONE), "erika's rows stay");
        let wal = std::fs::metadata(dir.path().join("hallpass.db-wal")).unwrap();
        assert_eq!(wal.len(), 0, "the write-ahead log is emptied");
    }

    #[test]
    fn a_reader_in_a_transaction_keeps_the_log_and_the_erasure_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::store::DB_FILE_NAME);
        let mut conn =
            crate::store::schema::open_rw(&path, std::time::Duration::from_millis(50)).unwrap();
        populate(&conn);
        let reader = crate::store::schema::open_read_only(&path).unwrap();
        reader
            .execute_batch("BEGIN; SELECT count(*) FROM sessions;")
            .unwrap();
        let macs = [MAX_PHONE.parse().unwrap(), MAX_LAPTOP.parse().unwrap()];
        assert!(matches!(
            erase_user(&mut conn, Some("max"), &macs),
            Err(StoreError::WalKept { .. })
        ));
        assert_eq!(rows_of_max(&conn), 0, "the rows are gone all the same");
        reader.execute_batch("COMMIT").unwrap();
        // a rerun finds nothing to delete and empties the log now
        assert_eq!(
            erase_user(&mut conn, Some("max"), &macs).unwrap(),
            EraseCounts::default()
        );
    }

    #[test]
    fn erase_by_macs_only_or_by_name_only() {
        let (_dir, mut conn) = db();
        populate(&conn);
        let laptop: MacAddr = MAX_LAPTOP.parse().unwrap();
        let counts = erase_user(&mut conn, None, &[laptop]).unwrap();
        assert_eq!(counts.auth_log, 1);
        assert_eq!(counts.sessions, 1);
        assert_eq!(counts.rogue_servers, 1);
        let counts = erase_user(&mut conn, Some("max"), &[]).unwrap();
        assert_eq!(
            counts.auth_log, 2,
            "by name: the phone's row and the MAC-less one"
        );
        assert_eq!(
            (counts.sightings, counts.sighting_history),
            (1, 2),
            "the phone's sighting: its MAC is named with max in the database"
        );
        assert_eq!(rows_of_max(&conn), 0);
        assert_eq!(
            erase_user(&mut conn, None, &[]).unwrap(),
            EraseCounts::default()
        );
    }
}
