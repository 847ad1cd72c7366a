-- Migrating from InfluxDB in every shape a user has (test/fixtures/influxdb): what
-- `influx auth list --json` and `influx auth create --json` print (influx CLI 2.1 and
-- later: permissions as strings, no orgID) and the body of GET /api/v2/authorizations.
-- Each token keeps exactly its meaning; import(export(x)) = x for each shape.
\i test/regress_preamble.psql
\set cli_list `cat test/fixtures/influxdb/auth-list.cli.json`
\set cli_create `cat test/fixtures/influxdb/auth-create.cli.json`
\set rest_list `cat test/fixtures/influxdb/authorizations.rest.json`
\set secrets `cat test/fixtures/influxdb/tokens.json`
SELECT :'secrets'::jsonb->>'operator' AS operator, :'secrets'::jsonb->>'all-access' AS all_access,
       :'secrets'::jsonb->>'telemetry' AS telemetry, :'secrets'::jsonb->>'sales' AS sales \gset

-- What a check of each fixture token answers, in one row per token.
CREATE FUNCTION pg_temp.answers(operator text, all_access text, telemetry text, sales text)
RETURNS TABLE (token text, acme_telemetry_rw text, acme_logs_rw text, globex_sales_rw text,
               read_own_org boolean, read_globex_org boolean, write_orgs boolean,
               users_admin_rw text, acme_dashboards_rw text, globex_dashboards_rw text,
               write_instance boolean)
LANGUAGE sql AS $$
    SELECT name,
           concat(influx_tokens.token_check(t, 'read', 'acme', 'telemetry')::int,
                  influx_tokens.token_check(t, 'write', 'acme', 'telemetry')::int),
           concat(influx_tokens.token_check(t, 'read', 'acme', 'logs')::int,
                  influx_tokens.token_check(t, 'write', 'acme', 'logs')::int),
           concat(influx_tokens.token_check(t, 'read', 'globex', 'sales')::int,
                  influx_tokens.token_check(t, 'write', 'globex', 'sales')::int),
           influx_tokens.token_allows(t, 'read:orgs'),
           influx_tokens.token_allows(t, 'read:/orgs/2a2b3c4d5e6f7082'),
           influx_tokens.token_allows(t, 'write:/orgs'),
           concat(influx_tokens.token_allows(t, 'read:/users/6a2b3c4d5e6f7086')::int,
                  influx_tokens.token_allows(t, 'write:/users/6a2b3c4d5e6f7086')::int),
           concat(influx_tokens.token_allows(t, 'read:orgs/1a2b3c4d5e6f7081/dashboards/0000000000000abc')::int,
                  influx_tokens.token_allows(t, 'write:orgs/1a2b3c4d5e6f7081/dashboards')::int),
           concat(influx_tokens.token_allows(t, 'read:orgs/2a2b3c4d5e6f7082/dashboards/0000000000000abc')::int,
                  influx_tokens.token_allows(t, 'write:orgs/2a2b3c4d5e6f7082/dashboards')::int),
           influx_tokens.token_allows(t, 'write:instance')
    FROM (VALUES ('operator', operator), ('all-access', all_access),
                 ('telemetry', telemetry), ('sales', sales)) AS v(name, t)
$$;

-- What the tables hold for the fixture organizations, without our ids and times.
CREATE FUNCTION pg_temp.snapshot() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(jsonb_build_object('org', l.org, 'influx_id', l.influx_id, 'status', l.status,
                                        'description', l.description, 'labels', l.labels,
                                        'expires_at', l.expires_at, 'permissions', l.permissions,
                                        'user', l.influx_user_id || ' ' || l.influx_user_name,
                                        'digest', encode(t.digest, 'hex'))
                     ORDER BY l.influx_id)
    FROM influx_tokens.token_list AS l JOIN influx_tokens.tokens AS t USING (id)
    WHERE l.org IN ('acme', 'globex')
$$;

------------------------------------------------------------------------------
-- influx auth list --json: the organization comes from the permissions; the operator
-- token names none, so it takes the org argument.
------------------------------------------------------------------------------
SELECT error_of(format('SELECT influx_tokens.import_influxdb2(%L, create_missing => true)', :'cli_list'));
SELECT count(*) AS nothing_imported FROM influx_tokens.token_list WHERE org IN ('acme', 'globex');
SELECT influx_tokens.import_influxdb2(:'cli_list',
           org_names => '{"1a2b3c4d5e6f7081": "acme", "2a2b3c4d5e6f7082": "globex"}',
           bucket_names => '{"3a2b3c4d5e6f7083": "telemetry", "5a2b3c4d5e6f7085": "sales"}',
           create_missing => true, org => 'acme') AS imported;
SELECT influx_tokens.create_bucket('acme', 'logs') > 0 AS logs_made_later;
SELECT name, influx_id FROM influx_tokens.org_list WHERE name IN ('acme', 'globex') ORDER BY 1;
SELECT org, name, CASE WHEN name = 'logs' THEN length(influx_id) || ' hex digits of its own' ELSE influx_id END AS influx_id
FROM influx_tokens.bucket_list WHERE org IN ('acme', 'globex') ORDER BY 1, 2;
SELECT influx_id, org, status, description, influx_user_id, influx_user_name, cardinality(permissions) AS grants
FROM influx_tokens.token_list WHERE org IN ('acme', 'globex') ORDER BY influx_id;
SELECT permissions FROM influx_tokens.token_list WHERE influx_id IN ('7a2b3c4d5e6f7003', '7a2b3c4d5e6f7004') ORDER BY influx_id;
-- The operator token reaches every organization, buckets made later included; the
-- all-access token its own organization only; neither holds instance.
SELECT * FROM pg_temp.answers(:'operator', :'all_access', :'telemetry', :'sales');

-- A re-run fails on the first token already there, naming it; skip_existing skips them.
SELECT error_of(format('SELECT influx_tokens.import_influxdb2(%L, org => %L)', :'cli_list', 'acme'));
SELECT influx_tokens.import_influxdb2(:'cli_list', org => 'acme', skip_existing => true) AS imported_again;

------------------------------------------------------------------------------
-- Round trips: export in either shape, delete, import the export: the same tokens, with
-- the same meaning, secrets, InfluxDB IDs, users, labels and expiry.
------------------------------------------------------------------------------
SELECT influx_tokens.add_token_labels(:'telemetry', '{fleet,eu}') > 0;
SELECT influx_tokens.set_token_expiry(:'telemetry', '2999-01-01 00:00:00+00') > 0;
SELECT pg_temp.snapshot() AS before \gset
SELECT influx_tokens.export_tokens(shape => 'cli') AS cli_export, influx_tokens.export_tokens() AS rest_export \gset
SELECT e->'permissions'->0 AS first_cli_permission, e ? 'orgID' AS has_org_id
FROM jsonb_array_elements(:'cli_export') AS e WHERE e->>'id' = '7a2b3c4d5e6f7003';
SELECT e->'permissions'->0 AS first_rest_permission, e->>'orgID' AS org_id, e->>'user' AS user_name
FROM jsonb_array_elements(:'rest_export') AS e WHERE e->>'id' = '7a2b3c4d5e6f7003';

SELECT count(*) AS deleted FROM influx_tokens.token_list AS l,
    LATERAL influx_tokens.delete_token(l.id) WHERE l.org IN ('acme', 'globex');
SELECT influx_tokens.import_influxdb2(
           (SELECT jsonb_agg(e) FROM jsonb_array_elements(:'cli_export') AS e
            WHERE e->>'id' LIKE '7a2b3c4d5e6f70%'), org => 'acme') AS reimported_cli;
SELECT pg_temp.snapshot() = :'before' AS cli_round_trip;
SELECT * FROM pg_temp.answers(:'operator', :'all_access', :'telemetry', :'sales');

SELECT count(*) AS deleted FROM influx_tokens.token_list AS l,
    LATERAL influx_tokens.delete_token(l.id) WHERE l.org IN ('acme', 'globex');
SELECT influx_tokens.import_influxdb2(
           jsonb_build_object('links', '{}'::jsonb, 'authorizations',
               (SELECT jsonb_agg(e) FROM jsonb_array_elements(:'rest_export') AS e
                WHERE e->>'id' LIKE '7a2b3c4d5e6f70%'))) AS reimported_rest;
SELECT pg_temp.snapshot() = :'before' AS rest_round_trip;
-- The REST objects without the wrapper, and each object alone (influx auth create --json
-- prints one), in either shape.
SELECT count(*) AS deleted FROM influx_tokens.token_list AS l,
    LATERAL influx_tokens.delete_token(l.id) WHERE l.org IN ('acme', 'globex');
SELECT influx_tokens.import_influxdb2(
           (SELECT jsonb_agg(e) FROM jsonb_array_elements(:'rest_export') AS e
            WHERE e->>'id' LIKE '7a2b3c4d5e6f70%')) AS reimported_rest_array;
SELECT pg_temp.snapshot() = :'before' AS rest_array_round_trip;
SELECT count(*) AS deleted FROM influx_tokens.token_list AS l,
    LATERAL influx_tokens.delete_token(l.id) WHERE l.org IN ('acme', 'globex');
SELECT sum(influx_tokens.import_influxdb2(e, org => 'acme')) AS reimported_one_by_one
FROM jsonb_array_elements(:'cli_export') AS e WHERE e->>'id' LIKE '7a2b3c4d5e6f70%';
SELECT pg_temp.snapshot() = :'before' AS cli_objects_round_trip;
SELECT count(*) AS deleted FROM influx_tokens.token_list AS l,
    LATERAL influx_tokens.delete_token(l.id) WHERE l.org IN ('acme', 'globex');
SELECT sum(influx_tokens.import_influxdb2(e)) AS reimported_one_by_one
FROM jsonb_array_elements(:'rest_export') AS e WHERE e->>'id' LIKE '7a2b3c4d5e6f70%';
SELECT pg_temp.snapshot() = :'before' AS rest_objects_round_trip;
-- Exporting again gives the same document.
SELECT influx_tokens.export_tokens('acme', 'cli') = (SELECT jsonb_agg(e ORDER BY e->>'id') FROM jsonb_array_elements(:'cli_export') AS e
                                                     WHERE e->>'id' IN (SELECT influx_id FROM influx_tokens.token_list WHERE org = 'acme'))
       AS cli_export_stable;

------------------------------------------------------------------------------
-- The REST body (with its wrapper) and influx auth create --json (one object).
------------------------------------------------------------------------------
SELECT count(*) AS deleted FROM influx_tokens.token_list AS l,
    LATERAL influx_tokens.delete_token(l.id) WHERE l.org IN ('acme', 'globex');
SELECT influx_tokens.import_influxdb2(:'rest_list') AS imported_rest;
SELECT * FROM pg_temp.answers(:'operator', :'all_access', :'telemetry', :'sales');
SELECT influx_tokens.delete_token(:'telemetry') > 0;
SELECT influx_tokens.import_influxdb2(:'cli_create') AS imported_one;
SELECT l.influx_id, l.permissions, l.influx_user_name
FROM influx_tokens.token_info(:'telemetry') AS i JOIN influx_tokens.token_list AS l USING (id);
-- The same tokens as the CLI's shape gave, but for what the CLI's shape cannot carry.
SELECT jsonb_agg(x - 'labels' - 'expires_at' ORDER BY x->>'influx_id') = (
           SELECT jsonb_agg(y - 'labels' - 'expires_at' ORDER BY y->>'influx_id')
           FROM jsonb_array_elements(:'before') AS y) AS same_as_cli_import
FROM jsonb_array_elements(pg_temp.snapshot()) AS x;

------------------------------------------------------------------------------
-- Refused, naming the entry and the permission, and nothing imported.
------------------------------------------------------------------------------
-- A bucket grant for another organization (InfluxDB's Authorization.Valid refuses it; 1.1
-- bound it to the importing token's own organization by name).
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"id": "8a2b3c4d5e6f7001", "orgID": "1a2b3c4d5e6f7081", "token": "foreign-org-bucket-token", "permissions": [{"action": "write", "resource": {"type": "buckets", "orgID": "2a2b3c4d5e6f7082", "id": "5a2b3c4d5e6f7085", "name": "sales"}}]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"id": "8a2b3c4d5e6f7002", "token": "foreign-org-bucket-token", "permissions": ["read:orgs/1a2b3c4d5e6f7081/buckets", "write:orgs/2a2b3c4d5e6f7082/buckets/5a2b3c4d5e6f7085"]}]')$$);
-- A bucket of another organization under this one's ID.
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"id": "8a2b3c4d5e6f7003", "token": "wrong-bucket-org-token", "permissions": ["write:orgs/1a2b3c4d5e6f7081/buckets/5a2b3c4d5e6f7085"]}]')$$);
-- Zero IDs, for the organization, a bucket, the authorization, the user.
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "0000000000000000", "token": "zero-org-id-token", "permissions": ["read:/buckets"]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"token": "zero-bucket-id-token", "permissions": ["read:orgs/1a2b3c4d5e6f7081/buckets/0000000000000000"]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"id": "0000000000000000", "orgID": "1a2b3c4d5e6f7081", "token": "zero-auth-id-token", "permissions": ["read:/buckets"]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "userID": "0000000000000000", "token": "zero-user-id-token", "permissions": ["read:/buckets"]}]')$$);
-- instance, an unknown type, an unknown status, two organizations, no organization.
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "instance-holder-token", "permissions": ["write:/instance"]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "unknown-type-token", "permissions": [{"action": "read", "resource": {"type": "flows"}}]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "status": "paused", "token": "paused-status-token", "permissions": ["read:/buckets"]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"token": "two-orgs-token", "permissions": ["read:orgs/1a2b3c4d5e6f7081/tasks", "read:orgs/2a2b3c4d5e6f7082/tasks"]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"description": "setup token", "token": "org-less-token-0001", "permissions": ["read:/buckets"]}]')$$);
-- The second entry fails: the first is not imported either.
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "first-of-two-token", "permissions": ["read:/buckets"]}, {"orgID": "1a2b3c4d5e6f7081", "token": "second-of-two-token", "permissions": ["read:/flows"]}]')$$);
SELECT influx_tokens.token_allows('first-of-two-token', 'read:/buckets') AS first_imported;
-- A permission entry of the wrong JSON type.
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "number-permission-token", "permissions": [42]}]')$$);
-- Keys InfluxDB would read otherwise (Go matches them without regard to case) or ignore,
-- and values that are not what they claim.
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "misspelled-key-token", "permissions": [{"action": "read", "resource": {"type": "buckets", "orgId": "1a2b3c4d5e6f7081"}}]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "upper-case-key-token", "permissions": [{"action": "read", "resource": {"type": "dashboards", "ID": "0000000000000abc"}}]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "bucket-by-name-token", "permissions": [{"action": "read", "resource": {"type": "buckets", "name": "telemetry"}}]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "action-smuggle-token", "permissions": [{"action": "read:buckets/", "resource": {"type": "buckets"}}]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "org-id-smuggle-token", "permissions": [{"action": "read", "resource": {"type": "0000000000000abc", "orgID": "1a2b3c4d5e6f7081/dashboards"}}]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "id-smuggle-token-01", "permissions": [{"action": "read", "resource": {"type": "buckets", "id": "3a2b3c4d5e6f7083/x"}}]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "Status": "inactive", "token": "case-status-token-01", "permissions": ["read:/buckets"]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "operator-in-org-token", "permissions": [{"action": "read", "resource": {"type": "**", "orgID": "1a2b3c4d5e6f7081"}}]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "numeric-id-token", "permissions": [{"action": "read", "resource": {"type": "tasks", "id": 12}}]}]')$$);
-- A string that does not say whether it is for one organization or every one (our spelling;
-- in Go's Permission.String, the same text means every organization) is not guessed at;
-- "*" and "**" are only ours.
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "our-spelling-token-01", "permissions": ["read:buckets"]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "our-spelling-token-01", "permissions": ["write:buckets/telemetry"]}]')$$);
SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "token": "our-spelling-token-01", "permissions": ["read:*", "write:**"]}]') AS imported_wildcards;
SELECT permissions FROM influx_tokens.token_info('our-spelling-token-01');

-- An organization found by name takes the export's InfluxDB ID, unless a token's grant names
-- the one it has.
SELECT influx_tokens.create_org('initech') > 0;
SELECT influx_tokens.import_influxdb2('[{"orgID": "9a2b3c4d5e6f7089", "org": "initech", "token": "initech-token-0001", "permissions": ["read:orgs/9a2b3c4d5e6f7089/tasks"]}]') AS adopted;
SELECT influx_id FROM influx_tokens.org_list WHERE name = 'initech';
SELECT influx_tokens.create_org('umbrella') > 0;
SELECT influx_id AS umbrella_id FROM influx_tokens.org_list WHERE name = 'umbrella' \gset
SELECT influx_tokens.create_org('mig_shapes_holder') > 0;
SELECT influx_tokens.create_token('mig_shapes_holder', ARRAY['read:/orgs/' || :'umbrella_id']) IS NOT NULL AS holder;
SELECT regexp_replace(error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "9a2b3c4d5e6f7090", "org": "umbrella", "token": "umbrella-token-01", "permissions": ["read:/buckets"]}]')$$),
                      '[0-9a-f]{16}, which', '<its ID>, which') AS refused;

-- No error message quotes a token.
SELECT count(*) AS tokens_in_messages FROM (VALUES
    (error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1a2b3c4d5e6f7081", "description": "ixt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "token": "KPdOblZGEs6ElzlPK7hZ1UCDG9-ilMAgpH4Ej--m5LWirof6X2cy6gpbhkRWaZdMq", "permissions": ["read:/flows"]}]')$$))) AS m(message)
WHERE message LIKE '%KPdObl%' OR message LIKE '%ixt_AAAA%';
