#!/usr/bin/env bash
# Builds influx_tokens (warnings are errors) against one PostgreSQL, installs
# it there and runs the pg_regress suites, in a throwaway cluster
# (pg_virtualenv -t), and the TAP tests (PostgreSQL::Test::Cluster, one
# cluster per test file).  Run as root: it installs, and initdb refuses root,
# so the TAP tests run as the postgres user on a copy of the tree.
#
#   PG_CONFIG=/usr/lib/postgresql/17/bin/pg_config bash test/run-suites.sh
#
# test/pg-versions.sh runs it for each supported version, on this machine or
# inside a Debian root; test/run-all.sh runs that.  Logs go to LOGDIR
# (default a new directory under /tmp).  Ends with the line
#   result: pg17 passed=N failed=N
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
PG_CONFIG=${PG_CONFIG:-pg_config}
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
logdir=${LOGDIR:-$(mktemp -d /tmp/influx_tokens_test.XXXXXX)}
mkdir -p "$logdir"
chmod 755 "$logdir"

passed=0
failed=0
result() {
	echo "result: pg$major passed=$passed failed=$failed"
	[ "$failed" -eq 0 ]
	exit
}

echo "== build ($("$PG_CONFIG" --version))"
make -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
if ! make -s WERROR=1 PG_CONFIG="$PG_CONFIG" >"$logdir/build.log" 2>&1 ||
	! make -s install PG_CONFIG="$PG_CONFIG" >>"$logdir/build.log" 2>&1; then
	tail -30 "$logdir/build.log"
	failed=1
	result
fi

# pg_regress suites: one result per suite.  pg_regress prints
# "test setup ... ok" up to PostgreSQL 15, "ok 1 - setup" from 16 on.
echo "== pg_regress"
pg_virtualenv -t -v "$major" -o max_connections=50 \
	make installcheck PG_CONFIG="$PG_CONFIG" >"$logdir/regress.log" 2>&1
grep -E '^(test .*\.\.\. |(not )?ok [0-9]+ +[-+] )' "$logdir/regress.log" || true
regress_ok=$(grep -cE '^test .*\.\.\. ok|^ok [0-9]+ +[-+] ' "$logdir/regress.log")
regress_failed=$(grep -cE '^test .*\.\.\. FAILED|^not ok [0-9]+ +[-+] ' "$logdir/regress.log")
regress_suites=$(find sql -maxdepth 1 -name '*.sql' | wc -l)
passed=$((passed + regress_ok))
failed=$((failed + regress_failed))
if [ "$regress_failed" -gt 0 ] || [ $((regress_ok + regress_failed)) -ne "$regress_suites" ]; then
	# A run that stopped early (or never started) lists fewer suites than sql/ holds.
	if [ $((regress_ok + regress_failed)) -ne "$regress_suites" ]; then
		echo "pg_regress: $((regress_ok + regress_failed)) of $regress_suites suites ran"
		failed=$((failed + 1))
	fi
	[ -f regression.diffs ] && cat regression.diffs
	tail -20 "$logdir/regress.log"
fi

# TAP tests, as the postgres user on a copy of the tree that user owns.  One
# result per assertion.
echo "== TAP"
tapdir="$logdir/tree"
mkdir -p "$tapdir"
cp -r Makefile influx_tokens.control src test "$tapdir/"
chown -R postgres "$logdir"
runas=()
[ "$(id -u)" -eq 0 ] && runas=(runuser -u postgres --)
(cd "$tapdir" && "${runas[@]}" make -s prove_installcheck PG_CONFIG="$PG_CONFIG" PROVE_FLAGS="-v" \
	>"$logdir/tap.log" 2>&1)
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

result
