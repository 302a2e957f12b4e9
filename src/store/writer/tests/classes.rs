//! The classes of work: a flood of DHCP rows fills only its own queue and waits behind
//! accounting and the auth log; the size guard refuses sightings, never accounting or the
//! auth log, and decides from its reading alone.

use crate::store::sightings::DhcpMessage;
use crate::store::sightings::tests::seen;

use super::super::space::{SpaceLimits, SpaceReading, space_low};
use super::*;

fn start_with(dir: &Path, cfg: impl FnOnce(&mut WriterConfig)) -> (PathBuf, WriterHandle) {
    let db_path = dir.join(DB_FILE_NAME);
    let mut c = WriterConfig::new(db_path.clone());
    cfg(&mut c);
    (db_path.clone(), spawn_writer_tuned(c, fast()).unwrap())
}

/// A sighting of a MAC made from `i`, seen now.
fn flood_sighting(i: u32) -> SightingUpdate {
    let b = i.to_be_bytes();
    let mac = format!("02:00:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3]);
    let mut s = seen(&mac, "2026-01-01T00:00:00Z", DhcpMessage::Discover);
    s.time = Timestamp::now();
    s
}

fn sightings_in(path: &Path) -> i64 {
    open_read_only(path)
        .unwrap()
        .query_row("SELECT count(*) FROM sightings", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_full_dhcp_queue_neither_refuses_accounting_nor_drops_auth_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start_with(dir.path(), |c| {
        c.queue_capacity = 64;
        c.dhcp_queue_capacity = 16;
        c.batch_max = 8;
    });
    settle(&w);
    // The writer is stuck behind another connection's lock while the flood comes in.
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let accepted = (0..1_000)
        .filter(|&i| w.sighting(flood_sighting(i)))
        .count() as u64;
    assert!(accepted <= 16 + 8, "accepted {accepted} sightings");
    assert_eq!(w.dropped(), 1_000 - accepted);
    let mut answers = Vec::new();
    for i in 0..20 {
        assert!(
            w.log_auth(recent()),
            "auth row {i} dropped behind the flood"
        );
        let (done, rx) = reporting();
        w.accounting(acct(AcctStatus::Start, &format!("S{i}")), done)
            .unwrap_or_else(|e| panic!("accounting {i} refused behind the flood: {e:?}"));
        answers.push(rx);
    }
    assert_eq!(w.accounting_refused(), 0);
    holder.execute_batch("ROLLBACK").unwrap();
    for rx in &answers {
        recv(rx).unwrap();
    }
    w.flush().unwrap();
    assert_eq!(count(&path), 20);
    assert_eq!(count_sessions(&path), 20);
    assert_eq!(sightings_in(&path) as u64, accepted);
    assert_eq!(w.dropped(), 1_000 - accepted, "only sightings were dropped");
    w.shutdown().unwrap();
}

#[test]
fn accounting_is_written_before_a_backlog_of_sightings() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start_with(dir.path(), |c| {
        c.dhcp_queue_capacity = 10_000;
        c.batch_max = 64;
    });
    settle(&w);
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    for i in 0..5_000 {
        assert!(w.sighting(flood_sighting(i)));
    }
    // Let the writer take its first batch of sightings and block on the lock with it.
    assert!(wait_until(|| w.queue_depth() < 5_000));
    let probe = w.clone();
    let (tx, rx) = mpsc::channel();
    w.accounting(
        acct(AcctStatus::Start, "S1"),
        Box::new(move |r| {
            // Runs on the writer thread right after the commit: what was written by then.
            let _ = tx.send((r, probe.written()));
        }),
    )
    .unwrap();
    assert!(w.log_auth(recent()));
    holder.execute_batch("ROLLBACK").unwrap();
    let (result, written_before) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    result.unwrap();
    // The batch in progress, then a batch led by the accounting record: not the backlog.
    assert!(
        written_before <= 2 * 64,
        "the accounting record waited for {written_before} rows"
    );
    w.flush().unwrap();
    assert_eq!(
        sightings_in(&path),
        5_000,
        "the backlog is written after it"
    );
    assert_eq!(count(&path), 1);
    w.shutdown().unwrap();
}

#[test]
fn a_flush_waits_for_the_sightings_queued_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 1024, 16, fast());
    for i in 0..500 {
        assert!(w.sighting(flood_sighting(i)));
    }
    w.flush().unwrap();
    assert_eq!(sightings_in(&path), 500);
    w.shutdown().unwrap();
}

#[test]
fn the_size_guard_decides_from_its_reading() {
    const MIB: u64 = 1 << 20;
    let free_only = SpaceLimits {
        min_free: 256 * MIB,
        max_database: None,
    };
    let capped = SpaceLimits {
        min_free: 256 * MIB,
        max_database: Some(160 * MIB),
    };
    let r = |free: u64, database: u64| SpaceReading {
        free: free * MIB,
        database: database * MIB,
    };
    // (limits, reading, refused before) -> refused after
    let table = [
        ((free_only, r(10_000, 1), false), false),
        ((free_only, r(256, 1), false), false),
        ((free_only, r(255, 1), false), true),
        ((free_only, r(0, 1), false), true),
        ((free_only, r(10_000, 1_000_000), false), false),
        // once refused, the room must come back by a sixteenth (256 + 16)
        ((free_only, r(256, 1), true), true),
        ((free_only, r(271, 1), true), true),
        ((free_only, r(272, 1), true), false),
        ((capped, r(10_000, 160), false), false),
        ((capped, r(10_000, 161), false), true),
        ((capped, r(255, 1), false), true),
        // 160 - 10: the cap's sixteenth
        ((capped, r(10_000, 151), true), true),
        ((capped, r(10_000, 150), true), false),
        ((capped, r(255, 150), true), true),
    ];
    for ((limits, reading, was), want) in table {
        assert_eq!(
            space_low(limits, reading, was),
            want,
            "{limits:?} {reading:?} refused before: {was}"
        );
    }
}

#[test]
fn short_of_space_sightings_are_refused_and_accounting_and_auth_rows_are_not() {
    for space in [
        // no filesystem has this much free
        SpaceLimits {
            min_free: u64::MAX,
            max_database: None,
        },
        // the fresh database is already larger
        SpaceLimits {
            min_free: 0,
            max_database: Some(1),
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = start_with(dir.path(), |c| c.space = space);
        // The guard measures at start.
        assert!(wait_until(|| w.space_low()), "{space:?}");
        assert!(!w.sighting(flood_sighting(1)));
        assert!(!w.sighting(flood_sighting(2)));
        assert_eq!(w.sightings_refused(), 2);
        assert!(w.log_auth(recent()));
        let (done, rx) = reporting();
        w.accounting(acct(AcctStatus::Start, "S1"), done).unwrap();
        recv(&rx).unwrap();
        w.flush().unwrap();
        assert_eq!(sightings_in(&path), 0);
        assert_eq!(count(&path), 1);
        assert_eq!(count_sessions(&path), 1);
        w.shutdown().unwrap();
    }
}

#[test]
fn with_room_sightings_are_taken() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start_with(dir.path(), |c| {
        c.space = SpaceLimits {
            min_free: 0,
            max_database: Some(1 << 40),
        }
    });
    settle(&w);
    assert!(!w.space_low());
    assert!(w.sighting(flood_sighting(1)));
    w.flush().unwrap();
    assert_eq!(sightings_in(&path), 1);
    assert_eq!(w.sightings_refused(), 0);
    w.shutdown().unwrap();
}

#[test]
fn an_enrolment_goes_with_accounting_past_a_full_log_queue_and_commits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start_with(dir.path(), |c| {
        c.queue_capacity = 8;
        c.batch_max = 4;
    });
    settle(&w);
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    // the log rows' queue fills up and drops; the enrolment is still taken
    let mac: MacAddr = "da:a1:19:00:00:21".parse().unwrap();
    let taken = (0..100)
        .filter(|_| w.device_accepted(mac, Timestamp::now()))
        .count();
    assert!(taken < 100, "the log queue never filled");
    let enrolment = crate::store::Enrolment {
        mac,
        user: "max".into(),
        // the database keeps milliseconds
        enrolled: Timestamp::from_millisecond(Timestamp::now().as_millisecond()).unwrap(),
        method: "peap".into(),
    };
    assert!(w.enrol(enrolment.clone()), "refused behind the log rows");
    holder.execute_batch("ROLLBACK").unwrap();
    // committed without a flush: it does not linger like a log row
    let reader = crate::store::Reader::open(&path).unwrap();
    assert!(wait_until(|| {
        reader
            .device_records()
            .is_ok_and(|r| r.enrolments.len() == 1)
    }));
    let r = reader.device_records().unwrap();
    assert_eq!(r.enrolments[0], enrolment);
    assert_eq!(r.last_accepted.len(), 1);
    w.shutdown().unwrap();
}
