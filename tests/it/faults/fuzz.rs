//! The stable fuzzing fallback.
//!
//! `scripts/fuzz.sh` uses cargo-fuzz (coverage-guided libFuzzer) when it is installed. Without
//! it, these run the same target bodies (fuzz/bodies.rs) in a plain random-mutation loop over
//! seed packets and random bytes for FUZZ_SECONDS (default 10): not coverage-guided, but
//! enough to catch shallow panics. Ignored in the normal suite; run with
//! `cargo test --release --test it -- --ignored fuzz_`.

use super::*;

#[path = "../../../fuzz/bodies.rs"]
mod fuzz_bodies;

use rand::Rng as _;

fn mutate(seed: &[u8], rng: &mut impl rand::Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.random_range(1..8) {
        let len = v.len();
        match rng.random_range(0..7) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                v[i] =
                    [0, 1, 2, 0x1f, 0x20, 0x7f, 0x80, 0xff, rng.random()][rng.random_range(0..9)];
            }
            2 => {
                let i = rng.random_range(0..=len);
                let n = rng.random_range(1..40);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                v.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = rng.random_range(0..len);
                let j = rng.random_range(i..=len.min(i + 40));
                v.drain(i..j);
            }
            4 => v.truncate(rng.random_range(0..=len)),
            5 if len >= 4 => {
                // the RADIUS Length field: exact, off by a little, or anything
                let l = match rng.random_range(0..3) {
                    0 => len as u16,
                    1 => (len as u16)
                        .wrapping_add(rng.random_range(0..8))
                        .wrapping_sub(4),
                    _ => rng.random(),
                };
                v[2..4].copy_from_slice(&l.to_be_bytes());
            }
            _ if len > 2 => {
                let i = rng.random_range(0..len - 1);
                let j = rng.random_range(i..len);
                let chunk = v[i..j].to_vec();
                v.splice(j..j, chunk);
            }
            _ => {}
        }
    }
    v
}

fn fuzz_loop(name: &str, seeds: &[Vec<u8>], body: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    let secs = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut rng = rand::rng();
    let mut n = 0u64;
    while Instant::now() < deadline {
        for _ in 0..256 {
            let input = if rng.random_bool(0.1) {
                let len = rng.random_range(0..700);
                (0..len)
                    .map(|_| rand::Rng::random::<u8>(&mut rng))
                    .collect()
            } else {
                mutate(&seeds[rng.random_range(0..seeds.len())], &mut rng)
            };
            if std::panic::catch_unwind(|| body(&input)).is_err() {
                let path = std::env::temp_dir().join(format!("hallpass-crash-{name}-{n}.bin"));
                let _ = std::fs::write(&path, &input);
                panic!("{name}: input {n} panicked; saved to {}", path.display());
            }
            n += 1;
        }
    }
    eprintln!("{name}: {n} inputs in {secs} s, no panic");
}

fn radius_seeds() -> Vec<Vec<u8>> {
    let secret = fuzz_bodies::SECRET_BYTES;
    let mut pap = mab_attrs(MAX_MAC);
    pap.push((
        wire::USER_PASSWORD,
        wire::hide_password(b"Schule2026!", secret, &[3; 16]),
    ));
    pap.push((wire::PROXY_STATE, b"state".to_vec()));
    pap.push((TUNNEL_TYPE, vec![0, 0, 0, 13]));
    pap.push((VENDOR_SPECIFIC, vec![0, 0, 0x37, 0x2b, 1, 4, 0, 0]));
    vec![
        wire::access_request(1, [3; 16], &mab_attrs(MAX_MAC), secret, true),
        wire::access_request(2, [3; 16], &pap, secret, true),
        acct_start(3, "seed"),
        wire::reply(
            wire::ACCESS_ACCEPT,
            &acct_start(4, "x"),
            &[(REPLY_MESSAGE, b"ok".to_vec())],
            secret,
        ),
    ]
}

#[test]
#[ignore = "fuzzing loop; scripts/fuzz.sh runs it"]
fn fuzz_radius_decode() {
    fuzz_loop("radius_decode", &radius_seeds(), fuzz_bodies::radius_decode);
}

#[test]
#[ignore = "fuzzing loop; scripts/fuzz.sh runs it"]
fn fuzz_radius_round_trip() {
    fuzz_loop(
        "radius_round_trip",
        &radius_seeds(),
        fuzz_bodies::radius_round_trip,
    );
}

#[test]
#[ignore = "fuzzing loop; scripts/fuzz.sh runs it"]
fn fuzz_dhcp_parse() {
    let mut bootp = vec![1u8, 1, 6, 0];
    bootp.resize(236, 0);
    bootp.extend_from_slice(&[99, 130, 83, 99, 53, 1, 1, 12, 4, b'h', b'o', b's', b't']);
    bootp.extend_from_slice(&[
        55, 3, 1, 3, 6, 61, 7, 1, 0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56, 255,
    ]);
    fuzz_loop("dhcp_parse", &[bootp], fuzz_bodies::dhcp_parse);
}

#[test]
#[ignore = "fuzzing loop; scripts/fuzz.sh runs it"]
fn fuzz_config_load() {
    let cfg = TestConfig::new("", "");
    school(&cfg);
    let mut seeds = Vec::new();
    for (i, f) in ["hallpass.toml", "users.toml", "devices.toml", "bans.toml"]
        .iter()
        .enumerate()
    {
        let mut s = vec![i as u8];
        s.extend_from_slice(&std::fs::read(cfg.path().join(f)).unwrap());
        seeds.push(s);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    fuzz_loop("config_load", &seeds, move |d| {
        fuzz_bodies::config_load(d, &path)
    });
}

#[test]
#[ignore = "fuzzing loop; scripts/fuzz.sh runs it"]
fn fuzz_eap_parse() {
    // An EAP-Response/Identity, a PEAP start with the L flag, an EAP-MSCHAPv2 Response
    // (opcode 2, MS-Length 54, value size 49) and a TTLS User-Name AVP (code 1, M flag).
    let identity = vec![
        2, 1, 0, 14, 1, b'a', b'n', b'o', b'n', b'y', b'm', b'o', b'u', b's',
    ];
    let peap = vec![2, 2, 0, 12, 25, 0x80, 0, 0, 0, 2, 0x16, 3];
    let mut mschap = vec![2, 7, 0, 54, 49];
    mschap.extend_from_slice(&[0x11; 16]);
    mschap.extend_from_slice(&[0; 8]);
    mschap.extend_from_slice(&[0x22; 24]);
    mschap.extend_from_slice(&[0, b'm', b'a', b'x', b'.']);
    let avp = vec![0, 0, 0, 1, 0x40, 0, 0, 12, b'm', b'a', b'x', 0];
    fuzz_loop(
        "eap_parse",
        &[identity, peap, mschap, avp],
        fuzz_bodies::eap_parse,
    );
}
