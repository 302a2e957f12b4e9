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
    #[error(
        "not a schedule window: {value:?} (expected days and a time range, e.g. \"Mon-Fri 07:00-17:00\", \"Sat 08:00-12:00\" or \"Mon,Wed,Fri 13:00-15:30\")"
    )]
    BadSchedule { value: String },
    #[error(
        "unknown day {day:?} in schedule window {value:?} (expected Mon, Tue, Wed, Thu, Fri, Sat, Sun, a range like Mon-Fri, or a list like Mon,Wed,Fri)"
    )]
    BadScheduleDay { value: String, day: String },
    #[error(
        "schedule window {value:?} ends before it starts; a window across midnight is written as two, e.g. \"Fri 22:00-24:00\" and \"Sat 00:00-06:00\""
    )]
    ScheduleAcrossMidnight { value: String },
    #[error("schedule window {value:?} is empty (it ends when it starts)")]
    EmptyScheduleWindow { value: String },
    #[error(
        "not a data amount: {value:?} (expected e.g. \"2GB\", \"500MB\", \"1.5GiB\"; units B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)"
    )]
    BadDataAmount { value: String },
    #[error("data amount {value:?} must be more than zero")]
    ZeroDataAmount { value: String },
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

    /// The canonical text `3c:22:fb:12:34:56` without allocating or going through `fmt`
    /// (the auth log writes one per decision).
    pub fn colon_text(&self) -> MacText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b':'; 17];
        for (i, b) in self.0.iter().enumerate() {
            out[i * 3] = HEX[usize::from(b >> 4)];
            out[i * 3 + 1] = HEX[usize::from(b & 0x0f)];
        }
        MacText(out)
    }
}

/// A MAC address as canonical text, on the stack; see [`MacAddr::colon_text`].
#[derive(Clone, Copy)]
pub struct MacText([u8; 17]);

impl MacText {
    pub fn as_str(&self) -> &str {
        // Hex digits and colons only, so always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
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
        f.write_str(self.colon_text().as_str())
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
    /// The NT hash, only for PEAP-MSCHAPv2 logins (MSCHAPv2 cannot work from argon2).
    pub nt_hash: Option<crate::eap::mschapv2::NtHash>,
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

/// Whom a teacher grant is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantTarget {
    User(UserName),
    /// Every user in this group (a policy group or any group named in users.toml).
    Group(Arc<str>),
}

/// A teacher's grant: for a while, the users of a group whose access is `grant` (or one
/// user) may use some modules, e.g. the Wi-Fi for one lesson.
#[derive(Clone, Debug)]
pub struct Grant {
    pub target: GrantTarget,
    pub modules: ModuleSet,
    pub from: Timestamp,
    /// Always after `from`.
    pub until: Timestamp,
    pub reason: String,
    pub by: Option<String>,
}

impl Grant {
    /// In force at `now`: `from <= now < until`.
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.from <= now && now < self.until
    }
}

/// When the users of a policy group may use the network.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Access {
    /// Whenever the other rules allow it (the default).
    #[default]
    Always,
    /// Only while a teacher grant for the user (or one of the user's groups) is in force.
    Grant,
}

/// One weekly window of a schedule: on some weekdays, from `start` to `end`, in local
/// wall-clock time of the server's time zone. Written like `"Mon-Fri 07:00-17:00"`.
///
/// A window never crosses midnight (`end` is at most 24:00 of the same day): a night window
/// is written as two, `"Fri 22:00-24:00"` and `"Sat 00:00-06:00"`, which touch and so act
/// as one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ScheduleWindow {
    /// Bit 0 = Monday … bit 6 = Sunday.
    pub days: u8,
    /// Minutes after local midnight, 0 to 1439.
    pub start: u16,
    /// Minutes after local midnight, `start + 1` to 1440 (24:00).
    pub end: u16,
}

/// Day names accepted in schedules (case-insensitive): English three-letter names and the
/// German two-letter ones, Monday first.
const DAY_NAMES: [[&str; 2]; 7] = [
    ["mon", "mo"],
    ["tue", "di"],
    ["wed", "mi"],
    ["thu", "do"],
    ["fri", "fr"],
    ["sat", "sa"],
    ["sun", "so"],
];

impl ScheduleWindow {
    /// Parses `"Mon-Fri 07:00-17:00"`: days, whitespace, a time range.
    ///
    /// Days: a day (`Mon`), a range (`Mon-Fri`, also `Mon..Fri`; a range may wrap, `Fri-Mon`
    /// is Friday to Monday) or a comma list of those (`Mon,Wed,Fri`). Times: `H:MM` or
    /// `HH:MM`, `24:00` only as an end. The end must be after the start.
    pub fn parse(s: &str) -> Result<ScheduleWindow, ModelError> {
        let bad = || ModelError::BadSchedule {
            value: s.to_string(),
        };
        let t = s.trim();
        let (days_part, time_part) = t.rsplit_once(char::is_whitespace).ok_or_else(bad)?;
        let mut days = 0u8;
        for item in days_part.split(',') {
            let item: String = item.chars().filter(|c| !c.is_whitespace()).collect();
            let day = |d: &str| {
                day_index(d).ok_or_else(|| ModelError::BadScheduleDay {
                    value: s.to_string(),
                    day: d.to_string(),
                })
            };
            let range = item
                .split_once("..")
                .or_else(|| item.split_once('-'))
                .or_else(|| item.split_once('–'));
            match range {
                Some((a, b)) => {
                    let (a, b) = (day(a)?, day(b)?);
                    let mut d = a;
                    loop {
                        days |= 1 << d;
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => days |= 1 << day(&item)?,
            }
        }
        let (a, b) = time_part
            .split_once('-')
            .or_else(|| time_part.split_once('–'))
            .ok_or_else(bad)?;
        let start = minutes(a).filter(|m| *m < 1440).ok_or_else(bad)?;
        let end = minutes(b).ok_or_else(bad)?;
        if end < start {
            return Err(ModelError::ScheduleAcrossMidnight {
                value: s.to_string(),
            });
        }
        if end == start {
            return Err(ModelError::EmptyScheduleWindow {
                value: s.to_string(),
            });
        }
        Ok(ScheduleWindow { days, start, end })
    }

    /// Whether the window is on the weekday `monday_zero` (0 = Monday … 6 = Sunday).
    pub fn on(&self, monday_zero: i8) -> bool {
        (0..7).contains(&monday_zero) && self.days & (1 << monday_zero) != 0
    }
}

/// As written in hallpass.toml: `Mon-Fri 07:00-17:00`, `Mon,Wed 08:00-12:00`.
impl fmt::Display for ScheduleWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let mut first = true;
        let mut d = 0i8;
        while d < 7 {
            if !self.on(d) {
                d += 1;
                continue;
            }
            let start = d;
            while d < 6 && self.on(d + 1) {
                d += 1;
            }
            let name = |i: i8| NAMES.get(i as usize).copied().unwrap_or("");
            if !first {
                f.write_str(",")?;
            }
            first = false;
            match d - start {
                0 => f.write_str(name(start))?,
                1 => write!(f, "{},{}", name(start), name(d))?,
                _ => write!(f, "{}-{}", name(start), name(d))?,
            }
            d += 1;
        }
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, " {}-{}", hm(self.start), hm(self.end))
    }
}

/// 0 = Monday … 6 = Sunday.
fn day_index(d: &str) -> Option<u8> {
    let d = d.to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|names| names.contains(&d.as_str()))
        .and_then(|i| u8::try_from(i).ok())
}

/// `HH:MM` (or `H:MM`) as minutes after midnight, up to 24:00.
fn minutes(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || m.len() != 2 || !digits(m) {
        return None;
    }
    let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// A policy group's schedule: the group may use the network only inside one of the windows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule(pub Vec<ScheduleWindow>);

/// Parses a data amount like `"2GB"`, `"500 MB"`, `"1.5GiB"` into bytes. Units (case does
/// not matter): B, kB, MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB in powers of 1024.
/// A unit is required; a fraction is rounded down to whole bytes.
pub fn parse_data_amount(s: &str) -> Result<u64, ModelError> {
    let bad = || ModelError::BadDataAmount {
        value: s.to_string(),
    };
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(bad)?;
    let (number, unit) = t.split_at(split);
    let unit: u128 = match unit.trim().to_ascii_lowercase().as_str() {
        "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > 12 {
        return Err(bad());
    }
    let int: u128 = int.parse().map_err(|_| bad())?;
    let frac_value = if frac.is_empty() {
        0
    } else {
        let f: u128 = frac.parse().map_err(|_| bad())?;
        f * unit / 10u128.pow(u32::try_from(frac.len()).map_err(|_| bad())?)
    };
    let bytes = int
        .checked_mul(unit)
        .and_then(|b| b.checked_add(frac_value))
        .ok_or_else(bad)?;
    let bytes = u64::try_from(bytes).map_err(|_| bad())?;
    if bytes == 0 {
        return Err(ModelError::ZeroDataAmount {
            value: s.to_string(),
        });
    }
    Ok(bytes)
}

// Printed records (`--json`, the export) show values in the same text as everywhere else.

impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.colon_text().as_str())
    }
}

impl serde::Serialize for Module {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl serde::Serialize for ModuleSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod serialize_tests {
    use super::*;

    #[test]
    fn values_serialize_as_their_printed_text() {
        let mac: MacAddr = "3C-22-FB-12-34-56".parse().unwrap();
        let mut lan_and_wifi = ModuleSet::default();
        lan_and_wifi.add("lan").unwrap();
        lan_and_wifi.add("wifi").unwrap();
        let v = serde_json::json!([mac, Module::Wifi, Module::Lan, ModuleSet::ALL, lan_and_wifi]);
        assert_eq!(
            v.to_string(),
            r#"["3c:22:fb:12:34:56","wifi","lan","all","wifi,lan"]"#
        );
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
        assert_eq!(
            MacAddr([0xff, 0, 0x0a, 0x10, 0x9f, 0xf0])
                .colon_text()
                .as_str(),
            "ff:00:0a:10:9f:f0"
        );
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

    #[test]
    fn schedule_windows() {
        let w = |s: &str| ScheduleWindow::parse(s);
        let ok = |days: u8, start: u16, end: u16| Ok(ScheduleWindow { days, start, end });
        assert_eq!(w("Mon-Fri 07:00-17:00"), ok(0b001_1111, 420, 1020));
        assert_eq!(w("Sat 08:00-12:00"), ok(0b010_0000, 480, 720));
        assert_eq!(w("mon,Wed, FRI 8:00-13:30"), ok(0b001_0101, 480, 810));
        assert_eq!(w("Mon..Sun 00:00-24:00"), ok(0b111_1111, 0, 1440));
        assert_eq!(w("Fri-Mon 22:00-24:00"), ok(0b111_0001, 1320, 1440));
        assert_eq!(w("Mo-Fr 07:00–17:00"), ok(0b001_1111, 420, 1020));
        assert_eq!(w("  Sun   10:00-10:01 "), ok(0b100_0000, 600, 601));
        assert_eq!(w("Mon,Tue-Wed 07:00-08:00"), ok(0b000_0111, 420, 480));
        for bad in [
            "",
            "07:00-17:00",
            "Mon 07:00",
            "Mon 7-17",
            "Mon 07:00-24:01",
            "Mon 24:00-24:00",
            "Mon 07:60-08:00",
            "Mon 007:00-08:00",
            "Mon 07:0-08:00",
            "Mon 07:00-17:00 x",
            "Mon -07:00-08:00",
        ] {
            assert!(
                matches!(
                    w(bad),
                    Err(ModelError::BadSchedule { .. } | ModelError::BadScheduleDay { .. })
                ),
                "{bad:?}: {:?}",
                w(bad)
            );
        }
        assert!(matches!(
            w("Mon-Fry 07:00-08:00"),
            Err(ModelError::BadScheduleDay { day, .. }) if day == "Fry"
        ));
        assert!(matches!(
            w("Fri 22:00-06:00"),
            Err(ModelError::ScheduleAcrossMidnight { .. })
        ));
        assert!(matches!(
            w("Fri 08:00-08:00"),
            Err(ModelError::EmptyScheduleWindow { .. })
        ));
        let mon_fri = w("Mon-Fri 07:00-17:00").unwrap_or(ScheduleWindow {
            days: 0,
            start: 0,
            end: 1,
        });
        assert!(mon_fri.on(0) && mon_fri.on(4) && !mon_fri.on(5) && !mon_fri.on(7));
        for (input, shown) in [
            ("Mon-Fri 07:00-17:00", "Mon-Fri 07:00-17:00"),
            ("mo,mi,fr 8:00-13:30", "Mon,Wed,Fri 08:00-13:30"),
            ("Sat-Sun 00:00-24:00", "Sat,Sun 00:00-24:00"),
            ("Fri-Tue 22:00-24:00", "Mon,Tue,Fri-Sun 22:00-24:00"),
        ] {
            let w = ScheduleWindow::parse(input).map(|w| w.to_string());
            assert_eq!(w.as_deref(), Ok(shown), "{input}");
        }
    }

    #[test]
    fn data_amounts() {
        for (s, want) in [
            ("2GB", 2_000_000_000),
            ("2gb", 2_000_000_000),
            ("2 GB", 2_000_000_000),
            ("500MB", 500_000_000),
            ("1kB", 1_000),
            ("1KB", 1_000),
            ("7B", 7),
            ("1TB", 1_000_000_000_000),
            ("1KiB", 1_024),
            ("3MiB", 3 * 1_048_576),
            ("1gib", 1_073_741_824),
            ("1.5GiB", 1_610_612_736),
            ("0.5kB", 500),
            ("1TiB", 1 << 40),
        ] {
            assert_eq!(parse_data_amount(s), Ok(want), "{s}");
        }
        for s in [
            "",
            "2",
            "GB",
            "2 G",
            "2XB",
            "-2GB",
            "1.2.3GB",
            ".5GB",
            "2 GB x",
            "99999999999999TB",
        ] {
            assert!(
                matches!(parse_data_amount(s), Err(ModelError::BadDataAmount { .. })),
                "{s:?}"
            );
        }
        assert!(matches!(
            parse_data_amount("0GB"),
            Err(ModelError::ZeroDataAmount { .. })
        ));
        assert!(matches!(
            parse_data_amount("0.0000001kB"),
            Err(ModelError::ZeroDataAmount { .. })
        ));
    }

    #[test]
    fn grant_window() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap_or_default();
        let g = Grant {
            target: GrantTarget::Group("5a".into()),
            modules: ModuleSet::ALL,
            from: t("2026-12-01T08:00:00Z"),
            until: t("2026-12-01T08:45:00Z"),
            reason: "Informatik".into(),
            by: None,
        };
        assert!(!g.in_force(t("2026-12-01T07:59:59Z")));
        assert!(g.in_force(t("2026-12-01T08:00:00Z")));
        assert!(g.in_force(t("2026-12-01T08:44:59Z")));
        assert!(!g.in_force(t("2026-12-01T08:45:00Z")));
    }
}
