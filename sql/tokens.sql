-- Token creation, format and storage.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('tok_org') > 0 AS org_created;
SELECT influx_tokens.create_bucket('tok_org', 'metrics') > 0 AS bucket_created;

-- The plaintext is returned once; keep it in psql variables, never print it.
SELECT influx_tokens.create_token('tok_org', '{write:buckets/metrics}') AS tok_a \gset
SELECT influx_tokens.create_token(org => 'tok_org', permissions => '{read:buckets}',
                                  description => 'named arguments', labels => '{env:test}') AS tok_b \gset

-- Format: prefix, 34 random + 6 checksum base62 characters, URL-safe.
SELECT :'tok_a' ~ '^ixt_[0-9A-Za-z]{40}$' AS a_well_formed, :'tok_b' ~ '^ixt_[0-9A-Za-z]{40}$' AS b_well_formed;
SELECT :'tok_a' <> :'tok_b' AS distinct_tokens;

-- 500 tokens in one statement are all distinct and all well-formed.
CREATE TEMP TABLE many AS
SELECT influx_tokens.create_token('tok_org', '{read:orgs}') AS t FROM generate_series(1, 500);
SELECT count(*) AS tokens, count(DISTINCT t) AS distinct_tokens,
       bool_and(t ~ '^ixt_[0-9A-Za-z]{40}$') AS all_well_formed FROM many;
-- Every base62 character shows up in the random parts (a rough sanity check of the generator).
SELECT count(DISTINCT c) AS alphabet_used FROM many, regexp_split_to_table(substr(t, 5, 34), '') AS c;

-- Known answer: the stored digest is the SHA-256 of the whole token (as PostgreSQL's sha256() computes it).
SELECT t.digest = sha256(convert_to(:'tok_a', 'UTF8')) AS digest_is_sha256
FROM influx_tokens.tokens t JOIN influx_tokens.token_list l USING (id)
WHERE l.org = 'tok_org' AND l.description IS NULL AND l.permissions = '{write:buckets/metrics}';
SELECT count(*) = 502 AS every_digest_is_sha256_of_its_token
FROM influx_tokens.tokens t
WHERE t.digest IN (SELECT sha256(convert_to(x, 'UTF8')) FROM (SELECT t AS x FROM many UNION ALL SELECT :'tok_a' UNION ALL SELECT :'tok_b') s);
-- Known answer through the C digest that checks use, computed independently (Python hashlib).
SELECT encode(influx_tokens._token_digest('ixt_0000000000000000000000000000000000' || '06sng3'), 'hex')
     = 'd55a2c4b39d43230271ed7fe906967ea887e1783a4e556c934abc7bfa91f54bc' AS known_answer;
-- Something that is not a well-formed token has no digest at all.
SELECT error_of($$SELECT influx_tokens._token_digest('abc')$$) AS not_a_token;

-- No table holds the token text or any part of its random body.
SELECT count(*) AS rows_containing_token_text
FROM influx_tokens.tokens t
WHERE t::text LIKE '%' || substr(:'tok_a', 5, 12) || '%'
   OR encode(t.digest, 'escape') LIKE '%' || substr(:'tok_a', 5, 12) || '%';

-- The token works at once.
SELECT influx_tokens.token_check(:'tok_a', 'write', 'metrics') AS a_writes,
       influx_tokens.token_check(:'tok_b', 'read', 'metrics') AS b_reads;

-- A mistyped token fails its checksum; a changed checksum fails too.
SELECT influx_tokens.token_check(overlay(:'tok_a' placing CASE WHEN substr(:'tok_a', 10, 1) = 'x' THEN 'y' ELSE 'x' END from 10 for 1),
                                 'write', 'metrics') AS typo_allowed;
SELECT influx_tokens.token_check(overlay(:'tok_a' placing CASE WHEN substr(:'tok_a', 44, 1) = '0' THEN '1' ELSE '0' END from 44 for 1),
                                 'write', 'metrics') AS bad_checksum_allowed;
-- A well-formed token (valid checksum, CRC-32C computed independently in Python) that was never issued.
SELECT influx_tokens.token_check('ixt_0000000000000000000000000000000000' || '06sng3', 'write', 'metrics') AS unknown_allowed;

-- token_info: one row for a known token, none for anything else.
SELECT org, description, status, labels, permissions, expires_at,
       created_at <= now() AS created_in_past
FROM influx_tokens.token_info(:'tok_b');
SELECT count(*) FROM influx_tokens.token_info('ixt_nope');
SELECT count(*) FROM influx_tokens.token_info(NULL);
SELECT count(*) FROM influx_tokens.token_info('');
SELECT (SELECT id FROM influx_tokens.token_info(:'tok_a')) <> (SELECT id FROM influx_tokens.token_info(:'tok_b')) AS ids_differ;

-- Duplicate permissions and labels collapse.
SELECT influx_tokens.create_token('tok_org', '{read:orgs,read:orgs,write:buckets/metrics}', NULL, '{b,a,b}') AS tok_c \gset
SELECT permissions, labels FROM influx_tokens.token_info(:'tok_c');
