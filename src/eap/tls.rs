//! The TLS server of the TLS-based methods: a rustls `ServerConnection` driven on in-memory
//! buffers (records in from the peer's reassembled fragments, records out into the next
//! fragments), with the `ring` provider, TLS 1.2 by default and 1.3 when configured, an
//! optional client-certificate verifier for EAP-TLS, and the key export of each method.
//! The server picks the cipher suite in its own order, the cheapest first (AES-128-GCM
//! with SHA-256), and with TLS 1.2 alone the key exchange on P-256.
//!
//! Keys: MSK = the first 64 octets of the exported keying material. TLS 1.2: label "client
//! EAP encryption" for EAP-TLS and PEAP (RFC 5216 section 2.3), "ttls keying material" for
//! TTLS (RFC 5281 section 8), no context. TLS 1.3: label "EXPORTER_EAP_TLS_Key_Material"
//! with the EAP type octet as context, 128 octets (RFC 9190 section 2.3, RFC 9427 section
//! 2.1). MPPE Recv-Key = MSK[0..32], Send-Key = MSK[32..64] (RFC 5216 section 2.3).
//!
//! What it must not do: read files (the caller loads certificates and keys), touch sockets,
//! keep sessions for resumption (a resumed EAP-TLS session would skip the certificate check,
//! so session storage and tickets are off), or look into the application data.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{CipherSuite, RootCertStore, ServerConfig, ServerConnection};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;
use zeroize::Zeroize;

use super::Method;

/// The bound on decrypted application data buffered from the peer.
const MAX_PLAINTEXT: usize = 64 * 1024;

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("TLS configuration refused: {0}")]
    Config(rustls::Error),
    #[error("client CA refused: {0}")]
    ClientCa(String),
    #[error("TLS: {0}")]
    Protocol(rustls::Error),
    #[error("TLS buffer: {0}")]
    Buffer(io::Error),
    #[error("more than {MAX_PLAINTEXT} octets of tunnelled data")]
    PlaintextTooLarge,
    #[error("key export before the handshake finished or failed: {0}")]
    Export(rustls::Error),
    #[error("no TLS version offered")]
    NoVersion,
}

/// The TLS versions hallpass offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    V1_2,
    V1_3,
}

/// The rustls `ServerConfig` for one kind of tunnel, with hallpass's fixed choices.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    versions: &[TlsVersion],
    client_ca: Option<&[CertificateDer<'static>]>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut provider = rustls::crypto::ring::default_provider();
    // The server's order, AES-128-GCM with SHA-256 first: every peer offers it, and its
    // PRF and transcript hash run on the SHA-256 instructions of current processors,
    // where the SHA-384 of the AES-256 suites (which most clients list first) does not.
    provider
        .cipher_suites
        .sort_by_key(|s| sha384_suite(s.suite()));
    if !versions.contains(&TlsVersion::V1_3) {
        // TLS 1.2 takes the group in the client's order, mostly X25519 first; P-256's key
        // generation runs on a precomputed table in ring and costs a fifth of X25519's.
        // Every TLS 1.2 client offers P-256 (TLS 1.3 clients send one key share, mostly
        // X25519, and would need a second round trip without it, so there it stays).
        provider
            .kx_groups
            .retain(|g| g.name() != rustls::NamedGroup::X25519);
    }
    let provider = Arc::new(provider);
    let mut protocol_versions = Vec::new();
    if versions.contains(&TlsVersion::V1_3) {
        protocol_versions.push(&rustls::version::TLS13);
    }
    if versions.contains(&TlsVersion::V1_2) {
        protocol_versions.push(&rustls::version::TLS12);
    }
    if protocol_versions.is_empty() {
        return Err(TlsError::NoVersion);
    }
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&protocol_versions)
        .map_err(TlsError::Config)?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(cas) => builder.with_client_cert_verifier(client_verifier(cas, provider)?),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(TlsError::Config)?;
    config.ignore_client_order = true;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

fn sha384_suite(suite: CipherSuite) -> bool {
    matches!(
        suite,
        CipherSuite::TLS13_AES_256_GCM_SHA384
            | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
            | CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    )
}

fn client_verifier(
    cas: &[CertificateDer<'static>],
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let mut roots = RootCertStore::empty();
    for ca in cas {
        roots
            .add(ca.clone())
            .map_err(|e| TlsError::ClientCa(e.to_string()))?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| TlsError::ClientCa(e.to_string()))
}

/// The Master Session Key; wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Msk([u8; 64]);

impl Msk {
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// MS-MPPE-Recv-Key: the first half of the MSK.
    pub fn mppe_recv_key(&self) -> &[u8] {
        &self.0[..32]
    }

    /// MS-MPPE-Send-Key: the second half of the MSK.
    pub fn mppe_send_key(&self) -> &[u8] {
        &self.0[32..]
    }
}

impl std::fmt::Debug for Msk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msk(..)")
    }
}

impl Drop for Msk {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// One TLS server conversation on in-memory buffers.
pub struct TlsSession {
    conn: ServerConnection,
    plaintext: Vec<u8>,
}

impl std::fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSession")
            .field("handshaking", &self.conn.is_handshaking())
            .finish()
    }
}

impl TlsSession {
    pub fn new(config: Arc<ServerConfig>) -> Result<Self, TlsError> {
        Ok(Self {
            conn: ServerConnection::new(config).map_err(TlsError::Config)?,
            plaintext: Vec::new(),
        })
    }

    /// Feeds one reassembled TLS message from the peer. On a protocol error the alert
    /// rustls queued is still available from [`Self::take_outgoing`].
    pub fn receive(&mut self, mut records: &[u8]) -> Result<(), TlsError> {
        while !records.is_empty() {
            let n = self.conn.read_tls(&mut records).map_err(TlsError::Buffer)?;
            let state = self
                .conn
                .process_new_packets()
                .map_err(TlsError::Protocol)?;
            if state.plaintext_bytes_to_read() > 0 {
                let mut chunk = vec![0; state.plaintext_bytes_to_read()];
                let got = self
                    .conn
                    .reader()
                    .read(&mut chunk)
                    .map_err(TlsError::Buffer)?;
                if self.plaintext.len() + got > MAX_PLAINTEXT {
                    return Err(TlsError::PlaintextTooLarge);
                }
                self.plaintext.extend_from_slice(&chunk[..got]);
            }
            if n == 0 {
                break;
            }
        }
        Ok(())
    }

    /// The records to send to the peer now (empty when there are none).
    pub fn take_outgoing(&mut self) -> Result<Vec<u8>, TlsError> {
        let mut out = Vec::new();
        while self.conn.wants_write() {
            self.conn.write_tls(&mut out).map_err(TlsError::Buffer)?;
        }
        Ok(out)
    }

    /// Decrypted application data received so far, handed over once.
    pub fn take_plaintext(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.plaintext)
    }

    /// Queues application data for the peer; it goes out with [`Self::take_outgoing`].
    pub fn send_plaintext(&mut self, data: &[u8]) -> Result<(), TlsError> {
        self.conn.writer().write_all(data).map_err(TlsError::Buffer)
    }

    pub fn handshake_done(&self) -> bool {
        !self.conn.is_handshaking()
    }

    pub fn version(&self) -> Option<TlsVersion> {
        match self.conn.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::V1_3),
            _ => Some(TlsVersion::V1_2),
        }
    }

    /// The peer's verified certificate chain, leaf first (EAP-TLS only).
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.conn.peer_certificates()
    }

    /// The MSK of `method` for this session.
    pub fn export_msk(&self, method: Method) -> Result<Msk, TlsError> {
        let mut material = [0u8; 128];
        let result = match self.version() {
            Some(TlsVersion::V1_3) => self.conn.export_keying_material(
                &mut material,
                b"EXPORTER_EAP_TLS_Key_Material",
                Some(&[method.eap_type().to_u8()]),
            ),
            _ => {
                let label: &[u8] = match method {
                    Method::Ttls => b"ttls keying material",
                    Method::Peap | Method::Tls => b"client EAP encryption",
                };
                self.conn.export_keying_material(&mut material, label, None)
            }
        };
        let mut msk = [0u8; 64];
        let outcome = result.map(|m| msk.copy_from_slice(&m[..64]));
        material.zeroize();
        outcome.map_err(TlsError::Export)?;
        Ok(Msk(msk))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
