//! The snapshot's indexes: devices, owners and policy groups found with one probe; a
//! reload and a compacted snapshot.

use super::*;

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
        nt_hash: None,
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
    let old = load(dir.path(), now()).unwrap();
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
    let new = load(dir.path(), now()).unwrap();
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
    let loaded = load(&shipped(), now()).unwrap();
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

/// Every entry of a snapshot, printed and sorted, so two snapshots can be compared whatever
/// their hash maps' order.
pub(super) fn entries(d: &Directory) -> Vec<String> {
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
    let loaded = load(&shipped(), now()).unwrap();
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
