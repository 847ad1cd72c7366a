-- Provisioning a fleet: create_tokens makes many tokens in one call, each with its own secret.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('prov_org') > 0, influx_tokens.create_bucket('prov_org', 'b') > 0;

-- 2,500 tokens (three batches) with the same permissions, description, labels and expiry.
CREATE TEMP TABLE fleet AS
SELECT (f).id, (f).token
FROM (SELECT influx_tokens.create_tokens('prov_org', '{write:buckets/b}', 2500, 'fleet a',
                                         '{fleet:a}', now() + interval '1 day') AS f) AS s;
SELECT count(*) AS tokens, count(DISTINCT token) AS distinct_secrets, count(DISTINCT id) AS distinct_ids,
       bool_and(token ~ '^ixt_[0-9A-Za-z]{40}$') AS well_formed
FROM fleet;
SELECT count(*) FILTER (WHERE influx_tokens.token_check(token, 'write', 'b')) AS write,
       count(*) FILTER (WHERE influx_tokens.token_check(token, 'read', 'b')) AS read
FROM fleet;
SELECT count(*) AS info_by_own_id FROM fleet f, influx_tokens.token_info(f.token) AS i WHERE i.id = f.id;
SELECT description, labels, permissions, expires_at > now() AS expires, count(*)
FROM influx_tokens.token_list WHERE org = 'prov_org' GROUP BY 1, 2, 3, 4;
-- Only digests are stored.
SELECT count(*) AS plaintext_stored FROM influx_tokens.tokens t JOIN fleet f ON position(convert_to(f.token, 'UTF8') IN t.digest) > 0;

-- In FROM as well, with defaults; zero tokens is an empty result.
SELECT count(*) AS from_clause FROM influx_tokens.create_tokens('prov_org', '{read:buckets}', 3);
SELECT count(*) AS none FROM influx_tokens.create_tokens('prov_org', '{read:buckets}', 0);

-- Bad arguments: a clear error, and nothing is created.
SELECT count(*) AS tokens_before FROM influx_tokens.tokens \gset
SELECT error_of($$SELECT count(*) FROM influx_tokens.create_tokens('prov_org', '{read:buckets}', -1)$$);
SELECT error_of($$SELECT count(*) FROM influx_tokens.create_tokens('prov_org', '{read:buckets}', NULL)$$);
SELECT error_of($$SELECT count(*) FROM influx_tokens.create_tokens('prov_org', '{read:buckets}', 1000001)$$);
SELECT error_of($$SELECT count(*) FROM influx_tokens.create_tokens('nowhere', '{read:buckets}', 10)$$);
SELECT error_of($$SELECT count(*) FROM influx_tokens.create_tokens('prov_org', '{write:buckets/missing}', 10)$$);
SELECT error_of($$SELECT count(*) FROM influx_tokens.create_tokens('prov_org', '{bogus}', 10)$$);
SELECT error_of($$SELECT count(*) FROM influx_tokens.create_tokens('prov_org', '{}', 10)$$);
SELECT error_of(format('SELECT count(*) FROM influx_tokens.create_tokens(%L, %L, 10, labels => ARRAY[%L])',
                       'prov_org', '{read:buckets}', 'fleet' || chr(8203)));
SELECT error_of($$SELECT count(*) FROM influx_tokens.create_tokens('prov_org', '{read:buckets}', 10, expires_at => '2000-01-01')$$);
SELECT error_of($$SELECT count(*) FROM influx_tokens.create_tokens('prov_org', '{read:buckets}', 10, repeat('x', 1025))$$);
-- All or nothing: a failure after the tokens were made undoes every one of them.
SELECT error_of($$SELECT (f).id / 0 FROM (SELECT influx_tokens.create_tokens('prov_org', '{read:buckets}', 1500) AS f) s$$);
SELECT count(*) - :tokens_before AS created_by_failures FROM influx_tokens.tokens;

-- Administrators only.
CREATE ROLE regress_prov_app;
SET ROLE regress_prov_app;
SELECT error_of($$SELECT count(*) FROM influx_tokens.create_tokens('prov_org', '{read:buckets}', 1)$$);
RESET ROLE;
DROP ROLE regress_prov_app;

-- Creating tokens leaves this session's cache warm (nothing cached can be stale), and a
-- token this transaction created and checked is gone from the cache when it rolls back.
SELECT count(*) FILTER (WHERE influx_tokens.token_check(token, 'write', 'b')) AS warm FROM fleet;
CREATE TEMP TABLE s0 AS SELECT * FROM influx_tokens.cache_stats();
SELECT count(*) AS more FROM influx_tokens.create_tokens('prov_org', '{read:buckets}', 10);
SELECT influx_tokens.create_token('prov_org', '{read:buckets}') IS NOT NULL AS one_more;
SELECT count(*) FILTER (WHERE influx_tokens.token_check(token, 'write', 'b')) AS still_warm FROM fleet;
SELECT s.invalidations - s0.invalidations AS invalidations, s.hits - s0.hits >= 2500 AS answered_from_cache
FROM influx_tokens.cache_stats() s, s0;
BEGIN;
SELECT string_agg((f).token, ',') AS doomed FROM (SELECT influx_tokens.create_tokens('prov_org', '{read:buckets}', 2) AS f) s \gset
SELECT count(*) FILTER (WHERE influx_tokens.token_check(t, 'read', 'b')) AS inside,
       count(*) FILTER (WHERE influx_tokens.token_check(t, 'read', 'b')) AS inside_again
FROM unnest(string_to_array(:'doomed', ',')) AS t;
ROLLBACK;
SELECT count(*) FILTER (WHERE influx_tokens.token_check(t, 'read', 'b')) AS after_rollback
FROM unnest(string_to_array(:'doomed', ',')) AS t;
