#!/usr/bin/env bash
# Sums fuzz/stats/runs.tsv (written by scripts/fuzz-run.sh) per target and in
# total and prints a markdown table: runs, wall and CPU seconds, executions,
# the highest coverage/features seen, the latest corpus size and crashes.
# The last line gives total CPU-hours and the share of the targets that
# parse unauthenticated input.
#
#   scripts/fuzz-stats.sh [runs.tsv]
set -euo pipefail
cd "$(dirname "$0")/.."
tsv="${1:-fuzz/stats/runs.tsv}"
awk -F'\t' '
BEGIN {
	split("sigv4_auth sigv2_auth presigned_query aws_chunked post_form s3_xml", u, " ")
	for (i in u) unauth[u[i]] = 1
}
NR == 1 && $1 == "date" { next }
{
	t = $2
	if (!(t in runs)) order[++n] = t
	runs[t]++; wall[t] += $3; cpu[t] += $4; execs[t] += $5
	if ($6 > cov[t]) cov[t] = $6
	if ($7 > ft[t]) ft[t] = $7
	corpus[t] = $8; crashes[t] += $9
}
END {
	print "| target | unauthenticated | runs | wall s | CPU s | execs | execs/CPU s | max cov | max ft | corpus files | crashes |"
	print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= n; i++) {
		t = order[i]
		rate = cpu[t] > 0 ? execs[t] / cpu[t] : 0
		printf "| %s | %s | %d | %.0f | %.0f | %d | %.0f | %d | %d | %d | %d |\n", t, (t in unauth) ? "yes" : "no", runs[t], wall[t], cpu[t], execs[t], rate, cov[t], ft[t], corpus[t], crashes[t]
		total_cpu += cpu[t]; total_execs += execs[t]; total_wall += wall[t]
		if (t in unauth) unauth_cpu += cpu[t]
	}
	printf "| **total** | | | %.0f | %.0f | %d | | | | | |\n", total_wall, total_cpu, total_execs
	printf "\nTotal: %.2f CPU-hours (%.0f CPU s); unauthenticated-input targets: %.0f%% of CPU time.\n", total_cpu / 3600, total_cpu, (total_cpu > 0 ? 100 * unauth_cpu / total_cpu : 0)
}' "$tsv"
