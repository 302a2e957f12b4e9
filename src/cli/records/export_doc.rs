//! The document `hallpass user export` prints: everything hallpass keeps about one person
//! (GDPR Art. 15 and 20), from the config files and the runtime database, as one typed value.
//!
//! Must not: include a password hash (only whether one is set), or rows of other people:
//! sessions, log entries and Disconnect results are those of the person's name or of one of
//! their registered devices, each row once.

use jiff::Timestamp;
use serde::Serialize;

use crate::config::Directory;
use crate::model::{Ban, BanTarget, Device, Grant, MacAddr, ModuleSet, User};
use crate::store::{
    AuthLogEntry, AuthLogFilter, DisconnectEntry, Reader, Session, SessionFilter, Sighting,
    SightingEvent, StoreError,
};

#[derive(Debug, Serialize)]
pub(super) struct ExportDoc<'a> {
    exported: Timestamp,
    user: Person<'a>,
    devices: Vec<DeviceOf<'a>>,
    macs: Vec<MacAddr>,
    bans: Vec<BanOf<'a>>,
    grants: Vec<GrantOf<'a>>,
    sessions: Vec<Session>,
    sightings: Vec<SightingOf>,
    auth_log: Vec<AuthLogEntry>,
    disconnects: Vec<DisconnectEntry>,
}

#[derive(Debug, Serialize)]
struct Person<'a> {
    name: &'a str,
    groups: &'a [String],
    consent: bool,
    disabled: bool,
    /// "set" or "not set": the hash itself never leaves the config file.
    password: &'static str,
}

/// A registered device; its owner is the person.
#[derive(Debug, Serialize)]
struct DeviceOf<'a> {
    mac: MacAddr,
    label: Option<&'a str>,
    registered: Option<Timestamp>,
}

impl<'a> From<&'a Device> for DeviceOf<'a> {
    fn from(x: &'a Device) -> Self {
        DeviceOf {
            mac: x.mac,
            label: x.label.as_deref(),
            registered: x.registered,
        }
    }
}

/// A ban on the person's account (`user`) or on one of their devices (`mac`).
#[derive(Debug, Serialize)]
struct BanOf<'a> {
    user: Option<&'a str>,
    mac: Option<MacAddr>,
    modules: ModuleSet,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
    reason: &'a str,
    by: Option<&'a str>,
}

impl<'a> From<&'a Ban> for BanOf<'a> {
    fn from(b: &'a Ban) -> Self {
        let (user, mac) = match &b.target {
            BanTarget::User(n) => (Some(&**n), None),
            BanTarget::Mac(m) => (None, Some(*m)),
        };
        BanOf {
            user,
            mac,
            modules: b.modules,
            from: b.from,
            until: b.until,
            reason: &b.reason,
            by: b.by.as_deref(),
        }
    }
}

/// A teacher's grant for the person.
#[derive(Debug, Serialize)]
struct GrantOf<'a> {
    modules: ModuleSet,
    from: Timestamp,
    until: Timestamp,
    reason: &'a str,
    by: Option<&'a str>,
}

impl<'a> From<&'a Grant> for GrantOf<'a> {
    fn from(g: &'a Grant) -> Self {
        GrantOf {
            modules: g.modules,
            from: g.from,
            until: g.until,
            reason: &g.reason,
            by: g.by.as_deref(),
        }
    }
}

/// What the DHCP watcher knows about one of the person's devices, with every message.
#[derive(Debug, Serialize)]
struct SightingOf {
    #[serde(flatten)]
    sighting: Sighting,
    history: Vec<SightingEvent>,
}

impl<'a> ExportDoc<'a> {
    /// Everything about `u` in the config `d` and the database behind `reader`, as of `now`.
    pub(super) fn of(
        d: &'a Directory,
        u: &'a User,
        reader: &Reader,
        now: Timestamp,
    ) -> Result<ExportDoc<'a>, StoreError> {
        let user: &str = &u.name;
        let macs = super::macs_of(d, user);
        let devices = macs.iter().filter_map(|m| d.device(m)).map(DeviceOf::from);
        let bans = d
            .bans_of_user(user)
            .iter()
            .chain(macs.iter().flat_map(|m| d.bans_of_device(m)))
            .map(BanOf::from);
        let grants = d.grants_of_user(user).iter().map(GrantOf::from);

        // By name, and by each of their devices; each row once.
        let mut sessions = reader.sessions(&SessionFilter {
            user: Some(user.to_string()),
            ..SessionFilter::default()
        })?;
        let mut auth_log = reader.auth_log(&AuthLogFilter {
            user: Some(user.to_string()),
            ..AuthLogFilter::default()
        })?;
        let mut sightings = Vec::new();
        for m in &macs {
            sessions.extend(reader.sessions(&SessionFilter {
                mac: Some(*m),
                ..SessionFilter::default()
            })?);
            auth_log.extend(reader.auth_log(&AuthLogFilter {
                mac: Some(*m),
                ..AuthLogFilter::default()
            })?);
            if let Some(sighting) = reader.sighting(*m)? {
                let history = reader.sighting_history(*m, usize::MAX)?;
                sightings.push(SightingOf { sighting, history });
            }
        }
        sessions.sort_by_key(|s| s.id);
        sessions.dedup_by_key(|s| s.id);
        auth_log.sort_by_key(|e| e.id);
        auth_log.dedup_by_key(|e| e.id);
        let disconnects = reader
            .disconnects(None)?
            .into_iter()
            .filter(|x| x.user.as_deref() == Some(user) || x.mac.is_some_and(|m| macs.contains(&m)))
            .collect();
        Ok(ExportDoc {
            exported: now,
            user: Person {
                name: user,
                groups: &u.groups,
                consent: u.consent,
                disabled: u.disabled,
                password: if u.password_hash.is_some() {
                    "set"
                } else {
                    "not set"
                },
            },
            devices: devices.collect(),
            bans: bans.collect(),
            grants: grants.collect(),
            macs,
            sessions,
            sightings,
            auth_log,
            disconnects,
        })
    }
}
