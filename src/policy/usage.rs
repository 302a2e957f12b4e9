//! Data used today per account, for daily quotas: kept in memory, fed by committed
//! accounting records (the enforcer is the only writer), read by the auth path without
//! touching the disk. The NAS reports octets per session as running totals; each record
//! adds the growth since the session's previous record to its owner's day. At the start of
//! a new local day (server time zone) the day's totals start from zero.
//!
//! The quota book, pure like the rest of `policy`: no I/O, no clock (every time is a
//! parameter), no tasks; the lock only lets the auth path read while the enforcer writes.
//! It reads the store's accounting record as a value and never touches the database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::config::Directory;
use crate::model::MacAddr;
use crate::policy::{self, Facts};
use crate::store::{AccountingRecord, AcctStatus};

#[derive(Default)]
pub struct UsageBook {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The local day the totals are for: [start, end).
    day: Option<(Timestamp, Timestamp)>,
    by_user: HashMap<Arc<str>, u64>,
    /// Last running total (in + out) per (client, Acct-Session-Id).
    sessions: HashMap<(Arc<str>, String), u64>,
}

impl UsageBook {
    /// Octets `user` transferred in the local day of `now`; `None` when nothing is known
    /// for that day (counts as zero for the quota).
    pub fn usage_today(&self, user: &str, now: Timestamp) -> u64 {
        let Ok(inner) = self.inner.read() else {
            return 0;
        };
        match inner.day {
            Some((start, end)) if start <= now && now < end => {
                inner.by_user.get(user).copied().unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// Starts the day's totals from what the database already holds (after a restart).
    pub fn seed(&self, day: (Timestamp, Timestamp), by_user: HashMap<Arc<str>, u64>) {
        if let Ok(mut inner) = self.inner.write() {
            inner.day = Some(day);
            inner.by_user = by_user;
        }
    }

    /// Sets the running total a session had before this process saw it (after a restart),
    /// so that only growth from now on is added.
    pub fn baseline(&self, client: Arc<str>, session: String, total: u64) {
        if let Ok(mut inner) = self.inner.write() {
            inner.sessions.insert((client, session), total);
        }
    }

    /// Adds a committed accounting record.
    pub fn record(&self, r: &AccountingRecord, tz: &TimeZone) {
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        let inner = &mut *inner;
        let needs_new_day = inner.day.is_none_or(|(_, end)| r.time >= end);
        if needs_new_day {
            inner.day = Some(policy::local_day_bounds(r.time, tz));
            inner.by_user.clear();
        }
        match r.status {
            AcctStatus::AccountingOn | AcctStatus::AccountingOff => {
                inner.sessions.retain(|(client, _), _| *client != r.client);
                return;
            }
            AcctStatus::Start | AcctStatus::Interim | AcctStatus::Stop => {}
        }
        let key = (r.client.clone(), r.acct_session_id.clone());
        let total = r.input_octets.saturating_add(r.output_octets);
        let before = inner.sessions.get(&key).copied().unwrap_or(0);
        let growth = total.saturating_sub(before);
        if r.status == AcctStatus::Stop {
            inner.sessions.remove(&key);
        } else {
            inner.sessions.insert(key, total.max(before));
        }
        if growth > 0
            && let Some(user) = &r.user
        {
            let day_total = inner.by_user.entry(Arc::from(user.as_str())).or_insert(0);
            *day_total = day_total.saturating_add(growth);
        }
    }

    /// The facts the policy needs for a request by `user_name` (a MAC for MAB, else an
    /// account): today's usage, only when some group has a daily quota.
    pub fn facts_for(&self, dir: &Directory, user_name: &[u8], now: Timestamp) -> Facts {
        if !dir.policy.groups.iter().any(|g| g.daily_quota.is_some()) {
            return Facts::default();
        }
        let user: Option<&str> = match MacAddr::parse_bytes(user_name) {
            Some(mac) => dir.device(&mac).map(|d| &*d.owner),
            None => std::str::from_utf8(user_name).ok(),
        };
        Facts {
            usage_today: user.map(|u| self.usage_today(u, now)),
            ..Facts::default()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::Module;

    fn rec(status: AcctStatus, session: &str, octets: u64, at: &str) -> AccountingRecord {
        AccountingRecord {
            status,
            client: Arc::from("nas"),
            acct_session_id: session.into(),
            mac: None,
            user: Some("max".into()),
            module: Some(Module::Wifi),
            nas_ip: None,
            nas_port: None,
            called_station_id: None,
            framed_ip: None,
            time: at.parse().unwrap(),
            input_octets: octets,
            output_octets: 0,
            session_time: 0,
            terminate_cause: None,
            interim_interval: None,
        }
    }

    #[test]
    fn running_totals_add_growth_and_a_new_day_starts_at_zero() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let book = UsageBook::default();
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        book.record(&rec(AcctStatus::Start, "a", 0, "2026-11-27T09:00:00Z"), &tz);
        book.record(
            &rec(AcctStatus::Interim, "a", 1000, "2026-11-27T09:10:00Z"),
            &tz,
        );
        book.record(
            &rec(AcctStatus::Interim, "a", 1500, "2026-11-27T09:20:00Z"),
            &tz,
        );
        // a retransmitted older record adds nothing
        book.record(
            &rec(AcctStatus::Interim, "a", 1000, "2026-11-27T09:20:00Z"),
            &tz,
        );
        book.record(
            &rec(AcctStatus::Start, "b", 200, "2026-11-27T09:30:00Z"),
            &tz,
        );
        assert_eq!(book.usage_today("max", t("2026-11-27T09:30:00Z")), 1700);
        book.record(
            &rec(AcctStatus::Stop, "a", 2000, "2026-11-27T09:40:00Z"),
            &tz,
        );
        assert_eq!(book.usage_today("max", t("2026-11-27T09:40:00Z")), 2200);
        // local midnight in Berlin is 23:00 UTC: the next day starts at zero; session b's
        // growth after midnight counts for the new day
        assert_eq!(book.usage_today("max", t("2026-11-27T23:00:00Z")), 0);
        book.record(
            &rec(AcctStatus::Interim, "b", 700, "2026-11-27T23:10:00Z"),
            &tz,
        );
        assert_eq!(book.usage_today("max", t("2026-11-27T23:10:00Z")), 500);
        assert_eq!(book.usage_today("other", t("2026-11-27T23:10:00Z")), 0);
    }
}
