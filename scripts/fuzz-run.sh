#!/usr/bin/env bash
# Runs one cargo-fuzz target for SECONDS of wall-clock time at nice 19 on its
# corpus (fuzz/corpus/TARGET; new inputs are added there), records the CPU
# seconds it actually got (at nice 19 that is often far less than SECONDS)
# and appends one line to fuzz/stats/runs.tsv:
#   date  target  wall_s  cpu_s  execs  cov  ft  corpus_files  crashes
# Crash/timeout/OOM reproducers land in fuzz/artifacts/TARGET/.
#
#   scripts/fuzz-run.sh TARGET SECONDS [extra libFuzzer flags...]
#
# The binary must be built first: (cd fuzz && cargo +nightly fuzz build TARGET).
# FUZZ_LOG_DIR (default fuzz/stats/logs, not committed) keeps the libFuzzer log.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"

target="${1:?usage: fuzz-run.sh TARGET SECONDS [flags...]}"
secs="${2:?usage: fuzz-run.sh TARGET SECONDS [flags...]}"
shift 2
bin="target/x86_64-unknown-linux-gnu/release/$target"
[ -x "$bin" ] || { echo "fuzz-run: $bin is not built" >&2; exit 2; }

log_dir="${FUZZ_LOG_DIR:-stats/logs}"
mkdir -p "corpus/$target" "artifacts/$target" "$log_dir" stats
log="$log_dir/$target.$(date -u +%Y%m%dT%H%M%S).$$.log"
times="$(mktemp)"
# Target-specific input sizes: bodies and forms need room, headers do not.
case "$target" in
aws_chunked | post_form | s3_xml | blob_reader) max_len=16384 ;;
*) max_len=4096 ;;
esac
[ -s stats/runs.tsv ] || printf 'date\ttarget\twall_s\tcpu_s\texecs\tcov\tft\tcorpus_files\tcrashes\n' >stats/runs.tsv
before=$(find "artifacts/$target" -type f | wc -l)
# -timeout: an input taking 10 s is a hang (one of the oracles);
# -rss_limit_mb: the machine is shared, so an input that needs 1.5 GiB is a finding.
nice -n 19 /usr/bin/time -f '%e %U %S' -o "$times" \
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=1536 \
	-max_len="$max_len" -artifact_prefix="artifacts/$target/" "$@" "corpus/$target" >"$log" 2>&1
rc=$?
after=$(find "artifacts/$target" -type f | wc -l)
read -r wall user sys < <(tail -n 1 "$times")
rm -f "$times"
cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
execs=$(awk '/stat::number_of_executed_units/ { v = $2 } END { print v + 0 }' "$log")
# The last status line ("#N ... cov: C ft: F corp: ...") has the final counters.
cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{ print $2 + 0 }')
ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | awk '{ print $2 + 0 }')
corpus=$(find "corpus/$target" -type f | wc -l)
crashes=$((after - before))
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$wall" "$cpu" \
	"$execs" "${cov:-0}" "${ft:-0}" "$corpus" "$crashes" >>stats/runs.tsv
echo "fuzz-run: $target wall=${wall}s cpu=${cpu}s execs=$execs cov=${cov:-0} ft=${ft:-0} corpus=$corpus crashes=$crashes rc=$rc log=fuzz/$log"
exit "$rc"
