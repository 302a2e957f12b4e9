//! What the store benches share: a writer on a fresh database under cargo's target tmp dir
//! (the same disk as the build, not a tmpfs, so fsyncs are real), and CPU times from /proc.

#![allow(dead_code)] // each bench uses what it needs

use std::time::Duration;

use hallpass::store::{WriterConfig, WriterHandle, spawn_writer};

/// A writer on a new database; None (after saying why) if that cannot be set up.
pub fn temp_writer() -> Option<(tempfile::TempDir, WriterHandle)> {
    let dir = match tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot create a temp dir: {e}");
            return None;
        }
    };
    match spawn_writer(WriterConfig::new(dir.path().join("bench.db"))) {
        Ok(w) => Some((dir, w)),
        Err(e) => {
            eprintln!("cannot start the writer: {e}");
            None
        }
    }
}

/// User + system CPU time from the text of a /proc `stat` file (of a process or a thread).
pub fn cpu_time(stat: &str) -> Option<Duration> {
    // Fields after the command name (which may contain spaces) start at field 3.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux platform we run on.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// CPU time of this process so far (Linux; None elsewhere).
pub fn process_cpu() -> Option<Duration> {
    cpu_time(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// CPU time of this process's thread named `name` so far (Linux; None elsewhere).
pub fn thread_cpu(name: &str) -> Option<Duration> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if stat
            .split_once(" (")
            .is_some_and(|(_, r)| r.starts_with(&format!("{name})")))
        {
            return cpu_time(&stat);
        }
    }
    None
}
