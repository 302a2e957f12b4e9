//! What the daemon knows about devices beyond the config files, for the decision: which
//! MACs 802.1X logins enrolled to which account, and when each device was last accepted
//! (`[policy] device_expiry`). The device book keeps both in memory, loaded from the state
//! database at start and at every reload, so that no decision waits on the disk; the
//! server hands what it finds to the policy as [`Facts`](super::Facts).
//!
//! Pure like the rest of `policy`: no I/O, no clock (every time is a parameter), no tasks;
//! the lock only lets the auth paths read while a login enrols. It takes the store's rows
//! as values and never touches the database: the server sends what the book says to write
//! to the writer.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use jiff::{SignedDuration, Timestamp};

use crate::config::Directory;
use crate::model::{MacAddr, UserName};
use crate::store::{DeviceRecords, Enrolment};

/// How stale the stored last-accepted time of a device may get before an acceptance is
/// written again: expiry is counted in days, and one row per device and hour keeps the
/// writer's work independent of the request rate.
pub const WRITE_EVERY: SignedDuration = SignedDuration::from_hours(1);

/// A device an 802.1X login enrolled, as a fact for the decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolledDevice {
    pub owner: UserName,
    /// When it was enrolled (or last renewed).
    pub since: Timestamp,
}

/// When a device registered or enrolled at `registered` and last accepted at
/// `last_accepted` (either may be unknown) expires under `[policy] device_expiry`. `None`:
/// it never expires (no expiry set), or nothing is known to count from.
pub fn expires_at(
    dir: &Directory,
    registered: Option<Timestamp>,
    last_accepted: Option<Timestamp>,
) -> Option<Timestamp> {
    let secs = dir.policy.device_expiry_secs?;
    let from = registered.into_iter().chain(last_accepted).max()?;
    from.checked_add(SignedDuration::from_secs(i64::from(secs)))
        .ok()
}

/// Whether such a device is expired at `now`.
pub fn is_expired(
    dir: &Directory,
    registered: Option<Timestamp>,
    last_accepted: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    expires_at(dir, registered, last_accepted).is_some_and(|t| t <= now)
}

#[derive(Clone, Debug)]
struct Enrolled {
    owner: UserName,
    since: Timestamp,
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    accepted: Timestamp,
    /// What the database holds (as far as the book knows).
    written: Option<Timestamp>,
}

#[derive(Default)]
struct Inner {
    enrolled: HashMap<MacAddr, Enrolled>,
    seen: HashMap<MacAddr, Seen>,
    tracking_since: Option<Timestamp>,
}

/// Enrolments and last-accepted times, in memory (see the module comment).
#[derive(Default)]
pub struct DeviceBook {
    inner: RwLock<Inner>,
}

impl DeviceBook {
    /// A book holding what the database holds.
    pub fn new(records: &DeviceRecords) -> DeviceBook {
        let book = DeviceBook::default();
        book.replace(records);
        book
    }

    /// Replaces everything with what the database holds (at a reload: an admin may have
    /// removed, replaced or erased devices).
    pub fn replace(&self, records: &DeviceRecords) {
        let mut inner = Inner {
            tracking_since: records.tracking_since,
            ..Inner::default()
        };
        for e in &records.enrolments {
            let enrolled = Enrolled {
                owner: UserName::from(e.user.as_str()),
                since: e.enrolled,
            };
            inner.enrolled.insert(e.mac, enrolled);
        }
        for l in &records.last_accepted {
            let seen = Seen {
                accepted: l.time,
                written: Some(l.time),
            };
            inner.seen.insert(l.mac, seen);
        }
        *self.inner.write().unwrap_or_else(PoisonError::into_inner) = inner;
    }

    /// When `mac` was last accepted: the later of its last acceptance and the moment
    /// hallpass began keeping track (a device registered before that counts from then).
    pub fn last_accepted(&self, mac: MacAddr) -> Option<Timestamp> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let seen = inner.seen.get(&mac).map(|s| s.accepted);
        seen.into_iter().chain(inner.tracking_since).max()
    }

    /// The enrolment of `mac`, if a login enrolled it.
    pub fn enrolled(&self, mac: MacAddr) -> Option<EnrolledDevice> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.enrolled.get(&mac).map(|e| EnrolledDevice {
            owner: e.owner.clone(),
            since: e.since,
        })
    }

    /// The facts of a login of `user` from `mac` (either may be unknown) for the policy:
    /// `usage` (today's usage, from the quota book) plus what this book knows.
    pub fn facts(
        &self,
        dir: &Directory,
        usage: super::Facts,
        mac: Option<MacAddr>,
        user: Option<&str>,
        now: Timestamp,
    ) -> super::Facts {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let last = |m: &MacAddr| {
            let seen = inner.seen.get(m).map(|s| s.accepted);
            seen.into_iter().chain(inner.tracking_since).max()
        };
        let enrolled_devices = user.map_or(0, |u| {
            inner
                .enrolled
                .iter()
                .filter(|(m, e)| {
                    *e.owner == *u
                        && Some(**m) != mac
                        && !is_expired(dir, Some(e.since), last(m), now)
                })
                .count()
        });
        super::Facts {
            last_accepted: mac.and_then(|m| last(&m)),
            enrolled: mac
                .and_then(|m| inner.enrolled.get(&m))
                .map(|e| EnrolledDevice {
                    owner: e.owner.clone(),
                    since: e.since,
                }),
            enrolled_devices,
            ..usage
        }
    }

    /// Notes that `mac` was accepted at `now`. `true`: the database's time is more than
    /// [`WRITE_EVERY`] old (or missing), so the caller sends it to the writer now. Within
    /// the hour the book keeps the first acceptance: an acceptance costs a read lock only,
    /// and an expiry counted in days does not miss the hour.
    pub fn accepted(&self, mac: MacAddr, now: Timestamp) -> bool {
        let due = |s: &Seen| {
            s.written
                .is_none_or(|w| now.duration_since(w) >= WRITE_EVERY)
        };
        {
            let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
            if inner.seen.get(&mac).is_some_and(|s| !due(s)) {
                return false;
            }
        }
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let seen = inner.seen.entry(mac).or_insert(Seen {
            accepted: now,
            written: None,
        });
        seen.accepted = seen.accepted.max(now);
        if due(seen) {
            seen.written = Some(now);
            true
        } else {
            false
        }
    }

    /// Enrols `mac` to `user` if the account still has room for it at `now`: the check
    /// and the entry under one lock, so that two logins at once cannot both take the last
    /// slot. Returns the enrolment to store, or `None` when the account is full.
    pub fn try_enrol(
        &self,
        dir: &Directory,
        mac: MacAddr,
        user: &str,
        method: &str,
        now: Timestamp,
    ) -> Option<Enrolment> {
        let files = dir.devices().filter(|d| *d.owner == *user).count();
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let tracking = inner.tracking_since;
        let enrolled = inner
            .enrolled
            .iter()
            .filter(|(m, e)| {
                let last = inner.seen.get(m).map(|s| s.accepted);
                let last = last.into_iter().chain(tracking).max();
                *e.owner == *user && **m != mac && !is_expired(dir, Some(e.since), last, now)
            })
            .count();
        if files + enrolled >= dir.policy.max_devices_per_user {
            return None;
        }
        let owner = UserName::from(user);
        inner.enrolled.insert(mac, Enrolled { owner, since: now });
        inner.seen.insert(
            mac,
            Seen {
                accepted: now,
                written: Some(now),
            },
        );
        Some(Enrolment {
            mac,
            user: user.to_string(),
            enrolled: now,
            method: method.to_string(),
        })
    }
}
