//! Accounting over the wire (radclient and hand-made packets), durability across `kill -9`,
//! and immediate enforcement: Disconnect-Requests to a NAS stand-in that checks them from
//! RFC 5176 by hand, sent only inside the client's network and retried while a session
//! stays open and not allowed.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use crate::harness::{Daemon, SECRET, TestConfig, radclient, school};
use crate::wire;

fn acct(d: &Daemon, status: &str, session: &str, mac: &str, extra: &str) -> Option<String> {
    let r = radclient(
        d.acct,
        "acct",
        SECRET,
        &format!(
            "Acct-Status-Type = {status}, Acct-Session-Id = \"{session}\", \
             User-Name = \"{m}\", Calling-Station-Id = \"{M}\", NAS-IP-Address = 127.0.0.1, \
             NAS-Port = 7, NAS-Port-Type = Wireless-802.11, \
             Called-Station-Id = \"02-00-00-00-00-01:Schule\"{extra}\n",
            m = mac.to_lowercase(),
            M = mac.to_uppercase()
        ),
    );
    r.code().map(str::to_string)
}

fn db(cfg: &TestConfig) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(cfg.db_path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
}

#[test]
fn start_interim_stop_and_accounting_on_are_recorded() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let d = Daemon::start(&cfg);
    let mac = "3c-22-fb-12-34-56";
    assert_eq!(
        acct(&d, "Start", "sess-1", mac, "").as_deref(),
        Some("Accounting-Response")
    );
    assert_eq!(
        acct(
            &d,
            "Interim-Update",
            "sess-1",
            mac,
            ", Acct-Input-Octets = 1000, Acct-Output-Octets = 5000, Acct-Output-Gigawords = 1, \
              Framed-IP-Address = 10.99.0.17, Acct-Session-Time = 60"
        )
        .as_deref(),
        Some("Accounting-Response")
    );
    assert_eq!(
        acct(
            &d,
            "Stop",
            "sess-1",
            mac,
            ", Acct-Input-Octets = 2000, Acct-Output-Octets = 6000, Acct-Output-Gigawords = 1, \
              Acct-Session-Time = 120, Acct-Terminate-Cause = User-Request"
        )
        .as_deref(),
        Some("Accounting-Response")
    );
    assert_eq!(
        acct(&d, "Start", "sess-2", "3c-22-fb-00-00-07", "").as_deref(),
        Some("Accounting-Response")
    );
    // the NAS restarted: its open sessions are over
    let on = radclient(
        d.acct,
        "acct",
        SECRET,
        "Acct-Status-Type = Accounting-On, NAS-IP-Address = 127.0.0.1\n",
    );
    assert_eq!(on.code(), Some("Accounting-Response"), "{}", on.stdout);
    // a wrong secret is not answered
    let bad = radclient(
        d.acct,
        "acct",
        "a-different-secret-000",
        "Acct-Status-Type = Start, Acct-Session-Id = \"x\", User-Name = \"x\"\n",
    );
    assert_eq!(bad.code(), None);
    let c = db(&cfg);
    let row: (String, Option<String>, String, String, String, i64, i64, i64, Option<i64>, String) = c
        .query_row(
            "SELECT mac, user, module, nas_ip, called_station_id, input_octets, output_octets, \
             session_time, terminate_cause, closed_by FROM sessions WHERE acct_session_id = 'sess-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?)),
        )
        .unwrap();
    assert_eq!(row.0, "3c:22:fb:12:34:56");
    assert_eq!(
        row.1.as_deref(),
        Some("max.muster"),
        "MAB session owner from the registration"
    );
    assert_eq!(row.2, "wifi");
    assert_eq!(row.3, "127.0.0.1");
    assert_eq!(row.4, "02-00-00-00-00-01:Schule");
    assert_eq!(row.5, 2000);
    assert_eq!(row.6, 6000 + (1i64 << 32), "gigawords count");
    assert_eq!(row.7, 120);
    assert_eq!(row.8, Some(1), "User-Request");
    assert_eq!(row.9, "stop");
    let framed: Option<String> = c
        .query_row(
            "SELECT framed_ip FROM sessions WHERE acct_session_id = 'sess-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(framed.as_deref(), Some("10.99.0.17"));
    let closed: (Option<i64>, String) = c
        .query_row(
            "SELECT stopped, closed_by FROM sessions WHERE acct_session_id = 'sess-2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(closed.0.is_some());
    assert_eq!(closed.1, "accounting_on");
    let n: i64 = c
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2, "the unauthenticated Start left no row");
}

#[test]
fn a_retransmitted_accounting_request_is_answered_again_and_recorded_once() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let d = Daemon::start(&cfg);
    let secret = SECRET.as_bytes();
    let attrs = vec![
        (wire::ACCT_STATUS_TYPE, 1u32.to_be_bytes().to_vec()),
        (wire::ACCT_SESSION_ID, b"dup-1".to_vec()),
        (wire::USER_NAME, b"3c22fb123456".to_vec()),
        (wire::NAS_IP_ADDRESS, vec![127, 0, 0, 1]),
        (wire::PROXY_STATE, b"p1".to_vec()),
    ];
    let req = wire::computed_request(wire::ACCOUNTING_REQUEST, 5, &attrs, secret);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let first = wire::exchange_on(&s, d.acct, &req, Duration::from_secs(3)).expect("response");
    let second = wire::exchange_on(&s, d.acct, &req, Duration::from_secs(3)).expect("response");
    assert_eq!(first, second);
    assert_eq!(first[0], wire::ACCOUNTING_RESPONSE);
    wire::check_reply(&first, &req, secret);
    assert!(wire::attributes(&first).contains(&(wire::PROXY_STATE, b"p1".to_vec())));
    let n: i64 = db(&cfg)
        .query_row(
            "SELECT count(*) FROM sessions WHERE acct_session_id = 'dup-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn every_answered_accounting_request_survives_kill_9() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let d = Daemon::start(&cfg);
    let secret = SECRET.as_bytes();
    let target = d.acct;
    // a flood from 4 sockets with up to 200 requests in flight each; stop after 3000 answers
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_nonblocking(true).unwrap();
    let mut acked: Vec<String> = Vec::new();
    let mut in_flight = std::collections::HashMap::new();
    let mut next = 0u32;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    while acked.len() < 3000 && Instant::now() < deadline {
        while in_flight.len() < 200 {
            let id = (next % 256) as u8;
            if in_flight.contains_key(&id) {
                break;
            }
            let sid = format!("crash-{next}");
            let req = wire::computed_request(
                wire::ACCOUNTING_REQUEST,
                id,
                &[
                    (wire::ACCT_STATUS_TYPE, 1u32.to_be_bytes().to_vec()),
                    (wire::ACCT_SESSION_ID, sid.clone().into_bytes()),
                    (wire::USER_NAME, b"3c22fb123456".to_vec()),
                    (wire::NAS_IP_ADDRESS, vec![127, 0, 0, 1]),
                ],
                secret,
            );
            let _ = s.send_to(&req, target);
            in_flight.insert(id, (sid, req));
            next += 1;
        }
        match s.recv_from(&mut buf) {
            Ok((n, _)) => {
                let reply = &buf[..n];
                if let Some((sid, req)) = in_flight.remove(&reply[1]) {
                    wire::check_reply(reply, &req, secret);
                    acked.push(sid);
                }
            }
            Err(_) => std::thread::sleep(Duration::from_micros(200)),
        }
    }
    // kill -9 with requests still in flight
    d.kill9();
    assert!(acked.len() >= 3000, "only {} answered", acked.len());
    // restart: the database opens, is intact, and has every answered record
    let d = Daemon::start(&cfg);
    let c = db(&cfg);
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let mut stmt = c
        .prepare("SELECT 1 FROM sessions WHERE acct_session_id = ?1")
        .unwrap();
    let missing: Vec<&String> = acked
        .iter()
        .filter(|sid| !stmt.exists([sid.as_str()]).unwrap())
        .collect();
    assert!(
        missing.is_empty(),
        "{} answered records lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    assert!(d.stop().success());
}

/// A NAS stand-in on loopback that receives Disconnect-Requests and checks them by hand.
struct Nas {
    socket: UdpSocket,
}

impl Nas {
    fn new() -> Nas {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        Nas { socket }
    }
    /// A receiver on another loopback address, on the same port as `nas`.
    fn beside(nas: &Nas, ip: &str) -> Nas {
        let socket = UdpSocket::bind((ip, nas.port())).unwrap();
        Nas { socket }
    }
    fn port(&self) -> u16 {
        self.socket.local_addr().unwrap().port()
    }
    /// The next Disconnect-Request, checked; with its sender.
    fn receive(&self, timeout: Duration) -> Option<(Vec<u8>, std::net::SocketAddr)> {
        let mut buf = [0u8; 4096];
        let (n, from) = wire::recv_by(&self.socket, &mut buf, Instant::now() + timeout).ok()?;
        let p = buf[..n].to_vec();
        assert_eq!(p[0], wire::DISCONNECT_REQUEST, "a Disconnect-Request");
        wire::check_computed_request(&p, SECRET.as_bytes());
        assert_eq!(
            p[20],
            wire::MESSAGE_AUTHENTICATOR,
            "Message-Authenticator first"
        );
        Some((p, from))
    }
    fn answer(&self, request: &[u8], to: std::net::SocketAddr, code: u8, attrs: &[(u8, Vec<u8>)]) {
        let r = wire::reply(code, request, attrs, SECRET.as_bytes());
        self.socket.send_to(&r, to).unwrap();
    }
}

fn disconnect_rows(cfg: &TestConfig) -> Vec<(String, String, i64, Option<i64>, String)> {
    let c = db(cfg);
    let mut stmt = c
        .prepare("SELECT acct_session_id, result, attempts, error_cause, \"trigger\" FROM disconnects ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn wait_rows(
    cfg: &TestConfig,
    n: usize,
    timeout: Duration,
) -> Vec<(String, String, i64, Option<i64>, String)> {
    let deadline = Instant::now() + timeout;
    loop {
        let rows = disconnect_rows(cfg);
        if rows.len() >= n || Instant::now() > deadline {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_new_ban_disconnects_open_sessions_at_once() {
    let nas = Nas::new();
    let cfg = TestConfig::new("", "");
    school(&cfg);
    cfg.set_coa_port(nas.port());
    let mut d = Daemon::start(&cfg);
    // three open sessions of max.muster on Wi-Fi, one of a teacher
    for s in ["ack-me", "nak-me", "ignore-me"] {
        assert_eq!(
            acct(&d, "Start", s, "3c-22-fb-12-34-56", "").as_deref(),
            Some("Accounting-Response")
        );
    }
    assert_eq!(
        acct(&d, "Start", "teacher", "3c-22-fb-00-00-07", "").as_deref(),
        Some("Accounting-Response")
    );
    assert!(
        nas.receive(Duration::from_millis(500)).is_none(),
        "nothing to disconnect yet"
    );

    let bans = std::fs::read_to_string(cfg.path().join("bans.toml")).unwrap();
    cfg.write(
        "bans.toml",
        &format!(
            "{bans}\n[[ban]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\nreason = \"Test\"\n"
        ),
    );
    let sent_at = Instant::now();
    assert!(d.reload().contains("config reloaded"));
    let mut seen = std::collections::HashMap::new();
    let mut first_after = None;
    while seen.len() < 3 {
        let (p, from) = nas
            .receive(Duration::from_secs(5))
            .expect("a Disconnect-Request for each session");
        first_after.get_or_insert(sent_at.elapsed());
        let attrs = wire::attributes(&p);
        let sid = attrs
            .iter()
            .find(|(t, _)| *t == wire::ACCT_SESSION_ID)
            .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
            .unwrap();
        assert!(
            attrs.contains(&(wire::NAS_IP_ADDRESS, vec![127, 0, 0, 1])),
            "{attrs:?}"
        );
        assert!(
            attrs
                .iter()
                .any(|(t, v)| *t == 31 && v == b"3C-22-FB-12-34-56"),
            "Calling-Station-Id: {attrs:?}"
        );
        assert!(
            attrs.iter().any(|(t, _)| *t == wire::USER_NAME),
            "User-Name: {attrs:?}"
        );
        assert_ne!(sid, "teacher", "only the banned user's sessions");
        let count = seen.entry(sid.clone()).or_insert(0);
        *count += 1;
        match sid.as_str() {
            "ack-me" => nas.answer(&p, from, wire::DISCONNECT_ACK, &[]),
            "nak-me" => nas.answer(
                &p,
                from,
                wire::DISCONNECT_NAK,
                &[(wire::ERROR_CAUSE, 503u32.to_be_bytes().to_vec())],
            ),
            _ => {} // never answered: retried, then recorded as timed out
        }
    }
    assert!(
        first_after.unwrap() < Duration::from_secs(2),
        "first Disconnect-Request after {first_after:?}"
    );
    // the unanswered one is retried (3 tries in all)
    let mut retries = 0;
    while let Some((p, _)) = nas.receive(Duration::from_secs(4)) {
        let sid = wire::attributes(&p)
            .into_iter()
            .find(|(t, _)| *t == wire::ACCT_SESSION_ID)
            .unwrap()
            .1;
        assert_eq!(sid, b"ignore-me");
        retries += 1;
    }
    assert_eq!(retries, 2, "two retries after the first try");
    let rows = wait_rows(&cfg, 3, Duration::from_secs(10));
    let find = |sid: &str| {
        rows.iter()
            .find(|r| r.0 == sid)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {sid}: {rows:?}"))
    };
    assert_eq!(find("ack-me").1, "ack");
    assert_eq!(find("ack-me").4, "ban");
    assert_eq!(find("nak-me").1, "nak");
    assert_eq!(find("nak-me").3, Some(503));
    assert_eq!(find("ignore-me").1, "timeout");
    assert_eq!(find("ignore-me").2, 3);
    assert!(!rows.iter().any(|r| r.0 == "teacher"));
}

#[test]
fn a_ban_whose_start_arrives_disconnects_without_a_reload() {
    let nas = Nas::new();
    let cfg = TestConfig::new("", "");
    school(&cfg);
    cfg.set_coa_port(nas.port());
    let from = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3);
    let bans = std::fs::read_to_string(cfg.path().join("bans.toml")).unwrap();
    cfg.write("bans.toml", &format!("{bans}\n[[ban]]\nuser = \"max.muster\"\nmodules = [\"all\"]\nfrom = {from}\nreason = \"Test\"\n"));
    let d = Daemon::start(&cfg);
    assert_eq!(
        acct(&d, "Start", "later", "3c-22-fb-12-34-56", "").as_deref(),
        Some("Accounting-Response")
    );
    let (p, from_addr) = nas
        .receive(Duration::from_secs(8))
        .expect("a Disconnect-Request when the ban starts");
    let now = jiff::Timestamp::now();
    assert!(now >= from, "not before the ban starts");
    assert!(
        now.duration_since(from) < jiff::SignedDuration::from_secs(2),
        "within a second or so of the start"
    );
    nas.answer(&p, from_addr, wire::DISCONNECT_ACK, &[]);
    let rows = wait_rows(&cfg, 1, Duration::from_secs(5));
    assert_eq!(rows[0].1, "ack");
}

/// Interim-Updates of one session of a teacher's device, every 2 ms until `stop`: the
/// steady accounting of a busy school.
fn steady_accounting(
    to: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<u32> {
    std::thread::spawn(move || {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 4096];
        let (mut sent, mut id) = (0u32, 0u8);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let attrs = [
                (40u8, 3u32.to_be_bytes().to_vec()), // Acct-Status-Type = Interim-Update
                (44, b"busy-school".to_vec()),
                (1, b"3c:22:fb:00:00:07".to_vec()),
                (31, b"3C-22-FB-00-00-07".to_vec()),
                (4, vec![127, 0, 0, 1]),
                (61, 19u32.to_be_bytes().to_vec()),
            ];
            let req = wire::computed_request(4, id, &attrs, SECRET.as_bytes());
            let _ = s.send_to(&req, to);
            while s.recv_from(&mut buf).is_ok() {}
            (sent, id) = (sent + 1, id.wrapping_add(1));
            std::thread::sleep(Duration::from_millis(2));
        }
        sent
    })
}

#[test]
fn a_ban_that_starts_during_steady_accounting_disconnects_at_its_start() {
    // Each accounting record wakes the enforcer, which makes its timer anew: a record in the
    // few milliseconds after the ban's instant skipped the look at that instant, and under
    // steady accounting the 30 s timer never came either. (Whether a record lands in those
    // milliseconds depends on the disk's commit time, so the old code passed here too; the
    // instant kept across wake-ups is pinned by `enforce::tests`.)
    let nas = Nas::new();
    let cfg = TestConfig::new("", "");
    school(&cfg);
    cfg.set_coa_port(nas.port());
    let from = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(4);
    let bans = std::fs::read_to_string(cfg.path().join("bans.toml")).unwrap();
    cfg.write("bans.toml", &format!("{bans}\n[[ban]]\nuser = \"max.muster\"\nmodules = [\"all\"]\nfrom = {from}\nreason = \"Test\"\n"));
    let d = Daemon::start(&cfg);
    assert_eq!(
        acct(&d, "Start", "banned-soon", "3c-22-fb-12-34-56", "").as_deref(),
        Some("Accounting-Response")
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy = steady_accounting(d.acct, stop.clone());
    let got = nas.receive(Duration::from_secs(20));
    let now = jiff::Timestamp::now();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = busy.join().unwrap();
    let (p, from_addr) = got.expect("a Disconnect-Request while accounting goes on");
    assert!(sent > 500, "the accounting was steady: {sent} records");
    assert_eq!(session_id(&p), "banned-soon");
    assert!(now >= from, "not before the ban starts");
    assert!(
        now.duration_since(from) < jiff::SignedDuration::from_secs(5),
        "{} after the start",
        now.duration_since(from)
    );
    nas.answer(&p, from_addr, wire::DISCONNECT_ACK, &[]);
    assert!(d.stop().success());
}

#[test]
fn a_used_up_daily_quota_disconnects_and_rejects_until_midnight() {
    let nas = Nas::new();
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    cfg.write(
        "hallpass.toml",
        &main.replace(
            "filter_id = \"students\"",
            "filter_id = \"students\"\ndaily_quota = \"10kB\"",
        ),
    );
    cfg.set_coa_port(nas.port());
    let d = Daemon::start(&cfg);
    let mab = |port| crate::harness::mab(d.addr, "3c-22-fb-12-34-56", port);
    assert_eq!(mab("Wireless-802.11").code(), Some("Access-Accept"));
    assert_eq!(
        acct(&d, "Start", "q-1", "3c-22-fb-12-34-56", "").as_deref(),
        Some("Accounting-Response")
    );
    assert_eq!(
        acct(
            &d,
            "Interim-Update",
            "q-1",
            "3c-22-fb-12-34-56",
            ", Acct-Input-Octets = 4000, Acct-Output-Octets = 5000"
        )
        .as_deref(),
        Some("Accounting-Response")
    );
    assert!(
        nas.receive(Duration::from_millis(700)).is_none(),
        "9 kB of 10 kB: still allowed"
    );
    assert_eq!(mab("Wireless-802.11").code(), Some("Access-Accept"));
    assert_eq!(
        acct(
            &d,
            "Interim-Update",
            "q-1",
            "3c-22-fb-12-34-56",
            ", Acct-Input-Octets = 4000, Acct-Output-Octets = 7000"
        )
        .as_deref(),
        Some("Accounting-Response")
    );
    let (p, from) = nas
        .receive(Duration::from_secs(3))
        .expect("Disconnect-Request when the quota is used up");
    nas.answer(&p, from, wire::DISCONNECT_ACK, &[]);
    let r = mab("Wireless-802.11");
    assert_eq!(r.code(), Some("Access-Reject"), "{}", r.stdout);
    let msg = r.attr("Reply-Message").unwrap_or_default();
    assert!(msg.contains("Tageskontingent"), "{msg}");
    let rows = wait_rows(&cfg, 1, Duration::from_secs(5));
    assert_eq!(rows[0].4, "quota");
    // a teacher (no quota) is not affected
    assert_eq!(
        crate::harness::mab(d.addr, "3c-22-fb-00-00-07", "Ethernet").code(),
        Some("Access-Accept")
    );
}

fn session_id(p: &[u8]) -> String {
    wire::attributes(p)
        .into_iter()
        .find(|(t, _)| *t == wire::ACCT_SESSION_ID)
        .map(|(_, v)| String::from_utf8(v).unwrap())
        .unwrap()
}

fn ban_max(cfg: &TestConfig, d: &mut Daemon) {
    let bans = std::fs::read_to_string(cfg.path().join("bans.toml")).unwrap();
    cfg.write(
        "bans.toml",
        &format!(
            "{bans}\n[[ban]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\nreason = \"Test\"\n"
        ),
    );
    assert!(d.reload().contains("config reloaded"));
}

#[test]
fn a_disconnect_never_goes_to_a_nas_ip_address_outside_the_client_s_network() {
    // the client is 127.0.0.1/32; its accounting claims NAS-IP-Address 127.0.0.99
    let nas = Nas::new();
    let elsewhere = Nas::beside(&nas, "127.0.0.99");
    let cfg = TestConfig::new("", "");
    school(&cfg);
    cfg.set_coa_port(nas.port());
    let mut d = Daemon::start(&cfg);
    let r = radclient(
        d.acct,
        "acct",
        SECRET,
        "Acct-Status-Type = Start, Acct-Session-Id = \"forged\", \
         User-Name = \"3c-22-fb-12-34-56\", Calling-Station-Id = \"3C-22-FB-12-34-56\", \
         NAS-IP-Address = 127.0.0.99, NAS-Port-Type = Wireless-802.11\n",
    );
    assert_eq!(r.code(), Some("Accounting-Response"));
    // what is recorded as the NAS's address is where the packet came from
    let nas_ip: String = db(&cfg)
        .query_row(
            "SELECT nas_ip FROM sessions WHERE acct_session_id = 'forged'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(nas_ip, "127.0.0.1");

    ban_max(&cfg, &mut d);
    let (p, from) = nas
        .receive(Duration::from_secs(5))
        .expect("the Disconnect-Request goes to the address the NAS sends from");
    assert_eq!(session_id(&p), "forged");
    assert!(
        wire::attributes(&p).contains(&(wire::NAS_IP_ADDRESS, vec![127, 0, 0, 1])),
        "NAS-IP-Address: the NAS's real address"
    );
    nas.answer(&p, from, wire::DISCONNECT_ACK, &[]);
    assert!(
        elsewhere.receive(Duration::from_secs(1)).is_none(),
        "nothing is sent to the claimed 127.0.0.99"
    );
    let rows = wait_rows(&cfg, 1, Duration::from_secs(5));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1, "ack");
    let sent_to: String = db(&cfg)
        .query_row("SELECT nas_ip FROM disconnects", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sent_to, "127.0.0.1");
    assert!(d.stop().success());
}

#[test]
fn a_naked_disconnect_is_retried_a_minute_later_while_the_session_stays_open_and_banned() {
    let nas = Nas::new();
    let cfg = TestConfig::new("", "");
    school(&cfg);
    cfg.set_coa_port(nas.port());
    let mut d = Daemon::start(&cfg);
    let mac = "3c-22-fb-12-34-56";
    for s in ["stays", "closes"] {
        assert_eq!(
            acct(&d, "Start", s, mac, "").as_deref(),
            Some("Accounting-Response")
        );
    }
    ban_max(&cfg, &mut d);
    // the first round: both refused (Error-Cause 506, Resources Unavailable)
    let mut first = Vec::new();
    for _ in 0..2 {
        let (p, from) = nas
            .receive(Duration::from_secs(20))
            .expect("a Disconnect-Request for each session");
        first.push(session_id(&p));
        nas.answer(
            &p,
            from,
            wire::DISCONNECT_NAK,
            &[(wire::ERROR_CAUSE, 506u32.to_be_bytes().to_vec())],
        );
    }
    let naked_at = Instant::now();
    first.sort();
    assert_eq!(first, ["closes", "stays"]);
    assert_eq!(wait_rows(&cfg, 2, Duration::from_secs(20)).len(), 2);
    // one session ends; the other stays open and banned
    assert_eq!(
        acct(&d, "Stop", "closes", mac, "").as_deref(),
        Some("Accounting-Response")
    );
    let (p, from) = nas
        .receive(Duration::from_secs(100))
        .expect("the refused Disconnect is sent again");
    let after = naked_at.elapsed();
    assert_eq!(session_id(&p), "stays", "never the closed session");
    assert!(
        after >= Duration::from_secs(59) && after < Duration::from_secs(95),
        "retried {after:?} after the NAK"
    );
    nas.answer(&p, from, wire::DISCONNECT_ACK, &[]);
    // the closed session would have been due at the same moment: nothing comes
    assert!(nas.receive(Duration::from_secs(5)).is_none());
    let rows = wait_rows(&cfg, 3, Duration::from_secs(20));
    let of = |sid: &str| -> Vec<(String, Option<i64>)> {
        rows.iter()
            .filter(|r| r.0 == sid)
            .map(|r| (r.1.clone(), r.3))
            .collect()
    };
    assert_eq!(
        of("stays"),
        [("nak".to_string(), Some(506)), ("ack".to_string(), None)]
    );
    assert_eq!(of("closes"), [("nak".to_string(), Some(506))]);
    assert!(rows.iter().all(|r| r.4 == "ban"), "{rows:?}");
    assert!(d.stop().success());
}
