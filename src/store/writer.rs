//! The single writer: one thread owns the read-write connection and commits what the rest of
//! the daemon hands it, in batches (one transaction, one WAL sync per batch: group commit).
//!
//! Producers never wait: every job is a `try_send` on one bounded channel. The writer blocks
//! for the first job, drains up to `batch_max` more without waiting, and writes them in one
//! transaction. Control jobs (flush, erase, shutdown) are barriers: the rows before them are
//! committed first.
//!
//! Two kinds of rows share the queue:
//! - Log rows (auth decisions, DHCP sightings, rogue servers, Disconnect results, audit
//!   entries): when the queue is full they are dropped and counted; a row the database
//!   refuses is skipped so it cannot take the batch down.
//! - Accounting records: refused at once when the queue is full (the NAS gets no answer and
//!   retries), never dropped silently. Each comes with a completion that is called only
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

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use super::accounting::{self, AccountingRecord};
use super::auth_log::{self, AuthLogRow, LogIds};
use super::erase::{EraseCounts, erase_user};
use super::records::{self, AuditRecord, DisconnectRecord};
use super::retention::{Expiring, delete_expired_chunk, retention_cutoff};
use super::schema::open_rw;
use super::sightings::{self, RogueServerSeen, SightingUpdate};
use super::{AccountingRejected, StoreError};
use crate::model::MacAddr;
use crate::sched;

/// How the writer is set up.
#[derive(Clone, Debug)]
pub struct WriterConfig {
    /// `<state_dir>/hallpass.db`; the directory must exist, the file is created.
    pub db_path: PathBuf,
    /// Jobs the queue holds before rows are dropped and accounting is refused (e.g. 65536).
    pub queue_capacity: usize,
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
    /// The defaults: 65536 queued jobs, batches of up to 1024, 30 days of runtime rows,
    /// 365 days of audit entries, 5 minutes of grace for stale sessions.
    pub fn new(db_path: PathBuf) -> WriterConfig {
        WriterConfig {
            db_path,
            queue_capacity: 65_536,
            batch_max: 1024,
            retention_days: 30,
            audit_retention_days: 365,
            stale_grace: Duration::from_secs(300),
        }
    }
}

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
    /// commit writes each touched B-tree page to the WAL, so committing a handful of rows
    /// at a time costs several times more per row than committing thousands; log rows are
    /// not promised durable, and accounting records (which are) never wait for this.
    pub log_linger: Duration,
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
        }
    }
}

/// See [`Tuning::log_linger`]: at most this much of the auth log is in memory only.
pub const LOG_LINGER: Duration = Duration::from_millis(100);

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
}

struct EraseJob {
    user: Option<String>,
    macs: Vec<MacAddr>,
    done: EraseDone,
}

/// What the writer is asked to do.
enum Job {
    Row(Row),
    /// Written with the batch, answered after its commit.
    Accounting(Box<(AccountingRecord, AccountingDone)>),
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
    queue_depth: AtomicUsize,
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
    tx: SyncSender<Job>,
    /// Unparks the writer thread. Log rows do not wake it one by one (each wake-up would be
    /// a context switch on a core the receive threads need); only jobs that must not wait
    /// and a queue (with the rows it holds) of `wake_depth` jobs do.
    waker: std::thread::Thread,
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
    /// blocks: returns false (and counts it as dropped) when the queue is full.
    pub fn sighting(&self, s: SightingUpdate) -> bool {
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

    fn send_row(&self, row: Row) -> bool {
        let sent = self.try_send(Job::Row(row)).is_ok();
        if !sent {
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

    /// Erases every runtime row of `user` and of `macs` (see [`erase_user`]) after
    /// everything queued before it is committed. Never blocks; `done` is called exactly
    /// once — with `StoreError::Rejected` right away if the queue is full or the writer
    /// stopped.
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
        let urgent = !matches!(job, Job::Row(_));
        // Counted before sending so the writer's decrement never underflows.
        let depth = self.shared.queue_depth.fetch_add(1, Ordering::Relaxed);
        let sent = self.tx.try_send(job);
        let held = self.shared.held_rows.load(Ordering::Relaxed);
        if sent.is_ok() && (urgent || depth + 1 + held >= self.wake_depth) {
            self.waker.unpark();
        }
        if sent.is_err() {
            self.shared.queue_depth.fetch_sub(1, Ordering::Relaxed);
        }
        sent
    }

    /// Log rows dropped because the queue was full or the writer had stopped.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
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

    /// Jobs waiting in the queue (approximate).
    pub fn queue_depth(&self) -> usize {
        self.shared.queue_depth.load(Ordering::Relaxed)
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
        self.shared.queue_depth.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(Job::Flush(done_tx)).is_err() {
            self.shared.queue_depth.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::ShuttingDown);
        }
        self.waker.unpark();
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
        self.shared.queue_depth.fetch_add(1, Ordering::Relaxed);
        // If this fails the thread has already ended; join tells why.
        let _ = self.tx.send(Job::Shutdown);
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
    // A zero-capacity channel would be a rendezvous: every try_send would fail.
    let (tx, rx) = mpsc::sync_channel(cfg.queue_capacity.max(1));
    let shared = Arc::new(Shared::default());
    shared
        .retention_days
        .store(cfg.retention_days, Ordering::Relaxed);
    shared
        .audit_retention_days
        .store(cfg.audit_retention_days, Ordering::Relaxed);
    let now = Instant::now();
    let writer = Writer {
        conn,
        log_ids,
        sync_full: true,
        rx,
        shared: Arc::clone(&shared),
        batch_max: cfg.batch_max.max(1),
        queue_capacity: cfg.queue_capacity,
        stale_grace: cfg.stale_grace,
        backoff: tuning.backoff_min,
        tuning,
        next_retention: now,
        retention_run: None,
        next_stale: now,
        unwritable_until: None,
        lost_since_flush: 0,
        lost_in_outage: 0,
        pending_since: None,
        priority: None,
    };
    let thread = std::thread::Builder::new()
        .name("hallpass-writer".into())
        .spawn(move || writer.run())
        .map_err(StoreError::Spawn)?;
    Ok(WriterHandle {
        tx,
        waker: thread.thread().clone(),
        wake_depth: cfg.batch_max.max(1),
        shared,
        thread: Arc::new(Mutex::new(Some(thread))),
    })
}

/// The tables a retention run visits, in order; the audit log last, with its own cutoff.
const RETENTION_ORDER: [Expiring; 7] = [
    Expiring::AuthLog,
    Expiring::Sessions,
    Expiring::SightingHistory,
    Expiring::Sightings,
    Expiring::RogueServers,
    Expiring::Disconnects,
    Expiring::Audit,
];

/// A retention run in progress: chunks are deleted between batches until none are left.
struct RetentionRun {
    cutoff: Timestamp,
    audit_cutoff: Timestamp,
    /// Index into `RETENTION_ORDER` of the table being cleaned.
    table: usize,
    deleted: usize,
}

/// The rows and accounting records of the next transaction.
#[derive(Default)]
struct Pending {
    rows: Vec<Row>,
    accounting: Vec<AccountingRecord>,
    done: Vec<AccountingDone>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.accounting.is_empty()
    }
}

struct Writer {
    conn: Connection,
    /// The next auth log ids (kept across batches: asking the database for each row would
    /// cost what the time index cost).
    log_ids: LogIds,
    /// `synchronous=FULL` in force (the connection opens with it).
    sync_full: bool,
    rx: Receiver<Job>,
    shared: Arc<Shared>,
    batch_max: usize,
    queue_capacity: usize,
    stale_grace: Duration,
    tuning: Tuning,
    next_retention: Instant,
    retention_run: Option<RetentionRun>,
    next_stale: Instant,
    /// Set after a failed write: until then rows are dropped without touching the disk.
    unwritable_until: Option<Instant>,
    backoff: Duration,
    /// Rows lost since the last flush answered (reported to that flush).
    lost_since_flush: u64,
    /// Rows lost in the current outage (logged when it ends).
    lost_in_outage: u64,
    /// When the oldest uncommitted log row arrived (None: nothing pending).
    pending_since: Option<Instant>,
    /// The thread's scheduling weight, when it may move between background and normal.
    priority: Option<Priority>,
}

/// How much the writer raises its nice value while its queue is short. At nice 10 its
/// weight is a tenth of a receive thread's: a receive thread with requests waiting gets the
/// core (the kernel otherwise lets the writer finish its share of the core first, which
/// held answers for milliseconds), and the writer works in the gaps, which under anything
/// but full load are plenty.
const BACKGROUND_NICE_STEP: i32 = 10;

/// The writer's nice values, and which one is in force.
#[derive(Debug)]
struct Priority {
    normal: i32,
    background: i32,
    in_background: bool,
}

/// Whether the writer should run in the background, given how many jobs wait in its queue:
/// it goes there once the queue is down to `caught_up` and comes back to normal weight when
/// the queue reaches `behind` (so that it never loses rows to its own modesty); in between
/// it stays as it is, so that it does not switch at every batch.
fn wants_background(in_background: bool, depth: usize, caught_up: usize, behind: usize) -> bool {
    if in_background {
        depth < behind
    } else {
        depth <= caught_up
    }
}

/// Calls a completion; a panicking callback must not take the writer down.
fn answer<T>(done: Box<dyn FnOnce(T) + Send>, value: T) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || done(value))).is_err() {
        tracing::error!("a database completion callback panicked");
    }
}

impl Writer {
    fn run(mut self) -> Result<(), StoreError> {
        self.shared
            .thread_id
            .store(sched::thread_id(), Ordering::Relaxed);
        self.priority = Self::background_allowed();
        self.adjust_priority();
        // Grows up to batch_max on demand; a huge batch_max must not allocate up front.
        let mut batch = Vec::with_capacity(self.batch_max.min(1024));
        let mut pending = Pending::default();
        loop {
            let timeout = self.idle_timeout(Instant::now());
            if self.pending_since.is_some() {
                // Rows are waiting for their commit: sleep until it is due, or until a
                // handle wakes the thread (a job that must not wait, or a long queue).
                std::thread::park_timeout(timeout);
                if !self.drain(&mut batch) && batch.is_empty() {
                    self.commit(&mut pending);
                    return Ok(());
                }
            } else {
                match self.rx.recv_timeout(timeout) {
                    Ok(job) => {
                        batch.push(job);
                        self.drain(&mut batch);
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    // Every handle is gone and the queue is empty: nothing more can come.
                    Err(RecvTimeoutError::Disconnected) => {
                        self.commit(&mut pending);
                        return Ok(());
                    }
                }
            }
            self.shared
                .queue_depth
                .fetch_sub(batch.len(), Ordering::Relaxed);
            self.adjust_priority();
            if self.process(&mut batch, &mut pending) {
                return self.stop();
            }
            self.shared
                .held_rows
                .store(pending.rows.len(), Ordering::Relaxed);
            let now = Instant::now();
            self.stale_step(now);
            self.retention_step(now);
        }
    }

    /// The writer's nice values, if it may go to the background and come back: raising the
    /// nice value needs no permission, lowering it again does (`RLIMIT_NICE`, which the
    /// unit's `LimitNICE=` sets, or `CAP_SYS_NICE`). Without it the writer stays at normal
    /// weight rather than risk staying behind for good.
    fn background_allowed() -> Option<Priority> {
        let normal = match sched::nice() {
            Ok(n) => n,
            Err(e) => {
                tracing::info!(error = %e, "database writer keeps its priority");
                return None;
            }
        };
        let background = (normal + BACKGROUND_NICE_STEP).min(19);
        if background == normal {
            return None;
        }
        if !sched::can_return_from(background, normal) {
            tracing::info!(
                nice = normal,
                "database writer keeps its priority: this process may not lower a nice value again (RLIMIT_NICE; the packaged unit sets LimitNICE=); under heavy load answers may wait behind log writes"
            );
            return None;
        }
        Some(Priority {
            normal,
            background,
            in_background: false,
        })
    }

    /// Queue depth from which the writer counts as behind: it stops stepping aside and
    /// runs at normal weight.
    fn behind_depth(&self) -> usize {
        (self.queue_capacity / 8).max(1)
    }

    /// Moves the writer to the background or back, as its queue says.
    fn adjust_priority(&mut self) {
        let behind = self.behind_depth();
        let Some(p) = &mut self.priority else {
            return;
        };
        let depth = self.shared.queue_depth.load(Ordering::Relaxed);
        let want = wants_background(p.in_background, depth, behind / 8, behind);
        if want == p.in_background {
            return;
        }
        let nice = if want { p.background } else { p.normal };
        match sched::set_nice(nice) {
            Ok(()) => {
                if p.in_background {
                    self.shared.times_behind.fetch_add(1, Ordering::Relaxed);
                }
                p.in_background = want;
                self.shared.background.store(want, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(error = %e, "database writer cannot change its priority any more");
                self.priority = None;
            }
        }
    }

    /// Takes queued jobs into `batch` up to its limit without waiting. False when every
    /// handle is gone and the queue is empty.
    fn drain(&self, batch: &mut Vec<Job>) -> bool {
        while batch.len() < self.batch_max {
            match self.rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
        true
    }

    /// How long to wait for a job before there is timer work to do.
    fn idle_timeout(&self, now: Instant) -> Duration {
        let until_commit = match self.pending_since {
            Some(t) => (t + self.tuning.log_linger).saturating_duration_since(now),
            None => Duration::MAX,
        };
        let until_stale = self
            .next_stale
            .saturating_duration_since(now)
            .min(until_commit);
        let until_retention = self.next_retention.saturating_duration_since(now);
        let retention = match (&self.retention_run, self.unwritable_until) {
            (None, _) => until_retention,
            (Some(_), None) => Duration::ZERO,
            (Some(_), Some(t)) => t.saturating_duration_since(now),
        };
        retention.min(until_stale)
    }

    /// Handles one drained batch. Returns true on shutdown.
    fn process(&mut self, batch: &mut Vec<Job>, pending: &mut Pending) -> bool {
        let mut stop = false;
        for job in batch.drain(..) {
            if stop {
                // Queued behind the shutdown: dropped, like rows sent after it.
                self.discard(job);
                continue;
            }
            match job {
                Job::Row(row) => pending.rows.push(row),
                Job::Accounting(b) => {
                    let (rec, done) = *b;
                    pending.accounting.push(rec);
                    pending.done.push(done);
                }
                Job::Erase(job) => {
                    self.commit(pending);
                    let result = erase_user(&mut self.conn, job.user.as_deref(), &job.macs);
                    if let Ok(counts) = &result {
                        tracing::info!(rows = counts.total(), "erased a person's runtime rows");
                    }
                    answer(job.done, result);
                }
                Job::Flush(done) => {
                    self.commit(pending);
                    // The flusher may have given up waiting; nothing to do then.
                    let _ = done.send(self.take_flush_result());
                }
                Job::RunRetention => {
                    self.retention_run = None;
                    self.next_retention = Instant::now();
                }
                Job::Shutdown => {
                    self.commit(pending);
                    stop = true;
                }
            }
        }
        let now = Instant::now();
        if !pending.rows.is_empty() && self.pending_since.is_none() {
            self.pending_since = Some(now);
        }
        // Accounting is answered only after its commit, so it goes at once (and takes the
        // waiting rows along); rows alone wait for company up to the linger.
        let due = self
            .pending_since
            .is_some_and(|t| now.saturating_duration_since(t) >= self.tuning.log_linger);
        if stop || due || !pending.accounting.is_empty() || pending.rows.len() >= self.batch_max {
            self.commit(pending);
        }
        stop
    }

    fn take_flush_result(&mut self) -> Result<(), StoreError> {
        match std::mem::take(&mut self.lost_since_flush) {
            0 => Ok(()),
            count => Err(StoreError::RowsLost { count }),
        }
    }

    /// Commits the pending rows and accounting records in one transaction, then answers
    /// the accounting completions.
    fn commit(&mut self, p: &mut Pending) {
        self.pending_since = None;
        if p.is_empty() {
            return;
        }
        let n_rows = p.rows.len() as u64;
        let n_acct = p.accounting.len() as u64;
        let now = Instant::now();
        if self.unwritable_until.is_some_and(|t| now < t) {
            self.lose(n_rows);
            self.shared
                .accounting_failed
                .fetch_add(n_acct, Ordering::Relaxed);
            self.answer_accounting(p, || Err(StoreError::BackingOff));
            p.rows.clear();
            return;
        }
        // Durability where it is promised: a batch with accounting records (answered only
        // after this commit) is synced to disk (FULL). A batch of log rows only is not
        // synced at its commit (NORMAL: WAL-safe, the database stays consistent; a power cut
        // may lose the last second of log rows, never an acknowledged accounting record).
        // This halves the writer's cost under authentication load.
        let want_full = !p.accounting.is_empty();
        if want_full != self.sync_full {
            let mode = if want_full { "FULL" } else { "NORMAL" };
            if self.conn.pragma_update(None, "synchronous", mode).is_ok() {
                self.sync_full = want_full;
            }
        }
        if want_full && !self.sync_full {
            // could not switch to FULL: do not acknowledge what is not durable
            self.shared
                .accounting_failed
                .fetch_add(n_acct, Ordering::Relaxed);
            self.answer_accounting(p, || Err(StoreError::BackingOff));
        }
        // Steps aside while the queue is short; behind, it writes flat out so that it
        // catches up instead of dropping rows.
        let shared = &self.shared;
        let calm = self.behind_depth();
        let step_aside = || shared.queue_depth.load(Ordering::Relaxed) < calm;
        match write_batch(
            &mut self.conn,
            &p.rows,
            &p.accounting,
            &mut self.log_ids,
            step_aside,
        ) {
            Ok(outcome) => {
                self.shared
                    .written
                    .fetch_add(outcome.written, Ordering::Relaxed);
                if outcome.rejected > 0 {
                    self.lose(outcome.rejected);
                    tracing::warn!(
                        rows = outcome.rejected,
                        error = %outcome.first_error.as_deref().unwrap_or("?"),
                        "the database rejected log rows; the rest of the batch was written"
                    );
                }
                match outcome.accounting_error {
                    None => {
                        self.shared
                            .accounting_committed
                            .fetch_add(n_acct, Ordering::Relaxed);
                        self.answer_accounting(p, || Ok(()));
                    }
                    Some(cause) => {
                        tracing::warn!(
                            records = n_acct,
                            error = %cause,
                            "the database rejected accounting records; none of the batch was stored"
                        );
                        self.shared
                            .accounting_failed
                            .fetch_add(n_acct, Ordering::Relaxed);
                        self.answer_accounting(p, || {
                            Err(StoreError::NotCommitted {
                                cause: cause.clone(),
                            })
                        });
                    }
                }
                self.writable_again();
            }
            Err(e) => {
                self.shared.failed_batches.fetch_add(1, Ordering::Relaxed);
                self.lose(n_rows);
                self.shared
                    .accounting_failed
                    .fetch_add(n_acct, Ordering::Relaxed);
                let cause = e.to_string();
                self.answer_accounting(p, || {
                    Err(StoreError::NotCommitted {
                        cause: cause.clone(),
                    })
                });
                self.unwritable(now, &e);
            }
        }
        p.rows.clear();
    }

    /// Answers every pending accounting completion and clears the records.
    fn answer_accounting(&self, p: &mut Pending, result: impl Fn() -> Result<(), StoreError>) {
        if p.accounting.is_empty() {
            return;
        }
        p.accounting.clear();
        for done in p.done.drain(..) {
            answer(done, result());
        }
    }

    fn lose(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        self.shared.failed_rows.fetch_add(n, Ordering::Relaxed);
        self.lost_since_flush += n;
        self.lost_in_outage += n;
    }

    fn unwritable(&mut self, now: Instant, e: &dyn std::fmt::Display) {
        tracing::warn!(
            error = %e,
            retry_in_ms = self.backoff.as_millis() as u64,
            "cannot write to the database; dropping log rows until the retry"
        );
        self.unwritable_until = Some(now + self.backoff);
        self.backoff = (self.backoff * 2).min(self.tuning.backoff_max);
    }

    fn writable_again(&mut self) {
        if self.unwritable_until.take().is_some() {
            tracing::info!(
                rows_lost = self.lost_in_outage,
                "the database is writable again"
            );
        }
        self.lost_in_outage = 0;
        self.backoff = self.tuning.backoff_min;
    }

    /// Closes stale sessions when due.
    fn stale_step(&mut self, now: Instant) {
        if now < self.next_stale || self.unwritable_until.is_some_and(|t| now < t) {
            return;
        }
        self.next_stale = now + self.tuning.stale_interval;
        match accounting::close_stale(&self.conn, Timestamp::now(), self.stale_grace) {
            Ok(n) => {
                if n > 0 {
                    self.shared
                        .sessions_closed_stale
                        .fetch_add(n as u64, Ordering::Relaxed);
                    tracing::info!(sessions = n, "closed stale accounting sessions");
                }
                self.writable_again();
            }
            Err(e) => {
                self.shared.failed_batches.fetch_add(1, Ordering::Relaxed);
                self.unwritable(now, &e);
            }
        }
    }

    /// Starts a retention run when due, and deletes one chunk of a run in progress.
    fn retention_step(&mut self, now: Instant) {
        if self.unwritable_until.is_some_and(|t| now < t) {
            return;
        }
        if self.retention_run.is_none() {
            if now < self.next_retention {
                return;
            }
            let days = self.shared.retention_days.load(Ordering::Relaxed);
            let audit_days = self.shared.audit_retention_days.load(Ordering::Relaxed);
            let wall = Timestamp::now();
            self.retention_run = Some(RetentionRun {
                cutoff: retention_cutoff(wall, days),
                audit_cutoff: retention_cutoff(wall, audit_days),
                table: 0,
                deleted: 0,
            });
            self.next_retention = now + self.tuning.retention_interval;
        }
        let Some(run) = &mut self.retention_run else {
            return;
        };
        let Some(&table) = RETENTION_ORDER.get(run.table) else {
            self.retention_run = None;
            return;
        };
        let cutoff = if table == Expiring::Audit {
            run.audit_cutoff
        } else {
            run.cutoff
        };
        match delete_expired_chunk(&self.conn, table, cutoff, self.tuning.retention_chunk) {
            Ok(n) => {
                run.deleted += n;
                if n < self.tuning.retention_chunk {
                    run.table += 1;
                }
                if run.table >= RETENTION_ORDER.len() {
                    if run.deleted > 0 {
                        tracing::info!(
                            rows = run.deleted,
                            cutoff = %run.cutoff,
                            "deleted rows past the retention period"
                        );
                    }
                    self.retention_run = None;
                }
                self.writable_again();
            }
            // The run stays in progress and resumes after the back-off.
            Err(e) => {
                self.shared.failed_batches.fetch_add(1, Ordering::Relaxed);
                self.unwritable(now, &e);
            }
        }
    }

    /// After a shutdown: answers what is still queued, then closes the connection.
    fn stop(mut self) -> Result<(), StoreError> {
        while let Ok(job) = self.rx.try_recv() {
            self.shared.queue_depth.fetch_sub(1, Ordering::Relaxed);
            self.discard(job);
        }
        let result = self.take_flush_result();
        if let Err((_conn, e)) = self.conn.close() {
            return Err(e.into());
        }
        result
    }

    fn discard(&self, job: Job) {
        match job {
            Job::Row(_) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Job::Accounting(b) => {
                self.shared
                    .accounting_refused
                    .fetch_add(1, Ordering::Relaxed);
                let (_, done) = *b;
                answer(done, Err(StoreError::ShuttingDown));
            }
            Job::Erase(job) => answer(job.done, Err(StoreError::ShuttingDown)),
            Job::Flush(done) => {
                let _ = done.send(Err(StoreError::ShuttingDown));
            }
            Job::RunRetention | Job::Shutdown => {}
        }
    }
}

struct WriteOutcome {
    written: u64,
    /// Rows the database refused one by one (constraint, type); the batch went on.
    rejected: u64,
    first_error: Option<String>,
    /// Why the batch's accounting records were rolled back (all of them), if they were.
    accounting_error: Option<String>,
}

fn write_row<'c>(
    conn: &'c Connection,
    auth_log: &mut Option<auth_log::Inserter<'c>>,
    ids: &mut LogIds,
    row: &Row,
) -> rusqlite::Result<()> {
    match row {
        Row::Auth(r) => match auth_log {
            Some(inserter) => inserter.insert(ids, r),
            None => auth_log
                .insert(auth_log::Inserter::new(conn)?)
                .insert(ids, r),
        },
        Row::Sighting(s) => sightings::upsert_sighting(conn, s),
        Row::Rogue(r) => sightings::upsert_rogue(conn, r),
        Row::Disconnect(d) => records::insert_disconnect(conn, d),
        Row::Audit(a) => records::insert_audit(conn, a),
    }
}

/// One transaction for the whole batch. The accounting records go first, inside a
/// savepoint: if one fails they are all rolled back (none half-written) and the log rows
/// still commit. A log row the database refuses (a constraint, a type) is skipped so it
/// cannot take the others down; any other error rolls the whole batch back.
fn write_batch(
    conn: &mut Connection,
    rows: &[Row],
    accounting: &[AccountingRecord],
    ids: &mut LogIds,
    step_aside: impl Fn() -> bool,
) -> rusqlite::Result<WriteOutcome> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = WriteOutcome {
        written: 0,
        rejected: 0,
        first_error: None,
        accounting_error: None,
    };
    if !accounting.is_empty() {
        let sp = tx.savepoint()?;
        let failed = accounting
            .iter()
            .find_map(|rec| accounting::apply(&sp, rec).err());
        match failed {
            None => sp.commit()?,
            Some(e) => {
                // Rolls back to the savepoint and releases it.
                let undone = sp.finish();
                if !is_row_error(&e) || undone.is_err() || tx.is_autocommit() {
                    return Err(e);
                }
                out.accounting_error = Some(e.to_string());
            }
        }
    }
    let mut auth_log = None;
    for (i, row) in rows.iter().enumerate() {
        if i % YIELD_EVERY == YIELD_EVERY - 1 && step_aside() {
            // On a shared core the writer would otherwise run a whole time slice (~3 ms)
            // while a receive thread with requests waiting stands behind it; stepping aside
            // every few hundred microseconds lets the requests go first (the lock stays
            // held; WAL readers are not blocked by it).
            std::thread::yield_now();
        }
        match write_row(&tx, &mut auth_log, ids, row) {
            Ok(()) => out.written += 1,
            // A statement error keeps the transaction open unless SQLite rolled it back.
            Err(e) if is_row_error(&e) && !tx.is_autocommit() => {
                out.rejected += 1;
                if out.first_error.is_none() {
                    out.first_error = Some(e.to_string());
                }
            }
            Err(e) => return Err(e),
        }
    }
    drop(auth_log);
    tx.commit()?;
    Ok(out)
}

/// Log rows written between two yields of the writer thread (about 0.3 ms of work).
const YIELD_EVERY: usize = 64;

fn is_row_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch | ErrorCode::TooBig)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::model::Module;
    use crate::store::accounting::tests::rec;
    use crate::store::accounting::{AcctStatus, ClosedBy, SessionFilter, sessions};
    use crate::store::auth_log::tests::row;
    use crate::store::auth_log::{AuthLogFilter, auth_log};
    use crate::store::erase::tests::{
        ERIKA_PHONE, MAX_LAPTOP, MAX_PHONE, populate, rows_of_erika, rows_of_max,
    };
    use crate::store::records::tests::{audit, disconnect};
    use crate::store::records::{audit_log, disconnects};
    use crate::store::schema::{DB_FILE_NAME, M1_FOR_TESTS, open_read_only};
    use crate::store::sightings::tests::seen;
    use crate::store::sightings::{DhcpMessage, rogue_servers, sighting};

    fn fast() -> Tuning {
        Tuning {
            busy_timeout: Duration::from_secs(30),
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(1),
            // the tests below that hold the write lock count on a batch per arrival
            log_linger: Duration::ZERO,
            ..Tuning::default()
        }
    }

    fn start(
        dir: &Path,
        queue_capacity: usize,
        batch_max: usize,
        tuning: Tuning,
    ) -> (PathBuf, WriterHandle) {
        let db_path = dir.join(DB_FILE_NAME);
        let cfg = WriterConfig {
            queue_capacity,
            batch_max,
            ..WriterConfig::new(db_path.clone())
        };
        let handle = spawn_writer_tuned(cfg, tuning).unwrap();
        (db_path, handle)
    }

    fn count(path: &Path) -> i64 {
        open_read_only(path)
            .unwrap()
            .query_row("SELECT count(*) FROM auth_log", [], |r| r.get(0))
            .unwrap()
    }

    fn recent() -> AuthLogRow {
        let mut r = row(
            "2026-01-01T00:00:00Z",
            Some("3c:22:fb:12:34:56"),
            Some("max"),
        );
        r.time = Timestamp::now();
        r
    }

    /// Waits until the retention run at start is done: the writer deletes one chunk of one
    /// table after each batch, so after a flush per table (plus the first) it is over.
    fn settle(w: &WriterHandle) {
        for _ in 0..=RETENTION_ORDER.len() + 1 {
            w.flush().unwrap();
        }
    }

    fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if cond() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        cond()
    }

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
    fn log_rows_wait_for_company_but_not_longer_than_the_linger() {
        let dir = tempfile::tempdir().unwrap();
        let lingering = Tuning {
            log_linger: Duration::from_secs(3600),
            ..fast()
        };
        let (path, w) = start(dir.path(), 1024, 16, lingering);
        settle(&w);
        for _ in 0..5 {
            assert!(w.log_auth(recent()));
        }
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(count(&path), 0, "five rows alone wait for the linger");
        // a full batch goes at once
        for _ in 0..11 {
            assert!(w.log_auth(recent()));
        }
        assert!(wait_until(|| count(&path) == 16));
        // an accounting record does not wait, and takes the waiting rows along
        assert!(w.log_auth(recent()));
        let (tx, rx) = mpsc::channel();
        w.accounting(
            rec(AcctStatus::Start, "s-1", "2026-01-01T00:00:00Z"),
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        )
        .unwrap();
        rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        assert_eq!(count(&path), 17);
        // rows still waiting when the writer is shut down are written
        assert!(w.log_auth(recent()));
        w.shutdown().unwrap();
        assert_eq!(count(&path), 18);

        let dir = tempfile::tempdir().unwrap();
        let short = Tuning {
            log_linger: Duration::from_millis(50),
            ..fast()
        };
        let (path, w) = start(dir.path(), 1024, 16, short);
        assert!(w.log_auth(recent()));
        assert!(
            wait_until(|| count(&path) == 1),
            "committed after the linger, unasked"
        );
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
    fn the_writer_goes_to_the_background_when_caught_up_and_back_when_behind() {
        // (in the background now, queue depth) -> in the background next; caught up at
        // 100 jobs, behind at 800
        let table = [
            ((false, 0), true),
            ((false, 100), true),
            ((false, 101), false),
            ((false, 799), false),
            ((true, 0), true),
            ((true, 799), true),
            ((true, 800), false),
            ((true, 65_536), false),
        ];
        for ((now, depth), next) in table {
            assert_eq!(
                wants_background(now, depth, 100, 800),
                next,
                "in background {now}, depth {depth}"
            );
        }
    }

    /// The writer thread's nice value, read from /proc.
    fn writer_nice(w: &WriterHandle) -> i32 {
        let id = w.shared.thread_id.load(Ordering::Relaxed);
        sched::nice_of(id).unwrap()
    }

    #[test]
    fn an_idle_writer_works_in_the_background_if_it_may_come_back() {
        let normal = sched::nice().unwrap();
        let background = (normal + BACKGROUND_NICE_STEP).min(19);
        let allowed = sched::can_return_from(background, normal);
        let dir = tempfile::tempdir().unwrap();
        let (_, w) = start(dir.path(), 64, 16, fast());
        settle(&w);
        assert_eq!(w.in_background(), allowed && background != normal);
        let expected = if w.in_background() {
            background
        } else {
            normal
        };
        assert_eq!(writer_nice(&w), expected);
        w.shutdown().unwrap();
    }

    #[test]
    fn a_writer_behind_comes_back_to_normal_priority_and_returns_when_caught_up() {
        let normal = sched::nice().unwrap();
        let dir = tempfile::tempdir().unwrap();
        // behind at 64 / 8 = 8 queued jobs, caught up at 1
        let (path, w) = start(dir.path(), 64, 2, fast());
        settle(&w);
        if !w.in_background() {
            // this process may not lower a nice value again (checked in the test above)
            w.shutdown().unwrap();
            return;
        }
        // Another connection holds the write lock: the writer waits in SQLite's busy
        // handler and the queue fills up behind it.
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        for _ in 0..40 {
            w.log_auth(recent());
        }
        assert!(w.queue_depth() >= 8, "depth {}", w.queue_depth());
        holder.execute_batch("ROLLBACK").unwrap();
        w.flush().unwrap();
        assert_eq!(
            w.times_behind(),
            1,
            "the writer did not leave the background"
        );
        // Caught up again: back in the background.
        assert!(wait_until(|| w.in_background()));
        assert_eq!(writer_nice(&w), (normal + BACKGROUND_NICE_STEP).min(19));
        assert_eq!(w.dropped() + w.written(), 40);
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
    fn rows_the_database_refuses_are_counted_and_the_rest_written() {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = start(dir.path(), 1024, 64, fast());
        settle(&w);
        let admin = Connection::open(&path).unwrap();
        admin
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON auth_log
                 WHEN NEW.reason = 'banned'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let banned = || {
            let mut r = recent();
            r.reason = "banned";
            r
        };
        // One batch with good and refused rows: the good ones survive.
        for r in [recent(), banned(), recent(), banned(), recent()] {
            assert!(w.log_auth(r));
        }
        match w.flush() {
            Err(StoreError::RowsLost { count: 2 }) => {}
            other => panic!("expected 2 rows lost, got {other:?}"),
        }
        assert_eq!(w.failed_rows(), 2);
        assert_eq!(w.written(), 3);
        assert_eq!(w.failed_batches(), 0, "no batch failed, no back-off");
        // The writer goes on: once the trigger is gone, every row is stored.
        admin.execute_batch("DROP TRIGGER refuse").unwrap();
        assert!(w.log_auth(banned()));
        w.flush().unwrap();
        assert_eq!(count(&path), 4);
        assert_eq!(w.failed_rows(), 2);
        w.shutdown().unwrap();
    }

    #[test]
    fn unwritable_database_backs_off_then_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let tuning = Tuning {
            backoff_min: Duration::from_secs(1),
            ..fast()
        };
        let (path, w) = start(dir.path(), 1024, 64, tuning);
        settle(&w);
        let admin = Connection::open(&path).unwrap();
        // Every write now fails for the whole batch, like a full disk would.
        admin.execute_batch("DROP TABLE auth_log").unwrap();
        assert!(w.log_auth(recent()));
        assert!(matches!(w.flush(), Err(StoreError::RowsLost { count: 1 })));
        assert_eq!(w.failed_batches(), 1);
        // During the back-off rows are counted and dropped without another attempt.
        let failed_at = Instant::now();
        for _ in 0..100 {
            assert!(w.log_auth(recent()));
        }
        assert!(matches!(
            w.flush(),
            Err(StoreError::RowsLost { count: 100 })
        ));
        assert!(
            failed_at.elapsed() < Duration::from_secs(1),
            "test too slow to check"
        );
        assert_eq!(w.failed_batches(), 1, "no retry during the back-off");
        assert_eq!(w.failed_rows(), 101);
        // The database is repaired; after the back-off the writer writes again.
        admin.execute_batch(M1_FOR_TESTS).unwrap();
        std::thread::sleep(Duration::from_millis(1100).saturating_sub(failed_at.elapsed()));
        for _ in 0..3 {
            assert!(w.log_auth(recent()));
        }
        w.flush().unwrap();
        assert_eq!(count(&path), 3);
        assert_eq!(w.written(), 3);
        assert_eq!(w.failed_batches(), 1);
        w.shutdown().unwrap();
    }

    #[test]
    fn retention_at_start_and_after_reload() {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join(DB_FILE_NAME);
        let now = Timestamp::now();
        {
            let conn = open_rw(&db_path, Duration::from_secs(1)).unwrap();
            for age_days in [60, 31, 29, 1] {
                let mut r = recent();
                r.time = now - jiff::SignedDuration::from_hours(24 * age_days);
                auth_log::insert(&conn, &r).unwrap();
            }
        }
        let (path, w) = start(dir.path(), 1024, 64, fast());
        assert_eq!(w.retention_days(), 30);
        // Retention ran at start without any job: the rows older than 30 days are gone.
        assert!(wait_until(|| count(&path) == 2), "count {}", count(&path));
        w.set_retention_days(7);
        assert_eq!(w.retention_days(), 7);
        assert!(wait_until(|| count(&path) == 1), "count {}", count(&path));
        let left = auth_log(&open_read_only(&path).unwrap(), &AuthLogFilter::default()).unwrap();
        assert!(left[0].time > now - jiff::SignedDuration::from_hours(48));
        w.shutdown().unwrap();
    }

    #[test]
    fn retention_runs_periodically_when_idle() {
        let dir = tempfile::tempdir().unwrap();
        let tuning = Tuning {
            retention_interval: Duration::from_millis(50),
            retention_chunk: 3,
            ..fast()
        };
        let (path, w) = start(dir.path(), 1024, 64, tuning);
        w.flush().unwrap();
        // Written behind the writer's back while it idles: only the timer can delete them.
        let admin = Connection::open(&path).unwrap();
        for _ in 0..10 {
            auth_log::insert(&admin, &row("2000-01-01T00:00:00Z", None, None)).unwrap();
        }
        auth_log::insert(&admin, &recent()).unwrap();
        assert!(wait_until(|| count(&path) == 1), "count {}", count(&path));
        w.shutdown().unwrap();
    }

    fn count_sessions(path: &Path) -> i64 {
        open_read_only(path)
            .unwrap()
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
            .unwrap()
    }

    /// A completion that reports on a channel.
    fn reporting() -> (AccountingDone, mpsc::Receiver<Result<(), StoreError>>) {
        let (tx, rx) = mpsc::channel();
        let done: AccountingDone = Box::new(move |r| {
            let _ = tx.send(r);
        });
        (done, rx)
    }

    fn recv(rx: &mpsc::Receiver<Result<(), StoreError>>) -> Result<(), StoreError> {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the completion was not called")
    }

    fn acct(status: AcctStatus, id: &str) -> AccountingRecord {
        let mut r = rec(status, id, "2026-01-01T00:00:00Z");
        r.time = Timestamp::now();
        r
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
    fn accounting_completion_runs_only_after_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = start(dir.path(), 1024, 64, fast());
        let (tx, rx) = mpsc::channel();
        for id in ["S1", "S2", "S3"] {
            let tx = tx.clone();
            let path = path.clone();
            let want = id.to_string();
            let done: AccountingDone = Box::new(move |result| {
                // Another connection sees the row the moment the completion runs: the
                // transaction holding it has committed.
                let visible: i64 = open_read_only(&path)
                    .unwrap()
                    .query_row(
                        "SELECT count(*) FROM sessions WHERE acct_session_id = ?1",
                        [&want],
                        |r| r.get(0),
                    )
                    .unwrap();
                let _ = tx.send((result, visible));
            });
            w.accounting(acct(AcctStatus::Start, id), done).unwrap();
        }
        for _ in 0..3 {
            let (result, visible) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
            result.unwrap();
            assert_eq!(visible, 1);
        }
        assert_eq!(w.accounting_committed(), 3);
        assert_eq!(w.accounting_failed(), 0);
        w.shutdown().unwrap();
    }

    #[test]
    fn accounting_oneshot_resolves_after_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = start(dir.path(), 1024, 64, fast());
        let rx = w.accounting_oneshot(acct(AcctStatus::Start, "S1")).unwrap();
        rx.blocking_recv().unwrap().unwrap();
        assert_eq!(count_sessions(&path), 1);
        w.shutdown().unwrap();
    }

    #[test]
    fn many_records_in_group_commits_one_row_per_session() {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = start(dir.path(), 65_536, 256, fast());
        let (tx, rx) = mpsc::channel();
        let mut sent = 0;
        for i in 0..500 {
            // Start, its retransmission, an Interim and a Stop per session.
            for status in [
                AcctStatus::Start,
                AcctStatus::Start,
                AcctStatus::Interim,
                AcctStatus::Stop,
            ] {
                let tx = tx.clone();
                w.accounting(
                    acct(status, &format!("S{i}")),
                    Box::new(move |r| {
                        let _ = tx.send(r);
                    }),
                )
                .unwrap();
                sent += 1;
            }
            assert!(w.log_auth(recent()));
        }
        for _ in 0..sent {
            rx.recv_timeout(Duration::from_secs(30)).unwrap().unwrap();
        }
        assert_eq!(w.accounting_committed(), sent);
        assert_eq!(count_sessions(&path), 500);
        let ro = open_read_only(&path).unwrap();
        let all = sessions(&ro, &SessionFilter::default()).unwrap();
        assert!(all.iter().all(|s| s.closed_by == Some(ClosedBy::Stop)));
        w.flush().unwrap();
        assert_eq!(count(&path), 500);
        w.shutdown().unwrap();
    }

    #[test]
    fn a_failing_accounting_batch_answers_every_completion_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = start(dir.path(), 1024, 1024, fast());
        settle(&w);
        let admin = Connection::open(&path).unwrap();
        admin
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON sessions
                 WHEN NEW.acct_session_id = 'bad'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        // Hold the write lock so the writer is stuck on a batch with one log row; what is
        // queued meanwhile forms the next batch.
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        assert!(w.log_auth(recent()));
        assert!(wait_until(|| w.queue_depth() == 0));
        let mut answers = Vec::new();
        for id in ["good1", "bad", "good2"] {
            let (done, rx) = reporting();
            w.accounting(acct(AcctStatus::Start, id), done).unwrap();
            answers.push(rx);
        }
        assert!(w.log_auth(recent()));
        holder.execute_batch("ROLLBACK").unwrap();
        for rx in &answers {
            match recv(rx) {
                Err(StoreError::NotCommitted { cause }) => {
                    assert!(cause.contains("refused"), "{cause}")
                }
                other => panic!("expected NotCommitted, got {other:?}"),
            }
        }
        // Nothing of the batch's accounting is written, but its log rows are.
        assert_eq!(count_sessions(&path), 0, "no half-written batch");
        w.flush().unwrap();
        assert_eq!(count(&path), 2);
        assert_eq!(w.accounting_failed(), 3);
        assert_eq!(w.accounting_committed(), 0);
        assert_eq!(w.failed_batches(), 0, "a refused record is no outage");
        // The NAS retries the good ones later: they are stored.
        let (done, rx) = reporting();
        w.accounting(acct(AcctStatus::Start, "good1"), done)
            .unwrap();
        recv(&rx).unwrap();
        assert_eq!(count_sessions(&path), 1);
        w.shutdown().unwrap();
    }

    #[test]
    fn an_unwritable_database_fails_accounting_then_backs_off() {
        let dir = tempfile::tempdir().unwrap();
        let tuning = Tuning {
            backoff_min: Duration::from_secs(5),
            ..fast()
        };
        let (path, w) = start(dir.path(), 1024, 64, tuning);
        settle(&w);
        let admin = Connection::open(&path).unwrap();
        admin.execute_batch("DROP TABLE sessions").unwrap();
        let (done, rx) = reporting();
        w.accounting(acct(AcctStatus::Start, "S1"), done).unwrap();
        assert!(matches!(recv(&rx), Err(StoreError::NotCommitted { .. })));
        assert_eq!(w.failed_batches(), 1);
        // During the back-off the writer answers at once without trying.
        let (done, rx) = reporting();
        w.accounting(acct(AcctStatus::Start, "S2"), done).unwrap();
        assert!(matches!(recv(&rx), Err(StoreError::BackingOff)));
        assert_eq!(w.failed_batches(), 1);
        assert_eq!(w.accounting_failed(), 2);
        w.shutdown().unwrap();
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
    fn a_panicking_completion_does_not_stop_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = start(dir.path(), 1024, 64, fast());
        w.accounting(
            acct(AcctStatus::Start, "S1"),
            Box::new(|_| panic!("callback bug")),
        )
        .unwrap();
        let (done, rx) = reporting();
        w.accounting(acct(AcctStatus::Start, "S2"), done).unwrap();
        recv(&rx).unwrap();
        assert_eq!(count_sessions(&path), 2);
        w.shutdown().unwrap();
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

    #[test]
    fn stale_sessions_are_closed_on_a_timer() {
        let dir = tempfile::tempdir().unwrap();
        let tuning = Tuning {
            stale_interval: Duration::from_millis(50),
            ..fast()
        };
        let (path, w) = start(dir.path(), 1024, 64, tuning);
        settle(&w);
        let admin = Connection::open(&path).unwrap();
        let mut old = acct(AcctStatus::Start, "old");
        old.time = Timestamp::now() - jiff::SignedDuration::from_hours(1); // > 2 × 300 s + 300 s
        accounting::apply(&admin, &old).unwrap();
        let (done, rx) = reporting();
        w.accounting(acct(AcctStatus::Start, "fresh"), done)
            .unwrap();
        recv(&rx).unwrap();
        assert!(wait_until(|| w.sessions_closed_stale() == 1));
        let ro = open_read_only(&path).unwrap();
        let all = sessions(&ro, &SessionFilter::default()).unwrap();
        let by = |id: &str| all.iter().find(|s| s.acct_session_id == id).unwrap();
        assert_eq!(by("old").closed_by, Some(ClosedBy::Stale));
        assert!(by("fresh").is_open());
        w.shutdown().unwrap();
    }

    #[test]
    fn retention_covers_every_table_and_keeps_audit_longer() {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join(DB_FILE_NAME);
        let now = Timestamp::now();
        let days_ago = |d: i64| now - jiff::SignedDuration::from_hours(24 * d);
        {
            let conn = open_rw(&db_path, Duration::from_secs(1)).unwrap();
            for (age, id) in [(40, "closed-old"), (10, "closed-new")] {
                let mut r = acct(AcctStatus::Stop, id);
                r.time = days_ago(age);
                accounting::apply(&conn, &r).unwrap();
            }
            let mut open_old = acct(AcctStatus::Start, "open-old");
            open_old.time = days_ago(40);
            accounting::apply(&conn, &open_old).unwrap();
            for (age, mac) in [(40, "02:00:00:00:00:01"), (10, "02:00:00:00:00:02")] {
                let mut s = seen(mac, "2026-01-01T00:00:00Z", DhcpMessage::Ack);
                s.time = days_ago(age);
                sightings::upsert_sighting(&conn, &s).unwrap();
                let mut d = disconnect("2026-01-01T00:00:00Z", "max", mac);
                d.time = days_ago(age);
                records::insert_disconnect(&conn, &d).unwrap();
                sightings::upsert_rogue(
                    &conn,
                    &RogueServerSeen {
                        server_ip: "192.168.0.1".parse().unwrap(),
                        server_mac: mac.parse().unwrap(),
                        time: days_ago(age),
                        message: DhcpMessage::Offer,
                        interface: None,
                    },
                )
                .unwrap();
            }
            for age in [400, 40] {
                let mut a = audit("2026-01-01T00:00:00Z", "max");
                a.time = days_ago(age);
                records::insert_audit(&conn, &a).unwrap();
            }
        }
        let (path, w) = start(dir.path(), 1024, 64, fast());
        let n = |table: &str| -> i64 {
            open_read_only(&path)
                .unwrap()
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        assert!(
            wait_until(|| n("audit") == 1),
            "the run ends with the audit log"
        );
        // The old open session was closed as stale at start, then expired.
        assert_eq!(n("sessions"), 1);
        assert_eq!(n("sightings"), 1);
        assert_eq!(n("sighting_history"), 1);
        assert_eq!(n("rogue_servers"), 1);
        assert_eq!(n("disconnects"), 1);
        let ro = open_read_only(&path).unwrap();
        let left = sessions(&ro, &SessionFilter::default()).unwrap();
        assert_eq!(left[0].acct_session_id, "closed-new");
        // A shorter audit period after a reload applies at once.
        assert_eq!(w.audit_retention_days(), 365);
        w.set_audit_retention_days(30);
        assert!(wait_until(|| n("audit") == 0));
        w.shutdown().unwrap();
    }
}
