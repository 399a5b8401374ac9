#!/usr/bin/env bash
# What versioning costs: 4 KiB PUTs then DELETEs at concurrency 32 on an
# unversioned bucket and on a versioned one (where every PUT adds a version
# and every DELETE a delete marker), then ListObjectVersions through a
# versioned bucket of VERSIONS versions (ListObjectsV2 of the same bucket
# for comparison), all through strongbox-bench on one throw-away server.
# Prints the `strongbox-bench` reports; JSON results land in WORK.
#
#   scripts/bench-versioning.sh [COUNT] [VERSIONS]   (defaults 20000, 100000)
#
# STRONGBOX_BIN / BENCH_BIN default to the release binaries (cargo build
# --release --ignore-rust-version -p strongbox -p strongbox-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${1:-20000}"
VERSIONS="${2:-100000}"
NAME=bench-versioning
STRONGBOX_BIN="${STRONGBOX_BIN:-$PWD/target/release/strongbox}"
BENCH_BIN="${BENCH_BIN:-$PWD/target/release/strongbox-bench}"
WORK="$(mktemp -d /tmp/bench-versioning.XXXXXX)"
# shellcheck source=lib/server.sh
source scripts/lib/server.sh
trap stop_server EXIT
start_server

bench() {
    local label="$1" bucket="$2"
    shift 2
    echo "== $label"
    "$BENCH_BIN" --endpoint "$ENDPOINT" --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" \
        --bucket "$bucket" --server-pid "$SERVER_PID" --json "$WORK/$label.json" "$@"
}
bench unversioned bench-unversioned run --size 4KiB --concurrency 32 --count "$COUNT" --ops put,delete --max-secs 120
bench versioned bench-versioned run --versioned --size 4KiB --concurrency 32 --count "$COUNT" --ops put,delete --max-secs 120
bench list-versions bench-versions run --versioned --size 0 --concurrency 32 --count "$VERSIONS" \
    --ops put,list --list-versions --list-repeat 3 --max-secs 300 --prefix list
bench list-objects bench-versions run --size 0 --concurrency 32 --count "$VERSIONS" \
    --ops list --list-repeat 3 --max-secs 300 --prefix list
echo "$NAME: results in $WORK"
