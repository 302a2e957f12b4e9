//! 802.1X logins over RADIUS with wpa_supplicant's eapol_test as the peer: PEAP-MSCHAPv2,
//! TTLS/PAP and EAP-TLS succeed with matching MPPE keys, each handshake timed under its
//! method in the metrics; a wrong password, a Wi-Fi ban on Wi-Fi (the same person on a
//! wired port gets in), another user's device and an unregistered device are refused, each
//! with its reason in the auth log; a flood of abandoned starts leaves the table at its
//! bound. Certificates are made here with `hallpass::eap::certs`. The config and the
//! eapol_test driver are shared with `eap_refusals`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use crate::harness::{Daemon, SECRET, TestConfig, http, parse_metrics, password_hash};

pub(crate) const PASSWORD: &str = "Schule2026!";
pub(crate) const SERVER_NAME: &str = "radius.school.example";
pub(crate) const MAX_PHONE: &str = "3c:22:fb:12:34:56";
pub(crate) const BANNED_PHONE: &str = "3c:22:fb:00:00:04";
pub(crate) const STRANGER: &str = "da:a1:19:00:00:99";

/// eapol_test, installed if missing and possible; `None`: skip (said why on stderr).
pub(crate) fn eapol_test() -> Option<&'static str> {
    let found = || {
        Command::new("sh")
            .args(["-c", "command -v eapol_test"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if found() {
        return Some("eapol_test");
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        eprintln!(
            "SKIPPED: eapol_test is missing and this is not root (apt-get install eapoltest)"
        );
        return None;
    }
    let installed = Command::new("apt-get")
        .args([
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "eapoltest",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .is_ok_and(|s| s.success());
    assert!(installed && found(), "eapol_test could not be installed");
    Some("eapol_test")
}

fn nt_hash_hex(password: &str) -> String {
    hallpass::eap::mschapv2::NtHash::from_password(password)
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A config with `[eap]` (PEAP, TTLS, TLS; `unregistered` as given), its certificates,
/// the users max.muster, lena.meyer and wifi.gesperrt (Wi-Fi ban) with password and NT
/// hash, and the files eapol_test needs: `ca.pem`, `client.pem`, `client.key`.
pub(crate) fn eap_config(unregistered: &str) -> TestConfig {
    eap_config_with(unregistered, "")
}

/// [`eap_config`] with `policy_extra` added to `[policy]`.
pub(crate) fn eap_config_with(unregistered: &str, policy_extra: &str) -> TestConfig {
    let eap = format!(
        "\n[eap]\nmethods = [\"peap\", \"ttls\", \"tls\"]\ncertificate = \"eap/server.pem\"\nprivate_key = \"eap/server.key\"\nclient_ca = \"eap/clients-ca.pem\"\nunregistered_devices = \"{unregistered}\"\n"
    );
    let cfg = TestConfig::new(policy_extra, &eap);
    let now = jiff::Timestamp::now();
    let certs = hallpass::eap::certs::make_ca("hallpass test CA", now).unwrap();
    let server = hallpass::eap::certs::make_server_cert(&certs, &[SERVER_NAME], now).unwrap();
    let clients_ca = hallpass::eap::certs::make_ca("hallpass clients", now).unwrap();
    let client = hallpass::eap::certs::make_client_cert(&clients_ca, "max.muster", now).unwrap();
    cfg.write(
        "eap/server.pem",
        &format!("{}{}", server.cert_pem, certs.cert_pem),
    );
    cfg.write("eap/server.key", &server.key_pem);
    std::fs::set_permissions(
        cfg.path().join("eap/server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    cfg.write("eap/clients-ca.pem", &clients_ca.cert_pem);
    cfg.write("ca.pem", &certs.cert_pem);
    cfg.write("client.pem", &client.cert_pem);
    cfg.write("client.key", &client.key_pem);
    // The same name from a CA hallpass does not trust.
    let foreign_ca = hallpass::eap::certs::make_ca("somebody else", now).unwrap();
    let foreign = hallpass::eap::certs::make_client_cert(&foreign_ca, "max.muster", now).unwrap();
    cfg.write("foreign.pem", &foreign.cert_pem);
    cfg.write("foreign.key", &foreign.key_pem);
    let hash = password_hash(PASSWORD);
    let nt = nt_hash_hex(PASSWORD);
    let user = |name: &str| {
        format!(
            "[[user]]\nname = \"{name}\"\ngroups = [\"students\"]\nconsent = true\npassword = \"{hash}\"\nnt_hash = \"{nt}\"\n\n"
        )
    };
    cfg.write(
        "users.toml",
        &[
            user("max.muster"),
            user("lena.meyer"),
            user("wifi.gesperrt"),
        ]
        .concat(),
    );
    cfg.write(
        "devices.toml",
        &format!(
            "[[device]]\nmac = \"{MAX_PHONE}\"\nowner = \"max.muster\"\n\n[[device]]\nmac = \"{BANNED_PHONE}\"\nowner = \"wifi.gesperrt\"\n"
        ),
    );
    cfg.write(
        "bans.toml",
        "[[ban]]\nuser = \"wifi.gesperrt\"\nmodules = [\"wifi\"]\nuntil = 2099-12-04T08:00:00+01:00\nreason = \"Netiquette\"\n",
    );
    cfg
}

/// The network block of one method.
pub(crate) fn network(method: &str, user: &str, password: &str, dir: &Path) -> String {
    let ca = dir.join("ca.pem").display().to_string();
    let common = format!(
        "ca_cert=\"{ca}\"\n  domain_suffix_match=\"{SERVER_NAME}\"\n  key_mgmt=IEEE8021X\n  eapol_flags=0\n"
    );
    match method {
        "peap" => format!(
            "network={{\n  eap=PEAP\n  identity=\"{user}\"\n  anonymous_identity=\"anonymous@school.example\"\n  password=\"{password}\"\n  phase2=\"auth=MSCHAPV2\"\n  {common}}}\n"
        ),
        "ttls" => format!(
            "network={{\n  eap=TTLS\n  identity=\"{user}\"\n  anonymous_identity=\"anonymous@school.example\"\n  password=\"{password}\"\n  phase2=\"auth=PAP\"\n  {common}}}\n"
        ),
        "tls" | "tls-foreign" => {
            let file = if method == "tls" { "client" } else { "foreign" };
            format!(
                "network={{\n  eap=TLS\n  identity=\"{user}\"\n  client_cert=\"{}\"\n  private_key=\"{}\"\n  {common}}}\n",
                dir.join(format!("{file}.pem")).display(),
                dir.join(format!("{file}.key")).display()
            )
        }
        other => panic!("no method {other}"),
    }
}

pub(crate) struct Run {
    pub(crate) success: bool,
    pub(crate) keys_ok: bool,
    pub(crate) output: String,
}

/// eapol_test against one daemon.
pub(crate) struct Peer<'a> {
    pub(crate) bin: &'a str,
    pub(crate) d: &'a Daemon,
    pub(crate) cfg: &'a TestConfig,
}

/// One eapol_test login of `user` from `mac`; `port_type` 19 (Wi-Fi) or 15 (Ethernet).
pub(crate) fn login(
    peer: &Peer,
    method: &str,
    user: &str,
    password: &str,
    mac: &str,
    port_type: u32,
) -> Run {
    let conf = peer
        .cfg
        .path()
        .join(format!("{method}-{user}-{port_type}.conf"));
    std::fs::write(&conf, network(method, user, password, peer.cfg.path())).unwrap();
    run(peer, &conf, mac, port_type)
}

/// eapol_test with the network block in `conf`.
pub(crate) fn run(peer: &Peer, conf: &Path, mac: &str, port_type: u32) -> Run {
    let Peer { bin, d, .. } = *peer;
    let out = Command::new(bin)
        .arg("-c")
        .arg(conf)
        .args(["-a", &d.addr.ip().to_string()])
        .args(["-p", &d.addr.port().to_string()])
        .args(["-s", SECRET, "-M", mac, "-t", "10"])
        .args(["-N", &format!("61:d:{port_type}")])
        .output()
        .expect("run eapol_test");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let last = output
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Run {
        success: last.trim() == "SUCCESS" && out.status.success(),
        keys_ok: output.contains("MPPE keys OK: 1  mismatch: 0"),
        output,
    }
}

/// The tail of the output, enough to see why a login went wrong.
pub(crate) fn tail(r: &Run) -> String {
    let lines: Vec<&str> = r.output.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// The last auth-log line the daemon printed about an EAP login.
pub(crate) fn logged_reason(d: &mut Daemon, skip: usize) -> String {
    let line = d.wait_for_log("access decision", skip, std::time::Duration::from_secs(10));
    line.split("reason=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or("")
        .trim_matches('"')
        .to_string()
}

#[test]
fn peap_ttls_and_tls_log_in_with_matching_keys() {
    let Some(bin) = eapol_test() else { return };
    let cfg = eap_config("reject");
    cfg.enable_metrics();
    let d = Daemon::start(&cfg);
    let peer = Peer {
        bin,
        d: &d,
        cfg: &cfg,
    };
    for method in ["peap", "ttls", "tls"] {
        let r = login(&peer, method, "max.muster", PASSWORD, MAX_PHONE, 19);
        assert!(r.success, "{method}: no SUCCESS\n{}", tail(&r));
        assert!(r.keys_ok, "{method}: MPPE keys\n{}", tail(&r));
        // TLS 1.2 by default (tls_versions).
        assert!(
            r.output.contains("Using TLS version TLSv1.2"),
            "{method}: TLS version\n{}",
            tail(&r)
        );
        // The Access-Accept names the person (not the anonymous outer identity) and
        // carries the VLAN of their group ("20", which eapol_test prints in hex).
        assert!(
            r.output
                .contains("Attribute 1 (User-Name) length=12\n      Value: 'max.muster'"),
            "{method}: User-Name\n{}",
            tail(&r)
        );
        assert!(
            r.output
                .contains("Attribute 81 (Tunnel-Private-Group-Id) length=4\n      Value: 3230"),
            "{method}: VLAN\n{}",
            tail(&r)
        );
    }
    // Counted by method and reason; no conversation is left over.
    let (_, body) = http(
        d.metrics.unwrap(),
        "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let m = parse_metrics(&body);
    for method in ["peap", "ttls", "tls"] {
        let series =
            format!("hallpass_eap_results_total{{method=\"{method}\",reason=\"accepted\"}}");
        assert_eq!(m.get(&series), Some(&1.0), "{series}\n{body}");
        // One handshake timed per method, from the first request to the Access-Accept:
        // several round trips, so never nothing.
        let count = format!("hallpass_eap_handshake_seconds_count{{method=\"{method}\"}}");
        assert_eq!(m.get(&count), Some(&1.0), "{count}\n{body}");
        let sum = format!("hallpass_eap_handshake_seconds_sum{{method=\"{method}\"}}");
        assert!(m.get(&sum).is_some_and(|s| *s > 0.0), "{sum}\n{body}");
    }
    assert_eq!(m.get("hallpass_eap_conversations"), Some(&0.0), "{body}");
    // The auth log names the method and the person inside the tunnel.
    assert!(d.stop().success());
    let conn = rusqlite::Connection::open_with_flags(
        cfg.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = conn
        .prepare("SELECT method, user, mac, accepted, reason FROM auth_log ORDER BY id")
        .unwrap();
    let rows: Vec<(Option<String>, Option<String>, Option<String>, bool, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let want: Vec<_> = ["peap", "ttls", "tls"]
        .iter()
        .map(|m| {
            (
                Some(m.to_string()),
                Some("max.muster".to_string()),
                Some(MAX_PHONE.to_string()),
                true,
                "accepted".to_string(),
            )
        })
        .collect();
    assert_eq!(rows, want);
}

#[test]
fn refused_eap_logins_say_why() {
    let Some(bin) = eapol_test() else { return };
    let cfg = eap_config("reject");
    let mut d = Daemon::start(&cfg);
    let cases: [(&str, &str, &str, &str, u32, Option<&str>); 7] = [
        (
            "peap",
            "max.muster",
            "falsch",
            MAX_PHONE,
            19,
            Some("bad_credentials"),
        ),
        (
            "ttls",
            "max.muster",
            "falsch",
            MAX_PHONE,
            19,
            Some("bad_credentials"),
        ),
        (
            "peap",
            "wifi.gesperrt",
            PASSWORD,
            BANNED_PHONE,
            19,
            Some("banned"),
        ),
        ("peap", "wifi.gesperrt", PASSWORD, BANNED_PHONE, 15, None),
        (
            "peap",
            "lena.meyer",
            PASSWORD,
            MAX_PHONE,
            19,
            Some("device_of_other_user"),
        ),
        (
            "ttls",
            "max.muster",
            PASSWORD,
            STRANGER,
            19,
            Some("not_registered"),
        ),
        // A client certificate of a CA hallpass does not trust: the handshake fails.
        (
            "tls-foreign",
            "max.muster",
            "",
            MAX_PHONE,
            19,
            Some("eap_failed"),
        ),
    ];
    for (method, user, password, mac, port, refused) in cases {
        let skip = d.log_len();
        let r = login(
            &Peer {
                bin,
                d: &d,
                cfg: &cfg,
            },
            method,
            user,
            password,
            mac,
            port,
        );
        let reason = logged_reason(&mut d, skip);
        match refused {
            Some(why) => {
                assert!(!r.success, "{method} {user} {mac}: let in\n{}", tail(&r));
                assert_eq!(reason, why, "{method} {user} {mac}\n{}", tail(&r));
            }
            None => {
                assert!(r.success, "{method} {user} {mac} port {port}\n{}", tail(&r));
                assert_eq!(reason, "accepted");
            }
        }
    }
}

#[test]
fn unregistered_devices_may_be_allowed() {
    let Some(bin) = eapol_test() else { return };
    let cfg = eap_config("allow");
    let d = Daemon::start(&cfg);
    let peer = Peer {
        bin,
        d: &d,
        cfg: &cfg,
    };
    let r = login(&peer, "peap", "max.muster", PASSWORD, STRANGER, 19);
    assert!(r.success && r.keys_ok, "{}", tail(&r));
}

/// An EAP-Response/Identity as the NAS forwards it.
pub(crate) fn identity_response(id: u8, identity: &[u8]) -> Vec<u8> {
    let len = (5 + identity.len()) as u16;
    let mut eap = vec![2, id, 0, 0, 1];
    eap[2..4].copy_from_slice(&len.to_be_bytes());
    eap.extend_from_slice(identity);
    eap
}

#[test]
fn eap_rounds_need_a_message_authenticator_and_duplicates_get_the_same_challenge() {
    use crate::wire;
    use std::time::Duration;
    let cfg = eap_config("reject");
    let d = Daemon::start(&cfg);
    let eap = identity_response(7, b"anonymous@school.example");
    let attrs = [
        (1u8, b"anonymous@school.example".to_vec()),
        (31, b"3C-22-FB-12-34-56".to_vec()),
        (79, eap),
    ];
    // Without Message-Authenticator: dropped (RFC 3579 3.2), even for this client.
    let bare = wire::access_request(1, [5; 16], &attrs, SECRET.as_bytes(), false);
    assert_eq!(wire::exchange(d.addr, &bare, Duration::from_secs(1)), None);

    let request = wire::access_request(2, [6; 16], &attrs, SECRET.as_bytes(), true);
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let first = wire::exchange_on(&s, d.addr, &request, Duration::from_secs(5)).unwrap();
    wire::check_reply(&first, &request, SECRET.as_bytes());
    assert_eq!(first[0], 11, "Access-Challenge");
    let got = wire::attributes(&first);
    assert_eq!(got[0].0, 80, "Message-Authenticator first: {got:?}");
    let proposed = got.iter().find(|(t, _)| *t == 79).unwrap();
    // An EAP-Request (1) with the next identifier, proposing PEAP (25) with the Start flag.
    assert_eq!(
        (proposed.1[0], proposed.1[1], proposed.1[4]),
        (1, 8, 25),
        "{got:?}"
    );
    assert_eq!(proposed.1[5] & 0x20, 0x20, "Start flag");
    let state = got.iter().find(|(t, _)| *t == 24).unwrap();
    assert_eq!(state.1.len(), 16);
    // The retransmission (same source, identifier and authenticator) gets the cached reply:
    // the same State, not a second conversation.
    let again = wire::exchange_on(&s, d.addr, &request, Duration::from_secs(5)).unwrap();
    assert_eq!(again, first);

    // A State hallpass never gave out (or one expired): Access-Reject with EAP-Failure, so
    // the peer starts afresh at once.
    let mut foreign = attrs.to_vec();
    foreign[2] = (79, identity_response(8, b"x"));
    foreign.push((24, vec![0x5a; 16]));
    let request = wire::access_request(3, [7; 16], &foreign, SECRET.as_bytes(), true);
    let reply = wire::exchange(d.addr, &request, Duration::from_secs(5)).unwrap();
    wire::check_reply(&reply, &request, SECRET.as_bytes());
    assert_eq!(reply[0], 3, "Access-Reject");
    let got = wire::attributes(&reply);
    assert!(
        got.contains(&(79, vec![4, 8, 0, 4])),
        "EAP-Failure: {got:?}"
    );
}

#[test]
fn why_explains_an_eap_login() {
    let cfg = eap_config("reject");
    let why = |user: &str, mac: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
            .args(["why", "--user", user, "--mac", mac, "--config"])
            .arg(cfg.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let other = why("lena.meyer", MAX_PHONE);
    assert!(
        other.contains("802.1X (EAP) login of lena.meyer"),
        "{other}"
    );
    assert!(other.contains("reject (device_of_other_user)"), "{other}");
    let own = why("max.muster", MAX_PHONE);
    assert!(own.contains("accept (accepted)"), "{own}");
    let stranger = why("max.muster", STRANGER);
    assert!(stranger.contains("reject (not_registered)"), "{stranger}");
}

#[test]
fn check_shows_the_certificate_and_who_lacks_an_nt_hash() {
    let cfg = eap_config("reject");
    cfg.write(
        "users.d/7b.toml",
        "[[user]]\nname = \"neu.ohne\"\ngroups = [\"students\"]\nconsent = true\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("check")
        .arg(cfg.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("eap:        peap, ttls, tls"), "{text}");
    assert!(text.contains("CN=radius.school.example"), "{text}");
    assert!(
        text.contains(&format!("names:     {SERVER_NAME}")),
        "{text}"
    );
    assert!(text.contains("1 of 4 users have none"), "{text}");
    assert!(!text.contains("WARNING"), "{text}");

    // A key others can read is refused, with the file and position named.
    std::fs::set_permissions(
        cfg.path().join("eap/server.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("check")
        .arg(cfg.path())
        .output()
        .unwrap();
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(errors.contains("hallpass.toml:"), "{errors}");
    assert!(
        errors.contains("\"eap/server.key\" can be read by group or others"),
        "{errors}"
    );
}

#[test]
fn abandoned_conversations_stay_bounded_and_a_real_login_still_works() {
    use crate::wire;
    use std::time::Duration;
    const MAX: u32 = 256;
    const STARTS: u32 = 3000;
    let Some(bin) = eapol_test() else { return };
    let cfg = eap_config("reject");
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    cfg.write(
        "hallpass.toml",
        &main.replace("[eap]\n", &format!("[eap]\nmax_conversations = {MAX}\n")),
    );
    cfg.enable_metrics();
    let d = Daemon::start(&cfg);
    let in_flight = || {
        let body = d.scrape();
        let m = parse_metrics(&body);
        (m.get("hallpass_eap_conversations").copied(), body)
    };
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..STARTS {
        let eap = identity_response(1, format!("flood{i}@school.example").as_bytes());
        let attrs = [(31u8, b"DA-A1-19-00-00-99".to_vec()), (79, eap)];
        let mut authenticator = [0u8; 16];
        authenticator[..4].copy_from_slice(&i.to_be_bytes());
        let request = wire::access_request(i as u8, authenticator, &attrs, SECRET.as_bytes(), true);
        // Retransmitted like a NAS does: a start that finds every worker busy is dropped.
        let reply = (0..5)
            .find_map(|_| wire::exchange_on(&s, d.addr, &request, Duration::from_secs(2)))
            .unwrap_or_else(|| panic!("start {i} not answered"));
        assert_eq!(reply[0], 11, "start {i}: Access-Challenge");
        // Never more than the bound in the table, on the way as at the end.
        if i % 500 == 499 {
            let (n, body) = in_flight();
            assert_eq!(n, Some(f64::from(MAX)), "after {} starts\n{body}", i + 1);
        }
    }
    let body = d.scrape();
    let m = parse_metrics(&body);
    assert_eq!(
        m.get("hallpass_eap_conversations"),
        Some(&f64::from(MAX)),
        "{body}"
    );
    assert_eq!(
        m.get("hallpass_eap_conversations_dropped_total"),
        Some(&f64::from(STARTS - MAX)),
        "{body}"
    );
    let peer = Peer {
        bin,
        d: &d,
        cfg: &cfg,
    };
    let r = login(&peer, "peap", "max.muster", PASSWORD, MAX_PHONE, 19);
    assert!(r.success && r.keys_ok, "{}", tail(&r));
    // The login's conversation took the place of an abandoned one and left when it ended.
    let (n, body) = in_flight();
    assert_eq!(n, Some(f64::from(MAX - 1)), "{body}");
}

#[test]
fn tls_1_3_when_configured() {
    let Some(bin) = eapol_test() else { return };
    let cfg = eap_config("reject");
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    cfg.write(
        "hallpass.toml",
        &main.replace("[eap]\n", "[eap]\ntls_versions = [\"1.2\", \"1.3\"]\n"),
    );
    let d = Daemon::start(&cfg);
    let peer = Peer {
        bin,
        d: &d,
        cfg: &cfg,
    };
    for method in ["peap", "ttls", "tls"] {
        let conf = cfg.path().join(format!("{method}-13.conf"));
        let block = network(method, "max.muster", PASSWORD, cfg.path()).replacen(
            "network={\n",
            "network={\n  phase1=\"tls_disable_tlsv1_3=0\"\n",
            1,
        );
        std::fs::write(&conf, block).unwrap();
        let r = run(&peer, &conf, MAX_PHONE, 19);
        assert!(
            r.success && r.keys_ok,
            "{method} over TLS 1.3\n{}",
            tail(&r)
        );
        assert!(
            r.output.contains("Using TLS version TLSv1.3"),
            "{method}: not TLS 1.3\n{}",
            tail(&r)
        );
    }
}
