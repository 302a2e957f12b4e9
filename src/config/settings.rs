//! hallpass.toml: the settings of `[server]`, `[radius]` (with its clients and their
//! secrets), `[dhcp]`, `[policy]` (with its groups), `[privacy]` and `[eap]` (checked in
//! `eap`), each checked, with defaults for whatever the file leaves out.
//! Must not: read any file itself (secret files come through the caller's reader).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipnetwork::IpNetwork;
use jiff::tz::TimeZone;
use jiff::{Span, SpanTotal, Unit};
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::DeValue;

use super::directory::{
    Client, DhcpSettings, Map, PolicyGroup, PolicySettings, PrivacySettings, RadiusSettings,
    ServerSettings,
};
use super::error::{ConfigError, ConfigErrorKind as K};
use super::read::{Source, normalize};
use super::validate::{SecretFiles, de, parse_file};
use super::warning::{ConfigWarning, ConfigWarningKind};
use super::wire::{
    WireClient, WireDhcp, WireGroup, WirePolicy, WirePrivacy, WireRadius, WireServer,
};
use crate::model::{Access, Language, Module, Schedule, ScheduleWindow, Vlan, parse_data_amount};
use crate::secret::SharedSecret;

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
const DEFAULT_MIN_FREE_SPACE: u64 = crate::store::DEFAULT_MIN_FREE_SPACE;
const DEFAULT_FAILED_LOGINS_WARNING: u32 = 10;
const DEFAULT_FAILED_LOGINS_SLOWDOWN: u32 = 5;
/// More failures than this in 10 minutes is no threshold but a typo.
const MAX_FAILED_LOGINS: u32 = 1_000_000;

/// Settings from hallpass.toml, with defaults where the file is silent or broken.
pub(super) struct Main {
    pub(super) server: ServerSettings,
    pub(super) radius: RadiusSettings,
    pub(super) dhcp: DhcpSettings,
    pub(super) policy: PolicySettings,
    pub(super) privacy: PrivacySettings,
    pub(super) eap: Option<super::directory::EapSettings>,
    /// `[policy]` was read; otherwise its limits are not checked (they would be guesses).
    pub(super) policy_ok: bool,
    /// Settings that load but weaken hallpass.
    pub(super) warnings: Vec<ConfigWarning>,
}

/// Takes `key` out of a table value if it is there (for `[[radius.client]]` and
/// `[[policy.group]]`, which are read entry by entry).
fn take_key<'i>(v: &mut Spanned<DeValue<'i>>, key: &str) -> Option<Spanned<DeValue<'i>>> {
    match v.get_mut() {
        DeValue::Table(t) => t.remove(key),
        _ => None,
    }
}

/// Records errors against one file while it is being read.
pub(super) struct Cx<'a> {
    pub(super) src: &'a Source,
    pub(super) errors: &'a mut Vec<ConfigError>,
}

impl Cx<'_> {
    pub(super) fn err(&mut self, at: usize, kind: K) {
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
                min_free_space: DEFAULT_MIN_FREE_SPACE,
                max_database_size: None,
                failed_logins_warning: DEFAULT_FAILED_LOGINS_WARNING,
                failed_logins_slowdown: DEFAULT_FAILED_LOGINS_SLOWDOWN,
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
                device_expiry_secs: None,
                groups: Vec::new(),
            },
            privacy: PrivacySettings {
                retention_days: DEFAULT_RETENTION_DAYS,
            },
            eap: None,
            policy_ok: true,
            warnings: Vec::new(),
        }
    }

    /// The settings of hallpass.toml when it could not be read: the defaults, but its
    /// limits are not checked (they would be guesses).
    pub(super) fn unread() -> Main {
        Main {
            policy_ok: false,
            ..Main::defaults()
        }
    }

    /// hallpass.toml: settings, with defaults for whatever it leaves out. `dir` is the
    /// config directory, which relative paths in the file are relative to.
    pub(super) fn read(
        src: &Source,
        dir: &Path,
        secret_files: SecretFiles<'_>,
        now: jiff::Timestamp,
        errors: &mut Vec<ConfigError>,
    ) -> Main {
        let mut main = Main::defaults();
        let mut cx = Cx { src, errors };
        // Clients that still have the example secret: (name, where the secret is set).
        let mut examples: Vec<(String, usize)> = Vec::new();
        match parse_file(src, cx.errors) {
            Some(table) => {
                for (k, mut v) in table {
                    match k.get_ref().as_ref() {
                        "server" => {
                            if let Some(w) = cx.section::<WireServer>(v) {
                                server(&mut cx, w, dir, &mut main.server);
                            }
                        }
                        "radius" => {
                            let clients = take_key(&mut v, "client");
                            if let Some(w) = cx.section::<WireRadius>(v) {
                                listen(&mut cx, w.auth_listen, &mut main.radius.auth_listen);
                                listen(&mut cx, w.acct_listen, &mut main.radius.acct_listen);
                            }
                            let clients = cx.entries::<WireClient>(clients, "radius.client");
                            main.radius.clients = radius_clients(
                                &mut cx,
                                clients,
                                secret_files,
                                &mut examples,
                                &mut main.warnings,
                            );
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
                        "eap" => {
                            let at = v.span().start;
                            if let Some(w) = cx.section(v) {
                                let files = super::eap::Files {
                                    dir,
                                    read: secret_files,
                                };
                                main.eap = super::eap::eap(&mut cx, at, w, &files, now);
                            }
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
                                    "expected [server], [radius], [dhcp], [policy], [privacy] or [eap]"
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
        main
    }
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
    if let Some(s) = w.min_free_space {
        match parse_data_amount(s.get_ref()) {
            Ok(n) => out.min_free_space = n,
            Err(problem) => {
                let key = "min_free_space";
                cx.err(s.span().start, K::BadSize { key, problem });
            }
        }
    }
    if let Some(s) = w.max_database_size {
        // A data amount is never zero (a zero cap would refuse every sighting): leave the
        // key out for no cap.
        match parse_data_amount(s.get_ref()) {
            Ok(n) => out.max_database_size = Some(n),
            Err(problem) => {
                let key = "max_database_size";
                cx.err(s.span().start, K::BadSize { key, problem });
            }
        }
    }
    let counts = [
        (
            w.failed_logins_warning,
            "failed_logins_warning",
            &mut out.failed_logins_warning,
        ),
        (
            w.failed_logins_slowdown,
            "failed_logins_slowdown",
            &mut out.failed_logins_slowdown,
        ),
    ];
    for (value, key, out) in counts {
        let Some(v) = value else { continue };
        let value = *v.get_ref();
        match u32::try_from(value) {
            Ok(n) if n <= MAX_FAILED_LOGINS => *out = n,
            _ if value < 0 => cx.err(v.span().start, K::TooSmall { key, min: 0, value }),
            _ => {
                let max = i64::from(MAX_FAILED_LOGINS);
                cx.err(v.span().start, K::TooLarge { key, max, value });
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
    secret_files: SecretFiles<'_>,
    examples: &mut Vec<(String, usize)>,
    warnings: &mut Vec<ConfigWarning>,
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
        if let Some(r) = &w.require_message_authenticator
            && !*r.get_ref()
        {
            let at = cx.src.location(r.span().start);
            warnings.push(ConfigWarning {
                file: at.file,
                line: at.line,
                column: at.column,
                kind: ConfigWarningKind::NoMessageAuthenticator {
                    client: name.clone(),
                },
            });
        }
        let secret = client_secret(cx, &w, secret_files);
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
                require_message_authenticator: w
                    .require_message_authenticator
                    .as_ref()
                    .is_none_or(|r| *r.get_ref()),
                coa_port: w.coa_port.unwrap_or(DEFAULT_COA_PORT),
            });
        }
    }
    // Most specific first; equal prefixes keep file order (stable sort).
    out.sort_by_key(|c| std::cmp::Reverse(c.network.prefix()));
    out
}

fn client_secret(
    cx: &mut Cx<'_>,
    w: &WireClient,
    secret_files: SecretFiles<'_>,
) -> Option<SharedSecret> {
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
        (None, Some(f)) => match secret_files.read_secret(f.get_ref()) {
            Ok(file) => {
                if let Some(kind) = super::read::secret_file_refusal(&client, f.get_ref(), &file) {
                    cx.err(f.span().start, kind);
                    return None;
                }
                let mut b = file.bytes;
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
    let secret = SharedSecret::new(bytes);
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
    if let Some(r) = w.new_macs_per_second {
        match u32::try_from(*r.get_ref()) {
            Ok(n) if n >= 1 => out.new_macs_per_second = n,
            _ => cx.err(
                r.span().start,
                K::TooSmall {
                    key: "new_macs_per_second",
                    min: 1,
                    value: *r.get_ref(),
                },
            ),
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
    if let Some(t) = w.device_expiry {
        match parse_duration_secs(t.get_ref()) {
            Ok(s) => out.device_expiry_secs = Some(s),
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
