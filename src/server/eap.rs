//! EAP over RADIUS (RFC 3579) on the auth port: the conversation table, the work of one
//! Access-Request with EAP-Message attributes (on the receive thread when cheap, else on
//! the worker pool), and its reply — an Access-Challenge with the next EAP Request and the
//! State, or after the last round an Access-Accept (VLAN, Session-Timeout, Filter-Id,
//! Reply-Message, EAP-Success, the MPPE keys, User-Name = the inner identity) or an
//! Access-Reject with the EAP-Failure.
//!
//! What it owns: taking a conversation out of the table for the time a worker handles it
//! (the NAS sends the next round only after the answer, and duplicates are answered from
//! the cache, so no two workers ever hold one), putting it back under its State, the
//! credential checks the methods ask for (argon2 for TTLS/PAP, the NT hash for
//! MSCHAPv2, the account named by a client certificate) with the failure counts and the
//! pause of a client that guessed too often (`failures`, as for PAP: a paused check is
//! rejected without running), the timer that drops idle conversations, and the EAP
//! counters.
//! What it must not do: run a costly round on the receive thread (TLS key exchange and
//! argon2 take milliseconds; MAB must never wait behind them: `Session::is_costly` sends
//! those to the pool), decide access itself (the policy does), or keep more conversations
//! than `[eap] max_conversations`.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::watch;
use tracing::debug;

use crate::config::{Client, Directory};
use crate::eap::conversation::{ConversationError, DEFAULT_IDLE_TIMEOUT};
use crate::eap::fragment::{DEFAULT_MAX_EAP_PACKET, max_eap_packet};
use crate::eap::packet::EapType;
use crate::eap::{
    ConversationTable, CredentialCheck, Method, Outcome, Session, SessionError, State, Step,
    Verdict, attr as eap_attr, mschapv2,
};
use crate::policy::{self, Decision, Reason};
use crate::radius::{self, Code, Packet, PacketBuilder, RadiusError, attr};

use super::auth::{AuthShared, build_access_reply, copy_proxy_state, record};
use super::dedup::DedupKey;
use super::guessing::{known_account, login_failed, login_paused, login_succeeded, wall_time};

/// How often the timer looks at the table when it holds nothing.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Why an EAP reply could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EapReplyError {
    #[error("{0}")]
    Radius(#[from] RadiusError),
    #[error("MPPE keys: {0}")]
    Mppe(#[from] radius::MppeError),
    #[error("EAP-Message: {0}")]
    Attr(#[from] eap_attr::AttrError),
}

/// Labels of the EAP result counters: the methods, and `none` for conversations that ended
/// before the peer took one up.
const METHOD_LABELS: [&str; 4] = ["peap", "ttls", "tls", "none"];
const REASONS: usize = Reason::ALL.len();

/// What the EAP path counts; read by the metrics endpoint.
#[derive(Default)]
pub struct EapCounters {
    /// Conversations in the table now.
    pub in_flight: AtomicU64,
    /// Conversations dropped: idle too long, or evicted by newer ones when the table was full.
    pub expired: AtomicU64,
    /// Worker time per EAP round: the TLS work and the credential checks.
    pub round_time: super::LatencyHistogram,
    /// Per method (PEAP, TTLS, TLS): the time from a conversation's first Access-Request
    /// to the Access-Accept or Access-Reject that ends it, the peer's round trips included.
    pub handshake_time: [super::LatencyHistogram; 3],
    results: [[AtomicU64; REASONS]; METHOD_LABELS.len()],
}

impl EapCounters {
    fn count(&self, method: Option<Method>, reason: Reason) {
        let m = match method {
            Some(Method::Peap) => 0,
            Some(Method::Ttls) => 1,
            Some(Method::Tls) => 2,
            None => 3,
        };
        let r = Reason::ALL.iter().position(|x| *x == reason);
        if let Some(r) = r
            && let Some(c) = self.results.get(m).and_then(|row| row.get(r))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn handshake(&self, method: Method) -> &super::LatencyHistogram {
        let [peap, ttls, tls] = &self.handshake_time;
        match method {
            Method::Peap => peap,
            Method::Ttls => ttls,
            Method::Tls => tls,
        }
    }

    /// The handshake histogram of each method, with its label.
    pub fn handshakes(&self) -> [(&'static str, &super::LatencyHistogram); 3] {
        let [peap, ttls, tls] = &self.handshake_time;
        [("peap", peap), ("ttls", ttls), ("tls", tls)]
    }

    /// (method, reason code, conversations ended so), for every pair.
    pub fn results(&self) -> Vec<(&'static str, &'static str, u64)> {
        let mut out = Vec::new();
        for (method, row) in METHOD_LABELS.iter().zip(&self.results) {
            for (reason, c) in Reason::ALL.iter().zip(row) {
                out.push((*method, reason.code(), c.load(Ordering::Relaxed)));
            }
        }
        out
    }
}

/// One conversation while it waits for the peer's next round.
struct Conversation {
    session: Session,
    /// The method the peer took up, once its responses say so.
    method: Option<Method>,
    /// When its first Access-Request was taken up.
    started: Instant,
    /// What its password checks found; the failure it leads to may come rounds later
    /// (MSCHAPv2 first tells the peer, then ends).
    checked: Checked,
}

/// The password checks of a conversation that did not pass.
#[derive(Clone, Debug, Default)]
struct Checked {
    /// The name whose password was wrong, or whose check was not run.
    user: Option<String>,
    /// The check was not run: the client pauses for the name until then.
    paused_until: Option<Instant>,
}

/// What [`Conversations::take_cheap`] found.
enum Taken {
    Cheap(Conversation),
    /// The round needs a worker; the conversation stays in the table.
    Costly,
    /// No conversation under that State for that client (expired or never ours).
    Missing,
}

/// The conversations of every auth socket, keyed by (client address, State).
pub struct Conversations {
    table: Mutex<ConversationTable<IpAddr, Conversation>>,
}

impl Conversations {
    /// A table for at most `max` conversations, idle ones dropped after 30 s. Refused for
    /// a bound of zero.
    pub fn new(max: usize) -> Result<Conversations, ConversationError> {
        Ok(Conversations {
            table: Mutex::new(ConversationTable::new(max, DEFAULT_IDLE_TIMEOUT)?),
        })
    }

    /// Takes a conversation out for a worker (idle ones are dropped first).
    fn take(
        &self,
        client: IpAddr,
        state: &State,
        now: Instant,
        counters: &EapCounters,
    ) -> Option<Conversation> {
        let mut table = self.table.lock().ok()?;
        let gone = table.expire(now).len() as u64;
        counters.expired.fetch_add(gone, Ordering::Relaxed);
        let taken = table.remove(&client, state);
        counters
            .in_flight
            .store(table.len() as u64, Ordering::Relaxed);
        taken
    }

    /// Takes a conversation out for the receive thread when its round `eap` is cheap (see
    /// [`Session::is_costly`]); a costly one stays in the table for a worker.
    fn take_cheap(
        &self,
        client: IpAddr,
        state: &State,
        eap: &[u8],
        now: Instant,
        counters: &EapCounters,
    ) -> Taken {
        let Ok(mut table) = self.table.lock() else {
            return Taken::Missing;
        };
        let gone = table.expire(now).len() as u64;
        counters.expired.fetch_add(gone, Ordering::Relaxed);
        let taken = match table.get_mut(&client, state, now) {
            None => Taken::Missing,
            Some(c) if c.session.is_costly(eap) => Taken::Costly,
            Some(_) => table
                .remove(&client, state)
                .map_or(Taken::Missing, Taken::Cheap),
        };
        counters
            .in_flight
            .store(table.len() as u64, Ordering::Relaxed);
        taken
    }

    /// Puts a conversation (back) into the table: under `state` if it had one, else under
    /// a fresh State, which is returned.
    fn put(
        &self,
        client: IpAddr,
        state: Option<State>,
        conversation: Conversation,
        now: Instant,
        counters: &EapCounters,
    ) -> Option<State> {
        let mut table = self.table.lock().ok()?;
        let (state, evicted) = match state {
            Some(s) => (s, table.reinsert(s, client, conversation, now)),
            None => table.insert(client, conversation, now, &mut rand::rng()),
        };
        if evicted.is_some() {
            counters.expired.fetch_add(1, Ordering::Relaxed);
        }
        counters
            .in_flight
            .store(table.len() as u64, Ordering::Relaxed);
        Some(state)
    }

    /// Drops the conversations idle until `now`; returns when to look again.
    fn expire(&self, now: Instant, counters: &EapCounters) -> Instant {
        let Ok(mut table) = self.table.lock() else {
            return now + IDLE_POLL;
        };
        let gone = table.expire(now).len() as u64;
        counters.expired.fetch_add(gone, Ordering::Relaxed);
        counters
            .in_flight
            .store(table.len() as u64, Ordering::Relaxed);
        table
            .next_deadline()
            .unwrap_or(now + IDLE_POLL)
            .min(now + IDLE_POLL)
    }
}

/// Drops idle conversations at their deadlines until `stop` turns true.
pub async fn expire_conversations(shared: Arc<AuthShared>, mut stop: watch::Receiver<bool>) {
    loop {
        let next = shared.eap.expire(Instant::now(), &shared.counters.eap);
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
    }
}

/// An Access-Request with EAP-Message attributes, carried to the worker pool.
pub struct EapJob {
    pub(super) key: DedupKey,
    pub(super) src: SocketAddr,
    pub(super) datagram: Vec<u8>,
    pub(super) client: Client,
}

/// Where a round is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The receive thread: only rounds that cost microseconds, as a MAB answer does.
    ReceiveThread,
    /// The worker pool: any round.
    Worker,
}

/// What the receive thread did with an EAP round.
pub(super) enum Here {
    /// The reply is in `out`.
    Answered,
    /// Nothing is sent (a stale or foreign packet, an unknown State, a reply that could
    /// not be built).
    Dropped,
    /// The round does TLS key exchange or a password hash: it goes to the worker pool,
    /// its conversation still in the table.
    ToWorker,
}

/// Answers an EAP round on the receive thread when it is cheap. Of a PEAP login's eight
/// rounds only two do TLS key exchange; the others handed to the pool cost two thread
/// wake-ups each, more than their work.
pub(super) fn answer_here(
    packet: &Packet,
    src: SocketAddr,
    client: &Client,
    shared: &AuthShared,
    directory: &Directory,
    out: &mut Vec<u8>,
) -> Here {
    match process(
        packet,
        src,
        client,
        shared,
        directory,
        Place::ReceiveThread,
        out,
    ) {
        Some(true) => Here::Answered,
        Some(false) => Here::Dropped,
        None => Here::ToWorker,
    }
}

/// The EAP round of `job` on the worker pool: its reply into `out`. `false`: nothing is
/// sent (a stale or foreign packet, an unknown State, a reply that could not be built).
pub(super) fn answer(job: &EapJob, shared: &AuthShared, out: &mut Vec<u8>) -> bool {
    let Ok(packet) = Packet::parse(&job.datagram) else {
        return false;
    };
    let directory = shared.directory.load();
    let place = Place::Worker;
    process(
        &packet,
        job.src,
        &job.client,
        shared,
        &directory,
        place,
        out,
    )
    .unwrap_or(false)
}

/// One EAP round: `Some(true)` with the reply in `out`, `Some(false)` when nothing is
/// sent, `None` when it is costly and `place` is the receive thread (nothing done).
fn process(
    packet: &Packet,
    src: SocketAddr,
    client: &Client,
    shared: &AuthShared,
    directory: &Directory,
    place: Place,
    out: &mut Vec<u8>,
) -> Option<bool> {
    let at = Instant::now();
    let Some(settings) = directory.eap.as_ref() else {
        debug!(client = %client.name, "EAP request, but [eap] is not configured: rejected");
        return Some(reject_without_conversation(packet, client, out).is_ok());
    };
    let values = packet
        .attributes()
        .filter(|a| a.typ == attr::EAP_MESSAGE)
        .map(|a| a.value);
    let eap = match eap_attr::join(values) {
        Ok(e) => e,
        Err(e) => {
            debug!(client = %client.name, error = %e, "unusable EAP-Message: dropped");
            return Some(false);
        }
    };
    let client_ip = src.ip();
    let (state, mut conversation) = match packet.get(attr::STATE) {
        None => {
            let mtu = packet.get_u32(attr::FRAMED_MTU);
            let fragment = max_eap_packet(DEFAULT_MAX_EAP_PACKET, mtu);
            let session = Session::new(settings.session.clone(), fragment, &mut rand::rng());
            let conversation = Conversation {
                session,
                method: None,
                started: at,
                checked: Checked::default(),
            };
            (None, conversation)
        }
        Some(value) => {
            let counters = &shared.counters.eap;
            let taken = State::from_bytes(value).map(|s| {
                let taken = match place {
                    Place::ReceiveThread => {
                        shared.eap.take_cheap(client_ip, &s, &eap, at, counters)
                    }
                    Place::Worker => shared
                        .eap
                        .take(client_ip, &s, at, counters)
                        .map_or(Taken::Missing, Taken::Cheap),
                };
                (s, taken)
            });
            match taken {
                Ok((s, Taken::Cheap(c))) => (Some(s), c),
                Ok((_, Taken::Costly)) => return None,
                _ => {
                    // Expired or never ours: the peer must start afresh, and says so at once.
                    debug!(
                        client = %client.name,
                        "EAP round with an unknown or expired State: rejected"
                    );
                    return Some(reject_without_conversation(packet, client, out).is_ok());
                }
            }
        }
    };
    if let Some(method) = responded_method(&eap) {
        conversation.method = Some(method);
    }
    let step = match conversation.session.receive(&eap) {
        Ok(step) => step,
        Err(e) => {
            // A stale or foreign packet: the conversation stays as it was.
            debug!(client = %client.name, error = %e, "EAP packet discarded");
            if state.is_some() {
                shared
                    .eap
                    .put(client_ip, state, conversation, at, &shared.counters.eap);
            }
            return Some(false);
        }
    };
    let checks = Checks {
        shared,
        client,
        src,
        directory,
        at,
    };
    let step = match checks.settle(step, &mut conversation) {
        Ok(step) => step,
        Err(e) => {
            debug!(client = %client.name, error = %e, "EAP conversation broken off");
            return Some(false);
        }
    };
    let round = Round {
        client,
        src,
        shared,
        packet,
        directory,
        at,
        started: conversation.started,
    };
    let answered = match step {
        Step::Send(request) => {
            let counters = &shared.counters.eap;
            let Some(state) = shared.eap.put(client_ip, state, conversation, at, counters) else {
                return Some(false);
            };
            counters.round_time.observe(at.elapsed());
            challenge(packet, client, &request, &state, out).is_ok()
        }
        Step::Done(Outcome::Success {
            identity,
            method,
            msk,
            eap,
        }) => round.success(&identity, method, &msk, &eap, out),
        Step::Done(Outcome::Failure { reason, eap }) => {
            round.failure(&conversation, &reason, &eap, out)
        }
        // `settle` answers every check.
        Step::Check(_) => false,
    };
    Some(answered)
}

/// The last round of a conversation, with what its answer needs.
struct Round<'a> {
    client: &'a Client,
    src: SocketAddr,
    shared: &'a AuthShared,
    packet: &'a Packet<'a>,
    directory: &'a Directory,
    at: Instant,
    /// When the conversation began.
    started: Instant,
}

impl Round<'_> {
    /// The method accepted `identity`: the policy decides; Access-Accept with EAP-Success,
    /// the MPPE keys and User-Name = `identity`, or Access-Reject with EAP-Failure.
    fn success(
        &self,
        identity: &str,
        method: Method,
        msk: &crate::eap::Msk,
        eap: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        let (client, packet) = (self.client, self.packet);
        let now = Timestamp::now();
        let login = policy::EapLogin {
            user: identity,
            calling_station_id: packet.get(attr::CALLING_STATION_ID),
            nas_port_type: packet.get_u32(attr::NAS_PORT_TYPE),
            client_module: client.module,
        };
        let (dir, label) = (self.directory, method_label(Some(method)));
        let decision =
            super::devices::decide_eap(self.shared, dir, &login, label, self.src.ip(), now);
        let accepted = matches!(decision.outcome, policy::Outcome::Accept { .. });
        let secret = &self.client.secret;
        let built = build_access_reply(packet, &decision, self.directory, secret, out, |b| {
            if accepted {
                b.attr(attr::USER_NAME, identity.as_bytes())?;
                add_eap(b, eap)?;
                let random = rand::random::<u16>();
                radius::add_msk(b, msk.as_bytes(), secret, packet.authenticator(), random)?;
            } else {
                add_eap(b, &failure_of(eap))?;
            }
            Ok::<(), EapReplyError>(())
        });
        if built.is_err() {
            return false;
        }
        self.finished(Some(method), &decision, now);
        debug!(
            client = %self.client.name,
            method = method_label(Some(method)),
            user = %identity,
            reason = decision.reason.code(),
            "EAP login decided"
        );
        true
    }

    /// The method ended the conversation: Access-Reject with its EAP-Failure.
    fn failure(
        &self,
        conversation: &Conversation,
        reason: &SessionError,
        eap: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        let now = Timestamp::now();
        let code = match reason {
            SessionError::Rejected if conversation.checked.paused_until.is_some() => {
                Reason::TooManyFailures
            }
            SessionError::Rejected => Reason::BadCredentials,
            _ => Reason::EapFailed,
        };
        let mut decision = failure_decision(self.packet, self.client, code);
        if let Some(user) = &conversation.checked.user {
            // As for PAP: a known account's failures are found by `hallpass log --user`.
            decision.user = known_account(self.directory, user.as_bytes());
        }
        if let Some(until) = conversation.checked.paused_until {
            decision.until = Some(wall_time(now, Instant::now(), until));
        }
        let secret = &self.client.secret;
        let built = build_access_reply(self.packet, &decision, self.directory, secret, out, |b| {
            add_eap(b, eap)?;
            Ok::<(), EapReplyError>(())
        });
        if built.is_err() {
            return false;
        }
        self.finished(conversation.method, &decision, now);
        debug!(
            client = %self.client.name,
            method = method_label(conversation.method),
            outer = conversation.session.outer_identity().unwrap_or(""),
            error = %reason,
            "EAP login failed"
        );
        true
    }

    /// Counts and logs a conversation's end.
    fn finished(&self, method: Option<Method>, decision: &Decision, now: Timestamp) {
        let counters = &self.shared.counters.eap;
        counters.count(method, decision.reason);
        counters.round_time.observe(self.at.elapsed());
        // A conversation that ended before the peer took a method up had no handshake.
        if let Some(m) = method {
            counters.handshake(m).observe(self.started.elapsed());
        }
        let label = Some(method_label(method));
        record(
            self.shared,
            self.client,
            self.src.ip(),
            decision,
            now,
            label,
        );
    }
}

/// What the credential checks of a round need.
struct Checks<'a> {
    shared: &'a AuthShared,
    client: &'a Client,
    src: SocketAddr,
    directory: &'a Directory,
    at: Instant,
}

impl Checks<'_> {
    /// Answers the method's credential checks until it has something to send or is done.
    fn settle(
        &self,
        mut step: Step,
        conversation: &mut Conversation,
    ) -> Result<Step, SessionError> {
        loop {
            match step {
                Step::Check(check) => {
                    let verdict = self.verdict(&check, &mut conversation.checked);
                    step = conversation.session.answer(verdict)?;
                }
                other => return Ok(other),
            }
        }
    }

    /// The verdict on one credential check. A password check (TTLS/PAP, MSCHAPv2) of a
    /// name the client pauses for is rejected without running; each one that runs is
    /// counted as PAP's are.
    fn verdict(&self, check: &CredentialCheck, checked: &mut Checked) -> Verdict {
        let dir = self.directory;
        let user = match check {
            CredentialCheck::Password { user, .. } => user.as_str(),
            CredentialCheck::MsChapV2(c) => c.user.as_str(),
            CredentialCheck::Certificate { user, .. } => {
                return if dir.user(user).is_some() {
                    Verdict::Accept
                } else {
                    Verdict::Reject
                };
            }
        };
        let (shared, client) = (self.shared, self.client);
        if let Some(until) = login_paused(shared, client, user.as_bytes(), self.at) {
            shared.counters.inc(&shared.counters.login_paused);
            checked.user = Some(user.to_string());
            checked.paused_until = Some(until);
            return Verdict::Reject;
        }
        let verdict = match check {
            CredentialCheck::Password { user, password } => {
                if policy::eap_password_ok(dir, user, password) {
                    Verdict::Accept
                } else {
                    Verdict::Reject
                }
            }
            CredentialCheck::MsChapV2(c) => {
                let hash = dir
                    .user(&c.user)
                    .and_then(|u| u.nt_hash.as_ref())
                    .map(mschapv2::NtHash::as_bytes);
                c.verdict(hash, &mschapv2::Rfc2759)
            }
            CredentialCheck::Certificate { .. } => Verdict::Reject,
        };
        if !matches!(verdict, Verdict::Reject) {
            login_succeeded(shared, client, user.as_bytes());
        } else {
            login_failed(shared, client, self.src.ip(), user.as_bytes(), self.at);
            checked.user = Some(user.to_string());
        }
        verdict
    }
}

/// The method a Response of the peer carries (Code 2, Type at octet 4).
fn responded_method(eap: &[u8]) -> Option<Method> {
    match eap {
        [2, _, _, _, kind, ..] => Method::from_eap_type(EapType::from_u8(*kind)),
        _ => None,
    }
}

fn method_label(method: Option<Method>) -> &'static str {
    match method {
        Some(Method::Peap) => "peap",
        Some(Method::Ttls) => "ttls",
        Some(Method::Tls) => "tls",
        None => "none",
    }
}

/// The EAP-Failure with the identifier of the EAP-Success the method made.
fn failure_of(success: &[u8]) -> [u8; 4] {
    [4, success.get(1).copied().unwrap_or(0), 0, 4]
}

fn add_eap(b: &mut PacketBuilder<'_>, eap: &[u8]) -> Result<(), EapReplyError> {
    for chunk in eap_attr::split(eap)? {
        b.attr(attr::EAP_MESSAGE, chunk)?;
    }
    Ok(())
}

/// The log's decision for a conversation the method ended: nobody's name (as for a wrong
/// PAP password), the device from the Calling-Station-Id.
fn failure_decision(packet: &Packet, client: &Client, reason: Reason) -> Decision {
    let request = policy::AccessRequest {
        user_name: &[],
        password: None,
        calling_station_id: packet.get(attr::CALLING_STATION_ID),
        nas_port_type: packet.get_u32(attr::NAS_PORT_TYPE),
        client_module: client.module,
    };
    Decision {
        outcome: policy::Outcome::Reject,
        reason,
        module: policy::module_of(&request),
        mac: request
            .calling_station_id
            .and_then(crate::model::MacAddr::parse_bytes),
        user: None,
        until: None,
        all_modules: false,
        schedule: None,
    }
}

/// Access-Challenge: Message-Authenticator first, the EAP Request, the State.
fn challenge(
    request: &Packet,
    client: &Client,
    eap: &[u8],
    state: &State,
    out: &mut Vec<u8>,
) -> Result<(), EapReplyError> {
    let mut b = PacketBuilder::new(out, Code::AccessChallenge, request.identifier());
    b.message_authenticator();
    add_eap(&mut b, eap)?;
    b.attr(attr::STATE, state.as_bytes())?;
    copy_proxy_state(request, &mut b)?;
    b.finish_reply(request.authenticator(), &client.secret)?;
    Ok(())
}

/// Access-Reject with an EAP-Failure for an EAP request hallpass has no conversation for.
fn reject_without_conversation(
    request: &Packet,
    client: &Client,
    out: &mut Vec<u8>,
) -> Result<(), EapReplyError> {
    let id = request
        .get(attr::EAP_MESSAGE)
        .and_then(|m| m.get(1).copied())
        .unwrap_or(0);
    let mut b = PacketBuilder::new(out, Code::AccessReject, request.identifier());
    b.message_authenticator();
    b.attr(attr::EAP_MESSAGE, &[4, id, 0, 4])?;
    copy_proxy_state(request, &mut b)?;
    b.finish_reply(request.authenticator(), &client.secret)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn results_count_by_method_and_reason() {
        let c = EapCounters::default();
        c.count(Some(Method::Peap), Reason::Accepted);
        c.count(Some(Method::Peap), Reason::Accepted);
        c.count(None, Reason::EapFailed);
        let r = c.results();
        assert!(r.contains(&("peap", "accepted", 2)));
        assert!(r.contains(&("none", "eap_failed", 1)));
        assert!(r.contains(&("tls", "banned", 0)));
        assert_eq!(r.len(), 4 * Reason::ALL.len());
    }

    fn conversation() -> Conversation {
        let settings = Arc::new(crate::eap::Settings {
            methods: vec![Method::Ttls],
            tunnel: None,
            client_auth: None,
            max_message: 65_536,
            server_name: "hallpass".into(),
        });
        Conversation {
            session: Session::new(settings, 1000, &mut rand::rng()),
            method: None,
            started: Instant::now(),
            checked: Checked::default(),
        }
    }

    #[test]
    fn the_table_is_bounded_and_idle_conversations_go() {
        let c = EapCounters::default();
        let t = Conversations::new(2).unwrap();
        let ap: IpAddr = "10.0.0.2".parse().unwrap();
        let other: IpAddr = "10.0.0.3".parse().unwrap();
        let at = Instant::now();
        let first = t.put(ap, None, conversation(), at, &c).unwrap();
        let second = t.put(ap, None, conversation(), at, &c).unwrap();
        assert_eq!(c.in_flight.load(Ordering::Relaxed), 2);
        // A third evicts the least recently active: the first.
        let third = t.put(ap, None, conversation(), at, &c).unwrap();
        assert_eq!(c.expired.load(Ordering::Relaxed), 1);
        assert!(t.take(ap, &first, at, &c).is_none());
        // Another client's State finds nothing; the owner's is taken out and put back.
        assert!(t.take(other, &second, at, &c).is_none());
        let taken = t.take(ap, &second, at, &c).unwrap();
        assert_eq!(t.put(ap, Some(second), taken, at, &c), Some(second));
        // Idle for 30 s: gone at the next look, and the timer's next wake-up is bounded.
        let later = at + DEFAULT_IDLE_TIMEOUT + Duration::from_secs(1);
        assert!(t.expire(later, &c) <= later + IDLE_POLL);
        assert_eq!(c.in_flight.load(Ordering::Relaxed), 0);
        assert!(t.take(ap, &third, later, &c).is_none());
        assert!(Conversations::new(0).is_err());
    }

    #[test]
    fn the_method_comes_from_the_peer_s_response() {
        assert_eq!(responded_method(&[2, 1, 0, 6, 25, 0]), Some(Method::Peap));
        assert_eq!(responded_method(&[2, 1, 0, 6, 1, 0]), None);
        assert_eq!(responded_method(&[1, 1, 0, 6, 13, 0]), None);
        assert_eq!(failure_of(&[3, 9, 0, 4]), [4, 9, 0, 4]);
    }
}
