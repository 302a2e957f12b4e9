//! One EAP conversation as a sans-I/O state machine: EAP-Response packets in, EAP-Request
//! packets (for Access-Challenges), credential checks for the caller, and finally an
//! outcome with the MSK.
//!
//! The flow: EAP-Start (an empty EAP-Message) → Identity Request; Identity Response → the
//! first configured method is proposed (its Start); a Nak → the next configured method the
//! peer asks for, or Failure. Then the TLS handshake in fragments, and per method:
//! - EAP-TLS (RFC 5216, RFC 9190): the verified client certificate names the user → check
//!   → the server's last flight (TLS 1.3: with the one-octet commitment message) → the
//!   peer's acknowledgement → Success.
//! - PEAPv0 ([MS-PEAP]): the peer acknowledges the server's Finished → inner Identity →
//!   MSCHAPv2 Challenge → Response → check → MSCHAPv2 Success (the authenticator response)
//!   → the peer's Success Response → Result TLV → the peer's Result TLV → Success. A
//!   rejected check sends a failure Result TLV, then Failure.
//! - EAP-TTLS (RFC 5281) with PAP: the peer's AVPs (User-Name, User-Password) → check →
//!   Success or Failure.
//!
//! What it must not do: read the clock (time-outs belong to the conversation table), do
//! I/O, or check credentials itself: it asks with [`Step::Check`] and waits for
//! [`Session::answer`].

use std::sync::Arc;

use rustls::ServerConfig;
use thiserror::Error;
use zeroize::Zeroizing;

use super::Method;
use super::fragment::{self, FLAG_START, Frame, Outgoing, Progress, Reassembly};
use super::packet::{EapPacket, EapType, Message, parse_nak};
use super::peap::{self, MsChapV2Check, PeapError};
use super::tls::{Msk, TlsError, TlsSession, TlsVersion};
use super::ttls::{self, TtlsError};
use super::x509::{self, X509Error};

/// The most Requests one conversation sends before it fails: a full PEAP authentication
/// with 1000-octet fragments takes about a dozen.
pub const MAX_ROUNDS: u32 = 50;

/// Why a conversation failed, or why one response was discarded (see [`Session::receive`]).
#[derive(Debug, Error)]
pub enum SessionError {
    #[error("undecodable EAP packet: {0}")]
    Packet(#[from] super::packet::PacketError),
    #[error("not an EAP Response")]
    NotAResponse,
    #[error("EAP identifier {got}, the pending request has {expected}")]
    WrongId { got: u8, expected: u8 },
    #[error("the conversation is waiting for a credential check")]
    AwaitingVerdict,
    #[error("no credential check is pending")]
    NoCheckPending,
    #[error("the conversation is over")]
    Finished,
    #[error("the peer wants none of the offered methods")]
    NoCommonMethod,
    #[error("EAP type {0} where {1} was expected")]
    UnexpectedType(u8, u8),
    #[error("identity of {0} octets, or not UTF-8")]
    BadIdentity(usize),
    #[error("method not configured")]
    MethodNotConfigured,
    #[error("no EAP method offered")]
    NoMethods,
    #[error("fragments: {0}")]
    Fragment(#[from] fragment::FragmentError),
    #[error("{0}")]
    Tls(#[from] TlsError),
    #[error("PEAP: {0}")]
    Peap(#[from] PeapError),
    #[error("TTLS: {0}")]
    Ttls(#[from] TtlsError),
    #[error("client certificate: {0}")]
    Certificate(#[from] X509Error),
    #[error("unexpected message in this state")]
    OutOfOrder,
    #[error("credentials rejected")]
    Rejected,
    #[error("the verdict does not fit the check (MSCHAPv2 needs the authenticator response)")]
    WrongVerdict,
    #[error("the peer ended the inner authentication")]
    PeerFailed,
    #[error("more than {MAX_ROUNDS} rounds")]
    TooManyRounds,
}

/// What every session of one server shares.
#[derive(Debug)]
pub struct Settings {
    /// Offered methods; the first is proposed after the identity.
    pub methods: Vec<Method>,
    /// TLS without client certificates, for PEAP and TTLS.
    pub tunnel: Option<Arc<ServerConfig>>,
    /// TLS requiring a client certificate from the configured CA, for EAP-TLS.
    pub client_auth: Option<Arc<ServerConfig>>,
    /// The largest TLS message accepted from a peer.
    pub max_message: usize,
    /// The Name in the MSCHAPv2 Challenge.
    pub server_name: String,
}

impl Settings {
    /// Settings with the default bounds; refused when no method is offered or an offered
    /// method lacks its TLS configuration (EAP-TLS needs `client_auth`, PEAP and TTLS need
    /// `tunnel`).
    pub fn new(
        methods: Vec<Method>,
        tunnel: Option<Arc<ServerConfig>>,
        client_auth: Option<Arc<ServerConfig>>,
    ) -> Result<Self, SessionError> {
        if methods.is_empty() {
            return Err(SessionError::NoMethods);
        }
        for method in &methods {
            let config = match method {
                Method::Tls => &client_auth,
                Method::Peap | Method::Ttls => &tunnel,
            };
            if config.is_none() {
                return Err(SessionError::MethodNotConfigured);
            }
        }
        Ok(Self {
            methods,
            tunnel,
            client_auth,
            max_message: fragment::DEFAULT_MAX_MESSAGE,
            server_name: "hallpass".to_string(),
        })
    }
}

/// The caller's answer to a [`CredentialCheck`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Password or certificate identity accepted.
    Accept,
    /// MSCHAPv2 response accepted, with GenerateAuthenticatorResponse's 20 octets.
    AcceptMsChapV2 {
        authenticator_response: [u8; 20],
    },
    Reject,
}

/// What the caller must check before the conversation can go on.
#[derive(Debug)]
pub enum CredentialCheck {
    /// TTLS/PAP: the user's password.
    Password {
        user: String,
        password: Zeroizing<Vec<u8>>,
    },
    /// PEAP: the MSCHAPv2 response; see [`MsChapV2Check::verdict`].
    MsChapV2(MsChapV2Check),
    /// EAP-TLS: the user the verified client certificate names (is the account usable?).
    Certificate {
        user: String,
        source: x509::NameSource,
    },
}

/// How a conversation ended.
#[derive(Debug)]
pub enum Outcome {
    /// `eap` is the EAP-Success for the Access-Accept, with the MPPE keys from `msk`.
    Success {
        identity: String,
        method: Method,
        msk: Msk,
        eap: Vec<u8>,
    },
    /// `eap` is the EAP-Failure for the Access-Reject.
    Failure { reason: SessionError, eap: Vec<u8> },
}

/// What the caller does next.
#[derive(Debug)]
pub enum Step {
    /// Send this EAP Request in an Access-Challenge (split with [`super::attr::split`]).
    Send(Vec<u8>),
    /// Check these credentials, then call [`Session::answer`].
    Check(CredentialCheck),
    /// The conversation is over; drop it from the table.
    Done(Outcome),
}

#[derive(Debug)]
enum PeapStage {
    Identity,
    Challenge { user: String },
    Checking { user: String },
    SuccessSent { user: String },
    ResultSent { user: String, success: bool },
}

#[derive(Debug)]
enum Stage {
    Handshake,
    /// PEAP: the server's last handshake flight is out; the acknowledgement starts phase 2.
    Finishing,
    /// EAP-TLS: the last flight waits for the verdict on the certificate.
    CertificateCheck {
        flight: Vec<u8>,
        user: String,
    },
    /// EAP-TLS: the last flight is out; its acknowledgement ends the conversation.
    Committed {
        user: String,
    },
    Peap(PeapStage),
    /// TTLS: waiting for the AVPs; `nudged` after one empty request invited them.
    TtlsAvps {
        nudged: bool,
    },
    TtlsChecking {
        user: String,
    },
    /// A TLS alert is out; whatever the peer answers, the conversation fails.
    AlertSent {
        reason: SessionError,
    },
}

#[derive(Debug)]
struct Tunnel {
    method: Method,
    tls: TlsSession,
    reassembly: Reassembly,
    outgoing: Outgoing,
    stage: Stage,
}

#[derive(Debug)]
enum Phase {
    Start,
    IdentityRequested,
    Proposed { method: Method, tried: Vec<Method> },
    Tunnel(Box<Tunnel>),
    Done,
}

/// One conversation.
#[derive(Debug)]
pub struct Session {
    settings: Arc<Settings>,
    max_eap_packet: usize,
    challenge: [u8; 16],
    identity: Option<String>,
    id: u8,
    rounds: u32,
    phase: Phase,
}

impl Session {
    /// A new conversation; `max_eap_packet` from [`fragment::max_eap_packet`].
    pub fn new(
        settings: Arc<Settings>,
        max_eap_packet: usize,
        rng: &mut impl rand::CryptoRng,
    ) -> Self {
        let mut challenge = [0u8; 16];
        rng.fill_bytes(&mut challenge);
        Self {
            settings,
            max_eap_packet,
            challenge,
            identity: None,
            id: 0,
            rounds: 0,
            phase: Phase::Start,
        }
    }

    /// The outer identity the peer gave (often anonymous), once known.
    pub fn outer_identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// Whether handling `eap` may take long: a handshake message from the peer (key
    /// exchange, signatures, certificate checks) or TTLS's AVPs (the password hash). Every
    /// other round — identities, acknowledgements, the next fragment, the tunnelled
    /// MSCHAPv2 exchange checked against the stored NT hash, the last answer — takes
    /// microseconds, so the server answers those where MAB is answered.
    pub fn is_costly(&self, eap: &[u8]) -> bool {
        let kind = match eap {
            [2, _, _, _, kind, ..] => EapType::from_u8(*kind),
            _ => return false,
        };
        match &self.phase {
            Phase::Start | Phase::IdentityRequested | Phase::Done => false,
            // The method's first response carries the ClientHello; a Nak is cheap.
            Phase::Proposed { method, .. } => kind == method.eap_type(),
            Phase::Tunnel(t) => {
                let Some(frame) = eap.get(5..).and_then(|d| Frame::parse(d).ok()) else {
                    return false;
                };
                // An acknowledgement, or a fragment before the last of the peer's message.
                if t.outgoing.pending() || frame.more() || frame.payload.is_empty() {
                    return false;
                }
                matches!(t.stage, Stage::Handshake | Stage::TtlsAvps { .. })
            }
        }
    }

    /// Handles the EAP packet of one Access-Request (joined with [`super::attr::join`]).
    /// `Err` means the packet was discarded and the conversation is unchanged (a stale or
    /// foreign packet); every failure of the conversation itself is a `Step::Done`.
    pub fn receive(&mut self, eap: &[u8]) -> Result<Step, SessionError> {
        if matches!(self.phase, Phase::Done) {
            return Err(SessionError::Finished);
        }
        if eap.is_empty() {
            return match self.phase {
                Phase::Start => {
                    self.phase = Phase::IdentityRequested;
                    Ok(self.send(EapType::Identity, Vec::new()))
                }
                _ => Err(SessionError::OutOfOrder),
            };
        }
        let message = match EapPacket::decode(eap)? {
            EapPacket::Response(m) => m,
            _ => return Err(SessionError::NotAResponse),
        };
        let first_identity =
            matches!(self.phase, Phase::Start) && message.kind == EapType::Identity;
        if !first_identity && message.id != self.id {
            return Err(SessionError::WrongId {
                got: message.id,
                expected: self.id,
            });
        }
        if let Phase::Tunnel(t) = &self.phase
            && matches!(
                t.stage,
                Stage::CertificateCheck { .. }
                    | Stage::TtlsChecking { .. }
                    | Stage::Peap(PeapStage::Checking { .. })
            )
        {
            return Err(SessionError::AwaitingVerdict);
        }
        if first_identity {
            self.id = message.id;
        }
        Ok(self
            .step(message)
            .unwrap_or_else(|reason| self.fail(reason)))
    }

    /// The caller's verdict on the pending [`Step::Check`].
    pub fn answer(&mut self, verdict: Verdict) -> Result<Step, SessionError> {
        let Phase::Tunnel(tunnel) = &mut self.phase else {
            return Err(SessionError::NoCheckPending);
        };
        let stage = std::mem::replace(&mut tunnel.stage, Stage::Handshake);
        let next_id = self.id.wrapping_add(1);
        let step = match (stage, verdict) {
            (Stage::CertificateCheck { flight, user }, Verdict::Accept) => {
                self.commit_tls(flight, user)
            }
            (
                Stage::Peap(PeapStage::Checking { user }),
                Verdict::AcceptMsChapV2 {
                    authenticator_response,
                },
            ) => {
                tunnel.stage = Stage::Peap(PeapStage::SuccessSent { user });
                self.send_inner(&peap::success_request(next_id, &authenticator_response))
            }
            (Stage::Peap(PeapStage::Checking { user }), Verdict::Reject) => {
                // [MS-PEAP] 3.2.5.8: a failed inner method ends with a failure Result TLV.
                tunnel.stage = Stage::Peap(PeapStage::ResultSent {
                    user,
                    success: false,
                });
                self.send_inner(&peap::result_request(next_id, false))
            }
            (Stage::TtlsChecking { user }, Verdict::Accept) => Ok(self.succeed(user)),
            (Stage::CertificateCheck { .. } | Stage::TtlsChecking { .. }, Verdict::Reject) => {
                Err(SessionError::Rejected)
            }
            (
                Stage::CertificateCheck { .. }
                | Stage::TtlsChecking { .. }
                | Stage::Peap(PeapStage::Checking { .. }),
                _,
            ) => Err(SessionError::WrongVerdict),
            (other, _) => {
                tunnel.stage = other;
                return Err(SessionError::NoCheckPending);
            }
        };
        Ok(step.unwrap_or_else(|reason| self.fail(reason)))
    }

    /// EAP-TLS accepted: the server's last flight goes out, in TLS 1.3 with the commitment
    /// message (RFC 9190 section 2.5); the peer's acknowledgement then ends in Success.
    fn commit_tls(&mut self, mut flight: Vec<u8>, user: String) -> Result<Step, SessionError> {
        let t = self.tunnel()?;
        if t.tls.version() == Some(TlsVersion::V1_3) {
            t.tls.send_plaintext(&[0])?;
            flight.extend_from_slice(&t.tls.take_outgoing()?);
        }
        if flight.is_empty() {
            return Ok(self.succeed(user));
        }
        t.stage = Stage::Committed { user };
        Ok(self.send_tls(flight))
    }

    fn step(&mut self, message: Message) -> Result<Step, SessionError> {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Start | Phase::IdentityRequested => {
                if message.kind != EapType::Identity {
                    return Err(unexpected(message.kind, EapType::Identity));
                }
                let identity = String::from_utf8(message.data)
                    .map_err(|e| SessionError::BadIdentity(e.as_bytes().len()))?;
                self.identity = Some(identity);
                let first = *self
                    .settings
                    .methods
                    .first()
                    .ok_or(SessionError::NoCommonMethod)?;
                Ok(self.propose(first, vec![first]))
            }
            Phase::Proposed { method, mut tried } => match message.kind {
                EapType::Nak => {
                    let wanted = parse_nak(&message.data);
                    let next = self
                        .settings
                        .methods
                        .iter()
                        .copied()
                        .find(|m| !tried.contains(m) && wanted.contains(&m.eap_type()));
                    let next = next.ok_or(SessionError::NoCommonMethod)?;
                    tried.push(next);
                    Ok(self.propose(next, tried))
                }
                kind if kind == method.eap_type() => {
                    let config = match method {
                        Method::Tls => self.settings.client_auth.clone(),
                        Method::Peap | Method::Ttls => self.settings.tunnel.clone(),
                    };
                    let config = config.ok_or(SessionError::MethodNotConfigured)?;
                    let tunnel = Tunnel {
                        method,
                        tls: TlsSession::new(config)?,
                        reassembly: Reassembly::new(self.settings.max_message),
                        outgoing: Outgoing::default(),
                        stage: Stage::Handshake,
                    };
                    self.phase = Phase::Tunnel(Box::new(tunnel));
                    self.tunnel_step(&message.data)
                }
                kind => Err(unexpected(kind, method.eap_type())),
            },
            Phase::Tunnel(tunnel) => {
                let expected = tunnel.method.eap_type();
                self.phase = Phase::Tunnel(tunnel);
                if message.kind != expected {
                    return Err(unexpected(message.kind, expected));
                }
                self.tunnel_step(&message.data)
            }
            Phase::Done => Err(SessionError::Finished),
        }
    }

    fn propose(&mut self, method: Method, tried: Vec<Method>) -> Step {
        self.phase = Phase::Proposed { method, tried };
        self.send(method.eap_type(), vec![FLAG_START])
    }

    fn tunnel(&mut self) -> Result<&mut Tunnel, SessionError> {
        match &mut self.phase {
            Phase::Tunnel(t) => Ok(t),
            _ => Err(SessionError::OutOfOrder),
        }
    }

    fn tunnel_step(&mut self, data: &[u8]) -> Result<Step, SessionError> {
        let frame = Frame::parse(data)?;
        let max = self.max_eap_packet;
        let t = self.tunnel()?;
        if t.outgoing.pending() {
            if !frame.is_ack() {
                return Err(SessionError::OutOfOrder);
            }
            let fragment = t.outgoing.next_fragment(0, max);
            let kind = t.method.eap_type();
            return Ok(self.send(kind, fragment));
        }
        match t.reassembly.push(&frame)? {
            Progress::More => {
                let kind = t.method.eap_type();
                Ok(self.send(kind, vec![0]))
            }
            Progress::Complete(records) => self.on_records(&records),
        }
    }

    /// One whole TLS message from the peer (empty: an acknowledgement).
    fn on_records(&mut self, records: &[u8]) -> Result<Step, SessionError> {
        let t = self.tunnel()?;
        if let Stage::AlertSent { .. } = t.stage {
            let Stage::AlertSent { reason } = std::mem::replace(&mut t.stage, Stage::Handshake)
            else {
                return Err(SessionError::OutOfOrder);
            };
            return Err(reason);
        }
        if !records.is_empty()
            && let Err(e) = t.tls.receive(records)
        {
            // The peer learns why from the TLS alert (as hostapd does); its answer to
            // that request ends the conversation.
            let alert = t.tls.take_outgoing().unwrap_or_default();
            if alert.is_empty() {
                return Err(e.into());
            }
            t.stage = Stage::AlertSent { reason: e.into() };
            return Ok(self.send_tls(alert));
        }
        let stage = std::mem::replace(&mut t.stage, Stage::Handshake);
        match stage {
            Stage::Handshake => {
                let flight = t.tls.take_outgoing()?;
                if !t.tls.handshake_done() {
                    return if flight.is_empty() {
                        Err(SessionError::OutOfOrder)
                    } else {
                        Ok(self.send_tls(flight))
                    };
                }
                self.handshake_done(flight)
            }
            Stage::Finishing if records.is_empty() => {
                t.stage = Stage::Peap(PeapStage::Identity);
                self.send_inner(&peap::identity_request())
            }
            Stage::Committed { user } if records.is_empty() => Ok(self.succeed(user)),
            Stage::Peap(stage) => {
                let plaintext = t.tls.take_plaintext();
                self.peap_step(stage, &plaintext)
            }
            Stage::TtlsAvps { nudged } => {
                let plaintext = t.tls.take_plaintext();
                self.ttls_step(nudged, &plaintext)
            }
            _ => Err(SessionError::OutOfOrder),
        }
    }

    fn handshake_done(&mut self, flight: Vec<u8>) -> Result<Step, SessionError> {
        let t = self.tunnel()?;
        match t.method {
            Method::Tls => {
                let leaf = t
                    .tls
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .ok_or(X509Error::NoName)?;
                let (user, source) = x509::user_name(leaf)?;
                t.stage = Stage::CertificateCheck {
                    flight,
                    user: user.clone(),
                };
                Ok(Step::Check(CredentialCheck::Certificate { user, source }))
            }
            Method::Peap if flight.is_empty() => {
                t.stage = Stage::Peap(PeapStage::Identity);
                self.send_inner(&peap::identity_request())
            }
            Method::Peap => {
                t.stage = Stage::Finishing;
                Ok(self.send_tls(flight))
            }
            Method::Ttls => {
                let plaintext = t.tls.take_plaintext();
                if !plaintext.is_empty() {
                    return self.ttls_step(false, &plaintext);
                }
                t.stage = Stage::TtlsAvps {
                    nudged: flight.is_empty(),
                };
                Ok(self.send_tls(flight))
            }
        }
    }

    fn peap_step(&mut self, stage: PeapStage, plaintext: &[u8]) -> Result<Step, SessionError> {
        let (kind, data) = peap::inner_response(plaintext)?;
        let next_id = self.id.wrapping_add(1);
        let (stage, inner) = match stage {
            PeapStage::Identity => {
                expect_type(kind, EapType::Identity)?;
                let user = peap::parse_identity(&data)?;
                let inner =
                    peap::challenge_request(next_id, &self.challenge, &self.settings.server_name);
                (PeapStage::Challenge { user }, inner)
            }
            PeapStage::Challenge { user } => {
                expect_type(kind, EapType::MsChapV2)?;
                let check = peap::parse_response(&data, &user, &self.challenge)?;
                self.tunnel()?.stage = Stage::Peap(PeapStage::Checking { user });
                return Ok(Step::Check(CredentialCheck::MsChapV2(check)));
            }
            PeapStage::SuccessSent { user } => {
                expect_type(kind, EapType::MsChapV2)?;
                let success = peap::parse_success_response(&data)?;
                (
                    PeapStage::ResultSent { user, success },
                    peap::result_request(next_id, success),
                )
            }
            PeapStage::ResultSent { user, success } => {
                expect_type(kind, EapType::Extensions)?;
                let peer_success = peap::parse_result(&data)?;
                return match (success, peer_success) {
                    (true, true) => Ok(self.succeed(user)),
                    (false, _) => Err(SessionError::Rejected),
                    (true, false) => Err(SessionError::PeerFailed),
                };
            }
            PeapStage::Checking { .. } => return Err(SessionError::AwaitingVerdict),
        };
        self.tunnel()?.stage = Stage::Peap(stage);
        self.send_inner(&inner)
    }

    fn ttls_step(&mut self, nudged: bool, plaintext: &[u8]) -> Result<Step, SessionError> {
        if plaintext.is_empty() {
            if nudged {
                return Err(SessionError::OutOfOrder);
            }
            self.tunnel()?.stage = Stage::TtlsAvps { nudged: true };
            return Ok(self.send_tls(Vec::new()));
        }
        let (user, password) = ttls::pap_credentials(plaintext)?;
        self.tunnel()?.stage = Stage::TtlsChecking { user: user.clone() };
        Ok(Step::Check(CredentialCheck::Password { user, password }))
    }

    fn send_inner(&mut self, inner: &[u8]) -> Result<Step, SessionError> {
        let t = self.tunnel()?;
        t.tls.send_plaintext(inner)?;
        let records = t.tls.take_outgoing()?;
        Ok(self.send_tls(records))
    }

    /// Sends TLS records: the first fragment now, the rest as the peer acknowledges.
    fn send_tls(&mut self, records: Vec<u8>) -> Step {
        let max = self.max_eap_packet;
        let Phase::Tunnel(t) = &mut self.phase else {
            return self.fail(SessionError::OutOfOrder);
        };
        t.outgoing = Outgoing::new(records);
        let fragment = t.outgoing.next_fragment(0, max);
        let kind = t.method.eap_type();
        self.send(kind, fragment)
    }

    fn send(&mut self, kind: EapType, data: Vec<u8>) -> Step {
        self.rounds += 1;
        if self.rounds > MAX_ROUNDS {
            return self.fail(SessionError::TooManyRounds);
        }
        self.id = self.id.wrapping_add(1);
        match EapPacket::request(self.id, kind, data).encode() {
            Ok(bytes) => Step::Send(bytes),
            Err(e) => self.fail(e.into()),
        }
    }

    fn succeed(&mut self, identity: String) -> Step {
        let phase = std::mem::replace(&mut self.phase, Phase::Done);
        let Phase::Tunnel(t) = phase else {
            return self.fail(SessionError::OutOfOrder);
        };
        match t.tls.export_msk(t.method) {
            Ok(msk) => Step::Done(Outcome::Success {
                identity,
                method: t.method,
                msk,
                eap: vec![3, self.id, 0, 4],
            }),
            Err(e) => self.fail(e.into()),
        }
    }

    fn fail(&mut self, reason: SessionError) -> Step {
        self.phase = Phase::Done;
        Step::Done(Outcome::Failure {
            reason,
            eap: vec![4, self.id, 0, 4],
        })
    }
}

fn unexpected(got: EapType, expected: EapType) -> SessionError {
    SessionError::UnexpectedType(got.to_u8(), expected.to_u8())
}

fn expect_type(got: EapType, expected: EapType) -> Result<(), SessionError> {
    if got == expected {
        Ok(())
    } else {
        Err(unexpected(got, expected))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
