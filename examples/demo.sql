-- A short tour of influx_tokens, run by examples/demo.sh in a throwaway cluster.
\set ON_ERROR_STOP 1
\pset footer off
\echo '== install'
CREATE EXTENSION influx_tokens CASCADE;

\echo '== an organization with two buckets'
SELECT influx_tokens.create_org('acme') AS org_id;
SELECT influx_tokens.create_bucket('acme', 'metrics') AS metrics_id, influx_tokens.create_bucket('acme', 'logs') AS logs_id;

\echo '== a write-only token for one bucket, and a read-all token that expires in a day'
SELECT influx_tokens.create_token('acme', '{write:buckets/metrics}', 'telegraf on host-1', '{team:ops}') AS writer \gset
SELECT influx_tokens.create_token('acme', '{read:buckets,read:orgs}', 'grafana', '{team:web}',
                                  now() + interval '1 day') AS reader \gset
\echo 'The token text is shown once, at creation; only its SHA-256 is stored. It looks like:'
SELECT left(:'writer', 8) || repeat('*', length(:'writer') - 8) AS writer_token_masked;

\echo '== what may each token do?'
SELECT influx_tokens.token_check(:'writer', 'write', 'metrics') AS writer_writes_metrics,
       influx_tokens.token_check(:'writer', 'read',  'metrics') AS writer_reads_metrics,
       influx_tokens.token_check(:'writer', 'write', 'logs')    AS writer_writes_logs;
SELECT influx_tokens.token_check(:'reader', 'read', 'logs')    AS reader_reads_logs,
       influx_tokens.token_check(:'reader', 'write', 'logs')   AS reader_writes_logs,
       influx_tokens.token_allows(:'reader', 'read:orgs')      AS reader_reads_orgs;
SELECT influx_tokens.token_check('ixt_not-a-real-token', 'read', 'logs') AS garbage_token;

\echo '== the tokens, as an administrator sees them (no secrets)'
SELECT id, org, description, status, labels, permissions, expires_at IS NOT NULL AS expires
FROM influx_tokens.token_list ORDER BY id;

\echo '== revoke the writer: refused at once'
SELECT influx_tokens.revoke_token(:'writer') AS tokens_revoked;
SELECT influx_tokens.token_check(:'writer', 'write', 'metrics') AS writer_after_revoke;

\echo '== delegation: a service token mints a device token, never with more than it holds'
SELECT influx_tokens.create_token('acme', '{write:authorizations,write:buckets}', 'ingest service') AS service \gset
SELECT influx_tokens.create_token_as(:'service', '{write:buckets/logs}', 'device 42') AS device \gset
SELECT influx_tokens.token_check(:'device', 'write', 'logs') AS device_writes_logs,
       influx_tokens.token_check(:'device', 'write', 'metrics') AS device_writes_metrics;
\echo 'Asking for more than the service holds fails (expected error below):'
\set ON_ERROR_STOP 0
\set VERBOSITY terse
SELECT influx_tokens.create_token_as(:'service', '{read:buckets}', 'escalation attempt');
\set VERBOSITY default
\set ON_ERROR_STOP 1

\echo '== rotation: a new secret, the old one still accepted for a grace period'
SELECT influx_tokens.rotate_token(:'device', interval '1 hour') AS rotated \gset
SELECT influx_tokens.token_check(:'rotated', 'write', 'logs') AS new_secret,
       influx_tokens.token_check(:'device', 'write', 'logs') AS old_secret_in_grace;
SELECT description, parent_id IS NOT NULL AS has_parent, permissions FROM influx_tokens.token_list WHERE description = 'device 42';

\echo '== managing with a token: the service lists the tokens it may read and disables the device'
SELECT influx_tokens.create_token('acme', '{read:authorizations,write:authorizations,write:buckets}', 'manager') AS manager \gset
SELECT influx_id AS device_id FROM influx_tokens.list_tokens_as(:'manager') WHERE description = 'device 42' \gset
SELECT influx_id, description, status FROM influx_tokens.list_tokens_as(:'manager') ORDER BY id;
SELECT influx_tokens.revoke_token_as(:'manager', :'device_id') AS revoked_by_token;
SELECT influx_tokens.token_check(:'rotated', 'write', 'logs') AS device_after;

\echo '== delegation holds over time: revoking the service stops what it minted'
SELECT influx_tokens.create_token_as(:'service', '{write:buckets/metrics}', 'device 43') AS device43 \gset
SELECT influx_tokens.token_check(:'device43', 'write', 'metrics') AS device43_before;
SELECT influx_tokens.revoke_token(:'service') AS service_revoked;
SELECT influx_tokens.token_check(:'device43', 'write', 'metrics') AS device43_after;
