//! The RADIUS accounting listener (RFC 2866): one task per bound UDP socket. It checks the
//! client and the Request Authenticator, turns each Accounting-Request into a record for the
//! writer, and sends the Accounting-Response only after the writer has committed the record:
//! an answered request survives `kill -9`. When the writer cannot take or commit it, no
//! response is sent and the NAS retries.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use arc_swap::ArcSwap;
use ipnetwork::IpNetwork;
use jiff::{SignedDuration, Timestamp};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tracing::debug;

use crate::config::Directory;
use crate::model::{MacAddr, Module};
use crate::radius::{self, Code, Packet, PacketBuilder, SharedSecret, attr, values};
use crate::store::{AccountingRecord, AcctStatus, WriterHandle};

use super::dedup::{DedupCache, DedupKey, Lookup};
use super::{Counters, RateLimitedLog};

/// What every accounting socket task shares.
pub struct AcctShared {
    pub directory: Arc<ArcSwap<Directory>>,
    pub writer: WriterHandle,
    pub counters: Arc<Counters>,
    pub log_limit: Arc<RateLimitedLog>,
    /// Committed records, for the daemon's table of open sessions (enforcement). Bounded;
    /// when full the update is skipped and the enforcer re-reads the database.
    pub committed: Option<mpsc::Sender<AccountingRecord>>,
}

/// NAS-IPv6-Address (RFC 3162 2.1).
const NAS_IPV6_ADDRESS: u8 = 95;

/// Serves one accounting socket until `stop` turns true.
pub async fn serve_socket(
    socket: Arc<UdpSocket>,
    shared: Arc<AcctShared>,
    mut stop: watch::Receiver<bool>,
) {
    let dedup = Arc::new(DedupCache::new(
        super::auth::DEDUP_WINDOW,
        super::auth::DEDUP_CAPACITY,
    ));
    let mut buf = vec![0u8; radius::MAX_PACKET_LEN + 1];
    loop {
        let received = tokio::select! {
            r = socket.recv_from(&mut buf) => r,
            _ = stop.changed() => break,
        };
        let (len, src) = match received {
            Ok(x) => x,
            Err(e) => {
                debug!(error = %e, "accounting socket receive error");
                continue;
            }
        };
        let Some(datagram) = buf.get(..len) else {
            continue;
        };
        let c = &shared.counters;
        c.inc(&c.acct_received);
        let (key, record, request) = match accept_request(datagram, src, &shared, &dedup) {
            Admit::Drop => continue,
            Admit::Resend(bytes) => {
                let _ = socket.send_to(&bytes, src).await;
                continue;
            }
            Admit::Record(key, record, request) => (key, record, request),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let queued = shared.writer.accounting(
            (*record).clone(),
            Box::new(move |result| {
                let _ = tx.send(result);
            }),
        );
        if queued.is_err() {
            // The writer's queue is full: no response, so the NAS retries later.
            c.inc(&c.acct_refused);
            dedup.forget(&key);
            shared.log_limit.warn(
                "acct_refused",
                src.ip(),
                format_args!("accounting queue full: request not answered, the NAS will retry"),
            );
            continue;
        }
        let socket = socket.clone();
        let shared = shared.clone();
        let dedup = dedup.clone();
        tokio::spawn(async move {
            let c = &shared.counters;
            match rx.await {
                Ok(Ok(())) => {
                    let directory = shared.directory.load();
                    let Some(client) = directory.client_for(src.ip()) else {
                        dedup.forget(&key);
                        return;
                    };
                    let Ok(packet) = Packet::parse(&request) else {
                        dedup.forget(&key);
                        return;
                    };
                    let mut out = Vec::with_capacity(128);
                    if build_response(&packet, &client.secret, &mut out).is_err() {
                        dedup.forget(&key);
                        return;
                    }
                    c.inc(&c.acct_committed);
                    dedup.complete(&key, &out);
                    if let Err(e) = socket.send_to(&out, src).await {
                        shared.log_limit.debug(
                            "acct_send",
                            src.ip(),
                            format_args!("accounting response to {src} not sent: {e}"),
                        );
                    }
                    if let Some(tx) = &shared.committed {
                        let _ = tx.try_send(*record);
                    }
                }
                Ok(Err(e)) => {
                    c.inc(&c.acct_failed);
                    dedup.forget(&key);
                    shared.log_limit.warn(
                        "acct_commit",
                        src.ip(),
                        format_args!(
                            "accounting record not stored ({e}): not answered, the NAS will retry"
                        ),
                    );
                }
                Err(_) => {
                    c.inc(&c.acct_failed);
                    dedup.forget(&key);
                }
            }
        });
    }
}

enum Admit {
    Drop,
    Resend(Vec<u8>),
    Record(DedupKey, Box<AccountingRecord>, Vec<u8>),
}

fn accept_request(
    datagram: &[u8],
    src: SocketAddr,
    shared: &AcctShared,
    dedup: &DedupCache,
) -> Admit {
    let c = &shared.counters;
    let directory = shared.directory.load();
    let Some((packet, client)) = super::admit(
        datagram,
        src,
        &directory,
        "accounting",
        |code| code == Code::AccountingRequest,
        c,
        &shared.log_limit,
    ) else {
        return Admit::Drop;
    };
    let secret = &client.secret;
    // RFC 2866 3: the Request Authenticator is an MD5 over the packet and the secret; a
    // Message-Authenticator, when present, must be right too.
    let ma_ok = radius::verify_message_authenticator(&packet, secret, None).is_ok();
    if !radius::verify_request_authenticator(&packet, secret) || !ma_ok {
        c.inc(&c.bad_authenticator);
        shared.log_limit.warn(
            "bad_acct_auth",
            src.ip(),
            format_args!(
                "accounting request from client {} failed authentication; wrong shared secret?",
                client.name
            ),
        );
        return Admit::Drop;
    }
    let key = DedupKey::new(src, packet.identifier(), *packet.authenticator());
    let mut cached = Vec::new();
    match dedup.lookup(&key, &mut cached, std::time::Instant::now()) {
        Lookup::Cached => {
            c.inc(&c.duplicates);
            return Admit::Resend(cached);
        }
        Lookup::InFlight => {
            c.inc(&c.duplicates);
            return Admit::Drop;
        }
        Lookup::New => {}
    }
    match record_from_packet(
        &packet,
        src.ip(),
        &directory,
        client.module,
        &client.name,
        client.network,
        Timestamp::now(),
    ) {
        Ok(record) => Admit::Record(key, Box::new(record), packet.bytes().to_vec()),
        Err(problem) => {
            dedup.forget(&key);
            c.inc(&c.malformed);
            shared.log_limit.warn(
                "acct_incomplete",
                src.ip(),
                format_args!(
                    "accounting request from client {} dropped: {problem}",
                    client.name
                ),
            );
            Admit::Drop
        }
    }
}

/// Why an Accounting-Request cannot be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AcctProblem {
    #[error("no Acct-Status-Type")]
    NoStatusType,
    #[error("Acct-Status-Type {0} is not recorded")]
    UnsupportedStatus(u32),
    #[error("no Acct-Session-Id")]
    NoSessionId,
}

/// The record an Accounting-Request describes. Pure apart from reading the snapshot: the
/// owner of a MAB session's device comes from the directory. `client_network` is the
/// configured network of the client the packet came from (see [`nas_address`]).
pub fn record_from_packet(
    packet: &Packet,
    source: IpAddr,
    directory: &Directory,
    client_module: Module,
    client_name: &Arc<str>,
    client_network: IpNetwork,
    now: Timestamp,
) -> Result<AccountingRecord, AcctProblem> {
    use values::acct_status_type as st;
    let status = match packet.get_u32(attr::ACCT_STATUS_TYPE) {
        None => return Err(AcctProblem::NoStatusType),
        Some(st::START) => AcctStatus::Start,
        Some(st::STOP) => AcctStatus::Stop,
        Some(st::INTERIM_UPDATE) => AcctStatus::Interim,
        Some(st::ACCOUNTING_ON) => AcctStatus::AccountingOn,
        Some(st::ACCOUNTING_OFF) => AcctStatus::AccountingOff,
        Some(other) => return Err(AcctProblem::UnsupportedStatus(other)),
    };
    let session_id = packet
        .get(attr::ACCT_SESSION_ID)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default();
    if session_id.is_empty()
        && !matches!(status, AcctStatus::AccountingOn | AcctStatus::AccountingOff)
    {
        return Err(AcctProblem::NoSessionId);
    }
    let user_name = packet.get(attr::USER_NAME).unwrap_or_default();
    let mac = packet
        .get(attr::CALLING_STATION_ID)
        .and_then(MacAddr::parse_bytes)
        .or_else(|| MacAddr::parse_bytes(user_name));
    let user = if MacAddr::parse_bytes(user_name).is_some() || user_name.is_empty() {
        mac.and_then(|m| directory.device(&m))
            .map(|d| d.owner.to_string())
    } else {
        Some(String::from_utf8_lossy(user_name).into_owned())
    };
    let module = packet
        .get_u32(attr::NAS_PORT_TYPE)
        .and_then(Module::from_nas_port_type)
        .unwrap_or(client_module);
    let claimed = packet
        .get(attr::NAS_IP_ADDRESS)
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(|b| IpAddr::V4(Ipv4Addr::from(b)))
        .or_else(|| {
            packet
                .get(NAS_IPV6_ADDRESS)
                .and_then(|v| <[u8; 16]>::try_from(v).ok())
                .map(|b| IpAddr::V6(Ipv6Addr::from(b)))
        });
    let nas_ip = nas_address(client_network, source, claimed);
    let framed_ip = packet
        .get(attr::FRAMED_IP_ADDRESS)
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(|b| IpAddr::V4(Ipv4Addr::from(b)));
    let octets = |low: u8, giga: u8| {
        u64::from(packet.get_u32(low).unwrap_or(0))
            + (u64::from(packet.get_u32(giga).unwrap_or(0)) << 32)
    };
    // RFC 2866 5.2: the event happened Acct-Delay-Time seconds before this request was sent.
    let delay = packet.get_u32(attr::ACCT_DELAY_TIME).unwrap_or(0);
    let time = now
        .checked_sub(SignedDuration::from_secs(i64::from(delay)))
        .unwrap_or(now);
    Ok(AccountingRecord {
        status,
        client: client_name.clone(),
        acct_session_id: session_id,
        mac,
        user,
        module: Some(module),
        nas_ip: Some(nas_ip),
        nas_port: packet.get_u32(attr::NAS_PORT),
        called_station_id: packet
            .get(attr::CALLED_STATION_ID)
            .map(|v| String::from_utf8_lossy(v).into_owned()),
        framed_ip,
        time,
        input_octets: octets(attr::ACCT_INPUT_OCTETS, attr::ACCT_INPUT_GIGAWORDS),
        output_octets: octets(attr::ACCT_OUTPUT_OCTETS, attr::ACCT_OUTPUT_GIGAWORDS),
        session_time: packet.get_u32(attr::ACCT_SESSION_TIME).unwrap_or(0),
        terminate_cause: packet.get_u32(attr::ACCT_TERMINATE_CAUSE),
        interim_interval: packet.get_u32(attr::ACCT_INTERIM_INTERVAL),
    })
}

/// The NAS's address as recorded (Disconnect-Requests go there, Accounting-On/-Off close
/// its sessions): the NAS-IP-Address (or NAS-IPv6-Address) the packet claims only when it
/// lies inside the client's configured network, else the address the packet came from.
/// The claim is the NAS's own word, and a NAS of a `/32` client could otherwise steer
/// signed Disconnect-Requests to any address.
pub fn nas_address(client_network: IpNetwork, source: IpAddr, claimed: Option<IpAddr>) -> IpAddr {
    let plain = |ip: IpAddr| match ip {
        // an IPv4 NAS reaching a dual-stack socket arrives as ::ffff:a.b.c.d
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match claimed.map(plain) {
        Some(ip) if client_network.contains(ip) => ip,
        _ => plain(source),
    }
}

/// Accounting-Response: Message-Authenticator first, Proxy-State echoed (RFC 2866 4.2).
fn build_response(
    request: &Packet,
    secret: &SharedSecret,
    out: &mut Vec<u8>,
) -> Result<(), radius::RadiusError> {
    let mut b = PacketBuilder::new(out, Code::AccountingResponse, request.identifier());
    b.message_authenticator();
    for a in request.attributes() {
        if a.typ == attr::PROXY_STATE {
            b.attr(attr::PROXY_STATE, a.value)?;
        }
    }
    b.finish_reply(request.authenticator(), secret)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_nas_address_is_its_claim_only_inside_the_client_s_network() {
        let net = |s: &str| s.parse::<IpNetwork>().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // (client network, packet source, NAS-IP-Address claimed, recorded)
        for (network, source, claimed, want) in [
            // the forged claim of issue 16: a /32 client pointing elsewhere
            ("127.0.0.1/32", "127.0.0.1", Some("127.0.0.99"), "127.0.0.1"),
            ("127.0.0.1/32", "127.0.0.1", Some("127.0.0.1"), "127.0.0.1"),
            ("127.0.0.1/32", "127.0.0.1", None, "127.0.0.1"),
            // a controller for a subnet of APs: an AP of that subnet is believed
            ("10.0.0.0/24", "10.0.0.1", Some("10.0.0.17"), "10.0.0.17"),
            ("10.0.0.0/24", "10.0.0.1", Some("10.0.1.17"), "10.0.0.1"),
            ("10.0.0.0/24", "10.0.0.1", Some("192.0.2.1"), "10.0.0.1"),
            // IPv6 and an IPv4 NAS seen on a dual-stack socket
            (
                "2001:db8::/64",
                "2001:db8::1",
                Some("2001:db8::2"),
                "2001:db8::2",
            ),
            (
                "2001:db8::/64",
                "2001:db8::1",
                Some("2001:db8:1::2"),
                "2001:db8::1",
            ),
            ("10.0.0.0/24", "::ffff:10.0.0.5", None, "10.0.0.5"),
            (
                "10.0.0.0/24",
                "::ffff:10.0.0.5",
                Some("::ffff:10.0.0.6"),
                "10.0.0.6",
            ),
            (
                "10.0.0.0/24",
                "::ffff:10.0.0.5",
                Some("2001:db8::2"),
                "10.0.0.5",
            ),
        ] {
            assert_eq!(
                nas_address(net(network), ip(source), claimed.map(ip)),
                ip(want),
                "{network} {source} {claimed:?}"
            );
        }
    }
}
