# ALTER EXTENSION influx_tokens UPDATE from 1.0 to 1.1 on a database with
# live tokens: they keep working (also in a session that was connected and
# had them cached), the new features become available, privileges stay
# least-privilege, and the result is the same as a fresh 1.1 install.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE old; CREATE DATABASE fresh');

$node->safe_psql('old', q{
	CREATE EXTENSION influx_tokens VERSION '1.0' CASCADE;
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

$node->safe_psql('old', 'ALTER EXTENSION influx_tokens UPDATE');
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

# An updated database has the same objects as a fresh install.
$node->safe_psql('fresh', 'CREATE EXTENSION influx_tokens CASCADE');
my $objects = q{
	SELECT string_agg(x, E'\n' ORDER BY x) FROM (
	  SELECT p.oid::regprocedure::text || ' ' || p.prosecdef || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
	         || ' ' || coalesce(array_to_string(p.proacl, ','), '') AS x
	  FROM pg_proc p WHERE p.pronamespace = 'influx_tokens'::regnamespace
	  UNION ALL
	  SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
	  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
	  WHERE c.relnamespace = 'influx_tokens'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
	  UNION ALL
	  SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'influx_tokens'::regnamespace
	  UNION ALL
	  SELECT tgname || ' on ' || tgrelid::regclass::text || ' ' || tgenabled::text FROM pg_trigger
	  WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'influx_tokens'::regnamespace) AND NOT tgisinternal
	) s};
is($node->safe_psql('old', $objects), $node->safe_psql('fresh', $objects),
	'functions, columns, constraints and triggers match a fresh 1.1 install');

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
