-- InfluxDB 2.x's authorization service conformance cases (testing/auth.go, run by
-- authorization/service_test.go; storage cases of authorization/storage_authorization_test.go),
-- ported case by case, named after their source.  InfluxDB's fixtures: organizations o1
-- (0000000000000001) and o2 (0000000000000002), users cooluser (020f755c3c082000) and
-- regularuser (020f755c3c082001), authorizations authZero .. authThree (020f755c3c081000,
-- 020f755c3c082000 .. 020f755c3c082002).  Their tokens ("rand1", ...) are shorter than an
-- imported token may be (16 characters): here they are "rand1-fixture-token" and so on.
-- Users are not an object of the extension: an authorization's user is what the import gave
-- it (token_list.influx_user_id).
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('o1') > 0, influx_tokens.create_org('o2') > 0;
UPDATE influx_tokens.orgs SET influx_id = '0000000000000001' WHERE name = 'o1';
UPDATE influx_tokens.orgs SET influx_id = '0000000000000002' WHERE name = 'o2';

-- One stored authorization, InfluxDB's way: id, user, org, token, permissions, status.
CREATE FUNCTION pg_temp.auth(id text, user_id text, org text, token text, permissions text[],
                             status text DEFAULT 'active', description text DEFAULT NULL)
RETURNS bigint LANGUAGE sql AS $$
    SELECT influx_tokens.import_influxdb2(jsonb_strip_nulls(jsonb_build_object(
        'id', id, 'userID', user_id, 'orgID', org, 'token', token || '-fixture-token',
        'permissions', to_jsonb(permissions), 'status', status, 'description', description)))
$$;
-- allUsersPermission(org), createUsersPermission(org) of testing/auth.go.
CREATE FUNCTION pg_temp.all_users(org text) RETURNS text[] LANGUAGE sql AS $$
    SELECT ARRAY['write:orgs/' || org || '/users', 'read:orgs/' || org || '/users'] $$;
CREATE FUNCTION pg_temp.create_users(org text) RETURNS text[] LANGUAGE sql AS $$
    SELECT ARRAY['write:orgs/' || org || '/users'] $$;
-- Every authorization, as testing/auth.go compares them (not ID, token, times).
CREATE FUNCTION pg_temp.listed(filter text DEFAULT 'true')
RETURNS TABLE (influx_id text, user_id text, org text, status text, description text, permissions text[])
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT l.influx_id, l.influx_user_id, l.org, l.status, l.description,
                ARRAY(SELECT e->>0 FROM jsonb_array_elements(x->''permissions'') AS e)
         FROM influx_tokens.token_list AS l
         JOIN (SELECT jsonb_array_elements(influx_tokens.export_tokens(''o1'', ''cli''))
               UNION ALL SELECT jsonb_array_elements(influx_tokens.export_tokens(''o2'', ''cli''))) AS e(x)
           ON x->>''id'' = l.influx_id
         WHERE l.org IN (''o1'', ''o2'') AND (%s) ORDER BY l.influx_id', filter);
END
$$;
CREATE FUNCTION pg_temp.reset() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(influx_tokens.delete_token(l.id)) FROM influx_tokens.token_list AS l WHERE l.org IN ('o1', 'o2')
$$;

------------------------------------------------------------------------------
-- CreateAuthorization
------------------------------------------------------------------------------
-- "basic create authorization": an existing authorization, and a new one with
-- createUsersPermission(1) and a description; both listed, active.
SELECT pg_temp.auth('020f755c3c082000', '020f755c3c082000', '0000000000000001', 'supersecret',
                    pg_temp.all_users('0000000000000001'), description => 'already existing auth');
SELECT pg_temp.auth('020f755c3c082001', '020f755c3c082000', '0000000000000001', 'rand',
                    pg_temp.create_users('0000000000000001'), description => 'new auth');
SELECT * FROM pg_temp.listed();
-- "providing a non existing user is invalid": not applicable (no user directory here).
-- "providing a non existing org is invalid": refused, nothing stored.
SELECT error_of($$SELECT influx_tokens.create_token('o3', '{write:users}')$$);
SELECT error_of($$SELECT pg_temp.auth('020f755c3c082002', '020f755c3c082000', '0000000000000003', 'rand3',
                                      pg_temp.create_users('0000000000000003'))$$);
SELECT count(*) AS listed FROM pg_temp.listed();

------------------------------------------------------------------------------
-- FindAuthorizationByID, FindAuthorizationByToken
------------------------------------------------------------------------------
SELECT pg_temp.reset() AS reset;
-- "basic find authorization by id"
SELECT pg_temp.auth('020f755c3c082000', '020f755c3c082000', '0000000000000001', 'rand1', pg_temp.all_users('0000000000000001'));
SELECT pg_temp.auth('020f755c3c082001', '020f755c3c082001', '0000000000000001', 'rand2', pg_temp.create_users('0000000000000001'));
SELECT * FROM pg_temp.listed('l.influx_id = ''020f755c3c082000''');
SELECT * FROM pg_temp.listed('l.influx_id = ''020f755c3c082001''');
-- "basic find authorization by token": an inactive authorization of o2 is found by its token.
SELECT pg_temp.reset() AS reset;
SELECT pg_temp.auth('020f755c3c082000', '020f755c3c082000', '0000000000000002', 'rand1', pg_temp.all_users('0000000000000002'), 'inactive');
SELECT pg_temp.auth('020f755c3c081000', '020f755c3c082000', '0000000000000001', 'rand0', pg_temp.all_users('0000000000000001'));
SELECT pg_temp.auth('020f755c3c082001', '020f755c3c082001', '0000000000000001', 'rand2', pg_temp.create_users('0000000000000001'));
SELECT i.org, i.status, i.permissions, l.influx_id, l.influx_user_id
FROM influx_tokens.token_info('rand1-fixture-token') AS i JOIN influx_tokens.token_list AS l USING (id);
-- "find authorization by token"
SELECT l.influx_id, l.influx_user_id, i.status, i.permissions
FROM influx_tokens.token_info('rand2-fixture-token') AS i JOIN influx_tokens.token_list AS l USING (id);
-- The hashed token itself is not a token (testing/auth.go, after each find by token).
SELECT count(*) AS found_by_hash FROM influx_tokens.token_info(
    '$influxdb2-sha256$' || translate(encode(sha256('rand2-fixture-token'), 'base64'), '+/', '-_'));
SELECT influx_tokens.token_allows(
    '$influxdb2-sha256$' || translate(encode(sha256('rand2-fixture-token'), 'base64'), '+/', '-_'),
    'write:orgs/0000000000000001/users') AS hash_allowed;

------------------------------------------------------------------------------
-- UpdateAuthorization: only status and description change.
------------------------------------------------------------------------------
-- "regular update"
SELECT l.id AS auth_two, l.updated_at AS updated_before FROM influx_tokens.token_list AS l
WHERE l.influx_id = '020f755c3c082001' \gset
SELECT influx_tokens.revoke_token(:auth_two) AS revoked,
       influx_tokens.set_token_description(:auth_two, 'desc1') = :auth_two AS described;
SELECT *, (SELECT updated_at > :'updated_before' FROM influx_tokens.token_list WHERE id = :auth_two) AS updated_at_refreshed
FROM pg_temp.listed('l.influx_id = ''020f755c3c082001''');
SELECT influx_tokens.token_allows('rand2-fixture-token', 'write:orgs/0000000000000001/users') AS inactive_allowed;
-- "update with id not found"
SELECT error_of($$SELECT influx_tokens.revoke_token(999999999)$$);
SELECT error_of($$SELECT influx_tokens.set_token_description(999999999, 'x')$$);
-- "update with unknown status": the only way a status is written from outside is the import.
SELECT error_of($$SELECT pg_temp.auth('020f755c3c082002', '020f755c3c082000', '0000000000000001', 'rand3',
                                      pg_temp.all_users('0000000000000001'), 'unknown')$$);

------------------------------------------------------------------------------
-- FindAuthorizations: by no filter, user, organization, both.
------------------------------------------------------------------------------
SELECT pg_temp.reset() AS reset;
SELECT pg_temp.auth('020f755c3c082000', '020f755c3c082000', '0000000000000001', 'rand1', pg_temp.all_users('0000000000000001'));
SELECT pg_temp.auth('020f755c3c082001', '020f755c3c082001', '0000000000000001', 'rand2', pg_temp.create_users('0000000000000001'));
SELECT pg_temp.auth('020f755c3c082002', '020f755c3c082000', '0000000000000002', 'rand3', pg_temp.all_users('0000000000000002'));
-- "find all authorizations"
SELECT * FROM pg_temp.listed();
-- "find authorization by user id"
SELECT influx_id FROM pg_temp.listed('l.influx_user_id = ''020f755c3c082000''');
-- "find authorization by org id"
SELECT influx_id FROM pg_temp.listed('l.org = ''o1''');
-- "find authorization by org id and user id"
SELECT influx_id FROM pg_temp.listed('l.org = ''o2'' AND l.influx_user_id = ''020f755c3c082000''');
-- The same case stores a second authorization under an ID already taken; InfluxDB's store
-- gives it a fresh ID, the import refuses it (an InfluxDB ID names one token here).
SELECT error_of($$SELECT pg_temp.auth('020f755c3c082002', '020f755c3c082001', '0000000000000002', 'rand4',
                                      pg_temp.all_users('0000000000000002'))$$);

------------------------------------------------------------------------------
-- DeleteAuthorization
------------------------------------------------------------------------------
-- "delete authorizations using exist id"
SELECT influx_tokens.delete_token(id) AS deleted FROM influx_tokens.token_list WHERE influx_id = '020f755c3c082000';
SELECT influx_id FROM pg_temp.listed();
SELECT influx_tokens.token_allows('rand1-fixture-token', 'read:orgs/0000000000000001/users') AS deleted_allowed;
-- "delete authorizations using id that does not exist": not found, nothing changes.
SELECT error_of($$SELECT influx_tokens.delete_token(999999999)$$);
SELECT count(*) AS listed FROM pg_temp.listed();

------------------------------------------------------------------------------
-- storage_authorization_test.go TestAuth: "create duplicate token", "read", "update",
-- "delete"; each with the token stored hashed, as here always.
------------------------------------------------------------------------------
SELECT pg_temp.reset() AS reset;
SELECT sum(pg_temp.auth(lpad(to_hex(i), 16, '0'), lpad(to_hex(i), 16, '0'), '0000000000000001',
                        'randomtoken' || i, ARRAY['read:orgs/0000000000000001/buckets'])) AS created
FROM generate_series(1, 10) AS i;
-- "create duplicate token": refused, still 10, and the token is stored only as its digest.
SELECT error_of($$SELECT pg_temp.auth('00000000000000ff', '0000000000000001', '0000000000000001', 'randomtoken1',
                                      ARRAY['read:orgs/0000000000000001/buckets'])$$);
SELECT count(*) AS listed FROM pg_temp.listed();
SELECT count(*) AS plaintext_stored FROM influx_tokens.tokens AS t
WHERE position(convert_to('randomtoken', 'UTF8') IN t.digest) > 0;
-- "read": each by ID and by token.
SELECT count(*) FILTER (WHERE i.id = l.id) AS found_by_token_and_id
FROM generate_series(1, 10) AS n
JOIN influx_tokens.token_list AS l ON l.influx_id = lpad(to_hex(n), 16, '0'),
LATERAL influx_tokens.token_info('randomtoken' || n || '-fixture-token') AS i;
-- "update": every one inactive, found as such.
SELECT sum(influx_tokens.revoke_token(l.id)) AS revoked FROM influx_tokens.token_list AS l WHERE l.org = 'o1';
SELECT count(*) FILTER (WHERE i.status = 'inactive') AS inactive_by_token
FROM generate_series(1, 10) AS n, LATERAL influx_tokens.token_info('randomtoken' || n || '-fixture-token') AS i;
-- "delete": all gone, by ID and by token.
SELECT pg_temp.reset() AS deleted;
SELECT count(*) AS found FROM generate_series(1, 10) AS n,
    LATERAL influx_tokens.token_info('randomtoken' || n || '-fixture-token') AS i;

-- The organizations go, for the suites after this one.
SELECT influx_tokens.drop_org('o1', cascade => true) > 0, influx_tokens.drop_org('o2', cascade => true) > 0;
