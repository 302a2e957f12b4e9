//! Floods from thousands of source addresses (all of 127/8 is loopback on Linux, so each
//! datagram can come from an address of its own): the legitimate NAS keeps being answered,
//! and the daemon's log stays bounded however many sources there are.

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::harness::{Daemon, SECRET, TestConfig, school};
use crate::wire;

/// max.muster's iPhone: students, VLAN 20.
const MAX_MAC: &str = "3c22fb123456";
const NAS_PORT_TYPE_WIFI: u32 = 19;
/// Distinct unknown sources, as many as in the report that found the full scans.
const SOURCES: u32 = 8000;

fn mab_request(id: u8) -> Vec<u8> {
    wire::access_request(
        id,
        rand::random(),
        &[
            (wire::USER_NAME, MAX_MAC.as_bytes().to_vec()),
            (
                wire::NAS_PORT_TYPE,
                NAS_PORT_TYPE_WIFI.to_be_bytes().to_vec(),
            ),
        ],
        SECRET.as_bytes(),
        true,
    )
}

/// The `i`-th source address of a flood, in 127.`net`.0.0/16 (never 127.0.0.1, the NAS).
fn source(net: u8, i: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, net, (i / 250) as u8, (i % 250 + 1) as u8)
}

/// Sends `packet(i)` from source `i` (cycling through `sources`) to `to` until `stop`, one
/// socket per datagram; returns how many were sent.
fn flood(
    net: u8,
    sources: u32,
    to: SocketAddr,
    stop: &AtomicBool,
    packet: impl Fn(u32) -> Vec<u8>,
) -> u64 {
    let mut sent = 0u64;
    let mut i = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let from = SocketAddr::from((source(net, i % sources), 0));
        if let Ok(s) = UdpSocket::bind(from)
            && s.send_to(&packet(i), to).is_ok()
        {
            sent += 1;
        }
        i = i.wrapping_add(1);
    }
    sent
}

/// The daemon's counters, from the line it logs on SIGUSR1.
fn counters(d: &mut Daemon) -> HashMap<String, u64> {
    let skip = d.log_len();
    d.signal("USR1");
    let line = d.wait_for_log(" counters received=", skip, Duration::from_secs(5));
    line.split_whitespace()
        .filter_map(|t| t.split_once('='))
        .filter_map(|(k, v)| v.parse().ok().map(|v| (k.to_string(), v)))
        .collect()
}

/// Lines logged after the first `skip` whose text contains one of `needles` (the SIGUSR1
/// line of counters aside).
fn lines_with(d: &Daemon, skip: usize, needles: &[&str]) -> Vec<String> {
    d.log_lines()
        .into_iter()
        .skip(skip)
        .filter(|l| !l.contains(" counters received="))
        .filter(|l| needles.iter().any(|n| l.contains(n)))
        .collect()
}

#[test]
fn thousands_of_unknown_sources_neither_starve_the_nas_nor_flood_the_log() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let mut d = Daemon::start(&cfg);
    let before = counters(&mut d);
    let log_at_start = d.log_len();

    let stop = Arc::new(AtomicBool::new(false));
    let (flood_stop, addr) = (stop.clone(), d.addr);
    let stranger = mab_request(7);
    let flooder =
        std::thread::spawn(move || flood(1, SOURCES, addr, &flood_stop, |_| stranger.clone()));
    // the flood first, until every source has been seen at least once
    std::thread::sleep(Duration::from_millis(500));

    // The legitimate NAS: 200 requests, 20 ms apart, each with its own identifier.
    let nas = UdpSocket::bind("127.0.0.1:0").unwrap();
    nas.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let receiver = nas.try_clone().unwrap();
    let answered_ids = std::thread::spawn(move || {
        let mut ids = HashSet::new();
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(8);
        while Instant::now() < deadline && ids.len() < 200 {
            if let Ok((n, _)) = receiver.recv_from(&mut buf)
                && n >= 20
                && buf[0] == wire::ACCESS_ACCEPT
            {
                ids.insert(buf[1]);
            }
        }
        ids
    });
    for id in 0..200u8 {
        nas.send_to(&mab_request(id), addr).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let answered = answered_ids.join().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    let flooded = flooder.join().unwrap();
    let after = counters(&mut d);
    let unknown = after["unknown_client"] - before["unknown_client"];
    let lines = lines_with(
        &d,
        log_at_start,
        &["no configured client", "unknown_client"],
    );
    eprintln!(
        "flood of {flooded} datagrams from {SOURCES} sources; unknown_client +{unknown}; \
         legitimate NAS: {answered} of 200 answered; {} log lines about unknown sources",
        lines.len()
    );
    assert!(
        unknown >= u64::from(SOURCES),
        "the flood reached the daemon: {unknown}"
    );
    assert!(
        answered >= 198,
        "{answered} of 200 answered under the flood"
    );
    assert!(
        lines.len() <= 10,
        "{} lines about unknown sources:\n{}",
        lines.len(),
        lines[..lines.len().min(20)].join("\n")
    );
    assert!(d.stop().success());
}

/// A NAS stand-in that receives one Disconnect-Request.
fn receive_disconnect(nas: &UdpSocket, timeout: Duration) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 4096];
    let (n, from) =
        wire::recv_by(nas, &mut buf, Instant::now() + timeout).expect("a Disconnect-Request");
    let p = buf[..n].to_vec();
    assert_eq!(p[0], wire::DISCONNECT_REQUEST, "a Disconnect-Request");
    (p, from)
}

#[test]
fn junk_sent_to_the_disconnect_socket_leaves_a_bounded_log() {
    let nas = UdpSocket::bind("127.0.0.1:0").unwrap();
    let cfg = TestConfig::new("", "");
    school(&cfg);
    cfg.set_coa_port(nas.local_addr().unwrap().port());
    // a ban that starts in a moment: its start sends a Disconnect for the open session
    let from = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let bans = std::fs::read_to_string(cfg.path().join("bans.toml")).unwrap();
    cfg.write(
        "bans.toml",
        &format!(
            "{bans}\n[[ban]]\nuser = \"max.muster\"\nmodules = [\"all\"]\nfrom = {from}\n\
             reason = \"Test\"\n"
        ),
    );
    let d = Daemon::start(&cfg);
    let start = wire::computed_request(
        4,
        1,
        &[
            (40, 1u32.to_be_bytes().to_vec()),
            (44, b"flood-1".to_vec()),
            (wire::USER_NAME, MAX_MAC.as_bytes().to_vec()),
            (31, b"3C-22-FB-12-34-56".to_vec()),
        ],
        SECRET.as_bytes(),
    );
    let answer = wire::exchange(d.acct, &start, Duration::from_secs(2));
    assert!(answer.is_some(), "Accounting-Start answered");
    let (request, dynauth) = receive_disconnect(&nas, Duration::from_secs(10));
    let log_at_start = d.log_len();

    // Junk from 2000 sources at the Disconnect client's socket: malformed datagrams, packets
    // of codes no NAS sends there and replies to no request; and forged replies from the
    // NAS's own address while the real request waits.
    let unmatched = {
        let mut p = vec![wire::DISCONNECT_ACK, request[1] ^ 0x55, 0, 20];
        p.extend_from_slice(&[0u8; 16]);
        p
    };
    let access_accept = {
        let mut p = vec![wire::ACCESS_ACCEPT, 9, 0, 20];
        p.extend_from_slice(&[0u8; 16]);
        p
    };
    let forged = {
        let mut p = vec![wire::DISCONNECT_ACK, request[1], 0, 20];
        p.extend_from_slice(&[0u8; 16]);
        p
    };
    let stop = AtomicBool::new(false);
    let sent = std::thread::scope(|s| {
        let junk = s.spawn(|| {
            flood(2, 2000, dynauth, &stop, |i| match i % 3 {
                0 => vec![0xff; 3],
                1 => access_accept.clone(),
                _ => unmatched.clone(),
            })
        });
        let mut forgeries = 0u64;
        let until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < until {
            if nas.send_to(&forged, dynauth).is_ok() {
                forgeries += 1;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        stop.store(true, Ordering::Relaxed);
        (junk.join().unwrap(), forgeries)
    });
    // The real answer still counts. A NAS answers every retransmission of the request, and
    // so does this one, once a second: on a loaded machine the junk still queued can fill the
    // daemon's socket buffer when the first answer comes, and the kernel drops it. The daemon
    // waits 7 s in all (1 + 2 + 4) for an answer.
    let ack = wire::reply(wire::DISCONNECT_ACK, &request, &[], SECRET.as_bytes());
    let replied = |d: &Daemon| {
        d.log_lines()[log_at_start..]
            .iter()
            .any(|l| l.contains("Disconnect reply"))
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !replied(&d) {
        assert!(Instant::now() < deadline, "no \"Disconnect reply\" logged");
        nas.send_to(&ack, dynauth).unwrap();
        let wait = Instant::now() + Duration::from_secs(1);
        while !replied(&d) && Instant::now() < wait {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let lines: Vec<String> = d.log_lines()[log_at_start..]
        .iter()
        .filter(|l| {
            !l.contains(" DEBUG ")
                && !l.contains("Disconnect reply")
                && !l.contains("sending Disconnect-Request")
        })
        .cloned()
        .collect();
    let debug_lines = lines_with(&d, log_at_start, &["no waiting Disconnect-Request"]).len();
    eprintln!(
        "{} junk datagrams from 2000 sources and {} forged replies: {} lines above debug \
         (besides the Disconnect's own), {debug_lines} about unmatched replies",
        sent.0,
        sent.1,
        lines.len()
    );
    assert!(sent.0 >= 2000 && sent.1 >= 100, "{sent:?}");
    assert!(
        lines.len() <= 15,
        "{} lines:\n{}",
        lines.len(),
        lines[..lines.len().min(20)].join("\n")
    );
    assert!(
        debug_lines <= 10,
        "{debug_lines} debug lines about unmatched replies"
    );
    assert!(d.stop().success());
}
