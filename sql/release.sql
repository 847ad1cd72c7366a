-- Version 1.2's fixes, each as a user met the defect.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('rel_org') > 0;
SELECT influx_tokens.create_bucket('rel_org', 'metrics') > 0;

-- One call returns the id with the token; the id is the token's.
SELECT * FROM influx_tokens.create_token_with_id('rel_org', '{write:buckets/metrics,write:authorizations,read:buckets}', 'admin') \gset
SELECT (influx_tokens.token_info(:'token')).id = :id AS id_is_the_tokens;
SELECT c.id = (influx_tokens.token_info(c.token)).id AS child_id_is_the_childs
FROM influx_tokens.create_token_as_with_id(:'token', '{write:buckets/metrics}') AS c;
SELECT r.id = :id AS rotated_same_id, influx_tokens.token_check(r.token, 'write', 'metrics') AS new_secret_works
FROM influx_tokens.rotate_token_with_id(:id) AS r;
SELECT * FROM influx_tokens.create_token_with_id('rel_org', '{write:buckets/metrics}', 'writer') \gset w_

-- token_info sees a token created in the same statement, as token_check does.
SELECT t IS NOT NULL AS got_token, (influx_tokens.token_info(t)).id IS NOT NULL AS info_sees_it,
       influx_tokens.token_check(t, 'read', 'metrics') AS check_sees_it
FROM influx_tokens.create_token('rel_org', '{read:buckets}', 'same statement') AS t;

-- A token passed where an id is expected is never quoted back: the text overloads take it.
PREPARE revoke_by_param AS SELECT influx_tokens.revoke_token($1);
EXECUTE revoke_by_param(:'w_token');
SELECT status FROM influx_tokens.token_info(:'w_token');
SELECT influx_tokens.activate_token(:'w_token');
PREPARE expiry_by_param AS SELECT influx_tokens.set_token_expiry($1, NULL);
EXECUTE expiry_by_param(:'w_token') \gset expiry_
SELECT :expiry_set_token_expiry = :w_id AS expiry_set_by_text;
SELECT influx_tokens.set_token_description(:'w_token', 'writer 2') = :w_id AS described_by_text;
SELECT influx_tokens.add_token_labels(:'w_token', '{rel}') = :w_id AS labelled_by_text,
       influx_tokens.remove_token_labels(:'w_token', '{rel}') = :w_id AS unlabelled_by_text;
SELECT influx_tokens.set_token_permissions(:'w_token', '{read:buckets/metrics}') = :w_id AS permissions_by_text;
SELECT influx_tokens.rotate_token(:'w_token', interval '1 hour') AS w_rotated \gset
SELECT (influx_tokens.token_info(:'w_rotated')).id = :w_id AS rotated_by_text,
       (influx_tokens.rotate_token_with_id(:'w_rotated')).id = :w_id AS rotated_with_id_by_text;
-- An id in digits is accepted as text too; what is neither is an error that quotes nothing.
SELECT influx_tokens.revoke_token(:'w_id'::text) AS revoked_by_id_text;
SELECT error_of(format('SELECT influx_tokens.revoke_token(%L)', :'w_token' || 'x')) AS garbled_token;
SELECT error_of(format('SELECT influx_tokens.delete_token(%L)', replace(:'w_token', 'ixt_', 'ixt_A'))) NOT LIKE '%' || substr(:'w_token', 5, 12) || '%' AS not_quoted;
SELECT error_of(format('SELECT influx_tokens.revoke_token(%L)', influx_tokens._generate_token())) AS unknown_token;
-- A bigint cast of a token would be quoted by PostgreSQL; nothing of ours needs one.
SELECT count(*) AS functions_with_bigint_token_id_and_no_text_overload
FROM pg_proc p
WHERE p.pronamespace = 'influx_tokens'::regnamespace AND p.proname !~ '^_'
  AND p.proargtypes[0] = 'bigint'::regtype AND p.proname <> 'rotate_token_with_id'
  AND NOT EXISTS (SELECT FROM pg_proc q WHERE q.pronamespace = p.pronamespace AND q.proname = p.proname
                  AND q.proargtypes[0] = 'text'::regtype);

-- Management functions say what they did.
SELECT influx_tokens.revoke_token(:w_id) AS revoked_again;
SELECT influx_tokens.activate_token(:w_id) AS activated, influx_tokens.activate_token(:w_id) AS activated_again;
SELECT influx_tokens.delete_token(:'w_token') AS deleted;

-- token_list shows what a check sees: expired, with updated_at, the grace of a rotated secret, ordered by id.
SELECT * FROM influx_tokens.create_token_with_id('rel_org', '{read:buckets}', 'short-lived', expires_at => clock_timestamp() + interval '50 milliseconds') \gset e_
SELECT pg_sleep(0.1);
SELECT status, influx_tokens.token_check(:'e_token', 'read', 'metrics') AS check_says FROM influx_tokens.token_list WHERE id = :e_id;
SELECT (influx_tokens.rotate_token_with_id(:id, interval '1 hour')).id = :id AS rotated;
SELECT previous_secret_valid_until > now() AS in_grace, updated_at >= created_at AS has_updated_at
FROM influx_tokens.token_list WHERE id = :id;
SELECT array_agg(id) = array_agg(id ORDER BY id) AS ordered_by_id FROM influx_tokens.token_list;

-- Errors a user can act on: the right cause, a hint, 22004 for NULL, little context.
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)',
                       influx_tokens.create_token('rel_org', '{write:authorizations,write:buckets/metrics}'),
                       '{write:buckets/nope}')) AS unknown_bucket_first;
\set SHOW_CONTEXT always
SELECT influx_tokens.create_token('rel_org', '{write:buckets/0b1c2d3e4f506172}');
SELECT influx_tokens.create_token('rel_org', '{write:buckets/}');
SELECT influx_tokens.create_token('rel_org', '{read:buckets}', expires_at => '2000-01-01');
SELECT influx_tokens.token_check(:'token', NULL, 'metrics');
SELECT influx_tokens.token_allows(:'token', NULL);
SELECT influx_tokens.delete_token(-1);
\set SHOW_CONTEXT never

-- The internal building blocks refuse NULL parts too (never a crash).
SELECT error_of($$SELECT influx_tokens._resolve_permissions(1, NULL, ARRAY[NULL::text])$$) AS null_permission,
       error_of($$SELECT influx_tokens._recheck_at_commit(NULL)$$) AS null_token_id;

-- Array arguments are bounded.
SELECT error_of(format('SELECT influx_tokens.create_token(%L, %L::text[])', 'rel_org',
                       (SELECT array_agg('l' || i) FROM generate_series(1, 1001) i)::text)) AS too_many_permissions;
SELECT error_of(format('SELECT influx_tokens.create_token(%L, %L, labels => %L::text[])', 'rel_org', '{read:buckets}',
                       (SELECT array_agg('l' || i) FROM generate_series(1, 1001) i)::text)) AS too_many_labels;

-- Every public function and view explains itself in the catalog.
SELECT p.oid::regprocedure AS without_comment FROM pg_proc p
WHERE p.pronamespace = 'influx_tokens'::regnamespace AND p.proname !~ '^_' AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT c.relname AS view_without_comment FROM pg_class c
WHERE c.relnamespace = 'influx_tokens'::regnamespace AND c.relkind = 'v' AND obj_description(c.oid, 'pg_class') IS NULL;
