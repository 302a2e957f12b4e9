//! `[[ban]]` entries: target, modules, time window, reason.

use super::*;
use crate::model::{BanTarget, Module};

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
