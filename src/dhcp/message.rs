//! BOOTP/DHCP payload -> [`Observation`]. `dhcproto` decodes the fixed header and, one by
//! one, the typed options; it never sees the options area as a whole, because there
//! (dhcproto 0.15):
//! - some option lengths trip debug assertions or underflow (80, 81, 94, 151-155);
//! - one option it cannot decode (a non-UTF-8 host name or domain name, an address option
//!   of the wrong length) silently ends the decoding of every option after it;
//! - options overloaded into file/sname (52) are not looked for, and only adjacent parts
//!   of a split option are joined.
//!
//! So a raw walker finds the options, and free text (12, 81) is kept as raw bytes.

use std::net::Ipv4Addr;

use dhcproto::v4::relay::{RelayCode, RelayInfo};
use dhcproto::v4::{DhcpOption, Message};
use dhcproto::{Decodable, Decoder};

use super::options;
use super::{ClientText, DhcpError, Fqdn, MessageType, Observation, RelayAgent};
use crate::model::MacAddr;

const MAGIC: [u8; 4] = [99, 130, 83, 99];
/// Fixed BOOTP header (236 bytes) plus the magic cookie.
const OPTIONS_AT: usize = 240;

/// The options the watcher reads, in the order `collect` returns them.
const WANTED: [u8; 9] = [12, 50, 53, 54, 55, 60, 61, 81, 82];

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
    // the header alone: with no bytes after the cookie dhcproto decodes no options
    let header = Message::decode(&mut Decoder::new(&payload[..OPTIONS_AT])).map_err(|e| {
        DhcpError::Decode {
            detail: e.to_string(),
        }
    })?;

    let mut obs = Observation {
        is_from_server: op == 2,
        xid: header.xid(),
        // chaddr is read from the bytes: dhcproto's chaddr() panics when hlen > 16
        client_mac: client_mac(payload),
        ciaddr: nonzero(header.ciaddr()),
        yiaddr: nonzero(header.yiaddr()),
        giaddr: nonzero(header.giaddr()),
        ..Observation::default()
    };

    let areas = options::areas(payload, &payload[OPTIONS_AT..]);
    let [
        hostname,
        requested,
        msg_type,
        server_id,
        prl,
        vendor_class,
        client_id,
        fqdn,
        relay,
    ] = options::collect(&areas, &WANTED);
    obs.hostname = hostname.map(|v| ClientText(v.into_owned()));
    obs.fqdn = fqdn.and_then(|v| parse_fqdn(&v));
    for (code, data) in [
        (50, requested),
        (53, msg_type),
        (54, server_id),
        (55, prl),
        (60, vendor_class),
        (61, client_id),
        (82, relay),
    ] {
        if let Some(data) = data
            && let Some(opt) = decode_option(code, &data)
        {
            apply(&mut obs, opt);
        }
    }

    obs.ip = match obs.message_type {
        Some(MessageType::Offer | MessageType::Ack) => obs.yiaddr,
        _ => None,
    }
    .or(obs.requested_ip)
    .or(obs.ciaddr);
    Ok(obs)
}

/// One option through dhcproto, rebuilt as code-length-value (split into 255-byte parts,
/// which it joins again); `None` when it does not decode.
fn decode_option(code: u8, data: &[u8]) -> Option<DhcpOption> {
    let mut tlv = [0u8; 257];
    let long;
    let bytes: &[u8] = if let Ok(len) = u8::try_from(data.len()) {
        tlv[0] = code;
        tlv[1] = len;
        tlv[2..2 + data.len()].copy_from_slice(data);
        &tlv[..2 + data.len()]
    } else {
        let mut v = Vec::with_capacity(data.len() + 2 * data.len().div_ceil(255));
        for part in data.chunks(255) {
            v.push(code);
            v.push(part.len() as u8);
            v.extend_from_slice(part);
        }
        long = v;
        &long
    };
    DhcpOption::decode(&mut Decoder::new(bytes)).ok()
}

fn apply(obs: &mut Observation, opt: DhcpOption) {
    match opt {
        DhcpOption::MessageType(t) => obs.message_type = Some(MessageType::from_u8(t.into())),
        DhcpOption::RequestedIpAddress(ip) => obs.requested_ip = Some(ip),
        DhcpOption::ServerIdentifier(ip) => obs.server_id = Some(ip),
        DhcpOption::ParameterRequestList(list) => {
            obs.param_request_list = Some(list.into_iter().map(u8::from).collect());
        }
        DhcpOption::ClassIdentifier(v) => obs.vendor_class = Some(ClientText(v)),
        DhcpOption::ClientIdentifier(v) => obs.client_id = Some(v),
        DhcpOption::RelayAgentInformation(mut info) => {
            let mut take = |code| match info.remove(code) {
                Some(RelayInfo::AgentCircuitId(v) | RelayInfo::AgentRemoteId(v)) => Some(v),
                _ => None,
            };
            obs.relay_agent = Some(RelayAgent {
                circuit_id: take(RelayCode::AgentCircuitId),
                remote_id: take(RelayCode::AgentRemoteId),
            });
        }
        _ => {}
    }
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

fn parse_fqdn(v: &[u8]) -> Option<Fqdn> {
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
    fn an_undecodable_option_does_not_hide_the_ones_after_it() {
        // non-UTF-8 domain name (15) and a 3-byte server identifier come first
        let p = request(&[
            15, 2, 0xff, 0xfe, 54, 3, 1, 2, 3, 53, 1, 3, 60, 2, b'v', b'c',
        ]);
        let o = parse_dhcp(&p).unwrap();
        assert_eq!(o.message_type, Some(MessageType::Request));
        assert_eq!(o.vendor_class.unwrap().as_bytes(), b"vc");
        assert_eq!(o.server_id, None);
    }

    #[test]
    fn joins_split_options_that_are_not_adjacent() {
        let p = request(&[55, 2, 1, 3, 53, 1, 1, 55, 1, 6]);
        assert_eq!(
            parse_dhcp(&p).unwrap().param_request_list.unwrap(),
            vec![1, 3, 6]
        );
    }

    #[test]
    fn decodes_long_options() {
        let mut opts = vec![53, 1, 1];
        let vc: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
        opts.extend_from_slice(&[60, 255]);
        opts.extend_from_slice(&vc[..255]);
        opts.extend_from_slice(&[60, 45]);
        opts.extend_from_slice(&vc[255..]);
        let o = parse_dhcp(&request(&opts)).unwrap();
        assert_eq!(o.vendor_class.unwrap().as_bytes(), vc.as_slice());
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
