//! Scheduling hints for hallpass's own threads, so that one core answers requests promptly
//! while the log writer does its work in the gaps. Owns the system calls that set a thread's
//! time slice, nice value and timer slack, and the moves of a thread into the background and
//! back; knows nothing of RADIUS or SQLite (when to move is the caller's decision).
//!
//! Every hint applies to the calling thread only (Linux keeps these per thread) and is best
//! effort: a kernel or sandbox that refuses one leaves the thread as it was, and the caller
//! logs the error once. Nothing here raises a thread above normal priority.
#![allow(unsafe_code)]

use std::io;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SchedError {
    #[error("the kernel refused a time slice of {slice:?} for this thread")]
    Slice {
        slice: Duration,
        #[source]
        source: io::Error,
    },
    #[error("the kernel refused nice {nice} for this thread")]
    Nice {
        nice: i32,
        #[source]
        source: io::Error,
    },
    #[error("cannot read this thread's scheduling attributes")]
    Read(#[source] io::Error),
    #[error("the kernel refused a timer slack of {slack:?} for this thread")]
    TimerSlack {
        slack: Duration,
        #[source]
        source: io::Error,
    },
    #[error("this thread runs at nice {nice}, the lowest weight: there is no background to go to")]
    NoBackground { nice: i32 },
    #[error("this process may not lower its nice value from {background} back to {normal}")]
    NoReturn { normal: i32, background: i32 },
}

/// Asks the kernel to run the calling thread in time slices of `slice` (Linux 6.12 and later;
/// clamped there to 0.1–100 ms). A thread with a shorter slice than the one running gets the
/// core as soon as it wakes up, instead of at the next tick (up to 4 ms later). Keeps the
/// thread's nice value; leaves a thread alone that runs under another policy than the
/// normal one (an admin's `chrt` wins).
pub fn set_time_slice(slice: Duration) -> Result<(), SchedError> {
    let err = |source| SchedError::Slice { slice, source };
    // SAFETY: sched_getscheduler takes no pointers.
    let policy = unsafe { libc::sched_getscheduler(0) };
    if policy < 0 {
        return Err(err(io::Error::last_os_error()));
    }
    if policy != libc::SCHED_OTHER {
        return Ok(());
    }
    let attr = libc::sched_attr {
        size: size_of::<libc::sched_attr>() as u32,
        sched_policy: libc::SCHED_OTHER as u32,
        sched_flags: 0,
        sched_nice: nice()?,
        sched_priority: 0,
        sched_runtime: u64::try_from(slice.as_nanos()).unwrap_or(u64::MAX),
        sched_deadline: 0,
        sched_period: 0,
    };
    // SAFETY: `attr` is a valid sched_attr whose `size` field gives its length; the kernel
    // only reads it during the call. Thread id 0 is the calling thread.
    let r = unsafe {
        libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &attr as *const libc::sched_attr,
            0,
        )
    };
    if r != 0 {
        return Err(err(io::Error::last_os_error()));
    }
    Ok(())
}

/// The time slice the kernel uses for the calling thread (the custom one if set).
pub fn time_slice() -> Result<Duration, SchedError> {
    // SAFETY: sched_attr is plain old data; all zeroes is a valid value.
    let mut attr: libc::sched_attr = unsafe { std::mem::zeroed() };
    let size = size_of::<libc::sched_attr>() as u32;
    // SAFETY: the kernel writes at most `size` bytes into `attr`, which is that large and
    // lives across the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_sched_getattr,
            0,
            &mut attr as *mut libc::sched_attr,
            size,
            0,
        )
    };
    if r != 0 {
        return Err(SchedError::Read(io::Error::last_os_error()));
    }
    Ok(Duration::from_nanos(attr.sched_runtime))
}

/// Sets the calling thread's nice value (raising it needs no privilege; lowering it again
/// needs `RLIMIT_NICE` or `CAP_SYS_NICE`).
pub fn set_nice(nice: i32) -> Result<(), SchedError> {
    // SAFETY: setpriority takes no pointers; with PRIO_PROCESS and 0 Linux changes the
    // calling thread only.
    let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    if r != 0 {
        return Err(SchedError::Nice {
            nice,
            source: io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// The calling thread's nice value.
pub fn nice() -> Result<i32, SchedError> {
    // getpriority may rightly return -1, so errno is the only sign of an error.
    // SAFETY: __errno_location returns this thread's errno; getpriority takes no pointers.
    unsafe { *libc::__errno_location() = 0 };
    // SAFETY: as above.
    let n = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let e = io::Error::last_os_error();
    if n == -1 && e.raw_os_error().is_some_and(|c| c != 0) {
        return Err(SchedError::Nice { nice: n, source: e });
    }
    Ok(n)
}

/// Whether a thread of this process may lower its nice value back to `normal` after raising
/// it to `background`: tried on a thread of its own, so no thread that matters is left
/// stuck in the background if the answer is no.
pub fn can_return_from(background: i32, normal: i32) -> bool {
    std::thread::Builder::new()
        .name("hallpass-probe".into())
        .spawn(move || set_nice(background).is_ok() && set_nice(normal).is_ok())
        .ok()
        .and_then(|probe| probe.join().ok())
        .unwrap_or(false)
}

/// A thread that steps into the background (a higher nice value, so that other threads get
/// the core first) and comes back to its normal weight.
#[derive(Debug)]
pub struct Background {
    normal: i32,
    background: i32,
    in_background: bool,
}

impl Background {
    /// For the calling thread, `step` nice values above where it runs now (at most 19). Raising
    /// the nice value needs no permission, lowering it again does (`RLIMIT_NICE`, which the
    /// unit's `LimitNICE=` sets, or `CAP_SYS_NICE`): a probe thread tries the way back first,
    /// and without it the thread is not offered the background at all. The thread starts at
    /// its normal weight.
    pub fn for_this_thread(step: i32) -> Result<Background, SchedError> {
        let normal = nice()?;
        let background = (normal + step).min(19);
        if background <= normal {
            return Err(SchedError::NoBackground { nice: normal });
        }
        if !can_return_from(background, normal) {
            return Err(SchedError::NoReturn { normal, background });
        }
        Ok(Background {
            normal,
            background,
            in_background: false,
        })
    }

    /// Whether the thread runs in the background now.
    pub fn in_background(&self) -> bool {
        self.in_background
    }

    /// Moves the calling thread (the one this was made for) into the background or back to
    /// its normal weight. On an error the thread stays where it was.
    pub fn step(&mut self, into_background: bool) -> Result<(), SchedError> {
        set_nice(if into_background {
            self.background
        } else {
            self.normal
        })?;
        self.in_background = into_background;
        Ok(())
    }
}

/// The calling thread's id (as in `/proc/self/task/<id>`).
pub fn thread_id() -> i32 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// The nice value of thread `id` of this process, from `/proc` (for tests and checks).
pub fn nice_of(id: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{id}/stat")).ok()?;
    // The name in parentheses may hold spaces: count fields after its closing one.
    let after_name = stat.get(stat.rfind(')')? + 2..)?;
    // Fields 3.. follow the name; nice is field 19.
    after_name.split(' ').nth(19 - 3)?.parse().ok()
}

/// How much later than asked the kernel may end the calling thread's sleeps (default 50 µs,
/// which would dwarf a sleep of 50 µs).
pub fn set_timer_slack(slack: Duration) -> Result<(), SchedError> {
    let ns = libc::c_ulong::try_from(slack.as_nanos())
        .unwrap_or(libc::c_ulong::MAX)
        .max(1);
    // SAFETY: PR_SET_TIMERSLACK takes its value as an integer argument, no pointers.
    let r = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, ns, 0, 0, 0) };
    if r != 0 {
        return Err(SchedError::TimerSlack {
            slack,
            source: io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// The calling thread's timer slack.
pub fn timer_slack() -> Duration {
    // SAFETY: PR_GET_TIMERSLACK takes no pointers and returns the slack in ns.
    let r = unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) };
    Duration::from_nanos(u64::try_from(r).unwrap_or(0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// Runs `f` on a thread of its own: the hints must not leak into the test runner's.
    fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(f).join().unwrap()
    }

    /// Custom slices came with Linux 6.12; older kernels ignore the field.
    fn kernel_has_custom_slices() -> bool {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let mut parts = release.trim().split(['.', '-']);
        let major: u32 = parts.next().unwrap().parse().unwrap();
        let minor: u32 = parts.next().unwrap().parse().unwrap();
        (major, minor) >= (6, 12)
    }

    #[test]
    fn a_short_slice_is_set_for_the_calling_thread_only() {
        let before = time_slice().unwrap();
        let (set, after) = on_thread(|| {
            let set = set_time_slice(Duration::from_micros(100));
            (set.is_ok(), time_slice().unwrap())
        });
        assert!(set, "sched_setattr refused");
        if kernel_has_custom_slices() {
            assert_eq!(after, Duration::from_micros(100));
        }
        assert_eq!(
            time_slice().unwrap(),
            before,
            "another thread's slice changed"
        );
    }

    #[test]
    fn the_slice_keeps_the_nice_value() {
        let nice_after = on_thread(|| {
            set_nice(3).unwrap();
            set_time_slice(Duration::from_micros(200)).unwrap();
            nice().unwrap()
        });
        assert_eq!(nice_after, 3);
    }

    #[test]
    fn nice_is_per_thread() {
        let before = nice().unwrap();
        let inside = on_thread(move || {
            set_nice(before + 7).unwrap();
            nice().unwrap()
        });
        assert_eq!(inside, before + 7);
        assert_eq!(nice().unwrap(), before);
    }

    #[test]
    fn returning_from_the_background_matches_what_the_kernel_allows() {
        let normal = nice().unwrap();
        let allowed = can_return_from(normal + 10, normal);
        // The same question asked directly, on a thread of its own.
        let direct = on_thread(move || {
            set_nice(normal + 10).unwrap();
            set_nice(normal).is_ok()
        });
        assert_eq!(allowed, direct);
        assert_eq!(nice().unwrap(), normal);
    }

    #[test]
    fn a_thread_steps_into_the_background_and_back_if_it_may() {
        let normal = nice().unwrap();
        let may_return = can_return_from((normal + 10).min(19), normal);
        let moves = on_thread(move || {
            let mut b = match Background::for_this_thread(10) {
                Ok(b) => b,
                Err(SchedError::NoReturn { .. }) => return None,
                Err(e) => panic!("{e}"),
            };
            assert!(!b.in_background());
            assert_eq!(nice().unwrap(), normal, "it starts at its normal weight");
            b.step(true).unwrap();
            let inside = (b.in_background(), nice().unwrap());
            b.step(false).unwrap();
            Some((inside, (b.in_background(), nice().unwrap())))
        });
        match moves {
            Some((inside, back)) => {
                assert!(may_return);
                assert_eq!(inside, (true, (normal + 10).min(19)));
                assert_eq!(back, (false, normal));
            }
            None => assert!(!may_return, "refused although the way back is open"),
        }
        assert_eq!(nice().unwrap(), normal, "the calling thread only");
    }

    #[test]
    fn a_thread_at_the_lowest_weight_has_no_background() {
        let refused = on_thread(|| {
            set_nice(19).unwrap();
            Background::for_this_thread(10).map(|_| ())
        });
        assert!(matches!(
            refused,
            Err(SchedError::NoBackground { nice: 19 })
        ));
    }

    #[test]
    fn the_nice_value_of_another_thread_is_read_from_proc() {
        let base = nice().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            set_nice(base + 4).unwrap();
            tx.send(thread_id()).unwrap();
            done_rx.recv().unwrap();
        });
        let id = rx.recv().unwrap();
        assert_eq!(nice_of(id), Some(base + 4));
        assert_eq!(nice_of(thread_id()), Some(base));
        done_tx.send(()).unwrap();
        t.join().unwrap();
    }

    #[test]
    fn timer_slack_is_set_for_the_calling_thread() {
        let before = timer_slack();
        let inside = on_thread(|| {
            set_timer_slack(Duration::from_micros(1)).unwrap();
            timer_slack()
        });
        assert_eq!(inside, Duration::from_micros(1));
        assert_eq!(timer_slack(), before);
    }
}
