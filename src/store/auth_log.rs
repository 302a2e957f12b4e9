//! The authentication log: one row per decision, written by the writer, read by the CLI.

use std::io::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use jiff::Timestamp;
use rusqlite::types::Value;
use rusqlite::{CachedStatement, Connection, Row};

use super::StoreError;
use crate::model::{MacAddr, Module};

/// One decision as the auth path hands it to the writer. Cheap to build: no allocation but
/// the `Arc` clones.
#[derive(Clone, Debug)]
pub struct AuthLogRow {
    pub time: Timestamp,
    /// The client's name from the config.
    pub client: Arc<str>,
    pub client_ip: IpAddr,
    pub mac: Option<MacAddr>,
    pub user: Option<Arc<str>>,
    pub module: Module,
    pub accepted: bool,
    /// The reason code, e.g. `"banned"`.
    pub reason: &'static str,
    pub vlan: Option<u16>,
}

/// One stored decision, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthLogEntry {
    pub id: i64,
    pub time: Timestamp,
    pub client: String,
    pub client_ip: IpAddr,
    pub mac: Option<MacAddr>,
    pub user: Option<String>,
    pub module: Module,
    pub accepted: bool,
    pub reason: String,
    pub vlan: Option<u16>,
}

/// Which log entries to read. Every set field narrows the result; the default reads all.
#[derive(Clone, Debug, Default)]
pub struct AuthLogFilter {
    pub mac: Option<MacAddr>,
    pub user: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<Timestamp>,
    /// Only entries strictly before this time.
    pub until: Option<Timestamp>,
    /// At most this many entries (the newest).
    pub limit: Option<usize>,
}

pub(crate) const INSERT_SQL: &str = "INSERT INTO auth_log
    (time, client, client_ip, mac, user, module, accepted, reason, vlan)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// Inserts one row (inside the caller's transaction).
#[cfg(test)]
pub(crate) fn insert(conn: &Connection, row: &AuthLogRow) -> rusqlite::Result<()> {
    Inserter::new(conn)?.insert(row)
}

/// Inserts rows with one prepared statement, formatting addresses on the stack: the writer
/// stores one row per decision, so per-row allocations and statement-cache lookups count.
pub(crate) struct Inserter<'c> {
    stmt: CachedStatement<'c>,
}

impl<'c> Inserter<'c> {
    pub(crate) fn new(conn: &'c Connection) -> rusqlite::Result<Inserter<'c>> {
        Ok(Inserter {
            stmt: conn.prepare_cached(INSERT_SQL)?,
        })
    }

    pub(crate) fn insert(&mut self, row: &AuthLogRow) -> rusqlite::Result<()> {
        let mac = row.mac.map(|m| m.colon_text());
        let mut ip = [0u8; 48];
        self.stmt.execute(rusqlite::params![
            row.time.as_millisecond(),
            &*row.client,
            ip_text(&row.client_ip, &mut ip),
            mac.as_ref().map(|m| m.as_str()),
            row.user.as_deref(),
            row.module.as_str(),
            row.accepted,
            row.reason,
            row.vlan,
        ])?;
        Ok(())
    }
}

/// `ip` as text in `buf` (an IPv6 address needs at most 45 octets).
fn ip_text<'b>(ip: &IpAddr, buf: &'b mut [u8; 48]) -> &'b str {
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    let len = match write!(cursor, "{ip}") {
        Ok(()) => cursor.position() as usize,
        Err(_) => 0,
    };
    std::str::from_utf8(buf.get(..len).unwrap_or_default()).unwrap_or_default()
}

/// Reads log entries matching `filter`, newest first.
pub fn auth_log(
    conn: &Connection,
    filter: &AuthLogFilter,
) -> Result<Vec<AuthLogEntry>, StoreError> {
    let mut sql = String::from(
        "SELECT id, time, client, client_ip, mac, user, module, accepted, reason, vlan
         FROM auth_log WHERE 1",
    );
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
    if let Some(since) = filter.since {
        params.push(Value::Integer(since.as_millisecond()));
        sql.push_str(&format!(" AND time >= ?{}", params.len()));
    }
    if let Some(until) = filter.until {
        params.push(Value::Integer(until.as_millisecond()));
        sql.push_str(&format!(" AND time < ?{}", params.len()));
    }
    // A negative LIMIT means no limit in SQLite.
    let limit = filter
        .limit
        .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    params.push(Value::Integer(limit));
    sql.push_str(&format!(
        " ORDER BY time DESC, id DESC LIMIT ?{}",
        params.len()
    ));

    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(entry_from_row(row)?);
    }
    Ok(out)
}

fn entry_from_row(row: &Row<'_>) -> Result<AuthLogEntry, StoreError> {
    let id: i64 = row.get(0)?;
    let bad = |column: &'static str, value: String| StoreError::BadRow { id, column, value };
    let time_ms: i64 = row.get(1)?;
    let time =
        Timestamp::from_millisecond(time_ms).map_err(|_| bad("time", time_ms.to_string()))?;
    let client_ip: String = row.get(3)?;
    let client_ip = client_ip
        .parse::<IpAddr>()
        .map_err(|_| bad("client_ip", client_ip.clone()))?;
    let mac = match row.get::<_, Option<String>>(4)? {
        None => None,
        Some(s) => Some(s.parse::<MacAddr>().map_err(|_| bad("mac", s.clone()))?),
    };
    let module: String = row.get(6)?;
    let module = module
        .parse::<Module>()
        .map_err(|_| bad("module", module.clone()))?;
    let vlan = match row.get::<_, Option<i64>>(9)? {
        None => None,
        Some(v) => Some(u16::try_from(v).map_err(|_| bad("vlan", v.to_string()))?),
    };
    Ok(AuthLogEntry {
        id,
        time,
        client: row.get(2)?,
        client_ip,
        mac,
        user: row.get(5)?,
        module,
        accepted: row.get(7)?,
        reason: row.get(8)?,
        vlan,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::schema::{DB_FILE_NAME, open_rw};

    pub(crate) fn row(time: &str, mac: Option<&str>, user: Option<&str>) -> AuthLogRow {
        AuthLogRow {
            time: time.parse().unwrap(),
            client: "ap-haus-a".into(),
            client_ip: "10.1.2.3".parse().unwrap(),
            mac: mac.map(|m| m.parse().unwrap()),
            user: user.map(Arc::from),
            module: Module::Wifi,
            accepted: true,
            reason: "accepted",
            vlan: Some(20),
        }
    }

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_rw(&dir.path().join(DB_FILE_NAME), Duration::from_secs(1)).unwrap();
        (dir, conn)
    }

    #[test]
    fn addresses_are_written_as_text_on_the_stack() {
        let mut buf = [0u8; 48];
        for ip in [
            "10.0.0.2",
            "255.255.255.255",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "::ffff:255.255.255.255",
            "fe80::1",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(&parsed, &mut buf), parsed.to_string());
        }
    }

    #[test]
    fn round_trip_all_fields() {
        let (_dir, conn) = db();
        let r = AuthLogRow {
            time: "2026-11-27T07:00:00.123Z".parse().unwrap(),
            client: "switch-3".into(),
            client_ip: "2001:db8::7".parse().unwrap(),
            mac: Some("3C-22-FB-12-34-56".parse().unwrap()),
            user: Some("max.muster".into()),
            module: Module::Lan,
            accepted: false,
            reason: "banned",
            vlan: None,
        };
        insert(&conn, &r).unwrap();
        let got = auth_log(&conn, &AuthLogFilter::default()).unwrap();
        assert_eq!(got.len(), 1);
        let e = &got[0];
        assert_eq!(e.time, r.time);
        assert_eq!(e.client, "switch-3");
        assert_eq!(e.client_ip, r.client_ip);
        assert_eq!(e.mac, r.mac);
        assert_eq!(e.user.as_deref(), Some("max.muster"));
        assert_eq!(e.module, Module::Lan);
        assert!(!e.accepted);
        assert_eq!(e.reason, "banned");
        assert_eq!(e.vlan, None);
        // The MAC is stored in the printed form, so sqlite3 users see what the CLI shows.
        let stored: String = conn
            .query_row("SELECT mac FROM auth_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, "3c:22:fb:12:34:56");
    }

    #[test]
    fn filters_and_order() {
        let (_dir, conn) = db();
        let a = Some("3c:22:fb:12:34:56");
        let b = Some("da:a1:19:00:00:01");
        for r in [
            row("2026-11-01T08:00:00Z", a, Some("max")),
            row("2026-11-02T08:00:00Z", b, Some("erika")),
            row("2026-11-03T08:00:00Z", a, None),
            row("2026-11-04T08:00:00Z", b, Some("max")),
        ] {
            insert(&conn, &r).unwrap();
        }
        let days = |f: &AuthLogFilter| -> Vec<i16> {
            auth_log(&conn, f)
                .unwrap()
                .iter()
                // day of November 2026 (UTC)
                .map(|e| ((e.time.as_second() - 1_793_491_200).div_euclid(86_400) + 1) as i16)
                .collect()
        };
        assert_eq!(
            days(&AuthLogFilter::default()),
            [4, 3, 2, 1],
            "newest first"
        );
        let mac_a = AuthLogFilter {
            mac: a.map(|m| m.parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(days(&mac_a), [3, 1]);
        let max = AuthLogFilter {
            user: Some("max".into()),
            ..Default::default()
        };
        assert_eq!(days(&max), [4, 1]);
        let since = AuthLogFilter {
            since: Some("2026-11-02T08:00:00Z".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(days(&since), [4, 3, 2], "since is inclusive");
        let until = AuthLogFilter {
            until: Some("2026-11-02T08:00:00Z".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(days(&until), [1], "until is exclusive");
        let limited = AuthLogFilter {
            limit: Some(2),
            ..Default::default()
        };
        assert_eq!(days(&limited), [4, 3]);
        let combined = AuthLogFilter {
            mac: b.map(|m| m.parse().unwrap()),
            user: Some("max".into()),
            since: Some("2026-11-01T00:00:00Z".parse().unwrap()),
            limit: Some(10),
            ..Default::default()
        };
        assert_eq!(days(&combined), [4]);
    }

    #[test]
    fn a_corrupt_row_is_a_typed_error() {
        let (_dir, conn) = db();
        conn.execute(
            "INSERT INTO auth_log (time, client, client_ip, mac, module, accepted, reason)
             VALUES (1, 'ap', '10.0.0.1', 'not-a-mac', 'wifi', 1, 'accepted')",
            [],
        )
        .unwrap();
        match auth_log(&conn, &AuthLogFilter::default()) {
            Err(StoreError::BadRow {
                column: "mac",
                value,
                ..
            }) => assert_eq!(value, "not-a-mac"),
            other => panic!("expected BadRow, got {other:?}"),
        }
    }
}
