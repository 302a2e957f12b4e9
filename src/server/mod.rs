//! The only socket code of hallpass: the RADIUS authentication and accounting listeners, the
//! dynamic-authorization client and its enforcer, DHCP capture, and the load generator. Nothing imports
//! this module but the daemon.

pub mod acct;
pub mod auth;
pub mod capture;
mod dedup;
pub mod dynauth;
pub mod enforce;
pub mod loadgen;
mod mmsg;
pub mod usage;
pub mod watcher;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use tracing::warn;

use crate::model::Module;
use crate::policy::Reason;

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
    pub dropped_busy: AtomicU64,
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
    /// DHCP watcher: sightings and rogue reports the writer's full queue refused.
    pub dhcp_rows_dropped: AtomicU64,
    decisions: [[AtomicU64; 2]; Reason::ALL.len()],
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

type LogState = (Instant, u64);

/// Log lines about network input, at most one per kind and source every interval, with a
/// count of what was suppressed: a flood must not fill the journal.
pub struct RateLimitedLog {
    interval: Duration,
    /// (kind, source) → (last logged, suppressed since).
    seen: Mutex<HashMap<(&'static str, IpAddr), LogState>>,
}

impl RateLimitedLog {
    /// Distinct (kind, source) pairs remembered; beyond this, everything is suppressed until
    /// the next sweep, so a spoofed flood cannot grow the map.
    const MAX_KEYS: usize = 4096;

    pub fn new(interval: Duration) -> RateLimitedLog {
        RateLimitedLog {
            interval,
            seen: Mutex::new(HashMap::new()),
        }
    }

    pub fn warn(&self, kind: &'static str, source: IpAddr, message: &str) {
        let now = Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if seen.len() >= Self::MAX_KEYS {
            let interval = self.interval;
            seen.retain(|_, (t, _)| now.duration_since(*t) < interval);
        }
        match seen.get_mut(&(kind, source)) {
            Some((last, suppressed)) if now.duration_since(*last) < self.interval => {
                *suppressed += 1;
            }
            Some((last, suppressed)) => {
                let n = *suppressed;
                *last = now;
                *suppressed = 0;
                warn!(source = %source, suppressed = n, "{message}");
            }
            None => {
                if seen.len() < Self::MAX_KEYS {
                    seen.insert((kind, source), (now, 0));
                    warn!(source = %source, "{message}");
                }
            }
        }
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
