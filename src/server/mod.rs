//! The daemon's socket code: the RADIUS authentication and accounting listeners, the
//! dynamic-authorization client and its enforcer, DHCP capture and the watcher, and the
//! metrics endpoint. Nothing imports this module but the daemon; the load generator is a
//! client with sockets of its own (`loadgen`), and the batched UDP calls both use live
//! below them in `mmsg`.

pub mod acct;
pub mod auth;
pub mod capture;
mod dedup;
pub mod devices;
pub mod dynauth;
pub mod eap;
pub mod enforce;
pub mod failures;
pub mod fair;
mod guessing;
pub mod metrics;
mod rounds;
pub mod watcher;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::model::Module;
use crate::policy::Reason;
use socket2::{Domain, Protocol, Socket, Type};

/// Errors of the socket layer.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Counters of everything the listeners see; read by the metrics endpoint and tests.
#[derive(Default)]
pub struct Counters {
    pub received: AtomicU64,
    pub access_requests: AtomicU64,
    pub status_server: AtomicU64,
    pub accepts: AtomicU64,
    pub rejects: AtomicU64,
    pub malformed: AtomicU64,
    pub unknown_client: AtomicU64,
    pub unexpected_code: AtomicU64,
    pub missing_message_authenticator: AtomicU64,
    pub bad_authenticator: AtomicU64,
    pub duplicates: AtomicU64,
    /// Rounds of the auth receive threads in which replies waited for more requests.
    pub rounds_held: AtomicU64,
    pub dropped_busy: AtomicU64,
    /// Password checks and EAP rounds dropped although permits were free: their client
    /// held half of the pool while another client waited (`fair`).
    pub dropped_fair_share: AtomicU64,
    /// Password checks (PAP, TTLS/PAP, PEAP-MSCHAPv2) that failed.
    pub login_failures: AtomicU64,
    /// Times an account reached `[server] failed_logins_warning` failures in a window.
    pub login_failure_warnings: AtomicU64,
    /// Attempts answered `too_many_failures` without a check: their client pauses for the
    /// account after repeated failures.
    pub login_paused: AtomicU64,
    pub log_rows_dropped: AtomicU64,
    pub acct_received: AtomicU64,
    pub acct_committed: AtomicU64,
    /// Not answered: the writer's queue was full.
    pub acct_refused: AtomicU64,
    /// Not answered: the commit failed.
    pub acct_failed: AtomicU64,
    pub disconnects_sent: AtomicU64,
    pub disconnects_acked: AtomicU64,
    pub disconnects_naked: AtomicU64,
    pub disconnects_timed_out: AtomicU64,
    /// Disconnects not queued (queue full); the session is checked again later.
    pub disconnects_deferred: AtomicU64,
    /// DHCP watcher: frames the capture delivered (the kernel filter passes only DHCP).
    pub dhcp_frames: AtomicU64,
    /// DHCP watcher: frames that decoded as DHCP messages.
    pub dhcp_parsed: AtomicU64,
    pub dhcp_parse_errors: AtomicU64,
    /// DHCP watcher: replies from servers not in `dhcp.trusted_servers`.
    pub dhcp_rogue: AtomicU64,
    /// DHCP watcher: frames the kernel passed to the socket (PACKET_STATISTICS, summed).
    pub dhcp_kernel_packets: AtomicU64,
    /// DHCP watcher: frames the kernel dropped because the socket's queue was full.
    pub dhcp_kernel_drops: AtomicU64,
    /// DHCP watcher: sightings and rogue reports the writer refused (queue full, or the
    /// state directory short of space).
    pub dhcp_rows_dropped: AtomicU64,
    /// DHCP watcher: sightings of a MAC written less than a minute ago with nothing new,
    /// counted into its next write instead.
    pub dhcp_coalesced: AtomicU64,
    /// DHCP watcher: sightings of MACs not seen lately, over `dhcp.new_macs_per_second`.
    pub dhcp_not_admitted: AtomicU64,
    decisions: [[AtomicU64; 2]; Reason::ALL.len()],
    /// 802.1X: conversations in flight and results by method and reason.
    pub eap: eap::EapCounters,

    // --- metrics endpoint: latency, per-client counts, reloads, DHCP ---
    /// Time from an authenticated Access-Request to its encoded reply, without PAP.
    pub auth_latency_mab: LatencyHistogram,
    /// The same for PAP requests (argon2 included).
    pub auth_latency_pap: LatencyHistogram,
    /// Auth-port counts per configured client, by client name.
    pub per_client: PerClient,
    pub reloads: AtomicU64,
    pub reload_failures: AtomicU64,
    /// Unix time of the start or of the last reload that applied, in seconds.
    pub last_good_config: AtomicU64,
}

impl Counters {
    pub fn inc(&self, c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    pub fn count_decision(&self, reason: Reason, module: Module) {
        let r = Reason::ALL.iter().position(|x| *x == reason);
        let m = Module::ALL.iter().position(|x| *x == module);
        if let (Some(r), Some(m)) = (r, m)
            && let Some(c) = self.decisions.get(r).and_then(|row| row.get(m))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records that a config took effect (start or reload) at `now`.
    pub fn config_applied(&self, now: jiff::Timestamp) {
        let secs = u64::try_from(now.as_second()).unwrap_or(0);
        self.last_good_config.store(secs, Ordering::Relaxed);
    }

    /// Decisions so far, per reason and module.
    pub fn decisions(&self) -> Vec<(Reason, Module, u64)> {
        let mut out = Vec::new();
        for (r, row) in Reason::ALL.iter().zip(self.decisions.iter()) {
            for (m, c) in Module::ALL.iter().zip(row.iter()) {
                out.push((*r, *m, c.load(Ordering::Relaxed)));
            }
        }
        out
    }
}

/// Upper bounds of the latency buckets, in microseconds: MAB answers take microseconds,
/// PAP (argon2) tens of milliseconds.
pub const LATENCY_BUCKETS_US: [u64; 16] = [
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
    500_000, 1_000_000,
];

/// A latency histogram of atomics: one relaxed add per bucket, count and sum per
/// observation, so the hot path takes no lock.
#[derive(Default)]
pub struct LatencyHistogram {
    /// Per bucket (not cumulative); the last slot is everything above the largest bound.
    buckets: [AtomicU64; LATENCY_BUCKETS_US.len() + 1],
    sum_ns: AtomicU64,
}

impl LatencyHistogram {
    pub fn observe(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = LATENCY_BUCKETS_US.partition_point(|&b| b < us);
        if let Some(b) = self.buckets.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// (sum in seconds, count, buckets as (upper bound in seconds, observations in this
    /// bucket alone)), the last bound +Inf. Per bucket, not cumulative: the encoder of
    /// prometheus-client adds them up, as for its own histograms.
    pub fn snapshot(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let bounds = LATENCY_BUCKETS_US
            .iter()
            .map(|&b| b as f64 / 1e6)
            .chain([f64::INFINITY]);
        let buckets: Vec<(f64, u64)> = bounds
            .zip(self.buckets.iter())
            .map(|(le, b)| (le, b.load(Ordering::Relaxed)))
            .collect();
        // The count is the sum of the buckets, so even a scrape that races an observation
        // has count equal to the +Inf bucket, as Prometheus expects.
        let count = buckets.iter().map(|b| b.1).sum();
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        (sum, count, buckets)
    }
}

/// What the auth listener counts per client.
#[derive(Default)]
pub struct ClientCounts {
    /// Every parsed datagram from the client's addresses, answered or not.
    pub requests: AtomicU64,
    pub bad_authenticator: AtomicU64,
    pub missing_message_authenticator: AtomicU64,
}

/// Counts per configured client, by name. Only names of configured clients are ever added
/// and `retain` drops the ones a reload removed, so the map is bounded by the config.
#[derive(Default)]
pub struct PerClient {
    /// Keys are client names from the config: a fast hash is safe.
    map: RwLock<HashMap<String, Arc<ClientCounts>, foldhash::fast::RandomState>>,
}

impl PerClient {
    /// The counts of `client`, created on first use.
    pub fn get(&self, client: &str) -> Option<Arc<ClientCounts>> {
        if let Ok(map) = self.map.read()
            && let Some(c) = map.get(client)
        {
            return Some(c.clone());
        }
        let mut map = self.map.write().ok()?;
        Some(map.entry(client.to_string()).or_default().clone())
    }

    /// Adds one to a per-client counter chosen by `which`.
    pub fn inc(&self, client: &str, which: fn(&ClientCounts) -> &AtomicU64) {
        // The common case (the client has counted before) under the read lock alone.
        if let Ok(map) = self.map.read()
            && let Some(c) = map.get(client)
        {
            which(c).fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Some(c) = self.get(client) {
            which(&c).fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Keeps only the clients `keep` says are still configured.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        if let Ok(mut map) = self.map.write() {
            map.retain(|name, _| keep(name));
        }
    }

    /// (client, requests, bad authenticator, missing Message-Authenticator), sorted by name.
    pub fn snapshot(&self) -> Vec<(String, u64, u64, u64)> {
        let Ok(map) = self.map.read() else {
            return Vec::new();
        };
        let mut out: Vec<_> = map
            .iter()
            .map(|(name, c)| {
                (
                    name.clone(),
                    c.requests.load(Ordering::Relaxed),
                    c.bad_authenticator.load(Ordering::Relaxed),
                    c.missing_message_authenticator.load(Ordering::Relaxed),
                )
            })
            .collect();
        out.sort();
        out
    }
}

mod ratelog;
pub use ratelog::RateLimitedLog;

/// Fixes glibc's thresholds for handing memory back. By default they adapt: freeing one
/// large block (a parse tree of a big config) raises the trim threshold up to 64 MB, after
/// which the free top of a thread's heap is never returned, and a reload of 100k devices
/// left 75 MB resident instead of 48. A free heap top over 1 MiB is now returned; blocks
/// under 32 MiB come from the heap (mapping each large parser buffer on its own cost a
/// quarter of the start time in page faults).
#[allow(unsafe_code)]
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets glibc tunables; it takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 * 1024 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// Hands memory the allocator keeps but no longer uses back to the system. Loading a large
/// config builds temporary parse trees many times the size of the snapshot; glibc would keep
/// those pages, and the resident size would stay at the peak of the load.
#[allow(unsafe_code)]
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only trims glibc's own heaps; it takes no pointers from us.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The first checks every RADIUS port makes: a well-formed packet, from a configured client,
/// with a code this port serves. Anything else is counted, logged (rate-limited) and dropped.
pub(crate) fn admit<'p, 'd>(
    datagram: &'p [u8],
    src: SocketAddr,
    directory: &'d crate::config::Directory,
    port: &str,
    serves: fn(crate::radius::Code) -> bool,
    c: &Counters,
    log: &RateLimitedLog,
) -> Option<(crate::radius::Packet<'p>, &'d crate::config::Client)> {
    let packet = match crate::radius::Packet::parse(datagram) {
        Ok(p) => p,
        Err(e) => {
            c.inc(&c.malformed);
            log.warn(
                "malformed",
                src.ip(),
                format_args!("malformed RADIUS packet on the {port} port: {e}"),
            );
            return None;
        }
    };
    let Some(client) = directory.client_for(src.ip()) else {
        c.inc(&c.unknown_client);
        log.warn(
            "unknown_client",
            src.ip(),
            format_args!("{port} request from an address that is no configured client: dropped"),
        );
        return None;
    };
    if !serves(packet.code()) {
        c.inc(&c.unexpected_code);
        log.warn(
            "unexpected_code",
            src.ip(),
            format_args!("{} on the {port} port: dropped", packet.code()),
        );
        return None;
    }
    Some((packet, client))
}

/// Binds a UDP socket for tokio. IPv6 sockets are v6-only so that `0.0.0.0:1812` and
/// `[::]:1812` can both be configured, as DESIGN.md's default does.
pub fn bind_udp(addr: SocketAddr) -> Result<tokio::net::UdpSocket, ServerError> {
    let socket = bind_socket(addr)?;
    let err = |source| ServerError::Bind { addr, source };
    socket.set_nonblocking(true).map_err(err)?;
    tokio::net::UdpSocket::from_std(socket.into()).map_err(err)
}

/// Binds a blocking UDP socket for a dedicated receive thread (the auth listener), like
/// [`bind_udp`].
pub fn bind_udp_blocking(addr: SocketAddr) -> Result<std::net::UdpSocket, ServerError> {
    Ok(bind_socket(addr)?.into())
}

fn bind_socket(addr: SocketAddr) -> Result<Socket, ServerError> {
    let err = |source| ServerError::Bind { addr, source };
    let domain = if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).map_err(err)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true).map_err(err)?;
    }
    // A burst of requests from many access points at once must not overflow the queue.
    let _ = socket.set_recv_buffer_size(4 << 20);
    socket.bind(&addr.into()).map_err(err)?;
    Ok(socket)
}
