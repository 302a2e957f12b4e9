//! See fuzz/bodies.rs: config_load.
#![no_main]

#[path = "../bodies.rs"]
mod bodies;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    bodies::config_load(data, DIR.get_or_init(bodies::scratch_dir));
});
