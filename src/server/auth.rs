//! The RADIUS authentication listener: one receive thread per bound UDP socket. It owns the socket
//! work of an Access-Request — client lookup, Message-Authenticator check, duplicate
//! detection, handing the facts to the pure policy, encoding and signing the reply, and
//! handing a log row to the writer. It never waits on the disk. PAP checks and the EAP
//! rounds with TLS key exchange or a password hash (see `eap`) run on a bounded worker pool
//! shared fairly between the clients (`fair`), never on the receive thread. Failed password
//! checks are counted and paused per (account, client) in `guessing`: a client that guessed
//! too often for an account is answered `too_many_failures` at once, before any permit.

use std::net::UdpSocket;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use jiff::Timestamp;
use tokio::sync::watch;
use tracing::debug;

use crate::config::{Client, Directory};
use crate::mmsg::{RecvBatch, SendBatch};
use crate::model::Module;
use crate::policy::devices::DeviceBook;
use crate::policy::usage::UsageBook;
use crate::policy::{self, AccessRequest, Decision, Outcome, Reason};
use crate::radius::{self, Code, MessageAuthenticator, Packet, PacketBuilder, SharedSecret, attr};
use crate::sched;
use crate::store::{AuthLogRow, WriterHandle};

use super::dedup::{DedupCache, DedupKey, Lookup};
use super::eap::{EapJob, Here};
use super::failures::FailureBook;
use super::fair::{FairPool, Take};
use super::guessing::{
    known_account, login_failed, login_paused, login_succeeded, paused_decision, wall_time,
};
use super::rounds::{self, Rounds};
use super::{Counters, RateLimitedLog};

/// How long a reply stays in the duplicate cache (RFC 5080 2.2.2 suggests a few seconds).
pub const DEDUP_WINDOW: Duration = Duration::from_secs(5);
/// Slots of the duplicate cache per socket (a fixed table; see `dedup`): FreeRADIUS's
/// default `max_requests`. At a school's rates it holds minutes of requests, far more than
/// the window; at tens of thousands per second a fraction of a second, which no cache of
/// sane size would change, and a missed duplicate is only decided again.
pub const DEDUP_CAPACITY: usize = 16_384;

/// What every auth socket task shares.
pub struct AuthShared {
    pub directory: Arc<ArcSwap<Directory>>,
    pub writer: WriterHandle,
    pub counters: Arc<Counters>,
    /// Bounds the password checks (argon2, deliberately slow) and EAP rounds running at
    /// once, with a fair share per client. A request without a permit is dropped; the NAS
    /// retries.
    pub permits: Arc<FairPool>,
    /// Failed password checks per account and per (account, client).
    pub failures: Mutex<FailureBook>,
    pub log_limit: Arc<RateLimitedLog>,
    /// Today's data use per account, for daily quotas.
    pub usage: Arc<UsageBook>,
    /// 802.1X conversations between their rounds (their checks share `permits`).
    pub eap: Arc<super::eap::Conversations>,
    /// Enrolled devices and when devices were last accepted.
    pub devices: Arc<DeviceBook>,
}

/// How often a blocked receive wakes up to see whether the daemon is stopping, should the
/// datagram that wakes it at the stop (`wake_receiver`) not arrive. Not shorter: on a
/// virtual machine each wake-up of a sleeping core costs 60–150 µs of CPU, and a school's
/// server sleeps between most requests.
const STOP_POLL: Duration = Duration::from_secs(1);

/// The receive thread's time slice: short, so that a request waking it takes the core from
/// the log writer at once (the writer's slice is the kernel's default, 0.75–3 ms).
const RECEIVE_SLICE: Duration = Duration::from_micros(100);

/// How late the kernel may end the receive thread's waits for company (`rounds::HOLD`);
/// the default 50 µs would double them.
const RECEIVE_TIMER_SLACK: Duration = Duration::from_micros(1);

/// Serves one socket until `stop` turns true. The receive loop runs on a dedicated thread,
/// in batches (recvmmsg/sendmmsg): under load one system call carries many requests, and
/// no request waits for a task wake-up.
pub async fn serve_socket(
    socket: UdpSocket,
    shared: Arc<AuthShared>,
    mut stop: watch::Receiver<bool>,
) {
    let stopping = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Handle::current();
    let flag = stopping.clone();
    let socket = Arc::new(socket);
    let waker = socket.clone();
    let receiver = std::thread::Builder::new()
        .name("hallpass-auth".into())
        .spawn(move || receive_loop(socket, &shared, &flag, &runtime));
    let receiver = match receiver {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the auth receive thread");
            return;
        }
    };
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            break;
        }
    }
    stopping.store(true, Ordering::Relaxed);
    wake_receiver(&waker);
    let _ = tokio::task::spawn_blocking(move || receiver.join()).await;
}

/// Wakes the receive thread blocked on `socket` at once: an empty datagram from the socket
/// to itself (to the loopback address of its family when it is bound to all addresses).
/// The thread looks at the stop flag before it handles anything it received, so the
/// datagram is never taken for a request. Should it not arrive, the thread notices the stop
/// after [`STOP_POLL`].
fn wake_receiver(socket: &UdpSocket) {
    let Ok(mut own) = socket.local_addr() else {
        return;
    };
    if own.ip().is_unspecified() {
        own.set_ip(match own {
            SocketAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            SocketAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        });
    }
    if let Err(e) = socket.send_to(&[], own) {
        debug!(error = %e, "cannot wake the auth receive thread; it stops within {STOP_POLL:?}");
    }
}

fn receive_loop(
    socket: Arc<UdpSocket>,
    shared: &Arc<AuthShared>,
    stopping: &AtomicBool,
    runtime: &tokio::runtime::Handle,
) {
    if let Err(e) = socket.set_read_timeout(Some(STOP_POLL)) {
        tracing::error!(error = %e, "auth socket: cannot set a read timeout");
        return;
    }
    prefer_this_thread();
    let dedup = Arc::new(DedupCache::new(DEDUP_WINDOW, DEDUP_CAPACITY));
    let mut received = RecvBatch::new(radius::MAX_PACKET_LEN + 1);
    let mut replies = SendBatch::default();
    let mut rounds = Rounds::new(Instant::now());
    let answer = Answering {
        socket: &socket,
        shared,
        dedup: &dedup,
        runtime,
    };
    while !stopping.load(Ordering::Relaxed) {
        let n = match received.recv(&socket) {
            // The datagram that `wake_receiver` sends at the stop, or a request that came
            // with it: the NAS retries those with the next daemon.
            Ok(_) if stopping.load(Ordering::Relaxed) => break,
            Ok(n) => n,
            Err(e) => {
                // Timeouts (to look at `stopping`), and ICMP errors from earlier sends on
                // some systems: keep serving.
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) {
                    debug!(error = %e, "auth socket receive error");
                }
                continue;
            }
        };
        let at = answer.batch(n, &received, &mut replies);
        if rounds.after_batch(n, at) {
            // A steady stream of requests: take the next ones as they arrive, wait once for
            // more, and answer them all together (see `rounds`).
            shared.counters.inc(&shared.counters.rounds_held);
            let mut waited = false;
            while replies.room() > 0 {
                let more = received.take_queued(&socket, replies.room()).unwrap_or(0);
                if more > 0 {
                    rounds.also_received(more);
                    answer.batch(more, &received, &mut replies);
                } else if waited {
                    break;
                } else {
                    std::thread::sleep(rounds::HOLD);
                    waited = true;
                }
            }
        }
        replies.send(&socket);
    }
}

/// Asks the kernel to run the receive thread as soon as a request wakes it, even while the
/// log writer is in the middle of a batch on the same core, and to end its short waits on
/// time. Best effort: without it answers may wait up to a scheduler tick behind log writes.
fn prefer_this_thread() {
    if let Err(e) = sched::set_time_slice(RECEIVE_SLICE) {
        tracing::info!(error = %e, "auth receive thread keeps the default time slice");
    }
    if let Err(e) = sched::set_timer_slack(RECEIVE_TIMER_SLACK) {
        tracing::info!(error = %e, "auth receive thread keeps the default timer slack");
    }
}

/// What the receive loop needs to answer a batch.
struct Answering<'a> {
    socket: &'a Arc<UdpSocket>,
    shared: &'a Arc<AuthShared>,
    dedup: &'a Arc<DedupCache>,
    runtime: &'a tokio::runtime::Handle,
}

impl Answering<'_> {
    /// Decides the `n` datagrams last received and queues their replies. Returns when the
    /// batch was taken up (the time its decisions were made at).
    fn batch(&self, n: usize, received: &RecvBatch, replies: &mut SendBatch) -> Instant {
        let shared = self.shared;
        // The datagrams of a batch arrived together: one clock reading and one snapshot
        // serve them all (a reload applies from the next batch).
        let directory = shared.directory.load();
        let batch = Batch {
            at: Instant::now(),
            now: Timestamp::now(),
            directory: &directory,
        };
        for i in 0..n {
            let Some((datagram, src)) = received.get(i) else {
                continue;
            };
            shared.counters.inc(&shared.counters.received);
            match handle_datagram(
                datagram,
                src,
                &batch,
                shared,
                self.dedup,
                replies.next_buf(),
            ) {
                Handled::Reply => replies.push(src),
                Handled::Dropped => {}
                Handled::Pap(job) => start_pap(*job, self.socket, shared, self.dedup, self.runtime),
                Handled::Eap(job) => start_eap(*job, self.socket, shared, self.dedup, self.runtime),
            }
        }
        batch.at
    }
}

/// Hands a PAP request to the blocking pool, or drops it (the NAS retries) when as many as
/// allowed are already running.
fn start_pap(
    job: PapJob,
    socket: &Arc<UdpSocket>,
    shared: &Arc<AuthShared>,
    dedup: &Arc<DedupCache>,
    runtime: &tokio::runtime::Handle,
) {
    let Some(permit) = permit_for(shared, &job.client) else {
        dedup.forget(&job.key);
        return;
    };
    let (socket, shared, dedup) = (socket.clone(), shared.clone(), dedup.clone());
    // argon2 runs on the blocking pool; the permit bounds how many at once.
    runtime.spawn_blocking(move || {
        let _permit = permit;
        let mut out = Vec::with_capacity(512);
        if finish_pap(&job, &shared, &mut out) {
            send_from_worker(&out, &job.key, job.src, &socket, &shared, &dedup);
        }
    });
}

/// Sends a reply made on the worker pool. Cached before it is sent: a retransmission right
/// after the reply must find it (while in flight it would be dropped).
fn send_from_worker(
    out: &[u8],
    key: &DedupKey,
    to: SocketAddr,
    socket: &UdpSocket,
    shared: &AuthShared,
    dedup: &DedupCache,
) {
    dedup.complete(key, out);
    if let Err(e) = socket.send_to(out, to) {
        shared.log_limit.debug(
            "auth_send",
            to.ip(),
            format_args!("auth reply to {to} not sent: {e}"),
        );
    }
}

/// Hands an EAP round to the blocking pool PAP uses (TLS handshakes and argon2 cost
/// milliseconds), or drops it (the NAS retries) when the pool is busy.
fn start_eap(
    job: EapJob,
    socket: &Arc<UdpSocket>,
    shared: &Arc<AuthShared>,
    dedup: &Arc<DedupCache>,
    runtime: &tokio::runtime::Handle,
) {
    let Some(permit) = permit_for(shared, &job.client) else {
        dedup.forget(&job.key);
        return;
    };
    let (socket, shared, dedup) = (socket.clone(), shared.clone(), dedup.clone());
    runtime.spawn_blocking(move || {
        let mut out = Vec::with_capacity(1500);
        let answered = super::eap::answer(&job, &shared, &mut out);
        // The work is done: the next round may start before this reply leaves.
        drop(permit);
        if answered {
            send_from_worker(&out, &job.key, job.src, &socket, &shared, &dedup);
        } else {
            dedup.forget(&job.key);
        }
    });
}

/// A worker permit for a request of `client`, or `None` (counted: the pool is full, or the
/// client holds its half while another waits).
fn permit_for(shared: &AuthShared, client: &Client) -> Option<super::fair::Permit> {
    let c = &shared.counters;
    match shared.permits.take(&client.name, Instant::now()) {
        Ok(p) => Some(p),
        Err(Take::OverShare) => {
            c.inc(&c.dropped_fair_share);
            None
        }
        Err(_) => {
            c.inc(&c.dropped_busy);
            None
        }
    }
}

/// The outcome of looking at one datagram.
enum Handled {
    /// `reply` holds a packet to send back.
    Reply,
    /// Nothing is sent (unknown client, bad authenticator, malformed, duplicate in flight).
    Dropped,
    /// A PAP request: the password check runs off the receive loop.
    Pap(Box<PapJob>),
    /// An EAP round (RFC 3579): it runs off the receive loop.
    Eap(Box<EapJob>),
}

/// A PAP request carried to the blocking pool, with the password already unhidden.
pub struct PapJob {
    key: DedupKey,
    src: SocketAddr,
    datagram: Vec<u8>,
    client: Client,
    password: zeroize::Zeroizing<Vec<u8>>,
}

/// What the datagrams of one received batch share.
struct Batch<'a> {
    /// When the batch was taken from the socket.
    at: Instant,
    /// The same moment as a timestamp: the time of the decisions and their log rows.
    now: Timestamp,
    directory: &'a Directory,
}

fn handle_datagram(
    datagram: &[u8],
    src: SocketAddr,
    batch: &Batch,
    shared: &AuthShared,
    dedup: &DedupCache,
    reply: &mut Vec<u8>,
) -> Handled {
    let c = &shared.counters;
    let directory = batch.directory;
    let Some((packet, client)) = super::admit(
        datagram,
        src,
        directory,
        "authentication",
        |code| matches!(code, Code::AccessRequest | Code::StatusServer),
        c,
        &shared.log_limit,
    ) else {
        return Handled::Dropped;
    };
    c.per_client.inc(&client.name, |p| &p.requests);
    let secret = &client.secret;
    let eap = packet.get(attr::EAP_MESSAGE).is_some();
    match radius::verify_message_authenticator(&packet, secret, None) {
        Ok(MessageAuthenticator::Valid) => {}
        Ok(MessageAuthenticator::Missing) => {
            // Status-Server always needs one (RFC 5997 3); Access-Request unless the client
            // is explicitly allowed to omit it (BlastRADIUS). Even then a Proxy-State
            // without one is dropped: attacker-chosen octets echoed into a signed reply
            // are how the BlastRADIUS forgery works (FreeRADIUS: limit_proxy_state).
            // EAP always needs one too (RFC 3579 3.2).
            if packet.code() == Code::StatusServer
                || eap
                || client.require_message_authenticator
                || packet.get(attr::PROXY_STATE).is_some()
            {
                c.inc(&c.missing_message_authenticator);
                c.per_client
                    .inc(&client.name, |p| &p.missing_message_authenticator);
                shared.log_limit.warn(
                    "missing_ma",
                    src.ip(),
                    format_args!(
                        "request from client {} without Message-Authenticator: dropped",
                        client.name
                    ),
                );
                return Handled::Dropped;
            }
        }
        Err(e) => {
            c.inc(&c.bad_authenticator);
            c.per_client.inc(&client.name, |p| &p.bad_authenticator);
            shared.log_limit.warn(
                "bad_ma",
                src.ip(),
                format_args!(
                    "request from client {} failed authentication ({e}); wrong shared secret?",
                    client.name
                ),
            );
            return Handled::Dropped;
        }
    }

    let key = DedupKey::new(src, packet.identifier(), *packet.authenticator());
    match dedup.lookup(&key, reply, batch.at) {
        Lookup::Cached => {
            c.inc(&c.duplicates);
            return Handled::Reply;
        }
        Lookup::InFlight => {
            c.inc(&c.duplicates);
            return Handled::Dropped;
        }
        Lookup::New => {}
    }

    if packet.code() == Code::StatusServer {
        c.inc(&c.status_server);
        if build_status_reply(&packet, secret, reply).is_err() {
            dedup.forget(&key);
            return Handled::Dropped;
        }
        dedup.complete(&key, reply);
        return Handled::Reply;
    }
    c.inc(&c.access_requests);

    if eap {
        // Most rounds of a conversation cost microseconds, as a MAB answer does: answered
        // here; those with TLS key exchange or a password hash go to the pool.
        match super::eap::answer_here(&packet, src, client, shared, directory, reply) {
            Here::Answered => {
                dedup.complete(&key, reply);
                return Handled::Reply;
            }
            Here::Dropped => {
                dedup.forget(&key);
                return Handled::Dropped;
            }
            Here::ToWorker => reply.clear(),
        }
        return Handled::Eap(Box::new(EapJob {
            key,
            src,
            datagram: packet.bytes().to_vec(),
            client: client.clone(),
        }));
    }

    // A User-Password is unhidden here, where the secret and the authenticator are at hand;
    // its check against a hash runs later, off the receive loop.
    if let Some(hidden) = packet.get(attr::USER_PASSWORD) {
        let user_name = packet.get(attr::USER_NAME).unwrap_or_default();
        if crate::model::MacAddr::parse_bytes(user_name).is_none() {
            let password = match radius::unhide_password(hidden, secret, packet.authenticator()) {
                Ok(p) => p,
                Err(e) => {
                    c.inc(&c.malformed);
                    shared.log_limit.warn(
                        "bad_password_attr",
                        src.ip(),
                        format_args!("unusable User-Password from client {}: {e}", client.name),
                    );
                    dedup.forget(&key);
                    return Handled::Dropped;
                }
            };
            if let Some(until) = login_paused(shared, client, user_name, batch.at) {
                return refuse_paused(
                    &packet, client, key, src, batch, until, shared, dedup, reply,
                );
            }
            return Handled::Pap(Box::new(PapJob {
                key,
                src,
                datagram: packet.bytes().to_vec(),
                client: client.clone(),
                password,
            }));
        }
    }

    let now = batch.now;
    let user_name = packet.get(attr::USER_NAME).unwrap_or_default();
    let facts = shared.facts_for(directory, user_name, now);
    match respond(&packet, None, directory, client, facts, now, reply) {
        Ok(decision) => {
            c.auth_latency_mab.observe(batch.at.elapsed());
            dedup.complete(&key, reply);
            record(shared, client, src.ip(), &decision, now, None);
            Handled::Reply
        }
        Err(e) => {
            dedup.forget(&key);
            shared.log_limit.warn(
                "encode",
                src.ip(),
                format_args!("reply could not be encoded: {e}"),
            );
            Handled::Dropped
        }
    }
}

/// The PAP path on the blocking pool: decide (argon2 inside), encode, sign, log.
fn finish_pap(job: &PapJob, shared: &AuthShared, out: &mut Vec<u8>) -> bool {
    let Ok(packet) = Packet::parse(&job.datagram) else {
        return false;
    };
    // The snapshot in force now, not the one of the moment the packet arrived: a reload in
    // between must apply.
    let directory = shared.directory.load();
    let now = Timestamp::now();
    let started = Instant::now();
    let user_name = packet.get(attr::USER_NAME).unwrap_or_default();
    let facts = shared.facts_for(&directory, user_name, now);
    match respond(
        &packet,
        Some(&job.password),
        &directory,
        &job.client,
        facts,
        now,
        out,
    ) {
        Ok(mut decision) => {
            shared.counters.auth_latency_pap.observe(started.elapsed());
            match decision.reason {
                Reason::BadCredentials => {
                    login_failed(shared, &job.client, job.src.ip(), user_name, started);
                    decision.user = known_account(&directory, user_name);
                }
                // No password was checked.
                Reason::Malformed => {}
                // Every other answer comes after the password was found right (rule 2).
                _ => login_succeeded(shared, &job.client, user_name),
            }
            record(shared, &job.client, job.src.ip(), &decision, now, None);
            true
        }
        Err(_) => false,
    }
}

/// Answers a PAP request of a pausing client at once, on the receive thread: no password is
/// checked and no permit taken.
/// (The arguments are the pieces of `handle_datagram`'s state the answer needs.)
#[allow(clippy::too_many_arguments)]
fn refuse_paused(
    packet: &Packet,
    client: &Client,
    key: DedupKey,
    src: SocketAddr,
    batch: &Batch,
    until: Instant,
    shared: &AuthShared,
    dedup: &DedupCache,
    reply: &mut Vec<u8>,
) -> Handled {
    let c = &shared.counters;
    c.inc(&c.login_paused);
    let request = access_request(packet, None, client.module);
    let until = wall_time(batch.now, batch.at, until);
    let decision = paused_decision(&request, batch.directory, until);
    let built = build_access_reply(
        packet,
        &decision,
        batch.directory,
        &client.secret,
        reply,
        |_| Ok::<(), radius::RadiusError>(()),
    );
    if built.is_err() {
        dedup.forget(&key);
        return Handled::Dropped;
    }
    dedup.complete(&key, reply);
    record(shared, client, src.ip(), &decision, batch.now, None);
    Handled::Reply
}

/// Decides an authenticated Access-Request and writes the signed reply into `out`: the
/// whole per-request work between the socket's receive and send, without I/O.
pub fn respond(
    packet: &Packet,
    password: Option<&[u8]>,
    directory: &Directory,
    client: &Client,
    facts: policy::Facts,
    now: Timestamp,
    out: &mut Vec<u8>,
) -> Result<Decision, radius::RadiusError> {
    let request = access_request(packet, password, client.module);
    let decision = policy::decide_with(directory, &request, facts, now);
    build_access_reply(packet, &decision, directory, &client.secret, out, |_| {
        Ok::<(), radius::RadiusError>(())
    })?;
    Ok(decision)
}

fn access_request<'a>(
    packet: &Packet<'a>,
    password: Option<&'a [u8]>,
    client_module: Module,
) -> AccessRequest<'a> {
    AccessRequest {
        user_name: packet.get(attr::USER_NAME).unwrap_or_default(),
        password,
        calling_station_id: packet.get(attr::CALLING_STATION_ID),
        nas_port_type: packet.get_u32(attr::NAS_PORT_TYPE),
        client_module,
    }
}

pub(super) fn record(
    shared: &AuthShared,
    client: &Client,
    ip: IpAddr,
    d: &Decision,
    now: Timestamp,
    method: Option<&'static str>,
) {
    let c = &shared.counters;
    let accepted = matches!(d.outcome, Outcome::Accept { .. });
    c.inc(if accepted { &c.accepts } else { &c.rejects });
    c.count_decision(d.reason, d.module);
    // Every decision is in the auth log (SQLite); the journal line is debug so that a busy
    // network does not flood the journal.
    debug!(
        client = %client.name,
        mac = d.mac.map(|m| m.to_string()).unwrap_or_default(),
        user = d.user.as_deref().unwrap_or(""),
        module = %d.module,
        decision = if accepted { "accept" } else { "reject" },
        reason = d.reason.code(),
        "access decision"
    );
    let row = AuthLogRow {
        time: now,
        client: client.name.clone(),
        client_ip: ip,
        mac: d.mac,
        user: d.user.clone(),
        module: d.module,
        accepted,
        reason: d.reason.code(),
        vlan: match &d.outcome {
            Outcome::Accept { vlan, .. } => Some(vlan.get()),
            Outcome::Reject => None,
        },
        method,
    };
    super::devices::note_accepted(shared, d, now);
    if !shared.writer.log_auth(row) {
        c.inc(&c.log_rows_dropped);
    }
}

/// Access-Accept or Access-Reject for a decision, Message-Authenticator first (BlastRADIUS);
/// `extra` appends what the login method adds (EAP: the EAP-Message, keys, User-Name).
pub(super) fn build_access_reply<E: From<radius::RadiusError>>(
    request: &Packet,
    decision: &Decision,
    directory: &Directory,
    secret: &SharedSecret,
    out: &mut Vec<u8>,
    extra: impl FnOnce(&mut PacketBuilder<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let message = policy::reply_message(
        decision,
        directory.server.language,
        &directory.server.timezone,
    );
    let code = match decision.outcome {
        Outcome::Accept { .. } => Code::AccessAccept,
        Outcome::Reject => Code::AccessReject,
    };
    let mut b = PacketBuilder::new(out, code, request.identifier());
    b.message_authenticator();
    if let Outcome::Accept {
        vlan,
        filter_id,
        session_timeout,
    } = &decision.outcome
    {
        // RFC 3580 3.31 / RFC 2868: tag 0, 3-octet values; the group id as text.
        b.attr_tagged_u24(attr::TUNNEL_TYPE, 0, radius::values::tunnel_type::VLAN)?;
        b.attr_tagged_u24(
            attr::TUNNEL_MEDIUM_TYPE,
            0,
            radius::values::tunnel_medium_type::IEEE_802,
        )?;
        let mut digits = itoa_u16(vlan.get());
        b.attr(attr::TUNNEL_PRIVATE_GROUP_ID, digits.as_bytes_mut())?;
        b.attr_u32(attr::SESSION_TIMEOUT, *session_timeout)?;
        if let Some(f) = filter_id {
            b.attr(attr::FILTER_ID, f.as_bytes())?;
        }
    }
    b.attr_text_split(attr::REPLY_MESSAGE, message.as_bytes())?;
    extra(&mut b)?;
    copy_proxy_state(request, &mut b)?;
    Ok(b.finish_reply(request.authenticator(), secret)?)
}

/// RFC 5997 3: a Status-Server to the auth port is answered with an Access-Accept.
fn build_status_reply(
    request: &Packet,
    secret: &SharedSecret,
    out: &mut Vec<u8>,
) -> Result<(), radius::RadiusError> {
    let mut b = PacketBuilder::new(out, Code::AccessAccept, request.identifier());
    b.message_authenticator();
    b.attr(attr::REPLY_MESSAGE, b"hallpass alive")?;
    copy_proxy_state(request, &mut b)?;
    b.finish_reply(request.authenticator(), secret)
}

/// RFC 2865 5.33: Proxy-State attributes are copied unmodified, in order, into the reply.
pub(super) fn copy_proxy_state(
    request: &Packet,
    b: &mut PacketBuilder,
) -> Result<(), radius::RadiusError> {
    for a in request.attributes() {
        if a.typ == attr::PROXY_STATE {
            b.attr(attr::PROXY_STATE, a.value)?;
        }
    }
    Ok(())
}

/// Decimal digits of a VLAN id without allocating.
struct Digits {
    buf: [u8; 5],
    start: usize,
}

impl Digits {
    fn as_bytes_mut(&mut self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }
}

fn itoa_u16(mut v: u16) -> Digits {
    let mut buf = [0u8; 5];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    Digits { buf, start: i }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_digits() {
        for v in [1u16, 9, 10, 20, 99, 100, 4094, u16::MAX] {
            assert_eq!(itoa_u16(v).as_bytes_mut(), v.to_string().as_bytes());
        }
    }
}
