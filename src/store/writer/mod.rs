//! The single writer: one thread owns the read-write connection and commits what the rest of
//! the daemon hands it, in batches (one transaction, one WAL sync per batch: group commit).
//!
//! Producers never wait: every job is a `try_send` on one of three bounded queues, one per
//! class (`queues`): accounting and control jobs, then log rows, then DHCP rows. The writer
//! sleeps until a job comes, takes up to `batch_max` without waiting (the higher classes
//! first) and writes them in one transaction. Control jobs (flush, erase, shutdown) are
//! barriers: the rows queued before them are committed first.
//!
//! The kinds of jobs:
//! - Log rows (auth decisions, Disconnect results, audit entries) and DHCP rows (sightings,
//!   rogue servers): when their queue is full they are dropped and counted; a row the
//!   database refuses is skipped so it cannot take the batch down. A flood of DHCP rows
//!   fills only its own queue. Sightings are also refused while the state directory is
//!   short of space (`space`).
//! - Accounting records: refused at once when their queue is full (the NAS gets no answer and
//!   retries), never dropped silently, never refused for space. Each comes with a completion that is called only
//!   after the transaction holding the record has committed (`synchronous=FULL`: the
//!   Accounting-Response then means the record survives a crash), or with an error. The
//!   records of one batch are all-or-nothing: if one fails, none of them stays written and
//!   every completion of the batch gets the error; the log rows of the batch still commit.
//!
//! When the database cannot be written (disk full, read-only, locked, schema gone) the
//! batch is rolled back, its rows are counted as lost, and the writer backs off: rows that
//! arrive during the back-off are counted and dropped (accounting answered with
//! `BackingOff`) without touching the disk, so an outage costs no CPU. The first batch after
//! the back-off tries again.
//!
//! On timers the writer also deletes rows past retention (at start, then every 24 h, in
//! chunks between batches) and closes stale accounting sessions (every minute).
//!
//! This file holds the configuration, the jobs and the handle with its counters; the thread's
//! loop is in `run`, the transaction of a batch in `batch`, the deadlines in `timers` (a pure
//! table: the loop reads the clock once per round and passes it down), retention and stale
//! sessions in `housekeeping`, when the thread steps into the background in `priority`, the
//! queues in `queues` and the size guard in `space`.

mod batch;
mod housekeeping;
mod priority;
mod queues;
mod run;
mod space;
#[cfg(test)]
mod tests;
mod timers;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::auth_log::{AuthLogRow, LogIds};
use super::devices::Enrolment;
use super::erase::EraseCounts;
use super::records::{AuditRecord, DisconnectRecord};
use super::schema::open_rw;
use super::sightings::{RogueServerSeen, SightingUpdate};
use super::{AccountingRecord, AccountingRejected, StoreError};
use crate::model::MacAddr;
use queues::{Class, Depths, Senders};
use run::Writer;
pub use space::SpaceLimits;

/// How the writer is set up.
#[derive(Clone, Debug)]
pub struct WriterConfig {
    /// `<state_dir>/hallpass.db`; the directory must exist, the file is created.
    pub db_path: PathBuf,
    /// Log rows queued before they are dropped (e.g. 65536); the accounting records' and
    /// control jobs' queue holds as many, up to 8192, before accounting is refused.
    pub queue_capacity: usize,
    /// DHCP rows (sightings, rogue servers) their own queue holds before they are dropped.
    pub dhcp_queue_capacity: usize,
    /// When new sightings are refused for lack of room.
    pub space: SpaceLimits,
    /// Most jobs written in one transaction.
    pub batch_max: usize,
    /// Runtime rows older than this are deleted (at start, then every 24 h).
    pub retention_days: u32,
    /// Audit entries older than this are deleted (default 365).
    pub audit_retention_days: u32,
    /// Added to twice the interim interval before an open session counts as stale.
    pub stale_grace: Duration,
}

impl WriterConfig {
    /// The defaults: 65536 queued log rows (8192 accounting records and jobs, 8192 DHCP rows), batches of up to 1024, 30 days of
    /// runtime rows, 365 days of audit entries, 5 minutes of grace for stale sessions,
    /// sightings refused under 256 MiB of free space.
    pub fn new(db_path: PathBuf) -> WriterConfig {
        WriterConfig {
            db_path,
            queue_capacity: 65_536,
            dhcp_queue_capacity: DEFAULT_DHCP_QUEUE,
            space: SpaceLimits {
                min_free: DEFAULT_MIN_FREE_SPACE,
                max_database: None,
            },
            batch_max: 1024,
            retention_days: 30,
            audit_retention_days: 365,
            stale_grace: Duration::from_secs(300),
        }
    }
}

/// DHCP rows queued before they are dropped: at a thousand sightings a second, eight
/// seconds of a writer that cannot keep up.
pub const DEFAULT_DHCP_QUEUE: usize = 8192;

/// Free space under which sightings are refused (`[server] min_free_space`).
pub const DEFAULT_MIN_FREE_SPACE: u64 = 256 << 20;

/// Timings that tests shorten; the daemon uses the defaults.
#[derive(Clone, Debug)]
pub(crate) struct Tuning {
    /// How long a write waits for a lock held by another connection.
    pub busy_timeout: Duration,
    /// First pause after a failed write; doubles up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub retention_interval: Duration,
    pub retention_chunk: usize,
    /// How often open sessions are checked for staleness.
    pub stale_interval: Duration,
    /// How long log rows may wait for company before their transaction commits. Every
    /// commit writes each touched B-tree page to the WAL, and at a school's rates each one
    /// also wakes the writer from sleep, so committing a handful of rows at a time costs
    /// several times more per row than committing many; log rows are not promised
    /// durable, and accounting records (which are) never wait for this. Under load the
    /// batch fills (`batch_max`) long before the linger ends.
    pub log_linger: Duration,
    /// How often the free space and the database's size are measured.
    pub space_interval: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            busy_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            retention_interval: Duration::from_secs(24 * 3600),
            retention_chunk: super::retention::CHUNK_ROWS,
            stale_interval: Duration::from_secs(60),
            log_linger: LOG_LINGER,
            space_interval: Duration::from_secs(5),
        }
    }
}

/// See [`Tuning::log_linger`]: at most this much of the auth log is in memory only. A
/// second: an admin reading the log after a login sees it within that second, and a crash
/// loses at most one second of decisions (never an acknowledged accounting record).
pub const LOG_LINGER: Duration = Duration::from_secs(1);

/// Called once with the outcome of an accounting record: `Ok` only after the transaction
/// holding it has committed. It runs on the writer thread, so it must not block: send on a
/// channel (e.g. a `tokio::sync::oneshot::Sender`, see
/// [`WriterHandle::accounting_oneshot`]) and return.
pub type AccountingDone = Box<dyn FnOnce(Result<(), StoreError>) + Send + 'static>;

/// Called once with the outcome of an erasure (rows deleted per table). Runs on the writer
/// thread, or on the caller's if the job is refused; must not block.
pub type EraseDone = Box<dyn FnOnce(Result<EraseCounts, StoreError>) + Send + 'static>;

/// The answer to a flush.
type Completion = SyncSender<Result<(), StoreError>>;

/// A row that joins the pending batch and may be dropped (and counted) under pressure. The
/// larger kinds are boxed so every queue slot stays as small as an auth row.
enum Row {
    Auth(AuthLogRow),
    Sighting(Box<SightingUpdate>),
    Rogue(RogueServerSeen),
    Disconnect(Box<DisconnectRecord>),
    Audit(Box<AuditRecord>),
    /// A registered or enrolled device was accepted (the daemon sends one per device and
    /// hour at most, see `policy::DeviceBook`).
    Accepted(MacAddr, jiff::Timestamp),
    /// An enrolment. It never waits in the log rows' queue: it comes as [`Job::Enrol`] and
    /// joins the batch on the writer thread.
    Enrol(Box<Enrolment>),
}

struct EraseJob {
    user: Option<String>,
    macs: Vec<MacAddr>,
    done: EraseDone,
}

/// What the writer is asked to do besides writing a row.
enum Job {
    /// Written with the batch, answered after its commit.
    Accounting(Box<(AccountingRecord, AccountingDone)>),
    /// An 802.1X login enrolled a device: queued with accounting (never dropped for a flood
    /// of log rows) and committed at once with the rows waiting.
    Enrol(Box<Enrolment>),
    /// Commit everything before it, then erase a person's rows in a transaction of its own.
    Erase(Box<EraseJob>),
    /// Answer once everything queued before it is committed (or counted as lost).
    Flush(Completion),
    /// Start a retention run now (the retention period may have changed).
    RunRetention,
    /// Commit everything before it, then stop.
    Shutdown,
}

/// Counters shared by the handles and the writer thread.
#[derive(Default)]
struct Shared {
    dropped: AtomicU64,
    written: AtomicU64,
    failed_rows: AtomicU64,
    failed_batches: AtomicU64,
    accounting_committed: AtomicU64,
    accounting_failed: AtomicU64,
    accounting_refused: AtomicU64,
    sessions_closed_stale: AtomicU64,
    /// Sightings refused because the state directory was short of space.
    sightings_refused: AtomicU64,
    /// Whether sightings are refused for space right now.
    space_low: AtomicBool,
    depths: Depths,
    /// Log rows the writer holds, waiting for their commit (with the queue: whether a
    /// batch is full).
    held_rows: AtomicUsize,
    retention_days: AtomicU32,
    audit_retention_days: AtomicU32,
    /// Whether the writer thread runs at background priority right now.
    background: AtomicBool,
    /// Times the writer fell behind in the background and came back to normal priority.
    times_behind: AtomicU64,
    /// The writer thread's id, once it runs.
    thread_id: AtomicI32,
}

/// A handle to the writer thread. Cheap to clone; every clone feeds the same queue.
#[derive(Clone)]
pub struct WriterHandle {
    /// The queues; they also unpark the writer thread. Log rows do not wake it one by one
    /// (each wake-up would be a context switch on a core the receive threads need); only
    /// jobs that must not wait, a queue (with the rows it holds) of `wake_depth` jobs, and
    /// the first job after the writer went idle do.
    queues: Arc<Senders>,
    wake_depth: usize,
    shared: Arc<Shared>,
    thread: Arc<Mutex<Option<WriterThread>>>,
}

/// The writer thread; it returns the outcome of its final flush.
type WriterThread = JoinHandle<Result<(), StoreError>>;

impl std::fmt::Debug for WriterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterHandle")
            .field("queue_depth", &self.queue_depth())
            .field("written", &self.written())
            .field("dropped", &self.dropped())
            .field("accounting_committed", &self.accounting_committed())
            .finish_non_exhaustive()
    }
}

impl WriterHandle {
    /// Queues one log row. Never blocks: returns false (and counts the row as dropped) when
    /// the queue is full or the writer has stopped.
    pub fn log_auth(&self, row: AuthLogRow) -> bool {
        self.send_row(Row::Auth(row))
    }

    /// Queues one DHCP sighting (upserted into `sightings`, appended to the history). Never
    /// blocks: returns false when the DHCP rows' queue is full (counted as dropped) or the
    /// state directory is short of space (counted as refused).
    pub fn sighting(&self, s: SightingUpdate) -> bool {
        if self.shared.space_low.load(Ordering::Relaxed) {
            self.shared
                .sightings_refused
                .fetch_add(1, Ordering::Relaxed);
            return false;
        }
        self.send_row(Row::Sighting(Box::new(s)))
    }

    /// Queues one message from a rogue DHCP server. Never blocks; false when dropped.
    pub fn rogue_server(&self, r: RogueServerSeen) -> bool {
        self.send_row(Row::Rogue(r))
    }

    /// Queues the outcome of a Disconnect-Request. Never blocks; false when dropped.
    pub fn disconnect_result(&self, d: DisconnectRecord) -> bool {
        self.send_row(Row::Disconnect(Box::new(d)))
    }

    /// Queues an audit entry. Never blocks; false when dropped (the caller should then
    /// report the failure rather than act unaudited).
    pub fn audit(&self, a: AuditRecord) -> bool {
        self.send_row(Row::Audit(Box::new(a)))
    }

    /// Queues "device `mac` was accepted at `time`". Never blocks; false when dropped (a
    /// later acceptance sends it again).
    pub fn device_accepted(&self, mac: MacAddr, time: jiff::Timestamp) -> bool {
        self.send_row(Row::Accepted(mac, time))
    }

    /// Queues an enrolment with the accounting records: it is not dropped when log rows
    /// flood in, and is committed at once. Never blocks; false when the queue is full or
    /// the writer has stopped (nothing is stored then).
    pub fn enrol(&self, e: Enrolment) -> bool {
        self.try_send(Job::Enrol(Box::new(e))).is_ok()
    }

    fn send_row(&self, row: Row) -> bool {
        let class = Class::of(&row);
        let depth = self.shared.depths.add(class);
        let sent = self.queues.try_row(class, row).is_ok();
        if sent {
            self.wake(false, depth);
        } else {
            self.shared.depths.sub(class, 1);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Queues an accounting record without blocking. `done` is called exactly once, on the
    /// writer thread, after the transaction holding the record has committed (`Ok`) or
    /// with the error that kept it from being stored — only then may the Accounting-Response
    /// be sent. If the queue is full or the writer has stopped the record is refused at once
    /// (`Err`) and `done` is dropped without being called: send no response, the NAS
    /// retries.
    pub fn accounting(
        &self,
        rec: AccountingRecord,
        done: AccountingDone,
    ) -> Result<(), AccountingRejected> {
        match self.try_send(Job::Accounting(Box::new((rec, done)))) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.shared
                    .accounting_refused
                    .fetch_add(1, Ordering::Relaxed);
                Err(match e {
                    TrySendError::Full(_) => AccountingRejected::QueueFull,
                    TrySendError::Disconnected(_) => AccountingRejected::ShuttingDown,
                })
            }
        }
    }

    /// [`accounting`](Self::accounting) for async callers: the receiver resolves after the
    /// commit. Never blocks; needs no runtime.
    pub fn accounting_oneshot(
        &self,
        rec: AccountingRecord,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<(), StoreError>>, AccountingRejected> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.accounting(
            rec,
            Box::new(move |result| {
                // The receiver may be gone (the request timed out); nothing to do then.
                let _ = tx.send(result);
            }),
        )?;
        Ok(rx)
    }

    /// Erases every runtime row of `user` and of `macs` (see
    /// [`erase_user`](super::erase_user)) after everything queued before it is committed.
    /// Never blocks; `done` is called exactly once — with `StoreError::Rejected` right away if
    /// the queue is full or the writer stopped.
    pub fn erase(&self, user: Option<String>, macs: Vec<MacAddr>, done: EraseDone) {
        let job = Job::Erase(Box::new(EraseJob { user, macs, done }));
        if let Err(e) = self.try_send(job) {
            let (rejected, job) = match e {
                TrySendError::Full(job) => (AccountingRejected::QueueFull, job),
                TrySendError::Disconnected(job) => (AccountingRejected::ShuttingDown, job),
            };
            if let Job::Erase(job) = job {
                (job.done)(Err(StoreError::Rejected(rejected)));
            }
        }
    }

    fn try_send(&self, job: Job) -> Result<(), TrySendError<Job>> {
        // Counted before sending so the writer's decrement never underflows.
        self.shared.depths.add(Class::Urgent);
        let sent = self.queues.try_job(job);
        match sent {
            Ok(()) => self.wake(true, 0),
            Err(_) => self.shared.depths.sub(Class::Urgent, 1),
        }
        sent
    }

    /// Wakes the writer after a send if the job must not wait, if the writer sleeps with
    /// nothing to do, or if a batch's worth is waiting (`depth`: the queue's before this
    /// job).
    fn wake(&self, urgent: bool, depth: usize) {
        let held = self.shared.held_rows.load(Ordering::Relaxed);
        if urgent || self.shared.depths.is_idle() || depth + 1 + held >= self.wake_depth {
            self.queues.waker.unpark();
        }
    }

    /// Log and DHCP rows dropped because their queue was full or the writer had stopped.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Sightings refused because the state directory was short of space.
    pub fn sightings_refused(&self) -> u64 {
        self.shared.sightings_refused.load(Ordering::Relaxed)
    }

    /// Whether sightings are refused for space right now.
    pub fn space_low(&self) -> bool {
        self.shared.space_low.load(Ordering::Relaxed)
    }

    /// DHCP rows waiting in their own queue (approximate).
    pub fn dhcp_queue_depth(&self) -> usize {
        self.shared.depths.of(Class::Dhcp)
    }

    /// Times the writer, working in the background, fell behind and came back to normal
    /// priority (a sign of load near what the core can take).
    pub fn times_behind(&self) -> u64 {
        self.shared.times_behind.load(Ordering::Relaxed)
    }

    /// Whether the writer works at background priority right now.
    pub fn in_background(&self) -> bool {
        self.shared.background.load(Ordering::Relaxed)
    }

    /// Log rows committed to the database.
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Relaxed)
    }

    /// Log rows the writer received but could not store (the database refused them, could
    /// not be written, or the writer was backing off after such a failure).
    pub fn failed_rows(&self) -> u64 {
        self.shared.failed_rows.load(Ordering::Relaxed)
    }

    /// Transactions that failed and were rolled back (batches, retention chunks, stale
    /// closing).
    pub fn failed_batches(&self) -> u64 {
        self.shared.failed_batches.load(Ordering::Relaxed)
    }

    /// Accounting records committed (each answered `Ok`).
    pub fn accounting_committed(&self) -> u64 {
        self.shared.accounting_committed.load(Ordering::Relaxed)
    }

    /// Accounting records taken by the writer but answered with an error.
    pub fn accounting_failed(&self) -> u64 {
        self.shared.accounting_failed.load(Ordering::Relaxed)
    }

    /// Accounting records refused because the queue was full or the writer had stopped.
    pub fn accounting_refused(&self) -> u64 {
        self.shared.accounting_refused.load(Ordering::Relaxed)
    }

    /// Sessions the writer closed as stale.
    pub fn sessions_closed_stale(&self) -> u64 {
        self.shared.sessions_closed_stale.load(Ordering::Relaxed)
    }

    /// Jobs waiting in the queues, all classes (approximate).
    pub fn queue_depth(&self) -> usize {
        self.shared.depths.total()
    }

    /// The retention period in force.
    pub fn retention_days(&self) -> u32 {
        self.shared.retention_days.load(Ordering::Relaxed)
    }

    /// The audit log's retention period in force.
    pub fn audit_retention_days(&self) -> u32 {
        self.shared.audit_retention_days.load(Ordering::Relaxed)
    }

    /// Changes the retention period (after a reload) and starts a retention run. Never
    /// blocks: if the queue is full, the new period applies at the next daily run.
    pub fn set_retention_days(&self, days: u32) {
        let old = self.shared.retention_days.swap(days, Ordering::Relaxed);
        if old != days {
            // If the queue is full, the next daily run applies the new period.
            let _ = self.try_send(Job::RunRetention);
        }
    }

    /// Changes the audit log's retention period, like [`set_retention_days`](Self::set_retention_days).
    pub fn set_audit_retention_days(&self, days: u32) {
        let old = self
            .shared
            .audit_retention_days
            .swap(days, Ordering::Relaxed);
        if old != days {
            let _ = self.try_send(Job::RunRetention);
        }
    }

    /// Blocks until everything queued before it is committed. Fails with `RowsLost` if log
    /// rows could not be stored since the previous flush, `ShuttingDown` if the writer
    /// stopped.
    pub fn flush(&self) -> Result<(), StoreError> {
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        self.shared.depths.add(Class::Urgent);
        if self.queues.job(Job::Flush(done_tx)).is_err() {
            self.shared.depths.sub(Class::Urgent, 1);
            return Err(StoreError::ShuttingDown);
        }
        self.queues.waker.unpark();
        done_rx.recv().map_err(|_| StoreError::ShuttingDown)?
    }

    /// Commits everything queued, closes the database and joins the thread. Rows other
    /// clones queue afterwards are dropped and counted, accounting refused. Only the first
    /// call does the work; later ones (on other clones) get `ShuttingDown`.
    pub fn shutdown(self) -> Result<(), StoreError> {
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(thread) = thread else {
            return Err(StoreError::ShuttingDown);
        };
        self.shared.depths.add(Class::Urgent);
        // If this fails the thread has already ended; join tells why.
        if self.queues.job(Job::Shutdown).is_err() {
            self.shared.depths.sub(Class::Urgent, 1);
        }
        thread.thread().unpark();
        thread.join().map_err(|_| StoreError::WriterPanicked)?
    }
}

/// Opens and migrates the database, then starts the writer thread (`hallpass-writer`).
/// Retention runs first thing in the thread, then every 24 h; stale sessions are closed at
/// start, then every minute.
pub fn spawn_writer(cfg: WriterConfig) -> Result<WriterHandle, StoreError> {
    spawn_writer_tuned(cfg, Tuning::default())
}

pub(crate) fn spawn_writer_tuned(
    cfg: WriterConfig,
    tuning: Tuning,
) -> Result<WriterHandle, StoreError> {
    let conn = open_rw(&cfg.db_path, tuning.busy_timeout)?;
    let log_ids = LogIds::load(&conn)?;
    let (senders, rx) = queues::queues(cfg.queue_capacity, cfg.dhcp_queue_capacity);
    let shared = Arc::new(Shared::default());
    shared
        .retention_days
        .store(cfg.retention_days, Ordering::Relaxed);
    shared
        .audit_retention_days
        .store(cfg.audit_retention_days, Ordering::Relaxed);
    let writer = Writer::new(
        conn,
        log_ids,
        rx,
        Arc::clone(&shared),
        &cfg,
        tuning,
        Instant::now(),
    );
    let thread = std::thread::Builder::new()
        .name("hallpass-writer".into())
        .spawn(move || writer.run())
        .map_err(StoreError::Spawn)?;
    Ok(WriterHandle {
        queues: Arc::new(senders(thread.thread().clone())),
        wake_depth: cfg.batch_max.max(1),
        shared,
        thread: Arc::new(Mutex::new(Some(thread))),
    })
}
