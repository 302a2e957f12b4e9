//! Retention runs: at start, after a reload, on their interval, across every table, with the
//! audit log's longer period.

use crate::store::accounting::{self, SessionFilter, sessions};
use crate::store::auth_log::{self, AuthLogFilter, auth_log};
use crate::store::records::tests::{audit, disconnect};
use crate::store::sightings::tests::seen;
use crate::store::sightings::{DhcpMessage, RogueServerSeen};
use crate::store::{records, sightings};

use super::*;

#[test]
fn retention_at_start_and_after_reload() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join(DB_FILE_NAME);
    let now = Timestamp::now();
    {
        let conn = open_rw(&db_path, Duration::from_secs(1)).unwrap();
        for age_days in [60, 31, 29, 1] {
            let mut r = recent();
            r.time = now - jiff::SignedDuration::from_hours(24 * age_days);
            auth_log::insert(&conn, &r).unwrap();
        }
    }
    let (path, w) = start(dir.path(), 1024, 64, fast());
    assert_eq!(w.retention_days(), 30);
    // Retention ran at start without any job: the rows older than 30 days are gone.
    assert!(wait_until(|| count(&path) == 2), "count {}", count(&path));
    w.set_retention_days(7);
    assert_eq!(w.retention_days(), 7);
    assert!(wait_until(|| count(&path) == 1), "count {}", count(&path));
    let left = auth_log(&open_read_only(&path).unwrap(), &AuthLogFilter::default()).unwrap();
    assert!(left[0].time > now - jiff::SignedDuration::from_hours(48));
    w.shutdown().unwrap();
}

#[test]
fn retention_runs_periodically_when_idle() {
    let dir = tempfile::tempdir().unwrap();
    let tuning = Tuning {
        retention_interval: Duration::from_millis(50),
        retention_chunk: 3,
        ..fast()
    };
    let (path, w) = start(dir.path(), 1024, 64, tuning);
    w.flush().unwrap();
    // Written behind the writer's back while it idles: only the timer can delete them.
    let admin = Connection::open(&path).unwrap();
    for _ in 0..10 {
        auth_log::insert(&admin, &row("2000-01-01T00:00:00Z", None, None)).unwrap();
    }
    auth_log::insert(&admin, &recent()).unwrap();
    assert!(wait_until(|| count(&path) == 1), "count {}", count(&path));
    w.shutdown().unwrap();
}

#[test]
fn retention_covers_every_table_and_keeps_audit_longer() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join(DB_FILE_NAME);
    let now = Timestamp::now();
    let days_ago = |d: i64| now - jiff::SignedDuration::from_hours(24 * d);
    {
        let conn = open_rw(&db_path, Duration::from_secs(1)).unwrap();
        for (age, id) in [(40, "closed-old"), (10, "closed-new")] {
            let mut r = acct(AcctStatus::Stop, id);
            r.time = days_ago(age);
            accounting::apply(&conn, &r).unwrap();
        }
        let mut open_old = acct(AcctStatus::Start, "open-old");
        open_old.time = days_ago(40);
        accounting::apply(&conn, &open_old).unwrap();
        for (age, mac) in [(40, "02:00:00:00:00:01"), (10, "02:00:00:00:00:02")] {
            let mut s = seen(mac, "2026-01-01T00:00:00Z", DhcpMessage::Ack);
            s.time = days_ago(age);
            sightings::upsert_sighting(&conn, &s).unwrap();
            let mut d = disconnect("2026-01-01T00:00:00Z", "max", mac);
            d.time = days_ago(age);
            records::insert_disconnect(&conn, &d).unwrap();
            sightings::upsert_rogue(
                &conn,
                &RogueServerSeen {
                    server_ip: "192.168.0.1".parse().unwrap(),
                    server_mac: mac.parse().unwrap(),
                    time: days_ago(age),
                    message: DhcpMessage::Offer,
                    interface: None,
                },
            )
            .unwrap();
        }
        for age in [400, 40] {
            let mut a = audit("2026-01-01T00:00:00Z", "max");
            a.time = days_ago(age);
            records::insert_audit(&conn, &a).unwrap();
        }
    }
    let (path, w) = start(dir.path(), 1024, 64, fast());
    let n = |table: &str| -> i64 {
        open_read_only(&path)
            .unwrap()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    assert!(
        wait_until(|| n("audit") == 1),
        "the run ends with the audit log"
    );
    // The old open session was closed as stale at start, then expired.
    assert_eq!(n("sessions"), 1);
    assert_eq!(n("sightings"), 1);
    assert_eq!(n("sighting_history"), 1);
    assert_eq!(n("rogue_servers"), 1);
    assert_eq!(n("disconnects"), 1);
    let ro = open_read_only(&path).unwrap();
    let left = sessions(&ro, &SessionFilter::default()).unwrap();
    assert_eq!(left[0].acct_session_id, "closed-new");
    // A shorter audit period after a reload applies at once.
    assert_eq!(w.audit_retention_days(), 365);
    w.set_audit_retention_days(30);
    assert!(wait_until(|| n("audit") == 0));
    w.shutdown().unwrap();
}
