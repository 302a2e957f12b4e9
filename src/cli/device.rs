//! `hallpass device`: registrations in the config files and enrolments in the state
//! database, seen and changed with the same commands. `add` appends to a devices file;
//! `remove`, `replace` and `prune` edit the files through [`super::edit`] (validated, written
//! atomically, keeping every other byte) and then the database through
//! [`store::Admin`](crate::store::Admin) (enrolments, last-accepted times), and only then ask
//! the daemon to reload, which reads both afresh. `list` shows where each device is
//! registered, when it was last accepted, whether its MAC is randomized and when it expires.
//!
//! Must not: decide whether a device is expired on its own (that is
//! `policy::devices::expires_at`, the daemon's rule), or write the database before the
//! files' edit has been validated and written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use toml_edit::{Item, Table, value};

use super::admin::{ask_reload, edit_flow};
use super::args::{DeviceCmd, EditArgs};
use super::edit::Edit;
use super::records::{admin, db_file, print_json, reader};
use super::{CliError, load_config, parse_mac, show_time};
use crate::config::Directory;
use crate::model::MacAddr;
use crate::policy::devices::{DeviceBook, expires_at};
use crate::store::DeviceRecords;

/// How far ahead `device list --stale` looks.
const SOON: SignedDuration = SignedDuration::from_hours(30 * 24);

pub fn device(cmd: DeviceCmd) -> anyhow::Result<()> {
    match cmd {
        DeviceCmd::Add {
            mac,
            owner,
            label,
            file,
            edit,
        } => {
            let mac = parse_mac(&mac)?;
            let file = file.unwrap_or_else(|| PathBuf::from("devices.toml"));
            edit_flow(&edit, "device.add", &mac.to_string(), None, |e, d, now| {
                let mut t = Table::new();
                t.insert("mac", value(mac.to_string()));
                t.insert("owner", value(owner.as_str()));
                if let Some(l) = &label {
                    t.insert("label", value(l.as_str()));
                }
                let today = now
                    .to_zoned_datetime(d.server.timezone.clone())
                    .date()
                    .to_string();
                t.insert("registered", value(today.parse::<toml_edit::Datetime>()?));
                e.append(&file, "device", t)?;
                Ok(format!("registered {mac} to {owner}"))
            })
        }
        DeviceCmd::Remove { mac, edit } => remove(&edit, parse_mac(&mac)?),
        DeviceCmd::Replace { old, new, edit } => replace(&edit, parse_mac(&old)?, parse_mac(&new)?),
        DeviceCmd::List {
            owner,
            suggest: true,
            reason,
            config,
            ..
        } => suggest(&config.config, owner.as_deref(), reason.as_deref()),
        DeviceCmd::List {
            owner,
            stale,
            json,
            reason,
            config,
            ..
        } => list(
            &config.config,
            owner.as_deref(),
            stale,
            json,
            reason.as_deref(),
        ),
        DeviceCmd::Prune {
            stale: _,
            reason,
            edit,
        } => prune(&edit, &reason),
    }
}

/// What the database knows about devices; nothing when the daemon has never run.
pub(super) fn records(d: &Directory) -> anyhow::Result<DeviceRecords> {
    if db_file(&d.server.state_dir).is_err() {
        return Ok(DeviceRecords::default());
    }
    Ok(reader(d)?.device_records()?)
}

/// The same edit arguments, without the reload: the database is changed after the files,
/// and the daemon must read both.
fn quiet(edit: &EditArgs) -> EditArgs {
    EditArgs {
        no_reload: true,
        ..edit.clone()
    }
}

fn remove(edit: &EditArgs, mac: MacAddr) -> anyhow::Result<()> {
    let d = load_config(&edit.config.config)?;
    let enrolled = records(&d)?.enrolments.iter().any(|e| e.mac == mac);
    if d.device(&mac).is_some() {
        edit_flow(
            &quiet(edit),
            "device.remove",
            &mac.to_string(),
            None,
            |e, _, _| {
                let n = remove_devices(e, |m, _| m == mac)?;
                if n == 0 {
                    return Err(CliError::UnknownDevice { mac }.into());
                }
                Ok(format!("removed the registration of {mac}"))
            },
        )?;
    } else if !enrolled {
        return Err(CliError::UnknownDevice { mac }.into());
    } else {
        super::records::audit_insert(&d.server.state_dir, "device.remove", &mac.to_string(), None)?;
    }
    if db_file(&d.server.state_dir).is_ok() {
        let gone = admin(&d.server.state_dir)?.forget_devices(&[mac])?;
        if let Some(e) = gone.first().and_then(|g| g.enrolment.as_ref()) {
            println!("removed the enrolment of {mac} to {}", e.user);
        }
    }
    ask_reload(edit, &d.server.state_dir)
}

fn replace(edit: &EditArgs, old: MacAddr, new: MacAddr) -> anyhow::Result<()> {
    let d = load_config(&edit.config.config)?;
    let recs = records(&d)?;
    let enrolled = |m: MacAddr| recs.enrolments.iter().find(|e| e.mac == m);
    if let Some(e) = enrolled(new) {
        anyhow::bail!("{new} is already enrolled to {}", e.user);
    }
    let subject = format!("{old} -> {new}");
    if d.device(&old).is_some() {
        edit_flow(&quiet(edit), "device.replace", &subject, None, |e, _, _| {
            if !set_mac(e, old, new)? {
                return Err(CliError::UnknownDevice { mac: old }.into());
            }
            Ok(format!("replaced {old} by {new}"))
        })?;
    } else if let Some(e) = enrolled(old) {
        if let Some(x) = d.device(&new) {
            anyhow::bail!("{new} is already registered to {}", x.owner);
        }
        super::records::audit_insert(&d.server.state_dir, "device.replace", &subject, None)?;
        println!("replaced the enrolment of {old} to {} by {new}", e.user);
    } else {
        return Err(CliError::UnknownDevice { mac: old }.into());
    }
    if db_file(&d.server.state_dir).is_ok() {
        admin(&d.server.state_dir)?.replace_device(old, new, Timestamp::now())?;
    }
    ask_reload(edit, &d.server.state_dir)
}

/// Sets the `mac` of the `[[device]]` registering `old` to `new`, in place: the entry keeps
/// its file, its position, its other keys and every comment (also one after the value).
fn set_mac(e: &mut Edit, old: MacAddr, new: MacAddr) -> anyhow::Result<bool> {
    for rel in e.list_files("devices")? {
        let mut doc = e.doc(&rel)?;
        let Some(list) = doc.get_mut("device").and_then(Item::as_array_of_tables_mut) else {
            continue;
        };
        let mut found = false;
        for t in list.iter_mut() {
            let Some(v) = t.get_mut("mac").and_then(Item::as_value_mut) else {
                continue;
            };
            if v.as_str().and_then(|s| s.parse::<MacAddr>().ok()) != Some(old) {
                continue;
            }
            let decor = v.decor().clone();
            *v = toml_edit::Value::from(new.to_string());
            *v.decor_mut() = decor;
            found = true;
        }
        if found {
            e.set_doc(&rel, &doc)?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Removes every `[[device]]` for which `hit(mac, owner)` holds, from whichever files hold
/// them. Returns how many.
pub fn remove_devices(e: &mut Edit, hit: impl Fn(MacAddr, &str) -> bool) -> anyhow::Result<usize> {
    let mut removed = 0;
    for rel in e.list_files("devices")? {
        let mut doc = e.doc(&rel)?;
        let idx: Vec<usize> = doc
            .get("device")
            .and_then(Item::as_array_of_tables)
            .map(|a| a.iter().collect::<Vec<_>>())
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                let str_of = |k| t.get(k).and_then(Item::as_str);
                let mac = str_of("mac").and_then(|m| m.parse::<MacAddr>().ok());
                mac.is_some_and(|m| hit(m, str_of("owner").unwrap_or("")))
            })
            .map(|(i, _)| i)
            .collect();
        for &i in idx.iter().rev() {
            super::edit::remove_entry(&mut doc, "device", i);
        }
        if !idx.is_empty() {
            removed += idx.len();
            e.set_doc(&rel, &doc)?;
        }
    }
    Ok(removed)
}

/// A line of `device list` (and of `--json`).
#[derive(Debug, Serialize)]
pub(super) struct DeviceListed {
    pub mac: MacAddr,
    pub owner: String,
    pub label: Option<String>,
    /// Where it is registered: `devices.toml:12`, or `enrolled 2026-12-03 (peap)`.
    pub source: String,
    /// The date in the file (`registered = ...`), or when a login enrolled it.
    pub registered: Option<Timestamp>,
    pub enrolled: bool,
    /// When the daemon last accepted it (`None`: not since hallpass keeps track).
    pub last_accepted: Option<Timestamp>,
    /// A locally administered (private, randomized) MAC.
    pub randomized: bool,
    /// When it expires under `[policy] device_expiry` (`None`: never).
    pub expires: Option<Timestamp>,
    pub expired: bool,
}

/// Where each `[[device]]` of the files is: file and line, by MAC.
fn positions(dir: &Path) -> anyhow::Result<HashMap<MacAddr, String>> {
    let mut e = Edit::new(dir);
    let mut out = HashMap::new();
    for rel in e.list_files("devices")? {
        let Some(text) = e.text(&rel)? else {
            continue;
        };
        let Ok(doc) = toml_edit::Document::parse(text.as_str()) else {
            continue;
        };
        let Some(list) = doc.get("device").and_then(Item::as_array_of_tables) else {
            continue;
        };
        for t in list.iter() {
            let mac = t.get("mac").and_then(Item::as_str);
            let Some(mac) = mac.and_then(|m| m.parse::<MacAddr>().ok()) else {
                continue;
            };
            let at = t.span().or_else(|| t.get("mac").and_then(Item::span));
            let line = at.map(|r| text[..r.start.min(text.len())].lines().count() + 1);
            let place = match line {
                Some(l) => format!("{}:{l}", rel.display()),
                None => rel.display().to_string(),
            };
            out.entry(mac).or_insert(place);
        }
    }
    Ok(out)
}

/// Every registered and enrolled device, by owner and MAC, as of `now`.
pub(super) fn listed(d: &Directory, now: Timestamp) -> anyhow::Result<Vec<DeviceListed>> {
    let recs = records(d)?;
    let book = DeviceBook::new(&recs);
    let stored: HashMap<MacAddr, Timestamp> =
        recs.last_accepted.iter().map(|l| (l.mac, l.time)).collect();
    let at = positions(&d.config_dir)?;
    let tz = &d.server.timezone;
    let mut out = Vec::new();
    let line = |mac: MacAddr, owner: &str, label, source, registered: Option<Timestamp>| {
        let expires = expires_at(d, registered, book.last_accepted(mac));
        DeviceListed {
            mac,
            owner: owner.to_string(),
            label,
            source,
            registered,
            enrolled: false,
            last_accepted: stored.get(&mac).copied(),
            randomized: mac.is_locally_administered(),
            expires,
            expired: expires.is_some_and(|t| t <= now),
        }
    };
    for x in d.devices() {
        let source = at.get(&x.mac).cloned().unwrap_or_else(|| "config".into());
        out.push(line(x.mac, &x.owner, x.label.clone(), source, x.registered));
    }
    for e in recs
        .enrolments
        .iter()
        .filter(|e| d.device(&e.mac).is_none())
    {
        let day = e.enrolled.to_zoned_datetime(tz.clone()).date();
        let source = format!("enrolled {day} ({})", e.method);
        let mut l = line(e.mac, &e.user, None, source, Some(e.enrolled));
        l.enrolled = true;
        out.push(l);
    }
    out.sort_by(|a, b| (&a.owner, a.mac).cmp(&(&b.owner, b.mac)));
    Ok(out)
}

/// Whether last-accepted times may be shown: a reason was given, and it is audited before
/// they are read.
pub(super) fn audited_read(
    d: &Directory,
    owner: Option<&str>,
    why: Option<&str>,
) -> anyhow::Result<bool> {
    let Some(why) = why.filter(|w| !w.trim().is_empty()) else {
        return Ok(false);
    };
    if db_file(&d.server.state_dir).is_ok() {
        super::records::audit_insert(
            &d.server.state_dir,
            "devices.read",
            owner.unwrap_or("all"),
            Some(why),
        )?;
    }
    Ok(true)
}

/// `x` without what the daemon saw of it (when it was last accepted, and so when it
/// expires): what may be shown without a reason.
fn without_runtime(x: DeviceListed) -> DeviceListed {
    DeviceListed {
        last_accepted: None,
        expires: None,
        expired: false,
        ..x
    }
}

fn list(
    dir: &Path,
    owner: Option<&str>,
    stale: bool,
    json: bool,
    why: Option<&str>,
) -> anyhow::Result<()> {
    let d = load_config(dir)?;
    let now = Timestamp::now();
    if stale && d.policy.device_expiry_secs.is_none() {
        anyhow::bail!("no [policy] device_expiry is set: devices never expire");
    }
    let read = audited_read(&d, owner, why)?;
    if stale && !read {
        return Err(CliError::ReasonRequired {
            what: "device list --stale",
        }
        .into());
    }
    let soon = now.checked_add(SOON)?;
    let devices: Vec<DeviceListed> = listed(&d, now)?
        .into_iter()
        .filter(|x| owner.is_none_or(|o| x.owner == o))
        .filter(|x| !stale || x.expires.is_some_and(|t| t <= soon))
        .map(|x| if read { x } else { without_runtime(x) })
        .collect();
    if json {
        return print_json(&devices);
    }
    let tz = &d.server.timezone;
    let day = |t: Option<Timestamp>, none: &str| match t {
        Some(t) => t.to_zoned_datetime(tz.clone()).date().to_string(),
        None => none.to_string(),
    };
    println!(
        "{:<17}  {:<16}  {:<28}  {:<10}  {:<10}  {:<4}  LABEL",
        "MAC", "OWNER", "SOURCE", "ACCEPTED", "EXPIRES", "RAND"
    );
    for x in devices {
        let expires = match x.expires {
            Some(_) if x.expired => "EXPIRED".to_string(),
            t => day(t, "-"),
        };
        println!(
            "{:<17}  {:<16}  {:<28}  {:<10}  {:<10}  {:<4}  {}",
            x.mac.to_string(),
            x.owner,
            x.source,
            day(x.last_accepted, if read { "never" } else { "-" }),
            expires,
            if x.randomized { "yes" } else { "no" },
            x.label.as_deref().unwrap_or("")
        );
    }
    if stale {
        println!("(expired, or expiring by {})", show_time(soon, tz));
    }
    if !read {
        eprintln!(
            "note: ACCEPTED and EXPIRES left out; give --reason \"...\" to see them (recorded in the audit log)"
        );
    }
    Ok(())
}

/// A registered device that seems to use a new private address.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Suggestion {
    pub registered: MacAddr,
    pub owner: String,
    pub label: Option<String>,
    /// The randomized MAC the watcher linked to it (same host name).
    pub now_as: MacAddr,
    pub hostname: Option<String>,
    pub seen: Timestamp,
}

/// The randomized MACs the DHCP watcher linked to a registered or enrolled device that are
/// registered to nobody themselves, the most recently seen first.
pub(super) fn suggestions(
    devices: &[DeviceListed],
    sightings: &[crate::store::Sighting],
) -> Vec<Suggestion> {
    let known = |m: MacAddr| devices.iter().find(|x| x.mac == m);
    let mut out: Vec<Suggestion> = sightings
        .iter()
        .filter(|s| known(s.mac).is_none())
        .filter_map(|s| {
            let of = known(s.randomized_alias_of?)?;
            Some(Suggestion {
                registered: of.mac,
                owner: of.owner.clone(),
                label: of.label.clone(),
                now_as: s.mac,
                hostname: s.hostname.clone(),
                seen: s.last_seen,
            })
        })
        .collect();
    out.sort_by(|a, b| b.seen.cmp(&a.seen).then(a.now_as.cmp(&b.now_as)));
    out
}

fn suggest(dir: &Path, owner: Option<&str>, why: Option<&str>) -> anyhow::Result<()> {
    let d = load_config(dir)?;
    if !audited_read(&d, owner, why)? {
        return Err(CliError::ReasonRequired {
            what: "device list --suggest",
        }
        .into());
    }
    if db_file(&d.server.state_dir).is_err() {
        println!("no suggestions: the daemon has not run yet");
        return Ok(());
    }
    let devices = listed(&d, Timestamp::now())?;
    let filter = crate::store::SightingFilter {
        randomized_only: true,
        ..crate::store::SightingFilter::default()
    };
    let sightings = reader(&d)?.sightings(&filter)?;
    let found: Vec<Suggestion> = suggestions(&devices, &sightings)
        .into_iter()
        .filter(|s| owner.is_none_or(|o| s.owner == o))
        .collect();
    if found.is_empty() {
        println!("no registered device appears under a new randomized MAC");
    }
    let tz = &d.server.timezone;
    for s in found {
        println!(
            "{} ({}{}) now appears as {}? host name {:?}, last seen {}",
            s.registered,
            s.owner,
            s.label.map(|l| format!(", {l}")).unwrap_or_default(),
            s.now_as,
            s.hostname.unwrap_or_default(),
            show_time(s.seen, tz)
        );
        println!("  hallpass device replace {} {}", s.registered, s.now_as);
    }
    Ok(())
}

fn prune(edit: &EditArgs, why: &str) -> anyhow::Result<()> {
    if why.trim().is_empty() {
        return Err(CliError::ReasonRequired {
            what: "device prune",
        }
        .into());
    }
    let d = load_config(&edit.config.config)?;
    if d.policy.device_expiry_secs.is_none() {
        anyhow::bail!("no [policy] device_expiry is set: devices never expire");
    }
    let now = Timestamp::now();
    let expired: Vec<DeviceListed> = listed(&d, now)?.into_iter().filter(|x| x.expired).collect();
    if expired.is_empty() {
        println!("no device has expired");
        return Ok(());
    }
    let in_files: Vec<MacAddr> = expired
        .iter()
        .filter(|x| !x.enrolled)
        .map(|x| x.mac)
        .collect();
    if !in_files.is_empty() {
        let n = in_files.len();
        edit_flow(
            &quiet(edit),
            "device.prune",
            "expired devices",
            Some(why),
            |e, _, _| {
                let removed = remove_devices(e, |m, _| in_files.contains(&m))?;
                Ok(format!(
                    "removed {removed} of {n} expired registration(s) from the files"
                ))
            },
        )?;
    } else {
        super::records::audit_insert(
            &d.server.state_dir,
            "device.prune",
            "expired devices",
            Some(why),
        )?;
    }
    let all: Vec<MacAddr> = expired.iter().map(|x| x.mac).collect();
    let gone = admin(&d.server.state_dir)?.forget_devices(&all)?;
    let enrolments = gone.iter().filter(|g| g.enrolment.is_some()).count();
    println!("dropped {enrolments} expired enrolment(s)");
    for x in &expired {
        println!("  {}  {}  {}", x.mac, x.owner, x.source);
    }
    ask_reload(edit, &d.server.state_dir)
}

/// The enrolments of `user` and the last-accepted times of their devices, for `user show`
/// (empty when the daemon has never run).
pub(super) fn of_user(d: &Directory, user: &str) -> anyhow::Result<Vec<DeviceListed>> {
    Ok(listed(d, Timestamp::now())?
        .into_iter()
        .filter(|x| x.owner == user)
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::cli::records::to_json;

    fn listed_device(mac: &str, owner: &str) -> DeviceListed {
        DeviceListed {
            mac: mac.parse().unwrap(),
            owner: owner.into(),
            label: Some("iPhone".into()),
            source: "devices.toml:3".into(),
            registered: None,
            enrolled: false,
            last_accepted: None,
            randomized: true,
            expires: None,
            expired: false,
        }
    }

    fn sighting(mac: &str, alias_of: Option<&str>, seen: &str) -> crate::store::Sighting {
        crate::store::Sighting {
            mac: mac.parse().unwrap(),
            last_ip: None,
            hostname: Some("Max-iPhone".into()),
            vendor_class: None,
            client_id: None,
            fingerprint: None,
            family: None,
            registered: false,
            randomized: true,
            first_seen: seen.parse().unwrap(),
            last_seen: seen.parse().unwrap(),
            counts: Default::default(),
            last_interface: None,
            relay_circuit_id: None,
            relay_remote_id: None,
            randomized_alias_of: alias_of.map(|m| m.parse().unwrap()),
        }
    }

    #[test]
    fn a_registered_device_under_a_new_private_mac_is_suggested_for_replace() {
        let devices = [
            listed_device("3a:22:fb:12:34:56", "max.muster"),
            listed_device("3a:22:fb:00:00:01", "lena.meyer"),
        ];
        let sightings = [
            // max's phone after the summer: a new private MAC, same host name
            sighting(
                "aa:bb:cc:00:00:01",
                Some("3a:22:fb:12:34:56"),
                "2026-09-01T07:00:00Z",
            ),
            // linked, but registered itself (to lena): nothing to suggest
            sighting(
                "3a:22:fb:00:00:01",
                Some("3a:22:fb:12:34:56"),
                "2026-09-02T07:00:00Z",
            ),
            // linked to a MAC nobody registered
            sighting(
                "aa:bb:cc:00:00:02",
                Some("3a:22:fb:99:99:99"),
                "2026-09-02T07:00:00Z",
            ),
            // no link
            sighting("aa:bb:cc:00:00:03", None, "2026-09-02T07:00:00Z"),
        ];
        let found = suggestions(&devices, &sightings);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].registered, devices[0].mac);
        assert_eq!(found[0].owner, "max.muster");
        assert_eq!(found[0].now_as, "aa:bb:cc:00:00:01".parse().unwrap());
    }

    #[test]
    fn device_lines_print_as_scripts_read_them() {
        let line = DeviceListed {
            mac: "3C22.FB12.3456".parse().unwrap(),
            owner: "max.muster".into(),
            label: None,
            source: "devices.toml:3".into(),
            registered: Some("2026-11-19T23:00:00Z".parse().unwrap()),
            enrolled: false,
            last_accepted: None,
            randomized: false,
            expires: None,
            expired: false,
        };
        assert_eq!(
            to_json(&[line]).unwrap(),
            r#"[
  {
    "enrolled": false,
    "expired": false,
    "expires": null,
    "label": null,
    "last_accepted": null,
    "mac": "3c:22:fb:12:34:56",
    "owner": "max.muster",
    "randomized": false,
    "registered": "2026-11-19T23:00:00Z",
    "source": "devices.toml:3"
  }
]"#
        );
    }
}
