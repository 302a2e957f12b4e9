//! The one error type of the RADIUS codec.

/// Everything that can go wrong while decoding, verifying or encoding a RADIUS packet.
///
/// Every variant is a distinct kind so that the server can count and log them without
/// parsing messages. Offsets are byte offsets from the start of the packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RadiusError {
    /// The datagram is shorter than the 20-octet header (RFC 2865 section 3).
    #[error("packet too short: {len} octets, the header alone is 20")]
    TooShort { len: usize },
    /// The Length field is below 20 or larger than the datagram (RFC 2865 section 3).
    #[error("bad Length field {length} for a datagram of {received} octets")]
    BadLength { length: usize, received: usize },
    /// The Length field exceeds the maximum packet size of 4096 octets.
    #[error("Length field {length} exceeds the maximum of 4096")]
    TooLong { length: usize },
    /// Only one octet is left at the end of the attribute area: a type without a length.
    #[error("truncated attribute header at offset {offset}")]
    AttributeHeaderTruncated { offset: usize },
    /// An attribute's Length field is below 2 (RFC 2865 section 5).
    #[error("attribute type {typ} at offset {offset} has length {length}, the minimum is 2")]
    AttributeTooShort { offset: usize, typ: u8, length: u8 },
    /// An attribute runs past the end of the packet.
    #[error(
        "attribute type {typ} at offset {offset} with length {length} runs past the packet end"
    )]
    AttributeOverrun { offset: usize, typ: u8, length: u8 },
    /// An attribute value longer than 253 octets was to be encoded.
    #[error("attribute value of {len} octets exceeds the maximum of 253")]
    ValueTooLong { len: usize },
    /// A tagged 24-bit value (RFC 2868) does not fit in three octets.
    #[error("value {value} does not fit in the 3 octets of a tagged attribute")]
    TaggedValueTooLarge { value: u32 },
    /// A tag outside 0x00..=0x1F (RFC 2868 section 3.1).
    #[error("tag {tag:#04x} is outside 0x00..=0x1f")]
    BadTag { tag: u8 },
    /// More than one Message-Authenticator attribute (RFC 3579 section 3.2 allows one).
    #[error("more than one Message-Authenticator attribute")]
    DuplicateMessageAuthenticator,
    /// A Message-Authenticator whose value is not exactly 16 octets.
    #[error("Message-Authenticator value has {len} octets, expected 16")]
    BadMessageAuthenticatorLength { len: usize },
    /// The Message-Authenticator does not match: wrong secret or a forged/modified packet.
    #[error("Message-Authenticator does not match")]
    BadMessageAuthenticator,
    /// A password longer than the 128 octets RFC 2865 section 5.2 allows.
    #[error("password of {len} octets exceeds the maximum of 128")]
    PasswordTooLong { len: usize },
    /// A hidden User-Password that is not a multiple of 16 in 16..=128 octets.
    #[error("hidden password of {len} octets is not a multiple of 16 in 16..=128")]
    BadPasswordLength { len: usize },
    /// The packet being built would exceed 4096 octets.
    #[error("packet would exceed the maximum of 4096 octets")]
    BufferFull,
    /// The HMAC implementation refused the shared secret as a key (cannot happen for
    /// HMAC-MD5, which accepts every key length; kept so no error is swallowed).
    #[error("the shared secret was rejected as an HMAC key")]
    HmacKey,
}
