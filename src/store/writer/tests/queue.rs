//! The queue and the handle: rows are taken without blocking, counted when dropped, batched,
//! and written in order with the barriers (flush, erase, shutdown) they are queued with.

use crate::model::Module;
use crate::store::auth_log::{AuthLogFilter, auth_log};
use crate::store::erase::tests::{
    ERIKA_PHONE, MAX_LAPTOP, MAX_PHONE, populate, rows_of_erika, rows_of_max,
};
use crate::store::records::tests::{audit, disconnect};
use crate::store::records::{audit_log, disconnects};
use crate::store::sightings::tests::seen;
use crate::store::sightings::{DhcpMessage, rogue_servers, sighting};

use super::*;

#[test]
fn logged_rows_appear_after_flush_with_all_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 64, 16, fast());
    let r = AuthLogRow {
        time: Timestamp::now(),
        client: "wlc-1".into(),
        client_ip: "192.0.2.9".parse().unwrap(),
        mac: Some("da:a1:19:00:00:01".parse().unwrap()),
        user: Some("erika.muster".into()),
        module: Module::Lan,
        accepted: false,
        reason: "device_banned",
        vlan: Some(99),
        method: None,
    };
    assert!(w.log_auth(r.clone()));
    w.flush().unwrap();
    assert_eq!(w.written(), 1);
    let got = auth_log(&open_read_only(&path).unwrap(), &AuthLogFilter::default()).unwrap();
    assert_eq!(got.len(), 1);
    let e = &got[0];
    assert_eq!(
        e.time,
        Timestamp::from_millisecond(r.time.as_millisecond()).unwrap()
    );
    assert_eq!(e.client, "wlc-1");
    assert_eq!(e.client_ip, r.client_ip);
    assert_eq!(e.mac, r.mac);
    assert_eq!(e.user.as_deref(), Some("erika.muster"));
    assert_eq!(e.module, Module::Lan);
    assert!(!e.accepted);
    assert_eq!(e.reason, "device_banned");
    assert_eq!(e.vlan, Some(99));
    w.shutdown().unwrap();
}

#[test]
fn ten_thousand_rows_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 65_536, 512, fast());
    for i in 0..10_000u32 {
        let mut r = recent();
        r.vlan = Some((i % 4094 + 1) as u16);
        assert!(w.log_auth(r));
    }
    w.flush().unwrap();
    assert_eq!(w.written(), 10_000);
    assert_eq!(w.dropped(), 0);
    assert_eq!(w.queue_depth(), 0);
    assert_eq!(count(&path), 10_000);
    w.shutdown().unwrap();
}

#[test]
fn full_queue_drops_and_counts_never_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 4, 2, fast());
    settle(&w);
    // Another connection holds the write lock: the writer waits in SQLite's busy
    // handler (30 s) and the queue fills up.
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let mut accepted = 0u64;
    let mut refused = 0u64;
    for _ in 0..50 {
        if w.log_auth(recent()) {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "log_auth blocked: {elapsed:?}"
    );
    // At most one batch (2) taken by the writer plus the queue (4).
    assert!(accepted <= 6, "accepted {accepted}");
    assert!(refused >= 44, "refused {refused}");
    assert_eq!(w.dropped(), refused);
    assert!(w.queue_depth() >= 4, "depth {}", w.queue_depth());
    holder.execute_batch("ROLLBACK").unwrap();
    w.flush().unwrap();
    assert_eq!(w.written(), accepted);
    assert_eq!(count(&path) as u64, accepted);
    assert_eq!(w.queue_depth(), 0);
    w.shutdown().unwrap();
}

#[test]
fn queue_slots_stay_small() {
    // Every queue slot is allocated up front: the big jobs are boxed.
    assert!(
        std::mem::size_of::<Job>() <= std::mem::size_of::<AuthLogRow>() + 16,
        "Job is {} bytes",
        std::mem::size_of::<Job>()
    );
}

#[test]
fn a_full_queue_refuses_accounting_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 4, 2, fast());
    settle(&w);
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let mut answers = Vec::new();
    let mut refused = 0u64;
    for i in 0..50 {
        let (done, rx) = reporting();
        match w.accounting(acct(AcctStatus::Start, &format!("S{i}")), done) {
            Ok(()) => answers.push(rx),
            Err(AccountingRejected::QueueFull) => {
                refused += 1;
                // Refused: the completion is dropped uncalled.
                assert!(matches!(
                    rx.try_recv(),
                    Err(mpsc::TryRecvError::Disconnected)
                ));
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "accounting blocked: {elapsed:?}"
    );
    assert!(answers.len() <= 6, "accepted {}", answers.len());
    assert!(refused >= 44, "refused {refused}");
    assert_eq!(w.accounting_refused(), refused);
    assert_eq!(w.dropped(), 0, "accounting is refused, not dropped");
    holder.execute_batch("ROLLBACK").unwrap();
    for rx in &answers {
        recv(rx).unwrap();
    }
    assert_eq!(count_sessions(&path) as usize, answers.len());
    w.shutdown().unwrap();
}

#[test]
fn read_only_connection_reads_while_writer_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 65_536, 64, fast());
    for _ in 0..10 {
        assert!(w.log_auth(recent()));
    }
    w.flush().unwrap();
    let ro = open_read_only(&path).unwrap();
    // An open read transaction must not block the writer (WAL): the reader keeps its
    // snapshot, the writer commits.
    ro.execute_batch("BEGIN").unwrap();
    let n = |c: &Connection| -> i64 {
        c.query_row("SELECT count(*) FROM auth_log", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(n(&ro), 10);
    for _ in 0..10 {
        assert!(w.log_auth(recent()));
    }
    w.flush().unwrap();
    assert_eq!(n(&ro), 10, "snapshot");
    ro.execute_batch("COMMIT").unwrap();
    assert_eq!(n(&ro), 20);

    // Queries running concurrently with a stream of writes.
    let producer = {
        let w = w.clone();
        std::thread::spawn(move || {
            for _ in 0..5_000 {
                w.log_auth(recent());
            }
            w.flush()
        })
    };
    let filter = AuthLogFilter {
        user: Some("max".into()),
        limit: Some(100),
        ..Default::default()
    };
    for _ in 0..50 {
        assert!(auth_log(&ro, &filter).unwrap().len() <= 100);
    }
    producer.join().unwrap().unwrap();
    assert_eq!(n(&ro), w.written() as i64);
    assert_eq!(w.written() + w.dropped(), 5_020);
    w.shutdown().unwrap();
}

#[test]
fn shutdown_flushes_and_stops_other_clones() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 65_536, 100, fast());
    let other = w.clone();
    for _ in 0..1_000 {
        assert!(w.log_auth(recent()));
    }
    w.shutdown().unwrap();
    assert_eq!(count(&path), 1_000);
    assert!(!other.log_auth(recent()));
    assert_eq!(other.dropped(), 1);
    assert!(matches!(other.flush(), Err(StoreError::ShuttingDown)));
    assert!(matches!(other.shutdown(), Err(StoreError::ShuttingDown)));
}

#[test]
fn dropping_every_handle_still_writes_what_was_queued() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 65_536, 100, fast());
    for _ in 0..100 {
        assert!(w.log_auth(recent()));
    }
    drop(w);
    assert!(wait_until(|| count(&path) == 100));
}

#[test]
fn after_shutdown_accounting_and_erase_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, w) = start(dir.path(), 1024, 64, fast());
    let other = w.clone();
    w.shutdown().unwrap();
    let (done, _rx) = reporting();
    assert_eq!(
        other.accounting(acct(AcctStatus::Start, "S1"), done),
        Err(AccountingRejected::ShuttingDown)
    );
    let (tx, rx) = mpsc::channel();
    other.erase(
        Some("max".into()),
        Vec::new(),
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    assert!(matches!(
        rx.try_recv().unwrap(),
        Err(StoreError::Rejected(AccountingRejected::ShuttingDown))
    ));
}

#[test]
fn sightings_rogues_disconnects_and_audit_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 1024, 64, fast());
    let now = Timestamp::now();
    let mac = "da:a1:19:00:00:01";
    for m in [
        DhcpMessage::Discover,
        DhcpMessage::Request,
        DhcpMessage::Ack,
    ] {
        let mut s = seen(mac, "2026-01-01T00:00:00Z", m);
        s.time = now;
        s.hostname = Some("tablet".into());
        assert!(w.sighting(s));
    }
    assert!(w.rogue_server(RogueServerSeen {
        server_ip: "192.168.0.1".parse().unwrap(),
        server_mac: mac.parse().unwrap(),
        time: now,
        message: DhcpMessage::Offer,
        interface: None,
    }));
    let mut d = disconnect("2026-01-01T00:00:00Z", "max", mac);
    d.time = now;
    assert!(w.disconnect_result(d));
    let mut a = audit("2026-01-01T00:00:00Z", "max");
    a.time = now;
    assert!(w.audit(a.clone()));
    w.flush().unwrap();
    assert_eq!(w.written(), 6);
    let ro = open_read_only(&path).unwrap();
    let s = sighting(&ro, mac.parse().unwrap()).unwrap().unwrap();
    assert_eq!(
        (s.counts.discover, s.counts.request, s.counts.ack),
        (1, 1, 1)
    );
    assert_eq!(s.hostname.as_deref(), Some("tablet"));
    assert_eq!(rogue_servers(&ro).unwrap()[0].offers, 1);
    assert_eq!(
        disconnects(&ro, None).unwrap()[0].user.as_deref(),
        Some("max")
    );
    assert_eq!(audit_log(&ro, None).unwrap()[0].record.actor, a.actor);
    w.shutdown().unwrap();
}

#[test]
fn erase_through_the_writer_after_what_was_queued() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = start(dir.path(), 1024, 64, fast());
    settle(&w);
    populate(&Connection::open(&path).unwrap());
    // Queued before the erasure: erased too.
    assert!(w.log_auth(row("2026-11-27T07:00:00Z", Some(MAX_PHONE), None)));
    let (tx, rx) = mpsc::channel();
    w.erase(
        Some("max".into()),
        vec![MAX_PHONE.parse().unwrap(), MAX_LAPTOP.parse().unwrap()],
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    let counts = rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
    assert_eq!(counts.auth_log, 4);
    assert_eq!(counts.total(), 15);
    let ro = open_read_only(&path).unwrap();
    assert_eq!(rows_of_max(&ro), 0);
    assert_eq!(rows_of_erika(&ro), 7);
    assert!(
        sighting(&ro, ERIKA_PHONE.parse().unwrap())
            .unwrap()
            .is_some()
    );
    w.shutdown().unwrap();
}
