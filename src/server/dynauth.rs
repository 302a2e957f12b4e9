//! The dynamic-authorization client (RFC 5176): sends Disconnect-Requests to a NAS so that a
//! ban takes effect at once instead of at the next re-authentication. One UDP socket per
//! address family; replies are matched by identifier and checked (Response Authenticator
//! and Message-Authenticator) before they count. Three tries with backoff, then the request
//! is recorded as timed out. Anyone can send to the sockets: every line a reply causes is
//! rate-limited.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tracing::{debug, info};

use super::RateLimitedLog;
use crate::radius::{self, Code, Packet, PacketBuilder, SharedSecret, attr};

#[derive(Debug, thiserror::Error)]
pub enum DynAuthError {
    #[error("cannot open the dynamic-authorization socket: {0}")]
    Socket(#[from] std::io::Error),
    #[error("cannot encode the Disconnect-Request: {0}")]
    Encode(#[from] radius::RadiusError),
    #[error("all 256 identifiers towards {0} are in use")]
    NoIdentifier(SocketAddr),
}

/// What a Disconnect-Request says.
#[derive(Clone, Debug)]
pub struct DisconnectTarget {
    pub nas: SocketAddr,
    pub secret: SharedSecret,
    pub acct_session_id: String,
    pub user_name: Option<String>,
    pub calling_station_id: Option<String>,
    pub nas_ip: Option<IpAddr>,
}

/// How a Disconnect-Request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectOutcome {
    Ack,
    /// Disconnect-NAK with its Error-Cause (RFC 5176 3.5), if any.
    Nak(Option<u32>),
    Timeout,
}

impl DisconnectOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectOutcome::Ack => "ack",
            DisconnectOutcome::Nak(_) => "nak",
            DisconnectOutcome::Timeout => "timeout",
        }
    }
}

/// Waiting requests, by (NAS, identifier).
type Pending = Mutex<HashMap<(SocketAddr, u8), PendingRequest>>;

struct PendingRequest {
    authenticator: [u8; 16],
    secret: SharedSecret,
    reply: Option<oneshot::Sender<DisconnectOutcome>>,
}

/// The client. Cheap to share (`Arc`).
pub struct DynAuthClient {
    v4: Arc<UdpSocket>,
    v6: Option<Arc<UdpSocket>>,
    pending: Arc<Pending>,
    next_id: Mutex<u8>,
    /// The wait before the first retry; doubled for each further try.
    pub first_timeout: Duration,
    pub tries: u32,
}

impl DynAuthClient {
    /// Opens the sockets and starts their receive tasks (on the current tokio runtime).
    pub async fn open() -> Result<Arc<DynAuthClient>, DynAuthError> {
        let v4 = Arc::new(UdpSocket::bind("0.0.0.0:0").await?);
        // IPv6 may be disabled on a school server; then only IPv4 NAS can be reached.
        let v6 = UdpSocket::bind("[::]:0").await.ok().map(Arc::new);
        let pending: Arc<Pending> = Arc::default();
        let log = Arc::new(RateLimitedLog::new(LOG_INTERVAL));
        tokio::spawn(receive(v4.clone(), pending.clone(), log.clone()));
        if let Some(v6) = &v6 {
            tokio::spawn(receive(v6.clone(), pending.clone(), log));
        }
        Ok(Arc::new(DynAuthClient {
            v4,
            v6,
            pending,
            next_id: Mutex::new(0),
            first_timeout: Duration::from_secs(1),
            tries: 3,
        }))
    }

    /// Sends a Disconnect-Request and waits for its outcome (tries with backoff).
    /// Returns the outcome and the number of tries made.
    pub async fn disconnect(
        &self,
        target: &DisconnectTarget,
    ) -> Result<(DisconnectOutcome, u32), DynAuthError> {
        let socket = match (target.nas.ip(), &self.v6) {
            (IpAddr::V4(_), _) => self.v4.clone(),
            (IpAddr::V6(_), Some(v6)) => v6.clone(),
            (IpAddr::V6(_), None) => {
                return Err(DynAuthError::Socket(std::io::Error::other(
                    "IPv6 is not available on this host",
                )));
            }
        };
        let id = self.allocate_id(target.nas)?;
        let mut packet = Vec::with_capacity(256);
        let result = async {
            let mut b = PacketBuilder::new(&mut packet, Code::DisconnectRequest, id);
            b.message_authenticator();
            b.attr(attr::ACCT_SESSION_ID, target.acct_session_id.as_bytes())?;
            if let Some(u) = &target.user_name {
                b.attr(attr::USER_NAME, u.as_bytes())?;
            }
            if let Some(c) = &target.calling_station_id {
                b.attr(attr::CALLING_STATION_ID, c.as_bytes())?;
            }
            match target.nas_ip {
                Some(IpAddr::V4(v4)) => {
                    b.attr(attr::NAS_IP_ADDRESS, &v4.octets())?;
                }
                Some(IpAddr::V6(v6)) => {
                    b.attr(95, &v6.octets())?;
                }
                None => {}
            }
            b.finish_computed_request(&target.secret)?;
            let mut authenticator = [0u8; 16];
            if let Some(a) = packet.get(4..20) {
                authenticator.copy_from_slice(a);
            }
            let (tx, mut rx) = oneshot::channel();
            if let Ok(mut p) = self.pending.lock() {
                p.insert(
                    (target.nas, id),
                    PendingRequest {
                        authenticator,
                        secret: target.secret.clone(),
                        reply: Some(tx),
                    },
                );
            }
            let mut wait = self.first_timeout;
            for attempt in 1..=self.tries {
                if let Err(e) = socket.send_to(&packet, target.nas).await {
                    debug!(error = %e, nas = %target.nas, "Disconnect-Request not sent");
                }
                match tokio::time::timeout(wait, &mut rx).await {
                    Ok(Ok(outcome)) => return Ok((outcome, attempt)),
                    Ok(Err(_)) => break,
                    Err(_) => wait *= 2,
                }
            }
            Ok((DisconnectOutcome::Timeout, self.tries))
        }
        .await;
        if let Ok(mut p) = self.pending.lock() {
            p.remove(&(target.nas, id));
        }
        result
    }

    fn allocate_id(&self, nas: SocketAddr) -> Result<u8, DynAuthError> {
        let pending = self
            .pending
            .lock()
            .map_err(|_| DynAuthError::NoIdentifier(nas))?;
        let mut next = self
            .next_id
            .lock()
            .map_err(|_| DynAuthError::NoIdentifier(nas))?;
        for _ in 0..256 {
            let id = *next;
            *next = next.wrapping_add(1);
            if !pending.contains_key(&(nas, id)) {
                return Ok(id);
            }
        }
        Err(DynAuthError::NoIdentifier(nas))
    }
}

/// The interval of the rate limit on lines about replies.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Reads ACKs and NAKs, checks them against the waiting request, and wakes it.
async fn receive(socket: Arc<UdpSocket>, pending: Arc<Pending>, log: Arc<RateLimitedLog>) {
    let mut buf = vec![0u8; radius::MAX_PACKET_LEN];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                debug!(error = %e, "dynamic-authorization receive error");
                continue;
            }
        };
        let Some(bytes) = buf.get(..n) else { continue };
        let Ok(p) = Packet::parse(bytes) else {
            log.warn(
                "dynauth_malformed",
                from.ip(),
                format_args!("malformed reply to a Disconnect-Request from {from}: ignored"),
            );
            continue;
        };
        let outcome = match p.code() {
            Code::DisconnectAck => DisconnectOutcome::Ack,
            Code::DisconnectNak => DisconnectOutcome::Nak(p.get_u32(attr::ERROR_CAUSE)),
            other => {
                log.warn(
                    "dynauth_unexpected",
                    from.ip(),
                    format_args!(
                        "unexpected {other} from {from} on the dynamic-authorization socket: \
                         ignored"
                    ),
                );
                continue;
            }
        };
        let Ok(mut map) = pending.lock() else {
            continue;
        };
        let Some(req) = map.get_mut(&(from, p.identifier())) else {
            log.debug(
                "dynauth_unmatched",
                from.ip(),
                format_args!(
                    "reply from {from} to no waiting Disconnect-Request (late or duplicate)"
                ),
            );
            continue;
        };
        let authentic = radius::verify_response_authenticator(&p, &req.authenticator, &req.secret)
            && radius::verify_message_authenticator(&p, &req.secret, Some(&req.authenticator))
                .is_ok();
        if !authentic {
            log.warn(
                "dynauth_forged",
                from.ip(),
                format_args!(
                    "reply from {from} to a Disconnect-Request failed authentication: ignored"
                ),
            );
            continue;
        }
        if let Some(tx) = req.reply.take() {
            info!(nas = %from, outcome = outcome.as_str(), "Disconnect reply");
            let _ = tx.send(outcome);
        }
    }
}
