/*
 * influx_tokens 1.0 -> 1.1: managing tokens at scale.
 *
 * - delegation without escalation: create_token_as(parent_token, ...);
 * - cascading revoke and delete: revoke_token(id, cascade), delete_token(id, cascade);
 * - wildcard grants: '<action>:*' (every type in the organization, also types
 *   added later) and '<action>:**' (every type in every organization), and
 *   token_check(token, action, org, bucket) to name the organization;
 * - rotation with overlap: rotate_token(id, grace);
 * - editable permissions: set_token_permissions(id, permissions);
 * - bulk revocation: revoke_tokens(label, org, parent_id);
 * - usage tracking: last_used_at, checks_allowed, checks_denied in token_list
 *   (NULL unless the library is in shared_preload_libraries);
 * - migration from InfluxDB: import_token (by plaintext or by InfluxDB 2.9's
 *   stored hash), import_influxdb2 (what `influx auth list --json` prints),
 *   export_tokens (the same shape, hashed), and InfluxDB IDs kept on
 *   organizations, buckets and tokens.
 *
 * The same security rules as the install script: schema-qualified names,
 * SECURITY DEFINER with a pinned search_path, nothing new for PUBLIC but
 * create_token_as and the new token_check.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION influx_tokens UPDATE TO '1.1'" to load this file. \quit

------------------------------------------------------------------------------
-- Tables.  Columns are appended: src/lookup.c reads them by position.
------------------------------------------------------------------------------

-- parent_id: the token that created this one (create_token_as).
-- previous_digest: the secret the last rotation replaced, valid until
-- previous_valid_until (its grace period).
ALTER TABLE @extschema@.tokens
    ADD COLUMN parent_id bigint REFERENCES @extschema@.tokens (id) ON DELETE SET NULL,
    ADD COLUMN previous_digest bytea,
    ADD COLUMN previous_valid_until timestamptz,
    ADD CONSTRAINT tokens_previous_digest_key UNIQUE (previous_digest),
    ADD CONSTRAINT tokens_previous_digest_check
        CHECK (pg_catalog.octet_length(previous_digest) OPERATOR(pg_catalog.=) 32);
CREATE INDEX tokens_parent_id_idx ON @extschema@.tokens (parent_id);

-- InfluxDB's 16-hex-digit IDs of imported objects, so that an export round-trips.
ALTER TABLE @extschema@.tokens ADD COLUMN influx_id text CONSTRAINT tokens_influx_id_key UNIQUE
    CONSTRAINT tokens_influx_id_check CHECK (influx_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$');
ALTER TABLE @extschema@.orgs ADD COLUMN influx_id text CONSTRAINT orgs_influx_id_key UNIQUE
    CONSTRAINT orgs_influx_id_check CHECK (influx_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$');
ALTER TABLE @extschema@.buckets ADD COLUMN influx_id text CONSTRAINT buckets_influx_id_key UNIQUE
    CONSTRAINT buckets_influx_id_check CHECK (influx_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$');

------------------------------------------------------------------------------
-- Usage counters (src/usage.c): shared memory when preloaded, else nothing.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@._usage(
    OUT token_id bigint, OUT last_used_at timestamptz,
    OUT checks_allowed bigint, OUT checks_denied bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'usage_rows'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION @extschema@._usage_tracked()
RETURNS boolean
AS 'MODULE_PATHNAME', 'usage_tracked'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION @extschema@._usage_prune(live_ids bigint[])
RETURNS bigint
AS 'MODULE_PATHNAME', 'usage_prune'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION @extschema@._usage_save()
RETURNS void
AS 'MODULE_PATHNAME', 'usage_save'
LANGUAGE C VOLATILE STRICT;

-- Forgets the counters of deleted tokens and writes the rest to disk now
-- (they are also written periodically and at shutdown).  Returns how many
-- entries it forgot.
CREATE FUNCTION @extschema@.save_usage()
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    forgotten bigint;
BEGIN
    SELECT @extschema@._usage_prune(coalesce(array_agg(t.id), '{}')) INTO forgotten
    FROM @extschema@.tokens AS t;
    PERFORM @extschema@._usage_save();
    RETURN forgotten;
END
$$;

CREATE OR REPLACE VIEW @extschema@.token_list AS
SELECT t.id,
       o.name AS org,
       t.description,
       t.status,
       ARRAY(SELECT l.label
             FROM @extschema@.token_labels AS l
             WHERE l.token_id OPERATOR(pg_catalog.=) t.id
             ORDER BY l.label) AS labels,
       ARRAY(SELECT pg_catalog.concat(p.action, ':', p.resource_type, '/' OPERATOR(pg_catalog.||) b.name)
             FROM @extschema@.permissions AS p
             LEFT JOIN @extschema@.buckets AS b ON b.id OPERATOR(pg_catalog.=) p.bucket_id
             WHERE p.token_id OPERATOR(pg_catalog.=) t.id
             ORDER BY 1) AS permissions,
       t.created_at,
       t.expires_at,
       t.parent_id,
       u.last_used_at,
       CASE WHEN tracked.enabled THEN COALESCE(u.checks_allowed, 0) END AS checks_allowed,
       CASE WHEN tracked.enabled THEN COALESCE(u.checks_denied, 0) END AS checks_denied
FROM @extschema@.tokens AS t
JOIN @extschema@.orgs AS o ON o.id OPERATOR(pg_catalog.=) t.org_id
CROSS JOIN (SELECT @extschema@._usage_tracked() AS enabled) AS tracked
LEFT JOIN @extschema@._usage() AS u ON u.token_id OPERATOR(pg_catalog.=) t.id;

-- Organizations and buckets with the InfluxDB IDs kept from an import.
CREATE VIEW @extschema@.org_list AS
SELECT o.id, o.name, o.influx_id, o.created_at
FROM @extschema@.orgs AS o;

CREATE OR REPLACE VIEW @extschema@.bucket_list AS
SELECT b.id, o.name AS org, b.name, b.created_at, b.influx_id
FROM @extschema@.buckets AS b
JOIN @extschema@.orgs AS o ON o.id OPERATOR(pg_catalog.=) b.org_id;

------------------------------------------------------------------------------
-- Helpers.
------------------------------------------------------------------------------

-- The id of the token with this secret: its current one, or the one a
-- rotation replaced while in its grace period; NULL for anything else.
CREATE FUNCTION @extschema@._token_id_by_secret(token text)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH secret AS (SELECT @extschema@._token_digest(token) AS digest)
    SELECT t.id FROM @extschema@.tokens AS t, secret
    WHERE t.digest = secret.digest
    UNION ALL
    SELECT t.id FROM @extschema@.tokens AS t, secret
    WHERE t.previous_digest = secret.digest
      AND t.previous_valid_until > clock_timestamp()
    LIMIT 1
$$;

-- Stores a token by its digest in an organization (validated by the caller)
-- with its permissions and labels; returns its id.
CREATE FUNCTION @extschema@._insert_token(
    org_id bigint, org text, digest bytea, permissions text[], description text, labels text[],
    expires_at timestamptz, parent_id bigint, influx_id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    clean_labels text[] := @extschema@._normalize_labels(labels);
    new_token_id bigint;
BEGIN
    PERFORM @extschema@._check_description(description);
    PERFORM @extschema@._check_expiry(expires_at);

    INSERT INTO @extschema@.tokens (org_id, digest, description, expires_at, parent_id, influx_id)
    VALUES (_insert_token.org_id, _insert_token.digest, _insert_token.description,
            _insert_token.expires_at, _insert_token.parent_id, _insert_token.influx_id)
    RETURNING id INTO new_token_id;

    INSERT INTO @extschema@.permissions (token_id, action, resource_type, bucket_id)
    SELECT DISTINCT new_token_id, r.action, r.resource_type, r.bucket_id
    FROM @extschema@._resolve_permissions(_insert_token.org_id, org, permissions) AS r;

    INSERT INTO @extschema@.token_labels (token_id, label)
    SELECT new_token_id, l FROM unnest(clean_labels) AS l;

    RETURN new_token_id;
END
$$;

-- Creates a token in an organization (validated by the caller) and returns its text.
CREATE FUNCTION @extschema@._create_token(
    org_id bigint, org text, permissions text[], description text, labels text[],
    expires_at timestamptz, parent_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    token text := @extschema@._generate_token();
BEGIN
    PERFORM @extschema@._insert_token(org_id, org, @extschema@._token_digest(token), permissions,
                                      description, labels, expires_at, parent_id, NULL);
    RETURN token;
END
$$;

-- The tokens a revoke or delete of id touches: the token itself and, with
-- cascade, every token it created, directly or not.
CREATE FUNCTION @extschema@._token_and_descendants(id bigint, cascade boolean)
RETURNS SETOF bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE family(id) AS (
        SELECT _token_and_descendants.id
        UNION
        SELECT t.id FROM @extschema@.tokens AS t JOIN family AS f ON t.parent_id = f.id
        WHERE _token_and_descendants.cascade
    )
    SELECT family.id FROM family
$$;

------------------------------------------------------------------------------
-- Tokens.
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.create_token(
    org text,
    permissions text[],
    description text DEFAULT NULL,
    labels text[] DEFAULT '{}',
    expires_at timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT @extschema@._create_token(@extschema@._org_id(org), org, permissions,
                                     description, labels, expires_at, NULL)
$$;

/*
 * A token creates a token: the parent must be valid and hold
 * write:authorizations, and every permission asked for must be covered by
 * the parent's own (InfluxDB's rule).  The child is in the parent's
 * organization, expires no later than the parent (by default, when the
 * parent does), and records its parent.  Callable by PUBLIC: the parent
 * token is the credential.
 */
CREATE FUNCTION @extschema@.create_token_as(
    parent_token text,
    permissions text[],
    description text DEFAULT NULL,
    labels text[] DEFAULT '{}',
    expires_at timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parent record;
    permission text;
    child_expiry timestamptz := expires_at;
BEGIN
    SELECT t.id, t.org_id, o.name AS org, t.expires_at INTO parent
    FROM @extschema@.tokens AS t JOIN @extschema@.orgs AS o ON o.id = t.org_id
    WHERE t.id = @extschema@._token_id_by_secret(parent_token)
      AND t.status = 'active'
      AND (t.expires_at IS NULL OR t.expires_at > clock_timestamp());
    IF NOT FOUND THEN
        RAISE EXCEPTION 'parent token is not valid'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'It is unknown, revoked or expired.';
    END IF;
    IF NOT @extschema@.token_allows(parent_token, 'write:authorizations') THEN
        RAISE EXCEPTION 'parent token does not hold write:authorizations'
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    PERFORM @extschema@._require(permissions, 'permissions');
    FOREACH permission IN ARRAY permissions LOOP
        IF NOT @extschema@.token_allows(parent_token, permission) THEN
            RAISE EXCEPTION 'permission "%" is not held by the parent token',
                @extschema@._for_message(permission)
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;

    IF parent.expires_at IS NOT NULL THEN
        IF child_expiry IS NULL THEN
            child_expiry := parent.expires_at;
        ELSIF child_expiry > parent.expires_at THEN
            RAISE EXCEPTION 'expiry time % is later than the parent token''s', child_expiry
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;

    RETURN @extschema@._create_token(parent.org_id, parent.org, permissions, description,
                                     labels, child_expiry, parent.id);
END
$$;

-- The token's row from token_list, or no row for an unknown token (also
-- found by a secret in its grace period after a rotation).
CREATE OR REPLACE FUNCTION @extschema@.token_info(token text)
RETURNS TABLE (id bigint, org text, description text, status text, labels text[],
               permissions text[], created_at timestamptz, expires_at timestamptz)
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.id, l.org, l.description, l.status, l.labels, l.permissions,
           l.created_at, l.expires_at
    FROM @extschema@.token_list AS l
    WHERE l.id = @extschema@._token_id_by_secret(token)
$$;

-- With cascade, every token the token created (directly or not) is revoked too.
CREATE FUNCTION @extschema@.revoke_token(id bigint, cascade boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._lock_token(id);
    PERFORM @extschema@._require(cascade, 'cascade');
    UPDATE @extschema@.tokens AS t SET status = 'inactive', updated_at = now()
    WHERE t.id IN (SELECT @extschema@._token_and_descendants(revoke_token.id, revoke_token.cascade));
END
$$;

-- With cascade, every token the token created (directly or not) is deleted
-- too; without, they stay and lose their parent_id.
CREATE FUNCTION @extschema@.delete_token(id bigint, cascade boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._lock_token(id);
    PERFORM @extschema@._require(cascade, 'cascade');
    DELETE FROM @extschema@.tokens AS t
    WHERE t.id IN (SELECT @extschema@._token_and_descendants(delete_token.id, delete_token.cascade));
END
$$;

/*
 * A new secret for the same token: same id, permissions, labels,
 * description and expiry.  The old secret keeps working for grace (from the
 * clock, as checks read it), then never again; a second rotation ends the
 * grace of the first.
 */
CREATE FUNCTION @extschema@.rotate_token(id bigint, grace interval DEFAULT '0')
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    token text;
BEGIN
    PERFORM @extschema@._lock_token(id);
    PERFORM @extschema@._require(grace, 'grace');
    IF grace < interval '0' THEN
        RAISE EXCEPTION 'grace period % is negative', grace
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    token := @extschema@._generate_token();
    UPDATE @extschema@.tokens AS t
    SET previous_digest = CASE WHEN grace > interval '0' THEN t.digest END,
        previous_valid_until = CASE WHEN grace > interval '0' THEN clock_timestamp() + grace END,
        digest = @extschema@._token_digest(token),
        updated_at = now()
    WHERE t.id = rotate_token.id;
    RETURN token;
END
$$;

-- Replaces all permissions at once: a check sees the old set or the new one.
-- A bad permission fails the whole call, so the old set stays.
CREATE FUNCTION @extschema@.set_token_permissions(id bigint, permissions text[])
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    token_org record;
BEGIN
    PERFORM @extschema@._lock_token(id);
    SELECT o.id, o.name INTO token_org
    FROM @extschema@.tokens AS t JOIN @extschema@.orgs AS o ON o.id = t.org_id
    WHERE t.id = set_token_permissions.id;
    DELETE FROM @extschema@.permissions AS p WHERE p.token_id = set_token_permissions.id;
    INSERT INTO @extschema@.permissions (token_id, action, resource_type, bucket_id)
    SELECT DISTINCT set_token_permissions.id, r.action, r.resource_type, r.bucket_id
    FROM @extschema@._resolve_permissions(token_org.id, token_org.name, permissions) AS r;
    UPDATE @extschema@.tokens AS t SET updated_at = now() WHERE t.id = set_token_permissions.id;
END
$$;

-- Incident response: revokes every active token matching all given filters
-- (at least one) and returns how many it revoked.
CREATE FUNCTION @extschema@.revoke_tokens(
    label text DEFAULT NULL, org text DEFAULT NULL, parent_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint;
    revoked bigint;
BEGIN
    IF label IS NULL AND org IS NULL AND parent_id IS NULL THEN
        RAISE EXCEPTION 'revoke_tokens needs at least one filter'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give a label, an org or a parent_id.';
    END IF;
    IF org IS NOT NULL THEN
        target_org_id := @extschema@._org_id(org);
    END IF;
    UPDATE @extschema@.tokens AS t SET status = 'inactive', updated_at = now()
    WHERE t.status = 'active'
      AND (revoke_tokens.label IS NULL OR EXISTS (
             SELECT FROM @extschema@.token_labels AS l
             WHERE l.token_id = t.id AND l.label = revoke_tokens.label))
      AND (target_org_id IS NULL OR t.org_id = target_org_id)
      AND (revoke_tokens.parent_id IS NULL OR t.parent_id = revoke_tokens.parent_id);
    GET DIAGNOSTICS revoked = ROW_COUNT;
    RETURN revoked;
END
$$;

------------------------------------------------------------------------------
-- Migration from InfluxDB.
------------------------------------------------------------------------------

/*
 * The digest to store for an imported token: the SHA-256 of a plaintext
 * token, or the digest inside InfluxDB 2.9's stored form
 * "$influxdb2-sha256$<base64url of the digest>", so that nobody needs to see
 * the plaintext.  Errors never quote the token.
 */
CREATE FUNCTION @extschema@._import_digest(token text)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hashed bytea;
    plain_digest bytea;
BEGIN
    PERFORM @extschema@._require(token, 'token');
    IF starts_with(token, '$influxdb2-sha256$') THEN
        BEGIN
            hashed := decode(translate(substr(token, 19), '-_', '+/'), 'base64');
        EXCEPTION WHEN invalid_parameter_value THEN
            hashed := NULL;
        END;
        IF hashed IS NULL OR octet_length(hashed) <> 32 THEN
            RAISE EXCEPTION 'invalid $influxdb2-sha256$ hashed token'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The hash is the base64url encoding, with padding, of a 32-byte SHA-256 digest.';
        END IF;
        RETURN hashed;
    END IF;
    IF starts_with(token, '$influxdb2-') THEN
        RAISE EXCEPTION 'only $influxdb2-sha256$ hashed tokens can be imported'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'influx_tokens stores SHA-256 digests; a token hashed otherwise (such as sha512) must be imported by its plaintext or re-issued.';
    END IF;
    plain_digest := @extschema@._token_digest(token);
    IF starts_with(token, 'ixt_') OR plain_digest IS NULL THEN
        RAISE EXCEPTION 'token is not in a form that can be imported'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'An imported token is 16 to 512 printable ASCII characters, without spaces, and does not start with ixt_ (influx_tokens'' own prefix).';
    END IF;
    RETURN plain_digest;
END
$$;

-- An InfluxDB ID (16 hex digits) or NULL; anything else is an error.
CREATE FUNCTION @extschema@._influx_id(value text, what text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL OR value ~ '^[0-9a-f]{16}$' THEN
        RETURN value;
    END IF;
    RAISE EXCEPTION 'invalid InfluxDB % ID "%"', what, @extschema@._for_message(value)
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'InfluxDB IDs are 16 lower-case hexadecimal digits.';
END
$$;

/*
 * Imports an existing token (by plaintext, or by InfluxDB 2.9's hashed form)
 * so that checks accept exactly that string; only its digest is stored.
 */
CREATE FUNCTION @extschema@.import_token(
    org text,
    token text,
    permissions text[],
    description text DEFAULT NULL,
    labels text[] DEFAULT '{}',
    expires_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint := @extschema@._org_id(org);
    imported_digest bytea := @extschema@._import_digest(token);
BEGIN
    IF EXISTS (SELECT FROM @extschema@.tokens AS t
               WHERE t.digest = imported_digest OR t.previous_digest = imported_digest) THEN
        RAISE EXCEPTION 'this token already exists'
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN @extschema@._insert_token(target_org_id, org, imported_digest, permissions, description,
                                     labels, expires_at, NULL, NULL);
END
$$;

/*
 * Imports what `influx auth list --json` prints: an array of authorizations
 * ({id, token, status, description, orgID, org, permissions: [{action,
 * resource: {type, id, orgID, name, org}}]}), with the token in plaintext or
 * hashed.  Organizations and buckets are found by InfluxDB ID (kept on them
 * once imported), by the names given in org_names / bucket_names (objects
 * mapping InfluxDB IDs to names), or by the names in the export; with
 * create_missing they are created.  A permission without an organization
 * (InfluxDB's "every organization") is imported for the token's own
 * organization only: narrower, never wider.  All or nothing; returns how
 * many tokens it imported.
 */
CREATE FUNCTION @extschema@.import_influxdb2(
    authorizations jsonb,
    org_names jsonb DEFAULT '{}',
    bucket_names jsonb DEFAULT '{}',
    create_missing boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    auth jsonb;
    grant_ jsonb;
    org_influx_id text;
    org_name text;
    org_row record;
    bucket_influx_id text;
    bucket_name text;
    bucket_row record;
    permission_list text[];
    new_id bigint;
    imported bigint := 0;
BEGIN
    PERFORM @extschema@._require(authorizations, 'authorizations');
    PERFORM @extschema@._require(create_missing, 'create_missing');
    IF jsonb_typeof(authorizations) <> 'array' THEN
        RAISE EXCEPTION 'authorizations must be a JSON array'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    org_names := COALESCE(org_names, '{}');
    bucket_names := COALESCE(bucket_names, '{}');

    FOR auth IN SELECT value FROM jsonb_array_elements(authorizations) LOOP
        -- The organization.
        org_influx_id := @extschema@._influx_id(auth->>'orgID', 'organization');
        org_name := COALESCE(org_names->>org_influx_id, auth->>'org');
        SELECT o.id, o.name INTO org_row FROM @extschema@.orgs AS o
        WHERE o.influx_id = org_influx_id OR (o.influx_id IS NULL AND o.name = org_name)
        ORDER BY o.influx_id NULLS LAST LIMIT 1;
        IF NOT FOUND THEN
            IF NOT create_missing OR org_name IS NULL THEN
                RAISE EXCEPTION 'organization % of an imported authorization does not exist',
                    COALESCE('"' || @extschema@._for_message(org_name) || '"', org_influx_id)
                    USING ERRCODE = 'undefined_object',
                          HINT = 'Create it, map its ID in org_names, or pass create_missing => true.';
            END IF;
            PERFORM @extschema@.create_org(org_name);
            SELECT o.id, o.name INTO org_row FROM @extschema@.orgs AS o WHERE o.name = org_name;
        END IF;
        UPDATE @extschema@.orgs AS o SET influx_id = org_influx_id
        WHERE o.id = org_row.id AND o.influx_id IS NULL AND org_influx_id IS NOT NULL;

        -- The permissions, in our language.
        permission_list := '{}';
        FOR grant_ IN SELECT value FROM jsonb_array_elements(COALESCE(auth->'permissions', '[]')) LOOP
            IF grant_->'resource'->>'id' IS NOT NULL THEN
                IF grant_->'resource'->>'type' IS DISTINCT FROM 'buckets' THEN
                    RAISE EXCEPTION 'permission on one % cannot be imported', @extschema@._for_message(grant_->'resource'->>'type')
                        USING ERRCODE = 'feature_not_supported',
                              DETAIL = 'Only buckets can be granted one by one.';
                END IF;
                bucket_influx_id := @extschema@._influx_id(grant_->'resource'->>'id', 'bucket');
                bucket_name := COALESCE(bucket_names->>bucket_influx_id, grant_->'resource'->>'name');
                SELECT b.id, b.name INTO bucket_row FROM @extschema@.buckets AS b
                WHERE b.org_id = org_row.id
                  AND (b.influx_id = bucket_influx_id OR (b.influx_id IS NULL AND b.name = bucket_name))
                ORDER BY b.influx_id NULLS LAST LIMIT 1;
                IF NOT FOUND THEN
                    IF NOT create_missing OR bucket_name IS NULL THEN
                        RAISE EXCEPTION 'bucket % of an imported permission does not exist',
                            COALESCE('"' || @extschema@._for_message(bucket_name) || '"', bucket_influx_id)
                            USING ERRCODE = 'undefined_object',
                                  HINT = 'Create it, map its ID in bucket_names, or pass create_missing => true.';
                    END IF;
                    PERFORM @extschema@.create_bucket(org_row.name, bucket_name);
                    SELECT b.id, b.name INTO bucket_row FROM @extschema@.buckets AS b
                    WHERE b.org_id = org_row.id AND b.name = bucket_name;
                END IF;
                UPDATE @extschema@.buckets AS b SET influx_id = bucket_influx_id
                WHERE b.id = bucket_row.id AND b.influx_id IS NULL;
                permission_list := permission_list || ((grant_->>'action') || ':buckets/' || bucket_row.name);
            ELSE
                IF grant_->'resource'->>'orgID' IS DISTINCT FROM NULL
                   AND grant_->'resource'->>'orgID' IS DISTINCT FROM org_influx_id THEN
                    RAISE EXCEPTION 'permission on another organization cannot be imported'
                        USING ERRCODE = 'feature_not_supported';
                END IF;
                permission_list := permission_list || ((grant_->>'action') || ':' || (grant_->'resource'->>'type'));
            END IF;
        END LOOP;

        new_id := @extschema@.import_token(org_row.name, auth->>'token', permission_list,
                                           auth->>'description');
        UPDATE @extschema@.tokens AS t
        SET influx_id = @extschema@._influx_id(auth->>'id', 'authorization'),
            status = CASE WHEN auth->>'status' = 'inactive' THEN 'inactive' ELSE 'active' END
        WHERE t.id = new_id;
        imported := imported + 1;
    END LOOP;
    RETURN imported;
END
$$;

/*
 * Every token (of one organization, or all) in the shape of
 * `influx auth list --json`, with the token in InfluxDB 2.9's hashed form:
 * never plaintext.  IDs are the InfluxDB IDs kept from an import, or ours
 * as 16 hex digits.  '*' and '**' grants are exported as resource types "*"
 * and "**", which only influx_tokens reads back.
 */
CREATE FUNCTION @extschema@.export_tokens(org text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint;
BEGIN
    IF org IS NOT NULL THEN
        target_org_id := @extschema@._org_id(org);
    END IF;
    RETURN COALESCE((
        SELECT jsonb_agg(jsonb_build_object(
            'id', COALESCE(t.influx_id, lpad(to_hex(t.id), 16, '0')),
            'token', '$influxdb2-sha256$' || translate(encode(t.digest, 'base64'), '+/', '-_'),
            'status', t.status,
            'description', COALESCE(t.description, ''),
            'orgID', COALESCE(o.influx_id, lpad(to_hex(o.id), 16, '0')),
            'org', o.name,
            'createdAt', t.created_at,
            'updatedAt', t.updated_at,
            'permissions', COALESCE((
                SELECT jsonb_agg(jsonb_build_object(
                    'action', p.action,
                    'resource', jsonb_strip_nulls(jsonb_build_object(
                        'type', p.resource_type,
                        'orgID', CASE WHEN p.resource_type <> '**' THEN COALESCE(o.influx_id, lpad(to_hex(o.id), 16, '0')) END,
                        'org', CASE WHEN p.resource_type <> '**' THEN o.name END,
                        'id', COALESCE(b.influx_id, lpad(to_hex(b.id), 16, '0')),
                        'name', b.name)))
                    ORDER BY p.action, p.resource_type, b.name)
                FROM @extschema@.permissions AS p
                LEFT JOIN @extschema@.buckets AS b ON b.id = p.bucket_id
                WHERE p.token_id = t.id), '[]'))
            ORDER BY t.id)
        FROM @extschema@.tokens AS t JOIN @extschema@.orgs AS o ON o.id = t.org_id
        WHERE target_org_id IS NULL OR t.org_id = target_org_id), '[]');
END
$$;

------------------------------------------------------------------------------
-- Checks.
------------------------------------------------------------------------------

-- May the token perform action on the bucket of the named organization?
-- Only an operator token ('**') reaches an organization not its own.
CREATE FUNCTION @extschema@.token_check(token text, action text, org text, bucket text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'token_check_in_org'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

------------------------------------------------------------------------------
-- Privileges: PUBLIC gains create_token_as and the new token_check only.
------------------------------------------------------------------------------

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    @extschema@.token_check(text, text, text),
    @extschema@.token_check(text, text, text, text),
    @extschema@.token_allows(text, text),
    @extschema@.token_info(text),
    @extschema@.create_token_as(text, text[], text, text[], timestamptz)
TO PUBLIC;
