-- Managing tokens with a token: the token forms (*_as), callable by PUBLIC,
-- decided by InfluxDB's authorizer rules, and delegation held over time.
\i test/regress_preamble.psql
CREATE ROLE regress_mbt_public;  -- holds only what PUBLIC holds
SELECT influx_tokens.create_org('mbt_org') > 0, influx_tokens.create_org('mbt_other') > 0;
SELECT influx_tokens.create_bucket('mbt_org', 'a') > 0, influx_tokens.create_bucket('mbt_org', 'b') > 0,
       influx_tokens.create_bucket('mbt_other', 'c') > 0;
SELECT influx_id AS org_iid FROM influx_tokens.org_list WHERE name = 'mbt_org' \gset
SELECT influx_id AS other_iid FROM influx_tokens.org_list WHERE name = 'mbt_other' \gset
SELECT influx_id AS a_iid FROM influx_tokens.bucket_list WHERE org = 'mbt_org' AND name = 'a' \gset
SELECT influx_id AS b_iid FROM influx_tokens.bucket_list WHERE org = 'mbt_org' AND name = 'b' \gset
SELECT influx_id AS c_iid FROM influx_tokens.bucket_list WHERE org = 'mbt_other' AND name = 'c' \gset
SELECT influx_tokens.create_token('mbt_org', '{read:authorizations,write:authorizations,read:buckets,write:buckets,read:orgs}',
                                  'service') AS service \gset
SELECT influx_tokens.create_token('mbt_org', '{read:authorizations}', 'auditor') AS auditor \gset
SELECT influx_tokens.create_token('mbt_org', '{write:authorizations}', 'write-only') AS write_only \gset
SELECT influx_tokens.create_token('mbt_org', '{write:buckets/a,read:buckets/a}', 'writer') AS writer \gset
SELECT influx_tokens.create_token('mbt_org', '{read:buckets/b}', 'reader of b') AS reader_b \gset
SELECT influx_tokens.create_token('mbt_org', '{read:authorizations,write:authorizations,write:buckets/a}',
                                  'delegate', expires_at => now() + interval '1 day') AS delegate \gset
SELECT influx_tokens.create_token('mbt_other', '{read:**,write:**}', 'operator') AS operator \gset
SELECT influx_tokens.create_token('mbt_other', '{write:buckets/c}', 'other writer') AS other_writer \gset
-- A token's InfluxDB ID: 16 hexadecimal digits of its id (or the one it was imported with).
CREATE FUNCTION pg_temp.iid(token text) RETURNS text LANGUAGE sql
AS $$ SELECT lpad(to_hex(id), 16, '0') FROM influx_tokens.token_info(token) $$;
SELECT pg_temp.iid(:'writer') AS writer_iid, pg_temp.iid(:'other_writer') AS other_writer_iid,
       pg_temp.iid(:'service') AS service_iid \gset
-- Errors without the random InfluxDB IDs and token ids they name.
CREATE FUNCTION pg_temp.err(statement text) RETURNS text LANGUAGE sql
AS $$ SELECT regexp_replace(regexp_replace(error_of(statement), '[0-9a-f]{16}', '<id>', 'g'),
                            'token [0-9]+ ', 'token <n> ') $$;
GRANT EXECUTE ON FUNCTION pg_temp.iid(text), pg_temp.err(text) TO regress_mbt_public;
SET ROLE regress_mbt_public;

-- Reading: read:authorizations in the token's organization, and only there;
-- "**" reaches every organization.  No secret, no digest, ever.
SELECT description, status, permissions FROM influx_tokens.list_tokens_as(:'service') ORDER BY id;
SELECT count(*) AS auditor_sees FROM influx_tokens.list_tokens_as(:'auditor');
SELECT count(*) AS writer_sees FROM influx_tokens.list_tokens_as(:'writer');
SELECT org, count(*) FROM influx_tokens.list_tokens_as(:'operator') WHERE org LIKE 'mbt%' GROUP BY org ORDER BY org;
SELECT bool_and(NOT (body ? 'token')) AS no_token_field,
       bool_and(body->>'orgID' = :'org_iid') AS org_ids,
       bool_and(body::text NOT LIKE '%ixt_%') AS no_secret
FROM influx_tokens.list_tokens_as(:'service');
SELECT description, body->'permissions' = jsonb_build_array(
           jsonb_build_object('action', 'write', 'resource', jsonb_build_object('type', 'buckets', 'id', :'a_iid', 'name', 'a', 'orgID', :'org_iid', 'org', 'mbt_org')),
           jsonb_build_object('action', 'read', 'resource', jsonb_build_object('type', 'buckets', 'id', :'a_iid', 'name', 'a', 'orgID', :'org_iid', 'org', 'mbt_org')))
       AS influxdb_permissions
FROM influx_tokens.find_token_as(:'service', :'writer_iid');
SELECT pg_temp.err(format('SELECT influx_tokens.find_token_as(%L, %L)', :'service', :'other_writer_iid')) AS other_org;
SELECT pg_temp.err(format('SELECT influx_tokens.find_token_as(%L, %L)', :'service', 'ffffffffffffff00')) AS unknown;
SELECT pg_temp.err(format('SELECT influx_tokens.find_token_as(%L, %L)', :'write_only', :'writer_iid')) AS write_only;
SELECT pg_temp.err(format('SELECT influx_tokens.find_token_as(%L, %L)', :'service', 'not an id')) AS malformed;
SELECT error_of(format('SELECT influx_tokens.find_token_as(%L, %L)', :'service', :'writer')) NOT LIKE '%' || substr(:'writer', 5, 12) || '%'
       AS a_token_passed_as_id_is_not_quoted;

-- An InfluxDB ID an import gave one token while it spells another's id
-- names neither.
RESET ROLE;
SELECT influx_tokens.import_influxdb2(jsonb_build_array(jsonb_build_object(
           'id', :'writer_iid', 'orgID', :'org_iid', 'token', 'imported-' || md5(random()::text),
           'permissions', jsonb_build_array('read:orgs/' || :'org_iid' || '/buckets'))), org => 'mbt_org') AS imported;
SET ROLE regress_mbt_public;
SELECT pg_temp.err(format('SELECT influx_tokens.find_token_as(%L, %L)', :'service', :'writer_iid')) AS ambiguous;
SELECT pg_temp.err(format('SELECT influx_tokens.revoke_token_as(%L, %L)', :'service', :'writer_iid')) AS ambiguous_revoke;
RESET ROLE;
SELECT influx_tokens.delete_token(id) AS collider_deleted FROM influx_tokens.token_list WHERE influx_id = :'writer_iid';
SET ROLE regress_mbt_public;
SELECT description FROM influx_tokens.find_token_as(:'service', :'writer_iid') AS unambiguous_again;

-- Who may act at all: a usable token; anything else is 28000 and changes nothing.
SELECT pg_temp.err(format('SELECT influx_tokens.revoke_token_as(%L, %L)', 'ixt_garbage', :'writer_iid')) AS garbage;
SELECT pg_temp.err(format('SELECT influx_tokens.revoke_token_as(NULL, %L)', :'writer_iid')) AS no_token;
SELECT pg_temp.err(format('SELECT influx_tokens.revoke_token_as(%L, %L)', :'auditor', :'writer_iid')) AS read_only;
SELECT pg_temp.err(format('SELECT influx_tokens.revoke_token_as(%L, %L)', :'writer', :'writer_iid')) AS cannot_see;
SELECT pg_temp.err(format('SELECT influx_tokens.revoke_token_as(%L, NULL)', :'service')) AS null_id;
SELECT influx_tokens.token_check(:'writer', 'write', 'a') AS writer_untouched;

-- Changing: write:authorizations.  Revoking, describing and labelling take
-- nothing else; every change is the administrator form's body.
SELECT influx_tokens.revoke_token_as(:'service', :'writer_iid') AS revoked;
SELECT influx_tokens.token_check(:'writer', 'write', 'a') AS writer_after_revoke;
SELECT influx_tokens.activate_token_as(:'service', :'writer_iid') AS reactivated;
SELECT influx_tokens.set_token_description_as(:'write_only', :'writer_iid', 'renamed by token') > 0 AS described;
SELECT influx_tokens.add_token_labels_as(:'service', :'writer_iid', '{fleet:a,device}') > 0 AS labelled;
SELECT influx_tokens.remove_token_labels_as(:'service', :'writer_iid', '{device}') > 0 AS unlabelled;
SELECT description, labels FROM influx_tokens.find_token_as(:'service', :'writer_iid');
SELECT influx_tokens.set_token_expiry_as(:'service', :'writer_iid', now() + interval '1 hour') > 0 AS expiry_set;
SELECT influx_tokens.set_token_permissions_as(:'service', :'writer_iid', '{write:buckets/a,write:buckets/b}') > 0 AS widened_within_service;
SELECT influx_tokens.token_check(:'writer', 'write', 'b') AS writer_writes_b, influx_tokens.token_check(:'writer', 'read', 'a') AS writer_no_longer_reads_a;
-- Rotating hands the acting token the new secret: only its own, or one of
-- a token it created (which stays bounded by it).
SELECT pg_temp.err(format('SELECT influx_tokens.rotate_token_as(%L, %L)', :'service', :'writer_iid')) AS rotate_unrelated;
SELECT influx_tokens.create_token_as(:'service', '{write:authorizations,write:buckets/a}', 'made by service') AS made \gset
SELECT pg_temp.iid(:'made') AS made_iid \gset
SELECT influx_tokens.rotate_token_as(:'service', :'made_iid') AS made \gset
SELECT influx_tokens.token_check(:'made', 'write', 'a') AS rotated_secret_works;
-- A token changes neither itself nor a token it descends from: its bound
-- would move with the change, and its holder would hold the row lock an
-- administrator's revoke of it needs.
SELECT pg_temp.err(format('SELECT influx_tokens.rotate_token_as(%L, %L)', :'made', :'made_iid')) AS rotate_itself;
SELECT pg_temp.err(format('SELECT influx_tokens.revoke_token_as(%L, %L)', :'made', :'made_iid')) AS revoke_itself;
SELECT pg_temp.err(format('SELECT influx_tokens.rotate_token_as(%L, %L)', :'made', :'service_iid')) AS rotate_its_parent;
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_description_as(%L, %L, %L)', :'made', :'service_iid', 'mine')) AS describe_its_parent;
SELECT influx_tokens.token_check(:'made', 'write', 'a') AS made_untouched;
-- A grant on one authorization by ID reaches that one only.
RESET ROLE;
SELECT influx_tokens.create_token('mbt_org', ARRAY['write:authorizations/' || :'writer_iid'], 'one-token manager') AS one_manager \gset
SET ROLE regress_mbt_public;
SELECT influx_tokens.revoke_token_as(:'one_manager', :'writer_iid') AS revoked_by_id_grant;
SELECT pg_temp.err(format('SELECT influx_tokens.revoke_token_as(%L, %L)', :'one_manager', :'service_iid')) AS another_one;
SELECT influx_tokens.activate_token_as(:'service', :'writer_iid') AS reactivated_again;

-- No escalation: a token never leaves another with more than it holds.
-- The delegate holds write:buckets/a and expires in a day.
RESET ROLE;
SELECT influx_tokens.create_token('mbt_org', '{write:buckets}', 'wide') AS wide \gset
SELECT pg_temp.iid(:'wide') AS wide_iid \gset
SELECT influx_tokens.revoke_token(:'wide');
SET ROLE regress_mbt_public;
SELECT pg_temp.err(format('SELECT influx_tokens.activate_token_as(%L, %L)', :'delegate', :'wide_iid')) AS reactivate_wider;
SELECT pg_temp.err(format('SELECT influx_tokens.rotate_token_as(%L, %L)', :'delegate', :'wide_iid')) AS rotate_wider;
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_permissions_as(%L, %L, %L)', :'delegate', :'writer_iid', '{write:buckets}')) AS widen;
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_expiry_as(%L, %L, %L)', :'delegate', :'writer_iid', now() + interval '1 hour')) AS writer_holds_b;
-- A descendant granted more than its parent holds now (the parent was
-- narrowed since) is neither rotated nor reactivated by the parent.
RESET ROLE;
SELECT influx_tokens.create_token('mbt_org', '{write:authorizations,read:authorizations,write:buckets/a,write:buckets/b}', 'narrowed later') AS nparent \gset
SELECT influx_tokens.create_token_as(:'nparent', '{write:buckets/b}', 'child on b') AS nchild \gset
SELECT influx_tokens.set_token_permissions(:'nparent', '{write:authorizations,read:authorizations,write:buckets/a}') > 0 AS parent_narrowed;
SELECT influx_tokens.revoke_token(:'nchild');
SELECT pg_temp.iid(:'nchild') AS nchild_iid \gset
SET ROLE regress_mbt_public;
SELECT pg_temp.err(format('SELECT influx_tokens.rotate_token_as(%L, %L)', :'nparent', :'nchild_iid')) AS rotate_wider_child;
SELECT pg_temp.err(format('SELECT influx_tokens.activate_token_as(%L, %L)', :'nparent', :'nchild_iid')) AS reactivate_wider_child;
-- Nor may a token move its own bound: its own permissions or expiry, or
-- those of a token it descends from.
SELECT pg_temp.iid(:'delegate') AS delegate_iid \gset
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_permissions_as(%L, %L, %L)', :'delegate', :'delegate_iid', '{read:**,write:**}')) AS widen_itself;
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_expiry_as(%L, %L, NULL)', :'delegate', :'delegate_iid')) AS unexpire_itself;
SELECT influx_tokens.create_token_as(:'delegate', '{write:authorizations,read:authorizations,write:buckets/a}', 'delegate child') AS dchild \gset
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_permissions_as(%L, %L, %L)', :'dchild', :'delegate_iid', '{write:authorizations,read:authorizations,write:buckets/a}')) AS rewiden_parent;
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_expiry_as(%L, %L, NULL)', :'dchild', :'delegate_iid')) AS unexpire_parent;
SELECT permissions, expires_at IS NOT NULL AS still_expires FROM influx_tokens.find_token_as(:'service', :'delegate_iid');
-- Within what it holds, the delegate may: narrow the writer to bucket a...
SELECT influx_tokens.set_token_permissions_as(:'delegate', :'writer_iid', '{write:buckets/a}') > 0 AS narrowed_by_delegate;
-- ...but not let it outlive the delegate.
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_expiry_as(%L, %L, NULL)', :'delegate', :'writer_iid')) AS never_expire;
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_expiry_as(%L, %L, %L)', :'delegate', :'writer_iid', now() + interval '2 days')) AS outlive;
SELECT influx_tokens.set_token_expiry_as(:'delegate', :'writer_iid', now() + interval '2 hours') > 0 AS within_the_delegate;
SELECT pg_temp.err(format('SELECT influx_tokens.create_token_as(%L, %L)', :'delegate', '{write:buckets/b}')) AS create_wider;
SELECT status, permissions, expires_at < now() + interval '3 hours' AS expiry_kept
FROM influx_tokens.find_token_as(:'service', :'writer_iid');
SELECT status FROM influx_tokens.find_token_as(:'service', :'wide_iid');

-- Delegation over time.  A child works only while its parent does, expires
-- when the parent does, and holds only what the parent holds now.
SELECT influx_tokens.create_token_as(:'service', '{write:authorizations,read:authorizations,write:buckets/a,write:buckets/b}', 'child') AS child \gset
SELECT influx_tokens.create_token_as(:'child', '{write:buckets/a}', 'grandchild') AS grandchild \gset
SELECT pg_temp.iid(:'child') AS child_iid, pg_temp.iid(:'grandchild') AS grandchild_iid \gset
SELECT influx_tokens.token_check(:'child', 'write', 'b') AS child, influx_tokens.token_check(:'grandchild', 'write', 'a') AS grandchild;
-- Revoked parent: both stop at their next check (their records were cached).
SELECT influx_tokens.revoke_token_as(:'service', :'child_iid');
SELECT influx_tokens.token_check(:'child', 'write', 'b') AS child, influx_tokens.token_check(:'grandchild', 'write', 'a') AS grandchild,
       (SELECT status FROM influx_tokens.token_info(:'grandchild')) AS grandchild_own_status;
SELECT pg_temp.err(format('SELECT influx_tokens.create_token_as(%L, %L)', :'grandchild', '{write:buckets/a}')) AS suspended_cannot_delegate;
SELECT influx_tokens.activate_token_as(:'service', :'child_iid');
SELECT influx_tokens.token_check(:'grandchild', 'write', 'a') AS grandchild_back;
-- Narrowed parent: the child keeps only what the parent still holds.
SELECT influx_tokens.set_token_permissions_as(:'service', :'child_iid', '{write:authorizations,write:buckets/b}') > 0 AS child_narrowed;
SELECT influx_tokens.token_check(:'grandchild', 'write', 'a') AS grandchild_on_a,
       (SELECT permissions FROM influx_tokens.token_info(:'grandchild')) AS grandchild_granted;
SELECT influx_tokens.set_token_permissions_as(:'service', :'child_iid', '{write:authorizations,write:buckets/a}') > 0 AS child_widened_again;
SELECT influx_tokens.token_check(:'grandchild', 'write', 'a') AS grandchild_on_a_again;
-- Expiry: a child never outlives its parent, set either way.
SELECT influx_tokens.set_token_expiry_as(:'service', :'child_iid', clock_timestamp() + interval '0.5 second') > 0 AS child_expires_soon;
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_expiry_as(%L, %L, NULL)', :'service', :'grandchild_iid')) AS grandchild_never_expiring;
SELECT pg_temp.err(format('SELECT influx_tokens.set_token_expiry_as(%L, %L, %L)', :'service', :'grandchild_iid', now() + interval '1 hour')) AS grandchild_outliving;
SELECT pg_sleep(0.7);
SELECT influx_tokens.token_check(:'grandchild', 'write', 'a') AS grandchild_after_parent_expired,
       (SELECT expires_at IS NULL FROM influx_tokens.token_info(:'grandchild')) AS own_expiry_unset;
SELECT influx_tokens.set_token_expiry_as(:'service', :'child_iid', NULL) > 0 AS child_unexpired;
SELECT influx_tokens.token_check(:'grandchild', 'write', 'a') AS grandchild_again;
-- Deleted parent, by token: its descendants go with it.
SELECT influx_tokens.delete_token_as(:'service', :'child_iid') AS deleted_with_descendants;
SELECT influx_tokens.token_check(:'grandchild', 'write', 'a') AS grandchild_after_delete;

-- Buckets: creating takes write on the organization's buckets, renaming or
-- dropping write on that bucket, seeing read on it.
SELECT name, org FROM influx_tokens.list_buckets_as(:'service') ORDER BY name;
SELECT name FROM influx_tokens.list_buckets_as(:'writer');
SELECT count(*) AS operator_sees_every_org FROM influx_tokens.list_buckets_as(:'operator') WHERE org LIKE 'mbt%';
SELECT name, org, org_influx_id = :'org_iid' AS in_org FROM influx_tokens.create_bucket_as(:'service', :'org_iid', 'made by token');
SELECT pg_temp.err(format('SELECT influx_tokens.create_bucket_as(%L, %L, %L)', :'service', :'org_iid', 'made by token')) AS duplicate;
SELECT pg_temp.err(format('SELECT influx_tokens.create_bucket_as(%L, %L, %L)', :'writer', :'org_iid', 'x')) AS without_write_buckets;
SELECT pg_temp.err(format('SELECT influx_tokens.create_bucket_as(%L, %L, %L)', :'service', :'other_iid', 'x')) AS other_org;
SELECT pg_temp.err(format('SELECT influx_tokens.create_bucket_as(%L, %L, %L)', :'service', 'ffffffffffffff00', 'x')) AS unknown_org;
SELECT pg_temp.err(format('SELECT influx_tokens.create_bucket_as(%L, %L, %L)', :'operator', 'ffffffffffffff00', 'x')) AS unknown_org_operator;
SELECT influx_id AS made_iid FROM influx_tokens.list_buckets_as(:'service') WHERE name = 'made by token' \gset
SELECT name FROM influx_tokens.rename_bucket_as(:'service', :'made_iid', 'renamed by token');
RESET ROLE;
SELECT influx_tokens.create_token('mbt_org', ARRAY['write:buckets/renamed by token'], 'one-bucket writer') AS bucket_writer \gset
SET ROLE regress_mbt_public;
SELECT name FROM influx_tokens.rename_bucket_as(:'bucket_writer', :'made_iid', 'renamed by its writer');
SELECT pg_temp.err(format('SELECT influx_tokens.rename_bucket_as(%L, %L, %L)', :'bucket_writer', :'a_iid', 'x')) AS another_bucket;
SELECT pg_temp.err(format('SELECT influx_tokens.drop_bucket_as(%L, %L)', :'reader_b', :'b_iid')) AS reader_of_b_drops_b;
SELECT pg_temp.err(format('SELECT influx_tokens.rename_bucket_as(%L, %L, %L)', :'reader_b', :'b_iid', 'x')) AS reader_of_b_renames_b;
SELECT pg_temp.err(format('SELECT influx_tokens.drop_bucket_as(%L, %L)', :'auditor', :'b_iid')) AS auditor_drops_b;
SELECT pg_temp.err(format('SELECT influx_tokens.drop_bucket_as(%L, %L)', :'service', :'c_iid')) AS other_orgs_bucket;
SELECT name FROM influx_tokens.find_bucket_as(:'reader_b', :'b_iid');
SELECT pg_temp.err(format('SELECT influx_tokens.find_bucket_as(%L, %L)', :'writer', :'b_iid')) AS writer_of_a_finds_b;
SELECT pg_temp.err(format('SELECT influx_tokens.find_bucket_as(%L, %L)', :'bucket_writer', :'a_iid')) AS not_visible;
SELECT influx_tokens.drop_bucket_as(:'bucket_writer', :'made_iid') > 0 AS dropped_by_its_writer;
SELECT influx_tokens.token_allows(:'bucket_writer', 'write:buckets/renamed by its writer') AS grant_went_with_it;

-- Organizations: read:orgs (asked before the organization is looked up).
SELECT name FROM influx_tokens.list_orgs_as(:'service');
SELECT count(*) AS writer_sees FROM influx_tokens.list_orgs_as(:'writer');
SELECT name FROM influx_tokens.find_org_as(:'service', :'org_iid');
SELECT pg_temp.err(format('SELECT influx_tokens.find_org_as(%L, %L)', :'service', :'other_iid')) AS other_org;
SELECT pg_temp.err(format('SELECT influx_tokens.find_org_as(%L, %L)', :'service', 'ffffffffffffff00')) AS unknown_to_service;
SELECT pg_temp.err(format('SELECT influx_tokens.find_org_as(%L, %L)', :'operator', 'ffffffffffffff00')) AS unknown_to_operator;
SELECT name FROM influx_tokens.find_org_as(:'operator', :'org_iid');
RESET ROLE;

-- The administrator's forms share the bodies and obey the same lineage.
SELECT influx_tokens.create_token('mbt_org', '{write:authorizations,write:buckets/a}', 'admin parent',
                                  expires_at => now() + interval '1 hour') AS admin_parent \gset
SELECT influx_tokens.create_token_as(:'admin_parent', '{write:buckets/a}', 'admin child') AS admin_child \gset
SELECT (influx_tokens.token_info(:'admin_child')).id AS admin_child_id \gset
SELECT left(pg_temp.err(format('SELECT influx_tokens.set_token_expiry(%s, NULL)', :admin_child_id)), 5) AS admin_cannot_unbound_a_child;
SELECT influx_tokens.delete_token(:'admin_parent');
SELECT status, parent_id IS NULL AS detached, influx_tokens.token_check(:'admin_child', 'write', 'a') AS works
FROM influx_tokens.token_info(:'admin_child');
DROP FUNCTION pg_temp.iid(text), pg_temp.err(text);
DROP ROLE regress_mbt_public;
