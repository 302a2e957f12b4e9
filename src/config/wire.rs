//! Wire types: the config files exactly as written, deserialized with serde. Unknown keys are
//! rejected here; every value the validation may point at is `Spanned`. No checks beyond
//! TOML types happen here — that is the job of the validation in `load`.

use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

/// `[server]` in hallpass.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireServer {
    pub state_dir: Option<Spanned<String>>,
    pub timezone: Option<Spanned<String>>,
    pub language: Option<Spanned<String>>,
    pub metrics_listen: Option<Spanned<String>>,
    pub min_free_space: Option<Spanned<String>>,
    pub max_database_size: Option<Spanned<String>>,
    pub failed_logins_warning: Option<Spanned<i64>>,
    pub failed_logins_slowdown: Option<Spanned<i64>>,
}

/// `[radius]` in hallpass.toml, without its `[[radius.client]]` entries (those are taken out
/// first and deserialized one by one, so one bad client does not hide the others).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireRadius {
    pub auth_listen: Option<Vec<Spanned<String>>>,
    pub acct_listen: Option<Vec<Spanned<String>>>,
}

/// One `[[radius.client]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireClient {
    pub name: Spanned<String>,
    pub address: Spanned<String>,
    pub secret: Option<Spanned<String>>,
    pub secret_file: Option<Spanned<String>>,
    pub module: Spanned<String>,
    pub require_message_authenticator: Option<Spanned<bool>>,
    pub coa_port: Option<u16>,
}

/// `[dhcp]` in hallpass.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireDhcp {
    #[serde(default)]
    pub interfaces: Vec<Spanned<String>>,
    #[serde(default)]
    pub trusted_servers: Vec<Spanned<String>>,
    pub new_macs_per_second: Option<Spanned<i64>>,
}

/// `[policy]` in hallpass.toml, without its `[[policy.group]]` entries.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WirePolicy {
    pub max_devices_per_user: Option<Spanned<i64>>,
    pub session_timeout: Option<Spanned<String>>,
    pub unregistered_vlan: Option<Spanned<i64>>,
    pub device_expiry: Option<Spanned<String>>,
}

/// One `[[policy.group]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireGroup {
    pub name: Spanned<String>,
    pub vlan: Spanned<i64>,
    pub filter_id: Option<Spanned<String>>,
    pub access: Option<Spanned<String>>,
    pub schedule: Option<Spanned<Vec<Spanned<String>>>>,
    pub daily_quota: Option<Spanned<String>>,
}

/// `[privacy]` in hallpass.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WirePrivacy {
    pub retention_days: Option<Spanned<i64>>,
}

/// `[eap]` in hallpass.toml. `certificate` and `private_key` are required, but optional here
/// so that a missing one is reported next to every other problem of the section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireEap {
    pub methods: Option<Spanned<Vec<Spanned<String>>>>,
    pub certificate: Option<Spanned<String>>,
    pub private_key: Option<Spanned<String>>,
    pub client_ca: Option<Spanned<String>>,
    pub tls_versions: Option<Spanned<Vec<Spanned<String>>>>,
    pub unregistered_devices: Option<Spanned<String>>,
    pub max_conversations: Option<Spanned<i64>>,
}

/// One `[[user]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireUser {
    pub name: Spanned<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Absent means: no signed consent on file.
    #[serde(default)]
    pub consent: bool,
    #[serde(default)]
    pub disabled: bool,
    pub password: Option<Spanned<String>>,
    pub nt_hash: Option<Spanned<String>>,
}

/// One `[[device]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireDevice {
    pub mac: Spanned<String>,
    pub owner: Spanned<String>,
    pub label: Option<String>,
    pub registered: Option<Spanned<Datetime>>,
}

/// One `[[ban]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireBan {
    pub user: Option<Spanned<String>>,
    pub mac: Option<Spanned<String>>,
    pub modules: Spanned<Vec<Spanned<String>>>,
    pub from: Option<Spanned<Datetime>>,
    pub until: Option<Spanned<Datetime>>,
    pub reason: Option<Spanned<String>>,
    pub by: Option<String>,
}

/// One `[[grant]]`. `from`, `until` and `reason` are required, but optional here so that a
/// missing one is reported next to every other problem of the entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireGrant {
    pub user: Option<Spanned<String>>,
    pub group: Option<Spanned<String>>,
    pub modules: Spanned<Vec<Spanned<String>>>,
    pub from: Option<Spanned<Datetime>>,
    pub until: Option<Spanned<Datetime>>,
    pub reason: Option<Spanned<String>>,
    pub by: Option<String>,
}
