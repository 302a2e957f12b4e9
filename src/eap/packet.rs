//! The EAP packet codec (RFC 3748 section 4): Request, Response, Success and Failure, the
//! method types hallpass speaks, and the Nak's list of desired types (section 5.3.1).
//!
//! Decoding never panics and accepts only what the RFC allows: Length at least the header,
//! at most the buffer (octets beyond Length are link padding and ignored, section 4.1),
//! Success and Failure without data, Request and Response with a type. The expanded type
//! (254, section 5.7) is refused with its own error: hallpass offers no vendor method.
//!
//! What it must not do: keep state, know which method is in progress, or do I/O.

use thiserror::Error;

/// The largest EAP packet the Length field can describe.
pub const MAX_EAP_LEN: usize = u16::MAX as usize;
/// Code, Identifier and Length.
pub const HEADER_LEN: usize = 4;

/// Why an EAP packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    #[error("EAP packet shorter than its header ({0} octets)")]
    Truncated(usize),
    #[error("EAP Length {length} outside 4..={available}")]
    BadLength { length: usize, available: usize },
    #[error("unknown EAP code {0}")]
    UnknownCode(u8),
    #[error("EAP {0} without a type")]
    MissingType(&'static str),
    #[error("EAP Success or Failure with data")]
    DataInSuccessOrFailure,
    #[error("expanded EAP types (254) are not supported")]
    ExpandedType,
    #[error("EAP packet of {0} octets exceeds the Length field")]
    TooLong(usize),
}

/// The four EAP codes (RFC 3748 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Request = 1,
    Response = 2,
    Success = 3,
    Failure = 4,
}

/// EAP method types (IANA "Method Types"); any other value is kept as `Other`, so a
/// peer's Nak can name it and the conversation can refuse it by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EapType {
    Identity,
    Notification,
    Nak,
    Tls,
    Ttls,
    Peap,
    MsChapV2,
    Extensions,
    Other(u8),
}

const EXPANDED: u8 = 254;

impl EapType {
    pub fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::Identity,
            2 => Self::Notification,
            3 => Self::Nak,
            13 => Self::Tls,
            21 => Self::Ttls,
            25 => Self::Peap,
            26 => Self::MsChapV2,
            33 => Self::Extensions,
            other => Self::Other(other),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            Self::Identity => 1,
            Self::Notification => 2,
            Self::Nak => 3,
            Self::Tls => 13,
            Self::Ttls => 21,
            Self::Peap => 25,
            Self::MsChapV2 => 26,
            Self::Extensions => 33,
            Self::Other(other) => other,
        }
    }
}

/// A Request or Response: identifier, type and the type's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: u8,
    pub kind: EapType,
    pub data: Vec<u8>,
}

/// One decoded EAP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EapPacket {
    Request(Message),
    Response(Message),
    Success { id: u8 },
    Failure { id: u8 },
}

impl EapPacket {
    pub fn request(id: u8, kind: EapType, data: Vec<u8>) -> Self {
        Self::Request(Message { id, kind, data })
    }

    pub fn response(id: u8, kind: EapType, data: Vec<u8>) -> Self {
        Self::Response(Message { id, kind, data })
    }

    pub fn code(&self) -> Code {
        match self {
            Self::Request(_) => Code::Request,
            Self::Response(_) => Code::Response,
            Self::Success { .. } => Code::Success,
            Self::Failure { .. } => Code::Failure,
        }
    }

    pub fn id(&self) -> u8 {
        match self {
            Self::Request(m) | Self::Response(m) => m.id,
            Self::Success { id } | Self::Failure { id } => *id,
        }
    }

    /// Decodes one packet; octets after Length are ignored (RFC 3748 section 4.1).
    pub fn decode(buf: &[u8]) -> Result<Self, PacketError> {
        let [code, id, hi, lo, ..] = *buf else {
            return Err(PacketError::Truncated(buf.len()));
        };
        let length = usize::from(u16::from_be_bytes([hi, lo]));
        if length < HEADER_LEN || length > buf.len() {
            return Err(PacketError::BadLength {
                length,
                available: buf.len(),
            });
        }
        let body = &buf[HEADER_LEN..length];
        let message = |name: &'static str| -> Result<Message, PacketError> {
            let (&kind, data) = body.split_first().ok_or(PacketError::MissingType(name))?;
            if kind == EXPANDED {
                return Err(PacketError::ExpandedType);
            }
            Ok(Message {
                id,
                kind: EapType::from_u8(kind),
                data: data.to_vec(),
            })
        };
        match code {
            1 => Ok(Self::Request(message("Request")?)),
            2 => Ok(Self::Response(message("Response")?)),
            3 | 4 if !body.is_empty() => Err(PacketError::DataInSuccessOrFailure),
            3 => Ok(Self::Success { id }),
            4 => Ok(Self::Failure { id }),
            other => Err(PacketError::UnknownCode(other)),
        }
    }

    /// The packet's octets; refused only when the data does not fit the Length field.
    pub fn encode(&self) -> Result<Vec<u8>, PacketError> {
        let (code, id, typed) = match self {
            Self::Request(m) => (Code::Request, m.id, Some(m)),
            Self::Response(m) => (Code::Response, m.id, Some(m)),
            Self::Success { id } => (Code::Success, *id, None),
            Self::Failure { id } => (Code::Failure, *id, None),
        };
        let length = HEADER_LEN + typed.map_or(0, |m| 1 + m.data.len());
        let wire_len = u16::try_from(length).map_err(|_| PacketError::TooLong(length))?;
        let mut out = Vec::with_capacity(length);
        out.push(code as u8);
        out.push(id);
        out.extend_from_slice(&wire_len.to_be_bytes());
        if let Some(m) = typed {
            out.push(m.kind.to_u8());
            out.extend_from_slice(&m.data);
        }
        Ok(out)
    }
}

/// The types a Nak asks for (RFC 3748 section 5.3.1). A zero means "no alternative" and is
/// left out, as are expanded-type entries; the order is the peer's preference.
pub fn parse_nak(data: &[u8]) -> Vec<EapType> {
    data.iter()
        .filter(|&&b| b != 0 && b != EXPANDED)
        .map(|&b| EapType::from_u8(b))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_identity_response_and_ignores_padding() {
        let buf = [2, 7, 0, 9, 1, b'a', b'n', b'n', b'a', 0, 0];
        let packet = EapPacket::decode(&buf).unwrap();
        assert_eq!(
            packet,
            EapPacket::response(7, EapType::Identity, b"anna".to_vec())
        );
        assert_eq!(packet.encode().unwrap(), buf[..9]);
    }

    #[test]
    fn success_and_failure_have_no_data() {
        assert_eq!(
            EapPacket::decode(&[3, 9, 0, 4]).unwrap(),
            EapPacket::Success { id: 9 }
        );
        assert_eq!(
            EapPacket::decode(&[4, 1, 0, 4]).unwrap(),
            EapPacket::Failure { id: 1 }
        );
        assert_eq!(
            EapPacket::decode(&[3, 9, 0, 5, 0]),
            Err(PacketError::DataInSuccessOrFailure)
        );
        assert_eq!(EapPacket::Success { id: 3 }.encode().unwrap(), [3, 3, 0, 4]);
    }

    #[test]
    fn refuses_bad_packets_with_typed_errors() {
        assert_eq!(
            EapPacket::decode(&[2, 1, 0]),
            Err(PacketError::Truncated(3))
        );
        assert_eq!(
            EapPacket::decode(&[2, 1, 0, 3]),
            Err(PacketError::BadLength {
                length: 3,
                available: 4
            })
        );
        assert_eq!(
            EapPacket::decode(&[2, 1, 0, 9, 1]),
            Err(PacketError::BadLength {
                length: 9,
                available: 5
            })
        );
        assert_eq!(
            EapPacket::decode(&[2, 1, 0, 4]),
            Err(PacketError::MissingType("Response"))
        );
        assert_eq!(
            EapPacket::decode(&[5, 1, 0, 4]),
            Err(PacketError::UnknownCode(5))
        );
        assert_eq!(
            EapPacket::decode(&[1, 1, 0, 12, 254, 0, 0, 0, 0, 0, 0, 1]),
            Err(PacketError::ExpandedType)
        );
        let huge = EapPacket::request(1, EapType::Tls, vec![0; MAX_EAP_LEN]);
        assert_eq!(huge.encode(), Err(PacketError::TooLong(MAX_EAP_LEN + 5)));
    }

    #[test]
    fn known_types_round_trip_and_others_are_kept() {
        for value in 0..=255u8 {
            assert_eq!(EapType::from_u8(value).to_u8(), value);
        }
        assert_eq!(EapType::from_u8(25), EapType::Peap);
        assert_eq!(EapType::from_u8(4), EapType::Other(4));
    }

    #[test]
    fn nak_lists_desired_types_in_order() {
        assert_eq!(parse_nak(&[21, 13]), vec![EapType::Ttls, EapType::Tls]);
        assert_eq!(parse_nak(&[0]), vec![]);
        assert_eq!(parse_nak(&[254, 25]), vec![EapType::Peap]);
    }

    proptest! {
        #[test]
        fn decode_never_panics_and_round_trips(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(packet) = EapPacket::decode(&buf) {
                let encoded = packet.encode().unwrap();
                prop_assert_eq!(EapPacket::decode(&encoded).unwrap(), packet);
                prop_assert_eq!(&encoded[..], &buf[..encoded.len()]);
            }
        }

        #[test]
        fn any_message_round_trips(code in 1u8..=2, id: u8, kind in 0u8..=253,
                data in proptest::collection::vec(any::<u8>(), 0..100)) {
            let m = Message { id, kind: EapType::from_u8(kind), data };
            let packet = if code == 1 { EapPacket::Request(m) } else { EapPacket::Response(m) };
            prop_assert_eq!(EapPacket::decode(&packet.encode().unwrap()).unwrap(), packet);
        }
    }
}
