//! Batched UDP receive and send with `recvmmsg`/`sendmmsg`: one system call moves up to
//! [`BATCH`] datagrams, so a busy listener crosses into the kernel once per batch instead of
//! twice per request. Owns the buffers the kernel writes into; knows nothing of RADIUS and
//! imports nothing of hallpass. Shared by the daemon's listeners (`server`) and the load
//! generator (`loadgen`), which sends its requests and takes coalesced replies (UDP GRO)
//! with it, so that neither of the two imports the other.
//!
//! Its unsafe code hands the kernel pointers into buffers this module owns and keeps alive,
//! unmoved, for the duration of each call.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;

use socket2::SockAddr;

/// Datagrams per system call.
pub const BATCH: usize = 32;

/// Received datagrams: up to [`BATCH`] buffers of `slot` bytes each, and their sources.
///
/// The kernel's message headers and their iovecs are built once, pointing into `bufs` and
/// `addrs`: a receive then writes nothing but the address lengths the kernel changed. All
/// four live on the heap and are never resized, so moving a `RecvBatch` moves none of what
/// the pointers point at.
pub struct RecvBatch {
    slot: usize,
    bufs: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    /// Not read again: kept alive because `headers` points into it.
    _iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
    lens: [usize; BATCH],
    addr_lens: [libc::socklen_t; BATCH],
    n: usize,
}

const ADDR_LEN: libc::socklen_t = size_of::<libc::sockaddr_storage>() as libc::socklen_t;

impl RecvBatch {
    /// Buffers for datagrams of up to `slot` bytes (a longer one is seen truncated to it).
    pub fn new(slot: usize) -> RecvBatch {
        let mut bufs = vec![0u8; slot * BATCH];
        // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid value.
        let mut addrs: Vec<libc::sockaddr_storage> =
            vec![unsafe { MaybeUninit::zeroed().assume_init() }; BATCH];
        let mut iovecs: Vec<libc::iovec> = bufs
            .chunks_exact_mut(slot)
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            })
            .collect();
        let headers = iovecs
            .iter_mut()
            .zip(addrs.iter_mut())
            .map(|(iov, addr)| {
                // SAFETY: msghdr is plain old data; all zeroes (no control data, no flags) is
                // a valid value, and the fields that matter are set right below.
                let mut h: libc::mmsghdr = unsafe { MaybeUninit::zeroed().assume_init() };
                h.msg_hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
                h.msg_hdr.msg_namelen = ADDR_LEN;
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        RecvBatch {
            slot,
            bufs,
            addrs,
            _iovecs: iovecs,
            headers,
            lens: [0; BATCH],
            addr_lens: [0; BATCH],
            n: 0,
        }
    }

    /// Waits for at least one datagram (or the socket's read timeout), then takes whatever
    /// else is already queued, up to [`BATCH`]. Returns how many were received.
    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        self.recv_with(socket, libc::MSG_WAITFORONE, BATCH)
    }

    /// Takes up to `max` datagrams already queued, without waiting: 0 when none is.
    pub fn take_queued(&mut self, socket: &UdpSocket, max: usize) -> io::Result<usize> {
        if max == 0 {
            self.n = 0;
            return Ok(0);
        }
        match self.recv_with(socket, libc::MSG_DONTWAIT, max) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            other => other,
        }
    }

    fn recv_with(
        &mut self,
        socket: &UdpSocket,
        flags: libc::c_int,
        max: usize,
    ) -> io::Result<usize> {
        self.n = 0;
        let max = max.min(BATCH);
        // SAFETY: `headers` holds BATCH headers whose name and iovec pointers point into
        // `self.addrs`, `self._iovecs` and `self.bufs` (see `new`), all alive, never resized
        // and not otherwise borrowed until the call returns; the count passed is at most
        // BATCH, each iovec's length is its buffer's length and each name length is
        // sockaddr_storage's, so the kernel writes only inside them. The timeout pointer may
        // be null.
        let r = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.headers.as_mut_ptr(),
                max as libc::c_uint,
                flags,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            // The kernel may have written a name length before it failed.
            for h in &mut self.headers[..max] {
                h.msg_hdr.msg_namelen = ADDR_LEN;
            }
            return Err(e);
        }
        let n = (r as usize).min(max);
        for (i, h) in self.headers.iter_mut().take(n).enumerate() {
            self.lens[i] = (h.msg_len as usize).min(self.slot);
            self.addr_lens[i] = h.msg_hdr.msg_namelen;
            // in and out: the next receive must offer the whole buffer again
            h.msg_hdr.msg_namelen = ADDR_LEN;
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

/// Replies of the same length to the same destination leave as one datagram train with UDP
/// segmentation offload (`UDP_SEGMENT`, Linux 4.18+) when there are several of them: the
/// kernel routes and builds one packet and cuts it into the separate datagrams on the way
/// out, so a NAS that sends bursts (a WLAN controller for hundreds of access points) costs one
/// pass through the stack per burst, not per reply. Only replies that fit an Ethernet frame
/// are grouped (a segment may not need IP fragmentation).
const GSO_MAX_SEGMENT: usize = 1400;
/// The kernel's limits for one segmented send: 64 segments, and one IP datagram's payload.
const GSO_MAX_SEGMENTS: usize = 64;
const GSO_MAX_BYTES: usize = 60_000;

/// Replies to send in one call: reusable buffers and their destinations.
pub struct SendBatch {
    bufs: Vec<Vec<u8>>,
    dests: Vec<(SocketAddr, SockAddr)>,
    /// Whether segmentation offload is tried; off for good once the kernel refuses it.
    gso: bool,
    /// Scratch for one send: the replies in group order, and the groups as
    /// (first index into `order`, replies, segment length).
    order: Vec<usize>,
    groups: Vec<(usize, usize, usize)>,
    /// Scratch for the kernel's view of one send, empty between sends (see `send_planned`),
    /// and for the replies still to send: reused, so a send allocates nothing.
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
    cmsgs: Vec<SegmentCmsg>,
    pending: Vec<usize>,
    /// The error of the first datagram skipped since [`SendBatch::take_error`] last looked.
    skipped: Option<io::Error>,
}

impl Default for SendBatch {
    fn default() -> SendBatch {
        SendBatch {
            bufs: (0..BATCH).map(|_| Vec::with_capacity(512)).collect(),
            dests: Vec::with_capacity(BATCH),
            gso: true,
            order: Vec::with_capacity(BATCH),
            groups: Vec::with_capacity(BATCH),
            iovecs: Vec::with_capacity(BATCH),
            headers: Vec::with_capacity(BATCH),
            cmsgs: Vec::with_capacity(BATCH),
            pending: Vec::with_capacity(BATCH),
            skipped: None,
        }
    }
}

/// A control message buffer for one `UDP_SEGMENT` option, aligned for `cmsghdr`.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct SegmentCmsg([u8; 32]);

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
            self.dests.push((dest, SockAddr::from(dest)));
        }
    }

    /// Why a datagram was skipped (the first since the last call), if one was.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.skipped.take()
    }

    /// Whether [`BATCH`] datagrams are queued: send before queueing another.
    pub fn is_full(&self) -> bool {
        self.dests.len() >= BATCH
    }

    /// How many more datagrams fit before the batch is full.
    pub fn room(&self) -> usize {
        BATCH - self.dests.len()
    }

    /// Whether segmentation offload is still tried (tests).
    #[cfg(test)]
    fn offloading(&self) -> bool {
        self.gso
    }

    /// Sends everything queued (retrying the rest after a partial send) and empties the
    /// batch. Errors of single datagrams (e.g. an unreachable NAS) skip that datagram.
    pub fn send(&mut self, socket: &UdpSocket) {
        if self.dests.is_empty() {
            return;
        }
        let mut all = std::mem::take(&mut self.pending);
        all.clear();
        all.extend(0..self.dests.len());
        self.pending = self.send_all(socket, all, self.gso);
        self.dests.clear();
    }

    /// Sends the replies `pending`, grouped for offload if `offload`. Returns the vector,
    /// empty, for reuse.
    fn send_all(
        &mut self,
        socket: &UdpSocket,
        mut pending: Vec<usize>,
        offload: bool,
    ) -> Vec<usize> {
        while !pending.is_empty() {
            self.plan(&pending, offload && self.gso);
            let (sent, error) = self.send_planned(socket);
            let mut skip = 0;
            if let Some(e) = error {
                // The group after the `sent` ones failed.
                let (first, count, _) = self.groups[sent];
                if count > 1 {
                    // Not the datagrams' fault: send them one by one. No support at all
                    // (old kernel, a device without checksum offload) ends the offload.
                    if !matches!(e.raw_os_error(), Some(libc::EINVAL)) {
                        tracing::debug!(error = %e, "UDP segmentation offload refused; sending datagrams one by one");
                        self.gso = false;
                    }
                    let rest = self.order[first..].to_vec();
                    self.send_all(socket, rest[..count].to_vec(), false);
                    pending = rest[count..].to_vec();
                    continue;
                }
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::debug!(error = %e, "datagram not sent");
                    skip = 1;
                    self.skipped.get_or_insert(e);
                }
            }
            let resume = self
                .groups
                .get(sent + skip)
                .map_or(self.order.len(), |g| g.0);
            pending.clear();
            pending.extend_from_slice(&self.order[resume..]);
        }
        pending
    }

    /// Orders `pending` into groups: with offload, replies of one length to one destination
    /// together (in their order of arrival), within the kernel's limits; else one each.
    fn plan(&mut self, pending: &[usize], offload: bool) {
        self.order.clear();
        self.groups.clear();
        if !offload {
            for (k, &i) in pending.iter().enumerate() {
                self.order.push(i);
                self.groups.push((k, 1, self.bufs[i].len()));
            }
            return;
        }
        let mut taken = [false; BATCH];
        for (k, &i) in pending.iter().enumerate() {
            if taken[k] {
                continue;
            }
            let len = self.bufs[i].len();
            let first = self.order.len();
            self.order.push(i);
            taken[k] = true;
            let mut count = 1;
            if len <= GSO_MAX_SEGMENT && len > 0 {
                let dest = self.dests[i].0;
                for (k2, &j) in pending.iter().enumerate().skip(k + 1) {
                    if count == GSO_MAX_SEGMENTS || (count + 1) * len > GSO_MAX_BYTES {
                        break;
                    }
                    if !taken[k2] && self.bufs[j].len() == len && self.dests[j].0 == dest {
                        self.order.push(j);
                        taken[k2] = true;
                        count += 1;
                    }
                }
            }
            self.groups.push((first, count, len));
        }
    }

    /// One `sendmmsg` of the planned groups. Returns how many groups left, and the error of
    /// the next one if the kernel stopped at it.
    fn send_planned(&mut self, socket: &UdpSocket) -> (usize, Option<io::Error>) {
        // Filled completely before any header takes a pointer into them: no reallocation
        // moves them afterwards.
        let iovecs = &mut self.iovecs;
        iovecs.clear();
        iovecs.extend(self.order.iter().map(|&i| libc::iovec {
            iov_base: self.bufs[i].as_ptr() as *mut libc::c_void,
            iov_len: self.bufs[i].len(),
        }));
        let cmsgs = &mut self.cmsgs;
        cmsgs.clear();
        cmsgs.resize(self.groups.len(), SegmentCmsg([0; 32]));
        let msgs = &mut self.headers;
        msgs.clear();
        for (&(first, count, len), cmsg) in self.groups.iter().zip(cmsgs.iter_mut()) {
            let dest = &self.dests[self.order[first]].1;
            // SAFETY: as in RecvBatch::recv, all zeroes is a valid msghdr.
            let mut h: libc::mmsghdr = unsafe { MaybeUninit::zeroed().assume_init() };
            h.msg_hdr.msg_name = dest.as_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_namelen = dest.len();
            h.msg_hdr.msg_iov = iovecs[first..].as_mut_ptr();
            h.msg_hdr.msg_iovlen = count;
            if count > 1 {
                h.msg_hdr.msg_control = cmsg.0.as_mut_ptr().cast();
                // SAFETY: CMSG_SPACE only computes a size.
                h.msg_hdr.msg_controllen =
                    unsafe { libc::CMSG_SPACE(size_of::<u16>() as u32) } as usize;
                // SAFETY: the control buffer is 32 bytes, aligned for cmsghdr, and
                // CMSG_SPACE(2) (24 on 64-bit Linux) fits in it; CMSG_FIRSTHDR points at its
                // start and CMSG_DATA inside it.
                unsafe {
                    let c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
                    (*c).cmsg_level = libc::SOL_UDP;
                    (*c).cmsg_type = libc::UDP_SEGMENT;
                    (*c).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as u32) as usize;
                    std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), len as u16);
                }
            }
            msgs.push(h);
        }
        // SAFETY: every header points at a destination in `self.dests`, iovecs over buffers
        // in `self.bufs` (a group's iovecs are consecutive in `iovecs`) and, for a group, its
        // control buffer in `cmsgs`; the kernel only reads them, and all stay alive and
        // unchanged until the call returns.
        let r = unsafe {
            libc::sendmmsg(
                socket.as_raw_fd(),
                msgs.as_mut_ptr(),
                msgs.len() as libc::c_uint,
                0,
            )
        };
        let result = if r < 0 {
            (0, Some(io::Error::last_os_error()))
        } else {
            // A short count (the socket buffer filled up): the caller sends the rest again.
            (r as usize, None)
        };
        // No pointer outlives the call.
        msgs.clear();
        iovecs.clear();
        result
    }
}

/// Lets `socket` take datagrams that arrive segmented (`UDP_GRO`): the kernel then queues a
/// sender's segmented send as one buffer instead of splitting it into datagrams first.
/// Read such a socket with [`recv_coalesced`].
pub fn accept_coalesced(socket: &UdpSocket) -> io::Result<()> {
    set_int_option(socket, libc::SOL_UDP, libc::UDP_GRO, 1)
}

/// Sets a socket option whose value is an `int`.
fn set_int_option(
    socket: &UdpSocket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value is a c_int that lives across the call; its size is passed.
    let r = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Receives one buffer from a socket set up with [`accept_coalesced`]: returns its length
/// and, if the kernel coalesced several datagrams into it, their size (every datagram but
/// the last has exactly that size).
pub fn recv_coalesced(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, Option<usize>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut cmsg = SegmentCmsg([0; 32]);
    // SAFETY: as in RecvBatch::recv, all zeroes is a valid msghdr.
    let mut h: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
    h.msg_iov = &mut iov;
    h.msg_iovlen = 1;
    h.msg_control = cmsg.0.as_mut_ptr().cast();
    h.msg_controllen = cmsg.0.len();
    // SAFETY: the header points at `iov` (over `buf`) and the control buffer `cmsg`, both
    // alive and not otherwise borrowed until the call returns; the kernel writes only within
    // the lengths given.
    let r = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut h, libc::MSG_DONTWAIT) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut segment = None;
    // SAFETY: the kernel filled `msg_controllen` bytes of the control buffer with complete
    // cmsghdrs; CMSG_FIRSTHDR/NXTHDR stay inside it and return null at its end.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&h);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == libc::UDP_GRO {
                let size = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
                segment = usize::try_from(size).ok().filter(|s| *s > 0);
            }
            c = libc::CMSG_NXTHDR(&h, c);
        }
    }
    Ok((r as usize, segment))
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

    /// The headers are built once: after many receives of different lengths from
    /// different sources, each of the same batch, and a timeout in between, every datagram
    /// still comes with its own length and source, and every reply reaches its client.
    #[test]
    fn one_batch_serves_many_receives_and_sends() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let to = server.local_addr().unwrap();
        let clients: Vec<UdpSocket> = (0..3).map(|_| client_socket()).collect();
        let mut rx = RecvBatch::new(64);
        let mut tx = SendBatch::default();
        for round in 0..20u8 {
            let c = &clients[usize::from(round) % 3];
            let len = 1 + usize::from(round) * 3;
            c.send_to(&vec![round; len], to).unwrap();
            let n = rx.recv(&server).unwrap();
            assert_eq!(n, 1, "round {round}");
            let (data, src) = rx.get(0).unwrap();
            assert_eq!((data.len(), src), (len, c.local_addr().unwrap()));
            assert!(data.iter().all(|&b| b == round));
            tx.next_buf().extend_from_slice(&[round; 2]);
            tx.push(src);
            tx.send(&server);
            let mut buf = [0u8; 8];
            let (n, from) = c.recv_from(&mut buf).unwrap();
            assert_eq!((&buf[..n], from), (&[round; 2][..], to));
            if round == 10 {
                assert!(rx.recv(&server).is_err(), "nothing queued: a timeout");
            }
        }
    }

    /// A client socket that gives up waiting after 2 s.
    fn client_socket() -> UdpSocket {
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        client
    }

    /// Replies to one client as a segmented send: 12 of one length, 3 of another, one too
    /// long to group; each arrives as its own datagram, intact.
    fn burst(server: &UdpSocket, client: &UdpSocket, tx: &mut SendBatch) {
        let dest = client.local_addr().unwrap();
        for i in 0..16u8 {
            let len = match i {
                0..12 => 40,
                12..15 => 25,
                _ => GSO_MAX_SEGMENT + 1,
            };
            let buf = tx.next_buf();
            buf.extend((0..len).map(|k| i.wrapping_add(k as u8)));
            tx.push(dest);
        }
        tx.send(server);
        let mut seen = Vec::new();
        let mut buf = [0u8; 2048];
        for _ in 0..16 {
            let (n, from) = client.recv_from(&mut buf).unwrap();
            assert_eq!(from, server.local_addr().unwrap());
            let i = buf[0];
            let expected = match i {
                0..12 => 40,
                12..15 => 25,
                _ => GSO_MAX_SEGMENT + 1,
            };
            assert_eq!(n, expected, "datagram {i}");
            assert!(
                buf[..n]
                    .iter()
                    .enumerate()
                    .all(|(k, &b)| b == i.wrapping_add(k as u8))
            );
            seen.push(i);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..16).collect::<Vec<u8>>());
        client
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        assert!(client.recv_from(&mut buf).is_err(), "no extra datagram");
    }

    #[test]
    fn replies_to_one_client_leave_segmented_and_arrive_one_by_one() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = client_socket();
        let mut tx = SendBatch::default();
        burst(&server, &client, &mut tx);
        // Linux has had UDP segmentation since 4.18; loopback takes it.
        assert!(tx.offloading());
    }

    #[test]
    fn a_refused_segmented_send_falls_back_to_single_datagrams() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        // Without UDP checksums the kernel refuses segmentation (EINVAL) for every send.
        set_int_option(&server, libc::SOL_SOCKET, libc::SO_NO_CHECK, 1).unwrap();
        let client = client_socket();
        let mut tx = SendBatch::default();
        burst(&server, &client, &mut tx);
        // EINVAL concerns that send, not the socket: the next batch tries again
        assert!(tx.offloading());
        burst(&server, &client, &mut tx);
    }

    #[test]
    fn a_receiver_that_accepts_coalesced_replies_gets_each_intact() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = client_socket();
        accept_coalesced(&client).unwrap();
        let dest = client.local_addr().unwrap();
        let mut tx = SendBatch::default();
        for i in 0..20u8 {
            // 16 of one length (one segmented send), then 4 shorter ones
            let len = if i < 16 { 60 } else { 33 };
            tx.next_buf()
                .extend((0..len).map(|k| i.wrapping_add(k as u8)));
            tx.push(dest);
        }
        tx.send(&server);
        let mut seen = Vec::new();
        let mut coalesced = 0;
        let mut buf = vec![0u8; 1 << 16];
        while seen.len() < 20 {
            let (n, segment) = recv_coalesced(&client, &mut buf)
                .or_else(|_| {
                    // nothing queued yet: wait for it
                    client.peek(&mut [0u8; 1])?;
                    recv_coalesced(&client, &mut buf)
                })
                .unwrap();
            if segment.is_some() {
                coalesced += 1;
            }
            for d in buf[..n].chunks(segment.unwrap_or(n)) {
                let i = d[0];
                assert_eq!(d.len(), if i < 16 { 60 } else { 33 }, "datagram {i}");
                assert!(
                    d.iter()
                        .enumerate()
                        .all(|(k, &b)| b == i.wrapping_add(k as u8))
                );
                seen.push(i);
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..20).collect::<Vec<u8>>());
        // loopback hands a segmented send over whole to a socket that accepts it
        assert!(coalesced >= 1);
    }

    #[test]
    fn groups_keep_arrival_order_and_the_kernel_limits() {
        let mut tx = SendBatch::default();
        let a: SocketAddr = "192.0.2.1:1812".parse().unwrap();
        let b: SocketAddr = "192.0.2.2:1812".parse().unwrap();
        for (dest, len) in [(a, 20), (b, 20), (a, 20), (a, 30), (a, 20), (b, 20)] {
            tx.next_buf().resize(len, 0);
            tx.push(dest);
        }
        tx.plan(&[0, 1, 2, 3, 4, 5], true);
        assert_eq!(tx.order, vec![0, 2, 4, 1, 5, 3]);
        assert_eq!(tx.groups, vec![(0, 3, 20), (3, 2, 20), (5, 1, 30)]);
        tx.dests.clear();
        // 32 replies of 1400 octets (44,800) fit one send; of 1900 (more than a segment
        // may be) each goes alone
        for _ in 0..BATCH {
            tx.next_buf().resize(1400, 0);
            tx.push(a);
        }
        tx.plan(&(0..BATCH).collect::<Vec<_>>(), true);
        assert_eq!(tx.groups, vec![(0, BATCH, 1400)]);
        tx.dests.clear();
        for _ in 0..BATCH {
            tx.next_buf().resize(1900, 0);
            tx.push(a);
        }
        tx.plan(&(0..BATCH).collect::<Vec<_>>(), true);
        assert_eq!(tx.groups.len(), BATCH);
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

    #[test]
    fn take_queued_takes_at_most_what_it_is_asked_for_and_never_waits() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        // a blocking socket without a timeout: a take that waited would hang the test
        server.set_read_timeout(None).unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut rx = RecvBatch::new(64);
        assert_eq!(rx.take_queued(&server, BATCH).unwrap(), 0);
        for i in 0..3u8 {
            client
                .send_to(&[i; 10], server.local_addr().unwrap())
                .unwrap();
        }
        // loopback delivers before send_to returns
        assert_eq!(rx.take_queued(&server, 0).unwrap(), 0);
        assert_eq!(rx.take_queued(&server, 2).unwrap(), 2);
        assert_eq!(rx.get(1).unwrap().0, &[1u8; 10][..]);
        assert!(rx.get(2).is_none());
        assert_eq!(rx.take_queued(&server, BATCH).unwrap(), 1);
        assert_eq!(rx.get(0).unwrap().0, &[2u8; 10][..]);
        assert_eq!(rx.take_queued(&server, BATCH).unwrap(), 0);
    }
}
