//! The table of EAP conversations in progress, keyed by the RADIUS client and the State
//! attribute (RFC 2865 section 5.24, RFC 3579 section 2.6.1) that hallpass put into its
//! Access-Challenge.
//!
//! What it owns: random, unguessable State values (128 bits from a cryptographic RNG); the
//! bound on the number of conversations (the least recently active is evicted first when
//! the table is full, so a flood of EAP starts cannot grow memory); the idle timeout
//! (30 seconds by default, renewed by every touch); `next_deadline` and `expire` for the
//! caller's timer. Each operation is O(log n).
//!
//! What it must not do: read the clock (`now` is a parameter), run timers, or look into
//! the conversations it holds.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use thiserror::Error;

pub const DEFAULT_MAX_CONVERSATIONS: usize = 16_384;
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
pub const STATE_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConversationError {
    #[error("a State attribute of {0} octets is not one of hallpass's ({STATE_LEN} octets)")]
    BadState(usize),
    #[error("the conversation table needs room for at least one conversation")]
    ZeroCapacity,
}

/// The value of the RADIUS State attribute that names one conversation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct State([u8; STATE_LEN]);

impl State {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ConversationError> {
        <[u8; STATE_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| ConversationError::BadState(bytes.len()))
    }

    pub fn as_bytes(&self) -> &[u8; STATE_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "State(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

#[derive(Debug)]
struct Entry<C, V> {
    client: C,
    value: V,
    deadline: Instant,
    seq: u64,
}

/// Conversations of type `V`, each belonging to a RADIUS client `C`.
#[derive(Debug)]
pub struct ConversationTable<C, V> {
    entries: HashMap<State, Entry<C, V>>,
    by_deadline: BTreeMap<(Instant, u64), State>,
    max: usize,
    idle: Duration,
    seq: u64,
}

impl<C: PartialEq, V> ConversationTable<C, V> {
    pub fn new(max: usize, idle: Duration) -> Result<Self, ConversationError> {
        if max == 0 {
            return Err(ConversationError::ZeroCapacity);
        }
        Ok(Self {
            entries: HashMap::new(),
            by_deadline: BTreeMap::new(),
            max,
            idle,
            seq: 0,
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a new conversation under a fresh State. When the table is full the least
    /// recently active conversation makes room and is returned.
    pub fn insert(
        &mut self,
        client: C,
        value: V,
        now: Instant,
        rng: &mut impl rand::CryptoRng,
    ) -> (State, Option<(C, V)>) {
        let state = loop {
            let mut bytes = [0u8; STATE_LEN];
            rng.fill_bytes(&mut bytes);
            let state = State(bytes);
            if !self.entries.contains_key(&state) {
                break state;
            }
        };
        let evicted = self.put(state, client, value, now);
        (state, evicted)
    }

    /// Puts a conversation taken out with [`Self::remove`] back under its State, e.g. after
    /// a worker processed it.
    pub fn reinsert(&mut self, state: State, client: C, value: V, now: Instant) -> Option<(C, V)> {
        self.remove_state(&state);
        self.put(state, client, value, now)
    }

    fn put(&mut self, state: State, client: C, value: V, now: Instant) -> Option<(C, V)> {
        let evicted = if self.entries.len() >= self.max {
            self.by_deadline
                .pop_first()
                .and_then(|(_, oldest)| self.entries.remove(&oldest).map(|e| (e.client, e.value)))
        } else {
            None
        };
        self.seq += 1;
        let deadline = now + self.idle;
        self.by_deadline.insert((deadline, self.seq), state);
        self.entries.insert(
            state,
            Entry {
                client,
                value,
                deadline,
                seq: self.seq,
            },
        );
        evicted
    }

    /// The conversation of `client` under `state`, its idle timer renewed. Another client's
    /// State finds nothing.
    pub fn get_mut(&mut self, client: &C, state: &State, now: Instant) -> Option<&mut V> {
        let entry = self
            .entries
            .get_mut(state)
            .filter(|e| e.client == *client)?;
        self.by_deadline.remove(&(entry.deadline, entry.seq));
        self.seq += 1;
        entry.deadline = now + self.idle;
        entry.seq = self.seq;
        self.by_deadline.insert((entry.deadline, entry.seq), *state);
        Some(&mut entry.value)
    }

    /// Takes the conversation of `client` under `state` out of the table.
    pub fn remove(&mut self, client: &C, state: &State) -> Option<V> {
        if self.entries.get(state).is_some_and(|e| e.client == *client) {
            return self.remove_state(state).map(|(_, v)| v);
        }
        None
    }

    fn remove_state(&mut self, state: &State) -> Option<(C, V)> {
        let entry = self.entries.remove(state)?;
        self.by_deadline.remove(&(entry.deadline, entry.seq));
        Some((entry.client, entry.value))
    }

    /// When the next conversation times out, if any is held.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline
            .first_key_value()
            .map(|((deadline, _), _)| *deadline)
    }

    /// Removes and returns the conversations idle until `now` or longer.
    pub fn expire(&mut self, now: Instant) -> Vec<(C, V)> {
        let mut expired = Vec::new();
        while let Some(entry) = self.by_deadline.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let state = entry.remove();
            if let Some(e) = self.entries.remove(&state) {
                expired.push((e.client, e.value));
            }
        }
        expired
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn table(max: usize) -> ConversationTable<&'static str, u32> {
        ConversationTable::new(max, DEFAULT_IDLE_TIMEOUT).unwrap()
    }

    #[test]
    fn finds_a_conversation_only_for_its_client() {
        let now = Instant::now();
        let mut t = table(4);
        let (state, evicted) = t.insert("ap-1", 7, now, &mut rand::rng());
        assert!(evicted.is_none());
        assert_eq!(t.get_mut(&"ap-1", &state, now).copied(), Some(7));
        assert_eq!(t.get_mut(&"ap-2", &state, now), None);
        assert_eq!(t.remove(&"ap-2", &state), None);
        assert_eq!(t.remove(&"ap-1", &state), Some(7));
        assert!(t.is_empty() && t.next_deadline().is_none());
    }

    #[test]
    fn states_are_random_and_distinct() {
        let now = Instant::now();
        let mut t = table(1000);
        let mut seen = std::collections::HashSet::new();
        for i in 0..1000 {
            let (state, _) = t.insert("ap", i, now, &mut rand::rng());
            assert!(seen.insert(state));
            assert_ne!(state.as_bytes(), &[0; STATE_LEN]);
        }
        assert_eq!(
            State::from_bytes(&[1; 15]),
            Err(ConversationError::BadState(15))
        );
        let s = *seen.iter().next().unwrap();
        assert_eq!(State::from_bytes(s.as_bytes()), Ok(s));
    }

    #[test]
    fn idle_conversations_expire_and_touches_renew() {
        let t0 = Instant::now();
        let mut t = table(10);
        let (a, _) = t.insert("ap", 1, t0, &mut rand::rng());
        let (b, _) = t.insert("ap", 2, t0 + Duration::from_secs(10), &mut rand::rng());
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(30)));
        assert!(t.get_mut(&"ap", &a, t0 + Duration::from_secs(20)).is_some());
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(40)));
        assert!(t.expire(t0 + Duration::from_secs(39)).is_empty());
        assert_eq!(t.expire(t0 + Duration::from_secs(40)), vec![("ap", 2)]);
        assert!(t.get_mut(&"ap", &b, t0 + Duration::from_secs(40)).is_none());
        assert_eq!(t.expire(t0 + Duration::from_secs(50)), vec![("ap", 1)]);
        assert!(t.is_empty());
    }

    #[test]
    fn the_least_recently_active_is_evicted_when_full() {
        let t0 = Instant::now();
        let mut t = table(2);
        let (a, _) = t.insert("ap", 1, t0, &mut rand::rng());
        let (_b, _) = t.insert("ap", 2, t0 + Duration::from_secs(1), &mut rand::rng());
        t.get_mut(&"ap", &a, t0 + Duration::from_secs(2));
        let (_, evicted) = t.insert("ap", 3, t0 + Duration::from_secs(3), &mut rand::rng());
        assert_eq!(evicted, Some(("ap", 2)));
        assert_eq!(t.len(), 2);
        assert!(t.get_mut(&"ap", &a, t0 + Duration::from_secs(3)).is_some());
    }

    #[test]
    fn a_removed_conversation_goes_back_under_its_state() {
        let t0 = Instant::now();
        let mut t = table(2);
        let (a, _) = t.insert("ap", 1, t0, &mut rand::rng());
        let v = t.remove(&"ap", &a).unwrap();
        assert!(
            t.reinsert(a, "ap", v + 1, t0 + Duration::from_secs(5))
                .is_none()
        );
        assert_eq!(
            t.get_mut(&"ap", &a, t0 + Duration::from_secs(5)).copied(),
            Some(2)
        );
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(35)));
        // Reinserting a State still held replaces it rather than duplicating it.
        assert!(
            t.reinsert(a, "ap", 9, t0 + Duration::from_secs(6))
                .is_none()
        );
        assert_eq!(t.len(), 1);
        assert_eq!(t.expire(t0 + Duration::from_secs(36)), vec![("ap", 9)]);
    }

    #[test]
    fn zero_capacity_is_refused() {
        assert_eq!(
            ConversationTable::<u8, u8>::new(0, DEFAULT_IDLE_TIMEOUT).err(),
            Some(ConversationError::ZeroCapacity)
        );
    }
}
