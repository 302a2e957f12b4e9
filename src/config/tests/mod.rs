//! Tests of reading and validating config: each check with file, line and column. Most run
//! on config text in memory (`Sources::from_memory`); `files` has those about the files
//! themselves (discovery, secret files, the shipped example).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bans;
mod devices;
mod eap;
mod files;
mod grants;
mod registry;
mod settings;
mod syntax;
mod users;

use std::path::{Path, PathBuf};

use super::*;
use crate::model::MacAddr;

const MAIN: &str = r#"[server]
timezone = "Europe/Berlin"

[[radius.client]]
name = "ap"
address = "10.0.0.0/24"
secret = "0123456789abcdef"
module = "wifi"

[[policy.group]]
name = "students"
vlan = 20
"#;

const USERS: &str = r#"[[user]]
name = "max.muster"
groups = ["students"]
consent = true

[[user]]
name = "lena.meyer"
groups = ["students"]
consent = true
"#;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        // as the package leaves them: the owner writes, group hallpass reads (secret files
        // readable by others are refused)
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
}

/// The moment the tests load their config at (certificates are made valid around it).
fn now() -> jiff::Timestamp {
    "2026-12-03T08:00:00Z".parse().unwrap()
}

/// The config directory that text in memory is said to be in.
const DIR: &str = "/etc/hallpass";

/// Validates `files` (hallpass.toml defaults to MAIN) as config text in memory. The other
/// files given (say `secrets/nas`) are what the clients' secret files hold.
fn try_load(files: &[(&str, &str)]) -> Result<Directory, ConfigErrors> {
    let mut all = files.to_vec();
    if !files.iter().any(|(n, _)| *n == MAIN_FILE) {
        all.insert(0, (MAIN_FILE, MAIN));
    }
    let sources = Sources::from_memory(Path::new(DIR), all);
    let secret_file = |path: &str| -> std::io::Result<Vec<u8>> {
        match files.iter().find(|(n, _)| *n == path) {
            Some((_, text)) => Ok(text.as_bytes().to_vec()),
            None => Err(std::io::ErrorKind::NotFound.into()),
        }
    };
    validate(&sources, &secret_file, now())
}

/// Loads `files` (hallpass.toml defaults to MAIN) from a fresh directory.
fn try_load_dir(files: &[(&str, &str)]) -> Result<Directory, ConfigErrors> {
    let dir = tempfile::tempdir().unwrap();
    if !files.iter().any(|(n, _)| *n == MAIN_FILE) {
        write(dir.path(), &[(MAIN_FILE, MAIN)]);
    }
    write(dir.path(), files);
    load(dir.path(), now())
}

fn ok(files: &[(&str, &str)]) -> Directory {
    match try_load(files) {
        Ok(d) => d,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

fn errs(files: &[(&str, &str)]) -> Vec<ConfigError> {
    match try_load(files) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.0,
    }
}

/// The kind of the single error at file:line:col.
fn at(errors: &[ConfigError], file: &str, line: u32, column: u32) -> ConfigErrorKind {
    let found: Vec<_> = errors
        .iter()
        .filter(|e| e.file == Path::new(file) && e.line == line && e.column == column)
        .collect();
    match found.as_slice() {
        [e] => e.kind.clone(),
        _ => panic!(
            "expected one error at {file}:{line}:{column}, got:\n{}",
            ConfigErrors(errors.to_vec())
        ),
    }
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}
