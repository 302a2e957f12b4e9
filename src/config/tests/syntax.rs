//! TOML errors and how problems are reported: positions, one per bad entry, file order.

use super::*;

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
