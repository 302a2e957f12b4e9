//! Rate limiting of the log lines that network input causes. Every line a packet, a frame or
//! a connection can provoke goes through a [`RateLimitedLog`], so that a flood — from one
//! source or from thousands of spoofed ones — costs O(1) per packet and leaves a bounded
//! number of lines in the journal.
//!
//! Must not: keep state per source (a spoofed flood would grow it or force scans of it), or
//! read the clock inside the decision ([`Window::note`] takes the time as a parameter).

use std::fmt;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::{debug, warn};

/// Lines with their source logged per kind in one interval; further events of the kind are
/// only counted, and the count goes out in one summary line after the interval.
pub const LINES_PER_INTERVAL: usize = 4;

/// How loud a rate-limited line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Warn,
    Debug,
}

/// What to do with one event.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The event's own line is written.
    pub log: bool,
    /// The interval before this event ended with this many events unlogged: write one
    /// summary line first.
    pub summary: Option<u64>,
}

/// The state of one kind of line: a fixed-size record of the current interval, so a note
/// costs the same whatever the number of sources.
#[derive(Debug)]
pub struct Window {
    started: Instant,
    /// Sources logged in this interval (at most [`LINES_PER_INTERVAL`]).
    logged: [Option<IpAddr>; LINES_PER_INTERVAL],
    /// Events of this interval that were not logged.
    suppressed: u64,
}

impl Window {
    pub fn new(now: Instant) -> Window {
        Window {
            started: now,
            logged: [None; LINES_PER_INTERVAL],
            suppressed: 0,
        }
    }

    /// Decides about one event from `source` at `now`. Within an interval a source is logged
    /// once and at most [`LINES_PER_INTERVAL`] sources are; everything else is counted. The
    /// first event after an interval opens the next one and carries the count of the last.
    pub fn note(&mut self, source: IpAddr, now: Instant, interval: Duration) -> Verdict {
        let mut summary = None;
        if now.saturating_duration_since(self.started) >= interval {
            if self.suppressed > 0 {
                summary = Some(self.suppressed);
            }
            *self = Window::new(now);
        }
        if self.logged.contains(&Some(source)) {
            self.suppressed += 1;
            return Verdict {
                log: false,
                summary,
            };
        }
        match self.logged.iter_mut().find(|s| s.is_none()) {
            Some(free) => {
                *free = Some(source);
                Verdict { log: true, summary }
            }
            None => {
                self.suppressed += 1;
                Verdict {
                    log: false,
                    summary,
                }
            }
        }
    }
}

/// Log lines about network input: per kind, at most [`LINES_PER_INTERVAL`] lines (one per
/// source) every interval, and one summary line with the number left out.
pub struct RateLimitedLog {
    interval: Duration,
    /// One window per kind; the kinds are the few call sites, so the scan is short and its
    /// length does not depend on the traffic.
    kinds: Mutex<Vec<(&'static str, Window)>>,
}

impl RateLimitedLog {
    pub fn new(interval: Duration) -> RateLimitedLog {
        RateLimitedLog {
            interval,
            kinds: Mutex::new(Vec::new()),
        }
    }

    /// A warning caused by network input from `source`.
    pub fn warn(&self, kind: &'static str, source: IpAddr, message: fmt::Arguments<'_>) {
        self.log(Level::Warn, kind, source, message);
    }

    /// A debug line caused by network input: off at the default level, but a flood must not
    /// bury a journal that is being debugged either.
    pub fn debug(&self, kind: &'static str, source: IpAddr, message: fmt::Arguments<'_>) {
        self.log(Level::Debug, kind, source, message);
    }

    pub fn log(&self, level: Level, kind: &'static str, source: IpAddr, message: fmt::Arguments) {
        let now = Instant::now();
        let verdict = {
            let Ok(mut kinds) = self.kinds.lock() else {
                return;
            };
            let index = match kinds.iter().position(|(k, _)| *k == kind) {
                Some(i) => i,
                None => {
                    kinds.push((kind, Window::new(now)));
                    kinds.len() - 1
                }
            };
            match kinds.get_mut(index) {
                Some((_, window)) => window.note(source, now, self.interval),
                None => return,
            }
        };
        // Written outside the lock: a slow journal must not serialise the listeners.
        let secs = self.interval.as_secs();
        if let Some(n) = verdict.summary {
            match level {
                Level::Warn => warn!(
                    kind,
                    suppressed = n,
                    "{n} more lines of this kind were not logged in {secs} s (rate limit)"
                ),
                Level::Debug => debug!(
                    kind,
                    suppressed = n,
                    "{n} more lines of this kind were not logged in {secs} s (rate limit)"
                ),
            }
        }
        if verdict.log {
            match level {
                Level::Warn => warn!(kind, source = %source, "{message}"),
                Level::Debug => debug!(kind, source = %source, "{message}"),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(0x7f00_0000 | n))
    }

    #[test]
    fn one_line_per_source_and_a_few_sources_per_interval() {
        let t0 = Instant::now();
        let interval = Duration::from_secs(10);
        let mut w = Window::new(t0);
        let mut logged = 0;
        for i in 0..10_000u32 {
            let v = w.note(
                ip(i % 8000),
                t0 + Duration::from_micros(u64::from(i)),
                interval,
            );
            assert_eq!(v.summary, None);
            logged += usize::from(v.log);
        }
        assert_eq!(logged, LINES_PER_INTERVAL);
        // the same source twice in one interval: once
        let mut w = Window::new(t0);
        assert!(w.note(ip(1), t0, interval).log);
        assert!(!w.note(ip(1), t0 + Duration::from_secs(9), interval).log);
    }

    #[test]
    fn the_next_interval_starts_with_the_count_of_the_last() {
        let t0 = Instant::now();
        let interval = Duration::from_secs(10);
        let mut w = Window::new(t0);
        for i in 0..100 {
            w.note(ip(i), t0, interval);
        }
        let v = w.note(ip(1), t0 + interval, interval);
        assert_eq!(
            v,
            Verdict {
                log: true,
                summary: Some(100 - LINES_PER_INTERVAL as u64)
            }
        );
        // nothing suppressed: no summary line
        let v = w.note(ip(2), t0 + 3 * interval, interval);
        assert_eq!(
            v,
            Verdict {
                log: true,
                summary: None
            }
        );
    }

    #[test]
    fn kinds_are_limited_apart() {
        let log = RateLimitedLog::new(Duration::from_secs(10));
        for i in 0..1000 {
            log.warn("a", ip(i), format_args!("a {i}"));
            log.debug("b", ip(i), format_args!("b {i}"));
        }
        let kinds = log.kinds.lock().unwrap();
        assert_eq!(kinds.len(), 2);
        for (_, w) in kinds.iter() {
            assert_eq!(w.suppressed, 1000 - LINES_PER_INTERVAL as u64);
        }
    }
}
