//! Wiring of `hallpass serve`: loads the config, starts the writer and the listeners, and
//! handles signals (SIGHUP reload, SIGTERM/SIGINT graceful stop) and systemd notification.
//! Writes the pid file the admin commands find it by (`control`). Owns no protocol logic
//! itself, and is the only importer of `server`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

use crate::config::{self, ConfigErrors, Directory};
use crate::control;
use crate::eap::conversation::DEFAULT_MAX_CONVERSATIONS;
use crate::policy::devices::DeviceBook;
use crate::policy::usage::UsageBook;
use crate::server::acct::{self, AcctShared};
use crate::server::auth::{AuthShared, serve_socket};
use crate::server::dynauth::{DynAuthClient, DynAuthError};
use crate::server::eap::Conversations;
use crate::server::enforce::Enforcer;
use crate::server::failures::FailureBook;
use crate::server::fair::FairPool;
use crate::server::metrics::{self, Exporter};
use crate::server::{self, Counters, RateLimitedLog, ServerError};
use crate::store::{self, StoreError, WriterConfig};

/// PAP verifications (argon2) that may run at once; each takes tens of milliseconds and
/// some MiB of memory.
const PAP_PARALLEL: u32 = 8;
/// Committed accounting records on their way to the enforcer's session table.
const COMMITTED_QUEUE: usize = 16_384;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("the configuration is invalid:\n{0}")]
    Config(#[from] ConfigErrors),
    #[error("cannot create the state directory {path}: {source}")]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database cannot be opened: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    DynAuth(#[from] DynAuthError),
    #[error("cannot install a signal handler: {0}")]
    Signal(std::io::Error),
    #[error("the EAP conversation table: {0}")]
    Conversations(crate::eap::conversation::ConversationError),
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(config_dir: &Path) -> Result<(), DaemonError> {
    server::tune_allocator();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hallpass")
        .build()
        .map_err(DaemonError::Runtime)?;
    runtime.block_on(serve(config_dir))
}

async fn serve(config_dir: &Path) -> Result<(), DaemonError> {
    let started = Instant::now();
    // Handlers first: a SIGTERM (or SIGHUP, SIGUSR1) that arrives while the listeners start
    // must not end the process by the default action, without closing the database.
    let mut hup = signal(SignalKind::hangup()).map_err(DaemonError::Signal)?;
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signal)?;
    let mut usr1 = signal(SignalKind::user_defined1()).map_err(DaemonError::Signal)?;
    // Copied into packed memory once the parser's temporaries are gone (see `compacted`).
    let directory = config::load(config_dir, jiff::Timestamp::now())?.compacted();
    log_warnings(&directory);
    server::release_free_memory();
    let state_dir = directory.server.state_dir.clone();
    std::fs::create_dir_all(&state_dir).map_err(|source| DaemonError::StateDir {
        path: state_dir.clone(),
        source,
    })?;
    // The admin commands find the daemon through this file; without it they only cannot
    // ask for a reload, so the daemon runs on.
    let _pid_file = control::PidFile::write(&state_dir)
        .inspect_err(|e| warn!(error = %e, "cannot write the pid file"))
        .ok();
    let db_path = store::db_path(&state_dir);
    let writer = store::spawn_writer(WriterConfig {
        retention_days: directory.privacy.retention_days,
        space: store::SpaceLimits {
            min_free: directory.server.min_free_space,
            max_database: directory.server.max_database_size,
        },
        ..WriterConfig::new(db_path.clone())
    })?;

    let auth_addrs = directory.radius.auth_listen.clone();
    let mut sockets = Vec::new();
    for addr in &auth_addrs {
        let socket = server::bind_udp_blocking(*addr)?;
        let local = socket.local_addr().unwrap_or(*addr);
        info!(addr = %local, "auth listener bound");
        sockets.push(socket);
    }
    let acct_addrs = directory.radius.acct_listen.clone();
    let mut acct_sockets = Vec::new();
    for addr in &acct_addrs {
        let socket = server::bind_udp(*addr)?;
        let local = socket.local_addr().unwrap_or(*addr);
        info!(addr = %local, "accounting listener bound");
        acct_sockets.push(Arc::new(socket));
    }
    let dynauth = DynAuthClient::open().await?;
    let metrics_listener = match directory.server.metrics_listen {
        Some(addr) => {
            let listener = metrics::bind(addr)?;
            let local = listener.local_addr().unwrap_or(addr);
            info!(addr = %local, "metrics listener bound");
            Some(listener)
        }
        None => None,
    };
    let metrics_addr = directory.server.metrics_listen;

    let counters = Arc::new(Counters::default());
    counters.config_applied(jiff::Timestamp::now());
    let log_limit = Arc::new(RateLimitedLog::new(Duration::from_secs(10)));
    let directory = Arc::new(ArcSwap::from_pointee(directory));
    let usage = Arc::new(UsageBook::default());
    // The writer has migrated the database: enrolments and last-accepted times are there.
    let devices = Arc::new(DeviceBook::new(
        &store::Reader::open(&db_path)?.device_records()?,
    ));
    // Sized once: a reload that changes max_conversations takes effect after a restart.
    let max_conversations = directory
        .load()
        .eap
        .as_ref()
        .map_or(DEFAULT_MAX_CONVERSATIONS, |e| e.max_conversations);
    let conversations =
        Conversations::new(max_conversations).map_err(DaemonError::Conversations)?;
    let shared = Arc::new(AuthShared {
        directory: directory.clone(),
        writer: writer.clone(),
        counters: counters.clone(),
        permits: FairPool::new(PAP_PARALLEL),
        failures: std::sync::Mutex::new(FailureBook::new()),
        log_limit: log_limit.clone(),
        usage: usage.clone(),
        eap: Arc::new(conversations),
        devices,
    });
    let (committed_tx, committed_rx) = mpsc::channel(COMMITTED_QUEUE);
    let acct_shared = Arc::new(AcctShared {
        directory: directory.clone(),
        writer: writer.clone(),
        counters: counters.clone(),
        log_limit,
        committed: Some(committed_tx),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let (reloaded_tx, reloaded_rx) = watch::channel(0u64);
    let mut tasks = Vec::new();
    for socket in sockets {
        tasks.push(tokio::spawn(serve_socket(
            socket,
            shared.clone(),
            stop_rx.clone(),
        )));
    }
    tasks.push(tokio::spawn(server::eap::expire_conversations(
        shared.clone(),
        stop_rx.clone(),
    )));
    for socket in acct_sockets {
        tasks.push(tokio::spawn(acct::serve_socket(
            socket,
            acct_shared.clone(),
            stop_rx.clone(),
        )));
    }
    // DHCP watcher (src/server/watcher.rs): off when [dhcp].interfaces is empty; without
    // CAP_NET_RAW it logs one error and the rest keeps serving.
    let watcher = server::watcher::Watcher {
        directory: directory.clone(),
        writer: writer.clone(),
        counters: counters.clone(),
        log_limit: acct_shared.log_limit.clone(),
        db_path: db_path.clone(),
    };
    tasks.extend(watcher.spawn(stop_rx.clone()));
    if let Some(listener) = metrics_listener {
        let exporter = Arc::new(Exporter::new(counters.clone(), writer.clone()));
        tasks.push(tokio::spawn(metrics::serve(
            listener,
            exporter,
            stop_rx.clone(),
        )));
    }
    let enforcer = Enforcer {
        directory: directory.clone(),
        writer: writer.clone(),
        dynauth,
        counters: counters.clone(),
        db_path,
        usage,
    };
    tasks.push(tokio::spawn(enforcer.run(
        committed_rx,
        reloaded_rx,
        stop_rx.clone(),
    )));
    {
        let d = shared.directory.load();
        info!(
            users = d.users().len(),
            devices = d.devices().len(),
            clients = d.radius.clients.len(),
            startup_ms = started.elapsed().as_millis() as u64,
            "hallpass ready"
        );
    }
    notify(&[sd_notify::NotifyState::Ready]);

    let watchdog = sd_notify::watchdog_enabled().map(|d| d / 2);
    let mut watchdog_tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
    loop {
        tokio::select! {
            _ = hup.recv() => {
                if reload(config_dir, &shared, &auth_addrs, &acct_addrs, metrics_addr).await {
                    reloaded_tx.send_modify(|n| *n += 1);
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = usr1.recv() => log_counters(&counters, &writer),
            _ = watchdog_tick.tick() => {
                if watchdog.is_some() {
                    notify(&[sd_notify::NotifyState::Watchdog]);
                }
            }
        }
    }

    info!("stopping: no new requests; finishing those in flight");
    notify(&[sd_notify::NotifyState::Stopping]);
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    // PAP checks and EAP rounds still running hold permits; wait for them (bounded) so
    // their replies and log rows are not lost.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while shared.permits.in_use() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dropped = writer.dropped();
    let result = tokio::task::spawn_blocking(move || writer.shutdown()).await;
    match result {
        Ok(Ok(())) => info!(log_rows_dropped = dropped, "stopped; database closed"),
        Ok(Err(e)) => error!(error = %e, "database not closed cleanly"),
        Err(e) => error!(error = %e, "writer shutdown failed"),
    }
    Ok(())
}

/// SIGHUP: read the whole directory again; a valid one replaces the snapshot atomically
/// (requests in flight finish on the old one), an invalid one changes nothing.
async fn reload(
    config_dir: &Path,
    shared: &AuthShared,
    auth_addrs: &[std::net::SocketAddr],
    acct_addrs: &[std::net::SocketAddr],
    metrics_addr: Option<std::net::SocketAddr>,
) -> bool {
    let started = Instant::now();
    if let Ok(now) = sd_notify::NotifyState::monotonic_usec_now() {
        notify(&[sd_notify::NotifyState::Reloading, now]);
    }
    let dir = config_dir.to_path_buf();
    let loaded =
        tokio::task::spawn_blocking(move || config::load(&dir, jiff::Timestamp::now())).await;
    // An admin command may have removed, replaced or erased devices in the database.
    server::devices::reload_device_book(shared).await;
    match loaded {
        Ok(Ok(new)) => {
            // Parsed on a blocking thread, copied here on the daemon's main thread: its heap
            // holds the snapshots and little else, so one snapshot fits where the last was.
            let new = new.compacted();
            log_warnings(&new);
            if new.radius.auth_listen != auth_addrs
                || new.radius.acct_listen != acct_addrs
                || new.server.metrics_listen != metrics_addr
            {
                warn!("listen addresses changed: the new ones take effect after a restart");
            }
            let max_of = |d: &config::Directory| d.eap.as_ref().map(|e| e.max_conversations);
            if max_of(&new) != max_of(&shared.directory.load()) {
                warn!("[eap] max_conversations changed: it takes effect after a restart");
            }
            shared.writer.set_retention_days(new.privacy.retention_days);
            let (users, devices) = (new.users().len(), new.devices().len());
            let counters = &shared.counters;
            counters
                .per_client
                .retain(|name| new.radius.clients.iter().any(|c| &*c.name == name));
            let old = shared.directory.swap(Arc::new(new));
            counters.inc(&counters.reloads);
            counters.config_applied(jiff::Timestamp::now());
            info!(
                users,
                devices,
                reload_ms = started.elapsed().as_millis() as u64,
                "config reloaded"
            );
            notify(&[sd_notify::NotifyState::Ready]);
            // The old snapshot goes when the last request or enforcer pass using it is done;
            // only then is its memory free to hand back.
            tokio::spawn(async move {
                let mut old = Some(old);
                for _ in 0..500 {
                    if old.as_ref().is_some_and(|o| Arc::strong_count(o) == 1) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                // Freeing 100k entries takes milliseconds: not on a runtime thread.
                let _ = tokio::task::spawn_blocking(move || {
                    drop(old.take());
                    server::release_free_memory();
                })
                .await;
            });
            return true;
        }
        Ok(Err(errors)) => {
            shared.counters.inc(&shared.counters.reload_failures);
            for e in &errors.0 {
                error!("{e}");
            }
            error!(
                errors = errors.0.len(),
                "reload failed: the last good config stays in force"
            );
        }
        Err(e) => {
            shared.counters.inc(&shared.counters.reload_failures);
            error!(error = %e, "reload failed: the last good config stays in force");
        }
    }
    notify(&[sd_notify::NotifyState::Ready]);
    false
}

fn notify(states: &[sd_notify::NotifyState]) {
    // Outside systemd NOTIFY_SOCKET is unset and this does nothing.
    let _ = sd_notify::notify(states);
}

// ---- SIGUSR1: counter dump -------------------------------------------------------------
// Until the metrics endpoint is merged this is how an admin (and the fault tests) reads the
// counters: `kill -USR1 $(pidof hallpass)` logs one line with all of them.

/// Logs every counter of the listeners and the writer in one info line.
fn log_counters(c: &Counters, writer: &store::WriterHandle) {
    let g = Counters::get;
    info!(
        received = g(&c.received),
        access_requests = g(&c.access_requests),
        status_server = g(&c.status_server),
        accepts = g(&c.accepts),
        rejects = g(&c.rejects),
        malformed = g(&c.malformed),
        unknown_client = g(&c.unknown_client),
        unexpected_code = g(&c.unexpected_code),
        missing_message_authenticator = g(&c.missing_message_authenticator),
        bad_authenticator = g(&c.bad_authenticator),
        duplicates = g(&c.duplicates),
        rounds_held = g(&c.rounds_held),
        dropped_busy = g(&c.dropped_busy),
        dropped_fair_share = g(&c.dropped_fair_share),
        login_failures = g(&c.login_failures),
        login_paused = g(&c.login_paused),
        log_rows_dropped = g(&c.log_rows_dropped),
        acct_received = g(&c.acct_received),
        acct_committed = g(&c.acct_committed),
        acct_refused = g(&c.acct_refused),
        acct_failed = g(&c.acct_failed),
        writer_dropped = writer.dropped(),
        writer_failed_rows = writer.failed_rows(),
        writer_behind = writer.times_behind(),
        "counters"
    );
}

/// The directory snapshot type, re-exported for the CLI.
pub type Snapshot = Arc<Directory>;

/// Each config warning once per load: where and what (client names, never a secret or a
/// person), as `hallpass check` prints it.
fn log_warnings(directory: &Directory) {
    for w in &directory.warnings {
        warn!(code = w.kind.code(), "config: {w}");
    }
}
