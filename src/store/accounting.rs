//! Accounting sessions: one row per (client, Acct-Session-Id), written from the NAS's
//! Accounting-Requests (Start, Interim-Update, Stop, Accounting-On/-Off) and closed as stale
//! when the NAS stops reporting. Read by the CLI and the daemon (open sessions to
//! disconnect, usage for quotas).
//!
//! Retransmissions and reordering are normal in RADIUS accounting, so every record is an
//! upsert that only moves a session forward: counters and `last_update` never go back, a
//! closed session is never reopened, and attributes are only replaced by present values.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rusqlite::types::Value;
use rusqlite::{Connection, Row};

use super::StoreError;
use crate::model::{MacAddr, Module};

/// Acct-Status-Type of a record (RFC 2866 5.1), without the wire values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcctStatus {
    Start,
    Interim,
    Stop,
    /// The NAS (re)started: none of its earlier sessions is still running.
    AccountingOn,
    /// The NAS is going down: all its sessions end.
    AccountingOff,
}

/// One Accounting-Request as the accounting listener hands it to the writer.
#[derive(Clone, Debug)]
pub struct AccountingRecord {
    pub status: AcctStatus,
    /// The client's name from the config.
    pub client: Arc<str>,
    /// Acct-Session-Id; ignored for Accounting-On/-Off.
    pub acct_session_id: String,
    pub mac: Option<MacAddr>,
    pub user: Option<String>,
    pub module: Option<Module>,
    /// The NAS's address: its NAS-IP-Address when that lies inside the client's configured
    /// network, else the packet's source (`server::acct::nas_address`). Disconnect-Requests
    /// go here; Accounting-On/-Off close only the sessions of this NAS when it is set (a
    /// client may be a whole subnet).
    pub nas_ip: Option<IpAddr>,
    pub nas_port: Option<u32>,
    /// Called-Station-Id (on Wi-Fi: the AP's MAC and the SSID).
    pub called_station_id: Option<String>,
    pub framed_ip: Option<IpAddr>,
    /// When the event happened (receive time minus Acct-Delay-Time).
    pub time: Timestamp,
    /// Octets + Gigawords × 2^32, computed by the caller.
    pub input_octets: u64,
    pub output_octets: u64,
    /// Acct-Session-Time in seconds.
    pub session_time: u32,
    pub terminate_cause: Option<u32>,
    /// Acct-Interim-Interval in seconds, if the NAS told it.
    pub interim_interval: Option<u32>,
}

/// Why a session was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosedBy {
    Stop,
    AccountingOn,
    AccountingOff,
    /// No update for twice the interim interval plus a grace period.
    Stale,
}

impl ClosedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ClosedBy::Stop => "stop",
            ClosedBy::AccountingOn => "accounting_on",
            ClosedBy::AccountingOff => "accounting_off",
            ClosedBy::Stale => "stale",
        }
    }

    fn parse(s: &str) -> Option<ClosedBy> {
        Some(match s {
            "stop" => ClosedBy::Stop,
            "accounting_on" => ClosedBy::AccountingOn,
            "accounting_off" => ClosedBy::AccountingOff,
            "stale" => ClosedBy::Stale,
            _ => return None,
        })
    }
}

impl serde::Serialize for ClosedBy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One stored session, as read back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Session {
    pub id: i64,
    pub client: String,
    pub acct_session_id: String,
    pub mac: Option<MacAddr>,
    pub user: Option<String>,
    pub module: Option<Module>,
    pub nas_ip: Option<IpAddr>,
    pub nas_port: Option<u32>,
    pub called_station_id: Option<String>,
    pub framed_ip: Option<IpAddr>,
    pub started: Timestamp,
    pub last_update: Timestamp,
    pub stopped: Option<Timestamp>,
    pub input_octets: u64,
    pub output_octets: u64,
    pub session_time: u32,
    pub terminate_cause: Option<u32>,
    /// Only for deciding when the session is stale; not part of the printed record.
    #[serde(skip)]
    pub interim_interval: Option<u32>,
    pub closed_by: Option<ClosedBy>,
}

impl Session {
    pub fn is_open(&self) -> bool {
        self.stopped.is_none()
    }
}

/// Which sessions to read. Every set field narrows the result; the default reads all.
#[derive(Clone, Debug, Default)]
pub struct SessionFilter {
    pub mac: Option<MacAddr>,
    pub user: Option<String>,
    pub open_only: bool,
    /// Only sessions running at or after this time (open, or stopped at or after it).
    pub since: Option<Timestamp>,
    /// At most this many sessions (the most recently started).
    pub limit: Option<usize>,
}

/// The interim interval assumed when the NAS did not tell one (seconds).
pub const DEFAULT_INTERIM_SECS: u32 = 600;

/// When an open session last updated at `last_update` becomes stale: after twice its
/// interim interval (600 s when unknown or 0) plus `grace`. A session is closed as stale
/// only when `now` is strictly later than this.
pub fn stale_after(
    last_update: Timestamp,
    interim_interval: Option<u32>,
    grace: Duration,
) -> Timestamp {
    let interim = interim_interval
        .filter(|&i| i > 0)
        .unwrap_or(DEFAULT_INTERIM_SECS);
    let wait = SignedDuration::from_secs(2 * i64::from(interim))
        .saturating_add(SignedDuration::try_from(grace).unwrap_or(SignedDuration::MAX));
    last_update.checked_add(wait).unwrap_or(Timestamp::MAX)
}

/// Octet counters are u64 on the wire (with gigawords) but SQLite integers are i64.
fn octets_to_sql(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Unix milliseconds of a duration, saturating.
fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Insert-or-update of one session; only moves it forward. Start and Interim never touch a
/// closed session (a late Interim after the Stop does not reopen it); a Stop always applies
/// (it carries the final counters) but keeps the time of an earlier Stop.
const UPSERT_SQL: &str = "INSERT INTO sessions
    (client, acct_session_id, mac, user, module, nas_ip, nas_port, called_station_id,
     framed_ip, started, last_update, stopped, input_octets, output_octets, session_time,
     terminate_cause, interim_interval, closed_by)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
    ON CONFLICT (client, acct_session_id) DO UPDATE SET
        mac = COALESCE(excluded.mac, mac),
        user = COALESCE(excluded.user, user),
        module = COALESCE(excluded.module, module),
        nas_ip = COALESCE(excluded.nas_ip, nas_ip),
        nas_port = COALESCE(excluded.nas_port, nas_port),
        called_station_id = COALESCE(excluded.called_station_id, called_station_id),
        framed_ip = COALESCE(excluded.framed_ip, framed_ip),
        started = MIN(started, excluded.started),
        last_update = MAX(last_update, excluded.last_update),
        input_octets = MAX(input_octets, excluded.input_octets),
        output_octets = MAX(output_octets, excluded.output_octets),
        session_time = MAX(session_time, excluded.session_time),
        terminate_cause = COALESCE(excluded.terminate_cause, terminate_cause),
        interim_interval = COALESCE(excluded.interim_interval, interim_interval),
        stopped = CASE WHEN closed_by = 'stop' THEN stopped
                       ELSE COALESCE(excluded.stopped, stopped) END,
        closed_by = COALESCE(excluded.closed_by, closed_by)
    WHERE ?19 OR sessions.stopped IS NULL";

/// Closes the open sessions of one client (of one NAS of it, if known) that were not
/// updated after the Accounting-On/-Off: a retransmitted On must not close sessions that
/// started after the NAS came back.
const CLOSE_CLIENT_SQL: &str = "UPDATE sessions
    SET stopped = MAX(started, ?2), closed_by = ?3
    WHERE client = ?1 AND stopped IS NULL AND last_update <= ?2
      AND (?4 IS NULL OR nas_ip IS NULL OR nas_ip = ?4)";

/// Applies one record (inside the caller's transaction). Returns the rows changed.
pub(crate) fn apply(conn: &Connection, rec: &AccountingRecord) -> rusqlite::Result<usize> {
    let time = rec.time.as_millisecond();
    match rec.status {
        AcctStatus::AccountingOn | AcctStatus::AccountingOff => {
            let by = if rec.status == AcctStatus::AccountingOn {
                ClosedBy::AccountingOn
            } else {
                ClosedBy::AccountingOff
            };
            let mut stmt = conn.prepare_cached(CLOSE_CLIENT_SQL)?;
            stmt.execute(rusqlite::params![
                &*rec.client,
                time,
                by.as_str(),
                rec.nas_ip.map(|ip| ip.to_string()),
            ])
        }
        AcctStatus::Start | AcctStatus::Interim | AcctStatus::Stop => {
            let stop = rec.status == AcctStatus::Stop;
            // A session first seen in an Interim or Stop (its Start was lost) started
            // session_time seconds before.
            let started = time.saturating_sub(i64::from(rec.session_time) * 1000);
            let mut stmt = conn.prepare_cached(UPSERT_SQL)?;
            stmt.execute(rusqlite::params![
                &*rec.client,
                rec.acct_session_id,
                rec.mac.map(|m| m.to_string()),
                rec.user.as_deref().filter(|u| !u.is_empty()),
                rec.module.map(Module::as_str),
                rec.nas_ip.map(|ip| ip.to_string()),
                rec.nas_port,
                rec.called_station_id.as_deref().filter(|s| !s.is_empty()),
                rec.framed_ip.map(|ip| ip.to_string()),
                started,
                time,
                stop.then_some(time),
                octets_to_sql(rec.input_octets),
                octets_to_sql(rec.output_octets),
                rec.session_time,
                if stop { rec.terminate_cause } else { None },
                rec.interim_interval,
                stop.then_some(ClosedBy::Stop.as_str()),
                stop,
            ])
        }
    }
}

/// Closes every open session with no update for longer than [`stale_after`] allows, as
/// `stale`, with `stopped` = its last update (the last time it was known to run). Returns
/// how many were closed.
pub(crate) fn close_stale(
    conn: &Connection,
    now: Timestamp,
    grace: Duration,
) -> Result<usize, StoreError> {
    let mut stmt = conn.prepare_cached(
        "UPDATE sessions SET stopped = last_update, closed_by = 'stale'
         WHERE stopped IS NULL
           AND last_update + 2000 * COALESCE(NULLIF(interim_interval, 0), ?3) + ?2 < ?1",
    )?;
    Ok(stmt.execute(rusqlite::params![
        now.as_millisecond(),
        duration_ms(grace),
        DEFAULT_INTERIM_SECS,
    ])?)
}

const SELECT_SQL: &str = "SELECT id, client, acct_session_id, mac, user, module, nas_ip,
    nas_port, called_station_id, framed_ip, started, last_update, stopped, input_octets,
    output_octets, session_time, terminate_cause, interim_interval, closed_by
    FROM sessions";

/// Every open session, the most recently started first.
pub(crate) fn open_sessions(conn: &Connection) -> Result<Vec<Session>, StoreError> {
    sessions(
        conn,
        &SessionFilter {
            open_only: true,
            ..SessionFilter::default()
        },
    )
}

/// Sessions matching `filter`, the most recently started first.
pub(crate) fn sessions(
    conn: &Connection,
    filter: &SessionFilter,
) -> Result<Vec<Session>, StoreError> {
    let mut sql = format!("{SELECT_SQL} WHERE 1");
    let mut params: Vec<Value> = Vec::new();
    // Only fixed SQL fragments are appended; every value is a bound parameter.
    if let Some(mac) = filter.mac {
        params.push(Value::Text(mac.to_string()));
        sql.push_str(&format!(" AND mac = ?{}", params.len()));
    }
    if let Some(user) = &filter.user {
        params.push(Value::Text(user.clone()));
        sql.push_str(&format!(" AND user = ?{}", params.len()));
    }
    if filter.open_only {
        sql.push_str(" AND stopped IS NULL");
    }
    if let Some(since) = filter.since {
        params.push(Value::Integer(since.as_millisecond()));
        sql.push_str(&format!(
            " AND (stopped IS NULL OR stopped >= ?{})",
            params.len()
        ));
    }
    let limit = filter
        .limit
        .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    params.push(Value::Integer(limit));
    sql.push_str(&format!(
        " ORDER BY started DESC, id DESC LIMIT ?{}",
        params.len()
    ));
    query(conn, &sql, params)
}

/// The open sessions of a person: those of `user` (if given) and those of any of `macs`
/// (e.g. the devices registered to them), the most recently started first.
pub(crate) fn open_sessions_of(
    conn: &Connection,
    user: Option<&str>,
    macs: &[MacAddr],
) -> Result<Vec<Session>, StoreError> {
    let mut params: Vec<Value> = Vec::new();
    let mut who: Vec<String> = Vec::new();
    if let Some(user) = user {
        params.push(Value::Text(user.to_string()));
        who.push(format!("user = ?{}", params.len()));
    }
    for mac in macs {
        params.push(Value::Text(mac.to_string()));
        who.push(format!("mac = ?{}", params.len()));
    }
    if who.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{SELECT_SQL} WHERE stopped IS NULL AND ({}) ORDER BY started DESC, id DESC",
        who.join(" OR ")
    );
    query(conn, &sql, params)
}

/// Octets (input + output) of `user`'s sessions that overlap `[from, until)`.
///
/// An approximation: the store keeps only each session's cumulative counters, not when the
/// octets flowed, so a session that overlaps the window counts in full, even the part
/// before `from` (and, for an open session, up to its last update). It overestimates
/// sessions that cross the window's edges and never misses traffic inside it.
pub(crate) fn usage_by_user_between(
    conn: &Connection,
    user: &str,
    from: Timestamp,
    until: Timestamp,
) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT input_octets, output_octets FROM sessions
         WHERE user = ?1 AND started < ?3 AND (stopped IS NULL OR stopped >= ?2)",
    )?;
    let mut rows = stmt.query(rusqlite::params![
        user,
        from.as_millisecond(),
        until.as_millisecond()
    ])?;
    let mut total = 0u64;
    while let Some(row) = rows.next()? {
        let i: i64 = row.get(0)?;
        let o: i64 = row.get(1)?;
        // Summed here: SQLite's SUM fails on i64 overflow.
        total = total
            .saturating_add(u64::try_from(i).unwrap_or(0))
            .saturating_add(u64::try_from(o).unwrap_or(0));
    }
    Ok(total)
}

fn query(conn: &Connection, sql: &str, params: Vec<Value>) -> Result<Vec<Session>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(session_from_row(row)?);
    }
    Ok(out)
}

fn session_from_row(row: &Row<'_>) -> Result<Session, StoreError> {
    let id: i64 = row.get(0)?;
    let bad = |column: &'static str, value: String| StoreError::BadRow { id, column, value };
    let time = |idx: usize, column: &'static str| -> Result<Option<Timestamp>, StoreError> {
        match row.get::<_, Option<i64>>(idx)? {
            None => Ok(None),
            Some(ms) => Timestamp::from_millisecond(ms)
                .map(Some)
                .map_err(|_| bad(column, ms.to_string())),
        }
    };
    let ip = |idx: usize, column: &'static str| -> Result<Option<IpAddr>, StoreError> {
        match row.get::<_, Option<String>>(idx)? {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| bad(column, s.clone())),
        }
    };
    let u32_col = |idx: usize, column: &'static str| -> Result<Option<u32>, StoreError> {
        match row.get::<_, Option<i64>>(idx)? {
            None => Ok(None),
            Some(v) => u32::try_from(v)
                .map(Some)
                .map_err(|_| bad(column, v.to_string())),
        }
    };
    let u64_col = |idx: usize, column: &'static str| -> Result<u64, StoreError> {
        let v: i64 = row.get(idx)?;
        u64::try_from(v).map_err(|_| bad(column, v.to_string()))
    };
    let mac = match row.get::<_, Option<String>>(3)? {
        None => None,
        Some(s) => Some(s.parse::<MacAddr>().map_err(|_| bad("mac", s.clone()))?),
    };
    let module = match row.get::<_, Option<String>>(5)? {
        None => None,
        Some(s) => Some(s.parse::<Module>().map_err(|_| bad("module", s.clone()))?),
    };
    let closed_by = match row.get::<_, Option<String>>(18)? {
        None => None,
        Some(s) => Some(ClosedBy::parse(&s).ok_or_else(|| bad("closed_by", s.clone()))?),
    };
    let required = |t: Option<Timestamp>, column: &'static str| {
        t.ok_or_else(|| bad(column, "NULL".to_string()))
    };
    Ok(Session {
        id,
        client: row.get(1)?,
        acct_session_id: row.get(2)?,
        mac,
        user: row.get(4)?,
        module,
        nas_ip: ip(6, "nas_ip")?,
        nas_port: u32_col(7, "nas_port")?,
        called_station_id: row.get(8)?,
        framed_ip: ip(9, "framed_ip")?,
        started: required(time(10, "started")?, "started")?,
        last_update: required(time(11, "last_update")?, "last_update")?,
        stopped: time(12, "stopped")?,
        input_octets: u64_col(13, "input_octets")?,
        output_octets: u64_col(14, "output_octets")?,
        session_time: u32_col(15, "session_time")?.unwrap_or(0),
        terminate_cause: u32_col(16, "terminate_cause")?,
        interim_interval: u32_col(17, "interim_interval")?,
        closed_by,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::store::schema::{DB_FILE_NAME, open_rw};

    pub(crate) fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    pub(crate) fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_rw(
            &dir.path().join(DB_FILE_NAME),
            std::time::Duration::from_secs(1),
        )
        .unwrap();
        (dir, conn)
    }

    pub(crate) fn rec(status: AcctStatus, id: &str, time: &str) -> AccountingRecord {
        AccountingRecord {
            status,
            client: "wlc-1".into(),
            acct_session_id: id.into(),
            mac: Some("3c:22:fb:12:34:56".parse().unwrap()),
            user: Some("max.muster".into()),
            module: Some(Module::Wifi),
            nas_ip: Some("10.0.0.2".parse().unwrap()),
            nas_port: Some(7),
            called_station_id: Some("00-11-22-33-44-55:Schule".into()),
            framed_ip: None,
            time: ts(time),
            input_octets: 0,
            output_octets: 0,
            session_time: 0,
            terminate_cause: None,
            interim_interval: Some(300),
        }
    }

    fn all(conn: &Connection) -> Vec<Session> {
        sessions(conn, &SessionFilter::default()).unwrap()
    }

    #[test]
    fn start_round_trips_every_field() {
        let (_dir, conn) = db();
        let mut r = rec(AcctStatus::Start, "S1", "2026-11-27T07:00:00.250Z");
        r.framed_ip = Some("10.20.0.5".parse().unwrap());
        r.nas_ip = Some("2001:db8::2".parse().unwrap());
        apply(&conn, &r).unwrap();
        let got = all(&conn);
        assert_eq!(
            got,
            [Session {
                id: got[0].id,
                client: "wlc-1".into(),
                acct_session_id: "S1".into(),
                mac: r.mac,
                user: Some("max.muster".into()),
                module: Some(Module::Wifi),
                nas_ip: r.nas_ip,
                nas_port: Some(7),
                called_station_id: Some("00-11-22-33-44-55:Schule".into()),
                framed_ip: r.framed_ip,
                started: r.time,
                last_update: r.time,
                stopped: None,
                input_octets: 0,
                output_octets: 0,
                session_time: 0,
                terminate_cause: None,
                interim_interval: Some(300),
                closed_by: None,
            }]
        );
        assert!(got[0].is_open());
    }

    #[test]
    fn start_retransmitted_twice_gives_one_row() {
        let (_dir, conn) = db();
        let r = rec(AcctStatus::Start, "S1", "2026-11-27T07:00:00Z");
        for _ in 0..3 {
            assert_eq!(apply(&conn, &r).unwrap(), 1);
        }
        let got = all(&conn);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].started, r.time);
        // The same session id from another client is another session.
        let mut other = r.clone();
        other.client = "switch-3".into();
        apply(&conn, &other).unwrap();
        assert_eq!(all(&conn).len(), 2);
    }

    #[test]
    fn interim_without_start_creates_the_session() {
        let (_dir, conn) = db();
        let mut r = rec(AcctStatus::Interim, "S2", "2026-11-27T08:00:00Z");
        r.session_time = 600;
        r.input_octets = (3 << 32) + 5; // gigawords already folded in by the caller
        r.output_octets = 1234;
        r.framed_ip = Some("10.20.0.9".parse().unwrap());
        apply(&conn, &r).unwrap();
        let s = &all(&conn)[0];
        assert!(s.is_open());
        assert_eq!(s.started, ts("2026-11-27T07:50:00Z"), "time - session_time");
        assert_eq!(s.last_update, r.time);
        assert_eq!(s.input_octets, (3 << 32) + 5);
        assert_eq!(s.output_octets, 1234);
        assert_eq!(s.session_time, 600);
        assert_eq!(s.framed_ip, r.framed_ip);
    }

    #[test]
    fn interim_updates_counters_and_never_moves_back() {
        let (_dir, conn) = db();
        apply(&conn, &rec(AcctStatus::Start, "S1", "2026-11-27T07:00:00Z")).unwrap();
        let mut i2 = rec(AcctStatus::Interim, "S1", "2026-11-27T07:10:00Z");
        i2.input_octets = 2000;
        i2.output_octets = 3000;
        i2.session_time = 600;
        i2.framed_ip = Some("10.20.0.7".parse().unwrap());
        i2.user = None; // absent attributes keep what is stored
        let mut i1 = rec(AcctStatus::Interim, "S1", "2026-11-27T07:05:00Z");
        i1.input_octets = 1000;
        i1.session_time = 300;
        apply(&conn, &i2).unwrap();
        apply(&conn, &i1).unwrap(); // arrives late
        let s = &all(&conn)[0];
        assert_eq!(s.started, ts("2026-11-27T07:00:00Z"));
        assert_eq!(s.last_update, i2.time);
        assert_eq!((s.input_octets, s.output_octets), (2000, 3000));
        assert_eq!(s.session_time, 600);
        assert_eq!(s.framed_ip, i2.framed_ip);
        assert_eq!(s.user.as_deref(), Some("max.muster"));
    }

    #[test]
    fn stop_closes_and_a_late_interim_does_not_reopen() {
        let (_dir, conn) = db();
        apply(&conn, &rec(AcctStatus::Start, "S1", "2026-11-27T07:00:00Z")).unwrap();
        let mut stop = rec(AcctStatus::Stop, "S1", "2026-11-27T09:00:00Z");
        stop.input_octets = 10_000;
        stop.output_octets = u64::MAX; // beyond i64: capped, not an error
        stop.session_time = 7200;
        stop.terminate_cause = Some(1);
        apply(&conn, &stop).unwrap();
        let mut late = rec(AcctStatus::Interim, "S1", "2026-11-27T09:00:05Z");
        late.input_octets = 9_000;
        late.session_time = 7100;
        assert_eq!(apply(&conn, &late).unwrap(), 0, "nothing changed");
        // Nor does a retransmitted Start, and a retransmitted Stop keeps the first time.
        apply(&conn, &rec(AcctStatus::Start, "S1", "2026-11-27T09:01:00Z")).unwrap();
        let mut again = stop.clone();
        again.time = ts("2026-11-27T09:00:30Z");
        apply(&conn, &again).unwrap();
        let got = all(&conn);
        assert_eq!(got.len(), 1);
        let s = &got[0];
        assert_eq!(s.stopped, Some(stop.time));
        assert_eq!(s.closed_by, Some(ClosedBy::Stop));
        assert_eq!(s.terminate_cause, Some(1));
        assert_eq!(s.input_octets, 10_000);
        assert_eq!(s.output_octets, i64::MAX as u64);
        assert_eq!(s.session_time, 7200);
        assert!(open_sessions(&conn).unwrap().is_empty());
    }

    #[test]
    fn stop_without_start_creates_a_closed_session() {
        let (_dir, conn) = db();
        let mut stop = rec(AcctStatus::Stop, "S9", "2026-11-27T09:00:00Z");
        stop.session_time = 60;
        apply(&conn, &stop).unwrap();
        let s = &all(&conn)[0];
        assert_eq!(s.started, ts("2026-11-27T08:59:00Z"));
        assert_eq!(s.stopped, Some(stop.time));
        assert_eq!(s.closed_by, Some(ClosedBy::Stop));
    }

    #[test]
    fn a_stop_after_a_stale_close_records_the_real_end() {
        let (_dir, conn) = db();
        apply(&conn, &rec(AcctStatus::Start, "S1", "2026-11-27T07:00:00Z")).unwrap();
        assert_eq!(
            close_stale(&conn, ts("2026-11-28T00:00:00Z"), Duration::ZERO).unwrap(),
            1
        );
        assert_eq!(all(&conn)[0].closed_by, Some(ClosedBy::Stale));
        let mut stop = rec(AcctStatus::Stop, "S1", "2026-11-27T07:30:00Z");
        stop.input_octets = 5;
        apply(&conn, &stop).unwrap();
        let s = &all(&conn)[0];
        assert_eq!(s.closed_by, Some(ClosedBy::Stop));
        assert_eq!(s.stopped, Some(stop.time));
        assert_eq!(s.input_octets, 5);
    }

    #[test]
    fn accounting_on_closes_only_that_clients_open_sessions() {
        let (_dir, conn) = db();
        let mut other_client = rec(AcctStatus::Start, "B1", "2026-11-27T07:00:00Z");
        other_client.client = "switch-3".into();
        let mut other_nas = rec(AcctStatus::Start, "A3", "2026-11-27T07:00:00Z");
        other_nas.nas_ip = Some("10.0.0.3".parse().unwrap());
        for r in [
            rec(AcctStatus::Start, "A1", "2026-11-27T07:00:00Z"),
            rec(AcctStatus::Start, "A2", "2026-11-27T07:01:00Z"),
            rec(AcctStatus::Stop, "A0", "2026-11-27T06:00:00Z"),
            other_client,
            other_nas,
        ] {
            apply(&conn, &r).unwrap();
        }
        let mut on = rec(AcctStatus::AccountingOn, "", "2026-11-27T08:00:00Z");
        on.mac = None;
        on.user = None;
        assert_eq!(apply(&conn, &on).unwrap(), 2);
        let by_id = |id: &str| {
            all(&conn)
                .into_iter()
                .find(|s| s.acct_session_id == id)
                .unwrap()
        };
        for id in ["A1", "A2"] {
            let s = by_id(id);
            assert_eq!(s.closed_by, Some(ClosedBy::AccountingOn), "{id}");
            assert_eq!(s.stopped, Some(on.time));
        }
        assert_eq!(
            by_id("A0").closed_by,
            Some(ClosedBy::Stop),
            "already closed"
        );
        assert!(by_id("B1").is_open(), "another client");
        assert!(by_id("A3").is_open(), "another NAS of the same client");
        // A session that started after the NAS came back survives a retransmitted On;
        // without a NAS address, the On covers the whole client.
        apply(&conn, &rec(AcctStatus::Start, "A4", "2026-11-27T08:00:01Z")).unwrap();
        let mut off = rec(AcctStatus::AccountingOff, "", "2026-11-27T08:00:00Z");
        off.nas_ip = None;
        assert_eq!(apply(&conn, &off).unwrap(), 1);
        assert_eq!(by_id("A3").closed_by, Some(ClosedBy::AccountingOff));
        assert!(by_id("A4").is_open());
    }

    #[test]
    fn stale_after_formula() {
        let t = ts("2026-11-27T07:00:00Z");
        assert_eq!(
            stale_after(t, Some(300), Duration::from_secs(60)),
            ts("2026-11-27T07:11:00Z")
        );
        assert_eq!(
            stale_after(t, None, Duration::ZERO),
            ts("2026-11-27T07:20:00Z"),
            "600 s when unknown"
        );
        assert_eq!(
            stale_after(t, Some(0), Duration::ZERO),
            ts("2026-11-27T07:20:00Z")
        );
        assert_eq!(
            stale_after(Timestamp::MAX, Some(u32::MAX), Duration::MAX),
            Timestamp::MAX
        );
    }

    #[test]
    fn stale_closing_exact_boundaries() {
        let (_dir, conn) = db();
        let grace = Duration::from_secs(60);
        let mut a = rec(AcctStatus::Start, "A", "2026-11-27T07:00:00Z"); // interim 300
        a.interim_interval = Some(300);
        let mut b = rec(AcctStatus::Start, "B", "2026-11-27T07:00:00Z");
        b.interim_interval = None; // default 600
        apply(&conn, &a).unwrap();
        apply(&conn, &b).unwrap();
        let deadline_a = stale_after(a.time, a.interim_interval, grace);
        assert_eq!(deadline_a, ts("2026-11-27T07:11:00Z"));
        // Exactly at the deadline: still open. One millisecond later: stale.
        assert_eq!(close_stale(&conn, deadline_a, grace).unwrap(), 0);
        let just_after = deadline_a + SignedDuration::from_millis(1);
        assert_eq!(close_stale(&conn, just_after, grace).unwrap(), 1);
        let by_id = |id: &str| {
            all(&conn)
                .into_iter()
                .find(|s| s.acct_session_id == id)
                .unwrap()
        };
        let sa = by_id("A");
        assert_eq!(sa.closed_by, Some(ClosedBy::Stale));
        assert_eq!(sa.stopped, Some(a.time), "stopped at the last update");
        let deadline_b = stale_after(b.time, None, grace);
        assert_eq!(deadline_b, ts("2026-11-27T07:21:00Z"));
        assert!(by_id("B").is_open());
        assert_eq!(close_stale(&conn, deadline_b, grace).unwrap(), 0);
        assert_eq!(
            close_stale(&conn, deadline_b + SignedDuration::from_millis(1), grace).unwrap(),
            1
        );
        assert_eq!(by_id("B").closed_by, Some(ClosedBy::Stale));
    }

    #[test]
    fn an_interim_keeps_a_session_from_going_stale() {
        let (_dir, conn) = db();
        let grace = Duration::from_secs(60);
        apply(&conn, &rec(AcctStatus::Start, "A", "2026-11-27T07:00:00Z")).unwrap();
        apply(
            &conn,
            &rec(AcctStatus::Interim, "A", "2026-11-27T07:10:00Z"),
        )
        .unwrap();
        assert_eq!(
            close_stale(&conn, ts("2026-11-27T07:21:00Z"), grace).unwrap(),
            0
        );
        assert_eq!(
            close_stale(&conn, ts("2026-11-27T07:21:00.001Z"), grace).unwrap(),
            1
        );
    }

    #[test]
    fn session_filters_and_open_sessions_of() {
        let (_dir, conn) = db();
        let mac_b: MacAddr = "da:a1:19:00:00:01".parse().unwrap();
        let mut b = rec(AcctStatus::Start, "B", "2026-11-27T08:00:00Z");
        b.mac = Some(mac_b);
        b.user = Some("erika".into());
        let mut c = rec(AcctStatus::Start, "C", "2026-11-27T09:00:00Z");
        c.mac = Some(mac_b);
        c.user = None;
        for r in [
            rec(AcctStatus::Stop, "A", "2026-11-26T07:00:00Z"),
            rec(AcctStatus::Start, "D", "2026-11-27T07:00:00Z"),
            b,
            c,
        ] {
            apply(&conn, &r).unwrap();
        }
        let ids =
            |v: Vec<Session>| -> Vec<String> { v.into_iter().map(|s| s.acct_session_id).collect() };
        assert_eq!(ids(all(&conn)), ["C", "B", "D", "A"], "newest start first");
        assert_eq!(ids(open_sessions(&conn).unwrap()), ["C", "B", "D"]);
        let f = |f: SessionFilter| ids(sessions(&conn, &f).unwrap());
        assert_eq!(
            f(SessionFilter {
                mac: Some(mac_b),
                ..Default::default()
            }),
            ["C", "B"]
        );
        assert_eq!(
            f(SessionFilter {
                user: Some("max.muster".into()),
                ..Default::default()
            }),
            ["D", "A"]
        );
        assert_eq!(
            f(SessionFilter {
                user: Some("max.muster".into()),
                open_only: true,
                ..Default::default()
            }),
            ["D"]
        );
        assert_eq!(
            f(SessionFilter {
                since: Some(ts("2026-11-26T07:00:00Z")),
                ..Default::default()
            }),
            ["C", "B", "D", "A"],
            "stopped exactly at since counts"
        );
        assert_eq!(
            f(SessionFilter {
                since: Some(ts("2026-11-26T07:00:00.001Z")),
                limit: Some(2),
                ..Default::default()
            }),
            ["C", "B"]
        );
        assert_eq!(
            ids(open_sessions_of(&conn, Some("erika"), &[]).unwrap()),
            ["B"]
        );
        assert_eq!(
            ids(open_sessions_of(&conn, Some("max.muster"), &[mac_b]).unwrap()),
            ["C", "B", "D"]
        );
        assert_eq!(
            ids(open_sessions_of(&conn, None, &[mac_b]).unwrap()),
            ["C", "B"]
        );
        assert!(open_sessions_of(&conn, None, &[]).unwrap().is_empty());
        assert!(
            open_sessions_of(&conn, Some("nobody"), &[])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn usage_counts_sessions_overlapping_the_window() {
        let (_dir, conn) = db();
        let session = |id: &str, start: &str, stop: Option<&str>, octets: u64| {
            let mut s = rec(AcctStatus::Start, id, start);
            s.input_octets = octets;
            s.output_octets = octets;
            apply(&conn, &s).unwrap();
            if let Some(stop) = stop {
                let mut e = s.clone();
                e.status = AcctStatus::Stop;
                e.time = ts(stop);
                apply(&conn, &e).unwrap();
            }
        };
        // The window is 2026-11-27 (UTC).
        session(
            "before",
            "2026-11-26T10:00:00Z",
            Some("2026-11-26T23:59:59.999Z"),
            1,
        );
        session(
            "across",
            "2026-11-26T23:00:00Z",
            Some("2026-11-27T01:00:00Z"),
            10,
        );
        session(
            "inside",
            "2026-11-27T10:00:00Z",
            Some("2026-11-27T11:00:00Z"),
            100,
        );
        session("open", "2026-11-27T12:00:00Z", None, 1000);
        session("after", "2026-11-28T00:00:00Z", None, 10_000);
        let mut other = rec(AcctStatus::Start, "other", "2026-11-27T10:00:00Z");
        other.user = Some("erika".into());
        other.input_octets = 100_000;
        apply(&conn, &other).unwrap();
        let from = ts("2026-11-27T00:00:00Z");
        let until = ts("2026-11-28T00:00:00Z");
        assert_eq!(
            usage_by_user_between(&conn, "max.muster", from, until).unwrap(),
            2 * (10 + 100 + 1000)
        );
        assert_eq!(
            usage_by_user_between(&conn, "erika", from, until).unwrap(),
            100_000
        );
        assert_eq!(
            usage_by_user_between(&conn, "nobody", from, until).unwrap(),
            0
        );
        // Huge counters saturate instead of failing.
        let mut big = rec(AcctStatus::Start, "big", "2026-11-27T13:00:00Z");
        big.input_octets = u64::MAX;
        big.output_octets = u64::MAX;
        apply(&conn, &big).unwrap();
        assert_eq!(
            usage_by_user_between(&conn, "max.muster", from, until).unwrap(),
            u64::MAX
        );
    }

    #[test]
    fn a_corrupt_row_is_a_typed_error() {
        let (_dir, conn) = db();
        apply(&conn, &rec(AcctStatus::Start, "S1", "2026-11-27T07:00:00Z")).unwrap();
        conn.execute("UPDATE sessions SET nas_ip = 'nonsense'", [])
            .unwrap();
        match open_sessions(&conn) {
            Err(StoreError::BadRow {
                column: "nas_ip",
                value,
                ..
            }) => assert_eq!(value, "nonsense"),
            other => panic!("expected BadRow, got {other:?}"),
        }
    }
}
