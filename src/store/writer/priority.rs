//! When the writer thread steps into the background: a pure decision from its queue depth,
//! and the writer's side of moving (counters and logs). The system calls are `sched`'s.

use std::sync::atomic::Ordering;

use super::run::Writer;
use crate::sched::{self, SchedError};

/// How much the writer raises its nice value while its queue is short. At nice 10 its
/// weight is a tenth of a receive thread's: a receive thread with requests waiting gets the
/// core (the kernel otherwise lets the writer finish its share of the core first, which
/// held answers for milliseconds), and the writer works in the gaps, which under anything
/// but full load are plenty.
pub(super) const BACKGROUND_NICE_STEP: i32 = 10;

/// Whether the writer should run in the background, given how many jobs wait in its queue:
/// it goes there once the queue is down to `caught_up` and comes back to normal weight when
/// the queue reaches `behind` (so that it never loses rows to its own modesty); in between
/// it stays as it is, so that it does not switch at every batch.
pub(super) fn wants_background(
    in_background: bool,
    depth: usize,
    caught_up: usize,
    behind: usize,
) -> bool {
    if in_background {
        depth < behind
    } else {
        depth <= caught_up
    }
}

impl Writer {
    /// The writer's nice values, if it may go to the background and come back. Without the
    /// permission to come back the writer stays at normal weight rather than risk staying
    /// behind for good.
    pub(super) fn background_allowed() -> Option<sched::Background> {
        match sched::Background::for_this_thread(BACKGROUND_NICE_STEP) {
            Ok(b) => Some(b),
            // Already at the lowest weight: nowhere to step aside to.
            Err(SchedError::NoBackground { .. }) => None,
            Err(SchedError::NoReturn { normal, .. }) => {
                tracing::info!(
                    nice = normal,
                    "database writer keeps its priority: this process may not lower a nice value again (RLIMIT_NICE; the packaged unit sets LimitNICE=); under heavy load answers may wait behind log writes"
                );
                None
            }
            Err(e) => {
                tracing::info!(error = %e, "database writer keeps its priority");
                None
            }
        }
    }

    /// Queue depth from which the writer counts as behind: it stops stepping aside and
    /// runs at normal weight.
    pub(super) fn behind_depth(&self) -> usize {
        (self.queue_capacity / 8).max(1)
    }

    /// Moves the writer to the background or back, as its queue says.
    pub(super) fn adjust_priority(&mut self) {
        let behind = self.behind_depth();
        let Some(p) = &mut self.priority else {
            return;
        };
        let depth = self.shared.depths.pressing();
        let want = wants_background(p.in_background(), depth, behind / 8, behind);
        if want == p.in_background() {
            return;
        }
        match p.step(want) {
            Ok(()) => {
                if !want {
                    self.shared.times_behind.fetch_add(1, Ordering::Relaxed);
                }
                self.shared.background.store(want, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(error = %e, "database writer cannot change its priority any more");
                self.priority = None;
            }
        }
    }
}
