//! 802.1X logins that must not get in, against eapol_test: an unknown account, a disabled
//! one and one without consent are refused by hallpass with their reason in the auth log
//! (read back with `hallpass log`); a server certificate for another domain is refused by
//! the client. And a long chain: RSA 4096 from root to server, sent in several fragments.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use crate::eap::{
    PASSWORD, Peer, SERVER_NAME, eap_config, eapol_test, logged_reason, login, network, run, tail,
};
use crate::harness::{Daemon, TestConfig, password_hash};

const PAUL_PHONE: &str = "3c:22:fb:00:00:02";
const NINA_PHONE: &str = "3c:22:fb:00:00:01";

/// `eap_config` with two more accounts, each with a registered phone: paul.aus (disabled)
/// and nina.ohne (no consent on file), both with password and NT hash. The client CA is
/// replaced by one whose certificates for `niemand` (no account) and `paul.aus` are written
/// as `niemand.pem`/`.key` and `paul.aus.pem`/`.key`.
fn config_with_refused_accounts() -> TestConfig {
    let cfg = eap_config("reject");
    let users = std::fs::read_to_string(cfg.path().join("users.toml")).unwrap();
    let hash = password_hash(PASSWORD);
    let nt: String = hallpass::eap::mschapv2::NtHash::from_password(PASSWORD)
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    cfg.write(
        "users.toml",
        &format!(
            "{users}[[user]]\nname = \"paul.aus\"\ngroups = [\"students\"]\nconsent = true\ndisabled = true\npassword = \"{hash}\"\nnt_hash = \"{nt}\"\n\n\
             [[user]]\nname = \"nina.ohne\"\ngroups = [\"students\"]\nconsent = false\npassword = \"{hash}\"\nnt_hash = \"{nt}\"\n"
        ),
    );
    let devices = std::fs::read_to_string(cfg.path().join("devices.toml")).unwrap();
    cfg.write(
        "devices.toml",
        &format!(
            "{devices}\n[[device]]\nmac = \"{PAUL_PHONE}\"\nowner = \"paul.aus\"\n\n[[device]]\nmac = \"{NINA_PHONE}\"\nowner = \"nina.ohne\"\n"
        ),
    );
    let now = jiff::Timestamp::now();
    let clients_ca = hallpass::eap::certs::make_ca("hallpass clients", now).unwrap();
    cfg.write("eap/clients-ca.pem", &clients_ca.cert_pem);
    for user in ["niemand", "paul.aus"] {
        let c = hallpass::eap::certs::make_client_cert(&clients_ca, user, now).unwrap();
        cfg.write(&format!("{user}.pem"), &c.cert_pem);
        cfg.write(&format!("{user}.key"), &c.key_pem);
    }
    cfg
}

/// The network block of an EAP-TLS login with the certificate `{user}.pem`.
fn tls_network(user: &str, dir: &Path) -> String {
    format!(
        "network={{\n  eap=TLS\n  identity=\"{user}\"\n  client_cert=\"{}\"\n  private_key=\"{}\"\n  ca_cert=\"{}\"\n  domain_suffix_match=\"{SERVER_NAME}\"\n  key_mgmt=IEEE8021X\n  eapol_flags=0\n}}\n",
        dir.join(format!("{user}.pem")).display(),
        dir.join(format!("{user}.key")).display(),
        dir.join("ca.pem").display(),
    )
}

/// `hallpass log --json`: (method, user, mac, accepted, reason) of every row, oldest first.
fn auth_log(cfg: &TestConfig) -> Vec<(String, Option<String>, String, bool, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(["log", "--json", "--reason", "Test der 802.1X-Ablehnungen"])
        .arg("--config")
        .arg(cfg.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hallpass log: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let mut rows: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                (
                    text(&r["method"]).unwrap_or_default(),
                    text(&r["user"]),
                    text(&r["mac"]).unwrap_or_default(),
                    r["accepted"].as_bool().unwrap(),
                    text(&r["reason"]).unwrap_or_default(),
                ),
            )
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    rows.into_iter().map(|r| r.1).collect()
}

#[test]
fn unknown_disabled_and_unconsented_accounts_are_refused_with_their_reason() {
    let Some(bin) = eapol_test() else { return };
    let cfg = config_with_refused_accounts();
    let mut d = Daemon::start(&cfg);
    // (method, user, device, reason, the user the log names): an unknown account fails the
    // method's own check and the log names nobody, as for a wrong password; the others
    // pass the check and the policy refuses them by name.
    let cases = [
        ("peap", "niemand", NINA_PHONE, "bad_credentials", None),
        ("ttls", "niemand", NINA_PHONE, "bad_credentials", None),
        ("tls", "niemand", NINA_PHONE, "bad_credentials", None),
        (
            "peap",
            "paul.aus",
            PAUL_PHONE,
            "account_disabled",
            Some("paul.aus"),
        ),
        (
            "ttls",
            "paul.aus",
            PAUL_PHONE,
            "account_disabled",
            Some("paul.aus"),
        ),
        (
            "tls",
            "paul.aus",
            PAUL_PHONE,
            "account_disabled",
            Some("paul.aus"),
        ),
        (
            "peap",
            "nina.ohne",
            NINA_PHONE,
            "no_consent",
            Some("nina.ohne"),
        ),
        (
            "ttls",
            "nina.ohne",
            NINA_PHONE,
            "no_consent",
            Some("nina.ohne"),
        ),
    ];
    for (method, user, mac, why, named) in cases {
        let skip = d.log_len();
        let peer = Peer {
            bin,
            d: &d,
            cfg: &cfg,
        };
        let r = if method == "tls" {
            let conf = cfg.path().join(format!("tls-{user}.conf"));
            std::fs::write(&conf, tls_network(user, cfg.path())).unwrap();
            run(&peer, &conf, mac, 19)
        } else {
            login(&peer, method, user, PASSWORD, mac, 19)
        };
        assert!(!r.success, "{method} {user}: let in\n{}", tail(&r));
        // Refused with an EAP-Failure, not left to time out.
        assert!(
            r.output.contains("EAP: Received EAP-Failure"),
            "{method} {user}: no EAP-Failure\n{}",
            tail(&r)
        );
        // A refusal by the policy tells the person why, as for PAP.
        assert!(
            named.is_none() || r.output.contains("Attribute 18 (Reply-Message)"),
            "{method} {user}: no Reply-Message\n{}",
            tail(&r)
        );
        assert_eq!(
            logged_reason(&mut d, skip),
            why,
            "{method} {user}\n{}",
            tail(&r)
        );
    }
    assert!(d.stop().success());
    let want: Vec<_> = cases
        .iter()
        .map(|(method, _, mac, why, logged)| {
            (
                method.to_string(),
                logged.map(str::to_string),
                mac.to_string(),
                false,
                why.to_string(),
            )
        })
        .collect();
    assert_eq!(auth_log(&cfg), want);
}

#[test]
fn a_server_certificate_for_another_domain_is_refused_by_the_client() {
    let Some(bin) = eapol_test() else { return };
    let cfg = eap_config("reject");
    let d = Daemon::start(&cfg);
    let peer = Peer {
        bin,
        d: &d,
        cfg: &cfg,
    };
    // The same network block with the certificate's domain logs in: what follows fails
    // for the domain alone.
    let r = login(
        &peer,
        "peap",
        "max.muster",
        PASSWORD,
        crate::eap::MAX_PHONE,
        19,
    );
    assert!(r.success, "{}", tail(&r));
    let skip = d.log_len();
    let block = network("peap", "max.muster", PASSWORD, cfg.path()).replace(
        &format!("domain_suffix_match=\"{SERVER_NAME}\""),
        "domain_suffix_match=\"other.example\"",
    );
    assert!(block.contains("other.example"), "{block}");
    let conf = cfg.path().join("peap-other-domain.conf");
    std::fs::write(&conf, block).unwrap();
    let peer = Peer {
        bin,
        d: &d,
        cfg: &cfg,
    };
    let r = run(&peer, &conf, crate::eap::MAX_PHONE, 19);
    assert!(!r.success, "let in with another domain\n{}", tail(&r));
    // wpa_supplicant names the failed check of the server certificate.
    assert!(
        r.output.contains("CTRL-EVENT-EAP-TLS-CERT-ERROR")
            && r.output.contains("Domain suffix mismatch"),
        "no certificate refusal\n{}",
        tail(&r)
    );
    // The tunnel never came up, so the password never left the client and nobody was let in.
    assert!(
        !r.output.contains("EAP-MSCHAPV2"),
        "inner method reached\n{}",
        tail(&r)
    );
    let accepted = d
        .log_lines()
        .iter()
        .skip(skip)
        .any(|l| l.contains("access decision") && l.contains("reason=accepted"));
    assert!(!accepted, "{}", d.log_lines()[skip..].join("\n"));
    drop(d);
}

/// Runs openssl in `dir`; fails with its output.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The DER length of the certificate in the PEM file `name`.
fn der_len(dir: &Path, name: &str) -> usize {
    let out = Command::new("openssl")
        .args(["x509", "-in", name, "-outform", "DER"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout.len()
}

/// Root CA → intermediate CA → server certificate for `SERVER_NAME`, all RSA 4096, made
/// with the openssl command in `dir/rsa`. Writes `eap/server.pem` (leaf, then the
/// intermediate), `eap/server.key` and `ca.pem` (the root) into the config. Returns the
/// DER length of leaf and intermediate together: what the server sends in its Certificate
/// message.
fn rsa_4096_chain(cfg: &TestConfig) -> usize {
    crate::eap_cli::require_openssl();
    let dir = cfg.path().join("rsa");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("ca.ext"),
        "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("server.ext"),
        format!(
            "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:{SERVER_NAME}\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
        ),
    )
    .unwrap();
    for name in ["root", "intermediate", "server"] {
        openssl(
            &dir,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:4096",
                "-out",
                &format!("{name}.key"),
            ],
        );
    }
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "30",
            "-subj",
            "/CN=hallpass RSA root",
            "-sha256",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    for (name, issuer, subject, ext) in [
        (
            "intermediate",
            "root",
            "/CN=hallpass RSA intermediate",
            "ca.ext",
        ),
        (
            "server",
            "intermediate",
            &format!("/CN={SERVER_NAME}"),
            "server.ext",
        ),
    ] {
        let csr = format!("{name}.csr");
        openssl(
            &dir,
            &[
                "req",
                "-new",
                "-key",
                &format!("{name}.key"),
                "-out",
                &csr,
                "-subj",
                subject,
            ],
        );
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-set_serial",
                if name == "server" { "3" } else { "2" },
                "-days",
                "30",
                "-sha256",
                "-extfile",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    cfg.write(
        "eap/server.pem",
        &format!("{}{}", read("server.pem"), read("intermediate.pem")),
    );
    cfg.write("eap/server.key", &read("server.key"));
    std::fs::set_permissions(
        cfg.path().join("eap/server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    cfg.write("ca.pem", &read("root.pem"));
    der_len(&dir, "server.pem") + der_len(&dir, "intermediate.pem")
}

#[test]
fn an_rsa_4096_chain_is_sent_in_several_fragments_and_peap_works() {
    let Some(bin) = eapol_test() else { return };
    let cfg = eap_config("reject");
    let chain = rsa_4096_chain(&cfg);
    let d = Daemon::start(&cfg);
    let peer = Peer {
        bin,
        d: &d,
        cfg: &cfg,
    };
    let r = login(
        &peer,
        "peap",
        "max.muster",
        PASSWORD,
        crate::eap::MAX_PHONE,
        19,
    );
    assert!(r.success && r.keys_ok, "{}", tail(&r));
    // The client checked the chain up to the root it was given.
    assert!(
        r.output.contains("CN=hallpass RSA intermediate") && r.output.contains("depth=2"),
        "chain not seen\n{}",
        tail(&r)
    );
    // wpa_supplicant logs every PEAP request it receives with its flags ("SSL: Received
    // packet(len=1000) - Flags 0xc0"); More Fragments is 0x40. The chain alone needs more
    // than two fragments of at most 1,000 octets (the default, below eapol_test's
    // Framed-MTU of 1,400).
    let fragments = more_fragments(&r.output);
    assert!(chain > 2 * 1000, "chain of {chain} octets");
    assert!(
        fragments > 1 && fragments >= chain / 1000,
        "{fragments} fragments with More set for a chain of {chain} octets\n{}",
        tail(&r)
    );
}

/// The EAP requests eapol_test received with the More Fragments flag set.
fn more_fragments(output: &str) -> usize {
    output
        .lines()
        .filter_map(|l| {
            l.strip_prefix("SSL: Received packet(")?
                .split("Flags 0x")
                .nth(1)
        })
        .filter_map(|f| u8::from_str_radix(f.get(..2)?, 16).ok())
        .filter(|flags| flags & 0x40 != 0)
        .count()
}
