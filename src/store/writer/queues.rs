//! The writer's three queues, one per class of work, emptied in the order of their class:
//! 1. what must not wait: accounting records (answered only after their commit) and the
//!    control jobs (flush, erase, retention, shutdown);
//! 2. the rows people's decisions leave: auth log, Disconnect results, audit entries;
//! 3. what the DHCP watcher sees: sightings and rogue-server reports.
//!
//! Each queue is bounded on its own, so a flood of one class fills only its own queue: a
//! DHCP flood drops sightings (counted), never an accounting record or an auth decision,
//! and a round of the writer takes the higher classes first, so they never wait behind a
//! backlog of sightings (at most behind the one transaction in progress).
//!
//! Owns the channels, their depths and the waking of the writer thread. Must not block a
//! producer (every send but a flush's and a shutdown's is a `try_send`) or decide anything
//! about the rows it carries.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::thread::Thread;

use super::{Job, Row};

/// The class of a row: which queue it waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    /// Accounting and control jobs.
    Urgent,
    /// Auth log, Disconnect results, audit entries.
    Log,
    /// Sightings and rogue DHCP servers.
    Dhcp,
}

impl Class {
    fn index(self) -> usize {
        match self {
            Class::Urgent => 0,
            Class::Log => 1,
            Class::Dhcp => 2,
        }
    }

    pub(super) fn of(row: &Row) -> Class {
        match row {
            Row::Auth(_) | Row::Disconnect(_) | Row::Audit(_) | Row::Accepted(..) => Class::Log,
            Row::Sighting(_) | Row::Rogue(_) => Class::Dhcp,
            // Sent as a job, never through a rows' queue.
            Row::Enrol(_) => Class::Urgent,
        }
    }
}

/// How many jobs each queue holds (approximately: counted before a send, uncounted when the
/// writer takes the job or the send fails), and whether the writer sleeps with all of them
/// empty.
#[derive(Default)]
pub(super) struct Depths {
    by_class: [AtomicUsize; 3],
    /// Set by the writer before it sleeps without lingering rows: the next send wakes it.
    idle: AtomicBool,
}

impl Depths {
    pub(super) fn of(&self, class: Class) -> usize {
        self.by_class[class.index()].load(Ordering::SeqCst)
    }

    /// Jobs in every queue.
    pub(super) fn total(&self) -> usize {
        self.by_class.iter().map(|d| d.load(Ordering::SeqCst)).sum()
    }

    /// Jobs whose waiting costs something: accounting, control jobs and the log rows. The
    /// writer's priority follows these alone, so a DHCP flood (whose rows may be dropped)
    /// never makes it compete with the receive threads.
    pub(super) fn pressing(&self) -> usize {
        self.of(Class::Urgent) + self.of(Class::Log)
    }

    /// Counts a job about to be sent; returns the depth before it.
    pub(super) fn add(&self, class: Class) -> usize {
        self.by_class[class.index()].fetch_add(1, Ordering::SeqCst)
    }

    pub(super) fn sub(&self, class: Class, n: usize) {
        if n > 0 {
            self.by_class[class.index()].fetch_sub(n, Ordering::SeqCst);
        }
    }

    /// The writer is about to sleep: true if it may (nothing is queued or being sent). A
    /// send counts its job before sending and reads `idle` after, and the writer sets
    /// `idle` before reading the depths, so one of the two sees the other: no job is
    /// slept through.
    pub(super) fn going_idle(&self) -> bool {
        self.idle.store(true, Ordering::SeqCst);
        self.total() == 0
    }

    pub(super) fn awake(&self) {
        self.idle.store(false, Ordering::SeqCst);
    }

    pub(super) fn is_idle(&self) -> bool {
        self.idle.load(Ordering::SeqCst)
    }
}

/// The sending side, shared by every handle. When the last handle goes, the queues
/// disconnect and the writer is woken to write what is left and stop.
pub(super) struct Senders {
    urgent: SyncSender<Job>,
    log: SyncSender<Row>,
    dhcp: SyncSender<Row>,
    pub(super) waker: Thread,
}

impl Senders {
    pub(super) fn try_job(&self, job: Job) -> Result<(), TrySendError<Job>> {
        self.urgent.try_send(job)
    }

    /// Waits for room: only flushes and shutdowns, whose callers wait anyway.
    pub(super) fn job(&self, job: Job) -> Result<(), mpsc::SendError<Job>> {
        self.urgent.send(job)
    }

    pub(super) fn try_row(&self, class: Class, row: Row) -> Result<(), TrySendError<Row>> {
        match class {
            Class::Dhcp => self.dhcp.try_send(row),
            Class::Log | Class::Urgent => self.log.try_send(row),
        }
    }
}

impl Drop for Senders {
    fn drop(&mut self) {
        // Disconnect first (the fields would only go after this function), then wake the
        // writer so that it sees the disconnection instead of sleeping until a timer.
        let (urgent, _) = mpsc::sync_channel(0);
        let (log, _) = mpsc::sync_channel(0);
        let (dhcp, _) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.urgent, urgent));
        drop(std::mem::replace(&mut self.log, log));
        drop(std::mem::replace(&mut self.dhcp, dhcp));
        self.waker.unpark();
    }
}

/// The writer's side.
pub(super) struct Receivers {
    urgent: Receiver<Job>,
    log: Receiver<Row>,
    dhcp: Receiver<Row>,
}

/// What a drain found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Drained {
    /// Some queue may still receive jobs.
    Open,
    /// Every handle is gone and every queue is empty: nothing more can come.
    Closed,
}

impl Receivers {
    /// Takes control jobs into `jobs` and rows into `rows`, the higher classes first, until
    /// `budget` jobs and rows are taken in all or the queues are empty.
    pub(super) fn drain(
        &self,
        depths: &Depths,
        jobs: &mut Vec<Job>,
        rows: &mut Vec<Row>,
        budget: usize,
    ) -> Drained {
        let mut closed = 0;
        let mut taken = 0;
        while taken < budget {
            match self.urgent.try_recv() {
                Ok(job) => {
                    jobs.push(job);
                    taken += 1;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closed += 1;
                    break;
                }
            }
        }
        depths.sub(Class::Urgent, taken);
        for (class, rx) in [(Class::Log, &self.log), (Class::Dhcp, &self.dhcp)] {
            let (n, gone) = take_rows(rx, rows, budget.saturating_sub(taken));
            depths.sub(class, n);
            taken += n;
            closed += usize::from(gone);
        }
        if closed == 3 {
            Drained::Closed
        } else {
            Drained::Open
        }
    }

    /// Takes the rows that were queued when this is called (a barrier's: everything queued
    /// before a flush, an erasure or the shutdown is written before it is answered).
    pub(super) fn rows_before_barrier(&self, depths: &Depths, rows: &mut Vec<Row>) {
        for (class, rx) in [(Class::Log, &self.log), (Class::Dhcp, &self.dhcp)] {
            let (n, _) = take_rows(rx, rows, depths.of(class));
            depths.sub(class, n);
        }
    }

    /// Takes one job of any class left after a shutdown (jobs first, then rows).
    pub(super) fn leftover(&self, depths: &Depths) -> Option<Result<Job, Row>> {
        if let Ok(job) = self.urgent.try_recv() {
            depths.sub(Class::Urgent, 1);
            return Some(Ok(job));
        }
        for (class, rx) in [(Class::Log, &self.log), (Class::Dhcp, &self.dhcp)] {
            if let Ok(row) = rx.try_recv() {
                depths.sub(class, 1);
                return Some(Err(row));
            }
        }
        None
    }
}

/// Takes up to `max` rows; returns how many, and whether the queue is disconnected.
fn take_rows(rx: &Receiver<Row>, rows: &mut Vec<Row>, max: usize) -> (usize, bool) {
    let mut n = 0;
    while n < max {
        match rx.try_recv() {
            Ok(row) => {
                rows.push(row);
                n += 1;
            }
            Err(TryRecvError::Empty) => return (n, false),
            Err(TryRecvError::Disconnected) => return (n, true),
        }
    }
    (n, false)
}

/// Accounting records and control jobs that wait for their commit, at most: at a thousand
/// Accounting-Requests a second, eight seconds of a writer that cannot commit; after that a
/// record is refused and the NAS sends it again. Each slot is allocated and touched when the
/// channel is made, so a queue as long as the log rows' (65,536) would cost ~7 MB of
/// resident memory for a burst no NAS sends.
pub(super) const URGENT_QUEUE_MAX: usize = 8192;

/// The three queues: the log rows' holds `capacity`, the control jobs' `capacity` up to
/// [`URGENT_QUEUE_MAX`], the DHCP rows' `dhcp_capacity`. The senders get the writer
/// thread's handle once it runs.
pub(super) fn queues(
    capacity: usize,
    dhcp_capacity: usize,
) -> (impl FnOnce(Thread) -> Senders, Receivers) {
    // A zero-capacity channel would be a rendezvous: every try_send would fail.
    let (urgent_tx, urgent) = mpsc::sync_channel(capacity.clamp(1, URGENT_QUEUE_MAX));
    let (log_tx, log) = mpsc::sync_channel(capacity.max(1));
    let (dhcp_tx, dhcp) = mpsc::sync_channel(dhcp_capacity.max(1));
    let senders = move |waker| Senders {
        urgent: urgent_tx,
        log: log_tx,
        dhcp: dhcp_tx,
        waker,
    };
    (senders, Receivers { urgent, log, dhcp })
}
