//! Immediate enforcement: keeps the table of open accounting sessions and re-decides each of
//! them with the pure policy whenever the config is reloaded or a moment arrives at which a
//! ban, grant or schedule window starts or ends. A session the policy no longer allows gets
//! a Disconnect-Request (RFC 5176) to its NAS, at an address inside the client's configured
//! network only; each outcome is recorded in the database. A NAK, no answer or no address is
//! tried again at the first re-check `RETRY_AFTER` later, for as long as the session stays
//! open and not allowed.
//!
//! The table is seeded and resynced from the database through a `store::Reader` (open
//! sessions, today's usage for quotas), off the async threads; outcomes go to the writer.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use ipnetwork::IpNetwork;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Semaphore, mpsc, watch};
use tracing::{debug, info, warn};

use crate::config::Directory;
use crate::model::{MacAddr, Module, UserName};
use crate::policy::usage::UsageBook;
use crate::policy::{self, Facts, Outcome, Reason, SessionFacts};
use crate::store::{
    self, AccountingRecord, AcctStatus, DisconnectRecord, DisconnectResult, WriterHandle,
};

use super::Counters;
use super::dynauth::{DisconnectOutcome, DisconnectTarget, DynAuthClient};

/// The longest the enforcer sleeps without looking again (also the bound on how late a
/// change is noticed when the next change cannot be computed).
const MAX_SLEEP: Duration = Duration::from_secs(30);
/// Disconnect-Requests in flight at once.
const PARALLEL_DISCONNECTS: usize = 64;
/// Disconnect-Requests waiting to be sent; beyond this the session is checked again later.
const DISCONNECT_QUEUE: usize = 4096;
/// How long after a failed Disconnect (NAK, no answer, no address) it is sent again, at the
/// next re-check, while the session stays open and not allowed: often enough that a ban
/// holds within a minute of the NAS taking requests again, rare enough not to flood it.
const RETRY_AFTER: SignedDuration = SignedDuration::from_secs(60);

/// Where a session's Disconnect-Request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempt {
    /// None sent (or the session was allowed again since).
    None,
    /// Queued, or waiting for the NAS's answer.
    InFlight,
    /// NAKed, not answered, or not sendable, when the last try ended.
    Failed { at: Timestamp },
    /// ACKed: the NAS ended the session; its Stop removes it from the table.
    Acked,
}

/// Whether a Disconnect-Request for a session the policy no longer allows is to be sent
/// now: the first one at once, a failed one again `RETRY_AFTER` after it ended, never
/// while one is in flight or after the NAS acknowledged.
fn disconnect_due(attempt: Attempt, now: Timestamp) -> bool {
    match attempt {
        Attempt::None => true,
        Attempt::InFlight | Attempt::Acked => false,
        Attempt::Failed { at } => now >= retry_time(at),
    }
}

fn retry_time(failed_at: Timestamp) -> Timestamp {
    failed_at.checked_add(RETRY_AFTER).unwrap_or(failed_at)
}

/// When the enforcer looks at every session again: just after the next change of the
/// config's rules in time (a ban or grant starting or ending, a schedule's edge), at the
/// latest after `MAX_SLEEP`.
fn next_look(directory: &Directory, now: Timestamp) -> Timestamp {
    let latest = now.checked_add(MAX_SLEEP).unwrap_or(now);
    policy::next_change(directory, now)
        // just after the instant, so that `now >= from` holds
        .and_then(|t| t.checked_add(Duration::from_millis(5)).ok())
        .map_or(latest, |t| t.min(latest))
}

/// Whether the enforcer looks at every session now: the instant it meant to look at has
/// passed, or a failed Disconnect is due again.
fn time_to_look(look_at: Timestamp, retry_due: Option<Timestamp>, now: Timestamp) -> bool {
    look_at <= now || retry_due.is_some_and(|t| t <= now)
}

/// The earliest moment a failed Disconnect is due again (the enforcer wakes for it).
fn next_retry(attempts: impl Iterator<Item = Attempt>) -> Option<Timestamp> {
    attempts
        .filter_map(|a| match a {
            Attempt::Failed { at } => Some(retry_time(at)),
            _ => None,
        })
        .min()
}

/// Where a Disconnect-Request for a session of a client with `network` goes: the session's
/// recorded NAS address when it lies inside that network (acct records a claimed
/// NAS-IP-Address only then, else the packet's source), else the client's address when the
/// client is one host; never an address outside the network, whatever a row says.
fn disconnect_address(network: IpNetwork, nas_ip: Option<IpAddr>) -> Option<IpAddr> {
    if let Some(ip) = nas_ip
        && network.contains(ip)
    {
        return Some(ip);
    }
    let host = if network.is_ipv4() { 32 } else { 128 };
    (network.prefix() == host).then(|| network.ip())
}

/// One open session as the enforcer tracks it.
#[derive(Clone, Debug)]
struct OpenSession {
    client: Arc<str>,
    acct_session_id: String,
    mac: Option<MacAddr>,
    user: Option<UserName>,
    module: Module,
    nas_ip: Option<IpAddr>,
    disconnect: Attempt,
}

pub struct Enforcer {
    pub directory: Arc<ArcSwap<Directory>>,
    pub writer: WriterHandle,
    pub dynauth: Arc<DynAuthClient>,
    pub counters: Arc<Counters>,
    pub db_path: PathBuf,
    pub usage: Arc<UsageBook>,
}

type Key = (Arc<str>, String);

impl Enforcer {
    /// Runs until `stop`. `committed` delivers every committed accounting record;
    /// `reloaded` changes after each successful reload.
    pub async fn run(
        self,
        mut committed: mpsc::Receiver<AccountingRecord>,
        mut reloaded: watch::Receiver<u64>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut sessions = self.load_open_sessions().await;
        let (queue, jobs) = mpsc::channel(DISCONNECT_QUEUE);
        // Each job reports back once; the queue and PARALLEL_DISCONNECTS bound what is open.
        let (report, mut outcomes) = mpsc::channel(DISCONNECT_QUEUE + PARALLEL_DISCONNECTS);
        tokio::spawn(dispatch(
            jobs,
            self.dynauth.clone(),
            self.writer.clone(),
            self.counters.clone(),
            report,
        ));
        // Sessions the writer closed as stale are not reported here: re-read now and then.
        let mut resync = tokio::time::interval(Duration::from_secs(60));
        resync.tick().await;
        self.check_all(&mut sessions, &queue, "start");
        let mut look_at = next_look(&self.directory.load(), Timestamp::now());
        loop {
            let now = Timestamp::now();
            // The timer below is made anew on each pass. A ban that starts while records keep
            // the loop busy (one in the few milliseconds after its instant) would otherwise
            // never be looked at: the instant is kept and checked here on every pass. So is a
            // retry already due.
            if time_to_look(
                look_at,
                next_retry(sessions.values().map(|s| s.disconnect)),
                now,
            ) {
                self.check_all(&mut sessions, &queue, "time");
                look_at = next_look(&self.directory.load(), now);
            }
            // A retry still due after the look (its Disconnect found the queue full) is tried
            // again in 5 ms, not in a spin.
            let until = next_retry(sessions.values().map(|s| s.disconnect))
                .map_or(look_at, |t| t.min(look_at));
            let sleep = Duration::try_from(until.duration_since(now))
                .unwrap_or(Duration::ZERO)
                .max(Duration::from_millis(5));
            tokio::select! {
                _ = stop.changed() => break,
                r = committed.recv() => {
                    let Some(record) = r else { break };
                    let dir = self.directory.load_full();
                    self.usage.record(&record, &dir.server.timezone);
                    let user = record.user.clone();
                    let key_changed = apply(&mut sessions, record, &dir);
                    // a session that starts while it is not allowed (e.g. a ban began
                    // between its Access-Accept and its Start) is checked at once
                    if let Some(key) = key_changed {
                        self.check_one(&mut sessions, &key, &queue, "session_update");
                    }
                    // data used counts for every session of the account (daily quota)
                    if has_quotas(&dir) && let Some(user) = user {
                        let keys: Vec<Key> = sessions
                            .iter()
                            .filter(|(_, s)| owner_of(s, &dir).as_deref() == Some(user.as_str()))
                            .map(|(k, _)| k.clone())
                            .collect();
                        for key in keys {
                            self.check_one(&mut sessions, &key, &queue, "quota");
                        }
                    }
                }
                Some((key, attempt)) = outcomes.recv() => {
                    if let Some(s) = sessions.get_mut(&key) {
                        s.disconnect = attempt;
                    }
                }
                _ = reloaded.changed() => {
                    self.check_all(&mut sessions, &queue, "reload");
                    look_at = next_look(&self.directory.load(), Timestamp::now());
                }
                // the top of the loop looks
                _ = tokio::time::sleep(sleep) => {}
                _ = resync.tick() => {
                    let fresh = self.load_open_sessions().await;
                    merge(&mut sessions, fresh);
                }
            }
        }
    }

    async fn load_open_sessions(&self) -> HashMap<Key, OpenSession> {
        let path = self.db_path.clone();
        let dir = self.directory.load_full();
        let seed_dir = dir.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let reader = store::Reader::open(&path)?;
            let open = reader.open_sessions()?;
            let usage = if has_quotas(&seed_dir) {
                Some(usage_today(&reader, &seed_dir)?)
            } else {
                None
            };
            Ok::<_, store::StoreError>((open, usage))
        })
        .await;
        let mut out = HashMap::new();
        match loaded {
            Ok(Ok((list, usage))) => {
                if let Some((day, by_user)) = usage {
                    self.usage.seed(day, by_user);
                }
                for s in list {
                    self.usage.baseline(
                        Arc::from(s.client.as_str()),
                        s.acct_session_id.clone(),
                        s.input_octets.saturating_add(s.output_octets),
                    );
                    let module = s.module.unwrap_or(Module::Wifi);
                    let user = user_for_recheck(s.mac, s.user.as_deref(), &dir);
                    out.insert(
                        (Arc::from(s.client.as_str()), s.acct_session_id.clone()),
                        OpenSession {
                            client: Arc::from(s.client.as_str()),
                            acct_session_id: s.acct_session_id,
                            mac: s.mac,
                            user,
                            module,
                            nas_ip: s.nas_ip,
                            disconnect: Attempt::None,
                        },
                    );
                }
            }
            Ok(Err(e)) => warn!(error = %e, "open sessions could not be read"),
            Err(e) => warn!(error = %e, "open sessions could not be read"),
        }
        out
    }

    fn check_all(
        &self,
        sessions: &mut HashMap<Key, OpenSession>,
        queue: &mpsc::Sender<DisconnectJob>,
        why: &'static str,
    ) {
        let keys: Vec<Key> = sessions.keys().cloned().collect();
        for key in keys {
            self.check_one(sessions, &key, queue, why);
        }
    }

    fn check_one(
        &self,
        sessions: &mut HashMap<Key, OpenSession>,
        key: &Key,
        queue: &mpsc::Sender<DisconnectJob>,
        why: &'static str,
    ) {
        let Some(session) = sessions.get_mut(key) else {
            return;
        };
        let now = Timestamp::now();
        // in flight, or failed and not due yet: nothing to decide (an ACKed session is still
        // re-decided, so that being allowed again resets it)
        if !disconnect_due(session.disconnect, now) && session.disconnect != Attempt::Acked {
            return;
        }
        let dir = self.directory.load_full();
        let facts = SessionFacts {
            mac: session.mac,
            user: session.user.clone(),
            module: session.module,
        };
        let usage = if has_quotas(&dir) {
            Facts {
                usage_today: owner_of(session, &dir).map(|u| self.usage.usage_today(&u, now)),
                ..Facts::default()
            }
        } else {
            Facts::default()
        };
        let decision = policy::recheck(&dir, &facts, usage, now);
        let Some(trigger) = disconnect_trigger(&decision.outcome, decision.reason) else {
            // allowed (again): a later change starts afresh
            session.disconnect = Attempt::None;
            return;
        };
        if !disconnect_due(session.disconnect, now) {
            return;
        }
        let Some(target) = target_for(session, &dir) else {
            // the client is gone, or a subnet without a NAS address inside it; said once per
            // session, the retries only go to the debug log and the disconnects table
            if session.disconnect == Attempt::None {
                warn!(
                    client = %session.client,
                    "no address inside the client's network to send a Disconnect-Request to"
                );
            } else {
                debug!(client = %session.client, "still no address for a Disconnect-Request");
            }
            session.disconnect = Attempt::Failed { at: now };
            self.writer.disconnect_result(record(
                session,
                None,
                trigger,
                0,
                DisconnectResult::Error,
                now,
            ));
            return;
        };
        let retry = session.disconnect != Attempt::None;
        session.disconnect = Attempt::InFlight;
        let job = DisconnectJob {
            session: session.clone(),
            target,
            trigger,
        };
        match queue.try_send(job) {
            // who it is goes to the debug log and the disconnects table, not the journal
            Ok(()) => {
                info!(
                    client = %session.client,
                    module = %session.module,
                    reason = decision.reason.code(),
                    checked = why,
                    retry,
                    "session no longer allowed: sending Disconnect-Request"
                );
                debug!(
                    session = %session.acct_session_id,
                    mac = session.mac.map(|m| m.to_string()).unwrap_or_default(),
                    user = session.user.as_deref().unwrap_or(""),
                    "Disconnect-Request queued"
                );
            }
            Err(_) => {
                // The queue is full (a NAS not answering, thousands of sessions at once):
                // the session is checked again at the next occasion, nothing piles up.
                session.disconnect = if retry {
                    Attempt::Failed { at: now }
                } else {
                    Attempt::None
                };
                self.counters.inc(&self.counters.disconnects_deferred);
            }
        }
    }
}

/// One Disconnect-Request to send.
pub struct DisconnectJob {
    session: OpenSession,
    target: DisconnectTarget,
    trigger: &'static str,
}

/// What a sent Disconnect-Request left for the enforcer's table: the session and its state.
type Report = (Key, Attempt);

/// Sends queued Disconnect-Requests, at most PARALLEL_DISCONNECTS at once (each may wait
/// 7 s for a NAS that does not answer), records their outcomes and reports them back.
async fn dispatch(
    mut jobs: mpsc::Receiver<DisconnectJob>,
    dynauth: Arc<DynAuthClient>,
    writer: WriterHandle,
    counters: Arc<Counters>,
    report: mpsc::Sender<Report>,
) {
    let permits = Arc::new(Semaphore::new(PARALLEL_DISCONNECTS));
    while let Some(job) = jobs.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (dynauth, writer, counters) = (dynauth.clone(), writer.clone(), counters.clone());
        let report = report.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let DisconnectJob {
                session,
                target,
                trigger,
            } = job;
            let started = Timestamp::now();
            counters.inc(&counters.disconnects_sent);
            let (result, attempts, cause) = match dynauth.disconnect(&target).await {
                Ok((DisconnectOutcome::Ack, n)) => {
                    counters.inc(&counters.disconnects_acked);
                    (DisconnectResult::Ack, n, None)
                }
                Ok((DisconnectOutcome::Nak(cause), n)) => {
                    counters.inc(&counters.disconnects_naked);
                    (DisconnectResult::Nak, n, cause)
                }
                Ok((DisconnectOutcome::Timeout, n)) => {
                    counters.inc(&counters.disconnects_timed_out);
                    (DisconnectResult::Timeout, n, None)
                }
                Err(e) => {
                    warn!(error = %e, "Disconnect-Request failed");
                    (DisconnectResult::Error, 0, None)
                }
            };
            let finished = Timestamp::now();
            let mut row = record(
                &session,
                Some(target.nas.ip()),
                trigger,
                attempts,
                result,
                finished,
            );
            row.time = started;
            row.error_cause = cause;
            writer.disconnect_result(row);
            let attempt = match result {
                DisconnectResult::Ack => Attempt::Acked,
                _ => Attempt::Failed { at: finished },
            };
            let key = (session.client, session.acct_session_id);
            // the enforcer is gone only when the daemon stops
            let _ = report.send((key, attempt)).await;
        });
    }
}

/// The row of one Disconnect-Request (or of one that could not be sent): `sent_to` is the
/// address it went to.
fn record(
    session: &OpenSession,
    sent_to: Option<IpAddr>,
    trigger: &'static str,
    attempts: u32,
    result: DisconnectResult,
    finished: Timestamp,
) -> DisconnectRecord {
    DisconnectRecord {
        time: finished,
        client: session.client.clone(),
        nas_ip: sent_to,
        acct_session_id: Some(session.acct_session_id.clone()),
        mac: session.mac,
        user: session.user.as_deref().map(str::to_string),
        trigger,
        attempts,
        result,
        error_cause: None,
        finished: Some(finished),
    }
}

fn has_quotas(dir: &Directory) -> bool {
    dir.policy.groups.iter().any(|g| g.daily_quota.is_some())
}

/// The account a session's data counts for: the login, or the owner of the device.
fn owner_of(s: &OpenSession, dir: &Directory) -> Option<UserName> {
    s.user
        .clone()
        .or_else(|| s.mac.and_then(|m| dir.device(&m)).map(|d| d.owner.clone()))
}

/// Today's use per account with a quota, from the database (after a restart). Counts
/// whole sessions that overlap today (`store::Reader::usage_of`): an overestimate at
/// the day's start, never an underestimate.
type DayUsage = ((Timestamp, Timestamp), HashMap<Arc<str>, u64>);

fn usage_today(reader: &store::Reader, dir: &Directory) -> Result<DayUsage, store::StoreError> {
    let day = policy::local_day_bounds(Timestamp::now(), &dir.server.timezone);
    let quota_groups: Vec<&str> = dir
        .policy
        .groups
        .iter()
        .filter(|g| g.daily_quota.is_some())
        .map(|g| g.name.as_str())
        .collect();
    let mut by_user = HashMap::new();
    for user in dir.users() {
        if user
            .groups
            .iter()
            .any(|g| quota_groups.contains(&g.as_str()))
        {
            let used = reader.usage_of(&user.name, day.0, day.1)?;
            if used > 0 {
                by_user.insert(user.name.clone(), used);
            }
        }
    }
    Ok((day, by_user))
}

/// Whether a re-decided session must end, and the word for why.
fn disconnect_trigger(outcome: &Outcome, reason: Reason) -> Option<&'static str> {
    Some(match (outcome, reason) {
        // still allowed as before
        (Outcome::Accept { .. }, Reason::Accepted) => return None,
        // the registration was removed: into the unregistered VLAN, or out
        (_, Reason::NotRegistered) => "device_removed",
        (Outcome::Accept { .. }, _) => return None,
        (Outcome::Reject, Reason::Banned) => "ban",
        (Outcome::Reject, Reason::DeviceBanned) => "device_ban",
        (Outcome::Reject, Reason::AccountDisabled) => "account_disabled",
        (Outcome::Reject, Reason::NoConsent) => "consent_withdrawn",
        (Outcome::Reject, Reason::OutsideSchedule) => "schedule",
        (Outcome::Reject, Reason::NoGrant) => "grant_ended",
        (Outcome::Reject, Reason::QuotaExceeded) => "quota",
        (Outcome::Reject, Reason::NoPolicy) => "no_policy",
        (Outcome::Reject, Reason::BadCredentials) => "account_removed",
        (Outcome::Reject, _) => "policy",
    })
}

/// For MAB sessions the policy looks the owner up from the device; for logins with an
/// account the account itself is checked.
fn user_for_recheck(mac: Option<MacAddr>, user: Option<&str>, dir: &Directory) -> Option<UserName> {
    let user = user?;
    if let Some(owner) = mac.and_then(|m| dir.device(&m)).map(|d| d.owner.clone())
        && &*owner == user
    {
        return None;
    }
    Some(Arc::from(user))
}

fn target_for(s: &OpenSession, dir: &Directory) -> Option<DisconnectTarget> {
    let client = dir
        .radius
        .clients
        .iter()
        .find(|c| *c.name == *s.client)
        .or_else(|| s.nas_ip.and_then(|ip| dir.client_for(ip)))?;
    let nas_ip = disconnect_address(client.network, s.nas_ip)?;
    Some(DisconnectTarget {
        nas: SocketAddr::new(nas_ip, client.coa_port),
        secret: client.secret.clone(),
        acct_session_id: s.acct_session_id.clone(),
        user_name: s
            .user
            .as_deref()
            .map(str::to_string)
            .or_else(|| s.mac.map(|m| m.to_string().replace(':', "-"))),
        calling_station_id: s
            .mac
            .map(|m| m.to_string().replace(':', "-").to_uppercase()),
        nas_ip: s.nas_ip,
    })
}

/// Applies a committed record to the table; returns the key of a session that was opened
/// or updated (to be checked).
fn apply(
    sessions: &mut HashMap<Key, OpenSession>,
    r: AccountingRecord,
    dir: &Directory,
) -> Option<Key> {
    match r.status {
        AcctStatus::Start | AcctStatus::Interim => {
            let key: Key = (r.client.clone(), r.acct_session_id.clone());
            let user = user_for_recheck(r.mac, r.user.as_deref(), dir);
            let entry = sessions.entry(key.clone()).or_insert_with(|| OpenSession {
                client: r.client.clone(),
                acct_session_id: r.acct_session_id.clone(),
                mac: r.mac,
                user,
                module: r.module.unwrap_or(Module::Wifi),
                nas_ip: r.nas_ip,
                disconnect: Attempt::None,
            });
            if entry.nas_ip.is_none() {
                entry.nas_ip = r.nas_ip;
            }
            Some(key)
        }
        AcctStatus::Stop => {
            sessions.remove(&(r.client.clone(), r.acct_session_id.clone()));
            None
        }
        AcctStatus::AccountingOn | AcctStatus::AccountingOff => {
            sessions.retain(|_, s| {
                !(s.client == r.client && (r.nas_ip.is_none() || s.nas_ip == r.nas_ip))
            });
            None
        }
    }
}

/// Replaces the table with a fresh read, keeping where each session's Disconnect stands.
fn merge(sessions: &mut HashMap<Key, OpenSession>, fresh: HashMap<Key, OpenSession>) {
    let mut fresh = fresh;
    for (k, s) in fresh.iter_mut() {
        if let Some(old) = sessions.get(k) {
            s.disconnect = old.disconnect;
        }
    }
    *sessions = fresh;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// A config with one ban of max.muster on Wi-Fi from `from` to `until`.
    fn directory_with_ban(dir: &std::path::Path, from: &str, until: &str) -> Directory {
        std::fs::write(
            dir.join("hallpass.toml"),
            format!(
                "[server]\ntimezone = \"Europe/Berlin\"\nstate_dir = \"{}\"\n\n\
                 [[radius.client]]\nname = \"ap\"\naddress = \"10.0.0.0/24\"\n\
                 secret = \"0123456789abcdef\"\nmodule = \"wifi\"\n\n\
                 [[policy.group]]\nname = \"students\"\nvlan = 20\n",
                dir.join("state").display()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("users.toml"),
            "[[user]]\nname = \"max.muster\"\ngroups = [\"students\"]\nconsent = true\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("bans.toml"),
            format!(
                "[[ban]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\nfrom = {from}\n\
                 until = {until}\nreason = \"Test\"\n"
            ),
        )
        .unwrap();
        crate::config::load(dir, ts("2026-12-01T00:00:00Z")).unwrap()
    }

    #[test]
    fn the_enforcer_looks_just_after_a_ban_starts_and_ends_and_at_least_every_30_s() {
        let tmp = tempfile::tempdir().unwrap();
        let d = directory_with_ban(tmp.path(), "2026-12-03T08:00:00Z", "2026-12-03T09:00:00Z");
        // (now, when it looks next)
        for (now, want) in [
            ("2026-12-03T07:59:50Z", "2026-12-03T08:00:00.005Z"),
            ("2026-12-03T07:00:00Z", "2026-12-03T07:00:30Z"),
            ("2026-12-03T08:00:00.001Z", "2026-12-03T08:00:30.001Z"),
            ("2026-12-03T08:59:45Z", "2026-12-03T09:00:00.005Z"),
            ("2026-12-04T00:00:00Z", "2026-12-04T00:00:30Z"),
        ] {
            assert_eq!(next_look(&d, ts(now)), ts(want), "at {now}");
        }
    }

    #[test]
    fn an_instant_passed_while_records_kept_the_loop_busy_is_still_looked_at() {
        let look_at = ts("2026-12-03T08:00:00.005Z");
        let retry = Some(ts("2026-12-03T08:01:00Z"));
        // (retry due, now, look)
        for (retry_due, now, want) in [
            (None, "2026-12-03T08:00:00.004Z", false),
            (None, "2026-12-03T08:00:00.005Z", true),
            // a record woke the loop 3 ms after the instant: it looks all the same
            (None, "2026-12-03T08:00:00.008Z", true),
            (None, "2026-12-03T08:05:00Z", true),
            (retry, "2026-12-03T08:00:00Z", false),
            (
                Some(ts("2026-12-03T07:59:00Z")),
                "2026-12-03T08:00:00Z",
                true,
            ),
        ] {
            assert_eq!(
                time_to_look(look_at, retry_due, ts(now)),
                want,
                "{retry_due:?} at {now}"
            );
        }
    }

    #[test]
    fn a_failed_disconnect_is_due_again_a_minute_after_it_ended() {
        let failed = Attempt::Failed {
            at: ts("2026-12-03T08:00:00Z"),
        };
        // (where it stands, now, due)
        for (attempt, now, due) in [
            (Attempt::None, "2026-12-03T08:00:00Z", true),
            (Attempt::InFlight, "2026-12-03T09:00:00Z", false),
            (Attempt::Acked, "2026-12-03T09:00:00Z", false),
            (failed, "2026-12-03T08:00:00Z", false),
            (failed, "2026-12-03T08:00:59.999Z", false),
            (failed, "2026-12-03T08:01:00Z", true),
            (failed, "2026-12-04T08:00:00Z", true),
        ] {
            assert_eq!(
                disconnect_due(attempt, ts(now)),
                due,
                "{attempt:?} at {now}"
            );
        }
        let later = Attempt::Failed {
            at: ts("2026-12-03T08:00:30Z"),
        };
        assert_eq!(
            next_retry(
                [
                    Attempt::None,
                    later,
                    Attempt::InFlight,
                    failed,
                    Attempt::Acked
                ]
                .into_iter()
            ),
            Some(ts("2026-12-03T08:01:00Z"))
        );
        assert_eq!(
            next_retry([Attempt::None, Attempt::InFlight, Attempt::Acked].into_iter()),
            None
        );
    }

    #[test]
    fn a_disconnect_goes_only_to_an_address_inside_the_client_s_network() {
        let net = |s: &str| s.parse::<IpNetwork>().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // (client network, recorded NAS address, where it goes)
        for (network, nas_ip, want) in [
            ("127.0.0.1/32", Some("127.0.0.1"), Some("127.0.0.1")),
            // a row written before acct checked the claim (or edited by hand)
            ("127.0.0.1/32", Some("127.0.0.99"), Some("127.0.0.1")),
            ("127.0.0.1/32", None, Some("127.0.0.1")),
            ("10.0.0.0/24", Some("10.0.0.17"), Some("10.0.0.17")),
            ("10.0.0.0/24", Some("10.0.1.17"), None),
            ("10.0.0.0/24", None, None),
            ("2001:db8::1/128", Some("2001:db8::2"), Some("2001:db8::1")),
            ("2001:db8::/64", Some("2001:db8::2"), Some("2001:db8::2")),
            ("2001:db8::/64", Some("10.0.0.1"), None),
        ] {
            assert_eq!(
                disconnect_address(net(network), nas_ip.map(ip)),
                want.map(ip),
                "{network} {nas_ip:?}"
            );
        }
    }

    #[test]
    fn what_ends_a_session() {
        let accept = Outcome::Accept {
            vlan: crate::model::Vlan::new(20).unwrap(),
            filter_id: None,
            session_timeout: 1,
        };
        assert_eq!(disconnect_trigger(&accept, Reason::Accepted), None);
        assert_eq!(
            disconnect_trigger(&accept, Reason::NotRegistered),
            Some("device_removed")
        );
        assert_eq!(
            disconnect_trigger(&Outcome::Reject, Reason::Banned),
            Some("ban")
        );
        assert_eq!(
            disconnect_trigger(&Outcome::Reject, Reason::NoConsent),
            Some("consent_withdrawn")
        );
    }
}
