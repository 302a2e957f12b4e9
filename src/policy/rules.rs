//! The rule chain of a decision (DESIGN.md's "Decisions", in order) and what it needs: the
//! observer that records each rule for `hallpass why`, the password check with its decoy
//! hash, and the ban arithmetic (which ban suspends a module, until when, and when the next
//! one begins). Pure: facts and `now` in, a decision out; no I/O, no clock.
//!
//! Must not: read files, the clock or the store; the entry points live in `policy` itself.

use super::*;

/// Sees every rule the chain checks. The detail is a closure so that the quiet observer
/// never builds the string.
pub(super) trait Observer {
    fn step(&mut self, name: &'static str, passed: bool, detail: impl FnOnce() -> String);
}

pub(super) struct Quiet;

impl Observer for Quiet {
    #[inline(always)]
    fn step(&mut self, _: &'static str, _: bool, _: impl FnOnce() -> String) {}
}

pub(super) struct Recorder(pub(super) Vec<Step>);

impl Observer for Recorder {
    fn step(&mut self, name: &'static str, passed: bool, detail: impl FnOnce() -> String) {
        self.0.push(Step {
            name,
            passed,
            detail: detail(),
        });
    }
}

/// A PHC string with the default argon2id parameters (as `Argon2::default()` hashes, like
/// real ones). Verified against when the user is unknown or has no password, so that the
/// time taken does not tell whether the account exists. Its password is random and unknown.
pub(super) const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$BcLg/51uJAFgg1uKvjpkvg$H8W1F6IFuum7oofgqnHe/eQQsZPwo2CUd7TMQymCjHw";

pub(super) fn reject(
    reason: Reason,
    module: Module,
    mac: Option<MacAddr>,
    user: Option<UserName>,
) -> Decision {
    Decision {
        outcome: Outcome::Reject,
        reason,
        module,
        mac,
        user,
        until: None,
        all_modules: false,
        schedule: None,
    }
}

pub(super) fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The result of rule 1 for a device: its owner's account, or the `not_registered` decision.
pub(super) fn registered<'d, O: Observer>(
    dir: &'d Directory,
    mac: MacAddr,
    module: Module,
    obs: &mut O,
) -> Result<Account<'d>, Decision> {
    // One probe finds the device and its owner's account (with the policy group).
    let found = dir.device_and_owner(&mac);
    match found {
        Some((_, Some(owner))) => {
            obs.step("registered", true, || {
                format!("device {mac} is registered to {}", owner.user.name)
            });
            Ok(owner)
        }
        _ => {
            let vlan = dir.policy.unregistered_vlan;
            obs.step("registered", false, || {
                let what = match found {
                    Some((d, _)) => {
                        format!(
                            "device {mac} is registered to {}, an unknown account",
                            d.owner
                        )
                    }
                    None => format!("device {mac} is not registered"),
                };
                match vlan {
                    Some(v) => format!("{what}; unregistered VLAN {v}"),
                    None => format!("{what}; no unregistered VLAN"),
                }
            });
            let mut d = reject(Reason::NotRegistered, module, Some(mac), None);
            if let Some(vlan) = vlan {
                d.outcome = Outcome::Accept {
                    vlan,
                    filter_id: None,
                    session_timeout: dir.policy.session_timeout_secs,
                };
            }
            Err(d)
        }
    }
}

/// The expiry rule (`[policy] device_expiry`) for a device registered (or enrolled) at
/// `registered` and last accepted at `last_accepted`: `Err` with the `device_expired`
/// decision when it has not been accepted for that long. No step when no expiry is set.
#[allow(clippy::too_many_arguments)]
pub(super) fn expiry_rule<O: Observer>(
    dir: &Directory,
    mac: MacAddr,
    registered: Option<Timestamp>,
    last_accepted: Option<Timestamp>,
    module: Module,
    user: &UserName,
    now: Timestamp,
    obs: &mut O,
) -> Result<(), Decision> {
    let Some(secs) = dir.policy.device_expiry_secs else {
        return Ok(());
    };
    let tz = &dir.server.timezone;
    let days = f64::from(secs) / 86_400.0;
    let Some(end) = devices::expires_at(dir, registered, last_accepted) else {
        obs.step("expiry", true, || {
            format!("device {mac}: no registration date and never accepted; not judged")
        });
        return Ok(());
    };
    let since = || {
        last_accepted
            .map(|t| format!("last accepted {}", local(t, tz)))
            .unwrap_or_else(|| "never accepted".to_string())
    };
    if end <= now {
        obs.step("expiry", false, || {
            format!(
                "device {mac} {}; expired at {} (device_expiry {days} days)",
                since(),
                local(end, tz)
            )
        });
        return Err(reject(
            Reason::DeviceExpired,
            module,
            Some(mac),
            Some(user.clone()),
        ));
    }
    obs.step("expiry", true, || {
        format!("device {mac} {}; expires at {}", since(), local(end, tz))
    });
    Ok(())
}

/// The chain for an open session: who it is, then rules 3 to 8.
pub(super) fn run_session<O: Observer>(
    dir: &Directory,
    session: &SessionFacts,
    facts: Facts,
    now: Timestamp,
    obs: &mut O,
) -> Decision {
    let module = session.module;
    let account = match (session.mac, &session.user) {
        (None, None) => {
            obs.step("session", false, || {
                "session with neither a device nor an account".to_string()
            });
            return reject(Reason::Malformed, module, None, None);
        }
        (Some(mac), None) => {
            obs.step("session", true, || {
                format!("MAB session of device {mac} on {module}")
            });
            match registered(dir, mac, module, obs) {
                Ok(a) => a,
                Err(d) => return d,
            }
        }
        (mac, Some(name)) => {
            obs.step("session", true, || match mac {
                Some(m) => format!("PAP session of {name} from device {m} on {module}"),
                None => format!("PAP session of {name} on {module}"),
            });
            match dir.account(name) {
                Some(a) => {
                    obs.step("account", true, || format!("account {name} exists"));
                    a
                }
                None => {
                    obs.step("account", false, || {
                        format!("account {name} no longer exists")
                    });
                    return reject(Reason::BadCredentials, module, mac, None);
                }
            }
        }
    };
    rules(dir, module, session.mac, account, facts, now, obs)
}

/// The rule chain. Every early return is one rule deciding.
pub(super) fn run<O: Observer>(
    dir: &Directory,
    req: &AccessRequest,
    facts: Facts,
    now: Timestamp,
    obs: &mut O,
) -> Decision {
    let module = module_of(req);
    obs.step("module", true, || match req.nas_port_type {
        Some(t) if Module::from_nas_port_type(t).is_some() => {
            format!("{module} (NAS-Port-Type {t})")
        }
        Some(t) => format!("{module} (client's module; NAS-Port-Type {t} tells none)"),
        None => format!("{module} (client's module; no NAS-Port-Type)"),
    });

    let login = match classify(req) {
        Ok(l) => l,
        Err(reason) => {
            let mac = MacAddr::parse_bytes(req.user_name);
            obs.step("classify", false, || match reason {
                Reason::MacMismatch => format!(
                    "MAB for {} but Calling-Station-Id is {:?}",
                    mac.map(|m| m.to_string()).unwrap_or_default(),
                    req.calling_station_id.map(show).unwrap_or_default()
                ),
                _ if req.user_name.is_empty() => "no User-Name".to_string(),
                _ => format!(
                    "User-Name {:?} is not a MAC and there is no User-Password",
                    show(req.user_name)
                ),
            });
            return reject(reason, module, mac, None);
        }
    };

    // Who asks: the device (if any) and the account.
    let (mac, account): (Option<MacAddr>, Account) = match login {
        Login::Mab(mac) => {
            obs.step("classify", true, || format!("MAB, device {mac}"));
            // Rule 1: the device must be registered (to an existing account), and not
            // expired.
            match registered(dir, mac, module, obs) {
                Ok(account) => {
                    if dir.policy.device_expiry_secs.is_some() {
                        let since = dir.device(&mac).and_then(|d| d.registered);
                        let name = &account.user.name;
                        let last = facts.last_accepted;
                        if let Err(d) = expiry_rule(dir, mac, since, last, module, name, now, obs) {
                            return d;
                        }
                    }
                    (Some(mac), account)
                }
                Err(d) => return d,
            }
        }
        Login::Pap => {
            let mac = req.calling_station_id.and_then(MacAddr::parse_bytes);
            obs.step("classify", true, || match mac {
                Some(m) => format!("PAP as {:?} from device {m}", show(req.user_name)),
                None => format!("PAP as {:?}, no device MAC", show(req.user_name)),
            });
            // Rule 2: known user and the right password, one verification either way.
            let account = std::str::from_utf8(req.user_name)
                .ok()
                .and_then(|n| dir.account(n));
            let user = account.map(|a| a.user);
            let password = req.password.unwrap_or_default();
            let hash = user.and_then(|u| u.password_hash.as_deref());
            let ok = verify(hash.unwrap_or(DUMMY_HASH), password) && hash.is_some();
            match account {
                Some(a) if ok => {
                    obs.step("credentials", true, || {
                        format!("password of {} is right", a.user.name)
                    });
                    (mac, a)
                }
                _ => {
                    obs.step("credentials", false, || match (user, hash) {
                        (None, _) => format!("no account {:?}", show(req.user_name)),
                        (Some(u), None) => format!("account {} has no password", u.name),
                        (Some(u), Some(_)) => format!("wrong password for {}", u.name),
                    });
                    return reject(Reason::BadCredentials, module, mac, None);
                }
            }
        }
    };
    rules(dir, module, mac, account, facts, now, obs)
}

/// Rules 3 to 8, for a known account (and device, if any).
pub(super) fn rules<O: Observer>(
    dir: &Directory,
    module: Module,
    mac: Option<MacAddr>,
    account: Account,
    facts: Facts,
    now: Timestamp,
    obs: &mut O,
) -> Decision {
    let user = account.user;
    let name = || Some(user.name.clone());

    // Rule 3: a ban on the device.
    let device_bans = mac.map(|m| dir.bans_of_device(&m)).unwrap_or(&[]);
    if let Some(s) = suspension(device_bans, module, now) {
        obs.step("device_ban", false, || {
            format!(
                "device {} is banned from {}",
                show_mac(mac),
                s.describe(module, &dir.server.timezone)
            )
        });
        let mut d = reject(Reason::DeviceBanned, module, mac, name());
        d.until = s.until;
        d.all_modules = s.all_modules;
        return d;
    }
    obs.step("device_ban", true, || match mac {
        Some(m) => format!("no ban on device {m} in force for {module}"),
        None => "no device MAC to check".to_string(),
    });

    // Rule 4: the account is enabled.
    if user.disabled {
        obs.step("account_enabled", false, || {
            format!("account {} is disabled", user.name)
        });
        return reject(Reason::AccountDisabled, module, mac, name());
    }
    obs.step("account_enabled", true, || {
        format!("account {} is enabled", user.name)
    });

    // Rule 5: the signed consent is on file.
    if !user.consent {
        obs.step("consent", false, || {
            format!("no consent on file for {}", user.name)
        });
        return reject(Reason::NoConsent, module, mac, name());
    }
    obs.step("consent", true, || {
        format!("consent on file for {}", user.name)
    });

    // Rule 6: a ban on the account.
    let user_bans = dir.bans_of_user(&user.name);
    if let Some(s) = suspension(user_bans, module, now) {
        obs.step("user_ban", false, || {
            format!(
                "{} is banned from {}",
                user.name,
                s.describe(module, &dir.server.timezone)
            )
        });
        let mut d = reject(Reason::Banned, module, mac, name());
        d.until = s.until;
        d.all_modules = s.all_modules;
        return d;
    }
    obs.step("user_ban", true, || {
        format!("no ban on {} in force for {module}", user.name)
    });

    // Rule 7: the first policy group (in config order) the user is in, resolved at load.
    let Some(group) = account.policy_group else {
        obs.step("policy_group", false, || {
            format!(
                "no policy group matches the groups {:?} of {}",
                user.groups, user.name
            )
        });
        return reject(Reason::NoPolicy, module, mac, name());
    };
    obs.step("policy_group", true, || {
        format!("group {} → VLAN {}", group.name, group.vlan)
    });

    let tz = &dir.server.timezone;
    // Rule 7a: the group's schedule.
    let schedule_closes = match schedule_rule(group, tz, now, obs) {
        Ok(closes) => closes,
        Err(opens) => {
            let mut d = reject(Reason::OutsideSchedule, module, mac, name());
            d.until = opens;
            d.schedule = group.schedule.clone();
            return d;
        }
    };

    // Rule 7b: a teacher grant, if the group needs one.
    let grant_ends = match group.access {
        Access::Always => {
            obs.step("grant", true, || {
                format!("group {} needs no grant", group.name)
            });
            None
        }
        Access::Grant => {
            let grants = dir
                .grants_for(user)
                .filter(|g| g.modules.covers(module))
                .map(|g| (g.from, g.until));
            match cover_end(grants.clone(), now) {
                Some(end) => {
                    obs.step("grant", true, || {
                        format!(
                            "a grant for {} on {module} is in force until {end}",
                            user.name
                        )
                    });
                    Some(end)
                }
                None => {
                    let next = grants.map(|(from, _)| from).filter(|f| *f > now).min();
                    obs.step("grant", false, || {
                        let base = format!(
                            "group {} needs a grant; none for {} on {module} is in force",
                            group.name, user.name
                        );
                        match next {
                            Some(t) => {
                                format!(
                                    "{base}; the next begins at {}",
                                    local(t, &dir.server.timezone)
                                )
                            }
                            None => base,
                        }
                    });
                    let mut d = reject(Reason::NoGrant, module, mac, name());
                    d.until = next;
                    return d;
                }
            }
        }
    };

    // Rule 7c: the daily data quota, if the group has one and the usage is known. The quota
    // is used up when the usage reaches it.
    match (group.daily_quota, facts.usage_today) {
        (Some(quota), Some(used)) if used >= quota => {
            let (_, midnight) = local_day_bounds(now, tz);
            obs.step("quota", false, || {
                format!(
                    "{} used {used} of {quota} bytes today; the quota starts afresh at {midnight}",
                    user.name
                )
            });
            let mut d = reject(Reason::QuotaExceeded, module, mac, name());
            d.until = Some(midnight);
            return d;
        }
        (Some(quota), Some(used)) => obs.step("quota", true, || {
            format!("{} used {used} of {quota} bytes today", user.name)
        }),
        (Some(quota), None) => obs.step("quota", true, || {
            format!("daily quota {quota} bytes; today's usage is not known")
        }),
        (None, _) => obs.step("quota", true, || {
            format!("group {} has no daily quota", group.name)
        }),
    }

    // Rule 8: accept, until a ban begins, the schedule window closes or the grant ends.
    let max = dir.policy.session_timeout_secs;
    let next_ban = next_ban_start(user_bans, module, now)
        .into_iter()
        .chain(next_ban_start(device_bans, module, now))
        .min();
    let cut = [
        next_ban.map(|t| (t, "a ban begins")),
        schedule_closes.map(|t| (t, "the schedule window closes")),
        grant_ends.map(|t| (t, "the grant ends")),
    ]
    .into_iter()
    .flatten()
    .min_by_key(|(t, _)| *t);
    let session_timeout = match cut {
        Some((end, _)) => secs_until(now, end).min(max),
        None => max,
    };
    obs.step("accept", true, || match cut {
        Some((end, why)) if session_timeout < max => {
            format!("Session-Timeout {session_timeout} s: {why} at {end} (limit {max} s)")
        }
        _ => format!("Session-Timeout {session_timeout} s"),
    });
    Decision {
        outcome: Outcome::Accept {
            vlan: group.vlan,
            filter_id: group.filter_id.clone(),
            session_timeout,
        },
        reason: Reason::Accepted,
        module,
        mac,
        user: name(),
        until: None,
        all_modules: false,
        schedule: None,
    }
}

/// Rule 7a. `Ok(closes)`: inside a window (or no schedule), which closes then. `Err(opens)`:
/// outside every window; the next opens then.
pub(super) fn schedule_rule<O: Observer>(
    group: &PolicyGroup,
    tz: &jiff::tz::TimeZone,
    now: Timestamp,
    obs: &mut O,
) -> Result<Option<Timestamp>, Option<Timestamp>> {
    let Some(schedule) = &group.schedule else {
        obs.step("schedule", true, || {
            format!("group {} has no schedule", group.name)
        });
        return Ok(None);
    };
    match schedule_state(schedule, tz, now) {
        ScheduleState::Open { closes } => {
            obs.step("schedule", true, || {
                format!(
                    "inside the schedule of group {} until {}",
                    group.name,
                    local(closes, tz)
                )
            });
            Ok(Some(closes))
        }
        ScheduleState::Closed { opens } => {
            obs.step("schedule", false, || {
                let base = format!("outside the schedule of group {}", group.name);
                match opens {
                    Some(t) => format!("{base}; the next window opens at {}", local(t, tz)),
                    None => format!("{base}; no window opens within 8 days"),
                }
            });
            Err(opens)
        }
    }
}

pub(super) fn show_mac(mac: Option<MacAddr>) -> String {
    mac.map(|m| m.to_string()).unwrap_or_default()
}

/// Verifies a password against a PHC string; a string that does not parse never verifies.
pub(super) fn verify(phc: &str, password: &[u8]) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default().verify_password(password, &h).is_ok(),
        Err(_) => {
            // Keep the time of a bad stored hash like that of a wrong password.
            if let Ok(h) = PasswordHash::new(DUMMY_HASH) {
                let _ = Argon2::default().verify_password(password, &h);
            }
            false
        }
    }
}

/// A suspension in force for one module, from one list of bans.
#[derive(Clone, Copy, Debug)]
pub(super) struct Suspension {
    /// `None`: permanent.
    until: Option<Timestamp>,
    /// Bans on all modules alone keep it up until `until`.
    all_modules: bool,
}

impl Suspension {
    fn describe(&self, module: Module, tz: &jiff::tz::TimeZone) -> String {
        let scope = if self.all_modules {
            "all modules".to_string()
        } else {
            module.to_string()
        };
        match self.until {
            Some(t) => format!("{scope} until {}", local(t, tz)),
            None => format!("{scope} permanently"),
        }
    }
}

/// A moment as an admin reads it: local time of the server's zone, with the zone's name.
pub(super) fn local(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// The suspension in force at `now` from the bans that cover `module`, if any.
pub(super) fn suspension(bans: &[Ban], module: Module, now: Timestamp) -> Option<Suspension> {
    let until = suspension_end(bans, |b| b.modules.covers(module), now)?;
    let all_modules = suspension_end(bans, |b| b.modules.all, now) == Some(until);
    Some(Suspension { until, all_modules })
}

/// The end of the suspension the bans passing `relevant` impose at `now`: `None` if none is
/// in force, `Some(None)` if it is permanent. A ban that begins no later than the current
/// end (back to back, or overlapping) extends it.
pub(super) fn suspension_end(
    bans: &[Ban],
    relevant: impl Fn(&Ban) -> bool,
    now: Timestamp,
) -> Option<Option<Timestamp>> {
    let mut end: Option<Timestamp> = None;
    let mut any = false;
    for b in bans.iter().filter(|b| relevant(b) && b.in_force(now)) {
        match b.until {
            None => return Some(None),
            Some(u) => end = Some(end.map_or(u, |e| e.max(u))),
        }
        any = true;
    }
    if !any {
        return None;
    }
    // Each pass moves the end strictly later (or makes it permanent), so this ends after at
    // most one pass per ban.
    while let Some(e) = end {
        let mut moved = false;
        for b in bans.iter().filter(|b| relevant(b)) {
            if b.from.is_some_and(|f| f <= e) && b.until.is_none_or(|u| u > e) {
                match b.until {
                    None => return Some(None),
                    Some(u) => end = Some(u),
                }
                moved = true;
                break;
            }
        }
        if !moved {
            break;
        }
    }
    Some(end)
}

/// The earliest start after `now` of a ban covering `module`.
pub(super) fn next_ban_start(bans: &[Ban], module: Module, now: Timestamp) -> Option<Timestamp> {
    bans.iter()
        .filter(|b| b.modules.covers(module))
        // A ban that ends before it begins never takes effect.
        .filter_map(|b| {
            b.starts_after(now)
                .filter(|f| b.until.is_none_or(|u| u > *f))
        })
        .min()
}

/// Whole seconds from `now` until `later` (> now), rounded up, at least 1.
pub(super) fn secs_until(now: Timestamp, later: Timestamp) -> u32 {
    let nanos = later.as_nanosecond() - now.as_nanosecond();
    let secs = (nanos + 999_999_999).div_euclid(1_000_000_000).max(1);
    u32::try_from(secs).unwrap_or(u32::MAX)
}
