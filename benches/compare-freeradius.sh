#!/usr/bin/env bash
# hallpass side by side with FreeRADIUS: the same registered MACs, the same VLAN reply, the
# same load from the same generator (`hallpass load`), each server pinned to core 0 and the
# generator to core 1. Prints one Markdown table. Loopback only; bounded (a few minutes).
#
#   sudo benches/compare-freeradius.sh            # N = 1k, 100k, 1M; 5 s per run
#   SIZES="1000 100000" DURATION=3 benches/compare-freeradius.sh
#
# Needs root for apt-get (FreeRADIUS is installed from Debian's packages if missing) and to
# stop the packaged FreeRADIUS service. Our own FreeRADIUS copy runs from a temporary
# directory with its own ports and `reject_delay = 0`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HALLPASS_GIVEN=${HALLPASS:-}
HALLPASS=${HALLPASS:-$ROOT/target/release/hallpass}
SIZES=${SIZES:-"1000 100000 1000000"}
DURATION=${DURATION:-5}        # seconds per load run
CONCURRENCY=${CONCURRENCY:-64} # requests in flight (closed loop)
RELOADS=${RELOADS:-100}        # SIGHUPs to hallpass under load (at N = 100k)
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
HP_PORT=${HP_PORT:-21812}
HP_METRICS_PORT=${HP_METRICS_PORT:-21819}
FR_PORT=${FR_PORT:-31812}
SECRET=bench-secret-0123456789
TICK=$(getconf CLK_TCK)

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

WORK=$(mktemp -d /tmp/hallpass-vs-freeradius.XXXXXX)
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- prerequisites -------------------------------------------------------------------------
if ! command -v freeradius >/dev/null || ! command -v jq >/dev/null; then
    [ "$(id -u)" = 0 ] || die "freeradius and jq are missing: run as root to install them"
    log "installing freeradius and jq from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q freeradius jq >&2 || {
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q freeradius jq >&2
    }
fi
# The package starts a service on 1812/1813 and 127.0.0.1:18120: stop it (systemd may not run
# here, so also by its pid file). Our copy does not need those ports, but it must not share
# the core with the packaged one.
if [ -f /run/freeradius/freeradius.pid ]; then
    service freeradius stop >/dev/null 2>&1 || true
    pid=$(cat /run/freeradius/freeradius.pid 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
fi
systemctl disable freeradius >/dev/null 2>&1 || true
if [ -z "${HALLPASS_GIVEN:-}" ]; then
    # always: a stale binary from an earlier build would be measured otherwise
    log "building hallpass (release)"
    (cd "$ROOT" && cargo build --release --locked >&2)
fi
FR_VERSION=$(freeradius -v 2>/dev/null | sed -n 's/.*Version \([0-9.]*\).*/\1/p' | head -1)
printf '%s' "$SECRET" >"$WORK/secret"

# --- configurations ------------------------------------------------------------------------
# Two devices per user (hallpass limits devices per user); the MACs are those of
# `hallpass load --macs N`: 3c:22 followed by the 32-bit index. Both servers reply with
# VLAN 20 and Filter-Id "students" (the tests' students group).
write_configs() {
    local n=$1 hp=$WORK/hp-$n fr=$WORK/fr-$n
    mkdir -p "$hp" "$fr/log" "$fr/run"
    # the tests' config (tests/fixtures/hallpass.toml) on fixed ports, with N devices
    HP_SECRET="$SECRET" HP_STATE_DIR=state HP_LOAD_MACS="$n" \
        HP_AUTH_LISTEN="127.0.0.1:$HP_PORT" HP_ACCT_LISTEN="127.0.0.1:$((HP_PORT + 1))" \
        HP_SERVER_EXTRA="metrics_listen = \"127.0.0.1:$HP_METRICS_PORT\"" \
        HP_CLIENT_EXTRA="require_message_authenticator = true" \
        sh "$ROOT/tests/fixtures/config.sh" "$hp"

    # FreeRADIUS: MAB as `authorize { files }` with Auth-Type := Accept per MAC and the same
    # reply attributes; unknown MACs hit DEFAULT Auth-Type := Reject.
    awk -v n="$n" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "3c-22-%02x-%02x-%02x-%02x Auth-Type := Accept\n\tTunnel-Type = VLAN, Tunnel-Medium-Type = IEEE-802, Tunnel-Private-Group-Id = \"20\", Filter-Id = \"students\", Session-Timeout = 43200, Reply-Message = \"Willkommen\"\n\n",
                int(i / 16777216) % 256, int(i / 65536) % 256, int(i / 256) % 256, i % 256
        printf "DEFAULT Auth-Type := Reject\n\tReply-Message = \"Unbekanntes Geraet\"\n"
    }' >"$fr/users"
    cat >"$fr/radiusd.conf" <<EOF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = \${exec_prefix}/sbin
logdir = $fr/log
raddbdir = $fr
radacctdir = $fr/log
name = freeradius
confdir = $fr
modconfdir = $fr
certdir = $fr
cadir = $fr
run_dir = $fr/run
db_dir = $fr
libdir = /usr/lib/freeradius
pidfile = $fr/run/freeradius.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no

log {
    destination = files
    file = $fr/log/radius.log
    auth = no
}

security {
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = yes
}

client localhost {
    ipaddr = 127.0.0.1
    secret = $SECRET
    require_message_authenticator = yes
}

thread pool {
    start_servers = 5
    max_servers = 32
    min_spare_servers = 3
    max_spare_servers = 10
    max_requests_per_server = 0
}

modules {
    files {
        filename = $fr/users
        acctusersfile = $fr/accounting
        preproxy_usersfile = $fr/pre-proxy
    }
}

server default {
    listen {
        type = auth
        ipaddr = 127.0.0.1
        port = $FR_PORT
    }
    authorize {
        files
    }
    authenticate {
    }
}
EOF
    : >"$fr/accounting"
    : >"$fr/pre-proxy"
}

# --- measuring -----------------------------------------------------------------------------
now_ns() { date +%s%N; }
# utime + stime of a process (all threads), in µs
cpu_us() { awk -v t="$TICK" '{ print ($14 + $15) * 1000000 / t }' "/proc/$1/stat"; }
# the same for hallpass's SQLite writer thread alone (the decision log); 0 for FreeRADIUS
writer_us() {
    cat /proc/"$1"/task/*/stat 2>/dev/null |
        awk -v t="$TICK" '$2 == "(hallpass-writer)" { s += $14 + $15 } END { print s * 1000000 / t }'
}
# datagrams the kernel dropped on the server's socket (its receive queue was full)
socket_drops() {
    awk -v port="$(printf ':%04X' "$1")" '$2 ~ port"$" { d += $NF } END { print d + 0 }' /proc/net/udp
}
rss_mb() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
# A counter of the running hallpass's /metrics (bash's /dev/tcp: no HTTP client needed).
hp_metric() {
    local m
    exec 9<>"/dev/tcp/127.0.0.1/$HP_METRICS_PORT" || { echo 0; return; }
    printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&9
    m=$(cat <&9)
    exec 9<&- 9>&-
    awk -v name="$1" '$1 == name { v = $2 } END { print v + 0 }' <<<"$m"
}
# Log rows hallpass dropped (its writer's queue full) and times its writer fell behind in
# the background, summed over the runs.
LOG_DROPPED=0
WRITER_BEHIND=0
count_log_losses() {
    LOG_DROPPED=$((LOG_DROPPED + $(hp_metric hallpass_store_rows_dropped_total)))
    WRITER_BEHIND=$((WRITER_BEHIND + $(hp_metric hallpass_store_writer_behind_total)))
}

# Waits until the server at port $1 answers an Access-Request; sets START_MS to the ms since
# $2 (ns).
wait_answer() {
    local port=$1 t0=$2 limit=$(($(now_ns) + 300 * 1000000000))
    until taskset -c "$LOAD_CPU" "$HALLPASS" load --target "127.0.0.1:$port" \
        --secret-file "$WORK/secret" --macs 1 -n 1 -c 1 --timeout 0.01 -d 1s >/dev/null 2>&1; do
        [ "$(now_ns)" -lt "$limit" ] || die "no answer on port $port after 300 s"
    done
    START_MS=$((($(now_ns) - t0) / 1000000))
}

start_hallpass() {
    local n=$1 t0
    t0=$(now_ns)
    RUST_LOG=info taskset -c "$SERVER_CPU" "$HALLPASS" serve --config "$WORK/hp-$n" \
        2>"$WORK/hp-$n.log" &
    SERVER_PID=$!
    wait_answer "$HP_PORT" "$t0"
}

start_freeradius() {
    local n=$1 t0
    t0=$(now_ns)
    taskset -c "$SERVER_CPU" freeradius -f -d "$WORK/fr-$n" -n radiusd \
        >"$WORK/fr-$n.out" 2>&1 &
    SERVER_PID=$!
    wait_answer "$FR_PORT" "$t0"
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# Runs `hallpass load` against port $1 with extra arguments; prints its JSON report with the
# server's CPU µs per answered request and resident MB added.
measure() {
    local port=$1 cpu0 cpu1 w0 w1 json
    shift
    cpu0=$(cpu_us "$SERVER_PID")
    w0=$(writer_us "$SERVER_PID")
    json=$(taskset -c "$LOAD_CPU" "$HALLPASS" load --target "127.0.0.1:$port" \
        --secret-file "$WORK/secret" --timeout 1 --json "$@" || true)
    cpu1=$(cpu_us "$SERVER_PID")
    w1=$(writer_us "$SERVER_PID")
    jq -c --argjson cpu "$(echo "$cpu1 - $cpu0" | bc -l)" --argjson w "$(echo "$w1 - $w0" | bc -l)" \
        --argjson rss "$(rss_mb "$SERVER_PID")" \
        '. + {cpu_us: (if .answered > 0 then $cpu / .answered else 0 end),
              writer_us: (if .answered > 0 then $w / .answered else 0 end), rss_mb: $rss}' \
        <<<"$json"
}

# hallpass reload: SIGHUP, then the reload_ms of the next "config reloaded" line.
hallpass_reload() {
    local n=$1 before
    before=$(grep -c 'config reloaded' "$WORK/hp-$n.log" || true)
    kill -HUP "$SERVER_PID"
    for _ in $(seq 1 3000); do
        if [ "$(grep -c 'config reloaded' "$WORK/hp-$n.log" || true)" -gt "$before" ]; then
            grep 'config reloaded' "$WORK/hp-$n.log" | tail -1 | sed 's/.*reload_ms=\([0-9]*\).*/\1/'
            return
        fi
        sleep 0.01
    done
    die "hallpass did not reload within 30 s"
}

ROWS=()
row() { ROWS+=("| $(printf '%s | ' "$@")"); }
fmt() { jq -r "$1" <<<"$2"; }
ratio() { echo "scale=3; if ($2 > 0) $1 / $2 else 0" | bc -l | sed 's/^\./0./'; }
r1() { printf '%.1f' "$1"; }

compare() {
    local n=$1 label=$2 start_hp reload_hp start_fr reload_fr hp fr
    shift 2
    log "== N=$n $label: hallpass"
    start_hallpass "$n"
    start_hp=$START_MS
    reload_hp=$(hallpass_reload "$n")
    hp=$(measure "$HP_PORT" -c "$CONCURRENCY" -d "${DURATION}s" --macs "$n" "$@")
    count_log_losses
    stop_server
    log "== N=$n $label: FreeRADIUS $FR_VERSION"
    start_freeradius "$n"
    start_fr=$START_MS
    stop_server
    # FreeRADIUS's HUP re-reads the users file but logs no end; its reload is a restart.
    start_freeradius "$n"
    reload_fr=$START_MS
    fr=$(measure "$FR_PORT" -c "$CONCURRENCY" -d "${DURATION}s" --macs "$n" "$@")
    stop_server
    log "hallpass:   $hp"
    log "FreeRADIUS: $fr"
    local f
    for who in hp fr; do
        local j=${!who} name start reload cpu
        cpu=$(r1 "$(fmt '.cpu_us' "$j")")
        if [ $who = hp ]; then
            name=hallpass start=$start_hp reload=$reload_hp
            cpu="$cpu (log $(r1 "$(fmt '.writer_us' "$j")"))"
        else name="FreeRADIUS" start=$start_fr reload="$reload_fr (restart)"; fi
        row "$label" "$name" "$(fmt '.rate|floor' "$j")" "$(fmt '.p50_us' "$j")" \
            "$(fmt '.p99_us' "$j")" "$cpu" "$(fmt '.rss_mb' "$j")" \
            "$start" "$reload" "$(fmt '.timeouts' "$j")"
    done
    row "$label" "**hallpass/FreeRADIUS**" \
        "**$(ratio "$(fmt .rate "$hp")" "$(fmt .rate "$fr")")**" \
        "$(ratio "$(fmt .p50_us "$hp")" "$(fmt .p50_us "$fr")")" \
        "$(ratio "$(fmt .p99_us "$hp")" "$(fmt .p99_us "$fr")")" \
        "**$(ratio "$(fmt .cpu_us "$hp")" "$(fmt .cpu_us "$fr")")**" \
        "$(ratio "$(fmt .rss_mb "$hp")" "$(fmt .rss_mb "$fr")")" \
        "$(ratio "$start_hp" "$start_fr")" "$(ratio "$reload_hp" "$reload_fr")" ""
    LAST_HP_RATE=$(fmt '.rate|floor' "$hp")
    LAST_FR_RATE=$(fmt '.rate|floor' "$fr")
}

T0=$(now_ns)
for n in $SIZES; do
    log "generating configurations for N=$n"
    write_configs "$n"
done
label_for() { case $1 in 1000) echo 1k ;; 1000000) echo 1M ;; *) echo "$(($1 / 1000))k" ;; esac; }

MID=100000
case " $SIZES " in *" $MID "*) ;; *) MID=$(echo "$SIZES" | awk '{ print $1 }') ;; esac
for n in $SIZES; do
    compare "$n" "$(label_for "$n")"
    if [ "$n" = "$MID" ]; then
        MID_HP_RATE=$LAST_HP_RATE MID_FR_RATE=$LAST_FR_RATE
        compare "$n" "$(label_for "$n"), 10% unknown" --unknown-percent 10
    fi
done

# p99 at half of each server's maximum rate (open loop), and reloads under load.
log "== half rate and reloads at N=$MID"
start_hallpass "$MID"
half_hp=$(measure "$HP_PORT" -r $((MID_HP_RATE / 2)) -d "${DURATION}s" --macs "$MID")
# The generator takes segmented replies coalesced (UDP GRO); on loopback their splitting
# would otherwise run on the server's core. The same run without: what that is worth.
nogro_hp=$(measure "$HP_PORT" -c "$CONCURRENCY" -d "${DURATION}s" --macs "$MID" --no-gro)
# 100 reloads while an open-loop load runs: every request must be answered.
reload_ms=$(hallpass_reload "$MID")
# A reload under load takes longer than an idle one (the core is shared with the load).
span=$(((RELOADS * (reload_ms * 5 / 2 + 100)) / 1000 + 5))
[ "$span" -le 240 ] || span=240
taskset -c "$LOAD_CPU" "$HALLPASS" load --target "127.0.0.1:$HP_PORT" --secret-file "$WORK/secret" \
    --timeout 1 --json -r $((MID_HP_RATE / 4)) -d "${span}s" --macs "$MID" >"$WORK/reload-load.json" || true &
LOAD_PID=$!
done_reloads=0
while [ "$done_reloads" -lt "$RELOADS" ] && kill -0 "$LOAD_PID" 2>/dev/null; do
    hallpass_reload "$MID" >/dev/null
    done_reloads=$((done_reloads + 1))
done
wait "$LOAD_PID" || true
reload_load=$(cat "$WORK/reload-load.json")
reload_drops=$(socket_drops "$HP_PORT")
count_log_losses
stop_server
start_freeradius "$MID"
half_fr=$(measure "$FR_PORT" -r $((MID_FR_RATE / 2)) -d "${DURATION}s" --macs "$MID")
stop_server
ELAPSED=$((($(now_ns) - T0) / 1000000000))

cat <<EOF
hallpass $("$HALLPASS" --version | awk '{ print $2 }') vs FreeRADIUS $FR_VERSION (freeradius -f, files module, reject_delay = 0,
require_message_authenticator = yes on both); server on core $SERVER_CPU, \`hallpass load\` on core $LOAD_CPU,
closed loop with $CONCURRENCY requests in flight for $DURATION s per run; CPU = server utime+stime per answered request
(hallpass: "log" is the part of its SQLite writer thread, which records every decision; FreeRADIUS logs none: auth = no).
FreeRADIUS's reload is a restart (its HUP re-reads the users file but logs no end to time).
Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); total ${ELAPSED} s.

| run | server | requests/s | p50 µs | p99 µs | CPU µs/request | RSS MB | start ms | reload ms | timeouts |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
$(printf '%s\n' "${ROWS[@]}")

Open loop at half of each server's maximum ($(label_for "$MID")): hallpass $(fmt '.rate|floor' "$half_hp")/s p99 $(fmt .p99_us "$half_hp") µs \
(timeouts $(fmt .timeouts "$half_hp")); FreeRADIUS $(fmt '.rate|floor' "$half_fr")/s p99 $(fmt .p99_us "$half_fr") µs (timeouts $(fmt .timeouts "$half_fr")).
$done_reloads hallpass reloads (SIGHUP) during $(fmt .seconds "$reload_load") s of load at $(fmt '.rate|floor' "$reload_load")/s: \
answered $(fmt .answered "$reload_load") of $(fmt .sent "$reload_load"), timeouts $(fmt .timeouts "$reload_load")
(dropped by the kernel on hallpass's full socket queue since its start: $reload_drops).
hallpass decisions of these runs missing from its log (rows dropped on a full writer queue): $LOG_DROPPED; its writer,
which works at background priority while it keeps up, fell behind and returned to normal priority $WRITER_BEHIND times.
The generator sends the requests of one pass with one call (requests of one size as one segmented send, which the
kernel splits into datagrams before the server's socket sees them) and takes replies sent segmented coalesced (UDP GRO).
With \`--no-gro\` (replies read one by one; on loopback the kernel then splits hallpass's replies on the server's core,
counted as its CPU): hallpass $(fmt '.rate|floor' "$nogro_hp")/s, $(r1 "$(fmt '.cpu_us' "$nogro_hp")") µs per request at $(label_for "$MID").
EOF
