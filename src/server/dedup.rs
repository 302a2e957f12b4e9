//! Duplicate detection (RFC 5080 2.2.2): a request with the same source, identifier and
//! Request Authenticator as one seen within the window gets the cached reply without a
//! second decision; one still being decided (PAP, accounting) is dropped, since its reply is
//! coming.
//!
//! The cache is a fixed table of slots chosen by a keyed hash, allocated once: no request
//! allocates, and memory does not creep up under sustained load (a hash map with removals
//! grew to twice its size after minutes of full load, from tombstones). When two requests
//! fall into one slot the newer one wins; a retransmission of the older one is then decided
//! afresh, which is safe (the same decision; an accounting record is applied idempotently).

use std::hash::BuildHasher as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DedupKey {
    /// The source address as IPv6 (IPv4 mapped), so every key has one size.
    ip: [u8; 16],
    port: u16,
    identifier: u8,
    authenticator: [u8; 16],
}

impl DedupKey {
    pub fn new(src: SocketAddr, identifier: u8, authenticator: [u8; 16]) -> DedupKey {
        let ip = match src.ip() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        DedupKey {
            ip,
            port: src.port(),
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
    /// Seen and answered: the reply was copied into the caller's buffer; send it again.
    Cached,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Empty,
    InFlight,
    Done,
}

struct Slot {
    key: DedupKey,
    state: State,
    /// Milliseconds since the cache was made, when the request arrived.
    at_ms: u64,
    /// The reply sent; its buffer is reused by whichever request takes the slot next.
    reply: Vec<u8>,
}

pub struct DedupCache {
    window_ms: u64,
    epoch: Instant,
    /// Keyed per process; keys come from the network, but a collision only costs a decision
    /// made again, so a fast hash will do.
    hasher: foldhash::fast::RandomState,
    slots: Mutex<Vec<Slot>>,
}

impl DedupCache {
    /// A cache remembering requests for `window`, with `slots` rounded up to a power of two.
    pub fn new(window: Duration, slots: usize) -> DedupCache {
        let n = slots.max(1).next_power_of_two();
        let empty = || Slot {
            key: DedupKey {
                ip: [0; 16],
                port: 0,
                identifier: 0,
                authenticator: [0; 16],
            },
            state: State::Empty,
            at_ms: 0,
            reply: Vec::new(),
        };
        DedupCache {
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
            epoch: Instant::now(),
            hasher: foldhash::fast::RandomState::default(),
            slots: Mutex::new((0..n).map(|_| empty()).collect()),
        }
    }

    fn ms_since_epoch(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    fn index(&self, key: &DedupKey, len: usize) -> usize {
        // len is a power of two
        (self.hasher.hash_one(key) as usize) & (len - 1)
    }

    /// Looks the key up at `now` (when the request arrived); a new key takes its slot,
    /// marked in flight. On `Cached`, the earlier reply is in `reply`.
    pub fn lookup(&self, key: &DedupKey, reply: &mut Vec<u8>, now: Instant) -> Lookup {
        let now = self.ms_since_epoch(now);
        let Ok(mut slots) = self.slots.lock() else {
            return Lookup::New;
        };
        let i = self.index(key, slots.len());
        let Some(slot) = slots.get_mut(i) else {
            return Lookup::New;
        };
        let fresh = now.saturating_sub(slot.at_ms) < self.window_ms;
        if slot.key == *key && fresh {
            match slot.state {
                State::InFlight => return Lookup::InFlight,
                State::Done => {
                    reply.clear();
                    reply.extend_from_slice(&slot.reply);
                    return Lookup::Cached;
                }
                State::Empty => {}
            }
        }
        slot.key = *key;
        slot.state = State::InFlight;
        slot.at_ms = now;
        slot.reply.clear();
        Lookup::New
    }

    /// Stores the reply sent for `key` (unless a newer request has taken its slot).
    pub fn complete(&self, key: &DedupKey, reply: &[u8]) {
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        let i = self.index(key, slots.len());
        if let Some(slot) = slots.get_mut(i)
            && slot.key == *key
            && slot.state == State::InFlight
        {
            slot.state = State::Done;
            slot.reply.clear();
            slot.reply.extend_from_slice(reply);
        }
    }

    /// Forgets a request that got no reply, so a retransmission is decided afresh.
    pub fn forget(&self, key: &DedupKey) {
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        let i = self.index(key, slots.len());
        if let Some(slot) = slots.get_mut(i)
            && slot.key == *key
        {
            slot.state = State::Empty;
        }
    }

    #[cfg(test)]
    fn slot_count(&self) -> usize {
        self.slots.lock().map(|s| s.len()).unwrap_or(0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Looks `k` up as arriving now.
    fn look(c: &DedupCache, k: &DedupKey, out: &mut Vec<u8>) -> Lookup {
        c.lookup(k, out, Instant::now())
    }

    fn key(id: u8) -> DedupKey {
        DedupKey::new("127.0.0.1:5000".parse().unwrap(), id, [7; 16])
    }

    #[test]
    fn new_inflight_cached() {
        let c = DedupCache::new(Duration::from_secs(5), 1024);
        let mut out = Vec::new();
        assert!(matches!(look(&c, &key(1), &mut out), Lookup::New));
        assert!(matches!(look(&c, &key(1), &mut out), Lookup::InFlight));
        c.complete(&key(1), &[1, 2, 3]);
        assert!(matches!(look(&c, &key(1), &mut out), Lookup::Cached));
        assert_eq!(out, vec![1, 2, 3]);
        // another identifier from the same source is a new request
        assert!(matches!(look(&c, &key(2), &mut out), Lookup::New));
        // the same identifier and authenticator from another port is another request too
        let other = DedupKey::new("127.0.0.1:5001".parse().unwrap(), 1, [7; 16]);
        assert!(matches!(look(&c, &other, &mut out), Lookup::New));
        // IPv4 and its IPv6-mapped form are one source
        let mapped = DedupKey::new("[::ffff:127.0.0.1]:5000".parse().unwrap(), 1, [7; 16]);
        assert_eq!(mapped, key(1));
    }

    #[test]
    fn forget_and_expiry() {
        let c = DedupCache::new(Duration::from_millis(20), 1024);
        let mut out = Vec::new();
        assert!(matches!(look(&c, &key(1), &mut out), Lookup::New));
        c.forget(&key(1));
        assert!(matches!(look(&c, &key(1), &mut out), Lookup::New));
        c.complete(&key(1), &[9]);
        std::thread::sleep(Duration::from_millis(30));
        assert!(matches!(look(&c, &key(1), &mut out), Lookup::New));
    }

    #[test]
    fn a_reply_for_a_request_that_lost_its_slot_is_not_stored() {
        // One slot: every request shares it, the newer one wins.
        let c = DedupCache::new(Duration::from_secs(5), 1);
        let mut out = Vec::new();
        assert!(matches!(look(&c, &key(1), &mut out), Lookup::New));
        assert!(matches!(look(&c, &key(2), &mut out), Lookup::New));
        c.complete(&key(1), &[1]);
        c.forget(&key(1));
        assert!(matches!(look(&c, &key(2), &mut out), Lookup::InFlight));
        c.complete(&key(2), &[2]);
        assert!(matches!(look(&c, &key(2), &mut out), Lookup::Cached));
        assert_eq!(out, vec![2]);
        // the evicted request is decided afresh when it comes again
        assert!(matches!(look(&c, &key(1), &mut out), Lookup::New));
    }

    #[test]
    fn the_table_never_grows() {
        let c = DedupCache::new(Duration::from_secs(5), 1000);
        assert_eq!(c.slot_count(), 1024);
        let mut out = Vec::new();
        for n in 0..100_000u32 {
            let k = DedupKey::new("10.0.0.1:1812".parse().unwrap(), n as u8, {
                let mut a = [0u8; 16];
                a[..4].copy_from_slice(&n.to_be_bytes());
                a
            });
            assert!(matches!(look(&c, &k, &mut out), Lookup::New));
            c.complete(&k, &[0; 64]);
        }
        assert_eq!(c.slot_count(), 1024);
    }
}
