-- The permission language's InfluxDB forms (1.2): grants on one resource of any type by
-- InfluxDB ID, grants without an organization, influx CLI's strings; what each covers, how
-- token_list writes it back, and what delegation makes of it.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('form_org') > 0, influx_tokens.create_org('form_other') > 0;
UPDATE influx_tokens.orgs SET influx_id = '0f0f0f0f0f0f0f01' WHERE name = 'form_org';
UPDATE influx_tokens.orgs SET influx_id = '0f0f0f0f0f0f0f02' WHERE name = 'form_other';
SELECT influx_tokens.create_bucket('form_org', 'metrics') > 0, influx_tokens.create_bucket('form_org', 'logs') > 0,
       influx_tokens.create_bucket('form_other', 'metrics') > 0,
       influx_tokens.create_bucket('form_org', '0b1c2d3e4f506172') > 0;
UPDATE influx_tokens.buckets SET influx_id = '0e0e0e0e0e0e0e01'
WHERE name = 'metrics' AND org_id = (SELECT id FROM influx_tokens.orgs WHERE name = 'form_org');
UPDATE influx_tokens.buckets SET influx_id = '0e0e0e0e0e0e0e09'
WHERE name = 'metrics' AND org_id = (SELECT id FROM influx_tokens.orgs WHERE name = 'form_other');
\set other_metrics_hex 0e0e0e0e0e0e0e09

-- Every form, and what token_list writes for it (our spelling: set_token_permissions reads it back).
SELECT influx_tokens.create_token('form_org', ARRAY[
    'read:dashboards/0000000000000abc',
    'write:/users/0a1b2c3d4e5f6072',
    'read:/tasks',
    'write:orgs/0f0f0f0f0f0f0f01/buckets/0e0e0e0e0e0e0e01',
    'read:orgs/0f0f0f0f0f0f0f01/labels',
    'read:/buckets/' || :'other_metrics_hex',
    'read:buckets/0b1c2d3e4f506172',
    'read:orgs/0f0f0f0f0f0f0f01']) AS many \gset
SELECT unnest(permissions) AS permission FROM influx_tokens.token_info(:'many') ORDER BY 1;
SELECT p.resource_type, p.bucket_id IS NOT NULL AS by_bucket, p.resource_id, p.any_org
FROM influx_tokens.permissions AS p JOIN influx_tokens.token_info(:'many') AS i ON i.id = p.token_id
ORDER BY 1, 2, 3, 4;
-- The same meaning written either way is one grant; written with and without an organization, two.
SELECT cardinality(permissions) AS grants FROM influx_tokens.token_info(influx_tokens.create_token('form_org',
    '{write:buckets/metrics,write:orgs/0f0f0f0f0f0f0f01/buckets/0e0e0e0e0e0e0e01,write:/buckets/0e0e0e0e0e0e0e01}'));
-- What token_list writes is read back to the same grants.
SELECT influx_tokens.set_token_permissions(:'many', (SELECT permissions FROM influx_tokens.token_info(:'many'))) > 0;
SELECT unnest(permissions) AS permission FROM influx_tokens.token_info(:'many') ORDER BY 1;

-- What each covers, asked as token_allows and token_check.
SELECT q AS question, influx_tokens.token_allows(:'many', q) AS allowed FROM unnest(ARRAY[
    'read:dashboards/0000000000000abc',        -- the ID granted
    'read:dashboards/0000000000000abd',        -- another ID
    'read:dashboards',                         -- the type as a whole: an ID grant never covers it
    'write:dashboards/0000000000000abc',       -- write never from read
    'read:dashboards/8000000000000000',        -- the highest bit set: still just another ID
    'write:/users/0a1b2c3d4e5f6072',           -- by ID, without an organization
    'write:users/0a1b2c3d4e5f6072',            -- the same ID asked in the organization
    'read:/tasks',                             -- every organization's tasks
    'read:tasks',                              -- ... this one's among them
    'read:orgs/0f0f0f0f0f0f0f01/tasks/0000000000000001',
    'read:labels',                             -- the type in this organization
    'read:/labels',                            -- not without an organization (InfluxDB: A6)
    'read:orgs',                               -- this organization, by its ID grant
    'read:/orgs/0f0f0f0f0f0f0f01',
    'read:/orgs/0f0f0f0f0f0f0f02',             -- another organization's ID
    'write:buckets/metrics',                   -- the bucket granted by InfluxDB ID, asked by name
    'write:orgs/0f0f0f0f0f0f0f01/buckets/0e0e0e0e0e0e0e01',
    'write:/buckets/0e0e0e0e0e0e0e01',
    'write:buckets/logs',
    'read:buckets/0b1c2d3e4f506172',           -- a bucket named like an ID is still a name
    'read:/buckets/0b1c2d3e4f506172',          -- and no bucket has that ID
    'read:orgs/0f0f0f0f0f0f0f01/orgs/0f0f0f0f0f0f0f01',
    'read:orgs/0f0f0f0f0f0f0f01/orgs/0f0f0f0f0f0f0f02',  -- another organization is not in this one
    'read:orgs/0f0f0f0f0f0f0f01/orgs/0f0f0f0f0f0f0f09',  -- nor is one that does not exist
    'write:instance']) AS q;
SELECT influx_tokens.token_check(:'many', 'read', 'form_other', 'metrics') AS other_orgs_bucket_by_id,
       influx_tokens.token_check(:'many', 'write', 'form_other', 'metrics') AS not_for_write,
       influx_tokens.token_check(:'many', 'write', 'metrics') AS own_bucket_by_id,
       influx_tokens.token_check(:'many', 'read', 'metrics') AS write_not_read;
-- The bucket grant by ID follows the bucket's rename, like a grant by name.
SELECT influx_tokens.rename_bucket('form_org', 'metrics', 'metrics2') > 0;
SELECT influx_tokens.token_check(:'many', 'write', 'metrics2') AS after_rename;
SELECT influx_tokens.rename_bucket('form_org', 'metrics2', 'metrics') > 0;

-- Refused forms, each an error that says what is wrong.
SELECT f AS permission, error_of(format('SELECT influx_tokens.create_token(%L, ARRAY[%L])', 'form_org', f)) AS error
FROM unnest(ARRAY[
    'read:dashboards/abc',                     -- not an ID
    'read:dashboards/0000000000000000',        -- zero
    'read:dashboards/0000000000000ABC',        -- upper case
    'read:dashboards/',                        -- empty
    'read:/',                                  -- no type
    'read:/buckets/',                          -- empty ID
    'read:/buckets/metrics',                   -- a name where InfluxDB writes an ID
    'read:orgs/acme',                          -- an organization by name
    'read:orgs/0f0f0f0f0f0f0f01/',             -- no type after the organization
    'read:orgs/0f0f0f0f0f0f0f02/buckets',      -- another organization
    'read:orgs/xyz/buckets',                   -- not an ID
    'read:/*',                                 -- * is one organization's
    'read:orgs/0f0f0f0f0f0f0f01/**',           -- ** is every organization's
    'read:*/0000000000000001',
    'read:/instance',
    'read:/buckets/0e0e0e0e0e0e0e02',          -- no bucket has that ID
    'read:orgs/0f0f0f0f0f0f0f01/buckets/' || :'other_metrics_hex',   -- another organization's bucket
    'read:orgs/0f0f0f0f0f0f0f02',              -- another organization, as if it were in this one
    'read:orgs/0f0f0f0f0f0f0f01/orgs/0f0f0f0f0f0f0f02']) AS f;
-- The wildcards are one grant each however written.
SELECT permissions FROM influx_tokens.token_info(influx_tokens.create_token('form_org',
    '{read:*,read:orgs/0f0f0f0f0f0f0f01/*,write:**,write:/**}'));

-- Delegation: each child grant must be covered by the parent's, by the same rule.
SELECT influx_tokens.create_token('form_org', ARRAY['write:authorizations', 'read:/buckets',
    'read:orgs/0f0f0f0f0f0f0f01/tasks', 'read:/users/0a1b2c3d4e5f6072', 'read:dashboards/0000000000000abc']) AS parent \gset
SELECT c AS child, error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'parent', c)) AS outcome
FROM unnest(ARRAY[
    '{read:buckets}',                          -- this organization's: inside every organization's
    '{read:/buckets}',                         -- the same as the parent's
    '{read:orgs/0f0f0f0f0f0f0f01/buckets/0e0e0e0e0e0e0e01}',
    '{read:/buckets/0e0e0e0e0e0e0e01}',        -- one bucket without an organization: covered by /buckets
    '{read:tasks}',
    '{read:tasks/0000000000000009}',
    '{read:/tasks}',                           -- wider than the organization's tasks
    '{read:/tasks/0000000000000009}',          -- an ID without an organization: only /tasks covers it
    '{read:/users/0a1b2c3d4e5f6072}',
    '{read:/users/0a1b2c3d4e5f6073}',
    '{read:users/0a1b2c3d4e5f6072}',           -- the same ID in the organization: the ID grant covers it
    '{read:users}',
    '{read:dashboards/0000000000000abc}',
    '{read:dashboards}',
    '{read:/orgs/0f0f0f0f0f0f0f02}',           -- another organization by ID: the parent has no such grant
    '{read:*}',
    '{read:instance}']) AS c;
-- An operator parent (**) delegates grants without an organization, and never instance.
SELECT influx_tokens.create_token('form_org', '{write:authorizations,read:**}') AS operator \gset
SELECT influx_tokens.create_token_as(:'operator', '{read:/buckets,read:/orgs/0f0f0f0f0f0f0f02,read:/users}') IS NOT NULL AS operator_delegates;
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'operator', '{read:/instance}'));

-- A grant on one resource of another type, delegated "in the organization", covers it
-- there only: the parent could not vouch for where that resource lives (InfluxDB's
-- matchesV1 would let the child reach it in every organization).
SELECT influx_tokens.create_token('form_org', '{write:authorizations,read:*}') AS all_access \gset
SELECT influx_tokens.create_token_as(:'all_access', '{read:users/0a1b2c3d4e5f6072}') AS child \gset
SELECT influx_tokens.token_allows(:'child', 'read:users/0a1b2c3d4e5f6072') AS in_own_org,
       influx_tokens.token_allows(:'child', 'read:/users/0a1b2c3d4e5f6072') AS without_org,
       influx_tokens.token_allows(:'child', 'read:orgs/0f0f0f0f0f0f0f02/users/0a1b2c3d4e5f6072') AS in_other_org,
       influx_tokens.token_allows(:'all_access', 'read:/users/0a1b2c3d4e5f6072') AS parent_without_org;
-- read:* covers this organization, and no other asked for as if it were in this one.
SELECT influx_tokens.token_allows(:'all_access', 'read:orgs') AS own_org,
       influx_tokens.token_allows(:'all_access', 'read:orgs/0f0f0f0f0f0f0f01/orgs/0f0f0f0f0f0f0f02') AS other_org_in_own,
       influx_tokens.token_allows(:'all_access', 'read:orgs/0f0f0f0f0f0f0f02') AS other_org,
       influx_tokens.token_allows(:'all_access', 'read:orgs/0f0f0f0f0f0f0f01/dashboards/0000000000000abc') AS own_dashboard,
       influx_tokens.token_allows(:'all_access', 'read:orgs/0f0f0f0f0f0f0f02/dashboards/0000000000000abc') AS other_dashboard;
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'all_access', '{read:orgs/0f0f0f0f0f0f0f02}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'all_access', '{read:/orgs/0f0f0f0f0f0f0f02}'));

-- Dropping an organization drops other tokens' grants on it by ID: a later organization
-- with the same ID is not granted.
SELECT influx_tokens.create_org('form_doomed') > 0;
UPDATE influx_tokens.orgs SET influx_id = '0f0f0f0f0f0f0f0d' WHERE name = 'form_doomed';
SELECT influx_tokens.create_token('form_org', '{read:/orgs/0f0f0f0f0f0f0f0d,read:buckets}') AS watcher \gset
SELECT influx_tokens.token_allows(:'watcher', 'read:/orgs/0f0f0f0f0f0f0f0d') AS before_drop;
SELECT influx_tokens.drop_org('form_doomed') > 0;
SELECT permissions FROM influx_tokens.token_info(:'watcher');
SELECT influx_tokens.create_org('form_reborn') > 0;
UPDATE influx_tokens.orgs SET influx_id = '0f0f0f0f0f0f0f0d' WHERE name = 'form_reborn';
SELECT influx_tokens.token_allows(:'watcher', 'read:/orgs/0f0f0f0f0f0f0f0d') AS reborn_granted;

-- permission_matches: the rule alone; both strings with IDs.
SELECT g AS granted, r AS requested, influx_tokens.permission_matches(g, r) AS matches
FROM (VALUES ('read:/buckets', 'read:orgs/0000000000000001/buckets/0000000000000002'),
             ('read:orgs/0000000000000001/buckets', 'read:orgs/0000000000000002/buckets'),
             ('read:buckets', 'read:buckets/0000000000000002'),
             ('read:buckets/0000000000000002', 'read:buckets'),
             ('read:dashboards/0000000000000001', 'read:dashboards/8000000000000000'),
             ('read:*', 'read:tasks'),
             ('read:*', 'read:/tasks'),
             ('read:**', 'read:/tasks'),
             ('read:**', 'read:instance'),
             ('read:instance', 'read:**'),
             ('read:orgs/0000000000000001/dashboards/0000000000000005', 'read:orgs/0000000000000002/dashboards/0000000000000005'),
             ('read:orgs/0000000000000001/buckets/0000000000000005', 'read:orgs/0000000000000002/buckets/0000000000000005'),
             ('read:orgs/ffffffffffffffff/buckets', 'read:buckets'),
             ('read:orgs/ffffffffffffffff/buckets', 'read:orgs/ffffffffffffffff/buckets/0000000000000001')) AS v(g, r);
SELECT error_of($$SELECT influx_tokens.permission_matches(NULL, 'read:buckets')$$);
SELECT error_of($$SELECT influx_tokens.permission_matches('read:buckets/metrics', 'read:buckets')$$);
