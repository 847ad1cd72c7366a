-- Least privilege: PUBLIC checks tokens and does nothing else.
\i test/regress_preamble.psql
CREATE ROLE regress_it_app;
CREATE ROLE regress_it_admin;

-- The only functions a plain role may execute.
SELECT p.proname FROM pg_proc p
WHERE p.pronamespace = 'influx_tokens'::regnamespace AND has_function_privilege('regress_it_app', p.oid, 'EXECUTE')
ORDER BY 1;
-- No table, view or sequence is readable or writable by a plain role.
SELECT c.relname, c.relkind FROM pg_class c
WHERE c.relnamespace = 'influx_tokens'::regnamespace AND c.relkind IN ('r', 'v', 'S')
  AND (has_table_privilege('regress_it_app', c.oid, 'SELECT') OR has_table_privilege('regress_it_app', c.oid, 'INSERT')
       OR has_table_privilege('regress_it_app', c.oid, 'UPDATE') OR has_table_privilege('regress_it_app', c.oid, 'DELETE'));
-- Every function that reads the tables for its caller is SECURITY DEFINER with a pinned search_path;
-- the C checks need neither (they resolve no names).
SELECT p.proname, p.prosecdef, p.proconfig FROM pg_proc p
WHERE p.pronamespace = 'influx_tokens'::regnamespace AND p.proname !~ '^_' ORDER BY 1;
-- No helper runs without a pinned search_path, except the C functions.
SELECT p.proname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'influx_tokens'::regnamespace AND l.lanname <> 'c' AND p.proconfig IS NULL;

SELECT influx_tokens.create_org('priv_org') > 0;
SELECT influx_tokens.create_bucket('priv_org', 'b') > 0;
SELECT influx_tokens.create_token('priv_org', '{write:buckets/b}', 'app token') AS tok \gset

-- The app role can check and inspect its token...
SET ROLE regress_it_app;
SELECT influx_tokens.token_check(:'tok', 'write', 'b') AS app_check,
       influx_tokens.token_allows(:'tok', 'read:buckets/b') AS app_allows;
SELECT org, description, permissions FROM influx_tokens.token_info(:'tok');
-- ...try InfluxDB's matching rule, and call the formatter token_list uses (it reads nothing)...
SELECT influx_tokens.permission_matches('write:/buckets', 'write:orgs/0000000000000001/buckets/0000000000000002') AS app_matches,
       influx_tokens._permission_text('write', 'buckets', true, 'b', '0000000000000002', NULL, NULL) AS app_formats;
-- ...and nothing else.
SELECT error_of($$SELECT influx_tokens.import_influxdb2('[]'::jsonb)$$);
SELECT error_of($$SELECT influx_tokens._import_authorization('{}', '{}', '{}', false, NULL)$$);
SELECT error_of($$SELECT influx_tokens.export_tokens()$$);
SELECT error_of($$SELECT influx_tokens.create_token('priv_org', '{write:buckets}')$$);
SELECT error_of($$SELECT influx_tokens.create_org('mine')$$);
SELECT error_of($$SELECT influx_tokens.revoke_token(1)$$);
SELECT error_of($$SELECT influx_tokens._generate_token()$$);
SELECT error_of($$SELECT * FROM influx_tokens.tokens$$);
SELECT error_of($$SELECT * FROM influx_tokens.token_list$$);
SELECT error_of($$DELETE FROM influx_tokens.permissions$$);
SELECT error_of($$CREATE TABLE influx_tokens.planted (x int)$$);
RESET ROLE;

-- The administrator's grants, as README shows them.
-- Every management function (the names without a leading underscore) and
-- _token_usage, which token_list reads per token; the three views.
DO $$
BEGIN
    EXECUTE (SELECT 'GRANT EXECUTE ON FUNCTION ' || string_agg(p.oid::regprocedure::text, ', ') || ' TO regress_it_admin'
             FROM pg_proc AS p
             WHERE p.pronamespace = 'influx_tokens'::regnamespace
               AND (p.proname !~ '^_' OR p.proname = '_token_usage'));
END
$$;
GRANT SELECT ON influx_tokens.token_list, influx_tokens.bucket_list, influx_tokens.org_list TO regress_it_admin;

SET ROLE regress_it_admin;
SELECT influx_tokens.create_bucket('priv_org', 'admin_bucket') > 0;
SELECT influx_tokens.create_token('priv_org', '{read:buckets/admin_bucket}', 'made by admin') AS admin_tok \gset
SELECT description, permissions FROM influx_tokens.token_list WHERE org = 'priv_org' ORDER BY id;
SELECT influx_tokens.token_check(:'admin_tok', 'read', 'admin_bucket') AS admin_token_works;
-- Even the administrator never sees digests.
SELECT error_of($$SELECT digest FROM influx_tokens.tokens$$);
RESET ROLE;

-- A hostile search_path with look-alike objects changes nothing.
CREATE SCHEMA regress_evil AUTHORIZATION regress_it_admin;
SET ROLE regress_it_admin;
CREATE TABLE regress_evil.orgs (id bigint, name text);
INSERT INTO regress_evil.orgs VALUES (1, 'priv_org');
CREATE FUNCTION regress_evil.always_true(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.always_true);
CREATE FUNCTION regress_evil._check_name(text, text) RETURNS void LANGUAGE sql AS 'SELECT';
CREATE FUNCTION regress_evil.clock_timestamp() RETURNS timestamptz LANGUAGE sql AS $$SELECT '1999-01-01'::timestamptz$$;
SET search_path = regress_evil, pg_temp, pg_catalog;
SELECT public.error_of($$SELECT influx_tokens.create_org('priv_org')$$);
SELECT public.error_of($$SELECT influx_tokens.create_bucket('nonexistent_org', 'x')$$);
SELECT public.error_of($$SELECT influx_tokens.create_token('priv_org', '{read:orgs}', expires_at => '2001-01-01')$$);
SELECT influx_tokens.token_check(:'admin_tok', 'read', 'admin_bucket') AS still_works,
       influx_tokens.token_check(:'admin_tok', 'write', 'admin_bucket') AS still_denied;
RESET search_path;
RESET ROLE;

DROP SCHEMA regress_evil CASCADE;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA influx_tokens FROM regress_it_admin;
REVOKE ALL ON ALL TABLES IN SCHEMA influx_tokens FROM regress_it_admin;
DROP ROLE regress_it_app;
DROP ROLE regress_it_admin;
