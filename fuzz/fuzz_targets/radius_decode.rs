//! See fuzz/bodies.rs: radius_decode.
#![no_main]

#[path = "../bodies.rs"]
mod bodies;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bodies::radius_decode(data);
});
