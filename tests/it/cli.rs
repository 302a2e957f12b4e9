//! The admin commands, run as the built binary on a temporary config directory: edits keep
//! every untouched byte, invalid edits change nothing, concurrent edits stay consistent,
//! `why` agrees with the daemon, export/erase cover a person's records, reads need a reason
//! and are audited (more in `privacy`), and a password set with `user passwd` works for a PAP login.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Daemon, SECRET, TestConfig, mab, pap, radclient, school};

fn hallpass(cfg: &TestConfig, args: &[&str]) -> Output {
    hallpass_stdin(cfg, args, None)
}

fn hallpass_stdin(cfg: &TestConfig, args: &[&str], input: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(args)
        .arg("--config")
        .arg(cfg.path())
        .env("SUDO_USER", "admin.test")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    if let Some(i) = input {
        stdin.write_all(i.as_bytes()).unwrap();
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed ({:?}):\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every regular file under `dir` (not the lock file, not the state dir) and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            if rel == "state" || rel == ".hallpass.lock" {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

const COMMENTED_DEVICES: &str = r#"# devices.toml — registered private devices
# (kept by the office; one entry per device)

[[device]]
mac = "3c:22:fb:12:34:56"   # Max
owner = "max.muster"
label = "iPhone"

# Nina's tablet, registered at the parents' evening
[[device]]
mac = "3C-22-FB-00-00-01"
owner = "nina.ohne"

[[device]]
mac = "3c22.fb00.0002"
owner = "paul.aus"

# the end
"#;

#[test]
fn edits_keep_comments_and_order_and_invalid_edits_change_nothing() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    cfg.write("devices.toml", COMMENTED_DEVICES);

    // add: the old file is a byte-for-byte prefix of the new one
    let out = ok(&hallpass(
        &cfg,
        &[
            "device",
            "add",
            "3C22FBAABBCC",
            "--owner",
            "max.muster",
            "--label",
            "Laptop",
        ],
    ));
    assert!(
        out.contains("registered 3c:22:fb:aa:bb:cc to max.muster"),
        "{out}"
    );
    let after_add = std::fs::read_to_string(cfg.path().join("devices.toml")).unwrap();
    assert!(after_add.starts_with(COMMENTED_DEVICES), "{after_add}");
    let added = &after_add[COMMENTED_DEVICES.len()..];
    assert!(added.contains("mac = \"3c:22:fb:aa:bb:cc\""), "{added}");
    assert!(added.contains("owner = \"max.muster\""), "{added}");

    // remove (any notation): exactly that entry's lines are gone, comments stay
    ok(&hallpass(&cfg, &["device", "remove", "3c:22:fb:00:00:02"]));
    let after_remove = std::fs::read_to_string(cfg.path().join("devices.toml")).unwrap();
    let expected = after_add.replacen(
        "[[device]]\nmac = \"3c22.fb00.0002\"\nowner = \"paul.aus\"\n\n",
        "",
        1,
    );
    assert_ne!(expected, after_add);
    assert_eq!(after_remove, expected);
    let list = ok(&hallpass(
        &cfg,
        &["device", "list", "--owner", "max.muster"],
    ));
    assert!(
        list.contains("3c:22:fb:aa:bb:cc") && list.contains("Laptop"),
        "{list}"
    );
    assert!(!ok(&hallpass(&cfg, &["device", "list"])).contains("00:00:02"));

    // refused: unknown owner; not one byte of any file changes
    let before = snapshot(cfg.path());
    let o = hallpass(
        &cfg,
        &["device", "add", "02:00:00:00:00:09", "--owner", "nobody"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("devices.toml:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("no such user"), "{}", stderr(&o));
    assert_eq!(snapshot(cfg.path()), before);

    // max now has two devices (3c:22:fb:12:34:56 and the laptop): fill up to the limit of
    // 5, then the 6th is refused
    for mac in [
        "02:00:00:00:01:01",
        "02:00:00:00:01:02",
        "02:00:00:00:01:03",
    ] {
        ok(&hallpass(
            &cfg,
            &["device", "add", mac, "--owner", "max.muster"],
        ));
    }
    let before = snapshot(cfg.path());
    let o = hallpass(
        &cfg,
        &[
            "device",
            "add",
            "02:00:00:00:01:04",
            "--owner",
            "max.muster",
            "--file",
            "devices.d/7b.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("max_devices_per_user"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshot(cfg.path()), before);
    assert!(!cfg.path().join("devices.d/7b.toml").exists());

    // a usage error is exit 2
    let o = hallpass(
        &cfg,
        &["device", "add", "not-a-mac", "--owner", "max.muster"],
    );
    assert_eq!(o.status.code(), Some(2));

    // bans: add, list, lift by index; grants
    ok(&hallpass(
        &cfg,
        &[
            "ban",
            "add",
            "--user",
            "max.muster",
            "--modules",
            "lan",
            "--for",
            "7d",
            "--reason",
            "Test",
        ],
    ));
    let bans = ok(&hallpass(&cfg, &["ban", "list", "--active"]));
    let line = bans.lines().find(|l| l.contains("max.muster")).unwrap();
    let index = line.split_whitespace().next().unwrap().to_string();
    ok(&hallpass(&cfg, &["ban", "lift", "--index", &index]));
    assert!(!ok(&hallpass(&cfg, &["ban", "list"])).contains("max.muster"));
    let o = hallpass(&cfg, &["ban", "lift", "--user", "max.muster"]);
    assert_eq!(o.status.code(), Some(1));
    ok(&hallpass(
        &cfg,
        &[
            "grant",
            "add",
            "--group",
            "students",
            "--modules",
            "wifi",
            "--from",
            "now",
            "--for",
            "45m",
            "--reason",
            "Informatik",
        ],
    ));
    let grants = std::fs::read_to_string(cfg.path().join("grants.toml")).unwrap();
    assert!(grants.contains("group = \"students\"") && grants.contains("reason = \"Informatik\""));
    let check = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("check")
        .arg(cfg.path())
        .output()
        .unwrap();
    let check = ok(&check);
    assert!(
        check.contains("30 days") && check.contains("365 days"),
        "{check}"
    );
}

#[test]
fn concurrent_edits_both_land_or_one_is_refused_cleanly() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    for (round, owner) in ["max.muster", "erika.lehrer", "gast.x"]
        .into_iter()
        .enumerate()
    {
        let spawn = |mac: String| {
            Command::new(env!("CARGO_BIN_EXE_hallpass"))
                .args(["device", "add", &mac, "--owner", owner, "--config"])
                .arg(cfg.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let macs = [
            format!("02:00:00:00:0{round}:01"),
            format!("02:00:00:00:0{round}:02"),
        ];
        let children: Vec<_> = macs.iter().map(|m| spawn(m.clone())).collect();
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let text = std::fs::read_to_string(cfg.path().join("devices.toml")).unwrap();
        for (mac, o) in macs.iter().zip(&outputs) {
            if o.status.success() {
                assert!(
                    text.contains(mac.as_str()),
                    "{mac} reported as added but missing"
                );
            } else {
                assert!(stderr(o).contains("another admin"), "{}", stderr(o));
                assert!(!text.contains(mac.as_str()));
            }
        }
        let check = Command::new(env!("CARGO_BIN_EXE_hallpass"))
            .arg("check")
            .arg(cfg.path())
            .output()
            .unwrap();
        ok(&check);
    }
}

/// The decision line and the Reply-Message of `hallpass why`.
fn why(cfg: &TestConfig, args: &[&str]) -> (bool, String) {
    let mut a = vec!["why"];
    a.extend_from_slice(args);
    let out = ok(&hallpass(cfg, &a));
    let accept = out.contains("=> accept");
    assert!(accept || out.contains("=> reject"), "{out}");
    let msg = out
        .lines()
        .find_map(|l| l.strip_prefix("Reply-Message: "))
        .unwrap_or("")
        .to_string();
    (accept, msg)
}

#[test]
fn why_agrees_with_the_daemon() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let mut d = Daemon::start(&cfg);
    // a ban added with the CLI, picked up by the daemon through the CLI's SIGHUP
    let skip = d.log_len();
    let out = ok(&hallpass(
        &cfg,
        &[
            "ban",
            "add",
            "--mac",
            "3c:22:fb:00:00:07",
            "--modules",
            "lan",
            "--permanent",
            "--reason",
            "Kabel",
        ],
    ));
    assert!(out.contains("asked the running daemon"), "{out}");
    d.wait_for_log("config reloaded", skip, Duration::from_secs(10));
    let cases = [
        ("3c-22-fb-12-34-56", "wifi"),
        ("3c-22-fb-12-34-56", "lan"),
        ("3c-22-fb-00-00-01", "wifi"),
        ("3c-22-fb-00-00-02", "wifi"),
        ("3c-22-fb-00-00-03", "wifi"),
        ("3c-22-fb-00-00-04", "wifi"),
        ("3c-22-fb-00-00-04", "lan"),
        ("3c-22-fb-00-00-05", "lan"),
        ("3c-22-fb-00-00-06", "wifi"),
        ("3c-22-fb-00-00-07", "wifi"),
        ("3c-22-fb-00-00-07", "lan"),
        ("02-99-99-99-99-99", "wifi"),
    ];
    let mut accepts = 0;
    for (mac, module) in cases {
        let (accept, msg) = why(&cfg, &["--mac", mac, "--module", module]);
        let port = if module == "wifi" {
            "Wireless-802.11"
        } else {
            "Ethernet"
        };
        let r = mab(d.addr, mac, port);
        let code = r.code().unwrap_or("none").to_string();
        assert_eq!(
            accept,
            code == "Access-Accept",
            "{mac} {module}: why says {accept}, daemon {code}"
        );
        assert_eq!(
            r.attr("Reply-Message").unwrap_or_default(),
            msg,
            "{mac} {module}"
        );
        accepts += usize::from(accept);
    }
    assert!(
        accepts >= 2 && accepts < cases.len(),
        "cases must cover both answers"
    );
    // the user form runs the same chain
    assert!(!why(&cfg, &["--user", "konto.gesperrt"]).0);
    assert!(why(&cfg, &["--user", "erika.lehrer", "--module", "lan"]).0);
}

fn acct_start(d: &Daemon, session: &str, user: Option<&str>, mac: &str) {
    let name = user.map_or(mac.to_lowercase(), str::to_string);
    let r = radclient(
        d.acct,
        "acct",
        SECRET,
        &format!(
            "Acct-Status-Type = Start, Acct-Session-Id = \"{session}\", User-Name = \"{name}\", \
             Calling-Station-Id = \"{M}\", NAS-IP-Address = 127.0.0.1, NAS-Port = 7, \
             NAS-Port-Type = Wireless-802.11\n",
            M = mac.to_uppercase()
        ),
    );
    assert_eq!(r.code(), Some("Accounting-Response"), "{}", r.stderr);
}

fn count(cfg: &TestConfig, sql: &str) -> i64 {
    let c = rusqlite::Connection::open_with_flags(
        cfg.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn export(cfg: &TestConfig, user: &str) -> serde_json::Value {
    let out = ok(&hallpass(
        cfg,
        &["user", "export", user, "--reason", "Auskunftsersuchen"],
    ));
    serde_json::from_str(&out).unwrap()
}

#[test]
fn export_erase_and_audit() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let d = Daemon::start(&cfg);
    // max: two MAB decisions, a MAB session, a session by name; erika: one of each
    assert_eq!(
        mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11").code(),
        Some("Access-Accept")
    );
    assert_eq!(
        mab(d.addr, "3c-22-fb-00-00-06", "Wireless-802.11").code(),
        Some("Access-Reject")
    );
    assert_eq!(
        mab(d.addr, "3c-22-fb-00-00-07", "Wireless-802.11").code(),
        Some("Access-Accept")
    );
    acct_start(&d, "max-1", None, "3c-22-fb-12-34-56");
    acct_start(&d, "max-2", Some("max.muster"), "02-00-00-00-00-42");
    acct_start(&d, "erika-1", None, "3c-22-fb-00-00-07");
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(&cfg, "SELECT count(*) FROM auth_log") < 3 {
        assert!(Instant::now() < deadline, "auth log rows not written");
        std::thread::sleep(Duration::from_millis(50));
    }

    // reads of one person's data need a reason: exit 2, nothing read, nothing audited
    for args in [
        &["user", "export", "max.muster"][..],
        &["log", "--user", "max.muster"],
        &["log", "--mac", "3c:22:fb:12:34:56"],
        &["sessions", "--user", "max.muster"],
        &["sessions", "--mac", "3c:22:fb:12:34:56"],
        &["sessions", "--open"],
        &["sightings", "--unregistered"],
    ] {
        let o = hallpass(&cfg, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("--reason"), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    assert_eq!(count(&cfg, "SELECT count(*) FROM audit"), 0);

    let doc = export(&cfg, "max.muster");
    assert_eq!(doc["user"]["name"], "max.muster");
    assert_eq!(doc["user"]["password"], "not set");
    assert!(!doc.to_string().contains("argon2"));
    let sessions: Vec<&str> = doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["acct_session_id"].as_str().unwrap())
        .collect();
    assert!(
        sessions.contains(&"max-1") && sessions.contains(&"max-2"),
        "{sessions:?}"
    );
    assert!(!sessions.contains(&"erika-1"));
    let log_macs: Vec<&str> = doc["auth_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["mac"].as_str().unwrap())
        .collect();
    assert!(log_macs.contains(&"3c:22:fb:12:34:56") && log_macs.contains(&"3c:22:fb:00:00:06"));
    assert!(!log_macs.contains(&"3c:22:fb:00:00:07"));
    let devices = doc["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(
        doc["bans"].as_array().unwrap().len(),
        1,
        "the ban on the tablet"
    );

    // the other read commands, with a reason, and their audit rows
    let log = ok(&hallpass(
        &cfg,
        &["log", "--user", "erika.lehrer", "--reason", "Störung 17"],
    ));
    assert!(log.contains("3c:22:fb:00:00:07"), "{log}");
    let s = ok(&hallpass(
        &cfg,
        &[
            "sessions",
            "--mac",
            "3c:22:fb:12:34:56",
            "--reason",
            "Störung 18",
            "--json",
        ],
    ));
    assert!(s.contains("max-1"), "{s}");
    ok(&hallpass(
        &cfg,
        &["sessions", "--open", "--reason", "Störung 19"],
    ));
    ok(&hallpass(
        &cfg,
        &["sightings", "--unregistered", "--reason", "Störung 20"],
    ));
    let audit: serde_json::Value =
        serde_json::from_str(&ok(&hallpass(&cfg, &["audit", "--json"]))).unwrap();
    let rows: Vec<(String, String, String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["actor"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
                r["subject"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // the login account, not SUDO_USER (admin.test)
    let actor = crate::privacy::login_account();
    let has = |action: &str, subject: &str, reason: &str| {
        rows.iter()
            .any(|r| r.0 == actor && r.1 == action && r.2 == subject && r.3 == reason)
    };
    assert!(
        has("user.export", "max.muster", "Auskunftsersuchen"),
        "{rows:?}"
    );
    assert!(has("log.read", "erika.lehrer", "Störung 17"), "{rows:?}");
    assert!(
        has("sessions.read", "3c:22:fb:12:34:56", "Störung 18"),
        "{rows:?}"
    );
    assert!(has("sessions.read", "all", "Störung 19"), "{rows:?}");
    assert!(has("sightings.read", "all", "Störung 20"), "{rows:?}");

    // erase: none of max's rows remain, erika's stay; with --registrations his devices go
    let out = ok(&hallpass(
        &cfg,
        &[
            "user",
            "erase",
            "max.muster",
            "--reason",
            "Löschantrag",
            "--registrations",
        ],
    ));
    assert!(out.contains("removed 2 device registration(s)"), "{out}");
    for sql in [
        "SELECT count(*) FROM auth_log WHERE user = 'max.muster' OR mac IN ('3c:22:fb:12:34:56', '3c:22:fb:00:00:06')",
        "SELECT count(*) FROM sessions WHERE user = 'max.muster' OR mac IN ('3c:22:fb:12:34:56', '3c:22:fb:00:00:06')",
    ] {
        assert_eq!(count(&cfg, sql), 0, "{sql}");
    }
    assert!(
        count(
            &cfg,
            "SELECT count(*) FROM auth_log WHERE mac = '3c:22:fb:00:00:07'"
        ) >= 1
    );
    assert_eq!(
        count(
            &cfg,
            "SELECT count(*) FROM sessions WHERE acct_session_id = 'erika-1'"
        ),
        1
    );
    let doc = export(&cfg, "max.muster");
    assert!(doc["sessions"].as_array().unwrap().is_empty());
    assert!(doc["auth_log"].as_array().unwrap().is_empty());
    assert!(doc["devices"].as_array().unwrap().is_empty());
    let devices = std::fs::read_to_string(cfg.path().join("devices.toml")).unwrap();
    assert!(!devices.contains("max.muster") && devices.contains("erika.lehrer"));
    assert!(
        count(
            &cfg,
            "SELECT count(*) FROM audit WHERE action = 'user.erase'"
        ) == 1
    );
    drop(d);
}

#[test]
fn passwd_rejects_weak_passwords_and_the_new_one_works_over_pap() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let mut d = Daemon::start(&cfg);
    assert_eq!(
        pap(d.addr, "max.muster", "Neu-Passwort-1").code(),
        Some("Access-Reject")
    );
    let before = snapshot(cfg.path());
    for weak in [
        "Kurz-1",
        "alles-klein-1",
        "ALLES-GROSS-1",
        "Ohne-Ziffern",
        "OhneSonder1",
    ] {
        let o = hallpass_stdin(
            &cfg,
            &["user", "passwd", "max.muster", "--stdin"],
            Some(&format!("{weak}\n")),
        );
        assert!(!o.status.success(), "{weak} accepted");
        assert!(stderr(&o).contains("school's rule"), "{}", stderr(&o));
    }
    assert_eq!(snapshot(cfg.path()), before);
    let o = hallpass_stdin(
        &cfg,
        &["user", "passwd", "nobody", "--stdin"],
        Some("Neu-Passwort-1\n"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(snapshot(cfg.path()), before);

    let skip = d.log_len();
    let out = ok(&hallpass_stdin(
        &cfg,
        &["user", "passwd", "max.muster", "--stdin"],
        Some("Neu-Passwort-1\n"),
    ));
    assert!(out.contains("asked the running daemon"), "{out}");
    d.wait_for_log("config reloaded", skip, Duration::from_secs(10));
    let users = std::fs::read_to_string(cfg.path().join("users.toml")).unwrap();
    assert!(users.contains("password = \"$argon2id$"), "{users}");
    let r = pap(d.addr, "max.muster", "Neu-Passwort-1");
    assert_eq!(r.code(), Some("Access-Accept"), "{}", r.stdout);
    assert_eq!(
        pap(d.addr, "max.muster", "Neu-Passwort-2").code(),
        Some("Access-Reject")
    );
    // erika's password (set by the harness) is untouched
    assert_eq!(
        pap(d.addr, "erika.lehrer", "Schule2026!").code(),
        Some("Access-Accept")
    );
    let show = ok(&hallpass(&cfg, &["user", "show", "max.muster"]));
    assert!(
        show.contains("password  set") && !show.contains("argon2"),
        "{show}"
    );
}
