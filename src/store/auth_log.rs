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
    /// The EAP method of an 802.1X login (`peap`, `ttls`, `tls`); `None` for MAB and PAP.
    /// The account in `user` is then the identity inside the tunnel.
    pub method: Option<&'static str>,
}

/// One stored decision, as read back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
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
    /// The EAP method of an 802.1X login; absent for MAB and PAP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
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

/// The insert of migration 5's hook, into the auth log of schema 5 (without `method`).
pub(crate) const INSERT_SQL: &str = "INSERT INTO auth_log
    (id, time, client, client_ip, mac, user, module, accepted, reason, vlan)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/// The insert of a decision into the current auth log.
const INSERT_ROW_SQL: &str = "INSERT INTO auth_log
    (id, time, client, client_ip, mac, user, module, accepted, reason, vlan, method)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/// Bits of an entry's id below its millisecond: `id = time_ms << ID_SEQ_BITS | seq`.
///
/// The id orders the log by time, so the table's own B-tree serves every time range and
/// "newest first" walk, and no separate time index has to take each row (that index cost
/// a third of the writer's time per row). Ids stay below 2^53 (exact in JSON and in
/// JavaScript) until the year 2248.
pub(crate) const ID_SEQ_BITS: u32 = 10;
const SEQ_MAX: i64 = (1 << ID_SEQ_BITS) - 1;

/// The first id of millisecond `ms`.
pub(crate) fn first_id(ms: i64) -> i64 {
    ms.saturating_mul(1 << ID_SEQ_BITS)
}

/// How many milliseconds on a row moves at most when its own is full (1024 rows in one
/// millisecond, a million decisions per second); beyond that the row is refused.
const MAX_SPILL_MS: i64 = 1000;

/// Hands out auth log ids: `(time_ms << ID_SEQ_BITS) + seq`, unique, with the row's time
/// recoverable from the id (`id >> ID_SEQ_BITS == time`, a CHECK of the table). Rows come
/// in time order almost always, so the next id is known without asking the database; a
/// row older than the newest (a clock stepped back, two receive threads racing) asks for
/// the highest id of its millisecond.
#[derive(Debug)]
pub(crate) struct LogIds {
    /// The highest id handed out (or stored when the writer started); 0 for none.
    newest: i64,
    /// The id handed out last: always the highest of its millisecond.
    last: i64,
    /// Set when rows of a full millisecond at the newest end moved on to later ones (a
    /// burst of over 1024 decisions per millisecond): rows from this millisecond up to
    /// the newest's go on right after the newest, without asking the database each time.
    /// Cleared by the first row of a newer millisecond.
    spill_floor: i64,
    /// Times the database was asked for a free id (tests look at it).
    asked: u64,
}

impl LogIds {
    /// Starts after the highest id stored.
    pub(crate) fn load(conn: &Connection) -> rusqlite::Result<LogIds> {
        let newest: Option<i64> =
            conn.query_row("SELECT max(id) FROM auth_log", [], |r| r.get(0))?;
        let newest = newest.unwrap_or(0);
        Ok(LogIds {
            newest,
            last: newest,
            spill_floor: i64::MAX,
            asked: 0,
        })
    }

    /// The id for a row of millisecond `ms`, and the millisecond it is stored under: `ms`
    /// itself unless that millisecond's ids are all taken (then a later one with room).
    fn assign(&mut self, conn: &Connection, ms: i64) -> rusqlite::Result<(i64, i64)> {
        let (id, stored_ms) = if ms == self.last >> ID_SEQ_BITS && self.last & SEQ_MAX < SEQ_MAX {
            (self.last + 1, ms)
        } else if first_id(ms) > self.newest {
            self.spill_floor = i64::MAX;
            (first_id(ms), ms)
        } else if ms >= self.spill_floor {
            after(self.newest)
        } else {
            self.asked += 1;
            let (id, m) = Self::lookup(conn, ms)?;
            if m > ms && m >= self.newest >> ID_SEQ_BITS {
                self.spill_floor = self.spill_floor.min(ms);
            }
            (id, m)
        };
        self.taken(id);
        Ok((id, stored_ms))
    }

    /// Notes that `id` was handed out.
    fn taken(&mut self, id: i64) {
        self.last = id;
        self.newest = self.newest.max(id);
    }

    /// The next free id of `ms` (or of the first later millisecond with room) from the
    /// database, and the millisecond it belongs to.
    fn lookup(conn: &Connection, ms: i64) -> rusqlite::Result<(i64, i64)> {
        let mut stmt =
            conn.prepare_cached("SELECT max(id) FROM auth_log WHERE id >= ?1 AND id <= ?1 + ?2")?;
        for spill in 0..=MAX_SPILL_MS {
            let m = ms.saturating_add(spill);
            let highest: Option<i64> = stmt.query_row([first_id(m), SEQ_MAX], |r| r.get(0))?;
            match highest {
                None => return Ok((first_id(m), m)),
                Some(h) if h & SEQ_MAX < SEQ_MAX => return Ok((h + 1, m)),
                Some(_) => {}
            }
        }
        Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some(format!(
                "no free auth log id within {MAX_SPILL_MS} ms of {ms}"
            )),
        ))
    }
}

/// Copies the rows of `old_table` (an auth log of schema 4) that are beyond the 1024th of
/// their millisecond into `auth_log`, each at the next free id (migration 5). Such a
/// millisecond never occurred in practice; the rows are kept all the same.
pub(crate) fn move_crowded_rows(conn: &Connection, old_table: &str) -> rusqlite::Result<()> {
    let mut read = conn.prepare(&format!(
        "SELECT time, client, client_ip, mac, user, module, accepted, reason, vlan
         FROM (SELECT *, row_number() OVER (PARTITION BY time ORDER BY id) - 1 AS seq
               FROM {old_table})
         WHERE seq >= 1024 ORDER BY time, seq"
    ))?;
    let mut insert = conn.prepare(INSERT_SQL)?;
    let mut rows = read.query([])?;
    while let Some(r) = rows.next()? {
        let (id, ms) = LogIds::lookup(conn, r.get(0)?)?;
        insert.execute(rusqlite::params![
            id,
            ms,
            r.get::<_, Value>(1)?,
            r.get::<_, Value>(2)?,
            r.get::<_, Value>(3)?,
            r.get::<_, Value>(4)?,
            r.get::<_, Value>(5)?,
            r.get::<_, Value>(6)?,
            r.get::<_, Value>(7)?,
            r.get::<_, Value>(8)?,
        ])?;
    }
    Ok(())
}

/// The id right after `id`, and its millisecond.
fn after(id: i64) -> (i64, i64) {
    if id & SEQ_MAX < SEQ_MAX {
        (id + 1, id >> ID_SEQ_BITS)
    } else {
        let ms = (id >> ID_SEQ_BITS) + 1;
        (first_id(ms), ms)
    }
}

/// Inserts one row (inside the caller's transaction).
#[cfg(test)]
pub(crate) fn insert(conn: &Connection, row: &AuthLogRow) -> rusqlite::Result<()> {
    let mut ids = LogIds::load(conn)?;
    Inserter::new(conn)?.insert(&mut ids, row)
}

/// Inserts rows with one prepared statement, formatting addresses on the stack: the writer
/// stores one row per decision, so per-row allocations and statement-cache lookups count.
pub(crate) struct Inserter<'c> {
    conn: &'c Connection,
    stmt: CachedStatement<'c>,
}

impl<'c> Inserter<'c> {
    pub(crate) fn new(conn: &'c Connection) -> rusqlite::Result<Inserter<'c>> {
        Ok(Inserter {
            conn,
            stmt: conn.prepare_cached(INSERT_ROW_SQL)?,
        })
    }

    /// Inserts `row` with the next id from `ids`.
    pub(crate) fn insert(&mut self, ids: &mut LogIds, row: &AuthLogRow) -> rusqlite::Result<()> {
        let ms = row.time.as_millisecond();
        let (id, stored_ms) = ids.assign(self.conn, ms)?;
        match self.execute(id, stored_ms, row) {
            // Someone else wrote rows (an admin with the sqlite3 shell): ask the database.
            Err(e) if id_taken(&e) => {
                ids.asked += 1;
                let (id, stored_ms) = LogIds::lookup(self.conn, ms)?;
                ids.taken(id);
                self.execute(id, stored_ms, row)
            }
            other => other,
        }
    }

    fn execute(&mut self, id: i64, ms: i64, row: &AuthLogRow) -> rusqlite::Result<()> {
        let mac = row.mac.map(|m| m.colon_text());
        let mut ip = [0u8; 48];
        self.stmt.execute(rusqlite::params![
            id,
            ms,
            &*row.client,
            ip_text(&row.client_ip, &mut ip),
            mac.as_ref().map(|m| m.as_str()),
            row.user.as_deref(),
            row.module.as_str(),
            row.accepted,
            row.reason,
            row.vlan,
            row.method,
        ])?;
        Ok(())
    }
}

/// Whether an insert failed because its id is already stored.
fn id_taken(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
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
pub(crate) fn auth_log(
    conn: &Connection,
    filter: &AuthLogFilter,
) -> Result<Vec<AuthLogEntry>, StoreError> {
    let (sql, params) = select(filter);
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(entry_from_row(row)?);
    }
    Ok(out)
}

/// The query of [`auth_log`] and its parameters.
pub(crate) fn select(filter: &AuthLogFilter) -> (String, Vec<Value>) {
    let mut sql = String::from(
        "SELECT id, time, client, client_ip, mac, user, module, accepted, reason, vlan, method
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
    // The id orders by time (see ID_SEQ_BITS): a time range is an id range.
    if let Some(since) = filter.since {
        params.push(Value::Integer(first_id(since.as_millisecond())));
        sql.push_str(&format!(" AND id >= ?{}", params.len()));
    }
    if let Some(until) = filter.until {
        params.push(Value::Integer(first_id(until.as_millisecond())));
        sql.push_str(&format!(" AND id < ?{}", params.len()));
    }
    // A negative LIMIT means no limit in SQLite.
    let limit = filter
        .limit
        .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    params.push(Value::Integer(limit));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", params.len()));
    (sql, params)
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
        method: row.get(10)?,
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
            method: None,
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
            method: Some("peap"),
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
        assert_eq!(e.method.as_deref(), Some("peap"));
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

    /// (id, time, mac) of every stored row, by id.
    fn stored(conn: &Connection) -> Vec<(i64, i64, String)> {
        conn.prepare("SELECT id, time, mac FROM auth_log ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn mac(i: u32) -> String {
        format!("3c:22:fb:00:{:02x}:{:02x}", (i >> 8) as u8, i as u8)
    }

    /// Inserts rows at `times` (ms) in this order through one id allocator.
    fn insert_at(conn: &Connection, ids: &mut LogIds, times: &[i64]) {
        let mut ins = Inserter::new(conn).unwrap();
        for (i, t) in times.iter().enumerate() {
            let mut r = row("2026-11-27T07:00:00Z", None, None);
            r.time = Timestamp::from_millisecond(*t).unwrap();
            r.mac = Some(mac(i as u32).parse().unwrap());
            ins.insert(ids, &r).unwrap();
        }
    }

    #[test]
    fn ids_count_up_within_a_millisecond_and_start_afresh_in_the_next() {
        let (_dir, conn) = db();
        let mut ids = LogIds::load(&conn).unwrap();
        let t = 1_795_000_000_000;
        insert_at(&conn, &mut ids, &[t, t, t, t + 1, t + 5]);
        let ids: Vec<i64> = stored(&conn).iter().map(|r| r.0).collect();
        assert_eq!(
            ids,
            [
                t << 10,
                (t << 10) + 1,
                (t << 10) + 2,
                (t + 1) << 10,
                (t + 5) << 10
            ]
        );
        assert!(ids.iter().all(|id| *id < 1 << 53), "exact in JSON");
    }

    #[test]
    fn an_older_row_gets_the_next_free_id_of_its_own_millisecond() {
        let (_dir, conn) = db();
        let mut ids = LogIds::load(&conn).unwrap();
        // two receive threads racing (t+1 before t), then a clock stepped back by an hour
        let t = 1_795_000_000_000;
        let hour = 3_600_000;
        insert_at(&conn, &mut ids, &[t, t + 1, t, t - hour, t - hour, t + 1]);
        let got: Vec<(i64, i64)> = stored(&conn).iter().map(|r| (r.0, r.1)).collect();
        assert_eq!(
            got,
            [
                ((t - hour) << 10, t - hour),
                (((t - hour) << 10) + 1, t - hour),
                (t << 10, t),
                ((t << 10) + 1, t),
                ((t + 1) << 10, t + 1),
                (((t + 1) << 10) + 1, t + 1),
            ]
        );
        // read back by time: the hour-old rows are where their time says
        let filter = AuthLogFilter {
            until: Some(Timestamp::from_millisecond(t).unwrap()),
            ..Default::default()
        };
        assert_eq!(auth_log(&conn, &filter).unwrap().len(), 2);
    }

    #[test]
    fn a_full_millisecond_moves_the_row_to_the_next_with_room() {
        let (_dir, conn) = db();
        let mut ids = LogIds::load(&conn).unwrap();
        let t = 1_795_000_000_000;
        let mut times = vec![t; 1025];
        times.push(t + 1);
        insert_at(&conn, &mut ids, &times);
        let got = stored(&conn);
        assert_eq!(got.len(), 1026);
        assert_eq!((got[1023].0, got[1023].1), ((t << 10) + 1023, t));
        // the 1025th decision of millisecond t is stored under t + 1, before the row of t + 1
        assert_eq!(
            (got[1024].0, got[1024].1, &*got[1024].2),
            ((t + 1) << 10, t + 1, &*mac(1024))
        );
        assert_eq!((got[1025].0, got[1025].1), (((t + 1) << 10) + 1, t + 1));
    }

    #[test]
    fn a_burst_beyond_1024_rows_a_millisecond_asks_the_database_once() {
        let (_dir, conn) = db();
        let mut ids = LogIds::load(&conn).unwrap();
        let t = 1_795_000_000_000;
        // 5000 decisions stamped t, then t + 1 and t + 9 while the spill runs ahead
        let mut times = vec![t; 5000];
        times.extend([t + 1, t + 9, t + 9]);
        insert_at(&conn, &mut ids, &times);
        assert_eq!(ids.asked, 1, "only when millisecond t was first found full");
        let got = stored(&conn);
        assert_eq!(got.len(), 5003);
        // consecutive ids, every time recoverable, each row at or after its own time
        assert!(
            got.windows(2)
                .all(|w| w[1].0 == w[0].0 + 1 || w[1].0 == (w[1].1 << 10))
        );
        assert!(got.iter().all(|(id, time, _)| id >> 10 == *time));
        for (i, (_, time, _)) in got.iter().enumerate().take(5000) {
            assert_eq!(*time, t + i as i64 / 1024, "row {i}");
        }
        // t + 9 is past the spill (which reached t + 4): its own millisecond again
        assert_eq!(got[5001].1, t + 9);
        assert_eq!(got[5001].0, (t + 9) << 10);
    }

    #[test]
    fn rows_written_behind_the_allocator_s_back_are_not_overwritten() {
        let (_dir, conn) = db();
        let mut ids = LogIds::load(&conn).unwrap();
        let t = 1_795_000_000_000;
        // an admin's sqlite3 shell inserts the ids the allocator would hand out next
        conn.execute_batch(&format!(
            "INSERT INTO auth_log (id, time, client, client_ip, mac, module, accepted, reason)
             VALUES ({a}, {t}, 'x', '10.0.0.9', 'by hand', 'lan', 0, 'x'),
                    ({b}, {t}, 'x', '10.0.0.9', 'by hand', 'lan', 0, 'x');",
            a = t << 10,
            b = (t << 10) + 1
        ))
        .unwrap();
        insert_at(&conn, &mut ids, &[t, t]);
        let got: Vec<i64> = stored(&conn).iter().map(|r| r.0).collect();
        assert_eq!(got, [t << 10, (t << 10) + 1, (t << 10) + 2, (t << 10) + 3]);
    }

    #[test]
    fn the_table_refuses_an_id_that_does_not_tell_its_time() {
        let (_dir, conn) = db();
        let bad = conn.execute(
            "INSERT INTO auth_log (id, time, client, client_ip, module, accepted, reason)
             VALUES (2048, 1, 'x', '10.0.0.9', 'lan', 0, 'x')",
            [],
        );
        assert!(bad.is_err());
    }

    #[test]
    fn a_corrupt_row_is_a_typed_error() {
        let (_dir, conn) = db();
        conn.execute(
            "INSERT INTO auth_log (id, time, client, client_ip, mac, module, accepted, reason)
             VALUES (1024, 1, 'ap', '10.0.0.1', 'not-a-mac', 'wifi', 1, 'accepted')",
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
