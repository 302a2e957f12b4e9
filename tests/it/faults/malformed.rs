//! Malformed and hostile packets over the wire: each is dropped and counted, or answered
//! correctly, and the next legitimate request is answered.

use super::*;

/// What a bad input must lead to.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// No answer, and this counter moves by exactly one.
    Dropped(&'static str),
    /// A correctly signed Access-Accept into the students' VLAN.
    Accept,
}

const LEGACY_SOURCE: &str = "127.0.0.3";

fn legacy_client() -> String {
    format!(
        r#"
[[radius.client]]
name = "legacy-nas"
address = "{LEGACY_SOURCE}/32"
secret = "{SECRET}"
module = "wifi"
require_message_authenticator = false
"#
    )
}

#[test]
fn malformed_and_hostile_packets_are_dropped_counted_and_disturb_nobody() {
    let _one_at_a_time = timed();
    let cfg = TestConfig::new("", &legacy_client());
    school(&cfg);
    let mut d = Daemon::start(&cfg);
    let secret = SECRET.as_bytes();
    let good = mab_request(1, MAX_MAC);
    let good_len = good.len();

    let mut cases: Vec<(&str, Vec<u8>, Expect, &str)> = Vec::new();
    let mut add = |name: &'static str, p: Vec<u8>, e: Expect| cases.push((name, p, e, "127.0.0.1"));

    add(
        "truncated header",
        good[..10].to_vec(),
        Expect::Dropped("malformed"),
    );
    add("empty datagram", Vec::new(), Expect::Dropped("malformed"));
    let mut p = good.clone();
    set_length(&mut p, good_len + 10);
    add(
        "Length larger than the datagram",
        p,
        Expect::Dropped("malformed"),
    );
    let mut p = good.clone();
    set_length(&mut p, 19);
    add("Length below the header", p, Expect::Dropped("malformed"));
    let mut p = good.clone();
    set_length(&mut p, good_len - 5);
    add("Length cuts an attribute", p, Expect::Dropped("malformed"));
    // RFC 2865 3: octets beyond Length are padding and ignored; the request is answered.
    let mut p = good.clone();
    p.extend_from_slice(&[0xEE; 40]);
    add("padding beyond Length", p, Expect::Accept);

    let mut attrs = vec![wire::USER_NAME, 14];
    attrs.extend_from_slice(MAX_MAC.as_bytes());
    for (name, bad) in [
        ("attribute of length 0", vec![VENDOR_SPECIFIC, 0]),
        ("attribute of length 1", vec![VENDOR_SPECIFIC, 1]),
        (
            "attribute overrunning the packet",
            vec![VENDOR_SPECIFIC, 60, 0, 0, 0, 9],
        ),
        ("lone attribute type octet", vec![VENDOR_SPECIFIC]),
    ] {
        let mut a = attrs.clone();
        a.extend_from_slice(&bad);
        add(
            name,
            raw_packet(wire::ACCESS_REQUEST, 3, &a),
            Expect::Dropped("malformed"),
        );
    }
    let mut big = raw_packet(wire::ACCESS_REQUEST, 4, &attrs);
    big.resize(5000, 0);
    set_length(&mut big, 5000);
    add("packet over 4096 octets", big, Expect::Dropped("malformed"));
    // The largest legal request: Vendor-Specific filler (not echoed) up to exactly 4096.
    let mut filler = mab_attrs(MAX_MAC);
    let used = 20 + filler.iter().map(|(_, v)| v.len() + 2).sum::<usize>() + 18;
    let mut room = 4096 - used;
    while room > 0 {
        // at most 255 octets per attribute; never leave less than a minimal VSA (6) behind
        let take = match room {
            0..=255 => room,
            _ if room - 255 < 6 => room - 6,
            _ => 255,
        };
        let mut value = vec![0, 0, 0x99, 0x99];
        value.resize(take - 2, 7);
        filler.push((VENDOR_SPECIFIC, value));
        room -= take;
    }
    let max_size = wire::access_request(5, random_authenticator(), &filler, secret, true);
    assert_eq!(max_size.len(), 4096);
    add("request of exactly 4096 octets", max_size, Expect::Accept);

    let mut two = mab_attrs(MAX_MAC);
    two.push((wire::MESSAGE_AUTHENTICATOR, vec![0; 16]));
    add(
        "two Message-Authenticators",
        wire::access_request(6, random_authenticator(), &two, secret, true),
        Expect::Dropped("bad_authenticator"),
    );
    let mut short_ma = mab_attrs(MAX_MAC);
    short_ma.push((wire::MESSAGE_AUTHENTICATOR, vec![0; 10]));
    add(
        "Message-Authenticator of 10 octets",
        wire::access_request(7, random_authenticator(), &short_ma, secret, false),
        Expect::Dropped("bad_authenticator"),
    );
    add(
        "Message-Authenticator with the wrong secret",
        wire::access_request(
            8,
            random_authenticator(),
            &mab_attrs(MAX_MAC),
            b"not-the-secret-at-all",
            true,
        ),
        Expect::Dropped("bad_authenticator"),
    );
    add(
        "no Message-Authenticator",
        wire::access_request(
            9,
            random_authenticator(),
            &mab_attrs(MAX_MAC),
            secret,
            false,
        ),
        Expect::Dropped("missing_message_authenticator"),
    );
    for (name, code) in [
        ("unknown code 99", 99u8),
        ("code 0", 0),
        (
            "Accounting-Request on the auth port",
            wire::ACCOUNTING_REQUEST,
        ),
        ("Access-Accept sent to the server", wire::ACCESS_ACCEPT),
        ("Disconnect-Request to the server", wire::DISCONNECT_REQUEST),
    ] {
        let mut p = mab_request(10, MAX_MAC);
        p[0] = code;
        add(name, p, Expect::Dropped("unexpected_code"));
    }
    let mut ps = mab_attrs(MAX_MAC);
    ps.push((wire::PROXY_STATE, b"forged-state".to_vec()));
    add(
        "Proxy-State without Message-Authenticator",
        wire::access_request(11, random_authenticator(), &ps, secret, false),
        Expect::Dropped("missing_message_authenticator"),
    );
    let status = wire::access_request(12, random_authenticator(), &[], secret, false);
    let mut status = status;
    status[0] = STATUS_SERVER;
    add(
        "Status-Server without Message-Authenticator",
        status,
        Expect::Dropped("missing_message_authenticator"),
    );
    // RFC 2868 tags are for replies; tagged attributes in a request are ignored, whatever
    // their tag or length.
    let mut tunnel = mab_attrs(MAX_MAC);
    tunnel.push((TUNNEL_TYPE, vec![0x55, 0, 0, 13]));
    tunnel.push((TUNNEL_MEDIUM_TYPE, vec![0x40]));
    tunnel.push((TUNNEL_PRIVATE_GROUP_ID, vec![0xFF, b'9', b'9']));
    tunnel.push((TUNNEL_TYPE, vec![]));
    add(
        "invalid tunnel tags in a request",
        wire::access_request(13, random_authenticator(), &tunnel, secret, true),
        Expect::Accept,
    );
    let pap = |id: u8, hidden: Vec<u8>| {
        wire::access_request(
            id,
            random_authenticator(),
            &[
                (wire::USER_NAME, b"erika.lehrer".to_vec()),
                (wire::USER_PASSWORD, hidden),
            ],
            secret,
            true,
        )
    };
    add(
        "User-Password of 144 octets",
        pap(14, vec![0x41; 144]),
        Expect::Dropped("malformed"),
    );
    add(
        "User-Password of 20 octets",
        pap(15, vec![0x41; 20]),
        Expect::Dropped("malformed"),
    );
    add(
        "empty User-Password",
        pap(16, vec![]),
        Expect::Dropped("malformed"),
    );
    let mut legacy_ps = mab_attrs(MAX_MAC);
    legacy_ps.push((wire::PROXY_STATE, b"forged-state".to_vec()));
    cases.push((
        "Proxy-State without Message-Authenticator from a client that may omit it",
        wire::access_request(17, random_authenticator(), &legacy_ps, secret, false),
        Expect::Dropped("missing_message_authenticator"),
        LEGACY_SOURCE,
    ));
    // The control for the case above: the same client without Proxy-State is answered.
    cases.push((
        "no Message-Authenticator from a client that may omit it",
        wire::access_request(
            18,
            random_authenticator(),
            &mab_attrs(MAX_MAC),
            secret,
            false,
        ),
        Expect::Accept,
        LEGACY_SOURCE,
    ));

    let n_cases = cases.len();
    let mut dropped = 0;
    for (name, packet, expect, source) in cases {
        let before = counters(&mut d);
        let s = UdpSocket::bind(format!("{source}:0")).unwrap();
        let reply = wire::exchange_on(&s, d.addr, &packet, Duration::from_millis(400));
        match expect {
            Expect::Dropped(counter) => {
                assert!(reply.is_none(), "{name}: answered, should be dropped");
                let after = counters(&mut d);
                assert_eq!(
                    delta(&before, &after, counter),
                    1,
                    "{name}: counter {counter} did not move by one"
                );
                dropped += 1;
            }
            Expect::Accept => {
                let reply = reply.unwrap_or_else(|| panic!("{name}: not answered"));
                let len = u16::from_be_bytes([packet[2], packet[3]]) as usize;
                wire::check_reply(&reply, &packet[..len], secret);
                assert_eq!(reply[0], wire::ACCESS_ACCEPT, "{name}");
                assert_eq!(
                    attr_value(&reply, TUNNEL_PRIVATE_GROUP_ID).as_deref(),
                    Some(&b"20"[..]),
                    "{name}"
                );
            }
        }
        legit_still_works(&d, name);
    }
    assert!(dropped >= 20, "{dropped} of {n_cases} cases dropped");
    // and a real NAS implementation still gets through
    let r = mab(d.addr, "3c-22-fb-12-34-56", "Wireless-802.11");
    assert_eq!(r.code(), Some("Access-Accept"), "{}", r.stdout);
    let all = counters(&mut d);
    assert!(all["malformed"] >= 10, "{all:?}");
    assert!(all["unexpected_code"] >= 5, "{all:?}");
    assert!(d.stop().success());
}
