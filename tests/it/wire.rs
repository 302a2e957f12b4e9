//! Packets made and checked by hand from RFC 2865 (sections 3, 5.2) and RFC 3579 (3.2),
//! with md-5 and hmac directly: an independent check of what hallpass sends, which must not
//! lean on hallpass's own codec.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};

pub const ACCESS_REQUEST: u8 = 1;
pub const ACCESS_ACCEPT: u8 = 2;
pub const ACCESS_REJECT: u8 = 3;
pub const USER_NAME: u8 = 1;
pub const USER_PASSWORD: u8 = 2;
pub const PROXY_STATE: u8 = 33;
pub const NAS_PORT_TYPE: u8 = 61;
pub const MESSAGE_AUTHENTICATOR: u8 = 80;

fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    let mut m = <Hmac<Md5> as Mac>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().into()
}

/// An Access-Request: header, then `attrs` in order; with `message_authenticator` an MA
/// attribute is appended and computed over the whole packet (RFC 3579 3.2).
pub fn access_request(
    id: u8,
    authenticator: [u8; 16],
    attrs: &[(u8, Vec<u8>)],
    secret: &[u8],
    message_authenticator: bool,
) -> Vec<u8> {
    let mut p = vec![ACCESS_REQUEST, id, 0, 0];
    p.extend_from_slice(&authenticator);
    for (t, v) in attrs {
        p.push(*t);
        p.push((v.len() + 2) as u8);
        p.extend_from_slice(v);
    }
    let ma_at = p.len();
    if message_authenticator {
        p.extend_from_slice(&[MESSAGE_AUTHENTICATOR, 18]);
        p.extend_from_slice(&[0; 16]);
    }
    let len = p.len() as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    if message_authenticator {
        let mac = hmac_md5(secret, &p);
        p[ma_at + 2..ma_at + 18].copy_from_slice(&mac);
    }
    p
}

/// RFC 2865 5.2: c(i) = p(i) xor MD5(S + c(i-1)), c(0) uses the Request Authenticator.
pub fn hide_password(password: &[u8], secret: &[u8], authenticator: &[u8; 16]) -> Vec<u8> {
    let mut padded = password.to_vec();
    while padded.is_empty() || !padded.len().is_multiple_of(16) {
        padded.push(0);
    }
    let mut out = Vec::new();
    let mut prev = authenticator.to_vec();
    for chunk in padded.chunks(16) {
        let mut h = Md5::new();
        h.update(secret);
        h.update(&prev);
        let b = h.finalize();
        let c: Vec<u8> = chunk.iter().zip(b.iter()).map(|(p, b)| p ^ b).collect();
        out.extend_from_slice(&c);
        prev = c;
    }
    out
}

/// Sends and waits for one reply (None after `timeout`).
pub fn exchange(server: SocketAddr, packet: &[u8], timeout: Duration) -> Option<Vec<u8>> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    exchange_on(&s, server, packet, timeout)
}

pub fn exchange_on(
    s: &UdpSocket,
    server: SocketAddr,
    packet: &[u8],
    timeout: Duration,
) -> Option<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    s.send_to(packet, server).unwrap();
    let mut buf = [0u8; 4096];
    match recv_by(s, &mut buf, deadline) {
        Ok((n, _)) => Some(buf[..n].to_vec()),
        Err(_) => None,
    }
}

/// `recv_from` on `s` until `deadline`. A signal to the test process interrupts a read with
/// a timeout (SO_RCVTIMEO is not restarted after a handler, SA_RESTART or not: signal(7));
/// that is not the daemon's silence, so the read goes on for the time left.
pub fn recv_by(
    s: &UdpSocket,
    buf: &mut [u8],
    deadline: Instant,
) -> std::io::Result<(usize, SocketAddr)> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        s.set_read_timeout(Some(left))?;
        match s.recv_from(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// `read` on `s` until `deadline`, as [`recv_by`].
pub fn read_by(s: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> std::io::Result<usize> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        s.set_read_timeout(Some(left))?;
        match std::io::Read::read(s, buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// The attributes of a packet, in order, parsed by hand.
pub fn attributes(p: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let len = u16::from_be_bytes([p[2], p[3]]) as usize;
    let mut out = Vec::new();
    let mut i = 20;
    while i < len {
        let t = p[i];
        let l = p[i + 1] as usize;
        assert!(l >= 2 && i + l <= len, "attribute overruns the packet");
        out.push((t, p[i + 2..i + l].to_vec()));
        i += l;
    }
    out
}

/// The Authenticator field while the Message-Authenticator is computed: the request's for
/// Access-Accept/-Reject/-Challenge (RFC 3579 3.2), zeros for Accounting-Response and
/// Disconnect/CoA ACK/NAK (RFC 5176 3.3, as FreeRADIUS computes it).
fn ma_field(code: u8, req_auth: &[u8]) -> [u8; 16] {
    let mut f = [0u8; 16];
    if matches!(code, 2 | 3 | 11) {
        f.copy_from_slice(req_auth);
    }
    f
}

/// Checks a reply from the RFCs: length, Message-Authenticator as the FIRST attribute and
/// valid (computed with the Request Authenticator in the field, RFC 3579 3.2), and the
/// Response Authenticator (RFC 2865 3).
pub fn check_reply(reply: &[u8], request: &[u8], secret: &[u8]) {
    assert!(reply.len() >= 20, "reply too short");
    let len = u16::from_be_bytes([reply[2], reply[3]]) as usize;
    assert_eq!(len, reply.len(), "Length field matches the datagram");
    assert_eq!(reply[1], request[1], "identifier echoed");
    let req_auth = &request[4..20];
    // Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+Secret)
    let mut h = Md5::new();
    h.update(&reply[0..4]);
    h.update(req_auth);
    h.update(&reply[20..]);
    h.update(secret);
    assert_eq!(&h.finalize()[..], &reply[4..20], "Response Authenticator");
    // Message-Authenticator first
    assert_eq!(
        reply[20], MESSAGE_AUTHENTICATOR,
        "Message-Authenticator is the first attribute"
    );
    assert_eq!(reply[21], 18, "Message-Authenticator length");
    let mut copy = reply.to_vec();
    copy[4..20].copy_from_slice(&ma_field(reply[0], req_auth));
    copy[22..38].fill(0);
    assert_eq!(
        hmac_md5(secret, &copy),
        reply[22..38],
        "Message-Authenticator value"
    );
}

pub const ACCOUNTING_REQUEST: u8 = 4;
pub const ACCOUNTING_RESPONSE: u8 = 5;
pub const DISCONNECT_REQUEST: u8 = 40;
pub const DISCONNECT_ACK: u8 = 41;
pub const DISCONNECT_NAK: u8 = 42;
pub const NAS_IP_ADDRESS: u8 = 4;
pub const ACCT_STATUS_TYPE: u8 = 40;
pub const ACCT_SESSION_ID: u8 = 44;
pub const ERROR_CAUSE: u8 = 101;

/// A request whose authenticator is computed (RFC 2866 3, RFC 5176 2.3): Accounting-Request
/// or Disconnect-Request. MD5(Code+Identifier+Length+16 zero octets+Attributes+Secret).
pub fn computed_request(code: u8, id: u8, attrs: &[(u8, Vec<u8>)], secret: &[u8]) -> Vec<u8> {
    let mut p = vec![code, id, 0, 0];
    p.extend_from_slice(&[0; 16]);
    for (t, v) in attrs {
        p.push(*t);
        p.push((v.len() + 2) as u8);
        p.extend_from_slice(v);
    }
    let len = p.len() as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    let mut h = Md5::new();
    h.update(&p);
    h.update(secret);
    let a = h.finalize();
    p[4..20].copy_from_slice(&a);
    p
}

/// Checks a request with a computed authenticator and, if present, its Message-Authenticator
/// (computed with the authenticator field zeroed, RFC 5176 3.3).
pub fn check_computed_request(p: &[u8], secret: &[u8]) {
    let len = u16::from_be_bytes([p[2], p[3]]) as usize;
    assert_eq!(len, p.len(), "Length field matches the datagram");
    let mut zeroed = p.to_vec();
    zeroed[4..20].fill(0);
    let mut h = Md5::new();
    h.update(&zeroed);
    h.update(secret);
    assert_eq!(&h.finalize()[..], &p[4..20], "Request Authenticator");
    let mut i = 20;
    while i < len {
        let (t, l) = (p[i], p[i + 1] as usize);
        if t == MESSAGE_AUTHENTICATOR {
            assert_eq!(l, 18);
            let mut copy = zeroed.clone();
            copy[i + 2..i + 18].fill(0);
            assert_eq!(
                hmac_md5(secret, &copy),
                p[i + 2..i + 18],
                "Message-Authenticator"
            );
        }
        i += l;
    }
}

/// A reply (ACK/NAK/Accounting-Response) to `request`: Message-Authenticator first, then
/// `attrs`; Response Authenticator per RFC 2865 3.
pub fn reply(code: u8, request: &[u8], attrs: &[(u8, Vec<u8>)], secret: &[u8]) -> Vec<u8> {
    let mut p = vec![code, request[1], 0, 0];
    p.extend_from_slice(&ma_field(code, &request[4..20]));
    p.extend_from_slice(&[MESSAGE_AUTHENTICATOR, 18]);
    p.extend_from_slice(&[0; 16]);
    for (t, v) in attrs {
        p.push(*t);
        p.push((v.len() + 2) as u8);
        p.extend_from_slice(v);
    }
    let len = p.len() as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    let mac = hmac_md5(secret, &p);
    p[22..38].copy_from_slice(&mac);
    p[4..20].copy_from_slice(&request[4..20]);
    let mut h = Md5::new();
    h.update(&p);
    h.update(secret);
    let a = h.finalize();
    p[4..20].copy_from_slice(&a);
    p
}
