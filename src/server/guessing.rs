//! What the server does about failed password logins, for PAP and the passwords inside
//! EAP: counting them in the failure book (`failures`, pure), the warning when an account
//! is guessed at, the pause of a client that guessed too often, and the reject that ends a
//! paused login. It owns no socket and decides no access (the policy does); it must not put
//! a person's name in the journal at the default level.

use std::net::IpAddr;
use std::time::Instant;

use jiff::Timestamp;
use tracing::debug;

use super::auth::AuthShared;
use super::failures::Limits;
use crate::config::{Client, Directory};
use crate::model::{MacAddr, UserName};
use crate::policy::{self, AccessRequest, Decision, Outcome, Reason};

/// The account named `user`, when there is one: a failed login is logged with it, so that
/// `hallpass log --user` finds the guessing. Names of no account (typos, an attacker's
/// garbage) are not kept.
pub(super) fn known_account(directory: &Directory, user: &[u8]) -> Option<UserName> {
    let name = std::str::from_utf8(user).ok()?;
    directory.user(name).map(|u| u.name.clone())
}

pub(super) fn limits(directory: &Directory) -> Limits {
    Limits {
        warning: directory.server.failed_logins_warning,
        slowdown: directory.server.failed_logins_slowdown,
    }
}

/// Until when `client`'s attempts for `user` pause (`None`: they are checked).
pub(super) fn login_paused(
    shared: &AuthShared,
    client: &Client,
    user: &[u8],
    at: Instant,
) -> Option<Instant> {
    let book = shared.failures.lock().ok()?;
    book.paused(user, &client.name, at)
}

/// Counts a failed password check of `user` from `client`; warns when the account reaches
/// `[server] failed_logins_warning`.
///
/// The warning names the client and the count, never the account: the journal at the
/// default level carries no names of people. A known account's name is in the auth log
/// (`bad_credentials` rows, read with `hallpass log --user NAME`, audited) and in a debug
/// line.
pub(super) fn login_failed(
    shared: &AuthShared,
    client: &Client,
    ip: IpAddr,
    user: &[u8],
    at: Instant,
) {
    let c = &shared.counters;
    c.inc(&c.login_failures);
    let directory = shared.directory.load();
    let Ok(mut book) = shared.failures.lock() else {
        return;
    };
    let failed = book.failed(user, &client.name, at, limits(&directory));
    drop(book);
    if failed.warn {
        c.inc(&c.login_failure_warnings);
        shared.log_limit.warn(
            "login_failures",
            ip,
            format_args!(
                "a user name had {} failed logins within 10 minutes, the last from client {} \
                 (a known account's are in `hallpass log --user NAME`)",
                failed.account_failures, client.name
            ),
        );
        if let Some(name) = known_account(&directory, user) {
            debug!(
                user = %name,
                client = %client.name,
                failures = failed.account_failures,
                "failed logins of a known account"
            );
        }
    }
}

/// A password check of `user` from `client` succeeded.
pub(super) fn login_succeeded(shared: &AuthShared, client: &Client, user: &[u8]) {
    if let Ok(mut book) = shared.failures.lock() {
        book.succeeded(user, &client.name);
    }
}

/// The reject of a login whose client pauses for the account, with the end of the pause.
pub(super) fn paused_decision(
    request: &AccessRequest,
    directory: &Directory,
    until: Timestamp,
) -> Decision {
    Decision {
        outcome: Outcome::Reject,
        reason: Reason::TooManyFailures,
        module: policy::module_of(request),
        mac: request.calling_station_id.and_then(MacAddr::parse_bytes),
        user: known_account(directory, request.user_name),
        until: Some(until),
        all_modules: false,
        schedule: None,
    }
}

/// The wall-clock time of `until`, an instant after `at` (= `now`).
pub(super) fn wall_time(now: Timestamp, at: Instant, until: Instant) -> Timestamp {
    let ahead = until.saturating_duration_since(at);
    jiff::SignedDuration::try_from(ahead)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(now)
}
