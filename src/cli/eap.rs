//! `hallpass eap make-cert` and `hallpass eap client-cert`: certificates for 802.1X written
//! into files with safe modes, and the NT hash `user passwd` adds for PEAP-MSCHAPv2.
//!
//! What it owns: where the certificate files go and with which modes (keys 0600 from the
//! moment they exist, certificates 0644, a new directory 0750), refusing to overwrite, the
//! CA fingerprint pupils compare, and reading from the raw hallpass.toml whether `[eap]`
//! offers "peap". What it must not do: make or check certificates itself (`eap::certs`
//! does), or validate the `[eap]` section (the config loader does; `user passwd` then
//! validates the whole directory before writing).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::Timestamp;
use toml_edit::{Table, value};

use super::args::EapCmd;
use crate::eap::certs::{self, CertAndKey};
use crate::eap::mschapv2::NtHash;

const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca.key";
const SERVER_CERT: &str = "server.pem";
const SERVER_KEY: &str = "server.key";

const KEY_MODE: u32 = 0o600;
const CERT_MODE: u32 = 0o644;
const DIR_MODE: u32 = 0o750;

pub fn run(cmd: EapCmd) -> anyhow::Result<()> {
    match cmd {
        EapCmd::MakeCert {
            dns,
            out,
            ca_name,
            force,
            config,
        } => make_cert(&config.config, out, &dns, ca_name, force),
        EapCmd::ClientCert {
            user,
            ca_dir,
            out,
            force,
        } => client_cert(&user, &ca_dir, &out, force),
        EapCmd::Profile {
            ssid,
            out,
            method,
            ca,
            force,
            config,
        } => super::profile::run(&config.config, &ssid, &out, method.as_deref(), ca, force),
    }
}

/// One file to write: its name in the output directory, its text and its mode.
struct Output<'a> {
    name: String,
    text: &'a str,
    mode: u32,
}

fn make_cert(
    config: &Path,
    out: Option<PathBuf>,
    dns: &[String],
    ca_name: Option<String>,
    force: bool,
) -> anyhow::Result<()> {
    let out = out.unwrap_or_else(|| config.join("eap"));
    let names: Vec<&str> = dns.iter().map(|n| n.trim()).collect();
    let Some(&domain) = names.first() else {
        anyhow::bail!("give the server's DNS name with --dns");
    };
    let ca_name = ca_name.unwrap_or_else(|| format!("hallpass EAP CA {domain}"));
    let now = Timestamp::now();
    let ca = certs::make_ca(&ca_name, now).context("cannot make the CA")?;
    let server =
        certs::make_server_cert(&ca, &names, now).context("cannot make the server certificate")?;
    // leaf first, then its chain: supplicants that were given only the CA can build the path
    let chain = format!("{}{}", server.cert_pem, ca.cert_pem);
    let outputs = [
        Output {
            name: CA_CERT.into(),
            text: &ca.cert_pem,
            mode: CERT_MODE,
        },
        Output {
            name: CA_KEY.into(),
            text: &ca.key_pem,
            mode: KEY_MODE,
        },
        Output {
            name: SERVER_CERT.into(),
            text: &chain,
            mode: CERT_MODE,
        },
        Output {
            name: SERVER_KEY.into(),
            text: &server.key_pem,
            mode: KEY_MODE,
        },
    ];
    write_all(&out, &outputs, force)?;
    let fingerprint = fingerprint_sha256(&ca)?;
    let shown = shown_path(config, &out);
    println!(
        "\nCA \"{ca_name}\" (valid {} years) SHA-256 fingerprint:\n  {fingerprint}",
        certs::CA_VALIDITY_YEARS
    );
    println!(
        "Give pupils {} (the CA certificate, never ca.key) and this fingerprint to compare; \
         as \"Domain\" they enter {}.",
        out.join(CA_CERT).display(),
        domain
    );
    println!("Keep ca.key offline once the certificates you need are made: it can sign any name.");
    println!("\nAdd to hallpass.toml:\n");
    println!("[eap]");
    println!("methods = [\"peap\", \"ttls\"]");
    println!("certificate = \"{}\"", shown.join(SERVER_CERT).display());
    println!("private_key = \"{}\"", shown.join(SERVER_KEY).display());
    println!(
        "# client_ca = \"{}\"   # with \"tls\" in methods: hallpass eap client-cert signs with this CA",
        shown.join(CA_CERT).display()
    );
    println!("tls_versions = [\"1.2\"]");
    println!("unregistered_devices = \"reject\"");
    if running_as_root() {
        println!(
            "\nThe daemon runs as the user hallpass: let it read the key with\n  chown hallpass: {}",
            out.join(SERVER_KEY).display()
        );
    }
    Ok(())
}

fn client_cert(user: &str, ca_dir: &Path, out: &Path, force: bool) -> anyhow::Result<()> {
    if user.is_empty() || user.contains(['/', '\0']) || user.starts_with('.') {
        anyhow::bail!("--user {user:?}: not usable as a file name");
    }
    let read = |name: &str| {
        let p = ca_dir.join(name);
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))
    };
    let ca = CertAndKey {
        cert_pem: read(CA_CERT)?,
        key_pem: zeroize::Zeroizing::new(read(CA_KEY)?),
    };
    let client = certs::make_client_cert(&ca, user, Timestamp::now()).with_context(|| {
        format!(
            "cannot make a client certificate with the CA in {}",
            ca_dir.display()
        )
    })?;
    let outputs = [
        Output {
            name: format!("{user}.pem"),
            text: &client.cert_pem,
            mode: CERT_MODE,
        },
        Output {
            name: format!("{user}.key"),
            text: &client.key_pem,
            mode: KEY_MODE,
        },
    ];
    write_all(out, &outputs, force)?;
    println!(
        "a client certificate for {user} (CN={user}, clientAuth, valid {} years); \
         hallpass accepts it for EAP-TLS when client_ca is {}",
        certs::LEAF_VALIDITY_YEARS,
        ca_dir.join(CA_CERT).display()
    );
    Ok(())
}

/// Writes every output, or none when one exists already and `force` is not given.
fn write_all(dir: &Path, outputs: &[Output<'_>], force: bool) -> anyhow::Result<()> {
    if !force {
        let existing: Vec<String> = outputs
            .iter()
            .map(|o| dir.join(&o.name))
            .filter(|p| p.symlink_metadata().is_ok())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            anyhow::bail!(
                "{} exist{} already; nothing written (--force replaces them)",
                existing.join(", "),
                if existing.len() == 1 { "s" } else { "" }
            );
        }
    }
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        println!("created {} (mode 0750)", dir.display());
    }
    for o in outputs {
        let path = dir.join(&o.name);
        write_new(&path, o.text, o.mode)?;
        println!("wrote {} (mode {:04o})", path.display(), o.mode);
    }
    Ok(())
}

/// Writes `text` to a new temporary file created with `mode` (the umask may only narrow
/// it), then renames it over `path`: a key is never readable by others, not even for a
/// moment, and a reader never sees half a file.
fn write_new(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// The SHA-256 fingerprint of the CA certificate (DER) as Android, Windows and
/// `openssl x509 -fingerprint -sha256` show it: upper-case hex pairs joined by colons.
fn fingerprint_sha256(ca: &CertAndKey) -> anyhow::Result<String> {
    let der = certs::parse_certificates(ca.cert_pem.as_bytes(), certs::PemInput::Certificate)
        .context("cannot read back the CA certificate")?;
    let first = der.first().context("the CA certificate is missing")?;
    Ok(colon_hex(&sha256(first.as_ref())?))
}

/// SHA-256 from the TLS engine's own hash (no second implementation in the binary).
fn sha256(data: &[u8]) -> anyhow::Result<Vec<u8>> {
    use rustls::SupportedCipherSuite;
    match rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256 {
        SupportedCipherSuite::Tls13(suite) => {
            Ok(suite.common.hash_provider.hash(data).as_ref().to_vec())
        }
        SupportedCipherSuite::Tls12(_) => anyhow::bail!("no SHA-256 in the TLS engine"),
    }
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `out` as hallpass.toml should name it: relative to the config directory when inside it.
fn shown_path(config: &Path, out: &Path) -> PathBuf {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    match abs(out).strip_prefix(abs(config)) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => abs(out),
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Whether the raw hallpass.toml offers PEAP: an `[eap]` section whose `methods` contain
/// "peap", or that has no `methods` (PEAP is then offered by default). Read from the text
/// so that `user passwd` decides before the loader validates anything else; an invalid file
/// is refused later by that validation, so anything unreadable here is "no".
pub(super) fn peap_offered(hallpass_toml: &str) -> bool {
    let Ok(doc) = hallpass_toml.parse::<toml_edit::DocumentMut>() else {
        return false;
    };
    let Some(eap) = doc.get("eap").filter(|e| e.is_table_like()) else {
        return false;
    };
    match eap.get("methods") {
        None => true,
        Some(methods) => methods
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m.as_str() == Some("peap"))),
    }
}

/// The NT hash of a password as users.toml keeps it: 32 lower-case hex digits.
pub(super) fn nt_hash_hex(password: &str) -> String {
    NtHash::from_password(password)
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sets a user's password in their users.toml table: the argon2id `password`, and the
/// `nt_hash` when PEAP is offered; otherwise removes an `nt_hash` of an earlier password.
/// Says what it did.
pub(super) fn set_password(user: &mut Table, argon2: &str, nt_hash: Option<&str>) -> &'static str {
    user.insert("password", value(argon2));
    match nt_hash {
        Some(nt) => {
            user.insert("nt_hash", value(nt));
            "password and nt_hash (for PEAP) set"
        }
        None if user.remove("nt_hash").is_some() => {
            "password set; the nt_hash of the old password removed ([eap] offers no peap)"
        }
        None => "password set",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_nt_hash_is_rfc_2759s() {
        // RFC 2759 section 9.2: NtPasswordHash("clientPass")
        assert_eq!(
            nt_hash_hex("clientPass"),
            "44ebba8d5312b8d611474411f56989ae"
        );
        // the example in the [eap] documentation: "password"
        assert_eq!(nt_hash_hex("password"), "8846f7eaee8fb117ad06bdd830b7586c");
        // what users.toml holds is what the loader reads back
        let back = NtHash::from_hex(&nt_hash_hex("clientPass")).unwrap();
        assert_eq!(
            back.as_bytes(),
            NtHash::from_password("clientPass").as_bytes()
        );
    }

    #[test]
    fn peap_is_read_from_the_eap_section_only() {
        assert!(peap_offered("[eap]\nmethods = [\"ttls\", \"peap\"]\n"));
        assert!(!peap_offered("[eap]\nmethods = [\"ttls\", \"tls\"]\n"));
        assert!(!peap_offered("# [eap]\n# methods = [\"peap\"]\n"));
        assert!(!peap_offered("[server]\nmethods = [\"peap\"]\n"));
        assert!(!peap_offered("[eap]\nmethods = \"peap\"\n"));
        // without methods, PEAP is among the defaults
        assert!(peap_offered("[eap]\ncertificate = \"eap/server.pem\"\n"));
        assert!(!peap_offered("eap = 1\n"));
        assert!(!peap_offered("[eap\nmethods = [\"peap\"]"));
        assert!(peap_offered(
            "[server]\nstate_dir = \"x\"\n\n[eap] # 802.1X\nmethods = [ \"peap\" ]  # first\n"
        ));
    }

    fn user_table(text: &str) -> toml_edit::DocumentMut {
        text.parse().unwrap()
    }

    #[test]
    fn setting_a_password_writes_or_removes_the_nt_hash() {
        let mut doc = user_table("[[user]]\nname = \"anna\" # 7b\nnt_hash = \"00\"\n");
        let users = doc["user"].as_array_of_tables_mut().unwrap();
        let t = users.get_mut(0).unwrap();
        assert_eq!(
            set_password(t, "$argon2id$x", Some("44ebba8d5312b8d611474411f56989ae")),
            "password and nt_hash (for PEAP) set"
        );
        let text = doc.to_string();
        assert!(text.contains("name = \"anna\" # 7b"), "{text}");
        assert!(text.contains("password = \"$argon2id$x\""), "{text}");
        assert!(
            text.contains("nt_hash = \"44ebba8d5312b8d611474411f56989ae\""),
            "{text}"
        );
        assert_eq!(text.matches("nt_hash").count(), 1, "{text}");

        let users = doc["user"].as_array_of_tables_mut().unwrap();
        let t = users.get_mut(0).unwrap();
        assert_eq!(
            set_password(t, "$argon2id$y", None),
            "password set; the nt_hash of the old password removed ([eap] offers no peap)"
        );
        let text = doc.to_string();
        assert!(!text.contains("nt_hash"), "{text}");
        let users = doc["user"].as_array_of_tables_mut().unwrap();
        let t = users.get_mut(0).unwrap();
        assert_eq!(set_password(t, "$argon2id$z", None), "password set");
    }

    #[test]
    fn fingerprints_are_colon_separated_upper_case_sha256() {
        // FIPS 180-2 appendix B.1: SHA-256("abc")
        assert_eq!(
            colon_hex(&sha256(b"abc").unwrap()),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }
}
