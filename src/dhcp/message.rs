//! BOOTP/DHCP payload -> [`Observation`]: `dhcproto` decodes the message, guarded against
//! its traps; the free-text options are read raw.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use dhcproto::v4::relay::{RelayCode, RelayInfo};
use dhcproto::v4::{DhcpOption, Message};
use dhcproto::{Decodable, Decoder};

use super::options::{self, OptIter};
use super::{ClientText, DhcpError, Fqdn, MessageType, Observation, RelayAgent};
use crate::model::MacAddr;

const MAGIC: [u8; 4] = [99, 130, 83, 99];
/// Fixed BOOTP header (236 bytes) plus the magic cookie.
const OPTIONS_AT: usize = 240;

/// Parses a UDP payload holding a BOOTP/DHCP message (RFC 2131). The frame fields of the
/// result (`src_mac`, `src_ip`, ports, VLAN) stay `None`.
pub fn parse_dhcp(payload: &[u8]) -> Result<Observation, DhcpError> {
    if payload.len() < OPTIONS_AT {
        return Err(DhcpError::ShortMessage(payload.len()));
    }
    if payload[236..OPTIONS_AT] != MAGIC {
        return Err(DhcpError::NoMagicCookie);
    }
    let op = payload[0];
    if op != 1 && op != 2 {
        return Err(DhcpError::BadOpCode(op));
    }

    // dhcproto 0.15 asserts on some option lengths in debug builds and underflows on
    // others; hand it a copy with those options blanked to PAD (we do not use them).
    let main = &payload[OPTIONS_AT..];
    let traps = options::dhcproto_traps(main);
    let for_dhcproto: Cow<'_, [u8]> = if traps.is_empty() {
        Cow::Borrowed(payload)
    } else {
        let mut copy = payload.to_vec();
        for (start, end) in traps {
            if let Some(range) = copy.get_mut(OPTIONS_AT + start..OPTIONS_AT + end) {
                range.fill(options::PAD);
            }
        }
        Cow::Owned(copy)
    };
    let msg = Message::decode(&mut Decoder::new(&for_dhcproto)).map_err(|e| DhcpError::Decode {
        detail: e.to_string(),
    })?;

    let mut obs = Observation {
        is_from_server: op == 2,
        xid: msg.xid(),
        // chaddr is read from the bytes: dhcproto's chaddr() panics when hlen > 16
        client_mac: client_mac(payload),
        ciaddr: nonzero(msg.ciaddr()),
        yiaddr: nonzero(msg.yiaddr()),
        giaddr: nonzero(msg.giaddr()),
        ..Observation::default()
    };

    let opts = msg.opts();
    for (_, opt) in opts.iter() {
        match opt {
            DhcpOption::MessageType(t) => {
                obs.message_type = Some(MessageType::from_u8((*t).into()))
            }
            DhcpOption::RequestedIpAddress(ip) => obs.requested_ip = Some(*ip),
            DhcpOption::ServerIdentifier(ip) => obs.server_id = Some(*ip),
            DhcpOption::ParameterRequestList(list) => {
                obs.param_request_list = Some(list.iter().map(|c| u8::from(*c)).collect());
            }
            DhcpOption::ClassIdentifier(v) => obs.vendor_class = Some(ClientText(v.clone())),
            DhcpOption::ClientIdentifier(v) => obs.client_id = Some(v.clone()),
            DhcpOption::RelayAgentInformation(info) => {
                let bytes = |code| match info.get(code) {
                    Some(RelayInfo::AgentCircuitId(v) | RelayInfo::AgentRemoteId(v)) => {
                        Some(v.clone())
                    }
                    _ => None,
                };
                obs.relay_agent = Some(RelayAgent {
                    circuit_id: bytes(RelayCode::AgentCircuitId),
                    remote_id: bytes(RelayCode::AgentRemoteId),
                });
            }
            _ => {}
        }
    }

    // Raw reads: host name and FQDN keep non-UTF-8 bytes (dhcproto drops a non-UTF-8 host
    // name), and options overloaded into file/sname (52) are found, which dhcproto ignores.
    let areas = options::areas(payload, main);
    obs.hostname = options::collect(&areas, 12).map(|v| ClientText(v.into_owned()));
    obs.fqdn = options::collect(&areas, 81).and_then(|v| fqdn(&v));
    for area in areas.iter().skip(1).flatten() {
        fill_from_overload(&mut obs, area);
    }

    obs.ip = match obs.message_type {
        Some(MessageType::Offer | MessageType::Ack) => obs.yiaddr,
        _ => None,
    }
    .or(obs.requested_ip)
    .or(obs.ciaddr);
    Ok(obs)
}

fn nonzero(ip: Ipv4Addr) -> Option<Ipv4Addr> {
    (!ip.is_unspecified()).then_some(ip)
}

fn client_mac(payload: &[u8]) -> Option<MacAddr> {
    let (htype, hlen) = (payload.get(1)?, payload.get(2)?);
    if *htype != 1 || *hlen != 6 {
        return None;
    }
    let bytes: [u8; 6] = payload.get(28..34)?.try_into().ok()?;
    Some(MacAddr(bytes))
}

fn fqdn(v: &[u8]) -> Option<Fqdn> {
    match v {
        [flags, rcode1, rcode2, name @ ..] => Some(Fqdn {
            flags: *flags,
            rcode1: *rcode1,
            rcode2: *rcode2,
            raw_name: name.to_vec(),
        }),
        _ => None,
    }
}

fn ipv4(data: &[u8]) -> Option<Ipv4Addr> {
    let b: [u8; 4] = data.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

/// Options found in file or sname (overload): fill what the options field did not give.
fn fill_from_overload(obs: &mut Observation, area: &[u8]) {
    for opt in OptIter::new(area) {
        let d = opt.data;
        match opt.code {
            53 if obs.message_type.is_none() => {
                obs.message_type = d.first().map(|t| MessageType::from_u8(*t));
            }
            50 if obs.requested_ip.is_none() => obs.requested_ip = ipv4(d),
            54 if obs.server_id.is_none() => obs.server_id = ipv4(d),
            55 if obs.param_request_list.is_none() => obs.param_request_list = Some(d.to_vec()),
            60 if obs.vendor_class.is_none() => obs.vendor_class = Some(ClientText(d.to_vec())),
            61 if obs.client_id.is_none() => obs.client_id = Some(d.to_vec()),
            _ => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// A BOOTREQUEST with chaddr 02:00:00:00:10:01 and the given options (END appended).
    fn request(opts: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; OPTIONS_AT];
        p[0] = 1;
        p[1] = 1;
        p[2] = 6;
        p[4..8].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        p[28..34].copy_from_slice(&[2, 0, 0, 0, 0x10, 1]);
        p[236..240].copy_from_slice(&MAGIC);
        p.extend_from_slice(opts);
        p.push(255);
        p
    }

    #[test]
    fn reads_a_discover() {
        let p = request(&[
            53, 1, 1, // DISCOVER
            12, 4, b'p', b'c', b'-', b'1', // host name
            60, 8, b'M', b'S', b'F', b'T', b' ', b'5', b'.', b'0', // vendor class
            61, 7, 1, 2, 0, 0, 0, 0x10, 1, // client id
            55, 3, 1, 3, 6, // PRL
            50, 4, 10, 99, 0, 7, // requested IP
        ]);
        let o = parse_dhcp(&p).unwrap();
        assert_eq!(o.message_type, Some(MessageType::Discover));
        assert!(!o.is_from_server);
        assert_eq!(o.xid, 0xdeadbeef);
        assert_eq!(o.client_mac, Some("02:00:00:00:10:01".parse().unwrap()));
        assert_eq!(o.hostname.unwrap().as_bytes(), b"pc-1");
        assert_eq!(o.vendor_class.unwrap().as_bytes(), b"MSFT 5.0");
        assert_eq!(o.client_id.unwrap(), vec![1, 2, 0, 0, 0, 0x10, 1]);
        assert_eq!(o.param_request_list.unwrap(), vec![1, 3, 6]);
        assert_eq!(o.requested_ip, Some(Ipv4Addr::new(10, 99, 0, 7)));
        assert_eq!(o.ip, Some(Ipv4Addr::new(10, 99, 0, 7)));
        assert_eq!(o.src_mac, None);
    }

    #[test]
    fn keeps_a_non_utf8_hostname() {
        let p = request(&[53, 1, 3, 12, 4, b'K', 0xf6, b'l', b'n']);
        let o = parse_dhcp(&p).unwrap();
        let h = o.hostname.unwrap();
        assert_eq!(h.as_bytes(), &[b'K', 0xf6, b'l', b'n']);
        assert_eq!(h.to_str_lossy(), "K\u{fffd}ln");
        assert_eq!(o.message_type, Some(MessageType::Request));
    }

    #[test]
    fn survives_hlen_over_16() {
        let mut p = request(&[53, 1, 1]);
        p[2] = 255;
        let o = parse_dhcp(&p).unwrap();
        assert_eq!(o.client_mac, None);
        assert_eq!(o.message_type, Some(MessageType::Discover));
    }

    #[test]
    fn non_ethernet_chaddr_is_no_mac() {
        let mut p = request(&[53, 1, 1]);
        p[1] = 6; // IEEE 802
        assert_eq!(parse_dhcp(&p).unwrap().client_mac, None);
    }

    #[test]
    fn short_fqdn_and_odd_lengths_do_not_trip_the_decoder() {
        // FQDN of 1 byte, rapid commit with data, BLQ status without code; then a host name
        let p = request(&[81, 1, 0, 80, 1, 1, 151, 0, 94, 0, 12, 2, b'o', b'k']);
        let o = parse_dhcp(&p).unwrap();
        assert_eq!(o.fqdn, None);
        assert_eq!(o.hostname.unwrap().as_bytes(), b"ok");
    }

    #[test]
    fn reads_fqdn_in_wire_and_ascii_form() {
        let p = request(&[
            81, 12, 0x05, 0, 0, 3, b'p', b'c', b'1', 4, b's', b'c', b'h', b'l', 0,
        ]);
        let f = parse_dhcp(&p).unwrap().fqdn.unwrap();
        assert_eq!(f.flags, 0x05);
        assert_eq!(f.name(), "pc1.schl");
        let p = request(&[81, 7, 0x01, 0, 0, b'p', b'c', b'.', b'x']);
        assert_eq!(parse_dhcp(&p).unwrap().fqdn.unwrap().name(), "pc.x");
    }

    #[test]
    fn reads_options_overloaded_into_file_and_sname() {
        let mut p = request(&[53, 1, 3, 52, 1, 3, 12, 2, b'a', b'b']);
        // file (108..236): rest of the host name and the vendor class
        let file = [12, 2, b'c', b'd', 60, 3, b'v', b'c', b'1', 255];
        p[108..108 + file.len()].copy_from_slice(&file);
        // sname (44..108): requested IP
        let sname = [50, 4, 10, 0, 0, 9, 255];
        p[44..44 + sname.len()].copy_from_slice(&sname);
        let o = parse_dhcp(&p).unwrap();
        assert_eq!(o.hostname.unwrap().as_bytes(), b"abcd");
        assert_eq!(o.vendor_class.unwrap().as_bytes(), b"vc1");
        assert_eq!(o.requested_ip, Some(Ipv4Addr::new(10, 0, 0, 9)));
    }

    #[test]
    fn without_overload_file_is_not_options() {
        let mut p = request(&[53, 1, 3]);
        p[108..113].copy_from_slice(&[12, 2, b'n', b'o', 255]);
        assert_eq!(parse_dhcp(&p).unwrap().hostname, None);
    }

    #[test]
    fn reads_a_relayed_ack() {
        let mut p = request(&[
            53, 1, 5, 54, 4, 10, 0, 0, 1, 82, 12, 1, 4, b'g', b'e', b'0', b'7', 2, 4, 1, 2, 3, 4,
        ]);
        p[0] = 2;
        p[16..20].copy_from_slice(&[10, 0, 0, 50]); // yiaddr
        p[24..28].copy_from_slice(&[10, 0, 0, 254]); // giaddr
        let o = parse_dhcp(&p).unwrap();
        assert!(o.is_from_server);
        assert_eq!(o.message_type, Some(MessageType::Ack));
        assert_eq!(o.ip, Some(Ipv4Addr::new(10, 0, 0, 50)));
        assert_eq!(o.server_id, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(o.giaddr, Some(Ipv4Addr::new(10, 0, 0, 254)));
        let r = o.relay_agent.unwrap();
        assert_eq!(r.circuit_id.unwrap(), b"ge07");
        assert_eq!(r.remote_id.unwrap(), vec![1, 2, 3, 4]);
    }

    #[test]
    fn rejects_what_is_not_dhcp() {
        assert_eq!(parse_dhcp(&[1; 100]), Err(DhcpError::ShortMessage(100)));
        let mut p = request(&[]);
        p[236] = 0;
        assert_eq!(parse_dhcp(&p), Err(DhcpError::NoMagicCookie));
        let mut p = request(&[]);
        p[0] = 3;
        assert_eq!(parse_dhcp(&p), Err(DhcpError::BadOpCode(3)));
    }
}
