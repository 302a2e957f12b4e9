//! The floor under any RADIUS server's CPU per request on a given machine: a UDP server that
//! does nothing but send each datagram back, and a client that paces request/reply pairs
//! the way a set of supplicants does. `benches/compare-eap.sh` runs it with the same number
//! of datagrams per login and the same pacing as the PEAP logins it measures, so that its
//! table shows how much of a server's CPU per login is the kernel receiving, waking and
//! sending, which no server can do without.
//!
//!   echo_floor serve ADDR                        # until a datagram "stop" arrives
//!   echo_floor pace ADDR COUNT MEAN_GAP_US SIZE  # COUNT exchanges, random gaps
//!
//! Loopback only: both refuse any address that is not 127.0.0.0/8 or ::1.
//!
//! It uses the standard library alone, so that the script can build it with `rustc` in a
//! second, without the crate's dependencies.

use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["serve", addr] => loopback(addr).and_then(serve),
        ["pace", addr, count, gap, size] => (|| {
            let addr = loopback(addr)?;
            let count = number(count, "COUNT")?;
            let gap = Duration::from_micros(number(gap, "MEAN_GAP_US")?);
            let size = usize::try_from(number(size, "SIZE")?)
                .ok()
                .filter(|s| (1..=4096).contains(s))
                .ok_or("SIZE must be 1 to 4096")?;
            pace(addr, count, gap, size)
        })(),
        _ => {
            Err("usage: echo_floor serve ADDR | echo_floor pace ADDR COUNT MEAN_GAP_US SIZE".into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_floor: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn loopback(addr: &str) -> Result<SocketAddr> {
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{addr} is not a loopback address").into());
    }
    Ok(addr)
}

fn number(text: &str, what: &str) -> Result<u64> {
    text.parse()
        .map_err(|e| format!("{what} {text:?}: {e}").into())
}

/// Sends every datagram back to where it came from, with one blocking receive and one send
/// per datagram, as a server that answers requests one by one does.
fn serve(addr: SocketAddr) -> Result<()> {
    let socket = UdpSocket::bind(addr)?;
    let mut buf = [0u8; 4096];
    loop {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if &buf[..n] == b"stop" {
            return Ok(());
        }
        // A lost reply only costs the client a timeout.
        let _ = socket.send_to(&buf[..n], from);
    }
}

/// `count` request/reply pairs, each followed by a pause drawn evenly from 0 to twice
/// `mean_gap`, so that several clients do not stay in step.
fn pace(addr: SocketAddr, count: u64, mean_gap: Duration, size: usize) -> Result<()> {
    let socket = UdpSocket::bind((addr.ip(), 0))?;
    socket.set_read_timeout(Some(Duration::from_secs(1)))?;
    socket.connect(addr)?;
    let request = vec![0x5a; size];
    let mut reply = [0u8; 4096];
    let mut gaps = Gaps::new(2 * mean_gap.as_micros() as u64);
    let mut lost = 0u64;
    for _ in 0..count {
        socket.send(&request)?;
        if socket.recv(&mut reply).is_err() {
            lost += 1;
        }
        std::thread::sleep(Duration::from_micros(gaps.next_micros()));
    }
    if lost > 0 {
        return Err(format!("{lost} of {count} replies did not come back").into());
    }
    Ok(())
}

/// Pauses drawn evenly from 0 to `max` µs: xorshift64*, seeded from the clock and the
/// process id so that the clients differ. Pacing only, nothing secret.
struct Gaps {
    state: u64,
    max: u64,
}

impl Gaps {
    fn new(max: u64) -> Gaps {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed = nanos ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15;
        Gaps {
            state: seed.max(1),
            max,
        }
    }

    fn next_micros(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let r = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        r % (self.max + 1)
    }
}
