#!/usr/bin/env bash
# The hot path of two builds side by side: checks/s of one hot token (one
# without a parent, and a great-grandchild made by create_token_as) next
# to the harness limit (a trivial built-in function in the same loop), in a
# throwaway cluster that preloads the library, the builds installed in
# turn, ROUNDS rounds (best of 3 loops each), so that the machine's drift
# hits both alike.
#
#   bash test/bench/ab.sh REV           # REV (e.g. c8773aa) against the working tree
# Tunables (environment): HOT_N, ROUNDS.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
HOT_N=${HOT_N:-2000000}
ROUNDS=${ROUNDS:-3}

if [ "${1:-}" = --inside ]; then
	export PGOPTIONS="-c work_mem=256MB"
	q() { psql -XAtq -v ON_ERROR_STOP=1 -d ab -c "$1"; }
	createdb ab
	psql -XAtq -v ON_ERROR_STOP=1 -d ab >/dev/null <<'SQL'
CREATE EXTENSION influx_tokens;
SELECT influx_tokens.create_org('acme');
SELECT influx_tokens.create_bucket('acme', 'b');
CREATE SCHEMA bench;
CREATE TABLE bench.chain (depth int PRIMARY KEY, token text NOT NULL);
INSERT INTO bench.chain VALUES (0, influx_tokens.create_token('acme', '{write:authorizations,write:buckets/b}'));
DO $$
BEGIN
    FOR d IN 1..3 LOOP
        INSERT INTO bench.chain SELECT d, influx_tokens.create_token_as(c.token, '{write:authorizations,write:buckets/b}')
        FROM bench.chain AS c WHERE c.depth = d - 1;
    END LOOP;
END
$$;
CREATE FUNCTION bench.seconds(statement text) RETURNS float8 LANGUAGE plpgsql AS $f$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN EXECUTE statement; RETURN extract(epoch FROM clock_timestamp() - t0); END $f$;
SQL
	loop() {
		local call=$1 depth=$2 best=0 r
		for _ in 1 2 3; do
			r=$(q "SELECT round($HOT_N / bench.seconds(\$\$SELECT count(*) FROM generate_series(1, $HOT_N) AS g,
			       bench.chain AS h, LATERAL (SELECT CASE WHEN g > 0 THEN 'b' END AS bkt) AS r
			       WHERE h.depth = $depth AND $call\$\$))")
			[ "$r" -gt "$best" ] && best=$r
		done
		echo "$best"
	}
	hot0=$(loop "influx_tokens.token_check(h.token, 'write', r.bkt)" 0)
	hot3=$(loop "influx_tokens.token_check(h.token, 'write', r.bkt)" 3)
	harness=$(loop "pg_catalog.textne(h.token, r.bkt)" 0)
	echo "$hot0 $hot3 $harness"
	exit 0
fi

rev=${1:?"usage: $0 REV"}
old=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"; make -s -C "$root" install >/dev/null' EXIT
git -C "$root" worktree add --detach "$old" "$rev" >/dev/null 2>&1
make -s -C "$old" >/dev/null
make -s -C "$root" >/dev/null
printf '%-8s %-10s %14s %14s %14s %10s %10s\n' round build "hot, no parent" "hot, depth 3" harness "0 / limit" "3 / limit"
for round in $(seq 1 "$ROUNDS"); do
	for build in "$rev" working; do
		dir=$root
		[ "$build" = "$rev" ] && dir=$old
		make -s -C "$dir" install >/dev/null
		read -r hot0 hot3 harness < <(pg_virtualenv -t -o shared_buffers=256MB -o fsync=off \
			-o shared_preload_libraries=influx_tokens bash "$here/ab.sh" --inside 2>/dev/null | grep -E "^[0-9]+ [0-9]+ [0-9]+$")
		printf '%-8s %-10s %14s %14s %14s %10s %10s\n' "$round" "$build" "$hot0" "$hot3" "$harness" \
			"$(awk -v a="$hot0" -v b="$harness" 'BEGIN { printf "%.2f", a / b }')" \
			"$(awk -v a="$hot3" -v b="$harness" 'BEGIN { printf "%.2f", a / b }')"
	done
done
