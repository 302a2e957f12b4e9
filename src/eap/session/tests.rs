//! End-to-end conversations: a rustls client in-process as the peer's TLS stack, and the
//! peer's EAP side written by hand from the RFCs.
//!
//! The MSCHAPv2 values here come from a stand-in keyed digest, not RFC 2759: these tests
//! check the message flow, and the MSCHAPv2 module tests its own computations.

use std::sync::Arc;

use md5::{Digest, Md5};
use rcgen::SanType;
use rustls::ClientConnection;

use super::*;
use crate::eap::fragment::{DEFAULT_MAX_EAP_PACKET, DEFAULT_MAX_MESSAGE, MIN_MAX_EAP_PACKET};
use crate::eap::testing::{
    Pki, client_msk, client_plaintext, client_send, client_step, pki, try_client_step,
};
use crate::eap::ttls::encode_avp;

const PASSWORD: &[u8] = b"Sommer-2026!";

fn settings(pki: &Pki, methods: Vec<Method>, versions: &[TlsVersion]) -> Arc<Settings> {
    Arc::new(Settings {
        methods,
        tunnel: Some(pki.server(versions, false)),
        client_auth: Some(pki.server(versions, true)),
        max_message: DEFAULT_MAX_MESSAGE,
        server_name: "hallpass".to_string(),
    })
}

/// The stand-in for RFC 2759: (NT-Response, authenticator response) from a key.
fn stand_in(key: &[u8], check: &MsChapV2Check) -> ([u8; 24], [u8; 20]) {
    let digest = |parts: &[&[u8]]| {
        let mut h = Md5::new();
        for p in parts {
            h.update(p);
        }
        h.finalize()
    };
    let a = digest(&[
        key,
        &check.authenticator_challenge,
        &check.peer_challenge,
        &check.name,
    ]);
    let b = digest(&[&a, key]);
    let mut nt = [0u8; 24];
    nt[..16].copy_from_slice(&a);
    nt[16..].copy_from_slice(&b[..8]);
    let c = digest(&[&nt, key]);
    let mut auth = [0u8; 20];
    auth[..16].copy_from_slice(&c);
    auth[16..].copy_from_slice(&b[8..12]);
    (nt, auth)
}

struct StandInVerifier;

impl peap::MsChapV2Verifier for StandInVerifier {
    fn verify(&self, nt_hash: &[u8; 16], check: &MsChapV2Check) -> Option<[u8; 20]> {
        let (nt, auth) = stand_in(nt_hash, check);
        (nt == check.nt_response).then_some(auth)
    }
}

fn nt_hash_of(password: &[u8]) -> [u8; 16] {
    Md5::digest(password).into()
}

/// The peer: EAP framing by hand, TLS by rustls.
struct Peer {
    client: ClientConnection,
    kind: EapType,
    outer_identity: &'static str,
    inner_identity: &'static str,
    password: &'static [u8],
    nak_with: Option<Vec<u8>>,
    reassembly: Reassembly,
    outgoing: Outgoing,
    max: usize,
    sent_avps: bool,
    peap_challenge: Option<MsChapV2Check>,
    saw_commitment: bool,
    largest_request: usize,
    requests: usize,
    got_alert: bool,
}

impl Peer {
    fn new(pki: &Pki, version: TlsVersion, method: Method, with_cert: bool) -> Self {
        Self {
            client: pki.client(version, with_cert),
            kind: method.eap_type(),
            outer_identity: "anonymous@schule.example",
            inner_identity: "max.muster",
            password: PASSWORD,
            nak_with: None,
            reassembly: Reassembly::new(DEFAULT_MAX_MESSAGE),
            outgoing: Outgoing::default(),
            max: 300,
            sent_avps: false,
            peap_challenge: None,
            saw_commitment: false,
            largest_request: 0,
            requests: 0,
            got_alert: false,
        }
    }

    fn response(&self, id: u8, kind: EapType, data: Vec<u8>) -> Vec<u8> {
        EapPacket::response(id, kind, data).encode().unwrap()
    }

    fn send_records(&mut self, id: u8, records: Vec<u8>) -> Vec<u8> {
        self.outgoing = Outgoing::new(records);
        let fragment = self.outgoing.next_fragment(0, self.max);
        self.response(id, self.kind, fragment)
    }

    /// The peer's answer to one EAP Request.
    fn answer(&mut self, request: &[u8]) -> Vec<u8> {
        self.largest_request = self.largest_request.max(request.len());
        self.requests += 1;
        let EapPacket::Request(m) = EapPacket::decode(request).unwrap() else {
            panic!("not a request");
        };
        if m.kind == EapType::Identity {
            return self.response(m.id, EapType::Identity, self.outer_identity.into());
        }
        if m.kind != self.kind {
            let wanted = self
                .nak_with
                .clone()
                .unwrap_or_else(|| vec![self.kind.to_u8()]);
            return self.response(m.id, EapType::Nak, wanted);
        }
        let frame = Frame::parse(&m.data).unwrap();
        if frame.start() {
            let hello = client_step(&mut self.client, &[]);
            return self.send_records(m.id, hello);
        }
        if self.outgoing.pending() {
            assert!(frame.is_ack(), "server must acknowledge our fragments");
            let fragment = self.outgoing.next_fragment(0, self.max);
            return self.response(m.id, self.kind, fragment);
        }
        match self.reassembly.push(&frame).unwrap() {
            Progress::More => self.response(m.id, self.kind, vec![0]),
            Progress::Complete(records) => {
                let reply = self.tls_message(&records);
                self.send_records(m.id, reply)
            }
        }
    }

    /// A whole TLS message from the server; returns the records to send (empty: an ack).
    fn tls_message(&mut self, records: &[u8]) -> Vec<u8> {
        let Some(mut out) = try_client_step(&mut self.client, records) else {
            self.got_alert = true;
            return Vec::new();
        };
        let plaintext = client_plaintext(&mut self.client);
        let reply = match self.kind {
            EapType::Peap if !plaintext.is_empty() => Some(self.peap_inner(&plaintext)),
            EapType::Ttls if !self.client.is_handshaking() && !self.sent_avps => {
                self.sent_avps = true;
                let mut avps = Vec::new();
                encode_avp(1, true, self.inner_identity.as_bytes(), &mut avps);
                let mut padded = self.password.to_vec();
                padded.resize(padded.len().div_ceil(16) * 16, 0);
                encode_avp(2, true, &padded, &mut avps);
                Some(avps)
            }
            EapType::Tls => {
                if plaintext == [0] {
                    self.saw_commitment = true;
                }
                None
            }
            _ => None,
        };
        if let Some(reply) = reply {
            client_send(&mut self.client, &reply);
            out.extend(client_step(&mut self.client, &[]));
        }
        out
    }

    /// PEAPv0 inner messages, headers left out except for Extensions.
    fn peap_inner(&mut self, plaintext: &[u8]) -> Vec<u8> {
        match plaintext[0] {
            1 if plaintext.len() == 11 && plaintext[4] == 33 => {
                // Extensions Request, full header: echo the Result TLV's status.
                let status = plaintext[9..11].to_vec();
                let mut r = vec![2, plaintext[1], 0, 11, 33, 0x80, 3, 0, 2];
                r.extend_from_slice(&status);
                r
            }
            1 => {
                let mut r = vec![1];
                r.extend_from_slice(self.inner_identity.as_bytes());
                r
            }
            26 if plaintext[1] == 1 => {
                let ms_id = plaintext[2];
                let mut check = MsChapV2Check {
                    user: self.inner_identity.to_string(),
                    name: self.inner_identity.as_bytes().to_vec(),
                    authenticator_challenge: plaintext[6..22].try_into().unwrap(),
                    peer_challenge: [0x5a; 16],
                    nt_response: [0; 24],
                };
                let (nt, _) = stand_in(&nt_hash_of(self.password), &check);
                check.nt_response = nt;
                let mut r = vec![26, 2, ms_id, 0, 0, 49];
                r.extend_from_slice(&check.peer_challenge);
                r.extend_from_slice(&[0; 8]);
                r.extend_from_slice(&nt);
                r.push(0);
                r.extend_from_slice(format!("SCHULE\\{}", self.inner_identity).as_bytes());
                let ms_len = (r.len() - 1) as u16;
                r[3..5].copy_from_slice(&ms_len.to_be_bytes());
                self.peap_challenge = Some(check);
                r
            }
            26 if plaintext[1] == 3 => {
                let check = self.peap_challenge.as_ref().unwrap();
                let (_, auth) = stand_in(&nt_hash_of(self.password), check);
                let expected: String = auth.iter().map(|b| format!("{b:02X}")).collect();
                let message = std::str::from_utf8(&plaintext[5..]).unwrap();
                assert!(
                    message.starts_with(&format!("S={expected}")),
                    "authenticator response"
                );
                vec![26, 3]
            }
            other => panic!("unexpected inner message {other}"),
        }
    }
}

fn password_ok(password: &[u8]) -> Verdict {
    if password == PASSWORD {
        Verdict::Accept
    } else {
        Verdict::Reject
    }
}

/// Runs a conversation to its end; the checks are answered from PASSWORD and `accept_user`.
fn run(session: &mut Session, peer: &mut Peer, accept_user: &str) -> Outcome {
    let mut step = session.receive(&[]).unwrap();
    let mut checks = 0;
    loop {
        step = match step {
            Step::Send(request) => {
                assert!(request.len() <= session.max_eap_packet);
                let response = peer.answer(&request);
                session.receive(&response).unwrap()
            }
            Step::Check(check) => {
                checks += 1;
                let verdict = match check {
                    CredentialCheck::Password { user, password } => {
                        assert_eq!(user, peer.inner_identity);
                        password_ok(&password)
                    }
                    CredentialCheck::MsChapV2(check) => {
                        assert_eq!(check.name, peer.inner_identity.as_bytes());
                        let hash = (check.user == accept_user).then(|| nt_hash_of(PASSWORD));
                        check.verdict(hash.as_ref(), &StandInVerifier)
                    }
                    CredentialCheck::Certificate { user, .. } => {
                        if user == accept_user {
                            Verdict::Accept
                        } else {
                            Verdict::Reject
                        }
                    }
                };
                session.answer(verdict).unwrap()
            }
            Step::Done(outcome) => {
                assert!(checks <= 1);
                return outcome;
            }
        };
    }
}

fn assert_success(outcome: Outcome, peer: &Peer, method: Method, identity: &str) {
    let Outcome::Success {
        identity: got,
        method: m,
        msk,
        eap,
    } = outcome
    else {
        panic!("expected success, got {outcome:?}");
    };
    assert_eq!(got, identity);
    assert_eq!(m, method);
    assert_eq!(
        EapPacket::decode(&eap).unwrap(),
        EapPacket::Success { id: eap[1] }
    );
    let expected = match (peer.client.protocol_version(), method) {
        (Some(rustls::ProtocolVersion::TLSv1_3), m) => client_msk(
            &peer.client,
            b"EXPORTER_EAP_TLS_Key_Material",
            Some(&[m.eap_type().to_u8()]),
        ),
        (_, Method::Ttls) => client_msk(&peer.client, b"ttls keying material", None),
        _ => client_msk(&peer.client, b"client EAP encryption", None),
    };
    assert_eq!(msk.as_bytes(), &expected, "both sides derive the same MSK");
}

fn assert_failure(outcome: Outcome) -> SessionError {
    let Outcome::Failure { reason, eap } = outcome else {
        panic!("expected failure, got {outcome:?}");
    };
    assert!(matches!(
        EapPacket::decode(&eap).unwrap(),
        EapPacket::Failure { .. }
    ));
    reason
}

const BOTH: [TlsVersion; 2] = [TlsVersion::V1_2, TlsVersion::V1_3];

#[test]
fn peap_mschapv2_succeeds_on_tls12_and_tls13() {
    let pki = pki("laptop", vec![]);
    for version in BOTH {
        let mut session = Session::new(
            settings(&pki, vec![Method::Peap], &BOTH),
            1000,
            &mut rand::rng(),
        );
        let mut peer = Peer::new(&pki, version, Method::Peap, false);
        let outcome = run(&mut session, &mut peer, "max.muster");
        assert_eq!(session.outer_identity(), Some("anonymous@schule.example"));
        assert_success(outcome, &peer, Method::Peap, "max.muster");
    }
}

/// Runs a conversation like [`run`] (accepting "max.muster"); returns how many responses
/// [`Session::is_costly`] called costly, and the outcome.
fn count_costly(session: &mut Session, peer: &mut Peer) -> (usize, Outcome) {
    let mut costly = 0;
    let mut step = session.receive(&[]).unwrap();
    loop {
        step = match step {
            Step::Send(request) => {
                let response = peer.answer(&request);
                costly += usize::from(session.is_costly(&response));
                session.receive(&response).unwrap()
            }
            Step::Check(CredentialCheck::Password { password, .. }) => {
                session.answer(password_ok(&password)).unwrap()
            }
            Step::Check(CredentialCheck::MsChapV2(check)) => {
                let verdict = check.verdict(Some(&nt_hash_of(PASSWORD)), &StandInVerifier);
                session.answer(verdict).unwrap()
            }
            Step::Check(other) => panic!("unexpected check {other:?}"),
            Step::Done(outcome) => return (costly, outcome),
        };
    }
}

#[test]
fn only_handshake_messages_and_passwords_are_costly() {
    let pki = pki("laptop", vec![]);
    // (method, TLS version, costly responses): the peer's two handshake messages (its
    // hello; its key exchange or Finished), in TTLS also the AVPs (the password hash). The
    // peer's 300-octet fragments before the last of a message are not costly, nor any
    // tunnelled MSCHAPv2 round.
    for (method, version, expected) in [
        (Method::Peap, TlsVersion::V1_2, 2),
        (Method::Peap, TlsVersion::V1_3, 2),
        (Method::Ttls, TlsVersion::V1_2, 3),
    ] {
        let mut session = Session::new(settings(&pki, vec![method], &BOTH), 1000, &mut rand::rng());
        let mut peer = Peer::new(&pki, version, method, false);
        let (costly, outcome) = count_costly(&mut session, &mut peer);
        assert_success(outcome, &peer, method, "max.muster");
        // PEAP's other five rounds or more (tunnelled identity, MSCHAPv2, results) are cheap.
        let cheap = peer.requests - expected;
        assert!(cheap >= if method == Method::Peap { 5 } else { 1 });
        assert_eq!(costly, expected, "{method:?} {version:?}");
    }
    // Nothing before the method starts, nor after the conversation ended.
    let session = Session::new(
        settings(&pki, vec![Method::Peap], &BOTH),
        1000,
        &mut rand::rng(),
    );
    let identity = EapPacket::response(1, EapType::Identity, b"anna".to_vec())
        .encode()
        .unwrap();
    assert!(!session.is_costly(&identity));
    assert!(!session.is_costly(&[]));
}

#[test]
fn peap_wrong_password_ends_with_failure_after_the_result_tlv() {
    let pki = pki("laptop", vec![]);
    let mut session = Session::new(
        settings(&pki, vec![Method::Peap], &BOTH),
        1000,
        &mut rand::rng(),
    );
    let mut peer = Peer::new(&pki, TlsVersion::V1_2, Method::Peap, false);
    peer.password = b"wrong";
    assert!(matches!(
        assert_failure(run(&mut session, &mut peer, "max.muster")),
        SessionError::Rejected
    ));
    // Unknown user: the same answer.
    let mut session = Session::new(
        settings(&pki, vec![Method::Peap], &BOTH),
        1000,
        &mut rand::rng(),
    );
    let mut peer = Peer::new(&pki, TlsVersion::V1_2, Method::Peap, false);
    assert!(matches!(
        assert_failure(run(&mut session, &mut peer, "someone.else")),
        SessionError::Rejected
    ));
}

#[test]
fn ttls_pap_succeeds_and_rejects() {
    let pki = pki("laptop", vec![]);
    for version in BOTH {
        let mut session = Session::new(
            settings(&pki, vec![Method::Ttls], &BOTH),
            1000,
            &mut rand::rng(),
        );
        let mut peer = Peer::new(&pki, version, Method::Ttls, false);
        let outcome = run(&mut session, &mut peer, "");
        assert_success(outcome, &peer, Method::Ttls, "max.muster");

        let mut session = Session::new(
            settings(&pki, vec![Method::Ttls], &BOTH),
            1000,
            &mut rand::rng(),
        );
        let mut peer = Peer::new(&pki, version, Method::Ttls, false);
        peer.password = b"Winter-2026!";
        assert!(matches!(
            assert_failure(run(&mut session, &mut peer, "")),
            SessionError::Rejected
        ));
    }
}

#[test]
fn eap_tls_names_the_user_from_the_certificate() {
    let email = SanType::Rfc822Name("tim.k@schule.example".try_into().unwrap());
    let pki = pki("Tim K", vec![email]);
    for version in BOTH {
        let mut session = Session::new(
            settings(&pki, vec![Method::Tls], &BOTH),
            1000,
            &mut rand::rng(),
        );
        let mut peer = Peer::new(&pki, version, Method::Tls, true);
        let outcome = run(&mut session, &mut peer, "tim.k");
        assert_success(outcome, &peer, Method::Tls, "tim.k");
        assert_eq!(peer.saw_commitment, version == TlsVersion::V1_3);

        let mut session = Session::new(
            settings(&pki, vec![Method::Tls], &BOTH),
            1000,
            &mut rand::rng(),
        );
        let mut peer = Peer::new(&pki, version, Method::Tls, true);
        assert!(matches!(
            assert_failure(run(&mut session, &mut peer, "other")),
            SessionError::Rejected
        ));
    }
}

#[test]
fn eap_tls_without_a_client_certificate_fails() {
    let pki = pki("tim", vec![]);
    for version in BOTH {
        let mut session = Session::new(
            settings(&pki, vec![Method::Tls], &BOTH),
            1000,
            &mut rand::rng(),
        );
        let mut peer = Peer::new(&pki, version, Method::Tls, false);
        let reason = assert_failure(run(&mut session, &mut peer, "tim"));
        assert!(matches!(reason, SessionError::Tls(_)), "{reason:?}");
        assert!(peer.got_alert, "the peer is told why by a TLS alert");
    }
}

#[test]
fn nak_moves_to_the_next_method_the_peer_wants() {
    let pki = pki("laptop", vec![]);
    let methods = vec![Method::Peap, Method::Tls, Method::Ttls];
    let mut session = Session::new(
        settings(&pki, methods.clone(), &BOTH),
        1000,
        &mut rand::rng(),
    );
    let mut peer = Peer::new(&pki, TlsVersion::V1_2, Method::Ttls, false);
    peer.nak_with = Some(vec![21, 13]);
    // Nak(TTLS, TLS) to PEAP: TLS comes first in the configuration, so TLS is proposed;
    // the peer Naks again and gets TTLS.
    let outcome = run(&mut session, &mut peer, "");
    assert_success(outcome, &peer, Method::Ttls, "max.muster");

    let mut session = Session::new(
        settings(&pki, vec![Method::Peap], &BOTH),
        1000,
        &mut rand::rng(),
    );
    let mut peer = Peer::new(&pki, TlsVersion::V1_2, Method::Ttls, false);
    assert!(matches!(
        assert_failure(run(&mut session, &mut peer, "")),
        SessionError::NoCommonMethod
    ));
}

#[test]
fn small_links_get_small_fragments() {
    let pki = pki("laptop", vec![]);
    let mut session = Session::new(
        settings(&pki, vec![Method::Peap], &BOTH),
        MIN_MAX_EAP_PACKET,
        &mut rand::rng(),
    );
    let mut peer = Peer::new(&pki, TlsVersion::V1_2, Method::Peap, false);
    peer.max = 150;
    let outcome = run(&mut session, &mut peer, "max.muster");
    assert!(peer.largest_request <= MIN_MAX_EAP_PACKET);
    let small_rounds = peer.requests;
    assert_success(outcome, &peer, Method::Peap, "max.muster");
    let mut session = Session::new(
        settings(&pki, vec![Method::Peap], &BOTH),
        DEFAULT_MAX_EAP_PACKET,
        &mut rand::rng(),
    );
    let mut peer = Peer::new(&pki, TlsVersion::V1_2, Method::Peap, false);
    let _ = run(&mut session, &mut peer, "max.muster");
    assert!(
        peer.largest_request > MIN_MAX_EAP_PACKET,
        "larger fragments when the link allows"
    );
    assert!(peer.requests < small_rounds);
}

#[test]
fn stale_and_foreign_packets_are_discarded() {
    let pki = pki("laptop", vec![]);
    let mut session = Session::new(
        settings(&pki, vec![Method::Peap], &BOTH),
        1000,
        &mut rand::rng(),
    );
    let Step::Send(identity_request) = session.receive(&[]).unwrap() else {
        panic!()
    };
    let id = identity_request[1];
    assert!(matches!(
        session.receive(&[1, id, 0, 5, 1]),
        Err(SessionError::NotAResponse)
    ));
    assert!(matches!(
        session.receive(&[2, id, 0, 3]),
        Err(SessionError::Packet(_))
    ));
    assert!(matches!(
        session.receive(&[]),
        Err(SessionError::OutOfOrder)
    ));
    assert!(matches!(
        session.answer(Verdict::Accept),
        Err(SessionError::NoCheckPending)
    ));
    let Step::Send(start) = session.receive(&[2, id, 0, 6, 1, b'a']).unwrap() else {
        panic!()
    };
    assert_eq!(start[4..], [25, FLAG_START]);
    let wrong = start[1].wrapping_add(7);
    assert!(matches!(
        session.receive(&[2, wrong, 0, 6, 25, 0]),
        Err(SessionError::WrongId { .. })
    ));
    // A Response of another type ends the conversation; afterwards everything is discarded.
    let Step::Done(outcome) = session.receive(&[2, start[1], 0, 6, 21, 0]).unwrap() else {
        panic!()
    };
    assert!(matches!(
        assert_failure(outcome),
        SessionError::UnexpectedType(21, 25)
    ));
    assert!(matches!(
        session.receive(&[2, start[1], 0, 6, 25, 0]),
        Err(SessionError::Finished)
    ));
}

#[test]
fn a_response_while_a_check_is_pending_is_discarded() {
    let pki = pki("laptop", vec![]);
    let mut session = Session::new(
        settings(&pki, vec![Method::Ttls], &BOTH),
        1000,
        &mut rand::rng(),
    );
    let mut peer = Peer::new(&pki, TlsVersion::V1_2, Method::Ttls, false);
    let mut step = session.receive(&[]).unwrap();
    let mut last = Vec::new();
    while let Step::Send(request) = step {
        last = peer.answer(&request);
        step = session.receive(&last).unwrap();
    }
    assert!(matches!(
        step,
        Step::Check(CredentialCheck::Password { .. })
    ));
    assert!(matches!(
        session.receive(&last),
        Err(SessionError::AwaitingVerdict)
    ));
    let step = session
        .answer(Verdict::AcceptMsChapV2 {
            authenticator_response: [0; 20],
        })
        .unwrap();
    assert!(matches!(
        step,
        Step::Done(Outcome::Failure {
            reason: SessionError::WrongVerdict,
            ..
        })
    ));
}

#[test]
fn a_peer_that_never_finishes_runs_out_of_rounds() {
    let pki = pki("laptop", vec![]);
    let mut session = Session::new(
        settings(&pki, vec![Method::Peap], &BOTH),
        1000,
        &mut rand::rng(),
    );
    let Step::Send(req) = session.receive(&[]).unwrap() else {
        panic!()
    };
    let Step::Send(mut req) = session.receive(&[2, req[1], 0, 6, 1, b'a']).unwrap() else {
        panic!()
    };
    // Endless fragments of a ClientHello that never ends.
    loop {
        match session
            .receive(&[2, req[1], 0, 8, 25, 0x40, 22, 3])
            .unwrap()
        {
            Step::Send(next) => req = next,
            Step::Done(outcome) => {
                let reason = assert_failure(outcome);
                assert!(matches!(reason, SessionError::TooManyRounds), "{reason:?}");
                return;
            }
            Step::Check(_) => panic!(),
        }
    }
}

#[test]
fn a_method_without_tls_settings_fails_cleanly() {
    let pki = pki("laptop", vec![]);
    let tunnel = Some(pki.server(&BOTH, false));
    assert!(matches!(
        Settings::new(vec![Method::Tls], tunnel.clone(), None),
        Err(SessionError::MethodNotConfigured)
    ));
    assert!(matches!(
        Settings::new(vec![], tunnel.clone(), None),
        Err(SessionError::NoMethods)
    ));
    assert!(Settings::new(vec![Method::Peap, Method::Ttls], tunnel.clone(), None).is_ok());
    // Settings built by hand without the check still fail cleanly.
    let s = Settings {
        methods: vec![Method::Tls],
        tunnel,
        client_auth: None,
        max_message: DEFAULT_MAX_MESSAGE,
        server_name: "hallpass".into(),
    };
    let mut session = Session::new(Arc::new(s), 1000, &mut rand::rng());
    let mut peer = Peer::new(&pki, TlsVersion::V1_2, Method::Tls, true);
    let reason = assert_failure(run(&mut session, &mut peer, ""));
    assert!(matches!(reason, SessionError::MethodNotConfigured));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn arbitrary_responses_never_panic(
        packets in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80), 1..12),
        methods in proptest::sample::subsequence(vec![Method::Peap, Method::Ttls, Method::Tls], 1..=3),
    ) {
        static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
        let pki = PKI.get_or_init(|| pki("laptop", vec![]));
        let mut session = Session::new(settings(pki, methods, &BOTH), 1000, &mut rand::rng());
        let mut id = 0u8;
        for mut p in packets {
            // Give most packets the pending identifier and a valid header, so they get past
            // the first checks and into the machines.
            if p.len() >= 5 && p[0] % 4 != 0 {
                p[0] = 2;
                p[1] = id;
                let len = p.len() as u16;
                p[2..4].copy_from_slice(&len.to_be_bytes());
            }
            match session.receive(&p) {
                Ok(Step::Send(req)) => id = req[1],
                Ok(Step::Check(_)) => {
                    let _ = session.answer(Verdict::Reject);
                }
                Ok(Step::Done(_)) | Err(_) => {}
            }
        }
    }
}
