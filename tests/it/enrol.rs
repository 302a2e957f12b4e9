//! Devices over a school year, with eapol_test logging in to the daemon: a first 802.1X
//! login from a new MAC enrols it (`device list` shows it), the account's limit refuses the
//! next one (`too_many_devices`), `device remove` frees the slot; another account cannot
//! use an enrolled device; `device replace` keeps the owner and the file's comments; expiry
//! seen with `hallpass why --at` in the future, `device list --stale` and `device prune`,
//! and a login that renews an expired enrolment; `user erase` leaves no byte of the
//! enrolments and last-accepted times in the state directory.

use std::time::Duration;

use crate::eap::{
    MAX_PHONE, PASSWORD, Peer, eap_config_with, eapol_test, logged_reason, login, tail,
};
use crate::harness::{Daemon, TestConfig};
use crate::privacy::{files_holding, hallpass, ok, state_files};

const NEW_PHONE: &str = "da:a1:19:00:00:21";
const SECOND_PHONE: &str = "da:a1:19:00:00:22";
const THIRD_PHONE: &str = "da:a1:19:00:00:23";

/// `[eap] unregistered_devices = "enrol"`, at most two devices per account (max.muster has
/// MAX_PHONE in devices.toml), `policy_extra` added to `[policy]`.
fn enrol_config(policy_extra: &str) -> TestConfig {
    let cfg = eap_config_with("enrol", policy_extra);
    let main = std::fs::read_to_string(cfg.path().join("hallpass.toml")).unwrap();
    assert!(main.contains("max_devices_per_user = 5"));
    cfg.write(
        "hallpass.toml",
        &main.replace("max_devices_per_user = 5", "max_devices_per_user = 2"),
    );
    cfg
}

/// One PEAP login; the reason the daemon logged for it.
fn peap(bin: &str, d: &mut Daemon, cfg: &TestConfig, user: &str, mac: &str) -> (bool, String) {
    let skip = d.log_len();
    let r = login(&Peer { bin, d, cfg }, "peap", user, PASSWORD, mac, 19);
    let reason = logged_reason(d, skip);
    (r.success, format!("{reason}\n{}", tail(&r)))
}

fn reason_of(login: &(bool, String)) -> &str {
    login.1.lines().next().unwrap_or("")
}

/// Runs a CLI command that changes devices and waits for the daemon's reload it asks for.
fn edit_and_reload(cfg: &TestConfig, d: &mut Daemon, args: &[&str]) -> String {
    let skip = d.log_len();
    let out = ok(&hallpass(cfg, "admin.test", args));
    assert!(out.contains("asked the running daemon"), "{out}");
    d.wait_for_log("config reloaded", skip, Duration::from_secs(10));
    out
}

#[test]
fn a_first_login_enrols_up_to_the_limit_and_removing_frees_a_slot() {
    let Some(bin) = eapol_test() else { return };
    let cfg = enrol_config("");
    let mut d = Daemon::start(&cfg);

    let first = peap(bin, &mut d, &cfg, "max.muster", NEW_PHONE);
    assert!(first.0, "{}", first.1);
    assert_eq!(reason_of(&first), "enrolled", "{}", first.1);
    let list = ok(&hallpass(&cfg, "admin.test", &["device", "list"]));
    let line = list.lines().find(|l| l.contains(NEW_PHONE)).unwrap_or("");
    assert!(
        line.contains("max.muster") && line.contains("(peap)"),
        "{list}"
    );
    assert!(line.contains("enrolled 20"), "{list}");
    let file_line = list.lines().find(|l| l.contains(MAX_PHONE)).unwrap_or("");
    assert!(file_line.contains("devices.toml:1"), "{list}");

    // the same device again: accepted, nothing new enrolled
    let again = peap(bin, &mut d, &cfg, "max.muster", NEW_PHONE);
    assert!(again.0 && reason_of(&again) == "accepted", "{}", again.1);
    // a third device: the phone in the file and the enrolled one are the two allowed
    let third = peap(bin, &mut d, &cfg, "max.muster", SECOND_PHONE);
    assert!(!third.0, "{}", third.1);
    assert_eq!(reason_of(&third), "too_many_devices", "{}", third.1);
    // an enrolled device is its owner's
    let other = peap(bin, &mut d, &cfg, "lena.meyer", NEW_PHONE);
    assert!(!other.0, "{}", other.1);
    assert_eq!(reason_of(&other), "device_of_other_user", "{}", other.1);

    // removing the enrolment frees the slot
    let out = edit_and_reload(&cfg, &mut d, &["device", "remove", NEW_PHONE]);
    assert!(out.contains("removed the enrolment"), "{out}");
    let now = peap(bin, &mut d, &cfg, "max.muster", SECOND_PHONE);
    assert!(now.0, "{}", now.1);
    assert_eq!(reason_of(&now), "enrolled", "{}", now.1);

    // a new phone for an enrolled one: replaced, owner kept, and it logs in at once
    let out = edit_and_reload(
        &cfg,
        &mut d,
        &["device", "replace", SECOND_PHONE, THIRD_PHONE],
    );
    assert!(out.contains("max.muster"), "{out}");
    let list = ok(&hallpass(
        &cfg,
        "admin.test",
        &["device", "list", "--owner", "max.muster"],
    ));
    assert!(
        list.contains(THIRD_PHONE) && !list.contains(SECOND_PHONE),
        "{list}"
    );
    let replaced = peap(bin, &mut d, &cfg, "max.muster", THIRD_PHONE);
    assert!(
        replaced.0 && reason_of(&replaced) == "accepted",
        "{}",
        replaced.1
    );
    assert!(d.stop().success());
}

#[test]
fn device_replace_keeps_the_owner_the_label_and_the_file_s_comments() {
    let cfg = enrol_config("");
    cfg.write(
        "devices.toml",
        &format!(
            "# Klasse 7b, Stand September\n\n[[device]]\n# Max' Handy, getauscht im Dezember\nmac = \"{MAX_PHONE}\" # alte Adresse\nowner = \"max.muster\"\nlabel = \"iPhone\"\n\n[[device]]\nmac = \"3c:22:fb:00:00:04\"\nowner = \"wifi.gesperrt\"\n"
        ),
    );
    let out = ok(&hallpass(
        &cfg,
        "admin.test",
        &[
            "device",
            "replace",
            MAX_PHONE,
            "3C-22-FB-AA-BB-CC",
            "--no-reload",
        ],
    ));
    assert!(out.contains("replaced"), "{out}");
    let text = std::fs::read_to_string(cfg.path().join("devices.toml")).unwrap();
    assert_eq!(
        text,
        "# Klasse 7b, Stand September\n\n[[device]]\n# Max' Handy, getauscht im Dezember\nmac = \"3c:22:fb:aa:bb:cc\" # alte Adresse\nowner = \"max.muster\"\nlabel = \"iPhone\"\n\n[[device]]\nmac = \"3c:22:fb:00:00:04\"\nowner = \"wifi.gesperrt\"\n"
    );
    let list = ok(&hallpass(&cfg, "admin.test", &["device", "list", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    let moved = v
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["mac"] == "3c:22:fb:aa:bb:cc")
        .unwrap();
    assert_eq!(moved["owner"], "max.muster");
    assert_eq!(moved["label"], "iPhone");
    assert_eq!(moved["source"], "devices.toml:3");
    // a MAC registered already is refused, and nothing is written
    let o = hallpass(
        &cfg,
        "admin.test",
        &[
            "device",
            "replace",
            "3c:22:fb:aa:bb:cc",
            "3c:22:fb:00:00:04",
            "--no-reload",
        ],
    );
    assert!(!o.status.success());
    assert_eq!(
        std::fs::read_to_string(cfg.path().join("devices.toml")).unwrap(),
        text
    );
}

/// A time `days` from now, as `--at` takes it.
fn in_days(days: i64) -> String {
    let t = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(days * 24))
        .unwrap();
    t.to_string()
}

/// Moves every last-accepted time, enrolment and the start of tracking `days` back.
fn age_devices(cfg: &TestConfig, days: i64) {
    let conn = rusqlite::Connection::open(cfg.db_path()).unwrap();
    let ms = days * 86_400_000;
    conn.execute_batch(&format!(
        "UPDATE last_accepted SET time = time - {ms};
         UPDATE enrolments SET enrolled = enrolled - {ms};
         UPDATE device_tracking SET since = since - {ms};"
    ))
    .unwrap();
}

#[test]
fn devices_expire_a_login_renews_an_enrolment_and_prune_removes_the_rest() {
    let Some(bin) = eapol_test() else { return };
    let cfg = enrol_config("device_expiry = \"120d\"");
    let mut d = Daemon::start(&cfg);
    let enrolled = peap(bin, &mut d, &cfg, "max.muster", NEW_PHONE);
    assert_eq!(reason_of(&enrolled), "enrolled", "{}", enrolled.1);
    let file = peap(bin, &mut d, &cfg, "max.muster", MAX_PHONE);
    assert_eq!(reason_of(&file), "accepted", "{}", file.1);
    assert!(d.stop().success());

    let why = |args: &[&str]| {
        ok(&hallpass(
            &cfg,
            "admin.test",
            &[&["why"][..], args].concat(),
        ))
    };
    // 100 days on: still in; 121 days on: expired (MAB and EAP alike)
    let soon = in_days(100);
    let out = why(&["--mac", MAX_PHONE, "--user", "max.muster", "--at", &soon]);
    assert!(out.contains("=> accept (accepted)"), "{out}");
    let later = in_days(121);
    let out = why(&["--mac", MAX_PHONE, "--user", "max.muster", "--at", &later]);
    assert!(out.contains("=> reject (device_expired)"), "{out}");
    assert!(out.contains("FAIL expiry"), "{out}");
    let out = why(&["--mac", MAX_PHONE, "--at", &later]);
    assert!(out.contains("=> reject (device_expired)"), "{out}");
    // an expired enrolment is renewed by the next login of its owner
    let out = why(&["--mac", NEW_PHONE, "--user", "max.muster", "--at", &later]);
    assert!(out.contains("=> accept (enrolled)"), "{out}");
    assert!(out.contains("has expired"), "{out}");

    // 130 days pass: both are stale
    age_devices(&cfg, 130);
    // when devices were last accepted says when their owners were at school: a reason first
    let refused = hallpass(&cfg, "admin.test", &["device", "list", "--stale"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--reason"),
        "{refused:?}"
    );
    let plain = ok(&hallpass(&cfg, "admin.test", &["device", "list"]));
    assert!(
        !plain.contains("EXPIRED") && !plain.contains("never"),
        "{plain}"
    );
    let stale = ok(&hallpass(
        &cfg,
        "admin.test",
        &["device", "list", "--stale", "--reason", "Schuljahresende"],
    ));
    for mac in [MAX_PHONE, NEW_PHONE] {
        let line = stale.lines().find(|l| l.contains(mac)).unwrap_or("");
        assert!(line.contains("EXPIRED"), "{mac}:\n{stale}");
    }
    let mut d = Daemon::start(&cfg);
    let file = peap(bin, &mut d, &cfg, "max.muster", MAX_PHONE);
    assert!(!file.0, "{}", file.1);
    assert_eq!(reason_of(&file), "device_expired", "{}", file.1);
    let renewed = peap(bin, &mut d, &cfg, "max.muster", NEW_PHONE);
    assert!(renewed.0, "{}", renewed.1);
    assert_eq!(reason_of(&renewed), "enrolled", "{}", renewed.1);
    assert!(d.stop().success());

    // prune: the expired file registration goes, the renewed enrolment stays
    let out = ok(&hallpass(
        &cfg,
        "admin.test",
        &["device", "prune", "--stale", "--reason", "Schuljahresende"],
    ));
    assert!(out.contains(MAX_PHONE) && !out.contains(NEW_PHONE), "{out}");
    let devices = std::fs::read_to_string(cfg.path().join("devices.toml")).unwrap();
    assert!(!devices.contains(MAX_PHONE), "{devices}");
    let list = ok(&hallpass(&cfg, "admin.test", &["device", "list"]));
    assert!(
        list.contains(NEW_PHONE) && !list.contains(MAX_PHONE),
        "{list}"
    );
}

#[test]
fn user_erase_leaves_no_byte_of_enrolments_and_last_accepted_times() {
    let Some(bin) = eapol_test() else { return };
    let cfg = enrol_config("");
    let mut d = Daemon::start(&cfg);
    let enrolled = peap(bin, &mut d, &cfg, "max.muster", NEW_PHONE);
    assert_eq!(reason_of(&enrolled), "enrolled", "{}", enrolled.1);
    let lena = peap(bin, &mut d, &cfg, "lena.meyer", SECOND_PHONE);
    assert_eq!(reason_of(&lena), "enrolled", "{}", lena.1);
    let file = peap(bin, &mut d, &cfg, "max.muster", MAX_PHONE);
    assert_eq!(reason_of(&file), "accepted", "{}", file.1);
    assert!(d.stop().success());

    let show = ok(&hallpass(
        &cfg,
        "admin.test",
        &["user", "show", "max.muster"],
    ));
    assert!(
        show.contains(NEW_PHONE) && !show.contains("last accepted 20"),
        "without a reason, no last-accepted time:\n{show}"
    );
    let show = ok(&hallpass(
        &cfg,
        "admin.test",
        &["user", "show", "max.muster", "--reason", "Auskunft"],
    ));
    assert!(
        show.contains(NEW_PHONE) && show.contains("last accepted 20"),
        "{show}"
    );
    let export = ok(&hallpass(
        &cfg,
        "admin.test",
        &["user", "export", "max.muster", "--reason", "Auskunft"],
    ));
    let v: serde_json::Value = serde_json::from_str(&export).unwrap();
    assert_eq!(v["enrolments"][0]["mac"], NEW_PHONE, "{export}");
    assert_eq!(v["enrolments"][0]["method"], "peap", "{export}");
    assert_eq!(v["last_accepted"].as_array().unwrap().len(), 2, "{export}");

    let before = state_files(&cfg);
    for n in [NEW_PHONE, MAX_PHONE, SECOND_PHONE] {
        assert!(
            !files_holding(&before, n).is_empty(),
            "{n} was never written"
        );
    }
    let out = ok(&hallpass(
        &cfg,
        "admin.test",
        &["user", "erase", "max.muster", "--reason", "Abgang 2027"],
    ));
    assert!(out.contains("enrolments 1, last-accepted times 2"), "{out}");
    let after = state_files(&cfg);
    for n in [NEW_PHONE, MAX_PHONE] {
        let left = files_holding(&after, n);
        assert!(left.is_empty(), "{n} is still in {left:?}");
    }
    // lena's enrolment stays
    assert!(!files_holding(&after, SECOND_PHONE).is_empty());
    let conn = rusqlite::Connection::open(cfg.db_path()).unwrap();
    let (enrolments, accepted): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM enrolments), (SELECT count(*) FROM last_accepted)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((enrolments, accepted), (1, 1));
}
