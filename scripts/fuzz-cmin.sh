#!/usr/bin/env bash
# Minimises each target's corpus (libFuzzer -merge=1: the smallest set of
# inputs with the same coverage) in place, keeping the hand-written seed-*
# inputs. Run before committing a corpus. Builds nothing: run
# `cargo +nightly fuzz build` first.
#
#   scripts/fuzz-cmin.sh [TARGET...]      (default: every target with a corpus)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(ls corpus)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for t in "${targets[@]}"; do
	bin="target/x86_64-unknown-linux-gnu/release/$t"
	[ -x "$bin" ] || { echo "fuzz-cmin: $t is not built" >&2; continue; }
	before=$(find "corpus/$t" -type f | wc -l)
	mkdir -p "$tmp/$t"
	case "$t" in
	aws_chunked | post_form | s3_xml | blob_reader) max_len=16384 ;;
	*) max_len=4096 ;;
	esac
	nice -n 19 "$bin" -merge=1 -max_len="$max_len" -timeout=10 -rss_limit_mb=1536 "$tmp/$t" "corpus/$t" >"$tmp/$t.log" 2>&1 ||
		{ tail -n 20 "$tmp/$t.log"; echo "fuzz-cmin: $t merge failed" >&2; exit 1; }
	find "corpus/$t" -maxdepth 1 -type f -name 'seed-*' -exec cp {} "$tmp/$t/" \;
	find "corpus/$t" -maxdepth 1 -type f -delete
	cp "$tmp/$t"/* "corpus/$t/"
	echo "fuzz-cmin: $t $before -> $(find "corpus/$t" -type f | wc -l) files, $(du -s --apparent-size --block-size=1K "corpus/$t" | cut -f1) KiB"
done
