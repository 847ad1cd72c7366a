-- Revoke, reactivate, delete, describe, label; organizations and buckets.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('life_org') > 0;
SELECT influx_tokens.create_bucket('life_org', 'events') > 0;
SELECT influx_tokens.create_token('life_org', '{write:buckets/events}', 'ingest', '{team:ops,env:prod}') AS tok \gset
SELECT id AS tok_id FROM influx_tokens.token_info(:'tok') \gset

-- Revoke makes it inactive and useless; activate brings it back.
SELECT influx_tokens.revoke_token(:tok_id);
SELECT status FROM influx_tokens.token_info(:'tok');
SELECT influx_tokens.token_check(:'tok', 'write', 'events') AS revoked_allowed;
SELECT influx_tokens.revoke_token(:tok_id);  -- revoking twice is harmless
SELECT influx_tokens.activate_token(:tok_id);
SELECT status FROM influx_tokens.token_info(:'tok');
SELECT influx_tokens.token_check(:'tok', 'write', 'events') AS reactivated_allowed;

-- Description.
SELECT influx_tokens.set_token_description(:tok_id, 'ingest from gateway 2') > 0;
SELECT description FROM influx_tokens.token_info(:'tok');
SELECT influx_tokens.set_token_description(:tok_id, NULL) > 0;
SELECT description IS NULL AS cleared FROM influx_tokens.token_info(:'tok');

-- Labels: add (duplicates ignored), remove (absent ones ignored), filter with ANY.
SELECT influx_tokens.add_token_labels(:tok_id, '{owner:alice,team:ops}') > 0;
SELECT labels FROM influx_tokens.token_info(:'tok');
SELECT influx_tokens.remove_token_labels(:tok_id, '{env:prod,never:there}') > 0;
SELECT labels FROM influx_tokens.token_info(:'tok');
SELECT influx_tokens.create_token('life_org', '{read:buckets}', 'dashboards', '{team:web}') AS tok2 \gset
SELECT description FROM influx_tokens.token_list WHERE org = 'life_org' AND 'team:ops' = ANY (labels);
SELECT description FROM influx_tokens.token_list WHERE org = 'life_org' AND 'team:web' = ANY (labels);
SELECT count(*) FROM influx_tokens.token_list WHERE org = 'life_org';

-- token_list has no secret material: exactly these columns.
SELECT attname FROM pg_attribute WHERE attrelid = 'influx_tokens.token_list'::regclass AND attnum > 0 ORDER BY attnum;

-- Delete: gone from token_info and token_list, never allowed again.
SELECT influx_tokens.delete_token(:tok_id);
SELECT count(*) FROM influx_tokens.token_info(:'tok');
SELECT count(*) FROM influx_tokens.token_list WHERE id = :tok_id;
SELECT influx_tokens.token_check(:'tok', 'write', 'events') AS deleted_allowed;
SELECT count(*) FROM influx_tokens.permissions WHERE token_id = :tok_id;
SELECT count(*) FROM influx_tokens.token_labels WHERE token_id = :tok_id;
SELECT replace(error_of(format('SELECT influx_tokens.revoke_token(%s)', :tok_id)), :'tok_id', 'ID');
SELECT replace(error_of(format('SELECT influx_tokens.delete_token(%s)', :tok_id)), :'tok_id', 'ID');

-- Organizations: rename keeps tokens working; drop needs cascade when not empty.
SELECT influx_tokens.rename_org('life_org', 'life_org_renamed') > 0;
SELECT org FROM influx_tokens.token_info(:'tok2');
SELECT influx_tokens.token_check(:'tok2', 'read', 'events') AS after_org_rename;
SELECT error_of($$SELECT influx_tokens.drop_org('life_org_renamed')$$);
SELECT influx_tokens.token_check(:'tok2', 'read', 'events') AS after_refused_drop;
SELECT influx_tokens.drop_org('life_org_renamed', cascade => true) > 0;
SELECT influx_tokens.token_check(:'tok2', 'read', 'events') AS after_drop;
SELECT count(*) FROM influx_tokens.token_info(:'tok2');
SELECT count(*) FROM influx_tokens.bucket_list WHERE org = 'life_org_renamed';
SELECT influx_tokens.create_org('life_empty') > 0;
SELECT influx_tokens.drop_org('life_empty') > 0;
SELECT count(*) FROM influx_tokens.orgs WHERE name = 'life_empty';

-- bucket_list shows buckets by organization.
SELECT influx_tokens.create_org('life_b') > 0;
SELECT influx_tokens.create_bucket('life_b', 'one') > 0, influx_tokens.create_bucket('life_b', 'two') > 0;
SELECT org, name FROM influx_tokens.bucket_list WHERE org = 'life_b' ORDER BY name;
SELECT influx_tokens.rename_bucket('life_b', 'one', 'one') > 0;  -- same name: no-op
SELECT influx_tokens.drop_bucket('life_b', 'two') > 0;
SELECT org, name FROM influx_tokens.bucket_list WHERE org = 'life_b' ORDER BY name;
