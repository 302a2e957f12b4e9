//! When the receive thread answers: at once, or after a short wait for more requests to
//! answer with them. Owns that decision only; no I/O and no clock (the caller passes the
//! time of each batch).
//!
//! Why wait at all: a request that arrives alone costs one receive and one send system call
//! (about 4.5 µs of a core on the reference machine, more than deciding it). Under a steady
//! stream of requests arriving one by one, those calls filled the core at half of the rate
//! the same core answers in full batches, and every hiccup of the core then queued requests
//! for milliseconds. Waiting [`HOLD`] after a small batch (once nothing more is queued) lets
//! the next requests arrive, so they are received with one call and answered with one
//! segmented send: the core then has room to spare. At a school's usual rates, below
//! [`BUSY_FROM`] requests per second, no reply waits.

use std::time::{Duration, Instant};

/// How long the replies of a small batch wait for company once no request is queued.
pub const HOLD: Duration = Duration::from_micros(50);

/// Batches of this many datagrams or more are answered at once: the system calls are
/// already shared, and waiting would only slow a closed-loop client down.
pub const SMALL_BATCH: usize = 8;

/// Requests per second from which small batches wait (at this rate [`HOLD`] gathers two
/// more requests on average; below it the wait would mostly be for nothing).
pub const BUSY_FROM: u32 = 40_000;

/// The rate is counted over windows this long, so the decision follows the load within
/// a few milliseconds both ways.
pub const WINDOW: Duration = Duration::from_millis(10);

/// Requests counted in [`WINDOW`] at [`BUSY_FROM`] per second.
const BUSY_PER_WINDOW: u64 = BUSY_FROM as u64 * WINDOW.as_micros() as u64 / 1_000_000;

/// The receive thread's view of the recent request rate.
#[derive(Debug)]
pub struct Rounds {
    window_start: Instant,
    in_window: u64,
    busy: bool,
}

impl Rounds {
    pub fn new(now: Instant) -> Rounds {
        Rounds {
            window_start: now,
            in_window: 0,
            busy: false,
        }
    }

    /// Counts a batch of `received` datagrams taken at `at`, and says whether its replies
    /// should wait: take what else arrives, and once nothing is queued, wait [`HOLD`] once
    /// for more before answering them all.
    pub fn after_batch(&mut self, received: usize, at: Instant) -> bool {
        let elapsed = at.saturating_duration_since(self.window_start);
        if elapsed >= WINDOW {
            // A window that ran long (a quiet spell) counts at its real length.
            let per_window =
                self.in_window * WINDOW.as_nanos() as u64 / (elapsed.as_nanos() as u64).max(1);
            self.busy = per_window >= BUSY_PER_WINDOW;
            self.window_start = at;
            self.in_window = 0;
        }
        self.in_window += received as u64;
        self.busy && received < SMALL_BATCH
    }

    /// Counts datagrams taken while replies waited (they count towards the rate like any).
    pub fn also_received(&mut self, received: usize) {
        self.in_window += received as u64;
    }

    /// Whether the last full window saw at least [`BUSY_FROM`] requests per second.
    #[cfg(test)]
    pub fn busy(&self) -> bool {
        self.busy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const US: Duration = Duration::from_micros(1);

    /// A receive thread's view at its start, and that instant.
    fn fresh() -> (Rounds, Instant) {
        let t0 = Instant::now();
        (Rounds::new(t0), t0)
    }

    /// Feeds batches of `size` every `gap` for `span`; returns what the last batch was told.
    fn stream(
        rounds: &mut Rounds,
        t: &mut Instant,
        size: usize,
        gap: Duration,
        span: Duration,
    ) -> bool {
        let end = *t + span;
        let mut last = false;
        while *t < end {
            last = rounds.after_batch(size, *t);
            *t += gap;
        }
        last
    }

    #[test]
    fn a_quiet_server_answers_at_once() {
        let (mut r, mut t) = fresh();
        // 1000 requests per second, one at a time, for a second
        assert!(!stream(&mut r, &mut t, 1, MS, 1000 * MS));
        assert!(!r.busy());
    }

    #[test]
    fn a_steady_stream_of_single_requests_waits_for_company() {
        let (mut r, mut t) = fresh();
        // 100k requests per second, one every 10 µs
        stream(&mut r, &mut t, 1, 10 * US, 30 * MS);
        assert!(r.busy());
        assert!(r.after_batch(1, t));
        assert!(r.after_batch(SMALL_BATCH - 1, t));
    }

    #[test]
    fn full_batches_are_answered_at_once_even_when_busy() {
        let (mut r, mut t) = fresh();
        assert!(!stream(&mut r, &mut t, 32, 100 * US, 30 * MS));
        assert!(r.busy());
        assert!(!r.after_batch(SMALL_BATCH, t));
    }

    #[test]
    fn the_first_window_never_waits() {
        // Nothing is known yet: the first window's requests are answered at once, however
        // fast they come.
        let (mut r, t0) = fresh();
        let mut t = t0;
        let mut waited = false;
        while t < t0 + WINDOW {
            waited |= r.after_batch(1, t);
            t += US;
        }
        assert!(!waited);
    }

    #[test]
    fn the_threshold_is_the_configured_rate() {
        for (per_second, busy) in [(BUSY_FROM - 2_000, false), (BUSY_FROM + 2_000, true)] {
            let (mut r, mut t) = fresh();
            let gap = Duration::from_nanos(1_000_000_000 / u64::from(per_second));
            stream(&mut r, &mut t, 1, gap, 5 * WINDOW);
            assert_eq!(r.busy(), busy, "{per_second}/s");
        }
    }

    #[test]
    fn the_wait_ends_when_the_load_does() {
        let (mut r, mut t) = fresh();
        stream(&mut r, &mut t, 1, 10 * US, 30 * MS);
        assert!(r.busy());
        // then one request a second later: the long window counts at its real length
        t += 1000 * MS;
        assert!(!r.after_batch(1, t));
        assert!(!r.busy());
    }

    #[test]
    fn a_burst_after_a_quiet_spell_is_not_mistaken_for_a_stream() {
        let (mut r, t0) = fresh();
        // 500 requests within the first 10 µs of a 5-second window
        for i in 0..500 {
            r.after_batch(1, t0 + Duration::from_nanos(i * 20));
        }
        assert!(!r.after_batch(1, t0 + 5000 * MS));
        assert!(!r.busy(), "500 requests in 5 s is 100/s");
    }
}
