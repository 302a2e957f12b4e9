//! The full 802.1X path once: wpa_supplicant (`-D wired`, PEAP-MSCHAPv2, the CA and domain a
//! pupil's device is told) in a network namespace, hostapd (`driver=wired`) on the other end
//! of a veth pair in the host namespace as the authenticator, and hostapd's RADIUS client
//! asking hallpass on loopback. Nothing leaves the machine: the veth pair has no address and
//! no route, and RADIUS stays on 127.0.0.1. Success is the supplicant's
//! CTRL-EVENT-EAP-SUCCESS and hostapd's "authorizing port". Every wait is bounded; the
//! namespace and the links are removed on every exit path.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{Daemon, SECRET, TestConfig, password_hash};

const USER: &str = "anna.schmidt";
const PASSWORD: &str = "Pausenhof-2026!";
const DOMAIN: &str = "radius.school.example";
/// The supplicant's MAC (hostapd sends it as Calling-Station-Id), registered to the user.
const MAC: &str = "02:00:5e:10:80:21";
const WAIT: Duration = Duration::from_secs(30);

fn require(command: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {command}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return;
    }
    let installed = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        installed,
        "the 802.1X test needs {command}: apt-get install {package} (scripts/test.sh does)"
    );
}

fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A child whose output lines are collected; killed when dropped.
struct Peer {
    name: &'static str,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Peer {
    fn spawn(name: &'static str, args: &[&str]) -> Peer {
        let mut child = Command::new(args[0])
            .args(&args[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let sink = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    sink.lock().unwrap().push(line);
                }
            });
        }
        Peer { name, child, lines }
    }

    fn has(&self, needle: &str) -> bool {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn tail(&self, n: usize) -> String {
        let lines = self.lines.lock().unwrap();
        let from = lines.len().saturating_sub(n);
        format!(
            "--- {} (last {n} lines)\n{}",
            self.name,
            lines[from..].join("\n")
        )
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The namespace of the supplicant and the veth pair, with names unique to this run;
/// removed when dropped (the peers are dropped first: they are declared after it).
struct Link {
    ns: String,
    host_if: String,
    client_if: String,
}

impl Link {
    fn new() -> Link {
        static N: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "{}{}",
            std::process::id() % 100_000,
            N.fetch_add(1, Ordering::Relaxed)
        );
        let link = Link {
            ns: format!("hp-8021x-{id}"),
            host_if: format!("hpa{id}"),
            client_if: format!("hps{id}"),
        };
        run(&["ip", "netns", "add", &link.ns]);
        run(&[
            "ip",
            "link",
            "add",
            &link.host_if,
            "type",
            "veth",
            "peer",
            "name",
            &link.client_if,
            "netns",
            &link.ns,
        ]);
        // no addresses at all: EAPOL is layer 2, and IPv6 would otherwise configure itself
        for (ns, dev) in [(None, &link.host_if), (Some(&link.ns), &link.client_if)] {
            let sysctl = format!("net.ipv6.conf.{dev}.disable_ipv6=1");
            let mut args: Vec<&str> = Vec::new();
            if let Some(ns) = ns {
                args.extend(["ip", "netns", "exec", ns]);
            }
            let mut sysctl_args = args.clone();
            sysctl_args.extend(["sysctl", "-q", "-w", &sysctl]);
            run(&sysctl_args);
        }
        run(&[
            "ip",
            "-n",
            &link.ns,
            "link",
            "set",
            &link.client_if,
            "address",
            MAC,
        ]);
        run(&["ip", "-n", &link.ns, "link", "set", &link.client_if, "up"]);
        run(&["ip", "link", "set", &link.host_if, "up"]);
        link
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // deleting one end removes the pair
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.ns])
            .stderr(Stdio::null())
            .status();
    }
}

/// hostapd (authenticator, host namespace) and wpa_supplicant (in the namespace) run one
/// PEAP-MSCHAPv2 login against the RADIUS server at `radius`; returns when both report
/// success, panics with both logs on failure or after [`WAIT`].
fn login_over_8021x(radius: SocketAddr, secret: &str, ca_pem: &Path, dir: &Path) {
    require("hostapd", "hostapd");
    require("wpa_supplicant", "wpasupplicant");
    let link = Link::new();
    let hostapd_conf = dir.join("hostapd.conf");
    std::fs::write(
        &hostapd_conf,
        format!(
            "interface={}\ndriver=wired\nlogger_stdout=-1\nlogger_stdout_level=1\n\
             ieee8021x=1\neapol_version=2\neap_reauth_period=0\nuse_pae_group_addr=1\n\
             own_ip_addr=127.0.0.1\nnas_identifier=hallpass-8021x-test\n\
             auth_server_addr={}\nauth_server_port={}\nauth_server_shared_secret={secret}\n\
             radius_retry_primary_interval=5\n",
            link.host_if,
            radius.ip(),
            radius.port()
        ),
    )
    .unwrap();
    let supplicant_conf = dir.join("supplicant.conf");
    std::fs::write(
        &supplicant_conf,
        format!(
            "ap_scan=0\nfast_reauth=0\nnetwork={{\n  key_mgmt=IEEE8021X\n  eap=PEAP\n  \
             identity=\"{USER}\"\n  anonymous_identity=\"anonymous@school.example\"\n  \
             password=\"{PASSWORD}\"\n  ca_cert=\"{}\"\n  domain_suffix_match=\"{DOMAIN}\"\n  \
             phase2=\"auth=MSCHAPV2\"\n  eapol_flags=0\n}}\n",
            ca_pem.display()
        ),
    )
    .unwrap();
    let mut hostapd = Peer::spawn(
        "hostapd",
        &["hostapd", "-d", hostapd_conf.to_str().unwrap()],
    );
    // the supplicant starts once hostapd listens, so that its EAPOL-Start is heard
    let start = Instant::now();
    while !hostapd.has("interface state") && !hostapd.has("ENABLED") {
        if let Some(status) = hostapd.exited() {
            panic!("hostapd exited ({status}):\n{}", hostapd.tail(40));
        }
        assert!(
            start.elapsed() < WAIT,
            "hostapd did not start:\n{}",
            hostapd.tail(40)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut supplicant = Peer::spawn(
        "wpa_supplicant",
        &[
            "ip",
            "netns",
            "exec",
            &link.ns,
            "wpa_supplicant",
            "-D",
            "wired",
            "-i",
            &link.client_if,
            "-c",
            supplicant_conf.to_str().unwrap(),
            "-d",
        ],
    );
    let start = Instant::now();
    loop {
        let logs = |s: &Peer, h: &Peer| format!("{}\n{}", s.tail(60), h.tail(60));
        if supplicant.has("CTRL-EVENT-EAP-SUCCESS") && hostapd.has("authorizing port") {
            break;
        }
        assert!(
            !supplicant.has("CTRL-EVENT-EAP-FAILURE"),
            "the login failed (EAP-Failure):\n{}",
            logs(&supplicant, &hostapd)
        );
        assert!(
            !supplicant.has("CTRL-EVENT-EAP-TLS-CERT-ERROR"),
            "the supplicant refused the server certificate:\n{}",
            logs(&supplicant, &hostapd)
        );
        if let Some(status) = supplicant.exited() {
            panic!(
                "wpa_supplicant exited ({status}):\n{}",
                logs(&supplicant, &hostapd)
            );
        }
        if let Some(status) = hostapd.exited() {
            panic!(
                "hostapd exited ({status}):\n{}",
                logs(&supplicant, &hostapd)
            );
        }
        assert!(
            start.elapsed() < WAIT,
            "no 802.1X success within {WAIT:?} (is the RADIUS server at {radius} answering EAP?):\n{}",
            logs(&supplicant, &hostapd)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // the keys reached the supplicant, so the RADIUS server's MPPE keys worked through
    assert!(
        supplicant.has("EAPOL: Successfully fetched key (len=32)")
            || supplicant.has("EAP: EAP entering state SUCCESS"),
        "{}",
        supplicant.tail(60)
    );
    drop(supplicant);
    drop(hostapd);
    drop(link);
}

/// hallpass with `[eap]` offering PEAP, certificates from `hallpass eap make-cert`, the
/// account's password set with `hallpass user passwd` (argon2id and nt_hash), and the
/// supplicant's MAC registered to the account.
#[test]
fn a_wired_supplicant_logs_in_with_peap_through_hostapd() {
    let cfg = TestConfig::new(
        "",
        "[eap]\nmethods = [\"peap\", \"ttls\"]\ncertificate = \"eap/server.pem\"\n\
         private_key = \"eap/server.key\"\ntls_versions = [\"1.2\"]\nunregistered_devices = \"reject\"\n",
    );
    cfg.write(
        "users.toml",
        &format!(
            "[[user]]\nname = \"{USER}\"\ngroups = [\"students\"]\nconsent = true\n\
             password = \"{}\"\n",
            password_hash("Erstes-Passwort-1")
        ),
    );
    cfg.write(
        "devices.toml",
        &format!("[[device]]\nmac = \"{MAC}\"\nowner = \"{USER}\"\nlabel = \"Laptop\"\n"),
    );
    let hp = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_hallpass"))
            .args(args)
            .arg("--config")
            .arg(cfg.path())
            .env("SUDO_USER", "admin.test")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "hallpass {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    hp(&["eap", "make-cert", "--dns", DOMAIN], None);
    // the config must be valid with [eap] before anything waits on the daemon
    hp(&["check"], None);
    let set = hp(
        &["user", "passwd", USER, "--stdin", "--no-reload"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(set.contains("nt_hash"), "{set}");
    let users = std::fs::read_to_string(cfg.path().join("users.toml")).unwrap();
    assert!(users.contains("nt_hash = \""), "{users}");

    let daemon = Daemon::start(&cfg);
    let work = tempfile::tempdir().unwrap();
    login_over_8021x(
        daemon.addr,
        SECRET,
        &cfg.path().join("eap/ca.pem"),
        work.path(),
    );
    drop(daemon);
}
