//! The writer's work on timers: closing stale accounting sessions, and deleting rows past
//! retention one chunk per round (so that a long run never holds the batches up). What counts
//! as stale or expired is decided in `accounting` and `retention`, with the wall clock passed
//! in; this file only says when, with the round's instant from the loop.

use std::sync::atomic::Ordering;
use std::time::Instant;

use jiff::Timestamp;

use super::run::Writer;
use super::space::{read_space, space_low};
use super::timers::Timer;
use crate::store::accounting;
use crate::store::retention::{Expiring, delete_expired_chunk, retention_cutoff};

/// The tables a retention run visits, in order; the audit log last, with its own cutoff.
pub(super) const RETENTION_ORDER: [Expiring; 7] = [
    Expiring::AuthLog,
    Expiring::Sessions,
    Expiring::SightingHistory,
    Expiring::Sightings,
    Expiring::RogueServers,
    Expiring::Disconnects,
    Expiring::Audit,
];

/// A retention run in progress: chunks are deleted between batches until none are left.
pub(super) struct RetentionRun {
    cutoff: Timestamp,
    audit_cutoff: Timestamp,
    /// Index into `RETENTION_ORDER` of the table being cleaned.
    table: usize,
    deleted: usize,
    /// When the next run starts, once this one is over.
    next_run: Instant,
}

impl Writer {
    /// The timers' work of a round, at `now`: the size guard, stale sessions, then
    /// retention. A failure of the second starts a back-off that holds the third too.
    pub(super) fn housekeeping(&mut self, now: Instant) {
        if self.timers.due(Timer::Space, now) {
            self.timers
                .set(Timer::Space, now + self.tuning.space_interval);
            self.check_space();
        }
        if self.timers.due(Timer::Stale, now) {
            self.close_stale(now);
        }
        if self.timers.due(Timer::Retention, now) {
            self.retention_step(now);
        }
    }

    fn close_stale(&mut self, now: Instant) {
        self.timers
            .set(Timer::Stale, now + self.tuning.stale_interval);
        match accounting::close_stale(&self.conn, Timestamp::now(), self.stale_grace) {
            Ok(n) => {
                if n > 0 {
                    self.shared
                        .sessions_closed_stale
                        .fetch_add(n as u64, Ordering::Relaxed);
                    tracing::info!(sessions = n, "closed stale accounting sessions");
                }
                self.writable_again();
            }
            Err(e) => {
                self.shared.failed_batches.fetch_add(1, Ordering::Relaxed);
                self.unwritable(now, &e);
            }
        }
    }

    /// Starts a retention run if none is in progress, and deletes one chunk of it. The
    /// retention timer stays due while the run lasts and is set to the next run at its end.
    fn retention_step(&mut self, now: Instant) {
        let run = match &mut self.retention_run {
            Some(run) => run,
            None => {
                let days = self.shared.retention_days.load(Ordering::Relaxed);
                let audit_days = self.shared.audit_retention_days.load(Ordering::Relaxed);
                let wall = Timestamp::now();
                self.retention_run.insert(RetentionRun {
                    cutoff: retention_cutoff(wall, days),
                    audit_cutoff: retention_cutoff(wall, audit_days),
                    table: 0,
                    deleted: 0,
                    next_run: now + self.tuning.retention_interval,
                })
            }
        };
        let Some(&table) = RETENTION_ORDER.get(run.table) else {
            let next_run = run.next_run;
            self.end_retention_run(next_run);
            return;
        };
        let cutoff = if table == Expiring::Audit {
            run.audit_cutoff
        } else {
            run.cutoff
        };
        match delete_expired_chunk(&self.conn, table, cutoff, self.tuning.retention_chunk) {
            Ok(n) => {
                run.deleted += n;
                if n < self.tuning.retention_chunk {
                    run.table += 1;
                }
                if run.table >= RETENTION_ORDER.len() {
                    if run.deleted > 0 {
                        tracing::info!(
                            rows = run.deleted,
                            cutoff = %run.cutoff,
                            "deleted rows past the retention period"
                        );
                    }
                    let next_run = run.next_run;
                    self.end_retention_run(next_run);
                }
                self.writable_again();
            }
            // The run stays in progress and resumes after the back-off.
            Err(e) => {
                self.shared.failed_batches.fetch_add(1, Ordering::Relaxed);
                self.unwritable(now, &e);
            }
        }
    }

    /// Measures the room left and refuses sightings (or takes them again) as it says;
    /// logs each change once.
    fn check_space(&mut self) {
        let reading = match read_space(&self.conn, &self.state_dir) {
            Ok(r) => r,
            Err(e) => {
                if !self.space_unreadable_logged {
                    tracing::warn!(error = %e, "the size guard cannot measure the state directory; sightings are not limited by space");
                    self.space_unreadable_logged = true;
                }
                return;
            }
        };
        let was = self.shared.space_low.load(Ordering::Relaxed);
        let low = space_low(self.space, reading, was);
        if low == was {
            return;
        }
        self.shared.space_low.store(low, Ordering::Relaxed);
        let free_mib = reading.free >> 20;
        let database_mib = reading.database >> 20;
        if low {
            tracing::warn!(
                free_mib,
                database_mib,
                min_free_mib = self.space.min_free >> 20,
                max_database_mib = self.space.max_database.map(|b| b >> 20),
                "the state directory is short of space (server.min_free_space or \
                 server.max_database_size): new DHCP sightings are refused until there is \
                 room again; accounting and the auth log are still written"
            );
        } else {
            tracing::info!(
                free_mib,
                database_mib,
                sightings_refused = self.shared.sightings_refused.load(Ordering::Relaxed),
                "the state directory has room again: DHCP sightings are written again"
            );
        }
    }

    fn end_retention_run(&mut self, next_run: Instant) {
        self.retention_run = None;
        self.timers.set(Timer::Retention, next_run);
    }
}
