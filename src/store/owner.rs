//! Who may own the files the store opens. The CLI runs as root in a directory the daemon's
//! account can write: whoever holds that account could plant `hallpass.db` as a symbolic
//! link to any file (root would then turn it into a database), or put the state directory
//! under an account of their own. Before any connection is opened, the state directory, the
//! database and its `-wal`/`-shm` files are checked here: no symbolic links among the files,
//! and every owner is root, the daemon's account ([`accounts::DAEMON_ACCOUNT`]) or the
//! account this process runs as.
//!
//! SQLite is opened with `SQLITE_OPEN_NOFOLLOW` as well (see `schema`): this check gives the
//! clear error, that flag closes the window between the check and the open.
//!
//! Must not: change a file's owner or mode, or create anything.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::StoreError;
use crate::accounts;

/// The uids that may own the state directory and its database files.
fn allowed_owners() -> Vec<u32> {
    let mut uids = vec![0, accounts::effective_uid()];
    uids.extend(accounts::uid_of(accounts::DAEMON_ACCOUNT));
    uids
}

/// Checks the directory holding `db_path` and the database files in it (those that exist).
pub(crate) fn check_state_files(db_path: &Path) -> Result<(), StoreError> {
    check_with(db_path, &allowed_owners())
}

fn check_with(db_path: &Path, allowed: &[u32]) -> Result<(), StoreError> {
    let dir = match db_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // A missing directory is the open's error to report (it names the database).
    if let Ok(meta) = std::fs::metadata(dir)
        && !allowed.contains(&meta.uid())
    {
        return Err(StoreError::ForeignOwner {
            path: dir.to_path_buf(),
            uid: meta.uid(),
        });
    }
    let mut names = vec![db_path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = db_path.as_os_str().to_owned();
        name.push(suffix);
        names.push(name.into());
    }
    for path in names {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(StoreError::StateFile { path, source }),
        };
        if meta.file_type().is_symlink() {
            return Err(StoreError::Symlink { path });
        }
        if !allowed.contains(&meta.uid()) {
            return Err(StoreError::ForeignOwner {
                path,
                uid: meta.uid(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::store::DB_FILE_NAME;

    fn own() -> Vec<u32> {
        vec![accounts::effective_uid()]
    }

    #[test]
    fn files_of_an_allowed_owner_pass_and_missing_ones_are_fine() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DB_FILE_NAME);
        check_with(&db, &own()).unwrap();
        std::fs::write(&db, b"").unwrap();
        std::fs::write(dir.path().join("hallpass.db-wal"), b"").unwrap();
        check_with(&db, &own()).unwrap();
    }

    #[test]
    fn a_symlink_among_the_database_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DB_FILE_NAME);
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, b"precious").unwrap();
        for name in ["hallpass.db", "hallpass.db-wal", "hallpass.db-shm"] {
            let link = dir.path().join(name);
            std::os::unix::fs::symlink(&target, &link).unwrap();
            match check_with(&db, &own()) {
                Err(StoreError::Symlink { path }) => assert_eq!(path, link),
                other => panic!("{name}: expected Symlink, got {other:?}"),
            }
            std::fs::remove_file(&link).unwrap();
        }
        // a dangling link too: SQLite would create its target
        std::os::unix::fs::symlink(dir.path().join("nothing"), &db).unwrap();
        assert!(matches!(
            check_with(&db, &own()),
            Err(StoreError::Symlink { .. })
        ));
        assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    }

    #[test]
    fn a_directory_of_another_owner_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DB_FILE_NAME);
        let someone_else = accounts::effective_uid().wrapping_add(4242);
        match check_with(&db, &[someone_else]) {
            Err(StoreError::ForeignOwner { path, uid }) => {
                assert_eq!(path, dir.path());
                assert_eq!(uid, accounts::effective_uid());
                let text = StoreError::ForeignOwner { path, uid }.to_string();
                assert!(text.contains(&dir.path().display().to_string()), "{text}");
            }
            other => panic!("expected ForeignOwner, got {other:?}"),
        }
    }
}
