//! The DHCP watcher's pure half: a captured frame in, an [`Observation`] out, and the
//! fingerprint table that guesses a device's family from it.
//!
//! Owns: Ethernet/802.1Q/IPv4/UDP unwrapping ([`parse_frame`]), BOOTP/DHCP decoding
//! ([`parse_dhcp`], on top of `dhcproto`, with the raw option reads it cannot do safely), the
//! built-in fingerprint table ([`classify`]), the rogue-server check ([`rogue_server`]) and
//! the rule which address a message may give its device ([`leased_address`]).
//!
//! Must not: open sockets, read the clock, start threads or tasks, touch the store. Every
//! byte it sees comes from the network, so nothing in here may panic on any input.

mod fingerprint;
pub mod frame;
mod message;
mod options;
#[cfg(test)]
mod proptests;
mod rogue;

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;

use crate::model::MacAddr;

pub use fingerprint::{DeviceFamily, FingerprintError, FingerprintTable, classify};
pub use frame::parse_frame;
pub use message::parse_dhcp;
pub use rogue::{RogueServer, ServerTrust, leased_address, rogue_server, server_trust};

/// Why a frame or payload is not a DHCP message we can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhcpError {
    #[error("frame too short for its {layer} header ({len} bytes)")]
    Truncated { layer: Layer, len: usize },
    #[error("not IPv4 (EtherType {0:#06x})")]
    NotIpv4(u16),
    #[error("IP version {0}, expected 4")]
    BadIpVersion(u8),
    #[error("IPv4 header length {0} bytes is below 20")]
    BadIhl(usize),
    #[error(
        "IPv4 total length {total} does not fit the header ({ihl}) and the frame ({available})"
    )]
    BadIpLength {
        total: usize,
        ihl: usize,
        available: usize,
    },
    #[error("IPv4 fragment (offset {offset}, more fragments: {more}); DHCP is never fragmented")]
    Fragment { offset: u16, more: bool },
    #[error("not UDP (IP protocol {0})")]
    NotUdp(u8),
    #[error("UDP length {length} does not fit the IPv4 payload ({available} bytes)")]
    BadUdpLength { length: usize, available: usize },
    #[error("UDP ports {src} -> {dst} are not DHCP (67/68)")]
    NotDhcpPort { src: u16, dst: u16 },
    #[error("BOOTP message of {0} bytes, at least 240 needed (fixed header and magic cookie)")]
    ShortMessage(usize),
    #[error("no DHCP magic cookie (plain BOOTP is not watched)")]
    NoMagicCookie,
    #[error("BOOTP op code {0} is neither BOOTREQUEST (1) nor BOOTREPLY (2)")]
    BadOpCode(u8),
    #[error("DHCP message does not decode: {detail}")]
    Decode { detail: String },
}

/// The protocol layer a truncated frame ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Ethernet,
    Vlan,
    Ipv4,
    Udp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Ethernet => "Ethernet",
            Layer::Vlan => "802.1Q",
            Layer::Ipv4 => "IPv4",
            Layer::Udp => "UDP",
        })
    }
}

/// DHCP message type (option 53, RFC 2132 9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Discover,
    Offer,
    Request,
    Decline,
    Ack,
    Nak,
    Release,
    Inform,
    /// Any other value (lease query messages and the like).
    Other(u8),
}

impl MessageType {
    pub fn from_u8(v: u8) -> MessageType {
        match v {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            other => MessageType::Other(other),
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
            MessageType::Other(v) => v,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Discover => "DISCOVER",
            MessageType::Offer => "OFFER",
            MessageType::Request => "REQUEST",
            MessageType::Decline => "DECLINE",
            MessageType::Ack => "ACK",
            MessageType::Nak => "NAK",
            MessageType::Release => "RELEASE",
            MessageType::Inform => "INFORM",
            MessageType::Other(_) => "OTHER",
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageType::Other(v) => write!(f, "OTHER({v})"),
            t => f.write_str(t.as_str()),
        }
    }
}

/// Bytes a client chose freely (host name, vendor class): kept raw, shown lossily.
/// Clients send Latin-1, UTF-8 or garbage; the raw bytes are what the device sent.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ClientText(pub Vec<u8>);

impl ClientText {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text with invalid UTF-8 replaced by U+FFFD; borrows when it is valid.
    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

impl fmt::Debug for ClientText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_str_lossy(), f)
    }
}

/// Client FQDN option (81, RFC 4702).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fqdn {
    /// Flags: S (0x01), O (0x02), E (0x04, name in DNS wire format), N (0x08).
    pub flags: u8,
    pub rcode1: u8,
    pub rcode2: u8,
    /// The domain-name field as sent.
    pub raw_name: Vec<u8>,
}

impl Fqdn {
    /// The name as dotted text: DNS wire format when the E flag is set (RFC 4702 2.3.1),
    /// else the deprecated ASCII form. Invalid bytes are replaced, never rejected.
    pub fn name(&self) -> String {
        if self.flags & 0x04 == 0 {
            return String::from_utf8_lossy(&self.raw_name).into_owned();
        }
        let mut out = String::new();
        let mut rest = self.raw_name.as_slice();
        while let Some((&len, tail)) = rest.split_first() {
            let len = usize::from(len);
            // 0 ends the name; a compression pointer (top bits set) is not allowed here
            if len == 0 || len > 63 || len > tail.len() {
                break;
            }
            let (label, after) = tail.split_at(len);
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&String::from_utf8_lossy(label));
            rest = after;
        }
        out
    }
}

/// Relay agent information (option 82, RFC 3046): where a relayed client is plugged in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RelayAgent {
    /// Sub-option 1: typically the switch port or AP/SSID the request came through.
    pub circuit_id: Option<Vec<u8>>,
    /// Sub-option 2: typically the relay's (switch's) own identity.
    pub remote_id: Option<Vec<u8>>,
}

/// What one DHCP message tells about a device and the server that answered it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observation {
    /// Option 53; `None` only when the option is missing.
    pub message_type: Option<MessageType>,
    /// BOOTREPLY: sent by a server (or relayed from one). Decided by the op code, not the
    /// source port: a relay forwards client requests from port 67 too.
    pub is_from_server: bool,
    pub xid: u32,
    /// chaddr, when it is an Ethernet address (htype 1, hlen 6).
    pub client_mac: Option<MacAddr>,
    /// Ethernet source of the frame (a relay or the server for replies); `None` from
    /// [`parse_dhcp`].
    pub src_mac: Option<MacAddr>,
    pub dst_mac: Option<MacAddr>,
    pub src_ip: Option<Ipv4Addr>,
    pub dst_ip: Option<Ipv4Addr>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    /// 802.1Q VLAN id of the frame, when it carried a tag.
    pub vlan: Option<u16>,
    /// The client's address this message is about: yiaddr of an OFFER/ACK, else the
    /// requested address (50), else ciaddr. What the sender says, not what is true: only
    /// [`leased_address`] decides which address a device has.
    pub ip: Option<Ipv4Addr>,
    pub ciaddr: Option<Ipv4Addr>,
    pub yiaddr: Option<Ipv4Addr>,
    pub giaddr: Option<Ipv4Addr>,
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 12.
    pub hostname: Option<ClientText>,
    /// Option 81.
    pub fqdn: Option<Fqdn>,
    /// Option 60.
    pub vendor_class: Option<ClientText>,
    /// Option 61 (type byte first).
    pub client_id: Option<Vec<u8>>,
    /// Option 55, in the client's order: the core of a fingerprint.
    pub param_request_list: Option<Vec<u8>>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Option 82.
    pub relay_agent: Option<RelayAgent>,
}

impl Observation {
    /// The MAC the message is about: chaddr when it is Ethernet, else the frame's source
    /// for client messages.
    pub fn device_mac(&self) -> Option<MacAddr> {
        self.client_mac.or(if self.is_from_server {
            None
        } else {
            self.src_mac
        })
    }
}
