//! `hallpass load`: a RADIUS load generator for testing a RADIUS set-up (hallpass or any
//! other server), as admins once used radperf. MAB or PAP Access-Requests, or
//! Accounting-Requests, each with a fresh authenticator and a Message-Authenticator; closed
//! loop (C requests in flight) or open loop (R requests/s); always bounded by a count and a
//! duration. It sends only to loopback unless the operator explicitly allows another target.
//!
//! A client, not part of the daemon: it owns its sockets and encodes with the `radius` codec
//! and batches with `mmsg`, and never imports `server` (nor does `server` import it).

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::mmsg;
use crate::model::MacAddr;
use crate::radius::{self, Code, Packet, PacketBuilder, SharedSecret, attr};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "{0} is not a loopback address: pass --allow-remote to load a server on another machine (only one you are responsible for)"
    )]
    NotLoopback(SocketAddr),
    #[error("socket error")]
    Socket(#[from] std::io::Error),
    #[error("cannot encode a request")]
    Encode(#[from] radius::RadiusError),
    #[error("no MAC addresses to send (empty device list)")]
    NoMacs,
    #[error("--concurrency must be between 1 and {max}")]
    BadConcurrency { max: usize },
    #[error("a duration or a count must bound the run")]
    Unbounded,
}

/// What to send.
#[derive(Clone, Debug)]
pub enum LoadKind {
    /// MAB for these MACs, round robin.
    Mab { macs: Vec<MacAddr> },
    /// PAP for one account.
    Pap { user: String, password: String },
    /// Accounting Start/Interim/Stop cycles for these MACs.
    Accounting { macs: Vec<MacAddr> },
}

#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub target: SocketAddr,
    pub secret: SharedSecret,
    pub kind: LoadKind,
    /// Closed loop: requests in flight. Ignored with `rate`.
    pub concurrency: usize,
    /// Open loop: requests per second.
    pub rate: Option<u32>,
    pub count: Option<u64>,
    pub duration: Option<Duration>,
    pub timeout: Duration,
    pub allow_remote: bool,
    /// Let the kernel hand over a server's segmented replies together (UDP GRO) instead
    /// of splitting them into datagrams first. On loopback that splitting runs on the
    /// server's core and is counted as the server's CPU time.
    pub coalesced_replies: bool,
    /// NAS-Port-Type to send (19 Wi-Fi, 15 Ethernet).
    pub nas_port_type: u32,
}

/// Results of a run.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    pub sent: u64,
    pub accepts: u64,
    pub rejects: u64,
    /// Accounting-Responses and other answers.
    pub other: u64,
    pub timeouts: u64,
    /// Replies whose Response Authenticator did not verify.
    pub bad_replies: u64,
    pub elapsed: Duration,
    pub latency: Histogram,
}

impl LoadReport {
    pub fn answered(&self) -> u64 {
        self.accepts + self.rejects + self.other
    }

    pub fn rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.answered() as f64 / s
        } else {
            0.0
        }
    }

    pub fn to_text(&self) -> String {
        let us = |q: f64| self.latency.quantile(q).as_secs_f64() * 1e6;
        format!(
            "sent {} answered {} in {:.2} s: {:.0} requests/s\n\
             accepts {} rejects {} other {} timeouts {} bad replies {}\n\
             latency µs: p50 {:.0} p90 {:.0} p99 {:.0} p99.9 {:.0} max {:.0}",
            self.sent,
            self.answered(),
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.accepts,
            self.rejects,
            self.other,
            self.timeouts,
            self.bad_replies,
            us(0.50),
            us(0.90),
            us(0.99),
            us(0.999),
            self.latency.max().as_secs_f64() * 1e6,
        )
    }
}

/// Latency histogram with 1 µs buckets up to 100 ms and an overflow bucket: exact enough for
/// percentiles without storing every sample.
#[derive(Clone, Debug)]
pub struct Histogram {
    buckets: Vec<u64>,
    overflow: u64,
    max_us: u64,
    count: u64,
}

const HISTOGRAM_US: usize = 100_000;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: vec![0; HISTOGRAM_US],
            overflow: 0,
            max_us: 0,
            count: 0,
        }
    }
}

impl Histogram {
    pub fn record(&mut self, d: Duration) {
        let us = d.as_micros().min(u64::MAX as u128) as u64;
        self.count += 1;
        self.max_us = self.max_us.max(us);
        match self.buckets.get_mut(us as usize) {
            Some(b) => *b += 1,
            None => self.overflow += 1,
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max_us)
    }

    /// The latency below which a fraction `q` of the samples lie.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let want = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (us, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= want {
                return Duration::from_micros(us as u64);
            }
        }
        self.max()
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a += b;
        }
        self.overflow += other.overflow;
        self.count += other.count;
        self.max_us = self.max_us.max(other.max_us);
    }
}

/// One request in flight on a lane.
#[derive(Clone, Copy)]
struct InFlight {
    sent: Instant,
    authenticator: [u8; 16],
}

/// Open loop: requests sent at most between two looks at the replies.
const OPEN_LOOP_BURST: usize = 64;

/// Requests per lane: one UDP socket carries at most 256 (the identifier is one octet).
const IDS_PER_LANE: usize = 256;
/// Open loop: requests that may be in flight at once (4 sockets). Enough for a second of
/// replies at 1,000/s and for several milliseconds at 100k/s; more sockets only made every
/// pass over them slower (each is one receive call), and that showed up as latency.
const OPEN_LOOP_WINDOW: usize = IDS_PER_LANE * 4;

/// Receive buffer asked for per socket (see [`run`]).
const RECV_BUFFER: usize = 4 << 20;

/// Runs the load and returns the figures.
pub fn run(opts: &LoadOptions) -> Result<LoadReport, LoadError> {
    if !opts.allow_remote && !opts.target.ip().is_loopback() {
        return Err(LoadError::NotLoopback(opts.target));
    }
    if opts.count.is_none() && opts.duration.is_none() {
        return Err(LoadError::Unbounded);
    }
    match &opts.kind {
        LoadKind::Mab { macs } | LoadKind::Accounting { macs } if macs.is_empty() => {
            return Err(LoadError::NoMacs);
        }
        _ => {}
    }
    let max = IDS_PER_LANE * 64;
    let window = if opts.rate.is_some() {
        OPEN_LOOP_WINDOW
    } else {
        opts.concurrency
    };
    if window == 0 || window > max {
        return Err(LoadError::BadConcurrency { max });
    }
    let lanes = window.div_ceil(IDS_PER_LANE);
    let mut sockets = Vec::with_capacity(lanes);
    for _ in 0..lanes {
        let bind: SocketAddr = if opts.target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        }
        .parse()
        .map_err(|_| std::io::Error::other("bind address"))?;
        let s = UdpSocket::bind(bind)?;
        s.connect(opts.target)?;
        s.set_nonblocking(true)?;
        // Room for a lane's whole window of replies: a server that catches up after a pause
        // (a reload) answers hundreds at once, and the default buffer (about 200 replies)
        // would drop some, counted here as timeouts. The kernel caps the size at
        // net.core.rmem_max (doubled); a smaller buffer is no error.
        let _ = socket2::SockRef::from(&s).set_recv_buffer_size(RECV_BUFFER);
        // A kernel without UDP GRO says no; replies then come one by one, as they would.
        if opts.coalesced_replies {
            let _ = mmsg::accept_coalesced(&s);
        }
        sockets.push(s);
    }
    Lane::run_all(opts, sockets, window)
}

struct Lane {
    socket: UdpSocket,
    /// Requests built but not yet sent: a pass of the loop sends them with one call.
    outbox: mmsg::SendBatch,
    slots: Vec<Option<InFlight>>,
    in_flight: usize,
    next_id: u8,
    limit: usize,
}

impl Lane {
    fn run_all(
        opts: &LoadOptions,
        sockets: Vec<UdpSocket>,
        window: usize,
    ) -> Result<LoadReport, LoadError> {
        let n = sockets.len();
        let mut lanes: Vec<Lane> = sockets
            .into_iter()
            .enumerate()
            .map(|(i, socket)| Lane {
                socket,
                outbox: mmsg::SendBatch::default(),
                slots: vec![None; IDS_PER_LANE],
                in_flight: 0,
                next_id: 0,
                // spread the window over the lanes
                limit: (window / n + usize::from(i < window % n)).max(1),
            })
            .collect();
        let mut report = LoadReport::default();
        // Room for the largest coalesced buffer the kernel hands over (one UDP datagram).
        let mut buf = vec![0u8; 1 << 16];
        let mut seq: u64 = 0;
        let start = Instant::now();
        let deadline = opts.duration.map(|d| start + d);
        let mut last_sweep = start;
        let interval = opts
            .rate
            .map(|r| Duration::from_secs_f64(1.0 / f64::from(r.max(1))));
        let mut next_send = start;
        loop {
            let now = Instant::now();
            let out_of_time = deadline.is_some_and(|d| now >= d);
            let out_of_count = opts.count.is_some_and(|c| seq >= c);
            let sending = !out_of_time && !out_of_count;
            let in_flight: usize = lanes.iter().map(|l| l.in_flight).sum();
            if !sending && in_flight == 0 {
                break;
            }
            // After the end, wait at most one timeout for the stragglers.
            if !sending && deadline.is_some_and(|d| now >= d + opts.timeout) {
                report.timeouts += in_flight as u64;
                break;
            }
            let mut progressed = false;
            if sending {
                match interval {
                    Some(iv) => {
                        // open loop: send what is due, on whichever lane has room; at most
                        // a burst per pass, so that a generator that falls behind still reads
                        // its replies instead of timing its own backlog
                        let mut burst = 0;
                        while burst < OPEN_LOOP_BURST
                            && Instant::now() >= next_send
                            && opts.count.is_none_or(|c| seq < c)
                        {
                            let Some(lane) = lanes.iter_mut().find(|l| l.in_flight < IDS_PER_LANE)
                            else {
                                break;
                            };
                            lane.send(opts, seq)?;
                            seq += 1;
                            report.sent += 1;
                            next_send += iv;
                            burst += 1;
                            progressed = true;
                        }
                    }
                    None => {
                        for lane in lanes.iter_mut() {
                            while lane.in_flight < lane.limit && opts.count.is_none_or(|c| seq < c)
                            {
                                lane.send(opts, seq)?;
                                seq += 1;
                                report.sent += 1;
                                progressed = true;
                            }
                        }
                    }
                }
            }
            for lane in lanes.iter_mut() {
                lane.flush()?;
                while let Some((n, segment)) = lane.try_recv(&mut buf)? {
                    if let Some(b) = buf.get(..n) {
                        // Coalesced replies: every one but the last has the segment size.
                        for reply in b.chunks(segment.unwrap_or(n).max(1)) {
                            lane.on_reply(reply, &opts.secret, &mut report);
                        }
                    }
                    progressed = true;
                }
            }
            let now = Instant::now();
            if now.duration_since(last_sweep) >= Duration::from_millis(50) {
                for lane in lanes.iter_mut() {
                    lane.expire(now, opts.timeout, &mut report);
                }
                last_sweep = now;
            }
            if !progressed {
                // Nothing to do this instant. Sleeping even 20 µs costs ~70 µs of timer slack,
                // which the latency figures would include; yield instead (the generator has a
                // core of its own in every benchmark here) and let anything else run first.
                std::thread::yield_now();
            }
        }
        report.elapsed = start.elapsed();
        Ok(report)
    }

    /// Builds request `seq` into the outbox (sending the outbox first if it is full).
    fn send(&mut self, opts: &LoadOptions, seq: u64) -> Result<(), LoadError> {
        // find a free identifier
        let mut id = self.next_id;
        for _ in 0..IDS_PER_LANE {
            if self.slots.get(id as usize).is_some_and(Option::is_none) {
                break;
            }
            id = id.wrapping_add(1);
        }
        self.next_id = id.wrapping_add(1);
        if self.outbox.is_full() {
            self.flush()?;
        }
        let authenticator = build_request(opts, seq, id, self.outbox.next_buf())?;
        self.outbox.push(opts.target);
        // Before the send: on loopback the reply can be on its way before send returns.
        let sent = Instant::now();
        if let Some(slot) = self.slots.get_mut(id as usize) {
            *slot = Some(InFlight {
                sent,
                authenticator,
            });
            self.in_flight += 1;
        }
        Ok(())
    }

    /// Sends the requests built so far in one call (`sendmmsg`; requests of one size go as
    /// one segmented send, which the kernel splits into datagrams before the server's
    /// socket sees them). A request the kernel refuses for a full queue or a server not
    /// (yet) listening is lost and times out like one lost on the network; any other
    /// refusal (no route, a bad address) ends the run with that error.
    fn flush(&mut self) -> Result<(), LoadError> {
        self.outbox.send(&self.socket);
        match self.outbox.take_error() {
            None => Ok(()),
            Some(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                Ok(())
            }
            Some(e) => Err(e.into()),
        }
    }

    /// One buffer from the socket: its length and, if it holds coalesced replies, their size.
    fn try_recv(&self, buf: &mut [u8]) -> Result<Option<(usize, Option<usize>)>, LoadError> {
        match mmsg::recv_coalesced(&self.socket, buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            // ICMP port unreachable from an earlier send: the server is not there (yet)
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn on_reply(&mut self, bytes: &[u8], secret: &SharedSecret, report: &mut LoadReport) {
        let Ok(p) = Packet::parse(bytes) else {
            report.bad_replies += 1;
            return;
        };
        let Some(slot) = self.slots.get_mut(p.identifier() as usize) else {
            return;
        };
        let Some(f) = *slot else {
            // late reply to a request already counted as timed out
            return;
        };
        if !radius::verify_response_authenticator(&p, &f.authenticator, secret) {
            report.bad_replies += 1;
            return;
        }
        *slot = None;
        self.in_flight -= 1;
        report.latency.record(f.sent.elapsed());
        match p.code() {
            Code::AccessAccept => report.accepts += 1,
            Code::AccessReject => report.rejects += 1,
            _ => report.other += 1,
        }
    }

    fn expire(&mut self, now: Instant, timeout: Duration, report: &mut LoadReport) {
        for slot in self.slots.iter_mut() {
            if slot.is_some_and(|f| now.duration_since(f.sent) >= timeout) {
                *slot = None;
                self.in_flight -= 1;
                report.timeouts += 1;
            }
        }
    }
}

/// Writes request number `seq` into `out`; returns the authenticator the reply is checked
/// against.
fn build_request(
    opts: &LoadOptions,
    seq: u64,
    id: u8,
    out: &mut Vec<u8>,
) -> Result<[u8; 16], LoadError> {
    let secret = &opts.secret;
    match &opts.kind {
        LoadKind::Mab { macs } => {
            let mac = macs
                .get((seq % macs.len() as u64) as usize)
                .copied()
                .ok_or(LoadError::NoMacs)?;
            let name = dashed(mac, false);
            let station = dashed(mac, true);
            let authenticator: [u8; 16] = rand::random();
            let mut hidden = Vec::with_capacity(32);
            radius::hide_password(&name, secret, &authenticator, &mut hidden)?;
            let mut b = PacketBuilder::new(out, Code::AccessRequest, id);
            b.message_authenticator();
            b.attr(attr::USER_NAME, &name)?;
            b.attr(attr::USER_PASSWORD, &hidden)?;
            b.attr(attr::CALLING_STATION_ID, &station)?;
            b.attr(attr::CALLED_STATION_ID, b"02-00-00-00-00-01:Schule")?;
            b.attr_u32(attr::NAS_PORT_TYPE, opts.nas_port_type)?;
            b.attr(attr::NAS_IP_ADDRESS, &[127, 0, 0, 1])?;
            b.finish_access_request(&authenticator, secret)?;
            Ok(authenticator)
        }
        LoadKind::Pap { user, password } => {
            let authenticator: [u8; 16] = rand::random();
            let mut hidden = Vec::with_capacity(32);
            radius::hide_password(password.as_bytes(), secret, &authenticator, &mut hidden)?;
            let mut b = PacketBuilder::new(out, Code::AccessRequest, id);
            b.message_authenticator();
            b.attr(attr::USER_NAME, user.as_bytes())?;
            b.attr(attr::USER_PASSWORD, &hidden)?;
            b.attr_u32(attr::NAS_PORT_TYPE, opts.nas_port_type)?;
            b.finish_access_request(&authenticator, secret)?;
            Ok(authenticator)
        }
        LoadKind::Accounting { macs } => {
            let i = seq / 3;
            let mac = macs
                .get((i % macs.len() as u64) as usize)
                .copied()
                .ok_or(LoadError::NoMacs)?;
            // Start, Interim-Update, Stop for each session in turn
            let status = match seq % 3 {
                0 => 1,
                1 => 3,
                _ => 2,
            };
            let session = format!("{i:016x}");
            let mut b = PacketBuilder::new(out, Code::AccountingRequest, id);
            b.attr(attr::USER_NAME, &dashed(mac, false))?;
            b.attr(attr::CALLING_STATION_ID, &dashed(mac, true))?;
            b.attr_u32(attr::ACCT_STATUS_TYPE, status)?;
            b.attr(attr::ACCT_SESSION_ID, session.as_bytes())?;
            b.attr(attr::NAS_IP_ADDRESS, &[127, 0, 0, 1])?;
            b.attr_u32(attr::NAS_PORT_TYPE, opts.nas_port_type)?;
            if status != 1 {
                b.attr_u32(attr::ACCT_INPUT_OCTETS, (seq as u32).wrapping_mul(1500))?;
                b.attr_u32(attr::ACCT_OUTPUT_OCTETS, (seq as u32).wrapping_mul(9000))?;
                b.attr_u32(attr::ACCT_SESSION_TIME, 60)?;
            }
            b.finish_computed_request(secret)?;
            // the reply is checked against the request's own (computed) authenticator
            let mut a = [0u8; 16];
            if let Some(src) = out.get(4..20) {
                a.copy_from_slice(src);
            }
            Ok(a)
        }
    }
}

/// `3c-22-fb-12-34-56` (lower case, as many switches send User-Name) or upper case (as
/// Calling-Station-Id per RFC 3580).
fn dashed(mac: MacAddr, upper: bool) -> [u8; 17] {
    const LOWER: &[u8; 16] = b"0123456789abcdef";
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    let digits = if upper { UPPER } else { LOWER };
    let mut out = [b'-'; 17];
    for (i, byte) in mac.0.iter().enumerate() {
        if let (Some(hi), Some(lo)) = (
            digits.get((byte >> 4) as usize),
            digits.get((byte & 15) as usize),
        ) {
            out[i * 3] = *hi;
            out[i * 3 + 1] = *lo;
        }
    }
    out
}

/// N distinct MACs for a generated device list: the same ones `hallpass load` and test set-ups
/// write into devices files, so both sides agree.
pub fn generated_macs(n: u32) -> Vec<MacAddr> {
    (0..n)
        .map(|i| {
            let b = i.to_be_bytes();
            MacAddr([0x3c, 0x22, b[0], b[1], b[2], b[3]])
        })
        .collect()
}

#[cfg(test)]
mod tests;
