use super::*;
use proptest::prelude::*;

#[test]
fn parses_flags_length_and_payload() {
    let f = Frame::parse(&[0xc0, 0, 0, 0x07, 0xd0, 1, 2, 3]).unwrap();
    assert!(f.more() && !f.start());
    assert_eq!(f.message_length, Some(2000));
    assert_eq!(f.payload, [1, 2, 3]);
    let start = Frame::parse(&[0x20]).unwrap();
    assert!(start.start() && start.is_ack() && start.version() == 0);
    assert_eq!(Frame::parse(&[0x21]).unwrap().version(), 1);
}

#[test]
fn refuses_malformed_frames() {
    assert_eq!(Frame::parse(&[]), Err(FragmentError::MissingFlags));
    assert_eq!(
        Frame::parse(&[0x80, 0, 0]),
        Err(FragmentError::TruncatedLength(2))
    );
}

#[test]
fn ack_is_empty_without_more() {
    assert!(Frame::parse(&[0x00]).unwrap().is_ack());
    assert!(!Frame::parse(&[0x40]).unwrap().is_ack());
    assert!(!Frame::parse(&[0x00, 22]).unwrap().is_ack());
}

#[test]
fn encodes_with_and_without_length() {
    assert_eq!(encode(FLAG_MORE, Some(3), &[9]), [0xc0, 0, 0, 0, 3, 9]);
    assert_eq!(encode(FLAG_LENGTH, None, &[9]), [0x00, 9]);
}

#[test]
fn max_eap_packet_follows_framed_mtu() {
    assert_eq!(max_eap_packet(1000, None), 1000);
    // What the link takes, up to what keeps the RADIUS packet in one IP packet.
    assert_eq!(max_eap_packet(1000, Some(1500)), MAX_EAP_PACKET_BY_MTU);
    assert_eq!(max_eap_packet(1000, Some(1100)), 1096);
    assert_eq!(max_eap_packet(1400, Some(1300)), 1296);
    assert_eq!(max_eap_packet(1000, Some(20)), MIN_MAX_EAP_PACKET);
}

struct Case {
    frames: &'static [&'static [u8]],
    limit: usize,
    expect: Result<Vec<u8>, FragmentError>,
}

#[test]
fn reassembly_table() {
    let cases = [
        Case {
            frames: &[&[0x00, 1, 2]],
            limit: 10,
            expect: Ok(vec![1, 2]),
        },
        Case {
            frames: &[&[0x80, 0, 0, 0, 2, 1, 2]],
            limit: 10,
            expect: Ok(vec![1, 2]),
        },
        Case {
            frames: &[&[0xc0, 0, 0, 0, 3, 1, 2], &[0x00, 3]],
            limit: 10,
            expect: Ok(vec![1, 2, 3]),
        },
        // Length repeated on every fragment, as some peers do.
        Case {
            frames: &[
                &[0xc0, 0, 0, 0, 3, 1],
                &[0xc0, 0, 0, 0, 3, 2],
                &[0x80, 0, 0, 0, 3, 3],
            ],
            limit: 10,
            expect: Ok(vec![1, 2, 3]),
        },
        // No length at all is tolerated.
        Case {
            frames: &[&[0x40, 1], &[0x00, 2]],
            limit: 10,
            expect: Ok(vec![1, 2]),
        },
        Case {
            frames: &[&[0xc0, 0, 0, 0, 11, 1]],
            limit: 10,
            expect: Err(FragmentError::TooLarge(11)),
        },
        Case {
            frames: &[&[0x40, 1, 2, 3, 4, 5, 6], &[0x00, 1, 2, 3, 4, 5]],
            limit: 10,
            expect: Err(FragmentError::TooLarge(11)),
        },
        Case {
            frames: &[&[0xc0, 0, 0, 0, 3, 1], &[0x00, 2]],
            limit: 10,
            expect: Err(FragmentError::Inconsistent {
                announced: 3,
                actual: 2,
            }),
        },
        Case {
            frames: &[&[0xc0, 0, 0, 0, 2, 1], &[0x40, 2], &[0x00, 3]],
            limit: 10,
            expect: Err(FragmentError::Inconsistent {
                announced: 2,
                actual: 3,
            }),
        },
        Case {
            frames: &[&[0xc0, 0, 0, 0, 3, 1], &[0x80, 0, 0, 0, 4, 2]],
            limit: 10,
            expect: Err(FragmentError::Inconsistent {
                announced: 3,
                actual: 4,
            }),
        },
        Case {
            frames: &[&[0x40]],
            limit: 10,
            expect: Err(FragmentError::EmptyFragment),
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let mut r = Reassembly::new(case.limit);
        let mut result = None;
        for (n, raw) in case.frames.iter().enumerate() {
            let frame = Frame::parse(raw).unwrap();
            match r.push(&frame) {
                Ok(Progress::More) => assert!(n + 1 < case.frames.len(), "case {i}: wants more"),
                Ok(Progress::Complete(data)) => result = Some(Ok(data)),
                Err(e) => result = Some(Err(e)),
            }
            if result.is_some() {
                break;
            }
        }
        assert_eq!(result, Some(case.expect.clone()), "case {i}");
        assert!(!r.in_progress(), "case {i}: reassembly emptied");
    }
}

#[test]
fn outgoing_fragments_fit_and_carry_length_first() {
    let data: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
    let mut out = Outgoing::new(data.clone());
    let mut frames = Vec::new();
    while out.pending() {
        frames.push(out.next_fragment(0, 1000));
    }
    assert_eq!(frames.len(), 3);
    assert!(frames.iter().all(|f| f.len() + 5 <= 1000));
    assert_eq!(&frames[0][..5], &[0xc0, 0, 0, 0x09, 0xc4]);
    assert_eq!(frames[1][0], FLAG_MORE);
    assert_eq!(frames[2][0], 0);
    let joined: Vec<u8> = frames
        .iter()
        .flat_map(|f| Frame::parse(f).unwrap().payload.to_vec())
        .collect();
    assert_eq!(joined, data);
}

#[test]
fn a_short_message_goes_in_one_frame_without_length() {
    let mut out = Outgoing::new(vec![1, 2, 3]);
    assert_eq!(out.next_fragment(1, 1000), [0x01, 1, 2, 3]);
    assert!(!out.pending());
}

proptest! {
    #[test]
    fn fragments_reassemble(data in proptest::collection::vec(any::<u8>(), 1..5000),
            mtu in MIN_MAX_EAP_PACKET..1500usize, version in 0u8..8) {
        let mut out = Outgoing::new(data.clone());
        let mut r = Reassembly::new(DEFAULT_MAX_MESSAGE);
        let mut done = None;
        while out.pending() {
            let raw = out.next_fragment(version, mtu);
            prop_assert!(raw.len() + 5 <= mtu);
            let frame = Frame::parse(&raw).unwrap();
            prop_assert_eq!(frame.version(), version);
            if let Progress::Complete(d) = r.push(&frame).unwrap() {
                done = Some(d);
            }
        }
        prop_assert_eq!(done, Some(data));
    }

    #[test]
    fn parse_and_push_never_panic(frames in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..64), 0..10)) {
        let mut r = Reassembly::new(100);
        for raw in &frames {
            if let Ok(frame) = Frame::parse(raw) {
                let _ = r.push(&frame);
            }
        }
    }
}
