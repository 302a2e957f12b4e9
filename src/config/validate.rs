//! Validation: the text of a config directory ([`Sources`]) → a [`Directory`], or every
//! problem found, each with file, line and column. Each entry of a list file is deserialized
//! on its own, so one bad entry does not hide the others, and a broken file does not hide
//! the problems of the other files.
//! Must not: read files (the text comes in `Sources`; secret files through the reader the
//! caller passes), or stop at the first problem.

use std::io;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::directory::{Directory, Registry};
use super::error::{ConfigError, ConfigErrorKind as K, ConfigErrors};
use super::lists::{Lookup, UserNames};
use super::read::{FileKind, ListKind, MAIN_FILE, Source, Sources, whole_file};
use super::settings::Main;
use super::wire::{WireBan, WireDevice, WireGrant, WireUser};

/// Reads the files hallpass.toml names: the clients' `secret_file`s and the `[eap]`
/// certificates and private key, each given as written in hallpass.toml. Any
/// `Fn(&str) -> io::Result<Vec<u8>>` is one, for text in memory (which has no file modes).
pub trait NamedFiles {
    fn read(&self, path: &str) -> io::Result<Vec<u8>>;

    /// The permission bits of the file; `None` when there are none to check (text in memory).
    fn mode(&self, _path: &str) -> io::Result<Option<u32>> {
        Ok(None)
    }

    /// A client's `secret_file`: its bytes (at most `SECRET_FILE_MAX` + 1 of them) and, for
    /// a file on disk, its owner and mode, which decide whether it may be used.
    fn read_secret(&self, path: &str) -> io::Result<super::read::SecretFile> {
        Ok(super::read::SecretFile {
            bytes: self.read(path)?,
            facts: None,
        })
    }
}

impl<F: Fn(&str) -> io::Result<Vec<u8>>> NamedFiles for F {
    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        self(path)
    }
}

/// The reader of the files hallpass.toml names.
pub type SecretFiles<'a> = &'a dyn NamedFiles;

/// Index of a file in `Sources::files`.
pub(super) type FileId = usize;

/// A list entry with the file it came from and the position of its `[[...]]` header.
pub(super) struct Entry<T> {
    pub(super) file: FileId,
    pub(super) at: usize,
    pub(super) value: T,
}

/// The entries of the list files as written, before their checks.
#[derive(Default)]
struct Lists {
    users: Vec<Entry<WireUser>>,
    devices: Vec<Entry<WireDevice>>,
    bans: Vec<Entry<WireBan>>,
    grants: Vec<Entry<WireGrant>>,
    /// Names of user entries that exist but could not be read: devices and bans of theirs
    /// are not reported as "unknown user" (that would bury the real error).
    broken_users: Vec<String>,
    /// Every user entry could be read, at least its name.
    users_complete: bool,
}

/// Checks the config text `sources` and builds the snapshot from it (see DESIGN.md,
/// "Config files"); `secret_files` reads the secret files that clients name and the `[eap]`
/// certificates, whose validity is checked at `now`.
///
/// On failure every problem found is returned, the files `sources` could not read among
/// them, in reading order: file by file, top to bottom. Besides its arguments, the only
/// input is the system time zone, when hallpass.toml names none.
pub fn validate(
    sources: &Sources,
    secret_files: SecretFiles<'_>,
    now: jiff::Timestamp,
) -> Result<Directory, ConfigErrors> {
    let mut v = Validator {
        sources: &sources.files,
        errors: Vec::new(),
    };
    let mut main = None;
    let mut lists = Lists {
        users_complete: !sources
            .unreadable
            .iter()
            .any(|e| ListKind::of(&e.file) == Some(ListKind::User)),
        ..Lists::default()
    };
    for (id, src) in sources.files.iter().enumerate() {
        match src.kind {
            FileKind::Main => {
                main = Some(Main::read(
                    src,
                    &sources.dir,
                    secret_files,
                    now,
                    &mut v.errors,
                ));
            }
            FileKind::List(list) => lists.read(src, id, list, &mut v.errors),
        }
    }
    let main = main.unwrap_or_else(|| {
        // Reading reports a hallpass.toml it could not read; text without one is incomplete.
        if !sources
            .unreadable
            .iter()
            .any(|e| e.file == Path::new(MAIN_FILE))
        {
            let detail = "no such file among the config files".to_string();
            v.errors
                .push(whole_file(Path::new(MAIN_FILE), K::Unreadable { detail }));
        }
        Main::unread()
    });
    let tz = main.server.timezone.clone();
    let users = v.users(lists.users);
    let names: UserNames = users.iter().map(|u| u.name.clone()).collect();
    let (complete, broken) = (lists.users_complete, &lists.broken_users);
    let look = Lookup {
        users: &names,
        maybe_user: &|name: &str| !complete || broken.iter().any(|b| b == name),
        tz: &tz,
    };
    let devices = v.devices(lists.devices, &look, &main);
    let (user_bans, device_bans) = v.bans(lists.bans, &look);
    // A group is known if a user is in it or a policy group has its name. While some user
    // entry could not be read, any group might be known: do not guess.
    let group_known = |name: &str| {
        !complete
            || !broken.is_empty()
            || main.policy.groups.iter().any(|g| g.name == name)
            || users.iter().any(|u| u.groups.iter().any(|g| g == name))
    };
    let (user_grants, group_grants) = v.grants(lists.grants, &look, &group_known);
    let mut errors = v.errors;
    if !errors.is_empty() || !sources.unreadable.is_empty() {
        // Report in reading order: file by file, top to bottom; files that could not be
        // read come last, in the order they were tried (the sort is stable).
        errors.extend(sources.unreadable.iter().cloned());
        let rank = |e: &ConfigError| {
            let file = sources.files.iter().position(|s| s.rel == e.file);
            (file.unwrap_or(usize::MAX), e.line, e.column)
        };
        errors.sort_by_key(rank);
        return Err(ConfigErrors(errors));
    }
    let registry = Registry::new(users, devices, &main.policy.groups);
    Ok(Directory {
        config_dir: sources.dir.clone(),
        server: main.server,
        radius: main.radius,
        dhcp: main.dhcp,
        policy: main.policy,
        privacy: main.privacy,
        eap: main.eap,
        registry,
        user_bans,
        device_bans,
        user_grants,
        group_grants,
        warnings: main.warnings,
    })
}

/// Records errors against the files being validated.
pub(super) struct Validator<'s> {
    sources: &'s [Source],
    pub(super) errors: Vec<ConfigError>,
}

impl Validator<'_> {
    pub(super) fn err(&mut self, id: FileId, at: usize, kind: K) {
        if let Some(s) = self.sources.get(id) {
            self.errors.push(s.error(at, kind));
        }
    }

    pub(super) fn loc(&self, id: FileId, at: usize) -> super::Location {
        match self.sources.get(id) {
            Some(s) => s.location(at),
            None => super::Location {
                file: std::path::PathBuf::new(),
                line: 0,
                column: 0,
            },
        }
    }
}

impl Lists {
    /// Reads the entries of one list file (or part of one).
    fn read(&mut self, src: &Source, id: FileId, list: ListKind, errors: &mut Vec<ConfigError>) {
        let complete = match list {
            ListKind::User => {
                let broken = Some(&mut self.broken_users);
                parse_list(src, id, list, &mut self.users, broken, errors)
            }
            ListKind::Device => parse_list(src, id, list, &mut self.devices, None, errors),
            ListKind::Ban => parse_list(src, id, list, &mut self.bans, None, errors),
            ListKind::Grant => parse_list(src, id, list, &mut self.grants, None, errors),
        };
        self.users_complete &= complete || list != ListKind::User;
    }
}

fn from_de(e: &toml::de::Error) -> K {
    let msg = e.message();
    if let Some(rest) = msg.strip_prefix("unknown field `")
        && let Some((key, tail)) = rest.split_once('`')
    {
        let allowed = tail.trim_start_matches(", ").to_string();
        return K::UnknownKey {
            key: key.to_string(),
            allowed,
        };
    }
    if let Some(rest) = msg.strip_prefix("missing field `")
        && let Some((key, _)) = rest.split_once('`')
    {
        return K::MissingKey {
            key: key.to_string(),
        };
    }
    K::BadValue {
        message: msg.to_string(),
    }
}

/// Deserializes one TOML value; on failure the error points where the TOML reader says, or
/// at the value itself.
pub(super) fn de<T: DeserializeOwned>(v: Spanned<DeValue<'_>>) -> Result<T, (usize, K)> {
    let at = v.span().start;
    T::deserialize(ValueDeserializer::from(v))
        .map_err(|e| (e.span().map_or(at, |s| s.start), from_de(&e)))
}

/// Parses a whole file as TOML; a syntax error is recorded.
pub(super) fn parse_file<'i>(
    src: &'i Source,
    errors: &mut Vec<ConfigError>,
) -> Option<DeTable<'i>> {
    match DeTable::parse(&src.text) {
        Ok(t) => Some(t.into_inner()),
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            errors.push(src.error(
                at,
                K::Syntax {
                    message: e.message().to_string(),
                },
            ));
            None
        }
    }
}

/// Reads the entries `[[key]]` of a list file into `out`. Returns false if some entry could
/// not be read at all (its contents are unknown). With `broken_names`, the `name` of each
/// entry that could not be read is collected there.
fn parse_list<T: DeserializeOwned>(
    src: &Source,
    id: FileId,
    list: ListKind,
    out: &mut Vec<Entry<T>>,
    mut broken_names: Option<&mut Vec<String>>,
    errors: &mut Vec<ConfigError>,
) -> bool {
    let Some(table) = parse_file(src, errors) else {
        return false;
    };
    let key = list.key();
    let mut complete = true;
    for (k, v) in table {
        if k.get_ref().as_ref() != key {
            errors.push(src.error(
                k.span().start,
                K::UnknownKey {
                    key: k.get_ref().to_string(),
                    allowed: format!("expected only [[{key}]] entries"),
                },
            ));
            continue;
        }
        let vspan = v.span().start;
        let DeValue::Array(items) = v.into_inner() else {
            errors.push(src.error(vspan, K::NotAList { key: key.into() }));
            complete = false;
            continue;
        };
        out.reserve(items.len());
        for item in items {
            let at = item.span().start;
            let name = broken_names.as_ref().and_then(|_| {
                item.get_ref()
                    .get("name")
                    .and_then(|n| n.get_ref().as_str())
                    .map(str::to_string)
            });
            match de::<T>(item) {
                Ok(value) => out.push(Entry {
                    file: id,
                    at,
                    value,
                }),
                Err((pos, kind)) => {
                    errors.push(src.error(pos, kind));
                    match (name, broken_names.as_deref_mut()) {
                        (Some(n), Some(b)) => b.push(n),
                        (None, Some(_)) => complete = false,
                        _ => {}
                    }
                }
            }
        }
    }
    complete
}
