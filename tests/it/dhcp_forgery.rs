//! Forged DHCP against the watcher inside the real daemon. dnsmasq in the server's namespace
//! is the school's (trusted) server; from the client's namespace ISC dhclient reboots with
//! an address it was never given and busybox udhcpc asks for one with `-r`; a second
//! dnsmasq in a namespace of its own relays to itself, so its replies come from its own
//! address but name the school's server in option 54. Needs root and dnsmasq, udhcpc,
//! dhclient, ip.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hallpass::model::MacAddr;
use hallpass::store;

use crate::dhcp_capture::{Segment, require_environment, run};
use crate::dhcp_watch::{Procs, config, leased, macvlan, script, start_daemon, wait_sighting};

const SCHOOL: &str = "10.99.0.1";
/// In the school's subnet, never leased by it.
const FORGED: &str = "10.99.0.7";
const WISH: &str = "10.99.0.8";
const ROGUE_IP: &str = "10.99.0.2";
const ROGUE_MAC: &str = "02:00:00:00:66:66";
/// dhclient, rebooting with a made-up lease.
const FORGER_MAC: &str = "06:00:00:00:77:01";
/// udhcpc -r; the school's server ignores it.
const WISHER_MAC: &str = "06:00:00:00:77:02";
/// Asks while the rogue runs; the school's server ignores it, so only the rogue answers.
const VICTIM_MAC: &str = "06:00:00:00:77:03";

/// A network namespace of this test, deleted when the test ends (also on failure).
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.0])
            .stderr(Stdio::null())
            .status();
    }
}

fn dnsmasq(ns: &str, dir: &Path, name: &str, args: &[String]) -> std::process::Child {
    Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "dnsmasq",
            "-k",
            "--conf-file=/dev/null",
        ])
        .args(["--port=0", "--user=root", "--no-ping"])
        .arg(format!(
            "--dhcp-leasefile={}",
            dir.join(format!("{name}.leases")).display()
        ))
        .arg(format!(
            "--pid-file={}",
            dir.join(format!("{name}.pid")).display()
        ))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start dnsmasq")
}

fn history_ips(cfg: &crate::harness::TestConfig, mac: &str) -> Vec<Option<Ipv4Addr>> {
    let reader = store::Reader::open(&cfg.db_path()).unwrap();
    reader
        .sighting_history(mac.parse().unwrap(), 1000)
        .unwrap()
        .into_iter()
        .map(|h| h.ip)
        .collect()
}

#[test]
fn dhcp_forged_addresses_and_a_forged_server_id_do_not_fool_the_watcher() {
    require_environment();
    assert!(
        Command::new("dhclient").arg("--version").output().is_ok(),
        "dhclient is not installed: apt-get install -y --no-install-recommends isc-dhcp-client"
    );
    let mut seg = Segment::new();
    let mut procs = Procs::default();
    let dir = seg.dir.path().to_path_buf();
    // the school's server: authoritative, so it refuses (NAKs) addresses it did not lease
    seg.dnsmasq = Some(dnsmasq(
        &seg.srv_ns,
        &dir,
        "school",
        &[
            format!("--interface={}", seg.srv_if),
            "--bind-interfaces".into(),
            "--dhcp-authoritative".into(),
            "--dhcp-range=10.99.0.100,10.99.0.250,255.255.255.0,10m".into(),
            format!("--dhcp-host={WISHER_MAC},ignore"),
            format!("--dhcp-host={VICTIM_MAC},ignore"),
        ],
    ));
    let cfg = config(&seg, &[]);
    let mut d = start_daemon(&seg, &cfg);
    d.wait_for_log("DHCP watcher capturing", 0, Duration::from_secs(10));
    let id = seg.srv_ns.trim_end_matches('s').to_string();

    // 1. dhclient reboots claiming FORGED (a REQUEST with option 50, no server id); the
    // school's server NAKs it, and dhclient then gets a real lease
    let fif = format!("{id}fg");
    macvlan(&seg, &fif, FORGER_MAC);
    let leases = dir.join("forger.leases");
    std::fs::write(
        &leases,
        format!(
            "lease {{\n  interface \"{fif}\";\n  fixed-address {FORGED};\n  \
             option subnet-mask 255.255.255.0;\n  option dhcp-server-identifier {SCHOOL};\n  \
             renew 4 2037/01/01 00:00:00;\n  rebind 4 2037/01/01 00:00:00;\n  \
             expire 4 2037/01/01 00:00:00;\n}}\n"
        ),
    )
    .unwrap();
    let conf = dir.join("forger.conf");
    std::fs::write(&conf, "send host-name \"forger\";\n").unwrap();
    let dscript = script(
        &dir,
        "forger.sh",
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
            .arg(&leases)
            .arg("-pf")
            .arg(dir.join("forger.pid"))
            .arg("-sf")
            .arg(&dscript)
            .arg(&fif)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot run dhclient"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dir.join(format!("ip-{fif}")).exists() {
        assert!(Instant::now() < deadline, "dhclient got no lease");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(100)); // the script finishes writing
    let real = leased(&seg, &fif);
    let forged: Ipv4Addr = FORGED.parse().unwrap();
    assert_ne!(real, forged);
    let s = wait_sighting(&cfg, FORGER_MAC, |s| {
        s.last_ip == Some(real) && s.counts.nak >= 1
    });
    assert!(s.counts.request >= 2, "{:?}", s.counts);
    let ips = history_ips(&cfg, FORGER_MAC);
    assert!(
        !ips.contains(&Some(forged)),
        "the address it claimed is in its history: {ips:?}"
    );
    assert!(ips.contains(&Some(real)), "{ips:?}");

    // 2. udhcpc -r WISH: the school's server never answers it
    let wif = format!("{id}ws");
    macvlan(&seg, &wif, WISHER_MAC);
    let quiet = script(&dir, "quiet.sh", "");
    let out = Command::new("ip")
        .args(["netns", "exec", &seg.cli_ns, "udhcpc", "-i", &wif])
        .args(["-f", "-q", "-n", "-t", "3", "-T", "1", "-r", WISH])
        .args(["-x", "hostname:wisher", "-s"])
        .arg(&quiet)
        .output()
        .expect("cannot run udhcpc");
    assert!(!out.status.success(), "nobody should have answered");
    // its first DISCOVER is written; the two after it, with nothing new, are coalesced
    let s = wait_sighting(&cfg, WISHER_MAC, |s| s.counts.discover >= 1);
    assert_eq!(s.last_ip, None, "an address asked for is no address");
    let ips = history_ips(&cfg, WISHER_MAC);
    assert!(ips.iter().all(Option::is_none), "{ips:?}");

    // 3. a second server that names the school's server in option 54: dnsmasq relaying to
    // itself, the school's address on its loopback, its own on the segment
    let rogue = Netns(format!("{id}r"));
    run(&["ip", "netns", "add", &rogue.0]);
    let rif = format!("{id}rg");
    macvlan(&seg, &rif, ROGUE_MAC);
    run(&[
        "ip",
        "-n",
        &seg.cli_ns,
        "link",
        "set",
        &rif,
        "netns",
        &rogue.0,
    ]);
    run(&[
        "ip",
        "-n",
        &rogue.0,
        "addr",
        "add",
        &format!("{ROGUE_IP}/24"),
        "dev",
        &rif,
    ]);
    run(&["ip", "-n", &rogue.0, "link", "set", &rif, "up"]);
    run(&["ip", "-n", &rogue.0, "link", "set", "lo", "up"]);
    run(&[
        "ip",
        "-n",
        &rogue.0,
        "addr",
        "add",
        &format!("{SCHOOL}/32"),
        "dev",
        "lo",
    ]);
    procs.0.push(dnsmasq(
        &rogue.0,
        &dir,
        "rogue",
        &[
            "--dhcp-broadcast".into(),
            format!("--dhcp-relay={ROGUE_IP},{SCHOOL}"),
            "--dhcp-range=10.99.0.20,10.99.0.40,255.255.255.0,10m".into(),
        ],
    ));
    std::thread::sleep(Duration::from_millis(500));
    let skip = d.log_len();
    let vif = format!("{id}vi");
    macvlan(&seg, &vif, VICTIM_MAC);
    // -B: broadcast replies, so that they cross the segment the watcher sits on
    let out = Command::new("ip")
        .args(["netns", "exec", &seg.cli_ns, "udhcpc", "-i", &vif])
        .args(["-f", "-q", "-n", "-B", "-t", "5", "-T", "1"])
        .args(["-x", "hostname:victim", "-s"])
        .arg(&quiet)
        .output()
        .expect("cannot run udhcpc");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && said.contains(&format!("obtained from {SCHOOL}")),
        "the rogue should have leased an address in the school's name: {said}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let rogues = loop {
        let r = store::Reader::open(&cfg.db_path())
            .unwrap()
            .rogue_servers()
            .unwrap();
        if r.iter().any(|r| r.acks >= 1) {
            break r;
        }
        assert!(Instant::now() < deadline, "no rogue ACK recorded: {r:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(rogues.len(), 1, "{rogues:?}");
    assert_eq!(rogues[0].server_ip, ROGUE_IP.parse::<Ipv4Addr>().unwrap());
    assert_eq!(rogues[0].server_mac, ROGUE_MAC.parse::<MacAddr>().unwrap());
    assert!(rogues[0].offers >= 1);
    let warning = d.wait_for_log(
        &format!("rogue DHCP server {ROGUE_IP} naming itself {SCHOOL}"),
        skip,
        Duration::from_secs(10),
    );
    assert!(warning.contains("WARN"), "{warning}");
    // its REQUEST came before the rogue's ACK (recorded above), coalesced into its DISCOVER
    let s = wait_sighting(&cfg, VICTIM_MAC, |s| s.counts.discover >= 1);
    assert_eq!(
        s.last_ip, None,
        "the rogue's lease is not the device's address"
    );
    assert_eq!(
        (s.counts.offer, s.counts.ack),
        (0, 0),
        "a rogue's replies make no sighting"
    );

    assert!(d.stop().success());
    drop(procs);
    drop(rogue);
}
