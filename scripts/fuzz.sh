#!/bin/sh
# Fuzzes every parser for a bounded time: scripts/fuzz.sh [SECONDS_PER_TARGET] (default 60).
# With cargo-fuzz and a nightly toolchain: coverage-guided libFuzzer (`cargo fuzz run`), the
# corpus kept in fuzz/corpus/<target>. Without them: the same target bodies (fuzz/bodies.rs)
# in a stable random-mutation loop (tests/it/faults/fuzz.rs, `fuzz_*`): NOT coverage-guided, only
# random and mutated seed inputs. A crash is a bug: fix it and keep the input as a test.
set -eu
cd "$(dirname "$0")/.."
secs="${1:-60}"
targets="radius_decode radius_round_trip dhcp_parse config_load eap_parse"

if rustup toolchain list 2>/dev/null | grep -q '^nightly' && cargo +nightly fuzz --version >/dev/null 2>&1; then
    for t in $targets; do
        echo "== cargo fuzz run $t ($secs s)"
        cargo +nightly fuzz run "$t" -- -max_total_time="$secs"
    done
else
    echo "cargo-fuzz or nightly missing: random-mutation loops instead (not coverage-guided)"
    for t in $targets; do
        echo "== fuzz_$t ($secs s)"
        FUZZ_SECONDS="$secs" cargo test --release --locked --test it -- --ignored --exact \
            "faults::fuzz::fuzz_$t" --nocapture
    done
fi
