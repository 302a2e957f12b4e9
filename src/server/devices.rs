//! The daemon's side of the device book (`policy::devices`): the facts a decision needs
//! (when a device was last accepted, its enrolment, the account's other enrolled devices),
//! noting every accepted registered or enrolled device, enrolling a device after an EAP
//! login the policy allowed, and loading the book from the state database at start and at
//! each reload.
//!
//! Must not: decide anything (the policy does; an enrolment happens only when the decision
//! says `enrolled`), or wait on the disk on the auth paths: the book is in memory and what
//! it learns goes to the writer without blocking.

use std::path::Path;

use jiff::Timestamp;
use tracing::warn;

use crate::config::Directory;
use crate::model::MacAddr;
use crate::policy::{self, Decision, Facts, Reason};
use crate::store::{self, DeviceRecords, Reader, StoreError, WriterHandle};

use super::auth::AuthShared;

impl AuthShared {
    /// The facts of a MAB or PAP request by `user_name`: today's usage (daily quotas) and,
    /// when `[policy] device_expiry` is set, when a MAB device was last accepted.
    pub(super) fn facts_for(&self, dir: &Directory, user_name: &[u8], now: Timestamp) -> Facts {
        let mut facts = self.usage.facts_for(dir, user_name, now);
        if dir.policy.device_expiry_secs.is_some()
            && let Some(mac) = MacAddr::parse_bytes(user_name)
        {
            facts.last_accepted = self.devices.last_accepted(mac);
        }
        facts
    }
}

/// Decides an EAP login of `identity` whose method accepted it, with every fact the device
/// book and the quota book hold, and enrols the device when the policy says so. If another
/// login took the account's last slot in the meantime, decides again (`too_many_devices`).
pub(super) fn decide_eap(
    shared: &AuthShared,
    dir: &Directory,
    login: &policy::EapLogin,
    method: &str,
    source: std::net::IpAddr,
    now: Timestamp,
) -> Decision {
    let mac = login.calling_station_id.and_then(MacAddr::parse_bytes);
    let user = Some(login.user);
    let usage = shared.usage.facts_for(dir, login.user.as_bytes(), now);
    let facts = shared.devices.facts(dir, usage.clone(), mac, user, now);
    let decision = policy::decide_eap(dir, login, facts, now);
    let (Reason::Enrolled, Some(mac)) = (decision.reason, decision.mac) else {
        return decision;
    };
    match shared.devices.try_enrol(dir, mac, login.user, method, now) {
        Some(enrolment) => {
            if !shared.writer.enrol(enrolment) {
                // Kept in memory: the login stands, and the next acceptance of the device
                // writes its last-accepted time; the enrolment itself is written again only
                // if a login enrols it after a restart.
                shared.log_limit.warn(
                    "enrol",
                    source,
                    format_args!("an enrolment could not be queued for the database"),
                );
            }
            decision
        }
        None => {
            let facts = shared.devices.facts(dir, usage, Some(mac), user, now);
            policy::decide_eap(dir, login, facts, now)
        }
    }
}

/// Notes an accepted decision's device in the book (registered in the files or enrolled;
/// others are not tracked) and sends its last-accepted time to the writer once an hour.
pub(super) fn note_accepted(shared: &AuthShared, d: &Decision, now: Timestamp) {
    if d.reason != Reason::Accepted {
        // `enrolled` wrote its time with the enrolment; rejects and the unregistered VLAN
        // are no acceptance of a registered device.
        return;
    }
    let Some(mac) = d.mac else {
        return;
    };
    let registered = shared.directory.load().device(&mac).is_some();
    if (registered || shared.devices.enrolled(mac).is_some()) && shared.devices.accepted(mac, now) {
        // Dropped when the log queue is full: the next acceptance sends it again.
        let _ = shared.writer.device_accepted(mac, now);
    }
}

/// What the database holds about devices, after everything queued before is committed.
/// Blocks: call it off the runtime's threads.
pub fn read_device_records(
    writer: &WriterHandle,
    state_dir: &Path,
) -> Result<DeviceRecords, StoreError> {
    // Lost log rows are no reason not to read what is there.
    match writer.flush() {
        Ok(()) | Err(StoreError::RowsLost { .. }) => {}
        Err(e) => return Err(e),
    }
    Reader::open(&store::db_path(state_dir))?.device_records()
}

/// Loads the book afresh (at a reload: an admin may have removed, replaced, pruned or
/// erased devices). On failure the book stays as it was.
pub async fn reload_device_book(shared: &AuthShared) {
    let writer = shared.writer.clone();
    let state_dir = shared.directory.load().server.state_dir.clone();
    let read = tokio::task::spawn_blocking(move || read_device_records(&writer, &state_dir)).await;
    match read {
        Ok(Ok(records)) => shared.devices.replace(&records),
        Ok(Err(e)) => warn!(error = %e, "the device book could not be reloaded"),
        Err(e) => warn!(error = %e, "the device book could not be reloaded"),
    }
}
