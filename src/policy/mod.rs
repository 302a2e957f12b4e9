//! The access decision: (directory snapshot, request facts, now) → [`Decision`].
//!
//! This module owns the rule chain of DESIGN.md "Decisions" (the order is a contract: the
//! first rule that matches decides) and the Reply-Message texts. It is pure: no I/O, no
//! clock (time is a parameter), no logging, no tasks. It does not parse RADIUS packets: the
//! server hands it the few attributes it needs in an [`AccessRequest`].
//!
//! [`decide`] and [`explain`] run the very same rule chain; `decide` passes an observer that
//! does nothing (so a MAB decision allocates nothing beyond cheap `Arc` clones), `explain`
//! records every rule checked for `hallpass why`. [`recheck`] runs the same chain from rule 3
//! on for a session that is already open (enforcement after a reload or when time passes),
//! and [`next_change`] tells the daemon when time alone may change a decision.
//! [`decide_eap`] and [`explain_eap`] decide an 802.1X login after its EAP method
//! authenticated the person: the device rule first, then rules 3 to 8 (see `eap`).
//!
//! Facts the policy cannot know from the config (today's data usage) come in as [`Facts`];
//! the policy never asks for them. The daemon keeps today's usage in the quota book
//! ([`usage::UsageBook`]), fed from committed accounting records.

mod eap;
mod message;
mod time;
pub mod usage;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use jiff::Timestamp;

use crate::config::{Account, Directory, PolicyGroup};
use crate::model::{Access, Ban, MacAddr, Module, Schedule, UserName, Vlan};

pub use eap::{EapLogin, decide_eap, eap_password_ok, explain_eap};
pub use message::reply_message;
pub use time::local_day_bounds;
use time::{ScheduleState, cover_end, days_after, schedule_intervals, schedule_state};

/// The facts of one Access-Request the decision needs.
#[derive(Clone, Copy, Debug)]
pub struct AccessRequest<'a> {
    /// Raw User-Name octets.
    pub user_name: &'a [u8],
    /// User-Password already unhidden (PAP), `None` if absent.
    pub password: Option<&'a [u8]>,
    pub calling_station_id: Option<&'a [u8]>,
    pub nas_port_type: Option<u32>,
    /// The module configured for the client the request came from.
    pub client_module: Module,
}

/// What the daemon knows beyond the config, handed in with a decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Bytes the account transferred (in and out, all its sessions) in the current local
    /// day of the server's time zone (see [`local_day_bounds`]). `None`: not known, the
    /// daily quota is not checked.
    pub usage_today: Option<u64>,
}

/// An open session to check again: what accounting knows about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionFacts {
    /// The device. With `user` absent this is a MAB session and the owner comes from the
    /// directory.
    pub mac: Option<MacAddr>,
    /// The account of a PAP session.
    pub user: Option<UserName>,
    pub module: Module,
}

/// How a request logs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Login {
    /// MAC authentication bypass: the User-Name is the device's MAC.
    Mab(MacAddr),
    /// User name and password.
    Pap,
}

/// What the NAS is told.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Accept {
        vlan: Vlan,
        filter_id: Option<Arc<str>>,
        session_timeout: u32,
    },
    Reject,
}

/// Why a decision was taken; logged and counted per reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    Accepted,
    NotRegistered,
    MacMismatch,
    BadCredentials,
    DeviceBanned,
    AccountDisabled,
    NoConsent,
    Banned,
    NoPolicy,
    /// The user's policy group has a schedule and `now` is outside every window.
    OutsideSchedule,
    /// The user's policy group needs a teacher grant and none is in force.
    NoGrant,
    /// The user's policy group has a daily quota and today's usage reached it.
    QuotaExceeded,
    /// No User-Name, or neither MAB nor PAP.
    Malformed,
    /// An EAP login from a device registered to another account.
    DeviceOfOtherUser,
    /// The EAP method ended before any credential was judged: the TLS handshake failed
    /// (say, a client certificate of another CA, or the peer refused the server's), or the
    /// peer broke the protocol.
    EapFailed,
}

impl Reason {
    pub const ALL: [Reason; 15] = [
        Reason::Accepted,
        Reason::NotRegistered,
        Reason::MacMismatch,
        Reason::BadCredentials,
        Reason::DeviceBanned,
        Reason::AccountDisabled,
        Reason::NoConsent,
        Reason::Banned,
        Reason::NoPolicy,
        Reason::OutsideSchedule,
        Reason::NoGrant,
        Reason::QuotaExceeded,
        Reason::Malformed,
        Reason::DeviceOfOtherUser,
        Reason::EapFailed,
    ];

    /// The reason code in logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Accepted => "accepted",
            Reason::NotRegistered => "not_registered",
            Reason::MacMismatch => "mac_mismatch",
            Reason::BadCredentials => "bad_credentials",
            Reason::DeviceBanned => "device_banned",
            Reason::AccountDisabled => "account_disabled",
            Reason::NoConsent => "no_consent",
            Reason::Banned => "banned",
            Reason::NoPolicy => "no_policy",
            Reason::OutsideSchedule => "outside_schedule",
            Reason::NoGrant => "no_grant",
            Reason::QuotaExceeded => "quota_exceeded",
            Reason::Malformed => "malformed",
            Reason::DeviceOfOtherUser => "device_of_other_user",
            Reason::EapFailed => "eap_failed",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The answer to one Access-Request, with what the log and the Reply-Message need.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub outcome: Outcome,
    pub reason: Reason,
    /// The module the request is for.
    pub module: Module,
    /// The device: the MAB MAC, or for PAP the Calling-Station-Id if it is a MAC.
    pub mac: Option<MacAddr>,
    /// The account the decision is about: the device's owner (MAB) or the PAP user. `None`
    /// when there is no account: not registered, malformed, mac mismatch, and always for
    /// `bad_credentials` (so probing does not put names in the log, and an unknown and a
    /// known name get the identical decision).
    pub user: Option<UserName>,
    /// `banned` / `device_banned`: when the suspension ends (`None` = permanent). Back-to-back
    /// bans count as one suspension: a ban that begins no later than the current end extends
    /// it.
    /// `outside_schedule`: when the next schedule window opens (`None`: none within 8 days).
    /// `no_grant`: when the next grant for the user and module begins (`None`: none known).
    /// `quota_exceeded`: the next local midnight, when the quota starts afresh.
    /// `None` for every other reason.
    pub until: Option<Timestamp>,
    /// `banned` / `device_banned`: the suspension covers every module (`all`), not only the
    /// request's module, until `until`: for `banned` the whole account is suspended. The
    /// Reply-Message says "account suspended" instead of "Wi-Fi access suspended".
    pub all_modules: bool,
    /// `outside_schedule`: the schedule of the user's group, for the Reply-Message. `None`
    /// for every other reason.
    pub schedule: Option<Arc<Schedule>>,
}

/// One rule checked by [`explain`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Short rule name, e.g. `registered`, `user_ban`.
    pub name: &'static str,
    /// `true`: the request got past this rule; `false`: this rule decided (a reject, or for
    /// `registered` the accept into the unregistered VLAN).
    pub passed: bool,
    /// A line for admins saying what was found.
    pub detail: String,
}

/// The decision with every rule checked on the way, for `hallpass why`.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub decision: Decision,
    pub steps: Vec<Step>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.steps {
            let mark = if s.passed { "ok  " } else { "FAIL" };
            writeln!(f, "{mark} {:<16} {}", s.name, s.detail)?;
        }
        let d = &self.decision;
        match &d.outcome {
            Outcome::Accept {
                vlan,
                filter_id,
                session_timeout,
            } => {
                write!(
                    f,
                    "=> accept ({}) on {}: VLAN {vlan}, Session-Timeout {session_timeout} s",
                    d.reason, d.module
                )?;
                if let Some(fid) = filter_id {
                    write!(f, ", Filter-Id {fid}")?;
                }
                Ok(())
            }
            Outcome::Reject => write!(f, "=> reject ({}) on {}", d.reason, d.module),
        }
    }
}

/// Classifies a request as MAB or PAP. Errors are the reject reasons of the classification:
/// `MacMismatch` (MAB with a Calling-Station-Id naming another MAC) and `Malformed` (empty
/// User-Name, or not a MAC and no password).
pub fn classify(req: &AccessRequest) -> Result<Login, Reason> {
    if req.user_name.is_empty() {
        return Err(Reason::Malformed);
    }
    if let Some(mac) = MacAddr::parse_bytes(req.user_name) {
        return match req.calling_station_id {
            Some(csi) if MacAddr::parse_bytes(csi) != Some(mac) => Err(Reason::MacMismatch),
            _ => Ok(Login::Mab(mac)),
        };
    }
    if req.password.is_some() {
        Ok(Login::Pap)
    } else {
        Err(Reason::Malformed)
    }
}

/// The module a request is for: NAS-Port-Type if it tells one, else the client's module.
pub fn module_of(req: &AccessRequest) -> Module {
    req.nas_port_type
        .and_then(Module::from_nas_port_type)
        .unwrap_or(req.client_module)
}

/// Decides an Access-Request. See DESIGN.md "Decisions"; the first rule that matches decides.
/// The same as [`decide_with`] without facts: daily quotas are not checked.
pub fn decide(dir: &Directory, req: &AccessRequest, now: Timestamp) -> Decision {
    run(dir, req, Facts::default(), now, &mut Quiet)
}

/// Decides an Access-Request with what the daemon knows beyond the config (today's usage).
pub fn decide_with(dir: &Directory, req: &AccessRequest, facts: Facts, now: Timestamp) -> Decision {
    run(dir, req, facts, now, &mut Quiet)
}

/// Decides like [`decide`] (the same code path) and records every rule checked.
pub fn explain(dir: &Directory, req: &AccessRequest, now: Timestamp) -> Explanation {
    explain_with(dir, req, Facts::default(), now)
}

/// Decides like [`decide_with`] (the same code path) and records every rule checked.
pub fn explain_with(
    dir: &Directory,
    req: &AccessRequest,
    facts: Facts,
    now: Timestamp,
) -> Explanation {
    let mut rec = Recorder(Vec::new());
    let decision = run(dir, req, facts, now, &mut rec);
    Explanation {
        decision,
        steps: rec.0,
    }
}

/// Decides again for a session that is already open, without a password: for enforcement
/// when the config changes or time passes.
///
/// A MAB session (`mac` set, `user` absent) must still be registered to an existing account
/// (rule 1: `not_registered`, into the unregistered VLAN if one is set, exactly like a new
/// request). A PAP session's account must still exist; if it is gone the answer is
/// `bad_credentials` (rule 2's answer for an unknown user; the password is not checked
/// again). A session with neither is `malformed`. Then the chain runs from rule 3 on:
/// device ban, account disabled, consent, user ban, policy group, schedule, grant, quota,
/// accept.
pub fn recheck(dir: &Directory, session: &SessionFacts, facts: Facts, now: Timestamp) -> Decision {
    run_session(dir, session, facts, now, &mut Quiet)
}

/// Rechecks like [`recheck`] (the same code path) and records every rule checked.
pub fn explain_recheck(
    dir: &Directory,
    session: &SessionFacts,
    facts: Facts,
    now: Timestamp,
) -> Explanation {
    let mut rec = Recorder(Vec::new());
    let decision = run_session(dir, session, facts, now, &mut rec);
    Explanation {
        decision,
        steps: rec.0,
    }
}

/// The earliest instant after `now` at which time alone may change a decision: a ban or a
/// grant starts or ends, or a schedule window of a policy group opens or closes (looked at
/// up to 8 days ahead; windows that touch may report their shared edge, a harmless early
/// wake-up). `None`: nothing changes with time. The daemon sleeps until then and rechecks
/// the open sessions.
pub fn next_change(dir: &Directory, now: Timestamp) -> Option<Timestamp> {
    let after = |t: &Timestamp| *t > now;
    let bans = dir
        .user_bans
        .values()
        .chain(dir.device_bans.values())
        .flatten()
        .flat_map(|b| b.from.into_iter().chain(b.until))
        .filter(after);
    let grants = dir
        .user_grants
        .values()
        .chain(dir.group_grants.values())
        .flatten()
        .flat_map(|g| [g.from, g.until])
        .filter(after);
    let horizon = days_after(now, i64::from(time::HORIZON_DAYS));
    let tz = &dir.server.timezone;
    let windows = dir
        .policy
        .groups
        .iter()
        .filter_map(|g| g.schedule.as_deref())
        .filter_map(|s| {
            schedule_intervals(s, tz, now)
                .into_iter()
                .flat_map(|(a, b)| [a, b])
                .filter(|t| *t > now && *t <= horizon)
                .min()
        });
    bans.chain(grants).chain(windows).min()
}

/// Sees every rule the chain checks. The detail is a closure so that the quiet observer
/// never builds the string.
trait Observer {
    fn step(&mut self, name: &'static str, passed: bool, detail: impl FnOnce() -> String);
}

struct Quiet;

impl Observer for Quiet {
    #[inline(always)]
    fn step(&mut self, _: &'static str, _: bool, _: impl FnOnce() -> String) {}
}

struct Recorder(Vec<Step>);

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
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$BcLg/51uJAFgg1uKvjpkvg$H8W1F6IFuum7oofgqnHe/eQQsZPwo2CUd7TMQymCjHw";

fn reject(
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

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The result of rule 1 for a device: its owner's account, or the `not_registered` decision.
fn registered<'d, O: Observer>(
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

/// The chain for an open session: who it is, then rules 3 to 8.
fn run_session<O: Observer>(
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
fn run<O: Observer>(
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
            // Rule 1: the device must be registered (to an existing account).
            match registered(dir, mac, module, obs) {
                Ok(account) => (Some(mac), account),
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
fn rules<O: Observer>(
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
fn schedule_rule<O: Observer>(
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

fn show_mac(mac: Option<MacAddr>) -> String {
    mac.map(|m| m.to_string()).unwrap_or_default()
}

/// Verifies a password against a PHC string; a string that does not parse never verifies.
fn verify(phc: &str, password: &[u8]) -> bool {
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
struct Suspension {
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
fn local(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// The suspension in force at `now` from the bans that cover `module`, if any.
fn suspension(bans: &[Ban], module: Module, now: Timestamp) -> Option<Suspension> {
    let until = suspension_end(bans, |b| b.modules.covers(module), now)?;
    let all_modules = suspension_end(bans, |b| b.modules.all, now) == Some(until);
    Some(Suspension { until, all_modules })
}

/// The end of the suspension the bans passing `relevant` impose at `now`: `None` if none is
/// in force, `Some(None)` if it is permanent. A ban that begins no later than the current
/// end (back to back, or overlapping) extends it.
fn suspension_end(
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
fn next_ban_start(bans: &[Ban], module: Module, now: Timestamp) -> Option<Timestamp> {
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
fn secs_until(now: Timestamp, later: Timestamp) -> u32 {
    let nanos = later.as_nanosecond() - now.as_nanosecond();
    let secs = (nanos + 999_999_999).div_euclid(1_000_000_000).max(1);
    u32::try_from(secs).unwrap_or(u32::MAX)
}
