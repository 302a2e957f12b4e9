//! The right to erasure (GDPR Art. 17): deletes every runtime row about one person — their
//! decisions in the auth log, their sessions, the DHCP sightings of their devices, rogue
//! server entries of their devices, and Disconnect results — in one transaction.
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
}

impl EraseCounts {
    pub fn total(&self) -> usize {
        self.auth_log
            + self.sessions
            + self.sightings
            + self.sighting_history
            + self.rogue_servers
            + self.disconnects
    }
}

/// Deletes from `table` the rows whose `user_col` is `user` or whose `mac_col` is one of
/// `macs`. Table and column names are constants of this module, never input.
fn delete_of(
    conn: &Connection,
    table: &str,
    user_col: Option<&str>,
    mac_col: &str,
    user: Option<&str>,
    macs: &[String],
) -> rusqlite::Result<usize> {
    let mut params: Vec<&str> = Vec::new();
    let mut who: Vec<String> = Vec::new();
    if let (Some(col), Some(user)) = (user_col, user) {
        params.push(user);
        who.push(format!("{col} = ?{}", params.len()));
    }
    if !macs.is_empty() {
        let first = params.len() + 1;
        params.extend(macs.iter().map(String::as_str));
        let marks: Vec<String> = (first..=params.len()).map(|i| format!("?{i}")).collect();
        who.push(format!("{mac_col} IN ({})", marks.join(", ")));
    }
    if who.is_empty() {
        return Ok(0);
    }
    let sql = format!("DELETE FROM {table} WHERE {}", who.join(" OR "));
    conn.execute(&sql, rusqlite::params_from_iter(params))
}

/// Deletes every runtime row of `user` (if given) and of `macs` (the person's devices), in
/// one transaction: either all of it is gone or nothing changed. Rows of other users and
/// devices stay. Called by the writer thread and by [`Admin::erase`](super::Admin::erase).
pub(crate) fn erase_user(
    conn: &mut Connection,
    user: Option<&str>,
    macs: &[MacAddr],
) -> Result<EraseCounts, StoreError> {
    let macs: Vec<String> = macs.iter().map(MacAddr::to_string).collect();
    let user = user.filter(|u| !u.is_empty());
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let counts = EraseCounts {
        auth_log: delete_of(&tx, "auth_log", Some("user"), "mac", user, &macs)?,
        sessions: delete_of(&tx, "sessions", Some("user"), "mac", user, &macs)?,
        sightings: delete_of(&tx, "sightings", None, "mac", user, &macs)?,
        sighting_history: delete_of(&tx, "sighting_history", None, "mac", user, &macs)?,
        rogue_servers: delete_of(&tx, "rogue_servers", None, "server_mac", user, &macs)?,
        disconnects: delete_of(&tx, "disconnects", Some("user"), "mac", user, &macs)?,
    };
    tx.commit()?;
    Ok(counts)
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
        assert_eq!(counts.sightings, 0, "sightings are found by MAC only");
        assert_eq!(
            erase_user(&mut conn, None, &[]).unwrap(),
            EraseCounts::default()
        );
    }
}
