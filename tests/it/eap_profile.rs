//! `hallpass eap profile` writes what pupils install, checked with real parsers: Python's
//! plistlib reads the Apple configuration profile (the CA is the trusted one, byte for byte;
//! PEAP or TTLS; the server name; no user name), Python's XML parser reads the Windows WLAN
//! profile (its SHA-1 thumbprint of the CA, computed here with hashlib), and the Android text
//! names every field.

use std::process::Command;

use crate::eap::{SERVER_NAME, eap_config_with};
use crate::privacy::{hallpass, ok};

/// Checks the two files with Python; `method` is `peap` or `ttls`.
const CHECK: &str = r#"
import hashlib, plistlib, ssl, sys
import xml.etree.ElementTree as ET
out, ssid, ca_file, server, method = sys.argv[1:6]
der = ssl.PEM_cert_to_DER_cert(open(ca_file).read())
with open(f"{out}/{ssid}.mobileconfig", "rb") as f:
    p = plistlib.load(f)
assert p["PayloadType"] == "Configuration", p
ca, wifi = p["PayloadContent"]
assert ca["PayloadType"] == "com.apple.security.root"
assert ca["PayloadContent"] == der, "the CA in the profile is not the CA"
assert wifi["PayloadType"] == "com.apple.wifi.managed"
assert wifi["SSID_STR"] == ssid
eap = wifi["EAPClientConfiguration"]
assert eap["AcceptEAPTypes"] == [25 if method == "peap" else 21], eap
assert eap["TLSTrustedServerNames"] == [server], eap
assert eap["PayloadCertificateAnchorUUID"] == [ca["PayloadUUID"]], eap
assert "UserName" not in eap and "UserPassword" not in eap, eap
if method == "ttls":
    assert eap["TTLSInnerAuthentication"] == "PAP", eap
w = ET.parse(f"{out}/{ssid}-windows.xml").getroot()
ns = {"w": "http://www.microsoft.com/networking/WLAN/profile/v1"}
assert w.tag == "{http://www.microsoft.com/networking/WLAN/profile/v1}WLANProfile", w.tag
assert w.find("w:SSIDConfig/w:SSID/w:name", ns).text == ssid
assert w.find("w:MSM/w:security/w:authEncryption/w:useOneX", ns).text == "true"
thumb = " ".join(f"{b:02x}" for b in hashlib.sha1(der).digest())
texts = {e.tag.split("}")[1]: (e.text or "").strip() for e in w.iter()}
key = "TrustedRootCA" if method == "peap" else "TrustedRootCAHash"
assert texts[key] == thumb, (texts.get(key), thumb)
assert texts["ServerNames"] == server, texts
outer = w.find(".//{http://www.microsoft.com/provisioning/EapCommon}Type").text
assert outer == ("25" if method == "peap" else "21"), outer
print("profiles OK")
"#;

#[test]
fn profiles_for_apple_windows_and_android_are_read_by_real_parsers() {
    let cfg = eap_config_with("reject", "");
    let ca = cfg.path().join("ca.pem");
    let ca_arg = ca.display().to_string();
    for method in ["peap", "ttls"] {
        let out = cfg.path().join(format!("profiles-{method}"));
        let out_arg = out.display().to_string();
        let printed = ok(&hallpass(
            &cfg,
            "admin.test",
            &[
                "eap", "profile", "--ssid", "SCHULE", "--out", &out_arg, "--method", method,
                "--ca", &ca_arg,
            ],
        ));
        assert!(printed.contains("SCHULE.mobileconfig"), "{printed}");
        let check = Command::new("python3")
            .args([
                "-c",
                CHECK,
                &out_arg,
                "SCHULE",
                &ca_arg,
                SERVER_NAME,
                method,
            ])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{method}: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let android = std::fs::read_to_string(out.join("SCHULE-android.txt")).unwrap();
        for field in [
            "EAP method: ",
            "Phase 2 authentication: ",
            "CA certificate: ",
            &format!("Domain: {SERVER_NAME}"),
            "Anonymous identity: anonymous",
        ] {
            assert!(android.contains(field), "{field}:\n{android}");
        }
        // written once; again only with --force
        let again = hallpass(
            &cfg,
            "admin.test",
            &[
                "eap", "profile", "--ssid", "SCHULE", "--out", &out_arg, "--ca", &ca_arg,
            ],
        );
        assert!(!again.status.success());
    }
    // TLS is no choice for a profile without a client certificate
    let o = hallpass(
        &cfg,
        "admin.test",
        &[
            "eap",
            "profile",
            "--ssid",
            "SCHULE",
            "--out",
            "/nonexistent",
            "--method",
            "tls",
        ],
    );
    assert!(!o.status.success());
}
