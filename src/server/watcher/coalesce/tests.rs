//! The coalescing table by cases: one write a minute unless something changes, the tallies
//! that go with the next write, the admission rate per interface, and bounded memory.

use std::net::Ipv4Addr;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::store::DhcpMessage;

const T0: &str = "2026-03-02T08:00:00Z";

fn t(ms: i64) -> Timestamp {
    T0.parse::<Timestamp>().unwrap() + SignedDuration::from_millis(ms)
}

fn mac(i: u32) -> MacAddr {
    let b = i.to_be_bytes();
    MacAddr([0x02, 0x00, b[0], b[1], b[2], b[3]])
}

fn on(iface: &str, i: u32, at: Timestamp, message: DhcpMessage) -> SightingUpdate {
    SightingUpdate {
        mac: mac(i),
        time: at,
        message,
        ip: None,
        hostname: None,
        vendor_class: None,
        client_id: None,
        fingerprint: None,
        family: None,
        registered: false,
        randomized: true,
        interface: Some(Arc::from(iface)),
        relay_circuit_id: None,
        relay_remote_id: None,
        randomized_alias_of: None,
        history: false,
        coalesced: MessageCounts::default(),
    }
}

fn seen(i: u32, at: Timestamp) -> SightingUpdate {
    on("eth0", i, at, DhcpMessage::Discover)
}

/// What happened, in short: W+h (written, history), W (written, no history), C, N.
fn short(v: &Verdict) -> &'static str {
    match v {
        Verdict::Write(u) if u.history => "W+h",
        Verdict::Write(_) => "W",
        Verdict::Coalesced => "C",
        Verdict::NotAdmitted => "N",
    }
}

#[test]
fn one_write_a_minute_per_mac_unless_something_changes() {
    let with_ip = |at| {
        let mut u = seen(1, at);
        u.ip = Some(Ipv4Addr::new(10, 0, 0, 66));
        u
    };
    let named = |at, name: &str| {
        let mut u = seen(1, at);
        u.hostname = Some(name.into());
        u
    };
    let registered = |at| {
        let mut u = seen(1, at);
        u.registered = true;
        u
    };
    // (sighting of MAC 1, expected verdict), in order, on one table
    let table: Vec<(SightingUpdate, &str)> = vec![
        (seen(1, t(0)), "W+h"),
        (seen(1, t(1)), "C"),
        (seen(1, t(59_999)), "C"),
        (seen(1, t(60_000)), "W"),
        (seen(1, t(60_001)), "C"),
        // an address from a trusted ACK is news; the same address again is not
        (with_ip(t(61_000)), "W+h"),
        (with_ip(t(62_000)), "C"),
        // no address keeps the stored one: nothing changed
        (seen(1, t(63_000)), "C"),
        (named(t(64_000), "laptop-max"), "W+h"),
        (named(t(65_000), "laptop-max"), "C"),
        (named(t(66_000), ""), "C"),
        (named(t(67_000), "laptop-erika"), "W+h"),
        (registered(t(68_000)), "W+h"),
        (registered(t(69_000)), "C"),
        // a fifth change within the minute waits for its end ...
        (seen(1, t(70_000)), "C"),
        // ... and is history then: a registration taken back is news as well
        (seen(1, t(120_000)), "W+h"),
        (on("eth1", 1, t(121_000), DhcpMessage::Request), "W+h"),
        // a clock that went back does not hold writes back
        (on("eth1", 1, t(10_000), DhcpMessage::Discover), "W"),
    ];
    let mut c = Coalescer::new(CAPACITY);
    for (i, (u, want)) in table.into_iter().enumerate() {
        let at = u.time;
        let v = c.offer(u, at, 50);
        assert_eq!(short(&v), want, "step {i} at {at}");
    }
    assert_eq!(c.len(), 1);
}

#[test]
fn the_coalesced_messages_go_with_the_next_write() {
    let mut c = Coalescer::new(CAPACITY);
    assert_eq!(short(&c.offer(seen(1, t(0)), t(0), 50)), "W+h");
    for (i, m) in [
        DhcpMessage::Discover,
        DhcpMessage::Request,
        DhcpMessage::Discover,
    ]
    .into_iter()
    .enumerate()
    {
        let at = t(1_000 * (i as i64 + 1));
        assert_eq!(short(&c.offer(on("eth0", 1, at, m), at, 50)), "C");
    }
    let Verdict::Write(u) = c.offer(seen(1, t(60_000)), t(60_000), 50) else {
        panic!("the minute is over: written");
    };
    assert_eq!(
        u.coalesced,
        MessageCounts {
            discover: 2,
            request: 1,
            ..MessageCounts::default()
        }
    );
    // and counted once only
    assert_eq!(short(&c.offer(seen(1, t(61_000)), t(61_000), 50)), "C");
    let Verdict::Write(u) = c.offer(seen(1, t(120_000)), t(120_000), 50) else {
        panic!("written");
    };
    assert_eq!(u.coalesced.total(), 1);
}

#[test]
fn a_mac_changing_its_name_with_every_frame_gets_a_few_writes_a_minute() {
    let mut c = Coalescer::new(CAPACITY);
    let named = |i: i64| {
        let mut u = seen(1, t(i * 100));
        u.hostname = Some(format!("name-{i}"));
        u
    };
    let verdicts: Vec<&str> = (0..700)
        .map(|i| {
            let u = named(i);
            let at = u.time;
            short(&c.offer(u, at, 50))
        })
        .collect();
    // the first sighting, CHANGES_PER_WINDOW changes, then nothing until the minute is over
    let n = usize::from(CHANGES_PER_WINDOW);
    assert!(verdicts[..=n].iter().all(|v| *v == "W+h"), "{verdicts:?}");
    assert!(verdicts[n + 1..600].iter().all(|v| *v == "C"));
    // at 60 s: the write the window allows, with the name of then, and changes again
    assert!(verdicts[600..=600 + n].iter().all(|v| *v == "W+h"));
    assert!(verdicts[601 + n..].iter().all(|v| *v == "C"));
}

#[test]
fn new_macs_are_admitted_at_the_rate_of_their_interface() {
    let mut c = Coalescer::new(CAPACITY);
    // one second's worth at once, then nothing
    let admitted = (0..200)
        .filter(|&i| matches!(c.offer(seen(i, t(0)), t(0), 50), Verdict::Write(_)))
        .count();
    assert_eq!(admitted, 50);
    // a tenth of a second later: five more
    let admitted = (200..400)
        .filter(|&i| matches!(c.offer(seen(i, t(100)), t(100), 50), Verdict::Write(_)))
        .count();
    assert_eq!(admitted, 5);
    // another interface has its own rate
    let admitted = (400..600)
        .filter(|&i| {
            let u = on("eth1", i, t(100), DhcpMessage::Discover);
            matches!(c.offer(u, t(100), 50), Verdict::Write(_))
        })
        .count();
    assert_eq!(admitted, 50);
    // a registered device is always admitted, and MACs in memory are not new
    let mut u = seen(1_000, t(100));
    u.registered = true;
    assert_eq!(short(&c.offer(u, t(100), 50)), "W+h");
    assert_eq!(short(&c.offer(seen(0, t(100)), t(100), 50)), "C");
    assert_eq!(short(&c.offer(seen(999, t(100)), t(100), 50)), "N");
    // the burst never exceeds a second's worth, however long the quiet was
    let admitted = (2_000..2_200)
        .filter(|&i| {
            matches!(
                c.offer(seen(i, t(3_600_000)), t(3_600_000), 50),
                Verdict::Write(_)
            )
        })
        .count();
    assert_eq!(admitted, 50);
}

#[test]
fn memory_stays_bounded_under_a_flood_of_made_up_macs() {
    let mut c = Coalescer::new(100);
    // a MAC of the school's, seen all along
    let mut steady = 0;
    for i in 0..100_000u32 {
        let at = t(i64::from(i));
        c.offer(seen(10_000_000 + i, at), at, u32::MAX);
        assert!(c.len() <= 100, "{} MACs remembered", c.len());
        if i % 10 == 0 {
            let v = c.offer(seen(1, at), at, u32::MAX);
            if matches!(v, Verdict::Write(ref u) if u.history) {
                steady += 1;
            }
        }
    }
    // seen every ten frames, it was never forgotten: news once only
    assert_eq!(steady, 1);
}
