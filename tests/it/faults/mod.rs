//! hallpass under attack, faults and garbage, one file per kind: malformed packets over the
//! wire (`malformed`), floods (`flood`; DHCP next to a NAS: `dhcp_flood`), reloads under load
//! (`reloads`), `kill -9` under combined load (`crash`), a full or read-only state disk
//! (`disk`), and the stable fuzzing fallback (`fuzz`). Every case checks the effect (what is answered, what is not, what is
//! stored) and, where there is one, the counter that must move (read from the daemon's
//! SIGUSR1 dump). Latency is not judged here: timed bounds flake on shared machines; the
//! flood's p99 is measured by `benches/flood-latency.sh` (docs/reliability.md).
//!
//! This file holds what several kinds share.

mod crash;
mod dhcp_flood;
mod disk;
mod flood;
mod fuzz;
mod malformed;
mod reloads;

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hallpass::loadgen::{self, LoadKind, LoadOptions, LoadReport};
use hallpass::model::MacAddr;

use crate::harness::{Daemon, SECRET, TestConfig, mab, school};
use crate::wire;

/// max.muster's iPhone: students, VLAN 20.
const MAX_MAC: &str = "3c22fb123456";
/// erika.lehrer's device: teachers, VLAN 30; never banned in these tests.
const TEACHER_MAC: &str = "3c22fb000007";
const NAS_PORT_TYPE_WIFI: u32 = 19;
const TUNNEL_TYPE: u8 = 64;
const TUNNEL_MEDIUM_TYPE: u8 = 65;
const TUNNEL_PRIVATE_GROUP_ID: u8 = 81;
const REPLY_MESSAGE: u8 = 18;
const STATUS_SERVER: u8 = 12;
const VENDOR_SPECIFIC: u8 = 26;

/// The timed tests of this file run one at a time: on 2 shared cores, a flood or a
/// kill -9 load next to them would measure the neighbour, not the daemon.
static TIMED: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn timed() -> std::sync::MutexGuard<'static, ()> {
    TIMED.lock().unwrap_or_else(|e| e.into_inner())
}

fn random_authenticator() -> [u8; 16] {
    rand::random()
}

fn mab_attrs(mac: &str) -> Vec<(u8, Vec<u8>)> {
    vec![
        (wire::USER_NAME, mac.as_bytes().to_vec()),
        (
            wire::NAS_PORT_TYPE,
            NAS_PORT_TYPE_WIFI.to_be_bytes().to_vec(),
        ),
    ]
}

/// A correct MAB Access-Request with a Message-Authenticator.
fn mab_request(id: u8, mac: &str) -> Vec<u8> {
    wire::access_request(
        id,
        random_authenticator(),
        &mab_attrs(mac),
        SECRET.as_bytes(),
        true,
    )
}

/// A packet from raw attribute octets, Length set to the total; no authenticator work.
fn raw_packet(code: u8, id: u8, attribute_octets: &[u8]) -> Vec<u8> {
    let mut p = vec![code, id, 0, 0];
    p.extend_from_slice(&random_authenticator());
    p.extend_from_slice(attribute_octets);
    let len = p.len() as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    p
}

fn set_length(p: &mut [u8], len: usize) {
    p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
}

fn attr_value(reply: &[u8], typ: u8) -> Option<Vec<u8>> {
    wire::attributes(reply)
        .into_iter()
        .find(|(t, _)| *t == typ)
        .map(|(_, v)| v)
}

/// A legitimate request right after a bad one: answered, correctly signed, Access-Accept.
fn legit_still_works(d: &Daemon, after: &str) {
    let req = mab_request(200, MAX_MAC);
    let reply = wire::exchange(d.addr, &req, Duration::from_secs(2))
        .unwrap_or_else(|| panic!("legitimate request after {after:?} not answered"));
    wire::check_reply(&reply, &req, SECRET.as_bytes());
    assert_eq!(reply[0], wire::ACCESS_ACCEPT, "after {after:?}");
    assert_eq!(
        attr_value(&reply, TUNNEL_PRIVATE_GROUP_ID).as_deref(),
        Some(&b"20"[..])
    );
}

/// The daemon's counters, from the line it logs on SIGUSR1.
fn counters(d: &mut Daemon) -> HashMap<String, u64> {
    // the handler exists from "ready" on; before it SIGUSR1 would end the process
    d.wait_for_log("hallpass ready", 0, Duration::from_secs(10));
    let skip = d.log_len();
    d.signal("USR1");
    let line = d.wait_for_log(" counters received=", skip, Duration::from_secs(5));
    line.split_whitespace()
        .filter_map(|t| t.split_once('='))
        .filter_map(|(k, v)| v.parse().ok().map(|v| (k.to_string(), v)))
        .collect()
}

fn delta(before: &HashMap<String, u64>, after: &HashMap<String, u64>, key: &str) -> u64 {
    after.get(key).copied().unwrap_or(0) - before.get(key).copied().unwrap_or(0)
}

fn mab_load(target: SocketAddr, mac: &str, rate: u32, duration: Duration) -> LoadOptions {
    LoadOptions {
        target,
        secret: hallpass::radius::SharedSecret::new(SECRET.as_bytes().to_vec()),
        kind: LoadKind::Mab {
            macs: vec![MacAddr::parse_bytes(mac.as_bytes()).unwrap()],
        },
        concurrency: 1,
        rate: Some(rate),
        count: None,
        duration: Some(duration),
        // a NAS's usual retransmission timer; later is a failure
        timeout: Duration::from_secs(3),
        allow_remote: false,
        coalesced_replies: true,
        nas_port_type: NAS_PORT_TYPE_WIFI,
    }
}

/// The load generator's report of a legitimate NAS: every request answered within the NAS's
/// retry timer, correctly signed, and accepted.
fn assert_clean(name: &str, r: &LoadReport) {
    let text = r.to_text();
    assert!(r.sent > 0, "{name}: nothing sent");
    assert_eq!(r.timeouts, 0, "{name}: timeouts\n{text}");
    assert_eq!(r.bad_replies, 0, "{name}: bad replies\n{text}");
    assert_eq!(r.answered(), r.sent, "{name}: unanswered\n{text}");
    assert_eq!(
        r.accepts, r.sent,
        "{name}: not every request accepted\n{text}"
    );
}

fn db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn acct_start(id: u8, session: &str) -> Vec<u8> {
    wire::computed_request(
        wire::ACCOUNTING_REQUEST,
        id,
        &[
            (wire::ACCT_STATUS_TYPE, 1u32.to_be_bytes().to_vec()),
            (wire::ACCT_SESSION_ID, session.as_bytes().to_vec()),
            (wire::USER_NAME, MAX_MAC.as_bytes().to_vec()),
            (wire::NAS_IP_ADDRESS, vec![127, 0, 0, 1]),
        ],
        SECRET.as_bytes(),
    )
}

fn missing_sessions(db_path: &Path, acked: &[String]) -> Vec<String> {
    let c = db(db_path);
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "integrity_check");
    let mut stmt = c
        .prepare("SELECT 1 FROM sessions WHERE acct_session_id = ?1")
        .unwrap();
    acked
        .iter()
        .filter(|sid| !stmt.exists([sid.as_str()]).unwrap())
        .cloned()
        .collect()
}
