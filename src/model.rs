//! Value types shared by every module: MAC addresses, modules, VLANs, user names, bans,
//! devices. Pure data with parsing and printing; no I/O, no clock.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use jiff::Timestamp;

/// Errors from parsing a value type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error(
        "not a MAC address: {0:?} (expected e.g. 3c:22:fb:12:34:56, 3C-22-FB-12-34-56, 3c22fb123456 or 3c22.fb12.3456)"
    )]
    BadMac(String),
    #[error("unknown module {0:?} (expected \"wifi\", \"lan\" or \"all\")")]
    BadModule(String),
    #[error("VLAN {0} is out of range (1 to 4094)")]
    BadVlan(i64),
}

/// An Ethernet MAC address. Accepted in every common notation, always printed as
/// `3c:22:fb:12:34:56`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// Parses a MAC from bytes as they arrive in User-Name or Calling-Station-Id.
    /// Accepts 12 hex digits, optionally grouped by `:`, `-` or `.` in the usual ways.
    pub fn parse_bytes(s: &[u8]) -> Option<MacAddr> {
        let mut out = [0u8; 6];
        let mut nibbles = 0usize;
        // digits since the last separator; every group must have exactly `group` digits
        let mut run = 0usize;
        let mut sep_char = 0u8;
        for &b in s {
            let v = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                b':' | b'-' | b'.' => {
                    if sep_char != 0 && sep_char != b {
                        return None;
                    }
                    sep_char = b;
                    if run != Self::group_len(b) {
                        return None;
                    }
                    run = 0;
                    continue;
                }
                _ => return None,
            };
            let slot = out.get_mut(nibbles / 2)?;
            *slot |= if nibbles.is_multiple_of(2) { v << 4 } else { v };
            nibbles += 1;
            run += 1;
        }
        let last_group_ok = sep_char == 0 || run == Self::group_len(sep_char);
        (nibbles == 12 && last_group_ok).then_some(MacAddr(out))
    }

    /// Digits between separators: `3c:22:..`/`3c-22-..` groups of 2, `3c22.fb12.3456` of 4.
    fn group_len(sep: u8) -> usize {
        if sep == b'.' { 4 } else { 2 }
    }

    /// A locally administered address (bit 1 of the first octet): phones use these as
    /// "private" or randomized addresses.
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }
}

impl FromStr for MacAddr {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MacAddr::parse_bytes(s.trim().as_bytes()).ok_or_else(|| ModelError::BadMac(s.to_string()))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A part of the school network a ban or grant can apply to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Module {
    Wifi,
    Lan,
}

impl Module {
    pub const ALL: [Module; 2] = [Module::Wifi, Module::Lan];

    pub fn as_str(self) -> &'static str {
        match self {
            Module::Wifi => "wifi",
            Module::Lan => "lan",
        }
    }

    /// The module of a request from its NAS-Port-Type (RFC 2865 5.41), if it tells one.
    pub fn from_nas_port_type(t: u32) -> Option<Module> {
        match t {
            18 | 19 => Some(Module::Wifi), // Wireless-Other, Wireless-802.11
            15 => Some(Module::Lan),       // Ethernet
            _ => None,
        }
    }
}

impl FromStr for Module {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "wifi" => Ok(Module::Wifi),
            "lan" => Ok(Module::Lan),
            _ => Err(ModelError::BadModule(s.to_string())),
        }
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The modules a ban or grant covers. `all` (the whole account) covers every module,
/// including ones added later.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct ModuleSet {
    pub all: bool,
    pub wifi: bool,
    pub lan: bool,
}

impl ModuleSet {
    pub const ALL: ModuleSet = ModuleSet {
        all: true,
        wifi: true,
        lan: true,
    };

    pub fn covers(&self, m: Module) -> bool {
        self.all
            || match m {
                Module::Wifi => self.wifi,
                Module::Lan => self.lan,
            }
    }

    /// Adds one entry as written in a file: "wifi", "lan" or "all".
    pub fn add(&mut self, s: &str) -> Result<(), ModelError> {
        match s {
            "all" => *self = ModuleSet::ALL,
            other => match other.parse::<Module>()? {
                Module::Wifi => self.wifi = true,
                Module::Lan => self.lan = true,
            },
        }
        Ok(())
    }
}

impl fmt::Display for ModuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.all {
            return f.write_str("all");
        }
        let mut parts = Vec::new();
        if self.wifi {
            parts.push("wifi");
        }
        if self.lan {
            parts.push("lan");
        }
        f.write_str(&parts.join(","))
    }
}

/// An IEEE 802.1Q VLAN id, 1 to 4094.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Vlan(u16);

impl Vlan {
    pub fn new(v: i64) -> Result<Vlan, ModelError> {
        if (1..=4094).contains(&v) {
            Ok(Vlan(v as u16))
        } else {
            Err(ModelError::BadVlan(v))
        }
    }
    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Vlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A user account name as written in users.toml. Cheap to clone: devices and bans share it.
pub type UserName = Arc<str>;

/// Language of the Reply-Message texts.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Language {
    #[default]
    De,
    En,
}

/// A user account: who they are, which groups they are in, whether the signed consent is on
/// file.
#[derive(Clone, Debug)]
pub struct User {
    pub name: UserName,
    pub groups: Vec<String>,
    pub consent: bool,
    pub disabled: bool,
    /// PHC string (`$argon2id$...`), only for PAP logins.
    pub password_hash: Option<String>,
}

/// A private device registered to an owner.
#[derive(Clone, Debug)]
pub struct Device {
    pub mac: MacAddr,
    pub owner: UserName,
    pub label: Option<String>,
    pub registered: Option<Timestamp>,
}

/// Whom a ban is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BanTarget {
    User(UserName),
    Mac(MacAddr),
}

/// A ban the school imposed, on an account or on one device, for some modules.
#[derive(Clone, Debug)]
pub struct Ban {
    pub target: BanTarget,
    pub modules: ModuleSet,
    /// Absent: in force from the start.
    pub from: Option<Timestamp>,
    /// Absent: permanent.
    pub until: Option<Timestamp>,
    pub reason: String,
    pub by: Option<String>,
}

impl Ban {
    /// In force at `now`: started (or no start) and not yet ended.
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.from.is_none_or(|f| f <= now) && self.until.is_none_or(|u| now < u)
    }

    /// Starts strictly after `now` (a ban announced for later).
    pub fn starts_after(&self, now: Timestamp) -> Option<Timestamp> {
        self.from.filter(|f| *f > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_notations() {
        let want = MacAddr([0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56]);
        for s in [
            "3c:22:fb:12:34:56",
            "3C-22-FB-12-34-56",
            "3c22fb123456",
            "3c22.fb12.3456",
            "3C:22:FB:12:34:56",
        ] {
            assert_eq!(s.parse::<MacAddr>(), Ok(want), "{s}");
        }
        assert_eq!(want.to_string(), "3c:22:fb:12:34:56");
    }

    #[test]
    fn mac_rejects() {
        for s in [
            "",
            "3c:22:fb:12:34",
            "3c:22:fb:12:34:56:78",
            "3c:22-fb:12:34:56",
            "3c2:2fb:12:34:56",
            "3c22fb12345g",
            "3c22.fb123456",
            "3c::22:fb:12:3456",
            "3c22:fb:12:34:56",
            "3c2.2fb1.23456",
            ":3c22fb123456",
            "3c22fb123456:",
            "max.muster",
        ] {
            assert!(s.parse::<MacAddr>().is_err(), "{s}");
        }
    }

    #[test]
    fn locally_administered() {
        assert!(
            "da:a1:19:00:00:01"
                .parse::<MacAddr>()
                .is_ok_and(|m| m.is_locally_administered())
        );
        assert!(
            !"3c:22:fb:12:34:56"
                .parse::<MacAddr>()
                .is_ok_and(|m| m.is_locally_administered())
        );
    }

    #[test]
    fn module_sets() {
        let mut s = ModuleSet::default();
        assert!(s.add("wifi").is_ok());
        assert!(s.covers(Module::Wifi) && !s.covers(Module::Lan));
        assert!(s.add("all").is_ok());
        assert!(s.covers(Module::Lan));
        assert!(s.add("vpn").is_err());
    }

    #[test]
    fn ban_window() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap_or_default();
        let b = Ban {
            target: BanTarget::User("a".into()),
            modules: ModuleSet::ALL,
            from: Some(t("2026-11-27T07:00:00Z")),
            until: Some(t("2026-12-04T07:00:00Z")),
            reason: "x".into(),
            by: None,
        };
        assert!(!b.in_force(t("2026-11-27T06:59:59Z")));
        assert!(b.in_force(t("2026-11-27T07:00:00Z")));
        assert!(b.in_force(t("2026-12-04T06:59:59Z")));
        assert!(!b.in_force(t("2026-12-04T07:00:00Z")));
    }
}
