#!/usr/bin/env bash
# What delegation held over time costs (README, "Managing tokens with a
# token"), next to the plain SQL + pgcrypto way of asking the same of a
# chain of tokens, from one run on one machine:
#   1. checks/s of one hot token: a token without a parent and a
#      great-grandchild (depth 3), next to the loop calling a trivial
#      built-in function (the harness limit); best of 3 each;
#   2. checks/s when every check reads the tables (influx_tokens.cache_size
#      = 0): depth 0, 1 and 3, next to a SQL function (pgcrypto's digest,
#      a recursive CTE over the ancestors' status and expiry, the token's
#      grants); best of 3 each;
#   3. management by token next to the administrator's forms: revoke and
#      reactivate pairs per second, and listing an organization of 10,000
#      tokens with InfluxDB's bodies (list_tokens_as next to export_tokens).
#
#   bash test/bench/lineage.sh          # as root on Debian 12 (installs, builds)
# Tunables (environment): HOT_N, MISS_N, PAIRS_N.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
HOT_N=${HOT_N:-2000000}
MISS_N=${MISS_N:-100000}
PAIRS_N=${PAIRS_N:-2000}

if [ "${1:-}" != "--inside" ]; then
	bash "$root/test/install-deps.sh"
	make -s -C "$root" clean >/dev/null
	make -s -C "$root" >/dev/null
	make -s -C "$root" install >/dev/null
	exec pg_virtualenv -t -o shared_buffers=512MB -o fsync=off -o synchronous_commit=off bash "$0" --inside
fi
export PGOPTIONS="-c work_mem=256MB"
q() { psql -XAtq -v ON_ERROR_STOP=1 -d lineage -c "$1"; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
best() { printf "%s\n" "$@" | sort -n | tail -1; }

createdb lineage
psql -XAtq -v ON_ERROR_STOP=1 -d lineage >/dev/null <<'SQL'
CREATE EXTENSION influx_tokens;
CREATE EXTENSION pgcrypto;
SELECT influx_tokens.create_org('acme');
SELECT influx_tokens.create_bucket('acme', 'b');
CREATE SCHEMA bench;
CREATE TABLE bench.chain (depth int PRIMARY KEY, token text NOT NULL);
INSERT INTO bench.chain VALUES (0, influx_tokens.create_token('acme',
    '{write:authorizations,read:authorizations,write:buckets/b}', 'root'));
DO $$
BEGIN
    FOR d IN 1..3 LOOP
        INSERT INTO bench.chain SELECT d, influx_tokens.create_token_as(c.token,
            '{write:authorizations,read:authorizations,write:buckets/b}', 'depth ' || d)
        FROM bench.chain AS c WHERE c.depth = d - 1;
    END LOOP;
END
$$;
-- 10,000 more tokens in the organization, for the listing.
SELECT count(*) FROM influx_tokens.create_tokens('acme', '{write:buckets/b}', 10000);
ANALYZE;
CREATE FUNCTION bench.seconds(statement text) RETURNS float8 LANGUAGE plpgsql AS $f$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN EXECUTE statement; RETURN extract(epoch FROM clock_timestamp() - t0); END $f$;
-- The plain SQL way: the token by its digest, every ancestor active and
-- unexpired, and a grant on the bucket.
CREATE FUNCTION bench.sql_check(token text, action text, bucket text) RETURNS boolean
LANGUAGE sql STABLE AS $f$
    WITH RECURSIVE me AS (
        SELECT t.id, t.org_id FROM influx_tokens.tokens AS t
        WHERE t.digest = public.digest(token, 'sha256')),
    chain AS (
        SELECT t.id, t.parent_id, t.status, t.expires_at, 0 AS depth
        FROM influx_tokens.tokens AS t JOIN me ON t.id = me.id
      UNION ALL
        SELECT p.id, p.parent_id, p.status, p.expires_at, c.depth + 1
        FROM influx_tokens.tokens AS p JOIN chain AS c ON p.id = c.parent_id WHERE c.depth < 64)
    SELECT COALESCE((SELECT bool_and(c.status = 'active' AND (c.expires_at IS NULL OR c.expires_at > clock_timestamp()))
                     FROM chain AS c), false)
       AND EXISTS (SELECT FROM me JOIN influx_tokens.permissions AS p ON p.token_id = me.id
                   JOIN influx_tokens.buckets AS b ON b.id = p.bucket_id
                   WHERE p.action = sql_check.action AND b.name = sql_check.bucket AND b.org_id = me.org_id)
$f$;
SQL

# Calls/s of $1 over $2 rows, the token of depth $3; best of 3.
loop() {
	local call=$1 n=$2 depth=$3 runs=()
	for _ in 1 2 3; do
		runs+=("$(rate "$n" "$(q "SELECT bench.seconds(\$\$SELECT count(*) FROM generate_series(1, $n) AS g,
		          bench.chain AS h, LATERAL (SELECT CASE WHEN g > 0 THEN 'b' END AS bkt) AS r
		          WHERE h.depth = $depth AND $call\$\$)")")")
	done
	best "${runs[@]}"
}
check="influx_tokens.token_check(h.token, 'write', r.bkt)"
[ "$(q "SELECT bool_and(influx_tokens.token_check(token, 'write', 'b') AND bench.sql_check(token, 'write', 'b')) FROM bench.chain")" = t ] ||
	{ echo "the chain does not work" >&2; exit 1; }

hot0=$(loop "$check" "$HOT_N" 0)
hot3=$(loop "$check" "$HOT_N" 3)
harness=$(loop "pg_catalog.textne(h.token, r.bkt)" "$HOT_N" 0)
export PGOPTIONS="$PGOPTIONS -c influx_tokens.cache_size=0"
miss0=$(loop "$check" "$MISS_N" 0)
miss1=$(loop "$check" "$MISS_N" 1)
miss3=$(loop "$check" "$MISS_N" 3)
sql0=$(loop "bench.sql_check(h.token, 'write', r.bkt)" "$MISS_N" 0)
sql3=$(loop "bench.sql_check(h.token, 'write', r.bkt)" "$MISS_N" 3)
export PGOPTIONS="-c work_mem=256MB"

target=$(q "SELECT lpad(to_hex(id), 16, '0') FROM influx_tokens.token_list ORDER BY id DESC LIMIT 1")
target_id=$(q "SELECT max(id) FROM influx_tokens.token_list")
pairs_as=$(rate "$PAIRS_N" "$(q "SELECT bench.seconds(\$\$SELECT count(*) FROM generate_series(1, $PAIRS_N) AS g, bench.chain AS h,
	LATERAL (SELECT influx_tokens.revoke_token_as(h.token, '$target') + influx_tokens.activate_token_as(h.token, '$target')
	         WHERE g > 0) AS x
	WHERE h.depth = 0\$\$)")")
pairs_admin=$(rate "$PAIRS_N" "$(q "SELECT bench.seconds(\$\$SELECT count(*) FROM generate_series(1, $PAIRS_N) AS g,
	LATERAL (SELECT influx_tokens.revoke_token($target_id) + influx_tokens.activate_token($target_id) WHERE g > 0) AS x\$\$)")")
list_as=$(q "SELECT bench.seconds(\$\$SELECT count(*) FROM bench.chain AS h, influx_tokens.list_tokens_as(h.token) WHERE h.depth = 0\$\$)")
list_admin=$(q "SELECT bench.seconds(\$\$SELECT jsonb_array_length(influx_tokens.export_tokens('acme'))\$\$)")

printf '%-58s %12s %12s\n' "measure" "influx_tokens" "vs"
printf '%-58s %12s %12s\n' "hot token, no parent, checks/s" "$hot0" "$(ratio "$hot0" "$harness")x limit"
printf '%-58s %12s %12s\n' "hot token, depth 3, checks/s" "$hot3" "$(ratio "$hot3" "$harness")x limit"
printf '%-58s %12s %12s\n' "  harness limit (textne), calls/s" "$harness" ""
printf '%-58s %12s %12s\n' "every check reads the tables, no parent, checks/s" "$miss0" "$(ratio "$miss0" "$sql0")x SQL"
printf '%-58s %12s %12s\n' "every check reads the tables, depth 1, checks/s" "$miss1" "$(ratio "$miss1" "$miss0")x depth 0"
printf '%-58s %12s %12s\n' "every check reads the tables, depth 3, checks/s" "$miss3" "$(ratio "$miss3" "$sql3")x SQL"
printf '%-58s %12s %12s\n' "  SQL + pgcrypto, no parent / depth 3, checks/s" "$sql0" "$sql3"
printf '%-58s %12s %12s\n' "revoke + reactivate by token, pairs/s" "$pairs_as" "$(ratio "$pairs_as" "$pairs_admin")x admin"
printf '%-58s %12s %12s\n' "  by the administrator's forms, pairs/s" "$pairs_admin" ""
printf '%-58s %12s %12s\n' "list 10,004 tokens by token (list_tokens_as), s" "$list_as" "$(ratio "$list_as" "$list_admin")x time"
printf '%-58s %12s %12s\n' "  the same bodies by export_tokens (administrator), s" "$list_admin" ""
