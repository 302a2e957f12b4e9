//! Encoding: writes a packet into a caller's reused `Vec<u8>` (RFC 2865 sections 3 and 5).
//!
//! The builder appends attributes as given and fills in Length, the Message-Authenticator
//! and the Authenticator field when finished. With a buffer of sufficient capacity, building
//! a packet does not allocate.

use super::auth::{SharedSecret, compute_authenticator, compute_message_authenticator};
use super::packet::{HEADER_LEN, MAX_PACKET_LEN, MAX_VALUE_LEN};
use super::{Code, RadiusError, attr};

/// Offset of the Message-Authenticator value when it is the first attribute.
const MA_VALUE_AT: usize = HEADER_LEN + 2;

/// Builds one packet into a caller-provided buffer, which is cleared first.
///
/// ```
/// # use hallpass::radius::{Code, PacketBuilder, RadiusError, SharedSecret, attr};
/// # fn main() -> Result<(), RadiusError> {
/// let mut buf = Vec::with_capacity(4096);
/// let request_authenticator = [7u8; 16];
/// let mut b = PacketBuilder::new(&mut buf, Code::AccessAccept, 42);
/// b.message_authenticator();
/// b.attr_tagged_u24(attr::TUNNEL_TYPE, 0, 13)?
///     .attr_tagged_u24(attr::TUNNEL_MEDIUM_TYPE, 0, 6)?
///     .attr(attr::TUNNEL_PRIVATE_GROUP_ID, b"20")?;
/// let secret = SharedSecret::new(b"secret".to_vec());
/// b.finish_reply(&request_authenticator, &secret)?;
/// assert_eq!(buf.len(), 20 + 18 + 6 + 6 + 4);
/// # Ok(()) }
/// ```
pub struct PacketBuilder<'b> {
    out: &'b mut Vec<u8>,
    /// A Message-Authenticator is reserved as the first attribute.
    has_ma: bool,
    /// Reserving the Message-Authenticator would have exceeded 4096 octets; reported by
    /// `finish_*` because `message_authenticator` cannot fail.
    overflow: bool,
}

impl<'b> PacketBuilder<'b> {
    /// Starts a packet: clears `out` and writes the header with a zero Authenticator.
    pub fn new(out: &'b mut Vec<u8>, code: Code, identifier: u8) -> Self {
        out.clear();
        out.extend_from_slice(&[code.as_u8(), identifier, 0, 0]);
        out.extend_from_slice(&[0; 16]);
        PacketBuilder {
            out,
            has_ma: false,
            overflow: false,
        }
    }

    /// Reserves a Message-Authenticator (16 zeros, computed when finished) as the FIRST
    /// attribute, as the BlastRADIUS mitigations require of replies. If attributes were
    /// already added, it is inserted in front of them. Calling it twice has no effect.
    pub fn message_authenticator(&mut self) -> &mut Self {
        if self.has_ma {
            return self;
        }
        if self.out.len() + 18 > MAX_PACKET_LEN {
            self.overflow = true;
            return self;
        }
        let mut ma = [0u8; 18];
        ma[0] = attr::MESSAGE_AUTHENTICATOR;
        ma[1] = 18;
        self.out.splice(HEADER_LEN..HEADER_LEN, ma);
        self.has_ma = true;
        self
    }

    /// Appends an attribute with a value of 0..=253 octets. Nothing is written on error.
    pub fn attr(&mut self, typ: u8, value: &[u8]) -> Result<&mut Self, RadiusError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(RadiusError::ValueTooLong { len: value.len() });
        }
        if self.out.len() + 2 + value.len() > MAX_PACKET_LEN {
            return Err(RadiusError::BufferFull);
        }
        // value.len() <= 253, so the sum fits in a u8
        self.out.push(typ);
        self.out.push((value.len() + 2) as u8);
        self.out.extend_from_slice(value);
        Ok(self)
    }

    /// Appends a 4-octet integer attribute (network order).
    pub fn attr_u32(&mut self, typ: u8, v: u32) -> Result<&mut Self, RadiusError> {
        self.attr(typ, &v.to_be_bytes())
    }

    /// Appends an RFC 2868 tagged integer (Tunnel-Type, Tunnel-Medium-Type,
    /// Tunnel-Preference): length 6 = type, length, tag, 3-octet value.
    /// The tag must be 0x00..=0x1F and the value below 2^24.
    pub fn attr_tagged_u24(&mut self, typ: u8, tag: u8, v: u32) -> Result<&mut Self, RadiusError> {
        if tag > 0x1F {
            return Err(RadiusError::BadTag { tag });
        }
        let [top, a, b, c] = v.to_be_bytes();
        if top != 0 {
            return Err(RadiusError::TaggedValueTooLarge { value: v });
        }
        self.attr(typ, &[tag, a, b, c])
    }

    /// Appends text of any length as consecutive attributes of at most 253 octets each
    /// (e.g. Reply-Message, RFC 2865 section 5.18: the NAS shows them in order). Splits
    /// only between UTF-8 characters when the text allows it. Empty text adds nothing.
    /// All-or-nothing: on `BufferFull` no attribute is written.
    pub fn attr_text_split(&mut self, typ: u8, text: &[u8]) -> Result<&mut Self, RadiusError> {
        // first pass: measure, so a too-long text writes nothing
        let mut needed = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(split_point(rest));
            needed += 2 + chunk.len();
            rest = tail;
        }
        if self.out.len() + needed > MAX_PACKET_LEN {
            return Err(RadiusError::BufferFull);
        }
        let mut rest = text;
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(split_point(rest));
            self.attr(typ, chunk)?;
            rest = tail;
        }
        Ok(self)
    }

    /// The packet so far (header with Length and Authenticator not yet filled in).
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// True when only the header has been written.
    pub fn is_empty(&self) -> bool {
        self.out.len() == HEADER_LEN
    }

    /// Writes Length, then the Message-Authenticator computed with `auth_field` in the
    /// Authenticator field, which is left holding `auth_field`.
    fn seal(&mut self, auth_field: &[u8; 16], secret: &SharedSecret) -> Result<(), RadiusError> {
        if self.overflow {
            return Err(RadiusError::BufferFull);
        }
        let len = u16::try_from(self.out.len()).map_err(|_| RadiusError::BufferFull)?;
        let out = &mut *self.out;
        // `new` wrote the 20-octet header, so these ranges always exist
        if let Some(field) = out.get_mut(2..4) {
            field.copy_from_slice(&len.to_be_bytes());
        }
        set_authenticator(out, auth_field);
        if self.has_ma {
            let ma = compute_message_authenticator(out, auth_field, MA_VALUE_AT, secret)?;
            if let Some(field) = out.get_mut(MA_VALUE_AT..MA_VALUE_AT + 16) {
                field.copy_from_slice(&ma);
            }
        }
        Ok(())
    }

    /// Finishes a reply (Access-Accept/-Reject/-Challenge, Accounting-Response,
    /// Disconnect/CoA ACK/NAK): sets Length; computes the Message-Authenticator (if
    /// reserved) with the REQUEST authenticator in the field for Access-* replies (RFC 3579
    /// section 3.2) and with 16 zero octets for Accounting-Response and Disconnect/CoA
    /// ACK/NAK (RFC 5176 section 3.3, as FreeRADIUS and NAS firmware compute it); then
    /// writes the Response Authenticator = MD5(Code + Identifier + Length + Request
    /// Authenticator + Attributes + Secret) (RFC 2865 section 3).
    pub fn finish_reply(
        mut self,
        request_authenticator: &[u8; 16],
        secret: &SharedSecret,
    ) -> Result<(), RadiusError> {
        let code = Code::from_u8(self.out.first().copied().unwrap_or(0));
        let ma_field = if super::auth::reply_ma_uses_zeros(code) {
            &[0u8; 16]
        } else {
            request_authenticator
        };
        self.seal(ma_field, secret)?;
        // `seal` left the MA's field value in the header; the Response Authenticator is
        // computed over the request's authenticator
        set_authenticator(self.out, request_authenticator);
        let response = compute_authenticator(self.out, request_authenticator, secret);
        set_authenticator(self.out, &response);
        Ok(())
    }

    /// Finishes an Access-Request or Status-Server with a caller-chosen random
    /// authenticator (RFC 2865 section 3, RFC 5997): sets Length and the authenticator and
    /// computes the Message-Authenticator (if reserved) over the packet. A User-Password
    /// must have been hidden with the same authenticator.
    pub fn finish_access_request(
        mut self,
        authenticator: &[u8; 16],
        secret: &SharedSecret,
    ) -> Result<(), RadiusError> {
        self.seal(authenticator, secret)
    }

    /// Finishes an Accounting-Request (RFC 2866 section 3), Disconnect-Request or
    /// CoA-Request (RFC 5176 sections 2.3 and 3.3): sets Length; computes the
    /// Message-Authenticator (if reserved) with 16 zero octets in the Authenticator field;
    /// then writes the Request Authenticator = MD5(Code + Identifier + Length + 16 zero
    /// octets + Attributes + Secret).
    pub fn finish_computed_request(mut self, secret: &SharedSecret) -> Result<(), RadiusError> {
        let zeros = [0u8; 16];
        self.seal(&zeros, secret)?;
        let request = compute_authenticator(self.out, &zeros, secret);
        set_authenticator(self.out, &request);
        Ok(())
    }
}

fn set_authenticator(out: &mut [u8], auth: &[u8; 16]) {
    if let Some(field) = out.get_mut(4..HEADER_LEN) {
        field.copy_from_slice(auth);
    }
}

/// Length of the next chunk of `text` for [`PacketBuilder::attr_text_split`]: at most 253
/// octets, moved back (by at most 3) so the next chunk does not start inside a UTF-8
/// character; falls back to 253 for text that is not UTF-8.
fn split_point(text: &[u8]) -> usize {
    if text.len() <= MAX_VALUE_LEN {
        return text.len();
    }
    let is_continuation = |i: usize| text.get(i).is_some_and(|b| b & 0xC0 == 0x80);
    (MAX_VALUE_LEN - 3..=MAX_VALUE_LEN)
        .rev()
        .find(|&i| !is_continuation(i))
        .unwrap_or(MAX_VALUE_LEN)
}
