#!/usr/bin/env bash
# Checks that every throwaway cluster the project makes is a private one
# (pg_virtualenv -t).  As root, pg_virtualenv without -t uses the shared
# 15/regress cluster and refuses to start when an interrupted run left one
# behind.  Two results: a check of every call in the tree, and the
# demonstration run for real with a leftover 15/regress cluster in place.
# Ends with the line "result: private-clusters passed=N failed=N".
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
logdir=${LOGDIR:-$(mktemp -d /tmp/influx_tokens_test.XXXXXX)}
passed=0
failed=0

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

echo "result: private-clusters passed=$passed failed=$failed"
[ "$failed" -eq 0 ]
