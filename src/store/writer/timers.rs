//! The writer's deadlines as a pure table: when lingering log rows must commit, when stale
//! sessions are next closed, when retention work is next due, and until when a failed write
//! keeps the writer off the disk. The table never reads the clock: the loop reads it once per
//! round and asks what is due at that instant, and how long it may sleep.
//!
//! One rule lives here because every deadline obeys it: while the writer backs off after a
//! failed write, the timers whose work writes (stale sessions, retention) wait for the end of
//! the back-off instead of firing into it, so an outage neither retries early nor keeps the
//! thread awake.

use std::time::Instant;

/// One of the writer's deadlines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Timer {
    /// Log rows are waiting for company; their transaction commits at the latest then.
    Linger,
    /// Open accounting sessions are next checked for staleness.
    Stale,
    /// Retention work is next due: the start of a run, or (during a run) its next chunk.
    Retention,
    /// The end of the back-off after a failed write. Set from the failure until the next
    /// write succeeds, even once its deadline has passed.
    Backoff,
    /// The free space and the database's size are next measured (the size guard).
    Space,
}

impl Timer {
    const COUNT: usize = 5;

    fn index(self) -> usize {
        match self {
            Timer::Linger => 0,
            Timer::Stale => 1,
            Timer::Retention => 2,
            Timer::Backoff => 3,
            Timer::Space => 4,
        }
    }

    /// Whether the timer's work writes to the database, and so waits out a back-off.
    fn writes(self) -> bool {
        matches!(self, Timer::Stale | Timer::Retention)
    }
}

/// The timers with work to do when they fire; the back-off only holds others back. The
/// size guard only reads, so an outage does not hold it back (a full disk is the outage it
/// must notice).
const WORK: [Timer; 4] = [Timer::Linger, Timer::Stale, Timer::Retention, Timer::Space];

/// When each timer fires, if it is set.
#[derive(Clone, Debug, Default)]
pub(super) struct TimerTable {
    deadlines: [Option<Instant>; Timer::COUNT],
}

impl TimerTable {
    /// Sets `timer` to fire at `at`, replacing its previous deadline.
    pub(super) fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer.index()] = Some(at);
    }

    /// Stops `timer`; true if it was set.
    pub(super) fn stop(&mut self, timer: Timer) -> bool {
        self.deadlines[timer.index()].take().is_some()
    }

    pub(super) fn is_set(&self, timer: Timer) -> bool {
        self.deadlines[timer.index()].is_some()
    }

    /// Whether a back-off is in force at `now`: nothing may touch the disk.
    pub(super) fn backing_off(&self, now: Instant) -> bool {
        self.deadlines[Timer::Backoff.index()].is_some_and(|until| now < until)
    }

    /// When `timer` can fire: its deadline, held back to the end of a back-off if its work
    /// writes.
    fn fires_at(&self, timer: Timer) -> Option<Instant> {
        let at = self.deadlines[timer.index()]?;
        match self.deadlines[Timer::Backoff.index()] {
            Some(until) if timer.writes() => Some(at.max(until)),
            _ => Some(at),
        }
    }

    /// Whether `timer` fires at `now`.
    pub(super) fn due(&self, timer: Timer, now: Instant) -> bool {
        self.fires_at(timer).is_some_and(|at| at <= now)
    }

    /// The earliest instant at which a timer with work fires (None: none is set). The loop
    /// may sleep until then unless a job arrives.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        WORK.iter().filter_map(|&t| self.fires_at(t)).min()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn an_empty_table_has_nothing_due_and_no_deadline() {
        let t0 = Instant::now();
        let table = TimerTable::default();
        assert_eq!(table.next_deadline(), None);
        for timer in [
            Timer::Linger,
            Timer::Stale,
            Timer::Retention,
            Timer::Backoff,
            Timer::Space,
        ] {
            assert!(!table.due(timer, t0 + ms(1_000_000)), "{timer:?}");
            assert!(!table.is_set(timer));
        }
        assert!(!table.backing_off(t0));
    }

    #[test]
    fn a_timer_is_due_from_its_deadline_on() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::Linger, t0 + ms(100));
        assert!(!table.due(Timer::Linger, t0));
        assert!(!table.due(Timer::Linger, t0 + ms(99)));
        assert!(
            table.due(Timer::Linger, t0 + ms(100)),
            "due at the deadline"
        );
        assert!(table.due(Timer::Linger, t0 + ms(500)), "and stays due");
        assert!(!table.due(Timer::Stale, t0 + ms(500)), "the others are not");
    }

    #[test]
    fn set_replaces_and_stop_clears() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::Stale, t0 + ms(10));
        table.set(Timer::Stale, t0 + ms(60_000));
        assert!(!table.due(Timer::Stale, t0 + ms(10)));
        assert_eq!(table.next_deadline(), Some(t0 + ms(60_000)));
        assert!(table.stop(Timer::Stale));
        assert!(!table.stop(Timer::Stale), "already stopped");
        assert!(!table.due(Timer::Stale, t0 + ms(120_000)));
        assert_eq!(table.next_deadline(), None);
    }

    #[test]
    fn the_next_deadline_is_the_earliest_of_the_work_timers() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::Stale, t0 + ms(60_000));
        table.set(Timer::Retention, t0 + ms(86_400_000));
        assert_eq!(table.next_deadline(), Some(t0 + ms(60_000)));
        table.set(Timer::Linger, t0 + ms(100));
        assert_eq!(table.next_deadline(), Some(t0 + ms(100)));
        table.stop(Timer::Linger);
        table.set(Timer::Retention, t0);
        assert_eq!(
            table.next_deadline(),
            Some(t0),
            "a deadline in the past stays the next"
        );
    }

    #[test]
    fn a_back_off_holds_the_writing_timers_but_not_the_linger() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::Linger, t0 + ms(100));
        table.set(Timer::Stale, t0 + ms(50));
        table.set(Timer::Retention, t0);
        table.set(Timer::Backoff, t0 + ms(1000));
        assert!(table.backing_off(t0 + ms(999)));
        // The linger still commits (the rows are counted as lost without a write).
        assert!(table.due(Timer::Linger, t0 + ms(100)));
        assert!(!table.due(Timer::Stale, t0 + ms(999)));
        assert!(!table.due(Timer::Retention, t0 + ms(999)));
        // Past due during the back-off, they do not pull the next wake-up forward.
        table.stop(Timer::Linger);
        assert_eq!(table.next_deadline(), Some(t0 + ms(1000)));
        // The back-off over (its timer stays set until a write succeeds), both fire.
        assert!(!table.backing_off(t0 + ms(1000)));
        assert!(table.due(Timer::Stale, t0 + ms(1000)));
        assert!(table.due(Timer::Retention, t0 + ms(1000)));
        // A deadline after the back-off is kept as it is.
        table.set(Timer::Stale, t0 + ms(60_000));
        assert_eq!(table.next_deadline(), Some(t0 + ms(1000)));
        assert!(!table.due(Timer::Stale, t0 + ms(1000)));
        table.set(Timer::Retention, t0 + ms(86_400_000));
        assert_eq!(table.next_deadline(), Some(t0 + ms(60_000)));
        assert!(table.stop(Timer::Backoff));
        assert!(!table.backing_off(t0));
    }

    #[test]
    fn the_back_off_alone_wakes_nobody() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::Backoff, t0 + ms(1000));
        assert_eq!(table.next_deadline(), None);
        assert!(table.due(Timer::Backoff, t0 + ms(1000)));
    }
}
