//! Any bytes as a captured frame and as a UDP payload: the DHCP parser must not panic.
#![no_main]

#[path = "../bodies.rs"]
mod bodies;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bodies::dhcp_parse(data);
});
