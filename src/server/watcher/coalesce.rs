//! What the watcher writes of what it sees: sightings are coalesced per MAC in memory, and
//! MACs it has not seen lately are admitted at a bounded rate per interface.
//!
//! A MAC gets at most one write a minute unless its address, host name, registration,
//! alias or interface changes; only such a change (or a MAC not seen lately) is a history
//! row. The messages coalesced in between are counted and go with the next write. Changes
//! are written at once up to `CHANGES_PER_WINDOW` a minute; a MAC that changes its name
//! with every frame gets no more (its later changes wait for the minute like the rest). A MAC not
//! in memory is admitted only while its interface has tokens left (`new_macs_per_second`,
//! one second's worth of burst); registered devices are always admitted. So a flood of
//! made-up MACs costs at most that many writes a second, not one per frame.
//!
//! Memory is bounded: two generations of at most `capacity / 2` MACs each; when the current
//! one is full it becomes the previous one and the old previous one is forgotten (a MAC seen
//! again is moved to the current one). A forgotten MAC counts as new when it comes back, and
//! the tallies it had coalesced since its last write are lost (they are tallies, not records).
//!
//! Pure: time comes in as a parameter; nothing here reads the clock, logs or writes.
//! Must not: keep a host name (only a hash of it, to notice a change), or grow with the
//! number of MACs seen beyond its capacity.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::Ipv4Addr;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::model::MacAddr;
use crate::store::{MessageCounts, SightingUpdate};

/// At most one write per MAC in this window unless something changes.
pub const WINDOW: SignedDuration = SignedDuration::from_secs(60);

/// Writes for changes a MAC gets within one window; more changes wait for its end.
pub const CHANGES_PER_WINDOW: u8 = 4;

/// MACs remembered at most (both generations). A school's devices and their randomized
/// MACs fit many times; each entry takes about 150 bytes.
pub const CAPACITY: usize = 32_768;

/// What to do with one sighting.
#[derive(Debug)]
pub enum Verdict {
    /// Write it (its `history` and `coalesced` are set).
    Write(Box<SightingUpdate>),
    /// Nothing new within the window: counted into the MAC's next write.
    Coalesced,
    /// A MAC not seen lately, over its interface's rate: not written.
    NotAdmitted,
}

/// What was last written for a MAC, and what came since.
#[derive(Debug)]
struct Entry {
    written: Timestamp,
    /// Writes for changes since the last write the window allowed.
    changes: u8,
    ip: Option<Ipv4Addr>,
    hostname: Option<u64>,
    registered: bool,
    alias: Option<MacAddr>,
    interface: Option<Arc<str>>,
    pending: MessageCounts,
}

impl Entry {
    fn of(u: &SightingUpdate) -> Entry {
        Entry {
            written: u.time,
            changes: 0,
            ip: u.ip,
            hostname: hostname_hash(u),
            registered: u.registered,
            alias: u.randomized_alias_of,
            interface: u.interface.clone(),
            pending: MessageCounts::default(),
        }
    }

    /// Whether `u` says something the last write did not. Absent values keep what is
    /// stored, so they change nothing.
    fn changed_by(&self, u: &SightingUpdate) -> bool {
        differs(u.ip, self.ip)
            || differs(hostname_hash(u), self.hostname)
            || u.registered != self.registered
            || differs(u.randomized_alias_of, self.alias)
            || differs(u.interface.as_deref(), self.interface.as_deref())
    }

    /// Takes the news of `u` as written now; `window`: the write the window allowed, which
    /// starts a new one (else it is a change within the window).
    fn written(&mut self, u: &SightingUpdate, window: bool) {
        if window {
            self.written = u.time;
            self.changes = 0;
        } else {
            self.changes = self.changes.saturating_add(1);
        }
        self.ip = u.ip.or(self.ip);
        self.hostname = hostname_hash(u).or(self.hostname);
        self.registered = u.registered;
        self.alias = u.randomized_alias_of.or(self.alias);
        if u.interface.is_some() {
            self.interface = u.interface.clone();
        }
        self.pending = MessageCounts::default();
    }
}

/// A value that is there and not the one written.
fn differs<T: PartialEq>(new: Option<T>, old: Option<T>) -> bool {
    new.is_some() && new != old
}

fn hostname_hash(u: &SightingUpdate) -> Option<u64> {
    let name = u.hostname.as_deref().filter(|h| !h.is_empty())?;
    let mut h = DefaultHasher::new();
    name.hash(&mut h);
    Some(h.finish())
}

/// Tokens for new MACs on one interface.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

/// The coalescing table and the admission buckets.
#[derive(Debug)]
pub struct Coalescer {
    current: HashMap<MacAddr, Entry>,
    previous: HashMap<MacAddr, Entry>,
    generation: usize,
    buckets: HashMap<Option<Arc<str>>, Bucket>,
}

impl Coalescer {
    /// A table for at most `capacity` MACs (at least 2).
    pub fn new(capacity: usize) -> Coalescer {
        Coalescer {
            current: HashMap::new(),
            previous: HashMap::new(),
            generation: (capacity / 2).max(1),
            buckets: HashMap::new(),
        }
    }

    /// MACs remembered now.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decides what becomes of `u` at `now`, with `new_per_second` MACs not seen lately
    /// admitted per second on its interface.
    pub fn offer(&mut self, mut u: SightingUpdate, now: Timestamp, new_per_second: u32) -> Verdict {
        if !self.current.contains_key(&u.mac)
            && let Some(e) = self.previous.remove(&u.mac)
        {
            self.remember(u.mac, e);
        }
        if let Some(e) = self.current.get_mut(&u.mac) {
            let changed = e.changed_by(&u);
            let due = now.duration_since(e.written) >= WINDOW || now < e.written;
            if !(due || changed && e.changes < CHANGES_PER_WINDOW) {
                e.pending.add(u.message);
                return Verdict::Coalesced;
            }
            u.history = changed;
            u.coalesced = e.pending;
            e.written(&u, due);
            return Verdict::Write(Box::new(u));
        }
        if !u.registered && !self.admit(u.interface.clone(), now, new_per_second) {
            return Verdict::NotAdmitted;
        }
        u.history = true;
        u.coalesced = MessageCounts::default();
        self.remember(u.mac, Entry::of(&u));
        Verdict::Write(Box::new(u))
    }

    /// Puts `e` in the current generation, starting a new one when it is full.
    fn remember(&mut self, mac: MacAddr, e: Entry) {
        if self.current.len() >= self.generation {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(mac, e);
    }

    /// Takes a token of `interface`'s bucket if it has one.
    fn admit(&mut self, interface: Option<Arc<str>>, now: Timestamp, per_second: u32) -> bool {
        let rate = f64::from(per_second.max(1));
        let b = self.buckets.entry(interface).or_insert(Bucket {
            tokens: rate,
            at: now,
        });
        let elapsed = now.duration_since(b.at).as_secs_f64().max(0.0);
        b.tokens = (b.tokens + elapsed * rate).min(rate);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
