//! Disconnect results (what happened to each Disconnect-Request sent to a NAS) and the admin
//! audit log (who changed what, and why). Plain append-only rows.

use std::net::IpAddr;
use std::sync::Arc;

use jiff::Timestamp;
use rusqlite::{Connection, Row};

use super::StoreError;
use crate::model::MacAddr;

/// How a Disconnect-Request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectResult {
    /// Disconnect-ACK: the NAS ended the session.
    Ack,
    /// Disconnect-NAK (see `error_cause`).
    Nak,
    /// No answer after every attempt.
    Timeout,
    /// Could not be sent (no route, no secret, ...).
    Error,
}

impl DisconnectResult {
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectResult::Ack => "ack",
            DisconnectResult::Nak => "nak",
            DisconnectResult::Timeout => "timeout",
            DisconnectResult::Error => "error",
        }
    }

    fn parse(s: &str) -> Option<DisconnectResult> {
        Some(match s {
            "ack" => DisconnectResult::Ack,
            "nak" => DisconnectResult::Nak,
            "timeout" => DisconnectResult::Timeout,
            "error" => DisconnectResult::Error,
            _ => return None,
        })
    }
}

/// One Disconnect-Request and its outcome, as the dynamic-authorization client hands it to
/// the writer.
#[derive(Clone, Debug)]
pub struct DisconnectRecord {
    /// When the request was first sent.
    pub time: Timestamp,
    pub client: Arc<str>,
    /// Where the request was sent (always inside the client's network); `None` when there
    /// was no such address and nothing was sent (`result` is then `Error`).
    pub nas_ip: Option<IpAddr>,
    pub acct_session_id: Option<String>,
    pub mac: Option<MacAddr>,
    pub user: Option<String>,
    /// Why it was sent, e.g. `"ban"`, `"device_removed"`.
    pub trigger: &'static str,
    /// Tries in this round (three with backoff, fewer when answered). A NAKed or unanswered
    /// round is followed by another a minute later while the session stays open and not
    /// allowed: one row per round.
    pub attempts: u32,
    pub result: DisconnectResult,
    /// Error-Cause of a NAK (RFC 5176 3.5).
    pub error_cause: Option<u32>,
    /// When the answer came (or the last attempt timed out).
    pub finished: Option<Timestamp>,
}

impl serde::Serialize for DisconnectResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One stored Disconnect result, as read back. Printed (in a person's export) as what
/// happened to them: when, which NAS and session, why and how it ended; the row id, the
/// NAS address and the retry details are the daemon's bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DisconnectEntry {
    #[serde(skip)]
    pub id: i64,
    pub time: Timestamp,
    pub client: String,
    #[serde(skip)]
    pub nas_ip: Option<IpAddr>,
    pub acct_session_id: Option<String>,
    pub mac: Option<MacAddr>,
    pub user: Option<String>,
    pub trigger: String,
    #[serde(skip)]
    pub attempts: u32,
    pub result: DisconnectResult,
    #[serde(skip)]
    pub error_cause: Option<u32>,
    #[serde(skip)]
    pub finished: Option<Timestamp>,
}

/// One admin action, as the CLI or the daemon hands it to the writer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditRecord {
    pub time: Timestamp,
    /// Who did it: the account the admin logged in with (the kernel's login uid), which a
    /// caller cannot choose.
    pub actor: String,
    /// The `SUDO_USER` the command ran with, if any: a hint only, since any caller can set
    /// it; kept beside `actor`, never instead of it.
    pub sudo_user: Option<String>,
    /// What, e.g. `"ban.add"`, `"erase"`.
    pub action: String,
    /// On whom or what, e.g. a user name or a MAC.
    pub subject: String,
    pub reason: Option<String>,
}

/// One stored admin action, as read back; printed as one flat record.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(flatten)]
    pub record: AuditRecord,
}

pub(crate) fn insert_disconnect(conn: &Connection, d: &DisconnectRecord) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO disconnects (time, client, nas_ip, acct_session_id, mac, user, \"trigger\",
            attempts, result, error_cause, finished)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    stmt.execute(rusqlite::params![
        d.time.as_millisecond(),
        &*d.client,
        d.nas_ip.map(|ip| ip.to_string()),
        d.acct_session_id,
        d.mac.map(|m| m.to_string()),
        d.user,
        d.trigger,
        d.attempts,
        d.result.as_str(),
        d.error_cause,
        d.finished.map(|t| t.as_millisecond()),
    ])?;
    Ok(())
}

pub(crate) fn insert_audit(conn: &Connection, a: &AuditRecord) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO audit (time, actor, action, subject, reason, sudo_user)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    stmt.execute(rusqlite::params![
        a.time.as_millisecond(),
        a.actor,
        a.action,
        a.subject,
        a.reason,
        a.sudo_user
    ])?;
    Ok(())
}

fn limit_sql(limit: Option<usize>) -> i64 {
    limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX))
}

/// Disconnect results, newest first, at most `limit` (all if `None`).
pub(crate) fn disconnects(
    conn: &Connection,
    limit: Option<usize>,
) -> Result<Vec<DisconnectEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, time, client, nas_ip, acct_session_id, mac, user, \"trigger\", attempts,
            result, error_cause, finished
         FROM disconnects ORDER BY time DESC, id DESC LIMIT ?1",
    )?;
    let mut rows = stmt.query([limit_sql(limit)])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(disconnect_from_row(row)?);
    }
    Ok(out)
}

/// The audit log, newest first, at most `limit` (all if `None`).
pub(crate) fn audit_log(
    conn: &Connection,
    limit: Option<usize>,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, time, actor, action, subject, reason, sudo_user FROM audit
         ORDER BY time DESC, id DESC LIMIT ?1",
    )?;
    let mut rows = stmt.query([limit_sql(limit)])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        out.push(AuditEntry {
            id,
            record: AuditRecord {
                time: time(row, 1, id, "time")?,
                actor: row.get(2)?,
                action: row.get(3)?,
                subject: row.get(4)?,
                reason: row.get(5)?,
                sudo_user: row.get(6)?,
            },
        });
    }
    Ok(out)
}

fn time(row: &Row<'_>, idx: usize, id: i64, column: &'static str) -> Result<Timestamp, StoreError> {
    let v: i64 = row.get(idx)?;
    Timestamp::from_millisecond(v).map_err(|_| StoreError::BadRow {
        id,
        column,
        value: v.to_string(),
    })
}

fn disconnect_from_row(row: &Row<'_>) -> Result<DisconnectEntry, StoreError> {
    let id: i64 = row.get(0)?;
    let bad = |column: &'static str, value: String| StoreError::BadRow { id, column, value };
    let nas_ip = match row.get::<_, Option<String>>(3)? {
        None => None,
        Some(s) => Some(s.parse().map_err(|_| bad("nas_ip", s.clone()))?),
    };
    let mac = match row.get::<_, Option<String>>(5)? {
        None => None,
        Some(s) => Some(s.parse().map_err(|_| bad("mac", s.clone()))?),
    };
    let attempts: i64 = row.get(8)?;
    let result: String = row.get(9)?;
    let error_cause = match row.get::<_, Option<i64>>(10)? {
        None => None,
        Some(v) => Some(u32::try_from(v).map_err(|_| bad("error_cause", v.to_string()))?),
    };
    let finished = match row.get::<_, Option<i64>>(11)? {
        None => None,
        Some(_) => Some(time(row, 11, id, "finished")?),
    };
    Ok(DisconnectEntry {
        id,
        time: time(row, 1, id, "time")?,
        client: row.get(2)?,
        nas_ip,
        acct_session_id: row.get(4)?,
        mac,
        user: row.get(6)?,
        trigger: row.get(7)?,
        attempts: u32::try_from(attempts).map_err(|_| bad("attempts", attempts.to_string()))?,
        result: DisconnectResult::parse(&result).ok_or_else(|| bad("result", result.clone()))?,
        error_cause,
        finished,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::store::accounting::tests::{db, ts};

    pub(crate) fn disconnect(time: &str, user: &str, mac: &str) -> DisconnectRecord {
        DisconnectRecord {
            time: ts(time),
            client: "wlc-1".into(),
            nas_ip: Some("10.0.0.2".parse().unwrap()),
            acct_session_id: Some("S1".into()),
            mac: Some(mac.parse().unwrap()),
            user: Some(user.into()),
            trigger: "ban",
            attempts: 1,
            result: DisconnectResult::Ack,
            error_cause: None,
            finished: Some(ts(time)),
        }
    }

    pub(crate) fn audit(time: &str, subject: &str) -> AuditRecord {
        AuditRecord {
            time: ts(time),
            actor: "admin.mueller".into(),
            action: "ban.add".into(),
            subject: subject.into(),
            reason: Some("Netiquette".into()),
            sudo_user: None,
        }
    }

    #[test]
    fn disconnects_round_trip_newest_first() {
        let (_dir, conn) = db();
        let a = disconnect("2026-11-27T07:00:00Z", "max", "3c:22:fb:12:34:56");
        let b = DisconnectRecord {
            time: ts("2026-11-27T08:00:00Z"),
            client: "switch-3".into(),
            nas_ip: None,
            acct_session_id: None,
            mac: None,
            user: None,
            trigger: "device_removed",
            attempts: 3,
            result: DisconnectResult::Nak,
            error_cause: Some(503),
            finished: None,
        };
        insert_disconnect(&conn, &a).unwrap();
        insert_disconnect(&conn, &b).unwrap();
        let got = disconnects(&conn, None).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            DisconnectEntry {
                id: got[0].id,
                time: b.time,
                client: "switch-3".into(),
                nas_ip: None,
                acct_session_id: None,
                mac: None,
                user: None,
                trigger: "device_removed".into(),
                attempts: 3,
                result: DisconnectResult::Nak,
                error_cause: Some(503),
                finished: None,
            }
        );
        assert_eq!(got[1].nas_ip, a.nas_ip);
        assert_eq!(got[1].mac, a.mac);
        assert_eq!(got[1].user.as_deref(), Some("max"));
        assert_eq!(got[1].acct_session_id.as_deref(), Some("S1"));
        assert_eq!(got[1].result, DisconnectResult::Ack);
        assert_eq!(got[1].finished, a.finished);
        assert_eq!(disconnects(&conn, Some(1)).unwrap().len(), 1);
        for r in [
            DisconnectResult::Ack,
            DisconnectResult::Nak,
            DisconnectResult::Timeout,
            DisconnectResult::Error,
        ] {
            assert_eq!(DisconnectResult::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn audit_round_trip_newest_first() {
        let (_dir, conn) = db();
        let a = audit("2026-11-27T07:00:00Z", "max.muster");
        let mut b = audit("2026-11-27T08:00:00Z", "3c:22:fb:12:34:56");
        b.reason = None;
        b.action = "device.remove".into();
        b.sudo_user = Some("mallory".into());
        insert_audit(&conn, &a).unwrap();
        insert_audit(&conn, &b).unwrap();
        let got: Vec<AuditRecord> = audit_log(&conn, None)
            .unwrap()
            .into_iter()
            .map(|e| e.record)
            .collect();
        assert_eq!(got, [b.clone(), a]);
        assert_eq!(audit_log(&conn, Some(1)).unwrap()[0].record, b);
    }
}
