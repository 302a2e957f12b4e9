//! Tests of the load generator that need no server: notation, quantiles, refused runs.
#![allow(clippy::panic)]

use super::*;

#[test]
fn dashed_notation() {
    let m = MacAddr([0x3c, 0x22, 0xfb, 0x0a, 0x34, 0x56]);
    assert_eq!(&dashed(m, false), b"3c-22-fb-0a-34-56");
    assert_eq!(&dashed(m, true), b"3C-22-FB-0A-34-56");
    assert_eq!(MacAddr::parse_bytes(&dashed(m, true)), Some(m));
}

#[test]
fn histogram_quantiles() {
    let mut h = Histogram::default();
    for us in 1..=1000u64 {
        h.record(Duration::from_micros(us));
    }
    assert_eq!(h.quantile(0.5), Duration::from_micros(500));
    assert_eq!(h.quantile(0.99), Duration::from_micros(990));
    assert_eq!(h.max(), Duration::from_micros(1000));
    h.record(Duration::from_secs(1));
    assert_eq!(h.max(), Duration::from_secs(1));
    assert_eq!(h.quantile(1.0), Duration::from_secs(1));
}

#[test]
fn refuses_remote_targets_and_unbounded_runs() {
    let mut o = LoadOptions {
        target: "192.0.2.1:1812"
            .parse()
            .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0))),
        secret: SharedSecret::new(b"x".to_vec()),
        kind: LoadKind::Mab {
            macs: generated_macs(1),
        },
        concurrency: 1,
        rate: None,
        count: Some(1),
        duration: None,
        timeout: Duration::from_millis(10),
        allow_remote: false,
        coalesced_replies: true,
        nas_port_type: 19,
    };
    assert!(matches!(run(&o), Err(LoadError::NotLoopback(_))));
    o.target = SocketAddr::from(([127, 0, 0, 1], 9));
    o.count = None;
    assert!(matches!(run(&o), Err(LoadError::Unbounded)));
    // a send the kernel refuses for good (port 0 is no destination) ends the run with
    // the error instead of counting timeouts
    o.target = SocketAddr::from(([127, 0, 0, 1], 0));
    o.count = Some(5);
    match run(&o) {
        Err(LoadError::Socket(e)) => assert_eq!(e.raw_os_error(), Some(libc::EINVAL)),
        other => panic!("{other:?}"),
    }
}
