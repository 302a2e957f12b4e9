//! Batched UDP receive and send with `recvmmsg`/`sendmmsg`: one system call moves up to
//! [`BATCH`] datagrams, so a busy listener crosses into the kernel once per batch instead of
//! twice per request. Owns the buffers the kernel writes into; knows nothing of RADIUS.
//!
//! The only unsafe code of hallpass lives here: each call hands the kernel pointers into
//! buffers this module owns and keeps alive, unmoved, for the duration of the call.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;

use socket2::SockAddr;

/// Datagrams per system call.
pub const BATCH: usize = 32;

/// Received datagrams: up to [`BATCH`] buffers of `slot` bytes each, and their sources.
pub struct RecvBatch {
    slot: usize,
    bufs: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    lens: [usize; BATCH],
    addr_lens: [libc::socklen_t; BATCH],
    n: usize,
}

impl RecvBatch {
    /// Buffers for datagrams of up to `slot` bytes (a longer one is seen truncated to it).
    pub fn new(slot: usize) -> RecvBatch {
        RecvBatch {
            slot,
            bufs: vec![0; slot * BATCH],
            // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid value.
            addrs: vec![unsafe { MaybeUninit::zeroed().assume_init() }; BATCH],
            lens: [0; BATCH],
            addr_lens: [0; BATCH],
            n: 0,
        }
    }

    /// Waits for at least one datagram (or the socket's read timeout), then takes whatever
    /// else is already queued, up to [`BATCH`]. Returns how many were received.
    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        self.n = 0;
        let mut iovecs: Vec<libc::iovec> = self
            .bufs
            .chunks_exact_mut(self.slot)
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            })
            .collect();
        let mut msgs: Vec<libc::mmsghdr> = iovecs
            .iter_mut()
            .zip(self.addrs.iter_mut())
            .map(|(iov, addr)| {
                // SAFETY: msghdr is plain old data; all zeroes (no control data, no flags) is
                // a valid value, and the fields that matter are set right below.
                let mut h: libc::mmsghdr = unsafe { MaybeUninit::zeroed().assume_init() };
                h.msg_hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
                h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        // SAFETY: `msgs` holds BATCH headers whose name and iovec pointers point into
        // `self.addrs`, `iovecs` and `self.bufs`, all alive and not otherwise borrowed until
        // the call returns; each iovec's length is its buffer's length, so the kernel writes
        // only inside them. The timeout pointer may be null.
        let r = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                msgs.as_mut_ptr(),
                msgs.len() as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = (r as usize).min(BATCH);
        for (i, m) in msgs.iter().take(n).enumerate() {
            self.lens[i] = (m.msg_len as usize).min(self.slot);
            self.addr_lens[i] = m.msg_hdr.msg_namelen;
        }
        self.n = n;
        Ok(n)
    }

    /// Datagram `i` of the last receive and where it came from.
    pub fn get(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
        if i >= self.n {
            return None;
        }
        let start = i * self.slot;
        let data = self.bufs.get(start..start + *self.lens.get(i)?)?;
        let src = to_socket_addr(self.addrs.get(i)?, *self.addr_lens.get(i)?)?;
        Some((data, src))
    }
}

fn to_socket_addr(s: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    match s.ss_family as libc::c_int {
        libc::AF_INET if len as usize >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the kernel wrote a sockaddr_in, which fits in (and has
            // no stricter alignment than) sockaddr_storage.
            let a = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 if len as usize >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let a = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Replies to send in one call: reusable buffers and their destinations.
pub struct SendBatch {
    bufs: Vec<Vec<u8>>,
    dests: Vec<SockAddr>,
}

impl Default for SendBatch {
    fn default() -> SendBatch {
        SendBatch {
            bufs: (0..BATCH).map(|_| Vec::with_capacity(512)).collect(),
            dests: Vec::with_capacity(BATCH),
        }
    }
}

impl SendBatch {
    /// The buffer the next reply is written into; [`SendBatch::push`] queues it.
    pub fn next_buf(&mut self) -> &mut Vec<u8> {
        let i = self.dests.len().min(BATCH - 1);
        let buf = &mut self.bufs[i];
        buf.clear();
        buf
    }

    /// Queues the buffer last handed out by [`SendBatch::next_buf`] for `dest`.
    pub fn push(&mut self, dest: SocketAddr) {
        if self.dests.len() < BATCH {
            self.dests.push(SockAddr::from(dest));
        }
    }

    /// Sends everything queued (retrying the rest after a partial send) and empties the
    /// batch. Errors of single datagrams (e.g. an unreachable NAS) skip that datagram.
    pub fn send(&mut self, socket: &UdpSocket) {
        let mut done = 0;
        while done < self.dests.len() {
            let mut iovecs: Vec<libc::iovec> = self
                .bufs
                .iter()
                .zip(self.dests.iter())
                .skip(done)
                .map(|(b, _)| libc::iovec {
                    iov_base: b.as_ptr() as *mut libc::c_void,
                    iov_len: b.len(),
                })
                .collect();
            let mut msgs: Vec<libc::mmsghdr> = iovecs
                .iter_mut()
                .zip(self.dests.iter().skip(done))
                .map(|(iov, dest)| {
                    // SAFETY: as in RecvBatch::recv, all zeroes is a valid msghdr.
                    let mut h: libc::mmsghdr = unsafe { MaybeUninit::zeroed().assume_init() };
                    h.msg_hdr.msg_name = dest.as_ptr() as *mut libc::c_void;
                    h.msg_hdr.msg_namelen = dest.len();
                    h.msg_hdr.msg_iov = iov;
                    h.msg_hdr.msg_iovlen = 1;
                    h
                })
                .collect();
            // SAFETY: every header points at a destination in `self.dests` and an iovec over
            // a buffer in `self.bufs`; the kernel only reads them, and all stay alive and
            // unchanged until the call returns.
            let r = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    msgs.len() as libc::c_uint,
                    0,
                )
            };
            if r > 0 {
                done += r as usize;
            } else {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::debug!(error = %e, "auth reply not sent");
                // The first datagram failed: skip it, send the others.
                done += 1;
            }
        }
        self.dests.clear();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_batch_round_trip() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        for i in 0..5u8 {
            client
                .send_to(&[i; 10], server.local_addr().unwrap())
                .unwrap();
        }
        let mut rx = RecvBatch::new(64);
        let mut got = 0;
        let mut tx = SendBatch::default();
        while got < 5 {
            let n = rx.recv(&server).unwrap();
            for i in 0..n {
                let (data, src) = rx.get(i).unwrap();
                assert_eq!(src, client.local_addr().unwrap());
                assert_eq!(data, &[data[0]; 10]);
                tx.next_buf().extend_from_slice(&[data[0] + 100; 3]);
                tx.push(src);
            }
            assert!(rx.get(n).is_none());
            got += n;
        }
        tx.send(&server);
        let mut seen = Vec::new();
        let mut buf = [0u8; 16];
        for _ in 0..5 {
            let (n, _) = client.recv_from(&mut buf).unwrap();
            assert_eq!(n, 3);
            seen.push(buf[0]);
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![100, 101, 102, 103, 104]);
    }

    #[test]
    fn a_timeout_is_an_error_not_a_datagram() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let mut rx = RecvBatch::new(64);
        let e = rx.recv(&server).unwrap_err();
        assert!(matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ));
        assert!(rx.get(0).is_none());
    }
}
