use super::*;

const SCHOOL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const RELAY: Ipv4Addr = Ipv4Addr::new(10, 5, 0, 254);
const HOME_ROUTER: Ipv4Addr = Ipv4Addr::new(192, 168, 178, 1);
const LAPTOP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 66);
const LEASE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 123);
const WISH: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 200);
const BOX_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x66]);
const PHONE: MacAddr = MacAddr([0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56]);

fn reply(
    t: MessageType,
    src_ip: Option<Ipv4Addr>,
    server_id: Option<Ipv4Addr>,
    yiaddr: Option<Ipv4Addr>,
) -> Observation {
    Observation {
        is_from_server: true,
        message_type: Some(t),
        server_id,
        src_ip,
        src_mac: Some(BOX_MAC),
        client_mac: Some(PHONE),
        yiaddr,
        ..Observation::default()
    }
}

fn request(requested: Option<Ipv4Addr>, ciaddr: Option<Ipv4Addr>) -> Observation {
    Observation {
        message_type: Some(MessageType::Request),
        client_mac: Some(PHONE),
        src_mac: Some(PHONE),
        src_ip: ciaddr.or(Some(Ipv4Addr::UNSPECIFIED)),
        server_id: Some(SCHOOL),
        requested_ip: requested,
        ciaddr,
        ..Observation::default()
    }
}

/// What a verdict says, without the details of a rogue report.
#[derive(Debug, PartialEq, Eq)]
enum V {
    NotAReply,
    Unconfigured,
    Trusted,
    Rogue(Ipv4Addr),
    Unattributable,
}

fn verdict(obs: &Observation, trusted: &[IpAddr]) -> V {
    match server_trust(obs, trusted) {
        ServerTrust::NotAReply => V::NotAReply,
        ServerTrust::Unconfigured => V::Unconfigured,
        ServerTrust::Trusted => V::Trusted,
        ServerTrust::Rogue(r) => V::Rogue(r.server),
        ServerTrust::Unattributable => V::Unattributable,
    }
}

#[test]
fn server_trust_table() {
    use MessageType::*;
    let school = [IpAddr::V4(SCHOOL)];
    let with_relay = [IpAddr::V4(SCHOOL), IpAddr::V4(RELAY)];
    let mapped = [IpAddr::V6(SCHOOL.to_ipv6_mapped())];
    let none: [IpAddr; 0] = [];
    #[rustfmt::skip]
    let table: &[(&str, Observation, &[IpAddr], V)] = &[
        ("the school's offer", reply(Offer, Some(SCHOOL), Some(SCHOOL), None), &school, V::Trusted),
        ("the school's ack", reply(Ack, Some(SCHOOL), Some(SCHOOL), Some(LEASE)), &school, V::Trusted),
        ("the school's nak", reply(Nak, Some(SCHOOL), Some(SCHOOL), None), &school, V::Trusted),
        ("no option 54: the source decides", reply(Offer, Some(SCHOOL), None, None), &school, V::Trusted),
        ("an IPv4-mapped entry counts", reply(Offer, Some(SCHOOL), Some(SCHOOL), None), &mapped, V::Trusted),
        ("a home router", reply(Offer, Some(HOME_ROUTER), Some(HOME_ROUTER), None), &school, V::Rogue(HOME_ROUTER)),
        ("a home router without option 54", reply(Offer, Some(HOME_ROUTER), None, None), &school, V::Rogue(HOME_ROUTER)),
        ("a forger naming the school in option 54", reply(Offer, Some(LAPTOP), Some(SCHOOL), None), &school, V::Rogue(LAPTOP)),
        ("a forged ack naming the school", reply(Ack, Some(LAPTOP), Some(SCHOOL), Some(LEASE)), &school, V::Rogue(LAPTOP)),
        ("a trusted source naming another server", reply(Offer, Some(SCHOOL), Some(HOME_ROUTER), None), &school, V::Rogue(HOME_ROUTER)),
        ("a relay nobody listed", reply(Offer, Some(RELAY), Some(SCHOOL), None), &school, V::Rogue(RELAY)),
        ("a listed relay", reply(Offer, Some(RELAY), Some(SCHOOL), None), &with_relay, V::Trusted),
        ("a listed relay forwarding a rogue", reply(Offer, Some(RELAY), Some(HOME_ROUTER), None), &with_relay, V::Rogue(HOME_ROUTER)),
        ("source 0.0.0.0 counts as absent", reply(Offer, Some(Ipv4Addr::UNSPECIFIED), Some(HOME_ROUTER), None), &school, V::Rogue(HOME_ROUTER)),
        ("without a frame, option 54 alone", reply(Offer, None, Some(SCHOOL), None), &school, V::Trusted),
        ("nothing names the server", reply(Offer, None, None, None), &school, V::Unattributable),
        ("no list: nothing is the school's", reply(Offer, Some(SCHOOL), Some(SCHOOL), None), &none, V::Unconfigured),
        ("no list: no rogue either", reply(Offer, Some(HOME_ROUTER), None, None), &none, V::Unconfigured),
        ("a client's request", request(Some(WISH), None), &school, V::NotAReply),
        ("a server's INFORM is no reply", reply(Inform, Some(HOME_ROUTER), None, None), &school, V::NotAReply),
        ("an unknown type", reply(Other(13), Some(HOME_ROUTER), None, None), &school, V::NotAReply),
    ];
    for (what, obs, trusted, want) in table {
        assert_eq!(verdict(obs, trusted), *want, "{what}");
    }
}

#[test]
fn a_rogue_report_names_the_sender_and_what_it_claimed() {
    let trusted = [IpAddr::V4(SCHOOL)];
    let r = rogue_server(
        &reply(MessageType::Offer, Some(LAPTOP), Some(SCHOOL), None),
        &trusted,
    )
    .unwrap();
    assert_eq!(
        r,
        RogueServer {
            server: LAPTOP,
            claimed: Some(SCHOOL),
            src_mac: Some(BOX_MAC),
            message_type: MessageType::Offer,
            client_mac: Some(PHONE),
        }
    );
    assert_eq!(
        rogue_server(
            &reply(MessageType::Offer, Some(SCHOOL), Some(SCHOOL), None),
            &trusted
        ),
        None
    );
}

#[test]
fn leased_address_table() {
    use MessageType::*;
    let school = [IpAddr::V4(SCHOOL)];
    let none: [IpAddr; 0] = [];
    #[rustfmt::skip]
    let table: &[(&str, Observation, &[IpAddr], Option<Ipv4Addr>)] = &[
        ("the school's ack", reply(Ack, Some(SCHOOL), Some(SCHOOL), Some(LEASE)), &school, Some(LEASE)),
        ("a request for an address (option 50)", request(Some(WISH), None), &school, None),
        ("a renewing request (ciaddr)", request(None, Some(WISH)), &school, None),
        ("the school's offer is only a proposal", reply(Offer, Some(SCHOOL), Some(SCHOOL), Some(LEASE)), &school, None),
        ("the school's nak", reply(Nak, Some(SCHOOL), Some(SCHOOL), None), &school, None),
        ("an ack to an INFORM has no yiaddr", reply(Ack, Some(SCHOOL), Some(SCHOOL), None), &school, None),
        ("yiaddr 0.0.0.0", reply(Ack, Some(SCHOOL), Some(SCHOOL), Some(Ipv4Addr::UNSPECIFIED)), &school, None),
        ("a rogue's ack", reply(Ack, Some(HOME_ROUTER), Some(HOME_ROUTER), Some(WISH)), &school, None),
        ("a forged ack naming the school", reply(Ack, Some(LAPTOP), Some(SCHOOL), Some(WISH)), &school, None),
        ("an ack nobody can attribute", reply(Ack, None, None, Some(WISH)), &school, None),
        ("no trusted server configured", reply(Ack, Some(SCHOOL), Some(SCHOOL), Some(LEASE)), &none, None),
    ];
    for (what, obs, trusted, want) in table {
        assert_eq!(leased_address(obs, trusted), *want, "{what}");
    }
}
