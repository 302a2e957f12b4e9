//! The writer's tests, by concern: the queue and its handle (`queue`), the classes of work and
//! the size guard (`classes`), commits and what they promise (`durability`), the linger,
//! stale-session and back-off timers at work (`timers`), retention runs (`retention`) and the
//! background priority (`priority`). This file is the fixture they share: a writer on a fresh
//! database with short timings, and the probes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod classes;
mod durability;
mod priority;
mod queue;
mod retention;
mod timers;

use std::path::Path;

use jiff::Timestamp;
use rusqlite::Connection;

use super::housekeeping::RETENTION_ORDER;
use super::*;
use crate::sched;
use crate::store::accounting::AcctStatus;
use crate::store::accounting::tests::rec;
use crate::store::auth_log::tests::row;
use crate::store::schema::{DB_FILE_NAME, open_read_only};

fn fast() -> Tuning {
    Tuning {
        busy_timeout: Duration::from_secs(30),
        backoff_min: Duration::from_millis(200),
        backoff_max: Duration::from_secs(1),
        // the tests that hold the write lock count on a batch per arrival
        log_linger: Duration::ZERO,
        ..Tuning::default()
    }
}

fn start(
    dir: &Path,
    queue_capacity: usize,
    batch_max: usize,
    tuning: Tuning,
) -> (PathBuf, WriterHandle) {
    let db_path = dir.join(DB_FILE_NAME);
    let cfg = WriterConfig {
        queue_capacity,
        batch_max,
        ..WriterConfig::new(db_path.clone())
    };
    let handle = spawn_writer_tuned(cfg, tuning).unwrap();
    (db_path, handle)
}

fn count(path: &Path) -> i64 {
    open_read_only(path)
        .unwrap()
        .query_row("SELECT count(*) FROM auth_log", [], |r| r.get(0))
        .unwrap()
}

fn recent() -> AuthLogRow {
    let mut r = row(
        "2026-01-01T00:00:00Z",
        Some("3c:22:fb:12:34:56"),
        Some("max"),
    );
    r.time = Timestamp::now();
    r
}

/// Waits until the retention run at start is done: the writer deletes one chunk of one
/// table after each batch, so after a flush per table (plus the first) it is over.
fn settle(w: &WriterHandle) {
    for _ in 0..=RETENTION_ORDER.len() + 1 {
        w.flush().unwrap();
    }
}

fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// The writer thread's nice value, read from /proc.
fn writer_nice(w: &WriterHandle) -> i32 {
    let id = w.shared.thread_id.load(Ordering::Relaxed);
    sched::nice_of(id).unwrap()
}

fn count_sessions(path: &Path) -> i64 {
    open_read_only(path)
        .unwrap()
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap()
}

/// A completion that reports on a channel.
fn reporting() -> (AccountingDone, mpsc::Receiver<Result<(), StoreError>>) {
    let (tx, rx) = mpsc::channel();
    let done: AccountingDone = Box::new(move |r| {
        let _ = tx.send(r);
    });
    (done, rx)
}

fn recv(rx: &mpsc::Receiver<Result<(), StoreError>>) -> Result<(), StoreError> {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the completion was not called")
}

fn acct(status: AcctStatus, id: &str) -> AccountingRecord {
    let mut r = rec(status, id, "2026-01-01T00:00:00Z");
    r.time = Timestamp::now();
    r
}
