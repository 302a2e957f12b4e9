//! Table-driven tests of the schedule, grant and quota rules (each boundary to the second),
//! across both daylight saving changes, of `recheck` and of `next_change`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::model::{Access, Grant, GrantTarget, Schedule, ScheduleWindow};

impl Dir {
    fn berlin(mut self) -> Dir {
        self.0.server.timezone = berlin();
        self
    }

    fn edit_group(mut self, name: &str, f: impl FnOnce(&mut PolicyGroup)) -> Dir {
        f(self
            .0
            .policy
            .groups
            .iter_mut()
            .find(|g| g.name == name)
            .unwrap());
        self
    }

    fn schedule(self, group: &str, windows: &[&str]) -> Dir {
        let s = Schedule(
            windows
                .iter()
                .map(|w| ScheduleWindow::parse(w).unwrap())
                .collect(),
        );
        self.edit_group(group, |g| g.schedule = Some(Arc::new(s)))
    }

    fn needs_grant(self, group: &str) -> Dir {
        self.edit_group(group, |g| g.access = Access::Grant)
    }

    fn quota(self, group: &str, bytes: u64) -> Dir {
        self.edit_group(group, |g| g.daily_quota = Some(bytes))
    }

    fn user_grant(mut self, user: &str, modules: &str, from: Timestamp, until: Timestamp) -> Dir {
        let user: UserName = Arc::from(user);
        let g = grant(GrantTarget::User(user.clone()), modules, from, until);
        self.0.user_grants.entry(user).or_default().push(g);
        self
    }

    fn group_grant(mut self, group: &str, modules: &str, from: Timestamp, until: Timestamp) -> Dir {
        let group: Arc<str> = Arc::from(group);
        let g = grant(GrantTarget::Group(group.clone()), modules, from, until);
        self.0.group_grants.entry(group).or_default().push(g);
        self
    }

    fn unregister(self, m: &str) -> Dir {
        let m = mac(m);
        self.registry(|_, devices| devices.retain(|d| d.mac != m))
    }

    fn remove_user(self, name: &str) -> Dir {
        self.registry(|users, _| users.retain(|u| &*u.name != name))
    }
}

fn grant(target: GrantTarget, modules: &str, from: Timestamp, until: Timestamp) -> Grant {
    let mut set = ModuleSet::default();
    for m in modules.split(',') {
        set.add(m).unwrap();
    }
    Grant {
        target,
        modules: set,
        from,
        until,
        reason: "Informatik, 7b".to_string(),
        by: Some("anna.schmidt".to_string()),
    }
}

fn with_until(reason: Reason, until: Option<Timestamp>) -> Want {
    Want {
        until,
        ..Want::reject(reason)
    }
}

fn usage(bytes: u64) -> Facts {
    Facts {
        usage_today: Some(bytes),
        ..Facts::default()
    }
}

struct FCase {
    name: String,
    dir: Dir,
    req: Req,
    facts: Facts,
    now: Timestamp,
    want: Want,
}

fn fcase(name: impl Into<String>, dir: Dir, now: Timestamp, want: Want) -> FCase {
    FCase {
        name: name.into(),
        dir,
        req: Req::mab(PHONE),
        facts: Facts::default(),
        now,
        want,
    }
}

impl FCase {
    fn facts(mut self, f: Facts) -> FCase {
        self.facts = f;
        self
    }
    fn req(mut self, r: Req) -> FCase {
        self.req = r;
        self
    }
}

/// Checks the decision, that `explain_with` agrees, and that the deciding rule is the last
/// step with every step before it passed.
fn check_steps(name: &str, d: &Decision, e: &Explanation) {
    assert_eq!(&e.decision, d, "{name}: explain decides alike");
    let (last, before) = e.steps.split_last().expect("at least one step");
    assert!(before.iter().all(|s| s.passed), "{name}: {:#?}", e.steps);
    assert_eq!(
        last.passed,
        d.reason == Reason::Accepted,
        "{name}: last step"
    );
    assert_eq!(last.name, deciding_step(d.reason), "{name}: deciding rule");
    assert!(e.steps.iter().all(|s| !s.detail.is_empty()), "{name}");
}

fn run_fcases(cases: Vec<FCase>) {
    for c in cases {
        let dir = c.dir.0;
        let req = c.req.as_req();
        let d = decide_with(&dir, &req, c.facts.clone(), c.now);
        c.want.check(&c.name, &d);
        check_steps(
            &c.name,
            &d,
            &explain_with(&dir, &req, c.facts.clone(), c.now),
        );
        if c.facts == Facts::default() {
            assert_eq!(decide(&dir, &req, c.now), d, "{}: decide", c.name);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Grants

#[test]
fn grant_boundaries_to_the_second() {
    // A lesson of 45 minutes for the class 7b; the students' group needs a grant.
    let g0 = t("2026-12-01T10:00:00Z");
    let g1 = t("2026-12-01T10:45:00Z");
    let dir = || Dir::max().needs_grant("students");
    let lesson = || dir().group_grant("7b", "wifi", g0, g1);
    let cases = vec![
        fcase(
            "no grant at all",
            dir(),
            g0,
            with_until(Reason::NoGrant, None),
        ),
        fcase(
            "1 s before the grant: the next one is named",
            lesson(),
            secs(g0, -1),
            with_until(Reason::NoGrant, Some(g0)),
        ),
        fcase("at its start second", lesson(), g0, Want::student(45 * 60)),
        fcase(
            "1 s before its end",
            lesson(),
            secs(g1, -1),
            Want::student(1),
        ),
        fcase(
            "at its end",
            lesson(),
            g1,
            with_until(Reason::NoGrant, None),
        ),
        fcase(
            "a grant for the LAN does not open the Wi-Fi",
            dir().group_grant("7b", "lan", g0, g1),
            g0,
            with_until(Reason::NoGrant, None),
        ),
        fcase(
            "a grant for the LAN opens the LAN",
            dir().group_grant("7b", "lan", g0, g1),
            g0,
            Want::student(45 * 60).lan(),
        )
        .req(Req::mab(PHONE).port(Some(15))),
        fcase(
            "a grant for all modules",
            dir().group_grant("students", "all", g0, g1),
            secs(g0, 60),
            Want::student(44 * 60),
        ),
        fcase(
            "a grant on the user",
            dir().user_grant("max.muster", "wifi", g0, g1),
            g0,
            Want::student(45 * 60),
        ),
        fcase(
            "a grant for another user does not count",
            dir()
                .user("erika", &["students", "7b"])
                .user_grant("erika", "wifi", g0, g1),
            g0,
            with_until(Reason::NoGrant, None),
        ),
        fcase(
            "a grant for a group the user is not in does not count",
            dir().group_grant("9a", "wifi", g0, g1),
            g0,
            with_until(Reason::NoGrant, None),
        ),
        fcase(
            "a long grant is cut by the session timeout",
            dir().group_grant("7b", "wifi", g0, secs(g0, 3 * 86_400)),
            g0,
            Want::student(SESSION),
        ),
        fcase(
            "a group that needs no grant ignores grants",
            Dir::max(),
            secs(g0, -1),
            Want::student(SESSION),
        ),
        fcase(
            "a teacher (access always) needs no grant",
            dir()
                .user("anna", &["teachers", "students"])
                .device(LAPTOP, "anna"),
            g0,
            Want::accept(30, None, SESSION)
                .user(Some("anna"))
                .mac(Some(LAPTOP)),
        )
        .req(Req::mab(LAPTOP)),
    ];
    run_fcases(cases);
}

#[test]
fn overlapping_and_touching_grants_count_as_one() {
    let base = t("2026-12-01T08:00:00Z");
    let m = |minutes: i64| secs(base, minutes * 60);
    // [0, 60) and [30, 90) overlap, [90, 120) touches, [121, 150) is apart.
    let dir = || {
        Dir::max()
            .needs_grant("students")
            .group_grant("7b", "wifi", m(0), m(60))
            .user_grant("max.muster", "wifi", m(30), m(90))
            .group_grant("students", "all", m(90), m(120))
            .group_grant("7b", "wifi", m(121), m(150))
    };
    let cases = vec![
        fcase("in the first", dir(), m(10), Want::student(110 * 60)),
        fcase("in the overlap", dir(), m(45), Want::student(75 * 60)),
        fcase("at the touching edge", dir(), m(90), Want::student(30 * 60)),
        fcase(
            "in the gap: the next one is named",
            dir(),
            m(120),
            with_until(Reason::NoGrant, Some(m(121))),
        ),
        fcase("in the one apart", dir(), m(121), Want::student(29 * 60)),
    ];
    run_fcases(cases);
}

// ---------------------------------------------------------------------------------------
// Schedules

#[test]
fn schedule_boundaries_to_the_second() {
    // Berlin is UTC+1 in December. 2026-12-01 is a Tuesday, 2026-12-04 a Friday.
    let dir = || {
        Dir::max()
            .berlin()
            .schedule("students", &["Mon-Fri 07:00-17:00", "Sat 08:00-12:00"])
    };
    let opens = t("2026-12-01T06:00:00Z");
    let closes = t("2026-12-01T16:00:00Z");
    let cases = vec![
        fcase(
            "1 s before it opens",
            dir(),
            secs(opens, -1),
            with_until(Reason::OutsideSchedule, Some(opens)),
        ),
        fcase(
            "at the opening second",
            dir(),
            opens,
            Want::student(10 * 3600),
        ),
        fcase(
            "1 s before it closes",
            dir(),
            secs(closes, -1),
            Want::student(1),
        ),
        fcase(
            "at the closing second: the next morning is named",
            dir(),
            closes,
            with_until(Reason::OutsideSchedule, Some(t("2026-12-02T06:00:00Z"))),
        ),
        fcase(
            "Friday evening: Saturday morning is named",
            dir(),
            t("2026-12-04T18:00:00Z"),
            with_until(Reason::OutsideSchedule, Some(t("2026-12-05T07:00:00Z"))),
        ),
        fcase(
            "Saturday noon: Monday morning is named",
            dir(),
            t("2026-12-05T11:00:00Z"),
            with_until(Reason::OutsideSchedule, Some(t("2026-12-07T06:00:00Z"))),
        ),
        fcase(
            "Saturday inside",
            dir(),
            t("2026-12-05T10:00:00Z"),
            Want::student(3600),
        ),
        fcase(
            "touching windows merge",
            Dir::max()
                .berlin()
                .schedule("students", &["Tue 07:00-12:00", "Tue 12:00-17:00"]),
            t("2026-12-01T10:00:00Z"),
            Want::student(6 * 3600),
        ),
        fcase(
            "overlapping windows merge",
            Dir::max()
                .berlin()
                .schedule("students", &["Tue 08:00-12:00", "Tue 10:00-14:00"]),
            t("2026-12-01T07:00:00Z"),
            Want::student(6 * 3600),
        ),
        fcase(
            "a night written as two windows is one",
            Dir::max()
                .berlin()
                .schedule("students", &["Fri 22:00-24:00", "Sat 00:00-06:00"]),
            // Friday 23:00 local to Saturday 06:00 local.
            t("2026-12-04T22:00:00Z"),
            Want::student(7 * 3600),
        ),
        fcase(
            "open all week: the session timeout decides",
            Dir::max()
                .berlin()
                .schedule("students", &["Mon-Sun 00:00-24:00"]),
            t("2026-12-01T10:00:00Z"),
            Want::student(SESSION),
        ),
        fcase(
            "another group's schedule does not matter",
            Dir::max()
                .berlin()
                .schedule("teachers", &["Sat 08:00-09:00"]),
            t("2026-12-01T03:00:00Z"),
            Want::student(SESSION),
        ),
        fcase(
            "in the server's time zone, not UTC",
            Dir::max().schedule("students", &["Mon-Fri 07:00-17:00"]),
            t("2026-12-01T06:30:00Z"),
            with_until(Reason::OutsideSchedule, Some(t("2026-12-01T07:00:00Z"))),
        ),
    ];
    run_fcases(cases);
}

#[test]
fn schedules_across_the_spring_change() {
    // 2027-03-28 (Sunday) 02:00 CET becomes 03:00 CEST in Europe/Berlin.
    let dir = |w: &[&str]| Dir::max().berlin().schedule("students", w);
    let cases = vec![
        // 01:00 CET = 00:00Z to 04:00 CEST = 02:00Z: two real hours.
        fcase(
            "a window over the gap is an hour shorter",
            dir(&["Sun 01:00-04:00"]),
            t("2027-03-28T00:00:00Z"),
            Want::student(2 * 3600),
        ),
        fcase(
            "1 s before it closes",
            dir(&["Sun 01:00-04:00"]),
            t("2027-03-28T01:59:59Z"),
            Want::student(1),
        ),
        fcase(
            "closed: next Sunday 01:00 CEST",
            dir(&["Sun 01:00-04:00"]),
            t("2027-03-28T02:00:00Z"),
            with_until(Reason::OutsideSchedule, Some(t("2027-04-03T23:00:00Z"))),
        ),
        // 02:30 does not exist: compatible disambiguation moves it forward by the gap, to
        // 03:30 CEST = 01:30Z.
        fcase(
            "a start in the gap: 1 s before",
            dir(&["Sun 02:30-05:00"]),
            t("2027-03-28T01:29:59Z"),
            with_until(Reason::OutsideSchedule, Some(t("2027-03-28T01:30:00Z"))),
        ),
        fcase(
            "a start in the gap: at the start",
            dir(&["Sun 02:30-05:00"]),
            t("2027-03-28T01:30:00Z"),
            Want::student(5400),
        ),
        // Friday before the change is CET (07:00 = 06:00Z); Monday after it is CEST
        // (07:00 = 05:00Z).
        fcase(
            "Friday before: CET",
            dir(&["Mon-Fri 07:00-17:00"]),
            t("2027-03-26T05:59:59Z"),
            with_until(Reason::OutsideSchedule, Some(t("2027-03-26T06:00:00Z"))),
        ),
        fcase(
            "Saturday: Monday in CEST is named",
            dir(&["Mon-Fri 07:00-17:00"]),
            t("2027-03-27T12:00:00Z"),
            with_until(Reason::OutsideSchedule, Some(t("2027-03-29T05:00:00Z"))),
        ),
        fcase(
            "Monday after: CEST",
            dir(&["Mon-Fri 07:00-17:00"]),
            t("2027-03-29T05:00:00Z"),
            Want::student(10 * 3600),
        ),
    ];
    run_fcases(cases);
}

#[test]
fn schedules_across_the_autumn_change() {
    // 2026-10-25 (Sunday) 03:00 CEST becomes 02:00 CET in Europe/Berlin.
    let dir = |w: &[&str]| Dir::max().berlin().schedule("students", w);
    let cases = vec![
        // 00:00 CEST = 2026-10-24T22:00Z to 06:00 CET = 05:00Z: seven real hours.
        fcase(
            "a window over the fold is an hour longer",
            dir(&["Sun 00:00-06:00"]),
            t("2026-10-24T22:00:00Z"),
            Want::student(7 * 3600),
        ),
        fcase(
            "1 s before it opens",
            dir(&["Sun 00:00-06:00"]),
            t("2026-10-24T21:59:59Z"),
            with_until(Reason::OutsideSchedule, Some(t("2026-10-24T22:00:00Z"))),
        ),
        fcase(
            "1 s before it closes",
            dir(&["Sun 00:00-06:00"]),
            t("2026-10-25T04:59:59Z"),
            Want::student(1),
        ),
        fcase(
            "at its end",
            dir(&["Sun 00:00-06:00"]),
            t("2026-10-25T05:00:00Z"),
            with_until(Reason::OutsideSchedule, Some(t("2026-10-31T23:00:00Z"))),
        ),
        // 02:30 happens twice: compatible takes the first (CEST, 00:30Z); 04:00 CET = 03:00Z.
        fcase(
            "a start in the fold: 1 s before the first 02:30",
            dir(&["Sun 02:30-04:00"]),
            t("2026-10-25T00:29:59Z"),
            with_until(Reason::OutsideSchedule, Some(t("2026-10-25T00:30:00Z"))),
        ),
        fcase(
            "a start in the fold: at the first 02:30",
            dir(&["Sun 02:30-04:00"]),
            t("2026-10-25T00:30:00Z"),
            Want::student(9000),
        ),
        fcase(
            "the second 02:30 is still inside",
            dir(&["Sun 02:30-04:00"]),
            t("2026-10-25T01:30:00Z"),
            Want::student(5400),
        ),
    ];
    run_fcases(cases);
}

// ---------------------------------------------------------------------------------------
// Quotas

#[test]
fn quota_just_under_at_and_over() {
    const GB: u64 = 1_000_000_000;
    let now = t(NOW);
    // Berlin: the local day of 2026-12-01 ends at 2026-12-01T23:00Z.
    let midnight = t("2026-12-01T23:00:00Z");
    let dir = || Dir::max().berlin().quota("students", 2 * GB);
    let cases = vec![
        fcase("just under", dir(), now, Want::student(SESSION)).facts(usage(2 * GB - 1)),
        fcase(
            "at the limit: used up",
            dir(),
            now,
            with_until(Reason::QuotaExceeded, Some(midnight)),
        )
        .facts(usage(2 * GB)),
        fcase(
            "over",
            dir(),
            now,
            with_until(Reason::QuotaExceeded, Some(midnight)),
        )
        .facts(usage(2 * GB + 1)),
        fcase("usage not known", dir(), now, Want::student(SESSION)),
        fcase(
            "no quota on the group",
            Dir::max().berlin(),
            now,
            Want::student(SESSION),
        )
        .facts(usage(u64::MAX)),
        fcase(
            "just before local midnight the day still counts",
            dir(),
            secs(midnight, -1),
            with_until(Reason::QuotaExceeded, Some(midnight)),
        )
        .facts(usage(2 * GB)),
    ];
    run_fcases(cases);
    // `decide` has no usage facts: the quota is not checked.
    let d = dir().0;
    assert_eq!(
        decide(&d, &Req::mab(PHONE).as_req(), now).reason,
        Reason::Accepted
    );
}

#[test]
fn local_day_bounds_in_berlin() {
    let tz = berlin();
    for (now, start, end) in [
        (
            "2026-12-01T10:00:00Z",
            "2026-11-30T23:00:00Z",
            "2026-12-01T23:00:00Z",
        ),
        // Local midnight itself starts the day.
        (
            "2026-11-30T23:00:00Z",
            "2026-11-30T23:00:00Z",
            "2026-12-01T23:00:00Z",
        ),
        // The spring day has 23 hours, the autumn day 25.
        (
            "2027-03-28T12:00:00Z",
            "2027-03-27T23:00:00Z",
            "2027-03-28T22:00:00Z",
        ),
        (
            "2026-10-25T12:00:00Z",
            "2026-10-24T22:00:00Z",
            "2026-10-25T23:00:00Z",
        ),
    ] {
        assert_eq!(local_day_bounds(t(now), &tz), (t(start), t(end)), "{now}");
    }
    assert_eq!(
        local_day_bounds(t("2026-12-01T10:00:00Z"), &TimeZone::UTC),
        (t("2026-12-01T00:00:00Z"), t("2026-12-02T00:00:00Z"))
    );
}

// ---------------------------------------------------------------------------------------
// Rule order and the Session-Timeout

#[test]
fn rule_order_and_session_timeout_cut() {
    let now = t(NOW); // Tuesday 11:00 in Berlin
    let grant_end = secs(now, 1800);
    let full = || {
        Dir::max()
            .berlin()
            .needs_grant("students")
            .schedule("students", &["Tue 07:00-12:00"])
            .quota("students", 1000)
            .group_grant("7b", "wifi", secs(now, -60), grant_end)
    };
    let cases = vec![
        fcase(
            "a banned user with a grant is still banned",
            full().user_ban("max.muster", "wifi", None, None),
            now,
            Want::banned(None, false),
        ),
        fcase(
            "a banned device with a grant is still banned",
            full().device_ban(PHONE, "all", None, None),
            now,
            Want::device_banned(None, true),
        ),
        fcase(
            "a disabled account with a grant stays out",
            full().disabled("max.muster"),
            now,
            Want::reject(Reason::AccountDisabled),
        ),
        fcase(
            "schedule before grant",
            Dir::max()
                .berlin()
                .needs_grant("students")
                .schedule("students", &["Tue 12:00-13:00"]),
            now,
            with_until(Reason::OutsideSchedule, Some(t("2026-12-01T11:00:00Z"))),
        ),
        fcase(
            "grant before quota",
            Dir::max()
                .berlin()
                .needs_grant("students")
                .quota("students", 1000),
            now,
            with_until(Reason::NoGrant, None),
        )
        .facts(usage(5000)),
        fcase(
            "all pass: the grant ends first",
            full(),
            now,
            Want::student(1800),
        )
        .facts(usage(999)),
        fcase(
            "the schedule window closes first",
            full().group_grant("7b", "wifi", grant_end, secs(now, 7200)),
            now,
            Want::student(3600),
        ),
        fcase(
            "a ban begins first",
            full().user_ban("max.muster", "wifi", Some(secs(now, 600)), None),
            now,
            Want::student(600),
        ),
        fcase(
            "the session timeout is shortest",
            full().session_timeout(60),
            now,
            Want::student(60),
        ),
    ];
    run_fcases(cases);

    let e = explain_with(&full().0, &Req::mab(PHONE).as_req(), usage(999), now);
    let text = e.to_string();
    assert!(text.contains("ok   schedule"), "{text}");
    assert!(text.contains("ok   grant"), "{text}");
    assert!(text.contains("used 999 of 1000 bytes"), "{text}");
    assert!(text.contains("the grant ends at"), "{text}");
}

// ---------------------------------------------------------------------------------------
// Recheck

fn mab_session(m: &str) -> SessionFacts {
    SessionFacts {
        mac: Some(mac(m)),
        user: None,
        module: Module::Wifi,
    }
}

fn pap_session(user: &str, m: Option<&str>, module: Module) -> SessionFacts {
    SessionFacts {
        mac: m.map(mac),
        user: Some(Arc::from(user)),
        module,
    }
}

fn recheck_step(reason: Reason) -> &'static str {
    match reason {
        Reason::BadCredentials => "account",
        Reason::Malformed => "session",
        r => deciding_step(r),
    }
}

#[test]
fn recheck_runs_the_chain_from_rule_3() {
    let now = t(NOW);
    let cases: Vec<(&str, Dir, SessionFacts, Facts, Want)> = vec![
        (
            "MAB, still fine",
            Dir::max(),
            mab_session(PHONE),
            Facts::default(),
            Want::student(SESSION),
        ),
        (
            "MAB, registration removed",
            Dir::max().unregister(PHONE),
            mab_session(PHONE),
            Facts::default(),
            Want::reject(Reason::NotRegistered).user(None),
        ),
        (
            "MAB, registration removed, unregistered VLAN",
            Dir::max().unregister(PHONE).unregistered_vlan(99),
            mab_session(PHONE),
            Facts::default(),
            Want {
                accept: Some((99, None, SESSION)),
                ..Want::reject(Reason::NotRegistered).user(None)
            },
        ),
        (
            "MAB, owner's account removed",
            Dir::max().remove_user("max.muster"),
            mab_session(PHONE),
            Facts::default(),
            Want::reject(Reason::NotRegistered).user(None),
        ),
        (
            "MAB, a ban now in force",
            Dir::max().user_ban("max.muster", "wifi", Some(now), None),
            mab_session(PHONE),
            Facts::default(),
            Want::banned(None, false),
        ),
        (
            "MAB, device banned",
            Dir::max().device_ban(PHONE, "wifi", None, Some(secs(now, 60))),
            mab_session(PHONE),
            Facts::default(),
            Want::device_banned(Some(secs(now, 60)), false),
        ),
        (
            "MAB, consent withdrawn",
            Dir::max().no_consent("max.muster"),
            mab_session(PHONE),
            Facts::default(),
            Want::reject(Reason::NoConsent),
        ),
        (
            "MAB, schedule closed",
            Dir::max().schedule("students", &["Sat 08:00-12:00"]),
            mab_session(PHONE),
            Facts::default(),
            with_until(Reason::OutsideSchedule, Some(t("2026-12-05T08:00:00Z"))),
        ),
        (
            "MAB, grant ended",
            Dir::max()
                .needs_grant("students")
                .group_grant("7b", "wifi", secs(now, -3600), now),
            mab_session(PHONE),
            Facts::default(),
            with_until(Reason::NoGrant, None),
        ),
        (
            "MAB, quota used up",
            Dir::max().quota("students", 10),
            mab_session(PHONE),
            usage(10),
            with_until(Reason::QuotaExceeded, Some(t("2026-12-02T00:00:00Z"))),
        ),
        (
            "PAP on the LAN, fine, no device",
            Dir::max(),
            pap_session("max.muster", None, Module::Lan),
            Facts::default(),
            Want::student(SESSION).lan().mac(None),
        ),
        (
            "PAP, account removed",
            Dir::max().remove_user("max.muster"),
            pap_session("max.muster", Some(PHONE), Module::Wifi),
            Facts::default(),
            Want::reject(Reason::BadCredentials).user(None),
        ),
        (
            "PAP, disabled",
            Dir::max().disabled("max.muster"),
            pap_session("max.muster", None, Module::Wifi),
            Facts::default(),
            Want::reject(Reason::AccountDisabled).mac(None),
        ),
        (
            "PAP from a banned device (not registered: no matter for PAP)",
            Dir::max()
                .unregister(PHONE)
                .device_ban(PHONE, "all", None, None),
            pap_session("max.muster", Some(PHONE), Module::Wifi),
            Facts::default(),
            Want::device_banned(None, true),
        ),
        (
            "neither device nor account",
            Dir::max(),
            SessionFacts {
                mac: None,
                user: None,
                module: Module::Wifi,
            },
            Facts::default(),
            Want::reject(Reason::Malformed).user(None).mac(None),
        ),
    ];
    for (name, dir, session, facts, want) in cases {
        let dir = dir.0;
        let d = recheck(&dir, &session, facts.clone(), now);
        want.check(name, &d);
        let e = explain_recheck(&dir, &session, facts, now);
        assert_eq!(e.decision, d, "{name}: explain_recheck decides alike");
        let (last, before) = e.steps.split_last().unwrap();
        assert!(before.iter().all(|s| s.passed), "{name}: {:#?}", e.steps);
        assert_eq!(last.name, recheck_step(d.reason), "{name}: deciding rule");
        assert_eq!(e.steps[0].name, "session", "{name}");
    }
}

/// A recheck decides like a fresh MAB request for the same device at the same time.
#[test]
fn recheck_agrees_with_decide() {
    let now = t(NOW);
    let dir = Dir::max()
        .device(LAPTOP, "max.muster")
        .needs_grant("students")
        .group_grant("7b", "wifi", secs(now, -10), secs(now, 100))
        .device_ban(LAPTOP, "wifi", None, Some(secs(now, 50)))
        .0;
    for m in [PHONE, LAPTOP, STRANGER] {
        for offset in [-20, 0, 49, 50, 99, 100] {
            let at = secs(now, offset);
            assert_eq!(
                recheck(&dir, &mab_session(m), Facts::default(), at),
                decide(&dir, &Req::mab(m).as_req(), at),
                "{m} {offset}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// next_change

#[test]
fn next_change_picks_the_earliest() {
    let now = t(NOW); // Tuesday 10:00 UTC
    let cases: Vec<(&str, Dir, Option<Timestamp>)> = vec![
        ("nothing changes", Dir::max(), None),
        (
            "a permanent ban in force changes nothing",
            Dir::max().user_ban("max.muster", "all", Some(secs(now, -5)), None),
            None,
        ),
        (
            "a ban's start",
            Dir::max().user_ban("max.muster", "wifi", Some(secs(now, 300)), None),
            Some(secs(now, 300)),
        ),
        (
            "a device ban's end beats a later ban start",
            Dir::max()
                .user_ban("max.muster", "wifi", Some(secs(now, 300)), None)
                .device_ban(PHONE, "all", None, Some(secs(now, 200))),
            Some(secs(now, 200)),
        ),
        (
            "a grant's start",
            Dir::max().group_grant("7b", "wifi", secs(now, 100), secs(now, 900)),
            Some(secs(now, 100)),
        ),
        (
            "a grant's end",
            Dir::max().user_grant("max.muster", "wifi", secs(now, -100), secs(now, 90)),
            Some(secs(now, 90)),
        ),
        (
            "a schedule window's close",
            Dir::max().schedule("teachers", &["Tue 06:00-10:30"]),
            Some(secs(now, 1800)),
        ),
        (
            "a schedule window's opening the next day",
            Dir::max().schedule("students", &["Wed 07:00-08:00"]),
            Some(t("2026-12-02T07:00:00Z")),
        ),
        (
            "a schedule window next week",
            Dir::max().schedule("students", &["Mon 07:00-08:00"]),
            Some(t("2026-12-07T07:00:00Z")),
        ),
        (
            "the earliest of all",
            Dir::max()
                .schedule("students", &["Tue 10:20-11:00"])
                .group_grant("7b", "wifi", secs(now, 1500), secs(now, 3000))
                .user_ban("max.muster", "wifi", Some(secs(now, 1300)), None)
                .device_ban(PHONE, "lan", Some(secs(now, -100)), Some(secs(now, 1250))),
            Some(secs(now, 1200)),
        ),
        (
            "an edge exactly at now does not count",
            Dir::max().user_ban("max.muster", "wifi", Some(now), Some(secs(now, 70))),
            Some(secs(now, 70)),
        ),
    ];
    for (name, dir, want) in cases {
        assert_eq!(next_change(&dir.0, now), want, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Reply-Messages

#[test]
fn new_reply_messages() {
    let tz = berlin();
    let dir = Dir::max()
        .berlin()
        .schedule("students", &["Mon-Fri 07:00-17:00", "Sat 08:00-12:00"]);
    let d = decide(&dir.0, &Req::mab(PHONE).as_req(), t("2026-12-01T17:00:00Z"));
    assert_eq!(
        reply_message(&d, Language::De, &tz),
        "Das WLAN ist für deine Gruppe nur Mo–Fr 07:00–17:00, Sa 08:00–12:00 freigegeben. \
         Wieder ab 02.12.2026 07:00."
    );
    assert_eq!(
        reply_message(&d, Language::En, &tz),
        "Wi-Fi is open for your group only Mon–Fri 07:00–17:00, Sat 08:00–12:00. \
         Open again from 2026-12-02 07:00."
    );
    let dir = Dir::max().berlin().schedule(
        "students",
        &["Mon,Wed,Fri 08:00-13:00", "Tue,Thu 08:00-10:00"],
    );
    let d = decide(
        &dir.0,
        &Req::mab(PHONE).port(Some(15)).as_req(),
        t("2026-12-01T10:00:00Z"),
    );
    assert_eq!(
        reply_message(&d, Language::De, &tz),
        "Das LAN ist für deine Gruppe nur Mo,Mi,Fr 08:00–13:00, Di,Do 08:00–10:00 freigegeben. \
         Wieder ab 02.12.2026 08:00."
    );

    // A schedule too long for one attribute is left out.
    let many: Vec<String> = (0..24)
        .map(|h| format!("Mon {h:02}:00-{h:02}:30"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let dir = Dir::max().berlin().schedule("students", &many);
    let d = decide(&dir.0, &Req::mab(PHONE).as_req(), t("2026-12-01T10:00:00Z"));
    let text = reply_message(&d, Language::De, &tz);
    assert_eq!(
        text,
        "Das WLAN ist für deine Gruppe gerade nicht freigegeben. Wieder ab 07.12.2026 00:00."
    );

    let now = t(NOW);
    let dir = Dir::max().berlin().needs_grant("students").group_grant(
        "7b",
        "wifi",
        t("2026-12-04T07:00:00Z"),
        t("2026-12-04T08:00:00Z"),
    );
    let d = decide(&dir.0, &Req::mab(PHONE).as_req(), now);
    assert_eq!(
        reply_message(&d, Language::De, &tz),
        "Keine Freigabe durch eine Lehrkraft aktiv. Die nächste beginnt am 04.12.2026 08:00."
    );
    assert_eq!(
        reply_message(&d, Language::En, &tz),
        "No teacher has granted access right now. The next grant begins 2026-12-04 08:00."
    );
    let d = decide(
        &Dir::max().needs_grant("students").0,
        &Req::mab(PHONE).as_req(),
        now,
    );
    assert_eq!(
        reply_message(&d, Language::De, &tz),
        "Keine Freigabe durch eine Lehrkraft aktiv."
    );

    let dir = Dir::max().berlin().quota("students", 1);
    let d = decide_with(&dir.0, &Req::mab(PHONE).as_req(), usage(1), now);
    assert_eq!(
        reply_message(&d, Language::De, &tz),
        "Tageskontingent aufgebraucht bis 00:00"
    );
    assert_eq!(
        reply_message(&d, Language::En, &tz),
        "Daily data quota used up until 00:00"
    );
}

// ---------------------------------------------------------------------------------------
// Properties

mod props {
    use super::*;
    use proptest::prelude::*;

    /// Bans, grants and schedules around NOW (a Tuesday), in Berlin.
    fn timed_dir() -> Directory {
        let now = t(NOW);
        Dir::max()
            .berlin()
            .device(LAPTOP, "max.muster")
            .user("erika", &["teachers"])
            .device(STRANGER, "erika")
            .needs_grant("students")
            .schedule("students", &["Mon-Fri 07:00-12:00", "Tue 12:00-15:30"])
            .schedule("teachers", &["Mon-Sat 06:00-20:00"])
            .quota("students", 1000)
            .group_grant("7b", "wifi", secs(now, -3600), secs(now, 1800))
            .user_grant("max.muster", "all", secs(now, 1800), secs(now, 5400))
            .group_grant("students", "lan", secs(now, 9000), secs(now, 20_000))
            .user_ban(
                "max.muster",
                "wifi",
                Some(secs(now, 7000)),
                Some(secs(now, 8000)),
            )
            .user_ban("erika", "lan", Some(secs(now, 600)), Some(secs(now, 4000)))
            .device_ban(LAPTOP, "all", Some(secs(now, 30)), Some(secs(now, 90)))
            .0
    }

    proptest! {
        #[test]
        fn time_alone_changes_decisions_only_at_next_change(
            who in prop_oneof![Just(PHONE), Just(LAPTOP), Just(STRANGER)],
            lan in any::<bool>(),
            offset in -30_000i64..30_000,
            used in proptest::option::of(990u64..1010),
        ) {
            let dir = timed_dir();
            let req = Req::mab(who).port(Some(if lan { 15 } else { 19 }));
            let req = req.as_req();
            let facts = Facts { usage_today: used, ..Facts::default() };
            let now = secs(t(NOW), offset);
            let d = decide_with(&dir, &req, facts.clone(), now);
            prop_assert_eq!(&explain_with(&dir, &req, facts.clone(), now).decision, &d);
            let next = next_change(&dir, now);
            if let Some(n) = next {
                prop_assert!(n > now);
                // Until the next change, the reason stays the same.
                let before = secs(n, -1);
                if before > now {
                    let later = decide_with(&dir, &req, facts.clone(), before);
                    prop_assert_eq!(later.reason, d.reason, "at {} (next change {})", before, n);
                }
            }
            if let Outcome::Accept { session_timeout, .. } = d.outcome {
                prop_assert!((1..=SESSION).contains(&session_timeout));
                if session_timeout < SESSION {
                    // A session cut short ends at a change, and is not accepted then.
                    let end = secs(now, i64::from(session_timeout));
                    prop_assert!(next.is_some_and(|n| n <= end), "{:?} {}", next, end);
                    let then = decide_with(&dir, &req, facts, end);
                    prop_assert!(then.outcome == Outcome::Reject, "{:?}", then);
                }
            }
            for lang in [Language::De, Language::En] {
                prop_assert!(reply_message(&d, lang, &berlin()).len() <= 253);
            }
        }
    }
}
