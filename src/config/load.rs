//! Reading and validating a config directory. Every file is read once; each entry of a list
//! file is deserialized on its own, so one bad entry does not hide the others, and a broken
//! file does not hide the problems of the other files.

use std::cell::OnceCell;
use std::collections::hash_map::Entry as MapEntry;
use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ipnetwork::IpNetwork;
use jiff::civil;
use jiff::tz::{Offset, TimeZone};
use jiff::{Span, SpanTotal, Timestamp, Unit};
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::value::Datetime;

use super::directory::{
    Client, DhcpSettings, Directory, Map, PolicyGroup, PolicySettings, PrivacySettings,
    RadiusSettings, Registry, Secret, ServerSettings,
};
use super::error::{ConfigError, ConfigErrorKind as K, ConfigErrors, Location};
use super::wire::*;
use crate::model::{
    Access, Ban, BanTarget, Device, Grant, GrantTarget, Language, MacAddr, Module, ModuleSet,
    Schedule, ScheduleWindow, User, UserName, Vlan, parse_data_amount,
};

/// The main file, always required.
pub const MAIN_FILE: &str = "hallpass.toml";
/// Minimum length of a RADIUS shared secret, in characters.
pub const MIN_SECRET_LEN: usize = 16;
/// The secret of the shipped example config. Everyone knows it, so a daemon that is
/// reachable from the network must not use it (see `ConfigErrorKind::ExampleSecret`).
pub const EXAMPLE_SECRET: &str = "hallpass-example-secret";

const DEFAULT_STATE_DIR: &str = "/var/lib/hallpass";
const DEFAULT_AUTH_LISTEN: [&str; 2] = ["0.0.0.0:1812", "[::]:1812"];
const DEFAULT_ACCT_LISTEN: [&str; 2] = ["0.0.0.0:1813", "[::]:1813"];
const DEFAULT_COA_PORT: u16 = 3799;
const DEFAULT_MAX_DEVICES: usize = 5;
const DEFAULT_SESSION_TIMEOUT_SECS: u32 = 12 * 3600;
const DEFAULT_RETENTION_DAYS: u32 = 30;

/// The list files: each may be `X.toml` and/or `X.d/*.toml`.
const LISTS: [(&str, &str); 4] = [
    ("users", "user"),
    ("devices", "device"),
    ("bans", "ban"),
    ("grants", "grant"),
];

/// One file that was read, kept until the end of the load so positions can be computed.
struct Source {
    rel: PathBuf,
    text: String,
    /// Lines of the file before `text` (a part of a large list file, see `split_list`).
    first_line: usize,
    /// Byte offsets of line starts, built on the first error in this file.
    lines: OnceCell<Vec<usize>>,
}

impl Source {
    /// 1-based line and column (in characters) of a byte offset.
    fn position(&self, offset: usize) -> (u32, u32) {
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

    fn location(&self, offset: usize) -> Location {
        let (line, column) = self.position(offset);
        Location {
            file: self.rel.clone(),
            line,
            column,
        }
    }

    fn error(&self, offset: usize, kind: K) -> ConfigError {
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

fn whole_file(rel: &Path, kind: K) -> ConfigError {
    ConfigError {
        file: rel.to_path_buf(),
        line: 0,
        column: 0,
        kind,
    }
}

/// Index of a file in `Loader::sources`.
type FileId = usize;

/// The names of the users read. Owners of devices, bans and grants are looked up here and
/// share the allocation of the name found.
type UserNames = std::collections::HashSet<UserName, foldhash::fast::RandomState>;

/// A list entry with the file it came from and the position of its `[[...]]` header.
struct Entry<T> {
    file: FileId,
    at: usize,
    value: T,
}

/// Settings from hallpass.toml, with defaults where the file is silent or broken.
struct Main {
    server: ServerSettings,
    radius: RadiusSettings,
    dhcp: DhcpSettings,
    policy: PolicySettings,
    privacy: PrivacySettings,
    /// `[policy]` was read; otherwise its limits are not checked (they would be guesses).
    policy_ok: bool,
}

struct Loader {
    dir: PathBuf,
    sources: Vec<Source>,
    errors: Vec<ConfigError>,
}

/// The config files `load` reads, relative to `dir`, in reading order: hallpass.toml, then
/// for users, devices, bans and grants each `X.toml` (if present) and `X.d/*.toml` sorted by name.
pub fn config_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigErrors> {
    let mut files = vec![PathBuf::from(MAIN_FILE)];
    let mut errors = Vec::new();
    for (stem, _) in LISTS {
        files.extend(list_files(dir, stem, &mut errors));
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

/// Reads and validates the config directory `dir` (see DESIGN.md, "Config files").
///
/// Relative paths in the files resolve against `dir`; `server.state_dir` and `config_dir` in
/// the result are absolute. On failure every problem found is returned, each with file, line
/// and column. Besides the config files (and secret files they name), the only input read is
/// the system time zone, when hallpass.toml names none.
pub fn load(dir: &Path) -> Result<Directory, ConfigErrors> {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut l = Loader {
        dir: normalize(&abs),
        sources: Vec::new(),
        errors: Vec::new(),
    };
    let main = l.load_main();
    let mut users_w = Vec::new();
    let mut devices_w = Vec::new();
    let mut bans_w = Vec::new();
    let mut grants_w = Vec::new();
    // Names of user entries that exist but could not be read: devices and bans of theirs
    // are not reported as "unknown user" (that would bury the real error).
    let mut broken_users: Vec<String> = Vec::new();
    let mut users_complete = true;
    for (stem, key) in LISTS {
        for rel in list_files(&l.dir, stem, &mut l.errors) {
            let src = match read_source(&l.dir, &rel) {
                Ok(s) => s,
                Err(e) => {
                    l.errors.push(*e);
                    users_complete &= key != "user";
                    continue;
                }
            };
            for src in split_list(src, key, ENTRIES_PER_PART) {
                let id = l.sources.len();
                let errors = &mut l.errors;
                match key {
                    "user" => {
                        let names = Some(&mut broken_users);
                        users_complete &= parse_list(&src, id, key, &mut users_w, names, errors);
                    }
                    "device" => {
                        parse_list(&src, id, key, &mut devices_w, None, errors);
                    }
                    "ban" => {
                        parse_list(&src, id, key, &mut bans_w, None, errors);
                    }
                    _ => {
                        parse_list(&src, id, key, &mut grants_w, None, errors);
                    }
                }
                l.sources.push(src);
            }
        }
    }
    let tz = main.server.timezone.clone();
    let users = l.users(users_w);
    let names: UserNames = users.iter().map(|u| u.name.clone()).collect();
    let known = |name: &str| !users_complete || broken_users.iter().any(|b| b == name);
    let devices = l.devices(devices_w, &names, &known, &tz, &main);
    let (user_bans, device_bans) = l.bans(bans_w, &names, &known, &tz);
    // A group is known if a user is in it or a policy group has its name. While some user
    // entry could not be read, any group might be known: do not guess.
    let group_known = |name: &str| {
        !users_complete
            || !broken_users.is_empty()
            || main.policy.groups.iter().any(|g| g.name == name)
            || users.iter().any(|u| u.groups.iter().any(|g| g == name))
    };
    let (user_grants, group_grants) = l.grants(grants_w, &names, &known, &group_known, &tz);
    if !l.errors.is_empty() {
        // Report in reading order: file by file, top to bottom.
        let rank = |e: &ConfigError| {
            let file = l.sources.iter().position(|s| s.rel == e.file);
            (file.unwrap_or(usize::MAX), e.line, e.column)
        };
        let mut errors = std::mem::take(&mut l.errors);
        errors.sort_by_key(rank);
        return Err(ConfigErrors(errors));
    }
    let registry = Registry::new(users, devices, &main.policy.groups);
    Ok(Directory {
        config_dir: l.dir,
        server: main.server,
        radius: main.radius,
        dhcp: main.dhcp,
        policy: main.policy,
        privacy: main.privacy,
        registry,
        user_bans,
        device_bans,
        user_grants,
        group_grants,
    })
}

/// Removes `.` and resolves `..` lexically, so paths print the way admins expect.
fn normalize(p: &Path) -> PathBuf {
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
fn de<T: DeserializeOwned>(v: Spanned<DeValue<'_>>) -> Result<T, (usize, K)> {
    let at = v.span().start;
    T::deserialize(ValueDeserializer::from(v))
        .map_err(|e| (e.span().map_or(at, |s| s.start), from_de(&e)))
}

/// Takes `key` out of a table value if it is there (for `[[radius.client]]` and
/// `[[policy.group]]`, which are read entry by entry).
fn take_key<'i>(v: &mut Spanned<DeValue<'i>>, key: &str) -> Option<Spanned<DeValue<'i>>> {
    match v.get_mut() {
        DeValue::Table(t) => t.remove(key),
        _ => None,
    }
}

/// Reads a file; on failure returns the whole-file error.
fn read_source(dir: &Path, rel: &Path) -> Result<Source, Box<ConfigError>> {
    let bytes = std::fs::read(dir.join(rel)).map_err(|e| {
        Box::new(whole_file(
            rel,
            K::Unreadable {
                detail: e.to_string(),
            },
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|_| Box::new(whole_file(rel, K::NotUtf8)))?;
    Ok(Source {
        rel: rel.to_path_buf(),
        text,
        first_line: 0,
        lines: OnceCell::new(),
    })
}

/// Entries of a list file parsed as one TOML document (see `split_list`).
const ENTRIES_PER_PART: usize = 1000;

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
            text,
            first_line: src.first_line + start.1,
            lines: OnceCell::new(),
        });
        start = end;
    }
    parts
}

/// Parses a whole file as TOML; a syntax error is recorded.
fn parse_file<'i>(src: &'i Source, errors: &mut Vec<ConfigError>) -> Option<DeTable<'i>> {
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
    key: &str,
    out: &mut Vec<Entry<T>>,
    mut broken_names: Option<&mut Vec<String>>,
    errors: &mut Vec<ConfigError>,
) -> bool {
    let Some(table) = parse_file(src, errors) else {
        return false;
    };
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

/// Records errors against one file while it is being read.
struct Cx<'a> {
    src: &'a Source,
    errors: &'a mut Vec<ConfigError>,
}

impl Cx<'_> {
    fn err(&mut self, at: usize, kind: K) {
        self.errors.push(self.src.error(at, kind));
    }

    /// Deserializes a section; on failure records the error and returns None.
    fn section<T: DeserializeOwned>(&mut self, v: Spanned<DeValue<'_>>) -> Option<T> {
        match de::<T>(v) {
            Ok(t) => Some(t),
            Err((at, kind)) => {
                self.err(at, kind);
                None
            }
        }
    }

    /// Deserializes each entry of a `[[key]]` list taken out of a section.
    fn entries<T: DeserializeOwned>(
        &mut self,
        list: Option<Spanned<DeValue<'_>>>,
        key: &str,
    ) -> Vec<(usize, T)> {
        let Some(list) = list else {
            return Vec::new();
        };
        let at = list.span().start;
        let DeValue::Array(items) = list.into_inner() else {
            self.err(at, K::NotAList { key: key.into() });
            return Vec::new();
        };
        items
            .into_iter()
            .filter_map(|item| {
                let at = item.span().start;
                self.section::<T>(item).map(|t| (at, t))
            })
            .collect()
    }
}

fn default_listen(addrs: [&str; 2]) -> Vec<SocketAddr> {
    addrs.iter().filter_map(|a| a.parse().ok()).collect()
}

impl Main {
    fn defaults() -> Main {
        Main {
            server: ServerSettings {
                state_dir: PathBuf::from(DEFAULT_STATE_DIR),
                timezone: TimeZone::try_system().unwrap_or(TimeZone::UTC),
                language: Language::De,
                metrics_listen: None,
            },
            radius: RadiusSettings {
                auth_listen: default_listen(DEFAULT_AUTH_LISTEN),
                acct_listen: default_listen(DEFAULT_ACCT_LISTEN),
                clients: Vec::new(),
            },
            dhcp: DhcpSettings::default(),
            policy: PolicySettings {
                max_devices_per_user: DEFAULT_MAX_DEVICES,
                session_timeout_secs: DEFAULT_SESSION_TIMEOUT_SECS,
                unregistered_vlan: None,
                groups: Vec::new(),
            },
            privacy: PrivacySettings {
                retention_days: DEFAULT_RETENTION_DAYS,
            },
            policy_ok: true,
        }
    }
}

impl Loader {
    fn err(&mut self, id: FileId, at: usize, kind: K) {
        if let Some(s) = self.sources.get(id) {
            self.errors.push(s.error(at, kind));
        }
    }

    fn loc(&self, id: FileId, at: usize) -> Location {
        match self.sources.get(id) {
            Some(s) => s.location(at),
            None => Location {
                file: PathBuf::new(),
                line: 0,
                column: 0,
            },
        }
    }

    /// hallpass.toml: settings, with defaults for whatever it leaves out.
    fn load_main(&mut self) -> Main {
        let mut main = Main::defaults();
        let src = match read_source(&self.dir, Path::new(MAIN_FILE)) {
            Ok(s) => s,
            Err(e) => {
                self.errors.push(*e);
                main.policy_ok = false;
                return main;
            }
        };
        let mut cx = Cx {
            src: &src,
            errors: &mut self.errors,
        };
        // Clients that still have the example secret: (name, where the secret is set).
        let mut examples: Vec<(String, usize)> = Vec::new();
        match parse_file(&src, cx.errors) {
            Some(table) => {
                for (k, mut v) in table {
                    match k.get_ref().as_ref() {
                        "server" => {
                            if let Some(w) = cx.section::<WireServer>(v) {
                                server(&mut cx, w, &self.dir, &mut main.server);
                            }
                        }
                        "radius" => {
                            let clients = take_key(&mut v, "client");
                            if let Some(w) = cx.section::<WireRadius>(v) {
                                listen(&mut cx, w.auth_listen, &mut main.radius.auth_listen);
                                listen(&mut cx, w.acct_listen, &mut main.radius.acct_listen);
                            }
                            let clients = cx.entries::<WireClient>(clients, "radius.client");
                            main.radius.clients =
                                radius_clients(&mut cx, clients, &self.dir, &mut examples);
                        }
                        "dhcp" => {
                            if let Some(w) = cx.section::<WireDhcp>(v) {
                                main.dhcp = dhcp(&mut cx, w);
                            }
                        }
                        "policy" => {
                            let groups = take_key(&mut v, "group");
                            match cx.section::<WirePolicy>(v) {
                                Some(w) => main.policy_ok &= policy(&mut cx, w, &mut main.policy),
                                None => main.policy_ok = false,
                            }
                            let groups = cx.entries::<WireGroup>(groups, "policy.group");
                            main.policy.groups = policy_groups(&mut cx, groups);
                        }
                        "privacy" => {
                            if let Some(w) = cx.section::<WirePrivacy>(v)
                                && let Some(d) = w.retention_days
                            {
                                match u32::try_from(*d.get_ref()) {
                                    Ok(n) if n >= 1 => main.privacy.retention_days = n,
                                    _ => cx.err(
                                        d.span().start,
                                        K::TooSmall {
                                            key: "retention_days",
                                            min: 1,
                                            value: *d.get_ref(),
                                        },
                                    ),
                                }
                            }
                        }
                        other => cx.err(
                            k.span().start,
                            K::UnknownKey {
                                key: other.to_string(),
                                allowed:
                                    "expected [server], [radius], [dhcp], [policy] or [privacy]"
                                        .into(),
                            },
                        ),
                    }
                }
            }
            None => main.policy_ok = false,
        }
        // Checked after the whole file: the listen addresses may come after the clients, and
        // absent ones mean the defaults, which are every address.
        let radius = &main.radius;
        if let Some(listen) = radius
            .auth_listen
            .iter()
            .chain(&radius.acct_listen)
            .find(|a| !a.ip().is_loopback())
        {
            for (client, at) in examples {
                let listen = *listen;
                cx.err(at, K::ExampleSecret { client, listen });
            }
        }
        self.sources.push(src);
        main
    }

    /// The users, in reading order.
    fn users(&mut self, entries: Vec<Entry<WireUser>>) -> Vec<User> {
        let mut users: Vec<User> = Vec::with_capacity(entries.len());
        let mut first: Map<UserName, (FileId, usize)> =
            Map::with_capacity_and_hasher(entries.len(), Default::default());
        for Entry { file, value: w, .. } in entries {
            let name_at = w.name.span().start;
            let name = w.name.into_inner();
            if name.is_empty() {
                self.err(file, name_at, K::EmptyUserName);
                continue;
            }
            if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                self.err(file, name_at, K::BadUserName { name: name.clone() });
            } else if MacAddr::parse_bytes(name.as_bytes()).is_some() {
                self.err(file, name_at, K::UserNameIsMac { name: name.clone() });
            }
            if let Some(p) = &w.password
                && !is_argon2_phc(p.get_ref())
            {
                self.err(
                    file,
                    p.span().start,
                    K::BadPasswordHash { user: name.clone() },
                );
            }
            if let Some(&(f, at)) = first.get(name.as_str()) {
                let first = self.loc(f, at);
                self.err(file, name_at, K::DuplicateUser { name, first });
                continue;
            }
            let key: UserName = Arc::from(name);
            first.insert(key.clone(), (file, name_at));
            // Kept even when invalid (the load fails anyway), so that its devices and bans
            // are not also reported as belonging to an unknown user.
            users.push(User {
                name: key,
                groups: w.groups,
                consent: w.consent,
                disabled: w.disabled,
                password_hash: w.password.map(Spanned::into_inner),
            });
        }
        users
    }

    /// The shared name of a user, if known; otherwise records `unknown` unless `known` says
    /// the user's entry exists but is broken. `Err(())` means: skip this entry.
    fn owner(
        &mut self,
        users: &UserNames,
        known: &dyn Fn(&str) -> bool,
        name: &Spanned<String>,
        unknown: K,
        file: FileId,
    ) -> Option<UserName> {
        if let Some(k) = users.get(name.get_ref().as_str()) {
            return Some(k.clone());
        }
        if !known(name.get_ref()) {
            self.err(file, name.span().start, unknown);
        }
        None
    }

    fn devices(
        &mut self,
        entries: Vec<Entry<WireDevice>>,
        users: &UserNames,
        known: &dyn Fn(&str) -> bool,
        tz: &TimeZone,
        main: &Main,
    ) -> Vec<Device> {
        let mut devices: Vec<Device> = Vec::with_capacity(entries.len());
        // Where each MAC was first registered, for the "registered twice" message.
        let mut first: Map<MacAddr, (FileId, usize)> =
            Map::with_capacity_and_hasher(entries.len(), Default::default());
        let mut per_owner: Map<UserName, usize> =
            Map::with_capacity_and_hasher(users.len(), Default::default());
        // The first device over the limit, per owner: (file, offset, mac, number).
        let mut over: Vec<(FileId, usize, MacAddr, UserName, usize)> = Vec::new();
        let max = main.policy.max_devices_per_user;
        for Entry { file, value: w, .. } in entries {
            let mac_at = w.mac.span().start;
            let Some(mac) = MacAddr::parse_bytes(w.mac.get_ref().trim().as_bytes()) else {
                let value = w.mac.into_inner();
                self.err(file, mac_at, K::BadMac { value });
                continue;
            };
            match first.entry(mac) {
                MapEntry::Occupied(o) => {
                    let (f, at) = *o.get();
                    let first = self.loc(f, at);
                    self.err(file, mac_at, K::DuplicateMac { mac, first });
                    continue;
                }
                MapEntry::Vacant(v) => {
                    v.insert((file, mac_at));
                }
            }
            let unknown = K::UnknownOwner {
                mac,
                owner: w.owner.get_ref().clone(),
            };
            let owner = self.owner(users, known, &w.owner, unknown, file);
            let registered = match &w.registered {
                None => None,
                Some(d) => match to_timestamp(d.get_ref(), tz) {
                    Ok(t) => Some(t),
                    Err(k) => {
                        self.err(file, d.span().start, k);
                        None
                    }
                },
            };
            let Some(owner) = owner else { continue };
            let n = per_owner.entry(owner.clone()).or_insert(0);
            *n += 1;
            if main.policy_ok && *n == max + 1 {
                over.push((file, mac_at, mac, owner.clone(), *n));
            }
            devices.push(Device {
                mac,
                owner,
                label: w.label,
                registered,
            });
        }
        for (file, at, mac, owner, number) in over {
            let count = per_owner.get(&owner).copied().unwrap_or(number);
            let kind = K::TooManyDevices {
                mac,
                owner: owner.to_string(),
                number,
                max,
                count,
            };
            self.err(file, at, kind);
        }
        devices
    }

    #[allow(clippy::type_complexity)]
    fn bans(
        &mut self,
        entries: Vec<Entry<WireBan>>,
        users: &UserNames,
        known: &dyn Fn(&str) -> bool,
        tz: &TimeZone,
    ) -> (Map<UserName, Vec<Ban>>, Map<MacAddr, Vec<Ban>>) {
        let mut user_bans: Map<UserName, Vec<Ban>> = Map::default();
        let mut device_bans: Map<MacAddr, Vec<Ban>> = Map::default();
        for Entry { file, at, value: w } in entries {
            let before = self.errors.len();
            let target = match (&w.user, &w.mac) {
                (Some(_), Some(_)) => {
                    self.err(file, at, K::BanTargetBoth);
                    None
                }
                (None, None) => {
                    self.err(file, at, K::BanTargetMissing);
                    None
                }
                (Some(u), None) => {
                    let unknown = K::BanUnknownUser {
                        user: u.get_ref().clone(),
                    };
                    self.owner(users, known, u, unknown, file)
                        .map(BanTarget::User)
                }
                (None, Some(m)) => match MacAddr::parse_bytes(m.get_ref().trim().as_bytes()) {
                    Some(mac) => Some(BanTarget::Mac(mac)),
                    None => {
                        let value = m.get_ref().clone();
                        self.err(file, m.span().start, K::BadMac { value });
                        None
                    }
                },
            };
            let mut modules = ModuleSet::default();
            if w.modules.get_ref().is_empty() {
                self.err(file, w.modules.span().start, K::NoModules);
            }
            for m in w.modules.get_ref() {
                if modules.add(m.get_ref()).is_err() {
                    let value = m.get_ref().clone();
                    self.err(file, m.span().start, K::BadBanModule { value });
                }
            }
            let mut when = |d: &Option<Spanned<Datetime>>| match d {
                None => None,
                Some(d) => match to_timestamp(d.get_ref(), tz) {
                    Ok(t) => Some(t),
                    Err(k) => {
                        self.err(file, d.span().start, k);
                        None
                    }
                },
            };
            let from = when(&w.from);
            let until = when(&w.until);
            if let (Some(f), Some(u), Some(fw), Some(uw)) = (from, until, &w.from, &w.until)
                && u <= f
            {
                let kind = K::BanEndsBeforeStart {
                    from: fw.get_ref().to_string(),
                    until: uw.get_ref().to_string(),
                };
                self.err(file, uw.span().start, kind);
            }
            let reason = match w.reason {
                None => {
                    self.err(file, at, K::BanReasonMissing);
                    String::new()
                }
                Some(r) if r.get_ref().trim().is_empty() => {
                    self.err(file, r.span().start, K::BanReasonEmpty);
                    String::new()
                }
                Some(r) => r.into_inner(),
            };
            let Some(target) = target else { continue };
            if self.errors.len() != before {
                continue;
            }
            let ban = Ban {
                target: target.clone(),
                modules,
                from,
                until,
                reason,
                by: w.by,
            };
            match target {
                BanTarget::User(u) => user_bans.entry(u).or_default().push(ban),
                BanTarget::Mac(m) => device_bans.entry(m).or_default().push(ban),
            }
        }
        (user_bans, device_bans)
    }
}

impl Loader {
    #[allow(clippy::type_complexity)]
    fn grants(
        &mut self,
        entries: Vec<Entry<WireGrant>>,
        users: &UserNames,
        known: &dyn Fn(&str) -> bool,
        group_known: &dyn Fn(&str) -> bool,
        tz: &TimeZone,
    ) -> (Map<UserName, Vec<Grant>>, Map<Arc<str>, Vec<Grant>>) {
        let mut user_grants: Map<UserName, Vec<Grant>> = Map::default();
        let mut group_grants: Map<Arc<str>, Vec<Grant>> = Map::default();
        for Entry { file, at, value: w } in entries {
            let before = self.errors.len();
            let target = match (&w.user, &w.group) {
                (Some(_), Some(_)) => {
                    self.err(file, at, K::GrantTargetBoth);
                    None
                }
                (None, None) => {
                    self.err(file, at, K::GrantTargetMissing);
                    None
                }
                (Some(u), None) => {
                    let unknown = K::GrantUnknownUser {
                        user: u.get_ref().clone(),
                    };
                    self.owner(users, known, u, unknown, file)
                        .map(GrantTarget::User)
                }
                (None, Some(g)) => {
                    if group_known(g.get_ref()) {
                        Some(GrantTarget::Group(Arc::from(g.get_ref().as_str())))
                    } else {
                        let group = g.get_ref().clone();
                        self.err(file, g.span().start, K::GrantUnknownGroup { group });
                        None
                    }
                }
            };
            let mut modules = ModuleSet::default();
            if w.modules.get_ref().is_empty() {
                self.err(file, w.modules.span().start, K::NoModules);
            }
            for m in w.modules.get_ref() {
                if modules.add(m.get_ref()).is_err() {
                    let value = m.get_ref().clone();
                    self.err(file, m.span().start, K::BadGrantModule { value });
                }
            }
            let mut when = |d: &Option<Spanned<Datetime>>, key: &'static str| match d {
                None => {
                    self.err(file, at, K::GrantTimeMissing { key });
                    None
                }
                Some(d) => match to_timestamp(d.get_ref(), tz) {
                    Ok(t) => Some(t),
                    Err(k) => {
                        self.err(file, d.span().start, k);
                        None
                    }
                },
            };
            let from = when(&w.from, "from");
            let until = when(&w.until, "until");
            if let (Some(f), Some(u), Some(fw), Some(uw)) = (from, until, &w.from, &w.until)
                && u <= f
            {
                let kind = K::GrantEndsBeforeStart {
                    from: fw.get_ref().to_string(),
                    until: uw.get_ref().to_string(),
                };
                self.err(file, uw.span().start, kind);
            }
            let reason = match w.reason {
                None => {
                    self.err(file, at, K::GrantReasonMissing);
                    String::new()
                }
                Some(r) if r.get_ref().trim().is_empty() => {
                    self.err(file, r.span().start, K::GrantReasonEmpty);
                    String::new()
                }
                Some(r) => r.into_inner(),
            };
            let (Some(target), Some(from), Some(until)) = (target, from, until) else {
                continue;
            };
            if self.errors.len() != before {
                continue;
            }
            let grant = Grant {
                target: target.clone(),
                modules,
                from,
                until,
                reason,
                by: w.by,
            };
            match target {
                GrantTarget::User(u) => user_grants.entry(u).or_default().push(grant),
                GrantTarget::Group(g) => group_grants.entry(g).or_default().push(grant),
            }
        }
        (user_grants, group_grants)
    }
}

fn is_argon2_phc(s: &str) -> bool {
    argon2::PasswordHash::new(s).is_ok_and(|h| {
        matches!(h.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") && h.hash.is_some()
    })
}

fn server(cx: &mut Cx<'_>, w: WireServer, dir: &Path, out: &mut ServerSettings) {
    if let Some(s) = w.state_dir {
        if s.get_ref().trim().is_empty() {
            cx.err(s.span().start, K::EmptyStateDir);
        } else {
            // Relative state_dir resolves against the config dir; the result is absolute.
            out.state_dir = normalize(&dir.join(s.get_ref()));
        }
    }
    if let Some(tz) = w.timezone {
        match TimeZone::get(tz.get_ref()) {
            Ok(t) => out.timezone = t,
            Err(_) => {
                let name = tz.get_ref().clone();
                cx.err(tz.span().start, K::UnknownTimeZone { name });
            }
        }
    }
    if let Some(l) = w.language {
        match l.get_ref().as_str() {
            "de" => out.language = Language::De,
            "en" => out.language = Language::En,
            _ => {
                let value = l.get_ref().clone();
                cx.err(l.span().start, K::BadLanguage { value });
            }
        }
    }
    if let Some(a) = w.metrics_listen {
        match a.get_ref().trim().parse::<SocketAddr>() {
            Ok(s) => out.metrics_listen = Some(s),
            Err(_) => {
                let value = a.get_ref().clone();
                cx.err(a.span().start, K::BadMetricsAddress { value });
            }
        }
    }
}

fn listen(cx: &mut Cx<'_>, w: Option<Vec<Spanned<String>>>, out: &mut Vec<SocketAddr>) {
    let Some(list) = w else { return };
    out.clear();
    for a in list {
        match a.get_ref().trim().parse::<SocketAddr>() {
            Ok(s) => out.push(s),
            Err(_) => {
                let value = a.get_ref().clone();
                cx.err(a.span().start, K::BadListenAddress { value });
            }
        }
    }
}

fn radius_clients(
    cx: &mut Cx<'_>,
    list: Vec<(usize, WireClient)>,
    dir: &Path,
    examples: &mut Vec<(String, usize)>,
) -> Vec<Client> {
    let mut out: Vec<Client> = Vec::with_capacity(list.len());
    let mut seen: Map<IpNetwork, (String, usize)> = Map::default();
    for (_, w) in list {
        let name = w.name.get_ref().clone();
        let mut ok = true;
        if name.trim().is_empty() {
            cx.err(w.name.span().start, K::EmptyClientName);
            ok = false;
        }
        let network = match w.address.get_ref().trim().parse::<IpNetwork>() {
            // Host bits are dropped: "10.0.0.5/24" is the network 10.0.0.0/24.
            Ok(n) => Some(IpNetwork::new(n.network(), n.prefix()).unwrap_or(n)),
            Err(_) => {
                let value = w.address.get_ref().clone();
                cx.err(w.address.span().start, K::BadClientAddress { value });
                None
            }
        };
        if let Some(n) = network {
            match seen.get(&n) {
                Some((first_client, at)) => {
                    let kind = K::DuplicateClientNetwork {
                        client: name.clone(),
                        network: n,
                        first_client: first_client.clone(),
                        first: cx.src.location(*at),
                    };
                    cx.err(w.address.span().start, kind);
                    ok = false;
                }
                None => {
                    seen.insert(n, (name.clone(), w.address.span().start));
                }
            }
        }
        let module = match w.module.get_ref().as_str() {
            "wifi" => Some(Module::Wifi),
            "lan" => Some(Module::Lan),
            _ => {
                let value = w.module.get_ref().clone();
                cx.err(w.module.span().start, K::BadClientModule { value });
                None
            }
        };
        let secret = client_secret(cx, &w, dir);
        if let Some(s) = &secret
            && s.as_bytes() == EXAMPLE_SECRET.as_bytes()
            && let Some(at) = w.secret.as_ref().or(w.secret_file.as_ref())
        {
            examples.push((name.clone(), at.span().start));
        }
        if let (true, Some(network), Some(module), Some(secret)) = (ok, network, module, secret) {
            out.push(Client {
                name: name.into(),
                network,
                secret,
                module,
                require_message_authenticator: w.require_message_authenticator.unwrap_or(true),
                coa_port: w.coa_port.unwrap_or(DEFAULT_COA_PORT),
            });
        }
    }
    // Most specific first; equal prefixes keep file order (stable sort).
    out.sort_by_key(|c| std::cmp::Reverse(c.network.prefix()));
    out
}

fn client_secret(cx: &mut Cx<'_>, w: &WireClient, dir: &Path) -> Option<Secret> {
    let client = w.name.get_ref().clone();
    let (bytes, at) = match (&w.secret, &w.secret_file) {
        (Some(_), Some(f)) => {
            cx.err(f.span().start, K::SecretBoth { client });
            return None;
        }
        (None, None) => {
            cx.err(w.name.span().start, K::SecretMissing { client });
            return None;
        }
        (Some(s), None) => (s.get_ref().as_bytes().to_vec(), s.span().start),
        (None, Some(f)) => match std::fs::read(dir.join(f.get_ref())) {
            Ok(mut b) => {
                // One trailing newline is how editors and `echo` end a file, not part of
                // the secret.
                if b.last() == Some(&b'\n') {
                    b.pop();
                    if b.last() == Some(&b'\r') {
                        b.pop();
                    }
                }
                (b, f.span().start)
            }
            Err(e) => {
                let kind = K::SecretFileUnreadable {
                    client,
                    path: f.get_ref().clone(),
                    detail: e.to_string(),
                };
                cx.err(f.span().start, kind);
                return None;
            }
        },
    };
    let secret = Secret::new(bytes);
    let length = std::str::from_utf8(secret.as_bytes())
        .map_or(secret.as_bytes().len(), |s| s.chars().count());
    if length < MIN_SECRET_LEN {
        cx.err(at, K::SecretTooShort { client, length });
        return None;
    }
    Some(secret)
}

fn dhcp(cx: &mut Cx<'_>, w: WireDhcp) -> DhcpSettings {
    let mut out = DhcpSettings::default();
    for i in w.interfaces {
        let name = i.get_ref();
        // Linux interface names: 1 to 15 bytes, no '/', no whitespace.
        if name.is_empty()
            || name.len() > 15
            || name
                .chars()
                .any(|c| c == '/' || c.is_whitespace() || c.is_control())
        {
            let value = name.clone();
            cx.err(i.span().start, K::BadInterface { value });
        } else {
            out.interfaces.push(i.into_inner());
        }
    }
    for s in w.trusted_servers {
        match s.get_ref().trim().parse::<IpAddr>() {
            Ok(ip) => out.trusted_servers.push(ip),
            Err(_) => {
                let value = s.get_ref().clone();
                cx.err(s.span().start, K::BadIp { value });
            }
        }
    }
    out
}

/// Returns false if a limit could not be read.
fn policy(cx: &mut Cx<'_>, w: WirePolicy, out: &mut PolicySettings) -> bool {
    let mut ok = true;
    if let Some(m) = w.max_devices_per_user {
        match usize::try_from(*m.get_ref()) {
            Ok(n) if n >= 1 => out.max_devices_per_user = n,
            _ => {
                let kind = K::TooSmall {
                    key: "max_devices_per_user",
                    min: 1,
                    value: *m.get_ref(),
                };
                cx.err(m.span().start, kind);
                ok = false;
            }
        }
    }
    if let Some(t) = w.session_timeout {
        match parse_duration_secs(t.get_ref()) {
            Ok(s) => out.session_timeout_secs = s,
            Err(k) => cx.err(t.span().start, k),
        }
    }
    if let Some(v) = w.unregistered_vlan {
        match Vlan::new(*v.get_ref()) {
            Ok(vlan) => out.unregistered_vlan = Some(vlan),
            Err(_) => cx.err(
                v.span().start,
                K::BadVlan {
                    value: *v.get_ref(),
                },
            ),
        }
    }
    ok
}

fn policy_groups(cx: &mut Cx<'_>, list: Vec<(usize, WireGroup)>) -> Vec<PolicyGroup> {
    let mut out = Vec::with_capacity(list.len());
    let mut seen: Map<String, usize> = Map::default();
    for (_, w) in list {
        let name_at = w.name.span().start;
        let name = w.name.into_inner();
        let mut ok = true;
        if name.trim().is_empty() {
            cx.err(name_at, K::EmptyGroupName);
            ok = false;
        } else if let Some(&at) = seen.get(&name) {
            let first = cx.src.location(at);
            cx.err(
                name_at,
                K::DuplicateGroup {
                    name: name.clone(),
                    first,
                },
            );
            ok = false;
        } else {
            seen.insert(name.clone(), name_at);
        }
        let vlan = match Vlan::new(*w.vlan.get_ref()) {
            Ok(v) => Some(v),
            Err(_) => {
                let kind = K::BadVlan {
                    value: *w.vlan.get_ref(),
                };
                cx.err(w.vlan.span().start, kind);
                None
            }
        };
        let access = match &w.access {
            None => Some(Access::Always),
            Some(a) => match a.get_ref().as_str() {
                "always" => Some(Access::Always),
                "grant" => Some(Access::Grant),
                _ => {
                    let value = a.get_ref().clone();
                    cx.err(a.span().start, K::BadAccess { value });
                    None
                }
            },
        };
        let schedule = match &w.schedule {
            None => Some(None),
            Some(list) => schedule(cx, list).map(|s| Some(Arc::new(s))),
        };
        let daily_quota = match &w.daily_quota {
            None => Some(None),
            Some(q) => match parse_data_amount(q.get_ref()) {
                Ok(b) => Some(Some(b)),
                Err(problem) => {
                    cx.err(q.span().start, K::BadQuota { problem });
                    None
                }
            },
        };
        if let (true, Some(vlan), Some(access), Some(schedule), Some(daily_quota)) =
            (ok, vlan, access, schedule, daily_quota)
        {
            out.push(PolicyGroup {
                name,
                vlan,
                filter_id: w.filter_id.map(|f| Arc::from(f.into_inner())),
                access,
                schedule,
                daily_quota,
            });
        }
    }
    out
}

/// The windows of a `schedule`; every bad one is reported at its own string.
fn schedule(cx: &mut Cx<'_>, list: &Spanned<Vec<Spanned<String>>>) -> Option<Schedule> {
    if list.get_ref().is_empty() {
        cx.err(list.span().start, K::EmptySchedule);
        return None;
    }
    let mut windows = Vec::with_capacity(list.get_ref().len());
    let mut ok = true;
    for s in list.get_ref() {
        match ScheduleWindow::parse(s.get_ref()) {
            Ok(w) => windows.push(w),
            Err(problem) => {
                cx.err(s.span().start, K::BadSchedule { problem });
                ok = false;
            }
        }
    }
    ok.then_some(Schedule(windows))
}

/// Seconds of a duration like "12h", "7d", "90m", "30s" or "1h30m" (days are 24 hours).
pub(super) fn parse_duration_secs(s: &str) -> Result<u32, K> {
    let bad = || K::BadDuration {
        value: s.to_string(),
    };
    let span: Span = s.trim().parse().map_err(|_| bad())?;
    let secs = span
        .total(SpanTotal::from(Unit::Second).days_are_24_hours())
        .map_err(|_| bad())?;
    if !(1.0..=f64::from(u32::MAX)).contains(&secs) {
        return Err(K::DurationOutOfRange {
            value: s.to_string(),
        });
    }
    Ok(secs as u32)
}

/// A TOML date or date-time as a point in time: with an offset as written; without one
/// (a local date-time, or a date meaning its midnight) in the configured time zone.
pub(super) fn to_timestamp(d: &Datetime, tz: &TimeZone) -> Result<Timestamp, K> {
    let bad = || K::BadDatetime {
        value: d.to_string(),
    };
    let date = d.date.ok_or_else(bad)?;
    let (h, m, s, ns) = d.time.map_or((0, 0, 0, 0), |t| {
        (
            t.hour,
            t.minute,
            t.second.unwrap_or(0),
            t.nanosecond.unwrap_or(0),
        )
    });
    let dt = civil::DateTime::new(
        i16::try_from(date.year).map_err(|_| bad())?,
        i8::try_from(date.month).map_err(|_| bad())?,
        i8::try_from(date.day).map_err(|_| bad())?,
        i8::try_from(h).map_err(|_| bad())?,
        i8::try_from(m).map_err(|_| bad())?,
        i8::try_from(s).map_err(|_| bad())?,
        i32::try_from(ns).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    match d.offset {
        None => tz.to_timestamp(dt).map_err(|_| bad()),
        Some(toml::value::Offset::Z) => Offset::UTC.to_timestamp(dt).map_err(|_| bad()),
        Some(toml::value::Offset::Custom { minutes }) => {
            Offset::from_seconds(i32::from(minutes) * 60)
                .and_then(|o| o.to_timestamp(dt))
                .map_err(|_| bad())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod split_tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source {
            rel: PathBuf::from("devices.toml"),
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
}
