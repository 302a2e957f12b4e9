//! The inside of EAP-TTLS with PAP (RFC 5281): Diameter AVPs (section 10.1) in the tunnel,
//! User-Name (1) and User-Password (2, padded with NULs by the peer, section 11.2.5).
//!
//! What it owns: parsing AVPs with bounds, and taking the PAP credentials out of them.
//! What it must not do: check the password (the caller does, on its worker pool) or log it.

use thiserror::Error;
use zeroize::Zeroizing;

const AVP_USER_NAME: u32 = 1;
const AVP_USER_PASSWORD: u32 = 2;
const FLAG_VENDOR: u8 = 0x80;
const FLAG_MANDATORY: u8 = 0x40;
/// RADIUS's bounds on User-Name and the PAP password.
pub const MAX_USER_NAME: usize = 253;
pub const MAX_PASSWORD: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TtlsError {
    #[error("AVP header truncated")]
    Truncated,
    #[error("AVP length {0} outside its bounds")]
    BadLength(usize),
    #[error("mandatory AVP {0} not understood")]
    UnknownMandatory(u32),
    #[error("no User-Name AVP")]
    NoUserName,
    #[error("no User-Password AVP (only PAP is offered inside TTLS)")]
    NoPassword,
    #[error("User-Name of {0} octets, or not UTF-8")]
    BadUserName(usize),
    #[error("User-Password of {0} octets")]
    BadPassword(usize),
}

/// One Diameter AVP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Avp<'a> {
    pub code: u32,
    pub vendor: Option<u32>,
    pub mandatory: bool,
    pub data: &'a [u8],
}

/// Parses the AVPs of one tunnelled message; the last one's padding may be missing.
pub fn parse_avps(mut buf: &[u8]) -> Result<Vec<Avp<'_>>, TtlsError> {
    let mut avps = Vec::new();
    while !buf.is_empty() {
        let [c0, c1, c2, c3, flags, l0, l1, l2, rest @ ..] = buf else {
            return Err(TtlsError::Truncated);
        };
        let code = u32::from_be_bytes([*c0, *c1, *c2, *c3]);
        let length = usize::from(*l0) << 16 | usize::from(*l1) << 8 | usize::from(*l2);
        let (vendor, header, rest) = if flags & FLAG_VENDOR != 0 {
            let [v0, v1, v2, v3, rest @ ..] = rest else {
                return Err(TtlsError::Truncated);
            };
            (Some(u32::from_be_bytes([*v0, *v1, *v2, *v3])), 12, rest)
        } else {
            (None, 8, rest)
        };
        let data_len = length
            .checked_sub(header)
            .ok_or(TtlsError::BadLength(length))?;
        let (data, after) = rest
            .split_at_checked(data_len)
            .ok_or(TtlsError::BadLength(length))?;
        let padding = (4 - length % 4) % 4;
        buf = after.get(padding..).unwrap_or(&[]);
        avps.push(Avp {
            code,
            vendor,
            mandatory: flags & FLAG_MANDATORY != 0,
            data,
        });
    }
    Ok(avps)
}

/// The PAP user name and password from the peer's AVPs. Unknown AVPs with the M flag
/// fail the conversation (RFC 5281 section 10.1); others are ignored.
pub fn pap_credentials(buf: &[u8]) -> Result<(String, Zeroizing<Vec<u8>>), TtlsError> {
    let mut user = None;
    let mut password = None;
    for avp in parse_avps(buf)? {
        match (avp.vendor, avp.code) {
            (None, AVP_USER_NAME) => {
                if avp.data.is_empty() || avp.data.len() > MAX_USER_NAME {
                    return Err(TtlsError::BadUserName(avp.data.len()));
                }
                let name = std::str::from_utf8(avp.data)
                    .map_err(|_| TtlsError::BadUserName(avp.data.len()))?;
                user = Some(name.to_string());
            }
            (None, AVP_USER_PASSWORD) => {
                let end = avp.data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                if end == 0 || end > MAX_PASSWORD {
                    return Err(TtlsError::BadPassword(end));
                }
                password = Some(Zeroizing::new(avp.data[..end].to_vec()));
            }
            (_, code) if avp.mandatory => return Err(TtlsError::UnknownMandatory(code)),
            _ => {}
        }
    }
    Ok((
        user.ok_or(TtlsError::NoUserName)?,
        password.ok_or(TtlsError::NoPassword)?,
    ))
}

/// Writes one AVP (used by tests as the peer, and kept here beside its parser).
pub fn encode_avp(code: u32, mandatory: bool, data: &[u8], out: &mut Vec<u8>) {
    let length = 8 + data.len();
    out.extend_from_slice(&code.to_be_bytes());
    out.push(if mandatory { FLAG_MANDATORY } else { 0 });
    out.extend_from_slice(&u32::try_from(length).unwrap_or(0).to_be_bytes()[1..]);
    out.extend_from_slice(data);
    out.resize(out.len() + (4 - length % 4) % 4, 0);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn avps(user: &[u8], password: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_avp(AVP_USER_NAME, true, user, &mut out);
        encode_avp(AVP_USER_PASSWORD, true, password, &mut out);
        out
    }

    #[test]
    fn takes_user_and_password_without_padding() {
        let mut padded = b"Geheim-123".to_vec();
        padded.resize(16, 0);
        let (user, password) = pap_credentials(&avps(b"anna", &padded)).unwrap();
        assert_eq!(user, "anna");
        assert_eq!(&password[..], b"Geheim-123");
    }

    #[test]
    fn vendor_avps_and_optional_unknowns() {
        let mut buf = avps(b"anna", b"pw");
        // Vendor AVP without M: ignored.
        buf.extend_from_slice(&[0, 0, 0, 9, 0x80, 0, 0, 13, 0, 0, 0x01, 0x37, 0xff, 0, 0, 0]);
        assert!(pap_credentials(&buf).is_ok());
        let parsed = parse_avps(&buf).unwrap();
        assert_eq!(parsed[2].vendor, Some(311));
        assert_eq!(parsed[2].data, [0xff]);
        let mut buf = avps(b"anna", b"pw");
        encode_avp(79, true, &[2, 0, 0, 4], &mut buf);
        assert_eq!(pap_credentials(&buf), Err(TtlsError::UnknownMandatory(79)));
    }

    #[test]
    fn refuses_bad_avps() {
        assert_eq!(
            parse_avps(&[0, 0, 0, 1, 0x40, 0, 0]),
            Err(TtlsError::Truncated)
        );
        assert_eq!(
            parse_avps(&[0, 0, 0, 1, 0x40, 0, 0, 7]),
            Err(TtlsError::BadLength(7))
        );
        assert_eq!(
            parse_avps(&[0, 0, 0, 1, 0x40, 0, 0, 20, 1]),
            Err(TtlsError::BadLength(20))
        );
        let mut only_user = Vec::new();
        encode_avp(AVP_USER_NAME, true, b"anna", &mut only_user);
        assert_eq!(pap_credentials(&only_user), Err(TtlsError::NoPassword));
        assert_eq!(
            pap_credentials(&avps(b"", b"pw")),
            Err(TtlsError::BadUserName(0))
        );
        assert_eq!(
            pap_credentials(&avps(b"anna", &[0; 16])),
            Err(TtlsError::BadPassword(0))
        );
        assert_eq!(
            pap_credentials(&avps(b"anna", &[1; 129])),
            Err(TtlsError::BadPassword(129))
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = pap_credentials(&data);
        }

        #[test]
        fn credentials_round_trip(user in "[a-z.]{1,40}", password in "[ -~]{1,100}") {
            let (u, p) = pap_credentials(&avps(user.as_bytes(), password.as_bytes())).unwrap();
            prop_assert_eq!(u, user);
            prop_assert_eq!(&p[..], password.as_bytes());
        }
    }
}
