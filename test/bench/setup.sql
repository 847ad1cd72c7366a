-- Builds a benchmark database with :n tokens in organization "bench", the same
-- rows in influx_tokens' tables and in the baseline's.  Tokens are loaded in
-- bulk (not through create_token, which is timed separately) and kept in
-- plain text in bench.plain so the checks have something to check.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION influx_tokens;
-- The baselines hash with pgcrypto (influx_tokens itself does not use it).
CREATE EXTENSION pgcrypto;
\ir baseline.sql
CREATE SCHEMA bench;
CREATE FUNCTION bench.seconds(query text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE started timestamptz := clock_timestamp();
BEGIN
    EXECUTE query;
    RETURN extract(epoch FROM clock_timestamp() - started);
END
$$;

SELECT influx_tokens.create_org('bench');
SELECT influx_tokens.create_org('bench_create');
SELECT influx_tokens.create_bucket('bench', 'b');
SELECT influx_tokens.create_bucket('bench', 'other');
SELECT influx_tokens.create_bucket('bench_create', 'b');

-- i % 3 = 0: write one bucket; 1: read all buckets; 2: write all buckets.
CREATE TABLE bench.plain (i int PRIMARY KEY, token text NOT NULL);
INSERT INTO bench.plain SELECT i, influx_tokens._generate_token() FROM generate_series(1, :n) AS i;
INSERT INTO influx_tokens.tokens (id, org_id, digest)
SELECT i, (SELECT id FROM influx_tokens.orgs WHERE name = 'bench'), influx_tokens._token_digest(token)
FROM bench.plain;
SELECT setval('influx_tokens.tokens_id_seq', :n);
INSERT INTO influx_tokens.permissions (token_id, action, resource_type, bucket_id)
SELECT i, CASE WHEN i % 3 = 1 THEN 'read' ELSE 'write' END, 'buckets',
       CASE WHEN i % 3 = 0 THEN (SELECT id FROM influx_tokens.buckets WHERE name = 'b' AND org_id =
                                 (SELECT id FROM influx_tokens.orgs WHERE name = 'bench')) END
FROM bench.plain;

INSERT INTO bench_sql.orgs SELECT id, name FROM influx_tokens.orgs;
INSERT INTO bench_sql.buckets SELECT id, org_id, name FROM influx_tokens.buckets;
INSERT INTO bench_sql.tokens (id, org_id, digest) SELECT id, org_id, digest FROM influx_tokens.tokens;
SELECT setval(pg_get_serial_sequence('bench_sql.tokens', 'id'), :n);
INSERT INTO bench_sql.permissions SELECT token_id, action, resource_type, bucket_id FROM influx_tokens.permissions;

-- A parent for the create_token_as timing.
CREATE TABLE bench.parent AS
SELECT influx_tokens.create_token('bench_create', '{write:authorizations,write:buckets/b}') AS token;

-- Churn for the rows "while tokens change": a session that, per_second
-- times a second for the given seconds, creates a token or revokes and
-- reactivates one token (victim: bench.victim, outside every working set),
-- each write its own transaction.
CREATE PROCEDURE bench.churn(kind text, per_second int, seconds float8)
LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
    n bigint := 0;
    victim bigint := (SELECT i.id FROM bench.victim AS v, influx_tokens.token_info(v.token) AS i);
BEGIN
    WHILE clock_timestamp() < started + make_interval(secs => seconds) LOOP
        IF kind = 'create' THEN
            PERFORM influx_tokens.create_token('bench', '{write:buckets/b}');
        ELSIF n % 2 = 0 THEN
            PERFORM influx_tokens.revoke_token(victim);
        ELSE
            PERFORM influx_tokens.activate_token(victim);
        END IF;
        COMMIT;
        n := n + 1;
        PERFORM pg_sleep(greatest(0, extract(epoch FROM started
            + make_interval(secs => n::float8 / per_second) - clock_timestamp())));
    END LOOP;
END
$$;

CREATE TABLE bench.victim AS
SELECT influx_tokens.create_token('bench', '{write:buckets/b}') AS token;

-- The hot token may write bucket b.
CREATE TABLE bench.hot AS SELECT token FROM bench.plain WHERE i = 3;
VACUUM ANALYZE;
