//! The DHCP watcher inside the real daemon, against real peers: the daemon runs in the
//! server's network namespace next to dnsmasq (the school's DHCP server); busybox udhcpc
//! and ISC dhclient ask from the client's namespace, 50 of them from macvlans with their own
//! MACs; a second dnsmasq plays the rogue server. Everything is checked in the database
//! (read-only) and in the daemon's log. Needs root and dnsmasq, udhcpc, dhclient, ip.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hallpass::model::MacAddr;
use hallpass::store::{self, Sighting};

use crate::dhcp_capture::{Segment, in_netns, require_environment, run};
use crate::harness::{Daemon, TestConfig, mab};

const SERVER_IP: &str = "10.99.0.1";
const ROGUE_IP: &str = "10.99.0.2";
const ROGUE_MAC: &str = "02:00:00:00:66:66";
const PHONE_MAC: &str = "3c:22:fb:12:34:56";
const PRIVATE_MAC: &str = "0a:11:22:33:44:55";

/// Processes started for one test, killed when it ends (also on failure).
#[derive(Default)]
pub(crate) struct Procs(pub(crate) Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub(crate) fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\nexit 0\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

pub(crate) fn config(seg: &Segment, devices: &[String]) -> TestConfig {
    let cfg = TestConfig::new(
        "",
        &format!(
            "[dhcp]\ninterfaces = [\"{}\"]\ntrusted_servers = [\"{SERVER_IP}\"]\n",
            seg.srv_if
        ),
    );
    // one owner per device: max_devices_per_user is 5
    let (mut users, mut d) = (String::new(), String::new());
    for (i, mac) in devices.iter().enumerate() {
        let owner = if i == 0 {
            "max.muster".to_string()
        } else {
            format!("pupil.{i}")
        };
        users.push_str(&format!(
            "[[user]]\nname = \"{owner}\"\ngroups = [\"students\"]\nconsent = true\n\n"
        ));
        d.push_str(&format!(
            "[[device]]\nmac = \"{mac}\"\nowner = \"{owner}\"\n\n"
        ));
    }
    cfg.write("users.toml", &users);
    cfg.write("devices.toml", &d);
    cfg
}

pub(crate) fn start_daemon(seg: &Segment, cfg: &TestConfig) -> Daemon {
    run(&["ip", "-n", &seg.srv_ns, "link", "set", "lo", "up"]);
    Daemon::start_in(cfg, &["ip", "netns", "exec", &seg.srv_ns])
}

/// A macvlan on the client veth with its own MAC.
pub(crate) fn macvlan(seg: &Segment, name: &str, mac: &str) {
    assert!(name.len() <= 15, "{name}");
    run(&[
        "ip",
        "-n",
        &seg.cli_ns,
        "link",
        "add",
        name,
        "link",
        &seg.cli_if,
        "address",
        mac,
        "type",
        "macvlan",
        "mode",
        "bridge",
    ]);
    run(&["ip", "-n", &seg.cli_ns, "link", "set", name, "up"]);
}

/// udhcpc on `iface` (started, not waited for); the script writes the leased address to
/// `<dir>/ip-<iface>`.
pub(crate) fn udhcpc(seg: &Segment, iface: &str, hostname: &str, vendor: &str) -> Child {
    let out = seg.dir.path().join(format!("ip-{iface}"));
    // written once: rewriting it while other udhcpc run it would break them
    let s = seg.dir.path().join("watch-udhcpc.sh");
    let s = if s.exists() {
        s
    } else {
        script(
            seg.dir.path(),
            "watch-udhcpc.sh",
            &format!(
                "[ \"$1\" = bound ] && echo \"$ip\" > {dir}/ip-\"$interface\"",
                dir = seg.dir.path().display()
            ),
        )
    };
    let _ = std::fs::remove_file(&out);
    Command::new("ip")
        .args(["netns", "exec", &seg.cli_ns, "udhcpc", "-i", iface])
        .args(["-f", "-q", "-n", "-t", "10", "-T", "1", "-A", "1"])
        .arg("-x")
        .arg(format!("hostname:{hostname}"))
        .args(["-V", vendor, "-s"])
        .arg(&s)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run udhcpc")
}

pub(crate) fn wait_ok(child: Child, what: &str) {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what} got no lease: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn leased(seg: &Segment, iface: &str) -> Ipv4Addr {
    let p = seg.dir.path().join(format!("ip-{iface}"));
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .parse()
        .unwrap()
}

/// Polls the database until `ok` holds for the sighting of `mac`.
pub(crate) fn wait_sighting(
    cfg: &TestConfig,
    mac: &str,
    ok: impl Fn(&Sighting) -> bool,
) -> Sighting {
    let mac: MacAddr = mac.parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = None;
    while Instant::now() < deadline {
        if let Ok(reader) = store::Reader::open(&cfg.db_path())
            && let Ok(Some(s)) = reader.sighting(mac)
        {
            if ok(&s) {
                return s;
            }
            last = Some(s);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no matching sighting of {mac} within 15 s; last: {last:#?}");
}

fn field(line: &str, name: &str) -> u64 {
    let key = format!(" {name}=");
    line.split(&key)
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
}

fn last_counters(d: &Daemon) -> Option<String> {
    d.log_lines()
        .into_iter()
        .rev()
        .find(|l| l.contains("DHCP watcher counters"))
}

#[test]
fn the_watcher_records_real_clients_and_reports_a_rogue_server() {
    require_environment();
    assert!(
        Command::new("dhclient").arg("--version").output().is_ok(),
        "dhclient is not installed: apt-get install -y --no-install-recommends isc-dhcp-client"
    );
    let mut seg = Segment::new();
    let mut procs = Procs::default();
    seg.start_dnsmasq();
    let id = seg.srv_ns.trim_end_matches('s').to_string();
    let clients: Vec<(String, String)> = (0..50)
        .map(|i| {
            let mac = if i % 3 == 0 {
                format!("3c:22:fb:00:10:{i:02x}") // universal: registered
            } else {
                format!("06:00:00:00:20:{i:02x}") // locally administered: randomized
            };
            (format!("{id}m{i}"), mac)
        })
        .collect();
    let mut registered: Vec<String> = vec![PHONE_MAC.into()];
    registered.extend(
        clients
            .iter()
            .map(|(_, m)| m.clone())
            .filter(|m| m.starts_with("3c")),
    );
    let cfg = config(&seg, &registered);
    let mut d = start_daemon(&seg, &cfg);
    d.wait_for_log("DHCP watcher capturing", 0, Duration::from_secs(10));

    // udhcpc on the veth itself: 02:00:00:00:10:01, randomized and not registered
    wait_ok(
        udhcpc(&seg, &seg.cli_if, "student-laptop-01", "android-dhcp-13"),
        "udhcpc",
    );
    let ip = leased(&seg, &seg.cli_if);
    let s = wait_sighting(&cfg, "02:00:00:00:10:01", |s| s.last_ip == Some(ip));
    assert_eq!(s.hostname.as_deref(), Some("student-laptop-01"));
    assert_eq!(s.vendor_class.as_deref(), Some("android-dhcp-13"));
    assert_eq!(s.family.as_deref(), Some("android"));
    assert!(!s.registered && s.randomized);
    assert!(
        s.counts.discover >= 1 && s.counts.request >= 1,
        "{:?}",
        s.counts
    );
    assert!(
        s.counts.offer >= 1 && s.counts.ack >= 1,
        "the server's replies count: {:?}",
        s.counts
    );
    assert_eq!(s.last_interface.as_deref(), Some(seg.srv_if.as_str()));
    assert!(s.fingerprint.is_some());

    // dhclient (ISC) on a macvlan with the registered phone's MAC
    let dif = format!("{id}dh");
    macvlan(&seg, &dif, PHONE_MAC);
    let dir = seg.dir.path().to_path_buf();
    let conf = dir.join("dhclient.conf");
    std::fs::write(
        &conf,
        "send host-name \"max-phone\";\nsend vendor-class-identifier \"MSFT 5.0\";\n",
    )
    .unwrap();
    let dscript = script(
        &dir,
        "dhclient.sh",
        &format!(
            "case \"$reason\" in BOUND|RENEW|REBOOT) echo \"$new_ip_address\" > {}/ip-$interface;; esac",
            dir.display()
        ),
    );
    procs.0.push(
        Command::new("ip")
            .args(["netns", "exec", &seg.cli_ns, "dhclient", "-d", "-1", "-cf"])
            .arg(&conf)
            .arg("-lf")
            .arg(dir.join("dhclient.leases"))
            .arg("-pf")
            .arg(dir.join("dhclient.pid"))
            .arg("-sf")
            .arg(&dscript)
            .arg(&dif)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot run dhclient"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.join(format!("ip-{dif}")).exists() {
        assert!(Instant::now() < deadline, "dhclient got no lease");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(100)); // the script finishes writing
    let phone_ip = leased(&seg, &dif);
    let s = wait_sighting(&cfg, PHONE_MAC, |s| s.last_ip == Some(phone_ip));
    assert_eq!(s.hostname.as_deref(), Some("max-phone"));
    assert_eq!(s.vendor_class.as_deref(), Some("MSFT 5.0"));
    assert!(s.registered && !s.randomized);
    assert_eq!(s.randomized_alias_of, None);
    for mut c in procs.0.drain(..) {
        let _ = c.kill();
        let _ = c.wait();
    }

    // the same phone with a private (randomized) address and the same host name
    let pif = format!("{id}pv");
    macvlan(&seg, &pif, PRIVATE_MAC);
    wait_ok(
        udhcpc(&seg, &pif, "max-phone", "android-dhcp-14"),
        "private udhcpc",
    );
    let s = wait_sighting(&cfg, PRIVATE_MAC, |s| s.last_ip.is_some());
    assert!(s.randomized && !s.registered);
    assert_eq!(s.randomized_alias_of, Some(PHONE_MAC.parse().unwrap()));
    let hint = d.wait_for_log("uses a private address", 0, Duration::from_secs(5));
    assert!(
        hint.contains(PRIVATE_MAC) && hint.contains(PHONE_MAC),
        "{hint}"
    );

    // 50 clients at once, each with its own MAC, host name and vendor class
    for (name, mac) in &clients {
        macvlan(&seg, name, mac);
    }
    let children: Vec<Child> = clients
        .iter()
        .enumerate()
        .map(|(i, (name, _))| udhcpc(&seg, name, &format!("pc-{i:02}"), &format!("vendor-{i:02}")))
        .collect();
    for (c, (name, _)) in children.into_iter().zip(&clients) {
        wait_ok(c, name);
    }
    for (i, (name, mac)) in clients.iter().enumerate() {
        let ip = leased(&seg, name);
        let s = wait_sighting(&cfg, mac, |s| s.last_ip == Some(ip) && s.counts.ack >= 1);
        assert_eq!(
            s.hostname.as_deref(),
            Some(format!("pc-{i:02}").as_str()),
            "{mac}"
        );
        assert_eq!(
            s.vendor_class.as_deref(),
            Some(format!("vendor-{i:02}").as_str())
        );
        assert_eq!(s.registered, i % 3 == 0, "{mac} registered");
        assert_eq!(s.randomized, i % 3 != 0, "{mac} randomized");
    }

    // other traffic never reaches the watcher: 200 datagrams to port 5353, then one to 67
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
    std::thread::sleep(Duration::from_millis(2500)); // the counters settle (read each second)
    let before = last_counters(&d).expect("a counters line");
    let (frames0, kernel0, errors0) = (
        field(&before, "frames"),
        field(&before, "kernel_packets"),
        field(&before, "parse_errors"),
    );
    in_netns(&seg.cli_ns, || {
        let sock = UdpSocket::bind("10.99.0.50:0").unwrap();
        for _ in 0..200 {
            sock.send_to(b"not dhcp", "10.99.0.1:5353").unwrap();
        }
        let marker = UdpSocket::bind("10.99.0.50:68").unwrap();
        marker
            .send_to(
                b"not dhcp",
                SocketAddrV4::new(Ipv4Addr::new(10, 99, 0, 1), 67),
            )
            .unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let l = last_counters(&d).unwrap();
        if field(&l, "parse_errors") > errors0 && field(&l, "kernel_packets") > kernel0 {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "the marker datagram was not counted: {l}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(1500));
    let after = last_counters(&d).unwrap_or(after);
    assert_eq!(field(&after, "frames"), frames0 + 1, "{before}\n{after}");
    assert_eq!(
        field(&after, "kernel_packets"),
        kernel0 + 1,
        "{before}\n{after}"
    );
    assert_eq!(field(&after, "kernel_drops"), 0);

    // a second DHCP server on the segment
    let rif = format!("{id}rg");
    macvlan(&seg, &rif, ROGUE_MAC);
    run(&[
        "ip",
        "-n",
        &seg.cli_ns,
        "addr",
        "add",
        &format!("{ROGUE_IP}/24"),
        "dev",
        &rif,
    ]);
    procs.0.push(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &seg.cli_ns,
                "dnsmasq",
                "-k",
                "--conf-file=/dev/null",
            ])
            .args(["--port=0", "--user=root", "--no-ping", "--bind-interfaces"])
            // broadcast replies: a unicast one would go from macvlan to macvlan directly and
            // never cross the segment the school's server (and the watcher) sits on
            .arg("--dhcp-broadcast")
            .arg(format!("--interface={rif}"))
            .arg("--dhcp-range=10.99.0.20,10.99.0.40,255.255.255.0,10m")
            .arg(format!(
                "--dhcp-leasefile={}",
                dir.join("rogue.leases").display()
            ))
            .arg(format!("--pid-file={}", dir.join("rogue.pid").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start the second dnsmasq"),
    );
    std::thread::sleep(Duration::from_millis(500));
    let vif = format!("{id}vi");
    macvlan(&seg, &vif, "06:00:00:00:30:01");
    wait_ok(
        udhcpc(&seg, &vif, "visitor", "android-dhcp-12"),
        "visitor udhcpc",
    );
    let warning = d.wait_for_log("rogue DHCP server 10.99.0.2", 0, Duration::from_secs(10));
    assert!(warning.contains("WARN"), "{warning}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let rogues = loop {
        let reader = store::Reader::open(&cfg.db_path()).unwrap();
        let r = reader.rogue_servers().unwrap();
        if !r.is_empty() {
            break r;
        }
        assert!(Instant::now() < deadline, "no rogue_servers row");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(rogues.len(), 1, "only the second server: {rogues:?}");
    assert_eq!(rogues[0].server_ip, ROGUE_IP.parse::<Ipv4Addr>().unwrap());
    assert_eq!(rogues[0].server_mac, ROGUE_MAC.parse::<MacAddr>().unwrap());
    assert!(rogues[0].offers >= 1);
    assert_eq!(rogues[0].interface.as_deref(), Some(seg.srv_if.as_str()));

    assert!(d.stop().success());
    drop(procs);
}

#[test]
fn without_cap_net_raw_the_watcher_says_so_once_and_radius_keeps_serving() {
    require_environment();
    let cfg = TestConfig::new("", "[dhcp]\ninterfaces = [\"lo\"]\n");
    crate::harness::school(&cfg);
    let mut d = Daemon::start_in(
        &cfg,
        &["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw"],
    );
    let line = d.wait_for_log("CAP_NET_RAW", 0, Duration::from_secs(10));
    assert!(line.contains("ERROR") && line.contains("lo"), "{line}");
    let reply = mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11");
    assert_eq!(reply.code(), Some("Access-Accept"), "{}", reply.stdout);
    std::thread::sleep(hallpass::server::watcher::RETRY * 2);
    let n = d
        .log_lines()
        .iter()
        .filter(|l| l.contains("CAP_NET_RAW"))
        .count();
    assert_eq!(n, 1, "{:#?}", d.log_lines());
    assert!(d.stop().success());
}

#[test]
fn the_watcher_waits_for_its_interface_and_follows_it_down_up_and_back() {
    require_environment();
    let mut seg = Segment::new();
    // the interface does not exist yet when the daemon starts
    run(&["ip", "-n", &seg.srv_ns, "link", "del", &seg.srv_if]);
    let cfg = config(&seg, &[]);
    let mut d = start_daemon(&seg, &cfg);
    d.wait_for_log("does not exist", 0, Duration::from_secs(10));
    let skip = d.log_len();
    seg.link();
    seg.start_dnsmasq();
    d.wait_for_log("DHCP watcher capturing", skip, Duration::from_secs(10));
    seg.run_udhcpc();
    wait_sighting(&cfg, "02:00:00:00:10:01", |s| s.counts.ack >= 1);

    // down and up: the same socket carries on
    let skip = d.log_len();
    run(&["ip", "-n", &seg.srv_ns, "link", "set", &seg.srv_if, "down"]);
    d.wait_for_log("went down", skip, Duration::from_secs(10));
    run(&["ip", "-n", &seg.srv_ns, "link", "set", &seg.srv_if, "up"]);
    std::thread::sleep(Duration::from_millis(500));
    let id = seg.srv_ns.trim_end_matches('s').to_string();
    let a = format!("{id}a");
    macvlan(&seg, &a, "06:00:00:00:40:01");
    wait_ok(udhcpc(&seg, &a, "after-up", "x"), "udhcpc after up");
    wait_sighting(&cfg, "06:00:00:00:40:01", |s| s.counts.ack >= 1);
    d.wait_for_log("up again", skip, Duration::from_secs(5));

    // removed and made again: a new socket on the new interface
    let skip = d.log_len();
    if let Some(mut c) = seg.dnsmasq.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
    run(&["ip", "-n", &seg.srv_ns, "link", "del", &seg.srv_if]);
    d.wait_for_log("lost its interface", skip, Duration::from_secs(10));
    seg.link();
    seg.start_dnsmasq();
    d.wait_for_log("DHCP watcher capturing", skip, Duration::from_secs(10));
    let b = format!("{id}b");
    macvlan(&seg, &b, "06:00:00:00:40:02");
    wait_ok(
        udhcpc(&seg, &b, "after-recreate", "x"),
        "udhcpc after recreate",
    );
    wait_sighting(&cfg, "06:00:00:00:40:02", |s| s.counts.ack >= 1);
    assert!(d.stop().success());
}
