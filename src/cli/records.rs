//! The commands that read the runtime database (sessions, sightings, log, audit), the data
//! export and the erasure of one person. Every read of data about people (sessions,
//! sightings, log, export) needs a reason and is recorded in the audit log BEFORE anything
//! is read: no audit row, no data. The audit's `actor` is the login account
//! ([`super::actor`]); `SUDO_USER`, which anyone can set, is only recorded beside it.
//!
//! Reads go through [`store::Reader`], the audit rows and the erasure through
//! [`store::Admin`]. `--json` prints the store's own record types (and the export document
//! of [`export_doc`]) through [`print_json`]; nothing here builds JSON by hand.

mod export_doc;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::Timestamp;
use serde::Serialize;

use super::args::{AuditArgs, EditArgs, LogArgs, SessionsArgs, SightingsArgs};
use super::{CliError, actor, load_config, parse_mac, parse_time, show_time};
use crate::config::Directory;
use crate::model::MacAddr;
use crate::store::{self, Admin, AuditRecord, AuthLogFilter, Reader, SessionFilter};

/// How long the short read-write connection waits for the daemon's writer.
const BUSY: std::time::Duration = std::time::Duration::from_secs(10);

pub(super) fn db_file(state_dir: &Path) -> Result<PathBuf, CliError> {
    let path = store::db_path(state_dir);
    // Not `exists()`: that follows a link, and a planted (even dangling) link must reach
    // the store's own refusal, which names it.
    if path.symlink_metadata().is_ok() {
        Ok(path)
    } else {
        Err(CliError::NoDatabase { path })
    }
}

pub(super) fn reader(d: &Directory) -> anyhow::Result<Reader> {
    let path = db_file(&d.server.state_dir)?;
    Ok(Reader::open(&path)?)
}

pub(super) fn admin(state_dir: &Path) -> anyhow::Result<Admin> {
    let path = db_file(state_dir)?;
    Ok(Admin::open(&path, BUSY)?)
}

/// `SUDO_USER`, if set: recorded beside the actor as a hint, never as the actor.
fn sudo_user() -> Option<String> {
    std::env::var("SUDO_USER")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

fn audit_record(action: &str, subject: &str, reason: Option<&str>) -> AuditRecord {
    AuditRecord {
        time: Timestamp::now(),
        actor: actor(),
        sudo_user: sudo_user(),
        action: action.to_string(),
        subject: subject.to_string(),
        reason: reason.map(str::to_string),
    }
}

/// Records an admin action in the audit log, over a short read-write connection.
pub fn audit_insert(
    state_dir: &Path,
    action: &str,
    subject: &str,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    admin(state_dir)?
        .audit(&audit_record(action, subject, reason))
        .context("cannot write the audit row")?;
    Ok(())
}

/// The reason for reading data about people: required, non-empty.
fn reason<'a>(r: Option<&'a str>, what: &'static str) -> Result<&'a str, CliError> {
    r.filter(|r| !r.trim().is_empty())
        .ok_or(CliError::ReasonRequired { what })
}

/// `v` as pretty JSON, every object's keys in alphabetical order: the order hallpass has
/// always printed, so scripts and saved outputs compare line by line across versions.
pub(super) fn to_json(v: &impl Serialize) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&serde_json::to_value(v)?)
}

pub(super) fn print_json(v: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", to_json(v)?);
    Ok(())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

pub fn sessions(a: &SessionsArgs) -> anyhow::Result<()> {
    let d = load_config(&a.config.config)?;
    let mac = a.mac.as_deref().map(parse_mac).transpose()?;
    let why = reason(a.reason.as_deref(), "sessions")?;
    let subject = a
        .user
        .clone()
        .or_else(|| mac.map(|m| m.to_string()))
        .unwrap_or_else(|| "all".into());
    audit_insert(&d.server.state_dir, "sessions.read", &subject, Some(why))?;
    let reader = reader(&d)?;
    let list = reader.sessions(&SessionFilter {
        mac,
        user: a.user.clone(),
        open_only: a.open,
        since: None,
        limit: a.limit,
    })?;
    if a.json {
        return print_json(&list);
    }
    let tz = &d.server.timezone;
    println!(
        "{:<17}  {:<16}  {:<4}  {:<15}  {:<16}  {:<16}  {:>12}  {:>12}  CLIENT",
        "MAC", "USER", "MOD", "IP", "STARTED", "STOPPED", "IN", "OUT"
    );
    for s in &list {
        // the NAS may not report the address: then the device's DHCP sighting tells it
        let ip = match (s.framed_ip, s.mac) {
            (Some(ip), _) => ip.to_string(),
            (None, Some(mac)) if s.stopped.is_none() => reader
                .device_address(mac)?
                .map_or("-".into(), |i| format!("{} (dhcp)", i.ip())),
            _ => "-".into(),
        };
        println!(
            "{:<17}  {:<16}  {:<4}  {:<15}  {:<16}  {:<16}  {:>12}  {:>12}  {}",
            opt(s.mac),
            s.user.as_deref().unwrap_or("-"),
            s.module.map_or("-", |m| m.as_str()),
            ip,
            show_time(s.started, tz),
            s.stopped.map_or("open".into(), |x| show_time(x, tz)),
            s.input_octets,
            s.output_octets,
            s.client
        );
    }
    Ok(())
}

pub fn sightings(a: &SightingsArgs) -> anyhow::Result<()> {
    let d = load_config(&a.config.config)?;
    let why = reason(a.reason.as_deref(), "sightings")?;
    audit_insert(&d.server.state_dir, "sightings.read", "all", Some(why))?;
    let list = reader(&d)?.sightings(&store::SightingFilter {
        unregistered_only: a.unregistered,
        randomized_only: a.randomized,
        limit: a.limit,
    })?;
    if a.json {
        return print_json(&list);
    }
    let tz = &d.server.timezone;
    println!(
        "{:<17}  {:<15}  {:<20}  {:<12}  {:<4}  {:<4}  LAST SEEN",
        "MAC", "IP", "HOSTNAME", "FAMILY", "REG", "RAND"
    );
    for s in &list {
        println!(
            "{:<17}  {:<15}  {:<20}  {:<12}  {:<4}  {:<4}  {}",
            s.mac.to_string(),
            opt(s.last_ip),
            s.hostname.as_deref().unwrap_or("-"),
            s.family.as_deref().unwrap_or("-"),
            if s.registered { "yes" } else { "no" },
            if s.randomized { "yes" } else { "no" },
            show_time(s.last_seen, tz)
        );
        if let Some(alias) = s.randomized_alias_of {
            println!(
                "{:<17}  ^ same hostname as registered device {alias}: this phone now uses a \
                 private address; register the new one or switch it off for the school network",
                ""
            );
        }
    }
    Ok(())
}

pub fn log(a: &LogArgs) -> anyhow::Result<()> {
    let d = load_config(&a.config.config)?;
    let mac = a.mac.as_deref().map(parse_mac).transpose()?;
    let since = a
        .since
        .as_deref()
        .map(|s| parse_time(s, &d.server.timezone, Timestamp::now()))
        .transpose()?;
    let why = reason(a.reason.as_deref(), "log")?;
    let subject = a
        .user
        .clone()
        .or_else(|| mac.map(|m| m.to_string()))
        .unwrap_or_else(|| "all".into());
    audit_insert(&d.server.state_dir, "log.read", &subject, Some(why))?;
    let list = reader(&d)?.auth_log(&AuthLogFilter {
        mac,
        user: a.user.clone(),
        since,
        until: None,
        limit: Some(a.limit),
    })?;
    if a.json {
        return print_json(&list);
    }
    let tz = &d.server.timezone;
    println!(
        "{:<16}  {:<17}  {:<16}  {:<4}  {:<6}  {:<16}  CLIENT",
        "TIME", "MAC", "USER", "MOD", "ANSWER", "REASON"
    );
    for e in &list {
        println!(
            "{:<16}  {:<17}  {:<16}  {:<4}  {:<6}  {:<16}  {}",
            show_time(e.time, tz),
            opt(e.mac),
            e.user.as_deref().unwrap_or("-"),
            e.module.as_str(),
            if e.accepted { "accept" } else { "reject" },
            e.reason,
            e.client
        );
    }
    Ok(())
}

pub fn audit(a: &AuditArgs) -> anyhow::Result<()> {
    let d = load_config(&a.config.config)?;
    let list = reader(&d)?.audit_log(Some(a.limit))?;
    if a.json {
        return print_json(&list);
    }
    let tz = &d.server.timezone;
    println!(
        "{:<16}  {:<14}  {:<14}  {:<20}  REASON",
        "TIME", "WHO", "WHAT", "ON"
    );
    for e in &list {
        let r = &e.record;
        let sudo = r
            .sudo_user
            .as_deref()
            .map_or(String::new(), |s| format!(" (SUDO_USER {s})"));
        println!(
            "{:<16}  {:<14}  {:<14}  {:<20}  {}{sudo}",
            show_time(r.time, tz),
            r.actor,
            r.action,
            r.subject,
            r.reason.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// The MACs registered to `user` in the config.
fn macs_of(d: &Directory, user: &str) -> Vec<MacAddr> {
    let mut macs: Vec<MacAddr> = d
        .devices()
        .filter(|x| *x.owner == *user)
        .map(|x| x.mac)
        .collect();
    macs.sort();
    macs
}

/// `hallpass user export`: every record about the person as one JSON document.
pub fn export(dir: &Path, user: &str, why: Option<&str>) -> anyhow::Result<()> {
    let why = reason(why, "user export")?;
    let d = load_config(dir)?;
    let u = d.user(user).ok_or_else(|| CliError::UnknownUser {
        name: user.to_string(),
    })?;
    audit_insert(&d.server.state_dir, "user.export", user, Some(why))?;
    let doc = export_doc::ExportDoc::of(&d, u, &reader(&d)?, Timestamp::now())?;
    print_json(&doc)
}

/// `hallpass user erase`: deletes the person's runtime rows (and with `registrations` their
/// devices from the config files). The audit log keeps the fact that it happened.
pub fn erase(
    edit: &EditArgs,
    user: &str,
    why: Option<&str>,
    registrations: bool,
) -> anyhow::Result<()> {
    let why = reason(why, "user erase")?;
    let d = load_config(&edit.config.config)?;
    let macs = macs_of(&d, user);
    let mut admin = admin(&d.server.state_dir)?;
    // Recorded first, like every read: an erasure that fails, or that leaves copies in the
    // write-ahead log (store::StoreError::WalKept), is on record too; a rerun is recorded
    // again.
    admin.audit(&audit_record("user.erase", user, Some(why)))?;
    let person = reader(&d)?.person_macs(Some(user), &macs)?;
    let counts = admin.erase(Some(user), &macs)?;
    drop(admin);
    let list = |m: &[MacAddr]| {
        if m.is_empty() {
            "none".to_string()
        } else {
            m.iter()
                .map(MacAddr::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    let others: Vec<MacAddr> = person
        .unregistered
        .iter()
        .chain(&person.aliases)
        .copied()
        .collect();
    println!(
        "erased {} rows of {user} (registered devices: {}; other MACs: {}): auth log {}, sessions {}, sightings {}, sighting history {}, rogue servers {}, disconnects {}, enrolments {}, last-accepted times {}",
        counts.total(),
        list(&person.registered),
        list(&others),
        counts.auth_log,
        counts.sessions,
        counts.sightings,
        counts.sighting_history,
        counts.rogue_servers,
        counts.disconnects,
        counts.enrolments,
        counts.last_accepted
    );
    if registrations && !macs.is_empty() {
        let owner = user.to_string();
        super::admin::edit_flow(edit, "device.remove", user, Some(why), move |e, _, _| {
            let n = super::device::remove_devices(e, |_, o| o == owner)?;
            Ok(format!("removed {n} device registration(s) of {owner}"))
        })?;
    } else if counts.enrolments + counts.last_accepted > 0 {
        // The daemon holds enrolments and last-accepted times in memory: it reads them
        // afresh, or it would write them again.
        super::admin::ask_reload(edit, &d.server.state_dir)?;
    }
    Ok(())
}
