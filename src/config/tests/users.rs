//! `[[user]]` entries: names, passwords, and broken entries that must not cascade.

use super::*;

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
