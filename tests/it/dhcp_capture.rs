//! The DHCP capture against real peers: dnsmasq serves, busybox udhcpc asks, both in
//! network namespaces made for this test; the capture runs inside the server's namespace.
//! Needs root (namespaces, veth, packet sockets) and dnsmasq, udhcpc and ip installed.
#![allow(unsafe_code)] // setns(2) for the thread that opens the capture
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use hallpass::dhcp::{DeviceFamily, DhcpError, MessageType, Observation, classify, parse_frame};
use hallpass::model::MacAddr;
use hallpass::server::capture::Capture;

static COUNTER: AtomicU32 = AtomicU32::new(0);

const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
const CLIENT_STATIC_IP: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 50);
const CLIENT_MAC: &str = "02:00:00:00:10:01";
const HOSTNAME: &str = "student-laptop-01";
const VENDOR_CLASS: &str = "android-dhcp-13";

/// Names of what one test run creates, and its cleanup.
pub(crate) struct Segment {
    pub(crate) srv_ns: String,
    pub(crate) cli_ns: String,
    pub(crate) srv_if: String,
    pub(crate) cli_if: String,
    pub(crate) dnsmasq: Option<Child>,
    pub(crate) dir: tempfile::TempDir,
}

impl Drop for Segment {
    fn drop(&mut self) {
        if let Some(mut child) = self.dnsmasq.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // deleting a namespace removes its end of the veth pair, and with it the other end
        for ns in [&self.srv_ns, &self.cli_ns] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

pub(crate) fn run(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn require_environment() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "the DHCP capture test needs root (network namespaces, veth, AF_PACKET); run it as root"
    );
    for tool in ["ip", "dnsmasq", "udhcpc"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
            .unwrap_or(false);
        assert!(
            found,
            "{tool} is not installed: apt-get install -y --no-install-recommends \
             iproute2 dnsmasq-base udhcpc"
        );
    }
}

impl Segment {
    pub(crate) fn new() -> Segment {
        let id = format!(
            "hp{}{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let seg = Segment {
            srv_ns: format!("{id}s"),
            cli_ns: format!("{id}c"),
            srv_if: format!("{id}vs"),
            cli_if: format!("{id}vc"),
            dnsmasq: None,
            dir: tempfile::tempdir().unwrap(),
        };
        assert!(seg.srv_if.len() <= 15 && seg.cli_if.len() <= 15);
        run(&["ip", "netns", "add", &seg.srv_ns]);
        run(&["ip", "netns", "add", &seg.cli_ns]);
        seg.link();
        seg
    }

    /// The veth pair between the namespaces, addressed and up (again, after it was removed).
    pub(crate) fn link(&self) {
        let seg = self;
        run(&[
            "ip",
            "link",
            "add",
            &seg.srv_if,
            "netns",
            &seg.srv_ns,
            "type",
            "veth",
            "peer",
            "name",
            &seg.cli_if,
            "netns",
            &seg.cli_ns,
        ]);
        run(&[
            "ip",
            "-n",
            &seg.srv_ns,
            "addr",
            "add",
            "10.99.0.1/24",
            "dev",
            &seg.srv_if,
        ]);
        run(&["ip", "-n", &seg.srv_ns, "link", "set", &seg.srv_if, "up"]);
        run(&[
            "ip",
            "-n",
            &seg.cli_ns,
            "link",
            "set",
            &seg.cli_if,
            "address",
            CLIENT_MAC,
        ]);
        run(&["ip", "-n", &seg.cli_ns, "link", "set", &seg.cli_if, "up"]);
    }

    pub(crate) fn start_dnsmasq(&mut self) {
        let leases = self.dir.path().join("leases");
        let pid = self.dir.path().join("dnsmasq.pid");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.srv_ns, "dnsmasq", "-k"])
            .args([
                "--conf-file=/dev/null",
                "--port=0",
                "--user=root",
                "--no-ping",
            ])
            .arg(format!("--interface={}", self.srv_if))
            .arg("--bind-interfaces")
            .arg("--dhcp-range=10.99.0.100,10.99.0.250,255.255.255.0,10m")
            .arg(format!("--dhcp-leasefile={}", leases.display()))
            .arg(format!("--pid-file={}", pid.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start dnsmasq");
        self.dnsmasq = Some(child);
    }

    /// udhcpc with our own script: the stock one rewrites the host's resolv.conf.
    pub(crate) fn run_udhcpc(&self) {
        let script = self.dir.path().join("udhcpc.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = Command::new("ip")
            .args(["netns", "exec", &self.cli_ns, "udhcpc", "-i", &self.cli_if])
            .args(["-f", "-q", "-n", "-t", "5", "-T", "1"])
            .arg("-x")
            .arg(format!("hostname:{HOSTNAME}"))
            .args(["-V", VENDOR_CLASS, "-s"])
            .arg(&script)
            .output()
            .expect("cannot run udhcpc");
        assert!(
            out.status.success(),
            "udhcpc got no lease: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs `f` on a thread that has entered network namespace `ns`.
pub(crate) fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = Path::new("/var/run/netns").join(ns);
    std::thread::spawn(move || {
        let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // SAFETY: a valid namespace descriptor; only this thread changes namespace.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .unwrap()
}

/// Frames the capture delivers until `done` says enough or `limit` passes.
async fn collect(
    cap: &Capture,
    limit: Duration,
    mut done: impl FnMut(&[Observation]) -> bool,
) -> Vec<Observation> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 65536];
    while !done(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, cap.recv(&mut buf)).await {
            Ok(Ok(n)) => seen.push(parse_frame(&buf[..n]).expect("a frame the filter let through")),
            Ok(Err(e)) => panic!("recv: {e}"),
            Err(_) => break,
        }
    }
    seen
}

fn of_type(seen: &[Observation], t: MessageType) -> Option<&Observation> {
    seen.iter().find(|o| o.message_type == Some(t))
}

#[test]
fn capture_sees_a_real_dhcp_exchange_and_nothing_else() {
    require_environment();
    let mut seg = Segment::new();
    seg.start_dnsmasq();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let srv_if = seg.srv_if.clone();
    let cap = in_netns(&seg.srv_ns, move || {
        let _rt = handle.enter();
        Capture::open(&srv_if)
    })
    .unwrap_or_else(|e| panic!("opening the capture: {e}"));

    // a name that exists only inside the namespace is unknown out here
    {
        let _rt = rt.enter();
        assert!(matches!(
            Capture::open(&seg.srv_if),
            Err(hallpass::server::capture::CaptureError::NoSuchInterface { .. })
        ));
    }

    seg.run_udhcpc();
    let all_four = |s: &[Observation]| {
        [
            MessageType::Discover,
            MessageType::Offer,
            MessageType::Request,
            MessageType::Ack,
        ]
        .iter()
        .all(|t| of_type(s, *t).is_some())
    };
    let seen = rt.block_on(collect(&cap, Duration::from_secs(10), all_four));
    let types: Vec<_> = seen.iter().map(|o| o.message_type).collect();
    assert!(all_four(&seen), "saw only {types:?}");

    let mac: MacAddr = CLIENT_MAC.parse().unwrap();
    let discover = of_type(&seen, MessageType::Discover).unwrap();
    let offer = of_type(&seen, MessageType::Offer).unwrap();
    let request = of_type(&seen, MessageType::Request).unwrap();
    let ack = of_type(&seen, MessageType::Ack).unwrap();

    for client_msg in [discover, request] {
        assert!(!client_msg.is_from_server);
        assert_eq!(client_msg.client_mac, Some(mac));
        assert_eq!(client_msg.src_mac, Some(mac));
        assert_eq!(
            client_msg
                .hostname
                .as_ref()
                .map(|h| h.to_str_lossy().into_owned()),
            Some(HOSTNAME.to_string())
        );
        assert_eq!(
            client_msg
                .vendor_class
                .as_ref()
                .map(|v| v.as_bytes().to_vec()),
            Some(VENDOR_CLASS.as_bytes().to_vec())
        );
        assert_eq!(classify(client_msg), DeviceFamily::Android);
        assert!(client_msg.param_request_list.is_some());
    }
    let leased = ack.ip.expect("ACK names the address");
    assert!(
        (Ipv4Addr::new(10, 99, 0, 100)..=Ipv4Addr::new(10, 99, 0, 250)).contains(&leased),
        "{leased} is outside dnsmasq's range"
    );
    for server_msg in [offer, ack] {
        assert!(server_msg.is_from_server);
        assert_eq!(server_msg.client_mac, Some(mac));
        assert_eq!(server_msg.server_id, Some(SERVER_IP));
        assert_eq!(server_msg.src_ip, Some(SERVER_IP));
        assert_eq!(server_msg.ip, Some(leased));
    }
    assert_eq!(request.requested_ip, Some(leased));
    assert_eq!(request.server_id, Some(SERVER_IP));
    assert_eq!(discover.xid, ack.xid);

    // UDP to another port passes the interface but must not reach the socket
    run(&[
        "ip",
        "-n",
        &seg.cli_ns,
        "addr",
        "add",
        "10.99.0.50/24",
        "dev",
        &seg.cli_if,
    ]);
    cap.stats().unwrap(); // reading resets the counters
    in_netns(&seg.cli_ns, || {
        let sock = UdpSocket::bind(SocketAddrV4::new(CLIENT_STATIC_IP, 0)).unwrap();
        for _ in 0..5 {
            sock.send_to(b"not dhcp", SocketAddrV4::new(SERVER_IP, 5353))
                .unwrap();
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let (packets, drops) = cap.stats().unwrap();
    assert_eq!(
        (packets, drops),
        (0, 0),
        "the filter let port-5353 traffic through"
    );

    // control: the same datagram to port 67 is delivered (so the counter does count)
    in_netns(&seg.cli_ns, || {
        let sock = UdpSocket::bind(SocketAddrV4::new(CLIENT_STATIC_IP, 68)).unwrap();
        sock.send_to(b"not dhcp", SocketAddrV4::new(SERVER_IP, 67))
            .unwrap();
    });
    let mut buf = vec![0u8; 2048];
    let n = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(3), cap.recv(&mut buf)).await })
        .expect("the port-67 datagram reaches the capture")
        .unwrap();
    assert_eq!(parse_frame(&buf[..n]), Err(DhcpError::ShortMessage(8)));
    let (packets, _) = cap.stats().unwrap();
    assert!(packets >= 1, "PACKET_STATISTICS counted {packets} frames");
}
