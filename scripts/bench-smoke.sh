#!/usr/bin/env bash
# Benchmark smoke test: starts a throw-away Strongbox on loopback, drives it
# with strongbox-bench and fails only on gross regressions (any failed
# operation, throughput an order of magnitude below normal, server memory
# that grows with object size). Floors are generous on purpose: the debug
# build on a loaded 2-core machine does about 100 MiB/s PUT and 400 MiB/s GET
# of 64 MiB objects. It takes about 20-30 s there.
#
#   a) 64 MiB objects, concurrency 1, 3 objects, put,get,delete --verify:
#      no error, PUT >= 15 MiB/s, GET >= 30 MiB/s
#   b) 4 KiB objects, concurrency 8, 300 objects, put,get,list,delete
#      --verify: no error, every PUT/GET/DELETE phase >= 50 ops/s, every
#      listing finds the 300 keys
#   c) server peak RSS during 256 MiB put,get (c2, 2 objects) below the peak
#      during 16 MiB put,get (c2, 2 objects) + 96 MiB: memory must not grow
#      with object size (bodies are streamed)
#
# Environment:
#   STRONGBOX_BIN        server binary (default target/debug/strongbox)
#   STRONGBOX_BENCH_BIN  load generator (default target/debug/strongbox-bench)
# Build both first:
#   cargo build --ignore-rust-version -p strongbox -p strongbox-bench
set -euo pipefail
cd "$(dirname "$0")/.."

STRONGBOX_BIN="${STRONGBOX_BIN:-target/debug/strongbox}"
BENCH_BIN="${STRONGBOX_BENCH_BIN:-target/debug/strongbox-bench}"
MIN_PUT_MIBS=15
MIN_GET_MIBS=30
MIN_SMALL_OPS=50
MAX_RSS_GROWTH_MIB=96

for bin in "$STRONGBOX_BIN" "$BENCH_BIN"; do
    if [[ ! -x "$bin" ]]; then
        echo "bench-smoke: $bin not found or not executable (build it first)" >&2
        exit 2
    fi
done

WORK="$(mktemp -d -t strongbox-bench-smoke.XXXXXX)"
NAME=bench-smoke
# shellcheck source=lib/server.sh
source scripts/lib/server.sh
cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT
start_server
echo "bench-smoke: load generator $BENCH_BIN"

# bench NAME RUN-ARGS...: one strongbox-bench run, results in $WORK/NAME.json.
# Its exit status is not fatal here: the checks below read the JSON, and a
# run that could not start leaves no JSON, which fails them.
bench() {
    local name="$1"
    shift
    echo "bench-smoke: $name: run $*"
    local status=0
    S3_SECRET_KEY="$SECRET_KEY" "$BENCH_BIN" --endpoint "$ENDPOINT" --access-key "$ACCESS_KEY" \
        --server-pid "$SERVER_PID" --json "$WORK/$name.json" run "$@" \
        >"$WORK/$name.out" 2>&1 || status=$?
    if ((status != 0)); then
        echo "bench-smoke: $name: strongbox-bench exited with $status; its output:" >&2
        cat "$WORK/$name.out" >&2
    fi
}

bench large --size 64MiB --concurrency 1 --count 3 --ops put,get,delete --verify --max-secs 30
bench small --size 4KiB --concurrency 8 --count 300 --ops put,get,list,delete --verify --max-secs 30
bench mem16 --size 16MiB --concurrency 2 --count 2 --ops put,get --warmup 0 --max-secs 30
bench mem256 --size 256MiB --concurrency 2 --count 2 --ops put,get --warmup 0 --max-secs 60

python3 - "$WORK" "$MIN_PUT_MIBS" "$MIN_GET_MIBS" "$MIN_SMALL_OPS" "$MAX_RSS_GROWTH_MIB" <<'EOF'
import json
import os
import sys

work, min_put, min_get, min_ops, max_growth = sys.argv[1], *map(float, sys.argv[2:])
failures = []
rows = []


def load(name):
    path = os.path.join(work, name + ".json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        failures.append(f"{name}: no results ({e})")
        return None


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def check_errors(name, doc):
    warm = doc.get("warmup") or {}
    if warm.get("errors"):
        failures.append(f"{name}: warm-up: {warm['errors']} error(s): {warm.get('first_error')}")
    for p in doc["phases"]:
        if p["errors"]:
            failures.append(f"{name} {p['op']}: {p['errors']} error(s): {p['first_error']}")


def row(name, p, check):
    lat = p.get("latency_ms") or {}
    rows.append((name, p["op"], p["ops"], p["errors"], fmt(p["mib_per_s"]), fmt(p["ops_per_s"]),
                 fmt(lat.get("p50"), 2), fmt(lat.get("p99"), 2), fmt(lat.get("p999"), 2),
                 fmt(p.get("server_peak_rss_mib"), 0), check))


def phase(doc, op):
    return next((p for p in doc["phases"] if p["op"] == op), None)


large = load("large")
if large:
    check_errors("large", large)
    floors = {"PUT": min_put, "GET": min_get}
    for op in ("PUT", "GET", "DELETE"):
        p = phase(large, op)
        if p is None:
            failures.append(f"large: no {op} phase")
            continue
        floor = floors.get(op)
        check = "" if floor is None else f"MiB/s >= {floor:g}"
        if floor is not None and p["mib_per_s"] < floor:
            failures.append(f"large {op}: {p['mib_per_s']:.1f} MiB/s < {floor:g}")
        row("64MiB c1", p, check)

small = load("small")
if small:
    check_errors("small", small)
    for op in ("PUT", "GET", "LIST", "DELETE"):
        p = phase(small, op)
        if p is None:
            failures.append(f"small: no {op} phase")
            continue
        if op == "LIST":
            lst = p["list"]
            check = f"{lst['complete_listings']}/{lst['repeats']} listings of {lst['keys']} keys"
            if lst["complete_listings"] != lst["repeats"] or lst["keys"] != small["count"]:
                failures.append(f"small LIST: {check}, expected {small['count']} keys each")
        else:
            check = f"ops/s >= {min_ops:g}"
            if p["ops_per_s"] < min_ops:
                failures.append(f"small {op}: {p['ops_per_s']:.1f} ops/s < {min_ops:g}")
        row("4KiB c8", p, check)


def peak(name, doc):
    check_errors(name, doc)
    peaks = [p.get("server_peak_rss_mib") for p in doc["phases"]]
    if not peaks or None in peaks:
        failures.append(f"{name}: server peak RSS not measured")
        return None
    return max(peaks)


memory_line = None
mem16, mem256 = load("mem16"), load("mem256")
if mem16 and mem256:
    p16, p256 = peak("mem16", mem16), peak("mem256", mem256)
    for label, doc in (("16MiB c2", mem16), ("256MiB c2", mem256)):
        for p in doc["phases"]:
            row(label, p, "")
    if p16 is not None and p256 is not None:
        ok = p256 < p16 + max_growth
        verdict = "ok" if ok else "FAIL"
        memory_line = (f"server peak RSS: {p16:.0f} MiB with 16 MiB objects, {p256:.0f} MiB with 256 MiB objects "
                       f"(must stay below {p16:.0f} + {max_growth:g} = {p16 + max_growth:.0f}): {verdict}")
        if not ok:
            failures.append(f"server peak RSS {p256:.0f} MiB with 256 MiB objects >= {p16:.0f} + {max_growth:g} MiB")

header = ("scenario", "phase", "ops", "err", "MiB/s", "ops/s", "p50 ms", "p99 ms", "p999 ms", "RSS MiB", "check")
widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
for r in [header, *rows]:
    cells = (str(v).rjust(w) if 2 <= i <= 9 else str(v).ljust(w) for i, (v, w) in enumerate(zip(r, widths)))
    print("  ".join(cells).rstrip())
if memory_line:
    print(memory_line)
if failures:
    print("bench-smoke: FAILED")
    for f in failures:
        print(f"  - {f}")
    sys.exit(1)
print("bench-smoke: passed")
EOF
