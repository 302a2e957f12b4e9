//! See fuzz/bodies.rs: eap_parse.
#![no_main]

#[path = "../bodies.rs"]
mod bodies;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bodies::eap_parse(data);
});
