//! A hundred reloads (valid and broken) under load: no request fails, and every answer fits
//! a config that was in force at the time.

use super::*;

/// One answer for max.muster (whose Wi-Fi ban is toggled by the reloads).
struct Observation {
    sent: Instant,
    received: Instant,
    accepted: bool,
}

/// A reload and the ban state it put in force (broken configs change nothing).
struct Reload {
    signalled: Instant,
    done: Instant,
    banned: bool,
}

#[test]
fn a_hundred_reloads_under_load_fail_no_request_and_every_answer_fits_a_config() {
    let _one_at_a_time = timed();
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let unbanned = std::fs::read_to_string(cfg.path().join("bans.toml")).unwrap();
    let banned = format!(
        "{unbanned}\n[[ban]]\nuser = \"max.muster\"\nmodules = [\"wifi\"]\nreason = \"Umschalter\"\n"
    );
    let mut d = Daemon::start(&cfg);
    let addr = d.addr;
    // The load runs in parts of a second until the reloads are over, however long a
    // crowded machine makes them take; each part's report is judged.
    let stop = Arc::new(AtomicBool::new(false));
    let load_stop = stop.clone();
    let load = std::thread::spawn(move || {
        let mut parts = Vec::new();
        while parts.is_empty() || !load_stop.load(Ordering::Relaxed) {
            let part = mab_load(addr, TEACHER_MAC, 2000, Duration::from_secs(1));
            parts.push(loadgen::run(&part).unwrap());
        }
        parts
    });

    let watcher_stop = stop.clone();
    let watcher = std::thread::spawn(move || {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut seen = Vec::new();
        let mut id = 0u8;
        while !watcher_stop.load(Ordering::Relaxed) {
            id = id.wrapping_add(1);
            let req = mab_request(id, MAX_MAC);
            let sent = Instant::now();
            let reply =
                wire::exchange_on(&s, addr, &req, Duration::from_secs(2)).unwrap_or_else(|| {
                    panic!("request {} for the toggled user not answered", seen.len())
                });
            let received = Instant::now();
            wire::check_reply(&reply, &req, SECRET.as_bytes());
            let accepted = match reply[0] {
                wire::ACCESS_ACCEPT => {
                    assert_eq!(
                        attr_value(&reply, TUNNEL_PRIVATE_GROUP_ID).as_deref(),
                        Some(&b"20"[..])
                    );
                    true
                }
                wire::ACCESS_REJECT => {
                    let msg = attr_value(&reply, REPLY_MESSAGE).expect("a Reply-Message");
                    assert!(
                        String::from_utf8_lossy(&msg).contains("gesperrt"),
                        "{}",
                        String::from_utf8_lossy(&msg)
                    );
                    false
                }
                other => panic!("code {other}"),
            };
            seen.push(Observation {
                sent,
                received,
                accepted,
            });
            std::thread::sleep(Duration::from_millis(5));
        }
        seen
    });

    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let mut reloads = Vec::new();
    let mut ban = false;
    for i in 0..100 {
        let valid = i % 2 == 0;
        if valid {
            ban = !ban;
            cfg.write("bans.toml", if ban { &banned } else { &unbanned });
        } else {
            cfg.write(
                "bans.toml",
                "[[ban]]\nuser = \"max.muster\"\nmodules = [\"wifi\"\n",
            );
        }
        let signalled = Instant::now();
        let outcome = d.reload();
        let done = Instant::now();
        if valid {
            assert!(outcome.contains("config reloaded"), "reload {i}: {outcome}");
            reloads.push(Reload {
                signalled,
                done,
                banned: ban,
            });
        } else {
            assert!(outcome.contains("reload failed"), "reload {i}: {outcome}");
        }
        std::thread::sleep(Duration::from_millis(40));
    }
    let reload_time = started.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let seen = watcher.join().unwrap();
    let parts = load.join().unwrap();
    let sent: u64 = parts.iter().map(|r| r.sent).sum();
    eprintln!(
        "100 reloads in {reload_time:?}; {} answers for the toggled user; load: {sent} requests in {} parts",
        seen.len(),
        parts.len()
    );
    // zero failures: every request answered within the NAS's 3 s retry timer
    for (i, report) in parts.iter().enumerate() {
        assert_clean(&format!("load during reloads, part {i}"), report);
    }

    // Which ban states may an answer reflect? State k (after valid reload k) may be in force
    // from the moment reload k was signalled until reload k+1 was confirmed.
    let windows: Vec<(Option<Instant>, Option<Instant>, bool)> =
        std::iter::once((None, reloads.first().map(|r| r.done), false))
            .chain(reloads.iter().enumerate().map(|(k, r)| {
                (
                    Some(r.signalled),
                    reloads.get(k + 1).map(|n| n.done),
                    r.banned,
                )
            }))
            .collect();
    let (mut accepts, mut rejects) = (0, 0);
    for (n, o) in seen.iter().enumerate() {
        let fits = windows.iter().any(|(from, until, banned)| {
            from.is_none_or(|f| f <= o.received)
                && until.is_none_or(|u| o.sent <= u)
                && *banned != o.accepted
        });
        assert!(
            fits,
            "answer {n} ({}) fits no config in force at the time",
            if o.accepted { "accept" } else { "reject" }
        );
        if o.accepted {
            accepts += 1
        } else {
            rejects += 1
        }
    }
    assert!(
        accepts > 10 && rejects > 10,
        "both states observed: {accepts} accepts, {rejects} rejects"
    );
    assert!(d.stop().success());
}
