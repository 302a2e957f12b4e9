#!/bin/sh
# How fast a legitimate NAS is answered while hallpass drops a flood: the latency half of
# the flood test (tests/it/faults/flood.rs judges that nothing is lost; timed bounds do not
# belong in `cargo test`, where the other tests share the cores).
#
# A release daemon on the tests' config (tests/fixtures/hallpass.toml, 1000 devices) pinned
# to CPU 0; on CPU 1 the legitimate NAS (`hallpass load`, open loop, 1000 MAB requests/s
# for DURATION s) runs once alone ("quiet") and once while two floods run beside it:
# FLOOD requests/s from an unknown address (127.0.0.2; python3) and FLOOD requests/s from
# the known client with a wrong secret (`hallpass load`, forged Message-Authenticators).
# Prints both reports and the p99 beside each other. Fails when the NAS lost a request or
# its p99 under the flood is above LIMIT_US. Loopback only; about 15 s after the build.
#
#   benches/flood-latency.sh                    # FLOOD=10000 DURATION=5 LIMIT_US=5000
#   HALLPASS=target/debug/hallpass benches/flood-latency.sh   # a given binary, no build
set -eu
cd "$(dirname "$0")/.."
FLOOD=${FLOOD:-10000}
DURATION=${DURATION:-5}
LIMIT_US=${LIMIT_US:-5000}
if [ -z "${HALLPASS:-}" ]; then
    cargo build --release --locked --bin hallpass
    HALLPASS=$PWD/target/release/hallpass
fi
command -v python3 >/dev/null 2>&1 || { echo "needs python3 (the stranger's flood)" >&2; exit 1; }
command -v taskset >/dev/null 2>&1 || { echo "needs taskset (util-linux)" >&2; exit 1; }
dir=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

secret="flood-secret-0123456789"
HP_SECRET="$secret" HP_LOAD_MACS=1000 HP_ACCT_LISTEN=none sh tests/fixtures/config.sh "$dir"
RUST_LOG=info taskset -c 0 "$HALLPASS" serve --config "$dir" 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do grep -q "hallpass ready" "$dir/log" && break; sleep 0.1; done
addr=$(sed -n 's/.*auth listener bound addr=\([^ ]*\).*/\1/p' "$dir/log" | head -1)
[ -n "$addr" ] || { cat "$dir/log" >&2; echo "the daemon did not start" >&2; exit 1; }
port=${addr##*:}

# The legitimate NAS: 1000 requests/s, a NAS's 3 s retry timer.
nas() {
    taskset -c 1 "$HALLPASS" load --target "$addr" --secret "$secret" --macs 1000 \
        -r 1000 -d "${DURATION}s" --timeout 3 || true
}
p99() { sed -n 's/.* p99 \([0-9]*\) .*/\1/p' "$1"; }
timeouts() { sed -n 's/.* timeouts \([0-9]*\) .*/\1/p' "$1"; }

echo "== quiet: the NAS alone"
nas | tee "$dir/quiet"

echo "== flood: $FLOOD/s from a stranger and $FLOOD/s forged, beside the NAS"
flood_for=$((DURATION + 2))
taskset -c 1 python3 - "$port" "$FLOOD" "$flood_for" >"$dir/stranger" <<'PY' &
import os, socket, sys, time
port, rate, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 0))
# an Access-Request header with a random authenticator and no attributes
packet = bytes([1, 9, 0, 20]) + os.urandom(16)
start, sent = time.monotonic(), 0
while time.monotonic() - start < seconds:
    due = int((time.monotonic() - start) * rate)
    while sent < due:
        s.sendto(packet, ("127.0.0.1", port))
        sent += 1
    time.sleep(0.0002)
print(sent)
PY
stranger=$!
taskset -c 1 "$HALLPASS" load --target "$addr" --secret "wrong-secret-0123456789" \
    --macs 1000 -r "$FLOOD" -d "${flood_for}s" --timeout 0.01 >"$dir/forged" 2>&1 &
forger=$!
sleep 1
nas | tee "$dir/flood"
wait "$stranger" || true
wait "$forger" || true
echo "stranger's packets sent: $(cat "$dir/stranger"); forged: $(sed -n 's/^sent \([0-9]*\) .*/\1/p' "$dir/forged")"
kill -TERM "$pid"
wait "$pid" || true
pid=""

quiet=$(p99 "$dir/quiet")
flooded=$(p99 "$dir/flood")
lost=$(timeouts "$dir/flood")
echo "p99 of the legitimate NAS: quiet $quiet µs, under the flood $flooded µs (bound $LIMIT_US µs); lost under the flood: $lost"
if [ "$lost" -ne 0 ] || [ "$flooded" -gt "$LIMIT_US" ]; then
    echo "FLOOD LATENCY FAILED"
    exit 1
fi
echo "FLOOD LATENCY OK"
