//! The validated, in-memory snapshot of a config directory: what the daemon answers from.
//! Built only by the loader after every check passed; immutable afterwards and shared as
//! `Arc<Directory>` (a reload swaps the whole snapshot).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use ipnetwork::IpNetwork;
use jiff::tz::TimeZone;

use crate::model::{
    Access, Ban, BanTarget, Device, Grant, GrantTarget, Language, MacAddr, Module, Schedule, User,
    UserName, Vlan,
};

/// The hash maps of the snapshot. Their keys come from the config files, never from the
/// network, so a fast hasher is safe here (lookups with a key from a request only probe);
/// seeded per process all the same.
pub type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A RADIUS shared secret (with its HMAC key schedule; see [`SharedSecret`]).
pub type Secret = crate::radius::SharedSecret;

/// One NAS or NAS subnet allowed to ask.
#[derive(Clone, Debug)]
pub struct Client {
    pub name: std::sync::Arc<str>,
    pub network: IpNetwork,
    pub secret: Secret,
    /// Module of requests without a NAS-Port-Type that tells one.
    pub module: Module,
    pub require_message_authenticator: bool,
    pub coa_port: u16,
}

#[derive(Clone, Debug)]
pub struct ServerSettings {
    pub state_dir: PathBuf,
    pub timezone: TimeZone,
    pub language: Language,
    /// Where the Prometheus metrics endpoint listens; `None` (the default): no endpoint.
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Clone, Debug)]
pub struct RadiusSettings {
    pub auth_listen: Vec<SocketAddr>,
    pub acct_listen: Vec<SocketAddr>,
    /// Sorted most specific first (longest prefix), so the first match wins.
    pub clients: Vec<Client>,
}

#[derive(Clone, Debug, Default)]
pub struct DhcpSettings {
    pub interfaces: Vec<String>,
    pub trusted_servers: Vec<IpAddr>,
}

#[derive(Clone, Debug)]
pub struct PolicyGroup {
    pub name: String,
    pub vlan: Vlan,
    pub filter_id: Option<std::sync::Arc<str>>,
    /// `grant`: the group's users get access only while a teacher grant is in force.
    pub access: Access,
    /// Absent: any time. Present: only inside one of its windows (local time of
    /// `server.timezone`).
    pub schedule: Option<std::sync::Arc<Schedule>>,
    /// Bytes a user of this group may transfer per local day (in and out together).
    pub daily_quota: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct PolicySettings {
    pub max_devices_per_user: usize,
    /// Upper bound of Session-Timeout, in seconds.
    pub session_timeout_secs: u32,
    pub unregistered_vlan: Option<Vlan>,
    /// Order matters: the first group the user is in decides.
    pub groups: Vec<PolicyGroup>,
}

#[derive(Clone, Debug)]
pub struct PrivacySettings {
    pub retention_days: u32,
}

/// Everything hallpass knows from the config files, validated.
#[derive(Clone, Debug)]
pub struct Directory {
    /// The config directory this snapshot came from (relative paths resolve against it).
    pub config_dir: PathBuf,
    pub server: ServerSettings,
    pub radius: RadiusSettings,
    pub dhcp: DhcpSettings,
    pub policy: PolicySettings,
    pub privacy: PrivacySettings,
    pub users: Map<UserName, User>,
    pub devices: Map<MacAddr, Device>,
    /// Bans by the user they are on.
    pub user_bans: Map<UserName, Vec<Ban>>,
    /// Bans by the device they are on.
    pub device_bans: Map<MacAddr, Vec<Ban>>,
    /// Teacher grants by the user they are for.
    pub user_grants: Map<UserName, Vec<Grant>>,
    /// Teacher grants by the group they are for.
    pub group_grants: Map<std::sync::Arc<str>, Vec<Grant>>,
}

impl Directory {
    /// The client a request from `ip` belongs to: the most specific network that contains it.
    pub fn client_for(&self, ip: IpAddr) -> Option<&Client> {
        let ip = match ip {
            // An IPv4 client reaching a dual-stack socket arrives as ::ffff:a.b.c.d.
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.radius.clients.iter().find(|c| c.network.contains(ip))
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    pub fn device(&self, mac: &MacAddr) -> Option<&Device> {
        self.devices.get(mac)
    }

    pub fn bans_of_user(&self, name: &str) -> &[Ban] {
        self.user_bans.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn bans_of_device(&self, mac: &MacAddr) -> &[Ban] {
        self.device_bans.get(mac).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn grants_of_user(&self, name: &str) -> &[Grant] {
        self.user_grants.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn grants_of_group(&self, name: &str) -> &[Grant] {
        self.group_grants
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The same snapshot in freshly allocated memory, the originals freed.
    ///
    /// Loading a large directory leaves the snapshot's small allocations (names, groups)
    /// spread over a heap many times its size, between the parser's freed temporaries; every
    /// page holding one stays resident (98 MB for 100k devices whose snapshot needs 38).
    /// Copied after the temporaries are gone, the snapshot is packed into few pages, and the
    /// allocator can hand the rest back (`server::release_free_memory`).
    pub fn compacted(self) -> Directory {
        let mut users: Map<UserName, User> =
            Map::with_capacity_and_hasher(self.users.len(), Default::default());
        for u in self.users.values() {
            let name: UserName = UserName::from(&*u.name);
            // Cloning a String or Vec allocates afresh, which is the point; Arcs are renewed.
            users.insert(name.clone(), User { name, ..u.clone() });
        }
        // Owners, bans and grants share the new user's name.
        let name_of = |n: &UserName| -> UserName {
            users
                .get_key_value(&**n)
                .map(|(k, _)| k.clone())
                .unwrap_or_else(|| UserName::from(&**n))
        };
        let devices = self
            .devices
            .values()
            .map(|d| {
                let owner = name_of(&d.owner);
                (d.mac, Device { owner, ..d.clone() })
            })
            .collect();
        let ban = |b: &Ban| {
            let mut b = b.clone();
            if let BanTarget::User(u) = &mut b.target {
                *u = name_of(u);
            }
            b
        };
        let grant = |g: &Grant| {
            let mut g = g.clone();
            match &mut g.target {
                GrantTarget::User(u) => *u = name_of(u),
                GrantTarget::Group(n) => *n = std::sync::Arc::from(&**n),
            }
            g
        };
        let user_bans = self
            .user_bans
            .iter()
            .map(|(k, v)| (name_of(k), v.iter().map(ban).collect()))
            .collect();
        let device_bans = self
            .device_bans
            .iter()
            .map(|(k, v)| (*k, v.iter().map(ban).collect()))
            .collect();
        let user_grants = self
            .user_grants
            .iter()
            .map(|(k, v)| (name_of(k), v.iter().map(grant).collect()))
            .collect();
        let group_grants = self
            .group_grants
            .iter()
            .map(|(k, v)| (std::sync::Arc::from(&**k), v.iter().map(grant).collect()))
            .collect();
        Directory {
            config_dir: self.config_dir,
            server: self.server,
            radius: self.radius,
            dhcp: self.dhcp,
            policy: self.policy,
            privacy: self.privacy,
            users,
            devices,
            user_bans,
            device_bans,
            user_grants,
            group_grants,
        }
    }

    /// Every grant that applies to `user`: on the user, or on any group the user is in.
    pub fn grants_for<'a>(
        &'a self,
        user: &'a User,
    ) -> impl Iterator<Item = &'a Grant> + Clone + 'a {
        self.grants_of_user(&user.name).iter().chain(
            user.groups
                .iter()
                .flat_map(|g| self.grants_of_group(g).iter()),
        )
    }
}
