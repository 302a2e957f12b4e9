//! The list files: users, devices, bans and grants, each entry checked against the others
//! (owners, targets, limits). Bans and grants are time-limited rules and are checked by one
//! function; only their messages differ.
//! Must not: read files, or drop an entry silently (every skipped entry has an error).

use std::collections::hash_map::Entry as MapEntry;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil;
use jiff::tz::{Offset, TimeZone};
use toml::Spanned;
use toml::value::Datetime;

use super::directory::Map;
use super::error::ConfigErrorKind as K;
use super::settings::Main;
use super::validate::{Entry, FileId, Validator};
use super::wire::{WireBan, WireDevice, WireGrant, WireUser};
use crate::model::{
    Ban, BanTarget, Device, Grant, GrantTarget, MacAddr, ModuleSet, User, UserName,
};

/// The names of the users read. Owners of devices, bans and grants are looked up here and
/// share the allocation of the name found.
pub(super) type UserNames = std::collections::HashSet<UserName, foldhash::fast::RandomState>;

/// What the entries of the lists are checked against.
pub(super) struct Lookup<'a> {
    pub(super) users: &'a UserNames,
    /// Whether a name not in `users` may be a user all the same: one whose entry could not
    /// be read (then "unknown user" would bury the real error).
    pub(super) maybe_user: &'a dyn Fn(&str) -> bool,
    /// The zone of dates and times written without an offset.
    pub(super) tz: &'a TimeZone,
}

/// A ban or a grant: a time-limited rule on some modules, with a reason. Both are checked
/// alike; these are the messages that tell them apart.
struct Rule {
    target_both: K,
    target_missing: K,
    unknown_user: fn(String) -> K,
    bad_module: fn(String) -> K,
    /// `None`: `from` and `until` may be left out (a ban holds from the start, or for good).
    time_missing: Option<fn(&'static str) -> K>,
    ends_before_start: fn(String, String) -> K,
    reason_missing: K,
    reason_empty: K,
}

const BAN: Rule = Rule {
    target_both: K::BanTargetBoth,
    target_missing: K::BanTargetMissing,
    unknown_user: |user| K::BanUnknownUser { user },
    bad_module: |value| K::BadBanModule { value },
    time_missing: None,
    ends_before_start: |from, until| K::BanEndsBeforeStart { from, until },
    reason_missing: K::BanReasonMissing,
    reason_empty: K::BanReasonEmpty,
};

const GRANT: Rule = Rule {
    target_both: K::GrantTargetBoth,
    target_missing: K::GrantTargetMissing,
    unknown_user: |user| K::GrantUnknownUser { user },
    bad_module: |value| K::BadGrantModule { value },
    time_missing: Some(|key| K::GrantTimeMissing { key }),
    ends_before_start: |from, until| K::GrantEndsBeforeStart { from, until },
    reason_missing: K::GrantReasonMissing,
    reason_empty: K::GrantReasonEmpty,
};

/// The keys of a `[[ban]]` or `[[grant]]` that the two share, as written.
struct RuleWire<'w> {
    user: &'w Option<Spanned<String>>,
    /// `mac` of a ban, `group` of a grant.
    other: &'w Option<Spanned<String>>,
    modules: &'w Spanned<Vec<Spanned<String>>>,
    from: &'w Option<Spanned<Datetime>>,
    until: &'w Option<Spanned<Datetime>>,
    reason: Option<Spanned<String>>,
}

/// A ban or grant entry without a problem.
struct Checked<T> {
    target: T,
    modules: ModuleSet,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
    reason: String,
}

impl Validator<'_> {
    /// The users, in reading order.
    pub(super) fn users(&mut self, entries: Vec<Entry<WireUser>>) -> Vec<User> {
        let mut users: Vec<User> = Vec::with_capacity(entries.len());
        let mut first: Map<UserName, (FileId, usize)> =
            Map::with_capacity_and_hasher(entries.len(), Default::default());
        for Entry { file, value: w, .. } in entries {
            let name_at = w.name.span().start;
            let name = w.name.into_inner();
            if name.is_empty() {
                self.err(file, name_at, K::EmptyUserName);
                continue;
            }
            if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                self.err(file, name_at, K::BadUserName { name: name.clone() });
            } else if MacAddr::parse_bytes(name.as_bytes()).is_some() {
                self.err(file, name_at, K::UserNameIsMac { name: name.clone() });
            }
            if let Some(p) = &w.password
                && !is_argon2_phc(p.get_ref())
            {
                self.err(
                    file,
                    p.span().start,
                    K::BadPasswordHash { user: name.clone() },
                );
            }
            let nt_hash = match &w.nt_hash {
                Some(h) => match crate::eap::mschapv2::NtHash::from_hex(h.get_ref()) {
                    Ok(hash) => Some(hash),
                    Err(_) => {
                        self.err(file, h.span().start, K::BadNtHash { user: name.clone() });
                        None
                    }
                },
                None => None,
            };
            if let Some(&(f, at)) = first.get(name.as_str()) {
                let first = self.loc(f, at);
                self.err(file, name_at, K::DuplicateUser { name, first });
                continue;
            }
            let key: UserName = Arc::from(name);
            first.insert(key.clone(), (file, name_at));
            // Kept even when invalid (the load fails anyway), so that its devices and bans
            // are not also reported as belonging to an unknown user.
            users.push(User {
                name: key,
                groups: w.groups,
                consent: w.consent,
                disabled: w.disabled,
                password_hash: w.password.map(Spanned::into_inner),
                nt_hash,
            });
        }
        users
    }

    /// The shared name of a user, if known; otherwise records `unknown` unless the user may
    /// exist all the same (see `Lookup::maybe_user`).
    fn owner(
        &mut self,
        look: &Lookup<'_>,
        name: &Spanned<String>,
        unknown: K,
        file: FileId,
    ) -> Option<UserName> {
        if let Some(k) = look.users.get(name.get_ref().as_str()) {
            return Some(k.clone());
        }
        if !(look.maybe_user)(name.get_ref()) {
            self.err(file, name.span().start, unknown);
        }
        None
    }

    /// A MAC as written in a device or ban entry.
    fn mac(&mut self, file: FileId, m: &Spanned<String>) -> Option<MacAddr> {
        let mac = MacAddr::parse_bytes(m.get_ref().trim().as_bytes());
        if mac.is_none() {
            let value = m.get_ref().clone();
            self.err(file, m.span().start, K::BadMac { value });
        }
        mac
    }

    fn time(&mut self, file: FileId, d: &Spanned<Datetime>, tz: &TimeZone) -> Option<Timestamp> {
        match to_timestamp(d.get_ref(), tz) {
            Ok(t) => Some(t),
            Err(k) => {
                self.err(file, d.span().start, k);
                None
            }
        }
    }

    pub(super) fn devices(
        &mut self,
        entries: Vec<Entry<WireDevice>>,
        look: &Lookup<'_>,
        main: &Main,
    ) -> Vec<Device> {
        let mut devices: Vec<Device> = Vec::with_capacity(entries.len());
        // Where each MAC was first registered, for the "registered twice" message.
        let mut first: Map<MacAddr, (FileId, usize)> =
            Map::with_capacity_and_hasher(entries.len(), Default::default());
        let mut per_owner: Map<UserName, usize> =
            Map::with_capacity_and_hasher(look.users.len(), Default::default());
        // The first device over the limit, per owner: (file, offset, mac, number).
        let mut over: Vec<(FileId, usize, MacAddr, UserName, usize)> = Vec::new();
        let max = main.policy.max_devices_per_user;
        for Entry { file, value: w, .. } in entries {
            let mac_at = w.mac.span().start;
            let Some(mac) = self.mac(file, &w.mac) else {
                continue;
            };
            match first.entry(mac) {
                MapEntry::Occupied(o) => {
                    let (f, at) = *o.get();
                    let first = self.loc(f, at);
                    self.err(file, mac_at, K::DuplicateMac { mac, first });
                    continue;
                }
                MapEntry::Vacant(v) => {
                    v.insert((file, mac_at));
                }
            }
            let unknown = K::UnknownOwner {
                mac,
                owner: w.owner.get_ref().clone(),
            };
            let owner = self.owner(look, &w.owner, unknown, file);
            let registered = w.registered.and_then(|d| self.time(file, &d, look.tz));
            let Some(owner) = owner else { continue };
            let n = per_owner.entry(owner.clone()).or_insert(0);
            *n += 1;
            if main.policy_ok && *n == max + 1 {
                over.push((file, mac_at, mac, owner.clone(), *n));
            }
            devices.push(Device {
                mac,
                owner,
                label: w.label,
                registered,
            });
        }
        for (file, at, mac, owner, number) in over {
            let count = per_owner.get(&owner).copied().unwrap_or(number);
            let kind = K::TooManyDevices {
                mac,
                owner: owner.to_string(),
                number,
                max,
                count,
            };
            self.err(file, at, kind);
        }
        devices
    }

    /// The bans, by user and by device.
    #[allow(clippy::type_complexity)]
    pub(super) fn bans(
        &mut self,
        entries: Vec<Entry<WireBan>>,
        look: &Lookup<'_>,
    ) -> (Map<UserName, Vec<Ban>>, Map<MacAddr, Vec<Ban>>) {
        let mut user_bans: Map<UserName, Vec<Ban>> = Map::default();
        let mut device_bans: Map<MacAddr, Vec<Ban>> = Map::default();
        for Entry { file, at, value: w } in entries {
            let wire = RuleWire {
                user: &w.user,
                other: &w.mac,
                modules: &w.modules,
                from: &w.from,
                until: &w.until,
                reason: w.reason,
            };
            let mac = |v: &mut Self, m: &Spanned<String>| v.mac(file, m).map(BanTarget::Mac);
            let Some(c) = self.rule(&BAN, file, at, wire, look, BanTarget::User, mac) else {
                continue;
            };
            let ban = Ban {
                target: c.target.clone(),
                modules: c.modules,
                from: c.from,
                until: c.until,
                reason: c.reason,
                by: w.by,
            };
            match c.target {
                BanTarget::User(u) => user_bans.entry(u).or_default().push(ban),
                BanTarget::Mac(m) => device_bans.entry(m).or_default().push(ban),
            }
        }
        (user_bans, device_bans)
    }

    /// The teacher grants, by user and by group. `group_known` tells whether a group name
    /// may be meant.
    #[allow(clippy::type_complexity)]
    pub(super) fn grants(
        &mut self,
        entries: Vec<Entry<WireGrant>>,
        look: &Lookup<'_>,
        group_known: &dyn Fn(&str) -> bool,
    ) -> (Map<UserName, Vec<Grant>>, Map<Arc<str>, Vec<Grant>>) {
        let mut user_grants: Map<UserName, Vec<Grant>> = Map::default();
        let mut group_grants: Map<Arc<str>, Vec<Grant>> = Map::default();
        for Entry { file, at, value: w } in entries {
            let wire = RuleWire {
                user: &w.user,
                other: &w.group,
                modules: &w.modules,
                from: &w.from,
                until: &w.until,
                reason: w.reason,
            };
            let group = |v: &mut Self, g: &Spanned<String>| {
                if group_known(g.get_ref()) {
                    return Some(GrantTarget::Group(Arc::from(g.get_ref().as_str())));
                }
                let group = g.get_ref().clone();
                v.err(file, g.span().start, K::GrantUnknownGroup { group });
                None
            };
            let Some(c) = self.rule(&GRANT, file, at, wire, look, GrantTarget::User, group) else {
                continue;
            };
            // Both are there: a grant without them is an error.
            let (Some(from), Some(until)) = (c.from, c.until) else {
                continue;
            };
            let grant = Grant {
                target: c.target.clone(),
                modules: c.modules,
                from,
                until,
                reason: c.reason,
                by: w.by,
            };
            match c.target {
                GrantTarget::User(u) => user_grants.entry(u).or_default().push(grant),
                GrantTarget::Group(g) => group_grants.entry(g).or_default().push(grant),
            }
        }
        (user_grants, group_grants)
    }

    /// Checks what a ban and a grant share: exactly one target (`user`, or `other` resolved
    /// by `other_target`), the modules, the time window and the reason. `None` if the
    /// entry has any problem (each one recorded).
    #[allow(clippy::too_many_arguments)]
    fn rule<T>(
        &mut self,
        rule: &Rule,
        file: FileId,
        at: usize,
        w: RuleWire<'_>,
        look: &Lookup<'_>,
        user_target: fn(UserName) -> T,
        other_target: impl FnOnce(&mut Self, &Spanned<String>) -> Option<T>,
    ) -> Option<Checked<T>> {
        let before = self.errors.len();
        let target = match (w.user, w.other) {
            (Some(_), Some(_)) => {
                self.err(file, at, rule.target_both.clone());
                None
            }
            (None, None) => {
                self.err(file, at, rule.target_missing.clone());
                None
            }
            (Some(u), None) => {
                let unknown = (rule.unknown_user)(u.get_ref().clone());
                self.owner(look, u, unknown, file).map(user_target)
            }
            (None, Some(o)) => other_target(self, o),
        };
        let mut modules = ModuleSet::default();
        if w.modules.get_ref().is_empty() {
            self.err(file, w.modules.span().start, K::NoModules);
        }
        for m in w.modules.get_ref() {
            if modules.add(m.get_ref()).is_err() {
                let kind = (rule.bad_module)(m.get_ref().clone());
                self.err(file, m.span().start, kind);
            }
        }
        let mut when = |d: &Option<Spanned<Datetime>>, key| match (d, rule.time_missing) {
            (Some(d), _) => self.time(file, d, look.tz),
            (None, Some(missing)) => {
                self.err(file, at, missing(key));
                None
            }
            (None, None) => None,
        };
        let from = when(w.from, "from");
        let until = when(w.until, "until");
        if let (Some(f), Some(u), Some(fw), Some(uw)) = (from, until, w.from, w.until)
            && u <= f
        {
            let kind = (rule.ends_before_start)(fw.get_ref().to_string(), uw.get_ref().to_string());
            self.err(file, uw.span().start, kind);
        }
        let reason = match w.reason {
            None => {
                self.err(file, at, rule.reason_missing.clone());
                String::new()
            }
            Some(r) if r.get_ref().trim().is_empty() => {
                self.err(file, r.span().start, rule.reason_empty.clone());
                String::new()
            }
            Some(r) => r.into_inner(),
        };
        let target = target?;
        (self.errors.len() == before).then_some(Checked {
            target,
            modules,
            from,
            until,
            reason,
        })
    }
}

fn is_argon2_phc(s: &str) -> bool {
    argon2::PasswordHash::new(s).is_ok_and(|h| {
        matches!(h.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") && h.hash.is_some()
    })
}

/// A TOML date or date-time as a point in time: with an offset as written; without one
/// (a local date-time, or a date meaning its midnight) in the configured time zone.
pub(super) fn to_timestamp(d: &Datetime, tz: &TimeZone) -> Result<Timestamp, K> {
    let bad = || K::BadDatetime {
        value: d.to_string(),
    };
    let date = d.date.ok_or_else(bad)?;
    let (h, m, s, ns) = d.time.map_or((0, 0, 0, 0), |t| {
        (
            t.hour,
            t.minute,
            t.second.unwrap_or(0),
            t.nanosecond.unwrap_or(0),
        )
    });
    let dt = civil::DateTime::new(
        i16::try_from(date.year).map_err(|_| bad())?,
        i8::try_from(date.month).map_err(|_| bad())?,
        i8::try_from(date.day).map_err(|_| bad())?,
        i8::try_from(h).map_err(|_| bad())?,
        i8::try_from(m).map_err(|_| bad())?,
        i8::try_from(s).map_err(|_| bad())?,
        i32::try_from(ns).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    match d.offset {
        None => tz.to_timestamp(dt).map_err(|_| bad()),
        Some(toml::value::Offset::Z) => Offset::UTC.to_timestamp(dt).map_err(|_| bad()),
        Some(toml::value::Offset::Custom { minutes }) => {
            Offset::from_seconds(i32::from(minutes) * 60)
                .and_then(|o| o.to_timestamp(dt))
                .map_err(|_| bad())
        }
    }
}
