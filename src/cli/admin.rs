//! The commands that edit the config files (ban, grant, user passwd; devices are in
//! `device`), `user show` and `why`. Every edit goes through [`super::edit`] and is recorded in the audit log.
//! `ban list --json` prints typed records through
//! [`super::records::print_json`].

use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use toml_edit::{DocumentMut, Item, Table, value};

use super::args::{BanCmd, EditArgs, GrantCmd, UserCmd, WhyArgs};
use super::edit::{Edit, Lock, Reload};
use super::records::print_json;
use super::{CliError, actor, load_config, parse_duration, parse_mac, parse_time, show_time};
use crate::config::Directory;
use crate::model::{BanTarget, MacAddr, Module};
use crate::policy;

/// Runs one edit: lock, load the current config, `change` (which fills the edit and says
/// what it did), validate and write, audit, reload.
pub(super) fn edit_flow(
    args: &EditArgs,
    action: &str,
    subject: &str,
    reason: Option<&str>,
    change: impl FnOnce(&mut Edit, &Directory, Timestamp) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let dir = &args.config.config;
    let who = actor();
    let lock = Lock::acquire(dir, &who)?;
    let current = load_config(dir)?;
    let mut edit = Edit::new(dir);
    let summary = change(&mut edit, &current, Timestamp::now())?;
    let committed = edit.commit()?;
    drop(lock);
    println!("{summary}");
    for f in &committed.written {
        println!("wrote {}", f.display());
    }
    let state_dir = &committed.directory.server.state_dir;
    if let Err(e) = super::records::audit_insert(state_dir, action, subject, reason) {
        eprintln!("warning: not recorded in the audit log: {e:#}");
    }
    ask_reload(args, state_dir)
}

/// Asks the running daemon to reload (unless `--no-reload`), and says what happened.
pub(super) fn ask_reload(args: &EditArgs, state_dir: &Path) -> anyhow::Result<()> {
    if args.no_reload {
        println!("not reloaded (--no-reload): the daemon reads the change at its next reload");
        return Ok(());
    }
    match super::edit::reload(state_dir) {
        Reload::Signalled(pid) => println!("asked the running daemon (pid {pid}) to reload"),
        Reload::NotRunning => {
            println!("no running daemon found: the change takes effect when it starts")
        }
        Reload::Failed(pid, why) => {
            anyhow::bail!("written, but the daemon (pid {pid}) could not be signalled: {why}")
        }
    }
    Ok(())
}

fn modules_array(modules: &[String]) -> Result<toml_edit::Array, CliError> {
    let mut out = toml_edit::Array::new();
    for m in modules {
        let m = m.trim();
        if !matches!(m, "wifi" | "lan" | "all") {
            return Err(CliError::BadModule {
                value: m.to_string(),
            });
        }
        out.push(m);
    }
    Ok(out)
}

/// A point in time as a TOML offset date-time in the server's zone.
fn toml_time(t: Timestamp, tz: &TimeZone) -> anyhow::Result<toml_edit::Datetime> {
    let s = t
        .to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    s.parse()
        .with_context(|| format!("cannot write the time {s}"))
}

/// `from` and `until` from the options: `--until`, `--for` (from `--from` or now), or none.
fn period(
    from: Option<&str>,
    until: Option<&str>,
    for_: Option<&str>,
    tz: &TimeZone,
    now: Timestamp,
) -> Result<(Timestamp, Option<Timestamp>), CliError> {
    let start = from
        .map(|f| parse_time(f, tz, now))
        .transpose()?
        .unwrap_or(now);
    let end = match (until, for_) {
        (Some(u), _) => Some(parse_time(u, tz, now)?),
        (None, Some(d)) => {
            Some(
                start
                    .checked_add(parse_duration(d)?)
                    .map_err(|_| CliError::BadDuration {
                        value: d.to_string(),
                    })?,
            )
        }
        (None, None) => None,
    };
    if let Some(end) = end
        && end <= start
    {
        return Err(CliError::EndsBeforeStart {
            from: show_time(start, tz),
            until: show_time(end, tz),
        });
    }
    Ok((start, end))
}

fn entries<'a>(doc: &'a DocumentMut, key: &str) -> Vec<&'a Table> {
    doc.get(key)
        .and_then(Item::as_array_of_tables)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn str_of<'a>(t: &'a Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(Item::as_str)
}

/// One `[[ban]]` as written, with its number in `ban list`.
#[derive(Debug, Serialize)]
struct BanEntry {
    index: usize,
    file: PathBuf,
    /// Position among the file's `[[ban]]` entries.
    #[serde(skip)]
    pos: usize,
    /// `user` or `mac` as one text, for the table.
    #[serde(skip)]
    target: String,
    user: Option<String>,
    mac: Option<MacAddr>,
    modules: Vec<String>,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
    reason: String,
    by: Option<String>,
}

/// A line of `ban list --json`: the entry and whether it is in force now.
#[derive(Debug, Serialize)]
struct BanListed<'a> {
    #[serde(flatten)]
    entry: &'a BanEntry,
    in_force: bool,
}

impl BanEntry {
    fn in_force(&self, now: Timestamp) -> bool {
        self.from.is_none_or(|f| f <= now) && self.until.is_none_or(|u| now < u)
    }
    fn over(&self, now: Timestamp) -> bool {
        self.until.is_some_and(|u| u <= now)
    }
}

fn ban_entries(e: &mut Edit, tz: &TimeZone) -> anyhow::Result<Vec<BanEntry>> {
    let mut out = Vec::new();
    let now = Timestamp::now();
    for rel in e.list_files("bans")? {
        let doc = e.doc(&rel)?;
        for (pos, t) in entries(&doc, "ban").into_iter().enumerate() {
            let time = |k: &str| {
                t.get(k)
                    .and_then(|i| i.as_value())
                    .and_then(|v| v.as_datetime())
                    .and_then(|d| parse_time(&d.to_string(), tz, now).ok())
            };
            let user = str_of(t, "user").map(str::to_string);
            let mac = str_of(t, "mac").and_then(|m| m.parse().ok());
            let target = match (&user, &mac) {
                (Some(u), _) => u.clone(),
                (None, Some(m)) => format!("device {m}"),
                (None, None) => "?".into(),
            };
            out.push(BanEntry {
                index: out.len() + 1,
                file: rel.clone(),
                pos,
                target,
                user,
                mac,
                modules: t
                    .get("modules")
                    .and_then(Item::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                from: time("from"),
                until: time("until"),
                reason: str_of(t, "reason").unwrap_or("").to_string(),
                by: str_of(t, "by").map(String::from),
            });
        }
    }
    Ok(out)
}

pub fn ban(cmd: BanCmd) -> anyhow::Result<()> {
    match cmd {
        BanCmd::Add {
            user,
            mac,
            modules,
            from,
            until,
            for_,
            permanent: _,
            reason,
            by,
            edit,
        } => {
            let mac = mac.as_deref().map(parse_mac).transpose()?;
            let modules = modules_array(&modules)?;
            let subject = mac.map_or_else(|| user.clone().unwrap_or_default(), |m| m.to_string());
            edit_flow(&edit, "ban.add", &subject, Some(&reason), |e, d, now| {
                let tz = &d.server.timezone;
                let (start, end) =
                    period(from.as_deref(), until.as_deref(), for_.as_deref(), tz, now)?;
                let mut t = Table::new();
                match (&user, mac) {
                    (Some(u), _) => t.insert("user", value(u.as_str())),
                    (None, Some(m)) => t.insert("mac", value(m.to_string())),
                    (None, None) => None,
                };
                t.insert("modules", value(modules.clone()));
                t.insert("from", value(toml_time(start, tz)?));
                if let Some(end) = end {
                    t.insert("until", value(toml_time(end, tz)?));
                }
                t.insert("reason", value(reason.as_str()));
                t.insert("by", value(by.clone().unwrap_or_else(actor)));
                e.append(Path::new("bans.toml"), "ban", t)?;
                let until_text = end.map_or("permanent".to_string(), |u| {
                    format!("until {}", show_time(u, tz))
                });
                Ok(format!(
                    "banned {subject} from {} ({until_text})",
                    modules
                        .iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ))
            })
        }
        BanCmd::Lift {
            user,
            mac,
            index,
            reason,
            edit,
        } => {
            let mac = mac.as_deref().map(parse_mac).transpose()?;
            let which = match (&user, mac, index) {
                (Some(u), _, _) => format!("user {u}, in force or still to come"),
                (None, Some(m), _) => format!("device {m}, in force or still to come"),
                (None, None, i) => format!("number {}", i.unwrap_or(0)),
            };
            let subject = match (&user, mac, index) {
                (Some(u), _, _) => u.clone(),
                (None, Some(m), _) => m.to_string(),
                (None, None, i) => format!("ban #{}", i.unwrap_or(0)),
            };
            edit_flow(
                &edit,
                "ban.lift",
                &subject,
                reason.as_deref(),
                |e, d, now| {
                    let all = ban_entries(e, &d.server.timezone)?;
                    let chosen: Vec<&BanEntry> = all
                        .iter()
                        .filter(|b| match (&user, mac, index) {
                            (Some(u), _, _) => b.user.as_deref() == Some(u) && !b.over(now),
                            (None, Some(m), _) => b.mac == Some(m) && !b.over(now),
                            (None, None, i) => Some(b.index) == i,
                        })
                        .collect();
                    if chosen.is_empty() {
                        return Err(CliError::NoBan { which }.into());
                    }
                    let mut files: Vec<&PathBuf> = chosen.iter().map(|b| &b.file).collect();
                    files.dedup();
                    for f in files {
                        let mut doc = e.doc(f)?;
                        let mut pos: Vec<usize> = chosen
                            .iter()
                            .filter(|b| &b.file == f)
                            .map(|b| b.pos)
                            .collect();
                        pos.sort_unstable();
                        for &p in pos.iter().rev() {
                            super::edit::remove_entry(&mut doc, "ban", p);
                        }
                        e.set_doc(f, &doc)?;
                    }
                    Ok(format!("lifted {} ban(s) of {subject}", chosen.len()))
                },
            )
        }
        BanCmd::List {
            active,
            json,
            config,
        } => {
            let d = load_config(&config.config)?;
            let tz = &d.server.timezone;
            let now = Timestamp::now();
            let mut e = Edit::new(&config.config);
            let bans: Vec<BanEntry> = ban_entries(&mut e, tz)?
                .into_iter()
                .filter(|b| !active || b.in_force(now))
                .collect();
            if json {
                let list: Vec<BanListed> = bans
                    .iter()
                    .map(|entry| BanListed {
                        entry,
                        in_force: entry.in_force(now),
                    })
                    .collect();
                return print_json(&list);
            }
            println!(
                "{:>3}  {:<26}  {:<8}  {:<16}  {:<16}  {:<7}  REASON",
                "#", "ON", "MODULES", "FROM", "UNTIL", "STATE"
            );
            for b in &bans {
                let state = if b.in_force(now) {
                    "active"
                } else if b.over(now) {
                    "over"
                } else {
                    "planned"
                };
                println!(
                    "{:>3}  {:<26}  {:<8}  {:<16}  {:<16}  {:<7}  {} ({})",
                    b.index,
                    b.target,
                    b.modules.join(","),
                    b.from.map_or("-".into(), |t| show_time(t, tz)),
                    b.until.map_or("permanent".into(), |t| show_time(t, tz)),
                    state,
                    b.reason,
                    b.file.display()
                );
            }
            Ok(())
        }
    }
}

pub fn grant(cmd: GrantCmd) -> anyhow::Result<()> {
    let GrantCmd::Add {
        group,
        user,
        modules,
        from,
        until,
        for_,
        reason,
        by,
        edit,
    } = cmd;
    let modules = modules_array(&modules)?;
    let subject = match (&group, &user) {
        (Some(g), _) => format!("group {g}"),
        (None, Some(u)) => u.clone(),
        (None, None) => String::new(),
    };
    edit_flow(&edit, "grant.add", &subject, Some(&reason), |e, d, now| {
        let tz = &d.server.timezone;
        let (start, end) = period(Some(&from), until.as_deref(), for_.as_deref(), tz, now)?;
        let end = end.ok_or(CliError::BadDuration {
            value: String::new(),
        })?;
        let mut t = Table::new();
        match (&group, &user) {
            (Some(g), _) => t.insert("group", value(g.as_str())),
            (None, Some(u)) => t.insert("user", value(u.as_str())),
            (None, None) => None,
        };
        t.insert("modules", value(modules.clone()));
        t.insert("from", value(toml_time(start, tz)?));
        t.insert("until", value(toml_time(end, tz)?));
        t.insert("reason", value(reason.as_str()));
        t.insert("by", value(by.clone().unwrap_or_else(actor)));
        e.append(Path::new("grants.toml"), "grant", t)?;
        Ok(format!(
            "granted {subject} access from {} until {}",
            show_time(start, tz),
            show_time(end, tz)
        ))
    })
}

pub fn user(cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Show {
            user,
            reason,
            config,
        } => show_user(&config.config, &user, reason.as_deref()),
        UserCmd::Export {
            user,
            reason,
            config,
        } => super::records::export(&config.config, &user, reason.as_deref()),
        UserCmd::Erase {
            user,
            reason,
            registrations,
            edit,
        } => super::records::erase(&edit, &user, reason.as_deref(), registrations),
        UserCmd::Passwd { user, stdin, edit } => passwd(&edit, &user, stdin),
    }
}

fn show_user(dir: &Path, name: &str, why: Option<&str>) -> anyhow::Result<()> {
    let d = load_config(dir)?;
    let tz = &d.server.timezone;
    let u = d.user(name).ok_or_else(|| CliError::UnknownUser {
        name: name.to_string(),
    })?;
    println!("user      {}", u.name);
    println!("groups    {}", u.groups.join(", "));
    println!(
        "consent   {}",
        if u.consent { "on file" } else { "NOT on file" }
    );
    println!("disabled  {}", if u.disabled { "yes" } else { "no" });
    println!(
        "password  {}",
        if u.password_hash.is_some() {
            "set"
        } else {
            "not set"
        }
    );
    let mut devices: Vec<_> = d.devices().filter(|x| x.owner == u.name).collect();
    devices.sort_by_key(|x| x.mac);
    // Registered in the files and enrolled by logins; when each was last accepted only with
    // a reason, audited first.
    let read = super::device::audited_read(&d, Some(&u.name), why)?;
    let all = super::device::of_user(&d, &u.name)?;
    println!(
        "devices   {} (at most {})",
        all.len(),
        d.policy.max_devices_per_user
    );
    for x in &all {
        let seen = if read {
            let accepted = x
                .last_accepted
                .map_or("never".to_string(), |t| show_time(t, tz));
            let expired = if x.expired { "  EXPIRED" } else { "" };
            format!("  last accepted {accepted}{expired}")
        } else {
            String::new()
        };
        println!(
            "  {}  {}  {}{seen}",
            x.mac,
            x.source,
            x.label.as_deref().unwrap_or("")
        );
    }
    if !read && !all.is_empty() {
        println!(
            "  (when each was last accepted: give --reason \"...\"; recorded in the audit log)"
        );
    }
    let bans = d
        .bans_of_user(&u.name)
        .iter()
        .chain(devices.iter().flat_map(|x| d.bans_of_device(&x.mac)));
    for b in bans {
        let on = match &b.target {
            BanTarget::User(n) => n.to_string(),
            BanTarget::Mac(m) => format!("device {m}"),
        };
        println!(
            "ban       {on}: {} {} - {} ({})",
            b.modules,
            b.from.map_or("-".into(), |t| show_time(t, tz)),
            b.until.map_or("permanent".into(), |t| show_time(t, tz)),
            b.reason
        );
    }
    for g in d.grants_for(u) {
        println!(
            "grant     {}: {} - {} ({})",
            g.modules,
            show_time(g.from, tz),
            show_time(g.until, tz),
            g.reason
        );
    }
    Ok(())
}

/// The school's password rule: at least 8 characters with upper- and lower-case letters,
/// digits and special characters.
pub fn password_problem(p: &str) -> Option<&'static str> {
    if p.chars().count() < 8 {
        return Some("at least 8 characters");
    }
    if !p.chars().any(char::is_uppercase) {
        return Some("it needs an upper-case letter");
    }
    if !p.chars().any(char::is_lowercase) {
        return Some("it needs a lower-case letter");
    }
    if !p.chars().any(|c| c.is_ascii_digit()) {
        return Some("it needs a digit");
    }
    if !p
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
    {
        return Some("it needs a special character");
    }
    None
}

/// Reads one line from the terminal with echo off (`stty -echo`, restored afterwards).
fn read_hidden(prompt: &str) -> anyhow::Result<zeroize::Zeroizing<String>> {
    use std::process::{Command, Stdio};
    eprint!("{prompt}");
    let stty = |arg: &str| {
        Command::new("stty")
            .arg(arg)
            .stdin(Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    let hidden = stty("-echo");
    let mut line = zeroize::Zeroizing::new(String::new());
    let read = std::io::stdin().read_line(&mut line);
    if hidden {
        stty("echo");
    }
    eprintln!();
    read.context("cannot read the password")?;
    let trimmed = zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    Ok(trimmed)
}

fn passwd(edit: &EditArgs, name: &str, stdin: bool) -> anyhow::Result<()> {
    let password = if stdin {
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        let first = read_hidden(&format!("New password for {name}: "))?;
        let second = read_hidden("Repeat it: ")?;
        if *first != *second {
            return Err(CliError::PasswordMismatch.into());
        }
        first
    };
    if let Some(problem) = password_problem(&password) {
        return Err(CliError::WeakPassword { problem }.into());
    }
    let hash = hash_password(&password)?;
    edit_flow(edit, "user.passwd", name, None, |e, _, _| {
        let main = e.text(Path::new("hallpass.toml"))?.unwrap_or_default();
        let nt_hash = super::eap::peap_offered(&main).then(|| super::eap::nt_hash_hex(&password));
        for rel in e.list_files("users")? {
            let mut doc = e.doc(&rel)?;
            let Some(users) = doc.get_mut("user").and_then(Item::as_array_of_tables_mut) else {
                continue;
            };
            let Some(t) = users
                .iter_mut()
                .find(|t| t.get("name").and_then(Item::as_str) == Some(name))
            else {
                continue;
            };
            let done = super::eap::set_password(t, &hash, nt_hash.as_deref());
            e.set_doc(&rel, &doc)?;
            return Ok(format!("{name}: {done}"));
        }
        Err(CliError::UnknownUser {
            name: name.to_string(),
        }
        .into())
    })
}

/// An argon2id PHC string with a fresh random salt from the OS. (password-hash 0.5 wants
/// rand_core 0.6 for `SaltString::generate`; the crate's rand is 0.9, so the salt bytes come
/// from rand's OsRng and are encoded here.)
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::PasswordHasher;
    use rand::TryRngCore;
    let mut salt = [0u8; 16];
    rand::rngs::OsRng
        .try_fill_bytes(&mut salt)
        .context("no random numbers from the OS")?;
    let salt = argon2::password_hash::SaltString::encode_b64(&salt)
        .map_err(|e| anyhow::anyhow!("cannot encode the salt: {e}"))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

pub fn why(a: &WhyArgs) -> anyhow::Result<()> {
    let d = load_config(&a.config.config)?;
    let now = Timestamp::now();
    let at =
        a.at.as_deref()
            .map(|t| parse_time(t, &d.server.timezone, now))
            .transpose()?
            .unwrap_or(now);
    let module: Module = a.module.parse().map_err(|_| CliError::BadModule {
        value: a.module.clone(),
    })?;
    let port_type = match module {
        Module::Wifi => 19,
        Module::Lan => 15,
    };
    // What the daemon's device book would hold: enrolments and last-accepted times. Without
    // them the config alone decides, and the output says so.
    let records = super::device::records(&d).unwrap_or_else(|e| {
        eprintln!("note: without enrolments and last-accepted times ({e:#})");
        crate::store::DeviceRecords::default()
    });
    let book = policy::devices::DeviceBook::new(&records);
    let explanation = if let (Some(mac), Some(user)) = (&a.mac, &a.user) {
        let mac = parse_mac(mac)?.to_string();
        let login = policy::EapLogin {
            user,
            calling_station_id: Some(mac.as_bytes()),
            nas_port_type: Some(port_type),
            client_module: module,
        };
        println!(
            "802.1X (EAP) login of {user} from {mac} for {module} at {} (credentials not checked)",
            show_time(at, &d.server.timezone)
        );
        let mac = login.calling_station_id.and_then(MacAddr::parse_bytes);
        let facts = book.facts(&d, policy::Facts::default(), mac, Some(user), at);
        policy::explain_eap(&d, &login, facts, at)
    } else if let Some(mac) = &a.mac {
        let mac = parse_mac(mac)?;
        let name = mac.to_string();
        let req = policy::AccessRequest {
            user_name: name.as_bytes(),
            password: None,
            calling_station_id: None,
            nas_port_type: Some(port_type),
            client_module: module,
        };
        println!(
            "MAB request of {mac} for {module} at {}",
            show_time(at, &d.server.timezone)
        );
        let facts = policy::Facts {
            last_accepted: book.last_accepted(mac),
            ..policy::Facts::default()
        };
        policy::explain_with(&d, &req, facts, at)
    } else {
        let user = a.user.clone().unwrap_or_default();
        let session = policy::SessionFacts {
            mac: None,
            user: Some(user.as_str().into()),
            module,
        };
        println!(
            "account {user} on {module} at {} (password not checked)",
            show_time(at, &d.server.timezone)
        );
        policy::explain_recheck(&d, &session, policy::Facts::default(), at)
    };
    println!("{explanation}");
    let message =
        policy::reply_message(&explanation.decision, d.server.language, &d.server.timezone);
    println!("Reply-Message: {message}");
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::cli::records::to_json;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn ban_lines_print_as_scripts_read_them() {
        let ban = BanEntry {
            index: 2,
            file: PathBuf::from("bans.d/7b.toml"),
            pos: 0,
            target: "user max.muster".into(),
            user: Some("max.muster".into()),
            mac: None,
            modules: vec!["wifi".into(), "lan".into()],
            from: None,
            until: Some(ts("2026-12-04T07:00:00Z")),
            reason: "Netiquette".into(),
            by: None,
        };
        let line = BanListed {
            entry: &ban,
            in_force: ban.in_force(ts("2026-12-01T00:00:00Z")),
        };
        assert_eq!(
            to_json(&line).unwrap(),
            r#"{
  "by": null,
  "file": "bans.d/7b.toml",
  "from": null,
  "in_force": true,
  "index": 2,
  "mac": null,
  "modules": [
    "wifi",
    "lan"
  ],
  "reason": "Netiquette",
  "until": "2026-12-04T07:00:00Z",
  "user": "max.muster"
}"#
        );
    }
}
