//! The JSON the read commands print, pinned: field names, value formats and key order are
//! what scripts parse, so they change only on purpose.

use std::net::{IpAddr, Ipv4Addr};

use super::export_doc::ExportDoc;
use super::*;
use crate::model::Module;
use crate::store::{
    AuditEntry, AuthLogEntry, ClosedBy, DisconnectEntry, DisconnectResult, Session, Sighting,
    SightingEvent,
};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

#[test]
fn a_session_prints_every_field_but_the_interim_interval() {
    let s = Session {
        id: 7,
        client: "wlc-1".into(),
        acct_session_id: "S-7".into(),
        mac: Some(mac("3C-22-FB-12-34-56")),
        user: Some("max.muster".into()),
        module: Some(Module::Lan),
        nas_ip: Some("2001:db8::2".parse().unwrap()),
        nas_port: Some(12),
        called_station_id: None,
        framed_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 20, 0, 7))),
        started: ts("2026-11-27T07:00:00Z"),
        last_update: ts("2026-11-27T07:10:00.5Z"),
        stopped: Some(ts("2026-11-27T08:00:00Z")),
        input_octets: u64::MAX,
        output_octets: 2,
        session_time: 3600,
        terminate_cause: Some(1),
        interim_interval: Some(300),
        closed_by: Some(ClosedBy::AccountingOff),
    };
    assert_eq!(
        to_json(&[s]).unwrap(),
        r#"[
  {
    "acct_session_id": "S-7",
    "called_station_id": null,
    "client": "wlc-1",
    "closed_by": "accounting_off",
    "framed_ip": "10.20.0.7",
    "id": 7,
    "input_octets": 18446744073709551615,
    "last_update": "2026-11-27T07:10:00.5Z",
    "mac": "3c:22:fb:12:34:56",
    "module": "lan",
    "nas_ip": "2001:db8::2",
    "nas_port": 12,
    "output_octets": 2,
    "session_time": 3600,
    "started": "2026-11-27T07:00:00Z",
    "stopped": "2026-11-27T08:00:00Z",
    "terminate_cause": 1,
    "user": "max.muster"
  }
]"#
    );
}

#[test]
fn an_auth_log_entry_and_an_audit_row_print_flat() {
    let e = AuthLogEntry {
        id: 1838861107200001,
        time: ts("2026-11-27T07:00:00.123Z"),
        client: "ap-haus-a".into(),
        client_ip: "fe80::1".parse().unwrap(),
        mac: None,
        user: Some("erika".into()),
        module: Module::Wifi,
        accepted: false,
        reason: "banned".into(),
        vlan: None,
        method: None,
    };
    assert_eq!(
        to_json(&e).unwrap(),
        r#"{
  "accepted": false,
  "client": "ap-haus-a",
  "client_ip": "fe80::1",
  "id": 1838861107200001,
  "mac": null,
  "module": "wifi",
  "reason": "banned",
  "time": "2026-11-27T07:00:00.123Z",
  "user": "erika",
  "vlan": null
}"#
    );
    let a = AuditEntry {
        id: 3,
        record: AuditRecord {
            time: ts("2026-11-27T07:00:00Z"),
            actor: "admin.mueller".into(),
            action: "user.export".into(),
            subject: "max.muster".into(),
            reason: None,
            sudo_user: Some("mallory".into()),
        },
    };
    assert_eq!(
        to_json(&a).unwrap(),
        r#"{
  "action": "user.export",
  "actor": "admin.mueller",
  "id": 3,
  "reason": null,
  "subject": "max.muster",
  "sudo_user": "mallory",
  "time": "2026-11-27T07:00:00Z"
}"#
    );
}

#[test]
fn a_sighting_prints_without_its_counts_and_a_disconnect_without_bookkeeping() {
    let s = Sighting {
        mac: mac("da:a1:19:00:00:01"),
        last_ip: Some(Ipv4Addr::new(10, 20, 0, 9)),
        hostname: Some("max-phone".into()),
        vendor_class: Some("android-dhcp-14".into()),
        client_id: Some("01daa119000001".into()),
        fingerprint: Some("1,3,6,15".into()),
        family: Some("android".into()),
        registered: false,
        randomized: true,
        first_seen: ts("2026-11-27T07:00:00Z"),
        last_seen: ts("2026-11-27T07:05:00Z"),
        counts: crate::store::MessageCounts {
            discover: 4,
            ..Default::default()
        },
        last_interface: Some("eth1".into()),
        relay_circuit_id: Some("sw1/3".into()),
        relay_remote_id: None,
        randomized_alias_of: Some(mac("3c:22:fb:12:34:56")),
    };
    assert_eq!(
        to_json(&s).unwrap(),
        r#"{
  "client_id": "01daa119000001",
  "family": "android",
  "fingerprint": "1,3,6,15",
  "first_seen": "2026-11-27T07:00:00Z",
  "hostname": "max-phone",
  "last_interface": "eth1",
  "last_ip": "10.20.0.9",
  "last_seen": "2026-11-27T07:05:00Z",
  "mac": "da:a1:19:00:00:01",
  "randomized": true,
  "randomized_alias_of": "3c:22:fb:12:34:56",
  "registered": false,
  "relay_circuit_id": "sw1/3",
  "relay_remote_id": null,
  "vendor_class": "android-dhcp-14"
}"#
    );
    let h = SightingEvent {
        time: ts("2026-11-27T07:05:00Z"),
        ip: Some(Ipv4Addr::new(10, 20, 0, 9)),
        hostname: None,
        message: "ack".into(),
    };
    assert_eq!(
        to_json(&h).unwrap(),
        r#"{
  "hostname": null,
  "ip": "10.20.0.9",
  "message": "ack",
  "time": "2026-11-27T07:05:00Z"
}"#
    );
    let d = DisconnectEntry {
        id: 9,
        time: ts("2026-11-27T07:00:00Z"),
        client: "wlc-1".into(),
        nas_ip: Some("10.0.0.2".parse().unwrap()),
        acct_session_id: None,
        mac: Some(mac("da:a1:19:00:00:01")),
        user: None,
        trigger: "device_ban".into(),
        attempts: 3,
        result: DisconnectResult::Timeout,
        error_cause: Some(503),
        finished: None,
    };
    assert_eq!(
        to_json(&d).unwrap(),
        r#"{
  "acct_session_id": null,
  "client": "wlc-1",
  "mac": "da:a1:19:00:00:01",
  "result": "timeout",
  "time": "2026-11-27T07:00:00Z",
  "trigger": "device_ban",
  "user": null
}"#
    );
}

/// A school of two, max and erika, with a ban and a grant each kind, in `dir`; the state
/// directory (with the populated database) inside it.
fn school(dir: &Path) -> Directory {
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let files = [
        (
            "hallpass.toml",
            format!(
                "[server]\nstate_dir = \"{}\"\ntimezone = \"Europe/Berlin\"\n\
                 [radius]\nauth_listen = [\"127.0.0.1:1812\"]\nacct_listen = [\"127.0.0.1:1813\"]\n\
                 [[radius.client]]\nname = \"wlan\"\naddress = \"127.0.0.1\"\n\
                 secret = \"a-secret-of-16-chars\"\nmodule = \"wifi\"\n\
                 [[policy.group]]\nname = \"students\"\nvlan = 20\n",
                state.display()
            ),
        ),
        (
            "users.toml",
            "[[user]]\nname = \"max\"\ngroups = [\"students\", \"7b\"]\nconsent = true\n\
             [[user]]\nname = \"erika\"\ngroups = [\"students\"]\nconsent = true\n"
                .into(),
        ),
        (
            "devices.toml",
            "[[device]]\nmac = \"da:a1:19:00:00:01\"\nowner = \"max\"\nlabel = \"iPhone\"\n\
             registered = 2026-11-20\n\
             [[device]]\nmac = \"3c:22:fb:00:00:02\"\nowner = \"max\"\n\
             [[device]]\nmac = \"3c:22:fb:00:00:03\"\nowner = \"erika\"\nlabel = \"Pixel\"\n"
                .into(),
        ),
        (
            "bans.toml",
            "[[ban]]\nuser = \"max\"\nmodules = [\"wifi\"]\nfrom = 2026-11-27T08:00:00+01:00\n\
             until = 2026-12-04T08:00:00+01:00\nreason = \"Netiquette\"\nby = \"admin.mueller\"\n\
             [[ban]]\nmac = \"3c:22:fb:00:00:02\"\nmodules = [\"all\"]\nreason = \"Störung\"\n\
             [[ban]]\nuser = \"erika\"\nmodules = [\"lan\"]\nfrom = 2099-01-01T00:00:00+01:00\n\
             reason = \"later\"\n"
                .into(),
        ),
        (
            "grants.toml",
            "[[grant]]\nuser = \"max\"\nmodules = [\"wifi\"]\nfrom = 2026-11-27T08:00:00+01:00\n\
             until = 2026-11-27T09:30:00+01:00\nreason = \"Projekt\"\nby = \"frau.lehrer\"\n"
                .into(),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    crate::store::populate_for_tests(&store::db_path(&state)).unwrap();
    load_config(dir).unwrap()
}

#[test]
fn the_export_is_the_persons_document_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let d = school(dir.path());
    let reader = reader(&d).unwrap();
    let max = d.user("max").unwrap();
    let doc = ExportDoc::of(&d, max, &reader, ts("2026-12-03T08:00:00Z")).unwrap();
    // printed by hallpass before the document was a type; added since: "exported", and the
    // unregistered MACs, alias sightings, rogue servers and audit rows about the person
    let expected = include_str!("export.golden.json");
    assert_eq!(format!("{}\n", to_json(&doc).unwrap()), expected);
    // nothing of erika's
    assert!(!expected.contains("erika") && !expected.contains("3c:22:fb:00:00:03"));

    let erika = d.user("erika").unwrap();
    let doc =
        to_json(&ExportDoc::of(&d, erika, &reader, ts("2026-12-03T08:00:00Z")).unwrap()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(v["macs"], serde_json::json!(["3c:22:fb:00:00:03"]));
    assert_eq!(v["bans"][0]["from"], "2098-12-31T23:00:00Z");
    assert_eq!(v["sightings"][0]["history"].as_array().unwrap().len(), 2);
    assert!(!doc.contains("\"max\"") && !doc.contains("da:a1:19:00:00:01"));
}
