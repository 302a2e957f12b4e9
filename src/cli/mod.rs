//! Admin subcommands. Reads config files and (later) the database read-only; prints for
//! people. anyhow is allowed here, at the top.

pub mod args;
pub mod generate;

use std::path::Path;
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
    match crate::config::load(dir) {
        Ok(d) => {
            println!("{}", crate::config::check_summary(&d));
            println!("{}: configuration OK", dir.display());
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
    use crate::server::loadgen::{self, LoadKind, LoadOptions};
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
        secret,
        kind,
        concurrency: args.concurrency,
        rate: args.rate,
        count: args.count,
        duration: Some(duration),
        timeout: std::time::Duration::from_secs_f64(args.timeout.max(0.001)),
        allow_remote: args.allow_remote,
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
