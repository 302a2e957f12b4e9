//! Framing of the TLS-based methods: EAP-TLS (RFC 5216 section 3.1), EAP-TTLS (RFC 5281
//! section 9.2) and PEAP ([MS-PEAP] section 2.2.2). After the EAP type comes a flags octet
//! (L: TLS Message Length included, M: more fragments, S: start; the low three bits carry
//! the PEAP or TTLS version), then the four-octet TLS Message Length when L is set, then TLS
//! records.
//!
//! What it owns: parsing and writing that framing, reassembling a peer's fragments with a
//! bound on the total, cutting outgoing TLS data into fragments that fit the link, and
//! recognising acknowledgements (a frame with no data and no M flag). What it must not do:
//! look into the TLS records, or decide what to answer: the method machines do.

use thiserror::Error;

pub const FLAG_LENGTH: u8 = 0x80;
pub const FLAG_MORE: u8 = 0x40;
pub const FLAG_START: u8 = 0x20;
pub const VERSION_MASK: u8 = 0x07;

/// Default largest EAP packet sent to a NAS that gives no Framed-MTU.
pub const DEFAULT_MAX_EAP_PACKET: usize = 1000;
/// The largest EAP packet sent when the NAS gives a Framed-MTU. The Access-Challenge
/// around it (header, Message-Authenticator, State, six EAP-Message headers: 68 octets, and
/// room for Proxy-State) still fits one 1500-octet IP packet, so it is not fragmented on
/// its way to the NAS. An ECDSA certificate chain from `make-cert` then goes out in one
/// fragment where 1000 octets took two, one RADIUS round less per login.
pub const MAX_EAP_PACKET_BY_MTU: usize = 1300;
/// Below this an EAP packet could not carry a useful fragment.
pub const MIN_MAX_EAP_PACKET: usize = 128;
/// The default bound on one reassembled TLS message from a peer.
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024;
/// EAP header (4), type (1), flags (1), TLS Message Length (4).
const OVERHEAD: usize = 10;
/// The EAPOL header in front of an EAP packet on the link (IEEE 802.1X).
const EAPOL_HEADER: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FragmentError {
    #[error("TLS method data without a flags octet")]
    MissingFlags,
    #[error("TLS Message Length flag set but only {0} octets follow the flags")]
    TruncatedLength(usize),
    #[error("TLS message of {0} octets exceeds the bound")]
    TooLarge(usize),
    #[error("fragments hold {actual} octets but TLS Message Length said {announced}")]
    Inconsistent { announced: usize, actual: usize },
    #[error("a fragment with the M flag carries no data")]
    EmptyFragment,
}

/// One parsed frame of TLS method data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub flags: u8,
    pub message_length: Option<u32>,
    pub payload: &'a [u8],
}

impl<'a> Frame<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Self, FragmentError> {
        let (&flags, rest) = data.split_first().ok_or(FragmentError::MissingFlags)?;
        if flags & FLAG_LENGTH == 0 {
            return Ok(Self {
                flags,
                message_length: None,
                payload: rest,
            });
        }
        match *rest {
            [a, b, c, d, ref payload @ ..] => Ok(Self {
                flags,
                message_length: Some(u32::from_be_bytes([a, b, c, d])),
                payload,
            }),
            _ => Err(FragmentError::TruncatedLength(rest.len())),
        }
    }

    pub fn more(&self) -> bool {
        self.flags & FLAG_MORE != 0
    }

    pub fn start(&self) -> bool {
        self.flags & FLAG_START != 0
    }

    pub fn version(&self) -> u8 {
        self.flags & VERSION_MASK
    }

    /// An acknowledgement of a fragment: no data and no M flag (RFC 5216 section 2.1.5).
    pub fn is_ack(&self) -> bool {
        self.payload.is_empty() && !self.more()
    }
}

/// Writes one frame: flags, the length when given, the payload.
pub fn encode(flags: u8, message_length: Option<u32>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + payload.len());
    match message_length {
        Some(len) => {
            out.push(flags | FLAG_LENGTH);
            out.extend_from_slice(&len.to_be_bytes());
        }
        None => out.push(flags & !FLAG_LENGTH),
    }
    out.extend_from_slice(payload);
    out
}

/// The largest EAP packet to send on a link: what the NAS's Framed-MTU leaves after the
/// EAPOL header (RFC 3579 section 2.4), at most [`MAX_EAP_PACKET_BY_MTU`]; `without_mtu`
/// when the NAS says nothing; never below a useful minimum.
pub fn max_eap_packet(without_mtu: usize, framed_mtu: Option<u32>) -> usize {
    let size = framed_mtu.map_or(without_mtu, |mtu| {
        usize::try_from(mtu.saturating_sub(EAPOL_HEADER))
            .unwrap_or(usize::MAX)
            .min(MAX_EAP_PACKET_BY_MTU)
    });
    size.max(MIN_MAX_EAP_PACKET)
}

/// What an incoming fragment completed.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// More fragments follow: acknowledge this one.
    More,
    /// The whole TLS message.
    Complete(Vec<u8>),
}

/// Reassembles a peer's fragmented TLS message.
#[derive(Debug)]
pub struct Reassembly {
    buf: Vec<u8>,
    announced: Option<usize>,
    limit: usize,
}

impl Reassembly {
    pub fn new(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            announced: None,
            limit,
        }
    }

    /// True while fragments have arrived and the last one is still missing.
    pub fn in_progress(&self) -> bool {
        !self.buf.is_empty() || self.announced.is_some()
    }

    /// Adds one frame; an error leaves the reassembly empty.
    pub fn push(&mut self, frame: &Frame<'_>) -> Result<Progress, FragmentError> {
        let result = self.push_inner(frame);
        if !matches!(result, Ok(Progress::More)) {
            self.announced = None;
            if result.is_err() {
                self.buf = Vec::new();
            }
        }
        result
    }

    fn push_inner(&mut self, frame: &Frame<'_>) -> Result<Progress, FragmentError> {
        if let Some(len) = frame.message_length {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len > self.limit {
                return Err(FragmentError::TooLarge(len));
            }
            match self.announced {
                Some(announced) if announced != len => {
                    return Err(FragmentError::Inconsistent {
                        announced,
                        actual: len,
                    });
                }
                _ => self.announced = Some(len),
            }
        }
        if frame.more() && frame.payload.is_empty() {
            return Err(FragmentError::EmptyFragment);
        }
        let total = self.buf.len() + frame.payload.len();
        if total > self.limit {
            return Err(FragmentError::TooLarge(total));
        }
        if let Some(announced) = self.announced
            && total > announced
        {
            return Err(FragmentError::Inconsistent {
                announced,
                actual: total,
            });
        }
        self.buf.extend_from_slice(frame.payload);
        if frame.more() {
            return Ok(Progress::More);
        }
        if let Some(announced) = self.announced
            && announced != total
        {
            return Err(FragmentError::Inconsistent {
                announced,
                actual: total,
            });
        }
        Ok(Progress::Complete(std::mem::take(&mut self.buf)))
    }
}

/// TLS data waiting to go out, one fragment per EAP Request.
#[derive(Debug, Default)]
pub struct Outgoing {
    data: Vec<u8>,
    sent: usize,
}

impl Outgoing {
    pub fn new(data: Vec<u8>) -> Self {
        Self { data, sent: 0 }
    }

    /// True when fragments remain after those already handed out.
    pub fn pending(&self) -> bool {
        self.sent < self.data.len()
    }

    /// The next fragment as method data (flags, length, payload) for an EAP packet of at
    /// most `max_eap_packet` octets. `version` fills the low flag bits. The TLS Message
    /// Length goes into the first fragment of a fragmented message (RFC 5216 section 2.1.5).
    pub fn next_fragment(&mut self, version: u8, max_eap_packet: usize) -> Vec<u8> {
        let budget = max_eap_packet.max(MIN_MAX_EAP_PACKET) - OVERHEAD;
        let rest = &self.data[self.sent..];
        let take = rest.len().min(budget);
        let first = self.sent == 0;
        let more = take < rest.len();
        let mut flags = version & VERSION_MASK;
        if more {
            flags |= FLAG_MORE;
        }
        let length = (first && more).then(|| u32::try_from(self.data.len()).unwrap_or(u32::MAX));
        let out = encode(flags, length, &rest[..take]);
        self.sent += take;
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
