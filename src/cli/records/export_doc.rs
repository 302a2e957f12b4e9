//! The document `hallpass user export` prints: everything hallpass keeps about one person
//! (GDPR Art. 15 and 20), from the config files and the runtime database, as one typed value.
//!
//! Whose rows: those of the person's name, of their registered devices, and — without
//! another person's name — of MACs the database links to them that are no longer
//! registered ([`PersonMacs`](crate::store::PersonMacs)); the sightings of randomized MACs linked to theirs, the
//! rogue-server entries of their devices, and the audit rows about them or their devices.
//!
//! Must not: include a password hash (only whether one is set), or rows of other people:
//! each row once, and a row naming someone else is theirs even on one of the person's MACs
//! that is not registered to them.

use jiff::Timestamp;
use serde::Serialize;

use crate::config::Directory;
use crate::model::{Ban, BanTarget, Device, Grant, MacAddr, ModuleSet, User};
use crate::store::{
    AuditEntry, AuthLogEntry, AuthLogFilter, DisconnectEntry, Enrolment, LastAccepted, Reader,
    RogueServer, Session, SessionFilter, Sighting, SightingEvent, StoreError,
};

#[derive(Debug, Serialize)]
pub(super) struct ExportDoc<'a> {
    exported: Timestamp,
    user: Person<'a>,
    devices: Vec<DeviceOf<'a>>,
    macs: Vec<MacAddr>,
    /// MACs the database links to the person that are not registered to them (any more).
    unregistered_macs: Vec<MacAddr>,
    bans: Vec<BanOf<'a>>,
    grants: Vec<GrantOf<'a>>,
    sessions: Vec<Session>,
    sightings: Vec<SightingOf>,
    /// Sightings of randomized MACs that the DHCP watcher linked to one of the person's.
    alias_sightings: Vec<SightingOf>,
    /// Rogue DHCP servers seen with one of the person's MACs.
    rogue_servers: Vec<RogueServer>,
    auth_log: Vec<AuthLogEntry>,
    disconnects: Vec<DisconnectEntry>,
    /// What admins did about the person or their devices (reads, edits, erasures).
    audit: Vec<AuditEntry>,
    /// Devices 802.1X logins enrolled to the person (`[eap] unregistered_devices = "enrol"`).
    enrolments: Vec<Enrolment>,
    /// When each of the person's registered and enrolled devices was last accepted.
    last_accepted: Vec<LastAccepted>,
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
        let in_files = super::macs_of(d, user);
        let person = reader.person_macs(Some(user), &in_files)?;
        // Registered in the files or enrolled: every row of these is theirs.
        let macs = person.registered.clone();
        let devices = macs.iter().filter_map(|m| d.device(m)).map(DeviceOf::from);
        let bans = d
            .bans_of_user(user)
            .iter()
            .chain(macs.iter().flat_map(|m| d.bans_of_device(m)))
            .map(BanOf::from);
        let grants = d.grants_of_user(user).iter().map(GrantOf::from);

        let unnamed = |name: Option<&str>| name.is_none_or(|n| n == user);
        // By name, by each of their devices, and by their other MACs where the row names
        // nobody else; each row once.
        let mut sessions = reader.sessions(&SessionFilter {
            user: Some(user.to_string()),
            ..SessionFilter::default()
        })?;
        let mut auth_log = reader.auth_log(&AuthLogFilter {
            user: Some(user.to_string()),
            ..AuthLogFilter::default()
        })?;
        let mut sightings = Vec::new();
        for (m, registered) in macs
            .iter()
            .map(|m| (m, true))
            .chain(person.unregistered.iter().map(|m| (m, false)))
        {
            let by_mac = reader.sessions(&SessionFilter {
                mac: Some(*m),
                ..SessionFilter::default()
            })?;
            sessions.extend(
                by_mac
                    .into_iter()
                    .filter(|s| registered || unnamed(s.user.as_deref())),
            );
            let by_mac = reader.auth_log(&AuthLogFilter {
                mac: Some(*m),
                ..AuthLogFilter::default()
            })?;
            auth_log.extend(
                by_mac
                    .into_iter()
                    .filter(|e| registered || unnamed(e.user.as_deref())),
            );
            sightings.extend(sighting_of(reader, *m)?);
        }
        let mut alias_sightings = Vec::new();
        for m in &person.aliases {
            alias_sightings.extend(sighting_of(reader, *m)?);
        }
        sessions.sort_by_key(|s| s.id);
        sessions.dedup_by_key(|s| s.id);
        auth_log.sort_by_key(|e| e.id);
        auth_log.dedup_by_key(|e| e.id);
        let disconnects = reader
            .disconnects(None)?
            .into_iter()
            .filter(|x| {
                x.user.as_deref() == Some(user)
                    || x.mac.is_some_and(|m| {
                        macs.contains(&m)
                            || (person.unregistered.contains(&m) && unnamed(x.user.as_deref()))
                    })
            })
            .collect();
        let all = person.all();
        let rogue_servers = reader
            .rogue_servers()?
            .into_iter()
            .filter(|r| all.contains(&r.server_mac))
            .collect();
        let about: Vec<String> = std::iter::once(user.to_string())
            .chain(all.iter().map(MacAddr::to_string))
            .collect();
        let audit = reader
            .audit_log(None)?
            .into_iter()
            .filter(|a| about.contains(&a.record.subject))
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
            unregistered_macs: person.unregistered,
            sessions,
            sightings,
            alias_sightings,
            rogue_servers,
            auth_log,
            disconnects,
            audit,
            enrolments: reader.enrolments_of(user)?,
            last_accepted: reader.last_accepted_of(&person.registered)?,
        })
    }
}

/// The sighting of `mac` with every message, if the DHCP watcher ever saw it.
fn sighting_of(reader: &Reader, mac: MacAddr) -> Result<Option<SightingOf>, StoreError> {
    let Some(sighting) = reader.sighting(mac)? else {
        return Ok(None);
    };
    let history = reader.sighting_history(mac, usize::MAX)?;
    Ok(Some(SightingOf { sighting, history }))
}
