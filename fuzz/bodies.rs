//! The bodies of the fuzz targets, shared by the cargo-fuzz binaries (fuzz_targets/) and by
//! the stable random-mutation loops in tests/it/faults.rs (`fuzz_*`, ignored by default).
//! Each must return normally for every input; a panic is a bug.

#![allow(dead_code)] // each target uses one body

use std::path::{Path, PathBuf};

use hallpass::radius::{self, Packet, PacketBuilder, SharedSecret};

pub const SECRET_BYTES: &[u8] = b"fuzzing-secret-0123456789";
pub static SECRET: std::sync::LazyLock<SharedSecret> =
    std::sync::LazyLock::new(|| SharedSecret::new(SECRET_BYTES.to_vec()));

/// Decode, iterate, look at every attribute, verify with a fixed secret, print.
pub fn radius_decode(data: &[u8]) {
    let Ok(p) = Packet::parse(data) else {
        return;
    };
    let _ = (p.code(), p.identifier(), p.authenticator(), p.count(80));
    for a in p.attributes() {
        let _ = radius::attribute_name(a.typ);
        let _ = radius::tagged_u24(a.value);
        let _ = radius::vendor_specific(a.value);
        let _ = radius::tunnel_private_group_id(a.value);
    }
    let _ = radius::verify_message_authenticator(&p, &SECRET, None);
    let _ = radius::verify_message_authenticator(&p, &SECRET, Some(&[7; 16]));
    let _ = radius::verify_request_authenticator(&p, &SECRET);
    if let Some(hidden) = p.get(radius::attr::USER_PASSWORD) {
        let _ = radius::unhide_password(hidden, &SECRET, p.authenticator());
    }
    let _ = radius::attributes_to_text(&p);
    let _ = format!("{p:?}");
}

/// Decode → rebuild with PacketBuilder from the parsed attributes → decode: the same packet.
pub fn radius_round_trip(data: &[u8]) {
    let Ok(p) = Packet::parse(data) else {
        return;
    };
    let mut out = Vec::with_capacity(radius::MAX_PACKET_LEN);
    let mut b = PacketBuilder::new(&mut out, p.code(), p.identifier());
    for a in p.attributes() {
        // every parsed attribute fits again: same sizes, same total
        assert!(
            b.attr(a.typ, a.value).is_ok(),
            "re-encoding attribute {}",
            a.typ
        );
    }
    assert!(b.finish_access_request(p.authenticator(), &SECRET).is_ok());
    let q = Packet::parse(&out);
    assert!(q.is_ok(), "the re-encoded packet parses: {q:?}");
    if let Ok(q) = q {
        assert_eq!(q.code(), p.code());
        assert_eq!(q.identifier(), p.identifier());
        assert_eq!(q.authenticator(), p.authenticator());
        assert!(
            q.attributes().eq(p.attributes()),
            "same attributes in order"
        );
        assert_eq!(
            q.bytes(),
            p.bytes(),
            "same octets (no Message-Authenticator was added)"
        );
    }
}

/// The DHCP parse path: any bytes as a captured frame and as a UDP payload.
pub fn dhcp_parse(data: &[u8]) {
    if let Ok(obs) = hallpass::dhcp::parse_frame(data) {
        let _ = hallpass::dhcp::classify(&obs);
    }
    if let Ok(obs) = hallpass::dhcp::parse_dhcp(data) {
        let _ = hallpass::dhcp::classify(&obs);
        let _ = obs.fqdn.map(|f| f.name());
    }
}

const MAIN: &str = r#"[server]
state_dir = "/nonexistent/hallpass-fuzz"
timezone = "Europe/Berlin"

[radius]
auth_listen = ["127.0.0.1:0"]

[[radius.client]]
name = "nas"
address = "127.0.0.1/32"
secret = "fuzzing-secret-0123456789"
module = "wifi"

[[policy.group]]
name = "students"
vlan = 20
"#;

/// The first octet picks the file the rest becomes (hallpass.toml, users, devices, bans,
/// grants); `config::load` reads the directory. Errors are fine, panics are not; every error
/// must print.
pub fn config_load(data: &[u8], dir: &Path) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let names = [
        "hallpass.toml",
        "users.toml",
        "devices.toml",
        "bans.toml",
        "grants.toml",
    ];
    let name = names[usize::from(which) % names.len()];
    for n in names {
        let _ = std::fs::remove_file(dir.join(n));
    }
    if name != "hallpass.toml" && std::fs::write(dir.join("hallpass.toml"), MAIN).is_err() {
        return;
    }
    if std::fs::write(dir.join(name), rest).is_err() {
        return;
    }
    match hallpass::config::load(dir, jiff::Timestamp::now()) {
        Ok(d) => {
            let _ = (d.users().len(), d.devices().len());
        }
        Err(errors) => {
            for e in &errors.0 {
                let _ = e.to_string();
            }
        }
    }
}

/// A directory of its own for the config target (one per process).
pub fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hallpass-fuzz-config-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The EAP parsers (anything a supplicant sends through an access point): the packet
/// (decode → encode → decode gives the same packet), EAP-Message joining, the TLS methods'
/// framing and reassembly, the inner PEAP and MS-CHAPv2 messages (decode → encode → decode)
/// and TTLS AVPs. The first octet chooses a split point for the EAP-Message attributes.
pub fn eap_parse(data: &[u8]) {
    use hallpass::eap::{attr, fragment, mschapv2, packet, peap, ttls};
    if let Ok(p) = packet::EapPacket::decode(data) {
        let again = p.encode();
        assert!(again.is_ok(), "a decoded EAP packet encodes: {p:?}");
        if let Ok(bytes) = again {
            let q = packet::EapPacket::decode(&bytes);
            assert!(q.as_ref().is_ok_and(|q| *q == p), "round trip: {p:?} {q:?}");
        }
        if let packet::EapPacket::Response(m) = &p {
            let _ = packet::parse_nak(&m.data);
        }
    }
    if let Some((&cut, rest)) = data.split_first() {
        let cut = usize::from(cut).min(rest.len());
        let _ = attr::join([&rest[..cut], &rest[cut..]]);
    }
    if let Ok(frame) = fragment::Frame::parse(data) {
        let _ = (frame.more(), frame.start(), frame.version(), frame.is_ack());
        let mut r = fragment::Reassembly::new(fragment::DEFAULT_MAX_MESSAGE);
        let _ = r.push(&frame);
        let _ = r.push(&frame);
    }
    if let Ok(m) = mschapv2::MsChapPacket::decode(data) {
        let mut out = Vec::new();
        assert!(
            m.encode(&mut out).is_ok(),
            "a decoded MS-CHAPv2 packet encodes"
        );
        assert_eq!(out.len(), m.encoded_len());
        let again = mschapv2::MsChapPacket::decode(&out);
        assert!(again.as_ref().is_ok_and(|a| *a == m), "round trip: {m:?}");
    }
    let _ = peap::inner_response(data);
    let _ = peap::parse_identity(data);
    let _ = peap::parse_result(data);
    let _ = peap::parse_success_response(data);
    let _ = ttls::parse_avps(data);
    let _ = ttls::pap_credentials(data);
}
