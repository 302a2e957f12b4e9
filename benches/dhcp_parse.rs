//! DHCP watcher hot path: parse a captured frame and classify the device.
//! Target (DESIGN.md): at least 1M frames/s on one core.
//!
//! cargo bench --bench dhcp_parse -- --warm-up-time 1 --measurement-time 3

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hallpass::dhcp::frame::{FrameAddrs, encapsulate};
use hallpass::dhcp::{classify, parse_frame};
use hallpass::model::MacAddr;

const MAGIC: [u8; 4] = [99, 130, 83, 99];

/// A BOOTP message as real clients and dnsmasq send them (option sets taken from captures
/// of udhcpc, Android, Windows and dnsmasq replies).
fn message(op: u8, mac: [u8; 6], yiaddr: [u8; 4], opts: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 240];
    p[0] = op;
    p[1] = 1;
    p[2] = 6;
    p[4..8].copy_from_slice(&mac[2..6]);
    p[16..20].copy_from_slice(&yiaddr);
    p[28..34].copy_from_slice(&mac);
    p[236..240].copy_from_slice(&MAGIC);
    p.extend_from_slice(opts);
    p.push(255);
    p.resize(p.len().max(300), 0); // BOOTP minimum size, as clients pad
    p
}

fn frames(n: usize) -> Vec<Vec<u8>> {
    let server = FrameAddrs {
        src_mac: MacAddr([0x02, 0, 0, 0, 0, 1]),
        dst_mac: MacAddr([0xff; 6]),
        src_ip: Ipv4Addr::new(10, 0, 0, 1),
        dst_ip: Ipv4Addr::BROADCAST,
        src_port: 67,
        dst_port: 68,
        vlan: None,
    };
    (0..n)
        .map(|i| {
            let mac = [0x3c, 0x22, 0xfb, 0x12, (i >> 8) as u8, i as u8];
            let client = FrameAddrs {
                src_mac: MacAddr(mac),
                src_ip: Ipv4Addr::UNSPECIFIED,
                src_port: 68,
                dst_port: 67,
                ..server
            };
            let ip = [10, 0, (i >> 8) as u8, i as u8];
            let (addrs, payload) = match i % 4 {
                // DISCOVER, Android: vendor class, host name, Android 13 request list
                0 => {
                    let mut o = vec![53, 1, 1, 61, 7, 1];
                    o.extend_from_slice(&mac);
                    o.extend_from_slice(&[57, 2, 5, 220, 60, 15]);
                    o.extend_from_slice(b"android-dhcp-13");
                    o.extend_from_slice(&[12, 10]);
                    o.extend_from_slice(b"Pixel-7-ab");
                    o.extend_from_slice(&[55, 12, 1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108]);
                    (client, message(1, mac, [0; 4], &o))
                }
                // OFFER from dnsmasq
                1 => {
                    let mut o = vec![53, 1, 2, 54, 4, 10, 0, 0, 1, 51, 4, 0, 0, 0x0e, 0x10];
                    o.extend_from_slice(&[58, 4, 0, 0, 7, 8, 59, 4, 0, 0, 0x0c, 0x4e]);
                    o.extend_from_slice(&[1, 4, 255, 255, 0, 0, 28, 4, 10, 0, 255, 255]);
                    o.extend_from_slice(&[3, 4, 10, 0, 0, 1, 6, 4, 10, 0, 0, 1]);
                    (server, message(2, mac, ip, &o))
                }
                // REQUEST, Windows: MSFT 5.0, FQDN, Windows 10/11 request list
                2 => {
                    let mut o = vec![53, 1, 3, 61, 7, 1];
                    o.extend_from_slice(&mac);
                    o.extend_from_slice(&[50, 4]);
                    o.extend_from_slice(&ip);
                    o.extend_from_slice(&[54, 4, 10, 0, 0, 1, 12, 8]);
                    o.extend_from_slice(b"PC-R2-14");
                    o.extend_from_slice(&[81, 11, 0, 0, 0]);
                    o.extend_from_slice(b"PC-R2-14");
                    o.extend_from_slice(&[60, 8]);
                    o.extend_from_slice(b"MSFT 5.0");
                    o.extend_from_slice(&[
                        55, 14, 1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252,
                    ]);
                    (client, message(1, mac, [0; 4], &o))
                }
                // ACK from dnsmasq, host name echoed
                _ => {
                    let mut o = vec![53, 1, 5, 54, 4, 10, 0, 0, 1, 51, 4, 0, 0, 0x0e, 0x10];
                    o.extend_from_slice(&[58, 4, 0, 0, 7, 8, 59, 4, 0, 0, 0x0c, 0x4e]);
                    o.extend_from_slice(&[1, 4, 255, 255, 0, 0, 3, 4, 10, 0, 0, 1, 12, 9]);
                    o.extend_from_slice(b"iPhone-12");
                    (server, message(2, mac, ip, &o))
                }
            };
            encapsulate(&addrs, &payload)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let frames = frames(1024);
    // every generated frame must parse, or the benchmark measures error paths
    for f in &frames {
        if let Err(e) = parse_frame(f) {
            eprintln!("benchmark frame does not parse: {e}");
            std::process::exit(1);
        }
    }
    let mut g = c.benchmark_group("dhcp");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("parse_frame+classify (mix of 1024)", |b| {
        b.iter(|| {
            for f in &frames {
                if let Ok(obs) = parse_frame(black_box(f)) {
                    black_box(classify(&obs));
                }
            }
        })
    });
    g.bench_function("parse_frame only (mix of 1024)", |b| {
        b.iter(|| {
            for f in &frames {
                let _ = black_box(parse_frame(black_box(f)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
