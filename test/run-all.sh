#!/usr/bin/env bash
# Runs every test of influx_tokens against real servers.  On each supported
# PostgreSQL (15 on this machine, 17 and 18 in Debian roots: see
# test/pg-versions.sh): the build with warnings as errors, the pg_regress
# suites in a throwaway cluster and the TAP tests (one cluster per test file).
# Then, against 15: a check that every throwaway cluster is a private one
# (pg_virtualenv -t), the end-to-end test with the official InfluxDB client,
# a short run of the fuzz targets, and the mutations the shared cache's test
# must catch.
# Ends with a line "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash test/install-deps.sh || exit 1

passed=0
failed=0
logdir=$(mktemp -d /tmp/influx_tokens_test.XXXXXX)
chmod 755 "$logdir"

# Build, pg_regress and TAP on PostgreSQL 15, 17 and 18; one result per
# suite and per TAP assertion.  15 goes first and stays installed for the
# tests below.
LOGDIR="$logdir" bash test/pg-versions.sh all 2>&1 | tee "$logdir/pg-versions.log" |
	grep --line-buffered -vE '^([0-9]+ passed, [0-9]+ failed|logs: .*)$'
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logdir/pg-versions.log" | tail -1)
if [ -n "$line" ]; then
	passed=$((passed + $(echo "$line" | awk '{ print $1 }')))
	failed=$((failed + $(echo "$line" | awk '{ print $3 }')))
else
	failed=$((failed + 1))
fi

# Private clusters: every pg_virtualenv call uses -t, and the demonstration
# runs with a leftover 15/regress cluster in place.  Two results.
echo "== private clusters"
LOGDIR="$logdir" bash test/private-clusters.sh >"$logdir/private-clusters.log" 2>&1
grep -vE '^result: ' "$logdir/private-clusters.log" | grep -E ': (ok|FAILED|skipped)' || true
line=$(grep -E '^result: private-clusters ' "$logdir/private-clusters.log")
if [ -n "$line" ]; then
	passed=$((passed + $(echo "$line" | sed -E 's/.*passed=([0-9]+).*/\1/')))
	failed=$((failed + $(echo "$line" | sed -E 's/.*failed=([0-9]+).*/\1/')))
	echo "$line" | grep -q 'failed=0' || tail -30 "$logdir/private-clusters.log"
else
	tail -30 "$logdir/private-clusters.log"
	failed=$((failed + 1))
fi

# End to end: the official InfluxDB JavaScript client against the front end
# in examples/frontend.  One result per test.
echo "== end to end"
bash test/e2e/run.sh >"$logdir/e2e.log" 2>&1
grep -E '^(not )?ok [0-9]+ ' "$logdir/e2e.log" || true
e2e_ok=$(grep -E '^# pass [0-9]+' "$logdir/e2e.log" | awk '{ print $3 }')
e2e_failed=$(grep -E '^# fail [0-9]+' "$logdir/e2e.log" | awk '{ print $3 }')
if [ -z "$e2e_ok" ] || [ -z "$e2e_failed" ] || [ "$e2e_failed" -gt 0 ] || [ "$e2e_ok" -eq 0 ]; then
	tail -40 "$logdir/e2e.log"
	[ -z "$e2e_failed" ] || [ "$e2e_failed" -eq 0 ] && e2e_failed=1
fi
passed=$((passed + ${e2e_ok:-0}))
failed=$((failed + e2e_failed))

# Fuzzing: replay the stored corpus, then a short bounded run per target
# (FUZZ_SECONDS, default 15; test/fuzz/run.sh documents longer runs).
echo "== fuzz"
bash test/fuzz/run.sh "${FUZZ_SECONDS:-15}" >"$logdir/fuzz.log" 2>&1
cat "$logdir/fuzz.log" | grep -E '^(== |fuzz_)' || true
fuzz_ok=$(grep -cE '^fuzz_[a-z_]+: ok' "$logdir/fuzz.log")
fuzz_failed=$(grep -cE '^fuzz_[a-z_]+: FAILED' "$logdir/fuzz.log")
if [ $((fuzz_ok + fuzz_failed)) -ne 2 ]; then
	tail -30 "$logdir/fuzz.log"
	fuzz_failed=$((2 - fuzz_ok))
fi
passed=$((passed + fuzz_ok))
failed=$((failed + fuzz_failed))

# Mutations: each patch of test/mutations/ breaks the shared cache one way
# and test/t/140_shared_cache.pl must fail; 15 is installed again after.
# One result per mutation.
echo "== mutations"
LOGDIR="$logdir" bash test/mutations.sh >"$logdir/mutations.log" 2>&1
grep -E '^mutation ' "$logdir/mutations.log" || true
line=$(grep -E '^result: mutations ' "$logdir/mutations.log")
if [ -n "$line" ]; then
	passed=$((passed + $(echo "$line" | sed -E 's/.*passed=([0-9]+).*/\1/')))
	failed=$((failed + $(echo "$line" | sed -E 's/.*failed=([0-9]+).*/\1/')))
else
	tail -30 "$logdir/mutations.log"
	failed=$((failed + 1))
fi

echo "logs: $logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
