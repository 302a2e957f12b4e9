//! The privacy promises, checked on the built binary as an attacker would try them:
//! - `user erase` leaves no byte of the person in any file of the state directory (database,
//!   write-ahead log, shared memory), and covers MACs no longer registered, randomized
//!   aliases and rogue-server rows of their devices; `user export` shows those and the audit
//!   rows about the person.
//! - every command that prints data about people needs `--reason` and writes its audit row
//!   before it reads; the audit's actor is the login account, never `SUDO_USER`.
//! - a symbolic link planted as the database, or a state directory or database of another
//!   owner, is refused with the path named, and the link's target is left alone.
//!
//! Sessions and decisions reach the database the real way (radclient to the daemon). The
//! DHCP rows (a sighting with a host name, a randomized alias, a rogue server) are written
//! into the database directly: the watcher's path into them is tested in `dhcp_watch`, and
//! here only what erasure and export do with them matters.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Daemon, SECRET, TestConfig, mab, radclient, school};

/// Runs the binary with `args` and `--config`, `SUDO_USER` set to `sudo_user`.
pub(crate) fn hallpass(cfg: &TestConfig, sudo_user: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(args)
        .arg("--config")
        .arg(cfg.path())
        .env("SUDO_USER", sudo_user)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub(crate) fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed ({:?}):\n{}\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// The account the audit must name: that of the login uid the kernel keeps for this
/// process (inherited by the binary), else of the real uid. Found with getent, not with
/// hallpass's own code.
pub fn login_account() -> String {
    let uid = std::fs::read_to_string("/proc/self/loginuid")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|&u| u != u32::MAX)
        .unwrap_or_else(|| {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        });
    let out = Command::new("getent")
        .args(["passwd", &uid.to_string()])
        .output()
        .unwrap();
    let line = text(&out.stdout);
    match line.split(':').next().filter(|n| !n.trim().is_empty()) {
        Some(name) => name.trim().to_string(),
        None => format!("uid {uid}"),
    }
}

fn rw(cfg: &TestConfig) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(cfg.db_path()).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c
}

fn count(cfg: &TestConfig, sql: &str) -> i64 {
    let c = rusqlite::Connection::open_with_flags(
        cfg.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn wait_rows(cfg: &TestConfig, sql: &str, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while count(cfg, sql) < n {
        assert!(Instant::now() < deadline, "not written in time: {sql}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// max.muster's registered phone (in `school`), a laptop no longer registered to him, and a
/// randomized MAC the DHCP watcher linked to the phone.
const PHONE: &str = "3c:22:fb:12:34:56";
const OLD_LAPTOP: &str = "02:00:00:00:00:42";
const PRIVATE: &str = "0a:11:22:33:44:55";
const SESSION: &str = "max-sess-7f3a01";
const OLD_SESSION: &str = "max-sess-old-5be2";
const ACCESS_POINT: &str = "AP-TURNHALLE-9C1E";
const HOSTNAME: &str = "Maxens-iPhone-b7d2";
const ERIKA_SESSION: &str = "erika-sess-c0ffee";

fn acct_start(d: &Daemon, session: &str, user: &str, mac_dashes: &str, ap: &str) {
    let r = radclient(
        d.acct,
        "acct",
        SECRET,
        &format!(
            "Acct-Status-Type = Start, Acct-Session-Id = \"{session}\", User-Name = \"{user}\", \
             Calling-Station-Id = \"{mac_dashes}\", Called-Station-Id = \"{ap}:Schule\", \
             NAS-IP-Address = 127.0.0.1, NAS-Port = 7, NAS-Port-Type = Wireless-802.11\n"
        ),
    );
    assert_eq!(r.code(), Some("Accounting-Response"), "{}", r.stderr);
}

/// A school (see `school`) with the daemon running and max.muster's traces everywhere: his
/// phone's decision and session (at a greppable access point), a session by name on a
/// laptop no longer registered and that laptop's unnamed decision, DHCP sightings with his
/// host name, a randomized alias of his phone, and his phone seen as a rogue DHCP server.
/// erika.lehrer has a session too.
fn school_with_traces() -> (TestConfig, Daemon) {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let d = Daemon::start(&cfg);
    assert_eq!(
        mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11").code(),
        Some("Access-Accept")
    );
    assert_eq!(
        mab(d.addr, "02-00-00-00-00-42", "Wireless-802.11").code(),
        Some("Access-Reject")
    );
    acct_start(
        &d,
        SESSION,
        "3c-22-fb-12-34-56",
        "3C-22-FB-12-34-56",
        ACCESS_POINT,
    );
    acct_start(
        &d,
        OLD_SESSION,
        "max.muster",
        "02-00-00-00-00-42",
        ACCESS_POINT,
    );
    // erika at another access point: the one max used is his data only
    acct_start(
        &d,
        ERIKA_SESSION,
        "3c-22-fb-00-00-07",
        "3C-22-FB-00-00-07",
        "AP-AULA-01",
    );
    wait_rows(&cfg, "SELECT count(*) FROM auth_log", 2);
    wait_rows(&cfg, "SELECT count(*) FROM sessions", 3);
    let c = rw(&cfg);
    let t = jiff::Timestamp::now().as_millisecond();
    for (mac, alias_of) in [(PHONE, None), (OLD_LAPTOP, None), (PRIVATE, Some(PHONE))] {
        c.execute(
            "INSERT INTO sightings (mac, hostname, registered, randomized, first_seen, last_seen,
                requests, randomized_alias_of) VALUES (?1, ?2, 0, ?3, ?4, ?4, 1, ?5)",
            rusqlite::params![mac, HOSTNAME, alias_of.is_some(), t, alias_of],
        )
        .unwrap();
        c.execute(
            "INSERT INTO sighting_history (mac, time, hostname, message_type)
             VALUES (?1, ?2, ?3, 'request')",
            rusqlite::params![mac, t, HOSTNAME],
        )
        .unwrap();
    }
    c.execute(
        "INSERT INTO rogue_servers (server_ip, server_mac, first_seen, last_seen, offers)
         VALUES ('192.168.137.1', ?1, ?2, ?2, 1)",
        rusqlite::params![PHONE, t],
    )
    .unwrap();
    (cfg, d)
}

/// Every file of the state directory, with its bytes.
pub(crate) fn state_files(cfg: &TestConfig) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = cfg.db_path().parent().unwrap().to_path_buf();
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

pub(crate) fn files_holding(files: &[(PathBuf, Vec<u8>)], needle: &str) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|(_, b)| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .map(|(p, _)| p.clone())
        .collect()
}

#[test]
fn erase_leaves_no_byte_of_the_person_in_any_file_of_the_state_directory() {
    let (cfg, d) = school_with_traces();
    let needles = [
        SESSION,
        OLD_SESSION,
        ACCESS_POINT,
        HOSTNAME,
        PHONE,
        OLD_LAPTOP,
        PRIVATE,
    ];
    let before = state_files(&cfg);
    for n in needles.iter().chain([&ERIKA_SESSION]) {
        assert!(
            !files_holding(&before, n).is_empty(),
            "{n} was never written"
        );
    }
    let out = ok(&hallpass(
        &cfg,
        "admin.test",
        &[
            "user",
            "erase",
            "max.muster",
            "--reason",
            "Löschantrag 4711",
        ],
    ));
    assert!(out.contains(OLD_LAPTOP) && out.contains(PRIVATE), "{out}");
    let after = state_files(&cfg);
    for n in needles {
        let left = files_holding(&after, n);
        assert!(left.is_empty(), "{n} is still in {left:?}");
    }
    // the scan sees what stays: erika's session, and the erasure on record
    assert!(!files_holding(&after, ERIKA_SESSION).is_empty());
    assert!(!files_holding(&after, "Löschantrag 4711").is_empty());
    assert_eq!(
        count(
            &cfg,
            "SELECT count(*) FROM sessions WHERE acct_session_id = 'erika-sess-c0ffee'"
        ),
        1
    );
    drop(d);
}

#[test]
fn export_shows_unregistered_macs_aliases_rogue_servers_and_audit_rows() {
    let (cfg, d) = school_with_traces();
    ok(&hallpass(
        &cfg,
        "admin.test",
        &["sessions", "--user", "max.muster", "--reason", "Störung 5"],
    ));
    let out = ok(&hallpass(
        &cfg,
        "admin.test",
        &["user", "export", "max.muster", "--reason", "Auskunft"],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["unregistered_macs"], serde_json::json!([OLD_LAPTOP]));
    let sessions: Vec<&str> = doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["acct_session_id"].as_str().unwrap())
        .collect();
    assert!(
        sessions.contains(&SESSION) && sessions.contains(&OLD_SESSION),
        "{sessions:?}"
    );
    assert!(!sessions.contains(&ERIKA_SESSION));
    // the laptop's decision names nobody: it is his through the session by his name
    let log_macs: Vec<&str> = doc["auth_log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["mac"].as_str())
        .collect();
    assert!(log_macs.contains(&OLD_LAPTOP), "{log_macs:?}");
    let sighted: Vec<&str> = doc["sightings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["mac"].as_str().unwrap())
        .collect();
    assert!(
        sighted.contains(&PHONE) && sighted.contains(&OLD_LAPTOP),
        "{sighted:?}"
    );
    let aliases = doc["alias_sightings"].as_array().unwrap();
    assert_eq!(aliases.len(), 1, "{aliases:?}");
    assert_eq!(aliases[0]["mac"], PRIVATE);
    assert_eq!(aliases[0]["randomized_alias_of"], PHONE);
    assert_eq!(aliases[0]["history"].as_array().unwrap().len(), 1);
    let rogue = doc["rogue_servers"].as_array().unwrap();
    assert_eq!(rogue.len(), 1, "{rogue:?}");
    assert_eq!(rogue[0]["server_mac"], PHONE);
    let audit: Vec<(&str, &str)> = doc["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap(),
                a["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(audit.contains(&("sessions.read", "Störung 5")), "{audit:?}");
    assert!(
        audit.contains(&("user.export", "Auskunft")),
        "the export's own row comes first: {audit:?}"
    );
    drop(d);
}

/// Every command that prints data about people, with and without its reason.
const READS: [&[&str]; 6] = [
    &["sessions"],
    &["sessions", "--open"],
    &["sightings"],
    &["log"],
    &["log", "--user", "max.muster"],
    &["user", "export", "max.muster"],
];

#[test]
fn reads_need_a_reason_and_are_audited_first_under_the_login_account() {
    let (cfg, d) = school_with_traces();
    for args in READS {
        let o = hallpass(&cfg, "mallory", args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("--reason"), "{}", text(&o.stderr));
        assert!(o.stdout.is_empty(), "{args:?} printed without a reason");
        let o = hallpass(&cfg, "mallory", &[args, &["--reason", "   "][..]].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}: a blank reason");
    }
    assert_eq!(
        count(&cfg, "SELECT count(*) FROM audit"),
        0,
        "nothing audited"
    );

    let actor = login_account();
    assert_ne!(actor, "mallory");
    for (i, args) in READS.iter().enumerate() {
        let reason = format!("Anfrage {i}");
        let out = ok(&hallpass(
            &cfg,
            "mallory",
            &[*args, &["--reason", &reason][..]].concat(),
        ));
        assert!(!out.is_empty(), "{args:?}");
        let c = rusqlite::Connection::open_with_flags(
            cfg.db_path(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let (who, sudo): (String, Option<String>) = c
            .query_row(
                "SELECT actor, sudo_user FROM audit WHERE reason = ?1",
                [&reason],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|e| panic!("{args:?}: no audit row: {e}"));
        assert_eq!(who, actor, "{args:?}: the actor is the login account");
        assert_eq!(sudo.as_deref(), Some("mallory"), "SUDO_USER beside it");
    }
    let audit = ok(&hallpass(&cfg, "mallory", &["audit"]));
    assert!(audit.contains("(SUDO_USER mallory)"), "{audit}");

    // no audit row, no data: with the database locked for writing, every read fails
    // before it prints anything
    let lock = rw(&cfg);
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let runs: Vec<_> = READS
        .iter()
        .map(|args| {
            let cfg_path = cfg.path().to_path_buf();
            let args: Vec<String> = args
                .iter()
                .map(|s| s.to_string())
                .chain(["--reason".into(), "gesperrt".into()])
                .collect();
            std::thread::spawn(move || {
                Command::new(env!("CARGO_BIN_EXE_hallpass"))
                    .args(&args)
                    .arg("--config")
                    .arg(&cfg_path)
                    .output()
                    .unwrap()
            })
        })
        .collect();
    for (run, args) in runs.into_iter().zip(READS) {
        let o = run.join().unwrap();
        assert!(!o.status.success(), "{args:?} read without its audit row");
        assert!(o.stdout.is_empty(), "{args:?}: {}", text(&o.stdout));
    }
    lock.execute_batch("ROLLBACK").unwrap();
    drop(d);
}

/// A config whose state directory holds `hallpass.db` as a link to a file outside it.
fn planted_link(cfg: &TestConfig) -> (PathBuf, Vec<u8>) {
    let state = cfg.db_path().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&state).unwrap();
    // empty: SQLite takes an empty file for an empty database and would migrate it
    let target = cfg.path().join("precious-file");
    let content = Vec::new();
    std::fs::write(&target, &content).unwrap();
    std::os::unix::fs::symlink(&target, cfg.db_path()).unwrap();
    (target, content)
}

fn assert_refused(o: &Output, what: &str, path: &Path, because: &str) {
    assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains(because) && err.contains(&path.display().to_string()),
        "{what}: {err}"
    );
    assert!(o.stdout.is_empty(), "{what}: {}", text(&o.stdout));
}

#[test]
fn a_symlink_planted_as_the_database_is_refused_and_its_target_unchanged() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let (target, content) = planted_link(&cfg);
    let db = cfg.db_path();
    for args in [
        &["user", "erase", "max.muster", "--reason", "Löschantrag"][..],
        &["sessions", "--reason", "Störung"],
        &["audit"],
    ] {
        let o = hallpass(&cfg, "admin.test", args);
        assert_refused(&o, &args.join(" "), &db, "symbolic link");
    }
    // the daemon refuses it too, at start
    let mut serve = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["serve", "--config"])
        .arg(cfg.path())
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = serve.kill();
            let _ = serve.wait();
            panic!("the daemon started on a symlinked database");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success());
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), content);
    assert!(std::fs::symlink_metadata(&db).unwrap().is_symlink());
    let state = db.parent().unwrap();
    for suffix in ["-wal", "-shm"] {
        let side = state.join(format!("hallpass.db{suffix}"));
        assert!(!side.exists(), "{} was created", side.display());
    }
}

/// A uid that is not root, not this process's, and not the daemon's account.
const STRANGER: u32 = 4242;

#[test]
fn a_state_directory_or_database_of_another_owner_is_refused() {
    assert_eq!(
        std::fs::metadata("/proc/self").unwrap().uid(),
        0,
        "needs root (chown)"
    );
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let db = cfg.db_path();
    let state = db.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&state).unwrap();
    // an empty file is an empty database: the first read-write open migrates it
    std::fs::write(&db, b"").unwrap();
    std::os::unix::fs::chown(&state, Some(STRANGER), None).unwrap();
    let snapshot = std::fs::read(&db).unwrap();
    for args in [
        &["user", "erase", "max.muster", "--reason", "Löschantrag"][..],
        &["sightings", "--reason", "Störung"],
    ] {
        let o = hallpass(&cfg, "admin.test", args);
        assert_refused(&o, &args.join(" "), &state, "owned by uid 4242");
    }
    std::os::unix::fs::chown(&state, Some(0), None).unwrap();
    std::os::unix::fs::chown(&db, Some(STRANGER), None).unwrap();
    let o = hallpass(&cfg, "admin.test", &["log", "--reason", "Störung"]);
    assert_refused(&o, "log", &db, "owned by uid 4242");
    assert_eq!(std::fs::read(&db).unwrap(), snapshot, "nothing written");
    // back to root: accepted again
    std::os::unix::fs::chown(&db, Some(0), None).unwrap();
    ok(&hallpass(
        &cfg,
        "admin.test",
        &["log", "--reason", "Störung"],
    ));
}
