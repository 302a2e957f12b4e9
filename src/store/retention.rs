//! Retention: rows older than `retention_days` are deleted (privacy: the school keeps logs
//! only as long as it said it would).

use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;

use super::StoreError;

/// Rows deleted per statement, so one retention run never holds the write lock long enough
/// to fill the writer's queue.
pub(crate) const CHUNK_ROWS: usize = 10_000;

/// The oldest time that is kept: rows strictly older are deleted. `days = 0` keeps nothing
/// older than `now`.
pub fn retention_cutoff(now: Timestamp, days: u32) -> Timestamp {
    let keep = SignedDuration::from_secs(i64::from(days) * 86_400);
    now.checked_sub(keep).unwrap_or(Timestamp::MIN)
}

/// A table with rows that expire, and the time column that decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiring {
    AuthLog,
    /// Closed sessions only, by `stopped`; open sessions never expire.
    Sessions,
    SightingHistory,
    /// By `last_seen`: a device not seen for the retention period is forgotten.
    Sightings,
    /// By `last_seen`.
    RogueServers,
    Disconnects,
    /// Kept for `audit_retention_days`, not `retention_days`.
    Audit,
}

impl Expiring {
    /// The tables bounded by `retention_days`, in the order a run visits them.
    pub const RUNTIME: [Expiring; 6] = [
        Expiring::AuthLog,
        Expiring::Sessions,
        Expiring::SightingHistory,
        Expiring::Sightings,
        Expiring::RogueServers,
        Expiring::Disconnects,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Expiring::AuthLog => "auth_log",
            Expiring::Sessions => "sessions",
            Expiring::SightingHistory => "sighting_history",
            Expiring::Sightings => "sightings",
            Expiring::RogueServers => "rogue_servers",
            Expiring::Disconnects => "disconnects",
            Expiring::Audit => "audit",
        }
    }

    /// Deletes the oldest `?2` rows older than `?1`; each query walks an index on the time.
    fn delete_sql(self) -> &'static str {
        match self {
            Expiring::AuthLog => {
                // The id orders by time: `time < ?1` is `id < ?1 << 10` (auth_log::ID_SEQ_BITS).
                "DELETE FROM auth_log WHERE id IN
                    (SELECT id FROM auth_log WHERE id < (?1 << 10) ORDER BY id LIMIT ?2)"
            }
            Expiring::Sessions => {
                "DELETE FROM sessions WHERE id IN
                    (SELECT id FROM sessions WHERE stopped IS NOT NULL AND stopped < ?1
                     ORDER BY stopped LIMIT ?2)"
            }
            Expiring::SightingHistory => {
                "DELETE FROM sighting_history WHERE id IN
                    (SELECT id FROM sighting_history WHERE time < ?1 ORDER BY time LIMIT ?2)"
            }
            Expiring::Sightings => {
                "DELETE FROM sightings WHERE rowid IN
                    (SELECT rowid FROM sightings WHERE last_seen < ?1
                     ORDER BY last_seen LIMIT ?2)"
            }
            Expiring::RogueServers => {
                "DELETE FROM rogue_servers WHERE id IN
                    (SELECT id FROM rogue_servers WHERE last_seen < ?1
                     ORDER BY last_seen LIMIT ?2)"
            }
            Expiring::Disconnects => {
                "DELETE FROM disconnects WHERE id IN
                    (SELECT id FROM disconnects WHERE time < ?1 ORDER BY time LIMIT ?2)"
            }
            Expiring::Audit => {
                "DELETE FROM audit WHERE id IN
                    (SELECT id FROM audit WHERE time < ?1 ORDER BY time LIMIT ?2)"
            }
        }
    }
}

/// Deletes at most `max_rows` expired rows of one table. Returns how many were deleted;
/// fewer than `max_rows` means none are left.
pub(crate) fn delete_expired_chunk(
    conn: &Connection,
    table: Expiring,
    cutoff: Timestamp,
    max_rows: usize,
) -> Result<usize, StoreError> {
    let mut stmt = conn.prepare_cached(table.delete_sql())?;
    let max = i64::try_from(max_rows).unwrap_or(i64::MAX);
    Ok(stmt.execute(rusqlite::params![cutoff.as_millisecond(), max])?)
}

// The writer deletes chunk by chunk between batches; deleting everything at once is for the
// tests of what expires.
#[cfg(test)]
fn delete_all_expired(
    conn: &Connection,
    table: Expiring,
    cutoff: Timestamp,
) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let n = delete_expired_chunk(conn, table, cutoff, CHUNK_ROWS)?;
        total += n;
        if n < CHUNK_ROWS {
            return Ok(total);
        }
    }
}

/// Deletes every runtime row (auth log, closed sessions, sightings and their history, rogue
/// servers, Disconnect results) older than `days` days before `now`, in chunks. Returns how
/// many rows were deleted. The audit log has its own period: [`delete_expired_audit`].
#[cfg(test)]
pub(crate) fn delete_expired(
    conn: &Connection,
    now: Timestamp,
    days: u32,
) -> Result<usize, StoreError> {
    let cutoff = retention_cutoff(now, days);
    let mut total = 0;
    for table in Expiring::RUNTIME {
        total += delete_all_expired(conn, table, cutoff)?;
    }
    Ok(total)
}

/// Deletes audit entries older than `days` days before `now`, in chunks.
#[cfg(test)]
pub(crate) fn delete_expired_audit(
    conn: &Connection,
    now: Timestamp,
    days: u32,
) -> Result<usize, StoreError> {
    delete_all_expired(conn, Expiring::Audit, retention_cutoff(now, days))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::auth_log::{AuthLogFilter, auth_log, insert, tests::row};
    use crate::store::schema::{DB_FILE_NAME, open_rw};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn cutoff_is_days_before_now() {
        assert_eq!(
            retention_cutoff(ts("2026-12-31T12:00:00Z"), 30),
            ts("2026-12-01T12:00:00Z")
        );
        assert_eq!(
            retention_cutoff(ts("2026-12-31T12:00:00Z"), 0),
            ts("2026-12-31T12:00:00Z")
        );
        // Far beyond the representable range: saturates instead of failing.
        assert_eq!(retention_cutoff(Timestamp::MIN, u32::MAX), Timestamp::MIN);
    }

    #[test]
    fn deletes_older_rows_keeps_newer() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_rw(&dir.path().join(DB_FILE_NAME), Duration::from_secs(1)).unwrap();
        let now = ts("2026-12-31T12:00:00Z");
        for t in [
            "2026-11-01T00:00:00Z",     // 60 days old
            "2026-12-01T11:59:59.999Z", // just past the 30-day cutoff
            "2026-12-01T12:00:00Z",     // exactly at the cutoff: kept
            "2026-12-30T00:00:00Z",
        ] {
            insert(&conn, &row(t, None, Some("max"))).unwrap();
        }
        assert_eq!(delete_expired(&conn, now, 30).unwrap(), 2);
        let left: Vec<Timestamp> = auth_log(&conn, &AuthLogFilter::default())
            .unwrap()
            .into_iter()
            .map(|e| e.time)
            .collect();
        assert_eq!(
            left,
            [ts("2026-12-30T00:00:00Z"), ts("2026-12-01T12:00:00Z")]
        );
        assert_eq!(delete_expired(&conn, now, 30).unwrap(), 0, "idempotent");
    }

    #[test]
    fn deletes_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_rw(&dir.path().join(DB_FILE_NAME), Duration::from_secs(1)).unwrap();
        for _ in 0..25 {
            insert(&conn, &row("2020-01-01T00:00:00Z", None, None)).unwrap();
        }
        insert(&conn, &row("2026-12-30T00:00:00Z", None, None)).unwrap();
        let cutoff = ts("2026-01-01T00:00:00Z");
        assert_eq!(
            delete_expired_chunk(&conn, Expiring::AuthLog, cutoff, 10).unwrap(),
            10
        );
        assert_eq!(
            delete_expired_chunk(&conn, Expiring::AuthLog, cutoff, 10).unwrap(),
            10
        );
        assert_eq!(
            delete_expired_chunk(&conn, Expiring::AuthLog, cutoff, 10).unwrap(),
            5
        );
        assert_eq!(
            delete_expired_chunk(&conn, Expiring::AuthLog, cutoff, 10).unwrap(),
            0
        );
        assert_eq!(auth_log(&conn, &AuthLogFilter::default()).unwrap().len(), 1);
    }

    #[test]
    fn every_runtime_table_expires_open_sessions_and_audit_stay() {
        use crate::store::accounting::tests::rec;
        use crate::store::accounting::{self, AcctStatus};
        use crate::store::records::tests::{audit, disconnect};
        use crate::store::records::{insert_audit, insert_disconnect};
        use crate::store::sightings::tests::seen;
        use crate::store::sightings::{
            DhcpMessage, RogueServerSeen, upsert_rogue, upsert_sighting,
        };

        let dir = tempfile::tempdir().unwrap();
        let conn = open_rw(&dir.path().join(DB_FILE_NAME), Duration::from_secs(1)).unwrap();
        let now = ts("2026-12-31T12:00:00Z");
        let old = "2026-12-01T11:59:59.999Z"; // just past the 30-day cutoff
        let kept = "2026-12-01T12:00:00Z"; // exactly at the cutoff
        for (t, n) in [(old, "1"), (kept, "2")] {
            let mac = format!("02:00:00:00:00:0{n}");
            insert(&conn, &row(t, Some(&mac), None)).unwrap();
            accounting::apply(&conn, &rec(AcctStatus::Stop, &format!("closed{n}"), t)).unwrap();
            accounting::apply(&conn, &rec(AcctStatus::Start, &format!("open{n}"), t)).unwrap();
            upsert_sighting(&conn, &seen(&mac, t, DhcpMessage::Ack)).unwrap();
            upsert_rogue(
                &conn,
                &RogueServerSeen {
                    server_ip: "192.168.0.1".parse().unwrap(),
                    server_mac: mac.parse().unwrap(),
                    time: ts(t),
                    message: DhcpMessage::Offer,
                    interface: None,
                },
            )
            .unwrap();
            insert_disconnect(&conn, &disconnect(t, "max", &mac)).unwrap();
            insert_audit(&conn, &audit(t, "max")).unwrap();
        }
        let n = |table: &str| -> i64 {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        // One old row in each of six tables: auth_log, sessions (closed), history,
        // sightings, rogue_servers, disconnects.
        assert_eq!(delete_expired(&conn, now, 30).unwrap(), 6);
        assert_eq!(n("auth_log"), 1);
        assert_eq!(n("sessions"), 3, "closed2, open1 (old but open), open2");
        assert_eq!(n("sighting_history"), 1);
        assert_eq!(n("sightings"), 1);
        assert_eq!(n("rogue_servers"), 1);
        assert_eq!(n("disconnects"), 1);
        assert_eq!(n("audit"), 2, "the audit log has its own period");
        assert_eq!(delete_expired(&conn, now, 30).unwrap(), 0, "idempotent");
        assert_eq!(delete_expired_audit(&conn, now, 365).unwrap(), 0);
        assert_eq!(delete_expired_audit(&conn, now, 30).unwrap(), 1);
        assert_eq!(n("audit"), 1);
    }

    #[test]
    fn every_table_deletes_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_rw(&dir.path().join(DB_FILE_NAME), Duration::from_secs(1)).unwrap();
        // Each table's chunk statement runs, uses its own time column, and respects the
        // limit.
        for i in 0..5 {
            conn.execute(
                "INSERT INTO sessions (client, acct_session_id, started, last_update, stopped,
                    closed_by) VALUES ('c', ?1, 0, 0, 1, 'stop')",
                [i],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO sightings (mac, registered, randomized, first_seen, last_seen)
                 VALUES (?1, 0, 0, 0, 1)",
                [format!("02:00:00:00:00:0{i}")],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO sighting_history (mac, time, message_type) VALUES ('m', 1, 'ack')",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO rogue_servers (server_ip, server_mac, first_seen, last_seen)
                 VALUES ('10.0.0.1', ?1, 0, 1)",
                [i],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO disconnects (time, client, \"trigger\", attempts, result)
                 VALUES (1, 'c', 'ban', 1, 'ack')",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO audit (time, actor, action, subject) VALUES (1, 'a', 'b', 'c')",
                [],
            )
            .unwrap();
        }
        let cutoff = Timestamp::from_millisecond(2).unwrap();
        for table in Expiring::RUNTIME
            .into_iter()
            .filter(|t| *t != Expiring::AuthLog)
            .chain([Expiring::Audit])
        {
            assert_eq!(
                delete_expired_chunk(&conn, table, cutoff, 3).unwrap(),
                3,
                "{table:?}"
            );
            assert_eq!(
                delete_expired_chunk(&conn, table, cutoff, 3).unwrap(),
                2,
                "{table:?}"
            );
            assert_eq!(
                delete_expired_chunk(&conn, table, cutoff, 3).unwrap(),
                0,
                "{table:?}"
            );
            let left: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM {}", table.table()),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(left, 0, "{table:?}");
        }
    }
}
