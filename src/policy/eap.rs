//! The decision for an 802.1X (EAP) login, after the EAP method authenticated the person:
//! the identity inside the tunnel (or named by the client certificate) is the account, the
//! Calling-Station-Id the device. The device rule comes first (DESIGN.md, EAP paragraph):
//! a device registered to another account → `device_of_other_user`; a device nobody
//! registered → `[eap] unregistered_devices` (`not_registered`, or on to the account's
//! rules); then rules 3 to 8 as for PAP.
//! Must not: check credentials (the EAP method and the server's worker pool did), read the
//! clock, or do I/O.

use jiff::Timestamp;

use super::{
    Decision, Explanation, Facts, Observer, Quiet, Reason, Recorder, module_of, reject, rules, show,
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
    match mac.and_then(|m| dir.device(&m)) {
        Some(device) if *device.owner == *account.user.name => {
            obs.step("device_owner", true, || {
                format!("device {} is registered to {}", device.mac, device.owner)
            });
        }
        Some(device) => {
            obs.step("device_owner", false, || {
                format!(
                    "device {} is registered to {}, not to {}",
                    device.mac, device.owner, account.user.name
                )
            });
            return reject(
                Reason::DeviceOfOtherUser,
                module,
                mac,
                Some(account.user.name.clone()),
            );
        }
        None => {
            let what = || match mac {
                Some(m) => format!("device {m} is not registered"),
                None => "no device MAC".to_string(),
            };
            if policy == UnregisteredDevices::Reject {
                obs.step("device_owner", false, || {
                    format!("{}; [eap] unregistered_devices = \"reject\"", what())
                });
                return reject(
                    Reason::NotRegistered,
                    module,
                    mac,
                    Some(account.user.name.clone()),
                );
            }
            obs.step("device_owner", true, || {
                format!("{}; [eap] unregistered_devices = \"allow\"", what())
            });
        }
    }
    rules(dir, module, mac, account, facts, now, obs)
}
