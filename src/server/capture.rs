//! The DHCP watcher's socket: an AF_PACKET raw socket on one interface that the kernel
//! lets only unfragmented IPv4 UDP frames to or from port 67/68 through, in both
//! directions (so the replies of a DHCP server on this host are seen too).
//!
//! Owns: opening, filtering and binding the socket, async receive, kernel counters.
//! Must not: parse what it receives (that is `crate::dhcp`), switch the interface into
//! promiscuous mode (a mirror port or the DHCP server's own interface sees enough).
//!
//! Unsafe code is allowed here only for what socket2 and tokio do not wrap safely:
//! if_nametoindex, binding to a link-layer address, reading PACKET_STATISTICS, and
//! registering the descriptor with tokio.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fmt;
use std::io::{self, Read};
use std::os::fd::AsRawFd;

use socket2::{Domain, SockFilter, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Classic BPF program, the output of (with `ether[12:2] = 0x800` implied by `ip`):
///
/// `tcpdump -dd 'ip and udp and (port 67 or port 68) and ip[6:2] & 0x3fff = 0'`
///
/// i.e. IPv4, UDP, source or destination port 67 or 68, fragment offset 0 and
/// more-fragments clear. Accepted frames are kept whole (snap length 262144). It reads the
/// EtherType at offset 12, so it expects untagged frames, which is what a packet socket
/// sees on an interface whose VLAN tags the kernel or NIC strip (capture on the VLAN
/// interface, e.g. eth1.20, to watch a tagged segment).
const DHCP_FILTER: [(u16, u8, u8, u32); 17] = [
    (0x28, 0, 0, 0x0000_000c),  // ldh [12]            EtherType
    (0x15, 0, 14, 0x0000_0800), // jeq #0x800          IPv4, else drop
    (0x30, 0, 0, 0x0000_0017),  // ldb [23]            IP protocol
    (0x15, 0, 12, 0x0000_0011), // jeq #17             UDP, else drop
    (0x28, 0, 0, 0x0000_0014),  // ldh [20]            flags + fragment offset
    (0x45, 10, 0, 0x0000_1fff), // jset #0x1fff        not a first fragment: drop
    (0xb1, 0, 0, 0x0000_000e),  // ldxb 4*([14]&0xf)   X = IP header length
    (0x48, 0, 0, 0x0000_000e),  // ldh [x + 14]        UDP source port
    (0x15, 4, 0, 0x0000_0043),  // jeq #67
    (0x15, 3, 0, 0x0000_0044),  // jeq #68
    (0x48, 0, 0, 0x0000_0010),  // ldh [x + 16]        UDP destination port
    (0x15, 1, 0, 0x0000_0043),  // jeq #67
    (0x15, 0, 3, 0x0000_0044),  // jeq #68, else drop
    (0x28, 0, 0, 0x0000_0014),  // ldh [20]
    (0x45, 1, 0, 0x0000_3fff),  // jset #0x3fff        MF set or offset: drop
    (0x06, 0, 0, 0x0004_0000),  // ret #262144         accept whole frame
    (0x06, 0, 0, 0x0000_0000),  // ret #0              drop
];

/// Receive buffer asked for; the kernel caps it at net.core.rmem_max.
const RECV_BUFFER: usize = 4 << 20;

/// The step of opening a capture that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    OpenSocket,
    AttachFilter,
    SetBuffer,
    Bind,
    SetNonblocking,
    Register,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::OpenSocket => "opening the packet socket",
            Step::AttachFilter => "attaching the DHCP packet filter",
            Step::SetBuffer => "setting the receive buffer",
            Step::Bind => "binding to the interface",
            Step::SetNonblocking => "making the socket nonblocking",
            Step::Register => "registering the socket with the runtime",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "no permission to capture DHCP on {interface}: a packet socket needs CAP_NET_RAW \
         (run as root or give the service AmbientCapabilities=CAP_NET_RAW)"
    )]
    NoPermission { interface: String },
    #[error("network interface {interface:?} does not exist")]
    NoSuchInterface { interface: String },
    #[error("{interface:?} is not an interface name (1 to 15 bytes, no NUL)")]
    BadInterfaceName { interface: String },
    #[error("DHCP capture on {interface}: {step} failed: {source}")]
    Io {
        interface: String,
        step: Step,
        #[source]
        source: io::Error,
    },
}

/// A filtered packet socket on one interface, read through tokio.
#[derive(Debug)]
pub struct Capture {
    fd: AsyncFd<Socket>,
    interface: String,
    ifindex: u32,
}

impl Capture {
    /// Opens the capture on `interface` (resolved in the calling thread's network
    /// namespace). Must be called within a tokio runtime.
    pub fn open(interface: &str) -> Result<Capture, CaptureError> {
        let io_err = |step| {
            let interface = interface.to_string();
            move |source| CaptureError::Io {
                interface,
                step,
                source,
            }
        };
        let ifindex = interface_index(interface)?;

        // Protocol 0: the socket receives nothing until bind() names a protocol, so no
        // frame is queued before the filter is in place.
        let socket = Socket::new(Domain::PACKET, Type::RAW, None).map_err(|e| {
            if e.kind() == io::ErrorKind::PermissionDenied {
                CaptureError::NoPermission {
                    interface: interface.to_string(),
                }
            } else {
                io_err(Step::OpenSocket)(e)
            }
        })?;
        let program = DHCP_FILTER.map(|(code, jt, jf, k)| SockFilter::new(code, jt, jf, k));
        socket
            .attach_filter(&program)
            .map_err(io_err(Step::AttachFilter))?;
        socket
            .set_recv_buffer_size(RECV_BUFFER)
            .map_err(io_err(Step::SetBuffer))?;
        bind_to_interface(&socket, ifindex).map_err(io_err(Step::Bind))?;
        socket
            .set_nonblocking(true)
            .map_err(io_err(Step::SetNonblocking))?;
        // registering outside a runtime would panic: check first
        tokio::runtime::Handle::try_current()
            .map_err(|e| io_err(Step::Register)(io::Error::other(e)))?;
        // SAFETY: the Socket owns its descriptor, which stays open and the same until the
        // AsyncFd is dropped: Capture never hands out the socket mutably or replaces it.
        let fd = unsafe {
            AsyncFd::register_with_interest(socket, Interest::READABLE | Interest::ERROR)
        }
        .map_err(|e| io_err(Step::Register)(e.into()))?;
        Ok(Capture {
            fd,
            interface: interface.to_string(),
            ifindex,
        })
    }

    pub fn interface(&self) -> &str {
        &self.interface
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Receives one whole Ethernet frame into `buf` and returns its length. A frame longer
    /// than `buf` is cut to fit; DHCP frames fit in 2048 bytes unless a client pads them.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // ERROR too: the kernel reports ENETDOWN (interface down or removed) as a socket
            // error, which epoll signals without readability.
            let mut ready = self.fd.ready(Interest::READABLE | Interest::ERROR).await?;
            match ready.try_io(|fd| fd.get_ref().read(buf)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Kernel counters since the previous call (reading resets them): frames that passed
    /// the filter, and of those, frames dropped because the receive queue was full.
    pub fn stats(&self) -> io::Result<(u32, u32)> {
        let mut st = libc::tpacket_stats {
            tp_packets: 0,
            tp_drops: 0,
        };
        let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: `st` and `len` are valid for writes and `len` holds the size of `st`,
        // which is what the kernel fills for PACKET_STATISTICS on TPACKET_V1/V2 sockets.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.get_ref().as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&raw mut st).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((st.tp_packets, st.tp_drops))
    }
}

/// The index of `interface` in the calling thread's network namespace. The watcher
/// compares it with [`Capture::ifindex`] to tell an interface that went down (same index:
/// the kernel resumes delivery when it comes up) from one that was removed.
pub fn interface_index(interface: &str) -> Result<u32, CaptureError> {
    let name = CString::new(interface)
        .ok()
        .filter(|n| !n.as_bytes().is_empty() && n.as_bytes().len() < libc::IFNAMSIZ)
        .ok_or_else(|| CaptureError::BadInterfaceName {
            interface: interface.to_string(),
        })?;
    // SAFETY: `name` is a valid NUL-terminated string that outlives the call.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(CaptureError::NoSuchInterface {
            interface: interface.to_string(),
        });
    }
    Ok(ifindex)
}

/// bind(2) to `ifindex` for every protocol (ETH_P_ALL): incoming and outgoing frames.
fn bind_to_interface(socket: &Socket, ifindex: u32) -> io::Result<()> {
    let ifindex =
        i32::try_from(ifindex).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let addr = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: (libc::ETH_P_ALL as u16).to_be(),
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    // SAFETY: `addr` is a fully initialised sockaddr_ll and the length passed is its size.
    let rc = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&raw const addr).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Runs the classic BPF program the way the kernel does, for the instructions it uses;
    /// returns the snap length (0 = drop; `None` = dropped by an out-of-frame load).
    fn run_filter(frame: &[u8]) -> Option<u32> {
        let ld = |at: usize, n: usize| -> Option<u32> {
            let b = frame.get(at..at + n)?;
            Some(b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x)))
        };
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        loop {
            let (code, jt, jf, k) = DHCP_FILTER[pc];
            pc += 1;
            let k_at = k as usize;
            // an out-of-frame load ends the program with 0, as in the kernel
            match code {
                0x28 => let_or_drop(&mut a, ld(k_at, 2))?,
                0x30 => let_or_drop(&mut a, ld(k_at, 1))?,
                0x48 => let_or_drop(&mut a, ld(x as usize + k_at, 2))?,
                0xb1 => let_or_drop(&mut x, ld(k_at, 1).map(|v| 4 * (v & 0xf)))?,
                0x15 => pc += usize::from(if a == k { jt } else { jf }),
                0x45 => pc += usize::from(if a & k != 0 { jt } else { jf }),
                0x06 => return Some(k),
                other => panic!("instruction {other:#x} not modelled"),
            }
        }
    }

    fn let_or_drop(reg: &mut u32, v: Option<u32>) -> Option<()> {
        *reg = v?;
        Some(())
    }

    fn snap(frame: &[u8]) -> u32 {
        run_filter(frame).unwrap_or(0)
    }

    fn frame(sport: u16, dport: u16, proto: u8, frag: u16, ihl_words: u8) -> Vec<u8> {
        let mut f = vec![0xff; 12];
        f.extend_from_slice(&[0x08, 0x00, 0x40 | ihl_words, 0]);
        f.extend_from_slice(&[0, 0, 0, 0]);
        f.extend_from_slice(&frag.to_be_bytes());
        f.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1]);
        f.resize(14 + usize::from(ihl_words) * 4, 1); // IP options: NOPs
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&[0, 8, 0, 0]);
        f
    }

    #[test]
    fn filter_passes_dhcp_and_nothing_else() {
        for (s, d) in [(68, 67), (67, 68), (67, 67), (5000, 67), (68, 5000)] {
            assert_eq!(snap(&frame(s, d, 17, 0, 5)), 0x40000, "{s}->{d}");
        }
        assert_eq!(snap(&frame(68, 67, 17, 0, 6)), 0x40000, "IP options");
        assert_eq!(snap(&frame(68, 67, 17, 0x4000, 5)), 0x40000, "DF set");
        assert_eq!(snap(&frame(5353, 5353, 17, 0, 5)), 0, "mDNS");
        assert_eq!(snap(&frame(68, 67, 6, 0, 5)), 0, "TCP");
        assert_eq!(snap(&frame(68, 67, 17, 0x2000, 5)), 0, "first fragment");
        assert_eq!(snap(&frame(68, 67, 17, 0x0010, 5)), 0, "later fragment");
        let mut v6 = frame(68, 67, 17, 0, 5);
        v6[12..14].copy_from_slice(&[0x86, 0xdd]);
        assert_eq!(snap(&v6), 0, "IPv6");
        assert_eq!(snap(&frame(68, 67, 17, 0, 5)[..30]), 0, "truncated");
    }

    #[test]
    fn names_are_checked_before_any_socket() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        let _guard = rt.enter();
        assert!(matches!(
            Capture::open(""),
            Err(CaptureError::BadInterfaceName { .. })
        ));
        assert!(matches!(
            Capture::open("a-name-that-is-too-long"),
            Err(CaptureError::BadInterfaceName { .. })
        ));
        assert!(matches!(
            Capture::open("nul\0x"),
            Err(CaptureError::BadInterfaceName { .. })
        ));
        assert!(matches!(
            Capture::open("hpnosuchif0"),
            Err(CaptureError::NoSuchInterface { .. })
        ));
    }

    #[test]
    fn no_permission_names_the_capability() {
        let e = CaptureError::NoPermission {
            interface: "eth1".into(),
        };
        let msg = e.to_string();
        assert!(msg.contains("CAP_NET_RAW") && msg.contains("eth1"), "{msg}");
    }
}
