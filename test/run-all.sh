#!/usr/bin/env bash
# Builds and installs influx_tokens, then runs every test against real
# servers: the pg_regress suites in a throwaway cluster (pg_virtualenv), the
# TAP tests (PostgreSQL::Test::Cluster, one cluster per test file), the
# end-to-end test with the official InfluxDB client, and a short run of the
# fuzz targets.
# Ends with a line "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash test/install-deps.sh || exit 1
make -s clean >/dev/null
make -s WERROR=1 >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
make -s install >/dev/null || { echo "install failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
logdir=$(mktemp -d /tmp/influx_tokens_test.XXXXXX)
chmod 755 "$logdir"

# pg_regress suites: one result per suite.
echo "== pg_regress"
pg_virtualenv -o max_connections=50 make installcheck >"$logdir/regress.log" 2>&1
grep -E '^(test| ?[a-z_]+ +\.\.\.)' "$logdir/regress.log" | grep -E '\.\.\.' || true
regress_ok=$(grep -cE '^test .*\.\.\. ok' "$logdir/regress.log")
regress_failed=$(grep -cE '^test .*\.\.\. FAILED' "$logdir/regress.log")
passed=$((passed + regress_ok))
failed=$((failed + regress_failed))
if [ "$regress_failed" -gt 0 ] || [ "$regress_ok" -eq 0 ]; then
	[ "$regress_ok" -eq 0 ] && failed=$((failed + 1))
	[ -f regression.diffs ] && cat regression.diffs
	tail -20 "$logdir/regress.log"
fi

# TAP tests: initdb refuses to run as root, so they run as the postgres
# user on a copy of the tree that user owns.  One result per assertion.
echo "== TAP"
tapdir="$logdir/tree"
mkdir -p "$tapdir"
cp -r Makefile influx_tokens.control src test "$tapdir/"
chown -R postgres "$logdir"
runas=()
[ "$(id -u)" -eq 0 ] && runas=(runuser -u postgres --)
(cd "$tapdir" && "${runas[@]}" make -s prove_installcheck PROVE_FLAGS="-v" >"$logdir/tap.log" 2>&1)
grep -E '^(ok|not ok) |^t/|^test/t/|Result:' "$logdir/tap.log" || true
tap_ok=$(grep -cE '^ *ok [0-9]+' "$logdir/tap.log")
tap_failed=$(grep -cE '^ *not ok [0-9]+' "$logdir/tap.log")
if ! grep -q '^Result: PASS' "$logdir/tap.log"; then
	[ "$tap_failed" -eq 0 ] && tap_failed=1
	tail -40 "$logdir/tap.log"
	find "$tapdir/tmp_check/log" -name 'regress_log_*' -exec tail -30 {} \; 2>/dev/null
fi
passed=$((passed + tap_ok))
failed=$((failed + tap_failed))

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

echo "logs: $logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
