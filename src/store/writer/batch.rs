//! One batch, one transaction: the pending log rows and accounting records are written
//! together, committed with the durability each needs, and the accounting completions are
//! answered only after the commit. Failed writes are counted here and start the back-off.
//!
//! Nothing here waits for jobs or decides when a batch is due (that is the loop's, in `run`).

use std::sync::atomic::Ordering;
use std::time::Instant;

use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use super::run::Writer;
use super::timers::Timer;
use super::{AccountingDone, Row};
use crate::store::accounting::{self, AccountingRecord};
use crate::store::auth_log::{self, LogIds};
use crate::store::{StoreError, devices, records, sightings};

/// The rows and accounting records of the next transaction.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) rows: Vec<Row>,
    pub(super) accounting: Vec<AccountingRecord>,
    pub(super) done: Vec<AccountingDone>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.accounting.is_empty()
    }
}

/// Calls a completion; a panicking callback must not take the writer down.
pub(super) fn answer<T>(done: Box<dyn FnOnce(T) + Send>, value: T) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || done(value))).is_err() {
        tracing::error!("a database completion callback panicked");
    }
}

impl Writer {
    /// Commits the pending rows and accounting records in one transaction, then answers
    /// the accounting completions.
    pub(super) fn commit(&mut self, p: &mut Pending, now: Instant) {
        self.timers.stop(Timer::Linger);
        if p.is_empty() {
            return;
        }
        let n_rows = p.rows.len() as u64;
        let n_acct = p.accounting.len() as u64;
        if self.timers.backing_off(now) {
            self.lose(n_rows);
            self.shared
                .accounting_failed
                .fetch_add(n_acct, Ordering::Relaxed);
            self.answer_accounting(p, || Err(StoreError::BackingOff));
            p.rows.clear();
            return;
        }
        // Durability where it is promised: a batch with accounting records (answered only
        // after this commit) is synced to disk (FULL). A batch of log rows only is not
        // synced at its commit (NORMAL: WAL-safe, the database stays consistent; a power cut
        // may lose the last second of log rows, never an acknowledged accounting record).
        // This halves the writer's cost under authentication load.
        let want_full = !p.accounting.is_empty();
        if want_full != self.sync_full {
            let mode = if want_full { "FULL" } else { "NORMAL" };
            if self.conn.pragma_update(None, "synchronous", mode).is_ok() {
                self.sync_full = want_full;
            }
        }
        if want_full && !self.sync_full {
            // could not switch to FULL: do not acknowledge what is not durable
            self.shared
                .accounting_failed
                .fetch_add(n_acct, Ordering::Relaxed);
            self.answer_accounting(p, || Err(StoreError::BackingOff));
        }
        // Steps aside while the queue is short; behind, it writes flat out so that it
        // catches up instead of dropping rows.
        let shared = &self.shared;
        let calm = self.behind_depth();
        let step_aside = || shared.depths.pressing() < calm;
        match write_batch(
            &mut self.conn,
            &p.rows,
            &p.accounting,
            &mut self.log_ids,
            step_aside,
        ) {
            Ok(outcome) => {
                self.shared
                    .written
                    .fetch_add(outcome.written, Ordering::Relaxed);
                if outcome.rejected > 0 {
                    self.lose(outcome.rejected);
                    tracing::warn!(
                        rows = outcome.rejected,
                        error = %outcome.first_error.as_deref().unwrap_or("?"),
                        "the database rejected log rows; the rest of the batch was written"
                    );
                }
                match outcome.accounting_error {
                    None => {
                        self.shared
                            .accounting_committed
                            .fetch_add(n_acct, Ordering::Relaxed);
                        self.answer_accounting(p, || Ok(()));
                    }
                    Some(cause) => {
                        tracing::warn!(
                            records = n_acct,
                            error = %cause,
                            "the database rejected accounting records; none of the batch was stored"
                        );
                        self.shared
                            .accounting_failed
                            .fetch_add(n_acct, Ordering::Relaxed);
                        self.answer_accounting(p, || {
                            Err(StoreError::NotCommitted {
                                cause: cause.clone(),
                            })
                        });
                    }
                }
                self.writable_again();
            }
            Err(e) => {
                self.shared.failed_batches.fetch_add(1, Ordering::Relaxed);
                self.lose(n_rows);
                self.shared
                    .accounting_failed
                    .fetch_add(n_acct, Ordering::Relaxed);
                let cause = e.to_string();
                self.answer_accounting(p, || {
                    Err(StoreError::NotCommitted {
                        cause: cause.clone(),
                    })
                });
                self.unwritable(now, &e);
            }
        }
        p.rows.clear();
    }

    /// Answers every pending accounting completion and clears the records.
    fn answer_accounting(&self, p: &mut Pending, result: impl Fn() -> Result<(), StoreError>) {
        if p.accounting.is_empty() {
            return;
        }
        p.accounting.clear();
        for done in p.done.drain(..) {
            answer(done, result());
        }
    }

    fn lose(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        self.shared.failed_rows.fetch_add(n, Ordering::Relaxed);
        self.lost_since_flush += n;
        self.lost_in_outage += n;
    }

    pub(super) fn unwritable(&mut self, now: Instant, e: &dyn std::fmt::Display) {
        tracing::warn!(
            error = %e,
            retry_in_ms = self.backoff.as_millis() as u64,
            "cannot write to the database; dropping log rows until the retry"
        );
        self.timers.set(Timer::Backoff, now + self.backoff);
        self.backoff = (self.backoff * 2).min(self.tuning.backoff_max);
    }

    pub(super) fn writable_again(&mut self) {
        if self.timers.stop(Timer::Backoff) {
            tracing::info!(
                rows_lost = self.lost_in_outage,
                "the database is writable again"
            );
        }
        self.lost_in_outage = 0;
        self.backoff = self.tuning.backoff_min;
    }
}

struct WriteOutcome {
    written: u64,
    /// Rows the database refused one by one (constraint, type); the batch went on.
    rejected: u64,
    first_error: Option<String>,
    /// Why the batch's accounting records were rolled back (all of them), if they were.
    accounting_error: Option<String>,
}

fn write_row<'c>(
    conn: &'c Connection,
    auth_log: &mut Option<auth_log::Inserter<'c>>,
    ids: &mut LogIds,
    row: &Row,
) -> rusqlite::Result<()> {
    match row {
        Row::Auth(r) => match auth_log {
            Some(inserter) => inserter.insert(ids, r),
            None => auth_log
                .insert(auth_log::Inserter::new(conn)?)
                .insert(ids, r),
        },
        Row::Sighting(s) => sightings::upsert_sighting(conn, s),
        Row::Rogue(r) => sightings::upsert_rogue(conn, r),
        Row::Disconnect(d) => records::insert_disconnect(conn, d),
        Row::Audit(a) => records::insert_audit(conn, a),
        Row::Accepted(mac, time) => devices::accepted(conn, *mac, *time),
        Row::Enrol(e) => devices::enrol(conn, e),
    }
}

/// One transaction for the whole batch. The accounting records go first, inside a
/// savepoint: if one fails they are all rolled back (none half-written) and the log rows
/// still commit. A log row the database refuses (a constraint, a type) is skipped so it
/// cannot take the others down; any other error rolls the whole batch back.
fn write_batch(
    conn: &mut Connection,
    rows: &[Row],
    accounting: &[AccountingRecord],
    ids: &mut LogIds,
    step_aside: impl Fn() -> bool,
) -> rusqlite::Result<WriteOutcome> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = WriteOutcome {
        written: 0,
        rejected: 0,
        first_error: None,
        accounting_error: None,
    };
    if !accounting.is_empty() {
        let sp = tx.savepoint()?;
        let failed = accounting
            .iter()
            .find_map(|rec| accounting::apply(&sp, rec).err());
        match failed {
            None => sp.commit()?,
            Some(e) => {
                // Rolls back to the savepoint and releases it.
                let undone = sp.finish();
                if !is_row_error(&e) || undone.is_err() || tx.is_autocommit() {
                    return Err(e);
                }
                out.accounting_error = Some(e.to_string());
            }
        }
    }
    let mut auth_log = None;
    for (i, row) in rows.iter().enumerate() {
        if i % YIELD_EVERY == YIELD_EVERY - 1 && step_aside() {
            // On a shared core the writer would otherwise run a whole time slice (~3 ms)
            // while a receive thread with requests waiting stands behind it; stepping aside
            // every few hundred microseconds lets the requests go first (the lock stays
            // held; WAL readers are not blocked by it).
            std::thread::yield_now();
        }
        match write_row(&tx, &mut auth_log, ids, row) {
            Ok(()) => out.written += 1,
            // A statement error keeps the transaction open unless SQLite rolled it back.
            Err(e) if is_row_error(&e) && !tx.is_autocommit() => {
                out.rejected += 1;
                if out.first_error.is_none() {
                    out.first_error = Some(e.to_string());
                }
            }
            Err(e) => return Err(e),
        }
    }
    drop(auth_log);
    tx.commit()?;
    Ok(out)
}

/// Log rows written between two yields of the writer thread (about 0.3 ms of work).
const YIELD_EVERY: usize = 64;

fn is_row_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch | ErrorCode::TooBig)
    )
}
