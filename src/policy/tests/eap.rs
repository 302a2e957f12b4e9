//! Table tests of the EAP login decision: the device rule first (another user's device,
//! unregistered devices by `[eap] unregistered_devices`), then the account's rules as for
//! PAP, with `explain_eap` deciding the same way.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::config::{EapSettings, UnregisteredDevices};
use crate::eap::Method;

impl Dir {
    /// `[eap]` with TTLS only (the TLS configuration plays no part in the decision).
    pub(super) fn eap(mut self, unregistered: UnregisteredDevices) -> Dir {
        let now = t(NOW);
        self.0.eap = Some(EapSettings {
            session: Arc::new(crate::eap::Settings {
                methods: vec![Method::Ttls],
                tunnel: None,
                client_auth: None,
                max_message: 65_536,
                server_name: "hallpass".into(),
            }),
            unregistered_devices: unregistered,
            max_conversations: 16,
            certificate_file: PathBuf::from("/etc/hallpass/eap/server.pem"),
            certificate: crate::eap::certs::ServerCertSummary {
                subject: "CN=radius.school.example".into(),
                dns_names: vec!["radius.school.example".into()],
                not_before: now,
                not_after: now,
                expires_soon: false,
                chain_len: 0,
                client_ca_subjects: Vec::new(),
            },
        });
        self
    }
}

struct EapCase {
    name: &'static str,
    dir: Dir,
    user: &'static str,
    csi: Option<&'static str>,
    port: Option<u32>,
    now: Timestamp,
    want: Want,
}

fn eap_case(
    name: &'static str,
    dir: Dir,
    user: &'static str,
    csi: Option<&'static str>,
    port: Option<u32>,
    want: Want,
) -> EapCase {
    EapCase {
        name,
        dir,
        user,
        csi,
        port,
        now: t(NOW),
        want,
    }
}

fn eap_step(reason: Reason) -> &'static str {
    match reason {
        Reason::DeviceOfOtherUser | Reason::NotRegistered => "device_owner",
        Reason::BadCredentials => "account",
        other => deciding_step(other),
    }
}

#[test]
fn eap_logins_are_decided_like_pap_with_the_device_first() {
    let now = t(NOW);
    let week = Some(secs(now, 7 * 86_400));
    let lena = || Dir::max().user("lena.meyer", &["students"]);
    let cases = vec![
        eap_case(
            "own device on Wi-Fi",
            Dir::max(),
            "max.muster",
            Some("3C-22-FB-12-34-56"),
            Some(19),
            Want::student(SESSION),
        ),
        eap_case(
            "another user's device",
            lena(),
            "lena.meyer",
            Some(PHONE),
            Some(19),
            Want::reject(Reason::DeviceOfOtherUser).user(Some("lena.meyer")),
        ),
        eap_case(
            "unregistered device, reject (the default without [eap])",
            Dir::max(),
            "max.muster",
            Some(STRANGER),
            Some(19),
            Want::reject(Reason::NotRegistered).mac(Some(STRANGER)),
        ),
        eap_case(
            "unregistered device, reject",
            Dir::max().eap(UnregisteredDevices::Reject),
            "max.muster",
            Some(STRANGER),
            Some(19),
            Want::reject(Reason::NotRegistered).mac(Some(STRANGER)),
        ),
        eap_case(
            "unregistered device, allow",
            Dir::max().eap(UnregisteredDevices::Allow),
            "max.muster",
            Some(STRANGER),
            Some(19),
            Want::student(SESSION).mac(Some(STRANGER)),
        ),
        eap_case(
            "no MAC in Calling-Station-Id, allow",
            Dir::max().eap(UnregisteredDevices::Allow),
            "max.muster",
            Some("not a mac"),
            Some(19),
            Want::student(SESSION).mac(None),
        ),
        eap_case(
            "no MAC in Calling-Station-Id, reject",
            Dir::max().eap(UnregisteredDevices::Reject),
            "max.muster",
            None,
            Some(19),
            Want::reject(Reason::NotRegistered).mac(None),
        ),
        eap_case(
            "account gone since the method checked it",
            Dir::max(),
            "nobody",
            Some(PHONE),
            Some(19),
            Want::reject(Reason::BadCredentials).user(None),
        ),
        eap_case(
            "Wi-Fi ban on Wi-Fi",
            Dir::max().user_ban("max.muster", "wifi", None, week),
            "max.muster",
            Some(PHONE),
            Some(19),
            Want::banned(week, false),
        ),
        eap_case(
            "Wi-Fi ban, wired port",
            Dir::max().user_ban("max.muster", "wifi", None, week),
            "max.muster",
            Some(PHONE),
            Some(15),
            Want::student(SESSION).lan(),
        ),
        eap_case(
            "device ban",
            Dir::max().device_ban(PHONE, "all", None, None),
            "max.muster",
            Some(PHONE),
            Some(19),
            Want::device_banned(None, true),
        ),
        eap_case(
            "disabled",
            Dir::max().disabled("max.muster"),
            "max.muster",
            Some(PHONE),
            Some(19),
            Want::reject(Reason::AccountDisabled),
        ),
        eap_case(
            "no consent",
            Dir::max().no_consent("max.muster"),
            "max.muster",
            Some(PHONE),
            None,
            Want::reject(Reason::NoConsent),
        ),
        eap_case(
            "a ban begins later: Session-Timeout ends before it",
            Dir::max().user_ban("max.muster", "wifi", Some(secs(now, 3600)), None),
            "max.muster",
            Some(PHONE),
            Some(19),
            Want::student(3600),
        ),
    ];
    for c in cases {
        let login = EapLogin {
            user: c.user,
            calling_station_id: c.csi.map(str::as_bytes),
            nas_port_type: c.port,
            client_module: Module::Wifi,
        };
        let d = decide_eap(&c.dir.0, &login, Facts::default(), c.now);
        c.want.check(c.name, &d);
        let e = explain_eap(&c.dir.0, &login, Facts::default(), c.now);
        assert_eq!(e.decision, d, "{}: explain decides like decide", c.name);
        let (last, before) = e.steps.split_last().unwrap();
        assert!(
            before.iter().all(|s| s.passed),
            "{}: {:#?}",
            c.name,
            e.steps
        );
        assert_eq!(last.passed, d.reason == Reason::Accepted, "{}", c.name);
        assert_eq!(last.name, eap_step(d.reason), "{}: deciding rule", c.name);
    }
}

#[test]
fn another_user_s_device_has_its_own_message() {
    let d = decide_eap(
        &Dir::max().user("lena.meyer", &["students"]).0,
        &EapLogin {
            user: "lena.meyer",
            calling_station_id: Some(PHONE.as_bytes()),
            nas_port_type: Some(19),
            client_module: Module::Wifi,
        },
        Facts::default(),
        t(NOW),
    );
    assert_eq!(d.reason.code(), "device_of_other_user");
    let de = reply_message(&d, Language::De, &TimeZone::UTC);
    let en = reply_message(&d, Language::En, &TimeZone::UTC);
    assert!(de.contains("anderes Konto"), "{de}");
    assert!(en.contains("another account"), "{en}");
    assert!(de.len() <= 253 && en.len() <= 253);
}
