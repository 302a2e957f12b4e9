//! Which DHCP replies come from the school's servers: the rogue-server check, and the one
//! message whose address may become a device's address.
//!
//! Everything in a DHCP message is chosen by whoever sent it: a pupil's laptop can run a
//! DHCP server that names the school's server in option 54, and a client can ask for any
//! address in option 50. So a reply is the school's only when the frame's source address
//! is on the trusted list as well as the server it names, and a device's address comes only
//! from such a reply's ACK.

use std::net::{IpAddr, Ipv4Addr};

use super::{MessageType, Observation};
use crate::model::MacAddr;

/// A DHCP server reply from a server not on the trusted list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RogueServer {
    /// The address that sent the reply when it is not trusted (the rogue box, or a relay
    /// nobody listed); else the untrusted server the reply names in option 54.
    pub server: Ipv4Addr,
    /// What the reply says about itself (option 54), which may name a trusted server: a
    /// forger copies the school's server's address there.
    pub claimed: Option<Ipv4Addr>,
    /// Ethernet source of the reply: the rogue box itself, or the relay that forwarded it.
    pub src_mac: Option<MacAddr>,
    pub message_type: MessageType,
    /// The client it answered.
    pub client_mac: Option<MacAddr>,
}

/// What the trusted list says about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerTrust {
    /// Not a server's OFFER, ACK or NAK.
    NotAReply,
    /// `trusted_servers` is empty: no server is the school's and none is reported.
    Unconfigured,
    /// The frame's source and the server it names are both trusted.
    Trusted,
    Rogue(RogueServer),
    /// A reply without a source address or option 54 (only when decoded without its
    /// frame): it cannot be attributed, so it is neither trusted nor reported.
    Unattributable,
}

fn is_trusted(ip: Ipv4Addr, trusted: &[IpAddr]) -> bool {
    trusted.iter().any(|t| match t {
        IpAddr::V4(v4) => *v4 == ip,
        IpAddr::V6(v6) => v6.to_ipv4_mapped() == Some(ip),
    })
}

/// Judges a message against `trusted` (`[dhcp] trusted_servers`). A reply is trusted when
/// the IP source of its frame is on the list (the school's server, or a relay the school
/// listed) and the server it names in option 54, if any, is too. The source is checked
/// first, so a rogue that copies the school's address into option 54 is still reported, by
/// the address it really sent from.
pub fn server_trust(obs: &Observation, trusted: &[IpAddr]) -> ServerTrust {
    let Some(message_type) = obs.message_type.filter(|_| obs.is_from_server) else {
        return ServerTrust::NotAReply;
    };
    if !matches!(
        message_type,
        MessageType::Offer | MessageType::Ack | MessageType::Nak
    ) {
        return ServerTrust::NotAReply;
    }
    if trusted.is_empty() {
        return ServerTrust::Unconfigured;
    }
    let source = obs.src_ip.filter(|ip| !ip.is_unspecified());
    let rogue = |server| {
        ServerTrust::Rogue(RogueServer {
            server,
            claimed: obs.server_id,
            src_mac: obs.src_mac,
            message_type,
            client_mac: obs.client_mac,
        })
    };
    if let Some(src) = source.filter(|ip| !is_trusted(*ip, trusted)) {
        return rogue(src);
    }
    if let Some(named) = obs.server_id.filter(|ip| !is_trusted(*ip, trusted)) {
        return rogue(named);
    }
    if source.is_none() && obs.server_id.is_none() {
        return ServerTrust::Unattributable;
    }
    ServerTrust::Trusted
}

/// Reports a server reply (OFFER, ACK, NAK) that is not from a trusted server (see
/// [`server_trust`]). An empty `trusted` list means "not configured": nothing is reported.
pub fn rogue_server(obs: &Observation, trusted: &[IpAddr]) -> Option<RogueServer> {
    match server_trust(obs, trusted) {
        ServerTrust::Rogue(r) => Some(r),
        _ => None,
    }
}

/// The address this message may set as its device's address: the yiaddr of an ACK from a
/// trusted server, else none. A client's REQUEST (option 50, ciaddr) is only a wish, an
/// OFFER only a proposal, and with no trusted server configured no reply is believed; the
/// address of such a device then comes from accounting (Framed-IP-Address) alone.
pub fn leased_address(obs: &Observation, trusted: &[IpAddr]) -> Option<Ipv4Addr> {
    if obs.message_type != Some(MessageType::Ack) {
        return None;
    }
    match server_trust(obs, trusted) {
        ServerTrust::Trusted => obs.yiaddr.filter(|ip| !ip.is_unspecified()),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
