//! The writer steps into the background while its queue is short and comes back when it
//! falls behind, if the process may lower its nice value again.

use super::super::priority::{BACKGROUND_NICE_STEP, wants_background};
use super::*;

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
