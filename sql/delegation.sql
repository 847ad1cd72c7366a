-- Delegation without escalation: create_token_as, and cascading revoke/delete.
\i test/regress_preamble.psql
SELECT influx_tokens.create_org('del_org') > 0, influx_tokens.create_org('del_other') > 0;
SELECT influx_tokens.create_bucket('del_org', 'a') > 0, influx_tokens.create_bucket('del_org', 'b') > 0;
SELECT influx_tokens.create_bucket('del_other', 'only_other') > 0;
SELECT influx_tokens.create_token('del_org', '{write:authorizations,write:buckets/a,read:buckets}',
                                  'parent', '{svc}', now() + interval '1 day') AS parent \gset
SELECT id AS parent_id, expires_at AS parent_expiry FROM influx_tokens.token_info(:'parent') \gset

-- A child with a subset of the parent's permissions: in the parent's org, not outliving it.
SELECT influx_tokens.create_token_as(:'parent', '{write:buckets/a}', 'child', '{device}') AS child \gset
SELECT org, description, labels, permissions, expires_at = :'parent_expiry' AS inherits_parent_expiry
FROM influx_tokens.token_info(:'child');
SELECT parent_id = :parent_id AS records_parent FROM influx_tokens.token_list WHERE org = 'del_org' AND description = 'child';
SELECT influx_tokens.token_check(:'child', 'write', 'a') AS child_writes_a,
       influx_tokens.token_check(:'child', 'read', 'a') AS child_reads_a;
-- A shorter expiry is fine; read:buckets covers read on one bucket.
SELECT influx_tokens.create_token_as(:'parent', '{read:buckets/b}', expires_at => now() + interval '1 hour') AS short_child \gset
SELECT influx_tokens.token_check(:'short_child', 'read', 'b') AS short_child_reads_b;
-- A child may delegate further if it holds write:authorizations.
SELECT influx_tokens.create_token_as(:'parent', '{write:authorizations,read:buckets}', 'middle') AS middle \gset
SELECT influx_tokens.create_token_as(:'middle', '{read:buckets/a}', 'grandchild') AS grandchild \gset
SELECT influx_tokens.token_check(:'grandchild', 'read', 'a') AS grandchild_reads_a;

-- Every shape of escalation fails with 42501, naming what is not covered; nothing is created.
-- Parents that must not delegate: without write:authorizations, revoked, expired.
SELECT influx_tokens.create_token('del_org', '{write:buckets/a}', 'no authorizations') AS no_auth \gset
SELECT influx_tokens.create_token('del_org', '{write:authorizations,write:buckets/a}', 'revoked parent') AS revoked \gset
SELECT influx_tokens.revoke_token(id) FROM influx_tokens.token_info(:'revoked');
SELECT influx_tokens.create_token('del_org', '{write:authorizations,write:buckets/a}', 'expired parent', NULL,
                                  clock_timestamp() + interval '0.2 second') AS expired \gset
SELECT pg_sleep(0.3);
SELECT count(*) AS tokens_before FROM influx_tokens.tokens \gset
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'parent', '{write:buckets/b}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'parent', '{write:buckets}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'parent', '{write:buckets/a,read:orgs}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'parent', '{read:*}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'parent', '{read:**}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'parent', '{write:buckets/only_other}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'middle', '{write:buckets/a}'));
SELECT regexp_replace(error_of(format('SELECT influx_tokens.create_token_as(%L, %L, expires_at => %L)',
                      :'parent', '{write:buckets/a}', (now() + interval '2 days')::text)), 'time .* is', 'time <parent + 1 day> is');
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'no_auth', '{write:buckets/a}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'revoked', '{write:buckets/a}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'expired', '{write:buckets/a}'));
SELECT error_of($$SELECT influx_tokens.create_token_as('ixt_garbage', '{write:buckets/a}')$$);
SELECT error_of($$SELECT influx_tokens.create_token_as(NULL, '{write:buckets/a}')$$);
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, NULL)', :'parent'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'parent', '{}'));
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'parent', '{bogus}'));
SELECT count(*) = :tokens_before AS nothing_created FROM influx_tokens.tokens;

-- A rotated-out secret mints children only within its grace period: their expiry is capped by it.
SELECT influx_tokens.create_org('del_rot') > 0, influx_tokens.create_bucket('del_rot', 'a') > 0;
SELECT influx_tokens.create_token('del_rot', '{write:authorizations,write:buckets/a}', 'rotating parent') AS rot_old \gset
SELECT influx_tokens.rotate_token(:'rot_old', interval '1 hour') AS rot_new \gset
SELECT influx_tokens.create_token_as(:'rot_old', '{write:buckets/a}', 'from the old secret') AS from_old \gset
SELECT c.expires_at = p.previous_secret_valid_until AS capped_by_grace
FROM influx_tokens.token_info(:'from_old') c, influx_tokens.token_info(:'rot_new') p;
SELECT regexp_replace(error_of(format('SELECT influx_tokens.create_token_as(%L, %L, expires_at => %L)',
                      :'rot_old', '{write:buckets/a}', (now() + interval '10 years')::text)), 'time .* is', 'time <in ten years> is');
SELECT (influx_tokens.token_info(influx_tokens.create_token_as(:'rot_new', '{write:buckets/a}'))).expires_at IS NULL AS new_secret_uncapped;
-- After the grace the old secret is refused, and so are the children it made.
SELECT influx_tokens.rotate_token(:'rot_new', interval '0.3 second') AS rot_newer \gset
SELECT influx_tokens.create_token_as(:'rot_new', '{write:buckets/a}', 'from a secret in a short grace') AS from_short \gset
SELECT influx_tokens.token_check(:'from_short', 'write', 'a') AS works_during_grace;
SELECT pg_sleep(0.4);
SELECT influx_tokens.token_check(:'from_short', 'write', 'a') AS works_after_grace,
       influx_tokens.token_check(:'rot_newer', 'write', 'a') AS parent_new_secret_works;
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'rot_new', '{write:buckets/a}')) AS old_secret_after_grace;

-- A wildcard parent covers any child in its org, but never another org or '**'.
SELECT influx_tokens.create_token('del_org', '{write:*,read:*}', 'all-access') AS all_access \gset
SELECT influx_tokens.create_token_as(:'all_access', '{write:buckets/b,read:orgs,write:tasks}') AS from_all \gset
SELECT permissions FROM influx_tokens.token_info(:'from_all');
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'all_access', '{write:**}'));

-- PUBLIC may delegate: the parent token is the credential.
CREATE ROLE regress_it_service;
SET ROLE regress_it_service;
SELECT influx_tokens.create_token_as(:'parent', '{write:buckets/a}', 'made by a service') AS service_child \gset
SELECT influx_tokens.token_check(:'service_child', 'write', 'a') AS service_child_works;
SELECT * FROM influx_tokens.create_token_as_with_id(:'parent', '{write:buckets/a}', 'made by a service, with id') \gset svc_
SELECT (influx_tokens.token_info(:'svc_token')).id = :svc_id AS service_child_id_is_its_own;
SELECT error_of(format('SELECT influx_tokens.create_token_as(%L, %L)', :'parent', '{write:buckets/b}'));
RESET ROLE;
DROP ROLE regress_it_service;
-- (The cascades below count the parent's children: this one goes again.)
SELECT influx_tokens.delete_token(:svc_id) AS removed_again;

-- Revoke: by default only the token's status, but what it created stops
-- working while it is inactive (and works again when it is reactivated);
-- with cascade, everything it created is revoked too, at any depth.
SELECT influx_tokens.revoke_token(:parent_id);
SELECT influx_tokens.token_check(:'child', 'write', 'a') AS child_after_plain_revoke,
       influx_tokens.token_check(:'grandchild', 'read', 'a') AS grandchild_after_plain_revoke,
       (SELECT status FROM influx_tokens.token_info(:'child')) AS child_status;
SELECT influx_tokens.activate_token(:parent_id);
SELECT influx_tokens.token_check(:'child', 'write', 'a') AS child_after_reactivation;
SELECT influx_tokens.revoke_token(:parent_id, cascade => true);
SELECT influx_tokens.token_check(:'parent', 'read', 'a') AS parent, influx_tokens.token_check(:'child', 'write', 'a') AS child,
       influx_tokens.token_check(:'grandchild', 'read', 'a') AS grandchild, influx_tokens.token_check(:'all_access', 'write', 'a') AS unrelated;
SELECT status, count(*) FROM influx_tokens.token_list
WHERE id IN (SELECT influx_tokens._token_and_descendants(:parent_id, true)) GROUP BY status ORDER BY status;

-- Delete: by default children stay, revoked and without a parent (an
-- administrator may reactivate them as tokens of their own); with cascade
-- they go too.
SELECT id AS middle_id FROM influx_tokens.token_info(:'middle') \gset
SELECT count(*) AS reactivated FROM (SELECT influx_tokens.activate_token(id) FROM influx_tokens.token_list WHERE org = 'del_org') AS s;
SELECT influx_tokens.delete_token(:middle_id);
SELECT parent_id IS NULL AS orphaned, status, influx_tokens.token_check(:'grandchild', 'read', 'a') AS still_works
FROM influx_tokens.token_list WHERE org = 'del_org' AND description = 'grandchild';
SELECT influx_tokens.activate_token(id) AS adopted FROM influx_tokens.token_list WHERE org = 'del_org' AND description = 'grandchild';
SELECT influx_tokens.token_check(:'grandchild', 'read', 'a') AS works_once_adopted;
SELECT influx_tokens.delete_token(:parent_id, cascade => true);
SELECT count(*) FROM influx_tokens.token_list WHERE org = 'del_org' AND description IN ('parent', 'child', 'made by a service');
SELECT influx_tokens.token_check(:'child', 'write', 'a') AS deleted_child;
SELECT error_of($$SELECT influx_tokens.revoke_token(-1, true)$$);
SELECT error_of(format('SELECT influx_tokens.delete_token(%s, NULL)', (SELECT id FROM influx_tokens.token_info(:'all_access'))));
