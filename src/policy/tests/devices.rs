//! Table tests of the device facts: enrolment under `unregistered_devices = "enrol"` (only
//! when every other rule allows the login, within `max_devices_per_user`), enrolled devices
//! of another account, and `[policy] device_expiry` for registered and enrolled devices —
//! every case with the time as a parameter, and `explain_eap` / `explain_with` deciding the
//! same way. Also the device book: counting, write throttling, the race for the last slot.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::config::UnregisteredDevices;
use crate::policy::devices::{DeviceBook, EnrolledDevice, WRITE_EVERY};
use crate::store::{DeviceRecords, Enrolment, LastAccepted};

const DAY: i64 = 86_400;
const EXPIRY: u32 = 120 * 86_400;

impl Dir {
    fn limit(mut self, max: usize) -> Dir {
        self.0.policy.max_devices_per_user = max;
        self
    }
    fn expiry(mut self) -> Dir {
        self.0.policy.device_expiry_secs = Some(EXPIRY);
        self
    }
    fn registered_on(self, m: &str, on: Timestamp) -> Dir {
        let m = mac(m);
        self.registry(|_, devices| {
            for d in devices.iter_mut().filter(|d| d.mac == m) {
                d.registered = Some(on);
            }
        })
    }
}

fn enrolled_to(owner: &str, since: Timestamp) -> Option<EnrolledDevice> {
    Some(EnrolledDevice {
        owner: Arc::from(owner),
        since,
    })
}

fn facts(
    last_accepted: Option<Timestamp>,
    enrolled: Option<EnrolledDevice>,
    enrolled_devices: usize,
) -> Facts {
    Facts {
        last_accepted,
        enrolled,
        enrolled_devices,
        ..Facts::default()
    }
}

struct Case {
    name: &'static str,
    dir: Dir,
    user: &'static str,
    csi: Option<&'static str>,
    facts: Facts,
    now: Timestamp,
    want: Want,
}

#[test]
fn enrolment_limit_other_users_and_expiry_of_eap_logins() {
    let now = t(NOW);
    let ago = |days: i64| secs(now, -days * DAY);
    // max has PHONE in the files; two devices at most.
    let enrol = || Dir::max().eap(UnregisteredDevices::Enrol).limit(2);
    let lena = || enrol().user("lena.meyer", &["students"]);
    let enrolled = |w: Want| Want {
        reason: Reason::Enrolled,
        ..w
    };
    let case = |name, dir, user, csi, facts, now, want| Case {
        name,
        dir,
        user,
        csi,
        facts,
        now,
        want,
    };
    let cases = vec![
        case(
            "first login from a new device enrols it",
            enrol(),
            "max.muster",
            Some(STRANGER),
            Facts::default(),
            now,
            enrolled(Want::student(SESSION)).mac(Some(STRANGER)),
        ),
        case(
            "one enrolled and one in the files: the limit of two is reached",
            enrol(),
            "max.muster",
            Some(STRANGER),
            facts(None, None, 1),
            now,
            Want::reject(Reason::TooManyDevices).mac(Some(STRANGER)),
        ),
        case(
            "a banned pupil enrols nothing",
            enrol().user_ban("max.muster", "wifi", None, None),
            "max.muster",
            Some(STRANGER),
            Facts::default(),
            now,
            Want::banned(None, false).mac(Some(STRANGER)),
        ),
        case(
            "a banned pupil at the limit: banned, not too_many_devices",
            enrol().user_ban("max.muster", "wifi", None, None),
            "max.muster",
            Some(STRANGER),
            facts(None, None, 5),
            now,
            Want::banned(None, false).mac(Some(STRANGER)),
        ),
        case(
            "no MAC to enrol",
            enrol(),
            "max.muster",
            None,
            Facts::default(),
            now,
            Want::reject(Reason::NotRegistered).mac(None),
        ),
        case(
            "own enrolled device: accepted, not enrolled again",
            enrol(),
            "max.muster",
            Some(STRANGER),
            facts(Some(ago(3)), enrolled_to("max.muster", ago(10)), 0),
            now,
            Want::student(SESSION).mac(Some(STRANGER)),
        ),
        case(
            "own enrolled device at the limit: it is already one of the two",
            enrol(),
            "max.muster",
            Some(STRANGER),
            facts(Some(ago(3)), enrolled_to("max.muster", ago(10)), 1),
            now,
            Want::student(SESSION).mac(Some(STRANGER)),
        ),
        case(
            "a device enrolled to another account",
            lena(),
            "lena.meyer",
            Some(STRANGER),
            facts(Some(ago(3)), enrolled_to("max.muster", ago(10)), 0),
            now,
            Want::reject(Reason::DeviceOfOtherUser)
                .user(Some("lena.meyer"))
                .mac(Some(STRANGER)),
        ),
        case(
            "an enrolled device is another's under allow too",
            lena().eap(UnregisteredDevices::Allow),
            "lena.meyer",
            Some(STRANGER),
            facts(Some(ago(3)), enrolled_to("max.muster", ago(10)), 0),
            now,
            Want::reject(Reason::DeviceOfOtherUser)
                .user(Some("lena.meyer"))
                .mac(Some(STRANGER)),
        ),
        case(
            "expired enrolment under enrol: the login renews it",
            enrol().expiry(),
            "max.muster",
            Some(STRANGER),
            facts(Some(ago(121)), enrolled_to("max.muster", ago(200)), 0),
            now,
            enrolled(Want::student(SESSION)).mac(Some(STRANGER)),
        ),
        case(
            "another's expired enrolment under enrol: enrolled to the one who logs in",
            lena().expiry(),
            "lena.meyer",
            Some(STRANGER),
            facts(Some(ago(121)), enrolled_to("max.muster", ago(200)), 0),
            now,
            enrolled(Want::student(SESSION))
                .user(Some("lena.meyer"))
                .mac(Some(STRANGER)),
        ),
        case(
            "expired enrolment under allow: device_expired",
            enrol().expiry().eap(UnregisteredDevices::Allow),
            "max.muster",
            Some(STRANGER),
            facts(Some(ago(121)), enrolled_to("max.muster", ago(200)), 0),
            now,
            Want::reject(Reason::DeviceExpired).mac(Some(STRANGER)),
        ),
        case(
            "enrolment not yet expired at 119 days",
            enrol().expiry().eap(UnregisteredDevices::Allow),
            "max.muster",
            Some(STRANGER),
            facts(Some(ago(119)), enrolled_to("max.muster", ago(200)), 0),
            now,
            Want::student(SESSION).mac(Some(STRANGER)),
        ),
        case(
            "registered device not accepted for 121 days: device_expired, even under enrol",
            enrol().expiry(),
            "max.muster",
            Some(PHONE),
            facts(Some(ago(121)), None, 0),
            now,
            Want::reject(Reason::DeviceExpired),
        ),
        case(
            "the same facts 2 days earlier: still accepted",
            enrol().expiry(),
            "max.muster",
            Some(PHONE),
            facts(Some(ago(121)), None, 0),
            secs(now, -2 * DAY),
            Want::student(SESSION),
        ),
        case(
            "a recent registration date counts as a start",
            enrol().expiry().registered_on(PHONE, ago(5)),
            "max.muster",
            Some(PHONE),
            facts(Some(ago(300)), None, 0),
            now,
            Want::student(SESSION),
        ),
        case(
            "no expiry set: never expired",
            enrol(),
            "max.muster",
            Some(PHONE),
            facts(Some(ago(3000)), None, 0),
            now,
            Want::student(SESSION),
        ),
        case(
            "allow has no limit",
            Dir::max().eap(UnregisteredDevices::Allow).limit(1),
            "max.muster",
            Some(STRANGER),
            facts(None, None, 7),
            now,
            Want::student(SESSION).mac(Some(STRANGER)),
        ),
    ];
    for c in cases {
        let login = EapLogin {
            user: c.user,
            calling_station_id: c.csi.map(str::as_bytes),
            nas_port_type: Some(19),
            client_module: Module::Wifi,
        };
        let d = decide_eap(&c.dir.0, &login, c.facts.clone(), c.now);
        c.want.check(c.name, &d);
        let e = explain_eap(&c.dir.0, &login, c.facts.clone(), c.now);
        assert_eq!(e.decision, d, "{}: explain decides like decide", c.name);
        let (last, before) = e.steps.split_last().unwrap();
        assert!(
            before.iter().all(|s| s.passed),
            "{}: {:#?}",
            c.name,
            e.steps
        );
        let accepted = matches!(d.reason, Reason::Accepted | Reason::Enrolled);
        assert_eq!(last.passed, accepted, "{}", c.name);
        let step = match d.reason {
            Reason::DeviceOfOtherUser | Reason::NotRegistered => "device_owner",
            other => deciding_step(other),
        };
        assert_eq!(last.name, step, "{}: deciding rule: {:#?}", c.name, e.steps);
    }
}

#[test]
fn mab_devices_expire_after_device_expiry() {
    let now = t(NOW);
    let ago = |days: i64| secs(now, -days * DAY);
    let mab = || Req::mab(PHONE);
    let cases = [
        (
            "accepted 121 days ago",
            Dir::max().expiry(),
            Some(ago(121)),
            now,
            false,
        ),
        (
            "the same, 2 days earlier",
            Dir::max().expiry(),
            Some(ago(121)),
            secs(now, -2 * DAY),
            true,
        ),
        (
            "accepted yesterday",
            Dir::max().expiry(),
            Some(ago(1)),
            now,
            true,
        ),
        ("no expiry set", Dir::max(), Some(ago(1000)), now, true),
        (
            "nothing to count from: not judged",
            Dir::max().expiry(),
            None,
            now,
            true,
        ),
        (
            "registered 200 days ago, never accepted",
            Dir::max().expiry().registered_on(PHONE, ago(200)),
            None,
            now,
            false,
        ),
    ];
    for (name, dir, last, at, ok) in cases {
        let f = facts(last, None, 0);
        let req = mab();
        let d = decide_with(&dir.0, &req.as_req(), f.clone(), at);
        let want = if ok {
            Want::student(SESSION)
        } else {
            Want::reject(Reason::DeviceExpired)
        };
        want.check(name, &d);
        let e = explain_with(&dir.0, &req.as_req(), f, at);
        assert_eq!(e.decision, d, "{name}");
        if !ok {
            let last = e.steps.last().unwrap();
            assert_eq!((last.name, last.passed), ("expiry", false), "{name}");
        }
    }
}

#[test]
fn new_reasons_have_short_messages_in_both_languages() {
    for reason in [
        Reason::TooManyDevices,
        Reason::DeviceExpired,
        Reason::Enrolled,
    ] {
        let d = decision(reason);
        for lang in [Language::De, Language::En] {
            let m = reply_message(&d, lang, &TimeZone::UTC);
            assert!(!m.is_empty() && m.len() <= 253, "{reason} {lang:?}: {m}");
        }
    }
    let d = decision(Reason::TooManyDevices);
    assert!(reply_message(&d, Language::En, &TimeZone::UTC).contains("removed"));
    let d = decision(Reason::DeviceExpired);
    assert!(reply_message(&d, Language::De, &TimeZone::UTC).contains("neu anmelden"));
}

fn decision(reason: Reason) -> Decision {
    Decision {
        outcome: Outcome::Reject,
        reason,
        module: Module::Wifi,
        mac: None,
        user: None,
        until: None,
        all_modules: false,
        schedule: None,
    }
}

fn records(now: Timestamp) -> DeviceRecords {
    let e = |m: &str, user: &str, days: i64| Enrolment {
        mac: mac(m),
        user: user.into(),
        enrolled: secs(now, -days * DAY),
        method: "peap".into(),
    };
    DeviceRecords {
        enrolments: vec![
            e("0a:00:00:00:00:01", "max.muster", 10),
            e("0a:00:00:00:00:02", "max.muster", 300),
            e("0a:00:00:00:00:03", "lena.meyer", 10),
        ],
        last_accepted: vec![
            LastAccepted {
                mac: mac("0a:00:00:00:00:01"),
                time: secs(now, -DAY),
            },
            LastAccepted {
                mac: mac("0a:00:00:00:00:02"),
                time: secs(now, -200 * DAY),
            },
        ],
        tracking_since: Some(secs(now, -365 * DAY)),
    }
}

#[test]
fn the_book_counts_unexpired_enrolments_and_gives_the_last_slot_once() {
    let now = t(NOW);
    let book = DeviceBook::new(&records(now));
    let dir = Dir::max().eap(UnregisteredDevices::Enrol).limit(3);
    // no expiry: both enrolments of max count
    let f = book.facts(
        &dir.0,
        Facts::default(),
        Some(mac(STRANGER)),
        Some("max.muster"),
        now,
    );
    assert_eq!(f.enrolled_devices, 2);
    assert!(f.enrolled.is_none());
    let f = book.facts(
        &dir.0,
        Facts::default(),
        Some(mac("0a:00:00:00:00:01")),
        Some("max.muster"),
        now,
    );
    assert_eq!(f.enrolled_devices, 1, "the device itself is not counted");
    assert_eq!(f.enrolled.unwrap().owner.as_ref(), "max.muster");
    assert_eq!(f.last_accepted, Some(secs(now, -DAY)));
    // with expiry the one not accepted for 200 days no longer counts
    let dir = dir.expiry();
    let f = book.facts(
        &dir.0,
        Facts::default(),
        Some(mac(STRANGER)),
        Some("max.muster"),
        now,
    );
    assert_eq!(f.enrolled_devices, 1);
    // PHONE in the files + one enrolment: one slot of three left, taken once
    assert!(
        book.try_enrol(&dir.0, mac(STRANGER), "max.muster", "peap", now)
            .is_some()
    );
    assert!(
        book.try_enrol(&dir.0, mac("0a:00:00:00:00:09"), "max.muster", "ttls", now)
            .is_none()
    );
    assert_eq!(book.enrolled(mac(STRANGER)).unwrap().since, now);
    // a device never accepted counts from the moment tracking began
    assert_eq!(book.last_accepted(mac(LAPTOP)), Some(secs(now, -365 * DAY)));
}

#[test]
fn the_book_writes_an_acceptance_once_an_hour() {
    let now = t(NOW);
    let book = DeviceBook::new(&records(now));
    let m = mac(LAPTOP);
    assert!(book.accepted(m, now), "never written: write");
    assert!(!book.accepted(m, secs(now, 60)));
    // the hour's first acceptance stands for the hour: reading it takes no write lock
    assert_eq!(book.last_accepted(m), Some(now));
    let hour = WRITE_EVERY.as_secs();
    assert!(book.accepted(m, secs(now, hour)));
    // a device the database saw yesterday is written at once
    assert!(book.accepted(mac("0a:00:00:00:00:01"), now));
    // after a reload, the database is what counts
    book.replace(&DeviceRecords::default());
    assert_eq!(book.last_accepted(m), None);
    assert!(book.enrolled(mac("0a:00:00:00:00:01")).is_none());
}
