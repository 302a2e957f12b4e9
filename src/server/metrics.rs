//! The Prometheus metrics endpoint: a collector that reads the listeners' `Counters` and the
//! writer's getters at scrape time (nothing is counted twice), and a deliberately tiny
//! HTTP/1.1 responder on a TCP listener: `GET /metrics` gets the Prometheus text format,
//! anything else a 404. Bounded in every direction: at most 8 KiB of request, a deadline per
//! connection, a fixed number of connections at once, one request per connection.
//!
//! Must not: export anything secret or personal (no secrets, passwords, user names, MAC or
//! IP addresses of devices — client names are the admin's labels of NAS), or pull in an
//! HTTP framework for one fixed resource.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tracing::debug;

use super::{Counters, LatencyHistogram, ServerError};
use crate::store::WriterHandle;

/// The largest request head read; a longer one is answered 431 and closed.
pub const MAX_REQUEST: usize = 8 * 1024;
/// Connections served at once; further ones are closed at once without an answer.
pub const MAX_CONNECTIONS: usize = 8;
/// Time a client has to send its request, and then to read the answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Media type of the Prometheus text exposition format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Everything a scrape reads.
pub struct Exporter {
    registry: Registry,
}

impl Exporter {
    pub fn new(counters: Arc<Counters>, writer: WriterHandle) -> Exporter {
        let mut registry = Registry::with_prefix("hallpass");
        registry.register_collector(Box::new(Scrape { counters, writer }));
        Exporter { registry }
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail, and the collector never returns an error of
        // its own; an empty body would show up at once in the monitoring.
        if prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The collector: reads the atomics at scrape time.
struct Scrape {
    counters: Arc<Counters>,
    writer: WriterHandle,
}

impl fmt::Debug for Scrape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scrape")
    }
}

/// Writes one metric family: `(labels, value)` rows under one name.
fn family<L: EncodeLabelSet>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    typ: MetricType,
    rows: &[(L, u64)],
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, typ)?;
    for (labels, v) in rows {
        let mut f = m.encode_family(labels)?;
        match typ {
            MetricType::Gauge => f.encode_gauge(v)?,
            _ => f.encode_counter::<NoLabelSet, _, u64>(v, None)?,
        }
    }
    Ok(())
}

fn single(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    typ: MetricType,
    v: u64,
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, typ)?;
    match typ {
        MetricType::Gauge => m.encode_gauge(&v),
        _ => m.encode_counter::<NoLabelSet, _, u64>(&v, None),
    }
}

fn histograms(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[([(&str, &str); 1], &LatencyHistogram)],
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for (labels, h) in rows {
        let (sum, count, buckets) = h.snapshot();
        m.encode_family(labels)?
            .encode_histogram::<NoLabelSet>(sum, count, &buckets, None)?;
    }
    Ok(())
}

impl Collector for Scrape {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        use MetricType::{Counter, Gauge};
        let c = &*self.counters;
        let get = Counters::get;
        let w = &self.writer;
        let e = &mut enc;

        family(
            e,
            "requests",
            "RADIUS requests taken up, by type (authenticated, duplicates not counted)",
            Counter,
            &[
                ([("type", "access")], get(&c.access_requests)),
                ([("type", "status_server")], get(&c.status_server)),
                ([("type", "accounting")], get(&c.acct_received)),
            ],
        )?;
        single(
            e,
            "auth_datagrams",
            "datagrams received on the authentication ports",
            Counter,
            get(&c.received),
        )?;
        family(
            e,
            "answers",
            "Access-Accepts and Access-Rejects sent for decided requests",
            Counter,
            &[
                ([("answer", "accept")], get(&c.accepts)),
                ([("answer", "reject")], get(&c.rejects)),
            ],
        )?;
        let decisions: Vec<_> = c
            .decisions()
            .into_iter()
            .map(|(r, m, n)| ([("reason", r.code()), ("module", m.as_str())], n))
            .collect();
        family(
            e,
            "decisions",
            "access decisions by reason code and module",
            Counter,
            &decisions,
        )?;
        family(
            e,
            "dropped",
            "auth-port datagrams dropped without a client to blame or before a decision",
            Counter,
            &[
                ([("reason", "unknown_client")], get(&c.unknown_client)),
                ([("reason", "malformed")], get(&c.malformed)),
                ([("reason", "unexpected_code")], get(&c.unexpected_code)),
                ([("reason", "pap_busy")], get(&c.dropped_busy)),
            ],
        )?;
        single(
            e,
            "auth_rounds_held",
            "rounds in which the replies of a small batch waited up to 50 µs for more requests (a steady stream above 40,000 requests/s)",
            Counter,
            get(&c.rounds_held),
        )?;
        single(
            e,
            "eap_conversations",
            "802.1X (EAP) conversations in flight between their rounds",
            Gauge,
            get(&c.eap.in_flight),
        )?;
        single(
            e,
            "eap_conversations_dropped",
            "EAP conversations dropped idle (30 s) or evicted by newer ones from a full table",
            Counter,
            get(&c.eap.expired),
        )?;
        let eap_results: Vec<_> = c
            .eap
            .results()
            .into_iter()
            .map(|(m, r, n)| ([("method", m), ("reason", r)], n))
            .collect();
        family(
            e,
            "eap_results",
            "ended EAP conversations by method and reason code",
            Counter,
            &eap_results,
        )?;
        histograms(
            e,
            "eap_round_seconds",
            "worker time per EAP round (TLS work and credential checks)",
            &[([("method", "all")], &c.eap.round_time)],
        )?;
        single(
            e,
            "duplicates",
            "retransmissions answered from the duplicate cache or dropped while in flight",
            Counter,
            get(&c.duplicates),
        )?;

        let clients = c.per_client.snapshot();
        let rows = |f: fn(&(String, u64, u64, u64)) -> u64| -> Vec<_> {
            clients
                .iter()
                .map(|x| ([("client", x.0.as_str())], f(x)))
                .collect()
        };
        family(
            e,
            "client_requests",
            "datagrams from a configured client on the authentication ports",
            Counter,
            &rows(|x| x.1),
        )?;
        let mut drops = Vec::with_capacity(clients.len() * 2);
        for (name, _, bad, missing) in &clients {
            drops.push((
                [("client", name.as_str()), ("reason", "bad_authenticator")],
                *bad,
            ));
            drops.push((
                [
                    ("client", name.as_str()),
                    ("reason", "missing_message_authenticator"),
                ],
                *missing,
            ));
        }
        family(
            e,
            "client_dropped",
            "requests of a configured client dropped unanswered, by reason",
            Counter,
            &drops,
        )?;

        histograms(
            e,
            "auth_duration_seconds",
            "time from receiving an Access-Request to its signed reply; pap: from the start of its check, the password hash included",
            &[
                ([("kind", "mab")], &c.auth_latency_mab),
                ([("kind", "pap")], &c.auth_latency_pap),
            ],
        )?;

        single(
            e,
            "store_queue_depth",
            "rows waiting for the database writer",
            Gauge,
            w.queue_depth() as u64,
        )?;
        single(
            e,
            "store_rows_written",
            "rows committed by the database writer",
            Counter,
            w.written(),
        )?;
        single(
            e,
            "store_rows_dropped",
            "log rows dropped because the writer's queue was full",
            Counter,
            w.dropped(),
        )?;
        single(
            e,
            "store_writer_behind",
            "times the database writer fell behind in the background and returned to normal priority",
            Counter,
            w.times_behind(),
        )?;
        single(
            e,
            "store_writer_background",
            "1 while the database writer works at background priority",
            Gauge,
            u64::from(w.in_background()),
        )?;
        single(
            e,
            "store_rows_failed",
            "rows lost in failed commits",
            Counter,
            w.failed_rows(),
        )?;
        family(
            e,
            "accounting_records",
            "accounting records by outcome (only committed ones are answered)",
            Counter,
            &[
                ([("result", "committed")], w.accounting_committed()),
                ([("result", "refused")], w.accounting_refused()),
                ([("result", "failed")], w.accounting_failed()),
            ],
        )?;

        single(
            e,
            "config_reloads",
            "reloads that applied a new config",
            Counter,
            get(&c.reloads),
        )?;
        single(
            e,
            "config_reload_failures",
            "reloads refused because the config was invalid",
            Counter,
            get(&c.reload_failures),
        )?;
        single(
            e,
            "config_last_good_timestamp_seconds",
            "Unix time of the start or the last reload that applied",
            Gauge,
            get(&c.last_good_config),
        )?;

        family(
            e,
            "dhcp_frames",
            "DHCP frames the watcher saw and could parse",
            Counter,
            &[
                ([("stage", "seen")], get(&c.dhcp_frames)),
                ([("stage", "parsed")], get(&c.dhcp_parsed)),
                ([("stage", "parse_error")], get(&c.dhcp_parse_errors)),
            ],
        )?;
        family(
            e,
            "dhcp_kernel_frames",
            "frames of the packet socket, from the kernel's PACKET_STATISTICS",
            Counter,
            &[
                ([("outcome", "passed")], get(&c.dhcp_kernel_packets)),
                ([("outcome", "dropped")], get(&c.dhcp_kernel_drops)),
            ],
        )?;
        single(
            e,
            "dhcp_sightings_dropped",
            "sightings the writer's full queue refused",
            Counter,
            get(&c.dhcp_rows_dropped),
        )?;
        single(
            e,
            "dhcp_rogue_server_replies",
            "replies from DHCP servers that are not trusted",
            Counter,
            get(&c.dhcp_rogue),
        )?;

        single(
            e,
            "disconnects_sent",
            "Disconnect-Requests sent to a NAS",
            Counter,
            get(&c.disconnects_sent),
        )?;
        family(
            e,
            "disconnect_results",
            "outcomes of Disconnect-Requests",
            Counter,
            &[
                ([("result", "ack")], get(&c.disconnects_acked)),
                ([("result", "nak")], get(&c.disconnects_naked)),
                ([("result", "timeout")], get(&c.disconnects_timed_out)),
                ([("result", "deferred")], get(&c.disconnects_deferred)),
            ],
        )?;
        Ok(())
    }
}

/// Binds the endpoint's listener.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    let err = |source| ServerError::Bind { addr, source };
    let std = std::net::TcpListener::bind(addr).map_err(err)?;
    std.set_nonblocking(true).map_err(err)?;
    TcpListener::from_std(std).map_err(err)
}

/// Serves scrapes until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    exporter: Arc<Exporter>,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and the like: wait a little instead of spinning.
                debug!(error = %e, "metrics accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            debug!(peer = %peer, "metrics: too many connections; closed");
            continue;
        };
        let exporter = exporter.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = answer(stream, &exporter).await {
                debug!(peer = %peer, error = %e, "metrics connection ended");
            }
        });
    }
}

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    /// `GET /metrics` (or HEAD: the same without a body).
    Metrics {
        head: bool,
    },
    NotFound,
    Malformed,
    TooLarge,
}

/// Reads one request head (bounded in size and time) and answers it; one request per
/// connection.
async fn answer(stream: TcpStream, exporter: &Exporter) -> std::io::Result<()> {
    let mut buf = vec![0u8; MAX_REQUEST];
    let mut len = 0;
    let request = tokio::time::timeout(IO_TIMEOUT, async {
        loop {
            if let Some(end) = head_end(buf.get(..len).unwrap_or_default()) {
                return Ok(parse(buf.get(..end).unwrap_or_default()));
            }
            let Some(free) = buf.get_mut(len..) else {
                return Ok(Request::TooLarge);
            };
            if free.is_empty() {
                return Ok(Request::TooLarge);
            }
            // readiness + try_read: the few bytes of a scrape need no buffered I/O layer.
            stream.readable().await?;
            match stream.try_read(free) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;

    let (status, body, head) = match request {
        Request::Metrics { head } => ("200 OK", exporter.render(), head),
        Request::NotFound => ("404 Not Found", "not found; try /metrics\n".into(), false),
        Request::Malformed => ("400 Bad Request", "bad request\n".into(), false),
        Request::TooLarge => (
            "431 Request Header Fields Too Large",
            "request too large\n".into(),
            false,
        ),
    };
    let content_type = if status.starts_with("200") {
        CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head {
        out.extend_from_slice(body.as_bytes());
    }
    tokio::time::timeout(IO_TIMEOUT, async {
        let mut rest = out.as_slice();
        while !rest.is_empty() {
            stream.writable().await?;
            match stream.try_write(rest) {
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })
    .await
    .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
}

/// The length of the request head including its blank line, once it is complete.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Looks at the request line only; headers are ignored and a body is never read.
fn parse(head: &[u8]) -> Request {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let Ok(line) = std::str::from_utf8(line) else {
        return Request::Malformed;
    };
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Request::Malformed;
    };
    if !version.starts_with("HTTP/1.") {
        return Request::Malformed;
    }
    let path = target.split('?').next().unwrap_or(target);
    match (method, path) {
        ("GET", "/metrics") => Request::Metrics { head: false },
        ("HEAD", "/metrics") => Request::Metrics { head: true },
        _ => Request::NotFound,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::model::Module;
    use crate::policy::Reason;
    use crate::server::LATENCY_BUCKETS_US;

    #[test]
    fn request_lines() {
        let p = |s: &str| parse(s.as_bytes());
        assert_eq!(
            p("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Request::Metrics { head: false }
        );
        assert_eq!(
            p("GET /metrics?name[]=x HTTP/1.0\r\n\r\n"),
            Request::Metrics { head: false }
        );
        assert_eq!(
            p("HEAD /metrics HTTP/1.1\r\n\r\n"),
            Request::Metrics { head: true }
        );
        assert_eq!(p("GET / HTTP/1.1\r\n\r\n"), Request::NotFound);
        assert_eq!(p("POST /metrics HTTP/1.1\r\n\r\n"), Request::NotFound);
        assert_eq!(p("GET /metrics/x HTTP/1.1\r\n\r\n"), Request::NotFound);
        assert_eq!(p("GET /metrics\r\n\r\n"), Request::Malformed);
        assert_eq!(p("GET /metrics SPDY/3\r\n\r\n"), Request::Malformed);
        assert_eq!(p("GET  /metrics HTTP/1.1\r\n\r\n"), Request::Malformed);
        assert_eq!(parse(b"\xff\xfe /metrics HTTP/1.1"), Request::Malformed);
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_in_the_count() {
        let h = LatencyHistogram::default();
        h.observe(Duration::from_micros(3));
        h.observe(Duration::from_micros(10));
        h.observe(Duration::from_micros(11));
        h.observe(Duration::from_millis(30));
        h.observe(Duration::from_secs(2));
        let (sum, count, per_bucket) = h.snapshot();
        assert_eq!(count, 5);
        assert!((sum - 2.030_024).abs() < 1e-9, "{sum}");
        assert_eq!(per_bucket.len(), LATENCY_BUCKETS_US.len() + 1);
        let mut total = 0;
        let buckets: Vec<(f64, u64)> = per_bucket
            .iter()
            .map(|&(le, n)| {
                total += n;
                (le, total)
            })
            .collect();
        let at = |le: f64| buckets.iter().find(|b| b.0 == le).unwrap().1;
        assert_eq!(at(0.000_01), 2, "10 µs is inside the 10 µs bucket");
        assert_eq!(at(0.000_025), 3);
        assert_eq!(at(0.025), 3);
        assert_eq!(at(0.05), 4);
        assert_eq!(at(1.0), 4);
        assert_eq!(buckets.last().copied(), Some((f64::INFINITY, 5)));
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn the_text_format_has_every_family_and_the_counted_values() {
        let dir = tempfile::tempdir().unwrap();
        let writer =
            crate::store::spawn_writer(crate::store::WriterConfig::new(dir.path().join("db")))
                .unwrap();
        let c = Arc::new(Counters::default());
        c.inc(&c.access_requests);
        c.inc(&c.access_requests);
        c.count_decision(Reason::Banned, Module::Wifi);
        c.per_client.inc("wlan-controller", |p| &p.requests);
        c.per_client
            .inc("wlan-controller", |p| &p.bad_authenticator);
        c.auth_latency_mab.observe(Duration::from_micros(40));
        let body = Exporter::new(c.clone(), writer.clone()).render();
        for line in [
            "hallpass_requests_total{type=\"access\"} 2",
            "hallpass_requests_total{type=\"status_server\"} 0",
            "hallpass_decisions_total{reason=\"banned\",module=\"wifi\"} 1",
            "hallpass_decisions_total{reason=\"banned\",module=\"lan\"} 0",
            "hallpass_client_requests_total{client=\"wlan-controller\"} 1",
            "hallpass_client_dropped_total{client=\"wlan-controller\",reason=\"bad_authenticator\"} 1",
            "hallpass_auth_duration_seconds_bucket{kind=\"mab\",le=\"5e-05\"} 1",
            "hallpass_auth_duration_seconds_bucket{kind=\"mab\",le=\"0.001\"} 1",
            "hallpass_auth_duration_seconds_bucket{kind=\"mab\",le=\"+Inf\"} 1",
            "hallpass_auth_duration_seconds_bucket{kind=\"mab\",le=\"2.5e-05\"} 0",
            "hallpass_auth_duration_seconds_count{kind=\"mab\"} 1",
            "hallpass_store_queue_depth 0",
            "hallpass_accounting_records_total{result=\"committed\"} 0",
            "# TYPE hallpass_auth_duration_seconds histogram",
            "# TYPE hallpass_store_queue_depth gauge",
        ] {
            assert!(
                body.lines().any(|l| l == line),
                "no line {line:?} in:\n{body}"
            );
        }
        c.per_client.retain(|name| name != "wlan-controller");
        let body = Exporter::new(c, writer.clone()).render();
        assert!(!body.contains("wlan-controller"), "{body}");
        writer.shutdown().unwrap();
    }
}
