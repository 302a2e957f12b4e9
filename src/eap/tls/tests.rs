use super::*;
use crate::eap::testing::{client_msk, client_plaintext, client_send, client_step, pki};

fn handshake(
    server: &mut TlsSession,
    client: &mut rustls::ClientConnection,
) -> Result<(), TlsError> {
    let mut to_server = client_step(client, &[]);
    for _ in 0..10 {
        if !to_server.is_empty() {
            server.receive(&to_server)?;
        }
        let to_client = server.take_outgoing()?;
        to_server = client_step(client, &to_client);
        if server.handshake_done() && !client.is_handshaking() && to_server.is_empty() {
            return Ok(());
        }
    }
    panic!("handshake did not finish");
}

#[test]
fn both_sides_export_the_same_keys() {
    let pki = pki("anna", vec![]);
    for version in [TlsVersion::V1_2, TlsVersion::V1_3] {
        let config = pki.server(&[TlsVersion::V1_2, TlsVersion::V1_3], false);
        let mut server = TlsSession::new(config).unwrap();
        let mut client = pki.client(version, false);
        handshake(&mut server, &mut client).unwrap();
        assert_eq!(server.version(), Some(version));
        for method in [Method::Peap, Method::Ttls, Method::Tls] {
            let msk = server.export_msk(method).unwrap();
            let expected = match (version, method) {
                (TlsVersion::V1_2, Method::Ttls) => {
                    client_msk(&client, b"ttls keying material", None)
                }
                (TlsVersion::V1_2, _) => client_msk(&client, b"client EAP encryption", None),
                (TlsVersion::V1_3, m) => client_msk(
                    &client,
                    b"EXPORTER_EAP_TLS_Key_Material",
                    Some(&[m.eap_type().to_u8()]),
                ),
            };
            assert_eq!(msk.as_bytes(), &expected, "{version:?} {method:?}");
            assert_eq!(msk.mppe_recv_key(), &expected[..32]);
            assert_eq!(msk.mppe_send_key(), &expected[32..]);
        }
        // The methods' keys differ from each other.
        assert_ne!(
            server.export_msk(Method::Peap).unwrap(),
            server.export_msk(Method::Ttls).unwrap()
        );
    }
}

#[test]
fn tls12_only_by_default_refuses_a_tls13_client() {
    let pki = pki("anna", vec![]);
    let mut server = TlsSession::new(pki.server(&[TlsVersion::V1_2], false)).unwrap();
    let mut client = pki.client(TlsVersion::V1_3, false);
    let hello = client_step(&mut client, &[]);
    assert!(matches!(server.receive(&hello), Err(TlsError::Protocol(_))));
    // The alert rustls queued still goes out.
    assert!(!server.take_outgoing().unwrap().is_empty());
}

#[test]
fn application_data_flows_both_ways() {
    let pki = pki("anna", vec![]);
    let mut server = TlsSession::new(pki.server(&[TlsVersion::V1_2], false)).unwrap();
    let mut client = pki.client(TlsVersion::V1_2, false);
    handshake(&mut server, &mut client).unwrap();
    server.send_plaintext(b"\x01").unwrap();
    let records = server.take_outgoing().unwrap();
    let _ = client_step(&mut client, &records);
    assert_eq!(client_plaintext(&mut client), b"\x01");
    client_send(&mut client, b"\x01anna");
    let records = client_step(&mut client, &[]);
    server.receive(&records).unwrap();
    assert_eq!(server.take_plaintext(), b"\x01anna");
    assert!(server.take_plaintext().is_empty());
}

#[test]
fn client_certificate_is_verified_when_configured() {
    let pki = pki("anna", vec![]);
    for version in [TlsVersion::V1_2, TlsVersion::V1_3] {
        let config = pki.server(&[TlsVersion::V1_2, TlsVersion::V1_3], true);
        let mut server = TlsSession::new(config.clone()).unwrap();
        let mut client = pki.client(version, true);
        handshake(&mut server, &mut client).unwrap();
        assert_eq!(server.peer_certificates().unwrap()[0], pki.client_chain[0]);

        let mut server = TlsSession::new(config).unwrap();
        let mut client = pki.client(version, false);
        assert!(matches!(
            handshake(&mut server, &mut client),
            Err(TlsError::Protocol(_))
        ));
    }
}

#[test]
fn key_export_needs_a_finished_handshake() {
    let pki = pki("anna", vec![]);
    let server = TlsSession::new(pki.server(&[TlsVersion::V1_2], false)).unwrap();
    assert!(matches!(
        server.export_msk(Method::Peap),
        Err(TlsError::Export(_))
    ));
    assert!(matches!(
        server_config(
            pki.server_chain.clone(),
            pki.server_key.clone_key(),
            &[],
            None
        ),
        Err(TlsError::NoVersion)
    ));
}

#[test]
fn the_server_picks_aes_128_gcm_and_p256_for_tls12_alone() {
    let pki = pki("anna", vec![]);
    for (version, expected) in [
        (
            TlsVersion::V1_2,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ),
        (TlsVersion::V1_3, CipherSuite::TLS13_AES_128_GCM_SHA256),
    ] {
        let config = pki.server(&[TlsVersion::V1_2, TlsVersion::V1_3], false);
        let mut server = TlsSession::new(config).unwrap();
        let mut client = pki.client(version, false);
        // rustls's own client order starts with AES-256-GCM.
        let first = rustls::crypto::ring::default_provider().cipher_suites[0].suite();
        assert_eq!(first, CipherSuite::TLS13_AES_256_GCM_SHA384);
        handshake(&mut server, &mut client).unwrap();
        let suite = client.negotiated_cipher_suite().map(|s| s.suite());
        assert_eq!(suite, Some(expected), "{version:?}");
        // With TLS 1.3 offered, the client's first group (X25519) stays.
        let group = client.negotiated_key_exchange_group().map(|g| g.name());
        assert_eq!(group, Some(rustls::NamedGroup::X25519), "{version:?}");
    }
    // Offering TLS 1.2 alone, the server uses P-256.
    let mut server = TlsSession::new(pki.server(&[TlsVersion::V1_2], false)).unwrap();
    let mut client = pki.client(TlsVersion::V1_2, false);
    handshake(&mut server, &mut client).unwrap();
    let group = client.negotiated_key_exchange_group().map(|g| g.name());
    assert_eq!(group, Some(rustls::NamedGroup::secp256r1));
}
