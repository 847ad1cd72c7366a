-- Bad input: a clear error with a fitting SQLSTATE, and nothing changes.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('err_org') > 0;
SELECT influx_tokens.create_bucket('err_org', 'b') > 0;
SELECT influx_tokens.create_token('err_org', '{write:buckets/b}', 'target', '{l}') AS tok \gset
SELECT id AS tok_id FROM influx_tokens.token_info(:'tok') \gset

CREATE TEMP VIEW state AS
SELECT (SELECT count(*) FROM influx_tokens.orgs) AS orgs, (SELECT count(*) FROM influx_tokens.buckets) AS buckets,
       (SELECT count(*) FROM influx_tokens.tokens) AS tokens, (SELECT count(*) FROM influx_tokens.permissions) AS permissions,
       (SELECT count(*) FROM influx_tokens.token_labels) AS labels,
       (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM influx_tokens.tokens t) AS token_rows,
       (SELECT md5(string_agg(b::text, ',' ORDER BY id)) FROM influx_tokens.buckets b) AS bucket_rows,
       (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM influx_tokens.orgs o) AS org_rows;
CREATE TEMP TABLE state_before AS SELECT * FROM state;

-- Checks: a bad action is an error even when the token is NULL; everything else is false, never NULL.
SELECT error_of($$SELECT influx_tokens.token_check('x', 'delete', 'b')$$);
SELECT error_of($$SELECT influx_tokens.token_check(NULL, NULL, 'b')$$);
SELECT error_of($$SELECT influx_tokens.token_check('x', 'READ', 'b')$$);
SELECT error_of($$SELECT influx_tokens.token_check('x', '', 'b')$$);
SELECT influx_tokens.token_check(NULL, 'read', 'b') AS null_token,
       influx_tokens.token_check('', 'read', 'b') AS empty_token,
       influx_tokens.token_check(:'tok', 'write', NULL) AS null_bucket,
       influx_tokens.token_check(NULL, 'read', NULL) AS all_null,
       influx_tokens.token_allows(NULL, 'read:orgs') AS allows_null_token;
SELECT influx_tokens.token_check(repeat('x', 1000000), 'write', 'b') AS huge_token,
       influx_tokens.token_check(:'tok', 'write', repeat('b', 1000000)) AS huge_bucket,
       influx_tokens.token_check(:'tok' || ' ', 'write', 'b') AS trailing_space,
       influx_tokens.token_check(upper(:'tok'), 'write', 'b') AS upper_case,
       influx_tokens.token_check(E'ixt_\\x00', 'write', 'b') AS escape_like;
-- The messages quote at most 64 bytes of a bad value.
SELECT length(error_of($$SELECT influx_tokens.token_check('x', repeat('a', 1000000), 'b')$$)) < 200 AS short_message;

-- Organizations.
SELECT error_of($$SELECT influx_tokens.create_org(NULL)$$);
SELECT error_of($$SELECT influx_tokens.create_org('')$$);
SELECT error_of($$SELECT influx_tokens.create_org('err_org')$$);
SELECT error_of($$SELECT influx_tokens.create_org(repeat('o', 129))$$);
SELECT influx_tokens.create_org(repeat('o', 128)) > 0 AS longest_name_accepted;
SELECT influx_tokens.drop_org(repeat('o', 128)) > 0;
SELECT error_of($$SELECT influx_tokens.create_org(E'tab\there')$$);
SELECT error_of($$SELECT influx_tokens.create_org(' padded')$$);
SELECT error_of($$SELECT influx_tokens.rename_org('nope', 'x')$$);
SELECT error_of($$SELECT influx_tokens.rename_org('err_org', NULL)$$);
SELECT error_of($$SELECT influx_tokens.drop_org('nope')$$);
SELECT error_of($$SELECT influx_tokens.drop_org(NULL)$$);
SELECT error_of($$SELECT influx_tokens.drop_org('err_org', NULL)$$);
SELECT influx_tokens.create_org('err_other') > 0;
SELECT error_of($$SELECT influx_tokens.rename_org('err_other', 'err_org')$$);
SELECT influx_tokens.drop_org('err_other') > 0;

-- Buckets.
SELECT error_of($$SELECT influx_tokens.create_bucket('nope', 'b')$$);
SELECT error_of($$SELECT influx_tokens.create_bucket('err_org', 'b')$$);
SELECT error_of($$SELECT influx_tokens.create_bucket('err_org', NULL)$$);
SELECT error_of($$SELECT influx_tokens.create_bucket(NULL, 'b')$$);
SELECT error_of($$SELECT influx_tokens.create_bucket('err_org', repeat('é', 129))$$);
SELECT error_of($$SELECT influx_tokens.rename_bucket('err_org', 'nope', 'x')$$);
SELECT influx_tokens.create_bucket('err_org', 'c') > 0;
SELECT error_of($$SELECT influx_tokens.rename_bucket('err_org', 'c', 'b')$$);
SELECT influx_tokens.drop_bucket('err_org', 'c') > 0;
SELECT error_of($$SELECT influx_tokens.drop_bucket('err_org', 'nope')$$);
SELECT error_of($$SELECT influx_tokens.drop_bucket('err_org', NULL)$$);

-- Tokens.
SELECT error_of($$SELECT influx_tokens.create_token('nope', '{read:orgs}')$$);
SELECT error_of($$SELECT influx_tokens.create_token(NULL, '{read:orgs}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('err_org', '{read:orgs}', repeat('d', 1025))$$);
SELECT error_of($$SELECT influx_tokens.create_token('err_org', '{read:orgs}', NULL, ARRAY[NULL])$$);
SELECT error_of($$SELECT influx_tokens.create_token('err_org', '{read:orgs}', NULL, '{""}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('err_org', '{read:orgs}', NULL, ARRAY[repeat('l', 200)])$$);
SELECT regexp_replace(error_of($$SELECT influx_tokens.create_token('err_org', '{read:orgs}', expires_at => now() - interval '1 second')$$),
                      'time .* is', 'time <now - 1s> is');
SELECT error_of($$SELECT influx_tokens.create_token('err_org', ARRAY[repeat('x', 1000000)])$$);
SELECT error_of($$SELECT influx_tokens.revoke_token(NULL)$$);
SELECT error_of($$SELECT influx_tokens.revoke_token(-1)$$);
SELECT error_of($$SELECT influx_tokens.activate_token(-1)$$);
SELECT error_of($$SELECT influx_tokens.delete_token(NULL)$$);
SELECT error_of($$SELECT influx_tokens.set_token_expiry(-1, NULL)$$);
SELECT error_of($$SELECT influx_tokens.set_token_description(-1, 'x')$$);
SELECT error_of(format('SELECT influx_tokens.set_token_description(%s, repeat(%L, 2000))', :tok_id, 'd'));
SELECT error_of(format('SELECT influx_tokens.add_token_labels(%s, NULL)', :tok_id));
SELECT error_of(format('SELECT influx_tokens.add_token_labels(%s, %L)', :tok_id, '{ok,"bad "}'));
SELECT error_of(format('SELECT influx_tokens.remove_token_labels(%s, NULL)', :tok_id));
SELECT error_of($$SELECT influx_tokens.add_token_labels(-1, '{x}')$$);

-- No message above quoted the token; none of the failed calls changed anything.
SELECT * FROM state EXCEPT SELECT * FROM state_before;
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS target_still_works;
SELECT description, labels, status FROM influx_tokens.token_info(:'tok');
