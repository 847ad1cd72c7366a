/*
 * influx_tokens: InfluxDB-style API tokens stored as SHA-256 digests.
 *
 * This is the whole current schema, the one file to read.  The Makefile
 * installs it as influx_tokens--<default_version>.sql; the scripts named
 * influx_tokens--A--B.sql only carry a database from an older version to
 * this one, and src/influx_tokens--1.0.sql is kept for those upgrades.
 *
 * Security rules that every statement below follows:
 * - Every name is schema-qualified (@extschema@ or pg_catalog), operators
 *   in view and table definitions too; functions that touch the tables run
 *   as SECURITY DEFINER with search_path = pg_catalog, pg_temp, so a
 *   caller's objects and search_path cannot change what they do.
 * - A token's text goes only into C functions, and only through a simple
 *   PL/pgSQL assignment or RETURN (never a query that is planned), so no
 *   plan, log line or auto_explain output can hold it.  Tables are queried
 *   by id or by digest.
 * - PUBLIC may call the checks, token_info and the token forms of
 *   management (create_token_as and the other *_as functions, whose
 *   credential is a token) and nothing else, whatever default privileges
 *   the installing role has (see the end of the script).
 * - token_check and token_allows are C functions that read the tables
 *   through their indexes, with no name lookup a caller could influence;
 *   they need neither SECURITY DEFINER nor a search_path setting, which
 *   would cost a GUC save and restore on every call.
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION influx_tokens" to load this file. \quit

/*
 * The schema comes from the control file.  If it already existed, another
 * role could have planted objects in it (an overload a SECURITY DEFINER
 * function would resolve to, say): refuse unless it is ours, empty, and
 * nobody else may create objects in it.  A schema this CREATE EXTENSION
 * made itself (its row is this transaction's) may carry CREATE for others
 * from default privileges: those are revoked at the end of the script.
 */
DO $$
DECLARE
    schema_oid oid := (SELECT n.oid FROM pg_catalog.pg_namespace AS n
                       WHERE n.nspname OPERATOR(pg_catalog.=) 'influx_tokens');
BEGIN
    IF (SELECT n.nspowner FROM pg_catalog.pg_namespace AS n WHERE n.oid OPERATOR(pg_catalog.=) schema_oid)
       OPERATOR(pg_catalog.<>)
       (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
    THEN
        RAISE EXCEPTION 'schema influx_tokens exists and is owned by another role'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Drop the schema, or install as its owner.';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.relnamespace OPERATOR(pg_catalog.=) schema_oid)
       OR EXISTS (SELECT FROM pg_catalog.pg_proc AS p WHERE p.pronamespace OPERATOR(pg_catalog.=) schema_oid)
       OR EXISTS (SELECT FROM pg_catalog.pg_type AS t WHERE t.typnamespace OPERATOR(pg_catalog.=) schema_oid)
       OR EXISTS (SELECT FROM pg_catalog.pg_operator AS o WHERE o.oprnamespace OPERATOR(pg_catalog.=) schema_oid)
    THEN
        RAISE EXCEPTION 'schema influx_tokens already holds objects'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Install into a schema that does not exist yet, or an empty one.';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_namespace AS n, pg_catalog.aclexplode(n.nspacl) AS a
               WHERE n.oid OPERATOR(pg_catalog.=) schema_oid
                 AND n.xmin OPERATOR(pg_catalog.<>) pg_catalog.xid(pg_catalog.pg_current_xact_id())
                 AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
                 AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE')
    THEN
        RAISE EXCEPTION 'another role may create objects in schema influx_tokens'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'REVOKE CREATE ON SCHEMA influx_tokens FROM every other role first.';
    END IF;
END
$$;

------------------------------------------------------------------------------
-- Tables.  src/lookup.c finds the columns it reads by name.
------------------------------------------------------------------------------

-- Every organization and bucket has an InfluxDB ID, as in InfluxDB: the
-- one an import brings, or a random one (src/manage.c).  Permissions and
-- exports name them by it.
CREATE FUNCTION @extschema@._new_influx_id()
RETURNS text
AS 'MODULE_PATHNAME', 'influx_tokens__new_influx_id'
LANGUAGE C VOLATILE;

CREATE SEQUENCE @extschema@.orgs_id_seq;
CREATE TABLE @extschema@.orgs (
    id          bigint PRIMARY KEY
                DEFAULT pg_catalog.nextval('@extschema@.orgs_id_seq'),
    name        text NOT NULL CONSTRAINT orgs_name_key UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- InfluxDB's 16-hex-digit ID.
    influx_id   text NOT NULL DEFAULT @extschema@._new_influx_id()
                CONSTRAINT orgs_influx_id_key UNIQUE
                CONSTRAINT orgs_influx_id_check CHECK (influx_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$'
                                                     AND influx_id OPERATOR(pg_catalog.<>) '0000000000000000')
);
ALTER SEQUENCE @extschema@.orgs_id_seq OWNED BY @extschema@.orgs.id;

CREATE SEQUENCE @extschema@.buckets_id_seq;
CREATE TABLE @extschema@.buckets (
    id          bigint PRIMARY KEY
                DEFAULT pg_catalog.nextval('@extschema@.buckets_id_seq'),
    org_id      bigint NOT NULL REFERENCES @extschema@.orgs (id) ON DELETE CASCADE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    influx_id   text NOT NULL DEFAULT @extschema@._new_influx_id()
                CONSTRAINT buckets_influx_id_key UNIQUE
                CONSTRAINT buckets_influx_id_check CHECK (influx_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$'
                                                     AND influx_id OPERATOR(pg_catalog.<>) '0000000000000000'),
    CONSTRAINT buckets_org_name_key UNIQUE (org_id, name)
);
ALTER SEQUENCE @extschema@.buckets_id_seq OWNED BY @extschema@.buckets.id;

/*
 * A token is stored as the SHA-256 of its text; the text itself never is.
 * org_id here and bucket_id in permissions are plain columns, not foreign
 * keys: a foreign key check locks the organization or bucket until the
 * creating transaction ends, and create_token_as is PUBLIC's, so a token's
 * holder could stall a drop of them.  The commit of a transaction that
 * wrote tokens checks that both still exist instead (src/commit_check.c),
 * and drop_org and drop_bucket delete what refers to them.
 * previous_digest is the secret the last rotation replaced, valid until
 * previous_valid_until (its grace period).  parent_id is the token that
 * created this one (create_token_as); it is a plain column, not a foreign
 * key, so that pg_dump sees no circular reference in a config-dumped table
 * (delete_token clears it in the children it keeps).
 */
CREATE SEQUENCE @extschema@.tokens_id_seq;
CREATE TABLE @extschema@.tokens (
    id          bigint PRIMARY KEY
                DEFAULT pg_catalog.nextval('@extschema@.tokens_id_seq'),
    org_id      bigint NOT NULL,
    digest      bytea NOT NULL CONSTRAINT tokens_digest_key UNIQUE
                CHECK (pg_catalog.octet_length(digest) OPERATOR(pg_catalog.=) 32),
    description text,
    status      text NOT NULL DEFAULT 'active'
                CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'inactive'])),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at  timestamptz,
    parent_id   bigint,
    previous_digest bytea,
    previous_valid_until timestamptz,
    influx_id   text
                CONSTRAINT tokens_influx_id_check CHECK (influx_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$'
                                                         AND influx_id OPERATOR(pg_catalog.<>) '0000000000000000'),
    CONSTRAINT tokens_previous_digest_check
        CHECK (pg_catalog.octet_length(previous_digest) OPERATOR(pg_catalog.=) 32),
    -- The InfluxDB user an imported authorization belonged to (userID,
    -- userName), exported back; checks never read them.
    influx_user_id text
                CONSTRAINT tokens_influx_user_id_check CHECK (influx_user_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$'
                                                              AND influx_user_id OPERATOR(pg_catalog.<>) '0000000000000000'),
    influx_user_name text
                CONSTRAINT tokens_influx_user_name_check
                CHECK (pg_catalog.length(influx_user_name) OPERATOR(pg_catalog.<=) 256)
);
ALTER SEQUENCE @extschema@.tokens_id_seq OWNED BY @extschema@.tokens.id;
CREATE INDEX tokens_org_id_idx ON @extschema@.tokens (org_id);
-- Most tokens have no previous secret, no InfluxDB id and no parent: these
-- indexes leave them out, so that creating a token updates three indexes,
-- not six (src/lookup.c scans the first for non-NULL digests only).
CREATE UNIQUE INDEX tokens_previous_digest_key ON @extschema@.tokens (previous_digest)
    WHERE previous_digest IS NOT NULL;
CREATE UNIQUE INDEX tokens_influx_id_key ON @extschema@.tokens (influx_id)
    WHERE influx_id IS NOT NULL;
CREATE INDEX tokens_parent_id_idx ON @extschema@.tokens (parent_id)
    WHERE parent_id IS NOT NULL;

/*
 * One row per grant: InfluxDB's {action, resource: {type, orgID?, id?}}
 * (src/permission.c).  A grant on one bucket references the bucket
 * (bucket_id), so a rename keeps it and a drop removes it; a grant on one
 * resource of another type keeps its InfluxDB ID (resource_id); with
 * neither, the grant is on every resource of the type.  any_org is
 * InfluxDB's resource without an orgID: for a whole type, every
 * organization; for one resource, only how it was written.  id is there
 * for logical replication: a published table needs a replica identity for
 * UPDATE and DELETE, and the natural key has nullable columns.
 */
CREATE SEQUENCE @extschema@.permissions_id_seq;
CREATE TABLE @extschema@.permissions (
    token_id      bigint NOT NULL REFERENCES @extschema@.tokens (id) ON DELETE CASCADE,
    action        text NOT NULL
                  CHECK (action OPERATOR(pg_catalog.=) ANY (ARRAY['read', 'write'])),
    resource_type text NOT NULL,
    bucket_id     bigint,
    CONSTRAINT permissions_bucket_type_check
        CHECK (bucket_id IS NULL OR resource_type OPERATOR(pg_catalog.=) 'buckets'),
    CONSTRAINT permissions_key
        UNIQUE NULLS NOT DISTINCT (token_id, action, resource_type, bucket_id, resource_id, any_org),
    id            bigint PRIMARY KEY
                  DEFAULT pg_catalog.nextval('@extschema@.permissions_id_seq'),
    resource_id   text
                  CONSTRAINT permissions_resource_id_check
                  CHECK (resource_id IS NULL OR (resource_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$'
                         AND resource_id OPERATOR(pg_catalog.<>) '0000000000000000'
                         AND resource_type OPERATOR(pg_catalog.<>) ALL (ARRAY['buckets', '*', '**', 'instance']))),
    any_org       boolean NOT NULL DEFAULT false
);
ALTER SEQUENCE @extschema@.permissions_id_seq OWNED BY @extschema@.permissions.id;
CREATE INDEX permissions_bucket_id_idx ON @extschema@.permissions (bucket_id)
    WHERE bucket_id IS NOT NULL;

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
SELECT pg_catalog.pg_extension_config_dump('@extschema@.permissions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.token_labels', '');

/*
 * Every backend caches tokens and buckets (src/cache.c), and with the
 * library preloaded all backends share a token cache too
 * (src/shared_cache.c).  A change to a token (an UPDATE or DELETE of its
 * tokens or permissions rows) is seen row by row by invalidate_cached_token:
 * that token is dropped from the changing backend's cache at once and, when
 * the transaction commits, from every cache; the relcache invalidation it
 * also registers reaches backends without shared memory and hot standbys
 * (through the WAL), which clear their whole cache.  A change to an
 * organization or a bucket, and a TRUNCATE, clear caches coarsely
 * (invalidate_cache, statement-level).  An INSERT invalidates nothing.
 * mark_cache_change, before each statement, tells the cache that the
 * transaction may read rows no other transaction can.
 * ENABLE ALWAYS keeps the triggers firing under session_replication_role =
 * replica and in logical replication's apply worker.  The apply worker
 * fires no statement-level trigger for the rows it applies, only row-level
 * ones enabled for replicas or always: invalidate_cache_on_apply, ENABLE
 * REPLICA, covers organizations and buckets there (and nowhere else: the
 * publisher pays nothing per row).
 */
CREATE FUNCTION @extschema@._invalidate_cache()
RETURNS trigger
AS 'MODULE_PATHNAME', 'influx_tokens__invalidate_cache'
LANGUAGE C;

CREATE TRIGGER invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.orgs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
CREATE TRIGGER invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.buckets
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
CREATE TRIGGER invalidate_cache
    AFTER INSERT OR TRUNCATE ON @extschema@.tokens
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
CREATE TRIGGER invalidate_cache
    AFTER INSERT OR TRUNCATE ON @extschema@.permissions
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
CREATE TRIGGER invalidate_cached_token
    AFTER UPDATE OR DELETE ON @extschema@.tokens
    FOR EACH ROW EXECUTE FUNCTION @extschema@._invalidate_cache();
CREATE TRIGGER invalidate_cached_token
    AFTER UPDATE OR DELETE ON @extschema@.permissions
    FOR EACH ROW EXECUTE FUNCTION @extschema@._invalidate_cache();
ALTER TABLE @extschema@.orgs ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE @extschema@.buckets ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE @extschema@.tokens ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE @extschema@.permissions ENABLE ALWAYS TRIGGER invalidate_cache;
ALTER TABLE @extschema@.tokens ENABLE ALWAYS TRIGGER invalidate_cached_token;
ALTER TABLE @extschema@.permissions ENABLE ALWAYS TRIGGER invalidate_cached_token;
-- Before any change: a check in the same statement (RETURNING, a CTE)
-- reads the uncommitted rows before the AFTER triggers run; from then on
-- this transaction neither fills the shared cache nor keeps its cache if
-- it aborts.
CREATE TRIGGER mark_cache_change
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.orgs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
ALTER TABLE @extschema@.orgs ENABLE ALWAYS TRIGGER mark_cache_change;
CREATE TRIGGER mark_cache_change
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.buckets
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
ALTER TABLE @extschema@.buckets ENABLE ALWAYS TRIGGER mark_cache_change;
CREATE TRIGGER mark_cache_change
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.tokens
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
ALTER TABLE @extschema@.tokens ENABLE ALWAYS TRIGGER mark_cache_change;
CREATE TRIGGER mark_cache_change
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.permissions
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate_cache();
ALTER TABLE @extschema@.permissions ENABLE ALWAYS TRIGGER mark_cache_change;
CREATE TRIGGER invalidate_cache_on_apply
    AFTER INSERT OR UPDATE OR DELETE ON @extschema@.orgs
    FOR EACH ROW EXECUTE FUNCTION @extschema@._invalidate_cache();
CREATE TRIGGER invalidate_cache_on_apply
    AFTER INSERT OR UPDATE OR DELETE ON @extschema@.buckets
    FOR EACH ROW EXECUTE FUNCTION @extschema@._invalidate_cache();
ALTER TABLE @extschema@.orgs ENABLE REPLICA TRIGGER invalidate_cache_on_apply;
ALTER TABLE @extschema@.buckets ENABLE REPLICA TRIGGER invalidate_cache_on_apply;

------------------------------------------------------------------------------
-- C building blocks (src/manage.c, src/usage.c).  Not callable by PUBLIC.
-- Each raises the error a caller sees, naming the argument, and never
-- quotes a token.
------------------------------------------------------------------------------

-- A grant in the form the tables store it, with the permission string it
-- came from (for messages).
CREATE TYPE @extschema@.resolved_grant AS (
    action        text,
    resource_type text,
    bucket_id     bigint,
    permission    text,
    resource_id   text,
    any_org       boolean
);

CREATE FUNCTION @extschema@._generate_token()
RETURNS text
AS 'MODULE_PATHNAME', 'influx_tokens__generate_token'
LANGUAGE C VOLATILE STRICT;

-- The SHA-256 of a token that checks would accept; an error for anything else.
CREATE FUNCTION @extschema@._token_digest(token text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'influx_tokens__token_digest'
LANGUAGE C IMMUTABLE;

-- A JSON document as jsonb, or an error that quotes none of it (src/import.c).
CREATE FUNCTION @extschema@._parse_json(document text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'influx_tokens__parse_json'
LANGUAGE C IMMUTABLE;

-- The token an administrator means: a secret, or an id written in digits
-- (at most 15, shorter than any secret); an error if there is none.
CREATE FUNCTION @extschema@._token_ref(token text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'influx_tokens__token_ref'
LANGUAGE C VOLATILE;

-- Has the commit of this transaction check a token whose grants were
-- replaced (src/commit_check.c).  Returns token_id.
CREATE FUNCTION @extschema@._recheck_at_commit(token_id bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'influx_tokens__recheck_at_commit'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@._org_id(org text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'influx_tokens__org_id'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@._bucket_id(org_id bigint, org text, bucket text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'influx_tokens__bucket_id'
LANGUAGE C VOLATILE;

-- The grants a permission array stands for, bucket names resolved to ids
-- in the organization once, duplicates removed.
CREATE FUNCTION @extschema@._resolve_permissions(org_id bigint, org text, permissions text[])
RETURNS @extschema@.resolved_grant[]
AS 'MODULE_PATHNAME', 'influx_tokens__resolve_permissions'
LANGUAGE C VOLATILE;

-- Validated labels ('{}' for NULL), duplicates removed.
CREATE FUNCTION @extschema@._check_labels(labels text[])
RETURNS text[]
AS 'MODULE_PATHNAME', 'influx_tokens__check_labels'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION @extschema@._check_description(description text)
RETURNS text
AS 'MODULE_PATHNAME', 'influx_tokens__check_description'
LANGUAGE C IMMUTABLE;

-- An expiry must lie in the future of the clock, as checks read the clock.
CREATE FUNCTION @extschema@._check_expiry(expires_at timestamptz)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'influx_tokens__check_expiry'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@._check_name(kind text, name text)
RETURNS text
AS 'MODULE_PATHNAME', 'influx_tokens__check_name'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION @extschema@._for_message(value text)
RETURNS text
AS 'MODULE_PATHNAME', 'influx_tokens__for_message'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Usage counters of one token in this database (src/usage.c): NULL
-- counters unless the library is preloaded.
CREATE FUNCTION @extschema@._token_usage(token_id bigint,
    OUT last_used_at timestamptz, OUT checks_allowed bigint, OUT checks_denied bigint)
AS 'MODULE_PATHNAME', 'influx_tokens__token_usage'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION @extschema@._usage_prune(live_ids bigint[])
RETURNS bigint
AS 'MODULE_PATHNAME', 'influx_tokens__usage_prune'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION @extschema@._usage_save()
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens__usage_save'
LANGUAGE C VOLATILE STRICT;

/*
 * A grant as a permission string: ours (token_list; set_token_permissions
 * reads it back), or influx CLI's (api.Permission.String) when the
 * organization's InfluxDB ID is given: "orgs/<org>/<type>[/<id>]" or
 * "/<type>[/<id>]", buckets by InfluxDB ID.  "*" and "**" have no InfluxDB
 * form and stay as they are.  Formats its arguments and reads nothing, so
 * anyone who may read token_list may call it.
 */
CREATE FUNCTION @extschema@._permission_text(action text, resource_type text, any_org boolean,
    bucket_name text, bucket_influx_id text, resource_id text, org_influx_id text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.concat(action, ':',
    CASE WHEN resource_type OPERATOR(pg_catalog.=) ANY (ARRAY['*', '**']) THEN NULL
         WHEN any_org THEN '/'
         WHEN org_influx_id IS NOT NULL THEN 'orgs/' OPERATOR(pg_catalog.||) org_influx_id OPERATOR(pg_catalog.||) '/'
    END,
    resource_type,
    '/' OPERATOR(pg_catalog.||) CASE WHEN any_org OR org_influx_id IS NOT NULL THEN bucket_influx_id
                                     ELSE bucket_name END,
    '/' OPERATOR(pg_catalog.||) resource_id);


------------------------------------------------------------------------------
-- Views: what administrators read.  No secret material in any of them.
------------------------------------------------------------------------------

/*
 * status is what a check sees: 'expired' for an active token past its
 * expiry (the stored status stays 'active').  previous_secret_valid_until
 * is set while a rotated-out secret is in its grace period.
 */
CREATE VIEW @extschema@.token_list AS
SELECT t.id,
       o.name AS org,
       t.description,
       CASE WHEN t.status OPERATOR(pg_catalog.=) 'active'
                 AND t.expires_at OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp()
            THEN 'expired' ELSE t.status END AS status,
       ARRAY(SELECT l.label
             FROM @extschema@.token_labels AS l
             WHERE l.token_id OPERATOR(pg_catalog.=) t.id
             ORDER BY l.label) AS labels,
       ARRAY(SELECT @extschema@._permission_text(p.action, p.resource_type, p.any_org, b.name,
                                                 b.influx_id,
                                                 p.resource_id, NULL)
             FROM @extschema@.permissions AS p
             LEFT JOIN @extschema@.buckets AS b ON b.id OPERATOR(pg_catalog.=) p.bucket_id
             WHERE p.token_id OPERATOR(pg_catalog.=) t.id
             ORDER BY 1) AS permissions,
       t.created_at,
       t.expires_at,
       t.parent_id,
       u.last_used_at,
       u.checks_allowed,
       u.checks_denied,
       t.updated_at,
       t.influx_id,
       CASE WHEN t.previous_valid_until OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp()
            THEN t.previous_valid_until END AS previous_secret_valid_until,
       t.influx_user_id,
       t.influx_user_name
FROM @extschema@.tokens AS t
JOIN @extschema@.orgs AS o ON o.id OPERATOR(pg_catalog.=) t.org_id
CROSS JOIN LATERAL @extschema@._token_usage(t.id) AS u
ORDER BY t.id;

CREATE VIEW @extschema@.bucket_list AS
SELECT b.id, o.name AS org, b.name, b.created_at, b.influx_id
FROM @extschema@.buckets AS b
JOIN @extschema@.orgs AS o ON o.id OPERATOR(pg_catalog.=) b.org_id;

CREATE VIEW @extschema@.org_list AS
SELECT o.id, o.name, o.influx_id, o.created_at
FROM @extschema@.orgs AS o;

COMMENT ON VIEW @extschema@.token_list IS
'Every token: organization, description, status as a check sees it (active, inactive or expired), labels, permissions, expiry, parent, usage counters (NULL unless preloaded), InfluxDB id, rotation grace, InfluxDB user. Never a secret or digest.';
COMMENT ON VIEW @extschema@.bucket_list IS
'Every bucket with its organization and InfluxDB id.';
COMMENT ON VIEW @extschema@.org_list IS
'Every organization with its InfluxDB id.';

------------------------------------------------------------------------------
-- Internal helpers in SQL.
------------------------------------------------------------------------------

/*
 * Locks a token's row for a change and returns its id, or raises the error
 * for a bad id.  FOR NO KEY UPDATE: it does not wait for a transaction that
 * merely holds a foreign-key lock on the row (a child being created), so
 * nobody holding the token can stall its revocation.
 */
CREATE FUNCTION @extschema@._lock_token(id bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'influx_tokens__lock_token'
LANGUAGE C VOLATILE;

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

/*
 * What revoking and reactivating write, for every caller (revoke_token,
 * activate_token, revoke_tokens): the status of the given tokens, and
 * updated_at of those whose status changes.  Returns how many changed.
 */
CREATE FUNCTION @extschema@._set_status(ids bigint[], status text)
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH changed AS (
        UPDATE @extschema@.tokens AS t SET status = _set_status.status, updated_at = now()
        WHERE t.id = ANY (ids) AND t.status <> _set_status.status
        RETURNING 1
    )
    SELECT count(*) FROM changed
$$;

/*
 * Revoking or reactivating a locked token and, with cascade, its
 * descendants.  A NOTICE says when the token itself already had the status.
 */
CREATE FUNCTION @extschema@._set_token_status(id bigint, status text, cascade boolean)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM @extschema@.tokens AS t
               WHERE t.id = _set_token_status.id AND t.status = _set_token_status.status) THEN
        RAISE NOTICE 'the token is already %', status;
    END IF;
    RETURN @extschema@._set_status(
        ARRAY(SELECT @extschema@._token_and_descendants(_set_token_status.id, cascade)), status);
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
    new_name text := @extschema@._check_name('organization', name);
    new_id bigint;
BEGIN
    IF EXISTS (SELECT FROM @extschema@.orgs AS o WHERE o.name = new_name) THEN
        RAISE EXCEPTION 'organization "%" already exists', @extschema@._for_message(new_name)
            USING ERRCODE = 'unique_violation';
    END IF;
    INSERT INTO @extschema@.orgs (name) VALUES (new_name) RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

CREATE FUNCTION @extschema@.rename_org(name text, new_name text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint := @extschema@._org_id(name);
    checked_name text := @extschema@._check_name('organization', new_name);
BEGIN
    IF checked_name <> rename_org.name THEN
        IF EXISTS (SELECT FROM @extschema@.orgs AS o WHERE o.name = checked_name) THEN
            RAISE EXCEPTION 'organization "%" already exists', @extschema@._for_message(checked_name)
                USING ERRCODE = 'unique_violation';
        END IF;
        UPDATE @extschema@.orgs AS o SET name = checked_name WHERE o.id = target_org_id;
    END IF;
    RETURN target_org_id;
END
$$;

-- Dropping an organization with buckets or tokens needs cascade => true.
CREATE FUNCTION @extschema@.drop_org(name text, cascade boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint := @extschema@._org_id(name);
BEGIN
    IF cascade IS NULL THEN
        RAISE EXCEPTION 'cascade must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM FROM @extschema@.orgs AS o WHERE o.id = target_org_id FOR UPDATE;
    IF NOT cascade AND
       (EXISTS (SELECT FROM @extschema@.buckets AS b WHERE b.org_id = target_org_id) OR
        EXISTS (SELECT FROM @extschema@.tokens AS t WHERE t.org_id = target_org_id)) THEN
        RAISE EXCEPTION 'organization "%" still has buckets or tokens', @extschema@._for_message(name)
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'Use drop_org(name, cascade => true) to drop them too.';
    END IF;
    -- Its tokens (their grants and labels go with them) and grants on its
    -- buckets; the buckets go with the organization.
    DELETE FROM @extschema@.tokens AS t WHERE t.org_id = target_org_id;
    -- Other tokens holding grants on it before those grants, in id order (as
    -- in drop_bucket).
    PERFORM FROM @extschema@.tokens AS t
    WHERE t.id IN (SELECT p.token_id FROM @extschema@.permissions AS p
                   WHERE p.bucket_id IN (SELECT b.id FROM @extschema@.buckets AS b
                                         WHERE b.org_id = target_org_id)
                      OR (p.resource_type = 'orgs' AND p.resource_id =
                          (SELECT o.influx_id FROM @extschema@.orgs AS o WHERE o.id = target_org_id)))
    ORDER BY t.id FOR KEY SHARE;
    DELETE FROM @extschema@.permissions AS p
    WHERE p.bucket_id IN (SELECT b.id FROM @extschema@.buckets AS b WHERE b.org_id = target_org_id);
    -- Grants of other tokens on the organization itself, by its InfluxDB ID:
    -- they would name whatever organization got that ID next.
    DELETE FROM @extschema@.permissions AS p
    WHERE p.resource_type = 'orgs'
      AND p.resource_id = (SELECT o.influx_id FROM @extschema@.orgs AS o WHERE o.id = target_org_id);
    DELETE FROM @extschema@.orgs AS o WHERE o.id = target_org_id;
    RETURN target_org_id;
END
$$;

CREATE FUNCTION @extschema@.create_bucket(org text, name text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@._create_bucket(NULL, @extschema@._org_id(org), name); END $$;

-- Grants on the bucket follow it to its new name.
CREATE FUNCTION @extschema@.rename_bucket(org text, name text, new_name text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_bucket_id bigint := @extschema@._bucket_id(@extschema@._org_id(org), org, name);
BEGIN
    RETURN @extschema@._rename_bucket(NULL, target_bucket_id, new_name);
END
$$;

-- Grants on the bucket go with it; a new bucket of the same name is not granted.
CREATE FUNCTION @extschema@.drop_bucket(org text, name text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_bucket_id bigint := @extschema@._bucket_id(@extschema@._org_id(org), org, name);
BEGIN
    RETURN @extschema@._drop_bucket(NULL, target_bucket_id);
END
$$;

COMMENT ON FUNCTION @extschema@.create_org(text) IS
'Creates an organization; returns its id.';
COMMENT ON FUNCTION @extschema@.rename_org(text, text) IS
'Renames an organization; returns its id.';
COMMENT ON FUNCTION @extschema@.drop_org(text, boolean) IS
'Drops an organization; with cascade => true also its buckets and tokens. Returns its id.';
COMMENT ON FUNCTION @extschema@.create_bucket(text, text) IS
'Creates a bucket in an organization; returns its id.';
COMMENT ON FUNCTION @extschema@.rename_bucket(text, text, text) IS
'Renames a bucket; grants on it follow. Returns its id.';
COMMENT ON FUNCTION @extschema@.drop_bucket(text, text) IS
'Drops a bucket and every grant on it. Returns its id.';

------------------------------------------------------------------------------
-- Creating tokens.  The token's text is returned once and stored nowhere.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.create_token_with_id(
    org text,
    permissions text[],
    description text DEFAULT NULL,
    labels text[] DEFAULT '{}',
    expires_at timestamptz DEFAULT NULL,
    OUT id bigint,
    OUT token text)
AS 'MODULE_PATHNAME', 'influx_tokens_create_token_with_id'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.create_token(
    org text,
    permissions text[],
    description text DEFAULT NULL,
    labels text[] DEFAULT '{}',
    expires_at timestamptz DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'influx_tokens_create_token'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

/*
 * A token creates a token.  The parent must be usable now and hold
 * write:authorizations, and every permission asked for, resolved to ids
 * once, must be held by the parent (InfluxDB's no-escalation rule).  The
 * child is in the parent's organization, records its parent, and expires no
 * later than the parent's secret stays valid (its expiry, or the end of the
 * grace period of a rotated secret); by default exactly then.  The rules
 * are decided when the child is created and again when the transaction
 * commits, on the parent as it is then (src/commit_check.c), and no lock is
 * held in between, so a caller's open transaction never stalls a revoke.
 * A later change to the parent does not change a committed child.
 * Callable by PUBLIC: the parent token is the credential.
 */
CREATE FUNCTION @extschema@.create_token_as_with_id(
    parent_token text,
    permissions text[],
    description text DEFAULT NULL,
    labels text[] DEFAULT '{}',
    expires_at timestamptz DEFAULT NULL,
    OUT id bigint,
    OUT token text)
AS 'MODULE_PATHNAME', 'influx_tokens_create_token_as_with_id'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.create_token_as(
    parent_token text,
    permissions text[],
    description text DEFAULT NULL,
    labels text[] DEFAULT '{}',
    expires_at timestamptz DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'influx_tokens_create_token_as'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

/*
 * A fleet in one call: count tokens with the same permissions, labels,
 * description and expiry, each with its own secret, as rows (id, token),
 * in one transaction (all or nothing).  The secrets exist only in the rows
 * returned: called in the select list, the rows stream out a batch at a
 * time; called in FROM, PostgreSQL collects them first (in work_mem, and
 * beyond it in a temporary file).  At most 1,000,000 a call.
 */
CREATE FUNCTION @extschema@.create_tokens(
    org text,
    permissions text[],
    count bigint,
    description text DEFAULT NULL,
    labels text[] DEFAULT '{}',
    expires_at timestamptz DEFAULT NULL)
RETURNS TABLE (id bigint, token text)
AS 'MODULE_PATHNAME', 'influx_tokens_create_tokens'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION @extschema@.create_token_with_id(text, text[], text, text[], timestamptz) IS
'Creates a token; returns its id and its text, which is shown this once and stored only as a digest.';
COMMENT ON FUNCTION @extschema@.create_token(text, text[], text, text[], timestamptz) IS
'Creates a token; returns its text, which is shown this once and stored only as a digest.';
COMMENT ON FUNCTION @extschema@.create_tokens(text, text[], bigint, text, text[], timestamptz) IS
'Creates count tokens with the same permissions, each its own secret; returns (id, token) rows, shown this once.';
COMMENT ON FUNCTION @extschema@.create_token_as_with_id(text, text[], text, text[], timestamptz) IS
'A token with write:authorizations creates a token with a subset of its own permissions (PUBLIC); returns id and text.';
COMMENT ON FUNCTION @extschema@.create_token_as(text, text[], text, text[], timestamptz) IS
'A token with write:authorizations creates a token with a subset of its own permissions (PUBLIC); returns its text.';

------------------------------------------------------------------------------
-- Inspecting and changing tokens.  Each change takes the token's id; each
-- has an overload taking the token's text (or an id in digits), so that a
-- token passed by mistake is never quoted back by a type error.
------------------------------------------------------------------------------

-- The token's row of token_list, with its organization's InfluxDB ID and
-- InfluxDB's body of the authorization (no token in it), or no row for an
-- unknown token; it sees what token_check sees (the latest committed state
-- and the session's own changes).  Callable by PUBLIC: the token is the
-- credential.
CREATE FUNCTION @extschema@.token_info(token text)
RETURNS TABLE (id bigint, org text, description text, status text, labels text[],
               permissions text[], created_at timestamptz, expires_at timestamptz,
               parent_id bigint, last_used_at timestamptz, checks_allowed bigint,
               checks_denied bigint, updated_at timestamptz, influx_id text,
               previous_secret_valid_until timestamptz, org_influx_id text, body jsonb)
AS 'MODULE_PATHNAME', 'influx_tokens_token_info'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- Revocation and reactivation only flip the status; the token keeps its
-- grants.  With cascade, every token it created (directly or not) too;
-- without, those stop working while it is inactive (README, "Managing
-- tokens with a token").
CREATE FUNCTION @extschema@.revoke_token(id bigint, cascade boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@._revoke_token(NULL, id, cascade); END $$;

CREATE FUNCTION @extschema@.activate_token(id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@._activate_token(NULL, id); END $$;

-- With cascade, every token the token created (directly or not) is deleted
-- too; without, its children stay, revoked and without parent_id (an
-- administrator may reactivate them as tokens of their own).  Returns how
-- many were deleted.
CREATE FUNCTION @extschema@.delete_token(id bigint, cascade boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@._delete_token(NULL, id, cascade); END $$;

-- NULL removes the expiry: the token then never expires (unless its
-- parent does: a token made by create_token_as expires no later).
CREATE FUNCTION @extschema@.set_token_expiry(id bigint, expires_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@._set_token_expiry(NULL, id, expires_at); END $$;

CREATE FUNCTION @extschema@.set_token_description(id bigint, description text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@._set_token_description(NULL, id, description); END $$;

CREATE FUNCTION @extschema@.add_token_labels(id bigint, labels text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@._add_token_labels(NULL, id, labels); END $$;

CREATE FUNCTION @extschema@.remove_token_labels(id bigint, labels text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@._remove_token_labels(NULL, id, labels); END $$;

-- Replaces all permissions at once: a check sees the old set or the new one.
-- A bad permission fails the whole call, so the old set stays.
CREATE FUNCTION @extschema@.set_token_permissions(id bigint, permissions text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@._set_token_permissions(NULL, id, permissions); END $$;

/*
 * A new secret for the same token: same id, permissions, labels,
 * description and expiry.  The old secret keeps working for grace (from the
 * clock, as checks read it), then never again; a second rotation ends the
 * grace of the first.
 */
CREATE FUNCTION @extschema@.rotate_token_with_id(token_id bigint, grace interval DEFAULT '0',
    OUT id bigint, OUT token text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT r.id, r.token INTO id, token FROM @extschema@._rotate_token(NULL, token_id, grace) AS r;
END
$$;

CREATE FUNCTION @extschema@.rotate_token(id bigint, grace interval DEFAULT '0')
RETURNS text
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT r.token FROM @extschema@.rotate_token_with_id(id, grace) AS r $$;

/*
 * The same changes, naming the token by its text.  The text goes straight
 * into C (_token_ref) by a simple expression: no query plan holds it.
 */
CREATE FUNCTION @extschema@.revoke_token(token text, cascade boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@.revoke_token(@extschema@._token_ref(token), cascade); END $$;

CREATE FUNCTION @extschema@.activate_token(token text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@.activate_token(@extschema@._token_ref(token)); END $$;

CREATE FUNCTION @extschema@.delete_token(token text, cascade boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@.delete_token(@extschema@._token_ref(token), cascade); END $$;

CREATE FUNCTION @extschema@.set_token_expiry(token text, expires_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@.set_token_expiry(@extschema@._token_ref(token), expires_at); END $$;

CREATE FUNCTION @extschema@.set_token_description(token text, description text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@.set_token_description(@extschema@._token_ref(token), description); END $$;

CREATE FUNCTION @extschema@.add_token_labels(token text, labels text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@.add_token_labels(@extschema@._token_ref(token), labels); END $$;

CREATE FUNCTION @extschema@.remove_token_labels(token text, labels text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@.remove_token_labels(@extschema@._token_ref(token), labels); END $$;

CREATE FUNCTION @extschema@.set_token_permissions(token text, permissions text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@.set_token_permissions(@extschema@._token_ref(token), permissions); END $$;

CREATE FUNCTION @extschema@.rotate_token_with_id(old_token text, grace interval DEFAULT '0',
    OUT id bigint, OUT token text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_id bigint;
BEGIN
    target_id := @extschema@._token_ref(old_token);
    SELECT r.id, r.token INTO id, token FROM @extschema@.rotate_token_with_id(target_id, grace) AS r;
END
$$;

CREATE FUNCTION @extschema@.rotate_token(token text, grace interval DEFAULT '0')
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN @extschema@.rotate_token(@extschema@._token_ref(token), grace); END $$;

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
BEGIN
    IF label IS NULL AND org IS NULL AND parent_id IS NULL THEN
        RAISE EXCEPTION 'revoke_tokens needs at least one filter'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give a label, an org or a parent_id.';
    END IF;
    IF org IS NOT NULL THEN
        target_org_id := @extschema@._org_id(org);
    END IF;
    RETURN @extschema@._set_status(ARRAY(
        SELECT t.id FROM @extschema@.tokens AS t
        WHERE t.status = 'active'
          AND (revoke_tokens.label IS NULL OR EXISTS (
                 SELECT FROM @extschema@.token_labels AS l
                 WHERE l.token_id = t.id AND l.label = revoke_tokens.label))
          AND (target_org_id IS NULL OR t.org_id = target_org_id)
          AND (revoke_tokens.parent_id IS NULL OR t.parent_id = revoke_tokens.parent_id)
        ORDER BY t.id FOR NO KEY UPDATE), 'inactive');
END
$$;

COMMENT ON FUNCTION @extschema@.token_info(text) IS
'The token''s row of token_list as a check sees it now, with its organization''s InfluxDB ID and InfluxDB''s body, or no row (PUBLIC: the token is the credential).';
COMMENT ON FUNCTION @extschema@.revoke_token(bigint, boolean) IS
'Makes a token inactive (with cascade => true, also every token it created); returns how many changed (0 if it already was).';
COMMENT ON FUNCTION @extschema@.revoke_token(text, boolean) IS
'revoke_token, naming the token by its text (or its id in digits).';
COMMENT ON FUNCTION @extschema@.activate_token(bigint) IS
'Makes an inactive token active again; returns how many changed (0 if it already was).';
COMMENT ON FUNCTION @extschema@.activate_token(text) IS
'activate_token, naming the token by its text (or its id in digits).';
COMMENT ON FUNCTION @extschema@.delete_token(bigint, boolean) IS
'Deletes a token (with cascade => true, also every token it created; else they stay, revoked and without parent_id); returns how many.';
COMMENT ON FUNCTION @extschema@.delete_token(text, boolean) IS
'delete_token, naming the token by its text (or its id in digits).';
COMMENT ON FUNCTION @extschema@.set_token_expiry(bigint, timestamptz) IS
'Sets or (NULL) removes a token''s expiry; returns its id.';
COMMENT ON FUNCTION @extschema@.set_token_expiry(text, timestamptz) IS
'set_token_expiry, naming the token by its text (or its id in digits).';
COMMENT ON FUNCTION @extschema@.set_token_description(bigint, text) IS
'Sets a token''s description; returns its id.';
COMMENT ON FUNCTION @extschema@.set_token_description(text, text) IS
'set_token_description, naming the token by its text (or its id in digits).';
COMMENT ON FUNCTION @extschema@.add_token_labels(bigint, text[]) IS
'Adds labels to a token; returns its id.';
COMMENT ON FUNCTION @extschema@.add_token_labels(text, text[]) IS
'add_token_labels, naming the token by its text (or its id in digits).';
COMMENT ON FUNCTION @extschema@.remove_token_labels(bigint, text[]) IS
'Removes labels from a token; returns its id.';
COMMENT ON FUNCTION @extschema@.remove_token_labels(text, text[]) IS
'remove_token_labels, naming the token by its text (or its id in digits).';
COMMENT ON FUNCTION @extschema@.set_token_permissions(bigint, text[]) IS
'Replaces all of a token''s permissions at once; returns its id.';
COMMENT ON FUNCTION @extschema@.set_token_permissions(text, text[]) IS
'set_token_permissions, naming the token by its text (or its id in digits).';
COMMENT ON FUNCTION @extschema@.rotate_token_with_id(bigint, interval) IS
'Gives a token a new secret (the old one works for grace); returns its id and the new text.';
COMMENT ON FUNCTION @extschema@.rotate_token_with_id(text, interval) IS
'rotate_token_with_id, naming the token by its text (or its id in digits).';
COMMENT ON FUNCTION @extschema@.rotate_token(bigint, interval) IS
'Gives a token a new secret (the old one works for grace); returns the new text.';
COMMENT ON FUNCTION @extschema@.rotate_token(text, interval) IS
'rotate_token, naming the token by its text (or its id in digits).';
COMMENT ON FUNCTION @extschema@.revoke_tokens(text, text, bigint) IS
'Revokes every active token matching all given filters (label, org, parent_id); returns how many.';

------------------------------------------------------------------------------
-- Usage counters (src/usage.c): shared memory when preloaded, else nothing.
------------------------------------------------------------------------------

-- Forgets the counters of this database's deleted tokens and has the
-- counters written to disk now (they are also written periodically and at
-- shutdown).  Returns how many entries it forgot.
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

-- The usage counters themselves: how many tokens are tracked, the limit,
-- checks not counted because the limit was reached, the last save.
CREATE FUNCTION @extschema@.usage_stats(
    OUT tracked_tokens bigint, OUT usage_max integer, OUT untracked_checks bigint,
    OUT last_saved_at timestamptz)
AS 'MODULE_PATHNAME', 'influx_tokens_usage_stats'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.save_usage() IS
'Forgets the usage counters of deleted tokens and writes the counters to disk now; returns how many entries it forgot.';
COMMENT ON FUNCTION @extschema@.usage_stats() IS
'The usage counters: tokens tracked, the limit (influx_tokens.usage_max), checks not counted for lack of room, last save. NULL unless preloaded.';

------------------------------------------------------------------------------
-- Migration from InfluxDB.
------------------------------------------------------------------------------

-- An InfluxDB ID (16 hex digits, not all zero, as InfluxDB's ID.Valid) or
-- NULL; anything else is an error (src/import.c).
CREATE FUNCTION @extschema@._influx_id(value text, what text)
RETURNS text
AS 'MODULE_PATHNAME', 'influx_tokens__influx_id'
LANGUAGE C IMMUTABLE;

-- Does a token with this secret (plaintext or hashed) exist already?
CREATE FUNCTION @extschema@._import_digest_taken(token text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens__import_digest_taken'
LANGUAGE C VOLATILE;

-- InfluxDB's fields of a permission string (src/import.c).
CREATE FUNCTION @extschema@._permission_parts(permission text,
    OUT action text, OUT resource_type text, OUT org_id text, OUT id text, OUT bucket text,
    OUT scope text)
AS 'MODULE_PATHNAME', 'influx_tokens__permission_parts'
LANGUAGE C IMMUTABLE;

-- Raises a caught error again, prefixed by the import entry it is about.
CREATE FUNCTION @extschema@._raise_for_entry(entry text, sqlstate text, message text,
                                             detail text, hint text)
RETURNS void
AS 'MODULE_PATHNAME', 'influx_tokens__raise_for_entry'
LANGUAGE C VOLATILE;

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
AS 'MODULE_PATHNAME', 'influx_tokens_import_token'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

/*
 * One authorization of an import (import_influxdb2 below), in either shape:
 * InfluxDB's REST object ({orgID, permissions: [{action, resource: {type,
 * orgID?, id?, name?, org?}}]}) or influx CLI's ({userName, userID,
 * permissions: [strings]}, no orgID).  Every permission keeps exactly its
 * meaning (resolve_grants in src/manage.c decides it, as for every other
 * caller) or the authorization is refused.  Returns the new token's id.
 */
CREATE FUNCTION @extschema@._import_authorization(
    auth jsonb,
    org_names jsonb,
    bucket_names jsonb,
    create_missing boolean,
    default_org text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    auth_permissions jsonb := COALESCE(auth->'permissions', '[]');
    grant_ jsonb;
    resource jsonb;
    parts record;
    permission text;
    permissions text[] := '{}';
    permission_orgs text[] := '{}';
    named_org text;
    id_named_org text;
    org_conflict boolean := false;
    labels text[] := '{}';
    bucket_ids text[] := '{}';
    bucket_hints text[] := '{}';
    org_influx_id text;
    org_name text;
    org_row record;
    bucket_name text;
    bucket_id bigint;
    i integer;
    new_id bigint;
BEGIN
    IF jsonb_typeof(auth) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'an authorization must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF auth - ARRAY['id', 'token', 'status', 'description', 'orgID', 'org', 'userID', 'user', 'userName',
                    'createdAt', 'updatedAt', 'links', 'permissions', 'labels', 'expiresAt'] <> '{}' THEN
        RAISE EXCEPTION 'an authorization has a key InfluxDB does not write'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keys are InfluxDB''s (id, token, status, description, orgID, org, userID, user, userName, createdAt, updatedAt, links, permissions), written as it writes them, and labels and expiresAt.';
    END IF;
    IF jsonb_typeof(auth_permissions) <> 'array' THEN
        RAISE EXCEPTION 'permissions must be a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_array_length(auth_permissions) > 1000 THEN
        RAISE EXCEPTION 'an authorization has at most 1000 permissions' USING ERRCODE = 'program_limit_exceeded';
    END IF;

    -- Every permission as a string of the permission language: influx CLI's
    -- as it is, a REST object written in InfluxDB's own form.  A REST object
    -- with a key InfluxDB would read differently (Go matches keys without
    -- regard to case) or ignore is refused, not guessed.  (Expressions, not
    -- queries, where it can: an import may hold a million of these.)
    FOR i IN 0 .. jsonb_array_length(auth_permissions) - 1 LOOP
        grant_ := auth_permissions->i;
        bucket_name := NULL;
        IF jsonb_typeof(grant_) = 'string' THEN
            permission := grant_#>>'{}';
        ELSIF jsonb_typeof(grant_) = 'object' AND jsonb_typeof(grant_->'resource') = 'object'
              AND jsonb_typeof(grant_->'action') = 'string'
              AND jsonb_typeof(grant_->'resource'->'type') = 'string' THEN
            resource := grant_->'resource';
            IF grant_ - 'action' - 'resource' <> '{}' OR
               resource - 'type' - 'orgID' - 'id' - 'name' - 'org' <> '{}' THEN
                RAISE EXCEPTION 'a permission has a key InfluxDB does not write'
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'A permission is {"action", "resource": {"type", "orgID", "id", "name", "org"}}, keys as InfluxDB writes them.';
            END IF;
            IF (resource ? 'orgID' AND jsonb_typeof(resource->'orgID') <> 'string')
               OR (resource ? 'id' AND jsonb_typeof(resource->'id') <> 'string')
               OR grant_->>'action' !~ '^[a-z]+$' OR resource->>'type' !~ '^([A-Za-z]+|\*|\*\*)$' THEN
                RAISE EXCEPTION 'invalid permission %', @extschema@._for_message(grant_::text)
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF resource->>'type' = 'buckets' AND resource ? 'name' AND NOT resource ? 'id' THEN
                RAISE EXCEPTION 'permission on bucket "%" has no bucket id', @extschema@._for_message(resource->>'name')
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'InfluxDB grants a bucket by its ID; without one the permission is on every bucket.';
            END IF;
            permission := (grant_->>'action') || ':' ||
                CASE WHEN resource ? 'orgID' THEN 'orgs/' || @extschema@._influx_id(resource->>'orgID', 'organization') || '/'
                     ELSE '/' END ||
                (resource->>'type') || COALESCE('/' || @extschema@._influx_id(resource->>'id', 'resource'), '');
            bucket_name := resource->>'name';
        ELSE
            RAISE EXCEPTION 'a permission must be a string or {"action": ..., "resource": {"type": ...}}'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        parts := @extschema@._permission_parts(permission);
        -- Our spelling ("read:buckets": the token's organization) is not
        -- guessed at: in Go's Permission.String the same text means every
        -- organization.  Only "*" and "**", which InfluxDB has not, are ours.
        IF parts.scope = 'token' AND parts.resource_type NOT IN ('*', '**') THEN
            RAISE EXCEPTION 'permission "%" does not say whether it is for one organization or every one',
                @extschema@._for_message(permission)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Write it as influx CLI does: orgs/<org ID>/<type> for the authorization''s organization, /<type> for every one.';
        END IF;
        permissions := permissions || permission;
        permission_orgs := permission_orgs || CASE WHEN parts.scope = 'org' THEN parts.org_id END;
        IF parts.scope = 'org' THEN
            org_conflict := org_conflict OR parts.org_id <> COALESCE(named_org, parts.org_id);
            named_org := parts.org_id;
        ELSIF parts.scope = 'none' AND parts.resource_type = 'orgs' AND parts.id IS NOT NULL THEN
            id_named_org := CASE WHEN id_named_org IS NULL OR id_named_org = parts.id THEN parts.id ELSE '?' END;
        END IF;
        IF parts.resource_type = 'buckets' AND parts.id IS NOT NULL THEN
            bucket_ids := bucket_ids || parts.id;
            bucket_hints := bucket_hints || bucket_name;
        END IF;
    END LOOP;

    -- The organization: the REST object's orgID; for influx CLI's shape, the
    -- one its permissions name (orgs/<org>/..., else /orgs/<org>); else the
    -- default_org argument (an operator token names none).
    org_influx_id := @extschema@._influx_id(auth->>'orgID', 'organization');
    IF org_influx_id IS NULL THEN
        IF org_conflict OR (named_org IS NULL AND id_named_org = '?') THEN
            RAISE EXCEPTION 'the permissions name more than one organization'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'InfluxDB''s Authorization.Valid refuses a permission for another organization.';
        END IF;
        org_influx_id := COALESCE(named_org, id_named_org);
    END IF;
    FOR i IN 1 .. cardinality(permissions) LOOP
        IF permission_orgs[i] <> org_influx_id THEN
            RAISE EXCEPTION 'permission "%" is not for the authorization''s organization %',
                @extschema@._for_message(permissions[i]), org_influx_id
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'InfluxDB''s Authorization.Valid refuses a permission for another organization.';
        END IF;
    END LOOP;

    -- Found by InfluxDB ID; else by name (org_names, the export's own), then
    -- given the export's ID; else created.  An organization whose ID a token
    -- holds a grant on keeps it.
    IF org_influx_id IS NULL THEN
        IF default_org IS NULL THEN
            RAISE EXCEPTION 'the authorization names no organization'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give the organization its tokens belong to: org => ''<name>''.';
        END IF;
        org_name := default_org;
        SELECT o.id, o.name, o.influx_id INTO org_row FROM @extschema@.orgs AS o WHERE o.name = org_name;
    ELSE
        SELECT o.id, o.name, o.influx_id INTO org_row FROM @extschema@.orgs AS o WHERE o.influx_id = org_influx_id;
        IF NOT FOUND THEN
            org_name := COALESCE(org_names->>org_influx_id, auth->>'org');
            SELECT o.id, o.name, o.influx_id INTO org_row FROM @extschema@.orgs AS o WHERE o.name = org_name;
        END IF;
    END IF;
    IF NOT FOUND THEN
        IF NOT create_missing OR org_name IS NULL THEN
            RAISE EXCEPTION 'organization % does not exist',
                COALESCE('"' || @extschema@._for_message(org_name) || '"', org_influx_id)
                USING ERRCODE = 'undefined_object',
                      HINT = 'Create it, map its ID in org_names, or pass create_missing => true.';
        END IF;
        PERFORM @extschema@.create_org(org_name);
        SELECT o.id, o.name, o.influx_id INTO org_row FROM @extschema@.orgs AS o WHERE o.name = org_name;
    END IF;
    IF org_influx_id IS NOT NULL AND org_row.influx_id <> org_influx_id THEN
        IF EXISTS (SELECT FROM @extschema@.permissions AS p
                   WHERE p.resource_type = 'orgs' AND p.resource_id = org_row.influx_id) THEN
            RAISE EXCEPTION 'organization "%" has InfluxDB ID %, which a token''s permission names; the export says %',
                @extschema@._for_message(org_row.name), org_row.influx_id, org_influx_id
                USING ERRCODE = 'object_in_use',
                      HINT = 'Map the export''s ID to another name in org_names.';
        END IF;
        UPDATE @extschema@.orgs AS o SET influx_id = org_influx_id WHERE o.id = org_row.id;
    END IF;

    -- Buckets granted by ID: found by it; else by name in the organization
    -- (bucket_names, the export's own), then given the export's ID; else
    -- created.
    FOR i IN 1 .. cardinality(bucket_ids) LOOP
        CONTINUE WHEN EXISTS (SELECT FROM @extschema@.buckets AS b WHERE b.influx_id = bucket_ids[i]);
        bucket_name := COALESCE(bucket_names->>bucket_ids[i], bucket_hints[i]);
        SELECT b.id INTO bucket_id FROM @extschema@.buckets AS b
        WHERE b.org_id = org_row.id AND b.name = bucket_name;
        IF NOT FOUND THEN
            IF NOT create_missing OR bucket_name IS NULL THEN
                RAISE EXCEPTION 'bucket % does not exist',
                    COALESCE('"' || @extschema@._for_message(bucket_name) || '"', bucket_ids[i])
                    USING ERRCODE = 'undefined_object',
                          HINT = 'Create it, map its ID in bucket_names, or pass create_missing => true.';
            END IF;
            bucket_id := @extschema@.create_bucket(org_row.name, bucket_name);
        END IF;
        UPDATE @extschema@.buckets AS b SET influx_id = bucket_ids[i] WHERE b.id = bucket_id;
    END LOOP;

    IF auth->>'status' IS NOT NULL AND auth->>'status' NOT IN ('active', 'inactive') THEN
        RAISE EXCEPTION 'invalid status "%"', @extschema@._for_message(auth->>'status')
            USING ERRCODE = 'invalid_parameter_value', HINT = 'InfluxDB''s status is active or inactive.';
    END IF;
    IF EXISTS (SELECT FROM @extschema@.tokens AS t
               WHERE t.influx_id = @extschema@._influx_id(auth->>'id', 'authorization')) THEN
        RAISE EXCEPTION 'a token with InfluxDB ID % exists already', auth->>'id'
            USING ERRCODE = 'unique_violation',
                  HINT = 'skip_existing => true skips tokens whose secret is here already.';
    END IF;
    IF auth ? 'labels' THEN
        labels := ARRAY(SELECT jsonb_array_elements_text(auth->'labels'));
    END IF;
    new_id := @extschema@.import_token(org_row.name, auth->>'token', permissions,
                                       NULLIF(auth->>'description', ''), labels,
                                       (auth->>'expiresAt')::timestamptz);
    UPDATE @extschema@.tokens AS t
    SET influx_id = @extschema@._influx_id(auth->>'id', 'authorization'),
        status = COALESCE(auth->>'status', 'active'),
        influx_user_id = @extschema@._influx_id(NULLIF(auth->>'userID', ''), 'user'),
        influx_user_name = NULLIF(COALESCE(auth->>'userName', auth->>'user'), '')
    WHERE t.id = new_id;
    RETURN new_id;
END
$$;

/*
 * Imports InfluxDB 2 authorizations in every shape a user has: what
 * `influx auth list --json` or `influx auth create --json` prints (influx
 * CLI 2.1 and later: {id, description, token, status, userName, userID,
 * permissions: [strings]}), the body of GET /api/v2/authorizations, with or
 * without its {"links", "authorizations"} wrapper, or one authorization.
 * Tokens in plaintext or hashed ($influxdb2-sha256$).  Organizations and
 * buckets are found by InfluxDB ID (kept on them once imported), by the
 * names given in org_names / bucket_names (objects mapping InfluxDB IDs to
 * names), or by the names in the export; with create_missing they are
 * created.  An authorization whose permissions name no organization (the
 * operator token in influx CLI's shape) belongs to org.  Each authorization
 * keeps exactly its meaning or the import fails, naming the entry; with
 * skip_existing, a token whose secret is already here is skipped (a re-run
 * of a migration).  All or nothing; returns how many tokens it imported.
 */
CREATE FUNCTION @extschema@.import_influxdb2(
    authorizations jsonb,
    org_names jsonb DEFAULT '{}',
    bucket_names jsonb DEFAULT '{}',
    create_missing boolean DEFAULT false,
    org text DEFAULT NULL,
    skip_existing boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    entries jsonb := authorizations;
    auth jsonb;
    entry bigint := 0;
    imported bigint := 0;
    error_state text;
    error_message text;
    error_detail text;
    error_hint text;
BEGIN
    IF authorizations IS NULL THEN
        RAISE EXCEPTION 'authorizations must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF create_missing IS NULL OR skip_existing IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN create_missing IS NULL THEN 'create_missing' ELSE 'skip_existing' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF jsonb_typeof(authorizations) = 'object' THEN
        entries := CASE WHEN authorizations ? 'authorizations' THEN authorizations->'authorizations'
                        WHEN authorizations ? 'token' THEN jsonb_build_array(authorizations) END;
    END IF;
    IF jsonb_typeof(entries) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'authorizations must be a JSON array, an object with one ("authorizations"), or one authorization'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    org_names := COALESCE(org_names, '{}');
    bucket_names := COALESCE(bucket_names, '{}');

    -- One block around the whole loop: an error names the entry it happened
    -- in (all or nothing, so nothing is lost by not catching it per entry).
    BEGIN
        FOR auth IN SELECT value FROM jsonb_array_elements(entries) LOOP
            entry := entry + 1;
            IF skip_existing AND jsonb_typeof(auth->'token') = 'string'
               AND @extschema@._import_digest_taken(auth->>'token') THEN
                CONTINUE;
            END IF;
            PERFORM @extschema@._import_authorization(auth, org_names, bucket_names,
                                                      create_missing, org);
            imported := imported + 1;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT,
                                error_detail = PG_EXCEPTION_DETAIL, error_hint = PG_EXCEPTION_HINT;
        PERFORM @extschema@._raise_for_entry(
            pg_catalog.format('authorization %s (InfluxDB ID %s, description %s)', entry,
                COALESCE(@extschema@._for_message(auth->>'id'), 'none'),
                COALESCE('"' || @extschema@._for_message(auth->>'description') || '"', 'none')),
            error_state, error_message, error_detail, error_hint);
    END;
    RETURN imported;
END
$$;

/*
 * Every token (of one organization, or all) in InfluxDB's shape: with
 * shape 'rest', the objects of GET /api/v2/authorizations; with 'cli', what
 * `influx auth list --json` prints (permissions as strings, no orgID).  The
 * token is in InfluxDB 2.9's hashed form, never plaintext.  IDs are the
 * InfluxDB IDs of organizations and buckets, and of tokens the one kept from
 * an import, or ours as 16 hex digits.  Beyond
 * InfluxDB's fields: labels and expiresAt when set, which InfluxDB ignores
 * and import_influxdb2 reads back.  '*' and '**' grants keep their names,
 * which only influx_tokens reads back.
 */
CREATE FUNCTION @extschema@.export_tokens(org text DEFAULT NULL, shape text DEFAULT 'rest')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_org_id bigint;
BEGIN
    IF shape IS NULL OR shape NOT IN ('rest', 'cli') THEN
        RAISE EXCEPTION 'invalid shape "%"', @extschema@._for_message(shape)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The shape is ''rest'' (GET /api/v2/authorizations) or ''cli'' (influx auth list --json).';
    END IF;
    IF org IS NOT NULL THEN
        target_org_id := @extschema@._org_id(org);
    END IF;
    RETURN COALESCE((
        SELECT jsonb_agg(CASE shape WHEN 'rest' THEN a.rest ELSE a.cli END
                         || jsonb_build_object('token', '$influxdb2-sha256$'
                                               || translate(encode(t.digest, 'base64'), '+/', '-_'))
                         ORDER BY t.id)
        FROM @extschema@.tokens AS t JOIN @extschema@._authorizations AS a ON a.id = t.id
        WHERE target_org_id IS NULL OR t.org_id = target_org_id), '[]');
END
$$;

/*
 * The same, from the text of the export, e.g. pg_read_file('auths.json'):
 * a malformed or truncated file is an error that quotes none of it, where
 * jsonb's own input error would quote the input around the mistake, tokens
 * included.  An untyped argument resolves to this form.
 */
CREATE FUNCTION @extschema@.import_influxdb2(
    authorizations text,
    org_names jsonb DEFAULT '{}',
    bucket_names jsonb DEFAULT '{}',
    create_missing boolean DEFAULT false,
    org text DEFAULT NULL,
    skip_existing boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A simple expression, not a query: the document is in no plan.
    RETURN @extschema@.import_influxdb2(@extschema@._parse_json(authorizations),
                                        org_names, bucket_names, create_missing,
                                        org, skip_existing);
END
$$;

/*
 * Does a grant cover a request, by InfluxDB's rule (Permission.Matches)?
 * Both in the permission language with resources by InfluxDB ID; reads no
 * table, so PUBLIC may try the rule (src/sql_api.c).
 */
CREATE FUNCTION @extschema@.permission_matches(granted text, requested text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens_permission_matches'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.import_token(text, text, text[], text, text[], timestamptz) IS
'Imports an existing token (plaintext, or InfluxDB 2.9''s $influxdb2-sha256$ hash) so that checks accept it; returns its id.';
COMMENT ON FUNCTION @extschema@.import_influxdb2(jsonb, jsonb, jsonb, boolean, text, boolean) IS
'Imports InfluxDB 2 authorizations (influx auth list --json, auth create --json, the REST body); each keeps its meaning or the import fails naming it; all or nothing; returns how many.';
COMMENT ON FUNCTION @extschema@.import_influxdb2(text, jsonb, jsonb, boolean, text, boolean) IS
'import_influxdb2 from the text of the export (pg_read_file); a malformed file is an error that quotes none of it.';
COMMENT ON FUNCTION @extschema@.export_tokens(text, text) IS
'Every token (of one organization, or all) in InfluxDB''s JSON shape, REST objects or influx CLI''s, secrets hashed, never plaintext.';
COMMENT ON FUNCTION @extschema@.permission_matches(text, text) IS
'Does the granted permission cover the requested one, by InfluxDB''s rule (Permission.Matches)? Reads no table.';

------------------------------------------------------------------------------
-- Who is asking (src/authorizer.c).  Every management operation below has
-- one body whose first argument is the acting token's id, NULL for an
-- administrator; the administrator's form above and the token form (*_as,
-- PUBLIC's) call it.  A token form names what it acts on by InfluxDB ID,
-- as InfluxDB's API does.  Not callable by PUBLIC.
------------------------------------------------------------------------------

-- The id of the usable token with this secret, or 28000.
CREATE FUNCTION @extschema@._actor(token text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'influx_tokens__actor'
LANGUAGE C VOLATILE;

-- May the acting token (NULL: an administrator) do action on the resource?
-- With raise, 28000 naming the permission instead of false.
CREATE FUNCTION @extschema@._authorize(actor bigint, action text, resource_type text,
    org_id bigint, bucket_id bigint, influx_id text, raise boolean DEFAULT true)
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens__authorize'
LANGUAGE C VOLATILE;

-- 42501 unless the acting token could have created the token as it stands.
CREATE FUNCTION @extschema@._authorize_state(actor bigint, token_id bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'influx_tokens__authorize_state'
LANGUAGE C VOLATILE;

-- expires_at, or 22023 if a token with this parent would outlive it.
CREATE FUNCTION @extschema@._check_lineage_expiry(parent_id bigint, expires_at timestamptz)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'influx_tokens__check_lineage_expiry'
LANGUAGE C VOLATILE;

/*
 * 28000 unless the acting token may do action on the token; returns id.
 * A token never changes itself or a token it descends from (42501): its
 * own bound would move with the change it is judged against, and the
 * change would hold the row lock of a token an administrator may need to
 * revoke at once (a revoke of the acting token never waits for it).
 */
CREATE FUNCTION @extschema@._authorize_token(actor bigint, action text, id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target record;
BEGIN
    IF actor IS NOT NULL AND action = 'write' AND id = ANY (@extschema@._lineage(actor)) THEN
        RAISE EXCEPTION 'a token may not change itself or a token it descends from'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF actor IS NOT NULL THEN
        SELECT a.org_id, a.influx_id INTO target
        FROM @extschema@._authorizations AS a WHERE a.id = _authorize_token.id;
        PERFORM @extschema@._authorize(actor, action, 'authorizations', target.org_id, NULL,
                                       target.influx_id);
    END IF;
    RETURN id;
END
$$;

-- 28000 unless the acting token may do action on the bucket; returns its org_id.
CREATE FUNCTION @extschema@._authorize_bucket(actor bigint, action text, bucket_id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target record;
BEGIN
    SELECT b.org_id, b.influx_id INTO target
    FROM @extschema@.buckets AS b WHERE b.id = _authorize_bucket.bucket_id;
    PERFORM @extschema@._authorize(actor, action, 'buckets', target.org_id, bucket_id,
                                   target.influx_id);
    RETURN target.org_id;
END
$$;

-- A token and its ancestors, nearest first (at most 65: see src/lookup.c).
CREATE FUNCTION @extschema@._lineage(id bigint)
RETURNS bigint[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE up(id, depth) AS (
        SELECT _lineage.id, 0
      UNION ALL
        SELECT t.parent_id, u.depth + 1 FROM @extschema@.tokens AS t JOIN up AS u ON t.id = u.id
        WHERE t.parent_id IS NOT NULL AND u.depth < 64
    )
    SELECT array_agg(up.id ORDER BY up.depth) FROM up
$$;

/*
 * The token, bucket or organization an InfluxDB ID names, for the acting
 * token: 42704 (not found) if there is none, or none it may read or write,
 * so that a token learns nothing of what it cannot see.  (InfluxDB answers
 * 401 for one that exists, 404 for one that does not.)
 */
CREATE FUNCTION @extschema@._token_named_by(actor bigint, id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    checked text := @extschema@._influx_id(id, 'authorization');
    named record;
BEGIN
    IF checked IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- The imported token of that ID, or the one whose id it spells; if both
    -- exist (an import chose it), neither.
    SELECT min(t.id) AS id, min(t.org_id) AS org_id, count(*) AS matches INTO named
    FROM @extschema@.tokens AS t
    WHERE t.influx_id = checked
       OR (t.influx_id IS NULL AND t.id = ('x' || checked)::bit(64)::bigint);
    IF named.matches <> 1 OR NOT (
           @extschema@._authorize(actor, 'read', 'authorizations', named.org_id, NULL, checked, false)
        OR @extschema@._authorize(actor, 'write', 'authorizations', named.org_id, NULL, checked, false)) THEN
        RAISE EXCEPTION 'authorization not found' USING ERRCODE = 'undefined_object';
    END IF;
    RETURN named.id;
END
$$;

CREATE FUNCTION @extschema@._bucket_named_by(actor bigint, id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    checked text := @extschema@._influx_id(id, 'bucket');
    named record;
BEGIN
    IF checked IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT b.id, b.org_id INTO named FROM @extschema@.buckets AS b WHERE b.influx_id = checked;
    IF named.id IS NULL OR NOT (
           @extschema@._authorize(actor, 'read', 'buckets', named.org_id, named.id, checked, false)
        OR @extschema@._authorize(actor, 'write', 'buckets', named.org_id, named.id, checked, false)) THEN
        RAISE EXCEPTION 'bucket not found' USING ERRCODE = 'undefined_object';
    END IF;
    RETURN named.id;
END
$$;

-- The organization of this InfluxDB ID, or NULL: whether the acting token
-- may act there is the operation's to ask first.
CREATE FUNCTION @extschema@._org_named_by(id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    checked text := @extschema@._influx_id(id, 'organization');
BEGIN
    IF checked IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN (SELECT o.id FROM @extschema@.orgs AS o WHERE o.influx_id = checked);
END
$$;

/*
 * Every token as InfluxDB's API shows an authorization, without its token:
 * its InfluxDB ID (the one it was imported with, else its id in 16
 * hexadecimal digits, as export_tokens has always written it), its
 * organization, and its body in the REST shape (GET /api/v2/authorizations)
 * and in influx CLI's (auth list --json).  One query for any number of
 * tokens: a column not asked for is not computed.
 */
CREATE VIEW @extschema@._authorizations AS
SELECT t.id,
       COALESCE(t.influx_id, pg_catalog.lpad(pg_catalog.to_hex(t.id), 16, '0')) AS influx_id,
       t.org_id,
       o.influx_id AS org_influx_id,
       pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
           'id', COALESCE(t.influx_id, pg_catalog.lpad(pg_catalog.to_hex(t.id), 16, '0')),
           'status', t.status,
           'description', COALESCE(t.description, ''),
           'userID', t.influx_user_id,
           'user', t.influx_user_name,
           'labels', NULLIF(ARRAY(SELECT l.label FROM @extschema@.token_labels AS l
                                  WHERE l.token_id OPERATOR(pg_catalog.=) t.id ORDER BY l.label), '{}'),
           'expiresAt', t.expires_at))
       OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
           'orgID', o.influx_id,
           'org', o.name,
           'createdAt', t.created_at,
           'updatedAt', t.updated_at,
           'permissions', COALESCE((
               SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'action', p.action,
                   'resource', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                       'type', p.resource_type,
                       'orgID', CASE WHEN NOT p.any_org AND p.resource_type OPERATOR(pg_catalog.<>) '**'
                                     THEN o.influx_id END,
                       'org', CASE WHEN NOT p.any_org AND p.resource_type OPERATOR(pg_catalog.<>) '**'
                                   THEN o.name END,
                       'id', COALESCE(p.resource_id, b.influx_id),
                       'name', b.name)))
                   ORDER BY p.id)
               FROM @extschema@.permissions AS p
               LEFT JOIN @extschema@.buckets AS b ON b.id OPERATOR(pg_catalog.=) p.bucket_id
               WHERE p.token_id OPERATOR(pg_catalog.=) t.id), '[]'))
       AS rest,
       pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
           'id', COALESCE(t.influx_id, pg_catalog.lpad(pg_catalog.to_hex(t.id), 16, '0')),
           'status', t.status,
           'description', COALESCE(t.description, ''),
           'userID', t.influx_user_id,
           'userName', t.influx_user_name,
           'labels', NULLIF(ARRAY(SELECT l.label FROM @extschema@.token_labels AS l
                                  WHERE l.token_id OPERATOR(pg_catalog.=) t.id ORDER BY l.label), '{}'),
           'expiresAt', t.expires_at))
       OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
           'permissions', ARRAY(SELECT @extschema@._permission_text(p.action, p.resource_type,
                                    p.any_org, b.name, b.influx_id, p.resource_id, o.influx_id)
                                FROM @extschema@.permissions AS p
                                LEFT JOIN @extschema@.buckets AS b ON b.id OPERATOR(pg_catalog.=) p.bucket_id
                                WHERE p.token_id OPERATOR(pg_catalog.=) t.id ORDER BY p.id))
       AS cli
FROM @extschema@.tokens AS t
JOIN @extschema@.orgs AS o ON o.id OPERATOR(pg_catalog.=) t.org_id;

COMMENT ON VIEW @extschema@._authorizations IS
'Every token as InfluxDB''s API shows an authorization, without its token: InfluxDB ID, organization, REST and CLI bodies (for the token forms, token_info and export_tokens).';

-- One token's body ('rest' or 'cli'), for token_info.
CREATE FUNCTION @extschema@._authorization_json(id bigint, shape text)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE shape WHEN 'rest' THEN a.rest ELSE a.cli END
    FROM @extschema@._authorizations AS a WHERE a.id = _authorization_json.id
$$;

-- What the token forms return: no secret, no digest.
CREATE TYPE @extschema@.token_row AS (
    id            bigint,
    influx_id     text,
    org           text,
    org_influx_id text,
    description   text,
    status        text,
    labels        text[],
    permissions   text[],
    created_at    timestamptz,
    updated_at    timestamptz,
    expires_at    timestamptz,
    parent_id     bigint,
    body          jsonb
);
CREATE TYPE @extschema@.bucket_row AS (
    id            bigint,
    influx_id     text,
    org           text,
    org_influx_id text,
    name          text,
    created_at    timestamptz
);
CREATE TYPE @extschema@.org_row AS (
    id            bigint,
    influx_id     text,
    name          text,
    created_at    timestamptz
);

-- The tokens (only_id: that one) the acting token may read, as token_list
-- shows them, with InfluxDB's body.
CREATE FUNCTION @extschema@._token_rows(actor bigint, only_id bigint)
RETURNS SETOF @extschema@.token_row
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
-- A list is a cheap query the planner costs high (a subquery per row): no JIT.
SET jit = off
AS $$
    -- Where the acting token may read every token (asked once per
    -- organization); elsewhere each token by its ID.
    WITH reach AS MATERIALIZED (
        SELECT o.id AS org_id,
               @extschema@._authorize(actor, 'read', 'authorizations', o.id, NULL, NULL, false) AS whole
        FROM @extschema@.orgs AS o)
    SELECT l.id, a.influx_id, l.org, a.org_influx_id,
           l.description, l.status, l.labels, l.permissions, l.created_at, l.updated_at,
           l.expires_at, l.parent_id, a.rest
    FROM @extschema@.token_list AS l
    JOIN @extschema@._authorizations AS a ON a.id = l.id
    JOIN reach AS r ON r.org_id = a.org_id
    WHERE (only_id IS NULL OR l.id = only_id)
      AND (r.whole OR @extschema@._authorize(actor, 'read', 'authorizations', a.org_id, NULL,
                                             a.influx_id, false))
    ORDER BY l.id
$$;

CREATE FUNCTION @extschema@._bucket_rows(actor bigint, only_id bigint)
RETURNS SETOF @extschema@.bucket_row
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
-- A list is a cheap query the planner costs high (a subquery per row): no JIT.
SET jit = off
AS $$
    WITH reach AS MATERIALIZED (
        SELECT o.id AS org_id,
               @extschema@._authorize(actor, 'read', 'buckets', o.id, NULL, NULL, false) AS whole
        FROM @extschema@.orgs AS o)
    SELECT b.id, b.influx_id, o.name, o.influx_id, b.name, b.created_at
    FROM @extschema@.buckets AS b JOIN @extschema@.orgs AS o ON o.id = b.org_id
    JOIN reach AS r ON r.org_id = o.id
    WHERE (only_id IS NULL OR b.id = only_id)
      AND (r.whole OR @extschema@._authorize(actor, 'read', 'buckets', b.org_id, b.id, b.influx_id, false))
    ORDER BY o.name, b.name
$$;

CREATE FUNCTION @extschema@._org_rows(actor bigint, only_id bigint)
RETURNS SETOF @extschema@.org_row
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT o.id, o.influx_id, o.name, o.created_at
    FROM @extschema@.orgs AS o
    WHERE (only_id IS NULL OR o.id = only_id)
      AND @extschema@._authorize(actor, 'read', 'orgs', o.id, NULL, o.influx_id, false)
    ORDER BY o.name
$$;

------------------------------------------------------------------------------
-- The bodies of the management operations, for both forms.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@._create_bucket(actor bigint, org_id bigint, name text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    org_name text;
    new_name text;
    new_id bigint;
BEGIN
    PERFORM @extschema@._authorize(actor, 'write', 'buckets', org_id, NULL, NULL);
    SELECT o.name INTO org_name FROM @extschema@.orgs AS o WHERE o.id = _create_bucket.org_id;
    IF org_name IS NULL THEN
        RAISE EXCEPTION 'organization not found' USING ERRCODE = 'undefined_object';
    END IF;
    new_name := @extschema@._check_name('bucket', name);
    IF EXISTS (SELECT FROM @extschema@.buckets AS b
               WHERE b.org_id = _create_bucket.org_id AND b.name = new_name) THEN
        RAISE EXCEPTION 'bucket "%" already exists in organization "%"',
            @extschema@._for_message(new_name), @extschema@._for_message(org_name)
            USING ERRCODE = 'unique_violation';
    END IF;
    INSERT INTO @extschema@.buckets (org_id, name) VALUES (_create_bucket.org_id, new_name)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

CREATE FUNCTION @extschema@._rename_bucket(actor bigint, bucket_id bigint, new_name text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target record;
    checked_name text;
BEGIN
    PERFORM @extschema@._authorize_bucket(actor, 'write', bucket_id);
    checked_name := @extschema@._check_name('bucket', new_name);
    SELECT b.org_id, b.name, o.name AS org_name INTO target
    FROM @extschema@.buckets AS b JOIN @extschema@.orgs AS o ON o.id = b.org_id
    WHERE b.id = _rename_bucket.bucket_id;
    IF checked_name <> target.name THEN
        IF EXISTS (SELECT FROM @extschema@.buckets AS b
                   WHERE b.org_id = target.org_id AND b.name = checked_name) THEN
            RAISE EXCEPTION 'bucket "%" already exists in organization "%"',
                @extschema@._for_message(checked_name), @extschema@._for_message(target.org_name)
                USING ERRCODE = 'unique_violation';
        END IF;
        UPDATE @extschema@.buckets AS b SET name = checked_name WHERE b.id = _rename_bucket.bucket_id;
    END IF;
    RETURN bucket_id;
END
$$;

CREATE FUNCTION @extschema@._drop_bucket(actor bigint, bucket_id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._authorize_bucket(actor, 'write', bucket_id);
    -- The bucket first: its lock orders this drop with the commit check of
    -- a transaction granting it (src/commit_check.c).
    DELETE FROM @extschema@.buckets AS b WHERE b.id = _drop_bucket.bucket_id;
    -- The tokens holding its grants before the grants, in id order: the
    -- grants' trigger locks them (FOR KEY SHARE, see src/lookup.c), and
    -- delete_token locks its token before its grants go.
    PERFORM FROM @extschema@.tokens AS t
    WHERE t.id IN (SELECT p.token_id FROM @extschema@.permissions AS p
                   WHERE p.bucket_id = _drop_bucket.bucket_id)
    ORDER BY t.id FOR KEY SHARE;
    DELETE FROM @extschema@.permissions AS p WHERE p.bucket_id = _drop_bucket.bucket_id;
    RETURN bucket_id;
END
$$;

CREATE FUNCTION @extschema@._revoke_token(actor bigint, id bigint, cascade boolean)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked_id bigint := @extschema@._lock_token(id);
BEGIN
    IF cascade IS NULL THEN
        RAISE EXCEPTION 'cascade must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM @extschema@._authorize_token(actor, 'write', locked_id);
    RETURN @extschema@._set_token_status(locked_id, 'inactive', cascade);
END
$$;

-- A token may reactivate only a token it could have created as it stands.
CREATE FUNCTION @extschema@._activate_token(actor bigint, id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked_id bigint := @extschema@._lock_token(id);
BEGIN
    PERFORM @extschema@._authorize_token(actor, 'write', locked_id);
    PERFORM @extschema@._authorize_state(actor, locked_id);
    RETURN @extschema@._set_token_status(locked_id, 'active', false);
END
$$;

CREATE FUNCTION @extschema@._delete_token(actor bigint, id bigint, cascade boolean)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked_id bigint := @extschema@._lock_token(id);
    deleted bigint;
BEGIN
    IF cascade IS NULL THEN
        RAISE EXCEPTION 'cascade must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM @extschema@._authorize_token(actor, 'write', locked_id);
    DELETE FROM @extschema@.tokens AS t
    WHERE t.id IN (SELECT @extschema@._token_and_descendants(locked_id, cascade));
    GET DIAGNOSTICS deleted = ROW_COUNT;
    -- The children it keeps stop working, as children of a deleted token
    -- do at any check (src/lookup.c): revoked, they lose their parent.
    UPDATE @extschema@.tokens AS t SET parent_id = NULL, status = 'inactive', updated_at = now()
    WHERE t.parent_id = locked_id;
    RETURN deleted;
END
$$;

CREATE FUNCTION @extschema@._set_token_expiry(actor bigint, id bigint, expires_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked_id bigint := @extschema@._lock_token(id);
    new_expiry timestamptz;
BEGIN
    PERFORM @extschema@._authorize_token(actor, 'write', locked_id);
    new_expiry := @extschema@._check_lineage_expiry(
        (SELECT t.parent_id FROM @extschema@.tokens AS t WHERE t.id = locked_id),
        @extschema@._check_expiry(expires_at));
    UPDATE @extschema@.tokens AS t SET expires_at = new_expiry, updated_at = now()
    WHERE t.id = locked_id;
    PERFORM @extschema@._authorize_state(actor, locked_id);
    RETURN locked_id;
END
$$;

CREATE FUNCTION @extschema@._set_token_description(actor bigint, id bigint, description text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked_id bigint := @extschema@._lock_token(id);
    new_description text;
BEGIN
    PERFORM @extschema@._authorize_token(actor, 'write', locked_id);
    new_description := @extschema@._check_description(description);
    UPDATE @extschema@.tokens AS t SET description = new_description, updated_at = now()
    WHERE t.id = locked_id;
    RETURN locked_id;
END
$$;

CREATE FUNCTION @extschema@._add_token_labels(actor bigint, id bigint, labels text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked_id bigint := @extschema@._lock_token(id);
    new_labels text[];
BEGIN
    PERFORM @extschema@._authorize_token(actor, 'write', locked_id);
    IF labels IS NULL THEN
        RAISE EXCEPTION 'labels must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    new_labels := @extschema@._check_labels(labels);
    INSERT INTO @extschema@.token_labels (token_id, label)
    SELECT locked_id, l FROM unnest(new_labels) AS l
    ON CONFLICT DO NOTHING;
    UPDATE @extschema@.tokens AS t SET updated_at = now() WHERE t.id = locked_id;
    RETURN locked_id;
END
$$;

CREATE FUNCTION @extschema@._remove_token_labels(actor bigint, id bigint, labels text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked_id bigint := @extschema@._lock_token(id);
    old_labels text[];
BEGIN
    PERFORM @extschema@._authorize_token(actor, 'write', locked_id);
    IF labels IS NULL THEN
        RAISE EXCEPTION 'labels must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    old_labels := @extschema@._check_labels(labels);
    DELETE FROM @extschema@.token_labels AS l
    WHERE l.token_id = locked_id AND l.label = ANY (old_labels);
    UPDATE @extschema@.tokens AS t SET updated_at = now() WHERE t.id = locked_id;
    RETURN locked_id;
END
$$;

CREATE FUNCTION @extschema@._set_token_permissions(actor bigint, id bigint, permissions text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked_id bigint := @extschema@._lock_token(id);
    token_org record;
    grants @extschema@.resolved_grant[];
BEGIN
    PERFORM @extschema@._authorize_token(actor, 'write', locked_id);
    SELECT o.id, o.name INTO token_org
    FROM @extschema@.tokens AS t JOIN @extschema@.orgs AS o ON o.id = t.org_id
    WHERE t.id = locked_id;
    grants := @extschema@._resolve_permissions(token_org.id, token_org.name, permissions);
    DELETE FROM @extschema@.permissions AS p WHERE p.token_id = locked_id;
    INSERT INTO @extschema@.permissions (token_id, action, resource_type, bucket_id, resource_id, any_org)
    SELECT locked_id, g.action, g.resource_type, g.bucket_id, g.resource_id, g.any_org
    FROM unnest(grants) AS g;
    UPDATE @extschema@.tokens AS t SET updated_at = now() WHERE t.id = locked_id;
    PERFORM @extschema@._authorize_state(actor, locked_id);
    RETURN @extschema@._recheck_at_commit(locked_id);
END
$$;

-- The acting token is handed the new secret: it must have created the
-- token (directly or not), and hold what the token holds.
CREATE FUNCTION @extschema@._rotate_token(actor bigint, token_id bigint, grace interval,
    OUT id bigint, OUT token text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked_id bigint := @extschema@._lock_token(token_id);
    new_digest bytea;
BEGIN
    PERFORM @extschema@._authorize_token(actor, 'write', locked_id);
    IF grace IS NULL THEN
        RAISE EXCEPTION 'grace must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF grace < interval '0' THEN
        RAISE EXCEPTION 'grace period % is negative', grace
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF actor IS NOT NULL AND NOT actor = ANY (@extschema@._lineage(locked_id)) THEN
        RAISE EXCEPTION 'a token may rotate only the tokens it created'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Rotating hands the acting token the new secret; one it created stays bounded by it.';
    END IF;
    PERFORM @extschema@._authorize_state(actor, locked_id);
    token := @extschema@._generate_token();
    new_digest := @extschema@._token_digest(token);
    UPDATE @extschema@.tokens AS t
    SET previous_digest = CASE WHEN grace > interval '0' THEN t.digest END,
        previous_valid_until = CASE WHEN grace > interval '0' THEN clock_timestamp() + grace END,
        digest = new_digest,
        updated_at = now()
    WHERE t.id = locked_id;
    id := locked_id;
END
$$;

------------------------------------------------------------------------------
-- Managing tokens with a token: the token forms.  PUBLIC: the token is the
-- credential, InfluxDB's authorizer rules decide (see README).  The token's
-- text goes only into _actor, by a simple assignment.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.list_tokens_as(actor_token text)
RETURNS SETOF @extschema@.token_row
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN QUERY SELECT * FROM @extschema@._token_rows(actor, NULL);
END
$$;

CREATE FUNCTION @extschema@.find_token_as(actor_token text, id text)
RETURNS @extschema@.token_row
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
    target_id bigint := @extschema@._token_named_by(actor, id);
    found @extschema@.token_row;
BEGIN
    SELECT * INTO found FROM @extschema@._token_rows(actor, target_id);
    IF found.id IS NULL THEN
        PERFORM @extschema@._authorize_token(actor, 'read', target_id);
    END IF;
    RETURN found;
END
$$;

CREATE FUNCTION @extschema@.revoke_token_as(actor_token text, id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN @extschema@._revoke_token(actor, @extschema@._token_named_by(actor, id), false);
END
$$;

CREATE FUNCTION @extschema@.activate_token_as(actor_token text, id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN @extschema@._activate_token(actor, @extschema@._token_named_by(actor, id));
END
$$;

-- Deletes the token and every token it created (they could not work again).
CREATE FUNCTION @extschema@.delete_token_as(actor_token text, id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN @extschema@._delete_token(actor, @extschema@._token_named_by(actor, id), true);
END
$$;

CREATE FUNCTION @extschema@.set_token_description_as(actor_token text, id text, description text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN @extschema@._set_token_description(actor, @extschema@._token_named_by(actor, id), description);
END
$$;

CREATE FUNCTION @extschema@.set_token_expiry_as(actor_token text, id text, expires_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN @extschema@._set_token_expiry(actor, @extschema@._token_named_by(actor, id), expires_at);
END
$$;

CREATE FUNCTION @extschema@.add_token_labels_as(actor_token text, id text, labels text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN @extschema@._add_token_labels(actor, @extschema@._token_named_by(actor, id), labels);
END
$$;

CREATE FUNCTION @extschema@.remove_token_labels_as(actor_token text, id text, labels text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN @extschema@._remove_token_labels(actor, @extschema@._token_named_by(actor, id), labels);
END
$$;

CREATE FUNCTION @extschema@.set_token_permissions_as(actor_token text, id text, permissions text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN @extschema@._set_token_permissions(actor, @extschema@._token_named_by(actor, id), permissions);
END
$$;

CREATE FUNCTION @extschema@.rotate_token_as(actor_token text, id text, grace interval DEFAULT '0')
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
    target_id bigint := @extschema@._token_named_by(actor, id);
    rotated record;
BEGIN
    SELECT r.token INTO rotated FROM @extschema@._rotate_token(actor, target_id, grace) AS r;
    RETURN rotated.token;
END
$$;

CREATE FUNCTION @extschema@.list_buckets_as(actor_token text)
RETURNS SETOF @extschema@.bucket_row
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN QUERY SELECT * FROM @extschema@._bucket_rows(actor, NULL);
END
$$;

CREATE FUNCTION @extschema@.find_bucket_as(actor_token text, id text)
RETURNS @extschema@.bucket_row
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
    target_id bigint := @extschema@._bucket_named_by(actor, id);
    found @extschema@.bucket_row;
BEGIN
    SELECT * INTO found FROM @extschema@._bucket_rows(actor, target_id);
    IF found.id IS NULL THEN
        PERFORM @extschema@._authorize_bucket(actor, 'read', target_id);
    END IF;
    RETURN found;
END
$$;

-- Creates a bucket in the organization of this InfluxDB ID; returns it.
CREATE FUNCTION @extschema@.create_bucket_as(actor_token text, org_id text, name text)
RETURNS @extschema@.bucket_row
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
    new_id bigint := @extschema@._create_bucket(actor, @extschema@._org_named_by(org_id), name);
    created @extschema@.bucket_row;
BEGIN
    SELECT * INTO created FROM @extschema@._bucket_rows(NULL, new_id);
    RETURN created;
END
$$;

CREATE FUNCTION @extschema@.rename_bucket_as(actor_token text, id text, new_name text)
RETURNS @extschema@.bucket_row
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
    renamed_id bigint := @extschema@._rename_bucket(actor, @extschema@._bucket_named_by(actor, id), new_name);
    renamed @extschema@.bucket_row;
BEGIN
    SELECT * INTO renamed FROM @extschema@._bucket_rows(NULL, renamed_id);
    RETURN renamed;
END
$$;

CREATE FUNCTION @extschema@.drop_bucket_as(actor_token text, id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN @extschema@._drop_bucket(actor, @extschema@._bucket_named_by(actor, id));
END
$$;

CREATE FUNCTION @extschema@.list_orgs_as(actor_token text)
RETURNS SETOF @extschema@.org_row
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
BEGIN
    RETURN QUERY SELECT * FROM @extschema@._org_rows(actor, NULL);
END
$$;

-- Reading an organization is asked before finding it, as InfluxDB does.
CREATE FUNCTION @extschema@.find_org_as(actor_token text, id text)
RETURNS @extschema@.org_row
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor bigint := @extschema@._actor(actor_token);
    checked text := @extschema@._influx_id(id, 'organization');
    target_id bigint;
    found @extschema@.org_row;
BEGIN
    target_id := @extschema@._org_named_by(checked);
    PERFORM @extschema@._authorize(actor, 'read', 'orgs', target_id, NULL, checked);
    IF target_id IS NULL THEN
        RAISE EXCEPTION 'organization not found' USING ERRCODE = 'undefined_object';
    END IF;
    SELECT * INTO found FROM @extschema@._org_rows(actor, target_id);
    RETURN found;
END
$$;

COMMENT ON FUNCTION @extschema@.list_tokens_as(text) IS
'Every token the acting token may read (read:authorizations), with InfluxDB''s authorization body; never a secret or digest (PUBLIC).';
COMMENT ON FUNCTION @extschema@.find_token_as(text, text) IS
'The token of this InfluxDB ID, if the acting token may read it (PUBLIC).';
COMMENT ON FUNCTION @extschema@.revoke_token_as(text, text) IS
'The acting token (write:authorizations) makes a token inactive; what it created stops working meanwhile (PUBLIC).';
COMMENT ON FUNCTION @extschema@.activate_token_as(text, text) IS
'The acting token (write:authorizations) reactivates a token holding no more than itself (PUBLIC).';
COMMENT ON FUNCTION @extschema@.delete_token_as(text, text) IS
'The acting token (write:authorizations) deletes a token and every token it created; returns how many (PUBLIC).';
COMMENT ON FUNCTION @extschema@.set_token_description_as(text, text, text) IS
'The acting token (write:authorizations) sets a token''s description (PUBLIC).';
COMMENT ON FUNCTION @extschema@.set_token_expiry_as(text, text, timestamptz) IS
'The acting token (write:authorizations) sets a token''s expiry, no later than its own or the token''s parent''s (PUBLIC).';
COMMENT ON FUNCTION @extschema@.add_token_labels_as(text, text, text[]) IS
'The acting token (write:authorizations) adds labels to a token (PUBLIC).';
COMMENT ON FUNCTION @extschema@.remove_token_labels_as(text, text, text[]) IS
'The acting token (write:authorizations) removes labels from a token (PUBLIC).';
COMMENT ON FUNCTION @extschema@.set_token_permissions_as(text, text, text[]) IS
'The acting token (write:authorizations) replaces a token''s permissions with ones it holds itself (PUBLIC).';
COMMENT ON FUNCTION @extschema@.rotate_token_as(text, text, interval) IS
'The acting token (write:authorizations) gives a token holding no more than itself a new secret; returns it (PUBLIC).';
COMMENT ON FUNCTION @extschema@.list_buckets_as(text) IS
'Every bucket the acting token may read (PUBLIC).';
COMMENT ON FUNCTION @extschema@.find_bucket_as(text, text) IS
'The bucket of this InfluxDB ID, if the acting token may read it (PUBLIC).';
COMMENT ON FUNCTION @extschema@.create_bucket_as(text, text, text) IS
'The acting token (write on the organization''s buckets) creates a bucket in the organization of this InfluxDB ID; returns it (PUBLIC).';
COMMENT ON FUNCTION @extschema@.rename_bucket_as(text, text, text) IS
'The acting token (write on the bucket) renames it; grants follow; returns it (PUBLIC).';
COMMENT ON FUNCTION @extschema@.drop_bucket_as(text, text) IS
'The acting token (write on the bucket) drops it and every grant on it (PUBLIC).';
COMMENT ON FUNCTION @extschema@.list_orgs_as(text) IS
'Every organization the acting token may read (read:orgs) (PUBLIC).';
COMMENT ON FUNCTION @extschema@.find_org_as(text, text) IS
'The organization of this InfluxDB ID, if the acting token may read it (PUBLIC).';

------------------------------------------------------------------------------
-- Checks (src/sql_api.c).  Never NULL; see README for the rules.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.token_check(token text, action text, bucket text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens_token_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- May the token perform action on the bucket of the named organization?
-- Only '**' and grants without an organization ('read:/buckets', a bucket
-- by ID without one) reach an organization not the token's own.
CREATE FUNCTION @extschema@.token_check(token text, action text, org text, bucket text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens_token_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.token_allows(token text, permission text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens_token_allows'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- This backend's token cache: size, memory, hits and misses.  No secrets.
CREATE FUNCTION @extschema@.cache_stats(
    OUT capacity integer, OUT tokens bigint, OUT buckets bigint, OUT memory_bytes bigint,
    OUT hits bigint, OUT misses bigint, OUT evictions bigint, OUT invalidations bigint)
AS 'MODULE_PATHNAME', 'influx_tokens_cache_stats'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.shared_cache_stats(
    OUT capacity integer, OUT tokens bigint, OUT max_grants integer,
    OUT memory_bytes bigint, OUT bytes_per_token bigint,
    OUT hits bigint, OUT misses bigint, OUT stores bigint, OUT evictions bigint,
    OUT removals bigint, OUT flushes bigint, OUT changes bigint)
AS 'MODULE_PATHNAME', 'influx_tokens_shared_cache_stats'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION @extschema@.token_check(text, text, text) IS
'May the token read or write the named bucket of its organization? Never NULL (PUBLIC).';
COMMENT ON FUNCTION @extschema@.token_check(text, text, text, text) IS
'May the token read or write the named bucket of the named organization? Never NULL (PUBLIC).';
COMMENT ON FUNCTION @extschema@.token_allows(text, text) IS
'Does the token hold the permission, e.g. ''read:orgs'' or ''write:buckets/metrics''? Never NULL (PUBLIC).';
COMMENT ON FUNCTION @extschema@.shared_cache_stats() IS
'The token cache all backends share (NULL when the library is not preloaded): capacity, entries, memory, counters.';
COMMENT ON FUNCTION @extschema@.cache_stats() IS
'This backend''s token cache: capacity, entries, memory, hits, misses, evictions, invalidations.';

------------------------------------------------------------------------------
-- The transaction's current token, for row-level security policies
-- (src/identity.c).  PUBLIC: the token is the credential.
------------------------------------------------------------------------------

-- Verifies a token and makes it the current token until the transaction
-- ends, or a savepoint taken before the call is rolled back; says whether
-- it is usable.  A token that is not usable leaves no token current.
CREATE FUNCTION @extschema@.authenticate(token text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens_authenticate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- What policies ask.  PARALLEL UNSAFE: the current token is this
-- backend's, not a parallel worker's, and a lookup reads the latest
-- committed state, which parallel mode does not allow (as for
-- token_check).  False or NULL when no token is current; never a token's
-- text or digest.
CREATE FUNCTION @extschema@.current_token_check(action text, bucket text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens_current_token_check'
LANGUAGE C STABLE PARALLEL UNSAFE;

-- The same for a bucket of the named organization: only '**' and grants
-- without an organization reach one not the token's own.
CREATE FUNCTION @extschema@.current_token_check(action text, org text, bucket text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens_current_token_check'
LANGUAGE C STABLE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.current_token_allows(permission text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'influx_tokens_current_token_allows'
LANGUAGE C STABLE PARALLEL UNSAFE;

-- The names of the buckets the current token may read or write, for a
-- policy evaluated once per statement (and matched with an index):
-- bucket = ANY ((SELECT influx_tokens.current_token_buckets('read'))::text[]).
CREATE FUNCTION @extschema@.current_token_buckets(action text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'influx_tokens_current_token_buckets'
LANGUAGE C STABLE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.current_token_id()
RETURNS bigint
AS 'MODULE_PATHNAME', 'influx_tokens_current_token_id'
LANGUAGE C STABLE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.current_token_org()
RETURNS text
AS 'MODULE_PATHNAME', 'influx_tokens_current_token_org'
LANGUAGE C STABLE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.authenticate(text) IS
'Makes a usable token the current token until the transaction ends (PUBLIC); says whether it is usable.';
COMMENT ON FUNCTION @extschema@.current_token_check(text, text) IS
'May the current token read or write the named bucket? False without a current token (PUBLIC; for policies).';
COMMENT ON FUNCTION @extschema@.current_token_check(text, text, text) IS
'May the current token read or write the named bucket of the named organization? False without a current token (PUBLIC; for policies).';
COMMENT ON FUNCTION @extschema@.current_token_allows(text) IS
'Does the current token hold the permission? False without a current token (PUBLIC; for policies).';
COMMENT ON FUNCTION @extschema@.current_token_buckets(text) IS
'The names of the buckets of its organization the current token may read or write; empty without one (PUBLIC; for policies).';
COMMENT ON FUNCTION @extschema@.current_token_id() IS
'The current token''s id, NULL without one (PUBLIC; for policies).';
COMMENT ON FUNCTION @extschema@.current_token_org() IS
'The name of the current token''s organization, NULL without one (PUBLIC; for policies).';

------------------------------------------------------------------------------
-- Privileges: PUBLIC may check tokens, read its own token's row and manage
-- by token (the *_as functions); nothing else.  Default privileges of the installing
-- role (ALTER DEFAULT PRIVILEGES) are taken back from every grantee first.
------------------------------------------------------------------------------

DO $$
DECLARE
    object record;
BEGIN
    FOR object IN
        SELECT pg_catalog.format('%s %s', CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                                 c.oid::pg_catalog.regclass) AS target, a.grantee
        FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS a
        WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
          AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
        UNION
        SELECT pg_catalog.format('FUNCTION %s', p.oid::pg_catalog.regprocedure), a.grantee
        FROM pg_catalog.pg_proc AS p, pg_catalog.aclexplode(p.proacl) AS a
        WHERE p.pronamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
          AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
        UNION
        SELECT 'SCHEMA @extschema@', a.grantee
        FROM pg_catalog.pg_namespace AS n, pg_catalog.aclexplode(n.nspacl) AS a
        WHERE n.oid OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
          AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
        UNION
        SELECT pg_catalog.format('TYPE %s', t.oid::pg_catalog.regtype), a.grantee
        FROM pg_catalog.pg_type AS t, pg_catalog.aclexplode(t.typacl) AS a
        WHERE t.typnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
          AND a.grantee OPERATOR(pg_catalog.<>) t.typowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %s', object.target,
                                  CASE WHEN object.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                                       ELSE pg_catalog.quote_ident(object.grantee::pg_catalog.regrole::text) END);
    END LOOP;
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
GRANT EXECUTE ON FUNCTION
    @extschema@.token_check(text, text, text),
    @extschema@.token_check(text, text, text, text),
    @extschema@.token_allows(text, text),
    @extschema@.token_info(text),
    @extschema@.create_token_as(text, text[], text, text[], timestamptz),
    @extschema@.create_token_as_with_id(text, text[], text, text[], timestamptz),
    @extschema@.authenticate(text),
    @extschema@.current_token_check(text, text),
    @extschema@.current_token_check(text, text, text),
    @extschema@.current_token_allows(text),
    @extschema@.current_token_buckets(text),
    @extschema@.current_token_id(),
    @extschema@.current_token_org(),
    @extschema@.permission_matches(text, text),
    @extschema@._permission_text(text, text, boolean, text, text, text, text),
    @extschema@.list_tokens_as(text),
    @extschema@.find_token_as(text, text),
    @extschema@.revoke_token_as(text, text),
    @extschema@.activate_token_as(text, text),
    @extschema@.delete_token_as(text, text),
    @extschema@.set_token_description_as(text, text, text),
    @extschema@.set_token_expiry_as(text, text, timestamptz),
    @extschema@.add_token_labels_as(text, text, text[]),
    @extschema@.remove_token_labels_as(text, text, text[]),
    @extschema@.set_token_permissions_as(text, text, text[]),
    @extschema@.rotate_token_as(text, text, interval),
    @extschema@.list_buckets_as(text),
    @extschema@.find_bucket_as(text, text),
    @extschema@.create_bucket_as(text, text, text),
    @extschema@.rename_bucket_as(text, text, text),
    @extschema@.drop_bucket_as(text, text),
    @extschema@.list_orgs_as(text),
    @extschema@.find_org_as(text, text)
TO PUBLIC;
