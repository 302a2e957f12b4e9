//! Rogue DHCP servers: a server answering clients that is not one of the school's.

use std::net::{IpAddr, Ipv4Addr};

use super::{MessageType, Observation};
use crate::model::MacAddr;

/// A DHCP server reply from a server not on the trusted list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RogueServer {
    /// The address the server names itself by (option 54), else the frame's source IP.
    pub server: Ipv4Addr,
    /// Ethernet source of the reply: the rogue box itself, or the relay that forwarded it.
    pub src_mac: Option<MacAddr>,
    pub message_type: MessageType,
    /// The client it answered.
    pub client_mac: Option<MacAddr>,
}

/// Reports a server reply (OFFER, ACK, NAK) whose server is not in `trusted`. An empty
/// `trusted` list means "not configured": nothing is reported. Replies that name no server
/// at all (no option 54, no source IP) cannot be attributed and are not reported.
pub fn rogue_server(obs: &Observation, trusted: &[IpAddr]) -> Option<RogueServer> {
    if trusted.is_empty() || !obs.is_from_server {
        return None;
    }
    let message_type = obs.message_type?;
    if !matches!(
        message_type,
        MessageType::Offer | MessageType::Ack | MessageType::Nak
    ) {
        return None;
    }
    let server = obs
        .server_id
        .or(obs.src_ip.filter(|ip| !ip.is_unspecified()))?;
    let is_trusted = trusted.iter().any(|t| match t {
        IpAddr::V4(v4) => *v4 == server,
        IpAddr::V6(v6) => v6.to_ipv4_mapped() == Some(server),
    });
    (!is_trusted).then_some(RogueServer {
        server,
        src_mac: obs.src_mac,
        message_type,
        client_mac: obs.client_mac,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn offer(server_id: Option<Ipv4Addr>, src_ip: Option<Ipv4Addr>) -> Observation {
        Observation {
            is_from_server: true,
            message_type: Some(MessageType::Offer),
            server_id,
            src_ip,
            src_mac: Some(MacAddr([2, 0, 0, 0, 0, 0x66])),
            ..Observation::default()
        }
    }

    const SCHOOL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const HOME_ROUTER: Ipv4Addr = Ipv4Addr::new(192, 168, 178, 1);

    #[test]
    fn the_schools_server_is_not_rogue() {
        let trusted = [IpAddr::V4(SCHOOL)];
        assert_eq!(
            rogue_server(&offer(Some(SCHOOL), Some(SCHOOL)), &trusted),
            None
        );
        // relayed: the source is the relay, option 54 names the server
        let relayed = offer(Some(SCHOOL), Some(Ipv4Addr::new(10, 5, 0, 254)));
        assert_eq!(rogue_server(&relayed, &trusted), None);
    }

    #[test]
    fn another_server_is_rogue() {
        let trusted = [IpAddr::V4(SCHOOL)];
        let r = rogue_server(&offer(Some(HOME_ROUTER), Some(HOME_ROUTER)), &trusted).unwrap();
        assert_eq!(r.server, HOME_ROUTER);
        assert_eq!(r.message_type, MessageType::Offer);
        assert_eq!(r.src_mac, Some(MacAddr([2, 0, 0, 0, 0, 0x66])));
        // no option 54: the source address names it
        let r = rogue_server(&offer(None, Some(HOME_ROUTER)), &trusted).unwrap();
        assert_eq!(r.server, HOME_ROUTER);
        // an IPv4-mapped IPv6 entry in the trusted list counts too
        let mapped = [IpAddr::V6(HOME_ROUTER.to_ipv6_mapped())];
        assert_eq!(rogue_server(&offer(Some(HOME_ROUTER), None), &mapped), None);
    }

    #[test]
    fn client_messages_and_unconfigured_lists_report_nothing() {
        let trusted = [IpAddr::V4(SCHOOL)];
        let mut o = offer(Some(HOME_ROUTER), None);
        assert_eq!(rogue_server(&o, &[]), None);
        o.is_from_server = false;
        assert_eq!(rogue_server(&o, &trusted), None);
        let mut o = offer(None, None);
        assert_eq!(rogue_server(&o, &trusted), None);
        o.server_id = Some(HOME_ROUTER);
        o.message_type = Some(MessageType::Inform);
        assert_eq!(rogue_server(&o, &trusted), None);
    }
}
