-- Tokens commit and roll back with the caller's transaction.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('tx_org') > 0;
SELECT influx_tokens.create_bucket('tx_org', 'b') > 0;

-- A token created in a rolled-back transaction never works.
BEGIN;
SELECT influx_tokens.create_token('tx_org', '{write:buckets}') AS ghost \gset
SELECT influx_tokens.token_check(:'ghost', 'write', 'b') AS inside_transaction;
ROLLBACK;
SELECT influx_tokens.token_check(:'ghost', 'write', 'b') AS after_rollback;
SELECT count(*) FROM influx_tokens.token_info(:'ghost');

-- A revoke is in force at once in its own transaction, and undone by rollback.
SELECT influx_tokens.create_token('tx_org', '{write:buckets}') AS tok \gset
SELECT id AS tok_id FROM influx_tokens.token_info(:'tok') \gset
BEGIN;
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS before_revoke;
SELECT influx_tokens.revoke_token(:tok_id);
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS after_revoke_same_transaction;
ROLLBACK;
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS after_rollback_of_revoke;

-- Revoke and check in one statement: the check sees the revoke.
SELECT influx_tokens.revoke_token(:tok_id), influx_tokens.token_check(:'tok', 'write', 'b') AS same_statement;
SELECT influx_tokens.activate_token(:tok_id);

-- Savepoints: a rolled-back subtransaction's delete does not count.
BEGIN;
SAVEPOINT s1;
SELECT influx_tokens.delete_token(:tok_id);
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS after_delete_in_savepoint;
ROLLBACK TO SAVEPOINT s1;
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS after_rollback_to_savepoint;
COMMIT;

-- Bucket drop inside a transaction, then rollback.
BEGIN;
SELECT influx_tokens.drop_bucket('tx_org', 'b') > 0;
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS bucket_dropped;
ROLLBACK;
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS bucket_back;

-- REPEATABLE READ: a check still sees revokes committed after the snapshot was taken
-- (proved across sessions in test/t/010_sessions.pl); inside, its own changes count.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS rr_before;
SELECT influx_tokens.revoke_token(:tok_id);
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS rr_after_own_revoke;
ROLLBACK;
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS after_rr_rollback;
