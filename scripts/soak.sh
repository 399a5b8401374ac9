#!/usr/bin/env bash
# Soak test (issue 11): a throw-away Strongbox on loopback under
# `strongbox-bench mixed` (PUT/GET/LIST/DELETE/multipart, verified, bounded
# key space) for SECONDS (default 60), sampling the server's RSS, open file
# descriptors and temp files. strongbox-bench exits non-zero on any failed
# request, RSS outside +-10 % of its post-warm-up median, FDs that drift, or
# temp files left behind; this script passes that on.
#
#   scripts/soak.sh [SECONDS]          (CI runs 60; the long run is 1800)
#
# Environment: STRONGBOX_BIN, STRONGBOX_BENCH_BIN (default target/debug/...),
# SOAK_OUT (directory for samples.csv / result.json; default a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-60}"
STRONGBOX_BIN="${STRONGBOX_BIN:-target/debug/strongbox}"
BENCH_BIN="${STRONGBOX_BENCH_BIN:-target/debug/strongbox-bench}"
for bin in "$STRONGBOX_BIN" "$BENCH_BIN"; do
    [[ -x "$bin" ]] || { echo "soak: $bin not found (build it first)" >&2; exit 2; }
done
WORK="$(mktemp -d -t strongbox-soak.XXXXXX)"
OUT="${SOAK_OUT:-$WORK}"
mkdir -p "$OUT"
NAME=soak
# shellcheck source=lib/server.sh
source scripts/lib/server.sh
cleanup() {
    stop_server
    rm -rf "$WORK/data"
}
trap cleanup EXIT
start_server
echo "soak: ${SECONDS_TO_RUN}s, output in $OUT"
SAMPLE_EVERY=$(( SECONDS_TO_RUN >= 600 ? 15 : 3 ))
# Short runs spend longer warming up (allocator arenas, page cache, SQLite cache).
WARMUP_PCT=$(( SECONDS_TO_RUN >= 600 ? 10 : 50 ))
status=0
S3_SECRET_KEY="$SECRET_KEY" "$BENCH_BIN" --endpoint "$ENDPOINT" --access-key "$ACCESS_KEY" \
    --server-pid "$SERVER_PID" --bucket soak --json "$OUT/result.json" \
    mixed --mix put=40,get=40,list=5,delete=10,multipart=5 --sizes 4KiB,256KiB,8MiB \
    --duration "${SECONDS_TO_RUN}s" --concurrency 8 --keys 64 --sample-every "${SAMPLE_EVERY}s" \
    --warmup-pct "$WARMUP_PCT" --samples-csv "$OUT/samples.csv" --server-tmp-dir "$WORK/data/tmp" || status=$?
if [[ "$status" -ne 0 ]]; then
    echo "soak: FAILED (strongbox-bench exited $status); server log tail:" >&2
    tail -n 20 "$WORK/server.log" >&2
fi
exit "$status"
