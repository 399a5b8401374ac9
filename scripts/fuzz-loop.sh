#!/usr/bin/env bash
# Background fuzzing: two lanes, each running scripts/fuzz-run.sh on one
# target at a time, so never more than two fuzzers run at once. Lane 1 only
# rotates through the parsers that see unauthenticated input; lane 2 runs
# them twice as often as the rest. A target not built yet is skipped (and
# picked up once built); a target the other lane is running is skipped.
# Everything stops by itself at STOP (UTC, default 15:20): no run is started
# that would end after it.
#
#   nohup scripts/fuzz-loop.sh [STOP_HH:MM] [SLOT_SECONDS] >LOG 2>&1 &
set -uo pipefail
cd "$(dirname "$0")/.."

stop_at=$(date -u -d "${1:-15:20}" +%s)
slot="${2:-600}"
lock_dir="$(mktemp -d /tmp/fuzz-loop.XXXXXX)"
unauth=(sigv4_auth presigned_query aws_chunked post_form s3_xml sigv2_auth)
lane1=("${unauth[@]}")
# Half unauthenticated, so about 75 % of all fuzzing time goes to those.
lane2=(aws_chunked kms_json s3_xml iam_query post_form blob_reader presigned_query meta_records
	sigv2_auth range_conditional s3_xml policy_parse sigv4_auth kms_ciphertext)

lane() {
	local name="$1"
	shift
	local targets=("$@") i=0 idle=0
	while :; do
		local now left t secs
		now=$(date -u +%s)
		left=$((stop_at - now))
		[ "$left" -ge 30 ] || break
		t="${targets[$((i % ${#targets[@]}))]}"
		i=$((i + 1))
		if [ ! -x "fuzz/target/x86_64-unknown-linux-gnu/release/$t" ] || ! mkdir "$lock_dir/$t" 2>/dev/null; then
			idle=$((idle + 1))
			# A full round with nothing runnable: wait for a build.
			if [ "$idle" -ge "${#targets[@]}" ]; then sleep 20; idle=0; fi
			continue
		fi
		idle=0
		secs=$slot
		# The rest get shorter runs (issue 11: most time on unauthenticated input).
		[[ " ${unauth[*]} " == *" $t "* ]] || secs=$((slot / 2))
		secs=$((left < secs ? left : secs))
		echo "$(date -u +%T) lane $name: $t for ${secs}s"
		scripts/fuzz-run.sh "$t" "$secs"
		rmdir "$lock_dir/$t"
	done
	echo "$(date -u +%T) lane $name: stop time reached"
}

lane 1 "${lane1[@]}" &
lane 2 "${lane2[@]}" &
wait
rm -rf "$lock_dir"
