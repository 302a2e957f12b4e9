//! The link from a new randomized (private) MAC to the registered device with the same host
//! name, and the once-a-day report of each such alias.
//!
//! Owns: the host names of registered devices (seeded once at start from earlier sightings,
//! then learnt from DHCP), and which aliases were reported today.
//! Must not: grow without bound. Host names and MACs come from the network: a pupil can send
//! DHCP from thousands of invented MACs under a registered device's name, so both tables
//! are capped and each frame costs O(1). The report names a person and a device, so it goes
//! to the debug log only; the sighting row (`randomized_alias_of`) is the record.

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;
use tracing::{debug, info};

use crate::config::Directory;
use crate::model::MacAddr;
use crate::store::{self, SightingFilter, SightingUpdate};

/// Registered host names remembered for the link; beyond this no new names are learnt, so a
/// flood of invented names cannot grow memory.
const NAMES_MAX: usize = 65_536;
/// Sightings read from the database at start to seed the host names of registered devices.
const SEED_ROWS: usize = 50_000;
/// Aliases reported per day at most; the day's further aliases are counted, not listed.
pub const REPORTS_PER_DAY: usize = 1024;

/// Told once a day per new randomized MAC that stands in for a registered device.
pub const PRIVATE_ADDRESS_HINT: &str = "this phone now uses a private address; register the \
     new one or switch it off for the school network";

/// Host names of registered devices, to recognise the same device under a new randomized
/// (private) MAC. A name two registered devices share ("iPhone") links nothing.
#[derive(Default)]
pub struct Aliases {
    /// Lower-case host name → the registered MAC seen with it; `None`: ambiguous.
    by_name: HashMap<String, Option<MacAddr>>,
    pub(super) reports: DailyReports,
}

/// Whether an alias is reported now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// First time today: report it.
    First,
    /// Already reported today.
    Repeat,
    /// Today's reports are used up: counted only.
    OverLimit,
}

/// The aliases reported on one day: a set of at most `limit` MACs, emptied when the day
/// changes. Bounded whatever arrives; each call is O(1) (the daily clear is amortised).
#[derive(Debug)]
pub struct DailyReports {
    day: Option<Date>,
    reported: HashSet<MacAddr>,
    limit: usize,
    /// Aliases of `day` not reported because the limit was reached.
    unlisted: u64,
}

impl Default for DailyReports {
    fn default() -> DailyReports {
        DailyReports::new(REPORTS_PER_DAY)
    }
}

impl DailyReports {
    pub fn new(limit: usize) -> DailyReports {
        DailyReports {
            day: None,
            reported: HashSet::new(),
            limit,
            unlisted: 0,
        }
    }

    /// Notes `alias` seen on `day`. Returns whether to report it, and when `day` starts a
    /// new day, how many aliases the finished day left unlisted (if any).
    pub fn admit(&mut self, alias: MacAddr, day: Date) -> (Admit, Option<(Date, u64)>) {
        let mut finished = None;
        if self.day != Some(day) {
            if let Some(old) = self.day
                && self.unlisted > 0
            {
                finished = Some((old, self.unlisted));
            }
            self.day = Some(day);
            self.reported.clear();
            self.unlisted = 0;
        }
        let admit = if self.reported.contains(&alias) {
            Admit::Repeat
        } else if self.reported.len() >= self.limit {
            self.unlisted += 1;
            Admit::OverLimit
        } else {
            self.reported.insert(alias);
            Admit::First
        };
        (admit, finished)
    }

    /// How many aliases were reported on the current day.
    pub fn reported_today(&self) -> usize {
        self.reported.len()
    }
}

impl Aliases {
    /// Seeded from the sightings of registered devices in the database, if it can be read.
    pub fn seeded(db_path: &std::path::Path) -> Aliases {
        let mut a = Aliases::default();
        let filter = SightingFilter {
            limit: Some(SEED_ROWS),
            ..SightingFilter::default()
        };
        match store::Reader::open(db_path).and_then(|r| r.sightings(&filter)) {
            Ok(rows) => {
                for s in rows {
                    if let (true, Some(name)) = (s.registered, s.hostname.as_deref()) {
                        a.learn(name, s.mac);
                    }
                }
            }
            Err(e) => debug!(error = %e, "no earlier sightings read for the randomized-MAC link"),
        }
        a
    }

    pub fn learn(&mut self, name: &str, mac: MacAddr) {
        let key = name.trim().to_lowercase();
        if key.is_empty() {
            return;
        }
        let full = self.by_name.len() >= NAMES_MAX;
        match self.by_name.get_mut(&key) {
            Some(slot) if *slot != Some(mac) => *slot = None,
            Some(_) => {}
            None if !full => {
                self.by_name.insert(key, Some(mac));
            }
            None => {}
        }
    }

    /// Learns the names of registered devices; marks a randomized, unregistered MAC that
    /// uses the name of exactly one registered device, reporting it once a day (the day of
    /// the sighting, in the school's time zone).
    pub fn link(&mut self, update: &mut SightingUpdate, dir: &Directory) {
        let Some(name) = update.hostname.as_deref() else {
            return;
        };
        if update.registered {
            self.learn(name, update.mac);
            return;
        }
        if !update.randomized {
            return;
        }
        let key = name.trim().to_lowercase();
        let Some(Some(registered)) = self.by_name.get(&key).copied() else {
            return;
        };
        let Some(device) = dir.device(&registered) else {
            return;
        };
        if registered == update.mac {
            return;
        }
        update.randomized_alias_of = Some(registered);
        let day = dir.server.timezone.to_datetime(update.time).date();
        let (admit, finished) = self.reports.admit(update.mac, day);
        if let Some((day, n)) = finished {
            info!(
                %day,
                unlisted = n,
                "randomized MACs that stood in for registered devices and were not reported \
                 (the day's limit of {REPORTS_PER_DAY} was reached); the sightings have them"
            );
        }
        if admit == Admit::First {
            debug!(
                mac = %update.mac,
                registered = %registered,
                owner = %device.owner,
                hostname = name,
                "{PRIVATE_ADDRESS_HINT}"
            );
        }
    }
}
