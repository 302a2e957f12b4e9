//! RADIUS packet codes (RFC 2865 section 3, RFC 2866 section 3, RFC 5997, RFC 5176 section 2).

use std::fmt;

/// The Code field of a RADIUS packet.
///
/// Build values with [`Code::from_u8`] so that a known code always maps to its named
/// variant; `Other` holds only codes without a name here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// 1, RFC 2865.
    AccessRequest,
    /// 2, RFC 2865.
    AccessAccept,
    /// 3, RFC 2865.
    AccessReject,
    /// 4, RFC 2866.
    AccountingRequest,
    /// 5, RFC 2866.
    AccountingResponse,
    /// 11, RFC 2865.
    AccessChallenge,
    /// 12, RFC 5997.
    StatusServer,
    /// 13, RFC 2865 (reserved, experimental).
    StatusClient,
    /// 40, RFC 5176.
    DisconnectRequest,
    /// 41, RFC 5176.
    DisconnectAck,
    /// 42, RFC 5176.
    DisconnectNak,
    /// 43, RFC 5176.
    CoaRequest,
    /// 44, RFC 5176.
    CoaAck,
    /// 45, RFC 5176.
    CoaNak,
    /// Any other code; a packet with it is parsed but has no meaning to hallpass.
    Other(u8),
}

impl Code {
    /// Maps the wire value to a code.
    pub const fn from_u8(v: u8) -> Code {
        match v {
            1 => Code::AccessRequest,
            2 => Code::AccessAccept,
            3 => Code::AccessReject,
            4 => Code::AccountingRequest,
            5 => Code::AccountingResponse,
            11 => Code::AccessChallenge,
            12 => Code::StatusServer,
            13 => Code::StatusClient,
            40 => Code::DisconnectRequest,
            41 => Code::DisconnectAck,
            42 => Code::DisconnectNak,
            43 => Code::CoaRequest,
            44 => Code::CoaAck,
            45 => Code::CoaNak,
            other => Code::Other(other),
        }
    }

    /// The wire value.
    pub const fn as_u8(self) -> u8 {
        match self {
            Code::AccessRequest => 1,
            Code::AccessAccept => 2,
            Code::AccessReject => 3,
            Code::AccountingRequest => 4,
            Code::AccountingResponse => 5,
            Code::AccessChallenge => 11,
            Code::StatusServer => 12,
            Code::StatusClient => 13,
            Code::DisconnectRequest => 40,
            Code::DisconnectAck => 41,
            Code::DisconnectNak => 42,
            Code::CoaRequest => 43,
            Code::CoaAck => 44,
            Code::CoaNak => 45,
            Code::Other(v) => v,
        }
    }

    /// The name used in the RFCs, e.g. `Access-Request`; `None` for [`Code::Other`].
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            Code::AccessRequest => "Access-Request",
            Code::AccessAccept => "Access-Accept",
            Code::AccessReject => "Access-Reject",
            Code::AccountingRequest => "Accounting-Request",
            Code::AccountingResponse => "Accounting-Response",
            Code::AccessChallenge => "Access-Challenge",
            Code::StatusServer => "Status-Server",
            Code::StatusClient => "Status-Client",
            Code::DisconnectRequest => "Disconnect-Request",
            Code::DisconnectAck => "Disconnect-ACK",
            Code::DisconnectNak => "Disconnect-NAK",
            Code::CoaRequest => "CoA-Request",
            Code::CoaAck => "CoA-ACK",
            Code::CoaNak => "CoA-NAK",
            Code::Other(_) => return None,
        })
    }

    /// True for the request codes whose Request Authenticator is computed from the
    /// packet and the secret instead of chosen at random: Accounting-Request
    /// (RFC 2866 section 3), Disconnect-Request and CoA-Request (RFC 5176 section 2.3).
    pub const fn has_computed_request_authenticator(self) -> bool {
        matches!(
            self,
            Code::AccountingRequest | Code::DisconnectRequest | Code::CoaRequest
        )
    }
}

impl From<u8> for Code {
    fn from(v: u8) -> Code {
        Code::from_u8(v)
    }
}

impl From<Code> for u8 {
    fn from(c: Code) -> u8 {
        c.as_u8()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Code-{}", self.as_u8()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips_and_named_codes_are_canonical() {
        for v in 0..=u8::MAX {
            let c = Code::from_u8(v);
            assert_eq!(c.as_u8(), v);
            // a named code never hides behind Other
            assert_eq!(matches!(c, Code::Other(_)), c.name().is_none());
        }
        assert_eq!(Code::from_u8(43), Code::CoaRequest);
        assert_eq!(Code::AccessChallenge.as_u8(), 11);
        assert_eq!(Code::DisconnectAck.to_string(), "Disconnect-ACK");
        assert_eq!(Code::Other(99).to_string(), "Code-99");
    }
}
