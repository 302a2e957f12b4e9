//! `[eap]` of hallpass.toml: the offered methods, the server certificate with its key and
//! chain, the client CA for EAP-TLS, the TLS versions, what happens to unregistered devices
//! and the bound on conversations. The certificate files come through the caller's reader;
//! their dates are checked at the `now` the caller passes. The rustls configurations are
//! built here once, so a reload either has working ones or keeps the old snapshot.
//! Must not: read files itself, read the clock, or show key material in an error.

use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use toml::Spanned;

use super::directory::{EapSettings, UnregisteredDevices};
use super::error::ConfigErrorKind as K;
use super::read::normalize;
use super::settings::Cx;
use super::validate::SecretFiles;
use super::wire::WireEap;
use crate::eap::certs::{self, CertError, PemInput};
use crate::eap::conversation::DEFAULT_MAX_CONVERSATIONS;
use crate::eap::{Method, TlsVersion};

/// The private key must be readable by its owner only: these bits must be clear.
const KEY_MODE_FORBIDDEN: u32 = 0o077;

/// The files `[eap]` names: relative to `dir` unless absolute, read through `read`.
pub(super) struct Files<'a> {
    pub(super) dir: &'a Path,
    pub(super) read: SecretFiles<'a>,
}

/// One file named by a key of `[eap]`, read.
struct Named {
    at: usize,
    path: String,
    text: Vec<u8>,
}

/// Validates `[eap]` (its table starts at `at`); `None` when anything is wrong (recorded).
pub(super) fn eap(
    cx: &mut Cx<'_>,
    at: usize,
    w: WireEap,
    files: &Files<'_>,
    now: Timestamp,
) -> Option<EapSettings> {
    let errors_before = cx.errors.len();
    let methods = methods(cx, at, w.methods.as_ref(), w.client_ca.is_some());
    let versions = tls_versions(cx, w.tls_versions.as_ref());
    let unregistered = unregistered_devices(cx, w.unregistered_devices.as_ref());
    let max_conversations = match &w.max_conversations {
        None => DEFAULT_MAX_CONVERSATIONS,
        Some(n) => match usize::try_from(*n.get_ref()) {
            Ok(v) if v >= 1 => v,
            _ => {
                cx.err(
                    n.span().start,
                    K::TooSmall {
                        key: "max_conversations",
                        min: 1,
                        value: *n.get_ref(),
                    },
                );
                1
            }
        },
    };
    let certificate = named(cx, at, "certificate", w.certificate.as_ref(), files, false);
    let private_key = named(cx, at, "private_key", w.private_key.as_ref(), files, true);
    let tls_offered = methods.contains(&Method::Tls);
    let client_ca = match (&w.client_ca, tls_offered) {
        (Some(_), _) => named(cx, at, "client_ca", w.client_ca.as_ref(), files, false),
        (None, true) => {
            let at = w.methods.as_ref().map_or(at, |m| m.span().start);
            cx.err(at, K::ClientCaMissing);
            None
        }
        (None, false) => None,
    };
    let (Some(certificate), Some(private_key)) = (certificate, private_key) else {
        return None;
    };
    if cx.errors.len() != errors_before || (tls_offered && client_ca.is_none()) {
        return None;
    }
    let summary = match certs::check_server_certificate(
        &certificate.text,
        &private_key.text,
        client_ca.as_ref().map(|c| c.text.as_slice()),
        now,
    ) {
        Ok(s) => s,
        Err(problem) => {
            let file = match input_of(&problem) {
                PemInput::Certificate => &certificate,
                PemInput::PrivateKey => &private_key,
                PemInput::ClientCa => client_ca.as_ref().unwrap_or(&certificate),
            };
            let path = file.path.clone();
            cx.err(file.at, K::EapCertificate { path, problem });
            return None;
        }
    };
    let session = match build(
        &methods,
        &versions,
        &certificate,
        &private_key,
        client_ca.as_ref(),
    ) {
        Ok(s) => s,
        Err((file, detail)) => {
            cx.err(
                file.at,
                K::EapTls {
                    path: file.path.clone(),
                    detail,
                },
            );
            return None;
        }
    };
    Some(EapSettings {
        session: Arc::new(session),
        unregistered_devices: unregistered,
        max_conversations,
        certificate_file: normalize(&files.dir.join(&certificate.path)),
        certificate: summary,
    })
}

/// Which file of `[eap]` a certificate problem is about.
fn input_of(e: &CertError) -> PemInput {
    match e {
        CertError::BadPem { input, .. }
        | CertError::NoCertificate { input }
        | CertError::BadCertificate { input, .. }
        | CertError::Expired { input, .. }
        | CertError::NotYetValid { input, .. } => *input,
        CertError::NoPrivateKey | CertError::UnsupportedKey { .. } | CertError::KeyMismatch => {
            PemInput::PrivateKey
        }
        CertError::NotACa { .. } => PemInput::ClientCa,
        CertError::NoServerAuth { .. }
        | CertError::BadName { .. }
        | CertError::BadDate { .. }
        | CertError::Generate { .. } => PemInput::Certificate,
    }
}

/// The rustls configurations and the session settings. Errors name the file to blame.
fn build<'n>(
    methods: &[Method],
    versions: &[TlsVersion],
    certificate: &'n Named,
    private_key: &'n Named,
    client_ca: Option<&'n Named>,
) -> Result<crate::eap::Settings, (&'n Named, String)> {
    let chain = certs::parse_certificates(&certificate.text, PemInput::Certificate)
        .map_err(|e| (certificate, e.to_string()))?;
    let key =
        || certs::parse_private_key(&private_key.text).map_err(|e| (private_key, e.to_string()));
    let tunnel = if methods.iter().any(|m| *m != Method::Tls) {
        Some(
            crate::eap::server_config(chain.clone(), key()?, versions, None)
                .map_err(|e| (certificate, e.to_string()))?,
        )
    } else {
        None
    };
    let client_auth = match client_ca {
        Some(ca) if methods.contains(&Method::Tls) => {
            let cas = certs::parse_certificates(&ca.text, PemInput::ClientCa)
                .map_err(|e| (ca, e.to_string()))?;
            Some(
                crate::eap::server_config(chain, key()?, versions, Some(&cas))
                    .map_err(|e| (ca, e.to_string()))?,
            )
        }
        _ => None,
    };
    crate::eap::Settings::new(methods.to_vec(), tunnel, client_auth)
        .map_err(|e| (certificate, e.to_string()))
}

/// Reads the file a key names; a private key that group or others can read is refused.
fn named(
    cx: &mut Cx<'_>,
    section_at: usize,
    key: &'static str,
    value: Option<&Spanned<String>>,
    files: &Files<'_>,
    private: bool,
) -> Option<Named> {
    let Some(value) = value else {
        cx.err(section_at, K::MissingKey { key: key.into() });
        return None;
    };
    let at = value.span().start;
    let path = value.get_ref().clone();
    let unreadable = |detail: String| K::EapFileUnreadable {
        key,
        path: path.clone(),
        detail,
    };
    if private {
        match files.read.mode(&path) {
            Ok(Some(mode)) if mode & KEY_MODE_FORBIDDEN != 0 => {
                cx.err(
                    at,
                    K::PrivateKeyReadable {
                        path: path.clone(),
                        mode,
                    },
                );
                return None;
            }
            Ok(_) => {}
            Err(e) => {
                cx.err(at, unreadable(e.to_string()));
                return None;
            }
        }
    }
    match files.read.read(&path) {
        Ok(text) => Some(Named { at, path, text }),
        Err(e) => {
            cx.err(at, unreadable(e.to_string()));
            None
        }
    }
}

/// The offered methods; without `methods`, PEAP and TTLS, and EAP-TLS when a client CA is
/// configured.
fn methods(
    cx: &mut Cx<'_>,
    at: usize,
    w: Option<&Spanned<Vec<Spanned<String>>>>,
    client_ca: bool,
) -> Vec<Method> {
    let Some(list) = w else {
        let mut all = vec![Method::Peap, Method::Ttls];
        if client_ca {
            all.push(Method::Tls);
        }
        return all;
    };
    if list.get_ref().is_empty() {
        cx.err(list.span().start.max(at), K::NoEapMethods);
        return Vec::new();
    }
    let mut out = Vec::new();
    for m in list.get_ref() {
        let method = match m.get_ref().as_str() {
            "peap" => Method::Peap,
            "ttls" => Method::Ttls,
            "tls" => Method::Tls,
            other => {
                let value = other.to_string();
                cx.err(m.span().start, K::BadEapMethod { value });
                continue;
            }
        };
        if out.contains(&method) {
            let value = m.get_ref().clone();
            cx.err(m.span().start, K::DuplicateEapMethod { value });
        } else {
            out.push(method);
        }
    }
    out
}

fn tls_versions(cx: &mut Cx<'_>, w: Option<&Spanned<Vec<Spanned<String>>>>) -> Vec<TlsVersion> {
    let Some(list) = w else {
        return vec![TlsVersion::V1_2];
    };
    let given: Vec<&str> = list
        .get_ref()
        .iter()
        .map(|v| v.get_ref().as_str())
        .collect();
    match given.as_slice() {
        ["1.2"] => vec![TlsVersion::V1_2],
        ["1.2", "1.3"] | ["1.3", "1.2"] => vec![TlsVersion::V1_2, TlsVersion::V1_3],
        _ => {
            let value = format!("{given:?}");
            cx.err(list.span().start, K::BadTlsVersions { value });
            vec![TlsVersion::V1_2]
        }
    }
}

fn unregistered_devices(cx: &mut Cx<'_>, w: Option<&Spanned<String>>) -> UnregisteredDevices {
    let Some(v) = w else {
        return UnregisteredDevices::default();
    };
    match v.get_ref().as_str() {
        "reject" => UnregisteredDevices::Reject,
        "allow" => UnregisteredDevices::Allow,
        "enrol" => UnregisteredDevices::Enrol,
        other => {
            let value = other.to_string();
            cx.err(v.span().start, K::BadUnregisteredDevices { value });
            UnregisteredDevices::default()
        }
    }
}
