#!/bin/sh
# Runs the whole hallpass test suite. Makes sure the real peers the tests talk to are there:
# installs them with apt-get when run as root, otherwise says in one line what is missing.
set -eu
cd "$(dirname "$0")/.."

missing=""
command -v radclient >/dev/null 2>&1 || missing="$missing freeradius-utils"

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
