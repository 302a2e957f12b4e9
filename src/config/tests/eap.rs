//! `[eap]` and `nt_hash`: certificates made here (valid around `now()`), read as text in
//! memory, except where file modes matter.

use super::*;
use crate::eap::certs::{self, CertError};

struct Pki {
    server: String,
    key: String,
    clients_ca: String,
}

fn pki_at(at: jiff::Timestamp) -> Pki {
    let ca = certs::make_ca("hallpass test CA", at).unwrap();
    let server = certs::make_server_cert(&ca, &["radius.school.example"], at).unwrap();
    let clients = certs::make_ca("hallpass clients", at).unwrap();
    Pki {
        server: format!("{}{}", server.cert_pem, ca.cert_pem),
        key: server.key_pem.to_string(),
        clients_ca: clients.cert_pem.clone(),
    }
}

fn main_with(eap: &str) -> String {
    format!("{MAIN}\n[eap]\n{eap}")
}

/// hallpass.toml with `eap` and the certificate files of `pki`.
fn load_eap(eap: &str, pki: &Pki) -> Result<Directory, ConfigErrors> {
    let main = main_with(eap);
    try_load(&[
        (MAIN_FILE, &main),
        ("users.toml", USERS),
        ("eap/server.pem", &pki.server),
        ("eap/server.key", &pki.key),
        ("eap/clients-ca.pem", &pki.clients_ca),
    ])
}

const FULL: &str = r#"methods = ["peap", "ttls", "tls"]
certificate = "eap/server.pem"
private_key = "eap/server.key"
client_ca = "eap/clients-ca.pem"
"#;

/// Line of the `[eap]` keys in `main_with`: MAIN's lines, the blank line, `[eap]`.
fn eap_line(n: u32) -> u32 {
    MAIN.lines().count() as u32 + 2 + n
}

#[test]
fn a_full_eap_section_is_ready_to_serve() {
    let pki = pki_at(now());
    let d = load_eap(FULL, &pki).unwrap();
    let eap = d.eap.as_ref().unwrap();
    assert_eq!(
        eap.session.methods,
        [
            crate::eap::Method::Peap,
            crate::eap::Method::Ttls,
            crate::eap::Method::Tls
        ]
    );
    assert!(eap.session.tunnel.is_some() && eap.session.client_auth.is_some());
    assert_eq!(eap.unregistered_devices, UnregisteredDevices::Reject);
    assert_eq!(eap.max_conversations, 16_384);
    assert_eq!(
        eap.certificate_file,
        Path::new("/etc/hallpass/eap/server.pem")
    );
    assert_eq!(eap.certificate.dns_names, ["radius.school.example"]);
    let s = check_summary(&d);
    assert!(s.contains("radius.school.example"), "{s}");
    assert!(s.contains("expires:"), "{s}");
    assert!(!s.contains("WARNING"), "{s}");
    assert!(s.contains("2 of 2 users have none"), "{s}");
}

#[test]
fn without_eap_there_are_no_8021x_logins() {
    let d = ok(&[]);
    assert!(d.eap.is_none());
    assert!(check_summary(&d).contains("eap:        off"));
}

#[test]
fn tls_needs_a_client_ca() {
    let pki = pki_at(now());
    let e = load_eap(
        "methods = [\"peap\", \"tls\"]\ncertificate = \"eap/server.pem\"\nprivate_key = \"eap/server.key\"\n",
        &pki,
    )
    .unwrap_err();
    assert_eq!(
        at(&e.0, MAIN_FILE, eap_line(1), 11),
        ConfigErrorKind::ClientCaMissing
    );
    // Without "tls" no client CA is needed.
    let d = load_eap(
        "methods = [\"peap\", \"ttls\"]\ncertificate = \"eap/server.pem\"\nprivate_key = \"eap/server.key\"\n",
        &pki,
    )
    .unwrap();
    assert!(d.eap.unwrap().session.client_auth.is_none());
}

#[test]
fn without_methods_tls_is_offered_when_there_is_a_client_ca() {
    use crate::eap::Method::{Peap, Tls, Ttls};
    let pki = pki_at(now());
    let both = "certificate = \"eap/server.pem\"\nprivate_key = \"eap/server.key\"\n";
    let d = load_eap(both, &pki).unwrap();
    assert_eq!(d.eap.unwrap().session.methods, [Peap, Ttls]);
    let d = load_eap(&format!("{both}client_ca = \"eap/clients-ca.pem\"\n"), &pki).unwrap();
    assert_eq!(d.eap.unwrap().session.methods, [Peap, Ttls, Tls]);
}

#[test]
fn unregistered_devices_reject_allow_or_enrol() {
    let pki = pki_at(now());
    for (v, want) in [
        ("reject", UnregisteredDevices::Reject),
        ("allow", UnregisteredDevices::Allow),
        ("enrol", UnregisteredDevices::Enrol),
    ] {
        let d = load_eap(&format!("{FULL}unregistered_devices = \"{v}\"\n"), &pki).unwrap();
        assert_eq!(d.eap.unwrap().unregistered_devices, want, "{v}");
    }
    let e = load_eap(&format!("{FULL}unregistered_devices = \"enroll\"\n"), &pki).unwrap_err();
    let k = at(&e.0, MAIN_FILE, eap_line(5), 24);
    assert!(
        matches!(&k, ConfigErrorKind::BadUnregisteredDevices { value } if value == "enroll"),
        "{k}"
    );
    assert!(k.to_string().contains("\"enrol\""), "{k}");
}

#[test]
fn bad_methods_versions_and_bounds_are_pointed_at() {
    let pki = pki_at(now());
    let e = load_eap(
        "methods = [\"peap\", \"leap\", \"peap\"]\ncertificate = \"eap/server.pem\"\nprivate_key = \"eap/server.key\"\ntls_versions = [\"1.3\"]\nmax_conversations = 0\n",
        &pki,
    )
    .unwrap_err();
    assert!(matches!(at(&e.0, MAIN_FILE, eap_line(1), 20),
        ConfigErrorKind::BadEapMethod { value } if value == "leap"));
    assert!(matches!(
        at(&e.0, MAIN_FILE, eap_line(1), 28),
        ConfigErrorKind::DuplicateEapMethod { .. }
    ));
    assert!(matches!(
        at(&e.0, MAIN_FILE, eap_line(4), 16),
        ConfigErrorKind::BadTlsVersions { .. }
    ));
    assert!(matches!(
        at(&e.0, MAIN_FILE, eap_line(5), 21),
        ConfigErrorKind::TooSmall {
            key: "max_conversations",
            ..
        }
    ));
    let d = load_eap(&format!("{FULL}tls_versions = [\"1.2\", \"1.3\"]\n"), &pki).unwrap();
    assert!(d.eap.is_some());
}

#[test]
fn certificate_problems_name_the_file() {
    // Expired: made three years before now, valid for two.
    let old = pki_at(now() - jiff::SignedDuration::from_hours(3 * 366 * 24));
    let e = load_eap(FULL, &old).unwrap_err();
    let k = at(&e.0, MAIN_FILE, eap_line(2), 15);
    assert!(
        matches!(&k, ConfigErrorKind::EapCertificate { path, problem: CertError::Expired { .. } }
            if path == "eap/server.pem"),
        "{k}"
    );
    assert!(k.to_string().starts_with("eap/server.pem: "), "{k}");

    // The key of another certificate.
    let pki = pki_at(now());
    let other = pki_at(now());
    let mut mixed = pki_at(now());
    mixed.server = pki.server;
    mixed.key = other.key;
    let e = load_eap(FULL, &mixed).unwrap_err();
    assert!(matches!(
        at(&e.0, MAIN_FILE, eap_line(3), 15),
        ConfigErrorKind::EapCertificate {
            problem: CertError::KeyMismatch,
            ..
        }
    ));

    // A client "CA" that is a server certificate, and a missing file.
    let mut not_ca = pki_at(now());
    not_ca.clients_ca = not_ca.server.clone();
    let e = load_eap(FULL, &not_ca).unwrap_err();
    assert!(matches!(
        at(&e.0, MAIN_FILE, eap_line(4), 13),
        ConfigErrorKind::EapCertificate {
            problem: CertError::NotACa { .. },
            ..
        }
    ));
    let main = main_with(FULL);
    let e = errs(&[(MAIN_FILE, &main)]);
    assert!(matches!(at(&e, MAIN_FILE, eap_line(2), 15),
        ConfigErrorKind::EapFileUnreadable { key: "certificate", path, .. } if path == "eap/server.pem"));
}

#[test]
fn a_certificate_near_its_end_is_warned_about() {
    // Made 2 years minus 10 days ago: 10 days left.
    let pki = pki_at(now() - jiff::SignedDuration::from_hours((2 * 365 - 10) * 24));
    let d = load_eap(FULL, &pki).unwrap();
    assert!(d.eap.as_ref().unwrap().certificate.expires_soon);
    assert!(check_summary(&d).contains("WARNING"));
}

#[test]
fn a_private_key_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let pki = pki_at(now());
    let main = main_with(FULL);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (MAIN_FILE, &main),
            ("eap/server.pem", &pki.server),
            ("eap/server.key", &pki.key),
            ("eap/clients-ca.pem", &pki.clients_ca),
        ],
    );
    let key = dir.path().join("eap/server.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let e = load(dir.path(), now()).unwrap_err();
    assert_eq!(
        at(&e.0, MAIN_FILE, eap_line(3), 15),
        ConfigErrorKind::PrivateKeyReadable {
            path: "eap/server.key".into(),
            mode: 0o640
        }
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(load(dir.path(), now()).unwrap().eap.is_some());
}

#[test]
fn nt_hashes_are_32_hex_digits() {
    let users = "[[user]]\nname = \"max.muster\"\nnt_hash = \"8846F7EAEE8FB117AD06BDD830B7586C\"\n[[user]]\nname = \"lena.meyer\"\nnt_hash = \"8846f7ea\"\n";
    let e = errs(&[("users.toml", users)]);
    assert!(matches!(at(&e, "users.toml", 6, 11),
        ConfigErrorKind::BadNtHash { user } if user == "lena.meyer"));
    // The error never repeats the value.
    assert!(!ConfigErrors(e).to_string().contains("8846f7ea"));
    let d = ok(&[(
        "users.toml",
        "[[user]]\nname = \"max.muster\"\nnt_hash = \"8846f7eaee8fb117ad06bdd830b7586c\"\n",
    )]);
    let hash = d.user("max.muster").unwrap().nt_hash.as_ref().unwrap();
    assert_eq!(
        hash.as_bytes(),
        crate::eap::mschapv2::NtHash::from_password("password").as_bytes()
    );
}
