//! Certificates made with rcgen for every case of the check: a good chain, expired and
//! not-yet-valid ones, no serverAuth, a key of another certificate, SEC1 keys.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn now() -> Timestamp {
    at("2026-12-03T10:00:00Z")
}

fn ca() -> CertAndKey {
    make_ca("hallpass test CA", now()).unwrap()
}

fn server(ca: &CertAndKey, made: Timestamp) -> CertAndKey {
    make_server_cert(
        ca,
        &["radius.school.example", "radius2.school.example"],
        made,
    )
    .unwrap()
}

fn check(
    cert: &CertAndKey,
    client_ca: Option<&CertAndKey>,
) -> Result<ServerCertSummary, CertError> {
    check_server_certificate(
        cert.cert_pem.as_bytes(),
        cert.key_pem.as_bytes(),
        client_ca.map(|c| c.cert_pem.as_bytes()),
        now(),
    )
}

#[test]
fn a_made_server_certificate_passes_the_check() {
    let ca = ca();
    let server = server(&ca, now());
    let summary = check(&server, Some(&ca)).unwrap();
    assert_eq!(summary.subject, "CN=radius.school.example");
    assert_eq!(
        summary.dns_names,
        ["radius.school.example", "radius2.school.example"]
    );
    assert_eq!(summary.not_before, at("2026-12-03T00:00:00Z"));
    assert_eq!(summary.not_after, at("2028-12-03T00:00:00Z"));
    assert!(!summary.expires_soon);
    assert_eq!(summary.chain_len, 0);
    assert_eq!(summary.client_ca_subjects, ["CN=hallpass test CA"]);

    // leaf first, then its chain
    let with_chain = CertAndKey {
        cert_pem: format!("{}{}", server.cert_pem, ca.cert_pem),
        key_pem: server.key_pem.clone(),
    };
    let summary = check(&with_chain, None).unwrap();
    assert_eq!(summary.chain_len, 1);
    assert!(summary.client_ca_subjects.is_empty());
}

#[test]
fn the_ca_is_a_ca_for_ten_years_and_signs_what_it_makes() {
    let ca = ca();
    let ca_der = parse_certificates(ca.cert_pem.as_bytes(), PemInput::ClientCa).unwrap();
    let ca_cert = parse_x509(&ca_der[0], PemInput::ClientCa, 0).unwrap();
    assert!(ca_cert.is_ca());
    assert_eq!(validity(&ca_cert).1, at("2036-12-03T00:00:00Z"));

    let client = make_client_cert(&ca, "anna.schmidt", now()).unwrap();
    let der = parse_certificates(client.cert_pem.as_bytes(), PemInput::Certificate).unwrap();
    let cert = parse_x509(&der[0], PemInput::Certificate, 0).unwrap();
    assert_eq!(cert.subject().to_string(), "CN=anna.schmidt");
    assert_eq!(cert.issuer().to_string(), "CN=hallpass test CA");
    assert!(!cert.is_ca());
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    // the signature verifies under the CA's key
    assert!(cert.verify_signature(Some(ca_cert.public_key())).is_ok());
    let server = server(&ca, now());
    let der = parse_certificates(server.cert_pem.as_bytes(), PemInput::Certificate).unwrap();
    let cert = parse_x509(&der[0], PemInput::Certificate, 0).unwrap();
    assert!(cert.verify_signature(Some(ca_cert.public_key())).is_ok());
    let other_ca = make_ca("another CA", now()).unwrap();
    let other = parse_certificates(other_ca.cert_pem.as_bytes(), PemInput::ClientCa).unwrap();
    let other = parse_x509(&other[0], PemInput::ClientCa, 0).unwrap();
    assert!(cert.verify_signature(Some(other.public_key())).is_err());
}

#[test]
fn unreadable_pem_and_missing_certificates() {
    let ca = ca();
    let server = server(&ca, now());
    let key = server.key_pem.as_bytes();
    let run = |cert: &[u8]| check_server_certificate(cert, key, None, now());
    assert_eq!(
        run(b"just some text\n"),
        Err(CertError::NoCertificate {
            input: PemInput::Certificate
        })
    );
    // the key alone is no certificate
    assert_eq!(
        run(key),
        Err(CertError::NoCertificate {
            input: PemInput::Certificate
        })
    );
    assert!(matches!(
        run(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
        Err(CertError::BadPem {
            input: PemInput::Certificate,
            ..
        })
    ));
    assert!(matches!(
        run(b"-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n"),
        Err(CertError::BadCertificate {
            input: PemInput::Certificate,
            index: 0,
            ..
        })
    ));
    let cert = server.cert_pem.as_bytes();
    assert_eq!(
        check_server_certificate(cert, b"", None, now()),
        Err(CertError::NoPrivateKey)
    );
    assert_eq!(
        check_server_certificate(cert, cert, None, now()),
        Err(CertError::NoPrivateKey)
    );
    assert_eq!(
        check_server_certificate(cert, key, Some(b"nothing"), now()),
        Err(CertError::NoCertificate {
            input: PemInput::ClientCa
        })
    );
}

#[test]
fn a_key_of_another_certificate_is_refused() {
    let ca = ca();
    let server = server(&ca, now());
    let other = make_server_cert(&ca, &["radius.school.example"], now()).unwrap();
    let mixed = CertAndKey {
        cert_pem: server.cert_pem.clone(),
        key_pem: other.key_pem.clone(),
    };
    assert_eq!(check(&mixed, None), Err(CertError::KeyMismatch));
    // the CA's key does not fit the server certificate either
    let mixed = CertAndKey {
        cert_pem: server.cert_pem,
        key_pem: ca.key_pem.clone(),
    };
    assert_eq!(check(&mixed, None), Err(CertError::KeyMismatch));
}

#[test]
fn expired_and_not_yet_valid() {
    let ca = ca();
    let old = server(&ca, at("2024-06-01T12:00:00Z"));
    assert_eq!(
        check(&old, None),
        Err(CertError::Expired {
            input: PemInput::Certificate,
            subject: "CN=radius.school.example".to_owned(),
            not_after: at("2026-06-01T00:00:00Z"),
        })
    );
    let future = server(&ca, at("2027-01-01T00:00:00Z"));
    assert_eq!(
        check(&future, None),
        Err(CertError::NotYetValid {
            input: PemInput::Certificate,
            subject: "CN=radius.school.example".to_owned(),
            not_before: at("2027-01-01T00:00:00Z"),
        })
    );
    // valid until 2026-12-20: 17 days left
    let soon = server(&ca, at("2024-12-20T08:00:00Z"));
    let summary = check(&soon, None).unwrap();
    assert!(summary.expires_soon);
    // valid until 2027-01-03: 31 days left
    let later = server(&ca, at("2025-01-03T08:00:00Z"));
    assert!(!check(&later, None).unwrap().expires_soon);
    // an expired client CA
    let old_ca = make_ca("old CA", at("2010-01-01T00:00:00Z")).unwrap();
    assert_eq!(
        check(&server(&ca, now()), Some(&old_ca)),
        Err(CertError::Expired {
            input: PemInput::ClientCa,
            subject: "CN=old CA".to_owned(),
            not_after: at("2020-01-01T00:00:00Z"),
        })
    );
}

#[test]
fn a_certificate_without_server_auth_is_refused() {
    let ca = ca();
    let client = make_client_cert(&ca, "radius.school.example", now()).unwrap();
    assert_eq!(
        check(&client, None),
        Err(CertError::NoServerAuth {
            subject: "CN=radius.school.example".to_owned()
        })
    );
    // a certificate with no extended key usage at all
    let mut params = CertificateParams::new(vec!["radius.school.example".to_owned()]).unwrap();
    params.distinguished_name = common_name("no-eku");
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let no_eku = key_and_cert(&key, cert);
    assert_eq!(
        check(&no_eku, None),
        Err(CertError::NoServerAuth {
            subject: "CN=no-eku".to_owned()
        })
    );
}

#[test]
fn a_client_ca_must_be_a_ca() {
    let ca = ca();
    let server = server(&ca, now());
    assert_eq!(
        check(&server, Some(&server)),
        Err(CertError::NotACa {
            subject: "CN=radius.school.example".to_owned()
        })
    );
}

/// Splits one DER TLV off the front (short and long lengths): (tag, content, rest).
fn der_take(der: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = der[0];
    let (len, header) = if der[1] < 0x80 {
        (usize::from(der[1]), 2)
    } else {
        let n = usize::from(der[1] & 0x7F);
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, 2 + n)
    };
    (tag, &der[header..header + len], &der[header + len..])
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[test]
fn sec1_keys_are_read_too() {
    let ca = ca();
    let server = server(&ca, now());
    // PrivateKeyInfo { version, algorithm, OCTET STRING { ECPrivateKey } }: take the SEC1 key out
    let pkcs8 = parse_private_key(server.key_pem.as_bytes()).unwrap();
    let PrivateKeyDer::Pkcs8(pkcs8) = pkcs8 else {
        panic!("rcgen writes PKCS#8")
    };
    let (tag, info, _) = der_take(pkcs8.secret_pkcs8_der());
    assert_eq!(tag, 0x30);
    let (_, _version, rest) = der_take(info);
    let (_, _algorithm, rest) = der_take(rest);
    let (tag, sec1, _) = der_take(rest);
    assert_eq!(tag, 0x04);
    let sec1_pem = pem("EC PRIVATE KEY", sec1);
    assert!(matches!(
        parse_private_key(sec1_pem.as_bytes()),
        Ok(PrivateKeyDer::Sec1(_))
    ));
    let as_sec1 = CertAndKey {
        cert_pem: server.cert_pem.clone(),
        key_pem: Zeroizing::new(sec1_pem),
    };
    assert_eq!(
        check(&as_sec1, None).map(|s| s.subject),
        Ok("CN=radius.school.example".to_owned())
    );

    // the SEC1 key of another certificate is a mismatch, not a format error
    let other = make_server_cert(&ca, &["x.school.example"], now()).unwrap();
    let with_other_key = CertAndKey {
        cert_pem: other.cert_pem,
        key_pem: as_sec1.key_pem.clone(),
    };
    assert_eq!(check(&with_other_key, None), Err(CertError::KeyMismatch));

    // a CA made from PEM with a SEC1 key signs as well
    let ca_key = parse_private_key(ca.key_pem.as_bytes()).unwrap();
    let PrivateKeyDer::Pkcs8(ca_key) = ca_key else {
        panic!("rcgen writes PKCS#8")
    };
    let (_, info, _) = der_take(ca_key.secret_pkcs8_der());
    let (_, _, rest) = der_take(info);
    let (_, _, rest) = der_take(rest);
    let (_, ca_sec1, _) = der_take(rest);
    let sec1_ca = CertAndKey {
        cert_pem: ca.cert_pem.clone(),
        key_pem: Zeroizing::new(pem("EC PRIVATE KEY", ca_sec1)),
    };
    assert!(make_client_cert(&sec1_ca, "ben", now()).is_ok());
}

#[test]
fn keys_that_cannot_be_used_say_so() {
    let ca = ca();
    let server = server(&ca, now());
    let junk_rsa = pem("RSA PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]);
    assert!(matches!(
        check_server_certificate(server.cert_pem.as_bytes(), junk_rsa.as_bytes(), None, now()),
        Err(CertError::UnsupportedKey { .. })
    ));
    let junk_ec = pem("EC PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x01]);
    assert!(matches!(
        check_server_certificate(server.cert_pem.as_bytes(), junk_ec.as_bytes(), None, now()),
        Err(CertError::UnsupportedKey { .. })
    ));
    let encrypted = pem("ENCRYPTED PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]);
    assert_eq!(
        check_server_certificate(
            server.cert_pem.as_bytes(),
            encrypted.as_bytes(),
            None,
            now()
        ),
        Err(CertError::NoPrivateKey)
    );
    let truncated = "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n";
    assert_eq!(
        check_server_certificate(
            server.cert_pem.as_bytes(),
            truncated.as_bytes(),
            None,
            now()
        ),
        Err(CertError::BadPem {
            input: PemInput::PrivateKey,
            reason: "a BEGIN line without its END line"
        })
    );
    let junk_pkcs8 = pem("PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]);
    assert!(matches!(
        check_server_certificate(
            server.cert_pem.as_bytes(),
            junk_pkcs8.as_bytes(),
            None,
            now()
        ),
        Err(CertError::UnsupportedKey { .. })
    ));
}

#[test]
fn der_lengths() {
    let mut out = Vec::new();
    der_tlv(&mut out, 0x04, &[7; 0x7F]);
    assert_eq!(&out[..2], &[0x04, 0x7F]);
    out.clear();
    der_tlv(&mut out, 0x04, &[7; 0x80]);
    assert_eq!(&out[..3], &[0x04, 0x81, 0x80]);
    out.clear();
    der_tlv(&mut out, 0x04, &[7; 0x1234]);
    assert_eq!(&out[..4], &[0x04, 0x82, 0x12, 0x34]);
    assert_eq!(out.len(), 4 + 0x1234);
}

#[test]
fn names_and_secrets() {
    let ca = ca();
    assert!(matches!(
        make_server_cert(&ca, &[], now()),
        Err(CertError::BadName { .. })
    ));
    assert!(matches!(
        make_client_cert(&ca, "", now()),
        Err(CertError::BadName { .. })
    ));
    assert!(matches!(
        make_ca("bad\nname", now()),
        Err(CertError::BadName { .. })
    ));
    let shown = format!("{ca:?}");
    assert!(shown.contains("<secret>"));
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert!(matches!(
        make_ca("far future", at("9995-01-01T00:00:00Z")),
        Err(CertError::BadDate { .. })
    ));
}

/// Keys made by OpenSSL (a second implementation of every encoding) at test time, each in
/// two encodings: `openssl genrsa -traditional 2048` (PKCS#1) and `openssl ecparam -name
/// secp384r1 -genkey -noout` (SEC1, with the curve and public key in it), and `openssl pkey`
/// of each (PKCS#8). No private key is kept in the repository.
struct OpensslKeys {
    rsa_pkcs1: String,
    rsa_pkcs8: String,
    p384_sec1: String,
    p384_pkcs8: String,
}

/// Runs openssl in `dir`; `None` when there is no openssl command at all.
fn openssl(dir: &std::path::Path, args: &[&str]) -> Option<()> {
    let out = match std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("openssl {args:?}: {e}"),
    };
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(())
}

fn openssl_keys() -> Option<OpensslKeys> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(d, &["genrsa", "-traditional", "-out", "rsa1.pem", "2048"])?;
    openssl(d, &["pkey", "-in", "rsa1.pem", "-out", "rsa8.pem"])?;
    openssl(
        d,
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-out",
            "ec1.pem",
        ],
    )?;
    openssl(d, &["pkey", "-in", "ec1.pem", "-out", "ec8.pem"])?;
    let read = |name: &str| std::fs::read_to_string(d.join(name)).unwrap();
    let keys = OpensslKeys {
        rsa_pkcs1: read("rsa1.pem"),
        rsa_pkcs8: read("rsa8.pem"),
        p384_sec1: read("ec1.pem"),
        p384_pkcs8: read("ec8.pem"),
    };
    assert!(
        keys.rsa_pkcs1
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
    );
    assert!(keys.p384_sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
    assert!(keys.rsa_pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(keys.p384_pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
    Some(keys)
}

/// A server certificate for the PKCS#8 key, made by rcgen without this module's key code.
fn self_signed_server(pkcs8_pem: &str) -> String {
    let key = KeyPair::from_pem(pkcs8_pem).unwrap();
    let mut params = CertificateParams::new(vec!["radius.school.example".to_owned()]).unwrap();
    params.distinguished_name = common_name("radius.school.example");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    set_validity(&mut params, now(), 1).unwrap();
    params.self_signed(&key).unwrap().pem()
}

#[test]
fn openssl_keys_in_every_encoding_match_their_certificates() {
    let Some(keys) = openssl_keys() else {
        // scripts/test.sh installs openssl; a machine without it cannot run this one
        eprintln!("SKIPPED: no openssl command (apt-get install openssl) to make the keys");
        return;
    };
    let (rsa_pkcs1, rsa_pkcs8) = (keys.rsa_pkcs1.as_str(), keys.rsa_pkcs8.as_str());
    let (p384_sec1, p384_pkcs8) = (keys.p384_sec1.as_str(), keys.p384_pkcs8.as_str());
    for (pkcs8, other, label) in [
        (rsa_pkcs8, rsa_pkcs1, "RSA"),
        (p384_pkcs8, p384_sec1, "P-384"),
    ] {
        let cert_pem = self_signed_server(pkcs8);
        for key in [pkcs8, other] {
            let summary =
                check_server_certificate(cert_pem.as_bytes(), key.as_bytes(), None, now());
            assert_eq!(
                summary.map(|s| s.dns_names),
                Ok(vec!["radius.school.example".to_owned()]),
                "{label}"
            );
        }
    }
    // and across: the RSA key does not fit the P-384 certificate
    let p384_cert = self_signed_server(p384_pkcs8);
    assert_eq!(
        check_server_certificate(p384_cert.as_bytes(), rsa_pkcs1.as_bytes(), None, now()),
        Err(CertError::KeyMismatch)
    );
    assert!(matches!(
        parse_private_key(rsa_pkcs1.as_bytes()),
        Ok(PrivateKeyDer::Pkcs1(_))
    ));
    assert!(matches!(
        parse_private_key(p384_sec1.as_bytes()),
        Ok(PrivateKeyDer::Sec1(_))
    ));
}
