-- Expiry is compared with the clock at each check.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('exp_org') > 0;
SELECT influx_tokens.create_bucket('exp_org', 'b') > 0;

-- A token without expiry never expires; one with a far expiry works.
SELECT influx_tokens.create_token('exp_org', '{write:buckets}') AS forever \gset
SELECT influx_tokens.create_token('exp_org', '{write:buckets}', expires_at => now() + interval '1 day') AS day \gset
SELECT influx_tokens.token_check(:'forever', 'write', 'b') AS forever_ok, influx_tokens.token_check(:'day', 'write', 'b') AS day_ok;
SELECT expires_at IS NULL AS no_expiry FROM influx_tokens.token_info(:'forever');
SELECT expires_at > now() AS expiry_stored FROM influx_tokens.token_info(:'day');

-- A token can expire in the middle of a transaction: checks read the clock, not now().
BEGIN;
SELECT influx_tokens.create_token('exp_org', '{write:buckets}', expires_at => clock_timestamp() + interval '1 second') AS short \gset
SELECT influx_tokens.token_check(:'short', 'write', 'b') AS before_expiry;
SELECT pg_sleep(1.2);
SELECT influx_tokens.token_check(:'short', 'write', 'b') AS after_expiry_same_transaction;
SELECT influx_tokens.token_allows(:'short', 'write:buckets') AS allows_after_expiry;
COMMIT;
-- An expired token is still known (token_info shows it) but never allowed.
SELECT status, expires_at < clock_timestamp() AS expired FROM influx_tokens.token_info(:'short');

-- set_token_expiry: extend, then remove the expiry.
SELECT id AS short_id FROM influx_tokens.token_info(:'short') \gset
SELECT influx_tokens.set_token_expiry(:short_id, now() + interval '1 hour') > 0;
SELECT influx_tokens.token_check(:'short', 'write', 'b') AS extended;
SELECT influx_tokens.set_token_expiry(:short_id, NULL) > 0;
SELECT influx_tokens.token_check(:'short', 'write', 'b') AS no_longer_expires,
       (SELECT expires_at IS NULL FROM influx_tokens.token_info(:'short')) AS expiry_cleared;
SELECT id AS day_id FROM influx_tokens.token_info(:'day') \gset
SELECT influx_tokens.set_token_expiry(:day_id, clock_timestamp() + interval '0.5 second') > 0;
SELECT pg_sleep(0.7);
SELECT influx_tokens.token_check(:'day', 'write', 'b') AS shortened_allowed;

-- An expiry in the past is refused, at creation and later; nothing changes.
SELECT count(*) AS tokens_before FROM influx_tokens.tokens \gset
SELECT error_of($$SELECT influx_tokens.create_token('exp_org', '{write:buckets}', expires_at => '2000-01-01')$$);
SELECT count(*) = :tokens_before AS nothing_created FROM influx_tokens.tokens;
SELECT left(error_of(format('SELECT influx_tokens.set_token_expiry(%s, now() - interval %L)', :short_id, '1 minute')), 5) AS sqlstate;
SELECT influx_tokens.token_check(:'short', 'write', 'b') AS still_allowed_after_refused_change;
