//! What is about the files themselves: which are read, secret files, paths, large list
//! files in parts, the shipped example config.

use super::*;
use crate::model::Access;

#[test]
fn missing_main_file_is_a_whole_file_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = load(dir.path(), now()).unwrap_err();
    assert_eq!(e.0.len(), 1);
    assert!(!e.0[0].has_position());
    assert!(
        e.to_string()
            .starts_with("hallpass.toml: cannot read this file: "),
        "{e}"
    );
}

#[test]
fn list_files_only_toml_sorted() {
    let d = try_load_dir(&[
        ("users.d/b.toml", "[[user]]\nname = \"b\"\n"),
        ("users.d/a.toml", "[[user]]\nname = \"a\"\n"),
        ("users.d/notes.txt", "not toml ["),
        ("users.d/c.toml.bak", "not toml ["),
        ("grants.d/notes.txt", "not toml ["),
    ])
    .unwrap();
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

#[test]
fn relative_state_dir_resolves_against_the_config_dir() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    write(
        &conf,
        &[(MAIN_FILE, "[server]\nstate_dir = \"../state\"\n")],
    );
    let d = load(&conf, now()).unwrap();
    let want = std::path::absolute(dir.path().join("state")).unwrap();
    assert_eq!(d.server.state_dir, want);
    assert!(d.server.state_dir.is_absolute());
}

#[test]
fn secret_file_read_relative_and_newline_stripped() {
    let text =
        super::settings::client("address = \"10.1.0.0/16\"\nsecret_file = \"secrets/nas\"\n");
    let d = try_load_dir(&[(MAIN_FILE, &text), ("secrets/nas", "0123456789abcdef\n")]).unwrap();
    assert_eq!(d.radius.clients[0].secret.as_bytes(), b"0123456789abcdef");
    let e = try_load_dir(&[(MAIN_FILE, &text)]).unwrap_err().0;
    assert!(
        matches!(at(&e, MAIN_FILE, 5, 15), ConfigErrorKind::SecretFileUnreadable { path, .. } if path == "secrets/nas")
    );
    // 15 characters plus the newline: too short.
    let e = try_load_dir(&[(MAIN_FILE, &text), ("secrets/nas", "0123456789abcde\n")])
        .unwrap_err()
        .0;
    assert!(matches!(
        at(&e, MAIN_FILE, 5, 15),
        ConfigErrorKind::SecretTooShort { length: 15, .. }
    ));
}

/// hallpass.toml with one client whose secret is in `secrets/nas` (line 5, column 15).
fn secret_file_main() -> String {
    super::settings::client("address = \"10.1.0.0/16\"\nsecret_file = \"secrets/nas\"\n")
}

/// Loads a directory whose `secrets/nas` holds a good secret, after `prepare` changed it.
fn load_with_secret_file(prepare: impl FnOnce(&Path)) -> Result<Directory, ConfigErrors> {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (MAIN_FILE, &secret_file_main()),
            ("secrets/nas", "0123456789abcdef\n"),
        ],
    );
    prepare(&dir.path().join("secrets/nas"));
    load(dir.path(), now())
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_secret_file_others_can_read_or_change_is_refused_with_the_fix() {
    for mode in [0o600, 0o640, 0o400, 0o440] {
        let d = load_with_secret_file(|p| chmod(p, mode));
        assert!(d.is_ok(), "mode {mode:o}: {:?}", d.err());
    }
    for mode in [0o644, 0o604, 0o660, 0o602, 0o666] {
        let e = load_with_secret_file(|p| chmod(p, mode)).unwrap_err();
        let kind = at(&e.0, MAIN_FILE, 5, 15);
        assert!(
            matches!(&kind, ConfigErrorKind::SecretFileMode { mode: m, path, .. } if *m == mode && path == "secrets/nas"),
            "mode {mode:o}: {kind:?}"
        );
        let text = e.to_string();
        assert!(text.contains(&format!("mode {mode:04o}")), "{text}");
        assert!(text.contains("run `chmod 0640 /"), "{text}");
        assert!(text.contains("/secrets/nas`"), "{text}");
        assert!(!text.contains("0123456789abcdef"), "{text}");
    }
}

#[test]
fn a_secret_file_of_another_account_is_refused() {
    use std::os::unix::fs::MetadataExt as _;
    if crate::accounts::effective_uid() != 0 {
        // only root can give a file away; the suite runs as root (scripts/test.sh)
        eprintln!("skipped: needs root to chown");
        return;
    }
    let nobody = crate::accounts::uid_of("nobody").unwrap_or(65534);
    let e = load_with_secret_file(|p| {
        std::os::unix::fs::chown(p, Some(nobody), None).unwrap();
        assert_eq!(std::fs::metadata(p).unwrap().uid(), nobody);
    })
    .unwrap_err();
    let kind = at(&e.0, MAIN_FILE, 5, 15);
    assert!(
        matches!(&kind, ConfigErrorKind::SecretFileOwner { uid, .. } if *uid == nobody),
        "{kind:?}"
    );
    assert!(e.to_string().contains("run `chown root:hallpass /"), "{e}");
    // root's own file is fine
    assert!(load_with_secret_file(|p| std::os::unix::fs::chown(p, Some(0), None).unwrap()).is_ok());
}

#[test]
fn a_large_secret_file_or_one_that_is_not_a_file_is_refused() {
    let big = "x".repeat(crate::config::SECRET_FILE_MAX + 1);
    let e = load_with_secret_file(|p| std::fs::write(p, &big).unwrap()).unwrap_err();
    assert!(matches!(
        at(&e.0, MAIN_FILE, 5, 15),
        ConfigErrorKind::SecretFileTooLarge { max: 4096, .. }
    ));
    // exactly the maximum is read (and is a long secret)
    let most = "x".repeat(crate::config::SECRET_FILE_MAX);
    assert!(load_with_secret_file(|p| std::fs::write(p, &most).unwrap()).is_ok());
    // the same cap for text in memory
    let e = errs(&[(MAIN_FILE, &secret_file_main()), ("secrets/nas", &big)]);
    assert!(matches!(
        at(&e, MAIN_FILE, 5, 15),
        ConfigErrorKind::SecretFileTooLarge { .. }
    ));
    // a directory (or a FIFO, /dev/zero) is not read
    let e = load_with_secret_file(|p| {
        std::fs::remove_file(p).unwrap();
        std::fs::create_dir(p).unwrap();
    })
    .unwrap_err();
    assert!(matches!(
        at(&e.0, MAIN_FILE, 5, 15),
        ConfigErrorKind::SecretFileUnreadable { .. }
    ));
    let text = secret_file_main().replace("secrets/nas", "/dev/zero");
    let e = try_load_dir(&[(MAIN_FILE, &text)]).unwrap_err();
    assert!(
        matches!(at(&e.0, MAIN_FILE, 5, 15), ConfigErrorKind::SecretFileUnreadable { detail, .. } if detail == "not a regular file"),
        "{e}"
    );
}

#[test]
fn shipped_config_is_valid() {
    let d = match load(&shipped(), now()) {
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

#[test]
fn text_in_memory_validates_as_the_files_do() {
    let dir = shipped();
    let files: Vec<(PathBuf, String)> = config_files(&dir)
        .unwrap()
        .into_iter()
        .map(|rel| {
            let text = std::fs::read_to_string(dir.join(&rel)).unwrap();
            (rel, text)
        })
        .rev() // reading order is restored, whatever order the text comes in
        .collect();
    let sources = Sources::from_memory(&dir, files);
    let from_memory = validate(&sources, &|p: &str| std::fs::read(dir.join(p)), now()).unwrap();
    let from_files = load(&dir, now()).unwrap();
    assert_eq!(
        super::registry::entries(&from_memory),
        super::registry::entries(&from_files)
    );
    assert_eq!(check_summary(&from_memory), check_summary(&from_files));
}

#[test]
fn text_without_hallpass_toml_is_refused() {
    let sources = Sources::from_memory(Path::new(DIR), [("users.toml", USERS)]);
    let no_files =
        |_: &str| -> std::io::Result<Vec<u8>> { Err(std::io::ErrorKind::NotFound.into()) };
    let e = validate(&sources, &no_files, now()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "hallpass.toml: cannot read this file: no such file among the config files"
    );
}
