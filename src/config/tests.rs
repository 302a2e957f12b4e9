//! Tests of the loader: each check with file, line and column; the shipped example config.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use super::load::{parse_duration_secs, to_timestamp};
use super::*;
use crate::model::{Access, BanTarget, GrantTarget, MacAddr, ModelError, Module};

const MAIN: &str = r#"[server]
timezone = "Europe/Berlin"

[[radius.client]]
name = "ap"
address = "10.0.0.0/24"
secret = "0123456789abcdef"
module = "wifi"

[[policy.group]]
name = "students"
vlan = 20
"#;

const USERS: &str = r#"[[user]]
name = "max.muster"
groups = ["students"]
consent = true

[[user]]
name = "lena.meyer"
groups = ["students"]
consent = true
"#;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, text).unwrap();
    }
}

/// Loads `files` (hallpass.toml defaults to MAIN) from a fresh directory.
fn try_load(files: &[(&str, &str)]) -> Result<Directory, ConfigErrors> {
    let dir = tempfile::tempdir().unwrap();
    if !files.iter().any(|(n, _)| *n == MAIN_FILE) {
        write(dir.path(), &[(MAIN_FILE, MAIN)]);
    }
    write(dir.path(), files);
    load(dir.path())
}

fn ok(files: &[(&str, &str)]) -> Directory {
    match try_load(files) {
        Ok(d) => d,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

fn errs(files: &[(&str, &str)]) -> Vec<ConfigError> {
    match try_load(files) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.0,
    }
}

/// The kind of the single error at file:line:col.
fn at(errors: &[ConfigError], file: &str, line: u32, column: u32) -> ConfigErrorKind {
    let found: Vec<_> = errors
        .iter()
        .filter(|e| e.file == Path::new(file) && e.line == line && e.column == column)
        .collect();
    match found.as_slice() {
        [e] => e.kind.clone(),
        _ => panic!(
            "expected one error at {file}:{line}:{column}, got:\n{}",
            ConfigErrors(errors.to_vec())
        ),
    }
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------- devices

#[test]
fn malformed_mac() {
    let e = errs(&[
        ("users.toml", USERS),
        (
            "devices.toml",
            "[[device]]\nmac = \"3c:22:fb:12:34\"\nowner = \"max.muster\"\n",
        ),
    ]);
    assert_eq!(e.len(), 1);
    assert!(
        matches!(at(&e, "devices.toml", 2, 7), ConfigErrorKind::BadMac { value } if value == "3c:22:fb:12:34")
    );
}

#[test]
fn duplicate_mac_across_files_and_notations() {
    let e = errs(&[
        ("users.toml", USERS),
        (
            "devices.toml",
            "# first\n\n[[device]]\nmac = \"3C-22-FB-12-34-56\"\nowner = \"max.muster\"\n",
        ),
        (
            "devices.d/7b.toml",
            "[[device]]\nmac = \"aa:bb:cc:00:00:01\"\nowner = \"lena.meyer\"\n\n[[device]]\nmac = \"3c22fb123456\"\nowner = \"lena.meyer\"\n",
        ),
    ]);
    assert_eq!(e.len(), 1);
    let k = at(&e, "devices.d/7b.toml", 6, 7);
    assert!(matches!(&k, ConfigErrorKind::DuplicateMac { mac: m, first }
        if *m == mac("3c:22:fb:12:34:56") && first.to_string() == "devices.toml:4:7"));
    assert_eq!(
        e[0].to_string(),
        "devices.d/7b.toml:6:7: MAC 3c:22:fb:12:34:56 is registered twice (first in devices.toml:4:7)"
    );
}

#[test]
fn device_owner_unknown() {
    let e = errs(&[
        ("users.toml", USERS),
        (
            "devices.toml",
            "[[device]]\nmac = \"3c:22:fb:12:34:56\"\nowner = \"nobody\"\n",
        ),
    ]);
    assert!(
        matches!(at(&e, "devices.toml", 3, 9), ConfigErrorKind::UnknownOwner { owner, .. } if owner == "nobody")
    );
}

#[test]
fn too_many_devices_points_at_the_first_one_over() {
    let main = format!("{MAIN}\n[policy]\nmax_devices_per_user = 2\n");
    let e = errs(&[
        (MAIN_FILE, &main),
        ("users.toml", USERS),
        (
            "devices.toml",
            "[[device]]\nmac = \"00:00:00:00:00:01\"\nowner = \"max.muster\"\n[[device]]\nmac = \"00:00:00:00:00:02\"\nowner = \"max.muster\"\n",
        ),
        (
            "devices.d/a.toml",
            "[[device]]\nmac = \"00:00:00:00:00:03\"\nowner = \"max.muster\"\n[[device]]\nmac = \"00:00:00:00:00:04\"\nowner = \"max.muster\"\n[[device]]\nmac = \"00:00:00:00:00:05\"\nowner = \"lena.meyer\"\n",
        ),
    ]);
    assert_eq!(e.len(), 1, "{}", ConfigErrors(e.clone()));
    assert!(matches!(at(&e, "devices.d/a.toml", 2, 7),
        ConfigErrorKind::TooManyDevices { number: 3, max: 2, count: 4, owner, .. } if owner == "max.muster"));
}

#[test]
fn bad_registered_date_and_conversion() {
    let d = ok(&[
        ("users.toml", USERS),
        (
            "devices.toml",
            "[[device]]\nmac = \"00:00:00:00:00:01\"\nowner = \"max.muster\"\nregistered = 2026-11-20\n",
        ),
    ]);
    let dev = d.device(&mac("00:00:00:00:00:01")).unwrap();
    // Midnight in Europe/Berlin (UTC+1 in November).
    assert_eq!(
        dev.registered,
        Some("2026-11-19T23:00:00Z".parse().unwrap())
    );
    assert_eq!(&*dev.owner, "max.muster");
    let e = errs(&[
        ("users.toml", USERS),
        (
            "devices.toml",
            "[[device]]\nmac = \"00:00:00:00:00:01\"\nowner = \"max.muster\"\nregistered = 08:00:00\n",
        ),
    ]);
    assert!(matches!(
        at(&e, "devices.toml", 4, 14),
        ConfigErrorKind::BadDatetime { .. }
    ));
}

#[test]
fn datetimes_offset_local_and_date() {
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let dt = |s: &str| s.parse::<toml::value::Datetime>().unwrap();
    let ts = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    assert_eq!(
        to_timestamp(&dt("2026-12-04T08:00:00+01:00"), &tz),
        Ok(ts("2026-12-04T07:00:00Z"))
    );
    assert_eq!(
        to_timestamp(&dt("2026-12-04T08:00:00Z"), &tz),
        Ok(ts("2026-12-04T08:00:00Z"))
    );
    assert_eq!(
        to_timestamp(&dt("2026-07-01T08:00:00"), &tz),
        Ok(ts("2026-07-01T06:00:00Z"))
    );
    assert_eq!(
        to_timestamp(&dt("2026-07-01"), &tz),
        Ok(ts("2026-06-30T22:00:00Z"))
    );
    assert!(to_timestamp(&dt("08:00:00"), &tz).is_err());
}

// ---------------------------------------------------------------- bans

fn ban_errs(bans: &str) -> Vec<ConfigError> {
    errs(&[("users.toml", USERS), ("bans.toml", bans)])
}

#[test]
fn ban_unknown_module() {
    let e =
        ban_errs("[[ban]]\nuser = \"max.muster\"\nmodules = [\"wifi\", \"vpn\"]\nreason = \"x\"\n");
    assert!(
        matches!(at(&e, "bans.toml", 3, 20), ConfigErrorKind::BadBanModule { value } if value == "vpn")
    );
}

#[test]
fn ban_target_both_or_neither() {
    let e = ban_errs(
        "[[ban]]\nuser = \"max.muster\"\nmac = \"00:00:00:00:00:01\"\nmodules = [\"all\"]\nreason = \"x\"\n\n[[ban]]\nmodules = [\"all\"]\nreason = \"x\"\n",
    );
    assert_eq!(at(&e, "bans.toml", 1, 1), ConfigErrorKind::BanTargetBoth);
    assert_eq!(at(&e, "bans.toml", 7, 1), ConfigErrorKind::BanTargetMissing);
}

#[test]
fn ban_until_not_after_from() {
    let e = ban_errs(
        "[[ban]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\nfrom = 2026-12-04T08:00:00+01:00\nuntil = 2026-12-04T07:00:00Z\nreason = \"x\"\n",
    );
    assert!(matches!(
        at(&e, "bans.toml", 5, 9),
        ConfigErrorKind::BanEndsBeforeStart { .. }
    ));
}

#[test]
fn ban_unknown_user() {
    let e = ban_errs("[[ban]]\nuser = \"nobody\"\nmodules = [\"all\"]\nreason = \"x\"\n");
    assert!(
        matches!(at(&e, "bans.toml", 2, 8), ConfigErrorKind::BanUnknownUser { user } if user == "nobody")
    );
}

#[test]
fn ban_reason_missing_or_empty() {
    let e = ban_errs(
        "[[ban]]\nuser = \"max.muster\"\nmodules = [\"all\"]\n\n[[ban]]\nuser = \"max.muster\"\nmodules = [\"all\"]\nreason = \"  \"\n",
    );
    assert_eq!(at(&e, "bans.toml", 1, 1), ConfigErrorKind::BanReasonMissing);
    assert_eq!(at(&e, "bans.toml", 8, 10), ConfigErrorKind::BanReasonEmpty);
    assert_eq!(e.len(), 2);
}

#[test]
fn bans_are_indexed_by_target() {
    let d = ok(&[
        ("users.toml", USERS),
        (
            "bans.toml",
            "[[ban]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\nuntil = 2026-12-04\nreason = \"Netiquette\"\n[[ban]]\nmac = \"3C22.FB12.3456\"\nmodules = [\"all\"]\nreason = \"rogue DHCP\"\n",
        ),
    ]);
    let b = d.bans_of_user("max.muster");
    assert_eq!(b.len(), 1);
    assert!(b[0].modules.covers(Module::Wifi) && !b[0].modules.covers(Module::Lan));
    assert_eq!(b[0].until, Some("2026-12-03T23:00:00Z".parse().unwrap()));
    let m = d.bans_of_device(&mac("3c:22:fb:12:34:56"));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].target, BanTarget::Mac(mac("3c:22:fb:12:34:56")));
}

// ---------------------------------------------------------------- users

#[test]
fn duplicate_user() {
    let e = errs(&[
        ("users.toml", USERS),
        ("users.d/7b.toml", "\n[[user]]\nname = \"lena.meyer\"\n"),
    ]);
    let k = at(&e, "users.d/7b.toml", 3, 8);
    assert!(matches!(&k, ConfigErrorKind::DuplicateUser { name, first }
        if name == "lena.meyer" && first.to_string() == "users.toml:7:8"));
}

#[test]
fn bad_user_names() {
    let e = errs(&[(
        "users.toml",
        "[[user]]\nname = \"\"\n[[user]]\nname = \"max muster\"\n[[user]]\nname = \"a\\tb\"\n[[user]]\nname = \"3c22fb123456\"\n",
    )]);
    assert_eq!(at(&e, "users.toml", 2, 8), ConfigErrorKind::EmptyUserName);
    assert!(matches!(
        at(&e, "users.toml", 4, 8),
        ConfigErrorKind::BadUserName { .. }
    ));
    assert!(matches!(
        at(&e, "users.toml", 6, 8),
        ConfigErrorKind::BadUserName { .. }
    ));
    assert!(matches!(
        at(&e, "users.toml", 8, 8),
        ConfigErrorKind::UserNameIsMac { .. }
    ));
}

#[test]
fn password_must_be_argon2() {
    let e = errs(&[(
        "users.toml",
        "[[user]]\nname = \"a\"\npassword = \"Schule2026!\"\n[[user]]\nname = \"b\"\npassword = \"$2b$12$abcdefghijklmnopqrstuv\"\n[[user]]\nname = \"c\"\npassword = \"$argon2id$v=19$m=19456,t=2,p=1$bMB3npCyEz7k4JZpb4e/SA$LUnUoi9dQF7ssVpdbdYUQHLyS43tCsII58/3KZS5HzU\"\n",
    )]);
    assert_eq!(e.len(), 2);
    assert!(
        matches!(at(&e, "users.toml", 3, 12), ConfigErrorKind::BadPasswordHash { user } if user == "a")
    );
    assert!(matches!(
        at(&e, "users.toml", 6, 12),
        ConfigErrorKind::BadPasswordHash { .. }
    ));
    // The value might be a password typed in by mistake: never echo it.
    assert!(!e[0].to_string().contains("Schule2026!"));
}

// ---------------------------------------------------------------- clients

fn client(extra: &str) -> String {
    format!("[[radius.client]]\nname = \"c\"\nmodule = \"lan\"\n{extra}")
}

#[test]
fn secret_too_short_is_not_printed() {
    let e = errs(&[(
        MAIN_FILE,
        &client("address = \"10.1.0.0/16\"\nsecret = \"short-secret\"\n"),
    )]);
    assert!(matches!(
        at(&e, MAIN_FILE, 5, 10),
        ConfigErrorKind::SecretTooShort { length: 12, .. }
    ));
    assert!(!e[0].to_string().contains("short-secret"));
}

#[test]
fn secret_both_or_neither() {
    let text = format!(
        "{}{}",
        client("address = \"10.1.0.0/16\"\nsecret = \"0123456789abcdef\"\nsecret_file = \"s\"\n"),
        client("address = \"10.2.0.0/16\"\n")
    );
    let e = errs(&[(MAIN_FILE, &text)]);
    assert!(matches!(
        at(&e, MAIN_FILE, 6, 15),
        ConfigErrorKind::SecretBoth { .. }
    ));
    assert!(matches!(
        at(&e, MAIN_FILE, 8, 8),
        ConfigErrorKind::SecretMissing { .. }
    ));
}

#[test]
fn secret_file_read_relative_and_newline_stripped() {
    let text = client("address = \"10.1.0.0/16\"\nsecret_file = \"secrets/nas\"\n");
    let d = ok(&[(MAIN_FILE, &text), ("secrets/nas", "0123456789abcdef\n")]);
    assert_eq!(d.radius.clients[0].secret.as_bytes(), b"0123456789abcdef");
    let e = errs(&[(MAIN_FILE, &text)]);
    assert!(
        matches!(at(&e, MAIN_FILE, 5, 15), ConfigErrorKind::SecretFileUnreadable { path, .. } if path == "secrets/nas")
    );
    // 15 characters plus the newline: too short.
    let e = errs(&[(MAIN_FILE, &text), ("secrets/nas", "0123456789abcde\n")]);
    assert!(matches!(
        at(&e, MAIN_FILE, 5, 15),
        ConfigErrorKind::SecretTooShort { length: 15, .. }
    ));
}

#[test]
fn same_client_network_twice() {
    let text = format!(
        "{}{}",
        client("address = \"10.1.0.0/16\"\nsecret = \"0123456789abcdef\"\n"),
        client("address = \"10.1.7.7/16\"\nsecret = \"0123456789abcdef\"\n")
    );
    let e = errs(&[(MAIN_FILE, &text)]);
    assert_eq!(e.len(), 1);
    assert!(
        matches!(at(&e, MAIN_FILE, 9, 11), ConfigErrorKind::DuplicateClientNetwork { first, .. } if first.to_string() == "hallpass.toml:4:11")
    );
}

#[test]
fn bad_cidr_and_client_module() {
    let text = format!(
        "{}{}",
        client("address = \"10.1.0.0/33\"\nsecret = \"0123456789abcdef\"\n"),
        "[[radius.client]]\nname = \"d\"\nmodule = \"wlan\"\naddress = \"10.2.0.0/16\"\nsecret = \"0123456789abcdef\"\n"
    );
    let e = errs(&[(MAIN_FILE, &text)]);
    assert!(matches!(
        at(&e, MAIN_FILE, 4, 11),
        ConfigErrorKind::BadClientAddress { .. }
    ));
    assert!(
        matches!(at(&e, MAIN_FILE, 8, 10), ConfigErrorKind::BadClientModule { value } if value == "wlan")
    );
}

#[test]
fn clients_sorted_most_specific_first_with_defaults() {
    let text = format!(
        "{}{}{}",
        client("address = \"10.0.0.0/8\"\nsecret = \"0123456789abcdef\"\n"),
        client(
            "address = \"10.1.2.3\"\nsecret = \"0123456789abcdef\"\ncoa_port = 4000\nrequire_message_authenticator = false\n"
        ),
        client("address = \"10.1.0.0/16\"\nsecret = \"0123456789abcdef\"\n"),
    );
    let d = ok(&[(MAIN_FILE, &text)]);
    let prefixes: Vec<u8> = d
        .radius
        .clients
        .iter()
        .map(|c| c.network.prefix())
        .collect();
    assert_eq!(prefixes, [32, 16, 8]);
    let c = d.client_for("10.1.2.3".parse().unwrap()).unwrap();
    assert_eq!((c.coa_port, c.require_message_authenticator), (4000, false));
    let c = d.client_for("10.9.9.9".parse().unwrap()).unwrap();
    assert_eq!(
        (c.coa_port, c.require_message_authenticator, c.module),
        (3799, true, Module::Lan)
    );
}

// ---------------------------------------------------------------- settings

#[test]
fn durations() {
    for (s, want) in [
        ("12h", 43200),
        ("7d", 604800),
        ("90m", 5400),
        ("30s", 30),
        ("1h30m", 5400),
    ] {
        assert_eq!(parse_duration_secs(s), Ok(want), "{s}");
    }
    for s in ["12", "12x", "", "-1h", "0s", "1 fortnight"] {
        assert!(parse_duration_secs(s).is_err(), "{s}");
    }
    let e = errs(&[(
        MAIN_FILE,
        &format!("{MAIN}[policy]\nsession_timeout = \"12 hours and a bit\"\n"),
    )]);
    assert!(matches!(
        at(&e, MAIN_FILE, 14, 19),
        ConfigErrorKind::BadDuration { .. }
    ));
}

#[test]
fn timezone_language_vlan_listen() {
    let text = r#"[server]
timezone = "Europe/Bärlin"
language = "fr"

[radius]
auth_listen = ["0.0.0.0:1812", "localhost"]

[policy]
unregistered_vlan = 4095

[[policy.group]]
name = "a"
vlan = 0
[[policy.group]]
name = "a"
vlan = 20
"#;
    let e = errs(&[(MAIN_FILE, text)]);
    assert!(matches!(
        at(&e, MAIN_FILE, 2, 12),
        ConfigErrorKind::UnknownTimeZone { .. }
    ));
    assert!(matches!(
        at(&e, MAIN_FILE, 3, 12),
        ConfigErrorKind::BadLanguage { .. }
    ));
    assert!(
        matches!(at(&e, MAIN_FILE, 6, 32), ConfigErrorKind::BadListenAddress { value } if value == "localhost")
    );
    assert_eq!(
        at(&e, MAIN_FILE, 9, 21),
        ConfigErrorKind::BadVlan { value: 4095 }
    );
    assert_eq!(
        at(&e, MAIN_FILE, 13, 8),
        ConfigErrorKind::BadVlan { value: 0 }
    );
    assert!(
        matches!(at(&e, MAIN_FILE, 15, 8), ConfigErrorKind::DuplicateGroup { first, .. } if first.line == 12)
    );
    assert_eq!(e.len(), 6);
}

#[test]
fn column_counts_characters_not_bytes() {
    let e = errs(&[(
        MAIN_FILE,
        "[server]\ntimezone = \"Europe/Berlin\" ; language = \"x\"\n# äöü\n\"ä\" = 1\n",
    )]);
    assert!(matches!(
        at(&e, MAIN_FILE, 2, 28),
        ConfigErrorKind::Syntax { .. }
    ));
    let e = errs(&[(MAIN_FILE, "[server] # äöü\n\"ä\" = 1\n")]);
    assert!(
        matches!(at(&e, MAIN_FILE, 2, 1), ConfigErrorKind::UnknownKey { key, .. } if key == "ä")
    );
    let e = errs(&[(
        MAIN_FILE,
        "[server]\nlanguage = \"ä\" \nstate_dir = \"\"\n[dhcp]\ninterfaces = [\"ä\", \"\"]\n",
    )]);
    assert!(matches!(
        at(&e, MAIN_FILE, 5, 20),
        ConfigErrorKind::BadInterface { .. }
    ));
}

#[test]
fn defaults() {
    let d = ok(&[]);
    assert_eq!(d.server.state_dir, PathBuf::from("/var/lib/hallpass"));
    assert_eq!(d.server.language, crate::model::Language::De);
    assert_eq!(d.server.timezone.iana_name(), Some("Europe/Berlin"));
    let addrs = |v: &[std::net::SocketAddr]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    assert_eq!(addrs(&d.radius.auth_listen), ["0.0.0.0:1812", "[::]:1812"]);
    assert_eq!(addrs(&d.radius.acct_listen), ["0.0.0.0:1813", "[::]:1813"]);
    assert_eq!(d.policy.max_devices_per_user, 5);
    assert_eq!(d.policy.session_timeout_secs, 12 * 3600);
    assert!(d.policy.unregistered_vlan.is_none());
    assert_eq!(d.privacy.retention_days, 30);
    assert!(d.dhcp.interfaces.is_empty());
    assert_eq!(
        (d.users().len(), d.devices().len(), d.user_bans.len()),
        (0, 0, 0)
    );
    assert!(d.config_dir.is_absolute());
    // No [server] timezone: the system's (or UTC); whichever, it loads.
    let d = ok(&[(MAIN_FILE, "")]);
    assert!(d.radius.clients.is_empty());
}

#[test]
fn relative_state_dir_resolves_against_the_config_dir() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    write(
        &conf,
        &[(MAIN_FILE, "[server]\nstate_dir = \"../state\"\n")],
    );
    let d = load(&conf).unwrap();
    let want = std::path::absolute(dir.path().join("state")).unwrap();
    assert_eq!(d.server.state_dir, want);
    assert!(d.server.state_dir.is_absolute());
}

// ---------------------------------------------------------------- files and TOML errors

#[test]
fn missing_main_file_is_a_whole_file_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = load(dir.path()).unwrap_err();
    assert_eq!(e.0.len(), 1);
    assert!(!e.0[0].has_position());
    assert!(
        e.to_string()
            .starts_with("hallpass.toml: cannot read this file: "),
        "{e}"
    );
}

#[test]
fn one_broken_file_does_not_hide_others() {
    let e = errs(&[
        ("users.toml", USERS),
        ("devices.toml", "[[device]\nmac = 1\n"),
        (
            "devices.d/b.toml",
            "[[device]]\nmac = \"zz\"\nowner = \"max.muster\"\n",
        ),
        (
            "bans.toml",
            "[[ban]]\nuser = \"nobody\"\nmodules = [\"all\"]\nreason = \"x\"\n",
        ),
    ]);
    assert!(matches!(
        at(&e, "devices.toml", 1, 10),
        ConfigErrorKind::Syntax { .. }
    ));
    assert!(matches!(
        at(&e, "devices.d/b.toml", 2, 7),
        ConfigErrorKind::BadMac { .. }
    ));
    assert!(matches!(
        at(&e, "bans.toml", 2, 8),
        ConfigErrorKind::BanUnknownUser { .. }
    ));
    assert_eq!(e.len(), 3);
}

#[test]
fn each_bad_entry_reported_separately() {
    let e = errs(&[
        ("users.toml", USERS),
        (
            "devices.toml",
            "[[device]]\nmac = \"00:00:00:00:00:01\"\nownr = \"max.muster\"\n\n[[device]]\nmac = 5\nowner = \"max.muster\"\n\n[[device]]\nowner = \"max.muster\"\n\n[[device]]\nmac = \"bad\"\nowner = \"max.muster\"\n\n[[devise]]\n",
        ),
    ]);
    assert!(
        matches!(at(&e, "devices.toml", 3, 1), ConfigErrorKind::UnknownKey { key, .. } if key == "ownr")
    );
    assert!(matches!(
        at(&e, "devices.toml", 6, 7),
        ConfigErrorKind::BadValue { .. }
    ));
    assert!(
        matches!(at(&e, "devices.toml", 9, 1), ConfigErrorKind::MissingKey { key } if key == "mac")
    );
    assert!(matches!(
        at(&e, "devices.toml", 13, 7),
        ConfigErrorKind::BadMac { .. }
    ));
    assert!(
        matches!(at(&e, "devices.toml", 16, 3), ConfigErrorKind::UnknownKey { key, .. } if key == "devise")
    );
    assert_eq!(e.len(), 5);
    // Display: one per line, file:line:col: message.
    let text = ConfigErrors(e).to_string();
    assert_eq!(text.lines().count(), 5);
    assert!(text.lines().all(|l| l.starts_with("devices.toml:")));
}

#[test]
fn unknown_keys_in_sections_have_positions() {
    let text = format!("{MAIN}\n[privacy]\nretention_days = 30\nkeep_forever = true\n[extra]\n");
    let e = errs(&[(MAIN_FILE, &text)]);
    assert!(
        matches!(at(&e, MAIN_FILE, 16, 1), ConfigErrorKind::UnknownKey { key, .. } if key == "keep_forever")
    );
    assert!(
        matches!(at(&e, MAIN_FILE, 17, 2), ConfigErrorKind::UnknownKey { key, .. } if key == "extra")
    );
    assert_eq!(e.len(), 2);
}

#[test]
fn broken_user_entry_does_not_cascade_to_devices() {
    let e = errs(&[
        (
            "users.toml",
            "[[user]]\nname = \"max.muster\"\nconsent = \"yes\"\n",
        ),
        (
            "devices.toml",
            "[[device]]\nmac = \"00:00:00:00:00:01\"\nowner = \"max.muster\"\n",
        ),
    ]);
    assert_eq!(e.len(), 1, "{}", ConfigErrors(e.clone()));
    assert!(matches!(
        at(&e, "users.toml", 3, 11),
        ConfigErrorKind::BadValue { .. }
    ));
}

#[test]
fn list_files_only_toml_sorted() {
    let d = ok(&[
        ("users.d/b.toml", "[[user]]\nname = \"b\"\n"),
        ("users.d/a.toml", "[[user]]\nname = \"a\"\n"),
        ("users.d/notes.txt", "not toml ["),
        ("users.d/c.toml.bak", "not toml ["),
        ("grants.d/notes.txt", "not toml ["),
    ]);
    assert_eq!(d.users().len(), 2);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (MAIN_FILE, ""),
            ("users.d/b.toml", ""),
            ("users.d/a.toml", ""),
            ("users.toml", ""),
            ("bans.d/x.toml", ""),
            ("grants.d/5a.toml", ""),
            ("grants.toml", ""),
        ],
    );
    let files = config_files(dir.path()).unwrap();
    let files: Vec<_> = files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        [
            "hallpass.toml",
            "users.toml",
            "users.d/a.toml",
            "users.d/b.toml",
            "bans.d/x.toml",
            "grants.toml",
            "grants.d/5a.toml"
        ]
    );
}

// ---------------------------------------------------------------- grants

fn grant_errs(grants: &str) -> Vec<ConfigError> {
    errs(&[("users.toml", USERS), ("grants.toml", grants)])
}

const LESSON: &str = "from = 2026-12-01T08:00:00+01:00\nuntil = 2026-12-01T08:45:00+01:00\n";

#[test]
fn grants_are_indexed_by_target() {
    let d = ok(&[
        ("users.toml", USERS),
        (
            "grants.toml",
            &format!(
                "[[grant]]\ngroup = \"students\"\nmodules = [\"wifi\"]\n{LESSON}reason = \"Informatik\"\nby = \"anna.schmidt\"\n\n[[grant]]\nuser = \"max.muster\"\nmodules = [\"all\"]\nfrom = 2026-12-02\nuntil = 2026-12-03\nreason = \"Referat\"\n"
            ),
        ),
    ]);
    let g = d.grants_of_group("students");
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].target, GrantTarget::Group("students".into()));
    assert!(g[0].modules.covers(Module::Wifi) && !g[0].modules.covers(Module::Lan));
    assert_eq!(g[0].from, "2026-12-01T07:00:00Z".parse().unwrap());
    assert_eq!(g[0].until, "2026-12-01T07:45:00Z".parse().unwrap());
    assert_eq!(g[0].by.as_deref(), Some("anna.schmidt"));
    let u = d.grants_of_user("max.muster");
    assert_eq!(u.len(), 1);
    // Dates mean midnight in the configured time zone.
    assert_eq!(u[0].from, "2026-12-01T23:00:00Z".parse().unwrap());
    assert!(u[0].modules.covers(Module::Lan));
    let max = d.user("max.muster").unwrap();
    assert_eq!(d.grants_for(max).count(), 2);
    assert!(check_summary(&d).contains("grants:     2 (1 for users, 1 for groups)"));
}

#[test]
fn grant_groups_known_from_users_or_policy() {
    // "7b" only appears in a user's groups, "teachers" only as a policy group.
    let main = format!("{MAIN}\n[[policy.group]]\nname = \"teachers\"\nvlan = 30\n");
    let users = format!("{USERS}\n[[user]]\nname = \"paul\"\ngroups = [\"7b\"]\n");
    let grants = format!(
        "[[grant]]\ngroup = \"7b\"\nmodules = [\"wifi\"]\n{LESSON}reason = \"x\"\n[[grant]]\ngroup = \"teachers\"\nmodules = [\"lan\"]\n{LESSON}reason = \"x\"\n"
    );
    let d = ok(&[
        (MAIN_FILE, &main),
        ("users.toml", &users),
        ("grants.d/7b.toml", &grants),
    ]);
    assert_eq!(d.grants_of_group("7b").len(), 1);
    assert_eq!(d.grants_of_group("teachers").len(), 1);
}

#[test]
fn grant_unknown_user_and_group() {
    let e = grant_errs(&format!(
        "[[grant]]\nuser = \"nobody\"\nmodules = [\"wifi\"]\n{LESSON}reason = \"x\"\n\n[[grant]]\ngroup = \"5z\"\nmodules = [\"wifi\"]\n{LESSON}reason = \"x\"\n"
    ));
    assert_eq!(e.len(), 2, "{}", ConfigErrors(e.clone()));
    assert!(
        matches!(at(&e, "grants.toml", 2, 8), ConfigErrorKind::GrantUnknownUser { user } if user == "nobody")
    );
    assert!(
        matches!(at(&e, "grants.toml", 9, 9), ConfigErrorKind::GrantUnknownGroup { group } if group == "5z")
    );
    assert_eq!(
        e[1].to_string(),
        "grants.toml:9:9: grant for unknown group \"5z\" (no user is in it and there is no policy group of that name)"
    );
}

#[test]
fn grant_target_both_or_neither() {
    let e = grant_errs(&format!(
        "[[grant]]\nuser = \"max.muster\"\ngroup = \"students\"\nmodules = [\"all\"]\n{LESSON}reason = \"x\"\n\n[[grant]]\nmodules = [\"all\"]\n{LESSON}reason = \"x\"\n"
    ));
    assert_eq!(e.len(), 2, "{}", ConfigErrors(e.clone()));
    assert_eq!(
        at(&e, "grants.toml", 1, 1),
        ConfigErrorKind::GrantTargetBoth
    );
    assert_eq!(
        at(&e, "grants.toml", 9, 1),
        ConfigErrorKind::GrantTargetMissing
    );
}

#[test]
fn grant_bad_or_no_modules() {
    let e = grant_errs(&format!(
        "[[grant]]\nuser = \"max.muster\"\nmodules = [\"wifi\", \"vpn\"]\n{LESSON}reason = \"x\"\n[[grant]]\nuser = \"max.muster\"\nmodules = []\n{LESSON}reason = \"x\"\n"
    ));
    assert_eq!(e.len(), 2, "{}", ConfigErrors(e.clone()));
    assert!(
        matches!(at(&e, "grants.toml", 3, 20), ConfigErrorKind::BadGrantModule { value } if value == "vpn")
    );
    assert_eq!(at(&e, "grants.toml", 9, 11), ConfigErrorKind::NoModules);
}

#[test]
fn grant_times_required_and_in_order() {
    let e = grant_errs(
        "[[grant]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\nreason = \"x\"\n\n[[grant]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\nfrom = 2026-12-01T08:45:00+01:00\nuntil = 2026-12-01T08:45:00+01:00\nreason = \"x\"\n\n[[grant]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\nfrom = 2026-12-01T09:00:00+01:00\nuntil = 2026-12-01T07:00:00Z\nreason = \"x\"\n",
    );
    assert_eq!(e.len(), 4, "{}", ConfigErrors(e.clone()));
    let missing: Vec<_> = e
        .iter()
        .filter(|x| x.line == 1 && x.column == 1)
        .map(|x| x.kind.clone())
        .collect();
    assert_eq!(
        missing,
        [
            ConfigErrorKind::GrantTimeMissing { key: "from" },
            ConfigErrorKind::GrantTimeMissing { key: "until" }
        ]
    );
    assert!(matches!(
        at(&e, "grants.toml", 10, 9),
        ConfigErrorKind::GrantEndsBeforeStart { .. }
    ));
    assert!(matches!(
        at(&e, "grants.toml", 17, 9),
        ConfigErrorKind::GrantEndsBeforeStart { .. }
    ));
}

#[test]
fn grant_reason_missing_or_empty() {
    let e = grant_errs(&format!(
        "[[grant]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\n{LESSON}\n[[grant]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\n{LESSON}reason = \"\"\n"
    ));
    assert_eq!(e.len(), 2, "{}", ConfigErrors(e.clone()));
    assert_eq!(
        at(&e, "grants.toml", 1, 1),
        ConfigErrorKind::GrantReasonMissing
    );
    assert_eq!(
        at(&e, "grants.toml", 12, 10),
        ConfigErrorKind::GrantReasonEmpty
    );
}

#[test]
fn grant_unknown_key_and_broken_users_do_not_cascade() {
    let e = grant_errs(&format!(
        "[[grant]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\n{LESSON}reason = \"x\"\nlesson = 3\n"
    ));
    assert!(matches!(
        at(&e, "grants.toml", 7, 1),
        ConfigErrorKind::UnknownKey { key, .. } if key == "lesson"
    ));
    // A user entry that cannot be read: its groups are unknown, so no group is reported.
    let e = errs(&[
        ("users.toml", "[[user]]\nname = \"paul\"\ngroups = \"5a\"\n"),
        (
            "grants.toml",
            &format!("[[grant]]\ngroup = \"5a\"\nmodules = [\"wifi\"]\n{LESSON}reason = \"x\"\n"),
        ),
    ]);
    assert_eq!(e.len(), 1, "{}", ConfigErrors(e.clone()));
    assert!(e.iter().all(|e| e.file == Path::new("users.toml")));
}

// ---------------------------------------------------------------- group access, schedule, quota

fn group_errs(group: &str) -> Vec<ConfigError> {
    let main = format!("{MAIN}\n[[policy.group]]\nname = \"guests\"\nvlan = 40\n{group}");
    errs(&[(MAIN_FILE, &main)])
}

/// Line of the first line of `group` in `group_errs`' hallpass.toml.
const GROUP_LINE: u32 = 17;

#[test]
fn group_access_schedule_and_quota() {
    let main = format!(
        "{MAIN}\n[[policy.group]]\nname = \"guests\"\nvlan = 40\naccess = \"grant\"\nschedule = [\"Mon-Fri 07:00-17:00\", \"Sat 08:00-12:00\"]\ndaily_quota = \"2GB\"\n"
    );
    let d = ok(&[(MAIN_FILE, &main)]);
    let students = &d.policy.groups[0];
    assert_eq!(students.access, Access::Always);
    assert!(students.schedule.is_none() && students.daily_quota.is_none());
    let g = &d.policy.groups[1];
    assert_eq!(g.access, Access::Grant);
    assert_eq!(g.daily_quota, Some(2_000_000_000));
    let s = g.schedule.as_deref().unwrap();
    assert_eq!(s.0.len(), 2);
    assert_eq!(
        (s.0[0].days, s.0[0].start, s.0[0].end),
        (0b1_1111, 420, 1020)
    );
    let summary = check_summary(&d);
    assert!(
        summary.contains(
            "group guests -> VLAN 40, only with a grant, schedule Mon-Fri 07:00-17:00, Sat 08:00-12:00, daily quota 2000000000 bytes"
        ),
        "{summary}"
    );
}

#[test]
fn group_bad_access() {
    let e = group_errs("access = \"sometimes\"\n");
    assert_eq!(e.len(), 1, "{}", ConfigErrors(e.clone()));
    assert!(matches!(
        at(&e, MAIN_FILE, GROUP_LINE, 10),
        ConfigErrorKind::BadAccess { value } if value == "sometimes"
    ));
}

#[test]
fn schedule_errors_point_at_each_string() {
    let e = group_errs(
        "schedule = [\"Mon-Fri 07:00-17:00\", \"Mon-Fry 07:00-08:00\",\n  \"Fri 22:00-06:00\", \"Sat 8-12\", \"Sun 10:00-10:00\"]\n",
    );
    assert_eq!(e.len(), 4, "{}", ConfigErrors(e.clone()));
    let problem = |line, col| match at(&e, MAIN_FILE, line, col) {
        ConfigErrorKind::BadSchedule { problem } => problem,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        problem(GROUP_LINE, 36),
        ModelError::BadScheduleDay { day, .. } if day == "Fry"
    ));
    assert!(matches!(
        problem(GROUP_LINE + 1, 3),
        ModelError::ScheduleAcrossMidnight { .. }
    ));
    assert!(matches!(
        problem(GROUP_LINE + 1, 22),
        ModelError::BadSchedule { value } if value == "Sat 8-12"
    ));
    assert!(matches!(
        problem(GROUP_LINE + 1, 34),
        ModelError::EmptyScheduleWindow { .. }
    ));
    let text = ConfigErrors(e).to_string();
    assert!(
        text.contains("hallpass.toml:18:3: schedule window \"Fri 22:00-06:00\" ends before it starts; a window across midnight is written as two, e.g. \"Fri 22:00-24:00\" and \"Sat 00:00-06:00\""),
        "{text}"
    );
}

#[test]
fn schedule_empty_or_not_strings() {
    let e = group_errs("schedule = []\n");
    assert_eq!(
        at(&e, MAIN_FILE, GROUP_LINE, 12),
        ConfigErrorKind::EmptySchedule
    );
    let e = group_errs("schedule = \"Mon-Fri 07:00-17:00\"\n");
    assert!(matches!(
        at(&e, MAIN_FILE, GROUP_LINE, 12),
        ConfigErrorKind::BadValue { .. }
    ));
}

#[test]
fn quota_errors() {
    let e = group_errs("daily_quota = \"2 gigs\"\n");
    assert!(matches!(
        at(&e, MAIN_FILE, GROUP_LINE, 15),
        ConfigErrorKind::BadQuota { problem: ModelError::BadDataAmount { value } } if value == "2 gigs"
    ));
    let e = group_errs("daily_quota = \"0MB\"\n");
    assert!(matches!(
        at(&e, MAIN_FILE, GROUP_LINE, 15),
        ConfigErrorKind::BadQuota {
            problem: ModelError::ZeroDataAmount { .. }
        }
    ));
    for (q, bytes) in [
        ("2gb", 2_000_000_000u64),
        ("1.5GiB", 1_610_612_736),
        ("500 kB", 500_000),
    ] {
        let main = format!(
            "{MAIN}\n[[policy.group]]\nname = \"guests\"\nvlan = 40\ndaily_quota = \"{q}\"\n"
        );
        assert_eq!(
            ok(&[(MAIN_FILE, &main)]).policy.groups[1].daily_quota,
            Some(bytes),
            "{q}"
        );
    }
}

// ---------------------------------------------------------------- shipped example

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

#[test]
fn shipped_config_is_valid() {
    let d = match load(&shipped()) {
        Ok(d) => d,
        Err(e) => panic!("shipped config has errors:\n{e}"),
    };
    assert_eq!(d.users().len(), 5);
    assert_eq!(d.devices().len(), 4);
    assert_eq!(d.user_bans.values().map(Vec::len).sum::<usize>(), 1);
    assert_eq!(d.device_bans.values().map(Vec::len).sum::<usize>(), 1);
    assert_eq!(d.grants_of_group("5a").len(), 1);
    assert!(d.user_grants.is_empty());
    // The existing groups keep their behaviour; the new one needs a grant and has a
    // schedule and a quota.
    assert!(
        d.policy.groups[..2]
            .iter()
            .all(|g| g.access == Access::Always && g.schedule.is_none() && g.daily_quota.is_none())
    );
    let u = &d.policy.groups[2];
    assert_eq!(u.name, "unterstufe");
    assert_eq!(u.access, Access::Grant);
    assert_eq!(u.schedule.as_deref().map(|s| s.0.len()), Some(1));
    assert_eq!(u.daily_quota, Some(1_000_000_000));
    assert_eq!(d.radius.clients.len(), 1);
    assert_eq!(
        d.radius.clients[0].secret.as_bytes(),
        b"hallpass-example-secret"
    );
    assert_eq!(d.policy.groups.len(), 3);
    assert_eq!(
        d.server.state_dir,
        Path::new(env!("CARGO_MANIFEST_DIR")).join("state")
    );
    assert_eq!(d.radius.auth_listen, ["127.0.0.1:11812".parse().unwrap()]);
    assert_eq!(
        d.server.metrics_listen,
        Some("127.0.0.1:9812".parse().unwrap())
    );
    assert_eq!(d.radius.acct_listen, ["127.0.0.1:11813".parse().unwrap()]);
    assert!(d.user("lena.meyer").is_some_and(|u| !u.consent));
    assert!(d.user("tom.becker").is_some_and(|u| u.disabled));
    // The teacher's example hash is for "Schule2026!".
    use argon2::PasswordVerifier;
    let hash = d
        .user("anna.schmidt")
        .unwrap()
        .password_hash
        .clone()
        .unwrap();
    let parsed = argon2::PasswordHash::new(&hash).unwrap();
    assert!(
        argon2::Argon2::default()
            .verify_password(b"Schule2026!", &parsed)
            .is_ok()
    );

    let s = check_summary(&d);
    assert!(
        s.contains("users:      5 (1 disabled, 1 without consent)"),
        "{s}"
    );
    assert!(
        s.contains("grants:     1 (0 for users, 1 for groups)"),
        "{s}"
    );
    assert!(s.contains("localhost 127.0.0.0/8 (wifi)"), "{s}");
    assert!(s.contains("127.0.0.1:11812"), "{s}");
    assert!(s.contains("retention:  30 days"), "{s}");
    assert!(!s.contains("hallpass-example-secret"), "{s}");
}

#[test]
fn every_shipped_toml_file_is_loaded() {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut on_disk = Vec::new();
    walk(&shipped(), &shipped(), &mut on_disk);
    let mut loaded = config_files(&shipped()).unwrap();
    on_disk.sort();
    loaded.sort();
    assert_eq!(on_disk, loaded);
}

// ---------------------------------------------------------------- registry

/// MAIN with the policy groups `teachers` (VLAN 30) before `students` (VLAN 20).
fn two_groups_main() -> String {
    MAIN.replace(
        "[[policy.group]]",
        "[[policy.group]]\nname = \"teachers\"\nvlan = 30\n\n[[policy.group]]",
    )
}

fn user(name: &str, groups: &[&str]) -> crate::model::User {
    crate::model::User {
        name: std::sync::Arc::from(name),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        consent: true,
        disabled: false,
        password_hash: None,
    }
}

fn device(m: &str, owner: &str, label: &str) -> crate::model::Device {
    crate::model::Device {
        mac: mac(m),
        owner: std::sync::Arc::from(owner),
        label: Some(label.to_string()),
        registered: None,
    }
}

/// What the directory says about a MAC: (label, owner's name if a known account, the
/// owner's policy group).
fn found(d: &Directory, m: &str) -> Option<(String, Option<String>, Option<String>)> {
    let (dev, owner) = d.device_and_owner(&mac(m))?;
    // The direct owner reference agrees with the name lookup.
    match owner {
        Some(a) => {
            assert!(std::sync::Arc::ptr_eq(&a.user.name, &dev.owner));
            assert!(std::ptr::eq(a.user, d.user(&dev.owner).unwrap()));
        }
        None => assert!(d.user(&dev.owner).is_none()),
    }
    assert!(std::ptr::eq(dev, d.device(&mac(m)).unwrap()));
    Some((
        dev.label.clone().unwrap_or_default(),
        owner.map(|a| a.user.name.to_string()),
        owner.and_then(|a| a.policy_group).map(|g| g.name.clone()),
    ))
}

/// The policy group resolved for the account `name`: `Some(None)` when none matches.
fn group_of(d: &Directory, name: &str) -> Option<Option<String>> {
    d.account(name)
        .map(|a| a.policy_group.map(|g| g.name.clone()))
}

#[test]
fn registry_finds_device_owner_and_policy_group() {
    let mut d = ok(&[(MAIN_FILE, &two_groups_main())]);
    let users = vec![
        user("max.muster", &["students", "7b"]),
        // in both policy groups, named the other way round: config order decides
        user("erika", &["7b", "students", "teachers"]),
        // in no policy group
        user("gast", &["7b"]),
        user("leer", &[]),
        // a repeated name: the first entry counts
        user("max.muster", &["teachers"]),
    ];
    let devices = vec![
        device("3c:22:fb:12:34:56", "max.muster", "phone"),
        device("3c:22:fb:00:00:01", "erika", "laptop"),
        device("3c:22:fb:00:00:02", "gast", "tablet"),
        device("3c:22:fb:00:00:03", "nobody", "orphan"),
        // a repeated MAC: the first entry counts
        device("3c:22:fb:12:34:56", "erika", "again"),
    ];
    d.registry = Registry::new(users, devices, &d.policy.groups);
    let s = |x: &str| Some(x.to_string());
    let cases = [
        (
            "owner in one group",
            "3c:22:fb:12:34:56",
            Some(("phone".into(), s("max.muster"), s("students"))),
        ),
        (
            "first group in config order",
            "3c:22:fb:00:00:01",
            Some(("laptop".into(), s("erika"), s("teachers"))),
        ),
        (
            "owner in no policy group",
            "3c:22:fb:00:00:02",
            Some(("tablet".into(), s("gast"), None)),
        ),
        (
            "owner is an unknown account",
            "3c:22:fb:00:00:03",
            Some(("orphan".into(), None, None)),
        ),
        ("not registered", "3c:22:fb:00:00:04", None),
    ];
    for (name, m, want) in cases {
        assert_eq!(found(&d, m), want, "{name}");
    }
    assert_eq!(group_of(&d, "max.muster"), Some(s("students")));
    assert_eq!(group_of(&d, "erika"), Some(s("teachers")));
    assert_eq!(group_of(&d, "gast"), Some(None));
    assert_eq!(group_of(&d, "leer"), Some(None));
    assert_eq!(group_of(&d, "nobody"), None);
    assert!(d.account("nobody").is_none() && d.user("nobody").is_none());
    let names: Vec<&str> = d.users().map(|u| &*u.name).collect();
    assert_eq!(names, ["max.muster", "erika", "gast", "leer"]);
    let labels: Vec<_> = d.devices().map(|x| x.label.as_deref().unwrap()).collect();
    assert_eq!(labels, ["phone", "laptop", "tablet", "orphan"]);
}

#[test]
fn a_reload_builds_fresh_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let main = two_groups_main();
    write(
        dir.path(),
        &[
            (MAIN_FILE, &main),
            (
                "users.toml",
                "[[user]]\nname = \"max.muster\"\ngroups = [\"students\"]\nconsent = true\n\n\
                 [[user]]\nname = \"lena.meyer\"\ngroups = [\"students\"]\nconsent = true\n",
            ),
            (
                "devices.toml",
                "[[device]]\nmac = \"3c:22:fb:12:34:56\"\nowner = \"max.muster\"\nlabel = \"phone\"\n\n\
                 [[device]]\nmac = \"3c:22:fb:00:00:01\"\nowner = \"lena.meyer\"\nlabel = \"laptop\"\n",
            ),
        ],
    );
    let old = load(dir.path()).unwrap();
    // max leaves, the phone goes to lena (now a teacher), the laptop is gone, erika comes.
    write(
        dir.path(),
        &[
            (
                "users.toml",
                "[[user]]\nname = \"erika\"\ngroups = [\"students\"]\nconsent = true\n\n\
                 [[user]]\nname = \"lena.meyer\"\ngroups = [\"students\", \"teachers\"]\nconsent = true\n",
            ),
            (
                "devices.toml",
                "[[device]]\nmac = \"3c:22:fb:00:00:02\"\nowner = \"erika\"\nlabel = \"tablet\"\n\n\
                 [[device]]\nmac = \"3c:22:fb:12:34:56\"\nowner = \"lena.meyer\"\nlabel = \"phone\"\n",
            ),
        ],
    );
    let new = load(dir.path()).unwrap();
    let s = |x: &str| Some(x.to_string());
    let phone = "3c:22:fb:12:34:56";
    let laptop = "3c:22:fb:00:00:01";
    let tablet = "3c:22:fb:00:00:02";
    assert_eq!(
        found(&new, phone),
        Some(("phone".into(), s("lena.meyer"), s("teachers")))
    );
    assert_eq!(found(&new, laptop), None);
    assert_eq!(
        found(&new, tablet),
        Some(("tablet".into(), s("erika"), s("students")))
    );
    assert_eq!(group_of(&new, "max.muster"), None);
    assert_eq!((new.users().len(), new.devices().len()), (2, 2));
    // The old snapshot (still serving until the swap) is untouched.
    assert_eq!(
        found(&old, phone),
        Some(("phone".into(), s("max.muster"), s("students")))
    );
    assert_eq!(
        found(&old, laptop),
        Some(("laptop".into(), s("lena.meyer"), s("students")))
    );
    assert_eq!(found(&old, tablet), None);
    assert_eq!(group_of(&old, "lena.meyer"), Some(s("students")));
}

#[test]
fn a_compacted_snapshot_keeps_its_indexes() {
    let loaded = load(&shipped()).unwrap();
    let macs: Vec<String> = loaded.devices().map(|x| x.mac.to_string()).collect();
    let names: Vec<String> = loaded.users().map(|u| u.name.to_string()).collect();
    let view = |d: &Directory| {
        let devices: Vec<_> = macs.iter().map(|m| found(d, m)).collect();
        let users: Vec<_> = names.iter().map(|n| group_of(d, n)).collect();
        (devices, users)
    };
    let before = view(&loaded);
    // every device of the shipped config has a known owner, and some owner a policy group
    assert!(
        before
            .0
            .iter()
            .all(|f| f.as_ref().is_some_and(|f| f.1.is_some()))
    );
    assert!(
        before
            .1
            .iter()
            .any(|g| g.as_ref().is_some_and(Option::is_some))
    );
    let compact = loaded.compacted();
    assert_eq!(view(&compact), before);
}

// ---------------------------------------------------------------- scale

#[test]
fn loads_100k_devices() {
    use std::fmt::Write as _;
    let n = 100_000u32;
    let users_n = n / 4;
    let mut users = String::new();
    for u in 0..users_n {
        let _ = write!(
            users,
            "[[user]]\nname = \"u{u}\"\ngroups = [\"students\"]\nconsent = true\n\n"
        );
    }
    let mut devices = String::new();
    for i in 0..n {
        let b = i.to_be_bytes();
        let _ = write!(
            devices,
            "[[device]]\nmac = \"02:00:{:02x}:{:02x}:{:02x}:{:02x}\"\nowner = \"u{}\"\nregistered = 2026-11-20\n\n",
            b[0],
            b[1],
            b[2],
            b[3],
            i % users_n
        );
    }
    let d = ok(&[("users.toml", &users), ("devices.d/all.toml", &devices)]);
    assert_eq!(d.devices().len(), n as usize);
    assert_eq!(d.users().len(), users_n as usize);
    // Owners share the user's name allocation.
    let dev = d.device(&mac("02:00:00:00:00:05")).unwrap();
    let key = &d.user("u5").unwrap().name;
    assert!(std::sync::Arc::ptr_eq(&dev.owner, key));
}

#[test]
fn errors_are_sorted_by_file_then_position() {
    let text = "[server]\nlanguage = \"fr\"\n[dhcp]\ninterfaces = [\"\"]\n";
    let e = errs(&[
        (MAIN_FILE, text),
        ("users.toml", USERS),
        (
            "devices.toml",
            "[[device]]\nmac = \"x\"\nowner = \"max.muster\"\n",
        ),
        ("users.d/z.toml", "[[user]]\nname = \"a b\"\n"),
    ]);
    let got: Vec<String> = e
        .iter()
        .map(|e| format!("{}:{}", e.file.display(), e.line))
        .collect();
    assert_eq!(
        got,
        [
            "hallpass.toml:2",
            "hallpass.toml:4",
            "users.d/z.toml:2",
            "devices.toml:2"
        ]
    );
}

#[test]
fn invalid_user_does_not_cascade_to_devices() {
    let e = errs(&[
        (
            "users.toml",
            "[[user]]\nname = \"max muster\"\npassword = \"plain\"\n",
        ),
        (
            "devices.toml",
            "[[device]]\nmac = \"00:00:00:00:00:01\"\nowner = \"max muster\"\n",
        ),
    ]);
    assert_eq!(e.len(), 2, "{}", ConfigErrors(e.clone()));
    assert!(e.iter().all(|e| e.file == Path::new("users.toml")));
}

#[test]
fn metrics_listen_is_off_by_default_and_must_be_a_socket_address() {
    assert_eq!(ok(&[]).server.metrics_listen, None);
    let text = "[server]\nmetrics_listen = \"127.0.0.1:9812\"\n";
    let d = ok(&[(MAIN_FILE, &format!("{text}{}", &MAIN[9..]))]);
    assert_eq!(
        d.server.metrics_listen,
        Some("127.0.0.1:9812".parse().unwrap())
    );
    for bad in ["localhost:9812", "127.0.0.1", "9812", ""] {
        let text = format!("[server]\nmetrics_listen = \"{bad}\"\n{}", &MAIN[9..]);
        let e = errs(&[(MAIN_FILE, &text)]);
        assert_eq!(
            at(&e, MAIN_FILE, 2, 18),
            ConfigErrorKind::BadMetricsAddress { value: bad.into() }
        );
        assert_eq!(e.len(), 1);
    }
}

#[test]
fn the_example_secret_is_refused_beyond_loopback() {
    let main = |listen: &str| {
        format!(
            "{listen}\n[[radius.client]]\nname = \"ap\"\naddress = \"10.0.0.0/24\"\n\
             secret = \"{EXAMPLE_SECRET}\"\nmodule = \"wifi\"\n\n\
             [[policy.group]]\nname = \"students\"\nvlan = 20\n"
        )
    };
    // Loopback only, as the shipped quick start: fine.
    let loopback = "[radius]\nauth_listen = [\"127.0.0.1:11812\"]\nacct_listen = [\"[::1]:11813\"]";
    ok(&[(MAIN_FILE, &main(loopback))]);
    // The defaults listen on every address; so does one non-loopback entry.
    for (listen, line) in [
        ("", 5),
        (
            "[radius]\nauth_listen = [\"127.0.0.1:1812\"]\nacct_listen = [\"10.0.0.1:1813\"]",
            7,
        ),
    ] {
        let e = errs(&[(MAIN_FILE, &main(listen))]);
        assert!(
            matches!(at(&e, MAIN_FILE, line, 10), ConfigErrorKind::ExampleSecret { client, .. } if client == "ap"),
            "{e:?}"
        );
        assert_eq!(e.len(), 1);
        let shown = e[0].to_string();
        assert!(!shown.contains(EXAMPLE_SECRET), "{shown}");
    }
    // The same secret from a secret file counts too.
    let dir = tempfile::tempdir().unwrap();
    let text = main("").replace(
        &format!("secret = \"{EXAMPLE_SECRET}\""),
        "secret_file = \"secrets/ap\"",
    );
    write(
        dir.path(),
        &[
            (MAIN_FILE, &text),
            ("secrets/ap", &format!("{EXAMPLE_SECRET}\n")),
        ],
    );
    let e = load(dir.path()).unwrap_err().0;
    assert!(matches!(
        at(&e, MAIN_FILE, 5, 15),
        ConfigErrorKind::ExampleSecret { .. }
    ));
}

/// Every entry of a snapshot, printed and sorted, so two snapshots can be compared whatever
/// their hash maps' order.
fn entries(d: &Directory) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    out.extend(d.users().map(|v| format!("user {}: {v:?}", v.name)));
    out.extend(d.devices().map(|v| format!("device {}: {v:?}", v.mac)));
    out.extend(
        d.user_bans
            .iter()
            .map(|(k, v)| format!("user ban {k}: {v:?}")),
    );
    out.extend(
        d.device_bans
            .iter()
            .map(|(k, v)| format!("device ban {k}: {v:?}")),
    );
    out.extend(
        d.user_grants
            .iter()
            .map(|(k, v)| format!("user grant {k}: {v:?}")),
    );
    out.extend(
        d.group_grants
            .iter()
            .map(|(k, v)| format!("group grant {k}: {v:?}")),
    );
    out.push(format!("{:?} {:?} {:?}", d.server, d.radius, d.policy));
    out.sort();
    out
}

#[test]
fn a_compacted_snapshot_holds_the_same_entries_in_new_memory() {
    let loaded = load(&shipped()).unwrap();
    let before = entries(&loaded);
    let (user_ptr, owner_ptr) = {
        let u = loaded.users().next().unwrap();
        let d = loaded.devices().next().unwrap();
        (u.name.as_ptr() as usize, d.owner.as_ptr() as usize)
    };
    let compact = loaded.compacted();
    assert_eq!(entries(&compact), before);
    assert!(
        compact
            .users()
            .all(|u| u.name.as_ptr() as usize != user_ptr)
    );
    assert!(
        compact
            .devices()
            .all(|d| d.owner.as_ptr() as usize != owner_ptr)
    );
    // owners, bans and grants share the user's (new) name instead of copies of it
    for d in compact.devices() {
        let key = &compact.user(&d.owner).unwrap().name;
        assert!(std::sync::Arc::ptr_eq(key, &d.owner));
    }
    for (k, bans) in &compact.user_bans {
        let key = &compact.user(k).unwrap().name;
        assert!(std::sync::Arc::ptr_eq(key, k));
        for b in bans {
            let crate::model::BanTarget::User(u) = &b.target else {
                panic!("a user ban on {:?}", b.target)
            };
            assert!(std::sync::Arc::ptr_eq(key, u));
        }
    }
}

// ---------------------------------------------------------------- large list files in parts

/// MAIN, with room for thousands of devices per user.
fn many_main() -> String {
    MAIN.replace(
        "[[policy.group]]",
        "[policy]\nmax_devices_per_user = 10000\n\n[[policy.group]]",
    )
}

/// `n` devices of max.muster, 4 lines each (header, mac, owner, blank): entry i starts on
/// line 4 i + 1.
fn many_devices(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[[device]]\nmac = \"3c:22:00:00:{:02x}:{:02x}\"\nowner = \"max.muster\"\n\n",
                i / 256,
                i % 256
            )
        })
        .collect()
}

#[test]
fn a_large_list_file_loads_in_parts_with_the_file_s_line_numbers() {
    let d = ok(&[
        (MAIN_FILE, &many_main()),
        ("users.toml", USERS),
        ("devices.toml", &many_devices(2500)),
    ]);
    assert_eq!(d.devices().len(), 2500);
    let last: MacAddr = "3c:22:00:00:09:c3".parse().unwrap();
    assert_eq!(&*d.device(&last).unwrap().owner, "max.muster");

    // errors in the second and third part point at their lines in the file
    let text = many_devices(2500)
        .replace("3c:22:00:00:04:4c", "not-a-mac") // entry 1100
        .replace(
            "mac = \"3c:22:00:00:08:98\"\nowner = \"max.muster\"", // entry 2200
            "mac = \"3c:22:00:00:08:98\"\nowner = \"nobody\"",
        );
    let e = errs(&[
        (MAIN_FILE, &many_main()),
        ("users.toml", USERS),
        ("devices.toml", &text),
    ]);
    assert!(matches!(
        at(&e, "devices.toml", 4 * 1100 + 2, 7),
        ConfigErrorKind::BadMac { .. }
    ));
    assert!(matches!(
        at(&e, "devices.toml", 4 * 2200 + 3, 9),
        ConfigErrorKind::UnknownOwner { .. }
    ));
    // a syntax error in a later part
    let broken = many_devices(2500).replace("3c:22:00:00:07:d0\"", "3c:22:00:00:07:d0"); // 2000
    let e = errs(&[
        (MAIN_FILE, &many_main()),
        ("users.toml", USERS),
        ("devices.toml", &broken),
    ]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        (e[0].file.as_path(), e[0].line),
        (Path::new("devices.toml"), 4 * 2000 + 2)
    );
    assert!(matches!(e[0].kind, ConfigErrorKind::Syntax { .. }));
}

#[test]
fn a_list_file_that_cannot_be_cut_safely_is_read_whole() {
    // A nested array starting a line and a multi-line string: both read as a whole file,
    // with the same result as a file without them.
    let nested = many_devices(1500).replacen(
        "owner = \"max.muster\"\n",
        "owner = \"max.muster\"\nlabel = \"\"\"x\n[[device]]\ny\"\"\"\n",
        1,
    );
    let d = ok(&[
        (MAIN_FILE, &many_main()),
        ("users.toml", USERS),
        ("devices.toml", &nested),
    ]);
    assert_eq!(d.devices().len(), 1500);
    let first: MacAddr = "3c:22:00:00:00:00".parse().unwrap();
    assert_eq!(
        d.device(&first).unwrap().label.as_deref(),
        Some("x\n[[device]]\ny")
    );
    // another table among the entries: whole-file TOML rules apply (an error here)
    let other = format!("{}[device.extra]\nx = 1\n", many_devices(1500));
    assert!(
        try_load(&[
            (MAIN_FILE, &many_main()),
            ("users.toml", USERS),
            ("devices.toml", &other)
        ])
        .is_err()
    );
}
