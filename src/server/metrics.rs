//! The Prometheus metrics endpoint: a collector that reads the listeners' `Counters` and the
//! writer's getters at scrape time (nothing is counted twice), and an HTTP/1.1 server (hyper)
//! on a TCP listener: `GET /metrics` gets the Prometheus text format, anything else a 404.
//! Bounded in every direction: at most 8 KiB of request head, read within a header timeout;
//! a deadline per connection; one request per connection; a fixed number of connections, a
//! new one closing the oldest, so idle connections cannot lock scrapes out.
//!
//! Must not: export anything secret or personal (no secrets, passwords, user names, MAC or
//! IP addresses of devices — client names are the admin's labels of NAS), or parse HTTP by
//! hand (hyper does: its header timeout and connection handling are maintained and tested
//! far beyond what one endpoint could).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tracing::debug;

use super::{Counters, LatencyHistogram, RateLimitedLog, ServerError};
use crate::store::WriterHandle;

/// The largest request head read; a longer one is answered 431 and closed (hyper's
/// smallest read buffer).
pub const MAX_REQUEST: usize = 8 * 1024;
/// Connections open at once; one more closes the oldest.
pub const MAX_CONNECTIONS: usize = 64;
/// Time a client has from connecting to the end of its request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for the whole exchange, a slowly read answer included.
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(15);
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
                ([("reason", "fair_share")], get(&c.dropped_fair_share)),
            ],
        )?;
        single(
            e,
            "login_failures",
            "failed password checks (PAP, TTLS/PAP, PEAP-MSCHAPv2), known and unknown accounts",
            Counter,
            get(&c.login_failures),
        )?;
        single(
            e,
            "login_failure_warnings",
            "times an account reached [server] failed_logins_warning failures within 10 minutes",
            Counter,
            get(&c.login_failure_warnings),
        )?;
        single(
            e,
            "login_paused",
            "attempts answered too_many_failures without a check: their client pauses for the account",
            Counter,
            get(&c.login_paused),
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
        let handshakes = c.eap.handshakes().map(|(m, h)| ([("method", m)], h));
        histograms(
            e,
            "eap_handshake_seconds",
            "time from an EAP conversation's first Access-Request to the Access-Accept or Access-Reject that ends it (the peer's round trips included), by method",
            &handshakes,
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
            "store_dhcp_queue_depth",
            "sightings and rogue-server rows waiting in their own queue (counted in store_queue_depth too)",
            Gauge,
            w.dhcp_queue_depth() as u64,
        )?;
        single(
            e,
            "store_space_low",
            "1 while the state directory is short of space (server.min_free_space, server.max_database_size) and sightings are refused",
            Gauge,
            u64::from(w.space_low()),
        )?;
        single(
            e,
            "store_sightings_refused",
            "sightings refused because the state directory was short of space",
            Counter,
            w.sightings_refused(),
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
            "log and DHCP rows dropped because their queue was full",
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
            "sightings not written: their queue was full or the state directory short of space",
            Counter,
            get(&c.dhcp_rows_dropped),
        )?;
        single(
            e,
            "dhcp_sightings_coalesced",
            "sightings of a MAC written less than a minute ago with nothing new (counted into its next write)",
            Counter,
            get(&c.dhcp_coalesced),
        )?;
        single(
            e,
            "dhcp_new_macs_not_admitted",
            "sightings of MACs not seen lately over dhcp.new_macs_per_second, not written",
            Counter,
            get(&c.dhcp_not_admitted),
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

/// Serves scrapes until `stop` turns true. Connections beyond [`MAX_CONNECTIONS`] close the
/// oldest open one: idle connections cannot lock scrapes out, and the header timeout closes
/// them anyway.
pub async fn serve(
    listener: TcpListener,
    exporter: Arc<Exporter>,
    mut stop: watch::Receiver<bool>,
) {
    let log = Arc::new(RateLimitedLog::new(Duration::from_secs(10)));
    // One sender per open connection, oldest first; a connection that ended has dropped
    // its receiver.
    let mut open: VecDeque<oneshot::Sender<()>> = VecDeque::with_capacity(MAX_CONNECTIONS);
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
        open.retain(|c| !c.is_closed());
        if open.len() >= MAX_CONNECTIONS
            && let Some(oldest) = open.pop_front()
        {
            let _ = oldest.send(());
            log.debug(
                "metrics_full",
                peer.ip(),
                format_args!("metrics: {MAX_CONNECTIONS} connections open; closed the oldest"),
            );
        }
        let (close, closed) = oneshot::channel();
        open.push_back(close);
        tokio::spawn(connection(
            stream,
            peer,
            exporter.clone(),
            closed,
            log.clone(),
        ));
    }
}

/// Serves one connection: one request (no keep-alive), its head within [`HEADER_TIMEOUT`]
/// and at most [`MAX_REQUEST`] bytes long, the whole exchange within [`CONNECTION_DEADLINE`];
/// ends early when `closed` fires.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    exporter: Arc<Exporter>,
    closed: oneshot::Receiver<()>,
    log: Arc<RateLimitedLog>,
) {
    let service = service_fn(move |request: Request<Incoming>| {
        let response = respond(request.method(), request.uri().path(), &exporter);
        std::future::ready(Ok::<_, Infallible>(response))
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_REQUEST)
        .keep_alive(false)
        .title_case_headers(true)
        .auto_date_header(false)
        .serve_connection(TokioIo::new(stream), service);
    let ended = tokio::select! {
        r = tokio::time::timeout(CONNECTION_DEADLINE, conn) => match r {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(_) => "deadline passed".to_string(),
        },
        _ = closed => "closed for a newer connection".to_string(),
    };
    log.debug(
        "metrics_connection",
        peer.ip(),
        format_args!("metrics connection from {peer} ended: {ended}"),
    );
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// `GET /metrics` (or HEAD: the same without a body).
    Metrics,
    NotFound,
}

/// Only `GET /metrics` (and HEAD) is served; the query is ignored.
fn route(method: &Method, path: &str) -> Route {
    if (method == Method::GET || method == Method::HEAD) && path == "/metrics" {
        Route::Metrics
    } else {
        Route::NotFound
    }
}

fn respond(method: &Method, path: &str, exporter: &Exporter) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match route(method, path) {
        Route::Metrics => (StatusCode::OK, CONTENT_TYPE, exporter.render()),
        Route::NotFound => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found; try /metrics\n".to_string(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::model::Module;
    use crate::policy::Reason;
    use crate::server::LATENCY_BUCKETS_US;

    #[test]
    fn only_get_and_head_of_metrics_are_routed() {
        assert_eq!(route(&Method::GET, "/metrics"), Route::Metrics);
        assert_eq!(route(&Method::HEAD, "/metrics"), Route::Metrics);
        assert_eq!(route(&Method::GET, "/"), Route::NotFound);
        assert_eq!(route(&Method::POST, "/metrics"), Route::NotFound);
        assert_eq!(route(&Method::GET, "/metrics/x"), Route::NotFound);
        assert_eq!(route(&Method::PUT, "/metrics"), Route::NotFound);
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
        c.eap.handshake_time[1].observe(Duration::from_millis(30));
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
            "hallpass_eap_handshake_seconds_bucket{method=\"ttls\",le=\"0.05\"} 1",
            "hallpass_eap_handshake_seconds_bucket{method=\"ttls\",le=\"0.025\"} 0",
            "hallpass_eap_handshake_seconds_count{method=\"ttls\"} 1",
            "hallpass_eap_handshake_seconds_count{method=\"peap\"} 0",
            "hallpass_eap_handshake_seconds_count{method=\"tls\"} 0",
            "# TYPE hallpass_eap_handshake_seconds histogram",
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
