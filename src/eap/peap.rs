//! The inside of PEAPv0 ([MS-PEAP]): tunnelled EAP packets without their four-octet header
//! (except Extensions, type 33, which keeps it), the EAP-MSCHAPv2 messages
//! (draft-kamath-pppext-eap-mschapv2, RFC 2759) and the Result TLV (section 2.2.8.1).
//!
//! What it owns: writing the server's inner messages and parsing the peer's, with bounds.
//! What it must not do: compute or check MSCHAPv2 values (the caller does, through
//! [`MsChapV2Verifier`]), or drive the conversation (the session does).

use thiserror::Error;

use super::packet::{EapPacket, EapType, HEADER_LEN};

const OP_CHALLENGE: u8 = 1;
const OP_RESPONSE: u8 = 2;
const OP_SUCCESS: u8 = 3;
const OP_FAILURE: u8 = 4;
/// Peer-Challenge (16), Reserved (8), NT-Response (24), Flags (1).
const RESPONSE_VALUE_LEN: usize = 49;
const TLV_RESULT: u16 = 3;
const TLV_MANDATORY: u16 = 0x8000;
const TLV_TYPE_MASK: u16 = 0x3fff;
const RESULT_SUCCESS: u16 = 1;
/// The longest user name accepted in an inner identity or MSCHAPv2 Name.
pub const MAX_NAME_LEN: usize = 253;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PeapError {
    #[error("empty tunnelled packet")]
    Empty,
    #[error("tunnelled EAP packet: {0}")]
    Packet(#[from] super::packet::PacketError),
    #[error("MSCHAPv2 message too short ({0} octets)")]
    ShortMsChapV2(usize),
    #[error("MSCHAPv2 Value-Size {0}, expected 49")]
    BadValueSize(u8),
    #[error("MSCHAPv2 op-code {0} where {1} was expected")]
    UnexpectedOpCode(u8, u8),
    #[error("name of {0} octets, or not UTF-8")]
    BadName(usize),
    #[error("malformed TLV")]
    BadTlv,
    #[error("mandatory TLV {0} not understood")]
    UnknownMandatoryTlv(u16),
    #[error("no Result TLV")]
    NoResult,
}

/// What the peer sent in its MSCHAPv2 Response, for the caller to check.
#[derive(Clone, PartialEq, Eq)]
pub struct MsChapV2Check {
    /// The inner identity: the account to check.
    pub user: String,
    /// The MSCHAPv2 Name, any "DOMAIN\" prefix removed: the UserName of RFC 2759's
    /// ChallengeHash.
    pub name: Vec<u8>,
    pub authenticator_challenge: [u8; 16],
    pub peer_challenge: [u8; 16],
    pub nt_response: [u8; 24],
}

impl std::fmt::Debug for MsChapV2Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsChapV2Check")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The MSCHAPv2 computations (RFC 2759 sections 8.1 to 8.7), implemented by the MSCHAPv2
/// module and handed to [`MsChapV2Check::verdict`].
pub trait MsChapV2Verifier {
    /// Checks `check.nt_response` against GenerateNTResponse from `nt_hash`; when it
    /// matches, returns GenerateAuthenticatorResponse's 20 octets (the "S=" value).
    fn verify(&self, nt_hash: &[u8; 16], check: &MsChapV2Check) -> Option<[u8; 20]>;
}

impl MsChapV2Check {
    /// The verdict for this response given the user's NT hash (None: unknown user, or no
    /// NT hash on file; the peer learns nothing more than from a wrong password).
    pub fn verdict(
        &self,
        nt_hash: Option<&[u8; 16]>,
        verifier: &impl MsChapV2Verifier,
    ) -> super::session::Verdict {
        match nt_hash.and_then(|hash| verifier.verify(hash, self)) {
            Some(authenticator_response) => super::session::Verdict::AcceptMsChapV2 {
                authenticator_response,
            },
            None => super::session::Verdict::Reject,
        }
    }
}

/// A tunnelled response: type and data. PEAPv0 leaves the header out, but some peers
/// send it anyway (and always for Extensions); a full Response header whose Length matches
/// is taken as one.
pub fn inner_response(plaintext: &[u8]) -> Result<(EapType, Vec<u8>), PeapError> {
    match plaintext {
        [] => Err(PeapError::Empty),
        [2, _, hi, lo, _, ..] if usize::from(u16::from_be_bytes([*hi, *lo])) == plaintext.len() => {
            match EapPacket::decode(plaintext)? {
                EapPacket::Response(m) => Ok((m.kind, m.data)),
                _ => Err(PeapError::Empty),
            }
        }
        [kind, data @ ..] => Ok((EapType::from_u8(*kind), data.to_vec())),
    }
}

/// The inner Identity Request, header left out.
pub fn identity_request() -> Vec<u8> {
    vec![EapType::Identity.to_u8()]
}

/// The inner identity as a user name.
pub fn parse_identity(data: &[u8]) -> Result<String, PeapError> {
    name(data)
}

fn name(data: &[u8]) -> Result<String, PeapError> {
    if data.is_empty() || data.len() > MAX_NAME_LEN {
        return Err(PeapError::BadName(data.len()));
    }
    String::from_utf8(data.to_vec()).map_err(|_| PeapError::BadName(data.len()))
}

fn mschapv2(op: u8, ms_id: u8, body: &[u8]) -> Vec<u8> {
    let ms_len = u16::try_from(4 + body.len()).unwrap_or(u16::MAX);
    let mut out = vec![EapType::MsChapV2.to_u8(), op, ms_id];
    out.extend_from_slice(&ms_len.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The MSCHAPv2 Challenge, header left out.
pub fn challenge_request(ms_id: u8, challenge: &[u8; 16], server_name: &str) -> Vec<u8> {
    let mut body = vec![16];
    body.extend_from_slice(challenge);
    body.extend_from_slice(server_name.as_bytes());
    mschapv2(OP_CHALLENGE, ms_id, &body)
}

/// Parses the peer's MSCHAPv2 Response (the data after the type octet).
pub fn parse_response(
    data: &[u8],
    user: &str,
    authenticator_challenge: &[u8; 16],
) -> Result<MsChapV2Check, PeapError> {
    let [op, _ms_id, _, _, value_size, rest @ ..] = data else {
        return Err(PeapError::ShortMsChapV2(data.len()));
    };
    if *op != OP_RESPONSE {
        return Err(PeapError::UnexpectedOpCode(*op, OP_RESPONSE));
    }
    if usize::from(*value_size) != RESPONSE_VALUE_LEN {
        return Err(PeapError::BadValueSize(*value_size));
    }
    let (value, name_field) = rest
        .split_at_checked(RESPONSE_VALUE_LEN)
        .ok_or(PeapError::ShortMsChapV2(data.len()))?;
    let name_field = name(name_field)?;
    let name = match name_field.rsplit_once('\\') {
        Some((_, user_part)) => user_part,
        None => &name_field,
    };
    let mut check = MsChapV2Check {
        user: user.to_string(),
        name: name.as_bytes().to_vec(),
        authenticator_challenge: *authenticator_challenge,
        peer_challenge: [0; 16],
        nt_response: [0; 24],
    };
    check.peer_challenge.copy_from_slice(&value[..16]);
    check.nt_response.copy_from_slice(&value[24..48]);
    Ok(check)
}

/// The MSCHAPv2 Success Request with the authenticator response (RFC 2759 section 5).
pub fn success_request(ms_id: u8, authenticator_response: &[u8; 20]) -> Vec<u8> {
    let mut message = String::from("S=");
    for b in authenticator_response {
        message.push_str(&format!("{b:02X}"));
    }
    message.push_str(" M=OK");
    mschapv2(OP_SUCCESS, ms_id, message.as_bytes())
}

/// Whether the data after the type octet is the peer's Success Response (true) or a
/// Failure Response (false).
pub fn parse_success_response(data: &[u8]) -> Result<bool, PeapError> {
    match data.first() {
        Some(&OP_SUCCESS) => Ok(true),
        Some(&OP_FAILURE) => Ok(false),
        Some(&op) => Err(PeapError::UnexpectedOpCode(op, OP_SUCCESS)),
        None => Err(PeapError::ShortMsChapV2(0)),
    }
}

/// An Extensions Request with the Result TLV, with its full EAP header.
pub fn result_request(id: u8, success: bool) -> Vec<u8> {
    let status: u16 = if success { RESULT_SUCCESS } else { 2 };
    let mut out = vec![1, id, 0, 11, EapType::Extensions.to_u8()];
    out.extend_from_slice(&(TLV_MANDATORY | TLV_RESULT).to_be_bytes());
    out.extend_from_slice(&2u16.to_be_bytes());
    out.extend_from_slice(&status.to_be_bytes());
    debug_assert_eq!(out.len(), HEADER_LEN + 7);
    out
}

/// The status in the peer's Result TLV: true for Success.
pub fn parse_result(mut tlvs: &[u8]) -> Result<bool, PeapError> {
    let mut result = None;
    while !tlvs.is_empty() {
        let [t0, t1, l0, l1, rest @ ..] = tlvs else {
            return Err(PeapError::BadTlv);
        };
        let kind = u16::from_be_bytes([*t0, *t1]);
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let (value, next) = rest.split_at_checked(len).ok_or(PeapError::BadTlv)?;
        match (kind & TLV_TYPE_MASK, value) {
            (TLV_RESULT, [s0, s1]) => {
                result = Some(u16::from_be_bytes([*s0, *s1]) == RESULT_SUCCESS)
            }
            (TLV_RESULT, _) => return Err(PeapError::BadTlv),
            (other, _) if kind & TLV_MANDATORY != 0 => {
                return Err(PeapError::UnknownMandatoryTlv(other));
            }
            _ => {}
        }
        tlvs = next;
    }
    result.ok_or(PeapError::NoResult)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn compressed_and_full_inner_responses() {
        assert_eq!(
            inner_response(b"\x01anna").unwrap(),
            (EapType::Identity, b"anna".to_vec())
        );
        assert_eq!(
            inner_response(&[2, 5, 0, 9, 1, b'a', b'n', b'n', b'a']).unwrap(),
            (EapType::Identity, b"anna".to_vec())
        );
        assert_eq!(inner_response(&[]), Err(PeapError::Empty));
    }

    #[test]
    fn challenge_and_success_layout() {
        let c = challenge_request(7, &[0xaa; 16], "hallpass");
        assert_eq!(&c[..6], &[26, 1, 7, 0, 29, 16]);
        assert_eq!(&c[22..], b"hallpass");
        let s = success_request(8, &[0xab; 20]);
        assert_eq!(&s[..5], &[26, 3, 8, 0, 51]);
        assert_eq!(&s[5..9], b"S=AB");
        assert!(s.ends_with(b" M=OK"));
    }

    #[test]
    fn parses_a_response_and_strips_the_domain() {
        let mut data = vec![2, 7, 0, 63, 49];
        data.extend_from_slice(&[1; 16]);
        data.extend_from_slice(&[0; 8]);
        data.extend_from_slice(&[2; 24]);
        data.push(0);
        data.extend_from_slice(b"SCHULE\\anna");
        let check = parse_response(&data, "anna", &[3; 16]).unwrap();
        assert_eq!(check.name, b"anna");
        assert_eq!(check.peer_challenge, [1; 16]);
        assert_eq!(check.nt_response, [2; 24]);
        assert_eq!(check.authenticator_challenge, [3; 16]);
        assert_eq!(
            parse_response(&data[..20], "anna", &[3; 16]),
            Err(PeapError::ShortMsChapV2(20))
        );
        data[4] = 16;
        assert_eq!(
            parse_response(&data, "anna", &[3; 16]),
            Err(PeapError::BadValueSize(16))
        );
    }

    #[test]
    fn result_tlv_round_trip() {
        let req = result_request(9, true);
        assert_eq!(req, [1, 9, 0, 11, 33, 0x80, 3, 0, 2, 0, 1]);
        assert_eq!(parse_result(&req[5..]), Ok(true));
        assert_eq!(parse_result(&result_request(9, false)[5..]), Ok(false));
        assert_eq!(
            parse_result(&[0x80, 7, 0, 0]),
            Err(PeapError::UnknownMandatoryTlv(7))
        );
        assert_eq!(parse_result(&[0x00, 7, 0, 0]), Err(PeapError::NoResult));
        assert_eq!(parse_result(&[0x80, 3, 0, 5, 0]), Err(PeapError::BadTlv));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = inner_response(&data);
            let _ = parse_response(&data, "u", &[0; 16]);
            let _ = parse_result(&data);
            let _ = parse_success_response(&data);
        }
    }
}
