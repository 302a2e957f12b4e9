//! A config edit validates the changed files in a mirror of the config directory. The
//! mirror holds new password hashes and ban reasons: watched from outside while the command
//! runs, nothing it creates may be readable by other accounts, and nothing of it may be
//! left afterwards, also when the validation fails.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::harness::{TestConfig, school};

/// Enough records that loading the config takes a while, so the watcher sees the mirror.
const BULK: usize = 20_000;

/// Every path under `dir` (not under `skip`) with its mode, symlinks left out (their mode
/// means nothing; what they point to keeps its own).
fn modes(dir: &Path, skip: &Path, out: &mut BTreeMap<PathBuf, u32>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.starts_with(skip) {
            continue;
        }
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.file_type().is_symlink() {
            continue;
        }
        out.insert(p.clone(), m.permissions().mode() & 0o7777);
        if m.is_dir() {
            modes(&p, skip, out);
        }
    }
}

/// Runs `hallpass ARGS --config DIR` with its own TMPDIR while watching the config
/// directory and that TMPDIR: every new path seen during the run, with its mode.
fn run_watched(cfg: &TestConfig, tmpdir: &Path, args: &[&str]) -> (Output, BTreeMap<PathBuf, u32>) {
    let state = cfg.path().join("state");
    let scan = || {
        let mut m = BTreeMap::new();
        modes(cfg.path(), &state, &mut m);
        modes(tmpdir, &state, &mut m);
        m
    };
    let before = scan();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut seen = BTreeMap::new();
            while !done.load(Ordering::Relaxed) {
                for (p, mode) in scan() {
                    if !before.contains_key(&p) {
                        seen.insert(p, mode);
                    }
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            seen
        });
        let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
            .args(args)
            .arg("--config")
            .arg(cfg.path())
            .env("SUDO_USER", "admin.test")
            .env("TMPDIR", tmpdir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        done.store(true, Ordering::Relaxed);
        (out, watcher.join().unwrap())
    })
}

/// What is left of mirrors after a command: entries of TMPDIR, and mirrors in the config
/// directory.
fn leftovers(cfg: &TestConfig, tmpdir: &Path) -> Vec<PathBuf> {
    let mut left: Vec<PathBuf> = std::fs::read_dir(tmpdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    left.extend(
        std::fs::read_dir(cfg.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("hallpass-check")),
    );
    left
}

#[test]
fn an_edit_exposes_nothing_to_other_accounts_and_leaves_nothing_behind() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let mut users = String::new();
    let mut devices = String::new();
    for i in 0..BULK {
        users.push_str(&format!(
            "[[user]]\nname = \"bulk.{i}\"\ngroups = [\"students\"]\nconsent = true\n\n"
        ));
        devices.push_str(&format!(
            "[[device]]\nmac = \"02:00:{:02x}:{:02x}:{:02x}:01\"\nowner = \"bulk.{i}\"\n\n",
            i >> 16,
            (i >> 8) & 0xff,
            i & 0xff
        ));
    }
    cfg.write("users.d/bulk.toml", &users);
    cfg.write("devices.d/bulk.toml", &devices);
    // As a deployment has it: the config readable by root and the daemon's group only.
    let mut config_files = BTreeMap::new();
    modes(cfg.path(), &cfg.path().join("state"), &mut config_files);
    for (p, _) in config_files {
        let mode = if p.is_dir() { 0o750 } else { 0o640 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::set_permissions(cfg.path(), std::fs::Permissions::from_mode(0o750)).unwrap();
    let tmpdir = tempfile::tempdir().unwrap();

    for (args, succeeds) in [
        (
            &[
                "device",
                "add",
                "02:00:00:00:00:09",
                "--owner",
                "max.muster",
            ][..],
            true,
        ),
        // refused by the validation: an unknown owner
        (
            &["device", "add", "02:00:00:00:00:0a", "--owner", "nobody"][..],
            false,
        ),
    ] {
        let (out, seen) = run_watched(&cfg, tmpdir.path(), args);
        assert_eq!(
            out.status.success(),
            succeeds,
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mirrors: Vec<_> = seen
            .keys()
            .filter(|p| p.to_string_lossy().contains("hallpass-check"))
            .collect();
        eprintln!(
            "{args:?}: {} new paths seen during the run, {} of them in mirrors",
            seen.len(),
            mirrors.len()
        );
        assert!(
            !mirrors.is_empty(),
            "the validation mirror was never seen; nothing was checked: {seen:?}"
        );
        // Other accounts may read nothing new; the mirror not even the daemon's group. (The
        // lock file holds only the name of the admin who edits.)
        let exposed: Vec<String> = seen
            .iter()
            .filter(|(p, _)| !p.ends_with(".hallpass.lock"))
            .filter(|(p, m)| {
                *m & 0o007 != 0
                    || (p.to_string_lossy().contains("hallpass-check") && *m & 0o077 != 0)
            })
            .map(|(p, m)| format!("{} {m:o}", p.display()))
            .collect();
        assert!(
            exposed.is_empty(),
            "{args:?}: exposed during the edit: {exposed:#?}"
        );
        let left = leftovers(&cfg, tmpdir.path());
        assert!(left.is_empty(), "{args:?}: left behind: {left:?}");
    }
}
