#!/bin/sh
# Soak test (not part of scripts/test.sh): measures the maximum MAB rate of a release build,
# then runs half of it for SOAK_SECONDS (default 600). Passes when resident memory grows by
# less than 5 % (first sample after 60 s vs the last) and the daemon logs no WARN or ERROR.
# Usage: scripts/soak.sh [SECONDS]
set -eu
cd "$(dirname "$0")/.."
secs="${1:-${SOAK_SECONDS:-600}}"
cargo build --release --locked --bin hallpass
bin="$PWD/target/release/hallpass"
dir="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

secret="soak-secret-0123456789"
# The tests' config (tests/fixtures/hallpass.toml) with the 1000 devices of
# `hallpass load --macs 1000`
HP_SECRET="$secret" HP_LOAD_MACS=1000 sh tests/fixtures/config.sh "$dir"

RUST_LOG=info "$bin" serve --config "$dir" 2>"$dir/log" &
pid=$!
for _ in $(seq 50); do grep -q "auth listener bound" "$dir/log" && break; sleep 0.1; done
addr=$(sed -n 's/.*auth listener bound addr=\([^ ]*\).*/\1/p' "$dir/log" | head -1)
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
# One line per 30 s: where the resident memory is (heap vs. mapped files vs. shared memory),
# so a growth can be told apart from SQLite's mapped WAL index or the page cache.
sample() {
    while kill -0 "$pid" 2>/dev/null; do
        printf '%s %s\n' "$(date +%T)" "$(awk '/^(RssAnon|RssFile|RssShmem)/ { printf "%s %s kB  ", $1, $2 }' "/proc/$pid/status")"
        sleep 30
    done
}

echo "== maximum rate (closed loop, 10 s)"
"$bin" load --target "$addr" --secret "$secret" --macs 1000 -c 64 -d 10s | tee "$dir/max"
max=$(sed -n 's/.* \([0-9]*\) requests\/s.*/\1/p' "$dir/max")
half=$((max / 2))
echo "== soak at $half requests/s for $secs s"
"$bin" load --target "$addr" --secret "$secret" --macs 1000 -r "$half" -d "${secs}s" >"$dir/soak" &
load=$!
sample >"$dir/mem" &
sampler=$!
sleep 60
first=$(rss)
echo "rss after 60 s: $first kB"
# A load that saw timeouts exits non-zero; the verdict below reports them.
wait "$load" || true
last=$(rss)
kill "$sampler" 2>/dev/null || true
echo "== resident memory every 30 s"
cat "$dir/mem"
echo "== database: $(du -sh "$dir/state" | cut -f1)"
cat "$dir/soak"
echo "rss at the end: $last kB"
problems=$(grep -c -E ' (WARN|ERROR) ' "$dir/log" || true)
echo "warnings/errors logged: $problems"
grep -E ' (WARN|ERROR) ' "$dir/log" | head -5 || true
limit=$((first + first / 20))
if [ "$last" -ge "$limit" ] || [ "$problems" -ne 0 ] || grep -q 'timeouts [1-9]' "$dir/soak"; then
    echo "SOAK FAILED"
    exit 1
fi
echo "SOAK OK: rss $first -> $last kB (< +5 %), no warnings, no timeouts"
