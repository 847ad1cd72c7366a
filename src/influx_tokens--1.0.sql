/*
 * influx_tokens 1.0: InfluxDB-style API tokens stored as SHA-256 digests.
 *
 * Security notes for readers of this script:
 * - Every name is schema-qualified (@extschema@ or pg_catalog); functions
 *   that touch the tables run as SECURITY DEFINER with
 *   search_path = pg_catalog, pg_temp, so a caller's objects and search_path
 *   cannot change what they do.
 * - PUBLIC may call token_check, token_allows and token_info and nothing
 *   else (see the end of the script).
 * - token_check and token_allows are C functions that read the tables
 *   through their indexes, with no name lookup a caller could influence;
 *   they need neither SECURITY DEFINER nor a search_path setting, which
 *   would cost a GUC save and restore on every call.
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION influx_tokens CASCADE" to load this file. \quit

/*
 * The schema comes from the control file.  If it already existed and belongs
 * to somebody else, that role could have planted objects in it; refuse.
 */
DO $$
BEGIN
    IF (SELECT n.nspowner FROM pg_catalog.pg_namespace AS n
        WHERE n.nspname OPERATOR(pg_catalog.=) 'influx_tokens')
       OPERATOR(pg_catalog.<>)
       (SELECT r.oid FROM pg_catalog.pg_roles AS r
        WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
    THEN
        RAISE EXCEPTION 'schema influx_tokens exists and is owned by another role'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Drop the schema, or install as its owner.';
    END IF;
END
$$;

------------------------------------------------------------------------------
-- Tables.  Column order matters to src/lookup.c: only append columns.
------------------------------------------------------------------------------

CREATE SEQUENCE @extschema@.orgs_id_seq;
CREATE TABLE @extschema@.orgs (
    id          bigint PRIMARY KEY
                DEFAULT pg_catalog.nextval('@extschema@.orgs_id_seq'),
    name        text NOT NULL CONSTRAINT orgs_name_key UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE @extschema@.orgs_id_seq OWNED BY @extschema@.orgs.id;

CREATE SEQUENCE @extschema@.buckets_id_seq;
CREATE TABLE @extschema@.buckets (
    id          bigint PRIMARY KEY
                DEFAULT pg_catalog.nextval('@extschema@.buckets_id_seq'),
    org_id      bigint NOT NULL REFERENCES @extschema@.orgs (id) ON DELETE CASCADE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT buckets_org_name_key UNIQUE (org_id, name)
);
ALTER SEQUENCE @extschema@.buckets_id_seq OWNED BY @extschema@.buckets.id;

-- A token is stored as the SHA-256 of its text; the text itself never is.
CREATE SEQUENCE @extschema@.tokens_id_seq;
CREATE TABLE @extschema@.tokens (
    id          bigint PRIMARY KEY
                DEFAULT pg_catalog.nextval('@extschema@.tokens_id_seq'),
    org_id      bigint NOT NULL REFERENCES @extschema@.orgs (id) ON DELETE CASCADE,
    digest      bytea NOT NULL CONSTRAINT tokens_digest_key UNIQUE
                CHECK (pg_catalog.octet_length(digest) OPERATOR(pg_catalog.=) 32),
    description text,
    status      text NOT NULL DEFAULT 'active'
                CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'inactive'])),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at  timestamptz
);
ALTER SEQUENCE @extschema@.tokens_id_seq OWNED BY @extschema@.tokens.id;
CREATE INDEX tokens_org_id_idx ON @extschema@.tokens (org_id);

/*
 * One row per grant.  bucket_id NULL means every resource of the type in the
 * token's organization; a grant on one bucket references the bucket, so a
 * rename keeps it and a drop removes it.
 */
CREATE TABLE @extschema@.permissions (
    token_id      bigint NOT NULL REFERENCES @extschema@.tokens (id) ON DELETE CASCADE,
    action        text NOT NULL
                  CHECK (action OPERATOR(pg_catalog.=) ANY (ARRAY['read', 'write'])),
    resource_type text NOT NULL,
    bucket_id     bigint REFERENCES @extschema@.buckets (id) ON DELETE CASCADE,
    CONSTRAINT permissions_bucket_type_check
        CHECK (bucket_id IS NULL OR resource_type OPERATOR(pg_catalog.=) 'buckets'),
    CONSTRAINT permissions_key
        UNIQUE NULLS NOT DISTINCT (token_id, action, resource_type, bucket_id)
);
CREATE INDEX permissions_bucket_id_idx ON @extschema@.permissions (bucket_id);

CREATE TABLE @extschema@.token_labels (
    token_id    bigint NOT NULL REFERENCES @extschema@.tokens (id) ON DELETE CASCADE,
    label       text NOT NULL,
    PRIMARY KEY (token_id, label)
);
CREATE INDEX token_labels_label_idx ON @extschema@.token_labels (label);

-- pg_dump keeps the data of these tables, so a restore keeps every token.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.orgs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.orgs_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.buckets', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.buckets_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tokens', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tokens_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.permissions', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.token_labels', '');

/*
 * Every backend caches tokens and buckets (src/cache.c).  Any change to a
 * table a check reads clears the changing backend's cache at once and, when
 * the transaction commits, every other backend's (and hot standbys', through
 * the WAL).  ENABLE ALWAYS: the triggers fire under
 * session_replication_role = replica too, i.e. on logical replicas.
 */
CREATE FUNCTION @extschema@._invalidate_cache()
RETURNS trigger
AS 'MODULE_PATHNAME', 'invalidate_cache_trigger'
LANGUAGE C;

CREATE TRIGGER invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.orgs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
CREATE TRIGGER invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.buckets
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
CREATE TRIGGER invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.tokens
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
CREATE TRIGGER invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.permissions
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
ALTER TABLE @extschema@.orgs ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE @extschema@.buckets ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE @extschema@.tokens ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE @extschema@.permissions ENABLE ALWAYS TRIGGER invalidate_cache;

------------------------------------------------------------------------------
-- Views: what administrators read.  No secret material in any of them.
------------------------------------------------------------------------------

CREATE VIEW @extschema@.token_list AS
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
       t.expires_at
FROM @extschema@.tokens AS t
JOIN @extschema@.orgs AS o ON o.id OPERATOR(pg_catalog.=) t.org_id;

CREATE VIEW @extschema@.bucket_list AS
SELECT b.id, o.name AS org, b.name, b.created_at
FROM @extschema@.buckets AS b
JOIN @extschema@.orgs AS o ON o.id OPERATOR(pg_catalog.=) b.org_id;

------------------------------------------------------------------------------
-- C building blocks (src/sql_api.c).  Not callable by PUBLIC.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@._generate_token()
RETURNS text
AS 'MODULE_PATHNAME', 'generate_token'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION @extschema@._token_digest(token text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'token_digest_if_well_formed'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@._parse_permission(permission text,
    OUT action text, OUT resource_type text, OUT bucket text)
AS 'MODULE_PATHNAME', 'parse_permission_sql'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@._for_message(value text)
RETURNS text
AS 'MODULE_PATHNAME', 'value_for_message_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@._looks_like_token(value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'looks_like_token_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@._check_name(kind text, name text)
RETURNS void
AS 'MODULE_PATHNAME', 'check_name_sql'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

------------------------------------------------------------------------------
-- Validation helpers.  They raise the error a caller sees.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@._require(value anyelement, what text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', what
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
END
$$;

CREATE FUNCTION @extschema@._org_id(org text)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_id bigint;
BEGIN
    PERFORM @extschema@._check_name('organization', org);
    SELECT o.id INTO found_id FROM @extschema@.orgs AS o WHERE o.name = org;
    IF found_id IS NULL THEN
        RAISE EXCEPTION 'organization "%" does not exist', @extschema@._for_message(org)
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN found_id;
END
$$;

CREATE FUNCTION @extschema@._bucket_id(org_id bigint, org text, bucket text)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_id bigint;
BEGIN
    PERFORM @extschema@._check_name('bucket', bucket);
    SELECT b.id INTO found_id FROM @extschema@.buckets AS b
    WHERE b.org_id = _bucket_id.org_id AND b.name = bucket;
    IF found_id IS NULL THEN
        RAISE EXCEPTION 'bucket "%" does not exist in organization "%"',
            @extschema@._for_message(bucket), @extschema@._for_message(org)
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN found_id;
END
$$;

-- The grants a permission array stands for, with buckets resolved in org.
CREATE FUNCTION @extschema@._resolve_permissions(org_id bigint, org text, permissions text[])
RETURNS TABLE (action text, resource_type text, bucket_id bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    permission text;
    parsed record;
BEGIN
    PERFORM @extschema@._require(permissions, 'permissions');
    IF cardinality(permissions) = 0 THEN
        RAISE EXCEPTION 'permissions must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give at least one permission, e.g. ''{write:buckets/metrics}''.';
    END IF;
    IF array_ndims(permissions) > 1 THEN
        RAISE EXCEPTION 'permissions must be a one-dimensional array'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH permission IN ARRAY permissions LOOP
        parsed := @extschema@._parse_permission(permission);
        action := parsed.action;
        resource_type := parsed.resource_type;
        bucket_id := NULL;
        IF parsed.bucket IS NOT NULL THEN
            bucket_id := @extschema@._bucket_id(org_id, org, parsed.bucket);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Labels, validated, without duplicates, sorted; NULL means none.
CREATE FUNCTION @extschema@._normalize_labels(labels text[])
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    label text;
BEGIN
    IF labels IS NULL THEN
        RETURN '{}';
    END IF;
    FOREACH label IN ARRAY labels LOOP
        PERFORM @extschema@._check_name('label', label);
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT l FROM unnest(labels) AS l ORDER BY 1);
END
$$;

CREATE FUNCTION @extschema@._check_description(description text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF char_length(description) > 1024 THEN
        RAISE EXCEPTION 'description is too long (% characters)', char_length(description)
            USING ERRCODE = 'string_data_right_truncation',
                  DETAIL = 'A description is at most 1024 characters long.';
    END IF;
    IF @extschema@._looks_like_token(description) THEN
        RAISE EXCEPTION 'description looks like it contains a token'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Descriptions are stored and shown in plain text; a token must never be.';
    END IF;
END
$$;

-- An expiry must lie in the future of the clock, as checks read the clock.
CREATE FUNCTION @extschema@._check_expiry(expires_at timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF expires_at <= clock_timestamp() THEN
        RAISE EXCEPTION 'expiry time % is not in the future', expires_at
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

-- Lock a token's row for a change, or raise the error for a bad id.
CREATE FUNCTION @extschema@._lock_token(id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._require(id, 'token id');
    PERFORM FROM @extschema@.tokens AS t WHERE t.id = _lock_token.id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'token % does not exist', id
            USING ERRCODE = 'undefined_object';
    END IF;
END
$$;

------------------------------------------------------------------------------
-- Organizations and buckets.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.create_org(name text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM @extschema@._check_name('organization', create_org.name);
    IF EXISTS (SELECT FROM @extschema@.orgs AS o WHERE o.name = create_org.name) THEN
        RAISE EXCEPTION 'organization "%" already exists', @extschema@._for_message(create_org.name)
            USING ERRCODE = 'unique_violation';
    END IF;
    INSERT INTO @extschema@.orgs (name) VALUES (create_org.name) RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

CREATE FUNCTION @extschema@.rename_org(name text, new_name text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint := @extschema@._org_id(rename_org.name);
BEGIN
    PERFORM @extschema@._check_name('organization', new_name);
    IF new_name = rename_org.name THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM @extschema@.orgs AS o WHERE o.name = new_name) THEN
        RAISE EXCEPTION 'organization "%" already exists', @extschema@._for_message(new_name)
            USING ERRCODE = 'unique_violation';
    END IF;
    UPDATE @extschema@.orgs AS o SET name = new_name WHERE o.id = target_org_id;
END
$$;

-- Dropping an organization with buckets or tokens needs cascade => true.
CREATE FUNCTION @extschema@.drop_org(name text, cascade boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint := @extschema@._org_id(drop_org.name);
BEGIN
    PERFORM @extschema@._require(drop_org.cascade, 'cascade');
    PERFORM FROM @extschema@.orgs AS o WHERE o.id = target_org_id FOR UPDATE;
    IF NOT drop_org.cascade AND
       (EXISTS (SELECT FROM @extschema@.buckets AS b WHERE b.org_id = target_org_id) OR
        EXISTS (SELECT FROM @extschema@.tokens AS t WHERE t.org_id = target_org_id)) THEN
        RAISE EXCEPTION 'organization "%" still has buckets or tokens', @extschema@._for_message(drop_org.name)
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'Use drop_org(name, cascade => true) to drop them too.';
    END IF;
    DELETE FROM @extschema@.orgs AS o WHERE o.id = target_org_id;
END
$$;

CREATE FUNCTION @extschema@.create_bucket(org text, name text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint := @extschema@._org_id(org);
    new_id bigint;
BEGIN
    PERFORM @extschema@._check_name('bucket', create_bucket.name);
    IF EXISTS (SELECT FROM @extschema@.buckets AS b
               WHERE b.org_id = target_org_id AND b.name = create_bucket.name) THEN
        RAISE EXCEPTION 'bucket "%" already exists in organization "%"',
            @extschema@._for_message(create_bucket.name), @extschema@._for_message(org)
            USING ERRCODE = 'unique_violation';
    END IF;
    INSERT INTO @extschema@.buckets (org_id, name)
    VALUES (target_org_id, create_bucket.name)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Grants on the bucket follow it to its new name.
CREATE FUNCTION @extschema@.rename_bucket(org text, name text, new_name text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint := @extschema@._org_id(org);
    target_bucket_id bigint := @extschema@._bucket_id(target_org_id, org, rename_bucket.name);
BEGIN
    PERFORM @extschema@._check_name('bucket', new_name);
    IF new_name = rename_bucket.name THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM @extschema@.buckets AS b
               WHERE b.org_id = target_org_id AND b.name = new_name) THEN
        RAISE EXCEPTION 'bucket "%" already exists in organization "%"',
            @extschema@._for_message(new_name), @extschema@._for_message(org)
            USING ERRCODE = 'unique_violation';
    END IF;
    UPDATE @extschema@.buckets AS b SET name = new_name WHERE b.id = target_bucket_id;
END
$$;

-- Grants on the bucket go with it; a new bucket of the same name is not granted.
CREATE FUNCTION @extschema@.drop_bucket(org text, name text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint := @extschema@._org_id(org);
    target_bucket_id bigint := @extschema@._bucket_id(target_org_id, org, drop_bucket.name);
BEGIN
    DELETE FROM @extschema@.buckets AS b WHERE b.id = target_bucket_id;
END
$$;

------------------------------------------------------------------------------
-- Tokens.
------------------------------------------------------------------------------

/*
 * Creates a token and returns its text: the only time anybody sees it.
 * Only its digest is stored.
 */
CREATE FUNCTION @extschema@.create_token(
    org text,
    permissions text[],
    description text DEFAULT NULL,
    labels text[] DEFAULT '{}',
    expires_at timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint := @extschema@._org_id(org);
    clean_labels text[] := @extschema@._normalize_labels(labels);
    token text;
    new_token_id bigint;
BEGIN
    PERFORM @extschema@._check_description(description);
    PERFORM @extschema@._check_expiry(expires_at);

    token := @extschema@._generate_token();
    INSERT INTO @extschema@.tokens (org_id, digest, description, expires_at)
    VALUES (target_org_id, @extschema@._token_digest(token),
            create_token.description, create_token.expires_at)
    RETURNING id INTO new_token_id;

    INSERT INTO @extschema@.permissions (token_id, action, resource_type, bucket_id)
    SELECT DISTINCT new_token_id, r.action, r.resource_type, r.bucket_id
    FROM @extschema@._resolve_permissions(target_org_id, org, permissions) AS r;

    INSERT INTO @extschema@.token_labels (token_id, label)
    SELECT new_token_id, l FROM unnest(clean_labels) AS l;

    RETURN token;
END
$$;

-- The token's row from token_list, or no row for an unknown token.
CREATE FUNCTION @extschema@.token_info(token text)
RETURNS TABLE (id bigint, org text, description text, status text, labels text[],
               permissions text[], created_at timestamptz, expires_at timestamptz)
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.id, l.org, l.description, l.status, l.labels, l.permissions,
           l.created_at, l.expires_at
    FROM @extschema@.tokens AS t
    JOIN @extschema@.token_list AS l ON l.id = t.id
    WHERE t.digest = @extschema@._token_digest(token)
$$;

-- Revocation and reactivation only flip the status; the token keeps its grants.
CREATE FUNCTION @extschema@._set_token_status(id bigint, status text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._lock_token(id);
    UPDATE @extschema@.tokens AS t SET status = _set_token_status.status, updated_at = now()
    WHERE t.id = _set_token_status.id;
END
$$;

CREATE FUNCTION @extschema@.revoke_token(id bigint)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@._set_token_status(id, 'inactive') $$;

CREATE FUNCTION @extschema@.activate_token(id bigint)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@._set_token_status(id, 'active') $$;

CREATE FUNCTION @extschema@.delete_token(id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._lock_token(id);
    DELETE FROM @extschema@.tokens AS t WHERE t.id = delete_token.id;
END
$$;

-- NULL removes the expiry: the token then never expires.
CREATE FUNCTION @extschema@.set_token_expiry(id bigint, expires_at timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._lock_token(id);
    PERFORM @extschema@._check_expiry(expires_at);
    UPDATE @extschema@.tokens AS t
    SET expires_at = set_token_expiry.expires_at, updated_at = now()
    WHERE t.id = set_token_expiry.id;
END
$$;

CREATE FUNCTION @extschema@.set_token_description(id bigint, description text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._lock_token(id);
    PERFORM @extschema@._check_description(description);
    UPDATE @extschema@.tokens AS t
    SET description = set_token_description.description, updated_at = now()
    WHERE t.id = set_token_description.id;
END
$$;

CREATE FUNCTION @extschema@.add_token_labels(id bigint, labels text[])
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._lock_token(id);
    PERFORM @extschema@._require(labels, 'labels');
    INSERT INTO @extschema@.token_labels (token_id, label)
    SELECT add_token_labels.id, l
    FROM unnest(@extschema@._normalize_labels(labels)) AS l
    ON CONFLICT DO NOTHING;
    UPDATE @extschema@.tokens AS t SET updated_at = now() WHERE t.id = add_token_labels.id;
END
$$;

CREATE FUNCTION @extschema@.remove_token_labels(id bigint, labels text[])
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._lock_token(id);
    PERFORM @extschema@._require(labels, 'labels');
    DELETE FROM @extschema@.token_labels AS l
    WHERE l.token_id = remove_token_labels.id
      AND l.label = ANY (@extschema@._normalize_labels(labels));
    UPDATE @extschema@.tokens AS t SET updated_at = now() WHERE t.id = remove_token_labels.id;
END
$$;

------------------------------------------------------------------------------
-- Checks (src/sql_api.c).  Never NULL; see README for the rules.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.token_check(token text, action text, bucket text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'token_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.token_allows(token text, permission text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'token_allows'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- This backend's token cache: size, memory, hits and misses.  No secrets.
CREATE FUNCTION @extschema@.cache_stats(
    OUT capacity integer, OUT tokens bigint, OUT buckets bigint, OUT memory_bytes bigint,
    OUT hits bigint, OUT misses bigint, OUT evictions bigint, OUT invalidations bigint)
AS 'MODULE_PATHNAME', 'cache_stats'
LANGUAGE C VOLATILE;

------------------------------------------------------------------------------
-- Privileges: PUBLIC may check tokens and nothing else.
------------------------------------------------------------------------------

REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
GRANT EXECUTE ON FUNCTION
    @extschema@.token_check(text, text, text),
    @extschema@.token_allows(text, text),
    @extschema@.token_info(text)
TO PUBLIC;
