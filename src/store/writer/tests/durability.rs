//! Commits and their promises: accounting answered only after its commit, all or nothing per
//! batch; log rows the database refuses skipped; an unwritable database backed off from.

use crate::store::accounting::{ClosedBy, SessionFilter, sessions};
use crate::store::schema::M1_FOR_TESTS;

use super::*;

#[test]
fn accounting_completion_runs_only_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 1024, 64, fast());
    let (tx, rx) = mpsc::channel();
    for id in ["S1", "S2", "S3"] {
        let tx = tx.clone();
        let path = path.clone();
        let want = id.to_string();
        let done: AccountingDone = Box::new(move |result| {
            // Another connection sees the row the moment the completion runs: the
            // transaction holding it has committed.
            let visible: i64 = open_read_only(&path)
                .unwrap()
                .query_row(
                    "SELECT count(*) FROM sessions WHERE acct_session_id = ?1",
                    [&want],
                    |r| r.get(0),
                )
                .unwrap();
            let _ = tx.send((result, visible));
        });
        w.accounting(acct(AcctStatus::Start, id), done).unwrap();
    }
    for _ in 0..3 {
        let (result, visible) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        result.unwrap();
        assert_eq!(visible, 1);
    }
    assert_eq!(w.accounting_committed(), 3);
    assert_eq!(w.accounting_failed(), 0);
    w.shutdown().unwrap();
}

#[test]
fn accounting_oneshot_resolves_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 1024, 64, fast());
    let rx = w.accounting_oneshot(acct(AcctStatus::Start, "S1")).unwrap();
    rx.blocking_recv().unwrap().unwrap();
    assert_eq!(count_sessions(&path), 1);
    w.shutdown().unwrap();
}

#[test]
fn many_records_in_group_commits_one_row_per_session() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 65_536, 256, fast());
    let (tx, rx) = mpsc::channel();
    let mut sent = 0;
    for i in 0..500 {
        // Start, its retransmission, an Interim and a Stop per session.
        for status in [
            AcctStatus::Start,
            AcctStatus::Start,
            AcctStatus::Interim,
            AcctStatus::Stop,
        ] {
            let tx = tx.clone();
            w.accounting(
                acct(status, &format!("S{i}")),
                Box::new(move |r| {
                    let _ = tx.send(r);
                }),
            )
            .unwrap();
            sent += 1;
        }
        assert!(w.log_auth(recent()));
    }
    for _ in 0..sent {
        rx.recv_timeout(Duration::from_secs(30)).unwrap().unwrap();
    }
    assert_eq!(w.accounting_committed(), sent);
    assert_eq!(count_sessions(&path), 500);
    let ro = open_read_only(&path).unwrap();
    let all = sessions(&ro, &SessionFilter::default()).unwrap();
    assert!(all.iter().all(|s| s.closed_by == Some(ClosedBy::Stop)));
    w.flush().unwrap();
    assert_eq!(count(&path), 500);
    w.shutdown().unwrap();
}

#[test]
fn a_failing_accounting_batch_answers_every_completion_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 1024, 1024, fast());
    settle(&w);
    let admin = Connection::open(&path).unwrap();
    admin
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON sessions
             WHEN NEW.acct_session_id = 'bad'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    // Hold the write lock so the writer is stuck on a batch with one log row; what is
    // queued meanwhile forms the next batch.
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert!(w.log_auth(recent()));
    assert!(wait_until(|| w.queue_depth() == 0));
    let mut answers = Vec::new();
    for id in ["good1", "bad", "good2"] {
        let (done, rx) = reporting();
        w.accounting(acct(AcctStatus::Start, id), done).unwrap();
        answers.push(rx);
    }
    assert!(w.log_auth(recent()));
    holder.execute_batch("ROLLBACK").unwrap();
    for rx in &answers {
        match recv(rx) {
            Err(StoreError::NotCommitted { cause }) => {
                assert!(cause.contains("refused"), "{cause}")
            }
            other => panic!("expected NotCommitted, got {other:?}"),
        }
    }
    // Nothing of the batch's accounting is written, but its log rows are.
    assert_eq!(count_sessions(&path), 0, "no half-written batch");
    w.flush().unwrap();
    assert_eq!(count(&path), 2);
    assert_eq!(w.accounting_failed(), 3);
    assert_eq!(w.accounting_committed(), 0);
    assert_eq!(w.failed_batches(), 0, "a refused record is no outage");
    // The NAS retries the good ones later: they are stored.
    let (done, rx) = reporting();
    w.accounting(acct(AcctStatus::Start, "good1"), done)
        .unwrap();
    recv(&rx).unwrap();
    assert_eq!(count_sessions(&path), 1);
    w.shutdown().unwrap();
}

#[test]
fn rows_the_database_refuses_are_counted_and_the_rest_written() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 1024, 64, fast());
    settle(&w);
    let admin = Connection::open(&path).unwrap();
    admin
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON auth_log
             WHEN NEW.reason = 'banned'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    let banned = || {
        let mut r = recent();
        r.reason = "banned";
        r
    };
    // One batch with good and refused rows: the good ones survive.
    for r in [recent(), banned(), recent(), banned(), recent()] {
        assert!(w.log_auth(r));
    }
    match w.flush() {
        Err(StoreError::RowsLost { count: 2 }) => {}
        other => panic!("expected 2 rows lost, got {other:?}"),
    }
    assert_eq!(w.failed_rows(), 2);
    assert_eq!(w.written(), 3);
    assert_eq!(w.failed_batches(), 0, "no batch failed, no back-off");
    // The writer goes on: once the trigger is gone, every row is stored.
    admin.execute_batch("DROP TRIGGER refuse").unwrap();
    assert!(w.log_auth(banned()));
    w.flush().unwrap();
    assert_eq!(count(&path), 4);
    assert_eq!(w.failed_rows(), 2);
    w.shutdown().unwrap();
}

#[test]
fn a_panicking_completion_does_not_stop_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 1024, 64, fast());
    w.accounting(
        acct(AcctStatus::Start, "S1"),
        Box::new(|_| panic!("callback bug")),
    )
    .unwrap();
    let (done, rx) = reporting();
    w.accounting(acct(AcctStatus::Start, "S2"), done).unwrap();
    recv(&rx).unwrap();
    assert_eq!(count_sessions(&path), 2);
    w.shutdown().unwrap();
}

#[test]
fn unwritable_database_backs_off_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let tuning = Tuning {
        backoff_min: Duration::from_secs(1),
        ..fast()
    };
    let (path, w) = start(dir.path(), 1024, 64, tuning);
    settle(&w);
    let admin = Connection::open(&path).unwrap();
    // Every write now fails for the whole batch, like a full disk would.
    admin.execute_batch("DROP TABLE auth_log").unwrap();
    assert!(w.log_auth(recent()));
    assert!(matches!(w.flush(), Err(StoreError::RowsLost { count: 1 })));
    assert_eq!(w.failed_batches(), 1);
    // During the back-off rows are counted and dropped without another attempt.
    let failed_at = Instant::now();
    for _ in 0..100 {
        assert!(w.log_auth(recent()));
    }
    assert!(matches!(
        w.flush(),
        Err(StoreError::RowsLost { count: 100 })
    ));
    assert!(
        failed_at.elapsed() < Duration::from_secs(1),
        "test too slow to check"
    );
    assert_eq!(w.failed_batches(), 1, "no retry during the back-off");
    assert_eq!(w.failed_rows(), 101);
    // The database is repaired; after the back-off the writer writes again.
    admin.execute_batch(M1_FOR_TESTS).unwrap();
    std::thread::sleep(Duration::from_millis(1100).saturating_sub(failed_at.elapsed()));
    for _ in 0..3 {
        assert!(w.log_auth(recent()));
    }
    w.flush().unwrap();
    assert_eq!(count(&path), 3);
    assert_eq!(w.written(), 3);
    assert_eq!(w.failed_batches(), 1);
    w.shutdown().unwrap();
}

#[test]
fn an_unwritable_database_fails_accounting_then_backs_off() {
    let dir = tempfile::tempdir().unwrap();
    let tuning = Tuning {
        backoff_min: Duration::from_secs(5),
        ..fast()
    };
    let (path, w) = start(dir.path(), 1024, 64, tuning);
    settle(&w);
    let admin = Connection::open(&path).unwrap();
    admin.execute_batch("DROP TABLE sessions").unwrap();
    let (done, rx) = reporting();
    w.accounting(acct(AcctStatus::Start, "S1"), done).unwrap();
    assert!(matches!(recv(&rx), Err(StoreError::NotCommitted { .. })));
    assert_eq!(w.failed_batches(), 1);
    // During the back-off the writer answers at once without trying.
    let (done, rx) = reporting();
    w.accounting(acct(AcctStatus::Start, "S2"), done).unwrap();
    assert!(matches!(recv(&rx), Err(StoreError::BackingOff)));
    assert_eq!(w.failed_batches(), 1);
    assert_eq!(w.accounting_failed(), 2);
    w.shutdown().unwrap();
}
