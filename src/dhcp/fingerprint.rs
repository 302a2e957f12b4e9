//! The fingerprint table: option 55 order and vendor class -> device family. The built-in
//! table is `fingerprints.toml` next to this file (sources named there), compiled in.

use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;

use super::Observation;

/// A device's operating-system family, as far as its DHCP client gives it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceFamily {
    Ios,
    Android,
    Windows,
    MacOs,
    ChromeOs,
    Linux,
    Unknown,
}

impl DeviceFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceFamily::Ios => "ios",
            DeviceFamily::Android => "android",
            DeviceFamily::Windows => "windows",
            DeviceFamily::MacOs => "macos",
            DeviceFamily::ChromeOs => "chromeos",
            DeviceFamily::Linux => "linux",
            DeviceFamily::Unknown => "unknown",
        }
    }
}

impl fmt::Display for DeviceFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fingerprint table that does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FingerprintError {
    #[error("fingerprint table is not valid TOML: {detail}")]
    Toml { detail: String },
    #[error(
        "fingerprint entry {index} has no matcher (vendor_class_prefix, vendor_class_contains or prl)"
    )]
    NoMatcher { index: usize },
    #[error("fingerprint entry {index} has an empty matcher")]
    EmptyMatcher { index: usize },
    #[error("fingerprint entry {index} maps to \"unknown\"")]
    UnknownFamily { index: usize },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    fingerprint: Vec<Entry>,
}

/// One row of the table; every matcher it has must match.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub family: DeviceFamily,
    pub vendor_class_prefix: Option<String>,
    pub vendor_class_contains: Option<String>,
    pub prl: Option<Vec<u8>>,
}

impl Entry {
    fn matches(&self, obs: &Observation) -> bool {
        let vc = obs.vendor_class.as_ref().map(|v| v.as_bytes());
        if let Some(p) = &self.vendor_class_prefix {
            let p = p.as_bytes();
            match vc {
                Some(vc) if vc.len() >= p.len() && vc[..p.len()].eq_ignore_ascii_case(p) => {}
                _ => return false,
            }
        }
        if let Some(c) = &self.vendor_class_contains {
            let c = c.as_bytes();
            match vc {
                Some(vc) if vc.windows(c.len()).any(|w| w.eq_ignore_ascii_case(c)) => {}
                _ => return false,
            }
        }
        if let Some(prl) = &self.prl
            && obs.param_request_list.as_deref() != Some(prl.as_slice())
        {
            return false;
        }
        true
    }
}

/// An ordered list of fingerprints; the first match wins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FingerprintTable {
    entries: Vec<Entry>,
}

const BUILTIN: &str = include_str!("fingerprints.toml");

static BUILTIN_TABLE: LazyLock<FingerprintTable> =
    // a broken built-in table is caught by the tests; at run time it classifies nothing
    LazyLock::new(|| FingerprintTable::builtin().unwrap_or_default());

impl FingerprintTable {
    pub fn parse(text: &str) -> Result<FingerprintTable, FingerprintError> {
        let file: TableFile = toml::from_str(text).map_err(|e| FingerprintError::Toml {
            detail: e.to_string(),
        })?;
        for (index, e) in file.fingerprint.iter().enumerate() {
            let matchers = [
                e.vendor_class_prefix.as_ref().map(String::len),
                e.vendor_class_contains.as_ref().map(String::len),
                e.prl.as_ref().map(Vec::len),
            ];
            if matchers.iter().all(Option::is_none) {
                return Err(FingerprintError::NoMatcher { index });
            }
            if matchers.contains(&Some(0)) {
                return Err(FingerprintError::EmptyMatcher { index });
            }
            if e.family == DeviceFamily::Unknown {
                return Err(FingerprintError::UnknownFamily { index });
            }
        }
        Ok(FingerprintTable {
            entries: file.fingerprint,
        })
    }

    /// The table compiled into hallpass.
    pub fn builtin() -> Result<FingerprintTable, FingerprintError> {
        FingerprintTable::parse(BUILTIN)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Index of the first entry matching the observation.
    pub fn matching_entry(&self, obs: &Observation) -> Option<usize> {
        self.entries.iter().position(|e| e.matches(obs))
    }

    pub fn classify(&self, obs: &Observation) -> DeviceFamily {
        self.matching_entry(obs)
            .map_or(DeviceFamily::Unknown, |i| self.entries[i].family)
    }
}

/// The device family by the built-in table. Server messages say nothing about the client.
pub fn classify(obs: &Observation) -> DeviceFamily {
    if obs.is_from_server {
        return DeviceFamily::Unknown;
    }
    BUILTIN_TABLE.classify(obs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::dhcp::ClientText;

    fn obs(vendor_class: Option<&str>, prl: Option<&[u8]>) -> Observation {
        Observation {
            vendor_class: vendor_class.map(|v| ClientText(v.as_bytes().to_vec())),
            param_request_list: prl.map(<[u8]>::to_vec),
            ..Observation::default()
        }
    }

    #[test]
    fn the_builtin_table_parses() {
        let t = FingerprintTable::builtin().unwrap();
        assert!(t.entries().len() >= 15);
        assert_eq!(*BUILTIN_TABLE, t);
    }

    #[test]
    fn every_entry_is_reachable() {
        // an observation made of an entry's own matchers must hit that entry, not an
        // earlier one that shadows it
        let t = FingerprintTable::builtin().unwrap();
        for (i, e) in t.entries().iter().enumerate() {
            let vc = match (&e.vendor_class_prefix, &e.vendor_class_contains) {
                (Some(p), Some(c)) => Some(format!("{p}x{c}y")),
                (Some(p), None) => Some(format!("{p}1.0")),
                (None, Some(c)) => Some(format!("x{c}y")),
                (None, None) => None,
            };
            let o = obs(vc.as_deref(), e.prl.as_deref());
            assert_eq!(t.matching_entry(&o), Some(i), "entry {i}: {e:?}");
            assert_eq!(classify(&o), e.family, "entry {i}");
        }
    }

    type Case<'a> = (Option<&'a str>, Option<&'a [u8]>, DeviceFamily);

    #[test]
    fn known_clients() {
        let cases: &[Case<'_>] = &[
            (Some("android-dhcp-13"), None, DeviceFamily::Android),
            (
                Some("ANDROID-DHCP-9"),
                Some(&[1, 3, 6]),
                DeviceFamily::Android,
            ),
            (
                Some("dhcpcd-9.4.1:Linux-5.10.43-android12-9:aarch64:qcom"),
                None,
                DeviceFamily::Android,
            ),
            (Some("MSFT 5.0"), None, DeviceFamily::Windows),
            (
                None,
                Some(&[1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252]),
                DeviceFamily::Windows,
            ),
            (
                None,
                Some(&[1, 121, 3, 6, 15, 108, 114, 119, 252]),
                DeviceFamily::Ios,
            ),
            (
                None,
                Some(&[1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46]),
                DeviceFamily::MacOs,
            ),
            (
                None,
                Some(&[1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108]),
                DeviceFamily::Android,
            ),
            (
                Some("dhcpcd-10.0.6:Linux-6.1.0-18-amd64:x86_64:GenuineIntel"),
                // dhcpcd told to copy Apple's order is still dhcpcd
                Some(&[1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46]),
                DeviceFamily::Linux,
            ),
            (Some("udhcp 1.36.1"), None, DeviceFamily::Linux),
        ];
        for (vc, prl, want) in cases {
            assert_eq!(classify(&obs(*vc, *prl)), *want, "{vc:?} {prl:?}");
        }
    }

    #[test]
    fn unknown_clients() {
        let cases: &[(Option<&str>, Option<&[u8]>)] = &[
            (None, None),
            (None, Some(&[1, 3, 6])),
            // a known order with one option more or less is not that client
            (None, Some(&[1, 121, 3, 6, 15, 108, 114, 119])),
            (None, Some(&[1, 121, 3, 6, 15, 108, 114, 119, 252, 1])),
            (Some("Cisco AP c2700"), None),
            (Some("android"), None),
            (Some("MSFT 98"), None),
            (Some(""), Some(&[])),
        ];
        for (vc, prl) in cases {
            assert_eq!(
                classify(&obs(*vc, *prl)),
                DeviceFamily::Unknown,
                "{vc:?} {prl:?}"
            );
        }
    }

    #[test]
    fn server_messages_are_not_classified() {
        let mut o = obs(Some("MSFT 5.0"), None);
        o.is_from_server = true;
        assert_eq!(classify(&o), DeviceFamily::Unknown);
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(matches!(
            FingerprintTable::parse("[[fingerprint]]\nfamily = \"ios\"\n"),
            Err(FingerprintError::NoMatcher { index: 0 })
        ));
        assert!(matches!(
            FingerprintTable::parse("[[fingerprint]]\nfamily = \"ios\"\nprl = []\n"),
            Err(FingerprintError::EmptyMatcher { index: 0 })
        ));
        assert!(matches!(
            FingerprintTable::parse("[[fingerprint]]\nfamily = \"beos\"\nprl = [1]\n"),
            Err(FingerprintError::Toml { .. })
        ));
        assert!(matches!(
            FingerprintTable::parse("[[fingerprint]]\nfamily = \"ios\"\nprl = [1]\nx = 1\n"),
            Err(FingerprintError::Toml { .. })
        ));
        assert!(matches!(
            FingerprintTable::parse("[[fingerprint]]\nfamily = \"unknown\"\nprl = [1]\n"),
            Err(FingerprintError::UnknownFamily { index: 0 })
        ));
    }
}
