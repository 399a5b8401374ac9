#!/usr/bin/env bash
# Fuzz smoke test: builds every cargo-fuzz target in fuzz/ and runs each one
# briefly on its committed corpus (fuzz/corpus/TARGET) plus a scratch
# directory for new inputs, so the committed corpus is not modified. Fails on
# the first crash, hang (-timeout) or OOM; the reproducer is left in
# fuzz/artifacts/TARGET/ (reproduce: fuzz/target/x86_64-unknown-linux-gnu/release/TARGET FILE).
#
# Environment:
#   FUZZ_SMOKE_SECONDS  seconds per target (default 20)
#   FUZZ_SMOKE_TARGETS  space-separated subset (default: all targets)
# Needs cargo-fuzz and a nightly toolchain (`cargo +nightly`); without
# nightly it uses the stable toolchain with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs="${FUZZ_SMOKE_SECONDS:-20}"
if rustup run nightly rustc --version >/dev/null 2>&1; then
	fuzz=(cargo +nightly fuzz)
else
	export RUSTC_BOOTSTRAP=1
	fuzz=(cargo fuzz)
fi
start=$(date +%s)
"${fuzz[@]}" build
built=$(date +%s)
echo "fuzz-smoke: build took $((built - start)) s"

targets="${FUZZ_SMOKE_TARGETS:-$("${fuzz[@]}" list)}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for t in $targets; do
	mkdir -p "$scratch/$t" "corpus/$t" "artifacts/$t"
	log="$scratch/$t.log"
	if ! target/x86_64-unknown-linux-gnu/release/"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1536 \
		-print_final_stats=1 -artifact_prefix="artifacts/$t/" "$scratch/$t" "corpus/$t" >"$log" 2>&1; then
		tail -n 40 "$log"
		echo "fuzz-smoke: $t FAILED (reproducer in fuzz/artifacts/$t/)" >&2
		exit 1
	fi
	execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
	echo "fuzz-smoke: $t ok, ${execs:-?} execs in ${secs}s"
done
echo "fuzz-smoke: all targets ok in $(($(date +%s) - start)) s (build $((built - start)) s)"
