//! A full and a read-only state disk (root: mount): authentication keeps answering, log
//! rows are dropped and counted, accounting is not acknowledged until the disk is repaired.

use super::*;

fn require_root(what: &str) {
    let uid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "{what} needs root (mount); run the suite as root"
    );
}

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Unmounts when dropped, so a failing test leaves no mount behind.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Sends `req` every 500 ms until answered or `timeout`; the answer.
fn retry_until_answered(to: SocketAddr, req: &[u8], timeout: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    while Instant::now() < deadline {
        if let Some(r) = wire::exchange_on(&s, to, req, Duration::from_millis(500)) {
            return Some(r);
        }
    }
    None
}

fn auth_log_rows(db_path: &Path) -> i64 {
    db(db_path)
        .query_row("SELECT count(*) FROM auth_log", [], |r| r.get(0))
        .unwrap()
}

/// New accounting requests until one is not answered; that one, for retrying later.
fn first_unanswered(d: &Daemon, prefix: &str, acked: &mut Vec<String>) -> (String, Vec<u8>) {
    for i in 0..400u32 {
        let sid = format!("{prefix}-{i}");
        let req = acct_start((i % 256) as u8, &sid);
        match wire::exchange(d.acct, &req, Duration::from_millis(500)) {
            Some(r) => {
                wire::check_reply(&r, &req, SECRET.as_bytes());
                acked.push(sid);
            }
            None => return (sid, req),
        }
    }
    panic!("accounting kept answering on a broken disk");
}

fn authentication_keeps_answering(d: &Daemon, n: usize) {
    for i in 0..n {
        legit_still_works(d, &format!("auth request {i} on a broken disk"));
    }
}

#[test]
fn a_full_disk_drops_log_rows_stops_accounting_and_both_recover() {
    let _one_at_a_time = timed();
    require_root("the full-disk test");
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let state = cfg.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    run(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            "size=3m",
            "tmpfs",
            state.to_str().unwrap(),
        ],
    );
    let _mount = Mounted(state.clone());
    let mut d = Daemon::start(&cfg);
    let mut acked = Vec::new();
    let warm = acct_start(0, "before-full");
    assert!(retry_until_answered(d.acct, &warm, Duration::from_secs(3)).is_some());
    acked.push("before-full".to_string());
    legit_still_works(&d, "start");

    // fill the disk
    let filler = state.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 16 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }
    let before = counters(&mut d);
    let (lost_sid, lost_req) = first_unanswered(&d, "full", &mut acked);
    authentication_keeps_answering(&d, 20);
    let during = failed_rows_counted(&mut d, &before);
    assert!(delta(&before, &during, "acct_failed") >= 1, "{during:?}");
    assert!(
        delta(&before, &during, "writer_failed_rows") >= 1,
        "auth log rows lost and counted: {during:?}"
    );
    assert_eq!(
        delta(&before, &during, "acct_committed") as usize,
        acked.len() - 1
    );

    // free the space: the NAS's retry of the unanswered request is answered and stored
    std::fs::remove_file(&filler).unwrap();
    let reply = retry_until_answered(d.acct, &lost_req, Duration::from_secs(40))
        .expect("accounting answers again once the disk has room");
    wire::check_reply(&reply, &lost_req, SECRET.as_bytes());
    acked.push(lost_sid);
    let logged = auth_log_rows(&cfg.db_path());
    legit_still_works(&d, "recovery");
    let deadline = Instant::now() + Duration::from_secs(10);
    while auth_log_rows(&cfg.db_path()) <= logged {
        assert!(Instant::now() < deadline, "auth log rows are written again");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(d.stop().success());
    let missing = missing_sessions(&cfg.db_path(), &acked);
    assert!(missing.is_empty(), "acknowledged records lost: {missing:?}");
}

/// A state disk that turns read-only under the running daemon. The kernel refuses
/// `mount -o remount,ro` while the database is open for writing (EBUSY), so this uses what
/// makes a disk read-only in real life: an ext4 error with errors=remount-ro (triggered
/// through sysfs on a loop device). That state cannot be remounted read-write; recovery is
/// what an admin does: stop, fsck, mount, start — and the NAS's retries are then stored.
/// The counters once the log rows of the answers just given have reached the disk and
/// failed there: the writer commits log rows at most its linger (a second) after they come.
fn failed_rows_counted(d: &mut Daemon, before: &HashMap<String, u64>) -> HashMap<String, u64> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = counters(d);
        if delta(before, &now, "writer_failed_rows") >= 1 || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_read_only_disk_keeps_auth_answering_and_accounting_waits_for_the_repair() {
    let _one_at_a_time = timed();
    require_root("the read-only-disk test");
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let state = cfg.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let image = cfg.path().join("state.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(32 << 20)
        .unwrap();
    run("mkfs.ext4", &["-q", "-F", image.to_str().unwrap()]);
    let mount = |s: &Path| {
        run(
            "mount",
            &[
                "-o",
                "loop,errors=remount-ro",
                image.to_str().unwrap(),
                s.to_str().unwrap(),
            ],
        )
    };
    mount(&state);
    let guard = Mounted(state.clone());
    let mut d = Daemon::start(&cfg);
    let mut acked = Vec::new();
    let warm = acct_start(0, "before-ro");
    assert!(retry_until_answered(d.acct, &warm, Duration::from_secs(3)).is_some());
    acked.push("before-ro".to_string());

    let source = Command::new("findmnt")
        .args(["-n", "-o", "SOURCE"])
        .arg(&state)
        .output()
        .unwrap();
    let dev = String::from_utf8_lossy(&source.stdout)
        .trim()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    std::fs::write(format!("/sys/fs/ext4/{dev}/trigger_fs_error"), "1").unwrap();
    assert!(
        std::fs::write(state.join("probe"), "x").is_err(),
        "the disk is read-only now"
    );

    let before = counters(&mut d);
    let (lost_sid, lost_req) = first_unanswered(&d, "ro", &mut acked);
    authentication_keeps_answering(&d, 20);
    let during = failed_rows_counted(&mut d, &before);
    assert!(delta(&before, &during, "acct_failed") >= 1, "{during:?}");
    assert!(
        delta(&before, &during, "writer_failed_rows") >= 1,
        "{during:?}"
    );
    // still not answered on retry while the disk is read-only
    assert!(wire::exchange(d.acct, &lost_req, Duration::from_millis(500)).is_none());

    // the repair
    let _ = d.stop();
    // a real unmount (not the guard's lazy one) before fsck touches the image
    let deadline = Instant::now() + Duration::from_secs(10);
    while !Command::new("umount")
        .arg(&state)
        .status()
        .unwrap()
        .success()
    {
        assert!(
            Instant::now() < deadline,
            "the broken disk cannot be unmounted"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::mem::forget(guard);
    let fsck = Command::new("e2fsck")
        .args(["-f", "-y"])
        .arg(&image)
        .output()
        .unwrap();
    assert!(
        fsck.status.code().is_some_and(|c| c <= 1),
        "e2fsck: {fsck:?}"
    );
    // The loop device of the broken mount is released asynchronously; a mount that still
    // finds it gets the old, read-only file system back. Mount until writable.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        mount(&state);
        if std::fs::write(state.join("probe"), "x").is_ok() {
            break;
        }
        run("umount", &[state.to_str().unwrap()]);
        assert!(
            Instant::now() < deadline,
            "the repaired disk stays read-only"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let _guard = Mounted(state.clone());
    let d = Daemon::start(&cfg);
    let reply =
        retry_until_answered(d.acct, &lost_req, Duration::from_secs(30)).unwrap_or_else(|| {
            panic!(
                "the NAS's retry is not answered after the repair:\n{}",
                d.log_lines().join("\n")
            )
        });
    wire::check_reply(&reply, &lost_req, SECRET.as_bytes());
    acked.push(lost_sid);
    legit_still_works(&d, "repair");
    assert!(d.stop().success());
    let missing = missing_sessions(&cfg.db_path(), &acked);
    assert!(missing.is_empty(), "acknowledged records lost: {missing:?}");
}
