//! Reading a config directory: which files there are (`hallpass.toml`, then `X.toml` and
//! `X.d/*.toml` of each list), their text, large list files cut into parts, and the files
//! hallpass.toml names (the clients' secret files, the `[eap]` certificates and key, with
//! the key's mode). The only place in `config` that touches the file system.
//! Must not: parse TOML or judge what the files say; that is `validate`'s job.

use std::cell::OnceCell;
use std::path::{Component, Path, PathBuf};

use super::error::{ConfigError, ConfigErrorKind as K, ConfigErrors, Location};

/// The main file, always required.
pub const MAIN_FILE: &str = "hallpass.toml";

/// Entries of a list file parsed as one TOML document (see `split_list`).
const ENTRIES_PER_PART: usize = 1000;

/// The list files, each `X.toml` and/or `X.d/*.toml`, in reading order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ListKind {
    User,
    Device,
    Ban,
    Grant,
}

impl ListKind {
    pub(super) const ALL: [ListKind; 4] = [
        ListKind::User,
        ListKind::Device,
        ListKind::Ban,
        ListKind::Grant,
    ];

    /// The name of the file and folder: `users` for `users.toml` and `users.d/`.
    fn stem(self) -> &'static str {
        match self {
            ListKind::User => "users",
            ListKind::Device => "devices",
            ListKind::Ban => "bans",
            ListKind::Grant => "grants",
        }
    }

    /// The key of its entries: `user` for `[[user]]`.
    pub(super) fn key(self) -> &'static str {
        match self {
            ListKind::User => "user",
            ListKind::Device => "device",
            ListKind::Ban => "ban",
            ListKind::Grant => "grant",
        }
    }

    /// The list a path relative to the config directory belongs to: `users.toml`, the
    /// folder `users.d` or a file in it.
    pub(super) fn of(rel: &Path) -> Option<ListKind> {
        let first = rel.components().next()?.as_os_str().to_str()?;
        ListKind::ALL.into_iter().find(|k| {
            first
                .strip_prefix(k.stem())
                .is_some_and(|ext| ext == ".toml" || ext == ".d")
        })
    }
}

/// What a config file is, from its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FileKind {
    Main,
    List(ListKind),
}

impl FileKind {
    /// `None` for a path `load` would not read as a config file.
    fn of(rel: &Path) -> Option<FileKind> {
        if rel == Path::new(MAIN_FILE) {
            return Some(FileKind::Main);
        }
        let kind = ListKind::of(rel)?;
        let single = Path::new(kind.stem()).with_extension("toml");
        let in_folder = rel.parent() == Some(&Path::new(kind.stem()).with_extension("d"))
            && rel.extension().is_some_and(|e| e == "toml");
        (rel == single || in_folder).then_some(FileKind::List(kind))
    }

    /// Position in reading order: hallpass.toml, then per list `X.toml` before `X.d/`.
    fn rank(self, rel: &Path) -> (usize, bool) {
        match self {
            FileKind::Main => (0, false),
            FileKind::List(k) => {
                let list = ListKind::ALL.iter().position(|l| *l == k).unwrap_or(0);
                (1 + list, rel.parent() != Some(Path::new("")))
            }
        }
    }
}

/// One config file's text (or a part of it, see `split_list`), kept while validating so
/// positions can be computed.
pub(super) struct Source {
    pub(super) rel: PathBuf,
    pub(super) kind: FileKind,
    pub(super) text: String,
    /// Lines of the file before `text` (a part of a large list file, see `split_list`).
    first_line: usize,
    /// Byte offsets of line starts, built on the first error in this file.
    lines: OnceCell<Vec<usize>>,
}

impl Source {
    /// 1-based line and column (in characters) of a byte offset.
    pub(super) fn position(&self, offset: usize) -> (u32, u32) {
        let lines = self.lines.get_or_init(|| {
            let mut v = vec![0];
            v.extend(
                self.text
                    .bytes()
                    .enumerate()
                    .filter(|&(_, b)| b == b'\n')
                    .map(|(i, _)| i + 1),
            );
            v
        });
        let offset = offset.min(self.text.len());
        let idx = lines.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = lines.get(idx).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (to_u32(self.first_line + idx + 1), to_u32(col + 1))
    }

    pub(super) fn location(&self, offset: usize) -> Location {
        let (line, column) = self.position(offset);
        Location {
            file: self.rel.clone(),
            line,
            column,
        }
    }

    pub(super) fn error(&self, offset: usize, kind: K) -> ConfigError {
        let (line, column) = self.position(offset);
        ConfigError {
            file: self.rel.clone(),
            line,
            column,
            kind,
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(super) fn whole_file(rel: &Path, kind: K) -> ConfigError {
    ConfigError {
        file: rel.to_path_buf(),
        line: 0,
        column: 0,
        kind,
    }
}

/// The text of a config directory, as [`validate`](fn@super::validate) takes it: its files in
/// reading order (large list files in parts), and a whole-file error for each file or folder
/// that could not be read.
pub struct Sources {
    /// Absolute, without `.` and `..`: `state_dir` and secret files resolve against it.
    pub(super) dir: PathBuf,
    pub(super) files: Vec<Source>,
    pub(super) unreadable: Vec<ConfigError>,
}

impl Sources {
    /// Reads the config files of `dir` (see [`config_files`]).
    pub fn read(dir: &Path) -> Sources {
        let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let dir = normalize(&abs);
        let mut unreadable = Vec::new();
        let mut files = Vec::new();
        // Each list's folder is listed just before its files are read, so that the errors
        // come in reading order.
        let mut batch = vec![PathBuf::from(MAIN_FILE)];
        let mut lists = ListKind::ALL.into_iter();
        loop {
            for rel in batch {
                match read_text(&dir, &rel) {
                    Ok(text) => files.extend(Sources::parts(rel, text)),
                    Err(kind) => unreadable.push(whole_file(&rel, kind)),
                }
            }
            let Some(list) = lists.next() else { break };
            batch = list_files(&dir, list.stem(), &mut unreadable);
        }
        Sources {
            dir,
            files,
            unreadable,
        }
    }

    /// Config text held in memory, as if read from the directory `dir`: `files` are
    /// (path relative to `dir`, text). Paths `read` would not read as config files (say
    /// `users.d/notes.txt`) are left out; the rest are put in reading order.
    pub fn from_memory<P: Into<PathBuf>, T: Into<String>>(
        dir: &Path,
        files: impl IntoIterator<Item = (P, T)>,
    ) -> Sources {
        let mut files: Vec<(FileKind, PathBuf, String)> = files
            .into_iter()
            .map(|(rel, text)| (rel.into(), text.into()))
            .filter_map(|(rel, text)| FileKind::of(&rel).map(|k| (k, rel, text)))
            .collect();
        files.sort_by(|(a, ra, _), (b, rb, _)| (a.rank(ra), ra).cmp(&(b.rank(rb), rb)));
        Sources {
            dir: normalize(dir),
            files: files
                .into_iter()
                .flat_map(|(_, rel, text)| Sources::parts(rel, text))
                .collect(),
            unreadable: Vec::new(),
        }
    }

    /// The config directory, absolute.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One file's text as sources: a large list file in parts.
    fn parts(rel: PathBuf, text: String) -> Vec<Source> {
        let Some(kind) = FileKind::of(&rel) else {
            return Vec::new();
        };
        let whole = Source {
            rel,
            kind,
            text,
            first_line: 0,
            lines: OnceCell::new(),
        };
        match kind {
            FileKind::Main => vec![whole],
            FileKind::List(list) => split_list(whole, list.key(), ENTRIES_PER_PART),
        }
    }
}

/// The config files `load` reads, relative to `dir`, in reading order: hallpass.toml, then
/// for users, devices, bans and grants each `X.toml` (if present) and `X.d/*.toml` sorted by name.
pub fn config_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigErrors> {
    let mut files = vec![PathBuf::from(MAIN_FILE)];
    let mut errors = Vec::new();
    for list in ListKind::ALL {
        files.extend(list_files(dir, list.stem(), &mut errors));
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(ConfigErrors(errors))
    }
}

fn list_files(dir: &Path, stem: &str, errors: &mut Vec<ConfigError>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let single = PathBuf::from(format!("{stem}.toml"));
    if dir.join(&single).exists() {
        out.push(single);
    }
    let sub = PathBuf::from(format!("{stem}.d"));
    let subdir = dir.join(&sub);
    if !subdir.is_dir() {
        return out;
    }
    match std::fs::read_dir(&subdir) {
        Ok(entries) => {
            let mut names: Vec<_> = entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name())
                .filter(|n| n.as_encoded_bytes().ends_with(b".toml"))
                .collect();
            names.sort();
            out.extend(names.into_iter().map(|n| sub.join(n)));
        }
        Err(e) => errors.push(whole_file(
            &sub,
            K::Unreadable {
                detail: e.to_string(),
            },
        )),
    }
    out
}

/// Reads a file as text; on failure, what is wrong with the whole file.
fn read_text(dir: &Path, rel: &Path) -> Result<String, K> {
    let bytes = std::fs::read(dir.join(rel)).map_err(|e| K::Unreadable {
        detail: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|_| K::NotUtf8)
}

/// The files hallpass.toml names (secret files, `[eap]` certificates and key), as written:
/// relative to the config directory unless absolute.
pub(super) struct DirFiles<'a>(pub(super) &'a Path);

impl super::validate::NamedFiles for DirFiles<'_> {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.0.join(path))
    }

    fn mode(&self, path: &str) -> std::io::Result<Option<u32>> {
        use std::os::unix::fs::PermissionsExt as _;
        Ok(Some(
            std::fs::metadata(self.0.join(path))?.permissions().mode() & 0o7777,
        ))
    }

    fn read_secret(&self, path: &str) -> std::io::Result<SecretFile> {
        use std::io::Read as _;
        use std::os::unix::fs::MetadataExt as _;
        let full = self.0.join(path);
        let file = std::fs::File::open(&full)?;
        // The facts of the file that was opened, not of whatever the path names a moment later.
        let meta = file.metadata()?;
        if !meta.is_file() {
            // A FIFO or /dev/zero would block or never end.
            return Err(std::io::Error::other("not a regular file"));
        }
        let mut bytes = Vec::new();
        file.take(SECRET_FILE_MAX as u64 + 1)
            .read_to_end(&mut bytes)?;
        Ok(SecretFile {
            bytes,
            facts: Some(FileFacts {
                full,
                mode: meta.mode() & 0o7777,
                owner: meta.uid(),
                owner_trusted: trusted_owners().contains(&meta.uid()),
            }),
        })
    }
}

/// The most a secret file may hold, in bytes: a RADIUS secret is one line of text.
pub const SECRET_FILE_MAX: usize = 4096;

/// Bits of a secret file's mode that must be clear: read by others, written by group or
/// others. The group may read it: the package gives group `hallpass` read access.
const SECRET_MODE_FORBIDDEN: u32 = 0o026;

/// A secret file as read: at most `SECRET_FILE_MAX` + 1 bytes (more means it is too large),
/// and what is known of the file itself (`None` for text in memory).
pub struct SecretFile {
    pub bytes: Vec<u8>,
    pub facts: Option<FileFacts>,
}

/// Owner and mode of a file on disk.
pub struct FileFacts {
    /// The path as opened, for the command that repairs it.
    pub full: PathBuf,
    pub mode: u32,
    pub owner: u32,
    /// The owner is root, the daemon's account or the account this process runs as.
    pub owner_trusted: bool,
}

/// The accounts that may own a secret file: root, the daemon's account (when it exists) and
/// the account this process runs as (an admin's test setup, the daemon started by hand).
fn trusted_owners() -> Vec<u32> {
    let mut uids = vec![0, crate::accounts::effective_uid()];
    uids.extend(crate::accounts::uid_of(crate::accounts::DAEMON_ACCOUNT));
    uids
}

/// Whether client `client`'s secret file (`path` as written) may be used: nobody but root,
/// the daemon and the group may read it, only its trusted owner may change it, and it is
/// one line, not a large file.
pub(super) fn secret_file_refusal(client: &str, path: &str, file: &SecretFile) -> Option<K> {
    if let Some(f) = &file.facts {
        if f.mode & SECRET_MODE_FORBIDDEN != 0 {
            return Some(K::SecretFileMode {
                client: client.to_string(),
                path: path.to_string(),
                mode: f.mode,
                full: f.full.clone(),
            });
        }
        if !f.owner_trusted {
            return Some(K::SecretFileOwner {
                client: client.to_string(),
                path: path.to_string(),
                uid: f.owner,
                full: f.full.clone(),
            });
        }
    }
    (file.bytes.len() > SECRET_FILE_MAX).then(|| K::SecretFileTooLarge {
        client: client.to_string(),
        path: path.to_string(),
        max: SECRET_FILE_MAX,
    })
}

/// Removes `.` and resolves `..` lexically, so paths print the way admins expect.
pub(super) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Cuts a large list file into parts of `per_part` entries, each parsed on its own.
///
/// The TOML parser builds its token and event vectors for a whole document; for 100k
/// devices in one file that peaked at 230 MB and spent a third of the load in page faults
/// (parts: 88 MB, 0.45 → 0.26 s for `hallpass check`). A part starts at a line that is
/// exactly `[[key]]` (a comment may follow) and is a document of its own with the line
/// numbers of the file. The file is cut only where that is certain to mean the same: not
/// when it has a multi-line string (which could hold such a line) or any other line starting
/// with `[` (another table, a nested array); then it is parsed whole, as before.
fn split_list(src: Source, key: &str, per_part: usize) -> Vec<Source> {
    let header = format!("[[{key}]]");
    let is_header = |line: &str| {
        let t = line.trim();
        t.strip_prefix(header.as_str())
            .is_some_and(|rest| rest.trim_start().is_empty() || rest.trim_start().starts_with('#'))
    };
    if src.text.contains("\"\"\"") || src.text.contains("'''") {
        return vec![src];
    }
    // (byte offset, line index) of every header line; None if some other line opens a table
    let mut headers = Vec::new();
    let mut offset = 0;
    for (index, line) in src.text.split_inclusive('\n').enumerate() {
        if line.trim_start().starts_with('[') {
            if !is_header(line) {
                return vec![src];
            }
            headers.push((offset, index));
        }
        offset += line.len();
    }
    if headers.len() <= per_part {
        return vec![src];
    }
    // Cut before every per_part-th header; the first part keeps what precedes the first one.
    let cuts: Vec<(usize, usize)> = headers
        .iter()
        .copied()
        .enumerate()
        .filter(|(i, _)| *i > 0 && i % per_part == 0)
        .map(|(_, h)| h)
        .collect();
    let mut parts = Vec::with_capacity(cuts.len() + 1);
    let mut start = (0, 0);
    for end in cuts
        .iter()
        .copied()
        .chain(std::iter::once((src.text.len(), 0)))
    {
        let text = src.text.get(start.0..end.0).unwrap_or_default().to_string();
        parts.push(Source {
            rel: src.rel.clone(),
            kind: src.kind,
            text,
            first_line: src.first_line + start.1,
            lines: OnceCell::new(),
        });
        start = end;
    }
    parts
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod split_tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source {
            rel: PathBuf::from("devices.toml"),
            kind: FileKind::List(ListKind::Device),
            text: text.to_string(),
            first_line: 0,
            lines: OnceCell::new(),
        }
    }

    fn entries(n: usize) -> String {
        (0..n)
            .map(|i| format!("[[device]] # {i}\nmac = \"x\"\n\n"))
            .collect()
    }

    #[test]
    fn parts_start_at_headers_and_keep_the_file_s_lines() {
        let text = format!("# devices\n\n{}", entries(7));
        let parts = split_list(source(&text), "device", 3);
        let starts: Vec<usize> = parts.iter().map(|p| p.first_line).collect();
        // the first part keeps the two lines before the first header
        assert_eq!(starts, [0, 2 + 3 * 3, 2 + 6 * 3]);
        assert!(parts[1].text.starts_with("[[device]] # 3\n"));
        assert_eq!(
            parts.iter().map(|p| p.text.as_str()).collect::<String>(),
            text
        );
        // a position in a later part is reported on the file's line
        assert_eq!(parts[2].position(0), (2 + 6 * 3 + 1, 1));
    }

    #[test]
    fn files_it_cannot_cut_safely_stay_whole() {
        for text in [
            format!("{}x = \"\"\"\n[[device]]\n\"\"\"\n", entries(7)),
            format!("{}x = '''\n[[device]]\n'''\n", entries(7)),
            format!("{}[device.extra]\n", entries(7)),
            format!("{}x = [\n  [1, 2],\n]\n", entries(7)),
            entries(3),
        ] {
            assert_eq!(split_list(source(&text), "device", 3).len(), 1, "{text}");
        }
    }

    #[test]
    fn paths_are_known_by_their_list() {
        let kind = |p: &str| FileKind::of(Path::new(p));
        assert_eq!(kind("hallpass.toml"), Some(FileKind::Main));
        assert_eq!(kind("users.toml"), Some(FileKind::List(ListKind::User)));
        assert_eq!(
            kind("grants.d/5a.toml"),
            Some(FileKind::List(ListKind::Grant))
        );
        for not_read in [
            "users.d/notes.txt",
            "users.d/sub/a.toml",
            "usersx.toml",
            "secrets/nas",
            "devices.d",
        ] {
            assert_eq!(kind(not_read), None, "{not_read}");
        }
        assert_eq!(ListKind::of(Path::new("bans.d")), Some(ListKind::Ban));
    }
}
