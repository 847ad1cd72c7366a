-- The per-backend cache: answers stay right while it is warm, bounded, flooded or off.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('cache_org') > 0;
SELECT influx_tokens.create_bucket('cache_org', 'b') > 0, influx_tokens.create_bucket('cache_org', 'c') > 0;
CREATE TEMP TABLE known AS
SELECT i, influx_tokens.create_token('cache_org', CASE WHEN i % 2 = 0 THEN '{write:buckets/b}' ELSE '{read:buckets}' END::text[]) AS t
FROM generate_series(1, 20) AS i;
CREATE TEMP VIEW answers AS
SELECT string_agg(CASE WHEN influx_tokens.token_check(t, 'write', 'b') THEN 'W' ELSE '-' END ||
                  CASE WHEN influx_tokens.token_check(t, 'read', 'c') THEN 'R' ELSE '-' END, '' ORDER BY i) AS a
FROM known;
CREATE TEMP TABLE s0 AS SELECT * FROM influx_tokens.cache_stats();

-- The settings default and the stats function.
SHOW influx_tokens.cache_size;
SELECT capacity FROM influx_tokens.cache_stats();

-- A second round of checks is answered from the cache.
SELECT a AS first_round FROM answers;
SELECT a AS second_round FROM answers;
SELECT s.tokens AS cached_tokens, s.buckets AS cached_buckets, s.hits - s0.hits >= 20 AS second_round_hit,
       s.memory_bytes > 0 AS holds_memory
FROM influx_tokens.cache_stats() s, s0;

-- A revoke in this session is seen at once by the warm cache, and so is its rollback.
SELECT id AS k2_id FROM known, influx_tokens.token_info(t) WHERE i = 2 \gset
BEGIN;
SELECT influx_tokens.revoke_token(:k2_id);
SELECT a AS after_revoke FROM answers;
ROLLBACK;
SELECT a AS after_rollback FROM answers;

-- Changes through plain SQL on the tables (as a superuser might) invalidate too.
BEGIN;
UPDATE influx_tokens.permissions SET action = 'read' WHERE token_id = :k2_id;
SELECT a AS after_direct_update FROM answers;
ROLLBACK;
SELECT a AS after_rollback FROM answers;

-- A dropped bucket is forgotten by the cache; its name alone grants nothing.
SELECT influx_tokens.drop_bucket('cache_org', 'c') > 0;
SELECT a AS after_bucket_drop FROM answers;
SELECT influx_tokens.create_bucket('cache_org', 'c') > 0;
SELECT a AS after_bucket_recreate FROM answers;

-- A small cache: never more entries than influx_tokens.cache_size, answers unchanged.
SET influx_tokens.cache_size = 5;
SELECT a AS with_cache_of_5 FROM answers;
SELECT tokens <= 5 AS bounded, buckets <= 5 AS buckets_bounded, evictions > 0 AS evicted FROM influx_tokens.cache_stats();

-- A flood of well-formed unknown tokens never pushes known ones out: unknown tokens are not cached.
SELECT count(*) FILTER (WHERE influx_tokens.token_check(t, 'write', 'b')) AS known_allowed FROM known WHERE i IN (2, 4, 6, 8, 10);
CREATE TEMP TABLE s1 AS SELECT * FROM influx_tokens.cache_stats();
SELECT count(*) FILTER (WHERE influx_tokens.token_check(influx_tokens._generate_token(), 'write', 'b')) AS unknown_allowed
FROM generate_series(1, 5000);
SELECT s.tokens AS cached_after_flood, s.misses - s1.misses AS flood_misses, s.evictions = s1.evictions AS nothing_evicted
FROM influx_tokens.cache_stats() s, s1;
SELECT count(*) FILTER (WHERE influx_tokens.token_check(t, 'write', 'b')) AS known_allowed FROM known WHERE i IN (2, 4, 6, 8, 10);
SELECT s.hits - s1.hits AS known_still_cached FROM influx_tokens.cache_stats() s, s1;

-- Cache off: every check reads the tables, with the same answers.
SET influx_tokens.cache_size = 0;
SELECT a AS without_cache FROM answers;
SELECT tokens, buckets FROM influx_tokens.cache_stats();
RESET influx_tokens.cache_size;

-- Expiry is compared with the clock on every hit.
SELECT influx_tokens.create_token('cache_org', '{write:buckets}', expires_at => clock_timestamp() + interval '0.5 second') AS short \gset
SELECT influx_tokens.token_check(:'short', 'write', 'b') AS before_expiry, influx_tokens.token_check(:'short', 'write', 'b') AS cached_before_expiry;
SELECT pg_sleep(0.7);
SELECT influx_tokens.token_check(:'short', 'write', 'b') AS cached_after_expiry;

-- The setting is validated.
SELECT error_of($$SET influx_tokens.cache_size = -1$$);
SELECT error_of($$SET influx_tokens.no_such_setting = 1$$);

-- One call site given the same token row after row hashes it once, and
-- answers every other token for itself: alternating tokens, one revoked,
-- one a character away from a known token.
SELECT t AS k2 FROM known WHERE i = 2 \gset
SELECT t AS k4 FROM known WHERE i = 4 \gset
SELECT id AS k4_id FROM known, influx_tokens.token_info(t) WHERE i = 4 \gset
SELECT influx_tokens.revoke_token(:k4_id) > 0 AS k4_revoked;
SELECT string_agg(CASE WHEN influx_tokens.token_check(v.t, 'write', 'b') THEN 'W' ELSE '-' END, '' ORDER BY v.n) AS same_call_site
FROM (VALUES (1, :'k2'), (2, :'k2'), (3, :'k4'), (4, :'k2'),
             (5, left(:'k2', 10) || CASE WHEN substr(:'k2', 11, 1) = 'A' THEN 'B' ELSE 'A' END || substr(:'k2', 12)),
             (6, :'k2'), (7, NULL), (8, :'k2')) AS v(n, t);
SELECT influx_tokens.activate_token(:k4_id) > 0 AS k4_back;
-- A revoke between two statements using one cached plan is in force.
PREPARE check_k2 AS SELECT influx_tokens.token_check($1, 'write', 'b');
EXECUTE check_k2(:'k2');
SELECT influx_tokens.revoke_token(id) > 0 AS k2_revoked FROM known, influx_tokens.token_info(t) WHERE i = 2;
EXECUTE check_k2(:'k2');
SELECT influx_tokens.activate_token(id) > 0 AS k2_back FROM known, influx_tokens.token_info(t) WHERE i = 2;
EXECUTE check_k2(:'k2');
DEALLOCATE check_k2;
