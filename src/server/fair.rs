//! The worker permits of password checks and EAP rounds, shared fairly between the RADIUS
//! clients: no client holds more than half of the pool while another client waits, so one
//! NAS (or one pupil guessing passwords behind it) cannot starve the logins of every other.
//!
//! What it owns: the count of permits each client holds, and which clients asked lately.
//! What it must not do: queue or block (a request without a permit is dropped and the NAS
//! retries; the receive thread never waits), read the clock (time is a parameter of the
//! decision), or keep state per source address (only configured clients reach it, so its
//! table is bounded by the config).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a client that asked for a permit counts as waiting. Longer than a NAS's
/// retransmission interval (typically 2–5 s): a request dropped for a full pool is retried
/// within it, and then finds the greedy client held at half.
pub const WAITING: Duration = Duration::from_secs(10);

/// The answer to a client asking for a permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    Granted,
    /// Every permit is held.
    Busy,
    /// Permits are free, but the client holds its half and another client waits for them.
    OverShare,
}

/// The pure bookkeeping: permits per client, the last two clients that asked.
#[derive(Debug)]
pub struct FairShare {
    size: u32,
    free: u32,
    held: HashMap<Arc<str>, u32>,
    /// The two clients that asked last, each with the time of its last ask, most recent
    /// first. Enough to answer in O(1) "did any client other than C ask lately?": if C is
    /// one of them the other is the latest other asker, else the first one is.
    recent: [Option<(Arc<str>, Instant)>; 2],
}

impl FairShare {
    /// A pool of `size` permits (at least one).
    pub fn new(size: u32) -> FairShare {
        let size = size.max(1);
        FairShare {
            size,
            free: size,
            held: HashMap::new(),
            recent: [None, None],
        }
    }

    /// The most one client may hold while another waits: half of the pool, at least one.
    pub fn share(&self) -> u32 {
        (self.size / 2).max(1)
    }

    /// `client` asks for a permit at `now`.
    pub fn take(&mut self, client: &Arc<str>, now: Instant) -> Take {
        self.asked(client, now);
        if self.free == 0 {
            return Take::Busy;
        }
        let held = self.held.get(client).copied().unwrap_or(0);
        if held >= self.share() && self.other_waiting(client, now) {
            return Take::OverShare;
        }
        self.free -= 1;
        *self.held.entry(client.clone()).or_insert(0) += 1;
        Take::Granted
    }

    /// `client` returns a permit it was granted.
    pub fn give_back(&mut self, client: &Arc<str>) {
        let Some(held) = self.held.get_mut(client) else {
            return;
        };
        *held = held.saturating_sub(1);
        if *held == 0 {
            // Gone from the table: a client removed by a reload leaves nothing behind.
            self.held.remove(client);
        }
        self.free = (self.free + 1).min(self.size);
    }

    /// Permits held now, by every client together.
    pub fn in_use(&self) -> u32 {
        self.size - self.free
    }

    fn asked(&mut self, client: &Arc<str>, now: Instant) {
        match &mut self.recent {
            [Some((c, t)), _] if c == client => *t = now,
            [first, second] => {
                *second = first.take();
                *first = Some((client.clone(), now));
            }
        }
    }

    fn other_waiting(&self, client: &Arc<str>, now: Instant) -> bool {
        self.recent
            .iter()
            .flatten()
            .any(|(c, t)| c != client && now.saturating_duration_since(*t) < WAITING)
    }
}

/// The pool the auth sockets and the worker threads share.
#[derive(Debug)]
pub struct FairPool {
    share: Mutex<FairShare>,
}

/// A granted permit; returned to the pool when dropped.
#[derive(Debug)]
pub struct Permit {
    pool: Arc<FairPool>,
    client: Arc<str>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut s) = self.pool.share.lock() {
            s.give_back(&self.client);
        }
    }
}

impl FairPool {
    pub fn new(size: u32) -> Arc<FairPool> {
        Arc::new(FairPool {
            share: Mutex::new(FairShare::new(size)),
        })
    }

    /// A permit for `client`, or why not.
    pub fn take(self: &Arc<FairPool>, client: &Arc<str>, now: Instant) -> Result<Permit, Take> {
        let Ok(mut s) = self.share.lock() else {
            return Err(Take::Busy);
        };
        match s.take(client, now) {
            Take::Granted => Ok(Permit {
                pool: self.clone(),
                client: client.clone(),
            }),
            refused => Err(refused),
        }
    }

    /// Permits held now.
    pub fn in_use(&self) -> u32 {
        self.share.lock().map_or(0, |s| s.in_use())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn name(s: &str) -> Arc<str> {
        Arc::from(s)
    }

    #[test]
    fn a_lone_client_may_take_the_whole_pool() {
        let t0 = Instant::now();
        let mut f = FairShare::new(8);
        let a = name("a");
        for _ in 0..8 {
            assert_eq!(f.take(&a, t0), Take::Granted);
        }
        assert_eq!(f.take(&a, t0), Take::Busy);
        assert_eq!(f.in_use(), 8);
    }

    #[test]
    fn decisions() {
        let t0 = Instant::now();
        let (a, b, c) = (name("a"), name("b"), name("c"));
        // (pool, permits a holds, who else asked and how long ago, expected for a)
        type Others<'a> = &'a [(&'a Arc<str>, u64)];
        let cases: &[(u32, u32, Others, Take)] = &[
            (8, 3, &[(&b, 0)], Take::Granted),
            (8, 4, &[(&b, 0)], Take::OverShare),
            (8, 4, &[(&b, 9)], Take::OverShare),
            (8, 4, &[(&b, 10)], Take::Granted),
            (8, 4, &[], Take::Granted),
            (8, 7, &[], Take::Granted),
            (8, 8, &[], Take::Busy),
            // c asked after b: the latest other asker is still seen
            (8, 4, &[(&b, 30), (&c, 1)], Take::OverShare),
            (1, 1, &[(&b, 0)], Take::Busy),
            (2, 1, &[(&b, 0)], Take::OverShare),
            (3, 1, &[(&b, 0)], Take::OverShare),
            (3, 0, &[(&b, 0)], Take::Granted),
        ];
        for (size, held, others, want) in cases {
            let now = t0 + Duration::from_secs(60);
            let mut f = FairShare::new(*size);
            for _ in 0..*held {
                assert_eq!(f.take(&a, t0), Take::Granted);
            }
            for (who, ago) in *others {
                f.asked(who, now - Duration::from_secs(*ago));
            }
            assert_eq!(
                f.take(&a, now),
                *want,
                "pool {size}, held {held}, others {:?}",
                others
                    .iter()
                    .map(|(w, s)| (w.to_string(), *s))
                    .collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_greedy_client_leaves_half_for_a_waiting_one() {
        let t0 = Instant::now();
        let (greedy, other) = (name("greedy"), name("other"));
        let mut f = FairShare::new(8);
        for _ in 0..8 {
            assert_eq!(f.take(&greedy, t0), Take::Granted);
        }
        // The other client finds the pool full: dropped, and now it waits.
        assert_eq!(f.take(&other, t0), Take::Busy);
        // The greedy client's checks end one by one; it may not take them again while it
        // holds half.
        for _ in 0..4 {
            f.give_back(&greedy);
        }
        assert_eq!(f.take(&greedy, t0), Take::OverShare);
        // The other client's retry finds room; so do its next ones, up to the rest.
        for _ in 0..4 {
            assert_eq!(f.take(&other, t0 + Duration::from_secs(3)), Take::Granted);
        }
        assert_eq!(f.take(&other, t0 + Duration::from_secs(3)), Take::Busy);
        // Once the other is quiet for long enough, the greedy client may fill the pool.
        for _ in 0..4 {
            f.give_back(&other);
        }
        let later = t0 + Duration::from_secs(3) + WAITING;
        for _ in 0..4 {
            assert_eq!(f.take(&greedy, later), Take::Granted);
        }
        assert_eq!(f.in_use(), 8);
    }

    #[test]
    fn giving_back_is_bounded_and_forgets_idle_clients() {
        let t0 = Instant::now();
        let a = name("a");
        let mut f = FairShare::new(2);
        f.give_back(&a);
        assert_eq!(f.in_use(), 0);
        assert_eq!(f.take(&a, t0), Take::Granted);
        f.give_back(&a);
        f.give_back(&a);
        assert_eq!(f.in_use(), 0);
        assert!(f.held.is_empty());
    }

    #[test]
    fn permits_go_back_when_dropped() {
        let t0 = Instant::now();
        let pool = FairPool::new(2);
        let a = name("a");
        let p1 = pool.take(&a, t0).unwrap();
        let _p2 = pool.take(&a, t0).unwrap();
        assert_eq!(pool.take(&a, t0).unwrap_err(), Take::Busy);
        drop(p1);
        assert_eq!(pool.in_use(), 1);
        assert!(pool.take(&a, t0).is_ok());
    }
}
