//! DHCP frame generator for the live-capture benchmark (benches/dhcp-live.sh): sends
//! DHCPDISCOVER frames from an AF_PACKET socket on one interface at a fixed rate for a
//! bounded time, cycling through a set of client MACs, and prints how many it sent.
//!
//! `dhcp_flood --interface IF [--rate 20000] [--seconds 10] [--macs 1000]`
//!
//! Needs CAP_NET_RAW. Meant for an interface inside a network namespace made for the
//! benchmark: the frames are broadcasts to the whole segment.
#![allow(unsafe_code)] // socket(2), if_nametoindex(3) and sendto(2) on a packet socket
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::CString;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use hallpass::dhcp::frame::{FrameAddrs, build_payload, encapsulate};
use hallpass::model::MacAddr;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(iface) = arg(&args, "--interface") else {
        eprintln!("usage: dhcp_flood --interface IF [--rate N] [--seconds S] [--macs M]");
        std::process::exit(2);
    };
    let rate: u64 = arg(&args, "--rate").map_or(20_000, |v| v.parse().unwrap());
    let seconds: u64 = arg(&args, "--seconds").map_or(10, |v| v.parse().unwrap());
    let macs: u32 = arg(&args, "--macs").map_or(1000, |v| v.parse().unwrap());
    assert!(rate > 0 && seconds > 0 && seconds <= 600 && macs > 0);

    // every frame prepared up front: the sending loop only paces and sends
    let prl: &[u8] = &[1, 3, 6, 15, 26, 28, 51, 58, 59, 43];
    let frames: Vec<Vec<u8>> = (0..macs)
        .map(|i| {
            let b = i.to_be_bytes();
            let mac = MacAddr([0x06, 0xbe, b[0], b[1], b[2], b[3]]);
            let name = format!("bench-{i}");
            let payload = build_payload(
                1,
                i,
                mac,
                Ipv4Addr::UNSPECIFIED,
                &[
                    (53, &[1]),
                    (12, name.as_bytes()),
                    (55, prl),
                    (60, b"android-dhcp-13"),
                ],
            );
            encapsulate(&FrameAddrs::from_client(mac), &payload)
        })
        .collect();

    let name = CString::new(iface.clone()).unwrap();
    // SAFETY: a valid NUL-terminated name.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    assert!(ifindex != 0, "no interface {iface}");
    // SAFETY: plain socket(2); protocol 0: this socket only sends.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_ifindex = ifindex as i32;
    addr.sll_halen = 6;
    addr.sll_addr[..6].copy_from_slice(&[0xff; 6]);

    // paced in 1 ms steps: rate/1000 frames each (the remainder spread over the steps)
    let total = rate * seconds;
    let start = Instant::now();
    let (mut sent, mut failed) = (0u64, 0u64);
    let mut step = 0u64;
    while sent + failed < total {
        step += 1;
        let due = (rate * step / 1000).min(total);
        while sent + failed < due {
            let f = &frames[((sent + failed) % u64::from(macs)) as usize];
            // SAFETY: `f` and `addr` are valid for the lengths passed.
            let rc = unsafe {
                libc::sendto(
                    fd,
                    f.as_ptr().cast(),
                    f.len(),
                    0,
                    (&raw const addr).cast(),
                    size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                )
            };
            if rc < 0 {
                failed += 1;
            } else {
                sent += 1;
            }
        }
        let next = start + Duration::from_millis(step);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    // SAFETY: closing our own descriptor once.
    unsafe { libc::close(fd) };
    println!(
        "sent={sent} failed={failed} seconds={secs:.2} rate={:.0}/s",
        sent as f64 / secs
    );
}
