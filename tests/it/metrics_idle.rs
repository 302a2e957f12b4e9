//! Idle TCP connections against the metrics endpoint: however many are open, scrapes are
//! answered, and each idle one is closed after the header timeout.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::{Daemon, TestConfig};

/// Reads until the server closes `s`; true when it did so without sending anything.
fn closed_silently(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 64];
    match crate::wire::read_by(s, &mut buf, Instant::now() + within) {
        Ok(0) => true,
        Ok(_) => false,
        // a reset is closed too; a timeout is not
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn idle_connections_neither_lock_out_scrapes_nor_stay_open() {
    let cfg = TestConfig::new("", "");
    cfg.enable_metrics();
    let d = Daemon::start(&cfg);
    let addr = d.metrics.unwrap();

    let opened = Instant::now();
    let mut idle: Vec<TcpStream> = (0..32).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let scraped = Instant::now();
    assert!(d.scrape().contains("hallpass_requests_total"));
    eprintln!(
        "scrape with 32 idle connections open: {:?}",
        scraped.elapsed()
    );

    for (i, s) in idle.iter_mut().enumerate() {
        assert!(
            closed_silently(s, Duration::from_secs(15)),
            "idle connection {i} not closed"
        );
    }
    let waited = opened.elapsed();
    eprintln!("32 idle connections closed after {waited:?}");
    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(12),
        "closed after {waited:?}, the header timeout is 5 s"
    );

    // More idle connections than the endpoint keeps: the oldest are closed at once, and
    // scrapes are still answered.
    let mut many: Vec<TcpStream> = (0..100)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    assert!(d.scrape().contains("hallpass_requests_total"));
    assert!(
        closed_silently(&mut many[0], Duration::from_secs(2)),
        "the oldest connection was closed for the newer ones"
    );
}
