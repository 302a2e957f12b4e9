//! Password guessing from one RADIUS client: the other client's logins are still answered
//! (a fair share of the argon2 workers per client), the guessing is seen (auth log rows with
//! the attempted account, a warning without the name, metrics), and the guessing client
//! pauses for the account while its owner logs in from another client.

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::harness::{Daemon, SECRET, TestConfig, parse_metrics, password_hash};
use crate::wire;

/// The NAS the pupils' guesses come through.
const GUESSER: &str = "127.0.0.2";
/// The NAS of everybody else (the fixture's client).
const OTHERS: &str = "127.0.0.1";
const PASSWORD: &str = "Richtig-2026!";
const VICTIM: &str = "max.muster";
/// The flood: about 450 guesses per second, as in the report, at least `FLOOD_MIN` of them
/// and on until the other client's logins are done (never more than `FLOOD_MAX`).
const FLOOD_RATE: u32 = 450;
const FLOOD_MIN: u32 = 2000;
const FLOOD_MAX: u32 = 6000;
const REPLY_MESSAGE: u8 = 18;
/// A NAS's retransmissions: 4 tries, 1 s apart.
const TRIES: u32 = 4;
const RETRY: Duration = Duration::from_secs(1);

fn users() -> Vec<String> {
    (1..=7).map(|i| format!("schueler.{i}")).collect()
}

fn config() -> TestConfig {
    let extra = format!(
        r#"
[[radius.client]]
name = "pupil-ap"
address = "{GUESSER}/32"
secret = "{SECRET}"
module = "wifi"
"#
    );
    let cfg = TestConfig::new("", &extra);
    cfg.enable_metrics();
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    // A warning after 6 failures of one account (default 10): the guesses this test can
    // count on reaching the password check (the pause lets few through).
    cfg.write(
        "hallpass.toml",
        &main.replacen(
            "language = \"de\"",
            "language = \"de\"\nfailed_logins_warning = 6",
            1,
        ),
    );
    let hash = password_hash(PASSWORD);
    let mut users_toml = String::new();
    for name in users().iter().map(String::as_str).chain([VICTIM]) {
        users_toml.push_str(&format!(
            "[[user]]\nname = \"{name}\"\ngroups = [\"students\"]\nconsent = true\npassword = \"{hash}\"\n\n"
        ));
    }
    cfg.write("users.toml", &users_toml);
    cfg
}

fn pap_request(id: u8, user: &str, password: &str) -> Vec<u8> {
    let authenticator: [u8; 16] = rand::random();
    let hidden = wire::hide_password(password.as_bytes(), SECRET.as_bytes(), &authenticator);
    wire::access_request(
        id,
        authenticator,
        &[
            (wire::USER_NAME, user.as_bytes().to_vec()),
            (wire::USER_PASSWORD, hidden),
        ],
        SECRET.as_bytes(),
        true,
    )
}

/// A login as a NAS makes it: the same request again after each `RETRY`, `TRIES` times.
/// The reply's code and Reply-Message, or `None` when nothing came back.
fn login(from: &str, server: SocketAddr, user: &str, password: &str) -> Option<(u8, String)> {
    let s = UdpSocket::bind((from, 0)).unwrap();
    let request = pap_request(rand::random(), user, password);
    for _ in 0..TRIES {
        if let Some(reply) = wire::exchange_on(&s, server, &request, RETRY) {
            wire::check_reply(&reply, &request, SECRET.as_bytes());
            let message = wire::attributes(&reply)
                .into_iter()
                .filter(|(t, _)| *t == REPLY_MESSAGE)
                .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
                .collect();
            return Some((reply[0], message));
        }
    }
    None
}

/// Wrong passwords from the guessing client at `FLOOD_RATE`, every tenth for the victim,
/// the rest for made-up names, until `done` (bounded). Returns (sent, answered).
fn flood(server: SocketAddr, done: &AtomicBool) -> (u32, u64) {
    let s = UdpSocket::bind((GUESSER, 0)).unwrap();
    let answered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (s, answered, stop) = (s.try_clone().unwrap(), answered.clone(), stop.clone());
        std::thread::spawn(move || {
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            let mut buf = [0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                if s.recv_from(&mut buf).is_ok() {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let start = Instant::now();
    let mut sent = 0u32;
    while sent < FLOOD_MAX && (sent < FLOOD_MIN || !done.load(Ordering::Relaxed)) {
        let user = if sent.is_multiple_of(10) {
            VICTIM.to_string()
        } else {
            format!("rate.{sent}")
        };
        let _ = s.send_to(
            &pap_request(sent as u8, &user, &format!("Falsch-{sent}")),
            server,
        );
        sent += 1;
        let due = start + Duration::from_secs(1) * sent / FLOOD_RATE;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    (sent, answered.load(Ordering::Relaxed))
}

fn hallpass(cfg: &TestConfig, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(args)
        .arg("--config")
        .arg(cfg.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn is_pause(message: &str) -> bool {
    message.starts_with("Zu viele fehlgeschlagene Anmeldungen")
}

#[test]
fn a_guessing_client_starves_nobody_and_is_seen_and_paused() {
    let cfg = config();
    let mut d = Daemon::start(&cfg);
    let server = d.addr;

    // The flood, and meanwhile seven logins of seven other users through the other NAS,
    // all at once as a busy WLAN controller sends them.
    let done = Arc::new(AtomicBool::new(false));
    let flooding = {
        let done = done.clone();
        std::thread::spawn(move || flood(server, &done))
    };
    std::thread::sleep(Duration::from_millis(500));
    let logins: Vec<_> = users()
        .into_iter()
        .map(|u| std::thread::spawn(move || (login(OTHERS, server, &u, PASSWORD), u)))
        .collect();
    let results: Vec<_> = logins.into_iter().map(|t| t.join().unwrap()).collect();
    done.store(true, Ordering::Relaxed);
    let (sent, answered) = flooding.join().unwrap();
    let accepted = results
        .iter()
        .filter(|(r, _)| matches!(r, Some((code, _)) if *code == wire::ACCESS_ACCEPT))
        .count();
    eprintln!(
        "guesses sent {sent}, answered {answered}; logins of other users accepted {accepted} of 7"
    );
    assert_eq!(accepted, 7, "{results:?}");

    // The guessing client pauses for the victim. One guess in ten of the flood was for the
    // victim, and on a busy machine fewer than `failed_logins_slowdown` of those may have
    // reached the check: guess on until a pause answers, wait it out, and the next wrong
    // guess, checked beyond the threshold, starts a pause of at least 2 s.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut paused = false;
    loop {
        assert!(Instant::now() < deadline, "no pause, or it never ended");
        let (code, message) = login(GUESSER, server, VICTIM, "Falsch-nach-der-Flut").unwrap();
        assert_eq!(code, wire::ACCESS_REJECT);
        if is_pause(&message) {
            paused = true;
            std::thread::sleep(Duration::from_millis(250));
        } else if paused {
            break;
        }
    }
    let (code, message) = login(GUESSER, server, VICTIM, PASSWORD).unwrap();
    assert_eq!(
        code,
        wire::ACCESS_REJECT,
        "the right password, from the guessing client"
    );
    assert!(is_pause(&message), "{message}");
    // ... and its owner logs in from the other client meanwhile, which lifts nothing there.
    let (code, message) = login(OTHERS, server, VICTIM, PASSWORD).unwrap();
    assert_eq!(code, wire::ACCESS_ACCEPT, "{message}");
    let (code, message) = login(GUESSER, server, VICTIM, PASSWORD).unwrap();
    assert_eq!(code, wire::ACCESS_REJECT);
    assert!(is_pause(&message), "{message}");

    // The metrics show it, without names.
    let body = d.scrape();
    let m = parse_metrics(&body);
    let get = |k: &str| m.get(k).copied().unwrap_or(0.0);
    assert!(get("hallpass_login_failures_total") >= 7.0, "{body}");
    assert!(
        get("hallpass_login_failure_warnings_total") >= 1.0,
        "{body}"
    );
    assert!(get("hallpass_login_paused_total") >= 2.0, "{body}");
    assert!(
        get("hallpass_dropped_total{reason=\"fair_share\"}") >= 1.0,
        "{body}"
    );
    assert!(!body.contains(VICTIM));

    // The journal's warning counts and names the client, not the account.
    let warning = d.wait_for_log("failed logins within 10 minutes", 0, Duration::from_secs(5));
    assert!(
        warning.contains("WARN") && warning.contains("pupil-ap"),
        "{warning}"
    );
    assert!(!warning.contains(VICTIM), "{warning}");

    // The auth log has the failed and the refused attempts under the victim's name; the
    // made-up names are nowhere.
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = hallpass(
            &cfg,
            &[
                "log",
                "--user",
                VICTIM,
                "--limit",
                "100000",
                "--reason",
                "Meldung 3",
            ],
        );
        let rows = ["too_many_failures", "bad_credentials", "accepted"];
        if rows.iter().all(|r| log.contains(r)) {
            break log;
        }
        assert!(Instant::now() < deadline, "log rows missing:\n{log}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        log.contains("pupil-ap") && log.contains("test-nas"),
        "{log}"
    );
    let all = hallpass(&cfg, &["log", "--limit", "100000", "--reason", "Meldung 3"]);
    assert!(!all.contains("rate."), "made-up names are not logged");
    d.stop();
}

/// The same for the passwords inside EAP: TTLS/PAP and PEAP-MSCHAPv2 guesses from one
/// client are counted together, logged with the account, and pause that client; the owner
/// logs in through the other client meanwhile.
mod eap {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::{GUESSER, OTHERS, PASSWORD, SECRET, hallpass};
    use crate::harness::{Daemon, TestConfig, password_hash};

    const SERVER_NAME: &str = "radius.school.example";
    const OWNER: &str = "lena.meyer";
    const PHONE: &str = "3c:22:fb:00:00:31";
    /// A pause after the second failure; 2 s, 4 s, 8 s, ...
    const SLOWDOWN: u32 = 2;

    fn config() -> Option<TestConfig> {
        if !Command::new("sh")
            .args(["-c", "command -v eapol_test"])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            // tests/it/eap.rs installs it when it can; this test needs it too.
            eprintln!("SKIPPED: eapol_test is missing (apt-get install eapoltest)");
            return None;
        }
        let extra = format!(
            "\n[[radius.client]]\nname = \"pupil-ap\"\naddress = \"{GUESSER}/32\"\nsecret = \"{SECRET}\"\nmodule = \"wifi\"\n\n[eap]\nmethods = [\"peap\", \"ttls\"]\ncertificate = \"eap/server.pem\"\nprivate_key = \"eap/server.key\"\nunregistered_devices = \"allow\"\n"
        );
        let cfg = TestConfig::new("", &extra);
        let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
        cfg.write(
            "hallpass.toml",
            &main.replacen(
                "language = \"de\"",
                &format!("language = \"de\"\nfailed_logins_slowdown = {SLOWDOWN}"),
                1,
            ),
        );
        let now = jiff::Timestamp::now();
        let ca = hallpass::eap::certs::make_ca("hallpass test CA", now).unwrap();
        let server = hallpass::eap::certs::make_server_cert(&ca, &[SERVER_NAME], now).unwrap();
        cfg.write(
            "eap/server.pem",
            &format!("{}{}", server.cert_pem, ca.cert_pem),
        );
        cfg.write("eap/server.key", &server.key_pem);
        std::fs::set_permissions(
            cfg.path().join("eap/server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        cfg.write("ca.pem", &ca.cert_pem);
        let nt: String = hallpass::eap::mschapv2::NtHash::from_password(PASSWORD)
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        cfg.write(
            "users.toml",
            &format!(
                "[[user]]\nname = \"{OWNER}\"\ngroups = [\"students\"]\nconsent = true\npassword = \"{}\"\nnt_hash = \"{nt}\"\n",
                password_hash(PASSWORD)
            ),
        );
        Some(cfg)
    }

    /// One eapol_test login from `from`; true on SUCCESS.
    fn login(cfg: &TestConfig, d: &Daemon, from: &str, method: &str, password: &str) -> bool {
        let dir = cfg.path();
        let phase2 = if method == "peap" { "MSCHAPV2" } else { "PAP" };
        let conf = dir.join(format!("{method}.conf"));
        std::fs::write(
            &conf,
            format!(
                "network={{\n  eap={}\n  identity=\"{OWNER}\"\n  anonymous_identity=\"anonymous@school.example\"\n  password=\"{password}\"\n  phase2=\"auth={phase2}\"\n  ca_cert=\"{}\"\n  domain_suffix_match=\"{SERVER_NAME}\"\n  key_mgmt=IEEE8021X\n  eapol_flags=0\n}}\n",
                method.to_uppercase(),
                Path::new(dir).join("ca.pem").display()
            ),
        )
        .unwrap();
        let out = Command::new("eapol_test")
            .arg("-c")
            .arg(&conf)
            .args(["-a", &d.addr.ip().to_string(), "-A", from])
            .args(["-p", &d.addr.port().to_string()])
            .args(["-s", SECRET, "-M", PHONE, "-t", "10", "-N", "61:d:19"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        out.status.success() && text.lines().rev().find(|l| !l.trim().is_empty()) == Some("SUCCESS")
    }

    /// The reason of the `n`-th decision the daemon logged (debug level), waiting for it.
    /// Counted from the start, not from the log's length before the login: the line of
    /// the login before may still be on its way through the pipe.
    fn reason_of_decision(d: &Daemon, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = d.log_lines();
            if let Some(line) = lines
                .iter()
                .filter(|l| l.contains("access decision"))
                .nth(n - 1)
            {
                return line
                    .split("reason=")
                    .nth(1)
                    .and_then(|s| s.split_whitespace().next())
                    .unwrap_or("")
                    .trim_matches('"')
                    .to_string();
            }
            assert!(Instant::now() < deadline, "decision {n} not logged");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn eap_password_guessing_is_counted_logged_and_paused() {
        let Some(cfg) = config() else { return };
        let d = Daemon::start(&cfg);
        // Wrong passwords, TTLS/PAP and PEAP-MSCHAPv2 by turns, until SLOWDOWN + 2 were
        // checked: the pause then lasts 8 s. Each login ends in one decision.
        let mut decisions = 0;
        let mut checked = 0;
        for i in 0..16 {
            assert!(i < 15, "the wrong passwords were never checked");
            let method = if i % 2 == 0 { "ttls" } else { "peap" };
            assert!(!login(&cfg, &d, GUESSER, method, "Falsch-2026!"));
            decisions += 1;
            match reason_of_decision(&d, decisions).as_str() {
                "bad_credentials" => checked += 1,
                "too_many_failures" => std::thread::sleep(Duration::from_secs(1)),
                other => panic!("{method}: {other}"),
            }
            if checked == SLOWDOWN + 2 {
                break;
            }
        }
        // The right password from the guessing client: refused without a check...
        assert!(!login(&cfg, &d, GUESSER, "peap", PASSWORD));
        decisions += 1;
        assert_eq!(reason_of_decision(&d, decisions), "too_many_failures");
        // ... and from the other client the owner gets in.
        assert!(login(&cfg, &d, OTHERS, "ttls", PASSWORD));
        decisions += 1;
        assert_eq!(reason_of_decision(&d, decisions), "accepted");

        // Every one of them in the auth log under the account (rows are committed within
        // a second).
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = hallpass(
                &cfg,
                &[
                    "log",
                    "--user",
                    OWNER,
                    "--limit",
                    "1000",
                    "--reason",
                    "Meldung 4",
                ],
            );
            let rows = |r: &str| log.lines().filter(|l| l.contains(r)).count();
            let paused = decisions - checked as usize - 1;
            if rows("bad_credentials") == checked as usize
                && rows("too_many_failures") == paused
                && rows("accepted") == 1
            {
                break;
            }
            assert!(Instant::now() < deadline, "{log}");
            std::thread::sleep(Duration::from_millis(200));
        }
        d.stop();
    }
}
