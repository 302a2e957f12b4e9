//! `hallpass eap make-cert` and `client-cert` as the built binary: the files, their modes,
//! refusing to overwrite, and OpenSSL (a second X.509 implementation) verifying the chain,
//! the server's DNS name and serverAuth, the client's clientAuth, and the fingerprint.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn hallpass(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed ({:?}):\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The openssl command, installed with apt-get when it is missing and we are root.
pub fn require_openssl() {
    if Command::new("openssl").arg("version").output().is_ok() {
        return;
    }
    let installed = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends", "openssl"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        installed && Command::new("openssl").arg("version").output().is_ok(),
        "these tests check certificates with OpenSSL: apt-get install openssl"
    );
}

fn openssl(args: &[&str]) -> String {
    let o = Command::new("openssl").args(args).output().unwrap();
    ok(&o)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn make_cert_writes_a_ca_and_a_server_certificate_openssl_accepts() {
    require_openssl();
    let config = tempfile::tempdir().unwrap();
    let cfg = path_str(config.path());
    let out = ok(&hallpass(&[
        "eap",
        "make-cert",
        "--dns",
        "radius.school.example",
        "--dns",
        "radius2.school.example",
        "--config",
        cfg,
    ]));
    let eap = config.path().join("eap");
    assert_eq!(mode(&eap), 0o750);
    for (name, want) in [
        ("ca.pem", 0o644),
        ("ca.key", 0o600),
        ("server.pem", 0o644),
        ("server.key", 0o600),
    ] {
        assert_eq!(mode(&eap.join(name)), want, "{name}");
        assert!(out.contains(&eap.join(name).display().to_string()), "{out}");
    }
    // the [eap] lines name the files relative to the config directory
    assert!(out.contains("[eap]\n"), "{out}");
    assert!(out.contains("certificate = \"eap/server.pem\""), "{out}");
    assert!(out.contains("private_key = \"eap/server.key\""), "{out}");
    assert!(
        out.contains("as \"Domain\" they enter radius.school.example"),
        "{out}"
    );

    let ca = eap.join("ca.pem");
    let server = eap.join("server.pem");
    // server.pem is the leaf, then the CA: openssl verifies the leaf (the first one)
    assert_eq!(
        std::fs::read_to_string(&server)
            .unwrap()
            .matches("BEGIN CERTIFICATE")
            .count(),
        2
    );
    let verified = openssl(&[
        "verify",
        "-purpose",
        "sslserver",
        "-CAfile",
        path_str(&ca),
        path_str(&server),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
    let ext = openssl(&[
        "x509",
        "-noout",
        "-ext",
        "subjectAltName,extendedKeyUsage",
        "-in",
        path_str(&server),
    ]);
    assert!(
        ext.contains("DNS:radius.school.example, DNS:radius2.school.example"),
        "{ext}"
    );
    assert!(ext.contains("TLS Web Server Authentication"), "{ext}");
    let subject = openssl(&["x509", "-noout", "-subject", "-in", path_str(&server)]);
    assert!(subject.contains("CN = radius.school.example"), "{subject}");
    // the key is the certificate's
    let pub_of_key = openssl(&["pkey", "-pubout", "-in", path_str(&eap.join("server.key"))]);
    let pub_of_cert = openssl(&["x509", "-noout", "-pubkey", "-in", path_str(&server)]);
    assert_eq!(pub_of_key, pub_of_cert);
    // the fingerprint printed is the CA's as OpenSSL computes it
    let fp = openssl(&[
        "x509",
        "-noout",
        "-fingerprint",
        "-sha256",
        "-in",
        path_str(&ca),
    ]);
    let fp = fp.trim().rsplit('=').next().unwrap();
    assert_eq!(fp.len(), 95, "{fp}");
    assert!(out.contains(fp), "{fp} not in:\n{out}");
}

#[test]
fn make_cert_refuses_to_overwrite_without_force() {
    let config = tempfile::tempdir().unwrap();
    let out_dir = config.path().join("elsewhere/certs");
    let args = |force: bool| {
        let mut a = vec![
            "eap",
            "make-cert",
            "--dns",
            "radius.school.example",
            "--out",
            path_str(&out_dir),
            "--config",
            path_str(config.path()),
        ];
        if force {
            a.push("--force");
        }
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |force: bool| {
        let a = args(force);
        hallpass(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let first = ok(&run(false));
    // --out inside the config directory: still named relative to it
    assert!(
        first.contains("certificate = \"elsewhere/certs/server.pem\""),
        "{first}"
    );
    let key = out_dir.join("server.key");
    let before = std::fs::read(&key).unwrap();

    // one file already there is enough to refuse, and nothing else is written
    std::fs::remove_file(out_dir.join("ca.pem")).unwrap();
    let refused = run(false);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("server.key"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(!out_dir.join("ca.pem").exists());
    assert_eq!(std::fs::read(&key).unwrap(), before);

    // --force replaces them, with the modes of new files and no temporary files left
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    ok(&run(true));
    assert_ne!(std::fs::read(&key).unwrap(), before);
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&out_dir.join("ca.key")), 0o600);
    assert_eq!(mode(&out_dir.join("ca.pem")), 0o644);
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ca.key", "ca.pem", "server.key", "server.pem"]);

    // outside the config directory: an absolute path
    let other = tempfile::tempdir().unwrap();
    let abs = ok(&hallpass(&[
        "eap",
        "make-cert",
        "--dns",
        "radius.school.example",
        "--out",
        path_str(other.path()),
        "--config",
        path_str(config.path()),
    ]));
    let canon = std::fs::canonicalize(other.path()).unwrap();
    assert!(
        abs.contains(&format!(
            "certificate = \"{}\"",
            canon.join("server.pem").display()
        )),
        "{abs}"
    );
}

#[test]
fn client_cert_is_signed_by_the_ca_for_client_auth() {
    require_openssl();
    let config = tempfile::tempdir().unwrap();
    let eap = config.path().join("eap");
    ok(&hallpass(&[
        "eap",
        "make-cert",
        "--dns",
        "radius.school.example",
        "--config",
        path_str(config.path()),
    ]));
    let clients = config.path().join("clients");
    let out = ok(&hallpass(&[
        "eap",
        "client-cert",
        "--user",
        "anna.schmidt",
        "--ca-dir",
        path_str(&eap),
        "--out",
        path_str(&clients),
    ]));
    assert!(out.contains("anna.schmidt"), "{out}");
    let cert = clients.join("anna.schmidt.pem");
    assert_eq!(mode(&cert), 0o644);
    assert_eq!(mode(&clients.join("anna.schmidt.key")), 0o600);
    assert_eq!(mode(&clients), 0o750);
    let verified = openssl(&[
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        path_str(&eap.join("ca.pem")),
        path_str(&cert),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
    let text = openssl(&[
        "x509",
        "-noout",
        "-subject",
        "-ext",
        "extendedKeyUsage",
        "-in",
        path_str(&cert),
    ]);
    assert!(text.contains("CN = anna.schmidt"), "{text}");
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(!text.contains("Server Authentication"), "{text}");

    // a second time: refused; and a user name that is no file name
    let again = hallpass(&[
        "eap",
        "client-cert",
        "--user",
        "anna.schmidt",
        "--ca-dir",
        path_str(&eap),
        "--out",
        path_str(&clients),
    ]);
    assert_eq!(again.status.code(), Some(1));
    let bad = hallpass(&[
        "eap",
        "client-cert",
        "--user",
        "../x",
        "--ca-dir",
        path_str(&eap),
        "--out",
        path_str(&clients),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    // without the CA's key nothing can be signed
    let no_ca = tempfile::tempdir().unwrap();
    let missing = hallpass(&[
        "eap",
        "client-cert",
        "--user",
        "ben",
        "--ca-dir",
        path_str(no_ca.path()),
        "--out",
        path_str(&clients),
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ca.pem"));
}
