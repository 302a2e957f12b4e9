//! Duplicate detection (RFC 5080 2.2.2): a request with the same source, identifier and
//! Request Authenticator as one seen within the window gets the cached reply without a
//! second decision; one still being decided (PAP) is dropped, since its reply is coming.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DedupKey {
    src: SocketAddr,
    identifier: u8,
    authenticator: [u8; 16],
}

impl DedupKey {
    pub fn new(src: SocketAddr, identifier: u8, authenticator: [u8; 16]) -> DedupKey {
        DedupKey {
            src,
            identifier,
            authenticator,
        }
    }
}

pub enum Lookup {
    /// First time seen: the caller decides and then calls `complete` or `forget`.
    New,
    /// Seen and being decided right now.
    InFlight,
    /// Seen and answered: send this again.
    Cached(Vec<u8>),
}

enum Entry {
    InFlight(Instant),
    Done(Instant, Vec<u8>),
}

impl Entry {
    fn since(&self) -> Instant {
        match self {
            Entry::InFlight(t) | Entry::Done(t, _) => *t,
        }
    }
}

pub struct DedupCache {
    window: Duration,
    capacity: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    entries: HashMap<DedupKey, Entry>,
    last_sweep: Instant,
}

impl DedupCache {
    pub fn new(window: Duration, capacity: usize) -> DedupCache {
        DedupCache {
            window,
            capacity,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    /// Looks the key up; a new key is marked in flight.
    pub fn lookup(&self, key: &DedupKey) -> Lookup {
        let now = Instant::now();
        let Ok(mut inner) = self.inner.lock() else {
            return Lookup::New;
        };
        // Sweep at most once per window so the cost stays amortized.
        if now.duration_since(inner.last_sweep) >= self.window {
            let window = self.window;
            inner
                .entries
                .retain(|_, e| now.duration_since(e.since()) < window);
            inner.last_sweep = now;
        }
        match inner.entries.get(key) {
            Some(e) if now.duration_since(e.since()) < self.window => match e {
                Entry::InFlight(_) => Lookup::InFlight,
                Entry::Done(_, bytes) => Lookup::Cached(bytes.clone()),
            },
            _ => {
                if inner.entries.len() < self.capacity {
                    inner.entries.insert(*key, Entry::InFlight(now));
                }
                Lookup::New
            }
        }
    }

    /// Stores the reply sent for `key`.
    pub fn complete(&self, key: DedupKey, reply: Vec<u8>) {
        if let Ok(mut inner) = self.inner.lock()
            && let Some(e) = inner.entries.get_mut(&key)
        {
            *e = Entry::Done(Instant::now(), reply);
        }
    }

    /// Forgets a request that got no reply, so a retransmission is decided afresh.
    pub fn forget(&self, key: &DedupKey) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.entries.remove(key);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.entries.len()).unwrap_or(0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(id: u8) -> DedupKey {
        DedupKey::new("127.0.0.1:5000".parse().unwrap(), id, [7; 16])
    }

    #[test]
    fn new_inflight_cached() {
        let c = DedupCache::new(Duration::from_secs(5), 10);
        assert!(matches!(c.lookup(&key(1)), Lookup::New));
        assert!(matches!(c.lookup(&key(1)), Lookup::InFlight));
        c.complete(key(1), vec![1, 2, 3]);
        assert!(matches!(c.lookup(&key(1)), Lookup::Cached(b) if b == vec![1, 2, 3]));
        // another identifier from the same source is a new request
        assert!(matches!(c.lookup(&key(2)), Lookup::New));
    }

    #[test]
    fn forget_and_expiry() {
        let c = DedupCache::new(Duration::from_millis(20), 10);
        assert!(matches!(c.lookup(&key(1)), Lookup::New));
        c.forget(&key(1));
        assert!(matches!(c.lookup(&key(1)), Lookup::New));
        c.complete(key(1), vec![9]);
        std::thread::sleep(Duration::from_millis(30));
        assert!(matches!(c.lookup(&key(1)), Lookup::New));
    }

    #[test]
    fn capacity_bounds_the_cache() {
        let c = DedupCache::new(Duration::from_secs(5), 3);
        for id in 0..10 {
            assert!(matches!(c.lookup(&key(id)), Lookup::New));
        }
        assert_eq!(c.len(), 3);
    }
}
