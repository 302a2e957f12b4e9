//! The RADIUS shared secret as a value: loaded by `config`, used by the codec in `radius`.
//! Lives below both so that reading the config needs nothing of the codec.
//! Must not: print the secret, or do any cryptography beyond keying the HMAC once.

use hmac::{Hmac, Mac};
use md5::Md5;
use zeroize::Zeroizing;

/// A RADIUS shared secret, with its HMAC-MD5 key schedule done once: the key blocks XORed
/// with the inner and outer pads (RFC 2104) are hashed when the secret is loaded, so each
/// Message-Authenticator costs two MD5 blocks fewer. Never printed: `Debug` shows only its
/// length. The secret is wiped on drop; the two keyed MD5 states cannot be (the `hmac`
/// crate offers no wipe), and they live as long as the secret does.
#[derive(Clone)]
pub struct SharedSecret {
    bytes: Zeroizing<Vec<u8>>,
    /// `None` only if the HMAC crate ever refused the key; every use then reports
    /// `RadiusError::HmacKey`.
    hmac: Option<Hmac<Md5>>,
}

impl SharedSecret {
    pub fn new(bytes: Vec<u8>) -> SharedSecret {
        let hmac = <Hmac<Md5> as Mac>::new_from_slice(&bytes).ok();
        SharedSecret {
            bytes: Zeroizing::new(bytes),
            hmac,
        }
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A fresh HMAC-MD5 keyed with the secret; `None` if the key was refused.
    #[inline]
    pub(crate) fn hmac(&self) -> Option<Hmac<Md5>> {
        self.hmac.clone()
    }
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedSecret(<{} bytes>)", self.bytes.len())
    }
}
