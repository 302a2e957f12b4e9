//! Failed password checks (PAP, TTLS/PAP, PEAP-MSCHAPv2), counted per account and per
//! (account, client): a warning when one account fails too often, and a slowdown of the
//! client the failures come from, which the account's owner on another client never feels.
//!
//! What it owns: two fixed-size tables keyed by a keyed hash of the attempted name (and of
//! the client's name), with the failures of a window of `WINDOW`, and the growing pause
//! after `slowdown` failures.
//! What it must not do: keep a name (an attacker's garbage or a pupil's typo) in memory or
//! anywhere else — the tables hold 64-bit hashes under a key drawn at start; grow with the
//! number of names tried (a flood of made-up names only takes the slots of entries with
//! fewer failures); read the clock (time is a parameter); or treat known and unknown names
//! differently (the answers must not tell which accounts exist).

use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::time::{Duration, Instant};

/// Failures are counted in windows of this length: an account's count starts afresh when
/// its window is over, a client's pause for an account ends for good after this long
/// without a failure.
pub const WINDOW: Duration = Duration::from_secs(600);
/// The first pause, after `slowdown` failures; each further failure doubles it.
pub const FIRST_PAUSE: Duration = Duration::from_secs(2);
/// The longest pause: a guesser behind one client gets about one try in this time.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(300);

/// Sets of the tables; each holds `WAYS` entries (4096 × 4 = 16,384 entries of 48 bytes,
/// 768 KiB per table).
const SETS: usize = 4096;
const WAYS: usize = 4;

/// The thresholds, from `[server]` (read per request: a reload applies at once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Failures of one account within a window that raise a warning.
    pub warning: u32,
    /// Failures of one account from one client after which that client's attempts for it
    /// pause.
    pub slowdown: u32,
}

/// What one failure led to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failed {
    /// The account's failures in its current window, this one included.
    pub account_failures: u32,
    /// This failure reached the warning threshold (once per window and account).
    pub warn: bool,
    /// The client's attempts for this account pause until then.
    pub paused_until: Option<Instant>,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    tag: u64,
    failures: u32,
    /// Account table: when the window began. Pair table: the last failure.
    since: Instant,
    paused_until: Option<Instant>,
}

/// A set-associative table of failure counts: O(1) per lookup, fixed memory.
#[derive(Debug)]
struct Table {
    sets: Vec<[Option<Entry>; WAYS]>,
}

impl Table {
    fn new() -> Table {
        Table {
            sets: vec![[None; WAYS]; SETS],
        }
    }

    fn set(&mut self, tag: u64) -> Option<&mut [Option<Entry>; WAYS]> {
        self.sets.get_mut((tag % SETS as u64) as usize)
    }

    fn get(&self, tag: u64) -> Option<&Entry> {
        self.sets
            .get((tag % SETS as u64) as usize)?
            .iter()
            .flatten()
            .find(|e| e.tag == tag)
    }

    /// The entry of `tag`, made if absent. A new entry takes a vacant slot, else an
    /// outdated one, else the one with the fewest failures (the oldest of those): made-up
    /// names push out each other, not an entry a guesser has built up.
    fn entry(
        &mut self,
        tag: u64,
        now: Instant,
        outdated: impl Fn(&Entry) -> bool,
    ) -> Option<&mut Entry> {
        let set = self.set(tag)?;
        let pos = set
            .iter()
            .position(|e| e.is_some_and(|e| e.tag == tag))
            .or_else(|| set.iter().position(Option::is_none))
            .or_else(|| set.iter().position(|e| e.is_some_and(|e| outdated(&e))))
            .or_else(|| {
                let weakest = set
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, e)| e.map(|e| (e.failures, e.since)));
                weakest.map(|(i, _)| i)
            })?;
        let slot = set.get_mut(pos)?;
        if slot.is_none_or(|e| e.tag != tag) {
            *slot = Some(Entry {
                tag,
                failures: 0,
                since: now,
                paused_until: None,
            });
        }
        slot.as_mut()
    }

    fn remove(&mut self, tag: u64) {
        if let Some(set) = self.set(tag) {
            for slot in set.iter_mut() {
                if slot.is_some_and(|e| e.tag == tag) {
                    *slot = None;
                }
            }
        }
    }
}

/// The failures of every account and of every (account, client).
#[derive(Debug)]
pub struct FailureBook {
    keys: RandomState,
    accounts: Table,
    pairs: Table,
}

impl Default for FailureBook {
    fn default() -> Self {
        FailureBook::new()
    }
}

impl FailureBook {
    pub fn new() -> FailureBook {
        FailureBook {
            keys: RandomState::new(),
            accounts: Table::new(),
            pairs: Table::new(),
        }
    }

    fn account_tag(&self, user: &[u8]) -> u64 {
        let mut h = self.keys.build_hasher();
        0u8.hash(&mut h);
        user.hash(&mut h);
        h.finish()
    }

    fn pair_tag(&self, user: &[u8], client: &str) -> u64 {
        let mut h = self.keys.build_hasher();
        1u8.hash(&mut h);
        user.hash(&mut h);
        client.hash(&mut h);
        h.finish()
    }

    /// Until when `client`'s attempts for `user` pause; `None`: they may be checked now.
    pub fn paused(&self, user: &[u8], client: &str, now: Instant) -> Option<Instant> {
        let e = self.pairs.get(self.pair_tag(user, client))?;
        e.paused_until.filter(|until| *until > now)
    }

    /// A password check for `user` from `client` failed at `now`.
    pub fn failed(&mut self, user: &[u8], client: &str, now: Instant, limits: Limits) -> Failed {
        let account = self.account_tag(user);
        let outdated = |e: &Entry| now.saturating_duration_since(e.since) >= WINDOW;
        let Some(a) = self.accounts.entry(account, now, outdated) else {
            return Failed::default();
        };
        if now.saturating_duration_since(a.since) >= WINDOW {
            a.failures = 0;
            a.since = now;
        }
        a.failures = a.failures.saturating_add(1);
        let account_failures = a.failures;
        let warn = limits.warning > 0 && a.failures == limits.warning;

        let pair = self.pair_tag(user, client);
        let quiet = |e: &Entry| {
            now.saturating_duration_since(e.since) >= WINDOW
                && e.paused_until.is_none_or(|u| u <= now)
        };
        let Some(p) = self.pairs.entry(pair, now, quiet) else {
            return Failed {
                account_failures,
                warn,
                paused_until: None,
            };
        };
        if quiet(p) {
            p.failures = 0;
            p.paused_until = None;
        }
        p.failures = p.failures.saturating_add(1);
        p.since = now;
        p.paused_until = pause(p.failures, limits.slowdown).map(|d| now + d);
        Failed {
            account_failures,
            warn,
            paused_until: p.paused_until,
        }
    }

    /// A password check for `user` from `client` succeeded: that client's failures for the
    /// account are forgotten (the owner proved the password). The account's count stays,
    /// so guessing from elsewhere is still seen.
    pub fn succeeded(&mut self, user: &[u8], client: &str) {
        let tag = self.pair_tag(user, client);
        self.pairs.remove(tag);
    }
}

/// The pause after the `failures`-th failure of one (account, client): none below
/// `slowdown` (0: never), then `FIRST_PAUSE`, doubling up to `LONGEST_PAUSE`.
pub fn pause(failures: u32, slowdown: u32) -> Option<Duration> {
    if slowdown == 0 || failures < slowdown {
        return None;
    }
    let doublings = (failures - slowdown).min(16);
    Some(
        FIRST_PAUSE
            .saturating_mul(1u32 << doublings)
            .min(LONGEST_PAUSE),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        warning: 10,
        slowdown: 5,
    };

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn pauses_grow_and_are_capped() {
        let cases = [
            (1, 5, None),
            (4, 5, None),
            (5, 5, Some(2)),
            (6, 5, Some(4)),
            (7, 5, Some(8)),
            (12, 5, Some(256)),
            (13, 5, Some(300)),
            (u32::MAX, 5, Some(300)),
            (100, 0, None),
            (1, 1, Some(2)),
        ];
        for (failures, slowdown, want) in cases {
            assert_eq!(
                pause(failures, slowdown),
                want.map(secs),
                "{failures} failures, slowdown at {slowdown}"
            );
        }
    }

    #[test]
    fn the_guessing_client_pauses_the_owner_elsewhere_does_not() {
        let t0 = Instant::now();
        let mut b = FailureBook::new();
        for i in 0..4 {
            let f = b.failed(b"max.muster", "pupil-ap", t0 + secs(i), LIMITS);
            assert_eq!(f.paused_until, None);
        }
        let f = b.failed(b"max.muster", "pupil-ap", t0 + secs(4), LIMITS);
        assert_eq!(f.paused_until, Some(t0 + secs(6)));
        assert_eq!(
            b.paused(b"max.muster", "pupil-ap", t0 + secs(5)),
            Some(t0 + secs(6))
        );
        assert_eq!(b.paused(b"max.muster", "pupil-ap", t0 + secs(6)), None);
        // the owner, on another client; another account, on the same client
        assert_eq!(b.paused(b"max.muster", "staff-switch", t0 + secs(5)), None);
        assert_eq!(b.paused(b"erika.lehrer", "pupil-ap", t0 + secs(5)), None);
        // the next failure after the pause doubles it
        let f = b.failed(b"max.muster", "pupil-ap", t0 + secs(6), LIMITS);
        assert_eq!(f.paused_until, Some(t0 + secs(10)));
        // the owner's success elsewhere leaves the guesser paused
        b.succeeded(b"max.muster", "staff-switch");
        assert!(b.paused(b"max.muster", "pupil-ap", t0 + secs(7)).is_some());
        // a success from the paused client itself (after the pause) starts it afresh
        b.succeeded(b"max.muster", "pupil-ap");
        assert_eq!(b.paused(b"max.muster", "pupil-ap", t0 + secs(7)), None);
        let f = b.failed(b"max.muster", "pupil-ap", t0 + secs(11), LIMITS);
        assert_eq!(f.paused_until, None);
    }

    #[test]
    fn quiet_for_a_window_starts_afresh() {
        let t0 = Instant::now();
        let mut b = FailureBook::new();
        for i in 0..6 {
            b.failed(b"u", "c", t0 + secs(i), LIMITS);
        }
        let later = t0 + secs(5) + WINDOW;
        let f = b.failed(b"u", "c", later, LIMITS);
        assert_eq!(f.paused_until, None);
        assert_eq!(f.account_failures, 1);
    }

    #[test]
    fn the_warning_comes_once_per_window_from_all_clients_together() {
        let t0 = Instant::now();
        let mut b = FailureBook::new();
        let mut warnings = Vec::new();
        for i in 0..25u32 {
            let client = ["a", "b", "c"][i as usize % 3];
            let f = b.failed(b"erika.lehrer", client, t0 + secs(u64::from(i)), LIMITS);
            if f.warn {
                warnings.push(f.account_failures);
            }
        }
        assert_eq!(warnings, [10]);
        // the next window warns again
        let next: Vec<bool> = (0..10)
            .map(|i| {
                b.failed(b"erika.lehrer", "a", t0 + WINDOW + secs(30 + i), LIMITS)
                    .warn
            })
            .collect();
        assert_eq!(next.iter().position(|w| *w), Some(9));
        let off = Limits {
            warning: 0,
            slowdown: 0,
        };
        let mut quiet = FailureBook::new();
        assert!((0..50).all(|i| {
            let f = quiet.failed(b"x", "a", t0 + secs(i), off);
            !f.warn && f.paused_until.is_none()
        }));
    }

    #[test]
    fn made_up_names_do_not_push_out_a_guesser_s_record() {
        let t0 = Instant::now();
        let mut b = FailureBook::new();
        for i in 0..8 {
            b.failed(b"max.muster", "pupil-ap", t0 + secs(i), LIMITS);
        }
        // 200,000 made-up names from the same client: memory stays fixed, and the pause
        // holds
        for i in 0..200_000u32 {
            b.failed(
                format!("guess-{i}").as_bytes(),
                "pupil-ap",
                t0 + secs(8),
                LIMITS,
            );
        }
        assert!(b.paused(b"max.muster", "pupil-ap", t0 + secs(9)).is_some());
        assert_eq!(b.pairs.sets.len(), SETS);
        assert_eq!(b.accounts.sets.len(), SETS);
        assert!(std::mem::size_of::<Option<Entry>>() <= 48);
    }
}
