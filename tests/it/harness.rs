//! Starts the built `hallpass` binary, reads the port it bound from its log, and stops it
//! when dropped. Writes config directories for tests.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub const SECRET: &str = "testing-secret-0123456789";

/// A config directory for one test.
pub struct TestConfig {
    pub dir: tempfile::TempDir,
}

impl TestConfig {
    /// hallpass.toml from `tests/fixtures/hallpass.toml` (one loopback client, the groups
    /// teachers (VLAN 30) and students (VLAN 20, Filter-Id "students")), on port 0 for auth
    /// and accounting; `policy_extra` is added to [policy], `extra` at the end.
    pub fn new(policy_extra: &str, extra: &str) -> TestConfig {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let main = fixture_config(&[
            ("STATE_DIR", &state.display().to_string()),
            ("AUTH_LISTEN", "\"127.0.0.1:0\""),
            ("ACCT_LISTEN", "\"127.0.0.1:0\""),
            ("SECRET", SECRET),
            ("POLICY_EXTRA", policy_extra),
            ("EXTRA", extra),
        ]);
        std::fs::write(dir.path().join("hallpass.toml"), main).unwrap();
        TestConfig { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn acct_enabled(&self) -> bool {
        std::fs::read_to_string(self.dir.path().join("hallpass.toml"))
            .map(|s| s.contains("acct_listen = [\"127.0.0.1:0\"]"))
            .unwrap_or(false)
    }

    /// Turns the metrics endpoint on (loopback, port 0; `Daemon::metrics` is its address).
    pub fn enable_metrics(&self) {
        let main = std::fs::read_to_string(self.path().join("hallpass.toml")).unwrap();
        self.write(
            "hallpass.toml",
            &main.replacen(
                "language = \"de\"",
                "language = \"de\"\nmetrics_listen = \"127.0.0.1:0\"",
                1,
            ),
        );
    }

    fn metrics_enabled(&self) -> bool {
        std::fs::read_to_string(self.dir.path().join("hallpass.toml"))
            .map(|s| s.contains("metrics_listen = \"127.0.0.1:0\""))
            .unwrap_or(false)
    }

    /// Sets the Disconnect/CoA port of the test client.
    pub fn set_coa_port(&self, port: u16) {
        let main = std::fs::read_to_string(self.path().join("hallpass.toml")).unwrap();
        self.write(
            "hallpass.toml",
            &main.replacen(
                "module = \"wifi\"",
                &format!("module = \"wifi\"\ncoa_port = {port}"),
                1,
            ),
        );
    }

    pub fn write(&self, name: &str, text: &str) {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        // write + rename, as an editor or the CLI would: the daemon never sees half a file
        let tmp = p.with_extension("tmp-write");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &p).unwrap();
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("state").join("hallpass.db")
    }
}

/// The shared test config, `tests/fixtures/hallpass.toml`, filled in as
/// `tests/fixtures/config.sh` fills it for the scripts: `@NAME@` inside a line becomes the
/// value of NAME, a line that is only `@NAME@` becomes the value's lines (none when absent).
pub fn fixture_config(values: &[(&str, &str)]) -> String {
    let value = |name: &str| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| *v)
    };
    let mut out = String::new();
    for line in include_str!("../fixtures/hallpass.toml").lines() {
        if let Some(name) = line
            .strip_prefix('@')
            .and_then(|l| l.strip_suffix('@'))
            .filter(|n| !n.contains('@'))
        {
            let v = value(name);
            out.push_str(v);
            if !v.is_empty() && !v.ends_with('\n') {
                out.push('\n');
            }
            continue;
        }
        let mut line = line.to_string();
        for name in ["STATE_DIR", "AUTH_LISTEN", "ACCT_LISTEN", "SECRET"] {
            line = line.replace(&format!("@{name}@"), value(name));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Users, devices and bans most tests share.
pub fn school(cfg: &TestConfig) {
    cfg.write(
        "users.toml",
        &format!(
            r#"
[[user]]
name = "max.muster"
groups = ["students", "7b"]
consent = true

[[user]]
name = "erika.lehrer"
groups = ["teachers"]
consent = true
password = "{hash}"

[[user]]
name = "nina.ohne"
groups = ["students"]
consent = false

[[user]]
name = "paul.aus"
groups = ["students"]
consent = true
disabled = true

[[user]]
name = "gast.x"
groups = ["guests"]
consent = true

[[user]]
name = "wifi.gesperrt"
groups = ["students"]
consent = true

[[user]]
name = "konto.gesperrt"
groups = ["students"]
consent = true
"#,
            hash = password_hash("Schule2026!")
        ),
    );
    cfg.write(
        "devices.toml",
        r#"
[[device]]
mac = "3c:22:fb:12:34:56"
owner = "max.muster"
label = "iPhone"

[[device]]
mac = "3c:22:fb:00:00:01"
owner = "nina.ohne"

[[device]]
mac = "3c:22:fb:00:00:02"
owner = "paul.aus"

[[device]]
mac = "3c:22:fb:00:00:03"
owner = "gast.x"

[[device]]
mac = "3c:22:fb:00:00:04"
owner = "wifi.gesperrt"

[[device]]
mac = "3c:22:fb:00:00:05"
owner = "konto.gesperrt"

[[device]]
mac = "3c:22:fb:00:00:06"
owner = "max.muster"
label = "gesperrtes Tablet"

[[device]]
mac = "3c:22:fb:00:00:07"
owner = "erika.lehrer"
"#,
    );
    cfg.write(
        "bans.toml",
        r#"
[[ban]]
user = "wifi.gesperrt"
modules = ["wifi"]
until = 2099-12-04T08:00:00+01:00
reason = "Netiquette"
by = "admin.mueller"

[[ban]]
user = "konto.gesperrt"
modules = ["all"]
reason = "Missbrauch"

[[ban]]
mac = "3c:22:fb:00:00:06"
modules = ["all"]
reason = "Gerät gemeldet"
"#,
    );
}

/// An argon2id PHC string, as `hallpass user passwd` would store it.
pub fn password_hash(password: &str) -> String {
    use argon2::PasswordHasher;
    let salt = argon2::password_hash::SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

/// The running daemon.
pub struct Daemon {
    child: Child,
    pub addr: SocketAddr,
    /// The accounting port.
    pub acct: SocketAddr,
    /// The metrics endpoint, when the config enables it.
    pub metrics: Option<SocketAddr>,
    log: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Daemon {
    pub fn start(cfg: &TestConfig) -> Daemon {
        Daemon::start_in(cfg, &[])
    }

    /// Starts the daemon behind a command prefix, e.g. `["ip", "netns", "exec", NS]` to run
    /// it inside a network namespace. The prefix must exec the daemon (same process), so
    /// that signals reach it.
    pub fn start_in(cfg: &TestConfig, prefix: &[&str]) -> Daemon {
        Daemon::spawn(cfg, prefix, Some("debug"))
    }

    /// Like [`Daemon::start_in`], at the log level a school runs it with: no `RUST_LOG`,
    /// so the default (info) applies.
    pub fn start_in_at_default_level(cfg: &TestConfig, prefix: &[&str]) -> Daemon {
        Daemon::spawn(cfg, prefix, None)
    }

    fn spawn(cfg: &TestConfig, prefix: &[&str], rust_log: Option<&str>) -> Daemon {
        let bin = env!("CARGO_BIN_EXE_hallpass");
        let mut cmd = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        match rust_log {
            Some(level) => cmd.env("RUST_LOG", level),
            None => cmd.env_remove("RUST_LOG"),
        };
        let mut child = cmd
            .arg("serve")
            .arg("--config")
            .arg(cfg.path())
            .env_remove("JOURNAL_STREAM")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hallpass");
        let stderr = child.stderr.take().unwrap();
        let log: Arc<(Mutex<Vec<String>>, Condvar)> = Arc::default();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if std::env::var_os("HALLPASS_TEST_LOG").is_some() {
                    eprintln!("[hallpass] {line}");
                }
                let (lines, cv) = &*sink;
                lines.lock().unwrap().push(line);
                cv.notify_all();
            }
        });
        let mut d = Daemon {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            acct: "127.0.0.1:0".parse().unwrap(),
            metrics: None,
            log,
        };
        let bound = |line: String| -> SocketAddr {
            line.split("addr=")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .expect("bound address in log")
                .parse()
                .expect("socket address")
        };
        if cfg.acct_enabled() {
            d.acct = bound(d.wait_for_log("accounting listener bound", 0, Duration::from_secs(20)));
        }
        if cfg.metrics_enabled() {
            d.metrics = Some(bound(d.wait_for_log(
                "metrics listener bound",
                0,
                Duration::from_secs(20),
            )));
        }
        let line = d.wait_for_log("auth listener bound", 0, Duration::from_secs(20));
        let addr = line
            .split("addr=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .expect("bound address in log");
        d.addr = addr.parse().expect("socket address");
        // everything started, signal handlers included
        d.wait_for_log("hallpass ready", 0, Duration::from_secs(20));
        d
    }

    /// The daemon's process id (for taskset and signals in the fault tests).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lines logged so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.0.lock().unwrap().clone()
    }

    pub fn log_len(&self) -> usize {
        self.log.0.lock().unwrap().len()
    }

    /// Waits for a log line containing `needle`, looking only at lines after the first
    /// `skip` ones.
    pub fn wait_for_log(&mut self, needle: &str, skip: usize, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let (lines, cv) = &*self.log;
        let mut guard = lines.lock().unwrap();
        loop {
            if let Some(l) = guard.iter().skip(skip).find(|l| l.contains(needle)) {
                return l.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "hallpass exited ({status}) before logging {needle:?}:\n{}",
                    guard.join("\n")
                );
            }
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "no log line {needle:?} within {timeout:?}:\n{}",
                    guard.join("\n")
                );
            }
            guard = cv
                .wait_timeout(guard, (deadline - now).min(Duration::from_millis(100)))
                .unwrap()
                .0;
        }
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// SIGHUP, then waits for the outcome line; returns it.
    pub fn reload(&mut self) -> String {
        let skip = self.log_len();
        self.signal("HUP");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = self.log_lines();
            if let Some(l) = lines
                .iter()
                .skip(skip)
                .find(|l| l.contains("config reloaded") || l.contains("reload failed"))
            {
                return l.clone();
            }
            assert!(Instant::now() < deadline, "no reload outcome logged");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The body of `GET /metrics`; fails unless the answer is 200 with the Prometheus type.
    pub fn scrape(&self) -> String {
        let addr = self.metrics.expect("metrics enabled in the config");
        let (head, body) = http(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        assert!(
            head.contains("Content-Type: text/plain; version=0.0.4"),
            "{head}"
        );
        body
    }

    /// SIGKILL, as a power cut or the OOM killer would.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(self) -> std::process::ExitStatus {
        self.signal("TERM");
        self.stop_wait()
    }

    /// Waits for the exit after a SIGTERM that was already sent.
    pub fn stop_wait(mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "hallpass did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What radclient printed and whether it got an Access-Accept.
pub struct RadReply {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl RadReply {
    pub fn code(&self) -> Option<&str> {
        self.stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("Received "))
            .and_then(|l| l.split_whitespace().next())
    }

    /// Reply attributes in order, as (name, value) with radclient's spelling.
    pub fn attributes(&self) -> Vec<(String, String)> {
        let mut in_reply = false;
        let mut out = Vec::new();
        for l in self.stdout.lines() {
            if l.starts_with("Received ") {
                in_reply = true;
                continue;
            }
            if l.starts_with("Sent ") {
                in_reply = false;
                continue;
            }
            if in_reply
                && l.starts_with(char::is_whitespace)
                && let Some((k, v)) = l.trim().split_once(" = ")
            {
                out.push((k.to_string(), v.trim_matches('"').to_string()));
            }
        }
        out
    }

    pub fn attr(&self, name: &str) -> Option<String> {
        self.attributes()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

pub fn require_radclient() {
    let ok = Command::new("radclient")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        ok,
        "radclient not found: install freeradius-utils (apt-get install freeradius-utils)"
    );
}

/// Sends `attrs` (radclient's input syntax) with `command` (auth, status, ...).
pub fn radclient(addr: SocketAddr, command: &str, secret: &str, attrs: &str) -> RadReply {
    radclient_via(&[], 1, addr, command, secret, attrs)
}

/// [`radclient`] started through `prefix` (e.g. `ip netns exec NS`), sending up to `tries`
/// times and waiting as many seconds for each answer.
pub fn radclient_via(
    prefix: &[&str],
    tries: u32,
    addr: SocketAddr,
    command: &str,
    secret: &str,
    attrs: &str,
) -> RadReply {
    require_radclient();
    use std::io::Write;
    let (program, args) = match prefix.split_first() {
        Some((p, rest)) => (*p, [rest, &["radclient"]].concat()),
        None => ("radclient", Vec::new()),
    };
    let tries = tries.to_string();
    let mut child = Command::new(program)
        .args(args)
        .args(["-x", "-r", &tries, "-t", &tries])
        .arg(addr.to_string())
        .arg(command)
        .arg(secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("radclient");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(attrs.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    RadReply {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A MAB Access-Request as a switch or AP sends it, with a Message-Authenticator.
pub fn mab(addr: SocketAddr, mac_dashes: &str, nas_port_type: &str) -> RadReply {
    radclient(
        addr,
        "auth",
        SECRET,
        &format!(
            "User-Name = \"{m}\", User-Password = \"{m}\", Calling-Station-Id = \"{M}\", \
             NAS-Port-Type = {nas_port_type}, Message-Authenticator = 0x00\n",
            m = mac_dashes.to_lowercase(),
            M = mac_dashes.to_uppercase()
        ),
    )
}

pub fn pap(addr: SocketAddr, user: &str, password: &str) -> RadReply {
    radclient(
        addr,
        "auth",
        SECRET,
        &format!(
            "User-Name = \"{user}\", User-Password = \"{password}\", \
             NAS-Port-Type = Wireless-802.11, Message-Authenticator = 0x00\n"
        ),
    )
}

/// Sends `request` as is and reads until the server closes: (status line and headers, body).
pub fn http(addr: SocketAddr, request: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    match text.split_once("\r\n\r\n") {
        Some((h, b)) => (h.to_string(), b.to_string()),
        None => (text, String::new()),
    }
}

/// Prometheus text → (series with labels, value), e.g. `requests_total{type="access"}`.
pub fn parse_metrics(body: &str) -> std::collections::HashMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}
