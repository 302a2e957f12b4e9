//! The published vectors of RFC 2759 section 9.2 and RFC 3079 section 3.5.3, and property
//! tests of the packet codec.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;

use super::*;

fn unhex<const N: usize>(s: &str) -> [u8; N] {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert_eq!(digits.len(), 2 * N, "{s}");
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).unwrap();
        *o = u8::from_str_radix(text, 16).unwrap();
    }
    out
}

// RFC 2759 section 9.2, "Hash Example"
const USER: &[u8] = b"User";
const PASSWORD: &str = "clientPass";
fn authenticator_challenge() -> [u8; 16] {
    unhex("5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28")
}
fn peer_challenge() -> [u8; 16] {
    unhex("21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E")
}
fn nt_response() -> [u8; 24] {
    unhex("82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF")
}
const AUTHENTICATOR_RESPONSE: &str = "S=407A5589115FD0D6209F510FE9C04566932CDA56";

#[test]
fn rfc2759_hash_example() {
    let hash = NtHash::from_password(PASSWORD);
    assert_eq!(
        hash.as_bytes(),
        &unhex::<16>("44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE")
    );
    assert_eq!(
        *hash.hash_hash(),
        unhex::<16>("41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F")
    );
    let challenge = challenge_hash(&peer_challenge(), &authenticator_challenge(), USER);
    assert_eq!(challenge, unhex::<8>("D0 2E 43 86 BC E9 12 26"));
    assert_eq!(challenge_response(&challenge, &hash), nt_response());
    assert_eq!(
        generate_nt_response(&authenticator_challenge(), &peer_challenge(), USER, &hash),
        nt_response()
    );
    let auth = generate_authenticator_response(
        &hash,
        &nt_response(),
        &peer_challenge(),
        &authenticator_challenge(),
        USER,
    );
    assert_eq!(auth.to_string(), AUTHENTICATOR_RESPONSE);
}

#[test]
fn verify_accepts_the_right_password_only() {
    let hash = NtHash::from_password(PASSWORD);
    let auth = verify_nt_response(
        &hash,
        &authenticator_challenge(),
        &peer_challenge(),
        USER,
        &nt_response(),
    );
    assert_eq!(
        auth.map(|a| a.to_string()).as_deref(),
        Some(AUTHENTICATOR_RESPONSE)
    );

    let wrong = NtHash::from_password("clientPasS");
    let args = (&authenticator_challenge(), &peer_challenge());
    assert_eq!(
        verify_nt_response(&wrong, args.0, args.1, USER, &nt_response()),
        None
    );
    assert_eq!(
        verify_nt_response(&hash, args.0, args.1, b"user", &nt_response()),
        None
    );
    for i in 0..24 {
        let mut flipped = nt_response();
        flipped[i] ^= 0x01;
        assert_eq!(
            verify_nt_response(&hash, args.0, args.1, USER, &flipped),
            None,
            "octet {i}"
        );
    }
    let mut other_challenge = authenticator_challenge();
    other_challenge[15] ^= 0x80;
    assert_eq!(
        verify_nt_response(&hash, &other_challenge, args.1, USER, &nt_response()),
        None
    );
}

#[test]
fn domain_is_not_part_of_the_challenge() {
    assert_eq!(challenge_user_name(b"SCHOOL\\User"), b"User");
    assert_eq!(challenge_user_name(b"User"), b"User");
    assert_eq!(challenge_user_name(b"a\\b\\c"), b"b\\c");
    assert_eq!(challenge_user_name(b"trailing\\"), b"");
    let hash = NtHash::from_password(PASSWORD);
    let name = challenge_user_name(b"SCHOOL\\User");
    assert!(
        verify_nt_response(
            &hash,
            &authenticator_challenge(),
            &peer_challenge(),
            name,
            &nt_response()
        )
        .is_some()
    );
}

#[test]
fn non_ascii_passwords_hash_as_utf16le() {
    // "€" is U+20AC (AC 20 in UTF-16LE), "😀" U+1F600 is the surrogate pair D83D DE00
    // (3D D8 00 DE): the hash is MD4 of exactly those octets
    let expected: [u8; 16] = Md4::digest([0xAC, 0x20, 0x3D, 0xD8, 0x00, 0xDE]).into();
    assert_eq!(NtHash::from_password("€😀").as_bytes(), &expected);
}

#[test]
fn nt_hash_from_hex() {
    let hash = NtHash::from_hex("44ebba8d5312b8d611474411f56989AE").unwrap();
    assert_eq!(hash.as_bytes(), NtHash::from_password(PASSWORD).as_bytes());
    for bad in [
        "",
        "44ebba8d5312b8d611474411f56989a",
        "44ebba8d5312b8d611474411f56989aeff",
        "g4ebba8d5312b8d611474411f56989ae",
        "44ebba8d5312b8d6 1474411f56989ae",
    ] {
        assert_eq!(
            NtHash::from_hex(bad).err(),
            Some(MsChapError::BadNtHash),
            "{bad}"
        );
    }
    // multi-byte characters of the right byte length are refused, not sliced
    assert_eq!(
        NtHash::from_hex("ääääääääääääääää").err(),
        Some(MsChapError::BadNtHash)
    );
}

#[test]
fn nt_hash_debug_hides_the_secret() {
    let hash = NtHash::from_password(PASSWORD);
    let shown = format!("{hash:?}");
    assert!(!shown.to_ascii_lowercase().contains("44eb"), "{shown}");
    assert_eq!(shown, "NtHash(<secret>)");
    let keys = ServerStartKeys::derive(&hash, &nt_response());
    assert_eq!(format!("{keys:?}"), "ServerStartKeys(<secret>)");
}

// RFC 3079 section 3.5.3, "Sample Key Derivations" for a 128-bit key, on the RFC 2759
// inputs above
#[test]
fn rfc3079_master_and_start_keys() {
    let hash = NtHash::from_password(PASSWORD);
    let master = master_key(&hash, &nt_response());
    assert_eq!(
        *master,
        unhex::<16>("FD EC E3 71 7A 8C 83 8C B3 88 E5 27 AE 3C DD 31")
    );
    let send_start_key_128 = unhex::<16>("8B 7C DC 14 9B 99 3A 1B A1 18 CB 15 3F 56 DC CB");
    // the server's send key is the client's receive key
    assert_eq!(
        *asymmetric_start_key(&master, true, true),
        send_start_key_128
    );
    assert_eq!(
        *asymmetric_start_key(&master, false, false),
        send_start_key_128
    );
    // and the other direction is the other magic
    let server_receive = asymmetric_start_key(&master, false, true);
    assert_eq!(*server_receive, *asymmetric_start_key(&master, true, false));
    assert_ne!(*server_receive, send_start_key_128);

    let keys = ServerStartKeys::derive(&hash, &nt_response());
    assert_eq!(*keys.send, send_start_key_128);
    assert_eq!(*keys.receive, *server_receive);
    let material = keys.key_material();
    assert_eq!(material[..16], server_receive[..]);
    assert_eq!(material[16..], send_start_key_128[..]);
}

#[test]
fn success_and_failure_messages() {
    let auth = AuthenticatorResponse::from_text(AUTHENTICATOR_RESPONSE.as_bytes()).unwrap();
    assert_eq!(
        success_message(&auth, "Willkommen"),
        "S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Willkommen"
    );
    assert_eq!(
        AuthenticatorResponse::from_text(success_message(&auth, "x").as_bytes()),
        Some(auth)
    );
    assert_eq!(
        AuthenticatorResponse::from_text(b"s=407a5589115fd0d6209f510fe9c04566932cda56"),
        None,
        "the prefix is upper case"
    );
    assert_eq!(
        AuthenticatorResponse::from_text(b"S=407a5589115fd0d6209f510fe9c04566932cda56"),
        Some(auth)
    );
    assert_eq!(AuthenticatorResponse::from_text(b"S=407A"), None);
    assert_eq!(
        AuthenticatorResponse::from_text(b"S=407A5589115FD0D6209F510FE9C04566932CDAZZ"),
        None
    );
    assert_eq!(
        failure_message(&authenticator_challenge(), "Falsches Passwort"),
        "E=691 R=0 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 M=Falsches Passwort"
    );
}

#[test]
fn decodes_a_challenge_and_a_response() {
    // a Challenge as hostapd sends it: id 7, the RFC challenge, server name "hallpass"
    let mut body = vec![1, 7, 0, 29, 16];
    body.extend_from_slice(&authenticator_challenge());
    body.extend_from_slice(b"hallpass");
    assert_eq!(
        MsChapPacket::decode(&body),
        Ok(MsChapPacket::Challenge {
            id: 7,
            challenge: authenticator_challenge(),
            name: b"hallpass"
        })
    );

    let mut body = vec![2, 7, 0, 58, 49];
    body.extend_from_slice(&peer_challenge());
    body.extend_from_slice(&[0xAA; 8]); // reserved: ignored
    body.extend_from_slice(&nt_response());
    body.push(0);
    body.extend_from_slice(b"User");
    assert_eq!(
        MsChapPacket::decode(&body),
        Ok(MsChapPacket::Response {
            id: 7,
            peer_challenge: peer_challenge(),
            nt_response: nt_response(),
            flags: 0,
            name: b"User"
        })
    );

    assert_eq!(MsChapPacket::decode(&[3]), Ok(MsChapPacket::SuccessAck));
    assert_eq!(MsChapPacket::decode(&[4]), Ok(MsChapPacket::FailureAck));
    assert_eq!(
        MsChapPacket::decode(b"\x03\x08\x00\x06S="),
        Ok(MsChapPacket::Success {
            id: 8,
            message: b"S="
        })
    );
}

#[test]
fn decode_errors() {
    use MsChapError as E;
    assert_eq!(MsChapPacket::decode(&[]), Err(E::Empty));
    assert_eq!(
        MsChapPacket::decode(&[5, 1, 0, 4]),
        Err(E::UnknownOpCode { opcode: 5 })
    );
    assert_eq!(
        MsChapPacket::decode(&[2]),
        Err(E::Truncated {
            opcode: 2,
            len: 1,
            needed: 5
        })
    );
    assert_eq!(
        MsChapPacket::decode(&[3, 1, 0]),
        Err(E::Truncated {
            opcode: 3,
            len: 3,
            needed: 4
        })
    );
    assert_eq!(
        MsChapPacket::decode(&[3, 1, 0, 9, b'S']),
        Err(E::LengthMismatch {
            ms_length: 9,
            len: 5
        })
    );
    let mut body = vec![1, 1, 0, 21, 15];
    body.extend_from_slice(&[0; 16]);
    assert_eq!(
        MsChapPacket::decode(&body),
        Err(E::BadValueSize {
            opcode: 1,
            value_size: 15
        })
    );
    assert_eq!(
        MsChapPacket::decode(&[2, 1, 0, 10, 49, 0, 0, 0, 0, 0]),
        Err(E::Truncated {
            opcode: 2,
            len: 10,
            needed: 54
        })
    );
    assert_eq!(
        MsChapPacket::decode(&[7, 1, 0, 4]),
        Err(E::Truncated {
            opcode: 7,
            len: 4,
            needed: 586
        })
    );
}

#[test]
fn change_password_round_trip() {
    let encrypted_password = [0x5Au8; ENCRYPTED_PASSWORD_LEN];
    let packet = MsChapPacket::ChangePassword {
        id: 9,
        encrypted_password: &encrypted_password,
        encrypted_hash: [1; 16],
        peer_challenge: peer_challenge(),
        nt_response: nt_response(),
        flags: 0,
    };
    let mut out = Vec::new();
    packet.encode(&mut out).unwrap();
    assert_eq!(out.len(), 586);
    assert_eq!(&out[..4], &[7, 9, 0x02, 0x4A]);
    assert_eq!(MsChapPacket::decode(&out), Ok(packet));
}

#[test]
fn encode_refuses_what_ms_length_cannot_carry() {
    let message = vec![b'x'; 65532];
    let packet = MsChapPacket::Failure {
        id: 1,
        message: &message,
    };
    let mut out = vec![0xEE];
    assert_eq!(
        packet.encode(&mut out),
        Err(MsChapError::TooLong { len: 65536 })
    );
    assert_eq!(out, [0xEE], "nothing written on error");
    let packet = MsChapPacket::Failure {
        id: 1,
        message: &message[1..],
    };
    packet.encode(&mut out).unwrap();
    assert_eq!(out.len(), 1 + 65535);
}

fn arb_packet(bytes: &[u8]) -> impl Strategy<Value = MsChapPacket<'_>> + '_ {
    let name = move |n: usize| &bytes[..n.min(bytes.len())];
    prop_oneof![
        (any::<u8>(), any::<[u8; 16]>(), 0..64usize).prop_map(move |(id, challenge, n)| {
            MsChapPacket::Challenge {
                id,
                challenge,
                name: name(n),
            }
        }),
        (
            any::<u8>(),
            any::<[u8; 16]>(),
            any::<[u8; 24]>(),
            any::<u8>(),
            0..64usize
        )
            .prop_map(move |(id, peer_challenge, nt_response, flags, n)| {
                MsChapPacket::Response {
                    id,
                    peer_challenge,
                    nt_response,
                    flags,
                    name: name(n),
                }
            }),
        (any::<u8>(), 0..64usize).prop_map(move |(id, n)| MsChapPacket::Success {
            id,
            message: name(n)
        }),
        (any::<u8>(), 0..64usize).prop_map(move |(id, n)| MsChapPacket::Failure {
            id,
            message: name(n)
        }),
        Just(MsChapPacket::SuccessAck),
        Just(MsChapPacket::FailureAck),
    ]
}

static NAME_BYTES: [u8; 64] = *b"anna.schmidt@schule.example\\with some more octets 0123456789abcd";

proptest! {
    #[test]
    fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = MsChapPacket::decode(&body);
    }

    #[test]
    fn decode_never_panics_with_a_valid_header(
        opcode in prop_oneof![Just(1u8), Just(2), Just(3), Just(4), Just(7)],
        id in any::<u8>(),
        rest in proptest::collection::vec(any::<u8>(), 0..700),
    ) {
        let len = rest.len() + 4;
        let mut body = vec![opcode, id];
        body.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
        body.extend_from_slice(&rest);
        if let Ok(packet) = MsChapPacket::decode(&body) {
            prop_assert_eq!(packet.encoded_len(), body.len());
        }
    }

    #[test]
    fn encode_then_decode_round_trips(packet in arb_packet(&NAME_BYTES)) {
        let mut out = Vec::new();
        packet.encode(&mut out).unwrap();
        prop_assert_eq!(out.len(), packet.encoded_len());
        prop_assert_eq!(MsChapPacket::decode(&out), Ok(packet));
    }

    #[test]
    fn verify_round_trips_generated_responses(
        password in "\\PC{0,20}",
        user in proptest::collection::vec(any::<u8>(), 0..40),
        auth_challenge in any::<[u8; 16]>(),
        peer in any::<[u8; 16]>(),
    ) {
        let hash = NtHash::from_password(&password);
        let response = generate_nt_response(&auth_challenge, &peer, &user, &hash);
        let auth = verify_nt_response(&hash, &auth_challenge, &peer, &user, &response);
        prop_assert_eq!(
            auth,
            Some(generate_authenticator_response(&hash, &response, &peer, &auth_challenge, &user))
        );
    }
}
