//! Time arithmetic of the rules: schedule windows as real instants in the server's time
//! zone, the end of a contiguous cover of intervals, and local day bounds. Pure: `now` is
//! always a parameter.
//!
//! A schedule window is local wall-clock time. On the day of a daylight saving change its
//! real length differs (`Sun 00:00-06:00` lasts 5 hours on the spring day, 7 in autumn in
//! Europe/Berlin). A local time that does not exist (in the spring gap) or exists twice (in
//! the autumn fold) is resolved with jiff's "compatible" disambiguation: a time in the gap
//! moves forward by the length of the gap (02:30 becomes 03:30), a time in the fold is the
//! earlier of the two (summer time). A window that ends up empty that way is skipped.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::model::{Schedule, ScheduleWindow};

/// How far ahead schedule windows are looked at: a weekly schedule repeats within 7 days,
/// one more covers a window that is still open from the day before.
pub(super) const HORIZON_DAYS: i32 = 8;

/// A half-open interval `[start, end)` of real time.
pub(super) type Interval = (Timestamp, Timestamp);

/// The start of the local day of `now` and the start of the next one (the next local
/// midnight, or the first instant of that day if midnight does not exist there), in `tz`.
/// The daemon sums usage over this range; a quota resets at its end.
pub fn local_day_bounds(now: Timestamp, tz: &TimeZone) -> (Timestamp, Timestamp) {
    let date = now.to_zoned_datetime(tz.clone()).date();
    let start = day_start(date, tz).unwrap_or(now);
    let end = date
        .tomorrow()
        .ok()
        .and_then(|d| day_start(d, tz))
        .unwrap_or(Timestamp::MAX);
    (start, end)
}

/// The first instant of a local date.
fn day_start(date: Date, tz: &TimeZone) -> Option<Timestamp> {
    date.to_zoned_datetime(tz.clone())
        .ok()
        .map(|z| z.timestamp())
}

/// The instant of a local date and minute of the day (1440 = midnight of the next date),
/// with compatible disambiguation.
fn local_instant(date: Date, minute: u16, tz: &TimeZone) -> Option<Timestamp> {
    let (date, minute) = if minute >= 1440 {
        (date.tomorrow().ok()?, minute - 1440)
    } else {
        (date, minute)
    };
    let h = i8::try_from(minute / 60).ok()?;
    let m = i8::try_from(minute % 60).ok()?;
    let time = Time::new(h, m, 0, 0).ok()?;
    tz.to_timestamp(date.to_datetime(time)).ok()
}

/// The real interval of one window on one local date, if the window is on that weekday
/// and not empty after disambiguation.
fn window_on(w: &ScheduleWindow, date: Date, tz: &TimeZone) -> Option<Interval> {
    if !w.on(date.weekday().to_monday_zero_offset()) {
        return None;
    }
    let start = local_instant(date, w.start, tz)?;
    let end = local_instant(date, w.end, tz)?;
    (start < end).then_some((start, end))
}

/// The intervals of a schedule's windows on the local dates from the day before `now` to
/// `HORIZON_DAYS` after it, sorted by start.
pub(super) fn schedule_intervals(s: &Schedule, tz: &TimeZone, now: Timestamp) -> Vec<Interval> {
    let today = now.to_zoned_datetime(tz.clone()).date();
    let mut out = Vec::with_capacity(s.0.len() * 4);
    for offset in -1..=HORIZON_DAYS {
        let Ok(date) = today.checked_add(jiff::Span::new().days(offset)) else {
            continue;
        };
        out.extend(s.0.iter().filter_map(|w| window_on(w, date, tz)));
    }
    out.sort_unstable();
    out
}

/// Whether a schedule lets a group in at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ScheduleState {
    /// Inside a window; it (merged with every window it touches or overlaps) closes at
    /// `closes`.
    Open { closes: Timestamp },
    /// Outside every window; the next one opens at `opens` (`None`: none within the
    /// horizon).
    Closed { opens: Option<Timestamp> },
}

pub(super) fn schedule_state(s: &Schedule, tz: &TimeZone, now: Timestamp) -> ScheduleState {
    let intervals = schedule_intervals(s, tz, now);
    match cover_end(intervals.iter().copied(), now) {
        Some(closes) => ScheduleState::Open { closes },
        None => ScheduleState::Closed {
            opens: intervals.iter().map(|i| i.0).find(|start| *start > now),
        },
    }
}

/// If `now` lies in one of the intervals: the end of the contiguous cover it starts in, i.e.
/// the latest end reachable through intervals that overlap or touch (one starts exactly when
/// another ends). `None` if no interval contains `now`.
pub(super) fn cover_end<I>(intervals: I, now: Timestamp) -> Option<Timestamp>
where
    I: Iterator<Item = Interval> + Clone,
{
    let mut end = intervals
        .clone()
        .filter(|(s, e)| *s <= now && now < *e)
        .map(|(_, e)| e)
        .max()?;
    // Each pass moves the end strictly later, so this ends after at most one pass per
    // interval.
    loop {
        let later = intervals
            .clone()
            .filter(|(s, e)| *s <= end && *e > end)
            .map(|(_, e)| e)
            .max();
        match later {
            Some(e) => end = e,
            None => return Some(end),
        }
    }
}

/// `now` plus whole days, saturating.
pub(super) fn days_after(now: Timestamp, days: i64) -> Timestamp {
    now.checked_add(SignedDuration::from_hours(24 * days))
        .unwrap_or(Timestamp::MAX)
}
