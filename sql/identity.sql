-- The transaction's current token (authenticate) and what row-level security policies ask of it.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('id_org') > 0, influx_tokens.create_bucket('id_org', 'metrics') > 0,
       influx_tokens.create_bucket('id_org', 'logs') > 0;
SELECT influx_tokens.create_token('id_org', '{write:buckets/metrics,read:buckets}') AS writer \gset
SELECT influx_tokens.create_token('id_org', '{read:buckets/logs}') AS reader \gset
SELECT id AS writer_id FROM influx_tokens.token_info(:'writer') \gset

-- No token current: false or NULL, never an error; bad questions are errors all the same.
SELECT influx_tokens.current_token_check('read', 'metrics') AS check_,
       influx_tokens.current_token_allows('read:buckets') AS allows,
       influx_tokens.current_token_id() IS NULL AS no_id, influx_tokens.current_token_org() IS NULL AS no_org;
SELECT error_of($$SELECT influx_tokens.current_token_check('delete', 'metrics')$$);
SELECT error_of($$SELECT influx_tokens.current_token_check(NULL, 'metrics')$$);
SELECT error_of($$SELECT influx_tokens.current_token_allows('bogus')$$);
SELECT influx_tokens.current_token_buckets('read') AS no_buckets;
SELECT influx_tokens.current_token_check('read', NULL) AS null_bucket;

-- authenticate: the token is current for the rest of the transaction.
BEGIN;
SELECT influx_tokens.authenticate(:'writer') AS authenticated;
SELECT influx_tokens.current_token_id() = :writer_id AS is_writer, influx_tokens.current_token_org() AS org,
       influx_tokens.current_token_check('write', 'metrics') AS writes_metrics,
       influx_tokens.current_token_check('write', 'logs') AS writes_logs,
       influx_tokens.current_token_check('read', 'logs') AS reads_logs,
       influx_tokens.current_token_allows('read:buckets') AS allows_read_buckets;
SELECT influx_tokens.current_token_buckets('read') AS readable, influx_tokens.current_token_buckets('write') AS writable;
SELECT influx_tokens.current_token_check('write', 'id_org', 'metrics') AS in_own_org,
       influx_tokens.current_token_check('write', 'nowhere', 'metrics') AS in_unknown_org,
       influx_tokens.current_token_check('write', NULL, 'metrics') AS in_null_org;
COMMIT;
SELECT influx_tokens.current_token_id() IS NULL AS gone_after_commit;
-- In a statement of its own (autocommit): for that statement only.
SELECT influx_tokens.authenticate(:'writer') AS authenticated;
SELECT influx_tokens.current_token_id() IS NULL AS gone_after_the_statement;
-- An abort ends it too.
BEGIN;
SELECT influx_tokens.authenticate(:'writer') AS authenticated;
ROLLBACK;
SELECT influx_tokens.current_token_id() IS NULL AS gone_after_abort;
-- A savepoint rolled back restores the token that was current before it; one released keeps the new one.
BEGIN;
SELECT influx_tokens.authenticate(:'reader') AS reader;
SAVEPOINT s;
SELECT influx_tokens.authenticate(:'writer') AS writer;
SELECT influx_tokens.current_token_check('write', 'metrics') AS writer_inside;
ROLLBACK TO SAVEPOINT s;
SELECT influx_tokens.current_token_check('write', 'metrics') AS writer_after_rollback,
       influx_tokens.current_token_check('read', 'logs') AS reader_again;
SAVEPOINT t;
SELECT influx_tokens.authenticate(:'writer') AS writer;
RELEASE SAVEPOINT t;
SELECT influx_tokens.current_token_check('write', 'metrics') AS writer_after_release;
COMMIT;
-- A token that is not usable leaves none current, also where one was.
BEGIN;
SELECT influx_tokens.authenticate(:'writer') AS writer;
SELECT influx_tokens.authenticate('ixt_garbage') AS garbage;
SELECT influx_tokens.current_token_id() IS NULL AS none_current, influx_tokens.current_token_check('write', 'metrics') AS check_;
SELECT influx_tokens.authenticate(NULL) AS null_token;
ROLLBACK;
-- A revoke is in force at the next statement, an expiry at the next check.
BEGIN;
SELECT influx_tokens.authenticate(:'writer') AS writer;
SELECT influx_tokens.revoke_token(:writer_id);
SELECT influx_tokens.current_token_check('write', 'metrics') AS after_revoke,
       influx_tokens.current_token_id() IS NULL AS no_id_after_revoke;
ROLLBACK;
SELECT influx_tokens.create_token('id_org', '{read:buckets}', expires_at => clock_timestamp() + interval '0.3 second') AS brief \gset
BEGIN;
SELECT influx_tokens.authenticate(:'brief') AS brief;
SELECT pg_sleep(0.4);
SELECT influx_tokens.current_token_check('read', 'metrics') AS after_expiry;
ROLLBACK;

-- The recipe (README): an application table with policies, and an application role that does not own it.
CREATE TABLE public.points (bucket text NOT NULL, line text NOT NULL);
INSERT INTO public.points VALUES ('metrics', 'cpu v=1'), ('metrics', 'cpu v=2'), ('logs', 'boot'), ('other', 'no');
ALTER TABLE public.points ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_by_token ON public.points FOR SELECT
    USING (influx_tokens.current_token_check('read', bucket));
CREATE POLICY write_by_token ON public.points FOR INSERT
    WITH CHECK (influx_tokens.current_token_check('write', bucket));
-- The same read policy in the form the planner evaluates once per statement (an InitPlan).
CREATE TABLE public.points_by_list (bucket text NOT NULL, line text NOT NULL);
INSERT INTO public.points_by_list SELECT * FROM public.points;
ALTER TABLE public.points_by_list ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_by_token ON public.points_by_list FOR SELECT
    USING (bucket = ANY ((SELECT influx_tokens.current_token_buckets('read'))::text[]));
CREATE FUNCTION pg_temp.plan_has(query text, what text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF position(what IN line) > 0 THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;
CREATE ROLE regress_rls_app;
GRANT SELECT, INSERT ON public.points TO regress_rls_app;
GRANT SELECT ON public.points_by_list TO regress_rls_app;
SET ROLE regress_rls_app;
SELECT count(*) AS rows_without_token FROM public.points;
SELECT error_of($$INSERT INTO public.points VALUES ('metrics', 'x')$$) AS insert_without_token;
BEGIN;
SELECT influx_tokens.authenticate(:'reader') AS reader;
-- Every function policies call works for a role with PUBLIC's grants only.
SELECT influx_tokens.current_token_id() IS NOT NULL AS has_id, influx_tokens.current_token_org() AS org,
       influx_tokens.current_token_buckets('read') AS readable,
       influx_tokens.current_token_allows('read:buckets/logs') AS allows,
       influx_tokens.current_token_check('read', 'id_org', 'logs') AS in_org;
SELECT bucket, line FROM public.points ORDER BY 1, 2;
SELECT bucket, line FROM public.points_by_list ORDER BY 1, 2;
SELECT pg_temp.plan_has('SELECT * FROM public.points_by_list', 'InitPlan') AS evaluated_once,
       pg_temp.plan_has('SELECT * FROM public.points', 'InitPlan') AS per_row_policy_has_none;
SELECT error_of($$INSERT INTO public.points VALUES ('logs', 'x')$$) AS reader_inserts;
COMMIT;
BEGIN;
SELECT influx_tokens.authenticate(:'writer') AS writer;
SELECT bucket, count(*) FROM public.points GROUP BY 1 ORDER BY 1;
INSERT INTO public.points VALUES ('metrics', 'cpu v=3');
SELECT error_of($$INSERT INTO public.points VALUES ('logs', 'x')$$) AS writer_inserts_logs;
COMMIT;
SELECT count(*) AS rows_without_token_again FROM public.points;
RESET ROLE;
SELECT bucket, count(*) AS all_rows FROM public.points GROUP BY 1 ORDER BY 1;
DROP TABLE public.points, public.points_by_list;
DROP ROLE regress_rls_app;
