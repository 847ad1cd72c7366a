#!/usr/bin/env bash
# Builds and installs influx_tokens, then runs every test against real
# servers: the pg_regress suites in a throwaway cluster (pg_virtualenv -t), a
# check that every throwaway cluster is a private one, the TAP tests
# (PostgreSQL::Test::Cluster, one cluster per test file), the end-to-end test
# with the official InfluxDB client, and a short run of the fuzz targets.
# Ends with a line "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash test/install-deps.sh || exit 1
make -s clean >/dev/null
make -s >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
make -s install >/dev/null || { echo "install failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
logdir=$(mktemp -d /tmp/influx_tokens_test.XXXXXX)
chmod 755 "$logdir"

# pg_regress suites: one result per suite.  -t: a private temporary cluster;
# as root pg_virtualenv would otherwise use the shared 15/regress cluster and
# refuse to start if an interrupted run left one behind.
echo "== pg_regress"
pg_virtualenv -t -o max_connections=50 make installcheck >"$logdir/regress.log" 2>&1
grep -E '^(test| ?[a-z_]+ +\.\.\.)' "$logdir/regress.log" | grep -E '\.\.\.' || true
regress_ok=$(grep -cE '^test .*\.\.\. ok' "$logdir/regress.log")
regress_failed=$(grep -cE '^test .*\.\.\. FAILED' "$logdir/regress.log")
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

# Private clusters: every pg_virtualenv call makes its own temporary cluster
# (-t).  As root, pg_virtualenv without -t uses the shared 15/regress cluster
# and refuses to start when an interrupted run left one behind.
echo "== private clusters"

# Reads grep -n lines (file:line:text); prints each one that calls
# pg_virtualenv (at a command position) without -t among its options.
virtualenv_calls_without_t() {
	local call='(^|[;&|(`]|\$\(|(^|[[:space:]])(exec|then|do|else|sudo|time|env|nice))[[:space:]]*'
	call+='([A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*[[:space:]]+)*pg_virtualenv([[:space:]].*)?$'
	local line text word opt private skip
	local -a words
	while IFS= read -r line; do
		text=${line#*:*:}
		[[ $text =~ $call ]] || continue
		read -ra words <<<"${BASH_REMATCH[5]}"
		private=0
		skip=0
		for word in "${words[@]}"; do
			if [ "$skip" -eq 1 ]; then skip=0; continue; fi
			case $word in --) break ;; -?*) ;; *) break ;; esac
			opt=${word#-}
			# Short options bundle (-st); -c -i -o -p -v take a value.
			while [ -n "$opt" ]; do
				case ${opt:0:1} in
				t) private=1 ;;
				[ciopv]) [ ${#opt} -eq 1 ] && skip=1; break ;;
				esac
				opt=${opt:1}
			done
		done
		[ "$private" -eq 1 ] || echo "$line"
	done
}
# The check itself must catch a call without -t (and not -o t).
selftest=$(printf '%s\n' 'a:1:pg_virtualenv make installcheck' 'a:2:	exec pg_virtualenv -o x=1 -t bash "$0"' \
	'a:3:X=1 pg_virtualenv -ot psql' 'a:4:# a throwaway cluster (pg_virtualenv)' 'a:5:(cd x && pg_virtualenv -st true)' |
	virtualenv_calls_without_t)
without_t=$(grep -rIn --exclude-dir=.git --exclude-dir=node_modules --exclude-dir=tmp_check \
	--exclude-dir=results --exclude-dir=log 'pg_virtualenv' . | virtualenv_calls_without_t)
if [ "$selftest" = $'a:1:pg_virtualenv make installcheck\na:3:X=1 pg_virtualenv -ot psql' ] && [ -z "$without_t" ]; then
	echo "pg_virtualenv -t everywhere: ok"
	passed=$((passed + 1))
else
	echo "pg_virtualenv -t everywhere: FAILED"
	[ -n "$without_t" ] && printf 'called without -t:\n%s\n' "$without_t"
	[ "$selftest" = $'a:1:pg_virtualenv make installcheck\na:3:X=1 pg_virtualenv -ot psql' ] ||
		printf 'the check itself is wrong; it found:\n%s\n' "$selftest"
	failed=$((failed + 1))
fi

# And for real: the demonstration (a few seconds) with a leftover 15/regress
# cluster in place.  The leftover exists only in a private mount namespace,
# over a copy of /etc/postgresql: nothing outside this step sees it.
if [ "$(id -u)" -eq 0 ] && unshare -m --propagation private true 2>/dev/null; then
	fake=$(mktemp -d /tmp/influx_tokens_leftover.XXXXXX)
	unshare -m --propagation private bash -c '
		set -euo pipefail
		cp -a /etc/postgresql/. "$1/"
		for v in /usr/lib/postgresql/*/; do mkdir -p "$1/$(basename "$v")/regress"; done
		mount --bind "$1" /etc/postgresql
		bash examples/demo.sh' leftover "$fake" >"$logdir/leftover.log" 2>&1
	rc=$?
	rm -rf "$fake"
	if [ "$rc" -eq 0 ]; then
		echo "demo.sh with a leftover 15/regress cluster: ok"
		passed=$((passed + 1))
	else
		echo "demo.sh with a leftover 15/regress cluster: FAILED"
		tail -20 "$logdir/leftover.log"
		failed=$((failed + 1))
	fi
else
	echo "demo.sh with a leftover 15/regress cluster: skipped (needs root and unshare)"
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
