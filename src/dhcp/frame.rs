//! Ethernet frame -> UDP payload, as an AF_PACKET SOCK_RAW socket delivers it: Ethernet II,
//! up to two VLAN tags, IPv4 with options, UDP. Checksums are not verified: the kernel
//! already dropped bad frames, and with checksum offload a frame seen on the sending host
//! carries a partial checksum.

use std::net::Ipv4Addr;

use super::{DhcpError, Layer, Observation, parse_dhcp};
use crate::model::MacAddr;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const IPPROTO_UDP: u8 = 17;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn mac(b: &[u8], at: usize) -> Option<MacAddr> {
    Some(MacAddr(b.get(at..at + 6)?.try_into().ok()?))
}

/// Parses a whole Ethernet frame carrying a DHCP message (either direction).
pub fn parse_frame(frame: &[u8]) -> Result<Observation, DhcpError> {
    let truncated = |layer| DhcpError::Truncated {
        layer,
        len: frame.len(),
    };
    let mut ethertype = be16(frame, 12).ok_or(truncated(Layer::Ethernet))?;
    let mut at = 14;
    let mut vlan = None;
    // an outer service tag (QinQ) and a customer tag at most; the innermost id is kept
    for _ in 0..2 {
        if ethertype != ETHERTYPE_VLAN && ethertype != ETHERTYPE_QINQ {
            break;
        }
        let tci = be16(frame, at).ok_or(truncated(Layer::Vlan))?;
        vlan = Some(tci & 0x0fff);
        ethertype = be16(frame, at + 2).ok_or(truncated(Layer::Vlan))?;
        at += 4;
    }
    if ethertype != ETHERTYPE_IPV4 {
        return Err(DhcpError::NotIpv4(ethertype));
    }

    let ip = frame.get(at..).unwrap_or_default();
    if ip.len() < 20 {
        return Err(truncated(Layer::Ipv4));
    }
    if ip[0] >> 4 != 4 {
        return Err(DhcpError::BadIpVersion(ip[0] >> 4));
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(DhcpError::BadIhl(ihl));
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if total < ihl || total > ip.len() {
        return Err(DhcpError::BadIpLength {
            total,
            ihl,
            available: ip.len(),
        });
    }
    let frag = u16::from_be_bytes([ip[6], ip[7]]);
    let (offset, more) = (frag & 0x1fff, frag & 0x2000 != 0);
    if offset != 0 || more {
        return Err(DhcpError::Fragment { offset, more });
    }
    if ip[9] != IPPROTO_UDP {
        return Err(DhcpError::NotUdp(ip[9]));
    }
    let src_ip = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst_ip = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);

    // Ethernet padding after the IP packet is cut off by the total length
    let udp = &ip[ihl..total];
    if udp.len() < 8 {
        return Err(truncated(Layer::Udp));
    }
    let src_port = u16::from_be_bytes([udp[0], udp[1]]);
    let dst_port = u16::from_be_bytes([udp[2], udp[3]]);
    let length = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    if length < 8 || length > udp.len() {
        return Err(DhcpError::BadUdpLength {
            length,
            available: udp.len(),
        });
    }
    let is_dhcp_port = |p| p == 67 || p == 68;
    if !is_dhcp_port(src_port) && !is_dhcp_port(dst_port) {
        return Err(DhcpError::NotDhcpPort {
            src: src_port,
            dst: dst_port,
        });
    }

    let mut obs = parse_dhcp(&udp[8..length])?;
    obs.dst_mac = mac(frame, 0);
    obs.src_mac = mac(frame, 6);
    obs.src_ip = Some(src_ip);
    obs.dst_ip = Some(dst_ip);
    obs.src_port = Some(src_port);
    obs.dst_port = Some(dst_port);
    obs.vlan = vlan;
    Ok(obs)
}

/// Addresses of a frame built by [`encapsulate`].
#[derive(Debug, Clone, Copy)]
pub struct FrameAddrs {
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub vlan: Option<u16>,
}

impl FrameAddrs {
    /// A client without an address broadcasting to the servers (DISCOVER, REQUEST).
    pub fn from_client(src_mac: MacAddr) -> FrameAddrs {
        FrameAddrs {
            src_mac,
            dst_mac: MacAddr([0xff; 6]),
            src_ip: Ipv4Addr::UNSPECIFIED,
            dst_ip: Ipv4Addr::BROADCAST,
            src_port: 68,
            dst_port: 67,
            vlan: None,
        }
    }
}

/// Wraps a UDP payload into an Ethernet/IPv4/UDP frame (IPv4 header checksum set, UDP
/// checksum 0 = none). For tests, benchmarks and fuzzing; the watcher only reads frames.
/// Payloads that do not fit one IPv4 packet are cut to the largest that does.
pub fn encapsulate(a: &FrameAddrs, payload: &[u8]) -> Vec<u8> {
    let payload = payload.get(..65_507).unwrap_or(payload);
    let udp_len = 8 + payload.len();
    let ip_len = 20 + udp_len;
    let mut f = Vec::with_capacity(18 + ip_len);
    f.extend_from_slice(&a.dst_mac.0);
    f.extend_from_slice(&a.src_mac.0);
    if let Some(v) = a.vlan {
        f.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
        f.extend_from_slice(&(v & 0x0fff).to_be_bytes());
    }
    f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    let ip_at = f.len();
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&(ip_len as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0, 64, IPPROTO_UDP, 0, 0]);
    f.extend_from_slice(&a.src_ip.octets());
    f.extend_from_slice(&a.dst_ip.octets());
    let sum = ipv4_checksum(&f[ip_at..]);
    f[ip_at + 10..ip_at + 12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&a.src_port.to_be_bytes());
    f.extend_from_slice(&a.dst_port.to_be_bytes());
    f.extend_from_slice(&(udp_len as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// A BOOTP/DHCP message (op 1 = request, 2 = reply) with Ethernet `chaddr`, `yiaddr` and
/// the given options (code, value) before the end option. For tests, benchmarks and load
/// generators; values longer than 255 bytes are cut.
pub fn build_payload(
    op: u8,
    xid: u32,
    chaddr: MacAddr,
    yiaddr: Ipv4Addr,
    options: &[(u8, &[u8])],
) -> Vec<u8> {
    let mut p = vec![0u8; 240];
    p[0] = op;
    p[1] = 1; // Ethernet
    p[2] = 6;
    p[4..8].copy_from_slice(&xid.to_be_bytes());
    p[16..20].copy_from_slice(&yiaddr.octets());
    p[28..34].copy_from_slice(&chaddr.0);
    p[236..240].copy_from_slice(&[99, 130, 83, 99]);
    for (code, value) in options {
        let value = value.get(..255).unwrap_or(value);
        p.push(*code);
        p.push(value.len() as u8);
        p.extend_from_slice(value);
    }
    p.push(255);
    p
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::dhcp::MessageType;

    fn discover_payload() -> Vec<u8> {
        let mut p = vec![0u8; 240];
        p[0] = 1;
        p[1] = 1;
        p[2] = 6;
        p[28..34].copy_from_slice(&[2, 0, 0, 0, 0x10, 1]);
        p[236..240].copy_from_slice(&[99, 130, 83, 99]);
        p.extend_from_slice(&[53, 1, 1, 255]);
        p
    }

    fn addrs() -> FrameAddrs {
        FrameAddrs::from_client(MacAddr([2, 0, 0, 0, 0x10, 1]))
    }

    #[test]
    fn parses_an_untagged_frame() {
        let f = encapsulate(&addrs(), &discover_payload());
        let o = parse_frame(&f).unwrap();
        assert_eq!(o.message_type, Some(MessageType::Discover));
        assert_eq!(o.src_mac, Some(MacAddr([2, 0, 0, 0, 0x10, 1])));
        assert_eq!(o.dst_mac, Some(MacAddr([0xff; 6])));
        assert_eq!(o.src_ip, Some(Ipv4Addr::UNSPECIFIED));
        assert_eq!(o.dst_ip, Some(Ipv4Addr::BROADCAST));
        assert_eq!((o.src_port, o.dst_port), (Some(68), Some(67)));
        assert_eq!(o.vlan, None);
        assert_eq!(o.device_mac(), Some(MacAddr([2, 0, 0, 0, 0x10, 1])));
    }

    #[test]
    fn the_header_checksum_verifies() {
        let f = encapsulate(&addrs(), &discover_payload());
        // summing a header including its checksum gives 0xffff, whose complement is 0
        assert_eq!(ipv4_checksum(&f[14..34]), 0);
    }

    #[test]
    fn parses_a_tagged_frame_with_ip_options_and_padding() {
        let mut a = addrs();
        a.vlan = Some(20);
        let mut f = encapsulate(&a, &discover_payload());
        // insert 4 bytes of IP options (NOP x4) after the 20-byte header at 18
        f.splice(38..38, [1u8, 1, 1, 1]);
        f[18] = 0x46;
        let total = u16::from_be_bytes([f[20], f[21]]) + 4;
        f[20..22].copy_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&[0xaa; 12]); // Ethernet trailer padding
        let o = parse_frame(&f).unwrap();
        assert_eq!(o.vlan, Some(20));
        assert_eq!(o.message_type, Some(MessageType::Discover));
    }

    #[test]
    fn rejects_fragments_other_protocols_and_ports() {
        let good = encapsulate(&addrs(), &discover_payload());
        let mut f = good.clone();
        f[20] = 0x20; // MF set
        assert_eq!(
            parse_frame(&f),
            Err(DhcpError::Fragment {
                offset: 0,
                more: true
            })
        );
        let mut f = good.clone();
        f[21] = 0x10;
        assert!(matches!(
            parse_frame(&f),
            Err(DhcpError::Fragment { offset: 0x10, .. })
        ));
        let mut f = good.clone();
        f[23] = 6;
        assert_eq!(parse_frame(&f), Err(DhcpError::NotUdp(6)));
        let mut f = good.clone();
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        assert_eq!(parse_frame(&f), Err(DhcpError::NotIpv4(0x86dd)));
        let mut a = addrs();
        (a.src_port, a.dst_port) = (5353, 5353);
        assert_eq!(
            parse_frame(&encapsulate(&a, &discover_payload())),
            Err(DhcpError::NotDhcpPort {
                src: 5353,
                dst: 5353
            })
        );
        assert!(matches!(
            parse_frame(&good[..30]),
            Err(DhcpError::Truncated {
                layer: Layer::Ipv4,
                ..
            })
        ));
        assert!(matches!(
            parse_frame(&good[..good.len() - 1]),
            Err(DhcpError::BadIpLength { .. })
        ));
    }
}
