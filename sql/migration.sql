-- Migrating from InfluxDB: import tokens by plaintext or by hash, bulk import, export.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('mig_org') > 0;
SELECT influx_tokens.create_bucket('mig_org', 'telegraf') > 0;

-- An InfluxDB 2 token (88 characters) and an InfluxDB 3 one, by plaintext: exactly that string works.
\set v2_token 'Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab9-Ab=='
\set v3_token 'apiv3_Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy'
SELECT influx_tokens.import_token('mig_org', :'v2_token', '{write:buckets/telegraf}', 'from influxdb 2', '{migrated}') > 0 AS v2_imported;
SELECT influx_tokens.import_token('mig_org', :'v3_token', '{read:buckets}', 'from influxdb 3') > 0 AS v3_imported;
SELECT influx_tokens.token_check(:'v2_token', 'write', 'telegraf') AS v2_writes,
       influx_tokens.token_check(:'v2_token', 'read', 'telegraf') AS v2_reads,
       influx_tokens.token_check(:'v3_token', 'read', 'telegraf') AS v3_reads,
       influx_tokens.token_check(left(:'v2_token', 87) || '-', 'write', 'telegraf') AS changed_char;
SELECT description, labels, permissions FROM influx_tokens.token_info(:'v2_token');
-- Only the SHA-256 of the whole string is stored (known answer computed with Python's hashlib).
SELECT encode(t.digest, 'base64') = 'bPW/jqe3/sXWdULlkm27oQm7NLOiUvbTATsJM2b7eDE=' AS stored_sha256
FROM influx_tokens.tokens t JOIN influx_tokens.token_list l USING (id) WHERE l.org = 'mig_org' AND l.description = 'from influxdb 2';

-- By hash, with no plaintext at all: InfluxDB 2.9's stored form (the vector from InfluxDB's sources).
SELECT influx_tokens.import_token('mig_org', '$influxdb2-sha256$kMrC1MoFhWvvKSgyqpMaLuo2O3LINv4_XByCSkfV9K0=',
                                  '{write:buckets/telegraf}', 'by hash') > 0 AS hash_imported;
SELECT influx_tokens.token_check('c27cb2033ab304629d32e1dbcd0ca7186322d3be98af5dd4c329ab800ef85d73', 'write', 'telegraf') AS plaintext_of_hash_works;
SELECT error_of($$SELECT influx_tokens.import_token('mig_org', 'c27cb2033ab304629d32e1dbcd0ca7186322d3be98af5dd4c329ab800ef85d73', '{read:orgs}')$$);
SELECT error_of($$SELECT influx_tokens.import_token('mig_org', '$influxdb2-sha512$' || repeat('A', 86) || '==', '{read:orgs}')$$);
SELECT error_of($$SELECT influx_tokens.import_token('mig_org', '$influxdb2-sha256$not*base64', '{read:orgs}')$$);
SELECT error_of($$SELECT influx_tokens.import_token('mig_org', '$influxdb2-sha256$AAAA', '{read:orgs}')$$);
SELECT error_of($$SELECT influx_tokens.import_token('mig_org', 'too short', '{read:orgs}')$$);
SELECT error_of($$SELECT influx_tokens.import_token('mig_org', 'ixt_0000000000000000000000000000000000000000', '{read:orgs}')$$);
SELECT error_of($$SELECT influx_tokens.import_token('mig_org', NULL, '{read:orgs}')$$);
-- Short, spaced or control-character strings are rejected before any lookup; others are looked up.
SELECT influx_tokens.token_check('short', 'write', 'telegraf') AS too_short,
       influx_tokens.token_check(repeat('x', 40) || ' ', 'write', 'telegraf') AS with_space,
       influx_tokens.token_check(repeat('x', 513), 'write', 'telegraf') AS too_long;

-- Bulk import of `influx auth list --json`, IDs mapped to names, missing objects created.
SELECT influx_tokens.import_influxdb2($$[
  {"id": "0a1b2c3d4e5f6071", "token": "Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy==",
   "status": "active", "description": "telegraf host-9", "orgID": "1111111111111111", "org": "legacy",
   "permissions": [
     {"action": "write", "resource": {"type": "buckets", "id": "2222222222222222", "orgID": "1111111111111111", "name": "cpu"}},
     {"action": "read", "resource": {"type": "orgs", "orgID": "1111111111111111"}}]},
  {"id": "0a1b2c3d4e5f6072", "token": "$influxdb2-sha256$iY2pF5M9mhgp5UpKLNlDijlTUiawjel5gpsPwwsbwt4=",
   "status": "inactive", "description": "old dashboard", "orgID": "1111111111111111",
   "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": "1111111111111111"}}]}
]$$::jsonb, org_names => '{"1111111111111111": "legacy"}', create_missing => true) AS imported;
SELECT org, name FROM influx_tokens.bucket_list WHERE org = 'legacy' ORDER BY name;
SELECT influx_id, name FROM influx_tokens.orgs WHERE name = 'legacy';
SELECT t.influx_id, l.status, l.description, l.permissions FROM influx_tokens.token_list l JOIN influx_tokens.tokens t USING (id)
WHERE l.org = 'legacy' ORDER BY t.influx_id;
SELECT influx_tokens.token_check('Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy==', 'write', 'cpu') AS imported_writes_cpu,
       influx_tokens.token_allows('Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy==', 'read:orgs') AS imported_reads_orgs,
       influx_tokens.token_check('legacy-dashboard-token-0123456789abcdef', 'read', 'cpu') AS inactive_stays_inactive;
-- Without create_missing, unknown organizations and buckets are errors, and nothing is imported.
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "3333333333333333", "org": "nowhere", "token": "AAAAAAAAAAAAAAAAAAAAAAAA", "permissions": []}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1111111111111111", "token": "BBBBBBBBBBBBBBBBBBBBBBBB", "permissions": [{"action": "write", "resource": {"type": "buckets", "id": "4444444444444444"}}]}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "not-an-id", "token": "CCCCCCCCCCCCCCCCCCCCCCCC", "permissions": []}]')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('{"not": "an array"}')$$);
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[{"orgID": "1111111111111111", "token": "DDDDDDDDDDDDDDDDDDDDDDDD", "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": "9999999999999999"}}]}]')$$);
-- An export given as text (pg_read_file's result, or an untyped parameter) that is truncated or
-- malformed is an error that says where and quotes none of it (jsonb's own error would quote the token).
SELECT '[{"id": "0a1b2c3d4e5f6073", "org": "legacy", "token": "' || repeat('Zq9-', 21) || 'Z' AS truncated \gset
SELECT E'[\n  {"id": "0a1b2c3d4e5f6074",\n   "token": "' || repeat('Zq9-', 21) || 'Zq==" "org": "legacy"}]' AS malformed \gset
SELECT influx_tokens.import_influxdb2(:'truncated');
SELECT influx_tokens.import_influxdb2(:'malformed', create_missing => true);
SELECT error_of($$SELECT influx_tokens.import_influxdb2(NULL::text)$$);
SELECT count(*) AS legacy_tokens FROM influx_tokens.token_list WHERE org = 'legacy';

-- Export: the same shape, InfluxDB IDs kept, tokens hashed, never plaintext.
SELECT e->>'id' AS id, e->>'status' AS status, e->>'orgID' AS org_id, e->>'org' AS org,
       e->>'token' = '$influxdb2-sha256$iY2pF5M9mhgp5UpKLNlDijlTUiawjel5gpsPwwsbwt4=' OR e->>'token' LIKE '$influxdb2-sha256$%' AS hashed,
       jsonb_path_query_array(e->'permissions', '$[*].resource') AS resources
FROM jsonb_array_elements(influx_tokens.export_tokens('legacy')) AS e ORDER BY 1;
SELECT position('Xy_-Xy_-' IN influx_tokens.export_tokens()::text) = 0 AS no_plaintext_exported;
SELECT jsonb_array_length(influx_tokens.export_tokens()) = (SELECT count(*) FROM influx_tokens.tokens) AS exports_everything;
-- Round trip: delete the tokens, import the export, the same plaintexts work again.
CREATE TEMP TABLE legacy_export AS SELECT influx_tokens.export_tokens('legacy') AS doc;
SELECT count(*) FROM (SELECT influx_tokens.delete_token(id) FROM influx_tokens.token_list WHERE org = 'legacy') AS d;
SELECT influx_tokens.import_influxdb2(doc) AS reimported FROM legacy_export;
SELECT influx_tokens.token_check('Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy_-Xy==', 'write', 'cpu') AS works_after_round_trip;
SELECT (SELECT jsonb_agg(e - 'createdAt' - 'updatedAt') FROM jsonb_array_elements(influx_tokens.export_tokens('legacy')) AS e)
     = (SELECT jsonb_agg(e - 'createdAt' - 'updatedAt') FROM legacy_export, jsonb_array_elements(doc) AS e) AS export_round_trips;
