-- The permission language and InfluxDB's matching rules.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('perm_org') > 0, influx_tokens.create_org('perm_other') > 0;
SELECT influx_tokens.create_bucket('perm_org', 'bucket0') > 0, influx_tokens.create_bucket('perm_org', 'bucket1') > 0;
SELECT influx_tokens.create_bucket('perm_org', 'bucket2') > 0, influx_tokens.create_bucket('perm_other', 'bucket1') > 0;

SELECT influx_tokens.create_token('perm_org', '{write:buckets}') AS w_all \gset
SELECT influx_tokens.create_token('perm_org', '{write:buckets/bucket1}') AS w_b1 \gset
SELECT influx_tokens.create_token('perm_org', '{write:buckets/bucket0}') AS w_b0 \gset
SELECT influx_tokens.create_token('perm_org', '{read:buckets/bucket1}') AS r_b1 \gset
SELECT influx_tokens.create_token('perm_org', '{read:buckets,write:buckets/bucket2}') AS r_all_w_b2 \gset
SELECT influx_tokens.create_token('perm_org', '{write:tasks}') AS w_tasks \gset
SELECT influx_tokens.create_token('perm_org', '{read:orgs,read:authorizations,write:dashboards}') AS misc \gset

-- InfluxDB's own table, translated to bucket names in one organization.
SELECT influx_tokens.token_check(:'w_all', 'write', 'bucket1') AS "write buckets -> write bucket1 (yes)";
SELECT influx_tokens.token_check(:'w_b1', 'write', 'bucket0') AS "write bucket1 -> write bucket0 (no)";
SELECT influx_tokens.token_check(:'w_b0', 'write', 'bucket1') AS "write bucket0 -> write bucket1 (no)";
SELECT influx_tokens.token_check(:'w_b1', 'write', 'bucket1') AS "write bucket1 -> write bucket1 (yes)";
SELECT influx_tokens.token_allows(:'w_all', 'write:buckets') AS "write buckets -> write buckets (yes)";
SELECT influx_tokens.token_check(:'w_b1', 'write', 'bucket2') AS "write bucket1 -> write bucket2 (no)";
SELECT influx_tokens.token_check(:'r_b1', 'write', 'bucket1') AS "read bucket1 -> write bucket1 (no)";
SELECT influx_tokens.token_allows(:'w_tasks', 'write:buckets/bucket1') AS "write tasks -> write bucket1 (no)";

-- Write never implies read, and read never implies write.
SELECT influx_tokens.token_check(:'w_all', 'read', 'bucket1') AS write_all_reads;
SELECT influx_tokens.token_check(:'r_all_w_b2', 'read', 'bucket0') AS read_all_reads,
       influx_tokens.token_check(:'r_all_w_b2', 'write', 'bucket2') AS writes_b2,
       influx_tokens.token_check(:'r_all_w_b2', 'write', 'bucket0') AS writes_b0;

-- A grant on one bucket never covers the whole type.
SELECT influx_tokens.token_allows(:'w_b1', 'write:buckets') AS single_covers_all;

-- Other resource types are granted as a whole, per action.
SELECT influx_tokens.token_allows(:'misc', 'read:orgs') AS read_orgs,
       influx_tokens.token_allows(:'misc', 'write:orgs') AS write_orgs,
       influx_tokens.token_allows(:'misc', 'read:authorizations') AS read_auth,
       influx_tokens.token_allows(:'misc', 'write:dashboards') AS write_dash,
       influx_tokens.token_allows(:'misc', 'read:dashboards') AS read_dash,
       influx_tokens.token_allows(:'misc', 'read:tasks') AS read_tasks;
SELECT influx_tokens.token_check(:'misc', 'read', 'bucket1') AS misc_reads_bucket;

-- Buckets of another organization are never reachable, even with the same name.
SELECT influx_tokens.create_token('perm_other', '{write:buckets}') AS other_all \gset
SELECT influx_tokens.token_check(:'other_all', 'write', 'bucket1') AS own_org_bucket1,
       influx_tokens.token_check(:'other_all', 'write', 'bucket0') AS other_org_bucket0;

-- An org-wide grant covers buckets created later; an unknown bucket is never allowed.
SELECT influx_tokens.token_check(:'w_all', 'write', 'later') AS before_create;
SELECT influx_tokens.create_bucket('perm_org', 'later') > 0;
SELECT influx_tokens.token_check(:'w_all', 'write', 'later') AS after_create;
SELECT influx_tokens.token_check(:'w_all', 'write', 'no such bucket') AS unknown_bucket,
       influx_tokens.token_check(:'w_all', 'write', '') AS empty_bucket,
       influx_tokens.token_check(:'w_all', 'write', NULL) AS null_bucket;

-- A single-bucket grant is bound to the bucket: a rename keeps it...
SELECT influx_tokens.rename_bucket('perm_org', 'bucket1', 'bucket1_renamed') > 0;
SELECT influx_tokens.token_check(:'w_b1', 'write', 'bucket1_renamed') AS renamed_allowed,
       influx_tokens.token_check(:'w_b1', 'write', 'bucket1') AS old_name_allowed;
SELECT permissions FROM influx_tokens.token_info(:'w_b1');
-- ...and a new bucket under the old name is not granted.
SELECT influx_tokens.create_bucket('perm_org', 'bucket1') > 0;
SELECT influx_tokens.token_check(:'w_b1', 'write', 'bucket1') AS new_same_name_allowed;
-- Dropping the bucket removes the grant; recreating the name does not bring it back.
SELECT influx_tokens.drop_bucket('perm_org', 'bucket0') > 0;
SELECT influx_tokens.create_bucket('perm_org', 'bucket0') > 0;
SELECT influx_tokens.token_check(:'w_b0', 'write', 'bucket0') AS recreated_allowed;
SELECT permissions FROM influx_tokens.token_info(:'w_b0');

-- token_allows accepts every resource type of InfluxDB 2; every one but
-- "instance" can be granted (InfluxDB's API refuses it too).
SELECT influx_tokens.create_token('perm_org', ARRAY['read:authorizations', 'read:buckets', 'read:dashboards', 'read:orgs',
    'read:sources', 'read:tasks', 'read:telegrafs', 'read:users', 'read:variables', 'read:scrapers', 'read:secrets',
    'read:labels', 'read:views', 'read:documents', 'read:notificationRules', 'read:notificationEndpoints',
    'read:checks', 'read:dbrp', 'read:notebooks', 'read:annotations', 'read:remotes', 'read:replications']) AS every_type \gset
SELECT cardinality(permissions) FROM influx_tokens.token_info(:'every_type');
SELECT bool_and(influx_tokens.token_allows(:'every_type', 'read:' || t)) AS reads_all,
       bool_or(influx_tokens.token_allows(:'every_type', 'write:' || t)) AS writes_any
FROM unnest(ARRAY['authorizations', 'buckets', 'dashboards', 'orgs', 'sources', 'tasks', 'telegrafs', 'users',
    'variables', 'scrapers', 'secrets', 'labels', 'views', 'documents', 'notificationRules',
    'notificationEndpoints', 'checks', 'dbrp', 'notebooks', 'annotations', 'remotes', 'replications']) AS t;
SELECT influx_tokens.token_allows(:'every_type', 'read:instance') AS reads_instance;
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{read:instance}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{write:/instance}')$$);

-- Malformed permission strings are errors, in create_token and in token_allows.
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{buckets}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{admin:buckets}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{Write:buckets}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{write:widgets}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{write:}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{write:buckets/}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{write:tasks/1}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{write:buckets/nope}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{}')$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', NULL)$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', ARRAY['read:orgs', NULL])$$);
SELECT error_of($$SELECT influx_tokens.create_token('perm_org', '{{read:orgs},{read:users}}')$$);
SELECT error_of($$SELECT influx_tokens.token_allows('x', 'read')$$);
SELECT error_of($$SELECT influx_tokens.token_allows('x', NULL)$$);
SELECT error_of($$SELECT influx_tokens.token_allows('x', 'read:buckets/' || repeat('b', 129))$$);
