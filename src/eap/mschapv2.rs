//! MS-CHAPv2 for PEAPv0/EAP-MSCHAPv2: the RFC 2759 hashes and responses, the RFC 3079 MPPE
//! key derivation, and the EAP-MSCHAPv2 packet body (draft-kamath-pppext-eap-mschapv2-02,
//! section 2) as encode/decode.
//!
//! What it owns: the NT password hash ([`NtHash`], secret, wiped on drop, never printed), the
//! check of a peer's NT-Response against the stored hash ([`verify_nt_response`], constant
//! time) and the Authenticator Response the server proves itself with, the master and start
//! keys of RFC 3079, and the Challenge/Response/Success/Failure/Change-Password bodies.
//!
//! What it must not do: keep conversation state, pick challenges (randomness comes from the
//! caller), look users up, or do I/O. Decoding never panics on any input.

use std::fmt;

use des::Des;
use des::cipher::{BlockEncrypt, KeyInit};
use md4::Md4;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// OpCode of an MS-CHAPv2 Challenge (server to peer).
pub const OP_CHALLENGE: u8 = 1;
/// OpCode of an MS-CHAPv2 Response (peer to server).
pub const OP_RESPONSE: u8 = 2;
/// OpCode of an MS-CHAPv2 Success request, or the peer's one-octet acknowledgement.
pub const OP_SUCCESS: u8 = 3;
/// OpCode of an MS-CHAPv2 Failure request, or the peer's one-octet acknowledgement.
pub const OP_FAILURE: u8 = 4;
/// OpCode of an MS-CHAPv2 Change-Password packet (peer to server, RFC 2759 section 7).
pub const OP_CHANGE_PASSWORD: u8 = 7;

/// Value-Size of a Challenge: the 16-octet Authenticator Challenge.
const CHALLENGE_VALUE_SIZE: u8 = 16;
/// Value-Size of a Response: Peer-Challenge (16), Reserved (8), NT-Response (24), Flags (1).
const RESPONSE_VALUE_SIZE: u8 = 49;
/// OpCode, MS-CHAPv2-ID and MS-Length.
const HEADER_LEN: usize = 4;
/// The encrypted new password of a Change-Password packet (RFC 2759 section 8.9).
pub const ENCRYPTED_PASSWORD_LEN: usize = 516;
/// Header, Encrypted-Password, Encrypted-Hash, Peer-Challenge, Reserved, NT-Response, Flags.
const CHANGE_PASSWORD_LEN: usize = HEADER_LEN + ENCRYPTED_PASSWORD_LEN + 16 + 16 + 8 + 24 + 2;

/// Everything that can go wrong in this module: a malformed packet body, a body too long to
/// encode, or a stored NT hash that is not 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsChapError {
    /// The EAP Type-Data is empty: no OpCode.
    #[error("empty MS-CHAPv2 packet")]
    Empty,
    /// An OpCode other than 1, 2, 3, 4 or 7.
    #[error("unknown MS-CHAPv2 OpCode {opcode}")]
    UnknownOpCode { opcode: u8 },
    /// Shorter than the fixed part its OpCode requires.
    #[error("MS-CHAPv2 packet with OpCode {opcode} truncated: {len} octets, at least {needed}")]
    Truncated {
        opcode: u8,
        len: usize,
        needed: usize,
    },
    /// MS-Length differs from the length of the packet it heads.
    #[error("MS-Length {ms_length} does not match the {len} octets of the packet")]
    LengthMismatch { ms_length: usize, len: usize },
    /// A Challenge whose Value-Size is not 16 or a Response whose Value-Size is not 49.
    #[error("MS-CHAPv2 OpCode {opcode} with Value-Size {value_size}")]
    BadValueSize { opcode: u8, value_size: u8 },
    /// The packet to encode would not fit the 16-bit MS-Length.
    #[error("MS-CHAPv2 packet of {len} octets exceeds MS-Length's 65535")]
    TooLong { len: usize },
    /// A stored NT hash that is not exactly 32 hexadecimal digits (the value is not shown).
    #[error("an NT hash must be 32 hexadecimal digits")]
    BadNtHash,
}

/// The NT password hash, MD4 of the UTF-16LE password (RFC 2759 section 8.3). It is what
/// `users.toml` stores as `nt_hash`, and it is password-equivalent for MS-CHAPv2: wiped on
/// drop, and `Debug` does not show it.
#[derive(Clone)]
pub struct NtHash(Zeroizing<[u8; 16]>);

impl NtHash {
    /// NtPasswordHash (RFC 2759 section 8.3) of a password.
    pub fn from_password(password: &str) -> NtHash {
        let mut utf16 = Zeroizing::new(Vec::with_capacity(password.len() * 2));
        for unit in password.encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        NtHash(Zeroizing::new(Md4::digest(utf16.as_slice()).into()))
    }

    pub fn from_bytes(bytes: [u8; 16]) -> NtHash {
        NtHash(Zeroizing::new(bytes))
    }

    /// Parses the 32 hex digits of `users.toml` (either case). The error never repeats
    /// the input, which may be a mistyped secret.
    pub fn from_hex(text: &str) -> Result<NtHash, MsChapError> {
        let text = text.as_bytes();
        if text.len() != 32 {
            return Err(MsChapError::BadNtHash);
        }
        let mut out = Zeroizing::new([0u8; 16]);
        for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
            let hi = hex_value(pair[0]).ok_or(MsChapError::BadNtHash)?;
            let lo = hex_value(pair[1]).ok_or(MsChapError::BadNtHash)?;
            *byte = (hi << 4) | lo;
        }
        Ok(NtHash(out))
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// HashNtPasswordHash (RFC 2759 section 8.4): MD4 of the hash, the "PasswordHashHash"
    /// behind the Authenticator Response and the MPPE master key.
    pub fn hash_hash(&self) -> Zeroizing<[u8; 16]> {
        Zeroizing::new(Md4::digest(self.0.as_slice()).into())
    }
}

impl fmt::Debug for NtHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NtHash(<secret>)")
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn push_hex_upper(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0x0F)]));
    }
}

/// The user name that goes into ChallengeHash: MS-CHAPv2 peers hash the account name
/// without a Windows domain, so `SCHOOL\anna` counts as `anna` (everything up to and
/// including the first backslash is dropped, as Windows and hostapd do).
pub fn challenge_user_name(identity: &[u8]) -> &[u8] {
    match identity.iter().position(|&b| b == b'\\') {
        Some(i) => identity.get(i + 1..).unwrap_or_default(),
        None => identity,
    }
}

/// ChallengeHash (RFC 2759 section 8.2): the first 8 octets of
/// SHA1(PeerChallenge + AuthenticatorChallenge + UserName).
pub fn challenge_hash(
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> [u8; 8] {
    let digest = Sha1::new()
        .chain_update(peer_challenge)
        .chain_update(authenticator_challenge)
        .chain_update(user_name)
        .finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// Spreads 7 key octets over the 8 of a DES key (RFC 2759 section 8.6): 7 bits per octet,
/// the low bit left as the parity bit DES ignores.
fn des_key(seven: &[u8; 7]) -> [u8; 8] {
    let [a, b, c, d, e, f, g] = *seven;
    [
        a,
        (a << 7) | (b >> 1),
        (b << 6) | (c >> 2),
        (c << 5) | (d >> 3),
        (d << 4) | (e >> 4),
        (e << 3) | (f >> 5),
        (f << 2) | (g >> 6),
        g << 1,
    ]
}

fn des_encrypt(seven: &[u8; 7], clear: &[u8; 8]) -> [u8; 8] {
    let key = Zeroizing::new(des_key(seven));
    let cipher = Des::new(&(*key).into());
    let mut block = (*clear).into();
    cipher.encrypt_block(&mut block);
    block.into()
}

/// ChallengeResponse (RFC 2759 section 8.5): the challenge DES-encrypted under the three
/// 7-octet thirds of the hash padded with zeros to 21 octets.
pub fn challenge_response(challenge: &[u8; 8], nt_hash: &NtHash) -> [u8; 24] {
    let mut z = Zeroizing::new([0u8; 21]);
    z[..16].copy_from_slice(nt_hash.as_bytes());
    let mut out = [0u8; 24];
    for (third, chunk) in z.chunks_exact(7).zip(out.chunks_exact_mut(8)) {
        let mut seven = Zeroizing::new([0u8; 7]);
        seven.copy_from_slice(third);
        chunk.copy_from_slice(&des_encrypt(&seven, challenge));
    }
    out
}

/// GenerateNTResponse (RFC 2759 section 8.1). `user_name` as it goes into ChallengeHash
/// (see [`challenge_user_name`]).
pub fn generate_nt_response(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    nt_hash: &NtHash,
) -> [u8; 24] {
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    challenge_response(&challenge, nt_hash)
}

/// The 20 octets the server proves knowledge of the password with (RFC 2759 section 8.7),
/// sent as "S=" and 40 upper-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AuthenticatorResponse([u8; 20]);

impl AuthenticatorResponse {
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Parses "S=" and 40 hex digits (either case), the form of the Success message;
    /// anything after the 42 octets (" M=...") is ignored.
    pub fn from_text(text: &[u8]) -> Option<AuthenticatorResponse> {
        let hex = text.strip_prefix(b"S=")?.get(..40)?;
        let mut out = [0u8; 20];
        for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
        }
        Some(AuthenticatorResponse(out))
    }
}

impl fmt::Display for AuthenticatorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(42);
        s.push_str("S=");
        push_hex_upper(&mut s, &self.0);
        f.write_str(&s)
    }
}

impl fmt::Debug for AuthenticatorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthenticatorResponse({self})")
    }
}

/// "Magic server to client signing constant" (RFC 2759 section 8.7).
const AUTH_MAGIC1: &[u8; 39] = b"Magic server to client signing constant";
/// "Pad to make it do more than one iteration" (RFC 2759 section 8.7).
const AUTH_MAGIC2: &[u8; 41] = b"Pad to make it do more than one iteration";

/// GenerateAuthenticatorResponse (RFC 2759 section 8.7).
pub fn generate_authenticator_response(
    nt_hash: &NtHash,
    nt_response: &[u8; 24],
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> AuthenticatorResponse {
    let hash_hash = nt_hash.hash_hash();
    let digest = Sha1::new()
        .chain_update(hash_hash.as_slice())
        .chain_update(nt_response)
        .chain_update(AUTH_MAGIC1)
        .finalize();
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    let digest = Sha1::new()
        .chain_update(digest)
        .chain_update(challenge)
        .chain_update(AUTH_MAGIC2)
        .finalize();
    AuthenticatorResponse(digest.into())
}

/// The server's check of a Response: recomputes the NT-Response from the stored hash and
/// compares in constant time. On a match, returns the Authenticator Response for the
/// Success message; `None` means a wrong password (or a user name that differs from the
/// one the peer hashed).
pub fn verify_nt_response(
    nt_hash: &NtHash,
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    nt_response: &[u8; 24],
) -> Option<AuthenticatorResponse> {
    let expected =
        generate_nt_response(authenticator_challenge, peer_challenge, user_name, nt_hash);
    if bool::from(expected.ct_eq(nt_response)) {
        Some(generate_authenticator_response(
            nt_hash,
            nt_response,
            peer_challenge,
            authenticator_challenge,
            user_name,
        ))
    } else {
        None
    }
}

/// The server's MSCHAPv2 check for PEAP: [`verify_nt_response`] behind
/// [`super::peap::MsChapV2Verifier`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Rfc2759;

impl super::peap::MsChapV2Verifier for Rfc2759 {
    fn verify(&self, nt_hash: &[u8; 16], check: &super::peap::MsChapV2Check) -> Option<[u8; 20]> {
        verify_nt_response(
            &NtHash::from_bytes(*nt_hash),
            &check.authenticator_challenge,
            &check.peer_challenge,
            &check.name,
            &check.nt_response,
        )
        .map(|r| *r.as_bytes())
    }
}

/// "This is the MPPE Master Key" (RFC 3079 section 3.4).
const MASTER_MAGIC: &[u8; 27] = b"This is the MPPE Master Key";
/// Magic2 of RFC 3079 section 3.4: the client's send key, the server's receive key.
const CLIENT_SEND_MAGIC: &[u8; 84] =
    b"On the client side, this is the send key; on the server side, it is the receive key.";
/// Magic3 of RFC 3079 section 3.4: the client's receive key, the server's send key.
const SERVER_SEND_MAGIC: &[u8; 84] =
    b"On the client side, this is the receive key; on the server side, it is the send key.";
const SHS_PAD1: [u8; 40] = [0x00; 40];
const SHS_PAD2: [u8; 40] = [0xF2; 40];

/// GetMasterKey (RFC 3079 section 3.4): the first 16 octets of
/// SHA1(PasswordHashHash + NT-Response + "This is the MPPE Master Key").
pub fn master_key(nt_hash: &NtHash, nt_response: &[u8; 24]) -> Zeroizing<[u8; 16]> {
    let hash_hash = nt_hash.hash_hash();
    let digest: Zeroizing<[u8; 20]> = Zeroizing::new(
        Sha1::new()
            .chain_update(hash_hash.as_slice())
            .chain_update(nt_response)
            .chain_update(MASTER_MAGIC)
            .finalize()
            .into(),
    );
    let mut out = Zeroizing::new([0u8; 16]);
    out.copy_from_slice(&digest[..16]);
    out
}

/// GetAsymmetricStartKey (RFC 3079 section 3.4) for 128-bit keys: one direction's start
/// key, seen from the server or the client. The server's send key is the client's receive
/// key and the other way round.
pub fn asymmetric_start_key(
    master_key: &[u8; 16],
    is_send: bool,
    is_server: bool,
) -> Zeroizing<[u8; 16]> {
    // the server's send direction is the client's receive direction
    let magic = if is_send == is_server {
        SERVER_SEND_MAGIC
    } else {
        CLIENT_SEND_MAGIC
    };
    let digest: Zeroizing<[u8; 20]> = Zeroizing::new(
        Sha1::new()
            .chain_update(master_key)
            .chain_update(SHS_PAD1)
            .chain_update(magic)
            .chain_update(SHS_PAD2)
            .finalize()
            .into(),
    );
    let mut out = Zeroizing::new([0u8; 16]);
    out.copy_from_slice(&digest[..16]);
    out
}

/// The server's two 128-bit start keys of one MS-CHAPv2 authentication (RFC 3079 section
/// 3.4, as hostapd's EAP-MSCHAPv2 server derives its key material: receive key, then send
/// key).
pub struct ServerStartKeys {
    pub send: Zeroizing<[u8; 16]>,
    pub receive: Zeroizing<[u8; 16]>,
}

impl ServerStartKeys {
    pub fn derive(nt_hash: &NtHash, nt_response: &[u8; 24]) -> ServerStartKeys {
        let master = master_key(nt_hash, nt_response);
        ServerStartKeys {
            send: asymmetric_start_key(&master, true, true),
            receive: asymmetric_start_key(&master, false, true),
        }
    }

    /// The 32 octets of EAP-MSCHAPv2 key material: receive key, then send key.
    pub fn key_material(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out[..16].copy_from_slice(self.receive.as_slice());
        out[16..].copy_from_slice(self.send.as_slice());
        out
    }
}

impl fmt::Debug for ServerStartKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerStartKeys(<secret>)")
    }
}

/// The message of a Success request: "S=<authenticator response> M=<text>"
/// (draft-kamath-pppext-eap-mschapv2 section 2, RFC 2759 section 5).
pub fn success_message(auth: &AuthenticatorResponse, text: &str) -> String {
    let mut s = String::with_capacity(45 + text.len());
    s.push_str(&auth.to_string());
    s.push_str(" M=");
    s.push_str(text);
    s
}

/// The message of a Failure request for a wrong password: "E=691 R=0 C=<challenge> V=3
/// M=<text>" (RFC 2759 section 6). R=0 tells the peer not to retry with the same
/// credentials, so Windows does not prompt in a loop; the challenge is the one a retry
/// would use; V=3 is the version Windows expects.
pub fn failure_message(challenge: &[u8; 16], text: &str) -> String {
    let mut s = String::with_capacity(60 + text.len());
    s.push_str("E=691 R=0 C=");
    push_hex_upper(&mut s, challenge);
    s.push_str(" V=3 M=");
    s.push_str(text);
    s
}

/// One EAP-MSCHAPv2 packet body (the EAP Type-Data after Type 26), borrowed from the
/// datagram when decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsChapPacket<'a> {
    /// Server to peer: the Authenticator Challenge and the server's name.
    Challenge {
        id: u8,
        challenge: [u8; 16],
        name: &'a [u8],
    },
    /// Peer to server: the Peer-Challenge, NT-Response, Flags (0) and the user name the
    /// peer hashed (which may carry a domain). The 8 reserved octets are written as zeros
    /// and ignored when read.
    Response {
        id: u8,
        peer_challenge: [u8; 16],
        nt_response: [u8; 24],
        flags: u8,
        name: &'a [u8],
    },
    /// Server to peer: "S=... M=..." (see [`success_message`]).
    Success { id: u8, message: &'a [u8] },
    /// Peer to server: the one-octet acknowledgement of a Success.
    SuccessAck,
    /// Server to peer: "E=... R=... C=... V=... M=..." (see [`failure_message`]).
    Failure { id: u8, message: &'a [u8] },
    /// Peer to server: the one-octet acknowledgement of a Failure.
    FailureAck,
    /// Peer to server after a Failure with E=648 (password expired), RFC 2759 section 7.
    ChangePassword {
        id: u8,
        encrypted_password: &'a [u8; ENCRYPTED_PASSWORD_LEN],
        encrypted_hash: [u8; 16],
        peer_challenge: [u8; 16],
        nt_response: [u8; 24],
        flags: u16,
    },
}

impl<'a> MsChapPacket<'a> {
    /// Decodes one packet body. Never panics; MS-Length must equal the body's length, as
    /// peers and hostapd write it.
    pub fn decode(body: &'a [u8]) -> Result<MsChapPacket<'a>, MsChapError> {
        let (&opcode, _) = body.split_first().ok_or(MsChapError::Empty)?;
        if !matches!(
            opcode,
            OP_CHALLENGE | OP_RESPONSE | OP_SUCCESS | OP_FAILURE | OP_CHANGE_PASSWORD
        ) {
            return Err(MsChapError::UnknownOpCode { opcode });
        }
        if body.len() == 1 {
            return match opcode {
                OP_SUCCESS => Ok(MsChapPacket::SuccessAck),
                OP_FAILURE => Ok(MsChapPacket::FailureAck),
                _ => Err(truncated(opcode, body, HEADER_LEN + 1)),
            };
        }
        let Some((&[_, id, ms_hi, ms_lo], rest)) = body.split_first_chunk::<HEADER_LEN>() else {
            return Err(truncated(opcode, body, HEADER_LEN));
        };
        let ms_length = usize::from(u16::from_be_bytes([ms_hi, ms_lo]));
        if ms_length != body.len() {
            return Err(MsChapError::LengthMismatch {
                ms_length,
                len: body.len(),
            });
        }
        match opcode {
            OP_CHALLENGE => {
                let (challenge, name) =
                    sized_value::<16>(opcode, body, rest, CHALLENGE_VALUE_SIZE)?;
                Ok(MsChapPacket::Challenge {
                    id,
                    challenge: *challenge,
                    name,
                })
            }
            OP_RESPONSE => {
                let (value, name) = sized_value::<49>(opcode, body, rest, RESPONSE_VALUE_SIZE)?;
                let short = || truncated(opcode, body, HEADER_LEN + 1 + 49);
                let (peer_challenge, tail) = value.split_first_chunk::<16>().ok_or_else(short)?;
                let (_reserved, tail) = tail.split_first_chunk::<8>().ok_or_else(short)?;
                let (nt_response, flags) = tail.split_first_chunk::<24>().ok_or_else(short)?;
                Ok(MsChapPacket::Response {
                    id,
                    peer_challenge: *peer_challenge,
                    nt_response: *nt_response,
                    flags: flags.first().copied().ok_or_else(short)?,
                    name,
                })
            }
            OP_SUCCESS => Ok(MsChapPacket::Success { id, message: rest }),
            OP_FAILURE => Ok(MsChapPacket::Failure { id, message: rest }),
            _ => {
                let short = || truncated(opcode, body, CHANGE_PASSWORD_LEN);
                if body.len() != CHANGE_PASSWORD_LEN {
                    return Err(short());
                }
                let (encrypted_password, tail) = rest
                    .split_first_chunk::<ENCRYPTED_PASSWORD_LEN>()
                    .ok_or_else(short)?;
                let (encrypted_hash, tail) = tail.split_first_chunk::<16>().ok_or_else(short)?;
                let (peer_challenge, tail) = tail.split_first_chunk::<16>().ok_or_else(short)?;
                let (_reserved, tail) = tail.split_first_chunk::<8>().ok_or_else(short)?;
                let (nt_response, tail) = tail.split_first_chunk::<24>().ok_or_else(short)?;
                let flags = tail.first_chunk::<2>().ok_or_else(short)?;
                Ok(MsChapPacket::ChangePassword {
                    id,
                    encrypted_password,
                    encrypted_hash: *encrypted_hash,
                    peer_challenge: *peer_challenge,
                    nt_response: *nt_response,
                    flags: u16::from_be_bytes(*flags),
                })
            }
        }
    }

    /// Appends the encoded body to `out`. Nothing is written on error.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), MsChapError> {
        let (opcode, id) = match self {
            MsChapPacket::SuccessAck => {
                out.push(OP_SUCCESS);
                return Ok(());
            }
            MsChapPacket::FailureAck => {
                out.push(OP_FAILURE);
                return Ok(());
            }
            MsChapPacket::Challenge { id, .. } => (OP_CHALLENGE, *id),
            MsChapPacket::Response { id, .. } => (OP_RESPONSE, *id),
            MsChapPacket::Success { id, .. } => (OP_SUCCESS, *id),
            MsChapPacket::Failure { id, .. } => (OP_FAILURE, *id),
            MsChapPacket::ChangePassword { id, .. } => (OP_CHANGE_PASSWORD, *id),
        };
        let len = self.encoded_len();
        let ms_length = u16::try_from(len).map_err(|_| MsChapError::TooLong { len })?;
        out.reserve(len);
        out.push(opcode);
        out.push(id);
        out.extend_from_slice(&ms_length.to_be_bytes());
        match self {
            MsChapPacket::Challenge {
                challenge, name, ..
            } => {
                out.push(CHALLENGE_VALUE_SIZE);
                out.extend_from_slice(challenge);
                out.extend_from_slice(name);
            }
            MsChapPacket::Response {
                peer_challenge,
                nt_response,
                flags,
                name,
                ..
            } => {
                out.push(RESPONSE_VALUE_SIZE);
                out.extend_from_slice(peer_challenge);
                out.extend_from_slice(&[0; 8]);
                out.extend_from_slice(nt_response);
                out.push(*flags);
                out.extend_from_slice(name);
            }
            MsChapPacket::Success { message, .. } | MsChapPacket::Failure { message, .. } => {
                out.extend_from_slice(message);
            }
            MsChapPacket::ChangePassword {
                encrypted_password,
                encrypted_hash,
                peer_challenge,
                nt_response,
                flags,
                ..
            } => {
                out.extend_from_slice(encrypted_password.as_slice());
                out.extend_from_slice(encrypted_hash);
                out.extend_from_slice(peer_challenge);
                out.extend_from_slice(&[0; 8]);
                out.extend_from_slice(nt_response);
                out.extend_from_slice(&flags.to_be_bytes());
            }
            MsChapPacket::SuccessAck | MsChapPacket::FailureAck => {}
        }
        Ok(())
    }

    /// The length [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        match self {
            MsChapPacket::SuccessAck | MsChapPacket::FailureAck => 1,
            MsChapPacket::Challenge { name, .. } => HEADER_LEN + 1 + 16 + name.len(),
            MsChapPacket::Response { name, .. } => HEADER_LEN + 1 + 49 + name.len(),
            MsChapPacket::Success { message, .. } | MsChapPacket::Failure { message, .. } => {
                HEADER_LEN + message.len()
            }
            MsChapPacket::ChangePassword { .. } => CHANGE_PASSWORD_LEN,
        }
    }
}

fn truncated(opcode: u8, body: &[u8], needed: usize) -> MsChapError {
    MsChapError::Truncated {
        opcode,
        len: body.len(),
        needed,
    }
}

/// The value of `N` octets after a Value-Size that must be `expected`, and the name after
/// it.
fn sized_value<'a, const N: usize>(
    opcode: u8,
    body: &[u8],
    rest: &'a [u8],
    expected: u8,
) -> Result<(&'a [u8; N], &'a [u8]), MsChapError> {
    let Some((&value_size, rest)) = rest.split_first() else {
        return Err(truncated(opcode, body, HEADER_LEN + 1 + N));
    };
    if value_size != expected {
        return Err(MsChapError::BadValueSize { opcode, value_size });
    }
    rest.split_first_chunk::<N>()
        .ok_or_else(|| truncated(opcode, body, HEADER_LEN + 1 + N))
}

#[cfg(test)]
mod tests;
