//! The auth log as the receive threads feed it: 50k decision rows queued into the store's
//! writer (WAL, `synchronous=NORMAL` for log-only batches, group commit), then a flush; an
//! iteration ends when all are committed. Criterion reports rows/s; the writer thread's own
//! CPU time per row (the figure the one-core comparison with FreeRADIUS pays) is printed at
//! the end, read from /proc.
//!
//! Run: `cargo bench --bench store_auth_log -- --warm-up-time 1 --measurement-time 5`

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hallpass::model::{MacAddr, Module};
use hallpass::store::AuthLogRow;
use jiff::Timestamp;

const ROWS: usize = 50_000;

fn bench_auth_log(c: &mut Criterion) {
    let Some((_dir, writer)) = support::temp_writer() else {
        return;
    };
    let client: Arc<str> = Arc::from("wlc-1");
    let users: Vec<Arc<str>> = (0..1000).map(|i| Arc::from(format!("user{i}"))).collect();
    let mut n = 0u64;
    // The thread names itself when it starts; after a flush it surely has.
    if let Err(e) = writer.flush() {
        eprintln!("flush: {e}");
    }
    let cpu_start = support::thread_cpu("hallpass-writer");
    let written_start = writer.written();

    let mut group = c.benchmark_group("store_auth_log");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    group.bench_function("50k_rows", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for _ in 0..iters {
                for _ in 0..ROWS {
                    n += 1;
                    let row = AuthLogRow {
                        time: Timestamp::now(),
                        client: Arc::clone(&client),
                        client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
                        mac: Some(MacAddr([
                            0x3c,
                            0x22,
                            0,
                            (n >> 16) as u8,
                            (n >> 8) as u8,
                            n as u8,
                        ])),
                        user: users.get(n as usize % users.len()).cloned(),
                        module: Module::Wifi,
                        accepted: true,
                        reason: "accepted",
                        vlan: Some(20),
                        method: None,
                    };
                    // The queue holds 64k rows; keep below it, as a steady NAS load would.
                    while writer.queue_depth() > 32_000 {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    writer.log_auth(row);
                }
                if let Err(e) = writer.flush() {
                    eprintln!("flush: {e}");
                }
            }
            started.elapsed()
        });
    });
    group.finish();
    let written = writer.written() - written_start;
    eprintln!("{written} rows written, {} dropped", writer.dropped());
    if let (Some(a), Some(b)) = (cpu_start, support::thread_cpu("hallpass-writer"))
        && written > 0
    {
        let per = (b - a).as_secs_f64() / written as f64;
        eprintln!("writer thread CPU: {:.2} µs per row", per * 1e6);
    }
    if let Err(e) = writer.shutdown() {
        eprintln!("writer shutdown: {e}");
    }
}

criterion_group!(benches, bench_auth_log);
criterion_main!(benches);
