# Functions of the benchmark scripts for checks while tokens change
# (sourced by bench.sh and standby.sh).

# working_set KIND TABLE CHURN_DB PSQL_ARGS...: checks/s of one backend
# (connected with PSQL_ARGS) over the tokens of TABLE, 300 times in turn,
# while churn KIND (none, create, toggle: bench.churn of setup.sql) runs in
# database CHURN_DB of the default server at 100 writes a second.  Prints
# "rate misses clears" of the checking backend (clears: whole-cache
# invalidations).
working_set() {
	local kind=$1 table=$2 churn_db=$3 churn_pid=
	shift 3
	if [ "$kind" != none ]; then
		psql -XAtq -d "$churn_db" -c "CALL bench.churn('$kind', 100, 30)" >/dev/null 2>&1 &
		churn_pid=$!
		sleep 0.3
	fi
	psql -XAtq -v ON_ERROR_STOP=1 -v table="$table" "$@" <<'SQL' | tail -1
SELECT count(*) FILTER (WHERE influx_tokens.token_check(token, 'write', 'b')) FROM :table;
SELECT misses AS misses0, invalidations AS clears0 FROM influx_tokens.cache_stats() \gset
SELECT format($$SELECT count(*) FILTER (WHERE influx_tokens.token_check(w.token, 'write', 'b'))
                FROM generate_series(1, 300) AS g, %s AS w$$, :'table') AS loop \gset
SELECT round(3000000 / bench.seconds(:'loop')) AS rate \gset
SELECT :rate || ' ' || (misses - :misses0) || ' ' || (invalidations - :clears0) FROM influx_tokens.cache_stats();
SQL
	if [ -n "$churn_pid" ]; then
		psql -XAtq -d "$churn_db" -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
		         WHERE query LIKE 'CALL bench.churn%' AND pid <> pg_backend_pid()" >/dev/null
		wait "$churn_pid" 2>/dev/null || true
	fi
}

# better A B: the one of two working_set results with the higher rate (A may be empty).
better() {
	if [ -z "$1" ] || [ "${2%% *}" -gt "${1%% *}" ]; then echo "$2"; else echo "$1"; fi
}
