-- Hostile input: NULL in every argument of every function, random strings, huge
-- strings, and tokens passed where they do not belong.  No crash, no NULL from a
-- check, a clear error where one is due, and no token in any message.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('hostile_org') > 0;
SELECT influx_tokens.create_bucket('hostile_org', 'b') > 0;
SELECT influx_tokens.create_token('hostile_org', '{write:buckets/b,read:orgs}') AS tok \gset
SELECT id AS tok_id FROM influx_tokens.token_info(:'tok') \gset

-- NULL in each argument of each public function, the others plausible.
CREATE TEMP TABLE samples (type regtype PRIMARY KEY, value text);
INSERT INTO samples VALUES ('text', quote_literal('hostile_org')), ('text[]', $$'{read:orgs}'::text[]$$),
    ('bigint', :'tok_id'), ('timestamp with time zone', $$now() + interval '1 day'$$), ('boolean', 'false'),
    ('jsonb', $$'[]'::jsonb$$), ('interval', $$interval '1 minute'$$);
BEGIN;
SELECT p.proname, n AS null_argument,
       error_of(format('SELECT %s(%s)', p.oid::regproc,
           (SELECT string_agg(CASE WHEN a.i = n THEN 'NULL::' || format_type(a.t, NULL) ELSE s.value END, ', ' ORDER BY a.i)
            FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i) JOIN samples s ON s.type = a.t))) AS outcome
FROM pg_proc p, generate_series(1, p.pronargs) AS n
WHERE p.pronamespace = 'influx_tokens'::regnamespace AND p.proname !~ '^_' AND p.prokind = 'f'
ORDER BY 1, 2, 3 COLLATE "C";
ROLLBACK;
-- The checks never return NULL, whatever is NULL (except the action, an error above).
SELECT influx_tokens.token_check(t, 'read', b) IS NULL AS check_null, influx_tokens.token_allows(t, 'read:orgs') IS NULL AS allows_null
FROM (VALUES (NULL, NULL), (:'tok', NULL), (NULL, 'b')) AS v(t, b);

-- 2000 random ASCII strings (control characters included) in every text argument of the checks.
SELECT setseed(0.42);
CREATE TEMP TABLE junk AS
SELECT i, (SELECT string_agg(chr(1 + (random() * 126)::int), '') FROM generate_series(1, (random() * 120)::int) WHERE i > 0) AS s
FROM generate_series(1, 2000) AS i;
UPDATE junk SET s = '' WHERE s IS NULL;
SELECT count(*) AS strings, count(*) FILTER (WHERE influx_tokens.token_check(s, 'write', 'b') IS NOT FALSE) AS as_token_not_false,
       count(*) FILTER (WHERE influx_tokens.token_check(:'tok', 'write', s) IS NOT FALSE) AS as_bucket_not_false,
       count(*) FILTER (WHERE influx_tokens.token_allows(s, 'write:buckets/b') IS NOT FALSE) AS allows_not_false
FROM junk;
SELECT left(error_of(format('SELECT influx_tokens.token_check(%L, %L, %L)', :'tok', s, 'b')), 5) AS as_action, count(*)
FROM junk GROUP BY 1 ORDER BY 1;
SELECT left(error_of(format('SELECT influx_tokens.token_allows(%L, %L)', :'tok', s)), 5) AS as_permission, count(*)
FROM junk GROUP BY 1 ORDER BY 1;
BEGIN;
SELECT left(error_of(format('SELECT influx_tokens.create_org(%L)', s)), 5) AS as_org_name, count(*)
FROM junk GROUP BY 1 ORDER BY 1;
SELECT left(error_of(format('SELECT influx_tokens.create_token(%L, ARRAY[%L])', 'hostile_org', s)), 5) AS as_permission, count(*)
FROM junk GROUP BY 1 ORDER BY 1;
ROLLBACK;

-- Well-formed-looking garbage: the prefix with random base62, right length, wrong checksum.
SELECT count(*) FILTER (WHERE influx_tokens.token_check('ixt_' || substr(md5(i::text) || md5((i + 1)::text), 1, 40), 'write', 'b')) AS forged_allowed
FROM generate_series(1, 5000) AS i;

-- 1 MB in every text argument.
SELECT influx_tokens.token_check(repeat('ixt_', 250000), 'write', 'b') AS huge_token,
       influx_tokens.token_check(:'tok', 'write', repeat('b', 1000000)) AS huge_bucket,
       influx_tokens.token_allows(repeat('a', 1000000), 'read:orgs') AS huge_token_allows;
SELECT length(error_of($$SELECT influx_tokens.token_check('x', repeat('w', 1000000), 'b')$$)) < 100 AS short_message_action,
       length(error_of($$SELECT influx_tokens.token_allows('x', repeat('w', 1000000))$$)) < 100 AS short_message_permission,
       length(error_of($$SELECT influx_tokens.create_org(repeat('o', 1000000))$$)) < 150 AS short_message_org,
       length(error_of($$SELECT influx_tokens.create_token('hostile_org', '{read:orgs}', repeat('d', 1000000))$$)) < 100 AS short_message_description;
SELECT count(*) FROM influx_tokens.token_info(repeat('x', 1000000));

-- Escapes and quoting are data, never syntax.
SELECT influx_tokens.token_check(E'ixt_\\x00\'; DROP TABLE influx_tokens.tokens; --', 'write', 'b') AS injection,
       influx_tokens.token_check(:'tok', 'write', E'b\'; --') AS injection_bucket;
SELECT influx_tokens.create_bucket('hostile_org', E'quote\'s "and" back\\slash') > 0 AS odd_name_accepted;
SELECT influx_tokens.create_token('hostile_org', ARRAY[E'write:buckets/quote\'s "and" back\\slash']) AS odd \gset
SELECT influx_tokens.token_check(:'odd', 'write', E'quote\'s "and" back\\slash') AS odd_bucket_works;
SELECT to_regclass('influx_tokens.tokens') IS NOT NULL AS tokens_table_intact;

-- A token passed where it does not belong is never quoted back.
SELECT f AS call_with_token_misplaced, replace(error_of(format(f, :'tok')), :'tok', '<TOKEN>') AS outcome
FROM unnest(ARRAY[
    'SELECT influx_tokens.token_check(%1$L, %1$L, %1$L)',
    'SELECT influx_tokens.token_allows(%1$L, %1$L)',
    'SELECT influx_tokens.token_allows(%1$L, ''write:buckets/'' || %1$L)',
    'SELECT influx_tokens.create_org(%1$L)',
    'SELECT influx_tokens.create_org(''x'' || repeat(''y'', 200) || %1$L)',
    'SELECT influx_tokens.create_bucket(%1$L, ''b'')',
    'SELECT influx_tokens.create_bucket(''hostile_org'', %1$L)',
    'SELECT influx_tokens.create_token(%1$L, ''{read:orgs}'')',
    'SELECT influx_tokens.create_token(''hostile_org'', ARRAY[%1$L])',
    'SELECT influx_tokens.create_token(''hostile_org'', ARRAY[''write:buckets/'' || %1$L])',
    'SELECT influx_tokens.create_token(''hostile_org'', ''{read:orgs}'', NULL, ARRAY[E''bad\t'' || %1$L])',
    'SELECT influx_tokens.create_token(''hostile_org'', ''{read:orgs}'', ''for '' || %1$L)',
    'SELECT influx_tokens.rename_bucket(''hostile_org'', %1$L, ''x'')',
    'SELECT influx_tokens.drop_org(%1$L)']) AS f;
