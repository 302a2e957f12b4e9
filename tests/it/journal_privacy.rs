//! The journal at the default log level carries no data about people: the real daemon, run
//! without `RUST_LOG`, goes through enforcement (a ban that starts while a session is open,
//! so a Disconnect-Request goes out) and through the DHCP watcher's registered-device and
//! randomized-MAC lines, and its whole log is searched for the MACs, user name and host
//! names of the scenario. Needs root (namespaces), dnsmasq, udhcpc, radclient, ip.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use crate::dhcp_capture::{Segment, in_netns, require_environment, run};
use crate::dhcp_watch::{config, leased, macvlan, udhcpc, wait_ok, wait_sighting};
use crate::harness::{Daemon, SECRET, require_radclient};
use crate::wire;

const PHONE: &str = "3c:22:fb:12:34:56";
const PRIVATE: &str = "0a:11:22:33:44:55";
const OWNER: &str = "max.muster";
const HOSTNAME: &str = "max-phone";

/// radclient run inside the daemon's namespace, where its loopback listeners are.
fn radclient_in(ns: &str, addr: SocketAddr, command: &str, attrs: &str) -> String {
    let prefix = ["ip", "netns", "exec", ns];
    crate::harness::radclient_via(&prefix, 2, addr, command, SECRET, attrs).stdout
}

/// Every way the scenario's people and devices could be written.
fn personal_strings(leases: &[std::net::Ipv4Addr]) -> Vec<String> {
    let mut v = vec![OWNER.to_string(), HOSTNAME.to_string()];
    for mac in [PHONE, PRIVATE] {
        v.push(mac.to_string());
        v.push(mac.replace(':', "-"));
        v.push(mac.replace(':', ""));
    }
    v.extend(leases.iter().map(|ip| format!("{ip}")));
    v
}

#[test]
fn the_default_log_level_names_no_device_user_or_host() {
    require_environment();
    require_radclient();
    let mut seg = Segment::new();
    seg.start_dnsmasq();
    let cfg = config(&seg, &[PHONE.to_string()]);
    // the NAS stand-in lives in the daemon's namespace, where the client 127.0.0.1 is
    run(&["ip", "-n", &seg.srv_ns, "link", "set", "lo", "up"]);
    let nas = in_netns(&seg.srv_ns, || UdpSocket::bind("127.0.0.1:0").unwrap());
    cfg.set_coa_port(nas.local_addr().unwrap().port());
    let from = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(8);
    cfg.write(
        "bans.toml",
        &format!(
            "[[ban]]\nuser = \"{OWNER}\"\nmodules = [\"all\"]\nfrom = {from}\nreason = \"Test\"\n"
        ),
    );
    let mut d = Daemon::start_in_at_default_level(&cfg, &["ip", "netns", "exec", &seg.srv_ns]);
    d.wait_for_log("DHCP watcher capturing", 0, Duration::from_secs(10));

    // an open Wi-Fi session of the owner's phone
    let reply = radclient_in(
        &seg.srv_ns,
        d.acct,
        "acct",
        &format!(
            "Acct-Status-Type = Start, Acct-Session-Id = \"privacy-1\", User-Name = \"{OWNER}\", \
             Calling-Station-Id = \"{M}\", NAS-IP-Address = 127.0.0.1, NAS-Port = 7, \
             NAS-Port-Type = Wireless-802.11, Called-Station-Id = \"02-00-00-00-00-01:Schule\"\n",
            M = PHONE.replace(':', "-").to_uppercase()
        ),
    );
    assert!(reply.contains("Accounting-Response"), "{reply}");

    // the registered phone, then the same phone under a private MAC with its host name
    let id = seg.srv_ns.trim_end_matches('s').to_string();
    let (pif, vif) = (format!("{id}ph"), format!("{id}pv"));
    macvlan(&seg, &pif, PHONE);
    wait_ok(udhcpc(&seg, &pif, HOSTNAME, "android-dhcp-14"), "phone");
    let phone_ip = leased(&seg, &pif);
    wait_sighting(&cfg, PHONE, |s| s.last_ip == Some(phone_ip));
    macvlan(&seg, &vif, PRIVATE);
    wait_ok(udhcpc(&seg, &vif, HOSTNAME, "android-dhcp-14"), "private");
    let private_ip = leased(&seg, &vif);
    let s = wait_sighting(&cfg, PRIVATE, |s| s.last_ip == Some(private_ip));
    assert_eq!(
        s.randomized_alias_of,
        Some(PHONE.parse().unwrap()),
        "the alias is recorded"
    );

    // the ban starts: a Disconnect-Request, answered
    nas.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 4096];
    let (n, from_addr) = loop {
        match nas.recv_from(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => break r.expect("a Disconnect-Request"),
        }
    };
    let request = &buf[..n];
    assert_eq!(request[0], wire::DISCONNECT_REQUEST);
    let ack = wire::reply(wire::DISCONNECT_ACK, request, &[], SECRET.as_bytes());
    nas.send_to(&ack, from_addr).unwrap();
    d.wait_for_log("Disconnect reply", 0, Duration::from_secs(10));
    // and the banned phone asks again
    let reply = radclient_in(
        &seg.srv_ns,
        d.addr,
        "auth",
        &format!(
            "User-Name = \"{m}\", User-Password = \"{m}\", Calling-Station-Id = \"{M}\", \
             NAS-Port-Type = Wireless-802.11, Message-Authenticator = 0x00\n",
            m = PHONE.replace(':', "-"),
            M = PHONE.replace(':', "-").to_uppercase()
        ),
    );
    assert!(reply.contains("Access-Reject"), "{reply}");

    std::thread::sleep(Duration::from_millis(1500)); // the watcher's counters line, if any
    let lines = d.log_lines();
    assert!(d.stop().success());
    let log = lines.join("\n");
    assert!(
        log.contains("session no longer allowed: sending Disconnect-Request"),
        "enforcement is in the journal:\n{log}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("DEBUG")),
        "the default level is info:\n{log}"
    );
    let lower = log.to_lowercase();
    for needle in personal_strings(&[phone_ip, private_ip]) {
        assert!(
            !lower.contains(&needle.to_lowercase()),
            "{needle:?} is in the journal:\n{log}"
        );
    }
}
