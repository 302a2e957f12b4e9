//! The decision for an 802.1X (EAP) login, after the EAP method authenticated the person:
//! the identity inside the tunnel (or named by the client certificate) is the account, the
//! Calling-Station-Id the device. The device rule comes first (DESIGN.md, EAP paragraph):
//! a device registered (in the files, or enrolled by an earlier login) to another account →
//! `device_of_other_user`; a device not accepted for `[policy] device_expiry` →
//! `device_expired`; a device nobody registered → `[eap] unregistered_devices`
//! (`not_registered`, or on to the account's rules); then rules 3 to 8 as for PAP. Under
//! "enrol", a login that every rule allows enrols the device (`enrolled`) if the account
//! has fewer than `max_devices_per_user` devices (files and enrolments together), else it is
//! rejected (`too_many_devices`); an expired enrolment is renewed the same way.
//! Must not: check credentials (the EAP method and the server's worker pool did), read the
//! clock, or do I/O.

use jiff::Timestamp;

use super::{
    Decision, Explanation, Facts, Observer, Quiet, Reason, Recorder, devices, expiry_rule, local,
    module_of, reject, rules, show,
};
use crate::config::{Directory, UnregisteredDevices};
use crate::model::{MacAddr, Module};

/// The facts of an EAP login whose credentials were accepted.
#[derive(Clone, Copy, Debug)]
pub struct EapLogin<'a> {
    /// The inner identity: the account that authenticated.
    pub user: &'a str,
    pub calling_station_id: Option<&'a [u8]>,
    pub nas_port_type: Option<u32>,
    /// The module configured for the client the request came from.
    pub client_module: Module,
}

/// Decides an EAP login (see the module comment); `facts` as for [`super::decide_with`].
pub fn decide_eap(dir: &Directory, login: &EapLogin, facts: Facts, now: Timestamp) -> Decision {
    run_eap(dir, login, facts, now, &mut Quiet)
}

/// Decides like [`decide_eap`] (the same code path) and records every rule checked.
pub fn explain_eap(dir: &Directory, login: &EapLogin, facts: Facts, now: Timestamp) -> Explanation {
    let mut rec = Recorder(Vec::new());
    let decision = run_eap(dir, login, facts, now, &mut rec);
    Explanation {
        decision,
        steps: rec.0,
    }
}

/// The TTLS/PAP check: `password` against the argon2 hash of `user`. Unknown users and
/// users without a password take the same time (a dummy hash is verified), so the answer
/// does not tell whether the account exists.
pub fn eap_password_ok(dir: &Directory, user: &str, password: &[u8]) -> bool {
    let hash = dir.user(user).and_then(|u| u.password_hash.as_deref());
    super::verify(hash.unwrap_or(super::DUMMY_HASH), password) && hash.is_some()
}

fn run_eap<O: Observer>(
    dir: &Directory,
    login: &EapLogin,
    facts: Facts,
    now: Timestamp,
    obs: &mut O,
) -> Decision {
    let request = super::AccessRequest {
        user_name: login.user.as_bytes(),
        password: None,
        calling_station_id: login.calling_station_id,
        nas_port_type: login.nas_port_type,
        client_module: login.client_module,
    };
    let module = module_of(&request);
    obs.step("module", true, || match login.nas_port_type {
        Some(t) if Module::from_nas_port_type(t).is_some() => {
            format!("{module} (NAS-Port-Type {t})")
        }
        Some(t) => format!("{module} (client's module; NAS-Port-Type {t} tells none)"),
        None => format!("{module} (client's module; no NAS-Port-Type)"),
    });
    let mac = login.calling_station_id.and_then(MacAddr::parse_bytes);
    obs.step("classify", true, || match mac {
        Some(m) => format!("EAP login of {:?} from device {m}", login.user),
        None => format!(
            "EAP login of {:?}, Calling-Station-Id {:?} is no MAC",
            login.user,
            login.calling_station_id.map(show).unwrap_or_default()
        ),
    });
    // The method checked the credentials against this account; it may have gone since.
    let Some(account) = dir.account(login.user) else {
        obs.step("account", false, || format!("no account {:?}", login.user));
        return reject(Reason::BadCredentials, module, mac, None);
    };
    obs.step("account", true, || format!("account {} exists", login.user));

    let policy = dir
        .eap
        .as_ref()
        .map(|e| e.unregistered_devices)
        .unwrap_or_default();
    let name = &account.user.name;
    let user = || Some(name.clone());
    // The device's registration: in the config files, else an enrolment. Under "enrol" an
    // expired enrolment counts as none: this login renews it.
    let device = mac.and_then(|m| dir.device(&m));
    let enrolment = mac
        .filter(|_| device.is_none())
        .and(facts.enrolled.as_ref())
        .filter(|e| {
            policy != UnregisteredDevices::Enrol
                || !devices::is_expired(dir, Some(e.since), facts.last_accepted, now)
        });
    let mut enrolling = None;
    match (mac, device, enrolment) {
        (Some(m), Some(device), _) => {
            if *device.owner != **name {
                obs.step("device_owner", false, || {
                    format!(
                        "device {m} is registered to {}, not to {name}",
                        device.owner
                    )
                });
                return reject(Reason::DeviceOfOtherUser, module, mac, user());
            }
            obs.step("device_owner", true, || {
                format!("device {m} is registered to {}", device.owner)
            });
            let last = facts.last_accepted;
            let since = device.registered;
            if let Err(d) = expiry_rule(dir, m, since, last, module, name, now, obs) {
                return d;
            }
        }
        (Some(m), None, Some(e)) => {
            let tz = &dir.server.timezone;
            if *e.owner != **name {
                obs.step("device_owner", false, || {
                    format!(
                        "device {m} is enrolled to {} (since {}), not to {name}",
                        e.owner,
                        local(e.since, tz)
                    )
                });
                return reject(Reason::DeviceOfOtherUser, module, mac, user());
            }
            obs.step("device_owner", true, || {
                format!(
                    "device {m} is enrolled to {name} since {}",
                    local(e.since, tz)
                )
            });
            let last = facts.last_accepted;
            if let Err(d) = expiry_rule(dir, m, Some(e.since), last, module, name, now, obs) {
                return d;
            }
        }
        _ => {
            let what = || match (mac, &facts.enrolled) {
                (Some(m), Some(e)) => {
                    format!("the enrolment of device {m} to {} has expired", e.owner)
                }
                (Some(m), None) => format!("device {m} is not registered"),
                (None, _) => "no device MAC".to_string(),
            };
            match (policy, mac) {
                (UnregisteredDevices::Allow, _) => {
                    obs.step("device_owner", true, || {
                        format!("{}; [eap] unregistered_devices = \"allow\"", what())
                    });
                }
                (UnregisteredDevices::Enrol, Some(m)) => {
                    obs.step("device_owner", true, || {
                        format!(
                            "{}; [eap] unregistered_devices = \"enrol\": enrolled if every rule allows the login",
                            what()
                        )
                    });
                    enrolling = Some(m);
                }
                (UnregisteredDevices::Reject | UnregisteredDevices::Enrol, _) => {
                    obs.step("device_owner", false, || {
                        let setting = match policy {
                            UnregisteredDevices::Enrol => "enrol\" (nothing to enrol",
                            _ => "reject\" (",
                        };
                        format!("{}; [eap] unregistered_devices = \"{setting})", what())
                    });
                    return reject(Reason::NotRegistered, module, mac, user());
                }
            }
        }
    }
    let enrolled_devices = facts.enrolled_devices;
    let mut decision = rules(dir, module, mac, account, facts, now, obs);
    if let Some(m) = enrolling
        && decision.reason == Reason::Accepted
    {
        // Every other rule allows the login: the device is enrolled if the account has room.
        let files = dir.devices().filter(|d| *d.owner == **name).count();
        let max = dir.policy.max_devices_per_user;
        let have = files + enrolled_devices;
        if have >= max {
            obs.step("device_limit", false, || {
                format!(
                    "{name} has {have} devices ({files} in the config files, {enrolled_devices} enrolled); max_devices_per_user = {max}"
                )
            });
            return reject(Reason::TooManyDevices, module, mac, user());
        }
        obs.step("device_limit", true, || {
            format!(
                "device {m} is enrolled to {name}: device {} of at most {max}",
                have + 1
            )
        });
        decision.reason = Reason::Enrolled;
    }
    decision
}
