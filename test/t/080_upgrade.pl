# ALTER EXTENSION influx_tokens UPDATE from 1.0 to 1.1 to 1.2, and from 1.1
# to 1.2, on databases with live tokens: they keep working (also in a
# session that was connected and had them cached), the new features become
# available, privileges stay least-privilege, and every path gives the same
# objects as a fresh install of the current version.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE old; CREATE DATABASE mid; CREATE DATABASE fresh');

$node->safe_psql('old', q{
	CREATE EXTENSION influx_tokens VERSION '1.0';
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	SELECT influx_tokens.create_bucket('acme', 'logs');
	CREATE TABLE handed_out (name text PRIMARY KEY, token text);
	INSERT INTO handed_out VALUES
	  ('admin', influx_tokens.create_token('acme', '{write:authorizations,write:buckets,read:buckets}', 'admin', '{ops}')),
	  ('writer', influx_tokens.create_token('acme', '{write:buckets/metrics}', 'writer')),
	  ('revoked', influx_tokens.create_token('acme', '{write:buckets/metrics}', 'revoked'));
	SELECT influx_tokens.revoke_token(i.id) FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = 'revoked';
});
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'influx_tokens'}), '1.0',
	'version 1.0 installed');

my $checks = q{
	SELECT string_agg(name || '=' || influx_tokens.token_check(token, 'write', 'metrics')::text
	                  || '/' || influx_tokens.token_check(token, 'read', 'logs')::text, ',' ORDER BY name)
	FROM handed_out};
my $before = $node->safe_psql('old', $checks);
is($before, 'admin=true/true,revoked=false/false,writer=true/false', 'answers under 1.0');

my $session = $node->background_psql('old');
is($session->query_safe($checks), $before, 'a live session has the tokens cached');

$node->safe_psql('old', "ALTER EXTENSION influx_tokens UPDATE TO '1.1'");
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'influx_tokens'}), '1.1',
	'updated to 1.1');
is($node->safe_psql('old', $checks), $before, 'every token answers the same after the update');
is($session->query_safe($checks), $before, 'also in the session connected before the update');

# The new features work on the old tokens.
is($node->safe_psql('old', q{
	SELECT influx_tokens.token_check(influx_tokens.create_token_as(token, '{write:buckets/logs}'), 'write', 'logs')
	FROM handed_out WHERE name = 'admin'}), 't', 'an old token delegates');
my $rotated = $node->safe_psql('old', q{
	SELECT influx_tokens.token_check(influx_tokens.rotate_token(i.id, interval '1 hour'), 'write', 'metrics')
	FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = 'writer'});
is($rotated, 't', 'an old token rotates');
is($node->safe_psql('old', q{SELECT influx_tokens.token_check(token, 'write', 'metrics') FROM handed_out WHERE name = 'writer'}),
	't', 'its old secret works during the grace period');
is($node->safe_psql('old', q{
	SELECT influx_tokens.token_allows(influx_tokens.create_token('acme', '{read:*}'), 'read:notebooks')}), 't',
	'wildcard grants are available');
is($node->safe_psql('old', q{
	SELECT checks_allowed IS NULL FROM influx_tokens.token_list WHERE description = 'admin'}), 't',
	'token_list has the usage columns (NULL without preloading)');
is($node->safe_psql('old', q{
	SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.oid::regprocedure::text) FROM pg_proc p
	WHERE p.pronamespace = 'influx_tokens'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')}),
	'influx_tokens.create_token_as(text,text[],text,text[],timestamp with time zone), '
	  . 'influx_tokens.token_allows(text,text), influx_tokens.token_check(text,text,text), '
	  . 'influx_tokens.token_check(text,text,text,text), influx_tokens.token_info(text)',
	'PUBLIC may execute exactly the checks, token_info and create_token_as');

# On to 1.2: the same answers, also in the live session, and 1.2's fixes.
$node->safe_psql('old', 'ALTER EXTENSION influx_tokens UPDATE');
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'influx_tokens'}), '1.2',
	'updated to 1.2');
is($node->safe_psql('old', $checks), $before, 'every token answers the same after the update to 1.2');
is($session->query_safe($checks), $before, 'also in the session connected before both updates');
is($node->safe_psql('old', q{
	SELECT influx_tokens.revoke_token(token) || '/' || influx_tokens.activate_token(token)
	FROM handed_out WHERE name = 'revoked'}), '0/1', 'an old token is managed by its text and says what changed');
is($node->safe_psql('old', q{
	SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.objid
	WHERE d.classid = 'pg_extension'::regclass AND d.refclassid = 'pg_extension'::regclass
	  AND e.extname = 'influx_tokens'}), '0', 'pgcrypto is no longer required');
is($node->safe_psql('old', q{
	SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.oid::regprocedure::text) FROM pg_proc p
	WHERE p.pronamespace = 'influx_tokens'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')}),
	'influx_tokens._permission_text(text,text,boolean,text,text,text,text), '
	  . 'influx_tokens.activate_token_as(text,text), influx_tokens.add_token_labels_as(text,text,text[]), '
	  . 'influx_tokens.authenticate(text), influx_tokens.create_bucket_as(text,text,text), '
	  . 'influx_tokens.create_token_as(text,text[],text,text[],timestamp with time zone), '
	  . 'influx_tokens.create_token_as_with_id(text,text[],text,text[],timestamp with time zone), '
	  . 'influx_tokens.current_token_allows(text), influx_tokens.current_token_buckets(text), '
	  . 'influx_tokens.current_token_check(text,text), influx_tokens.current_token_check(text,text,text), '
	  . 'influx_tokens.current_token_id(), influx_tokens.current_token_org(), '
	  . 'influx_tokens.delete_token_as(text,text), influx_tokens.drop_bucket_as(text,text), '
	  . 'influx_tokens.find_bucket_as(text,text), influx_tokens.find_org_as(text,text), '
	  . 'influx_tokens.find_token_as(text,text), influx_tokens.list_buckets_as(text), '
	  . 'influx_tokens.list_orgs_as(text), influx_tokens.list_tokens_as(text), '
	  . 'influx_tokens.permission_matches(text,text), '
	  . 'influx_tokens.remove_token_labels_as(text,text,text[]), influx_tokens.rename_bucket_as(text,text,text), '
	  . 'influx_tokens.revoke_token_as(text,text), influx_tokens.rotate_token_as(text,text,interval), '
	  . 'influx_tokens.set_token_description_as(text,text,text), '
	  . 'influx_tokens.set_token_expiry_as(text,text,timestamp with time zone), '
	  . 'influx_tokens.set_token_permissions_as(text,text,text[]), '
	  . 'influx_tokens.token_allows(text,text), influx_tokens.token_check(text,text,text), '
	  . 'influx_tokens.token_check(text,text,text,text), influx_tokens.token_info(text)',
	'PUBLIC may execute exactly the checks, token_info, create_token_as (both forms), the current token\'s, '
	  . 'permission_matches, the formatter token_list calls and the token forms of management');

# A grant an administrator made survives the update of the function it is on.
$node->safe_psql('mid', q{
	CREATE EXTENSION influx_tokens VERSION '1.1';
	CREATE ROLE upgrade_admin;
	GRANT EXECUTE ON FUNCTION influx_tokens.revoke_token(bigint), influx_tokens.set_token_expiry(bigint, timestamptz)
	TO upgrade_admin;
	GRANT SELECT ON influx_tokens.token_list TO upgrade_admin;
	ALTER EXTENSION influx_tokens UPDATE;});
is($node->safe_psql('mid', q{SELECT has_table_privilege('upgrade_admin', 'influx_tokens.token_list', 'SELECT')}), 't',
	'SELECT granted to a role on a view stays');
is($node->safe_psql('mid', q{
	SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY 1) FROM pg_proc p
	WHERE p.pronamespace = 'influx_tokens'::regnamespace AND has_function_privilege('upgrade_admin', p.oid, 'EXECUTE')
	  AND NOT has_function_privilege('public', p.oid, 'EXECUTE')}),
	'influx_tokens.revoke_token(bigint,boolean), influx_tokens.set_token_expiry(bigint,timestamp with time zone)',
	'EXECUTE granted to a role on a function 1.2 recreates is granted again');
# Grants made by the update script are, for PostgreSQL, the extension's
# initial privileges (pg_init_privs); from 17 on they hold a dependency on
# the role, which DROP OWNED removes with the grants.
$node->safe_psql('mid', q{DROP OWNED BY upgrade_admin; DROP ROLE upgrade_admin;});

# 1.1 let a token hold "instance" (that type only) and took the InfluxDB ID
# 0000000000000000; 1.2 gives "instance" InfluxDB's meaning (every resource)
# and refuses zero IDs, so the update stops rather than widen a token.
$node->safe_psql('postgres', 'CREATE DATABASE guarded');
$node->safe_psql('guarded', q{
	CREATE EXTENSION influx_tokens VERSION '1.1';
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	CREATE TABLE kept AS SELECT influx_tokens.create_token('acme', '{read:buckets}') AS token;
	-- What 1.1's library wrote for '{read:instance}' (this library refuses it under 1.1 too).
	UPDATE influx_tokens.permissions SET resource_type = 'instance';});
my ($rc, $out, $err) = $node->psql('guarded', 'ALTER EXTENSION influx_tokens UPDATE');
like($err, qr/a token holds the permission "instance", which 1.2 refuses/,
	'the update refuses a 1.1 token holding instance');
is($node->safe_psql('guarded', q{SELECT extversion FROM pg_extension WHERE extname = 'influx_tokens'}), '1.1',
	'and leaves 1.1 in place');
$node->safe_psql('guarded', q{
	SELECT influx_tokens.set_token_permissions(l.id, '{read:buckets}') FROM influx_tokens.token_list AS l;
	UPDATE influx_tokens.buckets SET influx_id = '0000000000000000';});
($rc, $out, $err) = $node->psql('guarded', 'ALTER EXTENSION influx_tokens UPDATE');
like($err, qr/has InfluxDB ID 0000000000000000, which 1.2 refuses/, 'and a zero InfluxDB ID');
$node->safe_psql('guarded', q{
	UPDATE influx_tokens.buckets SET influx_id = NULL;
	ALTER EXTENSION influx_tokens UPDATE;});
is($node->safe_psql('guarded', q{
	SELECT influx_tokens.token_check(token, 'read', 'metrics') || '/' || influx_tokens.token_allows(token, 'read:instance')
	FROM kept}), 'true/false', 'once mended, the update goes through and the token means what it meant');
# 1.1's organizations and buckets get InfluxDB IDs of their own: random, not
# our ids as 16 hex digits, which every installation would share.
is($node->safe_psql('guarded', q{
	SELECT count(*) FILTER (WHERE influx_id ~ '^[0-9a-f]{16}$' AND influx_id <> lpad(to_hex(id), 16, '0'))
	       || '/' || count(*)
	FROM (SELECT id, influx_id FROM influx_tokens.orgs UNION ALL SELECT id, influx_id FROM influx_tokens.buckets) AS x}),
	'2/2', 'the update gives every organization and bucket a random InfluxDB ID');

# Every updated database has the same objects as a fresh install.
$node->safe_psql('fresh', 'CREATE EXTENSION influx_tokens');
my $objects = q{
	SELECT string_agg(x, E'\n' ORDER BY x) FROM (
	  SELECT p.oid::regprocedure::text || ' ' || p.prosecdef || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
	         || ' ' || p.prorettype::regtype::text || ' ' || p.provolatile::text || ' ' || p.proisstrict::text
	         || ' ' || coalesce(array_to_string(p.proacl, ','), '') || ' ' || md5(p.prosrc)
	         || ' ' || coalesce(obj_description(p.oid, 'pg_proc'), '') AS x
	  FROM pg_proc p WHERE p.pronamespace = 'influx_tokens'::regnamespace
	  UNION ALL
	  SELECT c.relname || '.' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
	         || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
	  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
	  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	  WHERE c.relnamespace = 'influx_tokens'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
	  UNION ALL
	  SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'influx_tokens'::regnamespace
	  UNION ALL
	  SELECT c.relname || ' ' || pg_get_viewdef(c.oid) || coalesce(obj_description(c.oid, 'pg_class'), '')
	  FROM pg_class c WHERE c.relnamespace = 'influx_tokens'::regnamespace AND c.relkind = 'v'
	  UNION ALL
	  SELECT indexrelid::regclass::text || ' ' || pg_get_indexdef(indexrelid) FROM pg_index
	  WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'influx_tokens'::regnamespace)
	  UNION ALL
	  SELECT tgname || ' on ' || tgrelid::regclass::text || ' ' || tgenabled::text FROM pg_trigger
	  WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'influx_tokens'::regnamespace) AND NOT tgisinternal
	) s};
my $fresh_objects = $node->safe_psql('fresh', $objects);
is($node->safe_psql('old', $objects), $fresh_objects,
	'1.0 -> 1.1 -> 1.2: functions, columns, constraints, views, indexes and triggers match a fresh install');
is($node->safe_psql('mid', $objects), $fresh_objects,
	'1.1 -> 1.2: the same objects as a fresh install');

# The updated database survives pg_dump / pg_restore with the new columns.
my $dump = $node->basedir . '/old.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('old'), '-f', $dump ], 'pg_dump of the updated database');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is($node->safe_psql('restored', q{SELECT influx_tokens.token_check(token, 'write', 'metrics') FROM handed_out WHERE name = 'writer'}),
	't', 'a secret in its grace period still works after restore');

$session->quit;
$node->stop;
done_testing();
