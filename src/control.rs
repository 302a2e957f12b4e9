//! How the admin commands find the running daemon and ask it to reload: the pid file in the
//! state directory and the SIGHUP. The daemon writes the file (and removes it at stop); the
//! CLI reads it, checks that the process is hallpass and signals it. Both use this module,
//! so the CLI never imports the daemon or its socket code.
//!
//! Owns no sockets and handles no signals; the only signal it sends is SIGHUP, and only to a
//! process named hallpass.

use std::io;
use std::path::{Path, PathBuf};

/// The pid file's name in the state directory.
pub const PID_FILE: &str = "hallpass.pid";

/// The daemon's process name as `/proc/PID/comm` shows it.
const DAEMON_NAME: &str = "hallpass";

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("cannot write the pid file {path}: {source}")]
    WritePidFile { path: PathBuf, source: io::Error },
}

/// `<state_dir>/hallpass.pid` with this process's pid, removed when dropped (at stop). Not a
/// lock: a stale file is harmless, because [`daemon_pid`] checks the process's name first.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    pid: u32,
}

impl PidFile {
    pub fn write(state_dir: &Path) -> Result<PidFile, ControlError> {
        let path = state_dir.join(PID_FILE);
        let pid = std::process::id();
        match std::fs::write(&path, format!("{pid}\n")) {
            Ok(()) => Ok(PidFile { path, pid }),
            Err(source) => Err(ControlError::WritePidFile { path, source }),
        }
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // A daemon started later on the same state directory has replaced the file with its
        // own pid; removing it would hide that daemon from the admin commands.
        if read_pid(&self.path) == Some(self.pid) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The pid in a pid file; `None` when the file is missing or holds no positive pid (0 and
/// negative numbers would address process groups, never one daemon).
fn read_pid(path: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
    (pid > 0).then_some(pid)
}

/// The pid of the daemon of `state_dir`: the pid in its pid file, if that process is alive and
/// is hallpass. A stale file (the daemon was killed) may name a pid that is now another
/// program's; that one is never returned.
pub fn daemon_pid(state_dir: &Path) -> Option<u32> {
    let pid = read_pid(&state_dir.join(PID_FILE))?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    (comm.trim_end_matches('\n') == DAEMON_NAME).then_some(pid)
}

/// What happened to the reload request.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    /// SIGHUP sent to this pid.
    Signalled(u32),
    /// No running hallpass found (no pid file, or its pid is not hallpass).
    NotRunning,
    /// The signal could not be sent.
    Failed(u32, String),
}

/// Asks the daemon of `state_dir` to reload: SIGHUP to the pid in its pid file, if that
/// process is alive and is hallpass.
pub fn reload(state_dir: &Path) -> Reload {
    let Some(pid) = daemon_pid(state_dir) else {
        return Reload::NotRunning;
    };
    let Ok(target) = libc::pid_t::try_from(pid) else {
        return Reload::NotRunning;
    };
    // SAFETY: kill(2) takes two integers and touches no memory of this process. `target` is
    // positive (read_pid refuses 0, and u32 values above pid_t::MAX fail the conversion), so
    // it addresses exactly one process, never a process group or every process.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::kill(target, libc::SIGHUP) };
    if rc == 0 {
        Reload::Signalled(pid)
    } else {
        Reload::Failed(pid, io::Error::last_os_error().to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Child, Command};
    use std::time::Duration;

    use super::*;

    fn sleep_binary() -> PathBuf {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join("sleep"))
            .find(|p| p.is_file())
            .expect("sleep(1) on PATH")
    }

    /// A child process that sleeps for a minute under the process name `name`: the kernel
    /// names a process after the file it executes, here a symlink to sleep(1).
    fn sleeper_named(dir: &Path, name: &str) -> Child {
        let link = dir.join(name);
        std::os::unix::fs::symlink(sleep_binary(), &link).unwrap();
        let child = Command::new(&link).arg0("sleep").arg("60").spawn().unwrap();
        // spawn returns once exec has closed the child's descriptors, which the kernel does
        // just before it renames the process: wait for the new name.
        let comm = || std::fs::read_to_string(format!("/proc/{}/comm", child.id())).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while comm().trim_end() != name && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(comm().trim_end(), name);
        child
    }

    fn write_pid_file(dir: &Path, content: &str) {
        std::fs::write(dir.join(PID_FILE), content).unwrap();
    }

    #[test]
    fn the_pid_file_holds_this_process_and_goes_away_at_drop() {
        let dir = tempfile::tempdir().unwrap();
        let file = PidFile::write(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(PID_FILE)).unwrap();
        assert_eq!(text, format!("{}\n", std::process::id()));
        drop(file);
        assert!(!dir.path().join(PID_FILE).exists());
    }

    #[test]
    fn a_later_daemons_pid_file_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let file = PidFile::write(dir.path()).unwrap();
        write_pid_file(dir.path(), "4194303\n");
        drop(file);
        let text = std::fs::read_to_string(dir.path().join(PID_FILE)).unwrap();
        assert_eq!(text, "4194303\n");
    }

    #[test]
    fn an_unwritable_state_dir_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("not-there");
        assert!(matches!(
            PidFile::write(&missing),
            Err(ControlError::WritePidFile { path, .. }) if path == missing.join(PID_FILE)
        ));
    }

    #[test]
    fn sighup_reaches_the_process_named_hallpass() {
        // Under nohup SIGHUP is ignored, and children inherit that across exec: then the
        // child cannot show it was reached by dying of it.
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let ignored = status
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .unwrap();
        if ignored & (1 << (libc::SIGHUP - 1)) != 0 {
            eprintln!("SIGHUP is ignored in this process (nohup?): not judged");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut daemon = sleeper_named(dir.path(), "hallpass");
        write_pid_file(dir.path(), &format!("{}\n", daemon.id()));
        assert_eq!(daemon_pid(dir.path()), Some(daemon.id()));
        assert_eq!(reload(dir.path()), Reload::Signalled(daemon.id()));
        // sleep(1) keeps SIGHUP's default action: the signal ends it.
        let status = daemon.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGHUP));
    }

    #[test]
    fn a_pid_file_naming_another_program_is_refused_and_it_gets_no_signal() {
        let dir = tempfile::tempdir().unwrap();
        // "hallpassd" and a prefix of the name are not the daemon either.
        for name in ["sleep", "hallpassd", "hallpas"] {
            let mut other = sleeper_named(dir.path(), name);
            write_pid_file(dir.path(), &format!("{}\n", other.id()));
            assert_eq!(daemon_pid(dir.path()), None, "{name}");
            assert_eq!(reload(dir.path()), Reload::NotRunning, "{name}");
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(other.try_wait().unwrap(), None, "{name} was signalled");
            other.kill().unwrap();
            other.wait().unwrap();
        }
    }

    #[test]
    fn a_stale_missing_or_garbled_pid_file_means_not_running() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(reload(dir.path()), Reload::NotRunning);
        // a daemon that is gone: its pid no longer exists
        let mut gone = Command::new("true").spawn().unwrap();
        gone.wait().unwrap();
        write_pid_file(dir.path(), &format!("{}\n", gone.id()));
        assert_eq!(reload(dir.path()), Reload::NotRunning);
        for text in [
            "",
            "\n",
            "hallpass\n",
            "0\n",
            "-1\n",
            "12 34\n",
            "99999999999\n",
        ] {
            write_pid_file(dir.path(), text);
            assert_eq!(daemon_pid(dir.path()), None, "{text:?}");
            assert_eq!(reload(dir.path()), Reload::NotRunning, "{text:?}");
        }
    }
}
