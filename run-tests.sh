#!/usr/bin/env bash
# The one command that runs every Strongbox test on a fresh Debian machine
# with Rust: installs what the tests need, builds the workspace, runs the Rust
# tests, then the end-to-end suite (tests/e2e) against the built server.
#
# Environment:
#   PYTEST_ARGS   extra arguments for pytest (e.g. "-k multipart -x")
#   CRASH_SEED    seed of the crash-consistency trials (default 1)
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(pwd)"
VENV="$ROOT/tests/.venv"

section() { printf '\n===== %s =====\n' "$*"; }

apt_install() {
    echo "installing Debian packages: $*"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "${APT_UPDATED:-}" ]; then $sudo apt-get update -qq; APT_UPDATED=1; fi
    $sudo apt-get install -y -qq "$@" >/dev/null
}

section "prerequisites"
command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust first" >&2; exit 1; }
missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
# Real third-party clients the e2e suite drives (Go's HTTP/2 client, s3cmd).
command -v rclone >/dev/null 2>&1 || missing+=(rclone)
command -v s3cmd >/dev/null 2>&1 || missing+=(s3cmd)
# The storage-fault tests make a btrfs loop filesystem (EIO via its checksums).
command -v mkfs.btrfs >/dev/null 2>&1 || missing+=(btrfs-progs)
# Virtual-hosted addressing (bucket.localhost) needs glibc to resolve
# *.localhost, which stock Debian does only with nss-myhostname.
getent hosts sb-probe.localhost >/dev/null 2>&1 || missing+=(libnss-myhostname)
if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
if ! getent hosts sb-probe.localhost >/dev/null 2>&1; then
    sudo=""; if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo sed -i -E '/^hosts:/{/myhostname/!s/$/ myhostname/}' /etc/nsswitch.conf
    getent hosts sb-probe.localhost >/dev/null || { echo "*.localhost does not resolve" >&2; exit 1; }
fi
echo "cargo: $(cargo --version)"
echo "python3: $(python3 --version 2>&1)"
echo "curl: $(curl --version | head -n1)"
echo "rclone: $(rclone version 2>/dev/null | head -n1); s3cmd: $(s3cmd --version 2>&1)"

section "python test environment ($VENV)"
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$VENV"
    # Debian's python3 cannot create a venv (no ensurepip) without python3-venv.
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        apt_install python3-venv
        python3 -m venv "$VENV"
    fi
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -U boto3 awscli pytest requests pyotp zxing-cpp numpy
"$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null \
    | grep -Ei '^(boto3|botocore|awscli|pytest|requests) ' || true
export PATH="$VENV/bin:$PATH"

section "cargo build"
cargo build --ignore-rust-version --workspace --all-targets

status=0

section "cargo test"
cargo test --ignore-rust-version --workspace || status=1

section "end-to-end tests (pytest tests/e2e)"
export STRONGBOX_BIN="$ROOT/target/debug/strongbox"
# shellcheck disable=SC2086
"$VENV/bin/python" -m pytest -q tests/e2e ${PYTEST_ARGS:-} || status=1

section "crash consistency (tests/crash/run.py: 10 kill -9 trials, then fsck)"
STRONGBOX_BIN="$ROOT/target/debug/strongbox" \
    "$VENV/bin/python" tests/crash/run.py --trials 10 --seed "${CRASH_SEED:-1}" --time-limit 600 || status=1

section "soak (scripts/soak.sh 60: mixed workload, no failures, flat RSS and FDs, no temp files left)"
SOAK_OUT="$ROOT/target/soak" STRONGBOX_BIN="$ROOT/target/debug/strongbox" \
    STRONGBOX_BENCH_BIN="$ROOT/target/debug/strongbox-bench" ./scripts/soak.sh 60 || status=1

section "benchmark smoke (scripts/bench-smoke.sh: gross regressions only)"
STRONGBOX_BIN="$ROOT/target/debug/strongbox" STRONGBOX_BENCH_BIN="$ROOT/target/debug/strongbox-bench" \
    ./scripts/bench-smoke.sh || status=1

if [ "$status" -ne 0 ]; then
    echo "run-tests.sh: FAILED (see above)" >&2
fi
exit "$status"
