#!/usr/bin/env bash
# Builds the libFuzzer targets for the extension's pure-C parsers with
# AddressSanitizer and UndefinedBehaviorSanitizer, replays the stored corpus
# (seeds, and every input that ever crashed a target: the regression
# corpus), then fuzzes each target for a bounded time.
#
#   bash test/fuzz/run.sh [seconds per target, default 20]
#
# A crash leaves its input in test/fuzz/corpus/<target>/crash-*; keep it
# there once fixed, so that every later run replays it.
set -euo pipefail

seconds=${1:-20}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(mktemp -d /tmp/influx_tokens_fuzz.XXXXXX)
trap 'rm -rf "$build"' EXIT

includes=(-I"$(pg_config --includedir-server)" -I"$root/src")
libs=(-L"$(pg_config --pkglibdir)" -lpgport -lcrypto)
# gnu_printf: PostgreSQL's headers are written for gcc.
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Wall -Werror
	-Wno-unused-command-line-argument -Wno-ignored-attributes -D_GNU_SOURCE)

status=0
for target in token_format permission; do
	clang "${flags[@]}" "${includes[@]}" -o "$build/fuzz_$target" \
		"$here/fuzz_$target.c" "$here/pg_stubs.c" \
		"$root/src/token_format.c" "$root/src/permission.c" "$root/src/names.c" \
		"${libs[@]}"
	corpus="$here/corpus/$target"
	work="$build/corpus_$target"
	mkdir -p "$work"
	echo "== fuzz_$target: replaying $(ls "$corpus" | wc -l) stored inputs, then fuzzing ${seconds}s"
	if ! (cd "$build" && "$build/fuzz_$target" -runs=0 "$corpus" 2>"$build/replay_$target.log"); then
		tail -30 "$build/replay_$target.log"
		echo "fuzz_$target: FAILED on the stored corpus"
		status=1
		continue
	fi
	if (cd "$build" && "$build/fuzz_$target" -max_total_time="$seconds" -max_len=4096 \
			-artifact_prefix="$corpus/" "$work" "$corpus" 2>"$build/fuzz_$target.log"); then
		echo "fuzz_$target: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$build/fuzz_$target.log" || grep -Eo '#[0-9]+' "$build/fuzz_$target.log" | tail -1) executions)"
	else
		tail -40 "$build/fuzz_$target.log"
		echo "fuzz_$target: FAILED (input saved in $corpus)"
		status=1
	fi
done
exit $status
