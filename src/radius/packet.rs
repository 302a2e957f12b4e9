//! Decoding: a validated, borrowed view over one datagram (RFC 2865 sections 3 and 5).
//!
//! [`Packet::parse`] checks the header and walks every attribute once; afterwards nothing
//! can fail, and reading attributes never copies or allocates.

use std::fmt;
use std::iter::FusedIterator;

use super::RadiusError;

/// Size of the fixed header: Code, Identifier, Length, Authenticator.
pub const HEADER_LEN: usize = 20;

/// Largest packet RFC 2865 section 3 allows.
pub const MAX_PACKET_LEN: usize = 4096;

/// Largest attribute value: the Length octet counts type and length too.
pub const MAX_VALUE_LEN: usize = 253;

/// A validated view over one RADIUS packet.
///
/// Holds exactly `Length` octets of the datagram; octets beyond `Length` are padding and
/// ignored (RFC 2865 section 3). Its `Debug` output never shows secret attribute values.
#[derive(Clone, Copy)]
pub struct Packet<'a> {
    /// Exactly `Length` octets, header included; every attribute inside is well formed.
    buf: &'a [u8],
    /// The authenticator field, split off once so the accessor needs no conversion.
    auth: &'a [u8; 16],
}

impl<'a> Packet<'a> {
    /// Validates a datagram and returns a view over it.
    ///
    /// Checks: at least 20 octets; the Length field within 20..=4096 and not beyond the
    /// datagram; every attribute has a length of at least 2 and ends inside `Length`.
    pub fn parse(buf: &'a [u8]) -> Result<Packet<'a>, RadiusError> {
        let Some((header, _)) = buf.split_first_chunk::<HEADER_LEN>() else {
            return Err(RadiusError::TooShort { len: buf.len() });
        };
        let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if length > MAX_PACKET_LEN {
            return Err(RadiusError::TooLong { length });
        }
        if length < HEADER_LEN || length > buf.len() {
            return Err(RadiusError::BadLength {
                length,
                received: buf.len(),
            });
        }
        // `length <= buf.len()` was checked above; octets beyond it are padding.
        let buf = buf.get(..length).unwrap_or(buf);
        let Some((auth, _)) = buf.get(4..).and_then(|r| r.split_first_chunk::<16>()) else {
            return Err(RadiusError::TooShort { len: buf.len() });
        };
        validate_attributes(buf)?;
        Ok(Packet { buf, auth })
    }

    /// The packet code.
    pub fn code(&self) -> super::Code {
        super::Code::from_u8(self.buf.first().copied().unwrap_or(0))
    }

    /// The Identifier octet, which matches requests with replies.
    pub fn identifier(&self) -> u8 {
        self.buf.get(1).copied().unwrap_or(0)
    }

    /// The 16-octet Authenticator field as received.
    pub fn authenticator(&self) -> &'a [u8; 16] {
        self.auth
    }

    /// The packet, exactly `Length` octets.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// The attribute area (everything after the header).
    pub fn attribute_bytes(&self) -> &'a [u8] {
        self.buf.get(HEADER_LEN..).unwrap_or(&[])
    }

    /// Iterates the attributes in packet order, without allocating.
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            rest: self.attribute_bytes(),
        }
    }

    /// The value of the first attribute of this type.
    pub fn get(&self, typ: u8) -> Option<&'a [u8]> {
        self.attributes().find(|a| a.typ == typ).map(|a| a.value)
    }

    /// How many attributes of this type the packet carries.
    pub fn count(&self, typ: u8) -> usize {
        self.attributes().filter(|a| a.typ == typ).count()
    }

    /// The first attribute of this type as an integer; `None` if absent or if its value is
    /// not exactly 4 octets.
    pub fn get_u32(&self, typ: u8) -> Option<u32> {
        let v = self.get(typ)?;
        <[u8; 4]>::try_from(v).ok().map(u32::from_be_bytes)
    }
}

impl fmt::Debug for Packet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Packet")
            .field("code", &self.code())
            .field("identifier", &self.identifier())
            .field("length", &self.buf.len())
            .field(
                "attributes",
                &format_args!("{}", super::DisplayAttributes(*self)),
            )
            .finish()
    }
}

/// Walks the attribute area once; after this, iteration cannot meet a malformed attribute.
fn validate_attributes(packet: &[u8]) -> Result<(), RadiusError> {
    let mut offset = HEADER_LEN;
    while offset < packet.len() {
        let (typ, length) = match (packet.get(offset), packet.get(offset + 1)) {
            (Some(&t), Some(&l)) => (t, l),
            _ => return Err(RadiusError::AttributeHeaderTruncated { offset }),
        };
        if length < 2 {
            return Err(RadiusError::AttributeTooShort {
                offset,
                typ,
                length,
            });
        }
        let end = offset + usize::from(length);
        if end > packet.len() {
            return Err(RadiusError::AttributeOverrun {
                offset,
                typ,
                length,
            });
        }
        offset = end;
    }
    Ok(())
}

/// One attribute: its type and its value (the octets after type and length).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute<'a> {
    pub typ: u8,
    pub value: &'a [u8],
}

/// Iterator over the attributes of a [`Packet`], in order.
#[derive(Clone, Debug)]
pub struct Attributes<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attribute<'a>;

    fn next(&mut self) -> Option<Attribute<'a>> {
        // `Packet::parse` validated the layout; the checks here only keep this total.
        let (&typ, after_type) = self.rest.split_first()?;
        let (&len, after_len) = after_type.split_first()?;
        let Some((value, rest)) = usize::from(len)
            .checked_sub(2)
            .and_then(|n| after_len.split_at_checked(n))
        else {
            self.rest = &[];
            return None;
        };
        self.rest = rest;
        Some(Attribute { typ, value })
    }
}

impl FusedIterator for Attributes<'_> {}

/// Decodes an RFC 2868 tagged 24-bit value (Tunnel-Type, Tunnel-Medium-Type,
/// Tunnel-Preference): one tag octet, then 3 octets. `None` unless exactly 4 octets.
pub fn tagged_u24(value: &[u8]) -> Option<(u8, u32)> {
    let [tag, a, b, c] = <[u8; 4]>::try_from(value).ok()?;
    Some((tag, u32::from_be_bytes([0, a, b, c])))
}

/// Splits a Vendor-Specific value (RFC 2865 section 5.26) into the vendor's SMI network
/// management private enterprise code and the vendor data. `None` if shorter than 4 octets.
pub fn vendor_specific(value: &[u8]) -> Option<(u32, &[u8])> {
    let (vendor, data) = value.split_first_chunk::<4>()?;
    Some((u32::from_be_bytes(*vendor), data))
}

/// Splits an RFC 2868 tagged string (Tunnel-Private-Group-Id and friends, section 3.6):
/// a first octet of 0x00..=0x1F is a tag, anything else already belongs to the string.
pub fn tunnel_private_group_id(value: &[u8]) -> (Option<u8>, &[u8]) {
    match value.split_first() {
        Some((&tag, rest)) if tag <= 0x1F => (Some(tag), rest),
        _ => (None, value),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn header(code: u8, len: u16) -> Vec<u8> {
        let mut v = vec![code, 7];
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&[0xAB; 16]);
        v
    }

    #[test]
    fn header_checks() {
        assert_eq!(
            Packet::parse(&[1; 19]).unwrap_err(),
            RadiusError::TooShort { len: 19 }
        );
        let mut p = header(1, 19);
        p.push(0);
        assert_eq!(
            Packet::parse(&p).unwrap_err(),
            RadiusError::BadLength {
                length: 19,
                received: 21
            }
        );
        let p = header(1, 21);
        assert_eq!(
            Packet::parse(&p).unwrap_err(),
            RadiusError::BadLength {
                length: 21,
                received: 20
            }
        );
        let mut p = header(1, 4097);
        p.resize(5000, 0);
        assert_eq!(
            Packet::parse(&p).unwrap_err(),
            RadiusError::TooLong { length: 4097 }
        );
    }

    #[test]
    fn octets_beyond_length_are_ignored() {
        let mut p = header(2, 26);
        p.extend_from_slice(&[1, 6, b'n', b'e', b'm', b'o']);
        p.extend_from_slice(&[0xFF, 0xFF, 0x01]); // padding, not an attribute
        let pkt = Packet::parse(&p).unwrap();
        assert_eq!(pkt.bytes().len(), 26);
        assert_eq!(pkt.get(1), Some(&b"nemo"[..]));
        assert_eq!(pkt.attributes().count(), 1);
        assert_eq!(pkt.identifier(), 7);
        assert_eq!(pkt.authenticator(), &[0xAB; 16]);
        assert_eq!(pkt.code(), super::super::Code::AccessAccept);
    }

    #[test]
    fn attribute_checks() {
        let mut p = header(1, 23);
        p.extend_from_slice(&[1, 3, b'x']);
        assert!(Packet::parse(&p).is_ok());

        let mut p = header(1, 22);
        p.extend_from_slice(&[1, 1]);
        assert_eq!(
            Packet::parse(&p).unwrap_err(),
            RadiusError::AttributeTooShort {
                offset: 20,
                typ: 1,
                length: 1
            }
        );
        let mut p = header(1, 22);
        p.extend_from_slice(&[5, 0]);
        assert!(matches!(
            Packet::parse(&p),
            Err(RadiusError::AttributeTooShort { length: 0, .. })
        ));

        let mut p = header(1, 24);
        p.extend_from_slice(&[1, 2, 31, 5]);
        assert_eq!(
            Packet::parse(&p).unwrap_err(),
            RadiusError::AttributeOverrun {
                offset: 22,
                typ: 31,
                length: 5
            }
        );
        // the attribute fits the datagram but not the Length field
        let mut p = header(1, 24);
        p.extend_from_slice(&[31, 6, 0, 0, 0, 0]);
        assert!(matches!(
            Packet::parse(&p),
            Err(RadiusError::AttributeOverrun { .. })
        ));

        let mut p = header(1, 23);
        p.extend_from_slice(&[1, 2, 9]);
        assert_eq!(
            Packet::parse(&p).unwrap_err(),
            RadiusError::AttributeHeaderTruncated { offset: 22 }
        );
    }

    #[test]
    fn accessors() {
        let mut p = header(4, 0);
        p.extend_from_slice(&[5, 6, 0, 0, 0, 3]);
        p.extend_from_slice(&[25, 2]); // empty Class
        p.extend_from_slice(&[5, 6, 0, 0, 0, 9]);
        p.extend_from_slice(&[27, 5, 0, 0, 1]); // 3-octet "integer"
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        let pkt = Packet::parse(&p).unwrap();
        assert_eq!(pkt.get_u32(5), Some(3));
        assert_eq!(pkt.count(5), 2);
        assert_eq!(pkt.get(25), Some(&[][..]));
        assert_eq!(pkt.get_u32(27), None);
        assert_eq!(pkt.get(99), None);
        let types: Vec<u8> = pkt.attributes().map(|a| a.typ).collect();
        assert_eq!(types, [5, 25, 5, 27]);
    }

    #[test]
    fn vendor_specific_split() {
        assert_eq!(
            vendor_specific(&[0, 0, 0, 9, 1, 3, 7]),
            Some((9, &[1, 3, 7][..]))
        );
        assert_eq!(vendor_specific(&[0, 0, 0x37, 0x2b]), Some((14123, &[][..])));
        assert_eq!(vendor_specific(&[0, 0, 9]), None);
    }

    #[test]
    fn tagged_helpers() {
        assert_eq!(tagged_u24(&[0, 0, 0, 13]), Some((0, 13)));
        assert_eq!(tagged_u24(&[3, 0x12, 0x34, 0x56]), Some((3, 0x12_3456)));
        assert_eq!(tagged_u24(&[0, 0, 13]), None);
        assert_eq!(tagged_u24(&[0, 0, 0, 0, 13]), None);
        assert_eq!(tunnel_private_group_id(b"20"), (None, &b"20"[..]));
        assert_eq!(tunnel_private_group_id(b"\x0120"), (Some(1), &b"20"[..]));
        assert_eq!(tunnel_private_group_id(b"\x0020"), (Some(0), &b"20"[..]));
        assert_eq!(tunnel_private_group_id(b"\x1f"), (Some(0x1F), &b""[..]));
        assert_eq!(tunnel_private_group_id(b" x"), (None, &b" x"[..]));
        assert_eq!(tunnel_private_group_id(b""), (None, &b""[..]));
    }
}
