//! The commands that read the runtime database (sessions, sightings, log, audit), the data
//! export and the erasure of one person. Reads of one person's data need a reason and are
//! recorded in the audit log BEFORE anything is read: no audit row, no data.

use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::Timestamp;
use rusqlite::Connection;
use serde_json::{Value, json};

use super::args::{AuditArgs, EditArgs, LogArgs, SessionsArgs, SightingsArgs};
use super::{CliError, actor, load_config, parse_mac, parse_time, show_time};
use crate::config::Directory;
use crate::model::MacAddr;
use crate::store::{self, AuditRecord, AuthLogEntry, AuthLogFilter, Session, SessionFilter};

/// How long the short read-write connection waits for the daemon's writer.
const BUSY: std::time::Duration = std::time::Duration::from_secs(10);

fn db_file(state_dir: &Path) -> Result<PathBuf, CliError> {
    let path = store::db_path(state_dir);
    if path.exists() {
        Ok(path)
    } else {
        Err(CliError::NoDatabase { path })
    }
}

fn open_ro(d: &Directory) -> anyhow::Result<Connection> {
    let path = db_file(&d.server.state_dir)?;
    Ok(store::open_read_only(&path)?)
}

/// Records an admin action in the audit log, over a short read-write connection.
pub fn audit_insert(
    state_dir: &Path,
    action: &str,
    subject: &str,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    let path = db_file(state_dir)?;
    let conn = store::open_rw(&path, BUSY)?;
    store::insert_audit(
        &conn,
        &AuditRecord {
            time: Timestamp::now(),
            actor: actor(),
            action: action.to_string(),
            subject: subject.to_string(),
            reason: reason.map(str::to_string),
        },
    )
    .context("cannot write the audit row")?;
    Ok(())
}

/// The reason for reading one person's data: required, non-empty.
fn reason<'a>(r: Option<&'a str>, what: &'static str) -> Result<&'a str, CliError> {
    r.filter(|r| !r.trim().is_empty())
        .ok_or(CliError::ReasonRequired { what })
}

fn t(ts: Timestamp) -> String {
    ts.to_string()
}

fn session_json(s: &Session) -> Value {
    json!({
        "id": s.id,
        "client": s.client,
        "acct_session_id": s.acct_session_id,
        "mac": s.mac.map(|m| m.to_string()),
        "user": s.user,
        "module": s.module.map(|m| m.as_str()),
        "nas_ip": s.nas_ip.map(|i| i.to_string()),
        "nas_port": s.nas_port,
        "called_station_id": s.called_station_id,
        "framed_ip": s.framed_ip.map(|i| i.to_string()),
        "started": t(s.started),
        "last_update": t(s.last_update),
        "stopped": s.stopped.map(t),
        "input_octets": s.input_octets,
        "output_octets": s.output_octets,
        "session_time": s.session_time,
        "terminate_cause": s.terminate_cause,
        "closed_by": s.closed_by.map(|c| c.as_str()),
    })
}

fn log_json(e: &AuthLogEntry) -> Value {
    json!({
        "id": e.id,
        "time": t(e.time),
        "client": e.client,
        "client_ip": e.client_ip.to_string(),
        "mac": e.mac.map(|m| m.to_string()),
        "user": e.user,
        "module": e.module.as_str(),
        "accepted": e.accepted,
        "reason": e.reason,
        "vlan": e.vlan,
    })
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

pub fn sessions(a: &SessionsArgs) -> anyhow::Result<()> {
    let d = load_config(&a.config.config)?;
    let mac = a.mac.as_deref().map(parse_mac).transpose()?;
    if mac.is_some() || a.user.is_some() {
        let why = reason(a.reason.as_deref(), "sessions --user/--mac")?;
        let subject = a.user.clone().unwrap_or_else(|| opt(mac));
        audit_insert(&d.server.state_dir, "sessions.read", &subject, Some(why))?;
    }
    let conn = open_ro(&d)?;
    let list = store::sessions(
        &conn,
        &SessionFilter {
            mac,
            user: a.user.clone(),
            open_only: a.open,
            since: None,
            limit: a.limit,
        },
    )?;
    if a.json {
        let v: Vec<Value> = list.iter().map(session_json).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
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
            (None, Some(mac)) if s.stopped.is_none() => {
                store::session_ip(&conn, mac)?.map_or("-".into(), |i| format!("{} (dhcp)", i.ip()))
            }
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
    let conn = open_ro(&d)?;
    let list = store::sightings(
        &conn,
        &store::SightingFilter {
            unregistered_only: a.unregistered,
            randomized_only: a.randomized,
            limit: a.limit,
        },
    )?;
    if a.json {
        let v: Vec<Value> = list.iter().map(sighting_json).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
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

fn sighting_json(s: &store::Sighting) -> Value {
    json!({
        "mac": s.mac.to_string(),
        "last_ip": s.last_ip.map(|i| i.to_string()),
        "hostname": s.hostname,
        "vendor_class": s.vendor_class,
        "client_id": s.client_id,
        "fingerprint": s.fingerprint,
        "family": s.family,
        "registered": s.registered,
        "randomized": s.randomized,
        "first_seen": t(s.first_seen),
        "last_seen": t(s.last_seen),
        "last_interface": s.last_interface,
        "relay_circuit_id": s.relay_circuit_id,
        "relay_remote_id": s.relay_remote_id,
        "randomized_alias_of": s.randomized_alias_of.map(|m| m.to_string()),
    })
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
    let conn = open_ro(&d)?;
    let list = store::auth_log(
        &conn,
        &AuthLogFilter {
            mac,
            user: a.user.clone(),
            since,
            until: None,
            limit: Some(a.limit),
        },
    )?;
    if a.json {
        let v: Vec<Value> = list.iter().map(log_json).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
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
    let conn = open_ro(&d)?;
    let list = store::audit_log(&conn, Some(a.limit))?;
    if a.json {
        let v: Vec<Value> = list
            .iter()
            .map(|e| {
                json!({
                    "id": e.id,
                    "time": t(e.record.time),
                    "actor": e.record.actor,
                    "action": e.record.action,
                    "subject": e.record.subject,
                    "reason": e.record.reason,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let tz = &d.server.timezone;
    println!(
        "{:<16}  {:<14}  {:<14}  {:<20}  REASON",
        "TIME", "WHO", "WHAT", "ON"
    );
    for e in &list {
        let r = &e.record;
        println!(
            "{:<16}  {:<14}  {:<14}  {:<20}  {}",
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
    let macs = macs_of(&d, user);
    let devices: Vec<Value> = macs
        .iter()
        .filter_map(|m| d.device(m))
        .map(|x| {
            json!({
                "mac": x.mac.to_string(),
                "label": x.label,
                "registered": x.registered.map(t),
            })
        })
        .collect();
    let ban_json = |b: &crate::model::Ban| {
        let (on_user, on_mac) = match &b.target {
            crate::model::BanTarget::User(n) => (Some(n.to_string()), None),
            crate::model::BanTarget::Mac(m) => (None, Some(m.to_string())),
        };
        json!({
            "user": on_user,
            "mac": on_mac,
            "modules": b.modules.to_string(),
            "from": b.from.map(t),
            "until": b.until.map(t),
            "reason": b.reason,
            "by": b.by,
        })
    };
    let bans: Vec<Value> = d
        .bans_of_user(user)
        .iter()
        .chain(macs.iter().flat_map(|m| d.bans_of_device(m)))
        .map(ban_json)
        .collect();
    let grants: Vec<Value> = d
        .grants_of_user(user)
        .iter()
        .map(|g| {
            json!({
                "modules": g.modules.to_string(),
                "from": t(g.from),
                "until": t(g.until),
                "reason": g.reason,
                "by": g.by,
            })
        })
        .collect();

    let conn = open_ro(&d)?;
    // By name, and by each of their devices; each row once.
    let mut sessions: Vec<Session> = store::sessions(
        &conn,
        &SessionFilter {
            user: Some(user.to_string()),
            ..SessionFilter::default()
        },
    )?;
    let mut log: Vec<AuthLogEntry> = store::auth_log(
        &conn,
        &AuthLogFilter {
            user: Some(user.to_string()),
            ..AuthLogFilter::default()
        },
    )?;
    let mut sightings = Vec::new();
    for m in &macs {
        sessions.extend(store::sessions(
            &conn,
            &SessionFilter {
                mac: Some(*m),
                ..SessionFilter::default()
            },
        )?);
        log.extend(store::auth_log(
            &conn,
            &AuthLogFilter {
                mac: Some(*m),
                ..AuthLogFilter::default()
            },
        )?);
        if let Some(s) = store::sighting(&conn, *m)? {
            let history: Vec<Value> = store::sighting_history(&conn, *m, usize::MAX)?
                .iter()
                .map(|h| {
                    json!({
                        "time": t(h.time),
                        "ip": h.ip.map(|i| i.to_string()),
                        "hostname": h.hostname,
                        "message": h.message,
                    })
                })
                .collect();
            let mut v = sighting_json(&s);
            if let Some(o) = v.as_object_mut() {
                o.insert("history".into(), Value::Array(history));
            }
            sightings.push(v);
        }
    }
    sessions.sort_by_key(|s| s.id);
    sessions.dedup_by_key(|s| s.id);
    log.sort_by_key(|e| e.id);
    log.dedup_by_key(|e| e.id);
    let mac_strings: Vec<String> = macs.iter().map(MacAddr::to_string).collect();
    let disconnects: Vec<Value> = store::disconnects(&conn, None)?
        .into_iter()
        .filter(|x| x.user.as_deref() == Some(user) || x.mac.is_some_and(|m| macs.contains(&m)))
        .map(|x| {
            json!({
                "time": t(x.time),
                "client": x.client,
                "acct_session_id": x.acct_session_id,
                "mac": x.mac.map(|m| m.to_string()),
                "user": x.user,
                "trigger": x.trigger,
                "result": x.result.as_str(),
            })
        })
        .collect();
    let doc = json!({
        "exported": t(Timestamp::now()),
        "user": {
            "name": &*u.name,
            "groups": u.groups,
            "consent": u.consent,
            "disabled": u.disabled,
            "password": if u.password_hash.is_some() { "set" } else { "not set" },
        },
        "devices": devices,
        "macs": mac_strings,
        "bans": bans,
        "grants": grants,
        "sessions": sessions.iter().map(session_json).collect::<Vec<_>>(),
        "sightings": sightings,
        "auth_log": log.iter().map(log_json).collect::<Vec<_>>(),
        "disconnects": disconnects,
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
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
    let path = db_file(&d.server.state_dir)?;
    let mut conn = store::open_rw(&path, BUSY)?;
    let counts = store::erase_user(&mut conn, Some(user), &macs)?;
    store::insert_audit(
        &conn,
        &AuditRecord {
            time: Timestamp::now(),
            actor: actor(),
            action: "user.erase".into(),
            subject: user.to_string(),
            reason: Some(why.to_string()),
        },
    )?;
    drop(conn);
    println!(
        "erased {} rows of {user} and {} device(s): auth log {}, sessions {}, sightings {}, sighting history {}, rogue servers {}, disconnects {}",
        counts.total(),
        macs.len(),
        counts.auth_log,
        counts.sessions,
        counts.sightings,
        counts.sighting_history,
        counts.rogue_servers,
        counts.disconnects
    );
    if registrations && !macs.is_empty() {
        let owner = user.to_string();
        super::admin::edit_flow(edit, "device.remove", user, Some(why), move |e, _, _| {
            let n = super::admin::remove_devices(e, |_, o| o == owner)?;
            Ok(format!("removed {n} device registration(s) of {owner}"))
        })?;
    }
    Ok(())
}
