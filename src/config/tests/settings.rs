//! hallpass.toml: server settings, RADIUS clients and their secrets, policy groups.

use super::*;
use crate::config::settings::parse_duration_secs;
use crate::model::{Access, ModelError, Module};

pub(super) fn client(extra: &str) -> String {
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
fn device_expiry_is_a_duration_and_absent_means_never() {
    assert_eq!(ok(&[]).policy.device_expiry_secs, None);
    let d = ok(&[(
        MAIN_FILE,
        &format!("{MAIN}[policy]\ndevice_expiry = \"120d\"\n"),
    )]);
    assert_eq!(d.policy.device_expiry_secs, Some(120 * 86_400));
    let e = errs(&[(
        MAIN_FILE,
        &format!("{MAIN}[policy]\ndevice_expiry = \"forever\"\n"),
    )]);
    assert!(matches!(
        at(&e, MAIN_FILE, 14, 17),
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
fn the_size_guard_and_the_new_mac_rate_have_safe_defaults_and_are_checked() {
    let d = ok(&[]);
    assert_eq!(d.server.min_free_space, 256 << 20);
    assert_eq!(d.server.max_database_size, None);
    assert_eq!(d.dhcp.new_macs_per_second, 50);
    let text = format!(
        "[server]\nmin_free_space = \"1GB\"\nmax_database_size = \"2GiB\"\n{}\
         [dhcp]\nnew_macs_per_second = 5\n",
        &MAIN[9..]
    );
    let d = ok(&[(MAIN_FILE, &text)]);
    assert_eq!(d.server.min_free_space, 1_000_000_000);
    assert_eq!(d.server.max_database_size, Some(2 << 30));
    assert_eq!(d.dhcp.new_macs_per_second, 5);
    let text = format!(
        "[server]\nmin_free_space = \"lots\"\nmax_database_size = \"0B\"\n{}\
         [dhcp]\nnew_macs_per_second = 0\n",
        &MAIN[9..]
    );
    let e = errs(&[(MAIN_FILE, &text)]);
    assert!(matches!(
        at(&e, MAIN_FILE, 2, 18),
        ConfigErrorKind::BadSize {
            key: "min_free_space",
            ..
        }
    ));
    assert!(matches!(
        at(&e, MAIN_FILE, 3, 21),
        ConfigErrorKind::BadSize {
            key: "max_database_size",
            problem: ModelError::ZeroDataAmount { .. }
        }
    ));
    assert!(e.iter().any(|e| matches!(
        e.kind,
        ConfigErrorKind::TooSmall {
            key: "new_macs_per_second",
            ..
        }
    )));
    assert_eq!(e.len(), 3);
}

#[test]
fn the_failed_login_thresholds_have_safe_defaults_and_are_checked() {
    let d = ok(&[]);
    assert_eq!(d.server.failed_logins_warning, 10);
    assert_eq!(d.server.failed_logins_slowdown, 5);
    let text = format!(
        "[server]\nfailed_logins_warning = 0\nfailed_logins_slowdown = 3\n{}",
        &MAIN[9..]
    );
    let d = ok(&[(MAIN_FILE, &text)]);
    assert_eq!(d.server.failed_logins_warning, 0);
    assert_eq!(d.server.failed_logins_slowdown, 3);
    let text = format!(
        "[server]\nfailed_logins_warning = -1\nfailed_logins_slowdown = 5000000000\n{}",
        &MAIN[9..]
    );
    let e = errs(&[(MAIN_FILE, &text)]);
    assert!(matches!(
        at(&e, MAIN_FILE, 2, 25),
        ConfigErrorKind::TooSmall {
            key: "failed_logins_warning",
            min: 0,
            value: -1
        }
    ));
    assert!(matches!(
        at(&e, MAIN_FILE, 3, 26),
        ConfigErrorKind::TooLarge {
            key: "failed_logins_slowdown",
            ..
        }
    ));
    // A misspelt key is an error, not silently the default.
    let typo = format!("[server]\nfailed_login_warning = 3\n{}", &MAIN[9..]);
    assert!(!errs(&[(MAIN_FILE, &typo)]).is_empty());
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
    let text = main("").replace(
        &format!("secret = \"{EXAMPLE_SECRET}\""),
        "secret_file = \"secrets/ap\"",
    );
    let secret = format!("{EXAMPLE_SECRET}\n");
    let e = errs(&[(MAIN_FILE, &text), ("secrets/ap", &secret)]);
    assert!(matches!(
        at(&e, MAIN_FILE, 5, 15),
        ConfigErrorKind::ExampleSecret { .. }
    ));
}

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

#[test]
fn a_client_without_message_authenticator_loads_with_a_warning_at_its_key() {
    let text = format!(
        "{}{}{}",
        client("address = \"10.0.0.0/8\"\nsecret = \"0123456789abcdef\"\n"),
        client(
            "address = \"10.1.2.3\"\nsecret = \"0123456789abcdef\"\nrequire_message_authenticator = false\n"
        )
        .replace("name = \"c\"", "name = \"old-switch\""),
        client(
            "address = \"10.1.0.0/16\"\nsecret = \"0123456789abcdef\"\nrequire_message_authenticator = true\n"
        )
        .replace("name = \"c\"", "name = \"ap\""),
    );
    let d = ok(&[(MAIN_FILE, &text)]);
    assert_eq!(
        d.warnings,
        [ConfigWarning {
            file: MAIN_FILE.into(),
            line: 11,
            // the value `false`
            column: 33,
            kind: ConfigWarningKind::NoMessageAuthenticator {
                client: "old-switch".into()
            },
        }]
    );
    let shown = d.warnings[0].to_string();
    assert!(
        shown.starts_with("hallpass.toml:11:33: warning: client \"old-switch\" does not require Message-Authenticator"),
        "{shown}"
    );
    assert!(!shown.contains("0123456789abcdef"), "{shown}");
    // the setting itself still applies
    let c = d.client_for("10.1.2.3".parse().unwrap()).unwrap();
    assert!(!c.require_message_authenticator);
    // required (the default, or said so): no warning
    assert!(ok(&[(MAIN_FILE, MAIN)]).warnings.is_empty());
    // a config with errors reports errors, not warnings
    let broken = text.replace("address = \"10.1.0.0/16\"", "address = \"nonsense\"");
    assert_eq!(errs(&[(MAIN_FILE, &broken)]).len(), 1);
}
