//! MS-MPPE key attributes against an independently computed value, limits, and round trips.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;

use super::*;
use crate::radius::{Code, Packet};

fn secret() -> SharedSecret {
    SharedSecret::new(b"testing123".to_vec())
}

fn request_authenticator() -> [u8; 16] {
    std::array::from_fn(|i| 0x10 + i as u8)
}

fn key32() -> Vec<u8> {
    (0xA0..0xC0).collect()
}

/// Computed independently of this code with Python's hashlib, from RFC 2548 section 2.4.2:
///
/// ```text
/// import hashlib
/// S=b"testing123"; R=bytes(range(0x10,0x20)); A=bytes([0x80,0x00]); key=bytes(range(0xA0,0xC0))
/// P=bytes([len(key)])+key; P+=b"\0"*((-len(P))%16)
/// C=b""; prev=R+A
/// for i in range(0,len(P),16):
///     b=hashlib.md5(S+prev).digest(); c=bytes(x^y for x,y in zip(P[i:i+16],b)); C+=c; prev=c
/// print((A+C).hex())
/// ```
const EXPECTED_SALT_AND_STRING: &str = "8000e184664b53fe2fa672e71e7c61c470176c8a1f096ab96b10b39ea84bbeaf65c4461a54dec2de68b55536c574d789cb93";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn encrypts_like_the_independent_computation() {
    let value =
        encrypt_mppe_key(&key32(), [0x80, 0x00], &secret(), &request_authenticator()).unwrap();
    assert_eq!(value.len(), 2 + 48, "1 + 32 octets padded to 48");
    assert_eq!(hex(&value), EXPECTED_SALT_AND_STRING);
    let key = decrypt_mppe_key(&value, &secret(), &request_authenticator()).unwrap();
    assert_eq!(*key, key32());
}

#[test]
fn vendor_specific_framing() {
    let value = mppe_key_attribute(
        MS_MPPE_RECV_KEY,
        &key32(),
        [0x80, 0x00],
        &secret(),
        &request_authenticator(),
    )
    .unwrap();
    assert_eq!(&value[..6], &[0, 0, 0x01, 0x37, 17, 52]);
    assert_eq!(hex(&value[6..]), EXPECTED_SALT_AND_STRING);
    let (typ, key) =
        decode_mppe_key_attribute(&value, &secret(), &request_authenticator()).unwrap();
    assert_eq!((typ, key.to_vec()), (MS_MPPE_RECV_KEY, key32()));

    let mut other_vendor = value.clone();
    other_vendor[3] = 0x38;
    assert_eq!(
        decode_mppe_key_attribute(&other_vendor, &secret(), &request_authenticator()),
        Err(MppeError::NotMppeKey)
    );
    let mut other_type = value.clone();
    other_type[4] = 1;
    assert_eq!(
        decode_mppe_key_attribute(&other_type, &secret(), &request_authenticator()),
        Err(MppeError::NotMppeKey)
    );
    let mut bad_length = value.clone();
    bad_length[5] = 51;
    assert_eq!(
        decode_mppe_key_attribute(&bad_length, &secret(), &request_authenticator()),
        Err(MppeError::BadVendorLength {
            vendor_length: 51,
            len: 52
        })
    );
    assert_eq!(
        vendor_specific_value(9, 1, &[0; 248]),
        Err(MppeError::VendorDataTooLong { len: 248 })
    );
    assert_eq!(vendor_specific_value(9, 1, &[7; 247]).unwrap().len(), 253);
}

#[test]
fn mppe_salts_are_marked_and_unique() {
    for random in [0u16, 1, 0x7FFF, 0x8000, 0xFFFF, 0x1234] {
        let (send, recv) = mppe_salts(random);
        assert_ne!(send, recv);
        assert!(send[0] & 0x80 != 0 && recv[0] & 0x80 != 0);
    }
    assert_eq!(
        encrypt_mppe_key(&key32(), [0x7F, 0xFF], &secret(), &request_authenticator()),
        Err(MppeError::SaltHighBitClear { salt: 0x7FFF })
    );
}

#[test]
fn limits_and_wrong_inputs() {
    let ra = request_authenticator();
    assert_eq!(
        encrypt_mppe_key(&[0; 240], [0x80, 0], &secret(), &ra),
        Err(MppeError::KeyTooLong { len: 240 })
    );
    let longest = encrypt_mppe_key(&[0x55; MPPE_MAX_KEY_LEN], [0x80, 0], &secret(), &ra).unwrap();
    assert_eq!(longest.len(), 242);
    assert_eq!(
        mppe_key_attribute(
            MS_MPPE_SEND_KEY,
            &[0x55; MPPE_MAX_KEY_LEN],
            [0x80, 0],
            &secret(),
            &ra
        )
        .unwrap()
        .len(),
        248
    );
    assert_eq!(
        *decrypt_mppe_key(&longest, &secret(), &ra).unwrap(),
        [0x55; MPPE_MAX_KEY_LEN]
    );
    let empty = encrypt_mppe_key(&[], [0x80, 0], &secret(), &ra).unwrap();
    assert_eq!(empty.len(), 18);
    assert!(decrypt_mppe_key(&empty, &secret(), &ra).unwrap().is_empty());

    for len in [0, 1, 2, 3, 17, 33] {
        assert_eq!(
            decrypt_mppe_key(&vec![0x80; len], &secret(), &ra),
            Err(MppeError::BadLength { len })
        );
    }
    // the salt is part of the key stream: another salt, another stream
    let value = encrypt_mppe_key(&key32(), [0x80, 0x00], &secret(), &ra).unwrap();
    let mut other_salt = value.clone();
    other_salt[1] = 1;
    assert_ne!(
        decrypt_mppe_key(&other_salt, &secret(), &ra)
            .ok()
            .as_deref(),
        Some(&key32())
    );
    // a wrong secret does not give the key back
    let wrong = SharedSecret::new(b"testing124".to_vec());
    assert_ne!(
        decrypt_mppe_key(&value, &wrong, &ra).ok().as_deref(),
        Some(&key32())
    );
    let mut other_ra = ra;
    other_ra[0] ^= 1;
    assert_ne!(
        decrypt_mppe_key(&value, &secret(), &other_ra)
            .ok()
            .as_deref(),
        Some(&key32())
    );
}

#[test]
fn accept_carries_both_keys() {
    let msk: [u8; 64] = std::array::from_fn(|i| i as u8);
    let ra = request_authenticator();
    let mut buf = Vec::new();
    let mut b = PacketBuilder::new(&mut buf, Code::AccessAccept, 3);
    b.message_authenticator();
    add_msk(&mut b, &msk, &secret(), &ra, 0xBEEF).unwrap();
    b.finish_reply(&ra, &secret()).unwrap();

    let packet = Packet::parse(&buf).unwrap();
    let mut keys = Vec::new();
    for a in packet.attributes() {
        if a.typ == attr::VENDOR_SPECIFIC {
            keys.push(decode_mppe_key_attribute(a.value, &secret(), &ra).unwrap());
        }
    }
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].0, MS_MPPE_RECV_KEY);
    assert_eq!(*keys[0].1, msk[..32]);
    assert_eq!(keys[1].0, MS_MPPE_SEND_KEY);
    assert_eq!(*keys[1].1, msk[32..]);
}

#[test]
fn a_full_reply_gets_neither_key() {
    let ra = request_authenticator();
    let mut buf = Vec::new();
    let mut b = PacketBuilder::new(&mut buf, Code::AccessAccept, 3);
    // 4096 - 20 header = 4076; leave room for one key attribute (58) but not two
    for _ in 0..15 {
        b.attr(attr::REPLY_MESSAGE, &[b'x'; 253]).unwrap();
    }
    b.attr(attr::REPLY_MESSAGE, &[b'x'; 150]).unwrap();
    let before = b.len();
    assert!(4096 - before >= 58 && 4096 - before < 116, "{before}");
    let err = add_msk(&mut b, &[0; 64], &secret(), &ra, 1);
    assert_eq!(err, Err(MppeError::Radius(RadiusError::BufferFull)));
    assert_eq!(b.len(), before);
}

proptest! {
    #[test]
    fn round_trip_any_key(
        key in proptest::collection::vec(any::<u8>(), 0..=MPPE_MAX_KEY_LEN),
        random in any::<u16>(),
        ra in any::<[u8; 16]>(),
        secret_bytes in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let secret = SharedSecret::new(secret_bytes);
        let (send_salt, _) = mppe_salts(random);
        let value = encrypt_mppe_key(&key, send_salt, &secret, &ra).unwrap();
        prop_assert_eq!(value.len() - 2, (key.len() + 1).div_ceil(16) * 16);
        prop_assert_eq!(decrypt_mppe_key(&value, &secret, &ra).unwrap().to_vec(), key);
    }

    #[test]
    fn decode_never_panics(value in proptest::collection::vec(any::<u8>(), 0..260)) {
        let _ = decrypt_mppe_key(&value, &secret(), &request_authenticator());
        let _ = decode_mppe_key_attribute(&value, &secret(), &request_authenticator());
    }
}
