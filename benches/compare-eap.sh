#!/usr/bin/env bash
# hallpass and FreeRADIUS side by side on full PEAP-MSCHAPv2 logins: the same ECDSA P-256
# certificates (made by `hallpass eap make-cert`), the same account, four eapol_test processes
# with `-r 24` each (25 logins each) (every login a full TLS handshake: no session resumption on either side),
# the server pinned to core 0 and the clients to core 1. Both servers run at once and take
# the load in turn, REPEAT times (A B A B ...), so that a drift of the machine's speed hits
# both alike; the table gives each figure's median and range, and the ratio's median and
# range pair by pair. Reports CPU ms per login from /proc/PID/stat, the server's wake-ups
# per login (voluntary context switches of all its threads), a floor (a UDP echo server,
# examples/echo_floor.rs, answering as many datagrams per login at the same average pace:
# what the kernel's receiving, waking and sending alone cost on this machine), and
# hallpass's MAB throughput (`hallpass load`) alone and while the EAP load runs. Prints one
# Markdown table. Loopback only; bounded (a few minutes).
#
#   sudo benches/compare-eap.sh
#   sudo ROUNDS=99 REPEAT=5 benches/compare-eap.sh  # 400 logins a run (docs/eap.md's table)
#   SERVERS=freeradius benches/compare-eap.sh       # only one side ("hallpass freeradius")
#
# Needs root for apt-get (freeradius, eapoltest, jq, bc from Debian's packages if missing).
# Our own FreeRADIUS copy runs from a temporary directory with its own port, `reject_delay = 0`,
# `use_tunneled_reply = yes`, `fragment_size = 1300` (what hallpass sends when the NAS gives
# a Framed-MTU, as eapol_test does: both servers then need the same eight Access-Challenges
# per login) and a realm with a dot (its filter_username policy rejects `anonymous@school`).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HALLPASS_GIVEN=${HALLPASS:-}
HALLPASS=${HALLPASS:-$ROOT/target/release/hallpass}
SERVERS=${SERVERS:-"hallpass freeradius"}
CLIENTS=${CLIENTS:-4}           # eapol_test processes
ROUNDS=${ROUNDS:-24}            # logins per process (eapol_test -r)
REPEAT=${REPEAT:-3}             # runs of each server, in turn
MAB_DURATION=${MAB_DURATION:-5} # seconds of `hallpass load` per MAB run
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
HP_PORT=${HP_PORT:-22812}
FR_PORT=${FR_PORT:-32812}
FLOOR_PORT=${FLOOR_PORT:-42812}
ROUNDS_PER_LOGIN=8              # a PEAP-MSCHAPv2 login: 7 Access-Challenges and the Accept
SECRET=bench-secret-0123456789
USER_NAME=anna.schmidt
PASSWORD='Pausenhof-2026!'
MAC=3c:22:fb:12:34:56
DOMAIN=radius.school.example
TICK=$(getconf CLK_TCK)

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

WORK=$(mktemp -d /tmp/hallpass-eap-bench.XXXXXX)
declare -A PID
cleanup() {
    local p
    for p in "${PID[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    [ -n "${KEEP:-}" ] && log "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

# --- prerequisites -------------------------------------------------------------------------
missing=""
command -v freeradius >/dev/null || missing="$missing freeradius"
command -v eapol_test >/dev/null || missing="$missing eapoltest"
command -v jq >/dev/null || missing="$missing jq"
command -v bc >/dev/null || missing="$missing bc"
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || die "missing:$missing (run as root to install them)"
    log "installing$missing from Debian's packages"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2 || {
        apt-get update -qq >&2
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2
    }
fi
# The package starts a service on 1812/1813: stop it, it must not share the core with ours.
if [ -f /run/freeradius/freeradius.pid ]; then
    service freeradius stop >/dev/null 2>&1 || true
    pid=$(cat /run/freeradius/freeradius.pid 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
fi
if [ -z "$HALLPASS_GIVEN" ]; then
    log "building hallpass (release)"
    (cd "$ROOT" && cargo build --release --locked >&2)
fi
# The floor's echo server uses the standard library alone: rustc builds it in a second.
ECHO_FLOOR=$WORK/echo_floor
rustc --edition 2024 -O -o "$ECHO_FLOOR" "$ROOT/examples/echo_floor.rs" >&2 ||
    die "cannot build examples/echo_floor.rs"
FR_VERSION=$(freeradius -v 2>/dev/null | sed -n 's/.*Version \([0-9.]*\).*/\1/p' | head -1)
printf '%s' "$SECRET" >"$WORK/secret"

# --- certificates and configurations -------------------------------------------------------
# One CA and server certificate for both servers: ECDSA P-256, as make-cert writes them.
"$HALLPASS" eap make-cert --dns "$DOMAIN" --out "$WORK/certs" --config "$WORK" >"$WORK/make-cert.out"
CERTS=$WORK/certs

# hallpass: the tests' config on fixed ports, one account with the password's argon2id hash
# and NT hash (written by `user passwd`), its device registered.
write_hallpass_config() {
    local hp=$WORK/hp
    mkdir -p "$hp"
    HP_SECRET="$SECRET" HP_STATE_DIR=state HP_LOAD_MACS=1000 \
        HP_AUTH_LISTEN="127.0.0.1:$HP_PORT" HP_ACCT_LISTEN="127.0.0.1:$((HP_PORT + 1))" \
        HP_CLIENT_EXTRA="require_message_authenticator = true" \
        sh "$ROOT/tests/fixtures/config.sh" "$hp"
    cat >>"$hp/hallpass.toml" <<EOF

[eap]
methods = ["peap"]
certificate = "$CERTS/server.pem"
private_key = "$CERTS/server.key"
tls_versions = ["1.2"]
EOF
    cat >>"$hp/users.toml" <<EOF

[[user]]
name = "$USER_NAME"
groups = ["students"]
consent = true
EOF
    cat >>"$hp/devices.toml" <<EOF

[[device]]
mac = "$MAC"
owner = "$USER_NAME"
EOF
    printf '%s\n' "$PASSWORD" |
        "$HALLPASS" user passwd "$USER_NAME" --stdin --no-reload --config "$hp" >&2
    grep -q '^nt_hash' "$hp/users.toml" || die "user passwd wrote no nt_hash"
}

# FreeRADIUS 3.2: the packaged configuration copied, with our own site, inner tunnel, eap
# module, client and user; the account's password as its NT hash, as hallpass keeps it.
write_freeradius_config() {
    local fr=$WORK/fr nt
    cp -a /etc/freeradius/3.0 "$fr"
    mkdir -p "$fr/log" "$fr/run"
    rm -f "$fr"/sites-enabled/* "$fr/mods-enabled/eap"
    sed -i -e "s|^raddbdir = .*|raddbdir = $fr|" -e "s|^logdir = .*|logdir = $fr/log|" \
        -e "s|^run_dir = .*|run_dir = $fr/run|" -e 's|^\([[:space:]]*\)reject_delay = .*|\1reject_delay = 0|' \
        -e 's#^\([[:space:]]*\)\(user\|group\) = freerad#\1\# \2 = freerad#' \
        -e 's|^\([[:space:]]*\)auth = .*|\1auth = no|' "$fr/radiusd.conf"
    cat >"$fr/clients.conf" <<EOF
client localhost {
    ipaddr = 127.0.0.1
    secret = $SECRET
    require_message_authenticator = yes
}
EOF
    nt=$(printf '%s' "$PASSWORD" | iconv -t UTF-16LE | openssl dgst -md4 -provider default -provider legacy -r | cut -d' ' -f1)
    cat >"$fr/mods-config/files/authorize" <<EOF
$USER_NAME NT-Password := 0x$nt
	Tunnel-Type = VLAN, Tunnel-Medium-Type = IEEE-802, Tunnel-Private-Group-Id = "20", Filter-Id = "students"
EOF
    cat >"$fr/mods-enabled/eap" <<EOF
eap {
    default_eap_type = peap
    timer_expire = 60
    ignore_unknown_eap_types = no
    max_sessions = 16384
    tls-config tls-common {
        private_key_file = $CERTS/server.key
        certificate_file = $CERTS/server.pem
        ca_file = $CERTS/ca.pem
        cipher_list = "DEFAULT"
        tls_min_version = "1.2"
        tls_max_version = "1.2"
        ecdh_curve = "prime256v1"
        fragment_size = 1300
        cache {
            enable = no
        }
    }
    tls {
        tls = tls-common
    }
    ttls {
        tls = tls-common
        default_eap_type = pap
        virtual_server = inner-tunnel
        use_tunneled_reply = yes
    }
    peap {
        tls = tls-common
        default_eap_type = mschapv2
        virtual_server = inner-tunnel
        use_tunneled_reply = yes
    }
    mschapv2 {
    }
}
EOF
    cat >"$fr/sites-enabled/default" <<EOF
server default {
    listen {
        type = auth
        ipaddr = 127.0.0.1
        port = $FR_PORT
    }
    authorize {
        filter_username
        preprocess
        eap {
            ok = return
        }
        files
    }
    authenticate {
        eap
    }
    post-auth {
        Post-Auth-Type REJECT {
            eap
        }
    }
}
EOF
    cat >"$fr/sites-enabled/inner-tunnel" <<EOF
server inner-tunnel {
    authorize {
        filter_username
        files
        mschap
        eap {
            ok = return
        }
        pap
    }
    authenticate {
        Auth-Type PAP {
            pap
        }
        Auth-Type MS-CHAP {
            mschap
        }
        eap
    }
    post-auth {
    }
}
EOF
}

# The supplicant's network block: what a pupil's device is told (CA and domain).
cat >"$WORK/peap.conf" <<EOF
fast_reauth=0
network={
    key_mgmt=WPA-EAP
    eap=PEAP
    identity="$USER_NAME"
    anonymous_identity="anonymous@school.example"
    password="$PASSWORD"
    ca_cert="$CERTS/ca.pem"
    domain_suffix_match="$DOMAIN"
    phase1="peaplabel=0 tls_disable_session_ticket=1"
    phase2="auth=MSCHAPV2"
}
EOF

# --- measuring -----------------------------------------------------------------------------
now_ns() { date +%s%N; }
cpu_us() { awk -v t="$TICK" '{ print ($14 + $15) * 1000000 / t }' "/proc/$1/stat"; }
# the same for hallpass's SQLite writer thread alone (its decision log; FreeRADIUS runs with
# `auth = no` and writes none): 0 for FreeRADIUS
writer_us() {
    cat /proc/"$1"/task/*/stat 2>/dev/null |
        awk -v t="$TICK" '$2 == "(hallpass-writer)" { s += $14 + $15 } END { print s * 1000000 / t }'
}

# One PEAP login against port $1, bounded; true when it succeeds with matching MPPE keys.
eap_login() {
    timeout 20 taskset -c "$LOAD_CPU" eapol_test -c "$WORK/peap.conf" -a 127.0.0.1 -p "$1" \
        -s "$SECRET" -M "$MAC" -N 61:d:19 -t 10 >"$WORK/login-$1.out" 2>&1 &&
        grep -q 'MPPE keys OK: 1  mismatch: 0' "$WORK/login-$1.out"
}

wait_login() {
    local port=$1 pid=$2 limit=$(($(now_ns) + 60 * 1000000000))
    until eap_login "$port"; do
        kill -0 "$pid" 2>/dev/null || die "the server on port $port exited"
        [ "$(now_ns)" -lt "$limit" ] || die "no PEAP login on port $port after 60 s (see $WORK/login-$port.out)"
        sleep 0.5
    done
}

start_hallpass() {
    RUST_LOG=warn taskset -c "$SERVER_CPU" "$HALLPASS" serve --config "$WORK/hp" 2>"$WORK/hp.log" &
    PID[hallpass]=$!
    wait_login "$HP_PORT" "${PID[hallpass]}"
}

start_freeradius() {
    taskset -c "$SERVER_CPU" freeradius -f -d "$WORK/fr" -n radiusd >"$WORK/fr.out" 2>&1 &
    PID[freeradius]=$!
    wait_login "$FR_PORT" "${PID[freeradius]}"
}

# voluntary context switches of all the process's threads: how often it slept and was woken
wakeups() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'; }

# $CLIENTS eapol_test processes with -r $3 (default $ROUNDS) against port $1 of server PID $2
# at once; prints "logins failures seconds cpu_ms_per_login writer_ms_per_login
# wakeups_per_login".
eap_load() {
    local port=$1 pid=$2 rounds=${3:-$ROUNDS} cpu0 cpu1 w0 w1 c0 c1 t0 t1 ok=0 bad=0 i f pids=()
    cpu0=$(cpu_us "$pid")
    w0=$(writer_us "$pid")
    c0=$(wakeups "$pid")
    t0=$(now_ns)
    # eapol_test's -t bounds its whole run, not one login: a second per login and ten more.
    for i in $(seq 1 "$CLIENTS"); do
        timeout 300 taskset -c "$LOAD_CPU" eapol_test -c "$WORK/peap.conf" -a 127.0.0.1 -p "$port" \
            -s "$SECRET" -M "$MAC" -N 61:d:19 -t $((10 + rounds)) -r "$rounds" >"$WORK/load-$port-$i.out" 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || true; done
    t1=$(now_ns)
    cpu1=$(cpu_us "$pid")
    w1=$(writer_us "$pid")
    c1=$(wakeups "$pid")
    for i in $(seq 1 "$CLIENTS"); do
        # -r N: N + 1 logins per process; the last line says how many MPPE keys matched
        f=$WORK/load-$port-$i.out
        ok=$((ok + $(grep -c 'CTRL-EVENT-EAP-SUCCESS' "$f" || true)))
        bad=$((bad + $(grep -c 'CTRL-EVENT-EAP-FAILURE\|EAPOL test timed out' "$f" || true)))
        bad=$((bad + $(sed -n 's/^MPPE keys OK: [0-9]*  mismatch: \([0-9]*\)$/\1/p' "$f" | tail -1)))
        [ "$(grep -c 'Handshake finished - resumed=1' "$f" || true)" = 0 ] || die "a TLS session was resumed ($f)"
    done
    echo "$ok $bad $(echo "scale=2; ($t1 - $t0) / 1000000000" | bc -l) \
$(echo "scale=3; if ($ok > 0) ($cpu1 - $cpu0) / 1000 / $ok else 0" | bc -l | sed 's/^\./0./') \
$(echo "scale=3; if ($ok > 0) ($w1 - $w0) / 1000 / $ok else 0" | bc -l | sed 's/^\./0./') \
$(echo "scale=1; if ($ok > 0) ($c1 - $c0) / $ok else 0" | bc -l | sed 's/^\./0./')"
}

# The floor for $1 logins that took $2 seconds: the echo server answers $CLIENTS pacing
# clients, each sending its share of $1 * ROUNDS_PER_LOGIN datagrams with the same mean gap
# as the logins' rounds had; prints its "cpu_ms_per_login wakeups_per_login".
# the echo server runs one thread: its CPU in nanoseconds from schedstat, as microseconds
floor_cpu_us() { awk '{ printf "%.3f", $1 / 1000 }' "/proc/${PID[floor]}/schedstat"; }
floor_load() {
    local logins=$1 secs=$2 each gap cpu0 cpu1 c0 c1 i pids=()
    each=$((logins * ROUNDS_PER_LOGIN / CLIENTS))
    gap=$(echo "$secs * 1000000 / $each" | bc)
    cpu0=$(floor_cpu_us)
    c0=$(wakeups "${PID[floor]}")
    for i in $(seq 1 "$CLIENTS"); do
        taskset -c "$LOAD_CPU" "$ECHO_FLOOR" pace "127.0.0.1:$FLOOR_PORT" "$each" "$gap" 300 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || die "the echo floor's client failed"; done
    cpu1=$(floor_cpu_us)
    c1=$(wakeups "${PID[floor]}")
    echo "$(echo "scale=3; ($cpu1 - $cpu0) / 1000 / ($each * $CLIENTS / $ROUNDS_PER_LOGIN)" | bc -l | sed 's/^\./0./') \
$(echo "scale=1; ($c1 - $c0) * $ROUNDS_PER_LOGIN / ($each * $CLIENTS)" | bc -l | sed 's/^\./0./')"
}

# MAB with `hallpass load` against hallpass for $MAB_DURATION s: requests/s.
mab_rate() {
    kill -0 "${PID[hallpass]}" 2>/dev/null || die "hallpass exited"
    taskset -c "$LOAD_CPU" "$HALLPASS" load --target "127.0.0.1:$HP_PORT" --secret-file "$WORK/secret" \
        --macs 1000 -c 64 -d "${MAB_DURATION}s" --timeout 1 --json | jq -r '.rate|floor'
}

# median, min and max of the numbers given: "median (min–max)", or the one number alone
spread() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        if (NR == 1) printf "%.3f", m; else printf "%.3f (%.3f–%.3f)", m, v[1], v[NR] }'
}
# the median alone, with $1 decimals
median() {
    local digits=$1
    shift
    printf '%s\n' "$@" | sort -g | awk -v d="$digits" '{ v[NR] = $1 } END {
        printf "%.*f", d, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { echo "scale=4; $1 / $2" | bc -l; }

T0=$(now_ns)
for server in $SERVERS; do
    case $server in
    hallpass) log "== hallpass"; write_hallpass_config; start_hallpass ;;
    freeradius) log "== FreeRADIUS $FR_VERSION"; write_freeradius_config; start_freeradius ;;
    *) die "unknown server $server (SERVERS: hallpass freeradius)" ;;
    esac
done
taskset -c "$SERVER_CPU" "$ECHO_FLOOR" serve "127.0.0.1:$FLOOR_PORT" &
PID[floor]=$!
if [ -n "${PID[hallpass]:-}" ]; then
    mab_alone=$(mab_rate)
fi

# The runs, in turn. Per server: CPU ms/login, writer ms/login, wake-ups/login, per run.
declare -A OK BAD SECS CPUS LOGS WAKES
FLOOR_CPUS=() FLOOR_WAKES=() PAIRS=() PAIRS_NOLOG=()
for r in $(seq 1 "$REPEAT"); do
    declare -A this=()
    for server in $SERVERS; do
        case $server in
        hallpass) port=$HP_PORT ;;
        freeradius) port=$FR_PORT ;;
        esac
        log "run $r of $REPEAT: $server"
        read -r ok bad secs ms wms wakes <<<"$(eap_load "$port" "${PID[$server]}")"
        OK[$server]=$((${OK[$server]:-0} + ok))
        BAD[$server]=$((${BAD[$server]:-0} + bad))
        SECS[$server]="${SECS[$server]:-} $secs"
        CPUS[$server]="${CPUS[$server]:-} $ms"
        LOGS[$server]="${LOGS[$server]:-} $wms"
        WAKES[$server]="${WAKES[$server]:-} $wakes"
        this[$server]=$ms
        this[${server}_log]=$wms
        if [ "$server" = "$(echo $SERVERS | cut -d' ' -f1)" ] && [ "$ok" -gt 0 ]; then
            # the floor with this run's pacing
            read -r fms fwakes <<<"$(floor_load "$ok" "$secs")"
            [ -n "${fwakes:-}" ] || die "the echo floor did not run (see above)"
            FLOOR_CPUS+=("$fms")
            FLOOR_WAKES+=("$fwakes")
        fi
    done
    if [ -n "${this[hallpass]:-}" ] && [ -n "${this[freeradius]:-}" ]; then
        PAIRS+=("$(ratio "${this[hallpass]}" "${this[freeradius]}")")
        PAIRS_NOLOG+=("$(ratio "(${this[hallpass]} - ${this[hallpass_log]})" "${this[freeradius]}")")
    fi
done

if [ -n "${PID[hallpass]:-}" ]; then
    # MAB while a longer EAP load runs (it must outlast the MAB run). The generators share
    # the load core, so a lower MAB rate here may be the generator's, not the server's: the
    # server's CPU share is what the EAP rows compare.
    eap_load "$HP_PORT" "${PID[hallpass]}" $((ROUNDS * (MAB_DURATION + 2) / 2)) >"$WORK/hp-eap-during" &
    eap_pid=$!
    sleep 1
    mab_during=$(mab_rate)
    kill -0 "$eap_pid" 2>/dev/null || mab_during="$mab_during (EAP load ended first)"
    wait "$eap_pid"
    read -r _ bad_during _ _ _ _ <"$WORK/hp-eap-during"
    [ "$bad_during" = 0 ] || log "hallpass: $bad_during EAP logins failed during the MAB run"
fi
ELAPSED=$((($(now_ns) - T0) / 1000000000))

ROWS=()
row() { ROWS+=("| $(printf '%s | ' "$@")"); }
for server in $SERVERS; do
    # shellcheck disable=SC2086
    case $server in
    hallpass)
        row "hallpass" "${OK[hallpass]}" "${BAD[hallpass]}" "$(median 2 ${SECS[hallpass]})" \
            "$(spread ${CPUS[hallpass]}) (log $(median 3 ${LOGS[hallpass]}))" \
            "$(median 1 ${WAKES[hallpass]})" "$mab_alone" "$mab_during"
        ;;
    freeradius)
        row "FreeRADIUS $FR_VERSION" "${OK[freeradius]}" "${BAD[freeradius]}" \
            "$(median 2 ${SECS[freeradius]})" "$(spread ${CPUS[freeradius]})" \
            "$(median 1 ${WAKES[freeradius]})" "" ""
        ;;
    esac
done
if [ ${#FLOOR_CPUS[@]} -gt 0 ]; then
    row "floor: UDP echo" "" "" "" "$(spread "${FLOOR_CPUS[@]}")" "$(median 1 "${FLOOR_WAKES[@]}")" "" ""
fi
if [ ${#PAIRS[@]} -gt 0 ]; then
    # the headline is the whole process; the log writer's share apart, as FreeRADIUS logs nothing
    row "**hallpass/FreeRADIUS**" "" "" "" \
        "**$(spread "${PAIRS[@]}")** ($(median 3 "${PAIRS_NOLOG[@]}") without the log)" "" "" ""
fi

cat <<EOF
Full PEAP-MSCHAPv2 logins (TLS 1.2, ECDSA P-256 server certificate from \`hallpass eap make-cert\`, no session
resumption), $CLIENTS eapol_test processes with -r $ROUNDS each on core $LOAD_CPU, server on core $SERVER_CPU, $REPEAT runs
of each server in turn: medians (min–max). CPU = the server's utime+stime (/proc/PID/stat) per
successful login, the whole process ("log" = hallpass's SQLite writer thread alone, which writes a
row per decision; FreeRADIUS runs with \`auth = no\` and writes none); the ratio is taken run by run.
Wake-ups = voluntary context switches of all the server's threads per login. Floor = a UDP echo
server (examples/echo_floor.rs) answering $ROUNDS_PER_LOGIN datagrams of 300 octets per login from $CLIENTS clients
at the first server's average pace: what receiving, waking for and answering the datagrams
alone costs here (random gaps, not the supplicants' own rhythm: a guide, not a bound). MAB =
\`hallpass load\` (64 in flight, $MAB_DURATION s) against hallpass alone and while the EAP load runs.
Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); total ${ELAPSED} s.

| server | logins | failed | seconds | CPU ms/login | wake-ups/login | MAB req/s alone | MAB req/s during EAP |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
$(printf '%s\n' "${ROWS[@]}")
EOF
kill "${PID[floor]}" 2>/dev/null || true
