//! Test helpers: certificates made with rcgen, and a rustls client as the EAP peer's TLS
//! stack.

use std::io::{Read, Write};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, SanType,
};
use rustls::{ClientConfig, ClientConnection, RootCertStore};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

use super::tls::{TlsVersion, server_config};

pub struct Pki {
    pub ca: CertificateDer<'static>,
    pub server_chain: Vec<CertificateDer<'static>>,
    pub server_key: PrivateKeyDer<'static>,
    pub client_chain: Vec<CertificateDer<'static>>,
    pub client_key: PrivateKeyDer<'static>,
}

fn key_der(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

/// A CA, a server certificate for "radius.schule.example" and a client certificate with
/// the given common name and subject alternative names.
pub fn pki(client_cn: &str, client_sans: Vec<SanType>) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Schule CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let server_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["radius.schule.example".to_string()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = params.signed_by(&server_key, &ca).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, client_cn);
    params.subject_alt_names = client_sans;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = params.signed_by(&client_key, &ca).unwrap();

    Pki {
        ca: ca.der().clone(),
        server_chain: vec![server.der().clone()],
        server_key: key_der(&server_key),
        client_chain: vec![client.der().clone()],
        client_key: key_der(&client_key),
    }
}

impl Pki {
    pub fn server(&self, versions: &[TlsVersion], client_auth: bool) -> Arc<rustls::ServerConfig> {
        let ca = [self.ca.clone()];
        server_config(
            self.server_chain.clone(),
            self.server_key.clone_key(),
            versions,
            client_auth.then_some(&ca[..]),
        )
        .unwrap()
    }

    pub fn client(&self, version: TlsVersion, with_cert: bool) -> ClientConnection {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).unwrap();
        let v = match version {
            TlsVersion::V1_2 => &rustls::version::TLS12,
            TlsVersion::V1_3 => &rustls::version::TLS13,
        };
        let builder =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_protocol_versions(&[v])
                .unwrap()
                .with_root_certificates(roots);
        let config = if with_cert {
            builder
                .with_client_auth_cert(self.client_chain.clone(), self.client_key.clone_key())
                .unwrap()
        } else {
            builder.with_no_client_auth()
        };
        let name = ServerName::try_from("radius.schule.example").unwrap();
        ClientConnection::new(Arc::new(config), name).unwrap()
    }
}

/// Feeds records to the client; returns what it wants to send back.
pub fn client_step(client: &mut ClientConnection, mut records: &[u8]) -> Vec<u8> {
    while !records.is_empty() {
        client.read_tls(&mut records).unwrap();
        client.process_new_packets().unwrap();
    }
    let mut out = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut out).unwrap();
    }
    out
}

/// Like [`client_step`], but a TLS error (e.g. the server's alert) comes back as `None`.
pub fn try_client_step(client: &mut ClientConnection, mut records: &[u8]) -> Option<Vec<u8>> {
    while !records.is_empty() {
        client.read_tls(&mut records).ok()?;
        client.process_new_packets().ok()?;
    }
    Some(client_step(client, &[]))
}

/// Decrypted data the client has received.
pub fn client_plaintext(client: &mut ClientConnection) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match client.reader().read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

pub fn client_send(client: &mut ClientConnection, data: &[u8]) {
    client.writer().write_all(data).unwrap();
}

/// The client's MSK for a method, computed independently of `tls::TlsSession`.
pub fn client_msk(client: &ClientConnection, label: &[u8], context: Option<&[u8]>) -> [u8; 64] {
    let m = client
        .export_keying_material([0u8; 128], label, context)
        .unwrap();
    let mut out = [0u8; 64];
    out.copy_from_slice(&m[..64]);
    out
}
