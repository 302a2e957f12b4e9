//! `hallpass eap profile`: what a pupil installs instead of typing Wi-Fi settings, made
//! from the running config: an Apple configuration profile (`SSID.mobileconfig`: the CA
//! certificate, the server name to trust, PEAP or TTLS, the user name left for the device to
//! ask), a Windows 11 WLAN profile (`SSID-windows.xml`, for `netsh wlan add profile`) and
//! the exact fields for Android (`SSID-android.txt`).
//!
//! Must not: put a user name or password into a profile (one profile serves the whole
//! school), or trust anything but the CA and the server name given.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha1::Digest;

use super::load_config;
use crate::eap::certs::{PemInput, parse_certificates};

/// What the profiles are made of.
#[derive(Clone, Debug)]
pub struct ProfileSpec {
    pub ssid: String,
    /// `peap` or `ttls`.
    pub method: String,
    /// The name the server's certificate must carry (what Android calls "Domain").
    pub server_name: String,
    pub anonymous_identity: String,
    /// The CA certificate as PEM; the first certificate in it is the one trusted.
    pub ca_pem: String,
}

/// `hallpass eap profile`: reads the config, writes the three files into `out`.
pub fn run(
    config: &Path,
    ssid: &str,
    out: &Path,
    method: Option<&str>,
    ca: Option<PathBuf>,
    force: bool,
) -> anyhow::Result<()> {
    let d = load_config(config)?;
    let eap = d
        .eap
        .as_ref()
        .context("hallpass.toml has no [eap] section: there is nothing to connect to")?;
    let offered: Vec<&str> = eap
        .session
        .methods
        .iter()
        .map(|m| match m {
            crate::eap::Method::Peap => "peap",
            crate::eap::Method::Ttls => "ttls",
            crate::eap::Method::Tls => "tls",
        })
        .collect();
    let method = match method {
        Some(m) if matches!(m, "peap" | "ttls") && offered.contains(&m) => m,
        Some(m) => anyhow::bail!(
            "method {m:?}: a profile is for \"peap\" or \"ttls\", and [eap] offers {offered:?}"
        ),
        None => offered
            .iter()
            .copied()
            .find(|m| matches!(*m, "peap" | "ttls"))
            .context("[eap] offers neither \"peap\" nor \"ttls\"")?,
    };
    let server_name = eap
        .certificate
        .dns_names
        .first()
        .cloned()
        .context("the server certificate has no DNS name to trust")?;
    let ca = ca.unwrap_or_else(|| d.config_dir.join("eap/ca.pem"));
    let ca_pem = std::fs::read_to_string(&ca)
        .with_context(|| format!("cannot read the CA certificate {}", ca.display()))?;
    let spec = ProfileSpec {
        ssid: ssid.to_string(),
        method: method.to_string(),
        server_name,
        anonymous_identity: "anonymous".to_string(),
        ca_pem,
    };
    let files = [
        (format!("{ssid}.mobileconfig"), apple(&spec)?),
        (format!("{ssid}-windows.xml"), windows(&spec)?),
        (format!("{ssid}-android.txt"), android(&spec)),
    ];
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for (name, _) in &files {
        let path = out.join(name);
        if !force && path.symlink_metadata().is_ok() {
            anyhow::bail!(
                "{} exists already; nothing written (--force replaces it)",
                path.display()
            );
        }
    }
    for (name, text) in &files {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The base64 text of the first certificate of a PEM file (what a plist's `<data>` holds)
/// and its DER bytes.
fn first_certificate(pem: &str) -> anyhow::Result<(String, Vec<u8>)> {
    let der = parse_certificates(pem.as_bytes(), PemInput::Certificate)?
        .into_iter()
        .next()
        .context("no certificate in the CA file")?;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .map(str::trim)
        .collect();
    Ok((body, der.as_ref().to_vec()))
}

/// A random UUID (version 4), as profiles name their payloads.
fn uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The Apple configuration profile (a property list).
pub fn apple(spec: &ProfileSpec) -> anyhow::Result<String> {
    let (b64, _) = first_certificate(&spec.ca_pem)?;
    let (ca_uuid, wifi_uuid, profile_uuid) = (uuid(), uuid(), uuid());
    let id = format!("hallpass.{}", xml(&spec.server_name));
    let ssid = xml(&spec.ssid);
    let (eap_type, inner) = match spec.method.as_str() {
        "ttls" => (
            21,
            "\n\t\t\t\t<key>TTLSInnerAuthentication</key>\n\t\t\t\t<string>PAP</string>",
        ),
        _ => (25, ""),
    };
    let mut data = String::new();
    for chunk in b64.as_bytes().chunks(52) {
        let _ = write!(data, "\n\t\t\t{}", String::from_utf8_lossy(chunk));
    }
    Ok(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>ca.cer</string>
			<key>PayloadContent</key>
			<data>{data}
			</data>
			<key>PayloadDisplayName</key>
			<string>CA {server}</string>
			<key>PayloadIdentifier</key>
			<string>{id}.ca</string>
			<key>PayloadType</key>
			<string>com.apple.security.root</string>
			<key>PayloadUUID</key>
			<string>{ca_uuid}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
		<dict>
			<key>AutoJoin</key>
			<true/>
			<key>EAPClientConfiguration</key>
			<dict>
				<key>AcceptEAPTypes</key>
				<array>
					<integer>{eap_type}</integer>
				</array>
				<key>OuterIdentity</key>
				<string>{anonymous}</string>
				<key>PayloadCertificateAnchorUUID</key>
				<array>
					<string>{ca_uuid}</string>
				</array>
				<key>TLSTrustedServerNames</key>
				<array>
					<string>{server}</string>
				</array>{inner}
			</dict>
			<key>EncryptionType</key>
			<string>WPA2</string>
			<key>HIDDEN_NETWORK</key>
			<false/>
			<key>PayloadDisplayName</key>
			<string>{ssid}</string>
			<key>PayloadIdentifier</key>
			<string>{id}.wifi</string>
			<key>PayloadType</key>
			<string>com.apple.wifi.managed</string>
			<key>PayloadUUID</key>
			<string>{wifi_uuid}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>SSID_STR</key>
			<string>{ssid}</string>
		</dict>
	</array>
	<key>PayloadDisplayName</key>
	<string>WLAN {ssid}</string>
	<key>PayloadIdentifier</key>
	<string>{id}</string>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>{profile_uuid}</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
"#,
        server = xml(&spec.server_name),
        anonymous = xml(&spec.anonymous_identity),
    ))
}

/// The SHA-1 of the CA certificate as Windows writes it: hex pairs with spaces.
fn thumbprint(der: &[u8]) -> String {
    sha1::Sha1::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Windows 11 WLAN profile (`netsh wlan add profile filename=...`).
pub fn windows(spec: &ProfileSpec) -> anyhow::Result<String> {
    let (_, der) = first_certificate(&spec.ca_pem)?;
    let thumb = thumbprint(&der);
    let server = xml(&spec.server_name);
    let (eap_type, method) = match spec.method.as_str() {
        "ttls" => (
            21,
            format!(
                r#"<EapTtls xmlns="http://www.microsoft.com/provisioning/EapTtlsConnectionPropertiesV1">
                <ServerValidation>
                  <ServerNames>{server}</ServerNames>
                  <TrustedRootCAHash>{thumb}</TrustedRootCAHash>
                  <DisablePrompt>true</DisablePrompt>
                </ServerValidation>
                <Phase2Authentication>
                  <PAPAuthentication/>
                </Phase2Authentication>
                <Phase1Identity>
                  <IdentityPrivacy>true</IdentityPrivacy>
                  <AnonymousIdentity>{anonymous}</AnonymousIdentity>
                </Phase1Identity>
              </EapTtls>"#,
                anonymous = xml(&spec.anonymous_identity)
            ),
        ),
        _ => (
            25,
            format!(
                r#"<Eap xmlns="http://www.microsoft.com/provisioning/BaseEapConnectionPropertiesV1">
                <Type>25</Type>
                <EapType xmlns="http://www.microsoft.com/provisioning/MsPeapConnectionPropertiesV1">
                  <ServerValidation>
                    <DisableUserPromptForServerValidation>true</DisableUserPromptForServerValidation>
                    <ServerNames>{server}</ServerNames>
                    <TrustedRootCA>{thumb}</TrustedRootCA>
                  </ServerValidation>
                  <FastReconnect>true</FastReconnect>
                  <InnerEapOptional>false</InnerEapOptional>
                  <Eap xmlns="http://www.microsoft.com/provisioning/BaseEapConnectionPropertiesV1">
                    <Type>26</Type>
                    <EapType xmlns="http://www.microsoft.com/provisioning/MsChapV2ConnectionPropertiesV1">
                      <UseWinLogonCredentials>false</UseWinLogonCredentials>
                    </EapType>
                  </Eap>
                  <EnableQuarantineChecks>false</EnableQuarantineChecks>
                  <RequireCryptoBinding>false</RequireCryptoBinding>
                  <PeapExtensions>
                    <PerformServerValidation xmlns="http://www.microsoft.com/provisioning/MsPeapConnectionPropertiesV2">true</PerformServerValidation>
                    <AcceptServerName xmlns="http://www.microsoft.com/provisioning/MsPeapConnectionPropertiesV2">true</AcceptServerName>
                  </PeapExtensions>
                </EapType>
              </Eap>"#
            ),
        ),
    };
    let ssid = xml(&spec.ssid);
    Ok(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<WLANProfile xmlns="http://www.microsoft.com/networking/WLAN/profile/v1">
  <name>{ssid}</name>
  <SSIDConfig>
    <SSID>
      <name>{ssid}</name>
    </SSID>
  </SSIDConfig>
  <connectionType>ESS</connectionType>
  <connectionMode>auto</connectionMode>
  <MSM>
    <security>
      <authEncryption>
        <authentication>WPA2</authentication>
        <encryption>AES</encryption>
        <useOneX>true</useOneX>
      </authEncryption>
      <OneX xmlns="http://www.microsoft.com/networking/OneX/v1">
        <authMode>user</authMode>
        <EAPConfig>
          <EapHostConfig xmlns="http://www.microsoft.com/provisioning/EapHostConfig">
            <EapMethod>
              <Type xmlns="http://www.microsoft.com/provisioning/EapCommon">{eap_type}</Type>
              <VendorId xmlns="http://www.microsoft.com/provisioning/EapCommon">0</VendorId>
              <VendorType xmlns="http://www.microsoft.com/provisioning/EapCommon">0</VendorType>
              <AuthorId xmlns="http://www.microsoft.com/provisioning/EapCommon">{author}</AuthorId>
            </EapMethod>
            <Config xmlns="http://www.microsoft.com/provisioning/EapHostConfig">
              {method}
            </Config>
          </EapHostConfig>
        </EAPConfig>
      </OneX>
    </security>
  </MSM>
</WLANProfile>
"#,
        // Microsoft's TTLS method is registered under author 311.
        author = if eap_type == 21 { 311 } else { 0 },
    ))
}

/// The fields an Android phone asks for, in its order.
pub fn android(spec: &ProfileSpec) -> String {
    let (method, phase2) = match spec.method.as_str() {
        "ttls" => ("TTLS", "PAP"),
        _ => ("PEAP", "MSCHAPV2"),
    };
    format!(
        "Wi-Fi: {ssid}\n\
         EAP method: {method}\n\
         Phase 2 authentication: {phase2}\n\
         CA certificate: install the school's CA first (Settings > Security > Encryption & \
         credentials > Install a certificate > Wi-Fi certificate), then choose it here\n\
         Domain: {server}\n\
         Identity: your school user name\n\
         Anonymous identity: {anonymous}\n\
         Password: your school password\n",
        ssid = spec.ssid,
        server = spec.server_name,
        anonymous = spec.anonymous_identity,
    )
}
