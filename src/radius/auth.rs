//! Shared-secret cryptography: User-Password hiding (RFC 2865 section 5.2), Request and
//! Response Authenticators (RFC 2865 section 3, RFC 2866 section 3, RFC 5176 section 2.3)
//! and the Message-Authenticator (RFC 3579 section 3.2, RFC 5176 section 3.3, RFC 5997).
//!
//! Every comparison of a received MAC is constant-time. Nothing here allocates except
//! [`unhide_password`], whose result is wiped on drop.

use hmac::Mac;
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::packet::HEADER_LEN;
use super::{Code, Packet, RadiusError, attr};
// Re-exported here so that the codec's callers keep naming it `radius::SharedSecret`.
pub use crate::secret::SharedSecret;

/// Largest password RFC 2865 section 5.2 can carry.
pub const MAX_PASSWORD_LEN: usize = 128;

const ZEROS: [u8; 16] = [0; 16];

/// MD5(secret + previous block): the keystream block of RFC 2865 section 5.2.
fn password_block(secret: &[u8], prev: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(secret);
    h.update(prev);
    h.finalize().into()
}

/// Recovers a User-Password hidden per RFC 2865 section 5.2.
///
/// `hidden` must be a multiple of 16 octets in 16..=128. Trailing NUL padding is stripped.
/// The result is wiped when dropped. A wrong secret yields garbage, not an error: the
/// caller compares the result with the expected password (see [`password_matches`]).
pub fn unhide_password(
    hidden: &[u8],
    secret: &SharedSecret,
    request_authenticator: &[u8; 16],
) -> Result<Zeroizing<Vec<u8>>, RadiusError> {
    let mut buf = Zeroizing::new([0u8; MAX_PASSWORD_LEN]);
    let plain = unhide_password_into(hidden, secret, request_authenticator, &mut buf)?;
    Ok(Zeroizing::new(plain.to_vec()))
}

/// Like [`unhide_password`], without allocating: writes into `out` and returns the
/// password (trailing NULs stripped) as a slice of it. The caller wipes `out`, e.g. by
/// keeping it in a `Zeroizing<[u8; 128]>`.
pub fn unhide_password_into<'o>(
    hidden: &[u8],
    secret: &SharedSecret,
    request_authenticator: &[u8; 16],
    out: &'o mut [u8; MAX_PASSWORD_LEN],
) -> Result<&'o [u8], RadiusError> {
    let len = hidden.len();
    if len == 0 || len > MAX_PASSWORD_LEN || !len.is_multiple_of(16) {
        return Err(RadiusError::BadPasswordLength { len });
    }
    let mut prev: &[u8] = request_authenticator;
    for (chunk, dst) in hidden.chunks_exact(16).zip(out.chunks_exact_mut(16)) {
        let mut b = password_block(secret.as_bytes(), prev);
        dst.iter_mut()
            .zip(chunk.iter().zip(&b))
            .for_each(|(d, (c, k))| *d = c ^ k);
        b.zeroize();
        prev = chunk;
    }
    let plain = out.get(..len).unwrap_or_default();
    let keep = plain.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
    Ok(plain.get(..keep).unwrap_or_default())
}

/// Unhides a User-Password and compares it with `expected` in constant time (for equal
/// lengths). False for a malformed hidden value.
pub fn password_matches(
    hidden: &[u8],
    secret: &SharedSecret,
    request_authenticator: &[u8; 16],
    expected: &[u8],
) -> bool {
    let mut buf = Zeroizing::new([0u8; MAX_PASSWORD_LEN]);
    match unhide_password_into(hidden, secret, request_authenticator, &mut buf) {
        Ok(plain) => plain.ct_eq(expected).into(),
        Err(_) => false,
    }
}

/// The challenge a CHAP-Password answers: the CHAP-Challenge attribute if present, else
/// the Request Authenticator (RFC 2865 section 2.2 and 5.3).
pub fn chap_challenge<'a>(p: &Packet<'a>) -> &'a [u8] {
    p.get(attr::CHAP_CHALLENGE)
        .unwrap_or(p.authenticator().as_slice())
}

/// Checks a CHAP-Password value (CHAP identifier, then 16-octet response) against the
/// clear-text password: response = MD5(identifier + password + challenge) (RFC 1994
/// section 4.1, RFC 2865 section 5.3). Constant-time compare.
pub fn verify_chap_password(chap_password: &[u8], challenge: &[u8], password: &[u8]) -> bool {
    let Some((ident, response)) = chap_password.split_first() else {
        return false;
    };
    if response.len() != 16 {
        return false;
    }
    let mut h = Md5::new();
    h.update([*ident]);
    h.update(password);
    h.update(challenge);
    let expected: [u8; 16] = h.finalize().into();
    expected.ct_eq(response).into()
}

/// Hides a User-Password per RFC 2865 section 5.2 into `out` (cleared first).
///
/// The password is padded with NULs to a multiple of 16 (an empty password becomes one
/// block); more than 128 octets is rejected.
pub fn hide_password(
    plain: &[u8],
    secret: &SharedSecret,
    request_authenticator: &[u8; 16],
    out: &mut Vec<u8>,
) -> Result<(), RadiusError> {
    if plain.len() > MAX_PASSWORD_LEN {
        return Err(RadiusError::PasswordTooLong { len: plain.len() });
    }
    let padded = plain.len().div_ceil(16).max(1) * 16;
    out.clear();
    out.extend_from_slice(plain);
    out.resize(padded, 0);
    let mut prev = *request_authenticator;
    for chunk in out.chunks_exact_mut(16) {
        let mut b = password_block(secret.as_bytes(), &prev);
        chunk.iter_mut().zip(&b).for_each(|(c, k)| *c ^= k);
        b.zeroize();
        prev.copy_from_slice(chunk);
    }
    Ok(())
}

/// Result of [`verify_message_authenticator`] when nothing is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageAuthenticator {
    /// Present and correct.
    Valid,
    /// Absent. Whether that is acceptable is the caller's policy (BlastRADIUS: an
    /// Access-Request without one should be dropped).
    Missing,
}

/// HMAC-MD5 over a packet whose Authenticator field is replaced by `auth_field` and whose
/// Message-Authenticator value (16 octets at `ma_value_at`) counts as zeros. Nothing is
/// copied: the packet is fed to the MAC in pieces around the replaced fields.
pub(crate) fn compute_message_authenticator(
    packet: &[u8],
    auth_field: &[u8; 16],
    ma_value_at: usize,
    secret: &SharedSecret,
) -> Result<[u8; 16], RadiusError> {
    let mut mac = secret.hmac().ok_or(RadiusError::HmacKey)?;
    mac.update(packet.get(..4).unwrap_or_default());
    mac.update(auth_field);
    mac.update(packet.get(HEADER_LEN..ma_value_at).unwrap_or_default());
    mac.update(&ZEROS);
    mac.update(packet.get(ma_value_at + 16..).unwrap_or_default());
    Ok(mac.finalize().into_bytes().into())
}

/// MD5(Code + Identifier + Length + `auth_field` + Attributes + Secret): the Response
/// Authenticator (with the request's authenticator) or the computed Request Authenticator
/// (with 16 zeros).
pub(crate) fn compute_authenticator(
    packet: &[u8],
    auth_field: &[u8; 16],
    secret: &SharedSecret,
) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(packet.get(..4).unwrap_or_default());
    h.update(auth_field);
    h.update(packet.get(HEADER_LEN..).unwrap_or_default());
    h.update(secret.as_bytes());
    h.finalize().into()
}

/// Verifies the Message-Authenticator (type 80) of a packet, wherever it is placed.
///
/// The HMAC-MD5 keyed with `secret` is computed over the whole packet with the
/// Message-Authenticator value taken as 16 zero octets and the Authenticator field taken as:
/// - `Some(request_authenticator)`: use this for every reply, passing the authenticator of
///   the request it answers. Access-Accept/-Reject/-Challenge are checked with that value
///   (RFC 3579 section 3.2); Accounting-Response and Disconnect/CoA ACK/NAK with 16 zero
///   octets (RFC 5176 section 3.3, as FreeRADIUS does).
/// - `None`: the packet is a request. For Accounting-Request, Disconnect-Request and
///   CoA-Request the field is taken as 16 zero octets, because their authenticator is
///   itself computed after the Message-Authenticator (RFC 5176 section 3.3, RFC 5080
///   section 2.2.1 practice); for every other code (Access-Request, Status-Server) the
///   packet's own authenticator is used as sent.
///
/// Returns `Ok(Missing)` without the attribute, `Err` when there are two of them
/// (RFC 3579 section 3.2 allows one), its length is not 16, or it does not match.
pub fn verify_message_authenticator(
    p: &Packet,
    secret: &SharedSecret,
    request_authenticator: Option<&[u8; 16]>,
) -> Result<MessageAuthenticator, RadiusError> {
    let mut found: Option<(usize, &[u8])> = None;
    let mut offset = HEADER_LEN;
    for a in p.attributes() {
        if a.typ == attr::MESSAGE_AUTHENTICATOR {
            if found.is_some() {
                return Err(RadiusError::DuplicateMessageAuthenticator);
            }
            found = Some((offset + 2, a.value));
        }
        offset += 2 + a.value.len();
    }
    let Some((value_at, value)) = found else {
        return Ok(MessageAuthenticator::Missing);
    };
    if value.len() != 16 {
        return Err(RadiusError::BadMessageAuthenticatorLength { len: value.len() });
    }
    let auth_field = match request_authenticator {
        Some(_) if reply_ma_uses_zeros(p.code()) => &ZEROS,
        Some(a) => a,
        None if p.code().has_computed_request_authenticator() => &ZEROS,
        None => p.authenticator(),
    };
    let expected = compute_message_authenticator(p.bytes(), auth_field, value_at, secret)?;
    if bool::from(expected.ct_eq(value)) {
        Ok(MessageAuthenticator::Valid)
    } else {
        Err(RadiusError::BadMessageAuthenticator)
    }
}

/// Verifies the computed Request Authenticator of an Accounting-Request (RFC 2866
/// section 3), Disconnect-Request or CoA-Request (RFC 5176 section 2.3):
/// MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret). Constant-time.
pub fn verify_request_authenticator(p: &Packet, secret: &SharedSecret) -> bool {
    compute_authenticator(p.bytes(), &ZEROS, secret)
        .ct_eq(p.authenticator())
        .into()
}

/// Verifies the Response Authenticator of a reply (RFC 2865 section 3):
/// MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret).
/// Constant-time.
pub fn verify_response_authenticator(
    reply: &Packet,
    request_authenticator: &[u8; 16],
    secret: &SharedSecret,
) -> bool {
    compute_authenticator(reply.bytes(), request_authenticator, secret)
        .ct_eq(reply.authenticator())
        .into()
}

/// Replies whose Message-Authenticator is computed with 16 zero octets in the Authenticator
/// field rather than the request's authenticator: Accounting-Response and the
/// Disconnect/CoA ACKs and NAKs (RFC 5176 section 3.3; FreeRADIUS signs and verifies them
/// this way, and so do NAS that interoperate with it).
pub(crate) fn reply_ma_uses_zeros(code: Code) -> bool {
    matches!(
        code,
        Code::AccountingResponse
            | Code::DisconnectAck
            | Code::DisconnectNak
            | Code::CoaAck
            | Code::CoaNak
    )
}

/// True for codes that answer a request (their authenticator is a Response Authenticator).
pub fn is_reply(code: Code) -> bool {
    matches!(
        code,
        Code::AccessAccept
            | Code::AccessReject
            | Code::AccessChallenge
            | Code::AccountingResponse
            | Code::DisconnectAck
            | Code::DisconnectNak
            | Code::CoaAck
            | Code::CoaNak
    )
}
