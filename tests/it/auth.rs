//! Access-Requests over the wire: every decision as radclient sees it, replies checked
//! byte by byte from the RFCs, authentication of requests, duplicates, reload.

use std::time::Duration;

use crate::harness::{self, Daemon, SECRET, TestConfig, mab, pap, radclient, school};
use crate::wire;

fn started() -> (TestConfig, Daemon) {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let d = Daemon::start(&cfg);
    (cfg, d)
}

#[test]
fn registered_device_gets_its_vlan_and_a_signed_reply() {
    let (_cfg, d) = started();
    let r = mab(d.addr, "3C-22-FB-12-34-56", "Wireless-802.11");
    assert_eq!(
        r.code(),
        Some("Access-Accept"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(r.success);
    let attrs = r.attributes();
    assert_eq!(attrs[0].0, "Message-Authenticator", "MA first: {attrs:?}");
    assert_eq!(
        r.attr("Tunnel-Type:0").as_deref(),
        Some("VLAN"),
        "{attrs:?}"
    );
    assert_eq!(r.attr("Tunnel-Medium-Type:0").as_deref(), Some("IEEE-802"));
    assert_eq!(
        r.attr("Tunnel-Private-Group-Id:0").as_deref(),
        Some("20"),
        "{attrs:?}"
    );
    assert_eq!(r.attr("Filter-Id").as_deref(), Some("students"));
    assert_eq!(r.attr("Session-Timeout").as_deref(), Some("43200"));
    assert!(r.attr("Reply-Message").is_some());
}

#[test]
fn decisions_as_seen_on_the_wire() {
    let (_cfg, d) = started();
    struct Case {
        mac: &'static str,
        port: &'static str,
        code: &'static str,
        message_contains: &'static str,
        vlan: Option<&'static str>,
    }
    let cases = [
        // a wifi-only ban: rejected on Wi-Fi, fine on the LAN
        Case {
            mac: "3c-22-fb-00-00-04",
            port: "Wireless-802.11",
            code: "Access-Reject",
            message_contains: "WLAN-Zugang gesperrt bis 04.12.2099 08:00",
            vlan: None,
        },
        Case {
            mac: "3c-22-fb-00-00-04",
            port: "Ethernet",
            code: "Access-Accept",
            message_contains: "",
            vlan: Some("20"),
        },
        // the whole account: rejected everywhere, permanently
        Case {
            mac: "3c-22-fb-00-00-05",
            port: "Wireless-802.11",
            code: "Access-Reject",
            message_contains: "dauerhaft",
            vlan: None,
        },
        Case {
            mac: "3c-22-fb-00-00-05",
            port: "Ethernet",
            code: "Access-Reject",
            message_contains: "dauerhaft",
            vlan: None,
        },
        // no consent, disabled account, device ban, no policy group, not registered
        Case {
            mac: "3c-22-fb-00-00-01",
            port: "Wireless-802.11",
            code: "Access-Reject",
            message_contains: "Einwilligung",
            vlan: None,
        },
        Case {
            mac: "3c-22-fb-00-00-02",
            port: "Wireless-802.11",
            code: "Access-Reject",
            message_contains: "",
            vlan: None,
        },
        Case {
            mac: "3c-22-fb-00-00-06",
            port: "Ethernet",
            code: "Access-Reject",
            message_contains: "",
            vlan: None,
        },
        Case {
            mac: "3c-22-fb-00-00-03",
            port: "Wireless-802.11",
            code: "Access-Reject",
            message_contains: "",
            vlan: None,
        },
        Case {
            mac: "02-00-00-99-99-99",
            port: "Wireless-802.11",
            code: "Access-Reject",
            message_contains: "",
            vlan: None,
        },
        // the teacher's device: first matching group decides the VLAN
        Case {
            mac: "3c-22-fb-00-00-07",
            port: "Ethernet",
            code: "Access-Accept",
            message_contains: "",
            vlan: Some("30"),
        },
    ];
    for c in cases {
        let r = mab(d.addr, c.mac, c.port);
        assert_eq!(
            r.code(),
            Some(c.code),
            "{} on {}: {}",
            c.mac,
            c.port,
            r.stdout
        );
        let msg = r.attr("Reply-Message").unwrap_or_default();
        assert!(!msg.is_empty(), "{} has a Reply-Message", c.mac);
        assert!(msg.contains(c.message_contains), "{}: {msg:?}", c.mac);
        assert_eq!(
            r.attr("Tunnel-Private-Group-Id:0").as_deref(),
            c.vlan,
            "{}",
            c.mac
        );
        assert_eq!(r.attributes()[0].0, "Message-Authenticator");
    }
}

#[test]
fn unregistered_devices_go_to_the_unregistered_vlan_when_set() {
    let cfg = TestConfig::new("unregistered_vlan = 99", "");
    school(&cfg);
    let d = Daemon::start(&cfg);
    let r = mab(d.addr, "02-00-00-99-99-99", "Wireless-802.11");
    assert_eq!(r.code(), Some("Access-Accept"), "{}", r.stdout);
    assert_eq!(r.attr("Tunnel-Private-Group-Id:0").as_deref(), Some("99"));
    assert_eq!(r.attr("Filter-Id"), None);
}

#[test]
fn mab_with_a_different_calling_station_id_is_rejected() {
    let (_cfg, d) = started();
    let r = radclient(
        d.addr,
        "auth",
        SECRET,
        "User-Name = \"3c22fb123456\", User-Password = \"3c22fb123456\", \
         Calling-Station-Id = \"AA-BB-CC-DD-EE-FF\", Message-Authenticator = 0x00\n",
    );
    assert_eq!(r.code(), Some("Access-Reject"), "{}", r.stdout);
}

#[test]
fn pap_login_with_argon2_and_the_same_answer_for_unknown_users() {
    let (_cfg, d) = started();
    let ok = pap(d.addr, "erika.lehrer", "Schule2026!");
    assert_eq!(ok.code(), Some("Access-Accept"), "{}", ok.stdout);
    assert_eq!(ok.attr("Tunnel-Private-Group-Id:0").as_deref(), Some("30"));
    let wrong = pap(d.addr, "erika.lehrer", "schule2026!");
    let unknown = pap(d.addr, "nobody.here", "Schule2026!");
    assert_eq!(wrong.code(), Some("Access-Reject"));
    assert_eq!(unknown.code(), Some("Access-Reject"));
    assert_eq!(wrong.attr("Reply-Message"), unknown.attr("Reply-Message"));
    // a user without a password hash cannot log in with PAP
    let no_hash = pap(d.addr, "max.muster", "anything");
    assert_eq!(no_hash.code(), Some("Access-Reject"));
    assert_eq!(no_hash.attr("Reply-Message"), unknown.attr("Reply-Message"));
}

#[test]
fn requests_without_or_with_a_wrong_message_authenticator_get_no_answer() {
    let (_cfg, d) = started();
    let attrs = "User-Name = \"3c22fb123456\", User-Password = \"3c22fb123456\"\n";
    let none = radclient(d.addr, "auth", SECRET, attrs);
    assert_eq!(
        none.code(),
        None,
        "no answer without Message-Authenticator: {}",
        none.stdout
    );
    let wrong = radclient(
        d.addr,
        "auth",
        "a-different-secret-000",
        "User-Name = \"3c22fb123456\", Message-Authenticator = 0x00\n",
    );
    assert_eq!(
        wrong.code(),
        None,
        "no answer with the wrong secret: {}",
        wrong.stdout
    );
    // the same by hand: a correct request is answered, the unsigned one is not
    let auth = [9u8; 16];
    let attrs = vec![(wire::USER_NAME, b"3c22fb123456".to_vec())];
    let unsigned = wire::access_request(1, auth, &attrs, SECRET.as_bytes(), false);
    assert!(wire::exchange(d.addr, &unsigned, Duration::from_millis(500)).is_none());
    let signed = wire::access_request(2, auth, &attrs, SECRET.as_bytes(), true);
    assert!(wire::exchange(d.addr, &signed, Duration::from_secs(2)).is_some());
}

#[test]
fn clients_may_be_allowed_to_omit_the_message_authenticator() {
    let cfg = TestConfig::new("", "");
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    cfg.write(
        "hallpass.toml",
        &main.replace(
            "module = \"wifi\"",
            "module = \"wifi\"\nrequire_message_authenticator = false",
        ),
    );
    school(&cfg);
    let d = Daemon::start(&cfg);
    let r = radclient(
        d.addr,
        "auth",
        SECRET,
        "User-Name = \"3c22fb123456\", User-Password = \"3c22fb123456\"\n",
    );
    assert_eq!(r.code(), Some("Access-Accept"), "{}", r.stdout);
}

#[test]
fn unknown_clients_are_dropped() {
    let cfg = TestConfig::new("", "");
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    cfg.write(
        "hallpass.toml",
        &main.replace("127.0.0.1/32", "127.0.0.2/32"),
    );
    school(&cfg);
    let d = Daemon::start(&cfg);
    let r = mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11");
    assert_eq!(r.code(), None, "{}", r.stdout);
}

#[test]
fn replies_are_signed_per_rfc_and_proxy_state_is_echoed() {
    let (_cfg, d) = started();
    let secret = SECRET.as_bytes();
    for (mac, want) in [
        ("3c22fb123456", wire::ACCESS_ACCEPT),
        ("3c22fb000004", wire::ACCESS_REJECT),
    ] {
        let auth = *b"0123456789abcdef";
        let attrs = vec![
            (wire::USER_NAME, mac.as_bytes().to_vec()),
            (
                wire::USER_PASSWORD,
                wire::hide_password(mac.as_bytes(), secret, &auth),
            ),
            (wire::NAS_PORT_TYPE, 19u32.to_be_bytes().to_vec()),
            (wire::PROXY_STATE, b"proxy-1".to_vec()),
            (wire::PROXY_STATE, b"proxy-2".to_vec()),
        ];
        let req = wire::access_request(7, auth, &attrs, secret, true);
        let reply = wire::exchange(d.addr, &req, Duration::from_secs(2)).expect("a reply");
        assert_eq!(reply[0], want, "{mac}");
        wire::check_reply(&reply, &req, secret);
        let proxy: Vec<Vec<u8>> = wire::attributes(&reply)
            .into_iter()
            .filter(|(t, _)| *t == wire::PROXY_STATE)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(proxy, vec![b"proxy-1".to_vec(), b"proxy-2".to_vec()]);
        if want == wire::ACCESS_ACCEPT {
            let a = wire::attributes(&reply);
            // RFC 2868: tag 0 + 3-octet value, attribute length 6
            assert!(
                a.contains(&(64, vec![0, 0, 0, 13])),
                "Tunnel-Type VLAN: {a:?}"
            );
            assert!(
                a.contains(&(65, vec![0, 0, 0, 6])),
                "Tunnel-Medium-Type 802: {a:?}"
            );
            assert!(
                a.contains(&(81, b"20".to_vec())),
                "Tunnel-Private-Group-Id: {a:?}"
            );
        }
    }
}

#[test]
fn a_pap_password_is_checked_from_hand_hidden_bytes() {
    let (_cfg, d) = started();
    let secret = SECRET.as_bytes();
    let auth = *b"fedcba9876543210";
    // 27 octets: two blocks of password hiding
    let password = b"Schule2026!";
    let attrs = vec![
        (wire::USER_NAME, b"erika.lehrer".to_vec()),
        (
            wire::USER_PASSWORD,
            wire::hide_password(password, secret, &auth),
        ),
    ];
    let req = wire::access_request(3, auth, &attrs, secret, true);
    let reply = wire::exchange(d.addr, &req, Duration::from_secs(5)).expect("a reply");
    assert_eq!(reply[0], wire::ACCESS_ACCEPT);
    wire::check_reply(&reply, &req, secret);
}

#[test]
fn duplicates_get_the_cached_reply_and_are_logged_once() {
    let (cfg, d) = started();
    let secret = SECRET.as_bytes();
    let auth = [0x42u8; 16];
    let attrs = vec![
        (wire::USER_NAME, b"3c22fb123456".to_vec()),
        (wire::NAS_PORT_TYPE, 19u32.to_be_bytes().to_vec()),
    ];
    let req = wire::access_request(99, auth, &attrs, secret, true);
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let first = wire::exchange_on(&s, d.addr, &req, Duration::from_secs(2)).unwrap();
    let second = wire::exchange_on(&s, d.addr, &req, Duration::from_secs(2)).unwrap();
    assert_eq!(first, second, "the same bytes again");
    // a new authenticator is a new request
    let mut other = req.clone();
    other[4] ^= 1;
    let other = wire::access_request(99, other[4..20].try_into().unwrap(), &attrs, secret, true);
    assert!(wire::exchange_on(&s, d.addr, &other, Duration::from_secs(2)).is_some());
    let status = d.stop();
    assert!(status.success(), "clean stop: {status}");
    let conn = rusqlite::Connection::open_with_flags(
        cfg.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM auth_log WHERE mac = '3c:22:fb:12:34:56'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2, "two distinct requests logged, the duplicate not");
}

#[test]
fn every_decision_is_in_the_auth_log() {
    let (cfg, d) = started();
    assert_eq!(
        mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11").code(),
        Some("Access-Accept")
    );
    assert_eq!(
        mab(d.addr, "3c-22-fb-00-00-04", "Wireless-802.11").code(),
        Some("Access-Reject")
    );
    assert_eq!(
        mab(d.addr, "3c-22-fb-00-00-04", "Ethernet").code(),
        Some("Access-Accept")
    );
    assert_eq!(
        pap(d.addr, "nobody.here", "x").code(),
        Some("Access-Reject")
    );
    assert!(d.stop().success());
    let conn = rusqlite::Connection::open_with_flags(
        cfg.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT client, mac, user, module, accepted, reason, vlan FROM auth_log ORDER BY id",
        )
        .unwrap();
    let rows: Vec<(
        String,
        Option<String>,
        Option<String>,
        String,
        bool,
        String,
        Option<i64>,
    )> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        rows,
        vec![
            (
                "test-nas".into(),
                s("3c:22:fb:12:34:56"),
                s("max.muster"),
                "wifi".into(),
                true,
                "accepted".into(),
                Some(20)
            ),
            (
                "test-nas".into(),
                s("3c:22:fb:00:00:04"),
                s("wifi.gesperrt"),
                "wifi".into(),
                false,
                "banned".into(),
                None
            ),
            (
                "test-nas".into(),
                s("3c:22:fb:00:00:04"),
                s("wifi.gesperrt"),
                "lan".into(),
                true,
                "accepted".into(),
                Some(20)
            ),
            (
                "test-nas".into(),
                None,
                None,
                "wifi".into(),
                false,
                "bad_credentials".into(),
                None
            ),
        ]
    );
}

#[test]
fn status_server_is_answered() {
    let (_cfg, d) = started();
    let r = radclient(d.addr, "status", SECRET, "Message-Authenticator = 0x00\n");
    assert_eq!(
        r.code(),
        Some("Access-Accept"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn a_reload_applies_a_new_ban_and_a_broken_file_keeps_the_old_config() {
    let (cfg, mut d) = started();
    assert_eq!(
        mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11").code(),
        Some("Access-Accept")
    );

    let bans = std::fs::read_to_string(cfg.path().join("bans.toml")).unwrap();
    cfg.write(
        "bans.toml",
        &format!(
            "{bans}\n[[ban]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\nuntil = 2099-01-01\nreason = \"Test\"\n"
        ),
    );
    let outcome = d.reload();
    assert!(outcome.contains("config reloaded"), "{outcome}");
    let r = mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11");
    assert_eq!(r.code(), Some("Access-Reject"));
    assert!(
        r.attr("Reply-Message")
            .unwrap_or_default()
            .contains("01.01.2099"),
        "{}",
        r.stdout
    );
    assert_eq!(
        mab(d.addr, "3c-22-fb-12-34-56", "Ethernet").code(),
        Some("Access-Accept")
    );

    // a broken devices file: the error is logged with file and line, the last good config
    // keeps serving (the ban included)
    let skip = d.log_len();
    cfg.write(
        "devices.d/broken.toml",
        "[[device]]\nmac = \"not-a-mac\"\nowner = \"max.muster\"\n",
    );
    let outcome = d.reload();
    assert!(outcome.contains("reload failed"), "{outcome}");
    let logged = d.log_lines()[skip..].join("\n");
    assert!(
        logged.contains("broken.toml:2:"),
        "error names file and line: {logged}"
    );
    assert_eq!(
        mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11").code(),
        Some("Access-Reject")
    );
    assert_eq!(
        mab(d.addr, "3c-22-fb-00-00-07", "Ethernet").code(),
        Some("Access-Accept")
    );

    // fixed again: lifting the ban applies
    std::fs::remove_file(cfg.path().join("devices.d/broken.toml")).unwrap();
    cfg.write("bans.toml", &bans);
    assert!(d.reload().contains("config reloaded"));
    assert_eq!(
        mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11").code(),
        Some("Access-Accept")
    );
}

#[test]
fn secrets_and_passwords_never_reach_the_log() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    cfg.enable_metrics();
    let d = Daemon::start(&cfg);
    let _ = pap(d.addr, "erika.lehrer", "Schule2026!");
    let _ = pap(d.addr, "erika.lehrer", "Falsch-Passwort-77");
    let _ = radclient(
        d.addr,
        "auth",
        "a-different-secret-000",
        "User-Name = \"x\", Message-Authenticator = 0x00\n",
    );
    let metrics = d.scrape();
    let log = d.log_lines().join("\n");
    let status = d.stop();
    assert!(status.success());
    // `hallpass check` and `serve` on a config whose secret is too short: errors name the
    // client and the length, never the secret.
    let short = "kurz-Geheim-12";
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    cfg.write("hallpass.toml", &main.replace(SECRET, short));
    let mut errors = String::new();
    for args in [&["check", "--config"][..], &["serve", "--config"][..]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallpass"))
            .args(args)
            .arg(cfg.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        errors.push_str(&String::from_utf8_lossy(&out.stdout));
        errors.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(
        errors.contains("only 14 characters long"),
        "the short secret is reported: {errors}"
    );
    for (what, text) in [("log", &log), ("metrics", &metrics), ("errors", &errors)] {
        for secret in [
            SECRET,
            "Schule2026!",
            "Falsch-Passwort-77",
            "a-different-secret-000",
            short,
        ] {
            assert!(
                !text.contains(secret),
                "{secret:?} appears in the {what}:\n{text}"
            );
        }
    }
    assert!(
        log.contains("access decision"),
        "decisions are logged at all: {log}"
    );
    assert!(
        metrics.contains("hallpass_decisions_total"),
        "a real scrape: {metrics}"
    );
}

#[test]
fn the_shipped_config_passes_check_and_a_broken_one_names_every_error() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["check", shipped])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let cfg = TestConfig::new("", "");
    school(&cfg);
    cfg.write(
        "devices.d/a.toml",
        "[[device]]\nmac = \"3C-22-FB-12-34-56\"\nowner = \"max.muster\"\n",
    );
    cfg.write(
        "bans.d/b.toml",
        "[[ban]]\nuser = \"ghost\"\nmodules = [\"vpn\"]\nreason = \"x\"\n",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["check", "--config"])
        .arg(cfg.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a.toml:2:"),
        "duplicate MAC across files and notations: {err}"
    );
    assert!(err.contains("b.toml:2:"), "unknown user: {err}");
    assert!(err.contains("b.toml:3:"), "unknown module: {err}");
}

#[test]
fn a_daemon_with_a_broken_config_does_not_start() {
    let cfg = TestConfig::new("", "");
    cfg.write("users.toml", "[[user]]\nname = \"a\"\ncolour = \"blue\"\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("serve")
        .arg("--config")
        .arg(cfg.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("users.toml:3:1"), "{err}");
}

#[allow(dead_code)]
#[test]
fn the_example_secret_does_not_start_beyond_loopback() {
    let cfg = TestConfig::new("", "");
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    let example = "hallpass-example-secret";
    let line = main
        .lines()
        .position(|l| l.starts_with("secret = "))
        .unwrap()
        + 1;
    // On loopback (the quick start) the example secret is fine.
    cfg.write("hallpass.toml", &main.replace(SECRET, example));
    let d = Daemon::start(&cfg);
    assert!(d.stop().success());
    // On every address it is refused, by check and by serve alike.
    cfg.write(
        "hallpass.toml",
        &main.replace(SECRET, example).replace(
            "auth_listen = [\"127.0.0.1:0\"]",
            "auth_listen = [\"0.0.0.0:0\"]",
        ),
    );
    for cmd in ["check", "serve"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallpass"))
            .args([cmd, "--config"])
            .arg(cfg.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!(
                "hallpass.toml:{line}:10: client \"test-nas\" still has the example secret"
            )),
            "{cmd}: {err}"
        );
        assert!(!err.contains(example), "{cmd}: {err}");
    }
}

fn _uses(_: harness::RadReply) {}

#[test]
fn teacher_grants_and_schedules_over_the_wire() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    // a group that needs a teacher's grant, and one that is allowed around the clock on
    // weekdays only... and one whose schedule never matches today
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let mut now = jiff::ZonedDateTime::now().with_time_zone(berlin.clone());
    // "today" must not change under the test: start after midnight if it is close
    let left = (now.end_of_day().unwrap().timestamp() - now.timestamp()).as_secs();
    if left < 60 {
        std::thread::sleep(Duration::from_secs(left as u64 + 2));
        now = jiff::ZonedDateTime::now().with_time_zone(berlin);
    }
    let today = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        [now.weekday().to_monday_zero_offset() as usize];
    let other_day = ["Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mon"]
        [now.weekday().to_monday_zero_offset() as usize];
    cfg.write(
        "hallpass.toml",
        &main.replace(
            "[privacy]",
            &format!(
                "[[policy.group]]\nname = \"5a\"\nvlan = 25\naccess = \"grant\"\n\n\
                 [[policy.group]]\nname = \"always-today\"\nvlan = 26\nschedule = [\"{today} 00:00-24:00\"]\n\n\
                 [[policy.group]]\nname = \"never-today\"\nvlan = 27\nschedule = [\"{other_day} 00:00-24:00\"]\n\n[privacy]"
            ),
        ),
    );
    let users = std::fs::read_to_string(cfg.path().join("users.toml")).unwrap();
    cfg.write(
        "users.toml",
        &format!(
            "{users}\n[[user]]\nname = \"lea.fuenf\"\ngroups = [\"5a\"]\nconsent = true\n\n\
             [[user]]\nname = \"tom.heute\"\ngroups = [\"always-today\"]\nconsent = true\n\n\
             [[user]]\nname = \"ben.morgen\"\ngroups = [\"never-today\"]\nconsent = true\n"
        ),
    );
    let devices = std::fs::read_to_string(cfg.path().join("devices.toml")).unwrap();
    cfg.write(
        "devices.toml",
        &format!(
            "{devices}\n[[device]]\nmac = \"3c:22:fb:00:05:0a\"\nowner = \"lea.fuenf\"\n\n\
             [[device]]\nmac = \"3c:22:fb:00:05:0b\"\nowner = \"tom.heute\"\n\n\
             [[device]]\nmac = \"3c:22:fb:00:05:0c\"\nowner = \"ben.morgen\"\n"
        ),
    );
    let mut d = Daemon::start(&cfg);
    // no grant yet
    let r = mab(d.addr, "3c-22-fb-00-05-0a", "Wireless-802.11");
    assert_eq!(r.code(), Some("Access-Reject"), "{}", r.stdout);
    assert!(
        r.attr("Reply-Message")
            .unwrap_or_default()
            .contains("Freigabe"),
        "{}",
        r.stdout
    );
    // schedules: in the window all day today, outside on another day
    let r = mab(d.addr, "3c-22-fb-00-05-0b", "Wireless-802.11");
    assert_eq!(r.code(), Some("Access-Accept"), "{}", r.stdout);
    assert_eq!(r.attr("Tunnel-Private-Group-Id:0").as_deref(), Some("26"));
    let timeout: u64 = r.attr("Session-Timeout").unwrap().parse().unwrap();
    let to_midnight = (now.end_of_day().unwrap().timestamp() - now.timestamp()).as_secs() as u64;
    assert!(
        timeout <= to_midnight + 2,
        "Session-Timeout {timeout} cut to the window's end ({to_midnight})"
    );
    assert_eq!(
        mab(d.addr, "3c-22-fb-00-05-0c", "Wireless-802.11").code(),
        Some("Access-Reject")
    );

    // a teacher opens Wi-Fi for 5a for the next 45 minutes
    let from = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60);
    let until = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(45 * 60);
    cfg.write(
        "grants.toml",
        &format!("[[grant]]\ngroup = \"5a\"\nmodules = [\"wifi\"]\nfrom = {from}\nuntil = {until}\nreason = \"Recherche\"\nby = \"erika.lehrer\"\n"),
    );
    assert!(d.reload().contains("config reloaded"));
    let r = mab(d.addr, "3c-22-fb-00-05-0a", "Wireless-802.11");
    assert_eq!(r.code(), Some("Access-Accept"), "{}", r.stdout);
    assert_eq!(r.attr("Tunnel-Private-Group-Id:0").as_deref(), Some("25"));
    let timeout: u64 = r.attr("Session-Timeout").unwrap().parse().unwrap();
    assert!(
        (45 * 60 - 5..=45 * 60).contains(&timeout),
        "cut to the grant's end: {timeout}"
    );
    // the grant covers Wi-Fi only
    assert_eq!(
        mab(d.addr, "3c-22-fb-00-05-0a", "Ethernet").code(),
        Some("Access-Reject")
    );
}
