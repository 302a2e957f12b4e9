//! The writer thread's loop: wait for jobs or the next deadline, take what is queued, and
//! hand it to the batch; then the timers' work. Each round reads the clock once, after its
//! wait, and every decision of the round is taken with that instant.
//!
//! It owns the order of a round, not what a commit does (`batch`), which deadlines are due
//! (`timers`) or what housekeeping deletes (`housekeeping`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::batch::{Pending, answer};
use super::housekeeping::RetentionRun;
use super::queues::{Drained, Receivers};
use super::space::SpaceLimits;
use super::timers::{Timer, TimerTable};
use super::{Job, Row, Shared, Tuning, WriterConfig};
use crate::sched;
use crate::store::StoreError;
use crate::store::auth_log::LogIds;
use crate::store::erase::erase_user;

pub(super) struct Writer {
    pub(super) conn: Connection,
    /// The next auth log ids (kept across batches: asking the database for each row would
    /// cost what the time index cost).
    pub(super) log_ids: LogIds,
    /// `synchronous=FULL` in force (the connection opens with it).
    pub(super) sync_full: bool,
    rx: Receivers,
    pub(super) shared: Arc<Shared>,
    batch_max: usize,
    pub(super) queue_capacity: usize,
    pub(super) stale_grace: Duration,
    pub(super) tuning: Tuning,
    /// Linger, stale sessions, retention and back-off.
    pub(super) timers: TimerTable,
    pub(super) retention_run: Option<RetentionRun>,
    /// The next back-off after a failed write; doubles up to `Tuning::backoff_max`.
    pub(super) backoff: Duration,
    /// Rows lost since the last flush answered (reported to that flush).
    pub(super) lost_since_flush: u64,
    /// Rows lost in the current outage (logged when it ends).
    pub(super) lost_in_outage: u64,
    /// The thread's scheduling weight, when it may move between background and normal.
    pub(super) priority: Option<sched::Background>,
    /// When sightings are refused for space, and where the state directory is.
    pub(super) space: SpaceLimits,
    pub(super) state_dir: PathBuf,
    /// The size guard could not measure once (said once).
    pub(super) space_unreadable_logged: bool,
}

impl Writer {
    /// A writer whose stale sessions and retention are due at `now` (the start).
    pub(super) fn new(
        conn: Connection,
        log_ids: LogIds,
        rx: Receivers,
        shared: Arc<Shared>,
        cfg: &WriterConfig,
        tuning: Tuning,
        now: Instant,
    ) -> Writer {
        let mut timers = TimerTable::default();
        timers.set(Timer::Stale, now);
        timers.set(Timer::Retention, now);
        timers.set(Timer::Space, now);
        Writer {
            conn,
            log_ids,
            sync_full: true,
            rx,
            shared,
            batch_max: cfg.batch_max.max(1),
            queue_capacity: cfg.queue_capacity,
            stale_grace: cfg.stale_grace,
            backoff: tuning.backoff_min,
            tuning,
            timers,
            retention_run: None,
            lost_since_flush: 0,
            lost_in_outage: 0,
            priority: None,
            space: cfg.space,
            state_dir: cfg
                .db_path
                .parent()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(".")),
            space_unreadable_logged: false,
        }
    }

    pub(super) fn run(mut self) -> Result<(), StoreError> {
        self.shared
            .thread_id
            .store(sched::thread_id(), Ordering::Relaxed);
        self.priority = Self::background_allowed();
        self.adjust_priority();
        // Grows up to batch_max on demand; a huge batch_max must not allocate up front.
        let mut batch = Vec::with_capacity(self.batch_max.min(1024));
        let mut pending = Pending::default();
        loop {
            let timeout = self.sleep_until_next_deadline();
            if self.timers.is_set(Timer::Linger) {
                // Rows are waiting for their commit: sleep until it is due, or until a
                // handle wakes the thread (a job that must not wait, or a long queue).
                std::thread::park_timeout(timeout);
            } else {
                // Nothing waits for a commit: sleep until the next job or timer.
                if self.shared.depths.going_idle() {
                    std::thread::park_timeout(timeout);
                }
                self.shared.depths.awake();
            }
            let budget = self.batch_max.saturating_sub(pending.rows.len()).max(1);
            let drained = self
                .rx
                .drain(&self.shared.depths, &mut batch, &mut pending.rows, budget);
            if drained == Drained::Closed && batch.is_empty() {
                // Every handle is gone and the queues are empty: nothing more can come.
                self.commit(&mut pending, Instant::now());
                return Ok(());
            }
            // The round's instant: every decision of the round is taken with it.
            let now = Instant::now();
            self.adjust_priority();
            if self.process(&mut batch, &mut pending, now) {
                return self.stop();
            }
            self.shared
                .held_rows
                .store(pending.rows.len(), Ordering::Relaxed);
            self.housekeeping(now);
        }
    }

    /// How long the thread may wait for a job before a timer fires. The sleep needs a
    /// duration, so this reads the clock too; the round's own instant is read after the wait.
    fn sleep_until_next_deadline(&self) -> Duration {
        match self.timers.next_deadline() {
            Some(at) => at.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        }
    }

    /// Handles one drained batch. Returns true on shutdown.
    fn process(&mut self, batch: &mut Vec<Job>, pending: &mut Pending, now: Instant) -> bool {
        let mut stop = false;
        let mut enrolled = false;
        for job in batch.drain(..) {
            if stop {
                // Queued behind the shutdown: dropped, like rows sent after it.
                self.discard(job);
                continue;
            }
            match job {
                Job::Accounting(b) => {
                    let (rec, done) = *b;
                    pending.accounting.push(rec);
                    pending.done.push(done);
                }
                Job::Enrol(e) => {
                    pending.rows.push(Row::Enrol(e));
                    enrolled = true;
                }
                Job::Erase(job) => {
                    self.rx
                        .rows_before_barrier(&self.shared.depths, &mut pending.rows);
                    self.commit(pending, now);
                    let result = erase_user(&mut self.conn, job.user.as_deref(), &job.macs);
                    if let Ok(counts) = &result {
                        tracing::info!(rows = counts.total(), "erased a person's runtime rows");
                    }
                    answer(job.done, result);
                }
                Job::Flush(done) => {
                    self.rx
                        .rows_before_barrier(&self.shared.depths, &mut pending.rows);
                    self.commit(pending, now);
                    // The flusher may have given up waiting; nothing to do then.
                    let _ = done.send(self.take_flush_result());
                }
                Job::RunRetention => {
                    self.retention_run = None;
                    self.timers.set(Timer::Retention, now);
                }
                Job::Shutdown => {
                    self.rx
                        .rows_before_barrier(&self.shared.depths, &mut pending.rows);
                    self.commit(pending, now);
                    stop = true;
                }
            }
        }
        if !pending.rows.is_empty() && !self.timers.is_set(Timer::Linger) {
            self.timers.set(Timer::Linger, now + self.tuning.log_linger);
        }
        // Accounting is answered only after its commit, so it goes at once (and takes the
        // waiting rows along); rows alone wait for company up to the linger.
        let due = self.timers.due(Timer::Linger, now);
        if stop
            || due
            || enrolled
            || !pending.accounting.is_empty()
            || pending.rows.len() >= self.batch_max
        {
            self.commit(pending, now);
        }
        stop
    }

    fn take_flush_result(&mut self) -> Result<(), StoreError> {
        match std::mem::take(&mut self.lost_since_flush) {
            0 => Ok(()),
            count => Err(StoreError::RowsLost { count }),
        }
    }

    /// After a shutdown: answers what is still queued, then closes the connection.
    fn stop(mut self) -> Result<(), StoreError> {
        while let Some(left) = self.rx.leftover(&self.shared.depths) {
            match left {
                Ok(job) => self.discard(job),
                Err(_row) => {
                    self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let result = self.take_flush_result();
        if let Err((_conn, e)) = self.conn.close() {
            return Err(e.into());
        }
        result
    }

    fn discard(&self, job: Job) {
        match job {
            Job::Accounting(b) => {
                self.shared
                    .accounting_refused
                    .fetch_add(1, Ordering::Relaxed);
                let (_, done) = *b;
                answer(done, Err(StoreError::ShuttingDown));
            }
            Job::Erase(job) => answer(job.done, Err(StoreError::ShuttingDown)),
            Job::Flush(done) => {
                let _ = done.send(Err(StoreError::ShuttingDown));
            }
            Job::Enrol(_) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Job::RunRetention | Job::Shutdown => {}
        }
    }
}
