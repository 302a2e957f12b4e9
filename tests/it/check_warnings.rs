//! What `hallpass check` and the daemon say about settings that weaken hallpass (a client
//! without Message-Authenticator: a warning, exit 0, logged once per load) and about secret
//! files others could read or plant (an error with the command that repairs it).

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Output};
use std::time::Duration;

use crate::harness::{Daemon, SECRET, TestConfig};

fn check(cfg: &TestConfig) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("check")
        .arg(cfg.path())
        .output()
        .unwrap()
}

/// The line and column of `needle` in the test config's hallpass.toml (1-based).
fn position(cfg: &TestConfig, needle: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    text.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, c + 1)))
        .unwrap()
}

fn without_message_authenticator(cfg: &TestConfig) {
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    cfg.write(
        "hallpass.toml",
        &main.replacen(
            "module = \"wifi\"",
            "module = \"wifi\"\nrequire_message_authenticator = false",
            1,
        ),
    );
}

#[test]
fn check_warns_about_a_client_without_message_authenticator_and_still_succeeds() {
    let cfg = TestConfig::new("", "");
    let out = check(&cfg);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration OK\n"));

    without_message_authenticator(&cfg);
    let out = check(&cfg);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let (line, column) = position(&cfg, "= false");
    let want = format!(
        "hallpass.toml:{line}:{}: warning: client \"test-nas\" does not require Message-Authenticator",
        column + 2
    );
    assert!(stderr.starts_with(&want), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
    assert!(stdout.contains("configuration OK, 1 warning\n"), "{stdout}");

    // the daemon says it once when it loads the config, and again at each reload
    let mut d = Daemon::start(&cfg);
    let warned = |d: &Daemon| {
        d.log_lines()
            .iter()
            .filter(|l| l.contains("no_message_authenticator"))
            .count()
    };
    d.wait_for_log("no_message_authenticator", 0, Duration::from_secs(5));
    assert_eq!(warned(&d), 1);
    assert!(d.reload().contains("config reloaded"));
    assert_eq!(warned(&d), 2);
    assert!(d.stop().success());
}

#[test]
fn check_refuses_a_secret_file_others_can_read_and_says_how_to_fix_it() {
    let cfg = TestConfig::new("", "");
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    cfg.write(
        "hallpass.toml",
        &main.replacen(
            &format!("secret = \"{SECRET}\""),
            "secret_file = \"secrets/nas\"",
            1,
        ),
    );
    let secret = cfg.path().join("secrets/nas");
    cfg.write("secrets/nas", &format!("{SECRET}\n"));
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = check(&cfg);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let (line, column) = position(&cfg, "\"secrets/nas\"");
    assert!(
        stderr.starts_with(&format!(
            "hallpass.toml:{line}:{column}: the secret file \"secrets/nas\" of client \"test-nas\" can be read by every account"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("(mode 0644)"), "{stderr}");
    assert!(
        stderr.contains(&format!("run `chmod 0640 {}`", secret.display())),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");

    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = check(&cfg);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
