//! Admin subcommands: edit the config files (devices, bans, grants, passwords), explain
//! decisions with the daemon's own policy, and read the runtime database. Prints for people
//! (tables) or scripts (`--json`). anyhow is allowed here, at the top.
//!
//! The CLI opens the database read-only (WAL, while the daemon writes), with two exceptions
//! that open a short read-write connection of their own: inserting audit rows (every read
//! of one person's data and every admin edit is recorded) and `user erase` (the right to
//! erasure). SQLite's busy_timeout makes them wait for the daemon's writer instead of
//! failing. Config edits go through [`edit`]: locked, validated as a whole, atomic.
//! Must not: decide access itself (`why` runs `policy::explain`), or print password hashes.

pub mod admin;
pub mod args;
pub mod device;
pub mod eap;
pub mod edit;
pub mod generate;
pub mod profile;
pub mod records;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

/// Logging to the journal when systemd started us with a journal stream, else to stderr.
/// `RUST_LOG` overrides the default level (info).
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if std::env::var_os("JOURNAL_STREAM").is_some()
        && let Ok(journald) = tracing_journald::layer()
    {
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(journald.with_syslog_identifier("hallpass".into()))
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// `hallpass check DIR`.
pub fn check(dir: &Path) -> ExitCode {
    match crate::config::load(dir, jiff::Timestamp::now()) {
        Ok(d) => {
            println!("{}", crate::config::check_summary(&d));
            let audit_days = crate::store::WriterConfig::new(PathBuf::new()).audit_retention_days;
            println!(
                "kept: auth log, sessions, DHCP sightings {} days (privacy.retention_days); audit log {audit_days} days",
                d.privacy.retention_days
            );
            // Warnings go where errors go; the config is usable, so the exit status is 0.
            for w in &d.warnings {
                eprintln!("{w}");
            }
            match d.warnings.len() {
                0 => println!("{}: configuration OK", dir.display()),
                n => println!(
                    "{}: configuration OK, {n} warning{}",
                    dir.display(),
                    if n == 1 { "" } else { "s" }
                ),
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            eprintln!(
                "{}: {} error{} found",
                dir.display(),
                errors.0.len(),
                if errors.0.len() == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
    }
}

/// `hallpass load`.
pub fn load(args: &args::LoadArgs) -> anyhow::Result<ExitCode> {
    use crate::loadgen::{self, LoadKind, LoadOptions};
    use anyhow::Context;

    let secret = match (&args.secret, &args.secret_file) {
        (Some(s), _) => s.as_bytes().to_vec(),
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the secret file {}", f.display()))?;
            text.trim_end_matches(['\r', '\n']).as_bytes().to_vec()
        }
        (None, None) => anyhow::bail!("give the shared secret with --secret-file or --secret"),
    };
    let macs = || -> anyhow::Result<Vec<crate::model::MacAddr>> {
        let mut macs = match &args.devices {
            Some(path) => devices_file_macs(path)?,
            None => loadgen::generated_macs(args.macs),
        };
        if args.unknown_percent > 0 {
            let p = u64::from(args.unknown_percent.min(100));
            for (i, m) in macs.iter_mut().enumerate() {
                if (i as u64 % 100) < p {
                    // locally administered, never in a generated devices file
                    let b = (i as u32).to_be_bytes();
                    *m = crate::model::MacAddr([0x02, 0xff, b[0], b[1], b[2], b[3]]);
                }
            }
        }
        Ok(macs)
    };
    let kind = match args.kind {
        args::LoadKindArg::Mab => LoadKind::Mab { macs: macs()? },
        args::LoadKindArg::Acct => LoadKind::Accounting { macs: macs()? },
        args::LoadKindArg::Pap => LoadKind::Pap {
            user: args.user.clone(),
            password: args.password.clone(),
        },
    };
    let duration: jiff::SignedDuration = args
        .duration
        .parse()
        .with_context(|| format!("--duration {:?}: expected e.g. 10s, 2m", args.duration))?;
    let duration = duration.try_into().context("--duration must be positive")?;
    let nas_port_type = match args.module.as_str() {
        "wifi" => 19,
        "lan" => 15,
        other => anyhow::bail!("--module {other:?}: expected wifi or lan"),
    };
    let opts = LoadOptions {
        target: args.target,
        secret: crate::radius::SharedSecret::new(secret),
        kind,
        concurrency: args.concurrency,
        rate: args.rate,
        count: args.count,
        duration: Some(duration),
        timeout: std::time::Duration::from_secs_f64(args.timeout.max(0.001)),
        allow_remote: args.allow_remote,
        coalesced_replies: !args.no_gro,
        nas_port_type,
    };
    let report = loadgen::run(&opts)?;
    if args.json {
        let us = |q: f64| report.latency.quantile(q).as_micros() as u64;
        println!(
            "{{\"sent\":{},\"answered\":{},\"accepts\":{},\"rejects\":{},\"other\":{},\"timeouts\":{},\"bad_replies\":{},\"seconds\":{:.3},\"rate\":{:.1},\"p50_us\":{},\"p90_us\":{},\"p99_us\":{},\"p999_us\":{},\"max_us\":{}}}",
            report.sent,
            report.answered(),
            report.accepts,
            report.rejects,
            report.other,
            report.timeouts,
            report.bad_replies,
            report.elapsed.as_secs_f64(),
            report.rate(),
            us(0.5),
            us(0.9),
            us(0.99),
            us(0.999),
            report.latency.max().as_micros() as u64
        );
    } else {
        println!("{}", report.to_text());
    }
    Ok(if report.timeouts == 0 && report.bad_replies == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The MACs of a devices file (`[[device]] mac = ...`), other keys ignored.
fn devices_file_macs(path: &Path) -> anyhow::Result<Vec<crate::model::MacAddr>> {
    use anyhow::Context;
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        device: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        mac: String,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: File = toml::from_str(&text)
        .with_context(|| format!("{} is not a devices file", path.display()))?;
    file.device
        .iter()
        .map(|d| {
            d.mac
                .parse()
                .with_context(|| format!("{}: bad MAC {:?}", path.display(), d.mac))
        })
        .collect()
}

/// Problems the admin can fix on the command line; most are usage errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(
        "{what} shows data about people: give --reason \"...\" (why you read it, e.g. the school's instruction); it is recorded in the audit log"
    )]
    ReasonRequired { what: &'static str },
    #[error(
        "not a MAC address: {value:?} (expected e.g. 3c:22:fb:12:34:56, 3C-22-FB-12-34-56, 3c22fb123456 or 3c22.fb12.3456)"
    )]
    BadMac { value: String },
    #[error(
        "not a time: {value:?} (expected 2026-12-04T08:00:00+01:00, 2026-12-04, \"2026-12-04 08:00\" or now)"
    )]
    BadTime { value: String },
    #[error("not a duration: {value:?} (expected e.g. 7d, 12h, 45m)")]
    BadDuration { value: String },
    #[error("unknown module {value:?} (expected wifi, lan or all)")]
    BadModule { value: String },
    #[error("the end ({until}) is not after the start ({from})")]
    EndsBeforeStart { from: String, until: String },
    #[error("no user {name:?} in the config")]
    UnknownUser { name: String },
    #[error("no device {mac} is registered")]
    UnknownDevice { mac: crate::model::MacAddr },
    #[error("no ban matches: {which}")]
    NoBan { which: String },
    #[error("the password does not follow the school's rule: {problem}")]
    WeakPassword { problem: &'static str },
    #[error("the two passwords differ; nothing changed")]
    PasswordMismatch,
    #[error("the config in {dir} is invalid; fix it first (hallpass check):\n{errors}")]
    ConfigInvalid {
        dir: PathBuf,
        errors: crate::config::ConfigErrors,
    },
    #[error("there is no database at {path} yet (the daemon has not run)")]
    NoDatabase { path: PathBuf },
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::ReasonRequired { .. }
            | CliError::BadMac { .. }
            | CliError::BadTime { .. }
            | CliError::BadDuration { .. }
            | CliError::BadModule { .. }
            | CliError::EndsBeforeStart { .. } => 2,
            _ => 1,
        }
    }
}

/// Runs an admin subcommand; prints its error and maps it to the exit code (2: usage).
pub fn run(command: args::Command) -> ExitCode {
    use args::Command as C;
    let name = match &command {
        C::Device { .. } => "device",
        C::Ban { .. } => "ban",
        C::Grant { .. } => "grant",
        C::User { .. } => "user",
        C::Why(_) => "why",
        C::Sessions(_) => "sessions",
        C::Sightings(_) => "sightings",
        C::Log(_) => "log",
        C::Audit(_) => "audit",
        C::Eap { .. } => "eap",
        _ => "hallpass",
    };
    let result = match command {
        C::Device { cmd } => device::device(cmd),
        C::Ban { cmd } => admin::ban(cmd),
        C::Grant { cmd } => admin::grant(cmd),
        C::User { cmd } => admin::user(cmd),
        C::Why(a) => admin::why(&a),
        C::Sessions(a) => records::sessions(&a),
        C::Sightings(a) => records::sightings(&a),
        C::Log(a) => records::log(&a),
        C::Audit(a) => records::audit(&a),
        C::Eap { cmd } => eap::run(cmd),
        C::Serve { .. } | C::Check { .. } | C::Load(_) | C::Generate { .. } => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hallpass {name}: {e:#}");
            let code = e.downcast_ref::<CliError>().map_or(1, CliError::exit_code);
            ExitCode::from(code)
        }
    }
}

/// Who runs the command, for the audit log, the config lock and a ban's `by`: the account
/// the admin logged in with (`/proc/self/loginuid`, kept by the kernel across sudo), else
/// the name of the real uid. Never the environment: `SUDO_USER` is anyone's to set.
pub fn actor() -> String {
    crate::accounts::acting_account()
}

/// The config directory, loaded; an invalid one is an error that lists every problem.
pub fn load_config(dir: &Path) -> Result<crate::config::Directory, CliError> {
    crate::config::load(dir, jiff::Timestamp::now()).map_err(|errors| CliError::ConfigInvalid {
        dir: dir.to_path_buf(),
        errors,
    })
}

pub fn parse_mac(s: &str) -> Result<crate::model::MacAddr, CliError> {
    s.parse().map_err(|_| CliError::BadMac {
        value: s.to_string(),
    })
}

/// A point in time from the command line or a config file: `now`, RFC 3339 with an offset,
/// or a local date-time or date (midnight) in the server's time zone.
pub fn parse_time(
    s: &str,
    tz: &jiff::tz::TimeZone,
    now: jiff::Timestamp,
) -> Result<jiff::Timestamp, CliError> {
    let s = s.trim();
    if s == "now" {
        return Ok(now);
    }
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let bad = || CliError::BadTime {
        value: s.to_string(),
    };
    let dt = match s.replacen(' ', "T", 1).parse::<jiff::civil::DateTime>() {
        Ok(dt) => dt,
        Err(_) => s
            .parse::<jiff::civil::Date>()
            .map_err(|_| bad())?
            .at(0, 0, 0, 0),
    };
    tz.to_timestamp(dt).map_err(|_| bad())
}

/// A duration like `7d`, `12h`, `45m`, `1h30m` (days are 24 hours).
pub fn parse_duration(s: &str) -> Result<jiff::SignedDuration, CliError> {
    let bad = || CliError::BadDuration {
        value: s.to_string(),
    };
    let span: jiff::Span = s.trim().parse().map_err(|_| bad())?;
    let secs = span
        .total(jiff::SpanTotal::from(jiff::Unit::Second).days_are_24_hours())
        .map_err(|_| bad())?;
    if !(1.0..=1e10).contains(&secs) {
        return Err(bad());
    }
    Ok(jiff::SignedDuration::from_secs(secs as i64))
}

/// A time for people: local time of the server's zone.
pub fn show_time(t: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}
