use std::net::Ipv4Addr;
use std::time::Duration;

use super::*;
use crate::dhcp::frame::{FrameAddrs, build_payload, encapsulate};
use crate::model::MacAddr;
use crate::server::watcher::aliases::{Admit, DailyReports};
use crate::store::WriterConfig;

const SCHOOL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const ROGUE: Ipv4Addr = Ipv4Addr::new(192, 168, 178, 1);
/// A pupil's laptop on the school's segment.
const LAPTOP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 66);
const PHONE: MacAddr = MacAddr([0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56]);
const PRIVATE: MacAddr = MacAddr([0x0a, 0x11, 0x22, 0x33, 0x44, 0x55]);

fn directory(dir: &std::path::Path) -> Directory {
    directory_trusting(dir, &format!("\"{SCHOOL}\""))
}

fn directory_trusting(dir: &std::path::Path, trusted: &str) -> Directory {
    std::fs::write(
        dir.join("hallpass.toml"),
        format!(
            r#"[server]
timezone = "Europe/Berlin"
state_dir = "{}"

[[radius.client]]
name = "ap"
address = "10.0.0.0/24"
secret = "0123456789abcdef"
module = "wifi"

[dhcp]
interfaces = ["eth1"]
trusted_servers = [{trusted}]

[[policy.group]]
name = "students"
vlan = 20
"#,
            dir.join("state").display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("users.toml"),
        "[[user]]\nname = \"max.muster\"\ngroups = [\"students\"]\nconsent = true\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("devices.toml"),
        format!("[[device]]\nmac = \"{PHONE}\"\nowner = \"max.muster\"\n"),
    )
    .unwrap();
    crate::config::load(dir, jiff::Timestamp::now()).unwrap()
}

fn client_frame(mac: MacAddr, msg: u8, hostname: &str, extra: &[(u8, &[u8])]) -> Vec<u8> {
    let mut opts: Vec<(u8, &[u8])> = vec![(53, std::slice::from_ref(&msg))];
    if !hostname.is_empty() {
        opts.push((12, hostname.as_bytes()));
    }
    opts.extend_from_slice(extra);
    let payload = build_payload(1, 7, mac, Ipv4Addr::UNSPECIFIED, &opts);
    encapsulate(&FrameAddrs::from_client(mac), &payload)
}

fn server_frame(server: Ipv4Addr, client: MacAddr, msg: u8, yiaddr: Ipv4Addr) -> Vec<u8> {
    forged_frame(server, server, client, msg, yiaddr)
}

/// A server reply sent from `src` that names `claimed` in option 54.
fn forged_frame(
    src: Ipv4Addr,
    claimed: Ipv4Addr,
    client: MacAddr,
    msg: u8,
    yiaddr: Ipv4Addr,
) -> Vec<u8> {
    let sid = claimed.octets();
    let payload = build_payload(2, 7, client, yiaddr, &[(53, &[msg]), (54, &sid)]);
    encapsulate(
        &FrameAddrs {
            src_mac: MacAddr([2, 0, 0, 0, 0, 0x66]),
            dst_mac: client,
            src_ip: src,
            dst_ip: yiaddr,
            src_port: 67,
            dst_port: 68,
            vlan: None,
        },
        &payload,
    )
}

fn update_of(frame: &[u8], dir: &Directory) -> Option<SightingUpdate> {
    let obs = dhcp::parse_frame(frame).unwrap();
    sighting_update(&obs, dir, &Arc::from("eth1"), Timestamp::UNIX_EPOCH)
}

#[test]
fn a_client_message_gives_its_words_and_the_config_decides_registered() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = directory(tmp.path());
    let prl: &[u8] = &[1, 3, 6, 15, 26, 28, 51, 58, 59, 43];
    let relay: &[u8] = &[1, 4, b'p', b'o', b'r', b't', 2, 2, 0xde, 0xad];
    let requested = [10, 0, 0, 77];
    let f = client_frame(
        PHONE,
        3,
        "max-phone",
        &[
            (55, prl),
            (60, b"android-dhcp-13"),
            (61, &[1, 0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56]),
            (50, &requested),
            (82, relay),
        ],
    );
    let u = update_of(&f, &dir).unwrap();
    assert_eq!(u.mac, PHONE);
    assert_eq!(u.message, DhcpMessage::Request);
    assert_eq!(
        u.ip, None,
        "the address a client asks for (option 50) is only a wish"
    );
    assert_eq!(u.hostname.as_deref(), Some("max-phone"));
    assert_eq!(u.vendor_class.as_deref(), Some("android-dhcp-13"));
    assert_eq!(
        u.client_id.as_deref(),
        Some(&[1, 0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56][..])
    );
    assert_eq!(u.fingerprint.as_deref(), Some(prl));
    assert_eq!(u.family.as_deref(), Some("android"));
    assert!(u.registered && !u.randomized);
    assert_eq!(u.interface.as_deref(), Some("eth1"));
    assert_eq!(u.relay_circuit_id.as_deref(), Some("port"));
    assert_eq!(u.relay_remote_id.as_deref(), Some("dead"));

    let u = update_of(&client_frame(PRIVATE, 1, "", &[]), &dir).unwrap();
    assert!(!u.registered && u.randomized);
    assert_eq!((u.hostname, u.family, u.ip), (None, None, None));
}

#[test]
fn a_server_reply_gives_the_address_but_none_of_the_clients_words() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = directory(tmp.path());
    let ip = Ipv4Addr::new(10, 0, 0, 123);
    let u = update_of(&server_frame(SCHOOL, PHONE, 5, ip), &dir).unwrap();
    assert_eq!(u.mac, PHONE, "the client (chaddr), not the server");
    assert_eq!(u.message, DhcpMessage::Ack);
    assert_eq!(u.ip, Some(ip));
    assert!(u.registered);
    assert_eq!((u.hostname, u.fingerprint, u.family), (None, None, None));
    let u = update_of(&server_frame(SCHOOL, PRIVATE, 2, ip), &dir).unwrap();
    assert_eq!(
        (u.message, u.ip),
        (DhcpMessage::Offer, None),
        "an offer is only a proposal"
    );
    // an ACK that names the school's server but comes from elsewhere sets nothing
    let u = update_of(&forged_frame(LAPTOP, SCHOOL, PHONE, 5, ip), &dir).unwrap();
    assert_eq!(u.ip, None);
    // with no trusted server configured no ACK is believed
    let sub = tmp.path().join("untrusting");
    std::fs::create_dir_all(&sub).unwrap();
    let untrusting = directory_trusting(&sub, "");
    let u = update_of(&server_frame(SCHOOL, PHONE, 5, ip), &untrusting).unwrap();
    assert_eq!((u.message, u.ip), (DhcpMessage::Ack, None));
    // an unknown message type names nothing the store counts
    assert!(update_of(&server_frame(SCHOOL, PHONE, 13, ip), &dir).is_none());
}

#[test]
fn a_private_mac_with_the_name_of_one_registered_device_is_linked_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = directory(tmp.path());
    let mut aliases = Aliases::default();
    let mut private = update_of(&client_frame(PRIVATE, 1, "Max-Phone", &[]), &dir).unwrap();
    aliases.link(&mut private, &dir);
    assert_eq!(
        private.randomized_alias_of, None,
        "the name is not known yet"
    );

    let mut phone = update_of(&client_frame(PHONE, 1, "max-phone", &[]), &dir).unwrap();
    aliases.link(&mut phone, &dir);
    assert_eq!(phone.randomized_alias_of, None);
    let mut private = update_of(&client_frame(PRIVATE, 1, "Max-Phone", &[]), &dir).unwrap();
    aliases.link(&mut private, &dir);
    assert_eq!(private.randomized_alias_of, Some(PHONE));
    assert_eq!(aliases.reports.reported_today(), 1, "reported");
    // again the same day: linked, not reported again
    let mut again = update_of(&client_frame(PRIVATE, 3, "max-phone", &[]), &dir).unwrap();
    aliases.link(&mut again, &dir);
    assert_eq!(again.randomized_alias_of, Some(PHONE));
    assert_eq!(aliases.reports.reported_today(), 1);

    // another name, or a universal (not randomized) MAC: no link
    let mut other = update_of(&client_frame(PRIVATE, 1, "someone", &[]), &dir).unwrap();
    aliases.link(&mut other, &dir);
    assert_eq!(other.randomized_alias_of, None);
    let universal = MacAddr([0x3c, 0x22, 0xfb, 0, 0, 9]);
    let mut u = update_of(&client_frame(universal, 1, "max-phone", &[]), &dir).unwrap();
    aliases.link(&mut u, &dir);
    assert_eq!(u.randomized_alias_of, None);

    // a name two registered devices share links nothing
    let mut a = Aliases::default();
    a.learn("iPhone", PHONE);
    a.learn("iphone", MacAddr([0x3c, 0x22, 0xfb, 0, 0, 1]));
    let mut p = update_of(&client_frame(PRIVATE, 1, "iPhone", &[]), &dir).unwrap();
    a.link(&mut p, &dir);
    assert_eq!(p.randomized_alias_of, None);
}

/// A watcher on a fresh database, fed by hand.
fn watcher_on(tmp: &std::path::Path) -> (Shared, store::WriterHandle, std::path::PathBuf) {
    let dir = directory(tmp);
    std::fs::create_dir_all(tmp.join("state")).unwrap();
    let db = store::db_path(&tmp.join("state"));
    let writer = store::spawn_writer(WriterConfig::new(db.clone())).unwrap();
    let shared = Shared {
        w: Watcher {
            directory: Arc::new(ArcSwap::from_pointee(dir)),
            writer: writer.clone(),
            counters: Arc::new(Counters::default()),
            log_limit: Arc::new(RateLimitedLog::new(Duration::from_secs(10))),
            db_path: db.clone(),
        },
        aliases: Mutex::new(Aliases::default()),
        coalesce: Mutex::new(Coalescer::new(coalesce::CAPACITY)),
        no_permission_logged: AtomicBool::new(false),
    };
    (shared, writer, db)
}

#[test]
fn a_flood_of_made_up_macs_is_admitted_at_the_rate_and_a_chatty_mac_coalesced() {
    let tmp = tempfile::tempdir().unwrap();
    let (shared, writer, db) = watcher_on(tmp.path());
    let iface: Arc<str> = Arc::from("eth1");
    let t0 = Timestamp::from_second(1_800_000_000).unwrap();
    // a thousand DISCOVERs from made-up MACs within one second
    for i in 0..1_000u32 {
        let b = i.to_be_bytes();
        let mac = MacAddr([0x02, 0x42, b[0], b[1], b[2], b[3]]);
        let at = t0 + jiff::SignedDuration::from_millis(i64::from(i));
        shared.handle_frame(&iface, &client_frame(mac, 1, "", &[]), at);
    }
    // one device asking again and again for ten seconds
    for i in 0..100 {
        let at = t0 + jiff::SignedDuration::from_millis(100 * i);
        shared.handle_frame(&iface, &client_frame(PHONE, 1, "max-phone", &[]), at);
    }
    writer.flush().unwrap();
    let c = WatcherCounts::read(&shared.w.counters);
    // a second's burst (50) and the second's refill (50 more over the 999 ms)
    assert!(
        (50..=100).contains(&(1_000 - c.not_admitted)),
        "admitted {}",
        1_000 - c.not_admitted
    );
    assert_eq!(c.coalesced, 99);
    let reader = store::Reader::open(&db).unwrap();
    let s = reader.sighting(PHONE).unwrap().unwrap();
    assert_eq!(
        s.counts.discover, 1,
        "written once; the rest go with its next write"
    );
    assert_eq!(reader.sighting_history(PHONE, 1_000).unwrap().len(), 1);
    drop(reader);
    drop(shared);
    writer.shutdown().unwrap();
}

#[test]
fn frames_become_sightings_and_rogue_reports_in_the_database() {
    let tmp = tempfile::tempdir().unwrap();
    let (shared, writer, db) = watcher_on(tmp.path());
    let iface: Arc<str> = Arc::from("eth1");
    let t0 = Timestamp::from_second(1_800_000_000).unwrap();
    let good = Ipv4Addr::new(10, 0, 0, 50);
    let wish = [10, 0, 0, 99];
    shared.handle_frame(&iface, &client_frame(PHONE, 1, "max-phone", &[]), t0);
    shared.handle_frame(&iface, &client_frame(PHONE, 3, "", &[(50, &wish)]), t0);
    // a pupil's server that copies the school's address into option 54
    shared.handle_frame(&iface, &forged_frame(LAPTOP, SCHOOL, PHONE, 5, good), t0);
    shared.handle_frame(
        &iface,
        &server_frame(ROGUE, PHONE, 2, Ipv4Addr::new(192, 168, 178, 20)),
        t0,
    );
    shared.handle_frame(&iface, &server_frame(SCHOOL, PHONE, 5, good), t0);
    shared.handle_frame(&iface, b"\xff\xff not a frame", t0);
    writer.flush().unwrap();

    let c = WatcherCounts::read(&shared.w.counters);
    assert_eq!((c.frames, c.parsed, c.parse_errors, c.rogue), (6, 5, 1, 2));
    let reader = store::Reader::open(&db).unwrap();
    let s = reader.sighting(PHONE).unwrap().unwrap();
    assert_eq!(
        s.last_ip,
        Some(good),
        "the rogue's offer is not the device's address"
    );
    assert_eq!(s.hostname.as_deref(), Some("max-phone"));
    assert_eq!(
        (
            s.counts.discover,
            s.counts.request,
            s.counts.offer,
            s.counts.ack
        ),
        (1, 1, 0, 1),
        "the forged ACK is no sighting"
    );
    let hist = reader.sighting_history(PHONE, 100).unwrap();
    assert!(
        hist.iter().all(|h| h.ip.is_none() || h.ip == Some(good)),
        "{hist:?}"
    );
    let mut rogues = reader.rogue_servers().unwrap();
    rogues.sort_by_key(|r| r.server_ip);
    assert_eq!(rogues.len(), 2);
    assert_eq!(
        rogues[0].server_ip, LAPTOP,
        "by its source, not its option 54"
    );
    assert_eq!(rogues[0].acks, 1);
    assert_eq!(rogues[1].server_ip, ROGUE);
    assert_eq!(rogues[1].server_mac, MacAddr([2, 0, 0, 0, 0, 0x66]));
    assert_eq!(rogues[1].offers, 1);
    drop(reader);
    drop(shared);
    writer.shutdown().unwrap();
}

#[test]
fn relay_ids_print_as_text_or_hex() {
    assert_eq!(
        relay_text(b"Gi1/0/7 vlan20").as_deref(),
        Some("Gi1/0/7 vlan20")
    );
    assert_eq!(relay_text(&[0, 1, 0xab]).as_deref(), Some("0001ab"));
    assert_eq!(relay_text(&[]), None);
}

fn day(d: &str) -> jiff::civil::Date {
    d.parse().unwrap()
}

#[test]
fn each_alias_is_reported_once_a_day_within_a_daily_limit() {
    let a = MacAddr([6, 0, 0, 0, 0, 1]);
    let b = MacAddr([6, 0, 0, 0, 0, 2]);
    let c = MacAddr([6, 0, 0, 0, 0, 3]);
    let mut r = DailyReports::new(2);
    let mon = day("2026-12-07");
    let tue = day("2026-12-08");
    assert_eq!(r.admit(a, mon), (Admit::First, None));
    assert_eq!(r.admit(a, mon), (Admit::Repeat, None));
    assert_eq!(r.admit(b, mon), (Admit::First, None));
    assert_eq!(r.admit(c, mon), (Admit::OverLimit, None), "the day's limit");
    assert_eq!(r.admit(a, mon), (Admit::Repeat, None));
    assert_eq!(r.reported_today(), 2);
    // a new day: reported again, and the old day's unlisted count handed over once
    assert_eq!(r.admit(a, tue), (Admit::First, Some((mon, 1))));
    assert_eq!(r.admit(c, tue), (Admit::First, None));
    assert_eq!(r.admit(b, tue), (Admit::OverLimit, None));
    assert_eq!(
        r.admit(b, day("2026-12-09")),
        (Admit::First, Some((tue, 1)))
    );
}

#[test]
fn a_flood_of_private_macs_under_a_registered_name_keeps_memory_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = directory(tmp.path());
    let mut aliases = Aliases::default();
    aliases.learn("max-phone", PHONE);
    let t0 = Timestamp::from_second(1_800_000_000).unwrap();
    let n = aliases::REPORTS_PER_DAY * 3;
    for i in 0..n {
        let i = u32::try_from(i).unwrap().to_be_bytes();
        let mac = MacAddr([0x0a, 0x77, i[0], i[1], i[2], i[3]]);
        let mut u = update_of(&client_frame(mac, 1, "max-phone", &[]), &dir).unwrap();
        u.time = t0;
        aliases.link(&mut u, &dir);
        assert_eq!(u.randomized_alias_of, Some(PHONE), "every one is recorded");
    }
    assert_eq!(aliases.reports.reported_today(), aliases::REPORTS_PER_DAY);
    // the same MACs again the next day start a fresh, equally bounded, set
    let mut u = update_of(&client_frame(PRIVATE, 1, "max-phone", &[]), &dir).unwrap();
    u.time = t0 + jiff::SignedDuration::from_hours(24);
    aliases.link(&mut u, &dir);
    assert_eq!(aliases.reports.reported_today(), 1);
}
