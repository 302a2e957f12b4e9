//! Schema, migrations and opening connections with the right settings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};

use super::StoreError;

/// The database file inside `state_dir`.
pub const DB_FILE_NAME: &str = "hallpass.db";

/// Where the database lives: `<state_dir>/hallpass.db`.
pub fn db_path(state_dir: &Path) -> PathBuf {
    state_dir.join(DB_FILE_NAME)
}

/// The schema version after all migrations (SQLite `user_version`).
pub const SCHEMA_VERSION: i64 = 8;

/// The text of migration 1, also the start of the table tests repair (`M1_FOR_TESTS`).
macro_rules! m1_auth_log {
    () => {
        "
CREATE TABLE auth_log (
    id        INTEGER PRIMARY KEY,
    time      INTEGER NOT NULL,
    client    TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    mac       TEXT,
    user      TEXT,
    module    TEXT NOT NULL,
    accepted  INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    reason    TEXT NOT NULL,
    vlan      INTEGER
) STRICT;
CREATE INDEX auth_log_time ON auth_log (time);
CREATE INDEX auth_log_mac ON auth_log (mac, time);
CREATE INDEX auth_log_user ON auth_log (user, time);
"
    };
}

/// Migration 1: the authentication log. Times are unix milliseconds (UTC); MACs are printed
/// `3c:22:fb:12:34:56`; `module` is `wifi` or `lan`. The (mac, time) and (user, time)
/// indexes serve "the newest entries for this device / this user".
const M1_AUTH_LOG: &str = m1_auth_log!();

/// Migration 2: accounting sessions, DHCP sightings, rogue DHCP servers, Disconnect results
/// and the admin audit log. Same conventions as migration 1.
///
/// - `sessions`: one row per (client, Acct-Session-Id); open while `stopped` is NULL, and
///   `closed_by` says what closed it. Octets are 64-bit (octets + gigawords × 2^32), capped
///   at 2^63 - 1. The UNIQUE index also serves "the sessions of this client"; the partial
///   index keeps the open sessions (Accounting-On/-Off, stale closing) cheap to find.
/// - `sightings`: the latest facts per MAC plus counters per DHCP message type;
///   `sighting_history` keeps each message (bounded by retention).
/// - `rogue_servers`: DHCP servers that are not trusted, per (address, MAC).
/// - `disconnects`: the outcome of each Disconnect-Request sent to a NAS.
/// - `audit`: what admins did; kept longer than the runtime rows (own retention).
const M2_ACCOUNTING_DHCP: &str = "
CREATE TABLE sessions (
    id                INTEGER PRIMARY KEY,
    client            TEXT NOT NULL,
    acct_session_id   TEXT NOT NULL,
    mac               TEXT,
    user              TEXT,
    module            TEXT,
    nas_ip            TEXT,
    nas_port          INTEGER,
    called_station_id TEXT,
    framed_ip         TEXT,
    started           INTEGER NOT NULL,
    last_update       INTEGER NOT NULL,
    stopped           INTEGER,
    input_octets      INTEGER NOT NULL DEFAULT 0,
    output_octets     INTEGER NOT NULL DEFAULT 0,
    session_time      INTEGER NOT NULL DEFAULT 0,
    terminate_cause   INTEGER,
    interim_interval  INTEGER,
    closed_by         TEXT
        CHECK (closed_by IN ('stop', 'accounting_on', 'accounting_off', 'stale')),
    UNIQUE (client, acct_session_id),
    CHECK ((stopped IS NULL) = (closed_by IS NULL))
) STRICT;
CREATE INDEX sessions_open ON sessions (client) WHERE stopped IS NULL;
CREATE INDEX sessions_mac ON sessions (mac, started);
CREATE INDEX sessions_user ON sessions (user, started);
CREATE INDEX sessions_stopped ON sessions (stopped) WHERE stopped IS NOT NULL;

CREATE TABLE sightings (
    mac              TEXT PRIMARY KEY,
    last_ip          TEXT,
    hostname         TEXT,
    vendor_class     TEXT,
    client_id        TEXT,
    fingerprint      TEXT,
    family           TEXT,
    registered       INTEGER NOT NULL CHECK (registered IN (0, 1)),
    randomized       INTEGER NOT NULL CHECK (randomized IN (0, 1)),
    first_seen       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    discovers        INTEGER NOT NULL DEFAULT 0,
    offers           INTEGER NOT NULL DEFAULT 0,
    requests         INTEGER NOT NULL DEFAULT 0,
    acks             INTEGER NOT NULL DEFAULT 0,
    naks             INTEGER NOT NULL DEFAULT 0,
    declines         INTEGER NOT NULL DEFAULT 0,
    releases         INTEGER NOT NULL DEFAULT 0,
    informs          INTEGER NOT NULL DEFAULT 0,
    last_interface   TEXT,
    relay_circuit_id TEXT,
    relay_remote_id  TEXT
) STRICT;
CREATE INDEX sightings_last_seen ON sightings (last_seen);

CREATE TABLE sighting_history (
    id           INTEGER PRIMARY KEY,
    mac          TEXT NOT NULL,
    time         INTEGER NOT NULL,
    ip           TEXT,
    hostname     TEXT,
    message_type TEXT NOT NULL
) STRICT;
CREATE INDEX sighting_history_time ON sighting_history (time);
CREATE INDEX sighting_history_mac ON sighting_history (mac, time);

CREATE TABLE rogue_servers (
    id         INTEGER PRIMARY KEY,
    server_ip  TEXT NOT NULL,
    server_mac TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    offers     INTEGER NOT NULL DEFAULT 0,
    acks       INTEGER NOT NULL DEFAULT 0,
    interface  TEXT,
    UNIQUE (server_ip, server_mac)
) STRICT;

CREATE TABLE disconnects (
    id              INTEGER PRIMARY KEY,
    time            INTEGER NOT NULL,
    client          TEXT NOT NULL,
    nas_ip          TEXT,
    acct_session_id TEXT,
    mac             TEXT,
    user            TEXT,
    \"trigger\"       TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    result          TEXT NOT NULL CHECK (result IN ('ack', 'nak', 'timeout', 'error')),
    error_cause     INTEGER,
    finished        INTEGER
) STRICT;
CREATE INDEX disconnects_time ON disconnects (time);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    time    INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason  TEXT
) STRICT;
CREATE INDEX audit_time ON audit (time);
";

/// Migration 3 (additive): `sightings.randomized_alias_of`, the registered MAC whose device
/// this randomized MAC most likely is (same host name, seen by the DHCP watcher). NULL when
/// no such link was found.
const M3_RANDOMIZED_ALIAS: &str = "
ALTER TABLE sightings ADD COLUMN randomized_alias_of TEXT;
";

/// Migration 4: the auth log keeps only its time index. The (mac, time) and (user, time)
/// indexes put every new row on a random page of two large B-trees: a commit of a few
/// thousand rows rewrote thousands of pages (tens of MB into the WAL), which took 60 % of the
/// writer's time and stalled the receive thread sharing its core (p99 at half the maximum
/// rate 3.8 ms; without them 0.66 ms, and 124k instead of 83k requests/s). A device's or
/// a user's newest entries are found by walking the time index backwards; reading a whole
/// retention period for one person (export, erase) scans the table, which for a school's
/// month of decisions takes well under a second and is rare.
const M4_AUTH_LOG_TIME_INDEX_ONLY: &str = "
DROP INDEX auth_log_mac;
DROP INDEX auth_log_user;
";

/// Migration 5: the auth log's id orders it by time (`id = time << 10 | seq`, see
/// `auth_log::ID_SEQ_BITS`), and the time index goes: every time range and "newest first"
/// is a walk of the table's own B-tree, and a new row no longer lands in a second one (a
/// third of the writer's time per row). SQLite cannot change a primary key in place, so the
/// table is copied; rows keep their order within a millisecond. The hook places the rows
/// of a millisecond with more than 1024 (never written in practice) in the next free ids.
const M5_AUTH_LOG_TIME_ORDERED_ID: &str = "
ALTER TABLE auth_log RENAME TO auth_log_v4;
CREATE TABLE auth_log (
    id        INTEGER PRIMARY KEY CHECK (id >> 10 = time),
    time      INTEGER NOT NULL,
    client    TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    mac       TEXT,
    user      TEXT,
    module    TEXT NOT NULL,
    accepted  INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    reason    TEXT NOT NULL,
    vlan      INTEGER
) STRICT;
INSERT INTO auth_log (id, time, client, client_ip, mac, user, module, accepted, reason, vlan)
    SELECT (time << 10) + seq, time, client, client_ip, mac, user, module, accepted, reason, vlan
    FROM (SELECT *, row_number() OVER (PARTITION BY time ORDER BY id) - 1 AS seq FROM auth_log_v4)
    WHERE seq < 1024;
";

/// Migration 6 (additive): `audit.sudo_user`, the `SUDO_USER` the command ran with. Any
/// caller can set that variable, so it is kept beside `actor` (the login account the
/// kernel reports), never instead of it.
const M6_AUDIT_SUDO_USER: &str = "
ALTER TABLE audit ADD COLUMN sudo_user TEXT;
";

/// The rest of migration 5: the rows that did not fit their millisecond, then the old table.
fn m5_crowded_rows(tx: &rusqlite::Transaction) -> rusqlite_migration::HookResult {
    super::auth_log::move_crowded_rows(tx, "auth_log_v4")?;
    tx.execute_batch("DROP TABLE auth_log_v4;")?;
    Ok(())
}

/// The text of migration 7 (see `M1_FOR_TESTS`).
macro_rules! m7_auth_log_method {
    () => {
        "ALTER TABLE auth_log ADD COLUMN method TEXT;"
    };
}

/// Migration 7: the login method of 802.1X decisions (`peap`, `ttls`, `tls`); NULL for MAB
/// and PAP, and for every row written before.
const M7_AUTH_LOG_METHOD: &str = m7_auth_log_method!();

/// Migration 8: what the daemon learns about devices (see `devices`).
/// - `enrolments`: a MAC an 802.1X login registered to its account, with when and how.
/// - `last_accepted`: when each registered or enrolled device was last accepted; kept as
///   long as the registration, not subject to the runtime rows' retention.
/// - `device_tracking`: one row, the moment last-accepted times began to be kept.
const M8_ENROLMENTS: &str = "
CREATE TABLE enrolments (
    mac      TEXT PRIMARY KEY,
    user     TEXT NOT NULL,
    enrolled INTEGER NOT NULL,
    method   TEXT NOT NULL
) STRICT;
CREATE INDEX enrolments_user ON enrolments (user);
CREATE TABLE last_accepted (
    mac  TEXT PRIMARY KEY,
    time INTEGER NOT NULL
) STRICT;
CREATE TABLE device_tracking (
    since INTEGER NOT NULL
) STRICT;
INSERT INTO device_tracking (since) VALUES (CAST(strftime('%s', 'now') AS INTEGER) * 1000);
";

/// All migrations, oldest first. Append only: a released migration is never edited.
pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(M1_AUTH_LOG),
        M::up(M2_ACCOUNTING_DHCP),
        M::up(M3_RANDOMIZED_ALIAS),
        M::up(M4_AUTH_LOG_TIME_INDEX_ONLY),
        M::up_with_hook(M5_AUTH_LOG_TIME_ORDERED_ID, m5_crowded_rows),
        M::up(M6_AUDIT_SUDO_USER),
        M::up(M7_AUTH_LOG_METHOD),
        M::up(M8_ENROLMENTS),
    ])
}

/// An auth log table the writer can write to: migration 1's with migration 7's column.
#[cfg(test)]
pub(crate) const M1_FOR_TESTS: &str = concat!(m1_auth_log!(), m7_auth_log_method!());

/// Opens (creating the file if needed) the read-write connection the writer owns and
/// migrates it to the latest schema. The directory must exist.
///
/// WAL lets the CLI read while the writer writes. `synchronous=FULL` makes every commit
/// durable (the WAL is synced at each commit): accounting answers only after its record
/// survives a crash, and batching (group commit) keeps the cost per row small.
///
/// `secure_delete` overwrites what is deleted (cells, freed pages) with zeros: an erased
/// person's rows must not stay readable in the file's free space (see `erase`). It is a
/// setting of the connection, so every read-write connection gets it here.
///
/// The state files are checked first (`owner`), and SQLite refuses a symbolic link as the
/// database (`SQLITE_OPEN_NOFOLLOW`): root running the CLI must never turn a planted link's
/// target into a database.
pub(crate) fn open_rw(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    super::owner::check_state_files(path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NOFOLLOW
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    conn.busy_timeout(busy_timeout).map_err(open_err)?;
    // journal_mode answers with the mode in force; anything but "wal" means the file
    // system refused it, and readers would then block the writer.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NoWal {
            path: path.to_path_buf(),
            mode,
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(open_err)?;
    conn.pragma_update(None, "secure_delete", true)
        .map_err(open_err)?;
    migrations().to_latest(&mut conn)?;
    Ok(conn)
}

/// Opens the database read-only, for the CLI. Works while the writer writes (WAL). Fails if
/// the file does not exist or has another schema version than this program knows.
pub(crate) fn open_read_only(db_path: &Path) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open {
        path: db_path.to_path_buf(),
        source,
    };
    super::owner::check_state_files(db_path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NOFOLLOW
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(db_path, flags).map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(open_err)?;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found != SCHEMA_VERSION {
        return Err(StoreError::SchemaVersion {
            found,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(conn)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn fresh_db_migrates_and_reopen_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        {
            let conn = open_rw(&path, Duration::from_secs(1)).unwrap();
            let v: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, SCHEMA_VERSION);
            conn.execute(
                "INSERT INTO auth_log (id, time, client, client_ip, module, accepted, reason)
                 VALUES (1024, 1, 'ap1', '10.0.0.1', 'wifi', 1, 'accepted')",
                [],
            )
            .unwrap();
        }
        // Reopening must neither fail nor re-run migration 1 (which would fail: the table
        // exists) nor lose rows.
        let conn = open_rw(&path, Duration::from_secs(1)).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM auth_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            migrations().pending_migrations(&conn).unwrap(),
            0,
            "nothing left to migrate"
        );
    }

    #[test]
    fn writer_connection_settings() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_rw(&dir.path().join(DB_FILE_NAME), Duration::from_millis(1234)).unwrap();
        let q = |sql: &str| -> String {
            conn.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
                .map(|v| match v {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(s) => s,
                    other => format!("{other:?}"),
                })
                .unwrap()
        };
        assert_eq!(q("PRAGMA journal_mode"), "wal");
        assert_eq!(q("PRAGMA synchronous"), "2", "FULL");
        assert_eq!(q("PRAGMA foreign_keys"), "1");
        assert_eq!(
            q("PRAGMA secure_delete"),
            "1",
            "erased rows are overwritten"
        );
        assert_eq!(q("PRAGMA busy_timeout"), "1234");
    }

    #[test]
    fn missing_state_dir_is_an_open_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join(DB_FILE_NAME);
        match open_rw(&path, Duration::from_secs(1)) {
            Err(StoreError::Open { path: p, .. }) => assert_eq!(p, path),
            other => panic!("expected Open error, got {other:?}"),
        }
    }

    #[test]
    fn read_only_needs_an_existing_migrated_db() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        assert!(matches!(
            open_read_only(&path),
            Err(StoreError::Open { .. })
        ));
        // A database of an unknown (older or newer) schema is refused, not misread.
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        assert!(matches!(
            open_read_only(&path),
            Err(StoreError::SchemaVersion {
                found: 99,
                expected: SCHEMA_VERSION
            })
        ));
    }

    #[test]
    fn a_symlinked_database_is_refused_and_its_target_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        let target = dir.path().join("passwd");
        std::fs::write(&target, b"root:x:0:0::/root:/bin/sh\n").unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(matches!(
            open_rw(&path, Duration::from_secs(1)),
            Err(StoreError::Symlink { .. })
        ));
        assert!(matches!(
            open_read_only(&path),
            Err(StoreError::Symlink { .. })
        ));
        assert_eq!(
            std::fs::read(&target).unwrap(),
            b"root:x:0:0::/root:/bin/sh\n"
        );
    }

    #[test]
    fn sqlite_itself_refuses_a_symlinked_database() {
        // the flag alone, without the check before it: a link swapped in after the check
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        let target = dir.path().join("target");
        std::fs::write(&target, b"").unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        assert!(Connection::open_with_flags(&path, flags).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"");
    }

    #[test]
    fn read_only_connection_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        let _rw = open_rw(&path, Duration::from_secs(1)).unwrap();
        let ro = open_read_only(&path).unwrap();
        assert!(ro.execute("DELETE FROM auth_log", []).is_err());
    }

    #[test]
    fn a_version_1_database_migrates_to_the_latest_keeping_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        {
            let mut conn = Connection::open(&path).unwrap();
            migrations().to_version(&mut conn, 1).unwrap();
            conn.execute(
                "INSERT INTO auth_log (time, client, client_ip, module, accepted, reason)
                 VALUES (1, 'ap1', '10.0.0.1', 'wifi', 1, 'accepted')",
                [],
            )
            .unwrap();
        }
        let conn = open_rw(&path, Duration::from_secs(1)).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let n: i64 = conn
            .query_row("SELECT count(*) FROM auth_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        for table in [
            "sessions",
            "sightings",
            "sighting_history",
            "rogue_servers",
            "disconnects",
            "audit",
        ] {
            let n: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 0, "{table}");
        }
        // version 5: the auth log's id orders it by time; no index besides
        let mut indexes: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'auth_log'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        indexes.sort();
        assert!(indexes.is_empty(), "{indexes:?}");
    }

    #[test]
    fn a_device_s_newest_log_entries_are_a_walk_of_the_table_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        let conn = open_rw(&path, Duration::from_secs(1)).unwrap();
        let filter = crate::store::AuthLogFilter {
            mac: Some("3c:22:fb:12:34:56".parse().unwrap()),
            since: Some("2026-11-01T00:00:00Z".parse().unwrap()),
            until: Some("2026-11-28T00:00:00Z".parse().unwrap()),
            limit: Some(20),
            ..Default::default()
        };
        let (sql, params) = super::super::auth_log::select(&filter);
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(params), |r| r.get(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        // the id range of the time window, newest first, stopping after 20 matches: no
        // sort of all rows
        assert_eq!(
            plan,
            ["SEARCH auth_log USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"],
        );
    }

    #[test]
    fn a_version_4_auth_log_migrates_to_time_ordered_ids_keeping_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        {
            let mut conn = Connection::open(&path).unwrap();
            migrations().to_version(&mut conn, 4).unwrap();
            let mut insert = conn
                .prepare(
                    "INSERT INTO auth_log (id, time, client, client_ip, mac, module, accepted,
                        reason) VALUES (?1, ?2, 'ap', '10.0.0.1', ?3, 'wifi', 1, 'accepted')",
                )
                .unwrap();
            // ids out of time order (a clock stepped back), and 1030 rows in millisecond 7
            // followed by one in millisecond 8
            insert.execute(rusqlite::params![1, 9, "first"]).unwrap();
            for i in 0..1030 {
                insert
                    .execute(rusqlite::params![2 + i, 7, format!("m7-{i}")])
                    .unwrap();
            }
            insert.execute(rusqlite::params![5000, 8, "m8"]).unwrap();
        }
        let conn = open_rw(&path, Duration::from_secs(1)).unwrap();
        let rows: Vec<(i64, i64, String)> = conn
            .prepare("SELECT id, time, mac FROM auth_log ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 1032, "no row lost");
        assert!(rows.iter().all(|(id, time, _)| id >> 10 == *time));
        // millisecond 7 keeps its first 1024 in their order
        for (i, (id, time, mac)) in rows.iter().take(1024).enumerate() {
            assert_eq!(
                (*id, *time, mac.as_str()),
                ((7 << 10) + i as i64, 7, &*format!("m7-{i}"))
            );
        }
        // then millisecond 8: its own row first, then the 6 that did not fit in 7
        assert_eq!(rows[1024], (8 << 10, 8, "m8".to_string()));
        for (i, (id, time, mac)) in rows[1025..1031].iter().enumerate() {
            assert_eq!((*id, *time), ((8 << 10) + 1 + i as i64, 8));
            assert_eq!(mac, &format!("m7-{}", 1024 + i));
        }
        assert_eq!(rows[1031], (9 << 10, 9, "first".to_string()));
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'auth_log_v4'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "the old table is gone");
    }

    #[test]
    fn session_rows_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_rw(&dir.path().join(DB_FILE_NAME), Duration::from_secs(1)).unwrap();
        let insert = |stopped: Option<i64>, closed_by: Option<&str>| {
            conn.execute(
                "INSERT INTO sessions (client, acct_session_id, started, last_update, stopped,
                    closed_by) VALUES ('c', 'x', 0, 0, ?1, ?2)",
                rusqlite::params![stopped, closed_by],
            )
        };
        assert!(insert(Some(1), None).is_err(), "closed without a reason");
        assert!(insert(None, Some("stop")).is_err(), "a reason but open");
        assert!(insert(Some(1), Some("bored")).is_err(), "unknown reason");
        insert(Some(1), Some("stale")).unwrap();
        assert!(
            insert(None, None).is_err(),
            "(client, session id) is unique"
        );
    }
}
