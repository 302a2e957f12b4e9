//! EAP inside RADIUS (RFC 3579 section 3.1): one EAP packet travels in one or more
//! consecutive EAP-Message attributes of at most 253 octets each.
//!
//! What it owns: joining the attribute values of a request into one packet (checking that
//! they make exactly the packet their Length says) and splitting an outgoing packet into
//! attribute-sized chunks, both with a size bound that keeps a reply under RADIUS's 4096
//! octets. What it must not do: read or write RADIUS packets themselves (the server does,
//! with the `radius` codec) or interpret the EAP packet.

use thiserror::Error;

/// The most one EAP-Message attribute carries.
pub const MAX_CHUNK: usize = 253;
/// The largest EAP packet hallpass puts into one RADIUS reply: 4096 octets less the header,
/// Message-Authenticator, State, the EAP-Message attribute headers and room for the other
/// reply attributes.
pub const MAX_EAP_IN_RADIUS: usize = 3000;
/// The largest EAP packet accepted from a request (a RADIUS packet holds at most 4096).
pub const MAX_EAP_FROM_RADIUS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AttrError {
    #[error("no EAP-Message attribute")]
    Missing,
    #[error("EAP-Message attributes hold {0} octets, more than allowed")]
    TooLarge(usize),
    #[error("EAP-Message attributes hold {actual} octets but the EAP Length is {expected}")]
    LengthMismatch { expected: usize, actual: usize },
    #[error("an EAP-Message attribute value has {0} octets (1 to 253 allowed)")]
    BadChunk(usize),
}

/// Joins the values of a request's EAP-Message attributes, in order, into one EAP packet.
/// An empty single value is EAP-Start (RFC 3579 section 2.1) and comes back empty.
pub fn join<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, AttrError> {
    let mut packet = Vec::new();
    let mut count = 0usize;
    for value in values {
        count += 1;
        if value.len() > MAX_CHUNK {
            return Err(AttrError::BadChunk(value.len()));
        }
        if packet.len() + value.len() > MAX_EAP_FROM_RADIUS {
            return Err(AttrError::TooLarge(packet.len() + value.len()));
        }
        packet.extend_from_slice(value);
    }
    if count == 0 {
        return Err(AttrError::Missing);
    }
    if packet.is_empty() {
        return Ok(packet);
    }
    if count > 1 && packet.len() < 4 {
        return Err(AttrError::LengthMismatch {
            expected: 4,
            actual: packet.len(),
        });
    }
    if let [_, _, hi, lo, ..] = packet[..] {
        let expected = usize::from(u16::from_be_bytes([hi, lo]));
        if expected != packet.len() {
            return Err(AttrError::LengthMismatch {
                expected,
                actual: packet.len(),
            });
        }
    }
    Ok(packet)
}

/// Splits an EAP packet into EAP-Message values of at most 253 octets.
pub fn split(packet: &[u8]) -> Result<std::slice::Chunks<'_, u8>, AttrError> {
    if packet.len() > MAX_EAP_IN_RADIUS {
        return Err(AttrError::TooLarge(packet.len()));
    }
    if packet.is_empty() {
        return Err(AttrError::BadChunk(0));
    }
    Ok(packet.chunks(MAX_CHUNK))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eap(len: usize) -> Vec<u8> {
        let mut p = vec![2, 1, (len >> 8) as u8, len as u8, 13];
        p.resize(len, 0xab);
        p
    }

    #[test]
    fn joins_consecutive_values() {
        let p = eap(600);
        let parts: Vec<&[u8]> = p.chunks(253).collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(join(parts).unwrap(), p);
    }

    #[test]
    fn refuses_missing_mismatched_and_oversized() {
        assert_eq!(join(Vec::<&[u8]>::new()), Err(AttrError::Missing));
        let p = eap(300);
        assert_eq!(
            join([&p[..253]]),
            Err(AttrError::LengthMismatch {
                expected: 300,
                actual: 253
            })
        );
        let too_long = [0u8; 254];
        assert_eq!(join([&too_long[..]]), Err(AttrError::BadChunk(254)));
        let big = [0u8; 253];
        assert_eq!(
            join(std::iter::repeat_n(&big[..], 17)),
            Err(AttrError::TooLarge(4301))
        );
        assert_eq!(
            join([&[2u8, 1][..], &[0][..]]),
            Err(AttrError::LengthMismatch {
                expected: 4,
                actual: 3
            })
        );
    }

    #[test]
    fn empty_value_is_eap_start() {
        assert_eq!(join([&[][..]]).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn splits_at_253_with_a_bound() {
        let p = eap(1000);
        let chunks: Vec<&[u8]> = split(&p).unwrap().collect();
        assert_eq!(
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
            [253, 253, 253, 241]
        );
        assert_eq!(
            split(&eap(MAX_EAP_IN_RADIUS + 1)).err(),
            Some(AttrError::TooLarge(3001))
        );
    }

    proptest! {
        #[test]
        fn split_then_join_is_identity(len in 5usize..=MAX_EAP_IN_RADIUS) {
            let p = eap(len);
            let chunks: Vec<&[u8]> = split(&p).unwrap().collect();
            prop_assert!(chunks.iter().all(|c| !c.is_empty() && c.len() <= MAX_CHUNK));
            prop_assert_eq!(join(chunks).unwrap(), p);
        }

        #[test]
        fn join_never_panics(values in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..300), 0..20)) {
            let _ = join(values.iter().map(|v| &v[..]));
        }
    }
}
