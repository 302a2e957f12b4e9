//! The metrics endpoint of the real daemon: counters move by exactly what was sent, nothing
//! secret or personal is exported, the HTTP responder is bounded; and the graceful stop
//! answers and logs PAP requests that are in flight.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use crate::harness::{
    Daemon, SECRET, TestConfig, http, mab, pap, parse_metrics, radclient, school,
};
use crate::wire;

fn started() -> (TestConfig, Daemon) {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    cfg.enable_metrics();
    let d = Daemon::start(&cfg);
    (cfg, d)
}

/// after - before for every series named in `want`, compared as a whole so a failure shows
/// every difference at once.
fn assert_deltas(
    before: &HashMap<String, f64>,
    after: &HashMap<String, f64>,
    want: &[(&str, f64)],
) {
    let delta = |k: &str| {
        let a = after.get(k).copied();
        assert!(a.is_some(), "no series {k} in the scrape");
        a.unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0)
    };
    let got: Vec<(&str, f64)> = want.iter().map(|(k, _)| (*k, delta(k))).collect();
    assert_eq!(got, want);
}

#[test]
fn counters_move_by_exactly_what_was_sent() {
    let (_cfg, d) = started();
    let before = parse_metrics(&d.scrape());
    assert!(!before.is_empty());

    // Answered: a registered device (accept), one without consent on a LAN port (reject),
    // a PAP login and a PAP login with a wrong password.
    assert_eq!(
        mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11").code(),
        Some("Access-Accept")
    );
    assert_eq!(
        mab(d.addr, "3c-22-fb-00-00-01", "Ethernet").code(),
        Some("Access-Reject")
    );
    assert_eq!(
        pap(d.addr, "erika.lehrer", "Schule2026!").code(),
        Some("Access-Accept")
    );
    assert_eq!(
        pap(d.addr, "erika.lehrer", "Falsch-Passwort-77").code(),
        Some("Access-Reject")
    );
    let status = radclient(d.addr, "status", SECRET, "Message-Authenticator = 0x00\n");
    assert_eq!(status.code(), Some("Access-Accept"));
    // One accounting Start.
    let start = radclient(
        d.acct,
        "acct",
        SECRET,
        "Acct-Status-Type = Start, Acct-Session-Id = \"m-1\", User-Name = \"3c-22-fb-12-34-56\", \
         Calling-Station-Id = \"3C-22-FB-12-34-56\", NAS-IP-Address = 127.0.0.1\n",
    );
    assert_eq!(
        start.code(),
        Some("Accounting-Response"),
        "{}",
        start.stdout
    );

    // Dropped: the wrong secret (radclient), no Message-Authenticator, an unknown source.
    let wrong = radclient(
        d.addr,
        "auth",
        "a-different-secret-000",
        "User-Name = \"3c22fb123456\", Message-Authenticator = 0x00\n",
    );
    assert_eq!(wrong.code(), None);
    let attrs = vec![(wire::USER_NAME, b"3c22fb123456".to_vec())];
    let unsigned = wire::access_request(1, [7; 16], &attrs, SECRET.as_bytes(), false);
    assert!(wire::exchange(d.addr, &unsigned, Duration::from_millis(300)).is_none());
    let stranger = UdpSocket::bind("127.0.0.3:0").unwrap();
    let signed = wire::access_request(2, [8; 16], &attrs, SECRET.as_bytes(), true);
    assert!(wire::exchange_on(&stranger, d.addr, &signed, Duration::from_millis(300)).is_none());

    // A retransmission: the same bytes from the same port get the cached reply.
    let attrs = vec![
        (wire::USER_NAME, b"3c22fb123456".to_vec()),
        (wire::NAS_PORT_TYPE, 19u32.to_be_bytes().to_vec()),
    ];
    let req = wire::access_request(3, [9; 16], &attrs, SECRET.as_bytes(), true);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let first = wire::exchange_on(&s, d.addr, &req, Duration::from_secs(2)).unwrap();
    let again = wire::exchange_on(&s, d.addr, &req, Duration::from_secs(2)).unwrap();
    assert_eq!(first, again);

    // Accounting answers after the commit, so the writer's counters are already there.
    let body = d.scrape();
    let after = parse_metrics(&body);
    assert_deltas(
        &before,
        &after,
        &[
            ("hallpass_auth_datagrams_total", 10.0),
            ("hallpass_requests_total{type=\"access\"}", 5.0),
            ("hallpass_requests_total{type=\"status_server\"}", 1.0),
            ("hallpass_requests_total{type=\"accounting\"}", 1.0),
            ("hallpass_answers_total{answer=\"accept\"}", 3.0),
            ("hallpass_answers_total{answer=\"reject\"}", 2.0),
            (
                "hallpass_decisions_total{reason=\"accepted\",module=\"wifi\"}",
                3.0,
            ),
            (
                "hallpass_decisions_total{reason=\"no_consent\",module=\"lan\"}",
                1.0,
            ),
            (
                "hallpass_decisions_total{reason=\"bad_credentials\",module=\"wifi\"}",
                1.0,
            ),
            (
                "hallpass_decisions_total{reason=\"accepted\",module=\"lan\"}",
                0.0,
            ),
            ("hallpass_duplicates_total", 1.0),
            ("hallpass_dropped_total{reason=\"unknown_client\"}", 1.0),
            ("hallpass_dropped_total{reason=\"malformed\"}", 0.0),
            ("hallpass_client_requests_total{client=\"test-nas\"}", 9.0),
            (
                "hallpass_client_dropped_total{client=\"test-nas\",reason=\"bad_authenticator\"}",
                1.0,
            ),
            (
                "hallpass_client_dropped_total{client=\"test-nas\",reason=\"missing_message_authenticator\"}",
                1.0,
            ),
            ("hallpass_auth_duration_seconds_count{kind=\"mab\"}", 3.0),
            ("hallpass_auth_duration_seconds_count{kind=\"pap\"}", 2.0),
            (
                "hallpass_auth_duration_seconds_bucket{kind=\"pap\",le=\"+Inf\"}",
                2.0,
            ),
            (
                "hallpass_accounting_records_total{result=\"committed\"}",
                1.0,
            ),
            ("hallpass_accounting_records_total{result=\"refused\"}", 0.0),
            ("hallpass_store_rows_dropped_total", 0.0),
            ("hallpass_config_reloads_total", 0.0),
        ],
    );
    // argon2 takes more than 100 µs; a MAB answer less than a second.
    assert_eq!(
        after["hallpass_auth_duration_seconds_bucket{kind=\"pap\",le=\"0.0001\"}"],
        0.0
    );
    assert_eq!(
        after["hallpass_auth_duration_seconds_bucket{kind=\"mab\",le=\"1\"}"],
        3.0
    );
    assert!(after["hallpass_config_last_good_timestamp_seconds"] > 1.7e9);

    for secret in [
        SECRET,
        "Schule2026!",
        "Falsch-Passwort-77",
        "a-different-secret-000",
        "erika.lehrer",
        "3c:22:fb",
        "3c-22-fb",
        "127.0.0.3",
    ] {
        assert!(!body.contains(secret), "{secret:?} in the metrics:\n{body}");
    }
}

#[test]
fn reloads_are_counted_and_removed_clients_leave_the_metrics() {
    let (cfg, mut d) = started();
    assert_eq!(
        mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11").code(),
        Some("Access-Accept")
    );
    let before = parse_metrics(&d.scrape());
    assert_eq!(
        before["hallpass_client_requests_total{client=\"test-nas\"}"],
        1.0
    );
    std::thread::sleep(Duration::from_millis(1100));
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    cfg.write(
        "hallpass.toml",
        &main.replace("name = \"test-nas\"", "name = \"renamed-nas\""),
    );
    assert!(d.reload().contains("config reloaded"));
    cfg.write("users.toml", "[[user]]\nname = \"a\"\ncolour = \"blue\"\n");
    assert!(d.reload().contains("reload failed"));
    let body = d.scrape();
    let after = parse_metrics(&body);
    assert_deltas(
        &before,
        &after,
        &[
            ("hallpass_config_reloads_total", 1.0),
            ("hallpass_config_reload_failures_total", 1.0),
        ],
    );
    assert!(
        after["hallpass_config_last_good_timestamp_seconds"]
            > before["hallpass_config_last_good_timestamp_seconds"]
    );
    assert!(!body.contains("test-nas"), "{body}");
}

#[test]
fn only_get_metrics_is_served_and_requests_are_bounded() {
    let (_cfg, d) = started();
    let addr = d.metrics.unwrap();
    let (head, body) = http(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    assert!(!body.contains("hallpass_"));
    let (head, _) = http(addr, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    let (head, body) = http(addr, "HEAD /metrics HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(body.is_empty());
    let (head, _) = http(addr, "nonsense\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");

    // A request head that never ends is cut off at 8 KiB, not read forever.
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let long = format!("GET /metrics HTTP/1.1\r\nX: {}", "a".repeat(8 * 1024));
        let _ = s.write_all(long.as_bytes());
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out);
        // The answer is 431, unless the kernel reset the connection first because of the
        // unread rest; either way the server closed it and sent no metrics.
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 431 "),
            "{text}"
        );
        assert!(!text.contains("hallpass_"));
    }

    // A client that sends nothing is closed after the timeout, and meanwhile scrapes work.
    let started = Instant::now();
    let mut idle = std::net::TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    assert!(d.scrape().contains("hallpass_requests_total"));
    let mut buf = [0u8; 64];
    // a signal to the test process (EINTR) is not the daemon closing the connection
    let n = loop {
        match std::io::Read::read(&mut idle, &mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => break r.unwrap_or(0),
        }
    };
    assert_eq!(n, 0, "closed without an answer");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(12),
        "{waited:?}"
    );
}

#[test]
fn a_graceful_stop_answers_and_logs_pap_requests_in_flight() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    // A costlier hash than the usual (16 MiB, 4 passes) so that the checks are still running
    // when SIGTERM arrives, yet all of them end well within the daemon's 5 s stop bound,
    // even beside the other tests.
    let users = std::fs::read_to_string(cfg.path().join("users.toml")).unwrap();
    let slow = slow_hash("Schule2026!");
    let fast = crate::harness::password_hash("Schule2026!");
    cfg.write("users.toml", &users.replace(&fast, &slow));
    cfg.enable_metrics();
    let mut d = Daemon::start(&cfg);

    const N: u8 = 6;
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut sent = Vec::new();
    for id in 0..N {
        let auth = [id.wrapping_add(100); 16];
        let attrs = vec![
            (wire::USER_NAME, b"erika.lehrer".to_vec()),
            (
                wire::USER_PASSWORD,
                wire::hide_password(b"Schule2026!", SECRET.as_bytes(), &auth),
            ),
            (wire::NAS_PORT_TYPE, 19u32.to_be_bytes().to_vec()),
        ];
        let p = wire::access_request(id, auth, &attrs, SECRET.as_bytes(), true);
        socket.send_to(&p, d.addr).unwrap();
        sent.push(p);
    }
    // Every request has been taken up (counted) before the signal...
    wait_for_metric(&d, "hallpass_requests_total{type=\"access\"}", f64::from(N));
    let logged_before = d
        .log_lines()
        .iter()
        .filter(|l| l.contains("access decision"))
        .count();
    assert!(
        logged_before < usize::from(N),
        "the checks should still run: {logged_before} done"
    );
    let skip = d.log_len();
    d.signal("TERM");
    d.wait_for_log("stopping: no new requests", skip, Duration::from_secs(5));

    // ...and every one is answered after it.
    let mut answered = std::collections::BTreeSet::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.len() < usize::from(N) {
        let (n, _) = crate::wire::recv_by(&socket, &mut buf, deadline)
            .expect("every request in flight is answered");
        let reply = &buf[..n];
        let request = &sent[usize::from(reply[1])];
        wire::check_reply(reply, request, SECRET.as_bytes());
        assert_eq!(reply[0], 2, "Access-Accept");
        answered.insert(reply[1]);
    }
    let status = d.stop_wait();
    assert!(status.success(), "{status}");

    let conn = rusqlite::Connection::open_with_flags(
        cfg.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM auth_log WHERE user = 'erika.lehrer' AND accepted = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        rows,
        i64::from(N),
        "every answered request is in the auth log"
    );
}

fn wait_for_metric(d: &Daemon, series: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = parse_metrics(&d.scrape()).get(series).copied();
        if got == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{series} is {got:?}, want {want}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn slow_hash(password: &str) -> String {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
    let salt = argon2::password_hash::SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
    let params = Params::new(16 * 1024, 4, 1, None).unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}
