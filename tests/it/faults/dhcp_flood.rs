//! A DHCP flood from made-up MACs next to a NAS doing its work (root: namespaces, veth,
//! packet sockets): 150,000 DISCOVERs in 4 s from 75,000 MACs (each twice, 2 s apart)
//! arrive at the watcher's interface while the NAS sends Accounting-Requests and MAB
//! Access-Requests to the same daemon.
//! Judged: every Accounting-Request answered and stored (none refused), every MAB decision
//! in the auth log, the database grown by a bounded amount, and the counters of what the
//! watcher did not write moved. The figures are printed (docs/reliability.md).
#![allow(unsafe_code)] // socket(2), if_nametoindex(3) and sendto(2) on a packet socket

use std::ffi::CString;
use std::net::Ipv4Addr;

use hallpass::dhcp::frame::{FrameAddrs, build_payload, encapsulate};

use super::*;
use crate::dhcp_capture::{Segment, in_netns, require_environment};
use crate::dhcp_watch::start_daemon;
use crate::harness::{http, parse_metrics};

/// Frames of the flood, from how many MACs, and how many a second are sent.
const FLOOD_FRAMES: u32 = 150_000;
const FLOOD_MACS: u32 = 75_000;
const FLOOD_RATE: u32 = 37_500;
/// Accounting-Requests and MAB requests the NAS sends during the flood, one of each per
/// `NAS_EVERY`.
const NAS_REQUESTS: u32 = 200;
const NAS_EVERY: Duration = Duration::from_millis(20);
/// What the database may grow by: the admitted MACs (50 a second) and the NAS's rows fit
/// many times; a row per frame (the flood written) would not.
const MAX_GROWTH: u64 = 4 << 20;

/// Sends `FLOOD_FRAMES` DISCOVERs from `FLOOD_MACS` MACs in turn on `iface` (inside the
/// client's namespace) at `FLOOD_RATE`; returns how many the kernel took.
fn flood(iface: &str) -> u64 {
    let frames: Vec<Vec<u8>> = (0..FLOOD_FRAMES)
        .map(|i| {
            let b = (i % FLOOD_MACS).to_be_bytes();
            let mac = MacAddr([0x02, 0xf1, b[0], b[1], b[2], b[3]]);
            let name = format!("flood-{}", i % FLOOD_MACS);
            let payload = build_payload(
                1,
                i,
                mac,
                Ipv4Addr::UNSPECIFIED,
                &[(53, &[1]), (12, name.as_bytes()), (55, &[1, 3, 6, 15])],
            );
            encapsulate(&FrameAddrs::from_client(mac), &payload)
        })
        .collect();
    let name = CString::new(iface).unwrap();
    // SAFETY: a valid NUL-terminated name.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    assert!(ifindex != 0, "no interface {iface}");
    // SAFETY: plain socket(2); protocol 0: this socket only sends.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: all-zero is a valid sockaddr_ll; the fields that matter are set below.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_ifindex = ifindex as i32;
    addr.sll_halen = 6;
    addr.sll_addr[..6].copy_from_slice(&[0xff; 6]);
    let start = Instant::now();
    let mut sent = 0u64;
    for (i, frame) in frames.iter().enumerate() {
        // paced: frame i is due at i / rate seconds
        let due = Duration::from_secs_f64(i as f64 / f64::from(FLOOD_RATE));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        // SAFETY: the buffer and the address live across the call, with their lengths.
        let n = unsafe {
            libc::sendto(
                fd,
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if n > 0 {
            sent += 1;
        }
    }
    // SAFETY: our own descriptor, closed once.
    unsafe { libc::close(fd) };
    sent
}

/// What the NAS saw.
#[derive(Debug, Default)]
struct NasReport {
    acct_answered: Vec<String>,
    acct_unanswered: Vec<String>,
    mab_accepted: u32,
    mab_unanswered: u32,
    /// Answers that came after the NAS had given up on their request.
    late: u32,
    /// Requests the NAS sent again because no answer came within 3 s.
    resent: u32,
}

/// Sends `req` on `s` as a NAS does: waits up to 3 s for the answer with its identifier and
/// sends the same packet again, at most three times in all. Answers to earlier requests that
/// arrive meanwhile are counted as late, each retransmission in `resent`. A shared machine can
/// stall the daemon for seconds; what the flood must not do is make the daemon refuse or lose
/// the record, which the caller checks from the stored rows and the refusal counter.
fn exchange(
    s: &UdpSocket,
    to: SocketAddr,
    req: &[u8],
    late: &mut u32,
    resent: &mut u32,
) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4096];
    for attempt in 0..3 {
        if attempt > 0 {
            *resent += 1;
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        s.send_to(req, to).unwrap();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            s.set_read_timeout(Some(left)).unwrap();
            match s.recv_from(&mut buf) {
                Ok((n, _)) if n >= 20 && buf[1] == req[1] => return Some(buf[..n].to_vec()),
                Ok(_) => *late += 1,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
    None
}

/// The NAS: an Accounting-Request (a new session each) and a MAB request every `NAS_EVERY`,
/// each sent again after 3 s without an answer, as a NAS does.
fn nas(d_acct: SocketAddr, d_auth: SocketAddr) -> NasReport {
    let mut r = NasReport::default();
    let acct = UdpSocket::bind("127.0.0.1:0").unwrap();
    let auth = UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = Instant::now();
    for i in 0..NAS_REQUESTS {
        let due = NAS_EVERY * i;
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let id = (i % 256) as u8;
        let session = format!("flood-{i}");
        let req = acct_start(id, &session);
        match exchange(&acct, d_acct, &req, &mut r.late, &mut r.resent) {
            Some(reply) if reply[0] == wire::ACCOUNTING_RESPONSE => r.acct_answered.push(session),
            _ => r.acct_unanswered.push(session),
        }
        let req = mab_request(id, MAX_MAC);
        match exchange(&auth, d_auth, &req, &mut r.late, &mut r.resent) {
            Some(reply) => {
                wire::check_reply(&reply, &req, SECRET.as_bytes());
                if reply[0] == wire::ACCESS_ACCEPT {
                    r.mab_accepted += 1;
                }
            }
            None => r.mab_unanswered += 1,
        }
    }
    r
}

/// Bytes of the database's pages in use.
fn database_bytes(path: &Path) -> u64 {
    let c = db(path);
    let q = |p: &str| -> i64 {
        c.query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
            .unwrap()
    };
    ((q("page_count") - q("freelist_count")) * q("page_size")) as u64
}

fn count(path: &Path, sql: &str) -> i64 {
    db(path).query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_dhcp_flood_from_made_up_macs_starves_neither_accounting_nor_the_auth_log() {
    require_environment();
    let _t = timed();
    let seg = Segment::new();
    let cfg = TestConfig::new(
        "",
        &format!(
            "[dhcp]\ninterfaces = [\"{}\"]\ntrusted_servers = [\"10.99.0.1\"]\n",
            seg.srv_if
        ),
    );
    school(&cfg);
    cfg.enable_metrics();
    let mut d = start_daemon(&seg, &cfg);
    d.wait_for_log("DHCP watcher capturing", 0, Duration::from_secs(10));
    let db_path = cfg.db_path();
    let size_before = database_bytes(&db_path);

    let cli_if = seg.cli_if.clone();
    let cli_ns = seg.cli_ns.clone();
    let flooder = std::thread::spawn(move || in_netns(&cli_ns, move || flood(&cli_if)));
    let (acct_addr, auth_addr) = (d.acct, d.addr);
    let report = in_netns(&seg.srv_ns, move || nas(acct_addr, auth_addr));
    let sent = flooder.join().unwrap();

    // what the daemon counted, once the flood has been read
    let metrics_addr = d.metrics.unwrap();
    let srv_ns = seg.srv_ns.clone();
    let scrape = || {
        in_netns(&srv_ns, move || {
            parse_metrics(&http(metrics_addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").1)
        })
    };
    let metric = |m: &HashMap<String, f64>, k: &str| m.get(k).copied().unwrap_or(0.0) as u64;
    let frames = |m: &HashMap<String, f64>| metric(m, "hallpass_dhcp_frames_total{stage=\"seen\"}");
    // read to the end: the count of frames stands still for a second
    let mut m = scrape();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let next = scrape();
        let still = frames(&next) == frames(&m);
        m = next;
        if still || Instant::now() > deadline {
            break;
        }
    }
    let queue_depth = metric(&m, "hallpass_store_queue_depth");
    let dhcp_queue_depth = metric(&m, "hallpass_store_dhcp_queue_depth");
    // the last auth rows linger up to a second before their commit
    let decisions = |p: &Path| {
        count(
            p,
            "SELECT count(*) FROM auth_log WHERE mac = '3c:22:fb:12:34:56' AND accepted = 1",
        )
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while decisions(&db_path) < i64::from(report.mab_accepted) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let growth = database_bytes(&db_path).saturating_sub(size_before);
    let missing = missing_sessions(&db_path, &report.acct_answered);
    let sightings = count(&db_path, "SELECT count(*) FROM sightings");
    let history = count(&db_path, "SELECT count(*) FROM sighting_history");
    let logged = decisions(&db_path);

    let figures = format!(
        "DHCP flood: {sent} DISCOVERs from {FLOOD_MACS} MACs at {FLOOD_RATE}/s; daemon read {} \
         frames (kernel drops {})\n\
         NAS: Accounting-Requests answered {}/{NAS_REQUESTS}, refused by the writer {}; \
         MAB accepted {}/{NAS_REQUESTS} (unanswered {}), in the auth log {logged}; answers after \
         the NAS's 3 s: {}, requests sent again: {}\n\
         watcher: not admitted {}, coalesced {}, rows dropped {}; writer: rows dropped {}, \
         queue depth {queue_depth} (DHCP {dhcp_queue_depth}) after the flood\n\
         database: {sightings} sightings, {history} history rows, grew by {} KiB",
        metric(&m, "hallpass_dhcp_frames_total{stage=\"seen\"}"),
        metric(&m, "hallpass_dhcp_kernel_frames_total{outcome=\"dropped\"}"),
        report.acct_answered.len(),
        metric(&m, "hallpass_accounting_records_total{result=\"refused\"}"),
        report.mab_accepted,
        report.mab_unanswered,
        report.late,
        report.resent,
        metric(&m, "hallpass_dhcp_new_macs_not_admitted_total"),
        metric(&m, "hallpass_dhcp_sightings_coalesced_total"),
        metric(&m, "hallpass_dhcp_sightings_dropped_total"),
        metric(&m, "hallpass_store_rows_dropped_total"),
        growth >> 10,
    );
    println!("{figures}");

    assert_eq!(
        report.acct_unanswered,
        Vec::<String>::new(),
        "Accounting-Requests left unanswered during the flood\n{figures}"
    );
    assert_eq!(
        metric(&m, "hallpass_accounting_records_total{result=\"refused\"}"),
        0,
        "{figures}"
    );
    assert!(missing.is_empty(), "answered but not stored: {missing:?}");
    assert_eq!(report.mab_unanswered, 0, "{figures}");
    assert_eq!(report.mab_accepted, NAS_REQUESTS, "{figures}");
    assert_eq!(
        logged,
        i64::from(NAS_REQUESTS),
        "MAB decisions missing from the auth log\n{figures}"
    );
    assert!(growth < MAX_GROWTH, "the database grew too much\n{figures}");
    assert!(
        metric(&m, "hallpass_dhcp_new_macs_not_admitted_total") > 0,
        "the admission rate did not hold the flood back\n{figures}"
    );
    assert!(
        metric(&m, "hallpass_dhcp_sightings_coalesced_total") > 0,
        "the admitted MACs' repeats were not coalesced\n{figures}"
    );
    assert!(d.stop().success());
}
