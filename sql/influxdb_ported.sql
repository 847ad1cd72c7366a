-- InfluxDB 2.x's own test cases, ported (influxdb main-2.x, 85b84f4).  The case data is in
-- test/influxdb/*.tsv, named after its source test and case; README ("InfluxDB's own tests")
-- says how each kind was ported and which differences are deliberate.
\i test/regress_preamble.psql

CREATE TEMP TABLE matches_case (source text, name text, granted text, requested text,
                                expected boolean, origin text);
\copy matches_case FROM 'test/influxdb/matches.tsv' WITH (FORMAT text, HEADER true)
CREATE TEMP TABLE valid_case (source text, name text, permission text, expected boolean);
\copy valid_case FROM 'test/influxdb/valid.tsv' WITH (FORMAT text, HEADER true)
CREATE TEMP TABLE string_case (source text, name text, action text, resource_type text,
                               org_id text, id text, influxdb_string text, cli_string text);
\copy string_case FROM 'test/influxdb/string.tsv' WITH (FORMAT text, HEADER true)

SELECT origin, count(*) AS cases FROM matches_case GROUP BY origin ORDER BY origin;

-- An outcome as text: 'true', 'false' or the SQLSTATE of the error.
CREATE FUNCTION pg_temp.outcome(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    answer boolean;
BEGIN
    EXECUTE statement INTO answer;
    RETURN answer::text;
EXCEPTION WHEN OTHERS THEN
    RETURN 'error ' || SQLSTATE;
END
$$;

-- A case passes when the outcome is the expected one.  InfluxDB's PermissionAllowed says
-- false for a request with a zero ID; its authorizer refuses to build such a request at all
-- (authorizer/authorize.go, Valid before matching), and so do we: an error 22023 passes
-- for an expected false.
CREATE FUNCTION pg_temp.passes(outcome text, expected boolean) RETURNS boolean LANGUAGE sql AS $$
    SELECT outcome = expected::text OR (NOT expected AND outcome = 'error 22023')
$$;

------------------------------------------------------------------------------
-- 1. The rule: Permission.Matches and PermissionAllowed (authz_test.go
--    TestAuthorizer_PermissionAllowed, and the permission each authorizer/*_test.go case
--    asks for, against the caller's permissions), through permission_matches.
------------------------------------------------------------------------------
CREATE TEMP TABLE rule_outcome AS
SELECT c.*, pg_temp.outcome(format(
           'SELECT COALESCE(bool_or(influx_tokens.permission_matches(g, %L)), false)
            FROM unnest(%L::text[]) AS g', c.requested,
           COALESCE(string_to_array(NULLIF(c.granted, ''), ' + '), '{}'))) AS outcome
FROM matches_case AS c;

SELECT split_part(source, ':', 1) AS file, count(*) AS cases,
       count(*) FILTER (WHERE pg_temp.passes(outcome, expected)) AS passed
FROM rule_outcome GROUP BY 1 ORDER BY 1;
-- Every case that does not pass (none).
SELECT source, name, granted, requested, expected, outcome
FROM rule_outcome WHERE NOT pg_temp.passes(outcome, expected);
-- The zero-ID cases, refused rather than answered.
SELECT source, name, outcome FROM rule_outcome WHERE outcome LIKE 'error%' ORDER BY 1, 2;

------------------------------------------------------------------------------
-- 2. The same cases through stored tokens: a token holding the caller's permissions, asked
--    with token_allows.  Each case runs in a world of its own, rolled back after it (InfluxDB's
--    tests reuse IDs: bucket 1 is in organization 1 in one file and in 10 in another): the
--    organizations and buckets it names, with its InfluxDB IDs, each bucket in the
--    organization its request (else its grant) names.  The token's organization is the one
--    its permissions name (two: Authorization.Valid refuses the token, the case does not
--    apply), else the request's, else 0000000000000001.
------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.stored_outcome(c matches_case) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    granted_orgs text[] := ARRAY(SELECT DISTINCT m[1] FROM regexp_matches(c.granted, 'orgs/([0-9a-f]{16})/', 'g') AS m);
    requested_org text := (SELECT m[1] FROM regexp_matches(c.requested, 'orgs/([0-9a-f]{16})/') AS m);
    token_org text;
    found_id text;
    token text;
    outcome text;
BEGIN
    IF c.granted = '' THEN
        RETURN 'n/a: no permissions (a token holds at least one)';
    END IF;
    IF cardinality(granted_orgs) > 1 THEN
        RETURN 'n/a: permissions of two organizations (Authorization.Valid refuses them)';
    END IF;
    token_org := COALESCE(granted_orgs[1], NULLIF(requested_org, '0000000000000000'), '0000000000000001');
    BEGIN
        FOR found_id IN SELECT DISTINCT m[1] FROM regexp_matches(c.granted || ' ' || c.requested || ' orgs/' || token_org || '/',
                                                           '(?:orgs/|:/orgs/)([0-9a-f]{16})', 'g') AS m
                  WHERE m[1] <> '0000000000000000' LOOP
            PERFORM influx_tokens.create_org('case_' || found_id);
            UPDATE influx_tokens.orgs AS o SET influx_id = found_id WHERE o.name = 'case_' || found_id;
        END LOOP;
        FOR found_id IN SELECT DISTINCT ON (m[2]) m[2] || ' ' || COALESCE(m[1], token_org)
                  FROM regexp_matches(c.requested || ' ' || c.granted,
                                      '(?:orgs/([0-9a-f]{16}))?/buckets/([0-9a-f]{16})', 'g') WITH ORDINALITY AS f(m, n)
                  WHERE m[2] <> '0000000000000000' ORDER BY m[2], m[1] IS NULL, n LOOP
            PERFORM influx_tokens.create_bucket('case_' || split_part(found_id, ' ', 2), 'bucket_' || split_part(found_id, ' ', 1));
            UPDATE influx_tokens.buckets AS b SET influx_id = split_part(found_id, ' ', 1)
            WHERE b.name = 'bucket_' || split_part(found_id, ' ', 1);
        END LOOP;
        BEGIN
            token := influx_tokens.create_token('case_' || token_org, string_to_array(c.granted, ' + '));
            outcome := pg_temp.outcome(format('SELECT influx_tokens.token_allows(%L, %L)', token, c.requested));
        EXCEPTION WHEN OTHERS THEN
            outcome := 'n/a: not created: ' || SQLERRM;
        END;
        -- Undo the world.
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = outcome;
    EXCEPTION WHEN raise_exception THEN
        RETURN SQLERRM;
    END;
END
$$;

CREATE TEMP TABLE stored_outcome AS
SELECT c.source, c.name, c.granted, c.requested, c.expected, pg_temp.stored_outcome(c) AS outcome
FROM matches_case AS c;

SELECT split_part(source, ':', 1) AS file, count(*) AS cases,
       count(*) FILTER (WHERE pg_temp.passes(outcome, expected)) AS passed,
       count(*) FILTER (WHERE outcome LIKE 'n/a%') AS not_applicable
FROM stored_outcome GROUP BY 1 ORDER BY 1;
SELECT outcome AS why_not_applicable, count(*) FROM stored_outcome
WHERE outcome LIKE 'n/a%' GROUP BY 1 ORDER BY 1;
-- Every applicable case that does not pass (none).
SELECT source, name, granted, requested, expected, outcome FROM stored_outcome
WHERE outcome NOT LIKE 'n/a%' AND NOT pg_temp.passes(outcome, expected) ORDER BY 1, 2;
-- Nothing is left of the worlds.
SELECT count(*) AS orgs_left FROM influx_tokens.orgs WHERE name LIKE 'case\_%';

------------------------------------------------------------------------------
-- 3. Validity: TestPermission_Valid, TestPermissionAllResources_Valid,
--    TestPermissionAllActions.  A valid permission parses (and covers itself).
------------------------------------------------------------------------------
SELECT source, name, permission, expected,
       pg_temp.outcome(format('SELECT influx_tokens.permission_matches(%L, %L)', permission, permission)) AS outcome
FROM valid_case ORDER BY source, name;

------------------------------------------------------------------------------
-- 4. The string form: TestPermission_String and the requests authorizer errors name.  We
--    write influx CLI's form (api.Permission.String: "/" before a type without an
--    organization), which is what `influx auth list --json` prints; InfluxDB's Go
--    Permission.String leaves that "/" out.  Each is granted to a token of organization
--    0000000000000001 and exported.
------------------------------------------------------------------------------
SELECT influx_tokens.create_org('port_org') > 0;
UPDATE influx_tokens.orgs SET influx_id = '0000000000000001' WHERE name = 'port_org';
SELECT influx_tokens.create_bucket('port_org', 'bucket_one') > 0, influx_tokens.create_bucket('port_org', 'bucket_hundred') > 0;
UPDATE influx_tokens.buckets SET influx_id = '0000000000000001' WHERE name = 'bucket_one';
UPDATE influx_tokens.buckets SET influx_id = '0000000000000064' WHERE name = 'bucket_hundred';
CREATE TEMP TABLE string_token AS
SELECT s.*, influx_tokens.import_token('port_org', 'string-case-' || md5(s.source || s.name), ARRAY[s.cli_string]) AS token_id
FROM string_case AS s;
SELECT s.source, s.name, s.cli_string, e->'permissions'->>0 = s.cli_string AS exported_as_is,
       (SELECT permissions[1] FROM influx_tokens.token_list AS l WHERE l.id = s.token_id) AS ours
FROM string_token AS s
JOIN jsonb_array_elements(influx_tokens.export_tokens('port_org', 'cli')) AS e
  ON e->>'id' = lpad(to_hex(s.token_id), 16, '0')
ORDER BY s.source, s.name;

------------------------------------------------------------------------------
-- 5. Rules no InfluxDB test covers (rules.md of the port: authz.go, auth.go,
--    authorizer/auth.go, authorization/middleware_auth.go).
------------------------------------------------------------------------------
-- authz.go matchesV1: "instance" covers every resource of its action (A2), and only
-- "instance" covers a request for it (A3).
SELECT influx_tokens.permission_matches('write:/instance', 'write:orgs/0000000000000005/buckets/0000000000000009') AS instance_covers_all,
       influx_tokens.permission_matches('write:/instance', 'read:/users/0000000000000001') AS instance_same_action_only,
       influx_tokens.permission_matches('write:orgs/0000000000000001/instance', 'write:orgs/0000000000000002/tasks') AS instance_ignores_org,
       influx_tokens.permission_matches('write:/buckets', 'write:/instance') AS type_grant_not_instance,
       influx_tokens.permission_matches('write:**', 'write:/instance') AS operator_not_instance;
-- A6: a grant in an organization never covers a request without one.
SELECT influx_tokens.permission_matches('read:orgs/0000000000000001/users', 'read:/users/0000000000000002') AS org_users_cover_user,
       influx_tokens.permission_matches('read:orgs/0000000000000001/buckets', 'read:/buckets') AS org_buckets_cover_global;
-- A7: a grant on one ID covers that ID in whatever organization (the rule; a stored bucket
-- is in one organization, see section 2).
SELECT influx_tokens.permission_matches('read:orgs/0000000000000001/buckets/0000000000000005',
                                        'read:orgs/0000000000000002/buckets/0000000000000005') AS id_ignores_org;
-- A9: a grant on one ID never covers the type as a whole.
SELECT influx_tokens.permission_matches('write:/buckets/0000000000000001', 'write:orgs/000000000000000a/buckets') AS id_covers_create;
-- B3, B4: zero IDs are invalid, in the organization and in the resource; IDs are 16
-- lower-case hex digits.
SELECT error_of($$SELECT influx_tokens.permission_matches('read:orgs/0000000000000000/buckets', 'read:/buckets')$$);
SELECT error_of($$SELECT influx_tokens.permission_matches('read:/buckets/0000000000000000', 'read:/buckets')$$);
SELECT error_of($$SELECT influx_tokens.permission_matches('read:/buckets/00000000000000AB', 'read:/buckets')$$);
SELECT error_of($$SELECT influx_tokens.permission_matches('read:/buckets/abc', 'read:/buckets')$$);
-- B2: resource types are case-sensitive.
SELECT error_of($$SELECT influx_tokens.permission_matches('read:/notificationrules', 'read:/buckets')$$);
-- D1 (Authorization.Valid): a permission naming another organization is refused.
SELECT error_of($$SELECT influx_tokens.create_token('port_org', '{read:orgs/0000000000000002/buckets}')$$);
-- E4 (CreateAuthorization): write:orgs/<org>/authorizations is needed, and every permission
-- of the new token must be held by its creator; a grant without an organization needs one
-- without an organization.
SELECT influx_tokens.create_token('port_org',
    '{write:orgs/0000000000000001/authorizations,read:orgs/0000000000000001/buckets,read:/users/0000000000000001}') AS creator \gset
SELECT influx_tokens.create_token_as(:'creator', '{read:orgs/0000000000000001/buckets}') IS NOT NULL AS held_grant_delegated;
SELECT influx_tokens.create_token_as(:'creator', '{read:/users/0000000000000001}') IS NOT NULL AS held_id_grant_delegated;
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'creator', '{read:/buckets}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'creator', '{read:/users/0000000000000002}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'creator', '{write:orgs/0000000000000001/buckets}'));
SELECT influx_tokens.create_token('port_org', '{read:orgs/0000000000000001/buckets}') AS no_authz \gset
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'no_authz', '{read:orgs/0000000000000001/buckets}'));
-- E5 (AuthedAuthorizationService): no token is created with "instance", by anyone.
SELECT error_of($$SELECT influx_tokens.create_token('port_org', '{write:/instance}')$$);
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'creator', '{read:instance}'));
-- D2 (Authorization.PermissionSet): an inactive token is allowed nothing, matching grants
-- or not.
SELECT influx_tokens.token_allows(:'creator', 'read:orgs/0000000000000001/buckets') AS active_allowed;
SELECT influx_tokens.revoke_token(:'creator') > 0;
SELECT influx_tokens.token_allows(:'creator', 'read:orgs/0000000000000001/buckets') AS inactive_allowed;
