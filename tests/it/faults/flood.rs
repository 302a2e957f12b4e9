//! Floods: a steady stream that makes the receive thread answer in rounds, and a flood from
//! strangers and forgers next to a legitimate NAS. Judged: every legitimate request
//! answered, correctly signed and logged, the drops counted, the log quiet. Not judged: how
//! fast (benches/flood-latency.sh measures the p99 beside a quiet run).

use super::*;

/// Sends each of `packets` (socket, datagram) in turn, `per_ms` rounds every millisecond,
/// until `stop`; returns how many were sent.
fn flood(
    packets: Vec<(UdpSocket, Vec<u8>)>,
    to: SocketAddr,
    per_ms: u32,
    stop: &AtomicBool,
) -> u64 {
    let mut n = 0u64;
    let start = Instant::now();
    let mut rounds = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let due = start.elapsed().as_millis() as u64 * u64::from(per_ms);
        while rounds < due {
            for (socket, packet) in &packets {
                if socket.send_to(packet, to).is_ok() {
                    n += 1;
                }
            }
            rounds += 1;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    n
}

/// Pins every thread of a process (or one thread id) to one CPU, when there are two.
fn pin(id: u32, cpu: usize, all_threads: bool) {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return;
    }
    let mut c = Command::new("taskset");
    if all_threads {
        c.arg("-a");
    }
    let _ = c
        .args(["-p", "-c", &cpu.to_string(), &id.to_string()])
        .stdout(std::process::Stdio::null())
        .status();
}

/// The kernel's id of the calling thread.
fn thread_id() -> u32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .and_then(|s| s.parse().ok())
        })
        .unwrap_or(0)
}

/// Flood rounds per millisecond: each round is one request from an unknown address and one
/// with a forged Message-Authenticator from a known client, so 2 × 10 000 packets/s, 20
/// times the legitimate NAS's rate.
///
/// Why not "as fast as a sender can go": on loopback a sender whose packets meet a full
/// receive queue pays less per packet than any receiver (the kernel drops them at once), so
/// one spinning sender fills the socket's queue of every single-socket UDP server, and the
/// legitimate NAS then waits behind the whole queue (measured here: the debug daemon drops
/// ~115 000 forged or stranger packets/s while one spinning sender offers ~195 000/s; p99
/// then is the queue's depth, ~90 ms). That is a kernel-level problem: a firewall rule, or a
/// socket filter for unknown sources, not the daemon's code. The rate here is well above
/// what a misconfigured NAS or a scan produces and below what the daemon can drop.
const FLOOD_ROUNDS_PER_MS: u32 = 10;

/// The school's daemon pinned to CPU 0 (the timed tests' load shares CPU 1), answering.
fn school_daemon_on_cpu0() -> (TestConfig, Daemon) {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let d = Daemon::start(&cfg);
    pin(d.pid(), 0, true);
    legit_still_works(&d, "start");
    (cfg, d)
}

/// Above 40,000 requests/s the receive thread answers in rounds: the replies of a small
/// batch wait up to 50 µs for more requests and leave together. A stream from an unknown
/// address (60 per ms; the daemon drops each at once) keeps the rate up while a NAS sends
/// its requests one at a time (up to 1000/s, retransmitting as a NAS does when the kernel
/// dropped one at the busy socket): every one of them is answered, correctly signed, from
/// rounds that held replies, and logged.
#[test]
fn under_a_steady_stream_replies_wait_in_rounds_and_every_one_arrives() {
    let _one_at_a_time = timed();
    let (_cfg, mut d) = school_daemon_on_cpu0();
    let before = counters(&mut d);
    let stop = Arc::new(AtomicBool::new(false));
    let stranger = UdpSocket::bind("127.0.0.2:0").unwrap();
    let packets = vec![(stranger, mab_request(9, MAX_MAC))];
    let (stream_stop, addr) = (stop.clone(), d.addr);
    let stream = std::thread::spawn(move || {
        pin(thread_id(), 1, false);
        let started = Instant::now();
        let sent = flood(packets, addr, 60, &stream_stop);
        (sent, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(100));
    let nas = retrying_nas(d.addr, MAX_MAC, Duration::from_secs(2), 20);
    stop.store(true, Ordering::Relaxed);
    let (streamed, took) = stream.join().unwrap();
    let after = counters(&mut d);
    let per_second = streamed as f64 / took.as_secs_f64();
    eprintln!(
        "stream: {streamed} packets, {per_second:.0}/s; rounds held +{}; legitimate NAS: {nas:?}",
        delta(&before, &after, "rounds_held"),
    );
    // Correctness only (held or not, each reply must arrive intact, as retrying_nas
    // checks); the latency of a debug daemon on shared cores is not this test's business.
    assert_eq!(nas.lost, 0, "requests of the NAS lost: {nas:?}");
    // Rounds start at 40,000/s of requests the daemon reads. On a crowded machine the
    // kernel drops part of the stream at the daemon's full socket queue (those never reach
    // a counter), so the rate that counts is the one the daemon saw, and below it nothing
    // has to wait.
    let unknown = delta(&before, &after, "unknown_client");
    assert!(unknown <= streamed, "{unknown} counted of {streamed} sent");
    assert!(unknown > 0, "the stream never reached the daemon");
    let seen_per_second = unknown as f64 / took.as_secs_f64();
    if seen_per_second >= 50_000.0 {
        assert!(
            delta(&before, &after, "rounds_held") > 0,
            "no round held replies under {seen_per_second:.0} requests/s: {after:?}"
        );
    } else {
        eprintln!("the daemon read only {seen_per_second:.0} requests/s: rounds not judged");
    }
    assert_eq!(delta(&before, &after, "log_rows_dropped"), 0);
    assert_eq!(delta(&before, &after, "writer_dropped"), 0);
}

/// What a retrying NAS saw: requests, the retransmissions they needed, and those that got
/// no answer at all.
#[derive(Debug, Default)]
struct NasReport {
    requests: u32,
    retransmissions: u32,
    lost: u32,
}

/// A NAS as switches and access points run one: MAB requests one after another (at most
/// 1000/s), each retransmitted unchanged after a second without an answer, five tries in
/// all (RFC 2865 leaves the timer to the NAS; FreeRADIUS's radclient and most NAS use 1–5
/// s and 3–5 tries). Every answer must be a correctly signed Access-Accept into VLAN 20.
/// It asks for `duration`, and on until it has sent `at_least` requests: on a machine
/// crowded with other builds a debug daemon may answer only a few per second.
fn retrying_nas(to: SocketAddr, mac: &str, duration: Duration, at_least: u32) -> NasReport {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut report = NasReport::default();
    let started = Instant::now();
    let mut id = 0u8;
    while started.elapsed() < duration || report.requests < at_least {
        let sent_at = Instant::now();
        id = id.wrapping_add(1);
        let request = mab_request(id, mac);
        report.requests += 1;
        let mut answered = false;
        for attempt in 0..5 {
            if attempt > 0 {
                report.retransmissions += 1;
            }
            socket.send_to(&request, to).unwrap();
            let deadline = Instant::now() + Duration::from_secs(1);
            let mut buf = [0u8; 4096];
            // a late answer to an earlier request carries another identifier: skip it
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                socket
                    .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                    .unwrap();
                let Ok((n, _)) = socket.recv_from(&mut buf) else {
                    break;
                };
                if buf[1] == id && n >= 20 {
                    let reply = &buf[..n];
                    wire::check_reply(reply, &request, SECRET.as_bytes());
                    assert_eq!(reply[0], wire::ACCESS_ACCEPT, "request {id}");
                    assert_eq!(
                        attr_value(reply, TUNNEL_PRIVATE_GROUP_ID).as_deref(),
                        Some(&b"20"[..])
                    );
                    answered = true;
                    break;
                }
            }
            if answered {
                break;
            }
        }
        if !answered {
            report.lost += 1;
        }
        let pace = Duration::from_millis(1);
        if let Some(rest) = pace.checked_sub(sent_at.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    report
}

/// A flood from an unknown address and one with bad authenticators from a known client
/// while a legitimate NAS sends its requests: not one of them is lost (each is answered
/// within the NAS's retries, correctly signed, accepted), the flood is dropped and
/// counted, and the log stays quiet.
///
/// The daemon (a debug build here) is pinned to CPU 0 and the flood sender to CPU 1, so
/// the flood cannot starve the daemon of CPU, only of socket time; other builds on the
/// machine can, and then the kernel drops datagrams at the daemon's full socket queue, the
/// NAS's among them: that is why the NAS retransmits, as a real one does. How fast the NAS
/// is answered under the flood is not judged here (on shared cores that would judge the
/// neighbours): `benches/flood-latency.sh` measures the p99 of the same flood beside a
/// quiet run (docs/reliability.md).
#[test]
fn a_flood_from_strangers_and_forgers_does_not_hurt_a_legitimate_nas() {
    let _one_at_a_time = timed();
    let (_cfg, mut d) = school_daemon_on_cpu0();
    let before = counters(&mut d);

    let stop = Arc::new(AtomicBool::new(false));
    let stranger = UdpSocket::bind("127.0.0.2:0").unwrap();
    let forger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let forged = wire::access_request(
        9,
        random_authenticator(),
        &mab_attrs(MAX_MAC),
        b"guessed-secret-000000",
        true,
    );
    let packets = vec![(stranger, mab_request(9, MAX_MAC)), (forger, forged)];
    let (flood_stop, addr) = (stop.clone(), d.addr);
    let flooder = std::thread::spawn(move || {
        pin(thread_id(), 1, false);
        flood(packets, addr, FLOOD_ROUNDS_PER_MS, &flood_stop)
    });
    std::thread::sleep(Duration::from_millis(300));
    let log_at_start = d.log_len();
    let nas = retrying_nas(d.addr, MAX_MAC, Duration::from_secs(5), 20);
    let lines: Vec<String> = d.log_lines()[log_at_start..]
        .iter()
        .filter(|l| !l.contains(" DEBUG "))
        .cloned()
        .collect();
    stop.store(true, Ordering::Relaxed);
    let flooded = flooder.join().unwrap();
    let after = counters(&mut d);
    eprintln!(
        "flood: {flooded} packets sent; unknown_client +{}, bad_authenticator +{}; legitimate NAS: {nas:?}",
        delta(&before, &after, "unknown_client"),
        delta(&before, &after, "bad_authenticator"),
    );
    assert_eq!(nas.lost, 0, "requests of the legitimate NAS lost: {nas:?}");
    assert!(
        delta(&before, &after, "unknown_client") > 10_000,
        "{after:?}"
    );
    assert!(
        delta(&before, &after, "bad_authenticator") > 10_000,
        "{after:?}"
    );
    // one line per kind and source every 10 s, not one per packet
    assert!(
        lines.len() < 50,
        "{} log lines during the flood:\n{}",
        lines.len(),
        lines.join("\n")
    );
    legit_still_works(&d, "the flood");
    assert!(d.stop().success());
}
