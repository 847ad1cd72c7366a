#!/usr/bin/env bash
# Shows that the tests of the shared cache, per-token invalidation, the
# lineage and the commit-time judging of changes made by token can
# fail: each patch in test/mutations/ breaks the mechanism one way (its
# first line says how); the tree is built with it, installed, and the TAP
# file the patch names ("# test: ..."; test/t/140_shared_cache.pl if none)
# must fail.  The real build is installed again at the end, whatever
# happened.
#
#   bash test/mutations.sh            (as root, against pg_config's server)
#
# test/run-all.sh runs it against PostgreSQL 15.  One line per mutation,
# "mutation NAME: caught (failed: ...)" or "mutation NAME: NOT CAUGHT", and
# a last line "result: mutations passed=N failed=N".
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
PG_CONFIG=${PG_CONFIG:-pg_config}
logdir=${LOGDIR:-$(mktemp -d /tmp/influx_tokens_mutations.XXXXXX)}
chmod 755 "$logdir"
logdir="$logdir/mutations"
mkdir -p "$logdir"

reinstall() {
	make -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
	make -s WERROR=1 PG_CONFIG="$PG_CONFIG" >"$logdir/reinstall.log" 2>&1 &&
		make -s install PG_CONFIG="$PG_CONFIG" >>"$logdir/reinstall.log" 2>&1
}
trap reinstall EXIT

passed=0
failed=0
for patch in test/mutations/*.patch; do
	name=$(basename "$patch" .patch)
	tap=$(sed -n 's/^# test: //p' "$patch")
	tap=${tap:-test/t/140_shared_cache.pl}
	tree="$logdir/$name"
	rm -rf "$tree"
	mkdir -p "$tree"
	cp -r Makefile influx_tokens.control src test "$tree/"
	if ! (cd "$tree" && patch -s -p1 <"$root/$patch" &&
		make -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1 &&
		make -s PG_CONFIG="$PG_CONFIG" >build.log 2>&1 &&
		make -s install PG_CONFIG="$PG_CONFIG" >>build.log 2>&1); then
		echo "mutation $name: does not apply or build"
		failed=$((failed + 1))
		continue
	fi
	chown -R postgres "$logdir"
	runas=()
	[ "$(id -u)" -eq 0 ] && runas=(runuser -u postgres --)
	(cd "$tree" && "${runas[@]}" make -s prove_installcheck PG_CONFIG="$PG_CONFIG" \
		PROVE_TESTS="$tap" PROVE_FLAGS=-v >tap.log 2>&1)
	caught=$(grep -E '^not ok [0-9]+' "$tree/tap.log" | sed -E 's/^not ok ([0-9]+) - (.*)/\1 (\2)/' |
		head -3 | paste -sd ';' -)
	if grep -q '^Result: FAIL' "$tree/tap.log" && [ -n "$caught" ]; then
		echo "mutation $name: caught by $(basename "$tap") (failed: $caught)"
		passed=$((passed + 1))
	else
		echo "mutation $name: NOT CAUGHT"
		failed=$((failed + 1))
	fi
done

echo "result: mutations passed=$passed failed=$failed"
[ "$failed" -eq 0 ]
