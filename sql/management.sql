-- Wildcard and operator grants, rotation, editable permissions, bulk revoke, usage columns.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('mgmt_org') > 0, influx_tokens.create_org('mgmt_other') > 0;
SELECT influx_tokens.create_bucket('mgmt_org', 'a') > 0, influx_tokens.create_bucket('mgmt_other', 'x') > 0;

-- '*': every type in the org, including buckets and types without a name here.
SELECT influx_tokens.create_token('mgmt_org', '{read:*}') AS read_all \gset
SELECT influx_tokens.token_check(:'read_all', 'read', 'a') AS reads_bucket,
       influx_tokens.token_check(:'read_all', 'write', 'a') AS writes_bucket,
       influx_tokens.token_allows(:'read_all', 'read:notebooks') AS reads_notebooks,
       influx_tokens.token_allows(:'read_all', 'read:*') AS reads_all,
       influx_tokens.token_allows(:'read_all', 'read:**') AS reads_everywhere,
       influx_tokens.token_check(:'read_all', 'read', 'mgmt_other', 'x') AS reads_other_org,
       influx_tokens.token_check(:'read_all', 'read', 'mgmt_org', 'a') AS reads_own_org_named;
-- '**': every type in every org; the four-argument check names the org.
SELECT influx_tokens.create_token('mgmt_org', '{write:**}') AS operator \gset
SELECT influx_tokens.token_check(:'operator', 'write', 'a') AS own_bucket,
       influx_tokens.token_check(:'operator', 'write', 'mgmt_other', 'x') AS other_org_bucket,
       influx_tokens.token_check(:'operator', 'read', 'mgmt_other', 'x') AS other_org_read,
       influx_tokens.token_check(:'operator', 'write', 'no_such_org', 'x') AS unknown_org,
       influx_tokens.token_check(:'operator', 'write', 'mgmt_other', 'nope') AS unknown_bucket,
       influx_tokens.token_check(:'operator', 'write', NULL, 'x') AS null_org,
       influx_tokens.token_allows(:'operator', 'write:**') AS allows_everywhere;
SELECT influx_tokens.create_token('mgmt_org', '{write:buckets/a}') AS plain \gset
SELECT influx_tokens.token_check(:'plain', 'write', 'mgmt_org', 'a') AS plain_own_org,
       influx_tokens.token_check(:'plain', 'write', 'mgmt_other', 'a') AS plain_other_org;
SELECT permissions FROM influx_tokens.token_info(:'operator');
SELECT error_of($$SELECT influx_tokens.create_token('mgmt_org', '{read:*/a}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('mgmt_org', '{read:***}')$$);
SELECT error_of($$SELECT influx_tokens.token_check('x', 'delete', 'mgmt_org', 'a')$$);

-- Rotation: same id, permissions, labels and description; the old secret stops at once...
SELECT influx_tokens.create_token('mgmt_org', '{write:buckets/a}', 'rotated', '{r}') AS old \gset
SELECT id AS rot_id FROM influx_tokens.token_info(:'old') \gset
SELECT influx_tokens.rotate_token(:rot_id) AS new \gset
SELECT :'new' <> :'old' AS new_secret, :'new' ~ '^ixt_[0-9A-Za-z]{40}$' AS well_formed;
SELECT influx_tokens.token_check(:'new', 'write', 'a') AS new_works, influx_tokens.token_check(:'old', 'write', 'a') AS old_works;
SELECT id = :rot_id AS same_id, description, labels, permissions FROM influx_tokens.token_info(:'new');
SELECT count(*) AS old_known FROM influx_tokens.token_info(:'old');
-- ...or after a grace period, during which both work.
SELECT influx_tokens.rotate_token(:rot_id, interval '1 hour') AS newer \gset
SELECT influx_tokens.token_check(:'newer', 'write', 'a') AS newer_works, influx_tokens.token_check(:'new', 'write', 'a') AS new_in_grace,
       (SELECT id FROM influx_tokens.token_info(:'new')) = :rot_id AS grace_secret_is_same_token;
-- A rotation ends the grace of the previous one; a short grace ends by the clock.
SELECT influx_tokens.rotate_token(:rot_id, interval '0.3 second') AS newest \gset
SELECT influx_tokens.token_check(:'new', 'write', 'a') AS first_secret, influx_tokens.token_check(:'newer', 'write', 'a') AS second_in_grace;
SELECT pg_sleep(0.5);
SELECT influx_tokens.token_check(:'newer', 'write', 'a') AS second_after_grace, influx_tokens.token_check(:'newest', 'write', 'a') AS newest_works;
-- A revoked token stays revoked through rotation.
SELECT influx_tokens.revoke_token(:rot_id);
SELECT influx_tokens.rotate_token(:rot_id) AS rotated_revoked \gset
SELECT influx_tokens.token_check(:'rotated_revoked', 'write', 'a') AS revoked_rotated_works;
SELECT error_of(format('SELECT influx_tokens.rotate_token(%s, interval %L)', :rot_id, '-1 second'));
SELECT error_of(format('SELECT influx_tokens.rotate_token(%s, NULL)', :rot_id));
SELECT error_of($$SELECT influx_tokens.rotate_token(-1)$$);

-- set_token_permissions replaces the whole set at once; a bad set changes nothing.
SELECT influx_tokens.create_token('mgmt_org', '{write:buckets/a}') AS editable \gset
SELECT id AS edit_id FROM influx_tokens.token_info(:'editable') \gset
SELECT influx_tokens.set_token_permissions(:edit_id, '{read:buckets/a,read:orgs}') > 0;
SELECT permissions, influx_tokens.token_check(:'editable', 'write', 'a') AS writes, influx_tokens.token_check(:'editable', 'read', 'a') AS reads
FROM influx_tokens.token_info(:'editable');
SELECT error_of(format('SELECT influx_tokens.set_token_permissions(%s, %L)', :edit_id, '{read:buckets/a,write:nope}'));
SELECT error_of(format('SELECT influx_tokens.set_token_permissions(%s, %L)', :edit_id, '{}'));
SELECT error_of(format('SELECT influx_tokens.set_token_permissions(%s, %L)', :edit_id, '{write:buckets/x}'));
SELECT permissions FROM influx_tokens.token_info(:'editable');

-- revoke_tokens: every active token matching all filters; returns how many it revoked.
SELECT influx_tokens.create_org('bulk_org') > 0;
SELECT count(influx_tokens.create_token('bulk_org', '{read:orgs}', NULL, ARRAY['batch:' || (i % 3)])) FROM generate_series(1, 9) AS i;
SELECT influx_tokens.revoke_tokens(label => 'batch:0') AS revoked_by_label;
SELECT influx_tokens.revoke_tokens(label => 'batch:0') AS again_nothing;
SELECT influx_tokens.revoke_tokens(label => 'batch:1', org => 'mgmt_org') AS label_and_other_org;
SELECT influx_tokens.revoke_tokens(org => 'bulk_org') AS rest_of_org;
SELECT status, count(*) FROM influx_tokens.token_list WHERE org = 'bulk_org' GROUP BY status;
SELECT error_of($$SELECT influx_tokens.revoke_tokens()$$);
SELECT error_of($$SELECT influx_tokens.revoke_tokens(org => 'no_such_org')$$);

-- Without the library in shared_preload_libraries the usage columns are NULL.
SELECT last_used_at IS NULL AND checks_allowed IS NULL AND checks_denied IS NULL AS usage_null
FROM influx_tokens.token_list WHERE id = :edit_id;
SELECT influx_tokens.save_usage();
