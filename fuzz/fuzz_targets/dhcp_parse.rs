//! Any bytes as a captured frame and as a UDP payload: the DHCP parser must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(obs) = hallpass::dhcp::parse_frame(data) {
        let _ = hallpass::dhcp::classify(&obs);
    }
    if let Ok(obs) = hallpass::dhcp::parse_dhcp(data) {
        let _ = hallpass::dhcp::classify(&obs);
        let _ = obs.fqdn.map(|f| f.name());
    }
});
