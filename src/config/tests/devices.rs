//! `[[device]]` entries: MACs, owners, the per-user limit, dates.

use super::*;
use crate::config::lists::to_timestamp;

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
