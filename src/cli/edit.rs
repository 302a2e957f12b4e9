//! Editing the config files in place, safely: under a lock, validated as a whole directory
//! before anything is written, written atomically, then the daemon asked to reload (through
//! `control`: its pid file and SIGHUP).
//!
//! An edit collects the new texts of the files it changes in memory. `commit` mirrors the
//! config directory into a private temporary directory inside it (mode 0700: symlinks to
//! every untouched file, the new texts as files of mode 0600), runs `config::load` on it, and only if that passes replaces each
//! changed file (temp file in the same directory, fsync, rename, fsync of the directory).
//! Untouched bytes of a file stay as they were: entries are appended as text, and removals
//! go through toml_edit, which keeps comments and layout.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table};

use crate::config::{self, ConfigErrors, Directory};

/// The lock file in the config directory; held exclusively while an edit runs.
pub const LOCK_FILE: &str = ".hallpass.lock";
/// How long to wait for another admin's edit to finish.
const LOCK_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "another admin is editing the config right now ({holder}); waited {waited_s} s, nothing changed: try again"
    )]
    Locked { holder: String, waited_s: u64 },
    #[error("the change was refused, nothing was written; it would make the config invalid:\n{0}")]
    Invalid(ConfigErrors),
    #[error("{file}: not a TOML file hallpass can edit: {detail}")]
    Parse { file: PathBuf, detail: String },
    #[error("the file {0} must be a relative path inside the config directory ending in .toml")]
    BadFile(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EditError + '_ {
    move |source| EditError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The exclusive lock on the config directory; released when dropped (the file stays).
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the lock, waiting up to a few seconds for another holder to finish.
    pub fn acquire(dir: &Path, who: &str) -> Result<Lock, EditError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(EditError::Locked {
                        holder: if holder.is_empty() {
                            "unknown holder".into()
                        } else {
                            holder.to_string()
                        },
                        waited_s: LOCK_WAIT.as_secs(),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(&path)(e)),
            }
        }
        // Who holds it, for the message another admin gets.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{who}, pid {}", std::process::id());
        Ok(Lock { _file: file })
    }
}

/// One list file the edit read or changed.
struct FileState {
    /// `None`: the file does not exist yet.
    original: Option<String>,
    new: Option<String>,
}

/// An edit of a config directory, held in memory until `commit`.
pub struct Edit {
    pub dir: PathBuf,
    files: BTreeMap<PathBuf, FileState>,
}

/// What `commit` did.
pub struct Committed {
    /// The validated new snapshot (state_dir already pointing at the real directory).
    pub directory: Directory,
    pub written: Vec<PathBuf>,
}

impl Edit {
    pub fn new(dir: &Path) -> Edit {
        Edit {
            dir: dir.to_path_buf(),
            files: BTreeMap::new(),
        }
    }

    /// The list files of `stem` (`devices`, `bans`, ...) that exist, in reading order.
    pub fn list_files(&self, stem: &str) -> Result<Vec<PathBuf>, EditError> {
        let all = config::config_files(&self.dir).map_err(EditError::Invalid)?;
        let single = PathBuf::from(format!("{stem}.toml"));
        let sub = PathBuf::from(format!("{stem}.d"));
        Ok(all
            .into_iter()
            .filter(|p| *p == single || p.starts_with(&sub))
            .collect())
    }

    /// The current text of `rel` (with this edit's changes); `None` if it does not exist.
    pub fn text(&mut self, rel: &Path) -> Result<Option<String>, EditError> {
        if !self.files.contains_key(rel) {
            let path = self.dir.join(rel);
            let original = match std::fs::read_to_string(&path) {
                Ok(t) => Some(t),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(&path)(e)),
            };
            self.files.insert(
                rel.to_path_buf(),
                FileState {
                    original,
                    new: None,
                },
            );
        }
        Ok(self
            .files
            .get(rel)
            .and_then(|f| f.new.clone().or_else(|| f.original.clone())))
    }

    /// The file as a toml_edit document.
    pub fn doc(&mut self, rel: &Path) -> Result<DocumentMut, EditError> {
        let text = self.text(rel)?.unwrap_or_default();
        text.parse::<DocumentMut>().map_err(|e| EditError::Parse {
            file: rel.to_path_buf(),
            detail: e.to_string(),
        })
    }

    pub fn set_text(&mut self, rel: &Path, text: String) -> Result<(), EditError> {
        self.text(rel)?;
        if let Some(f) = self.files.get_mut(rel) {
            f.new = Some(text);
        }
        Ok(())
    }

    pub fn set_doc(&mut self, rel: &Path, doc: &DocumentMut) -> Result<(), EditError> {
        self.set_text(rel, doc.to_string())
    }

    /// Appends `[[key]]` with `entry` at the end of `rel`, leaving every existing byte as is.
    pub fn append(&mut self, rel: &Path, key: &str, entry: Table) -> Result<(), EditError> {
        check_rel(rel)?;
        let mut text = self.text(rel)?.unwrap_or_default();
        let mut aot = ArrayOfTables::new();
        aot.push(entry);
        let mut doc = DocumentMut::new();
        doc.insert(key, Item::ArrayOfTables(aot));
        if !text.is_empty() {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
        }
        text.push_str(&doc.to_string());
        self.set_text(rel, text)
    }

    fn changed(&self) -> Vec<(PathBuf, String)> {
        self.files
            .iter()
            .filter_map(|(rel, f)| match &f.new {
                Some(n) if f.original.as_ref() != Some(n) => Some((rel.clone(), n.clone())),
                _ => None,
            })
            .collect()
    }

    /// Validates the whole directory with the changes applied, then writes the changed files.
    /// Nothing is written if the result would not load.
    pub fn commit(self) -> Result<Committed, EditError> {
        let changes = self.changed();
        let directory = validate(&self.dir, &changes)?;
        let mut written = Vec::new();
        for (rel, text) in &changes {
            write_atomic(&self.dir, rel, text)?;
            written.push(rel.clone());
        }
        Ok(Committed { directory, written })
    }
}

fn check_rel(rel: &Path) -> Result<(), EditError> {
    let ok = rel.extension().is_some_and(|e| e == "toml")
        && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(())
    } else {
        Err(EditError::BadFile(rel.to_path_buf()))
    }
}

/// Names of the validation mirrors inside the config directory.
const MIRROR_PREFIX: &str = ".hallpass-check-";

/// Loads `dir` as it would be with `changes`, from a temporary mirror of it.
fn validate(dir: &Path, changes: &[(PathBuf, String)]) -> Result<Directory, EditError> {
    let src = std::path::absolute(dir).map_err(io(dir))?;
    let stage = stage(&src, changes)?;
    let mut d = config::load(stage.path(), jiff::Timestamp::now()).map_err(EditError::Invalid)?;
    // A relative state_dir resolved inside the mirror; point it at the real one.
    if let Ok(rest) = d.server.state_dir.strip_prefix(stage.path()) {
        d.server.state_dir = src.join(rest);
    }
    d.config_dir = src;
    Ok(d)
    // `stage` is removed here, on every path out, panics that unwind included.
}

/// Builds the mirror of `src` (an absolute path) with `changes` applied. The mirror holds
/// new ban reasons and password hashes, so it lives inside the config directory itself
/// (which only root and the daemon's group can list), in a directory of mode 0700 with
/// files of mode 0600: even one left behind by a killed edit is readable by nobody else. It
/// is removed when the returned value is dropped; leftovers of killed edits are removed
/// here, which is safe because edits commit under the directory's lock.
fn stage(src: &Path, changes: &[(PathBuf, String)]) -> Result<tempfile::TempDir, EditError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    remove_stale_mirrors(src);
    let tmp = tempfile::Builder::new()
        .prefix(MIRROR_PREFIX)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(src)
        .map_err(io(src))?;
    mirror(src, tmp.path(), changes, Path::new(""))?;
    for (rel, text) in changes {
        let path = tmp.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(io(parent))?;
        }
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io(&path))?;
        f.write_all(text.as_bytes()).map_err(io(&path))?;
    }
    Ok(tmp)
}

/// Removes mirrors that a killed edit left in `dir`; best effort.
fn remove_stale_mirrors(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .file_name()
            .to_string_lossy()
            .starts_with(MIRROR_PREFIX)
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Mirrors `src/sub` into `dst/sub`: symlinks for everything, except real directories on
/// the way to a changed file and no entry for the changed files themselves. Leaves out the
/// lock file and the mirrors themselves.
fn mirror(
    src: &Path,
    dst: &Path,
    changes: &[(PathBuf, String)],
    sub: &Path,
) -> Result<(), EditError> {
    use std::os::unix::fs::DirBuilderExt;
    let from = src.join(sub);
    let entries = std::fs::read_dir(&from).map_err(io(&from))?;
    for entry in entries {
        let entry = entry.map_err(io(&from))?;
        let rel = sub.join(entry.file_name());
        if rel == Path::new(LOCK_FILE)
            || (sub.as_os_str().is_empty()
                && entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(MIRROR_PREFIX))
        {
            continue;
        }
        if changes.iter().any(|(c, _)| *c == rel) {
            continue;
        }
        let target = dst.join(&rel);
        if changes.iter().any(|(c, _)| c.starts_with(&rel)) && entry.path().is_dir() {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&target)
                .map_err(io(&target))?;
            mirror(src, dst, changes, &rel)?;
        } else {
            std::os::unix::fs::symlink(entry.path(), &target).map_err(io(&target))?;
        }
    }
    Ok(())
}

/// Replaces `dir/rel` with `text`: a temp file in the same directory with the original's
/// mode and owner, fsync, rename over the original, fsync of the directory.
fn write_atomic(dir: &Path, rel: &Path, text: &str) -> Result<(), EditError> {
    let path = dir.join(rel);
    let parent = path.parent().unwrap_or(dir).to_path_buf();
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Not ending in .toml: the loader never reads a half-written temp file.
    let tmp = parent.join(format!(".{name}.hallpass-new-{}", std::process::id()));
    // Keep mode and owner (e.g. root:hallpass 0640); a new file takes hallpass.toml's.
    let model = std::fs::metadata(&path)
        .or_else(|_| std::fs::metadata(dir.join(config::MAIN_FILE)))
        .ok();
    let result = (|| {
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        if let Some(m) = &model {
            let _ = std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()));
            f.set_permissions(m.permissions()).map_err(io(&tmp))?;
        }
        f.write_all(text.as_bytes()).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        File::open(&parent)
            .and_then(|d| d.sync_all())
            .map_err(io(&parent))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes entry `idx` of `[[key]]` from `doc`. Comments written above it stay (moved to
/// the next entry or the end of the file): an edit never deletes an admin's comments.
pub fn remove_entry(doc: &mut DocumentMut, key: &str, idx: usize) {
    let Some(aot) = doc.get_mut(key).and_then(Item::as_array_of_tables_mut) else {
        return;
    };
    if idx >= aot.len() {
        return;
    }
    let prefix = aot
        .get(idx)
        .and_then(|t| t.decor().prefix())
        .and_then(|p| p.as_str())
        .unwrap_or("")
        .to_string();
    aot.remove(idx);
    if !prefix.contains('#') {
        return;
    }
    if let Some(next) = aot.get_mut(idx) {
        let old = next
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_string();
        next.decor_mut().set_prefix(format!("{prefix}{old}"));
    } else {
        let old = doc.trailing().as_str().unwrap_or("").to_string();
        doc.set_trailing(format!("{prefix}{old}"));
    }
}

/// The reload request after an edit: SIGHUP to the running daemon, found through its pid
/// file.
pub use crate::control::{Reload, reload};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn removing_an_entry_keeps_every_other_byte_and_the_comments() {
        let text = "# header\n# more\n\n[[device]]\nmac = \"a\"\n\n# about b\n[[device]]\nmac = \"b\" # trailing\n\n[[device]]\nmac = \"c\"\n# end\n";
        let mut doc: DocumentMut = text.parse().unwrap();
        remove_entry(&mut doc, "device", 0);
        assert_eq!(
            doc.to_string(),
            "# header\n# more\n\n\n# about b\n[[device]]\nmac = \"b\" # trailing\n\n[[device]]\nmac = \"c\"\n# end\n"
        );
        let mut doc: DocumentMut = text.parse().unwrap();
        remove_entry(&mut doc, "device", 2);
        assert_eq!(
            doc.to_string(),
            "# header\n# more\n\n[[device]]\nmac = \"a\"\n\n# about b\n[[device]]\nmac = \"b\" # trailing\n# end\n"
        );
        let mut doc: DocumentMut = text.parse().unwrap();
        remove_entry(&mut doc, "device", 1);
        assert!(doc.to_string().contains("# about b\n"));
        assert!(!doc.to_string().contains("\"b\""));
    }

    #[test]
    fn the_mirror_is_private_and_replaces_what_a_killed_edit_left() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        std::fs::write(src.join("hallpass.toml"), "").unwrap();
        std::fs::create_dir(src.join("users.d")).unwrap();
        std::fs::write(src.join("users.d/a.toml"), "").unwrap();
        let stale = src.join(format!("{MIRROR_PREFIX}killed"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("users.toml"), "password = \"$argon2id$\"").unwrap();
        let changes = vec![
            (PathBuf::from("users.toml"), "x".to_string()),
            (PathBuf::from("users.d/b.toml"), "y".to_string()),
        ];
        let stage = stage(src, &changes).unwrap();
        assert!(!stale.exists(), "a mirror of a killed edit is removed");
        assert_eq!(stage.path().parent(), Some(src));
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(stage.path()), 0o700);
        assert_eq!(mode(&stage.path().join("users.d")), 0o700);
        assert_eq!(mode(&stage.path().join("users.toml")), 0o600);
        assert_eq!(mode(&stage.path().join("users.d/b.toml")), 0o600);
        assert!(stage.path().join("users.d/a.toml").is_symlink());
        assert!(
            !stage
                .path()
                .join(stage.path().file_name().unwrap())
                .exists()
        );
        let kept = stage.path().to_path_buf();
        drop(stage);
        assert!(!kept.exists());
    }

    #[test]
    fn appending_keeps_the_file_as_a_prefix() {
        let dir = std::env::temp_dir().join(format!("hallpass-edit-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("devices.toml"), "# mine\n[[device]]\nmac = \"a\"").unwrap();
        let mut e = Edit::new(&dir);
        let mut t = Table::new();
        t.insert("mac", toml_edit::value("b"));
        e.append(Path::new("devices.toml"), "device", t).unwrap();
        let new = e.text(Path::new("devices.toml")).unwrap().unwrap();
        assert_eq!(
            new,
            "# mine\n[[device]]\nmac = \"a\"\n\n[[device]]\nmac = \"b\"\n"
        );
        assert!(
            e.append(Path::new("../x.toml"), "device", Table::new())
                .is_err()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
