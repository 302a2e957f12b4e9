//! The DHCP watcher: captures DHCP on the interfaces of `[dhcp].interfaces` and turns every
//! message into a sighting (which device, which address, which name) and every reply from
//! an untrusted server into a rogue-server report.
//!
//! Owns: one capture task per interface (opening, waiting for an interface that is missing
//! or down, reopening one that was removed and came back), the DHCP counters, turning an
//! observation into a sighting (the address only from a trusted server's ACK), and the
//! link from a new randomized MAC to a registered device ([`aliases`]).
//! Sightings are coalesced per MAC and new MACs admitted at a bounded rate ([`coalesce`])
//! before they reach the writer.
//! Must not: block on the database (sightings go to the writer's bounded queue and are
//! dropped and counted when it is full), stop the RADIUS side when capture is impossible,
//! switch an interface into promiscuous mode, or write a MAC, host name or user name to
//! the log above debug level.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use jiff::Timestamp;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, error, info, warn};

use super::capture::{Capture, CaptureError, interface_index};
use super::{Counters, RateLimitedLog};
use crate::config::Directory;
use crate::dhcp::{self, DeviceFamily, MessageType, Observation};
use crate::store::{self, DhcpMessage, MessageCounts, RogueServerSeen, SightingUpdate};

pub mod aliases;
pub mod coalesce;

pub use aliases::{Aliases, PRIVATE_ADDRESS_HINT};
use coalesce::{Coalescer, Verdict};

/// Wait between attempts to open a capture on a missing interface.
pub const RETRY: Duration = Duration::from_secs(2);
/// A missing interface is reported when first noticed, then at most this often.
const RELOG: Duration = Duration::from_secs(60);
/// How often the kernel's counters are read (they reset on read) and changes logged.
const STATS_EVERY: Duration = Duration::from_secs(1);
/// Receive buffer: a whole frame of any size the capture's snap length lets through
/// (DHCP frames are normally under 600 bytes).
const FRAME_BUF: usize = 65_536;

/// What the watcher needs from the daemon.
pub struct Watcher {
    pub directory: Arc<ArcSwap<Directory>>,
    pub writer: store::WriterHandle,
    pub counters: Arc<Counters>,
    pub log_limit: Arc<RateLimitedLog>,
    /// The database, read once at start (read-only) for the host names of registered
    /// devices seen before.
    pub db_path: PathBuf,
}

/// The DHCP counters at one moment; logged when they change and when the watcher stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WatcherCounts {
    pub frames: u64,
    pub parsed: u64,
    pub parse_errors: u64,
    pub rogue: u64,
    pub kernel_packets: u64,
    pub kernel_drops: u64,
    pub rows_dropped: u64,
    pub coalesced: u64,
    pub not_admitted: u64,
}

impl WatcherCounts {
    pub fn read(c: &Counters) -> WatcherCounts {
        WatcherCounts {
            frames: Counters::get(&c.dhcp_frames),
            parsed: Counters::get(&c.dhcp_parsed),
            parse_errors: Counters::get(&c.dhcp_parse_errors),
            rogue: Counters::get(&c.dhcp_rogue),
            kernel_packets: Counters::get(&c.dhcp_kernel_packets),
            kernel_drops: Counters::get(&c.dhcp_kernel_drops),
            rows_dropped: Counters::get(&c.dhcp_rows_dropped),
            coalesced: Counters::get(&c.dhcp_coalesced),
            not_admitted: Counters::get(&c.dhcp_not_admitted),
        }
    }
}

struct Shared {
    w: Watcher,
    aliases: Mutex<Aliases>,
    /// One write a minute per MAC unless it changes; new MACs at a bounded rate.
    coalesce: Mutex<Coalescer>,
    /// Missing CAP_NET_RAW is the same for every interface: said once.
    no_permission_logged: AtomicBool,
}

impl Watcher {
    /// Starts the watcher on the interfaces of the current `[dhcp]` section; `None` when
    /// there are none (the watcher is off). Changing the interfaces needs a restart. The
    /// task ends after `stop` turns true, logging the final counters.
    pub fn spawn(self, stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
        let interfaces = self.directory.load().dhcp.interfaces.clone();
        if interfaces.is_empty() {
            info!("DHCP watcher off: no [dhcp] interfaces configured");
            return None;
        }
        if self.directory.load().dhcp.trusted_servers.is_empty() {
            info!(
                "dhcp.trusted_servers is empty: no DHCP server is reported as rogue, and no \
                 address is taken from DHCP (only from accounting)"
            );
        }
        let aliases = Aliases::seeded(&self.db_path);
        let shared = Arc::new(Shared {
            w: self,
            aliases: Mutex::new(aliases),
            coalesce: Mutex::new(Coalescer::new(coalesce::CAPACITY)),
            no_permission_logged: AtomicBool::new(false),
        });
        Some(tokio::spawn(run(shared, interfaces, stop)))
    }
}

async fn run(shared: Arc<Shared>, interfaces: Vec<String>, mut stop: watch::Receiver<bool>) {
    let mut set = JoinSet::new();
    for iface in interfaces {
        set.spawn(watch_interface(shared.clone(), iface.into(), stop.clone()));
    }
    let mut tick = tokio::time::interval(STATS_EVERY);
    let mut last = WatcherCounts::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = WatcherCounts::read(&shared.w.counters);
                if now != last {
                    log_counts(&now, "DHCP watcher counters");
                    last = now;
                }
            }
            r = stop.changed() => if r.is_err() || *stop.borrow() { break },
        }
    }
    while set.join_next().await.is_some() {}
    let c = WatcherCounts::read(&shared.w.counters);
    info!(
        frames = c.frames,
        parsed = c.parsed,
        parse_errors = c.parse_errors,
        rogue = c.rogue,
        kernel_packets = c.kernel_packets,
        kernel_drops = c.kernel_drops,
        rows_dropped = c.rows_dropped,
        coalesced = c.coalesced,
        not_admitted = c.not_admitted,
        "DHCP watcher stopped"
    );
}

fn log_counts(c: &WatcherCounts, what: &str) {
    debug!(
        frames = c.frames,
        parsed = c.parsed,
        parse_errors = c.parse_errors,
        rogue = c.rogue,
        kernel_packets = c.kernel_packets,
        kernel_drops = c.kernel_drops,
        rows_dropped = c.rows_dropped,
        coalesced = c.coalesced,
        not_admitted = c.not_admitted,
        "{what}"
    );
}

/// Whether a complaint about `iface` is due: the first one, then one a minute.
fn due(last: &mut Option<Instant>) -> bool {
    let now = Instant::now();
    if last.is_some_and(|t| now.duration_since(t) < RELOG) {
        return false;
    }
    *last = Some(now);
    true
}

async fn watch_interface(shared: Arc<Shared>, iface: Arc<str>, mut stop: watch::Receiver<bool>) {
    let mut last_complaint = None;
    loop {
        if *stop.borrow() {
            return;
        }
        match Capture::open(&iface) {
            Ok(cap) => {
                info!(interface = %iface, "DHCP watcher capturing");
                match capture(&shared, &iface, &cap, &mut stop).await {
                    Ended::Stopped => return,
                    Ended::Gone(e) => {
                        warn!(
                            interface = %iface,
                            error = %e,
                            "DHCP capture lost its interface (removed?); reopening it when it is back"
                        );
                        last_complaint = Some(Instant::now());
                    }
                }
            }
            Err(e @ CaptureError::NoPermission { .. }) => {
                if !shared.no_permission_logged.swap(true, Ordering::Relaxed) {
                    error!(
                        "{e}; the DHCP watcher is off, everything else keeps running (needs \
                         capability CAP_NET_RAW)"
                    );
                }
                return;
            }
            Err(e @ CaptureError::BadInterfaceName { .. }) => {
                error!("{e}; the DHCP watcher ignores it");
                return;
            }
            Err(e) => {
                if due(&mut last_complaint) {
                    warn!(
                        interface = %iface,
                        "{e}; the DHCP watcher retries every {}s",
                        RETRY.as_secs()
                    );
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            r = stop.changed() => if r.is_err() || *stop.borrow() { return },
        }
    }
}

enum Ended {
    Stopped,
    /// The interface is gone (its index changed or vanished), or the socket failed.
    Gone(std::io::Error),
}

async fn capture(
    shared: &Shared,
    iface: &Arc<str>,
    cap: &Capture,
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    let mut buf = vec![0u8; FRAME_BUF];
    let mut tick = tokio::time::interval(STATS_EVERY);
    let mut down = false;
    loop {
        tokio::select! {
            r = cap.recv(&mut buf) => match r {
                Ok(n) => {
                    if down {
                        info!(interface = %iface, "DHCP watcher: the interface is up again");
                        down = false;
                    }
                    shared.handle_frame(iface, buf.get(..n).unwrap_or(&[]), Timestamp::now());
                }
                // ENETDOWN is reported once per down event; while the interface keeps its
                // index the kernel resumes delivery on this socket when it comes up.
                Err(e) if e.raw_os_error() == Some(libc::ENETDOWN)
                    && interface_index(iface).ok() == Some(cap.ifindex()) =>
                {
                    if !down {
                        warn!(
                            interface = %iface,
                            "DHCP watcher: the interface went down; capturing resumes when it comes up"
                        );
                        down = true;
                    }
                }
                Err(e) => {
                    read_stats(shared, cap);
                    return Ended::Gone(e);
                }
            },
            _ = tick.tick() => {
                read_stats(shared, cap);
                // removed (perhaps while down): no further error arrives on the socket
                if interface_index(iface).ok() != Some(cap.ifindex()) {
                    return Ended::Gone(std::io::Error::from_raw_os_error(libc::ENODEV));
                }
            }
            r = stop.changed() => if r.is_err() || *stop.borrow() {
                read_stats(shared, cap);
                return Ended::Stopped;
            },
        }
    }
}

fn read_stats(shared: &Shared, cap: &Capture) {
    if let Ok((packets, drops)) = cap.stats() {
        let c = &shared.w.counters;
        c.dhcp_kernel_packets
            .fetch_add(u64::from(packets), Ordering::Relaxed);
        c.dhcp_kernel_drops
            .fetch_add(u64::from(drops), Ordering::Relaxed);
        if drops > 0 {
            warn!(
                interface = cap.interface(),
                drops, "DHCP watcher: the kernel dropped frames (receive queue full)"
            );
        }
    }
}

impl Shared {
    fn handle_frame(&self, iface: &Arc<str>, frame: &[u8], now: Timestamp) {
        let c = &self.w.counters;
        c.inc(&c.dhcp_frames);
        let obs = match dhcp::parse_frame(frame) {
            Ok(obs) => {
                c.inc(&c.dhcp_parsed);
                obs
            }
            Err(e) => {
                c.inc(&c.dhcp_parse_errors);
                // A frame has no trusted source address: one window for all of them.
                self.w.log_limit.debug(
                    "dhcp_unreadable",
                    IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                    format_args!("not a readable DHCP frame on {iface}: {e}"),
                );
                return;
            }
        };
        let dir = self.w.directory.load();
        if let Some(rogue) = dhcp::rogue_server(&obs, &dir.dhcp.trusted_servers) {
            self.report_rogue(&rogue, iface, now);
            // what a rogue offers is not where the device is: no sighting update
            return;
        }
        let Some(mut update) = sighting_update(&obs, &dir, iface, now) else {
            return;
        };
        if let Ok(mut aliases) = self.aliases.lock() {
            aliases.link(&mut update, &dir);
        }
        let rate = dir.dhcp.new_macs_per_second;
        let verdict = match self.coalesce.lock() {
            Ok(mut table) => table.offer(update, now, rate),
            // a panic elsewhere left the table: write every sighting rather than none
            Err(_) => Verdict::Write(Box::new(update)),
        };
        match verdict {
            Verdict::Write(update) => {
                if !self.w.writer.sighting(*update) {
                    c.inc(&c.dhcp_rows_dropped);
                }
            }
            Verdict::Coalesced => c.inc(&c.dhcp_coalesced),
            Verdict::NotAdmitted => c.inc(&c.dhcp_not_admitted),
        }
    }

    fn report_rogue(&self, rogue: &dhcp::RogueServer, iface: &Arc<str>, now: Timestamp) {
        let c = &self.w.counters;
        c.inc(&c.dhcp_rogue);
        // The journal gets the server's address and what it did; its MAC and the client's
        // go to the database (rogue_servers) and the debug log, which is for people's data.
        let claimed = match rogue.claimed {
            Some(c) if c != rogue.server => format!(" naming itself {c} (option 54)"),
            _ => String::new(),
        };
        self.w.log_limit.warn(
            "dhcp_rogue",
            IpAddr::V4(rogue.server),
            format_args!(
                "rogue DHCP server {}{claimed} sent {} on {iface}: it is not in \
                 dhcp.trusted_servers",
                rogue.server, rogue.message_type
            ),
        );
        debug!(
            server = %rogue.server,
            server_mac = rogue.src_mac.map(|m| m.to_string()).unwrap_or_default(),
            client = rogue.client_mac.map(|m| m.to_string()).unwrap_or_default(),
            interface = %iface,
            "rogue DHCP reply"
        );
        let (Some(server_mac), Some(message)) = (rogue.src_mac, store_message(rogue.message_type))
        else {
            return;
        };
        let seen = RogueServerSeen {
            server_ip: rogue.server,
            server_mac,
            time: now,
            message,
            interface: Some(iface.clone()),
        };
        if !self.w.writer.rogue_server(seen) {
            c.inc(&c.dhcp_rows_dropped);
        }
    }
}

fn store_message(t: MessageType) -> Option<DhcpMessage> {
    Some(match t {
        MessageType::Discover => DhcpMessage::Discover,
        MessageType::Offer => DhcpMessage::Offer,
        MessageType::Request => DhcpMessage::Request,
        MessageType::Decline => DhcpMessage::Decline,
        MessageType::Ack => DhcpMessage::Ack,
        MessageType::Nak => DhcpMessage::Nak,
        MessageType::Release => DhcpMessage::Release,
        MessageType::Inform => DhcpMessage::Inform,
        MessageType::Other(_) => return None,
    })
}

/// Option 82 sub-options as text when printable ASCII, else lower-case hex.
fn relay_text(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    if bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Some(String::from_utf8_lossy(bytes).into_owned());
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The sighting one DHCP message makes, or `None` when it names no device or no known
/// message type. A client's own messages give its name, vendor class, client id and
/// fingerprint, never its address (what it asks for is a wish anyone can send); a trusted
/// server's ACK gives the address it acknowledged to the client (chaddr), and nothing of
/// the client's words.
pub fn sighting_update(
    obs: &Observation,
    dir: &Directory,
    interface: &Arc<str>,
    now: Timestamp,
) -> Option<SightingUpdate> {
    let message = store_message(obs.message_type?)?;
    let mac = obs.device_mac()?;
    let from_client = !obs.is_from_server;
    let hostname = from_client
        .then(|| {
            obs.hostname
                .as_ref()
                .map(|h| h.to_str_lossy().into_owned())
                .or_else(|| obs.fqdn.as_ref().map(|f| f.name()))
        })
        .flatten();
    let family = if from_client && obs.param_request_list.is_some() {
        match dhcp::classify(obs) {
            DeviceFamily::Unknown => None,
            f => Some(f.as_str().to_string()),
        }
    } else {
        None
    };
    let relay = obs.relay_agent.as_ref();
    Some(SightingUpdate {
        mac,
        time: now,
        message,
        ip: dhcp::leased_address(obs, &dir.dhcp.trusted_servers),
        hostname,
        vendor_class: obs
            .vendor_class
            .as_ref()
            .filter(|_| from_client)
            .map(|v| v.to_str_lossy().into_owned()),
        client_id: obs.client_id.clone().filter(|_| from_client),
        fingerprint: obs.param_request_list.clone().filter(|_| from_client),
        family,
        registered: dir.device(&mac).is_some(),
        randomized: mac.is_locally_administered(),
        interface: Some(interface.clone()),
        relay_circuit_id: relay
            .and_then(|r| r.circuit_id.as_deref())
            .and_then(relay_text),
        relay_remote_id: relay
            .and_then(|r| r.remote_id.as_deref())
            .and_then(relay_text),
        randomized_alias_of: None,
        // until the coalescing table says otherwise
        history: true,
        coalesced: MessageCounts::default(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
