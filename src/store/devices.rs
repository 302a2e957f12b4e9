//! What the daemon learns about devices, beside the config files: enrolments (a MAC that an
//! 802.1X login registered to its account, `[eap] unregistered_devices = "enrol"`) and the
//! last time each registered or enrolled device was accepted (for `[policy] device_expiry`).
//!
//! Both are personal data: export shows them, erasure deletes them (see `erase`). The
//! last-accepted row of a MAC lives as long as its registration: removing a device removes
//! it, and the auth log's retention does not touch it. `device_tracking` holds the moment
//! hallpass began keeping last-accepted times (migration 8), so that devices registered
//! before it are judged from then on, not from their registration.
//!
//! Must not: decide anything about these rows (whether a device is expired, how many a
//! person may have): the policy does, with time as a parameter.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::StoreError;
use crate::model::MacAddr;

/// A device an 802.1X login enrolled to its account.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Enrolment {
    pub mac: MacAddr,
    pub user: String,
    /// When the login enrolled it (or renewed an expired enrolment).
    pub enrolled: Timestamp,
    /// The EAP method of that login: `peap`, `ttls` or `tls`.
    pub method: String,
}

/// When a device was last accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LastAccepted {
    pub mac: MacAddr,
    pub time: Timestamp,
}

/// Everything the store knows about devices: what the daemon's device book starts from
/// and `hallpass device list` shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceRecords {
    pub enrolments: Vec<Enrolment>,
    pub last_accepted: Vec<LastAccepted>,
    /// Since when last-accepted times are kept (`None`: not known, an empty database).
    pub tracking_since: Option<Timestamp>,
}

/// What removing one device from the database found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceForgotten {
    /// The enrolment that was deleted, if the MAC was enrolled.
    pub enrolment: Option<Enrolment>,
    /// Whether a last-accepted row was deleted.
    pub last_accepted: bool,
}

fn bad(column: &'static str, value: String) -> StoreError {
    StoreError::BadRow {
        id: 0,
        column,
        value,
    }
}

fn mac_of(s: String) -> Result<MacAddr, StoreError> {
    s.parse().map_err(|_| bad("mac", s))
}

fn time_of(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|_| bad("time", ms.to_string()))
}

/// Records (or renews) an enrolment; it counts as accepted at that moment.
pub(crate) fn enrol(conn: &Connection, e: &Enrolment) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO enrolments (mac, user, enrolled, method) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (mac) DO UPDATE
         SET user = excluded.user, enrolled = excluded.enrolled, method = excluded.method",
        params![
            e.mac.to_string(),
            e.user,
            e.enrolled.as_millisecond(),
            e.method
        ],
    )?;
    accepted(conn, e.mac, e.enrolled)
}

/// Records that `mac` was accepted at `time` (never moves the time back).
pub(crate) fn accepted(conn: &Connection, mac: MacAddr, time: Timestamp) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO last_accepted (mac, time) VALUES (?1, ?2)
         ON CONFLICT (mac) DO UPDATE SET time = max(time, excluded.time)",
        params![mac.to_string(), time.as_millisecond()],
    )?;
    Ok(())
}

fn enrolment_from(row: &rusqlite::Row<'_>) -> Result<Enrolment, StoreError> {
    Ok(Enrolment {
        mac: mac_of(row.get(0)?)?,
        user: row.get(1)?,
        enrolled: time_of(row.get(2)?)?,
        method: row.get(3)?,
    })
}

/// Every enrolment (by MAC), every last-accepted time (by MAC), and since when they are kept.
pub(crate) fn device_records(conn: &Connection) -> Result<DeviceRecords, StoreError> {
    let mut out = DeviceRecords::default();
    let mut stmt =
        conn.prepare("SELECT mac, user, enrolled, method FROM enrolments ORDER BY mac")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        out.enrolments.push(enrolment_from(row)?);
    }
    let mut stmt = conn.prepare("SELECT mac, time FROM last_accepted ORDER BY mac")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        out.last_accepted.push(LastAccepted {
            mac: mac_of(row.get(0)?)?,
            time: time_of(row.get(1)?)?,
        });
    }
    let since: Option<i64> = conn
        .query_row("SELECT min(since) FROM device_tracking", [], |r| r.get(0))
        .optional()?
        .flatten();
    out.tracking_since = since.map(time_of).transpose()?;
    Ok(out)
}

/// The enrolments of `user`, by MAC.
pub(crate) fn enrolments_of(conn: &Connection, user: &str) -> Result<Vec<Enrolment>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT mac, user, enrolled, method FROM enrolments WHERE user = ?1 ORDER BY mac",
    )?;
    let mut rows = stmt.query([user])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(enrolment_from(row)?);
    }
    Ok(out)
}

/// The last-accepted times of `macs` (those that have one), by MAC.
pub(crate) fn last_accepted_of(
    conn: &Connection,
    macs: &[MacAddr],
) -> Result<Vec<LastAccepted>, StoreError> {
    let mut stmt = conn.prepare("SELECT time FROM last_accepted WHERE mac = ?1")?;
    let mut out = Vec::new();
    let mut sorted = macs.to_vec();
    sorted.sort();
    sorted.dedup();
    for mac in sorted {
        let t: Option<i64> = stmt.query_row([mac.to_string()], |r| r.get(0)).optional()?;
        if let Some(t) = t {
            out.push(LastAccepted {
                mac,
                time: time_of(t)?,
            });
        }
    }
    Ok(out)
}

/// Deletes the enrolment and the last-accepted time of each of `macs`, in one transaction.
pub(crate) fn forget_devices(
    conn: &mut Connection,
    macs: &[MacAddr],
) -> Result<Vec<DeviceForgotten>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(macs.len());
    for mac in macs {
        let m = mac.to_string();
        let enrolment = tx
            .query_row(
                "SELECT mac, user, enrolled, method FROM enrolments WHERE mac = ?1",
                [&m],
                |row| Ok(enrolment_from(row)),
            )
            .optional()?
            .transpose()?;
        tx.execute("DELETE FROM enrolments WHERE mac = ?1", [&m])?;
        let last = tx.execute("DELETE FROM last_accepted WHERE mac = ?1", [&m])? > 0;
        out.push(DeviceForgotten {
            enrolment,
            last_accepted: last,
        });
    }
    tx.commit()?;
    Ok(out)
}

/// Moves what the database knows of `old` to `new` (a replaced device): an enrolment moves
/// with its owner and method; the old MAC's last-accepted time goes, and `new` counts as
/// accepted `now` (the replacement is the admin's word that it is in use). In one
/// transaction. Returns whether `old` was enrolled.
pub(crate) fn replace_device(
    conn: &mut Connection,
    old: MacAddr,
    new: MacAddr,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let moved = tx.execute(
        "UPDATE enrolments SET mac = ?2 WHERE mac = ?1",
        [old.to_string(), new.to_string()],
    )? > 0;
    tx.execute(
        "DELETE FROM last_accepted WHERE mac = ?1",
        [old.to_string()],
    )?;
    accepted(&tx, new, now)?;
    tx.commit()?;
    Ok(moved)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::schema::open_rw;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn enrolment(mac: &str, user: &str, at: &str) -> Enrolment {
        Enrolment {
            mac: mac.parse().unwrap(),
            user: user.into(),
            enrolled: ts(at),
            method: "peap".into(),
        }
    }

    #[test]
    fn enrolments_and_last_accepted_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_rw(&dir.path().join("db"), Duration::from_secs(1)).unwrap();
        let phone = enrolment("da:a1:19:00:00:01", "max", "2026-12-03T07:00:00Z");
        enrol(&conn, &phone).unwrap();
        enrol(
            &conn,
            &enrolment("3c:22:fb:00:00:03", "erika", "2026-12-03T08:00:00Z"),
        )
        .unwrap();
        // a later acceptance moves the time on, an earlier one (late row) does not move it back
        accepted(&conn, phone.mac, ts("2026-12-04T07:00:00Z")).unwrap();
        accepted(&conn, phone.mac, ts("2026-12-01T07:00:00Z")).unwrap();
        let r = device_records(&conn).unwrap();
        assert_eq!(r.enrolments.len(), 2);
        assert!(
            r.tracking_since.is_some(),
            "migration 8 notes when it began"
        );
        let of_phone: Vec<_> = r
            .last_accepted
            .iter()
            .filter(|l| l.mac == phone.mac)
            .collect();
        assert_eq!(of_phone[0].time, ts("2026-12-04T07:00:00Z"));
        assert_eq!(
            enrolments_of(&conn, "max").unwrap(),
            std::slice::from_ref(&phone)
        );
        assert_eq!(last_accepted_of(&conn, &[phone.mac]).unwrap().len(), 1);

        let new: MacAddr = "3c:22:fb:00:00:09".parse().unwrap();
        assert!(replace_device(&mut conn, phone.mac, new, ts("2026-12-05T07:00:00Z")).unwrap());
        assert_eq!(enrolments_of(&conn, "max").unwrap()[0].mac, new);
        assert!(last_accepted_of(&conn, &[phone.mac]).unwrap().is_empty());
        assert_eq!(
            last_accepted_of(&conn, &[new]).unwrap()[0].time,
            ts("2026-12-05T07:00:00Z")
        );

        let gone = forget_devices(&mut conn, &[new, phone.mac]).unwrap();
        assert_eq!(
            gone[0].enrolment.as_ref().map(|e| e.user.as_str()),
            Some("max")
        );
        assert!(gone[0].last_accepted);
        assert_eq!(gone[1], DeviceForgotten::default());
        assert!(enrolments_of(&conn, "max").unwrap().is_empty());
        assert_eq!(device_records(&conn).unwrap().enrolments.len(), 1);
    }
}
