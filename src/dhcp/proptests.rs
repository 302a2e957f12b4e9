//! Property tests: no input panics the parser, and what dhcproto's encoder puts into a
//! message comes back out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::Ipv4Addr;

use dhcproto::v4::relay::{RelayAgentInformation, RelayInfo};
use dhcproto::v4::{
    DhcpOption, Message, MessageType as ProtoType, Opcode, OptionCode, UnknownOption,
};
use dhcproto::{Decodable, Decoder, Encodable};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::frame::{FrameAddrs, encapsulate};
use super::{MessageType, parse_dhcp, parse_frame};
use crate::model::MacAddr;

fn addrs(from_server: bool) -> FrameAddrs {
    FrameAddrs {
        src_mac: MacAddr([2, 0, 0, 0, 0, 1]),
        dst_mac: MacAddr([0xff; 6]),
        src_ip: Ipv4Addr::new(10, 0, 0, 1),
        dst_ip: Ipv4Addr::BROADCAST,
        src_port: if from_server { 67 } else { 68 },
        dst_port: if from_server { 68 } else { 67 },
        vlan: None,
    }
}

#[derive(Debug, Clone)]
struct Input {
    reply: bool,
    xid: u32,
    mac: [u8; 6],
    hlen: u8,
    ciaddr: u32,
    yiaddr: u32,
    msg_type: u8,
    hostname: Option<Vec<u8>>,
    vendor_class: Option<Vec<u8>>,
    client_id: Option<Vec<u8>>,
    prl: Option<Vec<u8>>,
    requested: Option<u32>,
    server_id: Option<u32>,
    circuit: Option<Vec<u8>>,
    remote: Option<Vec<u8>>,
}

fn input() -> impl Strategy<Value = Input> {
    (
        (any::<bool>(), any::<u32>(), any::<[u8; 6]>(), any::<u8>()),
        (any::<u32>(), any::<u32>(), 1u8..=8),
        (
            option::of(vec(any::<u8>(), 1..300)),
            option::of(vec(any::<u8>(), 1..300)),
            option::of(vec(any::<u8>(), 1..40)),
            option::of(vec(any::<u8>(), 1..40)),
        ),
        (option::of(any::<u32>()), option::of(any::<u32>())),
        (
            option::of(vec(any::<u8>(), 0..30)),
            option::of(vec(any::<u8>(), 0..30)),
        ),
    )
        .prop_map(
            |(
                (reply, xid, mac, hlen),
                (ciaddr, yiaddr, msg_type),
                (hostname, vendor_class, client_id, prl),
                (requested, server_id),
                (circuit, remote),
            )| Input {
                reply,
                xid,
                mac,
                hlen,
                ciaddr,
                yiaddr,
                msg_type,
                hostname,
                vendor_class,
                client_id,
                prl,
                requested,
                server_id,
                circuit,
                remote,
            },
        )
}

/// The message dhcproto encodes from `i`, with hlen patched into the bytes afterwards.
fn encode(i: &Input) -> Vec<u8> {
    let mut m = Message::new(
        Ipv4Addr::from(i.ciaddr),
        Ipv4Addr::from(i.yiaddr),
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &i.mac,
    );
    m.set_opcode(if i.reply {
        Opcode::BootReply
    } else {
        Opcode::BootRequest
    });
    m.set_xid(i.xid);
    let o = m.opts_mut();
    o.insert(DhcpOption::MessageType(ProtoType::from(i.msg_type)));
    if let Some(h) = &i.hostname {
        // raw bytes under code 12: dhcproto's Hostname is a String, clients send anything
        o.insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::Hostname,
            h.clone(),
        )));
    }
    if let Some(v) = &i.vendor_class {
        o.insert(DhcpOption::ClassIdentifier(v.clone()));
    }
    if let Some(v) = &i.client_id {
        o.insert(DhcpOption::ClientIdentifier(v.clone()));
    }
    if let Some(v) = &i.prl {
        o.insert(DhcpOption::ParameterRequestList(
            v.iter().map(|c| OptionCode::from(*c)).collect(),
        ));
    }
    if let Some(ip) = i.requested {
        o.insert(DhcpOption::RequestedIpAddress(Ipv4Addr::from(ip)));
    }
    if let Some(ip) = i.server_id {
        o.insert(DhcpOption::ServerIdentifier(Ipv4Addr::from(ip)));
    }
    if i.circuit.is_some() || i.remote.is_some() {
        let mut info = RelayAgentInformation::default();
        if let Some(c) = &i.circuit {
            info.insert(RelayInfo::AgentCircuitId(c.clone()));
        }
        if let Some(r) = &i.remote {
            info.insert(RelayInfo::AgentRemoteId(r.clone()));
        }
        o.insert(DhcpOption::RelayAgentInformation(info));
    }
    let mut bytes = m.to_vec().unwrap();
    bytes[2] = i.hlen;
    bytes
}

fn nonzero(ip: u32) -> Option<Ipv4Addr> {
    (ip != 0).then(|| Ipv4Addr::from(ip))
}

fn frame_header() -> impl Strategy<Value = Vec<u8>> {
    // a valid DHCP frame header up to and including the magic cookie, any htype/hlen
    (any::<bool>(), any::<u8>(), any::<u8>()).prop_map(|(reply, htype, hlen)| {
        let mut p = vec![0u8; 240];
        p[0] = if reply { 2 } else { 1 };
        p[1] = htype;
        p[2] = hlen;
        p[236..240].copy_from_slice(&[99, 130, 83, 99]);
        p
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..1600)) {
        let _ = parse_frame(&bytes);
        let _ = parse_dhcp(&bytes);
    }

    #[test]
    fn arbitrary_options_never_panic(
        header in frame_header(),
        opts in vec(any::<u8>(), 0..600),
        sname_file in vec(any::<u8>(), 192),
        overload in 0u8..=3,
    ) {
        let mut p = header;
        p[44..236].copy_from_slice(&sname_file);
        p.extend_from_slice(&[52, 1, overload]);
        p.extend_from_slice(&opts);
        let _ = parse_dhcp(&p);
        let _ = parse_frame(&encapsulate(&addrs(false), &p));
    }

    #[test]
    fn arbitrary_frames_around_dhcp_never_panic(
        payload in vec(any::<u8>(), 230..400),
        cut in 0usize..500,
        flip_at in 0usize..60,
        flip in any::<u8>(),
    ) {
        let mut f = encapsulate(&addrs(false), &payload);
        if let Some(b) = f.get_mut(flip_at) {
            *b ^= flip;
        }
        f.truncate(cut.max(1).min(f.len()));
        let _ = parse_frame(&f);
    }

    #[test]
    fn what_is_encoded_comes_back(i in input()) {
        let payload = encode(&i);
        let o = parse_frame(&encapsulate(&addrs(i.reply), &payload)).unwrap();

        prop_assert_eq!(o.is_from_server, i.reply);
        prop_assert_eq!(o.xid, i.xid);
        prop_assert_eq!(o.message_type, Some(MessageType::from_u8(i.msg_type)));
        prop_assert_eq!(o.client_mac, (i.hlen == 6).then_some(MacAddr(i.mac)));
        prop_assert_eq!(o.hostname.map(|h| h.0), i.hostname.clone());
        prop_assert_eq!(o.vendor_class.map(|v| v.0), i.vendor_class.clone());
        prop_assert_eq!(o.client_id, i.client_id.clone());
        prop_assert_eq!(o.param_request_list, i.prl.clone());
        prop_assert_eq!(o.requested_ip, i.requested.map(Ipv4Addr::from));
        prop_assert_eq!(o.server_id, i.server_id.map(Ipv4Addr::from));
        prop_assert_eq!(o.ciaddr, nonzero(i.ciaddr));
        prop_assert_eq!(o.yiaddr, nonzero(i.yiaddr));
        let relay = o.relay_agent.map(|r| (r.circuit_id, r.remote_id));
        let want = (i.circuit.is_some() || i.remote.is_some())
            .then(|| (i.circuit.clone(), i.remote.clone()));
        prop_assert_eq!(relay, want);
        let from_yiaddr = matches!(i.msg_type, 2 | 5).then(|| nonzero(i.yiaddr)).flatten();
        prop_assert_eq!(
            o.ip,
            from_yiaddr.or(i.requested.map(Ipv4Addr::from)).or(nonzero(i.ciaddr))
        );
    }

    #[test]
    fn decode_encode_decode_round_trips(i in input()) {
        // dhcproto's own round trip of what it decodes, and ours over its re-encoding
        let payload = encode(&i);
        let first = Message::decode(&mut Decoder::new(&payload)).unwrap();
        let again = first.to_vec().unwrap();
        let second = Message::decode(&mut Decoder::new(&again)).unwrap();
        prop_assert_eq!(&first, &second);
        // dhcproto drops a non-UTF-8 host name and every option after it, so its re-encoding
        // carries the same information only when the name is UTF-8
        if i.hostname.as_ref().is_none_or(|h| std::str::from_utf8(h).is_ok()) {
            prop_assert_eq!(parse_dhcp(&again).unwrap(), parse_dhcp(&payload).unwrap());
        }
    }
}
