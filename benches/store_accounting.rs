//! Accounting throughput of the store's writer with durable commits (WAL,
//! `synchronous=FULL`, group commit): 20k records (5k sessions × Start, Interim, Interim,
//! Stop) are queued with a completion each; an iteration ends when every completion has
//! reported its commit. Criterion reports records/s (elements/s).
//!
//! The database lives under cargo's target tmp dir, on the same disk as the build (not a
//! tmpfs), so the fsyncs are real.
//!
//! Run: `cargo bench --bench store_accounting -- --warm-up-time 1 --measurement-time 5`

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod support;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hallpass::model::{MacAddr, Module};
use hallpass::store::{
    AccountingDone, AccountingRecord, AccountingRejected, AcctStatus, StoreError,
};
use jiff::Timestamp;

const SESSIONS: usize = 5_000;
const STATUSES: [AcctStatus; 4] = [
    AcctStatus::Start,
    AcctStatus::Interim,
    AcctStatus::Interim,
    AcctStatus::Stop,
];
const RECORDS: usize = SESSIONS * STATUSES.len();

fn record(client: &Arc<str>, id: &str, status: AcctStatus, n: u64) -> AccountingRecord {
    AccountingRecord {
        status,
        client: Arc::clone(client),
        acct_session_id: id.to_string(),
        mac: Some(MacAddr([
            0x02,
            0,
            0,
            (n >> 16) as u8,
            (n >> 8) as u8,
            n as u8,
        ])),
        user: Some(format!("user{}", n % 1000)),
        module: Some(Module::Wifi),
        nas_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))),
        nas_port: Some(7),
        called_station_id: Some("00-11-22-33-44-55:Schule".into()),
        framed_ip: None,
        time: Timestamp::now(),
        input_octets: n * 1000,
        output_octets: n * 3000,
        session_time: 60,
        terminate_cause: (status == AcctStatus::Stop).then_some(1),
        interim_interval: Some(300),
    }
}

fn bench_accounting(c: &mut Criterion) {
    let Some((_dir, writer)) = support::temp_writer() else {
        return;
    };
    let client: Arc<str> = Arc::from("wlc-1");
    let mut round = 0u64;
    let cpu_start = support::process_cpu();

    let mut group = c.benchmark_group("store_accounting");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sample_size(10);
    group.bench_function("20k_records_durable", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                let ids: Vec<String> = (0..SESSIONS).map(|s| format!("r{round}-s{s}")).collect();
                let (tx, rx) = mpsc::channel::<Result<(), StoreError>>();
                let started = Instant::now();
                for status in STATUSES {
                    for (s, id) in ids.iter().enumerate() {
                        let mut rec = record(&client, id, status, s as u64);
                        loop {
                            let tx = tx.clone();
                            let done: AccountingDone = Box::new(move |r| {
                                let _ = tx.send(r);
                            });
                            match writer.accounting(rec, done) {
                                Ok(()) => break,
                                // Like a NAS: retry a moment later.
                                Err(AccountingRejected::QueueFull) => {
                                    std::thread::sleep(Duration::from_micros(100));
                                    rec = record(&client, id, status, s as u64);
                                }
                                Err(AccountingRejected::ShuttingDown) => return total,
                            }
                        }
                    }
                }
                let mut failed = 0usize;
                for _ in 0..RECORDS {
                    match rx.recv() {
                        Ok(Ok(())) => {}
                        _ => failed += 1,
                    }
                }
                total += started.elapsed();
                if failed > 0 {
                    eprintln!("{failed} records were not committed");
                }
            }
            total
        });
    });
    group.finish();
    let committed = writer.accounting_committed();
    eprintln!(
        "committed {committed} accounting records, {} failed, {} refused",
        writer.accounting_failed(),
        writer.accounting_refused()
    );
    if let (Some(a), Some(b)) = (cpu_start, support::process_cpu())
        && committed > 0
    {
        let per = (b - a) / u32::try_from(committed).unwrap_or(u32::MAX);
        eprintln!(
            "process CPU (producer + writer): {:.1} µs per record",
            per.as_secs_f64() * 1e6
        );
    }
    if let Err(e) = writer.shutdown() {
        eprintln!("writer shutdown: {e}");
    }
}

criterion_group!(benches, bench_accounting);
criterion_main!(benches);
