//! The timers at work in a running writer: the linger of log rows, stale sessions closed on
//! their interval, and a back-off that holds the timers without keeping the thread awake.
//! The table's own rules are tested next to it.

use crate::store::accounting::{self, ClosedBy, SessionFilter, sessions};

use super::*;

#[test]
fn log_rows_wait_for_company_but_not_longer_than_the_linger() {
    let dir = tempfile::tempdir().unwrap();
    let lingering = Tuning {
        log_linger: Duration::from_secs(3600),
        ..fast()
    };
    let (path, w) = start(dir.path(), 1024, 16, lingering);
    settle(&w);
    for _ in 0..5 {
        assert!(w.log_auth(recent()));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(&path), 0, "five rows alone wait for the linger");
    // a full batch goes at once
    for _ in 0..11 {
        assert!(w.log_auth(recent()));
    }
    assert!(wait_until(|| count(&path) == 16));
    // an accounting record does not wait, and takes the waiting rows along
    assert!(w.log_auth(recent()));
    let (tx, rx) = mpsc::channel();
    w.accounting(
        rec(AcctStatus::Start, "s-1", "2026-01-01T00:00:00Z"),
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    )
    .unwrap();
    rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
    assert_eq!(count(&path), 17);
    // rows still waiting when the writer is shut down are written
    assert!(w.log_auth(recent()));
    w.shutdown().unwrap();
    assert_eq!(count(&path), 18);

    let dir = tempfile::tempdir().unwrap();
    let short = Tuning {
        log_linger: Duration::from_millis(50),
        ..fast()
    };
    let (path, w) = start(dir.path(), 1024, 16, short);
    assert!(w.log_auth(recent()));
    assert!(
        wait_until(|| count(&path) == 1),
        "committed after the linger, unasked"
    );
    w.shutdown().unwrap();
}

#[test]
fn stale_sessions_are_closed_on_a_timer() {
    let dir = tempfile::tempdir().unwrap();
    let tuning = Tuning {
        stale_interval: Duration::from_millis(50),
        ..fast()
    };
    let (path, w) = start(dir.path(), 1024, 64, tuning);
    settle(&w);
    let admin = Connection::open(&path).unwrap();
    let mut old = acct(AcctStatus::Start, "old");
    old.time = Timestamp::now() - jiff::SignedDuration::from_hours(1); // > 2 × 300 s + 300 s
    accounting::apply(&admin, &old).unwrap();
    let (done, rx) = reporting();
    w.accounting(acct(AcctStatus::Start, "fresh"), done)
        .unwrap();
    recv(&rx).unwrap();
    assert!(wait_until(|| w.sessions_closed_stale() == 1));
    let ro = open_read_only(&path).unwrap();
    let all = sessions(&ro, &SessionFilter::default()).unwrap();
    let by = |id: &str| all.iter().find(|s| s.acct_session_id == id).unwrap();
    assert_eq!(by("old").closed_by, Some(ClosedBy::Stale));
    assert!(by("fresh").is_open());
    w.shutdown().unwrap();
}

/// How much thread `id` of this process has run: its CPU time in clock ticks plus the times
/// it was switched in and out (from /proc). A thread that spins gets either the core (ticks)
/// or, on a busy machine, preempted again and again (switches); a sleeping one neither.
fn activity(id: i32) -> u64 {
    let task = format!("/proc/self/task/{id}");
    let stat = std::fs::read_to_string(format!("{task}/stat")).unwrap();
    // The name in parentheses may hold spaces: count fields after its closing one.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // Fields 3.. follow the name; utime and stime are fields 14 and 15.
    let field = |n: usize| fields[n - 3].parse::<u64>().unwrap();
    let status = std::fs::read_to_string(format!("{task}/status")).unwrap();
    let switches: u64 = status
        .lines()
        .filter(|l| l.contains("ctxt_switches:"))
        .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    field(14) + field(15) + switches
}

#[test]
fn a_back_off_holds_the_timers_and_lets_the_writer_sleep() {
    let dir = tempfile::tempdir().unwrap();
    let tuning = Tuning {
        backoff_min: Duration::from_secs(3),
        // due again and again during the back-off
        stale_interval: Duration::from_millis(10),
        ..fast()
    };
    let (path, w) = start(dir.path(), 1024, 64, tuning);
    settle(&w);
    let admin = Connection::open(&path).unwrap();
    admin.execute_batch("DROP TABLE auth_log").unwrap();
    assert!(w.log_auth(recent()));
    // The back-off starts after this instant.
    let flushed_at = Instant::now();
    assert!(matches!(w.flush(), Err(StoreError::RowsLost { count: 1 })));
    // A stale session for the first stale check after the back-off.
    let mut old = acct(AcctStatus::Start, "old");
    old.time = Timestamp::now() - jiff::SignedDuration::from_hours(1);
    accounting::apply(&admin, &old).unwrap();
    // Long enough for the stale timer to be due and for the writer to be asleep.
    std::thread::sleep(Duration::from_millis(100));
    let writer = w.shared.thread_id.load(Ordering::Relaxed);
    let before = activity(writer);
    std::thread::sleep(Duration::from_millis(1000));
    let used = activity(writer) - before;
    assert!(
        flushed_at.elapsed() < Duration::from_secs(3),
        "test too slow to check"
    );
    // A writer woken by every due timer spins through the back-off: even at background
    // priority on a loaded machine that is several ticks and switches a second.
    assert!(
        used <= 1,
        "the writer ran ({used} ticks and switches) while backing off"
    );
    assert_eq!(
        w.sessions_closed_stale(),
        0,
        "no stale check during the back-off"
    );
    assert_eq!(
        w.failed_batches(),
        1,
        "nothing was tried during the back-off"
    );
    // The back-off over, the stale timer fires at once.
    assert!(wait_until(|| w.sessions_closed_stale() == 1));
    assert!(flushed_at.elapsed() >= Duration::from_secs(3));
    assert_eq!(w.failed_batches(), 1);
    w.shutdown().unwrap();
}
