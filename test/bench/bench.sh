#!/usr/bin/env bash
# influx_tokens benchmark: every figure next to the plain SQL + pgcrypto way
# of doing the same thing (baseline.sql), from one run on one machine.
#
#   bash test/bench/bench.sh            # as root on Debian 12 (installs, builds)
#   bash test/bench/bench.sh --pg 17    # the same on PostgreSQL 17 (or 18, 15): the
#                                       # one installed here, else in the Debian root
#                                       # of test/pg-versions.sh
#
# It starts a throwaway cluster (pg_virtualenv -t: private), builds databases with 10,000
# and 1,000,000 tokens (setup.sql) and measures, for influx_tokens and both
# baselines (an inlined SQL function and a PL/pgSQL function):
#   1. in-backend checks/s of one hot token, next to the same loop calling a
#      trivial built-in function (the harness limit); best of 3 runs;
#   2. in-backend checks/s over distinct tokens, each checked once, in a new
#      connection (cold cache, warm buffers), allowed and denied mixed: 10,000
#      tokens in both databases (the same work, only the tables differ), and
#      100,000 in the big one (more tokens than the cache holds);
#   3. pgbench -M prepared TPS of one check per transaction, next to SELECT 1
#      (runs interleaved, best of 2, as pgbench on 2 cores is noisy);
#   4. memory per cached token, and the time to create 100,000 tokens (one
#      call each with create_token, create_token_as and import_token, all in
#      one call of create_tokens; the SQL baseline's create_token one call
#      each) and to import 100,000 InfluxDB authorizations;
#   5. row-level security from the current token (authenticate): a scan of
#      1,000,000 rows with a current_token_check policy next to the same scan
#      without one;
#   6. the cost of usage tracking: the server preloads the library, so
#      checks are counted (the default then); the hot loop and pgbench run
#      once more with influx_tokens.track_usage off;
#   7. checks while tokens change: one backend checking a working set of
#      10,000 tokens in turn (3,000,000 checks), quiet, while another session
#      creates 100 tokens a second, and while it revokes and reactivates one
#      token outside the working set 100 times a second; best of 3 each;
#   8. the shared cache (the server preloads the library): a new connection
#      checking 10,000 tokens other backends checked before, next to the
#      baselines' cold rate; 10,000 (10k) and 100,000 (big) distinct tokens
#      checked once each across 2 backends at once, after a first pass; and
#      the shared memory per cached token.
# Tunables (environment): HOT_N, BASELINE_HOT_N, PGBENCH_SECONDS, BIG_N.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

HOT_N=${HOT_N:-2000000}
BASELINE_HOT_N=${BASELINE_HOT_N:-100000}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-8}
BIG_N=${BIG_N:-1000000}
INFO_N=${INFO_N:-20000}

pg=15
if [ "${1:-}" = --pg ]; then
	pg=${2:?"usage: $0 [--pg 15|17|18]"}
	shift 2
fi
if [ "${1:-}" != "--inside" ] && [ "${1:-}" != "--info-unloaded" ]; then
	[ "$pg" = 15 ] && bash "$root/test/install-deps.sh"
	pg_config=/usr/lib/postgresql/$pg/bin/pg_config
	if [ ! -x "$pg_config" ]; then
		exec bash "$root/test/pg-versions.sh" --exec "$pg" env HOT_N="$HOT_N" BASELINE_HOT_N="$BASELINE_HOT_N" \
			PGBENCH_SECONDS="$PGBENCH_SECONDS" BIG_N="$BIG_N" INFO_N="$INFO_N" bash test/bench/bench.sh --pg "$pg"
	fi
	make -s -C "$root" clean PG_CONFIG="$pg_config" >/dev/null
	make -s -C "$root" PG_CONFIG="$pg_config" >/dev/null
	make -s -C "$root" install PG_CONFIG="$pg_config" >/dev/null
	# ssl=off: pg_virtualenv's clusters in Debian 13 and later have TLS on, and pgbench would measure it.
	exec pg_virtualenv -t -v "$pg" -o shared_buffers=1GB -o max_connections=20 -o fsync=off -o ssl=off \
		-o synchronous_commit=off -o shared_preload_libraries=influx_tokens \
		-o influx_tokens.shared_cache_size=200000 bash "$0" --inside
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The loops' generate_series is materialized; keep it in memory so that the
# harness measures function calls, not temporary-file I/O.
export PGOPTIONS="-c work_mem=256MB"

q() { psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
. "$here/churn.sh"
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
max() { printf "%s\n" "$@" | sort -n | tail -1; }

build() {
	local db=$1 n=$2
	createdb "$db"
	psql -XAtq -v ON_ERROR_STOP=1 -v n="$n" -d "$db" -f "$here/setup.sql" >/dev/null
	q "$db" "CREATE EXTENSION pg_prewarm" >/dev/null
	q "$db" "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	         WHERE n.nspname IN ('influx_tokens', 'bench_sql', 'bench') AND c.relkind IN ('r', 'i')" >/dev/null
}

# Calls/s of $2 in a loop over $3 rows, one hot token (h.token), bucket r.bkt; best of 3.
hot() {
	local db=$1 call=$2 n=$3 runs=()
	for _ in 1 2 3; do
		runs+=("$(rate "$n" "$(q "$db" "SELECT bench.seconds(\$\$SELECT count(*) FROM generate_series(1, $n) AS g,
		          bench.hot AS h, LATERAL (SELECT CASE WHEN g > 0 THEN 'b' END AS bkt) AS r WHERE $call\$\$)")")")
	done
	max "${runs[@]}"
}

# Checks/s over the distinct tokens of sample table $3, each once, in a fresh connection.
cold() {
	local db=$1 fn=$2 sample=$3 n
	n=$(q "$db" "SELECT count(*) FROM $sample")
	rate "$n" "$(q "$db" "SELECT bench.seconds(\$\$SELECT count(*) FILTER (WHERE $fn(token,
	          CASE WHEN i % 2 = 0 THEN 'write' ELSE 'read' END, 'b')) FROM $sample\$\$)")"
}

# Samples of distinct tokens, spread evenly over the table, in tables of their own
# so that picking them costs the same whatever the size of bench.plain.  The
# optional offset keeps two samples of one table apart.
sample() {
	local db=$1 name=$2 n=$3 size=$4 offset=${5:-0}
	q "$db" "CREATE TABLE bench.$name AS SELECT i, token FROM bench.plain
	         WHERE i % ($n / $size) = $offset % ($n / $size)" >/dev/null
	q "$db" "VACUUM ANALYZE bench.$name" >/dev/null
}

# Checks/s of 2 backends at once, each in a new connection checking half of
# sample $2 once (by i's parity after dividing by the sample's step), each
# timed in its backend: "the slower backend's rate, the sum of both".
spread() {
	local db=$1 sample=$2 step first
	first=$(q "$db" "SELECT min(i) FROM $sample")
	step=$(($(q "$db" "SELECT min(i) FROM $sample WHERE i > $first") - first))
	for half in 0 1; do
		q "$db" "SELECT round(count(*) / bench.seconds(\$\$SELECT count(*) FILTER (WHERE
		         influx_tokens.token_check(token, 'write', 'b')) FROM $sample WHERE (i / $step) % 2 = $half\$\$))
		         FROM $sample WHERE (i / $step) % 2 = $half" >"$work/spread.$half" &
	done
	wait
	echo "$(sort -n "$work/spread.0" "$work/spread.1" | head -1) $(($(cat "$work/spread.0") + $(cat "$work/spread.1")))"
}

tps() {
	local db=$1 script=$2 tok=$3
	pgbench -n -M prepared -c 2 -j 2 -T "$PGBENCH_SECONDS" -f "$script" -D tok="$tok" "$db" 2>/dev/null |
		awk '/^tps = / { printf "%.0f", $3 }'
}

# token_info calls/s of the hot token (a token_list row, usage included).
# (The CASE ties the call to each row: otherwise it would run once.)
info() { hot "$1" "EXISTS (SELECT FROM influx_tokens.token_info(CASE WHEN g > 0 THEN h.token END))" "$INFO_N"; }

# --info-unloaded: in a cluster without shared_preload_libraries (started by
# the main run), token_info calls/s on the 10,000-token database.
if [ "${1:-}" = --info-unloaded ]; then
	build bench_10k 10000
	info bench_10k
	exit 0
fi

echo "SELECT 1;" >"$work/select1.sql"
echo "SELECT influx_tokens.token_check(:tok, 'write', 'b');" >"$work/ext.sql"
echo "SELECT bench_sql.token_check(:tok, 'write', 'b');" >"$work/sql.sql"
echo "SELECT bench_sql.token_check_plpgsql(:tok, 'write', 'b');" >"$work/plpgsql.sql"

declare -A R
sizes=(10k big)
for size in "${sizes[@]}"; do
	db="bench_$size"
	n=10000
	if [ "$size" = big ]; then n=$BIG_N; fi
	echo "building $db ($n tokens)..." >&2
	build "$db" "$n"
	tok=$(q "$db" "SELECT token FROM bench.hot")
	sample "$db" cold_10k "$n" 10000
	[ "$size" = big ] && sample "$db" cold_100k "$n" 100000 5
	echo "measuring $db..." >&2

	R[hot_ext_$size]=$(hot "$db" "influx_tokens.token_check(h.token, 'write', r.bkt)" "$HOT_N")
	R[hot_untracked_$size]=$(PGOPTIONS="$PGOPTIONS -c influx_tokens.track_usage=off" \
		hot "$db" "influx_tokens.token_check(h.token, 'write', r.bkt)" "$HOT_N")
	R[hot_harness_$size]=$(hot "$db" "pg_catalog.textne(h.token, r.bkt)" "$HOT_N")
	R[hot_sql_$size]=$(hot "$db" "bench_sql.token_check(h.token, 'write', r.bkt)" "$BASELINE_HOT_N")
	R[hot_plpgsql_$size]=$(hot "$db" "bench_sql.token_check_plpgsql(h.token, 'write', r.bkt)" "$BASELINE_HOT_N")
	for impl in ext:influx_tokens.token_check sql:bench_sql.token_check plpgsql:bench_sql.token_check_plpgsql; do
		R[cold_${impl%%:*}_$size]=$(cold "$db" "${impl#*:}" bench.cold_10k)
		if [ "$size" = big ]; then
			R[cold100k_${impl%%:*}_$size]=$(cold "$db" "${impl#*:}" bench.cold_100k)
		fi
	done
	# The shared cache: cold_10k was checked above (by other connections).
	R[shared_ext_$size]=$(max "$(cold "$db" influx_tokens.token_check bench.cold_10k)" \
		"$(cold "$db" influx_tokens.token_check bench.cold_10k)")
	if [ "$size" = big ]; then
		spread "$db" bench.cold_100k >/dev/null # the first pass
		R[spread_big]=$(better "$(spread "$db" bench.cold_100k)" "$(spread "$db" bench.cold_100k)")
	else
		R[shared_bytes]=$(q "$db" "SELECT bytes_per_token FROM influx_tokens.shared_cache_stats()")
		echo "measuring $db while tokens change..." >&2
		for round in 1 2 3; do
			for kind in none create toggle; do
				R[ws_$kind]=$(better "${R[ws_$kind]:-}" "$(working_set $kind bench.cold_10k "$db" -d "$db")")
			done
		done
	fi
	for round in 1 2; do
		for impl in select1 ext sql plpgsql untracked; do
			if [ $impl = untracked ]; then
				t=$(PGOPTIONS="-c influx_tokens.track_usage=off" tps "$db" "$work/ext.sql" "$tok")
			else
				t=$(tps "$db" "$work/$impl.sql" "$tok")
			fi
			R[tps_${impl}_$size]=$(max "${R[tps_${impl}_$size]:-0}" "$t")
		done
	done
done

# Memory per cached token: 10,000 distinct tokens in one backend's cache.
# token_info with every token of the cluster's usage table counted (the
# cold runs above counted 10,000 + 100,000 distinct tokens), next to a server
# without the library preloaded (no counters at all): 1.1 read every counter
# on each call.
R[info_tracked]=$(info bench_10k)
R[info_counted]=$(q bench_10k "SELECT tracked_tokens FROM influx_tokens.usage_stats()")
echo "measuring token_info without preloading..." >&2
# A port of its own: a new throwaway cluster would take $PGPORT, this one's.
R[info_unloaded]=$(PGPORT=$((PGPORT + 1)) pg_virtualenv -t -v "$pg" -o ssl=off -o fsync=off \
	bash "$0" --pg "$pg" --info-unloaded | grep -E '^[0-9]+$' | tail -1)

R[mem]=$(psql -XAtq -v ON_ERROR_STOP=1 -d bench_10k <<'SQL' | tail -1
SET influx_tokens.cache_size = 20000;
SELECT influx_tokens.token_check(NULL, 'read', 'b');
CREATE TEMP TABLE m0 AS SELECT memory_bytes FROM influx_tokens.cache_stats();
SELECT count(*) FILTER (WHERE influx_tokens.token_check(token, 'write', 'b')) FROM bench.plain WHERE i <= 10000;
SELECT (s.memory_bytes - m0.memory_bytes) / s.tokens FROM influx_tokens.cache_stats() s, m0;
SQL
)

# Creating 100,000 tokens in one statement: one call each (create_token, the
# baseline's create_token, create_token_as, import_token), with one call of
# create_tokens, and importing 100,000 InfluxDB authorizations (prepared
# outside the timing) with import_influxdb2.
seconds_of() {
	q bench_10k "SELECT round(bench.seconds(\$\$$1\$\$)::numeric, 2)"
}
R[create_ext]=$(seconds_of "SELECT count(influx_tokens.create_token('bench_create', '{write:buckets/b}'))
	FROM generate_series(1, 100000)")
R[create_sql]=$(seconds_of "SELECT count(bench_sql.create_token('bench_create', '{write:buckets/b}'))
	FROM generate_series(1, 100000)")
R[create_as]=$(seconds_of "SELECT count(influx_tokens.create_token_as(p.token, '{write:buckets/b}'))
	FROM bench.parent AS p, generate_series(1, 100000)")
R[import_one]=$(seconds_of "SELECT count(influx_tokens.import_token('bench_create', 'imported-' || md5(i::text),
	'{write:buckets/b}')) FROM generate_series(1, 100000) AS i")
R[create_bulk]=$(seconds_of "SELECT count(*) FROM (SELECT influx_tokens.create_tokens('bench_create',
	'{write:buckets/b}', 100000)) AS s")
q bench_10k "CREATE TABLE bench.export AS SELECT jsonb_agg(jsonb_build_object(
	'id', lpad(to_hex(i), 16, '0'), 'orgID', '0a1b2c3d4e5f6071', 'org', 'bench_import', 'status', 'active',
	'token', rpad(md5(i::text) || md5((-i)::text), 86, 'x') || '==',
	'permissions', jsonb_build_array(jsonb_build_object('action', 'write',
	    'resource', jsonb_build_object('type', 'buckets', 'orgID', '0a1b2c3d4e5f6071'))))) AS doc
	FROM generate_series(1, 100000) AS i" >/dev/null
R[import_influx]=$(seconds_of "SELECT influx_tokens.import_influxdb2(doc, create_missing => true) FROM bench.export")

# Row-level security from the current token: a scan of 1,000,000 rows of an
# application table with a policy (current_token_check per row), as a role
# that does not own it, next to the same scan of a copy without the policy;
# best of 3 each.
q bench_10k "
	CREATE TABLE bench.points AS SELECT CASE WHEN i % 2 = 0 THEN 'b' ELSE 'other' END AS bucket,
	    'cpu,host=h' || (i % 100) || ' v=' || i AS line FROM generate_series(1, 1000000) AS i;
	CREATE TABLE bench.points_open AS TABLE bench.points;
	CREATE TABLE bench.points_list AS TABLE bench.points;
	ALTER TABLE bench.points ENABLE ROW LEVEL SECURITY;
	CREATE POLICY read_by_token ON bench.points USING (influx_tokens.current_token_check('read', bucket));
	ALTER TABLE bench.points_list ENABLE ROW LEVEL SECURITY;
	CREATE POLICY read_by_list ON bench.points_list
	    USING (bucket = ANY ((SELECT influx_tokens.current_token_buckets('read'))::text[]));
	CREATE TABLE bench.rls_token AS SELECT influx_tokens.create_token('bench', '{read:buckets}') AS token;
	CREATE ROLE bench_app;
	GRANT USAGE ON SCHEMA bench TO bench_app;
	GRANT SELECT ON bench.points, bench.points_open, bench.points_list, bench.rls_token TO bench_app" >/dev/null
q bench_10k "VACUUM ANALYZE bench.points, bench.points_open, bench.points_list" >/dev/null
scan_seconds() {
	psql -XAtq -v ON_ERROR_STOP=1 -d bench_10k <<SQL | tail -1
SET ROLE bench_app;
BEGIN;
SELECT influx_tokens.authenticate(token) FROM bench.rls_token;
SELECT least(bench.seconds('SELECT count(*) FROM $1'), bench.seconds('SELECT count(*) FROM $1'),
             bench.seconds('SELECT count(*) FROM $1'));
COMMIT;
SQL
}
R[rls_policy]=$(scan_seconds bench.points)
R[rls_open]=$(scan_seconds bench.points_open)
R[rls_list]=$(scan_seconds bench.points_list)

row() { printf "%-48s %13s %13s %13s %9s %9s\n" "$@"; }
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "influx_tokens benchmark, $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), PostgreSQL $(q postgres 'SHOW server_version' | cut -d' ' -f1)"
echo "SQL = inlined SQL function + pgcrypto, PL/pgSQL = PL/pgSQL + pgcrypto (test/bench/baseline.sql); big = $BIG_N tokens"
echo
row "measure" "influx_tokens" "SQL" "PL/pgSQL" "vs SQL" "vs PL/pgSQL"
for size in "${sizes[@]}"; do
	for m in hot cold cold100k tps; do
		[ -n "${R[${m}_ext_$size]:-}" ] || continue
		case $m in
			hot) label="hot token, checks/s ($size)" ;;
			cold) label="10,000 distinct tokens, cold, checks/s ($size)" ;;
			cold100k) label="100,000 distinct tokens, cold, checks/s ($size)" ;;
			tps) label="pgbench -M prepared, TPS ($size)" ;;
		esac
		row "$label" "${R[${m}_ext_$size]}" "${R[${m}_sql_$size]}" "${R[${m}_plpgsql_$size]}" \
			"$(ratio "${R[${m}_ext_$size]}" "${R[${m}_sql_$size]}")x" \
			"$(ratio "${R[${m}_ext_$size]}" "${R[${m}_plpgsql_$size]}")x"
		if [ $m = hot ]; then
			row "  harness limit (textne), calls/s" "${R[hot_harness_$size]}" "" "" \
				"$(ratio "${R[hot_ext_$size]}" "${R[hot_harness_$size]}")x of limit" ""
			row "  without usage tracking, checks/s" "${R[hot_untracked_$size]}" "" "" \
				"$(ratio "${R[hot_ext_$size]}" "${R[hot_untracked_$size]}")x tracked/not" ""
		fi
		if [ $m = tps ]; then
			row "  SELECT 1, same clients, TPS" "${R[tps_select1_$size]}" "" "" \
				"$(ratio "${R[tps_ext_$size]}" "${R[tps_select1_$size]}")x of it" ""
			row "  without usage tracking, TPS" "${R[tps_untracked_$size]}" "" "" \
				"$(ratio "${R[tps_ext_$size]}" "${R[tps_untracked_$size]}")x tracked/not" ""
		fi
	done
done
row "big vs 10k, hot (rate 10k / rate big)" "$(ratio "${R[hot_ext_10k]}" "${R[hot_ext_big]}")" \
	"$(ratio "${R[hot_sql_10k]}" "${R[hot_sql_big]}")" "$(ratio "${R[hot_plpgsql_10k]}" "${R[hot_plpgsql_big]}")" "" ""
row "big vs 10k, cold (rate 10k / rate big)" "$(ratio "${R[cold_ext_10k]}" "${R[cold_ext_big]}")" \
	"$(ratio "${R[cold_sql_10k]}" "${R[cold_sql_big]}")" "$(ratio "${R[cold_plpgsql_10k]}" "${R[cold_plpgsql_big]}")" "" ""
row "create 100,000 tokens, one call each, s" "${R[create_ext]}" "${R[create_sql]}" "" \
	"$(ratio "${R[create_sql]}" "${R[create_ext]}")x" ""
row "  create_token_as, one call each, s" "${R[create_as]}" "" "" \
	"$(ratio "${R[create_sql]}" "${R[create_as]}")x" ""
row "  import_token, one call each, s" "${R[import_one]}" "" "" \
	"$(ratio "${R[create_sql]}" "${R[import_one]}")x" ""
row "  create_tokens, one call for all, s" "${R[create_bulk]}" "" "" \
	"$(ratio "${R[create_sql]}" "${R[create_bulk]}")x" ""
row "import 100,000 InfluxDB tokens (import_influxdb2), s" "${R[import_influx]}" "" "" "" ""
row "scan 1,000,000 rows, policy current_token_check, s" "${R[rls_policy]}" "" "" \
	"$(ratio "${R[rls_policy]}" "${R[rls_open]}")x time" ""
row "  policy bucket = ANY (current_token_buckets), s" "${R[rls_list]}" "" "" \
	"$(ratio "${R[rls_list]}" "${R[rls_open]}")x time" ""
row "  the same scan without the policy, s" "${R[rls_open]}" "" "" "" ""
row "memory per cached token, bytes" "${R[mem]}" "" "" "" ""
row "  shared memory per cached token, bytes" "${R[shared_bytes]}" "" "" "" ""
echo
row "while tokens change (10k working set, one backend)" "checks/s" "misses" "clears" "vs quiet" ""
for kind in none create toggle; do
	case $kind in
		none) label="  quiet" ;;
		create) label="  another session creates 100 tokens/s" ;;
		toggle) label="  another revokes/reactivates 1 token 100/s" ;;
	esac
	set -- ${R[ws_$kind]}
	row "$label" "$1" "$2" "$3" "$(ratio "$1" "${R[ws_none]%% *}")x" ""
done
echo
row "shared cache" "influx_tokens" "SQL" "PL/pgSQL" "vs SQL" "vs PL/pgSQL"
for size in "${sizes[@]}"; do
	row "new connection, 10,000 tokens others checked ($size)" "${R[shared_ext_$size]}" \
		"${R[cold_sql_$size]}" "${R[cold_plpgsql_$size]}" \
		"$(ratio "${R[shared_ext_$size]}" "${R[cold_sql_$size]}")x" \
		"$(ratio "${R[shared_ext_$size]}" "${R[cold_plpgsql_$size]}")x"
done
set -- ${R[spread_big]}
row "2 backends, 100,000 of 1,000,000, once each (big)" "$1" "" "" \
	"$(ratio "${R[shared_ext_10k]}" "$1")x slower" ""
row "  per backend, the slower one; both together" "$1" "$2" "" "" ""
row "token_info, calls/s, ${R[info_counted]} tokens counted (10k)" "${R[info_tracked]}" "" "" \
	"$(ratio "${R[info_unloaded]}" "${R[info_tracked]}")x time of not preloaded" ""
row "  not preloaded (no counters), calls/s" "${R[info_unloaded]}" "" "" "" ""
echo
echo "Rates: higher is better; 'vs' columns are influx_tokens / baseline (for seconds, baseline / influx_tokens)."
echo "Cold: each token checked once, in a new connection, and never before by any backend (the shared cache"
echo "holds 200,000 tokens here, each backend's 10,000 by default); 'others checked': before, by other backends."
echo "While tokens change: misses and clears (whole-cache invalidations) of the checking backend."
echo "The server preloads influx_tokens, so checks are counted (influx_tokens.track_usage = on) except in"
echo "the rows 'without usage tracking'."
