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
//! authenticated the person: the device rule first, then rules 3 to 8 (see `eap`). The
//! chain itself, the password check and the ban arithmetic are in `rules`.
//!
//! Facts the policy cannot know from the config (today's data usage, enrolled devices, when
//! a device was last accepted) come in as [`Facts`]; the policy never asks for them. The
//! daemon keeps today's usage in the quota book ([`usage::UsageBook`]), fed from committed
//! accounting records, and enrolments and last-accepted times in the device book
//! ([`devices::DeviceBook`]), loaded from the state database.

pub mod devices;
mod eap;
mod message;
mod rules;
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
use rules::*;
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Bytes the account transferred (in and out, all its sessions) in the current local
    /// day of the server's time zone (see [`local_day_bounds`]). `None`: not known, the
    /// daily quota is not checked.
    pub usage_today: Option<u64>,
    /// When the request's device was last accepted, or when hallpass began keeping track
    /// if that is later. `None`: not known; with no registration date either, the device is
    /// not judged by `[policy] device_expiry`.
    pub last_accepted: Option<Timestamp>,
    /// The request's device, if an 802.1X login enrolled it (EAP logins only).
    pub enrolled: Option<devices::EnrolledDevice>,
    /// The account's other enrolled devices that have not expired (EAP logins only). With
    /// its devices in the config files, what `max_devices_per_user` limits.
    pub enrolled_devices: usize,
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
    /// An EAP login from a device nobody registered, under `unregistered_devices =
    /// "enrol"`, by an account that already has `max_devices_per_user` devices.
    TooManyDevices,
    /// The device was not accepted for `[policy] device_expiry`.
    DeviceExpired,
    /// Accepted, and the device is now enrolled to the account (an EAP login under
    /// `unregistered_devices = "enrol"` from a device nobody registered, or whose
    /// enrolment had expired).
    Enrolled,
    /// A password login refused without checking the password: the RADIUS client it came
    /// from sent too many failed attempts for this name lately (the pause ends at `until`).
    /// Decided by the server before the policy runs; the same for known and unknown names.
    TooManyFailures,
}

impl Reason {
    pub const ALL: [Reason; 19] = [
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
        Reason::TooManyDevices,
        Reason::DeviceExpired,
        Reason::Enrolled,
        Reason::TooManyFailures,
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
            Reason::TooManyDevices => "too_many_devices",
            Reason::DeviceExpired => "device_expired",
            Reason::Enrolled => "enrolled",
            Reason::TooManyFailures => "too_many_failures",
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
    /// `bad_credentials` from the policy (an unknown and a known name get the identical
    /// decision). The server adds the attempted account to the log row of a failed login
    /// when it is a known account, so that guessing shows in `hallpass log --user`; names
    /// of no account are never stored.
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
