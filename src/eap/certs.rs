//! Certificates for EAP: making a private CA, a server certificate and client certificates
//! (for `hallpass eap make-cert` and the tests), and checking a configured server
//! certificate, private key and client CA before the daemon uses them.
//!
//! What it owns: the profile of the certificates hallpass makes (ECDSA P-256; the CA valid
//! 10 years and allowed to sign end entities only; the server certificate with its DNS names
//! and serverAuth, valid 2 years; client certificates with the user name as CN and
//! clientAuth), and the checks of `[eap]` certificate files with typed errors and the
//! summary `hallpass check` prints.
//!
//! What it must not do: read files (the config loader reads them and names them in its
//! errors), read the clock (`now` is a parameter), or build the TLS configuration (the
//! rustls engine does, from [`parse_certificates`] and [`parse_private_key`]).

use std::fmt;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use zeroize::Zeroizing;

/// Years a CA made by [`make_ca`] is valid.
pub const CA_VALIDITY_YEARS: i16 = 10;
/// Years a server or client certificate made here is valid.
pub const LEAF_VALIDITY_YEARS: i16 = 2;
/// A server certificate that expires sooner than this is flagged by [`check_server_certificate`].
pub const EXPIRY_WARNING: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Which of the configured inputs an error is about, so that the config loader can name the
/// file (`certificate`, `private_key` or `client_ca` of `[eap]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemInput {
    Certificate,
    PrivateKey,
    ClientCa,
}

impl fmt::Display for PemInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PemInput::Certificate => "certificate",
            PemInput::PrivateKey => "private key",
            PemInput::ClientCa => "client CA",
        })
    }
}

/// Everything that can be wrong with EAP certificates, or with making them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// The text is not valid PEM. The reason is fixed text: never a line of the file,
    /// which may be a private key.
    #[error("the {input} is not readable PEM: {reason}")]
    BadPem {
        input: PemInput,
        reason: &'static str,
    },
    /// Valid PEM, but no CERTIFICATE block in it.
    #[error("the {input} file holds no certificate (no BEGIN CERTIFICATE block)")]
    NoCertificate { input: PemInput },
    /// A CERTIFICATE block that is not a valid X.509 certificate.
    #[error("certificate {index} of the {input} is not a valid X.509 certificate: {reason}")]
    BadCertificate {
        input: PemInput,
        index: usize,
        reason: String,
    },
    /// No unencrypted private key block in the key file.
    #[error(
        "the private key file holds no unencrypted private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)"
    )]
    NoPrivateKey,
    /// A private key of a type or curve that cannot be used (Ed25519 and P-256, P-384 and RSA
    /// are supported). The reason never contains key material.
    #[error(
        "the private key cannot be used ({format}): only ECDSA P-256/P-384 and RSA keys are supported"
    )]
    UnsupportedKey { format: &'static str },
    /// The private key is not the one the certificate was issued for.
    #[error("the private key does not belong to the certificate (their public keys differ)")]
    KeyMismatch,
    /// The certificate's validity ended.
    #[error("the {input} {subject} expired at {not_after}")]
    Expired {
        input: PemInput,
        subject: String,
        not_after: Timestamp,
    },
    /// The certificate's validity has not begun.
    #[error("the {input} {subject} is not valid before {not_before}")]
    NotYetValid {
        input: PemInput,
        subject: String,
        not_before: Timestamp,
    },
    /// The server certificate lacks the serverAuth extended key usage that Windows, Android
    /// and Apple supplicants insist on.
    #[error("the certificate {subject} has no serverAuth extended key usage")]
    NoServerAuth { subject: String },
    /// A certificate of the client CA file is not a CA (basicConstraints CA:TRUE).
    #[error("the client CA {subject} is not a CA certificate (basicConstraints CA:TRUE)")]
    NotACa { subject: String },
    /// A name that cannot go into a certificate, or no DNS name for a server certificate.
    #[error("cannot make a certificate for {name:?}: {reason}")]
    BadName { name: String, reason: String },
    /// A date for which no certificate validity can be written.
    #[error("no certificate validity can start at {now}")]
    BadDate { now: Timestamp },
    /// Making or signing a certificate failed.
    #[error("making the certificate failed: {reason}")]
    Generate { reason: String },
}

/// A certificate and its private key as PEM text. The key is wiped on drop and not shown by
/// `Debug`.
#[derive(Clone)]
pub struct CertAndKey {
    pub cert_pem: String,
    pub key_pem: Zeroizing<String>,
}

impl fmt::Debug for CertAndKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertAndKey")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<secret>")
            .finish()
    }
}

fn generate_error(e: rcgen::Error) -> CertError {
    CertError::Generate {
        reason: e.to_string(),
    }
}

/// Validity from the start of `now`'s day (UTC) for `years` years. Whole days keep it
/// simple and put the start safely before `now` on machines whose clocks differ a little.
fn set_validity(
    params: &mut CertificateParams,
    now: Timestamp,
    years: i16,
) -> Result<(), CertError> {
    let bad = || CertError::BadDate { now };
    let start = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let end = start
        .checked_add(i64::from(years).years())
        .map_err(|_| bad())?;
    let (y, m, d) = ymd(start).ok_or_else(bad)?;
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = ymd(end).ok_or_else(bad)?;
    params.not_after = rcgen::date_time_ymd(y, m, d);
    Ok(())
}

/// A date as rcgen takes it; `None` outside years 1..=9999, which rcgen's date type does
/// not promise to take.
fn ymd(date: Date) -> Option<(i32, u8, u8)> {
    if !(1..=9999).contains(&date.year()) {
        return None;
    }
    Some((
        i32::from(date.year()),
        u8::try_from(date.month()).ok()?,
        u8::try_from(date.day()).ok()?,
    ))
}

fn common_name(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}

fn new_key() -> Result<KeyPair, CertError> {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate_error)
}

fn key_and_cert(key: &KeyPair, cert: rcgen::Certificate) -> CertAndKey {
    CertAndKey {
        cert_pem: cert.pem(),
        key_pem: Zeroizing::new(key.serialize_pem()),
    }
}

/// A private CA for the school's EAP certificates: self-signed, CN = `name`, allowed to sign
/// end-entity certificates only, valid [`CA_VALIDITY_YEARS`] from `now`'s day.
pub fn make_ca(name: &str, now: Timestamp) -> Result<CertAndKey, CertError> {
    check_name(name)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params, now, CA_VALIDITY_YEARS)?;
    let key = new_key()?;
    let cert = params.self_signed(&key).map_err(generate_error)?;
    Ok(key_and_cert(&key, cert))
}

/// The issuer for certificates signed by `ca`.
fn issuer(ca: &CertAndKey) -> Result<Issuer<'static, KeyPair>, CertError> {
    let key = key_pair_from_pem(ca.key_pem.as_bytes())?;
    Issuer::from_ca_cert_pem(&ca.cert_pem, key).map_err(generate_error)
}

fn check_name(name: &str) -> Result<(), CertError> {
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(CertError::BadName {
            name: name.to_owned(),
            reason: "empty or with control characters".to_owned(),
        });
    }
    Ok(())
}

/// The RADIUS server's certificate, signed by `ca`: CN = the first DNS name, every name in
/// the subjectAltName, extended key usage serverAuth, valid [`LEAF_VALIDITY_YEARS`] from
/// `now`'s day. Supplicants check the names against what they were told (Android's
/// "domain", wpa_supplicant's `domain_suffix_match`).
pub fn make_server_cert(
    ca: &CertAndKey,
    dns_names: &[&str],
    now: Timestamp,
) -> Result<CertAndKey, CertError> {
    let Some(first) = dns_names.first() else {
        return Err(CertError::BadName {
            name: String::new(),
            reason: "a server certificate needs at least one DNS name".to_owned(),
        });
    };
    for name in dns_names {
        check_name(name)?;
    }
    let names: Vec<String> = dns_names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).map_err(|e| CertError::BadName {
        name: dns_names.join(", "),
        reason: e.to_string(),
    })?;
    params.distinguished_name = common_name(first);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, now, LEAF_VALIDITY_YEARS)?;
    let issuer = issuer(ca)?;
    let key = new_key()?;
    let cert = params.signed_by(&key, &issuer).map_err(generate_error)?;
    Ok(key_and_cert(&key, cert))
}

/// A client certificate for EAP-TLS, signed by `ca`: CN = the user name, extended key usage
/// clientAuth, valid [`LEAF_VALIDITY_YEARS`] from `now`'s day.
pub fn make_client_cert(
    ca: &CertAndKey,
    user_name: &str,
    now: Timestamp,
) -> Result<CertAndKey, CertError> {
    check_name(user_name)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(user_name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, now, LEAF_VALIDITY_YEARS)?;
    let issuer = issuer(ca)?;
    let key = new_key()?;
    let cert = params.signed_by(&key, &issuer).map_err(generate_error)?;
    Ok(key_and_cert(&key, cert))
}

/// What `hallpass check` shows of the configured server certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCertSummary {
    /// The subject, e.g. `CN=radius.school.example`.
    pub subject: String,
    /// The DNS names of the subjectAltName.
    pub dns_names: Vec<String>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// Fewer than 30 days ([`EXPIRY_WARNING`]) of validity left at `now`.
    pub expires_soon: bool,
    /// Certificates after the leaf in the certificate file (its chain).
    pub chain_len: usize,
    /// Subjects of the client CA certificates, if a client CA is configured.
    pub client_ca_subjects: Vec<String>,
}

/// The certificates of a PEM file, in order. Errors: not PEM, no certificate.
pub fn parse_certificates(
    pem: &[u8],
    input: PemInput,
) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::BadPem {
            input,
            reason: pem_reason(&e),
        })?;
    if certs.is_empty() {
        return Err(CertError::NoCertificate { input });
    }
    Ok(certs)
}

/// The first private key of a PEM file: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or
/// PKCS#1 (`RSA PRIVATE KEY`). Encrypted keys are not read.
pub fn parse_private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, CertError> {
    match PrivateKeyDer::from_pem_slice(pem) {
        Ok(key) => Ok(key),
        Err(rustls_pki_types::pem::Error::NoItemsFound) => Err(CertError::NoPrivateKey),
        Err(e) => Err(CertError::BadPem {
            input: PemInput::PrivateKey,
            reason: pem_reason(&e),
        }),
    }
}

fn pem_reason(e: &rustls_pki_types::pem::Error) -> &'static str {
    use rustls_pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { .. } => "a BEGIN line without its END line",
        E::IllegalSectionStart { .. } => "a malformed BEGIN line",
        E::Base64Decode(_) => "invalid base64 between BEGIN and END",
        E::NoItemsFound => "nothing found",
        _ => "unreadable",
    }
}

/// A key pair from any of the three key formats. rcgen (on ring) reads PKCS#8 only, so SEC1
/// and PKCS#1 keys are wrapped into PKCS#8 first (RFC 5208 PrivateKeyInfo; for SEC1 the
/// curve is found by trying P-256 and P-384, and ring checks it against the key's own).
fn key_pair(key: &PrivateKeyDer<'_>) -> Result<KeyPair, CertError> {
    match key {
        PrivateKeyDer::Pkcs8(pkcs8) => {
            KeyPair::try_from(pkcs8).map_err(|_| CertError::UnsupportedKey {
                format: "PKCS#8 key of another type or curve",
            })
        }
        PrivateKeyDer::Pkcs1(rsa) => {
            let wrapped = pkcs8_wrap(&[OID_RSA_ENCRYPTION, &[0x05, 0x00]], rsa.secret_pkcs1_der());
            KeyPair::try_from(&PrivatePkcs8KeyDer::from(wrapped.as_slice())).map_err(|_| {
                CertError::UnsupportedKey {
                    format: "PKCS#1 RSA key ring cannot use",
                }
            })
        }
        PrivateKeyDer::Sec1(ec) => [OID_P256, OID_P384]
            .iter()
            .find_map(|curve| {
                let wrapped = pkcs8_wrap(&[OID_EC_PUBLIC_KEY, curve], ec.secret_sec1_der());
                KeyPair::try_from(&PrivatePkcs8KeyDer::from(wrapped.as_slice())).ok()
            })
            .ok_or(CertError::UnsupportedKey {
                format: "SEC1 EC key on a curve other than P-256/P-384, or without its public key",
            }),
        _ => Err(CertError::UnsupportedKey {
            format: "unknown key format",
        }),
    }
}

fn key_pair_from_pem(pem: &[u8]) -> Result<KeyPair, CertError> {
    key_pair(&parse_private_key(pem)?)
}

/// DER of the OIDs rsaEncryption (1.2.840.113549.1.1.1), id-ecPublicKey (1.2.840.10045.2.1),
/// prime256v1 (1.2.840.10045.3.1.7) and secp384r1 (1.3.132.0.34), tag and length included.
const OID_RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01,
];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
const OID_P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22];

/// PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier, OCTET STRING key }. The
/// result holds the private key and is wiped on drop.
fn pkcs8_wrap(algorithm: &[&[u8]], key: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(vec![0x02, 0x01, 0x00]);
    let alg: Vec<u8> = algorithm.concat();
    der_tlv(&mut body, 0x30, &alg);
    der_tlv(&mut body, 0x04, key);
    let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 4));
    der_tlv(&mut out, 0x30, &body);
    out
}

fn der_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
}

fn parse_x509<'a>(
    der: &'a CertificateDer<'_>,
    input: PemInput,
    index: usize,
) -> Result<X509Certificate<'a>, CertError> {
    match X509Certificate::from_der(der.as_ref()) {
        Ok((_, cert)) => Ok(cert),
        Err(e) => Err(CertError::BadCertificate {
            input,
            index,
            reason: e.to_string(),
        }),
    }
}

fn validity(cert: &X509Certificate<'_>) -> (Timestamp, Timestamp) {
    let v = cert.validity();
    let ts = |secs: i64, fallback: Timestamp| Timestamp::from_second(secs).unwrap_or(fallback);
    (
        ts(v.not_before.timestamp(), Timestamp::MIN),
        ts(v.not_after.timestamp(), Timestamp::MAX),
    )
}

fn check_validity(
    cert: &X509Certificate<'_>,
    input: PemInput,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp), CertError> {
    let (not_before, not_after) = validity(cert);
    if now < not_before {
        return Err(CertError::NotYetValid {
            input,
            subject: cert.subject().to_string(),
            not_before,
        });
    }
    if now > not_after {
        return Err(CertError::Expired {
            input,
            subject: cert.subject().to_string(),
            not_after,
        });
    }
    Ok((not_before, not_after))
}

/// Checks the `[eap]` certificate (leaf first, then its chain), its private key and the
/// optional client CA at `now`, and returns what `hallpass check` shows. Checks, in order:
/// readable PEM with a certificate; a usable private key; the key belongs to the leaf; the
/// leaf is valid at `now`; it has the serverAuth extended key usage; every client CA
/// certificate is a CA and valid at `now`.
pub fn check_server_certificate(
    cert_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: Option<&[u8]>,
    now: Timestamp,
) -> Result<ServerCertSummary, CertError> {
    let chain = parse_certificates(cert_pem, PemInput::Certificate)?;
    let parsed = chain
        .iter()
        .enumerate()
        .map(|(i, der)| parse_x509(der, PemInput::Certificate, i))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(leaf) = parsed.first() else {
        return Err(CertError::NoCertificate {
            input: PemInput::Certificate,
        });
    };

    let key = key_pair_from_pem(key_pem)?;
    // the raw public keys: the EC point, or the PKCS#1 RSAPublicKey, on both sides
    if leaf.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(CertError::KeyMismatch);
    }

    let (not_before, not_after) = check_validity(leaf, PemInput::Certificate, now)?;
    let subject = leaf.subject().to_string();
    let server_auth = matches!(leaf.extended_key_usage(), Ok(Some(eku)) if eku.value.server_auth);
    if !server_auth {
        return Err(CertError::NoServerAuth { subject });
    }
    let dns_names = match leaf.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };

    let mut client_ca_subjects = Vec::new();
    if let Some(pem) = client_ca_pem {
        let cas = parse_certificates(pem, PemInput::ClientCa)?;
        for (i, der) in cas.iter().enumerate() {
            let ca = parse_x509(der, PemInput::ClientCa, i)?;
            if !ca.is_ca() {
                return Err(CertError::NotACa {
                    subject: ca.subject().to_string(),
                });
            }
            check_validity(&ca, PemInput::ClientCa, now)?;
            client_ca_subjects.push(ca.subject().to_string());
        }
    }

    let expires_soon = not_after.duration_since(now) < EXPIRY_WARNING;
    Ok(ServerCertSummary {
        subject,
        dns_names,
        not_before,
        not_after,
        expires_soon,
        chain_len: parsed.len() - 1,
        client_ca_subjects,
    })
}

#[cfg(test)]
mod tests;
