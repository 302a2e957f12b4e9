#!/bin/sh
# Live DHCP capture benchmark: the daemon's watcher on one end of a veth pair (in a network
# namespace of its own), examples/dhcp_flood sending DHCPDISCOVER frames from the other end
# at RATE frames/s for DURATION seconds. Prints frames sent, seen by the watcher and dropped
# by the kernel (PACKET_STATISTICS, summed by the watcher).
#
#   sudo benches/dhcp-live.sh                      # 20000 frames/s for 10 s, release build
#   sudo PROFILE=dev RATE=20000 DURATION=10 benches/dhcp-live.sh
#
# Needs root (namespaces, veth, packet sockets) and iproute2. Removes what it made on exit.
set -eu
cd "$(dirname "$0")/.."
RATE=${RATE:-20000}
DURATION=${DURATION:-10}
PROFILE=${PROFILE:-release}
case "$PROFILE" in dev) outdir=debug ;; *) outdir=$PROFILE ;; esac

cargo build --quiet --profile "$PROFILE" --bin hallpass --example dhcp_flood
bin=target/$outdir/hallpass
flood=target/$outdir/examples/dhcp_flood

id=hpb$$
srv=${id}s cli=${id}c vs=${id}vs vc=${id}vc
work=$(mktemp -d)
daemon=
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null || true
    ip netns del "$srv" 2>/dev/null || true
    ip netns del "$cli" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

ip netns add "$srv"
ip netns add "$cli"
ip link add "$vs" netns "$srv" type veth peer name "$vc" netns "$cli"
ip -n "$srv" link set lo up
ip -n "$srv" addr add 10.98.0.1/24 dev "$vs"
ip -n "$srv" link set "$vs" up
ip -n "$cli" link set "$vc" up

mkdir -p "$work/state"
HP_SECRET=bench-secret-0123456789 HP_STATE_DIR="$work/state" HP_ACCT_LISTEN=none \
HP_EXTRA="[dhcp]
interfaces = [\"$vs\"]
trusted_servers = [\"10.98.0.1\"]" sh tests/fixtures/config.sh "$work"
[server]
state_dir = "$work/state"
[radius]
auth_listen = ["127.0.0.1:0"]
acct_listen = []
[[radius.client]]
name = "bench"
address = "127.0.0.1/32"
secret = "bench-secret-0123456789"
module = "wifi"
[dhcp]
interfaces = ["$vs"]
trusted_servers = ["10.98.0.1"]
[[policy.group]]
name = "students"
vlan = 20
EOF

RUST_LOG=info ip netns exec "$srv" "$bin" serve --config "$work" 2> "$work/log" &
daemon=$!
i=0
until grep -q "DHCP watcher capturing" "$work/log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then cat "$work/log" >&2; echo "the watcher did not start" >&2; exit 1; fi
    sleep 0.1
done

echo "profile=$PROFILE rate=$RATE/s duration=${DURATION}s"
ip netns exec "$cli" "$flood" --interface "$vc" --rate "$RATE" --seconds "$DURATION" | tee "$work/flood"
sleep 2
kill -TERM "$daemon"
wait "$daemon" || true
daemon=
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$work/flood")
line=$(grep "DHCP watcher stopped" "$work/log")
val() { echo "$line" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
echo "frames sent:            $sent"
echo "frames seen (watcher):  $(val frames)"
echo "kernel passed:          $(val kernel_packets)"
echo "kernel dropped:         $(val kernel_drops)"
echo "parse errors:           $(val parse_errors)"
echo "sightings not queued:   $(val rows_dropped)"
