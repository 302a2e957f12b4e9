//! Cross-cutting tests of the codec: the worked examples of RFC 2865 section 7, the
//! Message-Authenticator, password hiding, tunnel attributes, and property tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use proptest::prelude::*;

use super::*;

const SECRET_BYTES: &[u8] = b"xyzzy5461";
static SECRET: std::sync::LazyLock<SharedSecret> =
    std::sync::LazyLock::new(|| SharedSecret::new(SECRET_BYTES.to_vec()));

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

// RFC 2865 section 7.1: User Telnet to Specified Host.
const RFC_7_1_REQUEST: &str = "01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
    98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee
    04 06 c0 a8 01 10 05 06 00 00 00 03";
const RFC_7_1_ACCEPT: &str = "02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
    9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03";
// RFC 2865 section 7.2: Framed User Authenticating with CHAP.
const RFC_7_2_REQUEST: &str = "01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e
    0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9 75 57 c3 16 18 58 95 f2 93 ff 63 44
    07 72 75 04 06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00 02 07 06 00 00 00 01";
const RFC_7_2_ACCEPT: &str = "02 01 00 38 15 ef bc 7d ab 26 cf a3 dc 34 d9 c0
    3c 86 01 a4 06 06 00 00 00 02 07 06 00 00 00 01 08 06 ff ff ff fe 0a 06 00 00 00 02
    0d 06 00 00 00 01 0c 06 00 00 05 dc";
// RFC 2865 section 7.3: User with Challenge-Response card.
const RFC_7_3_REQUEST_1: &str = "01 02 00 39 f3 a4 7a 1f 6a 6d 76 71 0b 94 7a b9
    30 41 a0 39 01 07 6d 6f 70 73 79 02 12 33 65 75 73 77 82 89 b5 70 88 5e 15 08 48 25
    c5 04 06 c0 a8 01 10 05 06 00 00 00 07";
const RFC_7_3_CHALLENGE: &str = "0b 02 00 4e 36 f3 c8 76 4a e8 c7 11 57 40 3c 0c
    71 ff 9c 45 12 30 43 68 61 6c 6c 65 6e 67 65 20 33 32 37 36 39 34 33 30 2e 20 20 45
    6e 74 65 72 20 72 65 73 70 6f 6e 73 65 20 61 74 20 70 72 6f 6d 70 74 2e 18 0a 33 32
    37 36 39 34 33 30";
// The State length octet here is 0x0a, the only value consistent with the Length field
// (0x43 = 67 octets); copies of the RFC's dump differ in this octet.
const RFC_7_3_REQUEST_2: &str = "01 03 00 43 b1 22 55 6d 42 8a 13 d0 d6 25 38 07
    c4 57 ec f0 01 07 6d 6f 70 73 79 02 12 69 2c 1f 20 5f c0 81 b9 19 b9 51 95 f5 61 a5
    81 04 06 c0 a8 01 10 05 06 00 00 00 07 18 0a 33 32 37 36 39 34 33 30";
const RFC_7_3_REJECT: &str = "03 03 00 14 a4 2f 4f ca 45 91 6c 4e 09 c8 34 0f
    9e 74 6a a0";

fn attrs_of(p: &Packet) -> Vec<(u8, Vec<u8>)> {
    p.attributes().map(|a| (a.typ, a.value.to_vec())).collect()
}

#[test]
fn rfc2865_7_1_user_telnet() {
    let req_bytes = hex(RFC_7_1_REQUEST);
    let req = Packet::parse(&req_bytes).unwrap();
    assert_eq!(req.code(), Code::AccessRequest);
    assert_eq!(req.identifier(), 0);
    assert_eq!(req.bytes().len(), 56);
    assert_eq!(
        req.authenticator(),
        &<[u8; 16]>::try_from(&req_bytes[4..20]).unwrap()
    );
    let attrs = attrs_of(&req);
    assert_eq!(attrs.len(), 4);
    assert_eq!(attrs[0], (attr::USER_NAME, b"nemo".to_vec()));
    assert_eq!(attrs[1].0, attr::USER_PASSWORD);
    assert_eq!(attrs[1].1.len(), 16);
    assert_eq!(attrs[2], (attr::NAS_IP_ADDRESS, vec![192, 168, 1, 16]));
    assert_eq!(attrs[3], (attr::NAS_PORT, vec![0, 0, 0, 3]));
    assert_eq!(req.get_u32(attr::NAS_PORT), Some(3));

    let hidden = req.get(attr::USER_PASSWORD).unwrap();
    let plain = unhide_password(hidden, &SECRET, req.authenticator()).unwrap();
    assert_eq!(plain.as_slice(), b"arctangent");
    let wrong = unhide_password(
        hidden,
        &SharedSecret::new(b"xyzzy5462".to_vec()),
        req.authenticator(),
    )
    .unwrap();
    assert_ne!(wrong.as_slice(), b"arctangent");
    // hiding it again with the same authenticator gives the RFC's octets
    let mut again = Vec::new();
    hide_password(b"arctangent", &SECRET, req.authenticator(), &mut again).unwrap();
    assert_eq!(again, hidden);
    assert_eq!(
        verify_message_authenticator(&req, &SECRET, None).unwrap(),
        MessageAuthenticator::Missing
    );

    let accept_bytes = hex(RFC_7_1_ACCEPT);
    let accept = Packet::parse(&accept_bytes).unwrap();
    assert_eq!(accept.code(), Code::AccessAccept);
    assert_eq!(accept.identifier(), 0);
    assert_eq!(
        attrs_of(&accept),
        vec![
            (attr::SERVICE_TYPE, vec![0, 0, 0, 1]),
            (attr::LOGIN_SERVICE, vec![0, 0, 0, 0]),
            (attr::LOGIN_IP_HOST, vec![192, 168, 1, 3]),
        ]
    );
    assert!(verify_response_authenticator(
        &accept,
        req.authenticator(),
        &SECRET
    ));
    assert!(!verify_response_authenticator(
        &accept,
        req.authenticator(),
        &SharedSecret::new(b"xyzzy546".to_vec())
    ));
    assert!(!verify_response_authenticator(&accept, &[0; 16], &SECRET));

    // encoding the same reply yields the RFC's octets exactly
    let mut out = Vec::new();
    let mut b = PacketBuilder::new(&mut out, Code::AccessAccept, 0);
    b.attr_u32(attr::SERVICE_TYPE, values::service_type::LOGIN)
        .unwrap()
        .attr_u32(attr::LOGIN_SERVICE, 0)
        .unwrap()
        .attr(attr::LOGIN_IP_HOST, &[192, 168, 1, 3])
        .unwrap();
    b.finish_reply(req.authenticator(), &SECRET).unwrap();
    assert_eq!(out, accept_bytes);

    assert_eq!(
        attributes_to_text(&req),
        "User-Name=\"nemo\", User-Password=<hidden>, NAS-IP-Address=192.168.1.16, NAS-Port=3"
    );
    assert_eq!(
        attributes_to_text(&accept),
        "Service-Type=Login-User(1), Login-Service=0, Login-IP-Host=192.168.1.3"
    );
}

#[test]
fn rfc2865_7_2_framed_chap() {
    let req_bytes = hex(RFC_7_2_REQUEST);
    let req = Packet::parse(&req_bytes).unwrap();
    assert_eq!(req.code(), Code::AccessRequest);
    assert_eq!(req.identifier(), 1);
    let attrs = attrs_of(&req);
    assert_eq!(attrs.len(), 6);
    assert_eq!(attrs[0], (attr::USER_NAME, b"flopsy".to_vec()));
    // CHAP-Password: CHAP identifier 0x16 then the 16-octet response
    assert_eq!(attrs[1].0, attr::CHAP_PASSWORD);
    assert_eq!(attrs[1].1.len(), 17);
    assert_eq!(attrs[1].1[0], 0x16);
    assert_eq!(attrs[2], (attr::NAS_IP_ADDRESS, vec![192, 168, 1, 16]));
    assert_eq!(req.get_u32(attr::NAS_PORT), Some(20));
    assert_eq!(
        req.get_u32(attr::SERVICE_TYPE),
        Some(values::service_type::FRAMED)
    );
    assert_eq!(req.get_u32(attr::FRAMED_PROTOCOL), Some(1)); // PPP
    let text = attributes_to_text(&req);
    assert!(text.contains("CHAP-Password=<hidden>"), "{text}");
    assert!(!text.contains("16e9"), "{text}");

    let accept_bytes = hex(RFC_7_2_ACCEPT);
    let accept = Packet::parse(&accept_bytes).unwrap();
    assert_eq!(accept.identifier(), 1);
    assert_eq!(accept.get_u32(attr::SERVICE_TYPE), Some(2));
    assert_eq!(accept.get_u32(attr::FRAMED_PROTOCOL), Some(1));
    assert_eq!(
        accept.get(attr::FRAMED_IP_ADDRESS),
        Some(&[255, 255, 255, 254][..])
    );
    assert_eq!(accept.get_u32(attr::FRAMED_ROUTING), Some(2));
    assert_eq!(accept.get_u32(attr::FRAMED_COMPRESSION), Some(1));
    assert_eq!(accept.get_u32(attr::FRAMED_MTU), Some(1500));
    assert!(verify_response_authenticator(
        &accept,
        req.authenticator(),
        &SECRET
    ));

    let mut out = Vec::new();
    let mut b = PacketBuilder::new(&mut out, Code::AccessAccept, 1);
    for a in accept.attributes() {
        b.attr(a.typ, a.value).unwrap();
    }
    b.finish_reply(req.authenticator(), &SECRET).unwrap();
    assert_eq!(out, accept_bytes);
}

#[test]
fn rfc2865_7_3_challenge_response() {
    let req1_bytes = hex(RFC_7_3_REQUEST_1);
    let req1 = Packet::parse(&req1_bytes).unwrap();
    assert_eq!(req1.identifier(), 2);
    assert_eq!(req1.get(attr::USER_NAME), Some(&b"mopsy"[..]));
    let pw = unhide_password(
        req1.get(attr::USER_PASSWORD).unwrap(),
        &SECRET,
        req1.authenticator(),
    )
    .unwrap();
    assert_eq!(pw.as_slice(), b"challenge");
    assert_eq!(req1.get(attr::NAS_IP_ADDRESS), Some(&[192, 168, 1, 16][..]));
    assert_eq!(req1.get_u32(attr::NAS_PORT), Some(7));

    let challenge_bytes = hex(RFC_7_3_CHALLENGE);
    let challenge = Packet::parse(&challenge_bytes).unwrap();
    assert_eq!(challenge.code(), Code::AccessChallenge);
    assert_eq!(
        challenge.get(attr::REPLY_MESSAGE),
        Some(&b"Challenge 32769430.  Enter response at prompt."[..])
    );
    assert_eq!(challenge.get(attr::STATE), Some(&b"32769430"[..]));
    assert!(verify_response_authenticator(
        &challenge,
        req1.authenticator(),
        &SECRET
    ));
    let mut out = Vec::new();
    let mut b = PacketBuilder::new(&mut out, Code::AccessChallenge, 2);
    b.attr_text_split(
        attr::REPLY_MESSAGE,
        b"Challenge 32769430.  Enter response at prompt.",
    )
    .unwrap()
    .attr(attr::STATE, b"32769430")
    .unwrap();
    b.finish_reply(req1.authenticator(), &SECRET).unwrap();
    assert_eq!(out, challenge_bytes);

    let req2_bytes = hex(RFC_7_3_REQUEST_2);
    let req2 = Packet::parse(&req2_bytes).unwrap();
    assert_eq!(req2.identifier(), 3);
    let pw = unhide_password(
        req2.get(attr::USER_PASSWORD).unwrap(),
        &SECRET,
        req2.authenticator(),
    )
    .unwrap();
    assert_eq!(pw.as_slice(), b"99101462");
    assert_eq!(req2.get(attr::STATE), challenge.get(attr::STATE));

    let reject_bytes = hex(RFC_7_3_REJECT);
    let reject = Packet::parse(&reject_bytes).unwrap();
    assert_eq!(reject.code(), Code::AccessReject);
    assert_eq!(reject.attributes().count(), 0);
    assert!(verify_response_authenticator(
        &reject,
        req2.authenticator(),
        &SECRET
    ));
    let mut out = Vec::new();
    PacketBuilder::new(&mut out, Code::AccessReject, 3)
        .finish_reply(req2.authenticator(), &SECRET)
        .unwrap();
    assert_eq!(out, reject_bytes);
}

/// Independent HMAC-MD5 over a copy of the packet with the MA value zeroed and the
/// Authenticator field replaced.
fn reference_ma(
    packet: &[u8],
    auth_field: &[u8; 16],
    ma_value_at: usize,
    secret: &[u8],
) -> [u8; 16] {
    let mut copy = packet.to_vec();
    copy[4..20].copy_from_slice(auth_field);
    copy[ma_value_at..ma_value_at + 16].fill(0);
    let mut mac = Hmac::<Md5>::new_from_slice(secret).unwrap();
    mac.update(&copy);
    mac.finalize().into_bytes().into()
}

fn access_request_with_ma(out: &mut Vec<u8>) -> [u8; 16] {
    let auth = [0x5A; 16];
    let mut b = PacketBuilder::new(out, Code::AccessRequest, 9);
    b.attr(attr::USER_NAME, b"3c22fb123456").unwrap();
    b.message_authenticator();
    b.attr(attr::CALLING_STATION_ID, b"3C-22-FB-12-34-56")
        .unwrap()
        .attr_u32(attr::NAS_PORT_TYPE, values::nas_port_type::ETHERNET)
        .unwrap();
    b.finish_access_request(&auth, &SECRET).unwrap();
    auth
}

#[test]
fn message_authenticator_on_access_request() {
    let mut out = Vec::new();
    let auth = access_request_with_ma(&mut out);
    let p = Packet::parse(&out).unwrap();
    // reserved after another attribute, still placed first (BlastRADIUS)
    let first = p.attributes().next().unwrap();
    assert_eq!(first.typ, attr::MESSAGE_AUTHENTICATOR);
    assert_eq!(first.value, reference_ma(&out, &auth, 22, SECRET_BYTES));
    assert_eq!(p.authenticator(), &auth);
    assert_eq!(
        verify_message_authenticator(&p, &SECRET, None).unwrap(),
        MessageAuthenticator::Valid
    );
    assert_eq!(
        verify_message_authenticator(&p, &SharedSecret::new(b"other".to_vec()), None).unwrap_err(),
        RadiusError::BadMessageAuthenticator
    );
    assert!(attributes_to_text(&p).starts_with("Message-Authenticator=<hidden>, User-Name="));
}

#[test]
fn message_authenticator_flip_any_bit() {
    let mut out = Vec::new();
    access_request_with_ma(&mut out);
    for bit in 0..out.len() * 8 {
        let mut m = out.clone();
        m[bit / 8] ^= 1 << (bit % 8);
        if let Ok(p) = Packet::parse(&m) {
            let r = verify_message_authenticator(&p, &SECRET, None);
            assert!(
                !matches!(r, Ok(MessageAuthenticator::Valid)),
                "bit {bit}: {r:?}"
            );
            // only flips of the MA type octet can make it disappear
            if matches!(r, Ok(MessageAuthenticator::Missing)) {
                assert_eq!(bit / 8, 20, "bit {bit}");
            }
        }
    }
}

#[test]
fn message_authenticator_anywhere_in_input() {
    // hand-built: User-Name, Message-Authenticator, NAS-Port
    let auth = [0x11; 16];
    let mut p = vec![1, 77, 0, 0];
    p.extend_from_slice(&auth);
    p.extend_from_slice(&[1, 6, b'n', b'e', b'm', b'o']);
    let ma_at = p.len() + 2;
    p.extend_from_slice(&[80, 18]);
    p.extend_from_slice(&[0; 16]);
    p.extend_from_slice(&[5, 6, 0, 0, 0, 3]);
    let len = p.len() as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    let ma = reference_ma(&p, &auth, ma_at, SECRET_BYTES);
    p[ma_at..ma_at + 16].copy_from_slice(&ma);
    let pkt = Packet::parse(&p).unwrap();
    assert_eq!(
        verify_message_authenticator(&pkt, &SECRET, None).unwrap(),
        MessageAuthenticator::Valid
    );
    let mut bad = p.clone();
    *bad.last_mut().unwrap() ^= 1;
    let pkt = Packet::parse(&bad).unwrap();
    assert_eq!(
        verify_message_authenticator(&pkt, &SECRET, None).unwrap_err(),
        RadiusError::BadMessageAuthenticator
    );
}

#[test]
fn message_authenticator_duplicate_and_bad_length() {
    let mut out = Vec::new();
    access_request_with_ma(&mut out);
    // append a second, otherwise identical MA
    let mut two = out.clone();
    let first_ma = out[20..38].to_vec();
    two.extend_from_slice(&first_ma);
    let len = two.len() as u16;
    two[2..4].copy_from_slice(&len.to_be_bytes());
    let p = Packet::parse(&two).unwrap();
    assert_eq!(
        verify_message_authenticator(&p, &SECRET, None).unwrap_err(),
        RadiusError::DuplicateMessageAuthenticator
    );

    for n in [0usize, 4, 15, 17, 32] {
        let mut p = vec![1, 1, 0, 0];
        p.extend_from_slice(&[3; 16]);
        p.push(80);
        p.push((n + 2) as u8);
        p.extend(std::iter::repeat_n(0xEE, n));
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        let pkt = Packet::parse(&p).unwrap();
        assert_eq!(
            verify_message_authenticator(&pkt, &SECRET, None).unwrap_err(),
            RadiusError::BadMessageAuthenticatorLength { len: n }
        );
    }
}

#[test]
fn message_authenticator_on_replies() {
    let request_auth = [0xC4; 16];
    for code in [
        Code::AccessAccept,
        Code::AccessReject,
        Code::AccessChallenge,
        Code::AccountingResponse,
        Code::DisconnectAck,
        Code::DisconnectNak,
        Code::CoaAck,
        Code::CoaNak,
    ] {
        let mut out = Vec::new();
        let mut b = PacketBuilder::new(&mut out, code, 200);
        b.message_authenticator()
            .attr_text_split(attr::REPLY_MESSAGE, b"welcome")
            .unwrap();
        b.finish_reply(&request_auth, &SECRET).unwrap();
        let p = Packet::parse(&out).unwrap();
        assert!(is_reply(code));
        assert_eq!(
            p.attributes().next().unwrap().typ,
            attr::MESSAGE_AUTHENTICATOR
        );
        // Access-* replies: the request's authenticator; the others: zeros (RFC 5176 3.3)
        let access = matches!(
            code,
            Code::AccessAccept | Code::AccessReject | Code::AccessChallenge
        );
        let field = if access { request_auth } else { [0; 16] };
        assert_eq!(
            p.get(attr::MESSAGE_AUTHENTICATOR).unwrap(),
            reference_ma(&out, &field, 22, SECRET_BYTES)
        );
        assert_eq!(
            verify_message_authenticator(&p, &SECRET, Some(&request_auth)).unwrap(),
            MessageAuthenticator::Valid,
            "{code}"
        );
        if access {
            assert!(verify_message_authenticator(&p, &SECRET, Some(&[0; 16])).is_err());
        }
        assert!(verify_message_authenticator(&p, &SECRET, None).is_err());
        assert!(verify_response_authenticator(&p, &request_auth, &SECRET));
        assert!(!verify_response_authenticator(&p, &[0xC5; 16], &SECRET));
    }
}

#[test]
fn computed_requests_accounting_disconnect_coa() {
    for code in [
        Code::AccountingRequest,
        Code::DisconnectRequest,
        Code::CoaRequest,
    ] {
        assert!(code.has_computed_request_authenticator());
        let mut out = Vec::new();
        let mut b = PacketBuilder::new(&mut out, code, 17);
        b.message_authenticator()
            .attr(attr::ACCT_SESSION_ID, b"0000002A")
            .unwrap()
            .attr(attr::CALLING_STATION_ID, b"3c-22-fb-12-34-56")
            .unwrap();
        b.finish_computed_request(&SECRET).unwrap();
        let p = Packet::parse(&out).unwrap();
        // MA over the packet with a zero authenticator field; then the authenticator
        // covers the packet including the MA value
        assert_eq!(
            p.get(attr::MESSAGE_AUTHENTICATOR).unwrap(),
            reference_ma(&out, &[0; 16], 22, SECRET_BYTES)
        );
        let mut h = Md5::new();
        h.update(&out[..4]);
        h.update([0u8; 16]);
        h.update(&out[20..]);
        h.update(SECRET_BYTES);
        let expected: [u8; 16] = h.finalize().into();
        assert_eq!(p.authenticator(), &expected);
        assert!(verify_request_authenticator(&p, &SECRET));
        assert!(!verify_request_authenticator(
            &p,
            &SharedSecret::new(b"wrong".to_vec())
        ));
        assert_eq!(
            verify_message_authenticator(&p, &SECRET, None).unwrap(),
            MessageAuthenticator::Valid
        );
        let mut m = out.clone();
        m[30] ^= 0x80;
        let p = Packet::parse(&m).unwrap();
        assert!(!verify_request_authenticator(&p, &SECRET));
        assert!(verify_message_authenticator(&p, &SECRET, None).is_err());
    }
}

#[test]
fn password_round_trips_all_lengths() {
    let ra = [0x42; 16];
    let mut hidden = Vec::new();
    for len in 0..=128usize {
        let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
        hide_password(&plain, &SECRET, &ra, &mut hidden).unwrap();
        assert_eq!(hidden.len(), len.div_ceil(16).max(1) * 16, "len {len}");
        if len > 0 {
            assert_ne!(&hidden[..len], &plain[..]);
        }
        let back = unhide_password(&hidden, &SECRET, &ra).unwrap();
        assert_eq!(back.as_slice(), &plain[..], "len {len}");
    }
    assert_eq!(
        hide_password(&[b'x'; 129], &SECRET, &ra, &mut hidden).unwrap_err(),
        RadiusError::PasswordTooLong { len: 129 }
    );
    for len in [0usize, 1, 15, 17, 31, 144] {
        assert_eq!(
            unhide_password(&vec![1; len], &SECRET, &ra).unwrap_err(),
            RadiusError::BadPasswordLength { len }
        );
    }
}

#[test]
fn password_hiding_chains_on_ciphertext() {
    // RFC 2865 section 5.2: b2 = MD5(S + c1), computed here independently
    let ra = [0x99; 16];
    let plain: Vec<u8> = (1..=40).collect();
    let mut hidden = Vec::new();
    hide_password(&plain, &SECRET, &ra, &mut hidden).unwrap();
    assert_eq!(hidden.len(), 48);
    let mut prev = ra.to_vec();
    let mut padded = plain.clone();
    padded.resize(48, 0);
    for (i, block) in padded.chunks(16).enumerate() {
        let mut h = Md5::new();
        h.update(SECRET_BYTES);
        h.update(&prev);
        let b: [u8; 16] = h.finalize().into();
        let c: Vec<u8> = block.iter().zip(b).map(|(p, k)| p ^ k).collect();
        assert_eq!(&hidden[i * 16..i * 16 + 16], &c[..], "block {i}");
        prev = c;
    }
}

#[test]
fn tunnel_vlan_attributes_exact_bytes() {
    let mut out = Vec::new();
    let mut b = PacketBuilder::new(&mut out, Code::AccessAccept, 1);
    b.attr_tagged_u24(attr::TUNNEL_TYPE, 0, values::tunnel_type::VLAN)
        .unwrap()
        .attr_tagged_u24(
            attr::TUNNEL_MEDIUM_TYPE,
            0,
            values::tunnel_medium_type::IEEE_802,
        )
        .unwrap()
        .attr(attr::TUNNEL_PRIVATE_GROUP_ID, b"20")
        .unwrap();
    b.finish_reply(&[0; 16], &SECRET).unwrap();
    assert_eq!(
        &out[20..],
        &[
            0x40, 0x06, 0, 0, 0, 0x0d, 0x41, 0x06, 0, 0, 0, 0x06, 0x51, 0x04, 0x32, 0x30
        ]
    );
    let p = Packet::parse(&out).unwrap();
    assert_eq!(tagged_u24(p.get(attr::TUNNEL_TYPE).unwrap()), Some((0, 13)));
    assert_eq!(
        tagged_u24(p.get(attr::TUNNEL_MEDIUM_TYPE).unwrap()),
        Some((0, 6))
    );
    assert_eq!(
        tunnel_private_group_id(p.get(attr::TUNNEL_PRIVATE_GROUP_ID).unwrap()),
        (None, &b"20"[..])
    );
    assert_eq!(
        attributes_to_text(&p),
        "Tunnel-Type=0:VLAN(13), Tunnel-Medium-Type=0:IEEE-802(6), Tunnel-Private-Group-Id=\"20\""
    );

    let mut out = Vec::new();
    let mut b = PacketBuilder::new(&mut out, Code::AccessAccept, 1);
    assert_eq!(
        b.attr_tagged_u24(attr::TUNNEL_TYPE, 0x20, 13).err(),
        Some(RadiusError::BadTag { tag: 0x20 })
    );
    assert_eq!(
        b.attr_tagged_u24(attr::TUNNEL_TYPE, 1, 1 << 24).err(),
        Some(RadiusError::TaggedValueTooLarge { value: 1 << 24 })
    );
    b.attr_tagged_u24(attr::TUNNEL_TYPE, 1, 0xFF_FFFF).unwrap();
    assert_eq!(b.len(), 26);
}

#[test]
fn builder_limits() {
    let mut out = Vec::new();
    let mut b = PacketBuilder::new(&mut out, Code::AccessAccept, 1);
    assert!(b.is_empty());
    assert_eq!(
        b.attr(attr::CLASS, &[0; 254]).err(),
        Some(RadiusError::ValueTooLong { len: 254 })
    );
    assert!(b.is_empty());
    b.attr(attr::CLASS, &[]).unwrap();
    // fill to exactly 4096: 20 + 2 + 15 * 255 + 249 = 4096
    for _ in 0..15 {
        b.attr(attr::CLASS, &[7; 253]).unwrap();
    }
    b.attr(attr::CLASS, &[7; 247]).unwrap();
    assert_eq!(b.len(), MAX_PACKET_LEN);
    assert_eq!(
        b.attr(attr::CLASS, &[]).err(),
        Some(RadiusError::BufferFull)
    );
    b.message_authenticator(); // no room: reported by finish
    assert_eq!(
        b.finish_reply(&[0; 16], &SECRET),
        Err(RadiusError::BufferFull)
    );

    let mut b = PacketBuilder::new(&mut out, Code::AccessAccept, 1);
    for _ in 0..15 {
        b.attr(attr::CLASS, &[7; 253]).unwrap();
    }
    b.attr(attr::CLASS, &[7; 249]).unwrap();
    assert_eq!(b.len(), MAX_PACKET_LEN);
    b.finish_reply(&[0; 16], &SECRET).unwrap();
    let p = Packet::parse(&out).unwrap();
    assert_eq!(p.bytes().len(), 4096);
    assert_eq!(p.count(attr::CLASS), 16);
}

#[test]
fn builder_reuses_buffer_and_message_authenticator_once() {
    let mut out = vec![0xFF; 100];
    let mut b = PacketBuilder::new(&mut out, Code::AccessReject, 5);
    b.message_authenticator().message_authenticator();
    b.finish_reply(&[1; 16], &SECRET).unwrap();
    assert_eq!(out.len(), 38);
    let p = Packet::parse(&out).unwrap();
    assert_eq!(p.count(attr::MESSAGE_AUTHENTICATOR), 1);
}

#[test]
fn text_split_respects_limits_and_utf8() {
    let mut out = Vec::new();
    let text = vec![b'x'; 600];
    let mut b = PacketBuilder::new(&mut out, Code::AccessReject, 1);
    b.attr_text_split(attr::REPLY_MESSAGE, &text).unwrap();
    b.attr_text_split(attr::REPLY_MESSAGE, b"").unwrap();
    b.finish_reply(&[0; 16], &SECRET).unwrap();
    let p = Packet::parse(&out).unwrap();
    let lens: Vec<usize> = p.attributes().map(|a| a.value.len()).collect();
    assert_eq!(lens, [253, 253, 94]);

    // "é" is two octets; it must not be cut in half at the 253-octet boundary
    let mut s = "a".repeat(252);
    s.push_str(&"é".repeat(200));
    let mut b = PacketBuilder::new(&mut out, Code::AccessReject, 1);
    b.attr_text_split(attr::REPLY_MESSAGE, s.as_bytes())
        .unwrap();
    b.finish_reply(&[0; 16], &SECRET).unwrap();
    let p = Packet::parse(&out).unwrap();
    let mut joined = Vec::new();
    for a in p.attributes() {
        assert!(a.value.len() <= 253);
        assert!(std::str::from_utf8(a.value).is_ok());
        joined.extend_from_slice(a.value);
    }
    assert_eq!(joined, s.as_bytes());
    assert_eq!(p.attributes().next().unwrap().value.len(), 252);

    // all-or-nothing when it does not fit
    let mut b = PacketBuilder::new(&mut out, Code::AccessReject, 1);
    let before = b.len();
    assert_eq!(
        b.attr_text_split(attr::REPLY_MESSAGE, &[b'y'; 5000]).err(),
        Some(RadiusError::BufferFull)
    );
    assert_eq!(b.len(), before);
}

#[test]
fn text_never_shows_secrets() {
    let mut out = Vec::new();
    let mut b = PacketBuilder::new(&mut out, Code::AccessRequest, 1);
    b.message_authenticator();
    b.attr(attr::USER_PASSWORD, b"SECRETPW")
        .unwrap()
        .attr(attr::CHAP_PASSWORD, b"SECRETCH")
        .unwrap()
        .attr(attr::TUNNEL_PASSWORD, b"SECRETTU")
        .unwrap()
        .attr(attr::NAS_PORT_TYPE, &[0, 0, 0, 19])
        .unwrap()
        .attr(attr::EVENT_TIMESTAMP, &[0, 0, 0, 1])
        .unwrap()
        .attr(attr::NAS_PORT, &[1, 2])
        .unwrap()
        .attr(200, b"\x01\x02")
        .unwrap()
        .attr(attr::VENDOR_SPECIFIC, &[0, 0, 0, 9, 1, 3, 0xAA])
        .unwrap()
        .attr(
            attr::NAS_IPV6_ADDRESS,
            &[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        )
        .unwrap()
        .attr(attr::TUNNEL_PRIVATE_GROUP_ID, b"\x02students")
        .unwrap();
    b.finish_access_request(&[3; 16], &SECRET).unwrap();
    let p = Packet::parse(&out).unwrap();
    let text = attributes_to_text(&p);
    assert!(!text.contains("&SECRET"), "{text}");
    assert!(!text.contains("0x5345"), "{text}");
    assert_eq!(
        text,
        "Message-Authenticator=<hidden>, User-Password=<hidden>, CHAP-Password=<hidden>, \
         Tunnel-Password=<hidden>, NAS-Port-Type=Wireless-802.11(19), Event-Timestamp=1, \
         NAS-Port=0x0102, Attr-200=0x0102, Vendor-Specific=9:0x0103aa, \
         NAS-IPv6-Address=2001:db8::1, Tunnel-Private-Group-Id=2:\"students\""
    );
    let debug = format!("{p:?}");
    assert!(!debug.contains("&SECRET"), "{debug}");
    assert!(debug.contains("AccessRequest"), "{debug}");
    assert!(debug.contains("User-Password=<hidden>"), "{debug}");
}

fn build_reply(
    out: &mut Vec<u8>,
    code: u8,
    id: u8,
    with_ma: bool,
    attrs: &[(u8, Vec<u8>)],
    request_auth: &[u8; 16],
    secret: &SharedSecret,
) -> usize {
    let mut b = PacketBuilder::new(out, Code::from_u8(code), id);
    if with_ma {
        b.message_authenticator();
    }
    let mut accepted = 0;
    for (t, v) in attrs {
        match b.attr(*t, v) {
            Ok(_) => accepted += 1,
            Err(RadiusError::BufferFull) => break,
            Err(e) => panic!("{e}"),
        }
    }
    b.finish_reply(request_auth, secret).unwrap();
    accepted
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..5000)) {
        if let Ok(p) = Packet::parse(&bytes) {
            let sum: usize = p.attributes().map(|a| 2 + a.value.len()).sum();
            prop_assert_eq!(sum, p.bytes().len() - HEADER_LEN);
            let _ = attributes_to_text(&p);
            let _ = verify_message_authenticator(&p, &SharedSecret::new(b"s".to_vec()), None);
        }
    }

    #[test]
    fn parse_with_consistent_length_never_panics(
        code in any::<u8>(),
        body in proptest::collection::vec(any::<u8>(), 0..600),
        pad in 0usize..8,
    ) {
        let mut bytes = vec![code, 1, 0, 0];
        bytes.extend_from_slice(&[0; 16]);
        bytes.extend_from_slice(&body);
        let len = bytes.len() as u16;
        bytes[2..4].copy_from_slice(&len.to_be_bytes());
        bytes.extend(std::iter::repeat_n(0xFF, pad));
        if let Ok(p) = Packet::parse(&bytes) {
            prop_assert_eq!(p.bytes().len(), usize::from(len));
            let sum: usize = p.attributes().map(|a| 2 + a.value.len()).sum();
            prop_assert_eq!(sum, body.len());
            let _ = attributes_to_text(&p);
        }
    }

    #[test]
    fn build_parse_rebuild_is_identical(
        code in any::<u8>(),
        id in any::<u8>(),
        with_ma in any::<bool>(),
        attrs in proptest::collection::vec(
            (any::<u8>().prop_filter("not MA", |t| *t != 80),
             proptest::collection::vec(any::<u8>(), 0..=253)),
            0..24),
        request_auth in any::<[u8; 16]>(),
        secret in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let secret = SharedSecret::new(secret);
        let mut first = Vec::new();
        let accepted = build_reply(&mut first, code, id, with_ma, &attrs, &request_auth, &secret);
        let p = Packet::parse(&first).unwrap();
        prop_assert_eq!(p.code().as_u8(), code);
        prop_assert_eq!(p.identifier(), id);
        prop_assert!(verify_response_authenticator(&p, &request_auth, &secret));
        let expected_ma = if with_ma { MessageAuthenticator::Valid } else { MessageAuthenticator::Missing };
        prop_assert_eq!(verify_message_authenticator(&p, &secret, Some(&request_auth)).unwrap(), expected_ma);

        let decoded: Vec<(u8, Vec<u8>)> = p
            .attributes()
            .filter(|a| a.typ != attr::MESSAGE_AUTHENTICATOR)
            .map(|a| (a.typ, a.value.to_vec()))
            .collect();
        prop_assert_eq!(&decoded[..], &attrs[..accepted]);

        let mut second = Vec::new();
        let again = build_reply(&mut second, code, id, with_ma, &decoded, &request_auth, &secret);
        prop_assert_eq!(again, decoded.len());
        prop_assert_eq!(&first, &second);
        let q = Packet::parse(&second).unwrap();
        prop_assert_eq!(attrs_of(&q), attrs_of(&p));
    }

    #[test]
    fn password_round_trip_any(
        plain in proptest::collection::vec(1u8..=255, 0..=128),
        secret in proptest::collection::vec(any::<u8>(), 1..64),
        ra in any::<[u8; 16]>(),
    ) {
        let secret = SharedSecret::new(secret);
        let mut hidden = Vec::new();
        hide_password(&plain, &secret, &ra, &mut hidden).unwrap();
        prop_assert_eq!(hidden.len() % 16, 0);
        let back = unhide_password(&hidden, &secret, &ra).unwrap();
        prop_assert_eq!(back.as_slice(), &plain[..]);
    }
}

// RFC 5997 section 6: a Status-Server with a Message-Authenticator, and its Access-Accept.
const RFC_5997_STATUS_SERVER: &str = "0c da 00 26 8a 54 f4 68 6f b3 94 c5 28 66 e3 02
    18 5d 06 23 50 12 5a 66 5e 2e 1e 84 11 f3 e2 43 82 20 97 c8 4f a3";
const RFC_5997_ACCEPT: &str = "02 da 00 14 ef 0d 55 2a 4b f2 d6 93 ec 2b 6f e8
    b5 41 1d 66";

#[test]
fn rfc5997_status_server_example() {
    let bytes = hex(RFC_5997_STATUS_SERVER);
    let p = Packet::parse(&bytes).unwrap();
    assert_eq!(p.code(), Code::StatusServer);
    assert_eq!(
        verify_message_authenticator(&p, &SECRET, None).unwrap(),
        MessageAuthenticator::Valid
    );
    assert!(
        verify_message_authenticator(&p, &SharedSecret::new(b"xyzzy5460".to_vec()), None).is_err()
    );
    let mut out = Vec::new();
    let mut b = PacketBuilder::new(&mut out, Code::StatusServer, 0xda);
    b.message_authenticator();
    b.finish_access_request(p.authenticator(), &SECRET).unwrap();
    assert_eq!(out, bytes);

    let accept_bytes = hex(RFC_5997_ACCEPT);
    let accept = Packet::parse(&accept_bytes).unwrap();
    assert!(verify_response_authenticator(
        &accept,
        p.authenticator(),
        &SECRET
    ));
    PacketBuilder::new(&mut out, Code::AccessAccept, 0xda)
        .finish_reply(p.authenticator(), &SECRET)
        .unwrap();
    assert_eq!(out, accept_bytes);
}

#[test]
fn password_helpers_without_allocation() {
    let req_bytes = hex(RFC_7_1_REQUEST);
    let req = Packet::parse(&req_bytes).unwrap();
    let hidden = req.get(attr::USER_PASSWORD).unwrap();
    let mut buf = zeroize::Zeroizing::new([0xFFu8; MAX_PASSWORD_LEN]);
    let plain = unhide_password_into(hidden, &SECRET, req.authenticator(), &mut buf).unwrap();
    assert_eq!(plain, b"arctangent");
    assert!(password_matches(
        hidden,
        &SECRET,
        req.authenticator(),
        b"arctangent"
    ));
    assert!(!password_matches(
        hidden,
        &SECRET,
        req.authenticator(),
        b"arctangenT"
    ));
    assert!(!password_matches(
        hidden,
        &SECRET,
        req.authenticator(),
        b"arctangent\0"
    ));
    assert!(!password_matches(
        hidden,
        &SharedSecret::new(b"wrong".to_vec()),
        req.authenticator(),
        b"arctangent"
    ));
    assert!(!password_matches(
        &hidden[..15],
        &SECRET,
        req.authenticator(),
        b"arctangent"
    ));
}

#[test]
fn chap_password() {
    let ident = 0x2A;
    let challenge = [0x10u8; 16];
    let mut input = vec![ident];
    input.extend_from_slice(b"3c22fb123456");
    input.extend_from_slice(&challenge);
    let response: [u8; 16] = Md5::digest(&input).into();
    let mut value = vec![ident];
    value.extend_from_slice(&response);
    assert!(verify_chap_password(&value, &challenge, b"3c22fb123456"));
    assert!(!verify_chap_password(&value, &challenge, b"3c22fb123457"));
    assert!(!verify_chap_password(&value, &[0x11; 16], b"3c22fb123456"));
    assert!(!verify_chap_password(
        &value[..16],
        &challenge,
        b"3c22fb123456"
    ));
    assert!(!verify_chap_password(&[], &challenge, b""));

    // the challenge is the CHAP-Challenge attribute if present, else the authenticator
    let req_bytes = hex(RFC_7_2_REQUEST);
    let req = Packet::parse(&req_bytes).unwrap();
    assert_eq!(chap_challenge(&req), req.authenticator());
    let mut out = Vec::new();
    let mut b = PacketBuilder::new(&mut out, Code::AccessRequest, 1);
    b.attr(attr::CHAP_CHALLENGE, &challenge).unwrap();
    b.finish_access_request(&[9; 16], &SECRET).unwrap();
    let p = Packet::parse(&out).unwrap();
    assert_eq!(chap_challenge(&p), challenge);
}
