//! DHCP sightings (which device was seen where, with which name and address) and rogue DHCP
//! servers. The DHCP watcher decodes frames; this module only takes the decoded values.
//!
//! `sightings` keeps the latest facts per MAC and counts messages per type; a message the
//! watcher marks as news (a new MAC, address, name or registration) is also appended to
//! `sighting_history`, which retention bounds. The watcher coalesces the rest in memory and
//! hands over their tallies with the next write.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use jiff::Timestamp;
use rusqlite::{Connection, Row};

use super::StoreError;
use crate::model::MacAddr;

/// The DHCP message types that are counted (RFC 2132 option 53), by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DhcpMessage {
    Discover,
    Offer,
    Request,
    Decline,
    Ack,
    Nak,
    Release,
    Inform,
}

impl DhcpMessage {
    pub fn as_str(self) -> &'static str {
        match self {
            DhcpMessage::Discover => "discover",
            DhcpMessage::Offer => "offer",
            DhcpMessage::Request => "request",
            DhcpMessage::Decline => "decline",
            DhcpMessage::Ack => "ack",
            DhcpMessage::Nak => "nak",
            DhcpMessage::Release => "release",
            DhcpMessage::Inform => "inform",
        }
    }
}

/// One DHCP message from or for a device, as the watcher hands it to the writer. Empty
/// strings count as absent: they never overwrite a stored value.
#[derive(Clone, Debug)]
pub struct SightingUpdate {
    pub mac: MacAddr,
    pub time: Timestamp,
    pub message: DhcpMessage,
    /// The address a trusted DHCP server acknowledged to the device (the yiaddr of its
    /// ACK); never what a client asks for, which anyone can send. `None` keeps what is
    /// stored.
    pub ip: Option<Ipv4Addr>,
    /// Option 12 (or the name in option 81).
    pub hostname: Option<String>,
    /// Option 60.
    pub vendor_class: Option<String>,
    /// Option 61, raw; stored as lower-case hex.
    pub client_id: Option<Vec<u8>>,
    /// Option 55, the parameter request list; stored as `1,3,6,15`.
    pub fingerprint: Option<Vec<u8>>,
    /// The device family the fingerprint table names, e.g. "Apple iOS".
    pub family: Option<String>,
    /// Whether the MAC was registered (devices.toml) when this was seen.
    pub registered: bool,
    /// Whether the MAC looks randomized (locally administered).
    pub randomized: bool,
    /// The interface the frame came in on.
    pub interface: Option<Arc<str>>,
    /// Option 82 sub-options, printed by the watcher (text if printable, else hex).
    pub relay_circuit_id: Option<String>,
    pub relay_remote_id: Option<String>,
    /// The registered MAC this randomized MAC most likely stands in for (the watcher saw
    /// the same host name from both); `None` keeps what is stored.
    pub randomized_alias_of: Option<MacAddr>,
    /// Whether the message is appended to `sighting_history`: only what changed (a MAC the
    /// watcher has not seen lately, a new address, name or registration) is history.
    pub history: bool,
    /// Messages from the same MAC that the watcher coalesced into this one since its last
    /// write: added to the tallies, not to the history.
    pub coalesced: MessageCounts,
}

/// Messages seen per type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageCounts {
    pub discover: u64,
    pub offer: u64,
    pub request: u64,
    pub ack: u64,
    pub nak: u64,
    pub decline: u64,
    pub release: u64,
    pub inform: u64,
}

impl MessageCounts {
    /// Counts one message of type `m`.
    pub fn add(&mut self, m: DhcpMessage) {
        let c = match m {
            DhcpMessage::Discover => &mut self.discover,
            DhcpMessage::Offer => &mut self.offer,
            DhcpMessage::Request => &mut self.request,
            DhcpMessage::Ack => &mut self.ack,
            DhcpMessage::Nak => &mut self.nak,
            DhcpMessage::Decline => &mut self.decline,
            DhcpMessage::Release => &mut self.release,
            DhcpMessage::Inform => &mut self.inform,
        };
        *c = c.saturating_add(1);
    }

    /// All messages counted.
    pub fn total(&self) -> u64 {
        [
            self.discover,
            self.offer,
            self.request,
            self.ack,
            self.nak,
            self.decline,
            self.release,
            self.inform,
        ]
        .iter()
        .fold(0u64, |a, &b| a.saturating_add(b))
    }
}

/// What is known about one MAC, as read back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Sighting {
    pub mac: MacAddr,
    pub last_ip: Option<Ipv4Addr>,
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    /// Lower-case hex.
    pub client_id: Option<String>,
    /// Option 55 as comma-separated numbers.
    pub fingerprint: Option<String>,
    pub family: Option<String>,
    pub registered: bool,
    pub randomized: bool,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// The watcher's tallies per message type; the history holds the messages themselves.
    #[serde(skip)]
    pub counts: MessageCounts,
    pub last_interface: Option<String>,
    pub relay_circuit_id: Option<String>,
    pub relay_remote_id: Option<String>,
    /// See [`SightingUpdate::randomized_alias_of`].
    pub randomized_alias_of: Option<MacAddr>,
}

/// Which sightings to read; the default reads all.
#[derive(Clone, Debug, Default)]
pub struct SightingFilter {
    /// Only devices not registered when last seen.
    pub unregistered_only: bool,
    /// Only devices with a randomized MAC.
    pub randomized_only: bool,
    /// At most this many (the most recently seen).
    pub limit: Option<usize>,
}

/// A DHCP server that is not in `trusted_servers` answered on the network.
#[derive(Clone, Debug)]
pub struct RogueServerSeen {
    pub server_ip: Ipv4Addr,
    pub server_mac: MacAddr,
    pub time: Timestamp,
    /// Offer and Ack are counted; other types only update `last_seen`.
    pub message: DhcpMessage,
    pub interface: Option<Arc<str>>,
}

/// One rogue DHCP server, as read back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RogueServer {
    pub server_ip: Ipv4Addr,
    pub server_mac: MacAddr,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub offers: u64,
    pub acks: u64,
    pub interface: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn fingerprint(list: &[u8]) -> String {
    let mut s = String::with_capacity(list.len() * 3);
    for (i, b) in list.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{b}");
    }
    s
}

/// The latest facts win: a message older than the stored `last_seen` (arriving late) only
/// fills in what is missing. Every expression sees the row as it was before the update.
const UPSERT_SQL: &str = "INSERT INTO sightings
    (mac, last_ip, hostname, vendor_class, client_id, fingerprint, family, registered,
     randomized, first_seen, last_seen, discovers, offers, requests, acks, naks, declines,
     releases, informs, last_interface, relay_circuit_id, relay_remote_id, randomized_alias_of)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, ?20, ?21, ?22)
    ON CONFLICT (mac) DO UPDATE SET
        last_ip = CASE WHEN excluded.last_seen >= last_seen
            THEN COALESCE(excluded.last_ip, last_ip) ELSE COALESCE(last_ip, excluded.last_ip) END,
        hostname = CASE WHEN excluded.last_seen >= last_seen
            THEN COALESCE(excluded.hostname, hostname) ELSE COALESCE(hostname, excluded.hostname) END,
        vendor_class = CASE WHEN excluded.last_seen >= last_seen
            THEN COALESCE(excluded.vendor_class, vendor_class) ELSE COALESCE(vendor_class, excluded.vendor_class) END,
        client_id = CASE WHEN excluded.last_seen >= last_seen
            THEN COALESCE(excluded.client_id, client_id) ELSE COALESCE(client_id, excluded.client_id) END,
        fingerprint = CASE WHEN excluded.last_seen >= last_seen
            THEN COALESCE(excluded.fingerprint, fingerprint) ELSE COALESCE(fingerprint, excluded.fingerprint) END,
        family = CASE WHEN excluded.last_seen >= last_seen
            THEN COALESCE(excluded.family, family) ELSE COALESCE(family, excluded.family) END,
        registered = CASE WHEN excluded.last_seen >= last_seen
            THEN excluded.registered ELSE registered END,
        randomized = CASE WHEN excluded.last_seen >= last_seen
            THEN excluded.randomized ELSE randomized END,
        discovers = discovers + excluded.discovers,
        offers = offers + excluded.offers,
        requests = requests + excluded.requests,
        acks = acks + excluded.acks,
        naks = naks + excluded.naks,
        declines = declines + excluded.declines,
        releases = releases + excluded.releases,
        informs = informs + excluded.informs,
        last_interface = CASE WHEN excluded.last_seen >= last_seen
            THEN COALESCE(excluded.last_interface, last_interface) ELSE COALESCE(last_interface, excluded.last_interface) END,
        relay_circuit_id = CASE WHEN excluded.last_seen >= last_seen
            THEN COALESCE(excluded.relay_circuit_id, relay_circuit_id) ELSE COALESCE(relay_circuit_id, excluded.relay_circuit_id) END,
        relay_remote_id = CASE WHEN excluded.last_seen >= last_seen
            THEN COALESCE(excluded.relay_remote_id, relay_remote_id) ELSE COALESCE(relay_remote_id, excluded.relay_remote_id) END,
        randomized_alias_of = COALESCE(excluded.randomized_alias_of, randomized_alias_of),
        first_seen = MIN(first_seen, excluded.first_seen),
        last_seen = MAX(last_seen, excluded.last_seen)";

/// Upserts the sighting and, if it is news, appends it to the history (inside the caller's
/// transaction).
pub(crate) fn upsert_sighting(conn: &Connection, s: &SightingUpdate) -> rusqlite::Result<()> {
    let mac = s.mac.to_string();
    let ip = s.ip.map(|ip| ip.to_string());
    let hostname = non_empty(&s.hostname);
    let mut all = s.coalesced;
    all.add(s.message);
    // in the order of the counters' columns in UPSERT_SQL
    let counts = [
        all.discover,
        all.offer,
        all.request,
        all.ack,
        all.nak,
        all.decline,
        all.release,
        all.inform,
    ]
    .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let mut stmt = conn.prepare_cached(UPSERT_SQL)?;
    stmt.execute(rusqlite::params![
        mac,
        ip,
        hostname,
        non_empty(&s.vendor_class),
        s.client_id.as_deref().filter(|c| !c.is_empty()).map(hex),
        s.fingerprint
            .as_deref()
            .filter(|f| !f.is_empty())
            .map(fingerprint),
        non_empty(&s.family),
        s.registered,
        s.randomized,
        s.time.as_millisecond(),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4],
        counts[5],
        counts[6],
        counts[7],
        s.interface.as_deref().filter(|i| !i.is_empty()),
        non_empty(&s.relay_circuit_id),
        non_empty(&s.relay_remote_id),
        s.randomized_alias_of.map(|m| m.to_string()),
    ])?;
    if !s.history {
        return Ok(());
    }
    let mut hist = conn.prepare_cached(
        "INSERT INTO sighting_history (mac, time, ip, hostname, message_type)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    hist.execute(rusqlite::params![
        mac,
        s.time.as_millisecond(),
        ip,
        hostname,
        s.message.as_str()
    ])?;
    Ok(())
}

/// Upserts a rogue server (inside the caller's transaction).
pub(crate) fn upsert_rogue(conn: &Connection, r: &RogueServerSeen) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO rogue_servers
            (server_ip, server_mac, first_seen, last_seen, offers, acks, interface)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)
         ON CONFLICT (server_ip, server_mac) DO UPDATE SET
            first_seen = MIN(first_seen, excluded.first_seen),
            last_seen = MAX(last_seen, excluded.last_seen),
            offers = offers + excluded.offers,
            acks = acks + excluded.acks,
            interface = COALESCE(excluded.interface, interface)",
    )?;
    stmt.execute(rusqlite::params![
        r.server_ip.to_string(),
        r.server_mac.to_string(),
        r.time.as_millisecond(),
        i64::from(r.message == DhcpMessage::Offer),
        i64::from(r.message == DhcpMessage::Ack),
        r.interface.as_deref().filter(|i| !i.is_empty()),
    ])?;
    Ok(())
}

const SELECT_SIGHTING: &str = "SELECT rowid, mac, last_ip, hostname, vendor_class, client_id,
    fingerprint, family, registered, randomized, first_seen, last_seen, discovers, offers,
    requests, acks, naks, declines, releases, informs, last_interface, relay_circuit_id,
    relay_remote_id, randomized_alias_of FROM sightings";

/// What is known about one MAC, if it was ever seen.
pub(crate) fn sighting(conn: &Connection, mac: MacAddr) -> Result<Option<Sighting>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT_SIGHTING} WHERE mac = ?1"))?;
    let mut rows = stmt.query([mac.to_string()])?;
    match rows.next()? {
        Some(row) => Ok(Some(sighting_from_row(row)?)),
        None => Ok(None),
    }
}

/// Sightings matching `filter`, the most recently seen first.
pub(crate) fn sightings(
    conn: &Connection,
    filter: &SightingFilter,
) -> Result<Vec<Sighting>, StoreError> {
    let mut sql = format!("{SELECT_SIGHTING} WHERE 1");
    if filter.unregistered_only {
        sql.push_str(" AND registered = 0");
    }
    if filter.randomized_only {
        sql.push_str(" AND randomized = 1");
    }
    sql.push_str(" ORDER BY last_seen DESC, mac LIMIT ?1");
    let limit = filter
        .limit
        .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([limit])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(sighting_from_row(row)?);
    }
    Ok(out)
}

/// Where [`Reader::device_address`](super::Reader::device_address) found a device's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionIp {
    /// Framed-IP-Address of the device's newest open accounting session.
    Framed(IpAddr),
    /// The newest address the DHCP watcher saw for the MAC (the session has none, e.g. a
    /// switch doing MAB that never learns the address).
    Dhcp(Ipv4Addr),
}

impl SessionIp {
    pub fn ip(self) -> IpAddr {
        match self {
            SessionIp::Framed(ip) => ip,
            SessionIp::Dhcp(ip) => IpAddr::V4(ip),
        }
    }
}

/// The address of a device on the network, for its accounting sessions: the
/// Framed-IP-Address of its newest open session if the NAS sent one, else the last
/// address its DHCP sightings show. Joined at query time, so the stored session stays what
/// the NAS reported and a later DHCP lease is picked up without rewriting rows.
pub(crate) fn session_ip(conn: &Connection, mac: MacAddr) -> Result<Option<SessionIp>, StoreError> {
    let mac = mac.to_string();
    let mut stmt = conn.prepare_cached(
        "SELECT id, framed_ip FROM sessions
         WHERE mac = ?1 AND stopped IS NULL AND framed_ip IS NOT NULL
         ORDER BY started DESC, id DESC LIMIT 1",
    )?;
    let mut rows = stmt.query([&mac])?;
    if let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let ip: String = row.get(1)?;
        return ip
            .parse()
            .map(|ip| Some(SessionIp::Framed(ip)))
            .map_err(|_| StoreError::BadRow {
                id,
                column: "framed_ip",
                value: ip,
            });
    }
    let mut stmt = conn.prepare_cached("SELECT rowid, last_ip FROM sightings WHERE mac = ?1")?;
    let mut rows = stmt.query([&mac])?;
    match rows.next()? {
        Some(row) => {
            let id: i64 = row.get(0)?;
            Ok(opt_ipv4(row, 1, id, "last_ip")?.map(SessionIp::Dhcp))
        }
        None => Ok(None),
    }
}

/// One DHCP message of a MAC's history, as read back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SightingEvent {
    pub time: Timestamp,
    pub ip: Option<Ipv4Addr>,
    pub hostname: Option<String>,
    /// The message type, e.g. `"ack"`.
    pub message: String,
}

/// The history of one MAC, newest first, at most `limit` messages.
pub(crate) fn sighting_history(
    conn: &Connection,
    mac: MacAddr,
    limit: usize,
) -> Result<Vec<SightingEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, time, ip, hostname, message_type FROM sighting_history
         WHERE mac = ?1 ORDER BY time DESC, id DESC LIMIT ?2",
    )?;
    let mut rows = stmt.query(rusqlite::params![
        mac.to_string(),
        i64::try_from(limit).unwrap_or(i64::MAX)
    ])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let time = ms(row, 1, id, "time")?;
        let ip = opt_ipv4(row, 2, id, "ip")?;
        out.push(SightingEvent {
            time,
            ip,
            hostname: row.get(3)?,
            message: row.get(4)?,
        });
    }
    Ok(out)
}

/// Every rogue DHCP server seen (within retention), the most recently seen first.
pub(crate) fn rogue_servers(conn: &Connection) -> Result<Vec<RogueServer>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, server_ip, server_mac, first_seen, last_seen, offers, acks, interface
         FROM rogue_servers ORDER BY last_seen DESC, id DESC",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let bad = |column: &'static str, value: String| StoreError::BadRow { id, column, value };
        let ip: String = row.get(1)?;
        let mac: String = row.get(2)?;
        out.push(RogueServer {
            server_ip: ip.parse().map_err(|_| bad("server_ip", ip.clone()))?,
            server_mac: mac.parse().map_err(|_| bad("server_mac", mac.clone()))?,
            first_seen: ms(row, 3, id, "first_seen")?,
            last_seen: ms(row, 4, id, "last_seen")?,
            offers: count(row, 5, id, "offers")?,
            acks: count(row, 6, id, "acks")?,
            interface: row.get(7)?,
        });
    }
    Ok(out)
}

fn ms(row: &Row<'_>, idx: usize, id: i64, column: &'static str) -> Result<Timestamp, StoreError> {
    let v: i64 = row.get(idx)?;
    Timestamp::from_millisecond(v).map_err(|_| StoreError::BadRow {
        id,
        column,
        value: v.to_string(),
    })
}

fn count(row: &Row<'_>, idx: usize, id: i64, column: &'static str) -> Result<u64, StoreError> {
    let v: i64 = row.get(idx)?;
    u64::try_from(v).map_err(|_| StoreError::BadRow {
        id,
        column,
        value: v.to_string(),
    })
}

fn opt_ipv4(
    row: &Row<'_>,
    idx: usize,
    id: i64,
    column: &'static str,
) -> Result<Option<Ipv4Addr>, StoreError> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| StoreError::BadRow {
            id,
            column,
            value: s,
        }),
    }
}

fn sighting_from_row(row: &Row<'_>) -> Result<Sighting, StoreError> {
    let id: i64 = row.get(0)?;
    let mac: String = row.get(1)?;
    let mac = mac.parse().map_err(|_| StoreError::BadRow {
        id,
        column: "mac",
        value: mac.clone(),
    })?;
    let c = |idx: usize, column: &'static str| count(row, idx, id, column);
    Ok(Sighting {
        mac,
        last_ip: opt_ipv4(row, 2, id, "last_ip")?,
        hostname: row.get(3)?,
        vendor_class: row.get(4)?,
        client_id: row.get(5)?,
        fingerprint: row.get(6)?,
        family: row.get(7)?,
        registered: row.get(8)?,
        randomized: row.get(9)?,
        first_seen: ms(row, 10, id, "first_seen")?,
        last_seen: ms(row, 11, id, "last_seen")?,
        counts: MessageCounts {
            discover: c(12, "discovers")?,
            offer: c(13, "offers")?,
            request: c(14, "requests")?,
            ack: c(15, "acks")?,
            nak: c(16, "naks")?,
            decline: c(17, "declines")?,
            release: c(18, "releases")?,
            inform: c(19, "informs")?,
        },
        last_interface: row.get(20)?,
        relay_circuit_id: row.get(21)?,
        relay_remote_id: row.get(22)?,
        randomized_alias_of: match row.get::<_, Option<String>>(23)? {
            None => None,
            Some(m) => Some(m.parse().map_err(|_| StoreError::BadRow {
                id,
                column: "randomized_alias_of",
                value: m.clone(),
            })?),
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::store::accounting::tests::{db, ts};

    pub(crate) fn seen(mac: &str, time: &str, message: DhcpMessage) -> SightingUpdate {
        SightingUpdate {
            mac: mac.parse().unwrap(),
            time: ts(time),
            message,
            ip: None,
            hostname: None,
            vendor_class: None,
            client_id: None,
            fingerprint: None,
            family: None,
            registered: false,
            randomized: false,
            interface: Some("eth1".into()),
            relay_circuit_id: None,
            relay_remote_id: None,
            randomized_alias_of: None,
            history: true,
            coalesced: MessageCounts::default(),
        }
    }

    #[test]
    fn a_coalesced_write_adds_its_tallies_and_only_news_is_history() {
        let (_dir, conn) = db();
        let mac = "da:a1:19:00:00:02";
        upsert_sighting(
            &conn,
            &seen(mac, "2026-11-27T07:00:00Z", DhcpMessage::Discover),
        )
        .unwrap();
        let mut later = seen(mac, "2026-11-27T07:01:00Z", DhcpMessage::Request);
        later.history = false;
        later.coalesced.add(DhcpMessage::Discover);
        later.coalesced.add(DhcpMessage::Discover);
        later.coalesced.add(DhcpMessage::Inform);
        upsert_sighting(&conn, &later).unwrap();
        let got = sighting(&conn, later.mac).unwrap().unwrap();
        assert_eq!(
            got.counts,
            MessageCounts {
                discover: 3,
                request: 1,
                inform: 1,
                ..MessageCounts::default()
            }
        );
        assert_eq!(got.last_seen, later.time);
        let hist = sighting_history(&conn, later.mac, 10).unwrap();
        assert_eq!(hist.len(), 1, "only the first sighting was news");
        assert_eq!(hist[0].message, "discover");
    }

    #[test]
    fn upsert_counts_keeps_first_seen_and_ignores_empty_values() {
        let (_dir, conn) = db();
        let mac = "da:a1:19:00:00:01";
        let mut d = seen(mac, "2026-11-27T07:00:00Z", DhcpMessage::Discover);
        d.hostname = Some("Max-iPhone".into());
        d.vendor_class = Some("android-dhcp-14".into());
        d.client_id = Some(vec![0x01, 0xda, 0xa1, 0x19, 0, 0, 1]);
        d.fingerprint = Some(vec![1, 3, 6, 15, 119, 252]);
        d.family = Some("Apple iOS".into());
        d.randomized = true;
        d.relay_circuit_id = Some("eth0:vlan20".into());
        d.relay_remote_id = Some("sw-3".into());
        let mut r = seen(mac, "2026-11-27T07:00:01Z", DhcpMessage::Request);
        r.ip = Some("10.20.0.5".parse().unwrap());
        r.hostname = Some(String::new()); // empty: keeps the stored name
        r.interface = None;
        r.randomized = true;
        r.registered = true;
        let mut a = seen(mac, "2026-11-27T07:00:02Z", DhcpMessage::Ack);
        a.ip = Some("10.20.0.5".parse().unwrap());
        a.randomized = true;
        a.registered = true;
        a.interface = Some("eth2".into());
        // Older than what is stored (arrives late): only fills in what is missing.
        let mut late = seen(mac, "2026-11-27T06:59:00Z", DhcpMessage::Discover);
        late.randomized = true;
        late.registered = false;
        late.hostname = Some("old-name".into());
        for s in [&d, &r, &a, &late] {
            upsert_sighting(&conn, s).unwrap();
        }
        let got = sighting(&conn, d.mac).unwrap().unwrap();
        assert_eq!(
            got,
            Sighting {
                mac: d.mac,
                last_ip: Some("10.20.0.5".parse().unwrap()),
                hostname: Some("Max-iPhone".into()),
                vendor_class: Some("android-dhcp-14".into()),
                client_id: Some("01daa119000001".into()),
                fingerprint: Some("1,3,6,15,119,252".into()),
                family: Some("Apple iOS".into()),
                registered: true,
                randomized: true,
                first_seen: ts("2026-11-27T06:59:00Z"),
                last_seen: ts("2026-11-27T07:00:02Z"),
                counts: MessageCounts {
                    discover: 2,
                    request: 1,
                    ack: 1,
                    ..MessageCounts::default()
                },
                last_interface: Some("eth2".into()),
                relay_circuit_id: Some("eth0:vlan20".into()),
                relay_remote_id: Some("sw-3".into()),
                randomized_alias_of: None,
            }
        );
        let hist = sighting_history(&conn, d.mac, 10).unwrap();
        let kinds: Vec<&str> = hist.iter().map(|h| h.message.as_str()).collect();
        assert_eq!(kinds, ["ack", "request", "discover", "discover"]);
        assert_eq!(hist[0].time, a.time);
        assert_eq!(hist[0].ip, Some("10.20.0.5".parse().unwrap()));
        assert_eq!(hist[2].hostname.as_deref(), Some("Max-iPhone"));
        assert_eq!(
            hist[1].hostname, None,
            "the empty name is not history either"
        );
        assert_eq!(sighting_history(&conn, d.mac, 1).unwrap().len(), 1);
        assert!(
            sighting(&conn, "3c:22:fb:12:34:56".parse().unwrap())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn every_message_type_has_its_counter() {
        let (_dir, conn) = db();
        let all = [
            DhcpMessage::Discover,
            DhcpMessage::Offer,
            DhcpMessage::Request,
            DhcpMessage::Decline,
            DhcpMessage::Ack,
            DhcpMessage::Nak,
            DhcpMessage::Release,
            DhcpMessage::Inform,
        ];
        for (n, m) in all.iter().enumerate() {
            for _ in 0..=n {
                upsert_sighting(
                    &conn,
                    &seen("02:00:00:00:00:01", "2026-11-27T07:00:00Z", *m),
                )
                .unwrap();
            }
        }
        let c = sighting(&conn, "02:00:00:00:00:01".parse().unwrap())
            .unwrap()
            .unwrap()
            .counts;
        assert_eq!(
            [
                c.discover, c.offer, c.request, c.decline, c.ack, c.nak, c.release, c.inform
            ],
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
    }

    #[test]
    fn sighting_filters() {
        let (_dir, conn) = db();
        let mut a = seen(
            "3c:22:fb:00:00:01",
            "2026-11-27T07:00:00Z",
            DhcpMessage::Ack,
        );
        a.registered = true;
        let mut b = seen(
            "da:a1:19:00:00:02",
            "2026-11-27T08:00:00Z",
            DhcpMessage::Ack,
        );
        b.randomized = true;
        let c = seen(
            "3c:22:fb:00:00:03",
            "2026-11-27T09:00:00Z",
            DhcpMessage::Ack,
        );
        let mut d = seen(
            "da:a1:19:00:00:04",
            "2026-11-27T10:00:00Z",
            DhcpMessage::Ack,
        );
        d.randomized = true;
        d.registered = true;
        for s in [&a, &b, &c, &d] {
            upsert_sighting(&conn, s).unwrap();
        }
        let macs = |f: SightingFilter| -> Vec<String> {
            sightings(&conn, &f)
                .unwrap()
                .into_iter()
                .map(|s| s.mac.to_string()[15..].to_string())
                .collect()
        };
        assert_eq!(macs(SightingFilter::default()), ["04", "03", "02", "01"]);
        assert_eq!(
            macs(SightingFilter {
                unregistered_only: true,
                ..Default::default()
            }),
            ["03", "02"]
        );
        assert_eq!(
            macs(SightingFilter {
                randomized_only: true,
                ..Default::default()
            }),
            ["04", "02"]
        );
        assert_eq!(
            macs(SightingFilter {
                unregistered_only: true,
                randomized_only: true,
                limit: Some(5),
            }),
            ["02"]
        );
        assert_eq!(
            macs(SightingFilter {
                limit: Some(2),
                ..Default::default()
            }),
            ["04", "03"]
        );
    }

    #[test]
    fn rogue_servers_upsert_per_address_and_mac() {
        let (_dir, conn) = db();
        let r = |ip: &str, mac: &str, time: &str, message| RogueServerSeen {
            server_ip: ip.parse().unwrap(),
            server_mac: mac.parse().unwrap(),
            time: ts(time),
            message,
            interface: Some("eth1".into()),
        };
        for x in [
            r(
                "192.168.0.1",
                "da:a1:19:00:00:01",
                "2026-11-27T07:00:00Z",
                DhcpMessage::Offer,
            ),
            r(
                "192.168.0.1",
                "da:a1:19:00:00:01",
                "2026-11-27T07:00:01Z",
                DhcpMessage::Ack,
            ),
            r(
                "192.168.0.1",
                "da:a1:19:00:00:01",
                "2026-11-27T07:05:00Z",
                DhcpMessage::Offer,
            ),
            r(
                "192.168.0.1",
                "da:a1:19:00:00:01",
                "2026-11-27T07:06:00Z",
                DhcpMessage::Nak,
            ),
            r(
                "10.9.9.9",
                "3c:22:fb:00:00:09",
                "2026-11-27T06:00:00Z",
                DhcpMessage::Offer,
            ),
        ] {
            upsert_rogue(&conn, &x).unwrap();
        }
        let got = rogue_servers(&conn).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            RogueServer {
                server_ip: "192.168.0.1".parse().unwrap(),
                server_mac: "da:a1:19:00:00:01".parse().unwrap(),
                first_seen: ts("2026-11-27T07:00:00Z"),
                last_seen: ts("2026-11-27T07:06:00Z"),
                offers: 2,
                acks: 1,
                interface: Some("eth1".into()),
            }
        );
        assert_eq!(got[1].server_ip, "10.9.9.9".parse::<Ipv4Addr>().unwrap());
        assert_eq!((got[1].offers, got[1].acks), (1, 0));
    }

    #[test]
    fn session_ip_prefers_framed_ip_then_the_dhcp_sighting() {
        let (_dir, conn) = db();
        let mac: MacAddr = "3c:22:fb:12:34:56".parse().unwrap();
        assert_eq!(session_ip(&conn, mac).unwrap(), None);
        let open = |sid: &str, framed: Option<&str>, started: i64| {
            conn.execute(
                "INSERT INTO sessions (client, acct_session_id, mac, framed_ip, started,
                    last_update) VALUES ('wlc', ?1, ?2, ?3, ?4, ?4)",
                rusqlite::params![sid, mac.to_string(), framed, started],
            )
            .unwrap();
        };
        open("S1", None, 1000);
        assert_eq!(session_ip(&conn, mac).unwrap(), None, "no address anywhere");
        let mut ack = seen(&mac.to_string(), "2026-11-27T07:00:00Z", DhcpMessage::Ack);
        ack.ip = Some("10.20.0.7".parse().unwrap());
        upsert_sighting(&conn, &ack).unwrap();
        let got = session_ip(&conn, mac).unwrap().unwrap();
        assert_eq!(got, SessionIp::Dhcp("10.20.0.7".parse().unwrap()));
        assert_eq!(got.ip(), "10.20.0.7".parse::<IpAddr>().unwrap());
        open("S2", Some("10.20.0.9"), 2000);
        assert_eq!(
            session_ip(&conn, mac).unwrap(),
            Some(SessionIp::Framed("10.20.0.9".parse().unwrap()))
        );
        // a closed session's address is history, not where the device is now
        conn.execute(
            "UPDATE sessions SET stopped = 3000, closed_by = 'stop' WHERE acct_session_id = 'S2'",
            [],
        )
        .unwrap();
        assert_eq!(
            session_ip(&conn, mac).unwrap(),
            Some(SessionIp::Dhcp("10.20.0.7".parse().unwrap()))
        );
    }

    #[test]
    fn randomized_alias_is_kept_once_found() {
        let (_dir, conn) = db();
        let private = "0a:11:22:33:44:55";
        let registered: MacAddr = "3c:22:fb:12:34:56".parse().unwrap();
        let mut d = seen(private, "2026-11-27T07:00:00Z", DhcpMessage::Discover);
        d.randomized_alias_of = Some(registered);
        upsert_sighting(&conn, &d).unwrap();
        // a later message without the link does not erase it
        let r = seen(private, "2026-11-27T07:00:01Z", DhcpMessage::Request);
        upsert_sighting(&conn, &r).unwrap();
        let got = sighting(&conn, d.mac).unwrap().unwrap();
        assert_eq!(got.randomized_alias_of, Some(registered));
        let other = seen(
            "0a:11:22:33:44:56",
            "2026-11-27T07:00:01Z",
            DhcpMessage::Request,
        );
        upsert_sighting(&conn, &other).unwrap();
        assert_eq!(
            sighting(&conn, other.mac)
                .unwrap()
                .unwrap()
                .randomized_alias_of,
            None
        );
    }
}
