//! The validated, in-memory snapshot of a config directory: what the daemon answers from.
//! Built only by the loader after every check passed; immutable afterwards and shared as
//! `Arc<Directory>` (a reload swaps the whole snapshot, indexes included). Users and devices
//! sit in a [`Registry`] laid out for the hot path of the decision: one small hash probe
//! finds a device, its owner and the owner's policy group.

use std::collections::hash_map::Entry as MapEntry;
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
///
/// [`SharedSecret`]: crate::secret::SharedSecret
pub type Secret = crate::secret::SharedSecret;

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
    /// DHCP sightings are refused while the state directory's filesystem has less free
    /// (bytes; default 256 MiB). Accounting and the auth log are never refused for space.
    pub min_free_space: u64,
    /// DHCP sightings are refused while the database's pages in use take more (bytes);
    /// `None` (the default): no cap but the free space.
    pub max_database_size: Option<u64>,
    /// Failed password checks of one account within 10 minutes that raise a warning and
    /// count in `hallpass_login_failure_warnings_total`; 0: never. Default 10.
    pub failed_logins_warning: u32,
    /// Failed password checks of one account from one RADIUS client after which that
    /// client's attempts for the account pause (2 s, doubling up to 5 min); 0: never.
    /// Default 5.
    pub failed_logins_slowdown: u32,
}

#[derive(Clone, Debug)]
pub struct RadiusSettings {
    pub auth_listen: Vec<SocketAddr>,
    pub acct_listen: Vec<SocketAddr>,
    /// Sorted most specific first (longest prefix), so the first match wins.
    pub clients: Vec<Client>,
}

#[derive(Clone, Debug)]
pub struct DhcpSettings {
    pub interfaces: Vec<String>,
    pub trusted_servers: Vec<IpAddr>,
    /// MACs the watcher has not seen lately that it takes per second and interface; the
    /// rest are counted and not written (a flood of made-up MACs). Default 50.
    pub new_macs_per_second: u32,
}

/// See [`DhcpSettings::new_macs_per_second`].
pub const DEFAULT_NEW_MACS_PER_SECOND: u32 = 50;

impl Default for DhcpSettings {
    fn default() -> Self {
        DhcpSettings {
            interfaces: Vec::new(),
            trusted_servers: Vec::new(),
            new_macs_per_second: DEFAULT_NEW_MACS_PER_SECOND,
        }
    }
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
    /// `device_expiry`: a device (registered in a file or enrolled) not accepted for this
    /// many seconds is no longer accepted (`device_expired`). `None`: devices never expire.
    pub device_expiry_secs: Option<u32>,
    /// Order matters: the first group the user is in decides.
    pub groups: Vec<PolicyGroup>,
}

/// What `[eap] unregistered_devices` says about an EAP login from a device nobody registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnregisteredDevices {
    /// Rejected (`not_registered`).
    #[default]
    Reject,
    /// Decided by the account's rules alone.
    Allow,
    /// Decided by the account's rules; when they accept, the device is enrolled to the
    /// account (state database) if it has fewer than `max_devices_per_user` devices, else
    /// rejected (`too_many_devices`).
    Enrol,
}

/// `[eap]` of hallpass.toml, validated: the TLS configurations are built, the certificate
/// was checked at load time.
#[derive(Clone, Debug)]
pub struct EapSettings {
    /// What every conversation shares: the offered methods and the rustls configurations.
    pub session: std::sync::Arc<crate::eap::Settings>,
    pub unregistered_devices: UnregisteredDevices,
    /// The most conversations held at once (the oldest is dropped first).
    pub max_conversations: usize,
    /// The server certificate file, absolute.
    pub certificate_file: PathBuf,
    /// What `hallpass check` shows of the certificate.
    pub certificate: crate::eap::certs::ServerCertSummary,
}

#[derive(Clone, Debug)]
pub struct PrivacySettings {
    pub retention_days: u32,
}

/// A user account as the decision sees it: the user and the policy group resolved for them
/// when the snapshot was built.
#[derive(Clone, Copy, Debug)]
pub struct Account<'d> {
    pub user: &'d User,
    /// The first group of `policy.groups` (config order) the user is in; `None`: no policy
    /// group matches.
    pub policy_group: Option<&'d PolicyGroup>,
}

/// A user as the registry stores them.
#[derive(Clone, Debug)]
struct UserEntry {
    user: User,
    /// Index into `policy.groups`, resolved once so that the decision compares no names.
    policy_group: Option<u32>,
}

/// Where a registered device is stored: its index among the devices and its owner's among
/// the users. 8 bytes, so that an index entry (MAC and slot) takes 16 and 100k devices fit
/// in about 2 MB: the one probe of every MAB request then mostly hits the cache.
#[derive(Clone, Copy, Debug)]
struct DeviceSlot {
    device: u32,
    /// [`NO_OWNER`] when the owner is not a known account (an `Option<u32>` would make the
    /// slot 12 bytes and the entry 20).
    owner: u32,
}

const NO_OWNER: u32 = u32::MAX;

// The index entry size the memory budget counts on (see `DeviceSlot`).
const _: () = assert!(std::mem::size_of::<(MacAddr, DeviceSlot)>() == 16);

impl DeviceSlot {
    fn owner(self) -> Option<usize> {
        (self.owner != NO_OWNER).then_some(self.owner as usize)
    }
}

/// The user accounts and the devices registered to them, stored for the decision: the
/// entries in vectors (in load order), and small indexes by name and by MAC into them. A
/// device's index entry also points at its owner, so a MAB request finds device, owner and
/// policy group with one hash probe.
///
/// Built in one go by [`Registry::new`]; a reload builds a new one with the new snapshot.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    users: Vec<UserEntry>,
    by_name: Map<UserName, u32>,
    devices: Vec<Device>,
    by_mac: Map<MacAddr, DeviceSlot>,
}

impl Registry {
    /// Indexes `users` and `devices`, resolving each user's policy group among `groups` (the
    /// snapshot's `policy.groups`). Names and MACs are unique after the loader's checks; if
    /// one repeats all the same, the first entry counts, as in the loader. A device's owner
    /// shares the user's name allocation. (Entries past the 4 billionth cannot be indexed
    /// and are left out.)
    pub fn new(
        users: impl IntoIterator<Item = User>,
        devices: impl IntoIterator<Item = Device>,
        groups: &[PolicyGroup],
    ) -> Registry {
        let users = users.into_iter();
        let mut entries: Vec<UserEntry> = Vec::with_capacity(users.size_hint().0);
        let mut by_name: Map<UserName, u32> =
            Map::with_capacity_and_hasher(users.size_hint().0, Default::default());
        for user in users {
            let Some(index) = u32::try_from(entries.len()).ok().filter(|i| *i != NO_OWNER) else {
                break;
            };
            if let MapEntry::Vacant(v) = by_name.entry(user.name.clone()) {
                v.insert(index);
                let policy_group = groups
                    .iter()
                    .position(|g| user.groups.contains(&g.name))
                    .and_then(|i| u32::try_from(i).ok());
                entries.push(UserEntry { user, policy_group });
            }
        }
        let devices = devices.into_iter();
        let mut stored: Vec<Device> = Vec::with_capacity(devices.size_hint().0);
        let mut by_mac: Map<MacAddr, DeviceSlot> =
            Map::with_capacity_and_hasher(devices.size_hint().0, Default::default());
        for mut device in devices {
            let Ok(index) = u32::try_from(stored.len()) else {
                break;
            };
            let MapEntry::Vacant(v) = by_mac.entry(device.mac) else {
                continue;
            };
            let owner = by_name.get(&*device.owner).copied().unwrap_or(NO_OWNER);
            if let Some(e) = entries.get(owner as usize) {
                device.owner = e.user.name.clone();
            }
            v.insert(DeviceSlot {
                device: index,
                owner,
            });
            stored.push(device);
        }
        Registry {
            users: entries,
            by_name,
            devices: stored,
            by_mac,
        }
    }

    /// The users, in load order.
    pub fn users(&self) -> impl ExactSizeIterator<Item = &User> + Clone {
        self.users.iter().map(|e| &e.user)
    }

    /// The devices, in load order.
    pub fn devices(&self) -> std::slice::Iter<'_, Device> {
        self.devices.iter()
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.entry(name).map(|e| &e.user)
    }

    pub fn device(&self, mac: &MacAddr) -> Option<&Device> {
        let slot = self.by_mac.get(mac)?;
        self.devices.get(slot.device as usize)
    }

    fn entry(&self, name: &str) -> Option<&UserEntry> {
        let index = *self.by_name.get(name)?;
        self.users.get(index as usize)
    }

    /// The device and its owner's entry (`None`: the owner is not a known account).
    fn device_and_owner(&self, mac: &MacAddr) -> Option<(&Device, Option<&UserEntry>)> {
        let slot = *self.by_mac.get(mac)?;
        let device = self.devices.get(slot.device as usize)?;
        Some((device, slot.owner().and_then(|i| self.users.get(i))))
    }
}

/// Everything hallpass knows from the config files, validated.
#[derive(Clone, Debug)]
pub struct Directory {
    /// The config directory this snapshot came from (relative paths resolve against it).
    pub config_dir: PathBuf,
    pub server: ServerSettings,
    pub radius: RadiusSettings,
    pub dhcp: DhcpSettings,
    /// `registry` resolved its users' policy groups against these groups: build a new
    /// registry when they change.
    pub policy: PolicySettings,
    pub privacy: PrivacySettings,
    /// `[eap]`; `None`: no 802.1X logins.
    pub eap: Option<EapSettings>,
    /// Users and devices (see [`Registry`]).
    pub registry: Registry,
    /// Bans by the user they are on.
    pub user_bans: Map<UserName, Vec<Ban>>,
    /// Bans by the device they are on.
    pub device_bans: Map<MacAddr, Vec<Ban>>,
    /// Teacher grants by the user they are for.
    pub user_grants: Map<UserName, Vec<Grant>>,
    /// Teacher grants by the group they are for.
    pub group_grants: Map<std::sync::Arc<str>, Vec<Grant>>,
    /// Settings that load but weaken hallpass (see [`super::ConfigWarning`]), in file order.
    pub warnings: Vec<super::ConfigWarning>,
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

    /// The users, in load order.
    pub fn users(&self) -> impl ExactSizeIterator<Item = &User> + Clone {
        self.registry.users()
    }

    /// The registered devices, in load order.
    pub fn devices(&self) -> std::slice::Iter<'_, Device> {
        self.registry.devices()
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.registry.user(name)
    }

    pub fn device(&self, mac: &MacAddr) -> Option<&Device> {
        self.registry.device(mac)
    }

    /// The account `name` with its policy group.
    pub fn account(&self, name: &str) -> Option<Account<'_>> {
        self.registry.entry(name).map(|e| self.account_of(e))
    }

    /// A registered device and its owner's account (`None`: the owner is not a known
    /// account), with one hash probe.
    pub fn device_and_owner(&self, mac: &MacAddr) -> Option<(&Device, Option<Account<'_>>)> {
        let (device, owner) = self.registry.device_and_owner(mac)?;
        Some((device, owner.map(|e| self.account_of(e))))
    }

    fn account_of<'d>(&'d self, e: &'d UserEntry) -> Account<'d> {
        Account {
            user: &e.user,
            policy_group: e
                .policy_group
                .and_then(|i| self.policy.groups.get(i as usize)),
        }
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
        // Cloning a String or Vec allocates afresh, which is the point; Arcs are renewed.
        let users = self.users().map(|u| User {
            name: UserName::from(&*u.name),
            ..u.clone()
        });
        // A device's owner is set to the new user's name by the registry (so no copy of the
        // name is made here); only an unknown owner would keep the old one.
        let devices = self.devices().cloned();
        let registry = Registry::new(users, devices, &self.policy.groups);
        // Bans and grants share the new user's name.
        let name_of = |n: &UserName| -> UserName {
            registry
                .user(n)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| UserName::from(&**n))
        };
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
        let user_bans = renewed(&self.user_bans, &name_of, &ban);
        let device_bans = renewed(&self.device_bans, &|m: &MacAddr| *m, &ban);
        let user_grants = renewed(&self.user_grants, &name_of, &grant);
        let group_grants = renewed(
            &self.group_grants,
            &|n: &std::sync::Arc<str>| std::sync::Arc::from(&**n),
            &grant,
        );
        Directory {
            config_dir: self.config_dir,
            server: self.server,
            radius: self.radius,
            dhcp: self.dhcp,
            policy: self.policy,
            privacy: self.privacy,
            eap: self.eap,
            registry,
            user_bans,
            device_bans,
            user_grants,
            group_grants,
            warnings: self.warnings,
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

/// A copy of `map` in new memory, each key and entry renewed by `key` and `entry`.
fn renewed<K, V>(
    map: &Map<K, Vec<V>>,
    key: &dyn Fn(&K) -> K,
    entry: &dyn Fn(&V) -> V,
) -> Map<K, Vec<V>>
where
    K: Eq + std::hash::Hash,
{
    map.iter()
        .map(|(k, v)| (key(k), v.iter().map(entry).collect()))
        .collect()
}
