#!/bin/sh
# Runs the whole hallpass test suite. Makes sure the real peers the tests talk to are there:
# installs them with apt-get when run as root, otherwise says in one line what is missing.
set -eu
cd "$(dirname "$0")/.."

missing=""
command -v radclient >/dev/null 2>&1 || missing="$missing freeradius-utils"
command -v dnsmasq >/dev/null 2>&1 || missing="$missing dnsmasq-base"
command -v udhcpc >/dev/null 2>&1 || missing="$missing udhcpc"
command -v dhclient >/dev/null 2>&1 || missing="$missing isc-dhcp-client"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
command -v eapol_test >/dev/null 2>&1 || missing="$missing eapoltest"
command -v e2fsck >/dev/null 2>&1 || missing="$missing e2fsprogs"
command -v taskset >/dev/null 2>&1 || missing="$missing util-linux"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v hostapd >/dev/null 2>&1 || missing="$missing hostapd"
command -v wpa_supplicant >/dev/null 2>&1 || missing="$missing wpasupplicant"

if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing test peers:$missing"
        apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
        echo "hallpass tests need:$missing (as root: apt-get install$missing)" >&2
        exit 1
    fi
fi

cargo test --locked --all-targets "$@"
