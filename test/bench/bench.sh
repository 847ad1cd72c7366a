#!/usr/bin/env bash
# influx_tokens benchmark: every figure next to the plain SQL + pgcrypto way
# of doing the same thing (baseline.sql), from one run on one machine.
#
#   bash test/bench/bench.sh            # as root on Debian 12 (installs, builds)
#
# It starts a throwaway cluster (pg_virtualenv), builds databases with 10,000
# and 1,000,000 tokens (setup.sql) and measures, for both implementations:
#   1. in-backend checks/s of one hot token, next to the same loop calling a
#      trivial built-in function (the harness limit);
#   2. in-backend checks/s over distinct tokens, each checked once, in a new
#      connection (cold cache, warm buffers), allowed and denied mixed;
#   3. pgbench -M prepared TPS of one check per transaction, next to SELECT 1;
#   4. memory per cached token, and the time to create 100,000 tokens.
# Tunables (environment): HOT_N, BASELINE_HOT_N, PGBENCH_SECONDS, BIG_N.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ "${1:-}" != "--inside" ]; then
	bash "$root/test/install-deps.sh"
	make -s -C "$root" >/dev/null
	make -s -C "$root" install >/dev/null
	exec pg_virtualenv -o shared_buffers=1GB -o max_connections=20 -o fsync=off \
		-o synchronous_commit=off bash "$0" --inside
fi

HOT_N=${HOT_N:-2000000}
BASELINE_HOT_N=${BASELINE_HOT_N:-100000}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-10}
BIG_N=${BIG_N:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

q() { psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

build() {
	local db=$1 n=$2
	createdb "$db"
	psql -XAtq -v ON_ERROR_STOP=1 -v n="$n" -d "$db" -f "$here/setup.sql" >/dev/null
	q "$db" "CREATE EXTENSION pg_prewarm" >/dev/null
}

prewarm() {
	q "$1" "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	        WHERE n.nspname IN ('influx_tokens', 'bench_sql', 'bench') AND c.relkind IN ('r', 'i')" >/dev/null
}

# checks/s of one hot token; $2 is the function call, h.token the token, bkt the bucket.
hot() {
	local db=$1 call=$2 n=$3
	local s
	s=$(q "$db" "SELECT bench.seconds(\$\$SELECT count(*) FROM generate_series(1, $n) AS g, bench.hot AS h,
	              LATERAL (SELECT CASE WHEN g > 0 THEN 'b' END AS bkt) AS r WHERE $call\$\$)")
	rate "$n" "$s"
}

# checks/s over distinct tokens, each once, in a fresh connection.
cold() {
	local db=$1 fn=$2 step=$3
	local n s
	n=$(q "$db" "SELECT count(*) FROM bench.plain WHERE i % $step = 0")
	s=$(q "$db" "SELECT bench.seconds(\$\$SELECT count(*) FILTER (WHERE $fn(token,
	              CASE WHEN i % 2 = 0 THEN 'write' ELSE 'read' END, 'b')) FROM bench.plain WHERE i % $step = 0\$\$)")
	rate "$n" "$s"
}

tps() {
	local db=$1 script=$2 tok=$3
	pgbench -n -M prepared -c 2 -j 2 -T "$PGBENCH_SECONDS" -f "$script" -D tok="$tok" "$db" 2>/dev/null |
		awk '/^tps = / { printf "%.0f", $3 }'
}

echo "SELECT 1;" >"$work/select1.sql"
echo "SELECT influx_tokens.token_check(:tok, 'write', 'b');" >"$work/ext.sql"
echo "SELECT bench_sql.token_check(:tok, 'write', 'b');" >"$work/sql.sql"

declare -A R
for size in 10k big; do
	db="bench_$size"
	n=10000
	step=1
	[ "$size" = big ] && n=$BIG_N && step=$((BIG_N / 100000))
	echo "building $db ($n tokens)..." >&2
	build "$db" "$n"
	prewarm "$db"
	tok=$(q "$db" "SELECT token FROM bench.hot")

	R[hot_ext_$size]=$(hot "$db" "influx_tokens.token_check(h.token, 'write', r.bkt)" "$HOT_N")
	R[hot_harness_$size]=$(hot "$db" "pg_catalog.textne(h.token, r.bkt)" "$HOT_N")
	R[hot_sql_$size]=$(hot "$db" "bench_sql.token_check(h.token, 'write', r.bkt)" "$BASELINE_HOT_N")
	R[cold_ext_$size]=$(cold "$db" influx_tokens.token_check "$step")
	R[cold_sql_$size]=$(cold "$db" bench_sql.token_check "$step")
	R[cold_n_$size]=$(q "$db" "SELECT count(*) FROM bench.plain WHERE i % $step = 0")
	R[tps_select1_$size]=$(tps "$db" "$work/select1.sql" "$tok")
	R[tps_ext_$size]=$(tps "$db" "$work/ext.sql" "$tok")
	R[tps_sql_$size]=$(tps "$db" "$work/sql.sql" "$tok")
done

# Memory per cached token: 10,000 distinct tokens in one backend's cache.
mem=$(psql -XAtq -v ON_ERROR_STOP=1 -d bench_10k <<'SQL'
SET influx_tokens.cache_size = 20000;
SELECT influx_tokens.token_check(NULL, 'read', 'b');
CREATE TEMP TABLE m0 AS SELECT memory_bytes FROM influx_tokens.cache_stats();
SELECT count(*) FILTER (WHERE influx_tokens.token_check(token, 'write', 'b')) FROM bench.plain WHERE i <= 10000;
SELECT (s.memory_bytes - m0.memory_bytes) / s.tokens FROM influx_tokens.cache_stats() s, m0;
SQL
)
R[mem]=$(echo "$mem" | tail -1)

# Creating 100,000 tokens in one statement.
R[create_ext]=$(q bench_10k "SELECT round(bench.seconds(\$\$SELECT count(influx_tokens.create_token('bench_create', '{write:buckets/b}')) FROM generate_series(1, 100000)\$\$)::numeric, 2)")
R[create_sql]=$(q bench_10k "SELECT round(bench.seconds(\$\$SELECT count(bench_sql.create_token('bench_create', '{write:buckets/b}')) FROM generate_series(1, 100000)\$\$)::numeric, 2)")

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "influx_tokens benchmark, $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), $(psql -XAtqc 'SHOW server_version' -d postgres | cut -d' ' -f1)"
echo "baseline = plain SQL + pgcrypto (test/bench/baseline.sql); big = $BIG_N tokens"
echo
printf "%-44s %14s %14s %9s\n" "measure" "influx_tokens" "SQL+pgcrypto" "ratio"
for size in 10k big; do
	printf "%-44s %14s %14s %8sx\n" "hot token, checks/s ($size)" "${R[hot_ext_$size]}" "${R[hot_sql_$size]}" "$(ratio "${R[hot_ext_$size]}" "${R[hot_sql_$size]}")"
	printf "%-44s %14s %14s %8sx\n" "  harness limit (textne), calls/s ($size)" "${R[hot_harness_$size]}" "" "$(ratio "${R[hot_ext_$size]}" "${R[hot_harness_$size]}")"
	printf "%-44s %14s %14s %8sx\n" "distinct tokens, cold, checks/s ($size, ${R[cold_n_$size]})" "${R[cold_ext_$size]}" "${R[cold_sql_$size]}" "$(ratio "${R[cold_ext_$size]}" "${R[cold_sql_$size]}")"
	printf "%-44s %14s %14s %8sx\n" "pgbench -M prepared TPS ($size)" "${R[tps_ext_$size]}" "${R[tps_sql_$size]}" "$(ratio "${R[tps_ext_$size]}" "${R[tps_sql_$size]}")"
	printf "%-44s %14s %14s %8sx\n" "  SELECT 1 TPS, same clients ($size)" "${R[tps_select1_$size]}" "" "$(ratio "${R[tps_ext_$size]}" "${R[tps_select1_$size]}")"
done
printf "%-44s %14s %14s %8sx\n" "slowdown big vs 10k, hot (10k/big)" "$(ratio "${R[hot_ext_10k]}" "${R[hot_ext_big]}")" "$(ratio "${R[hot_sql_10k]}" "${R[hot_sql_big]}")" ""
printf "%-44s %14s %14s %8sx\n" "slowdown big vs 10k, cold (10k/big)" "$(ratio "${R[cold_ext_10k]}" "${R[cold_ext_big]}")" "$(ratio "${R[cold_sql_10k]}" "${R[cold_sql_big]}")" ""
printf "%-44s %14s %14s %8sx\n" "create 100,000 tokens, seconds" "${R[create_ext]}" "${R[create_sql]}" "$(ratio "${R[create_sql]}" "${R[create_ext]}")"
printf "%-44s %14s\n" "memory per cached token, bytes" "${R[mem]}"
echo
echo "ratios: influx_tokens / baseline for rates (higher is better), baseline / influx_tokens for"
echo "seconds; indented rows: influx_tokens / harness limit and / SELECT 1."
