//! MS-MPPE-Send-Key and MS-MPPE-Recv-Key (RFC 2548 sections 2.4.2 and 2.4.3): the EAP keys
//! an Access-Accept hands the access point, salt-encrypted under the shared secret and the
//! Request Authenticator, in Microsoft Vendor-Specific attributes.
//!
//! What it owns: the encryption and decryption of the key values, the Vendor-Specific
//! framing (RFC 2865 section 5.26, Vendor-Id 311), and appending both keys to a reply.
//!
//! What it must not do: derive keys (that is EAP's job) or pick salts from a random source
//! (the caller passes the randomness in).

use md5::{Digest, Md5};
use zeroize::Zeroizing;

use super::{MAX_PACKET_LEN, PacketBuilder, RadiusError, SharedSecret, attr};

/// Microsoft's SMI private enterprise code.
pub const VENDOR_MICROSOFT: u32 = 311;
/// MS-MPPE-Send-Key: the key for traffic from the access point to the station.
pub const MS_MPPE_SEND_KEY: u8 = 16;
/// MS-MPPE-Recv-Key: the key for traffic from the station to the access point.
pub const MS_MPPE_RECV_KEY: u8 = 17;
/// The longest key that fits: Vendor-Id (4), Vendor-Type and Vendor-Length (2), Salt (2)
/// and at most 240 octets of String (a multiple of 16) in a 253-octet attribute value; one
/// octet of the String is the key length.
pub const MPPE_MAX_KEY_LEN: usize = 239;

/// What can go wrong encoding or decoding an MPPE key attribute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MppeError {
    /// The key does not fit one attribute.
    #[error("an MPPE key of {len} octets exceeds the maximum of 239")]
    KeyTooLong { len: usize },
    /// RFC 2548 requires the most significant bit of the salt to be set.
    #[error("the salt {salt:#06x} does not have its most significant bit set")]
    SaltHighBitClear { salt: u16 },
    /// The two keys of one packet were given the same salt (RFC 2548 requires unique ones).
    #[error("the send and receive keys have the same salt {salt:#06x}")]
    DuplicateSalt { salt: u16 },
    /// An encrypted value that is not a salt and a non-empty multiple of 16 octets.
    #[error("an encrypted MPPE key value of {len} octets is not 2 + a multiple of 16")]
    BadLength { len: usize },
    /// The decrypted key length octet claims more than the String holds: a wrong secret or
    /// Request Authenticator, or a corrupted value.
    #[error("the decrypted key length {key_len} exceeds the {available} octets present")]
    BadKeyLength { key_len: usize, available: usize },
    /// A Vendor-Specific value that is not a Microsoft MS-MPPE-Send-Key or -Recv-Key.
    #[error("not a Microsoft MS-MPPE key attribute")]
    NotMppeKey,
    /// A Vendor-Specific value whose Vendor-Length disagrees with the attribute.
    #[error("a Vendor-Specific sub-attribute with Vendor-Length {vendor_length} in {len} octets")]
    BadVendorLength { vendor_length: u8, len: usize },
    /// The vendor data is too long for one Vendor-Specific attribute.
    #[error("vendor data of {len} octets does not fit one Vendor-Specific attribute")]
    VendorDataTooLong { len: usize },
    /// Appending to the reply failed (the packet is full).
    #[error(transparent)]
    Radius(#[from] RadiusError),
}

/// The two salts of one reply from 16 random bits: the most significant bit set (RFC 2548)
/// and the lowest bit telling the keys apart, so the two are always unique. Returns
/// (send, receive).
pub fn mppe_salts(random: u16) -> ([u8; 2], [u8; 2]) {
    let send = 0x8000 | (random & 0x7FFE);
    (send.to_be_bytes(), (send | 1).to_be_bytes())
}

/// MD5(secret + prev): b(i) of RFC 2548 section 2.4.2, with prev = R + A for the first block
/// and c(i-1) after that.
fn key_block(secret: &SharedSecret, prev: &[&[u8]]) -> Zeroizing<[u8; 16]> {
    let mut h = Md5::new();
    h.update(secret.as_bytes());
    for part in prev {
        h.update(part);
    }
    Zeroizing::new(h.finalize().into())
}

/// Encrypts a key for MS-MPPE-Send-Key or -Recv-Key: returns Salt + String, where the
/// String is (key length, key, zero padding to a multiple of 16) XORed with the MD5 chain
/// b(1) = MD5(secret + Request Authenticator + salt), b(i) = MD5(secret + c(i-1)).
pub fn encrypt_mppe_key(
    key: &[u8],
    salt: [u8; 2],
    secret: &SharedSecret,
    request_authenticator: &[u8; 16],
) -> Result<Vec<u8>, MppeError> {
    if key.len() > MPPE_MAX_KEY_LEN {
        return Err(MppeError::KeyTooLong { len: key.len() });
    }
    if salt[0] & 0x80 == 0 {
        return Err(MppeError::SaltHighBitClear {
            salt: u16::from_be_bytes(salt),
        });
    }
    let plain_len = (1 + key.len()).div_ceil(16) * 16;
    let mut plain = Zeroizing::new(vec![0u8; plain_len]);
    // key.len() <= 239 was checked above
    if let Some((len_octet, rest)) = plain.split_first_mut() {
        *len_octet = key.len() as u8;
        if let Some(dst) = rest.get_mut(..key.len()) {
            dst.copy_from_slice(key);
        }
    }
    let mut out = Vec::with_capacity(2 + plain_len);
    out.extend_from_slice(&salt);
    let mut b = key_block(secret, &[request_authenticator, &salt]);
    for p in plain.chunks_exact(16) {
        let start = out.len();
        out.extend(p.iter().zip(b.iter()).map(|(p, b)| p ^ b));
        b = key_block(secret, &[out.get(start..).unwrap_or_default()]);
    }
    Ok(out)
}

/// Decrypts the Salt + String of an MS-MPPE key attribute back into the key (wiped on drop).
/// A wrong secret usually shows as [`MppeError::BadKeyLength`]; with a one-in-sixteen chance
/// or so it yields garbage of a plausible length instead, so it is no authenticity check.
pub fn decrypt_mppe_key(
    value: &[u8],
    secret: &SharedSecret,
    request_authenticator: &[u8; 16],
) -> Result<Zeroizing<Vec<u8>>, MppeError> {
    let bad_length = MppeError::BadLength { len: value.len() };
    let Some((salt, cipher)) = value.split_first_chunk::<2>() else {
        return Err(bad_length);
    };
    if cipher.is_empty() || !cipher.len().is_multiple_of(16) {
        return Err(bad_length);
    }
    if salt[0] & 0x80 == 0 {
        return Err(MppeError::SaltHighBitClear {
            salt: u16::from_be_bytes(*salt),
        });
    }
    let mut plain = Zeroizing::new(Vec::with_capacity(cipher.len()));
    let mut b = key_block(secret, &[request_authenticator, salt]);
    for c in cipher.chunks_exact(16) {
        plain.extend(c.iter().zip(b.iter()).map(|(c, b)| c ^ b));
        b = key_block(secret, &[c]);
    }
    let key_len = usize::from(plain.first().copied().unwrap_or(0));
    let available = plain.len() - 1;
    match plain.get(1..1 + key_len) {
        Some(key) => Ok(Zeroizing::new(key.to_vec())),
        None => Err(MppeError::BadKeyLength { key_len, available }),
    }
}

/// A Vendor-Specific value in the format RFC 2865 section 5.26 recommends: Vendor-Id, then
/// one sub-attribute (Vendor-Type, Vendor-Length = 2 + data, data).
pub fn vendor_specific_value(
    vendor_id: u32,
    vendor_type: u8,
    data: &[u8],
) -> Result<Vec<u8>, MppeError> {
    // 4 (Vendor-Id) + 2 + data must fit the 253 octets of an attribute value
    if data.len() > super::MAX_VALUE_LEN - 6 {
        return Err(MppeError::VendorDataTooLong { len: data.len() });
    }
    let mut out = Vec::with_capacity(6 + data.len());
    out.extend_from_slice(&vendor_id.to_be_bytes());
    out.push(vendor_type);
    out.push((2 + data.len()) as u8);
    out.extend_from_slice(data);
    Ok(out)
}

/// The Vendor-Specific value of one encrypted MS-MPPE key (`vendor_type` is
/// [`MS_MPPE_SEND_KEY`] or [`MS_MPPE_RECV_KEY`]).
pub fn mppe_key_attribute(
    vendor_type: u8,
    key: &[u8],
    salt: [u8; 2],
    secret: &SharedSecret,
    request_authenticator: &[u8; 16],
) -> Result<Vec<u8>, MppeError> {
    let data = encrypt_mppe_key(key, salt, secret, request_authenticator)?;
    vendor_specific_value(VENDOR_MICROSOFT, vendor_type, &data)
}

/// Reads one MS-MPPE key Vendor-Specific value: returns its Vendor-Type (16 send, 17
/// receive) and the decrypted key.
pub fn decode_mppe_key_attribute(
    value: &[u8],
    secret: &SharedSecret,
    request_authenticator: &[u8; 16],
) -> Result<(u8, Zeroizing<Vec<u8>>), MppeError> {
    let (vendor, sub) = super::vendor_specific(value).ok_or(MppeError::NotMppeKey)?;
    let Some((&[vendor_type, vendor_length], data)) = sub.split_first_chunk::<2>() else {
        return Err(MppeError::NotMppeKey);
    };
    if vendor != VENDOR_MICROSOFT || !matches!(vendor_type, MS_MPPE_SEND_KEY | MS_MPPE_RECV_KEY) {
        return Err(MppeError::NotMppeKey);
    }
    if usize::from(vendor_length) != sub.len() {
        return Err(MppeError::BadVendorLength {
            vendor_length,
            len: sub.len(),
        });
    }
    let key = decrypt_mppe_key(data, secret, request_authenticator)?;
    Ok((vendor_type, key))
}

/// Appends MS-MPPE-Recv-Key and MS-MPPE-Send-Key to a reply to the Access-Request with
/// `request_authenticator`, with salts from `random` (see [`mppe_salts`]). All or nothing: on
/// error the builder holds what it held before.
pub fn add_mppe_keys(
    builder: &mut PacketBuilder<'_>,
    send_key: &[u8],
    recv_key: &[u8],
    secret: &SharedSecret,
    request_authenticator: &[u8; 16],
    random: u16,
) -> Result<(), MppeError> {
    let (send_salt, recv_salt) = mppe_salts(random);
    let recv = mppe_key_attribute(
        MS_MPPE_RECV_KEY,
        recv_key,
        recv_salt,
        secret,
        request_authenticator,
    )?;
    let send = mppe_key_attribute(
        MS_MPPE_SEND_KEY,
        send_key,
        send_salt,
        secret,
        request_authenticator,
    )?;
    if builder.len() + 2 + recv.len() + 2 + send.len() > MAX_PACKET_LEN {
        return Err(RadiusError::BufferFull.into());
    }
    builder.attr(attr::VENDOR_SPECIFIC, &recv)?;
    builder.attr(attr::VENDOR_SPECIFIC, &send)?;
    Ok(())
}

/// Appends the MPPE keys of an EAP method's 64-octet MSK: MS-MPPE-Recv-Key = its first 32
/// octets, MS-MPPE-Send-Key = the last 32 (RFC 5216 section 2.3 and what PEAP and TTLS
/// peers and access points expect).
pub fn add_msk(
    builder: &mut PacketBuilder<'_>,
    msk: &[u8; 64],
    secret: &SharedSecret,
    request_authenticator: &[u8; 16],
    random: u16,
) -> Result<(), MppeError> {
    let (recv, send) = msk.split_at(32);
    add_mppe_keys(builder, send, recv, secret, request_authenticator, random)
}

#[cfg(test)]
mod tests;
