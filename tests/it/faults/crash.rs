//! `kill -9` during authentication and accounting load: the database opens, passes its
//! integrity check, and holds every accounting record that was acknowledged.

use super::*;

#[test]
fn kill_9_during_auth_and_accounting_load_loses_no_acknowledged_record() {
    let _one_at_a_time = timed();
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let d = Daemon::start(&cfg);
    let (auth_addr, target) = (d.addr, d.acct);
    // authentication, closed loop, while accounting floods
    let auth = std::thread::spawn(move || {
        let mut o = mab_load(auth_addr, TEACHER_MAC, 1, Duration::from_secs(4));
        o.rate = None;
        o.concurrency = 32;
        o.timeout = Duration::from_millis(500);
        loadgen::run(&o).unwrap()
    });
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_nonblocking(true).unwrap();
    let mut acked: Vec<String> = Vec::new();
    let mut in_flight: HashMap<u8, (String, Vec<u8>)> = HashMap::new();
    let mut next = 0u32;
    // 3 s of load, and on until 500 records were acknowledged (a crowded machine's disk
    // may take longer), but never more than 60 s
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(3)
        || (acked.len() < 500 && started.elapsed() < Duration::from_secs(60))
    {
        while in_flight.len() < 200 {
            let id = (next % 256) as u8;
            if in_flight.contains_key(&id) {
                break;
            }
            let sid = format!("mixed-{next}");
            let req = acct_start(id, &sid);
            let _ = s.send_to(&req, target);
            in_flight.insert(id, (sid, req));
            next += 1;
        }
        match s.recv_from(&mut buf) {
            Ok((n, _)) => {
                if let Some((sid, req)) = in_flight.remove(&buf[1]) {
                    wire::check_reply(&buf[..n], &req, SECRET.as_bytes());
                    acked.push(sid);
                }
            }
            Err(_) => std::thread::sleep(Duration::from_micros(200)),
        }
    }
    // kill -9 with both loads running and accounting requests in flight
    d.kill9();
    let auth = auth.join().unwrap();
    assert!(
        acked.len() >= 500,
        "only {} accounting requests answered",
        acked.len()
    );
    assert!(
        auth.accepts >= 500,
        "auth load ran alongside: {}",
        auth.to_text()
    );
    assert_eq!(auth.bad_replies, 0);

    let d = Daemon::start(&cfg);
    let missing = missing_sessions(&cfg.db_path(), &acked);
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged records lost, e.g. {:?}",
        missing.len(),
        acked.len(),
        missing.first()
    );
    legit_still_works(&d, "restart after kill -9");
    let req = acct_start(1, "after-restart");
    let reply =
        wire::exchange(d.acct, &req, Duration::from_secs(3)).expect("accounting after restart");
    wire::check_reply(&reply, &req, SECRET.as_bytes());
    eprintln!(
        "kill -9: {} acknowledged, none lost; auth: {}",
        acked.len(),
        auth.to_text()
    );
    assert!(d.stop().success());
}
