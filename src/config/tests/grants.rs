//! `[[grant]]` entries: target (user or group), modules, the required time window, reason.

use super::*;
use crate::model::{GrantTarget, Module};

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
