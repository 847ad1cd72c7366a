# pg_dump / pg_restore into a new database keeps every token working, with
# the same permissions, labels, status and expiry, and new ids continue
# after the restored ones.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE DATABASE source;
	CREATE DATABASE target;
});
$node->safe_psql('source', q{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_org('globex');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	SELECT influx_tokens.create_bucket('acme', 'logs');
	SELECT influx_tokens.create_bucket('globex', 'metrics');
	CREATE TABLE handed_out (name text PRIMARY KEY, token text);
	INSERT INTO handed_out VALUES
	  ('writer', influx_tokens.create_token('acme', '{write:buckets/metrics}', 'writer', '{team:ops}')),
	  ('reader', influx_tokens.create_token('acme', '{read:buckets,read:orgs}', 'reader', '{team:web}',
	                                        now() + interval '1 year')),
	  ('revoked', influx_tokens.create_token('globex', '{write:buckets}'));
	SELECT influx_tokens.revoke_token(i.id)
	FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = 'revoked';
	-- A parent and the child it created: tokens.parent_id refers to tokens.
	CREATE TABLE family (name text PRIMARY KEY, token text);
	INSERT INTO family VALUES
	  ('parent', influx_tokens.create_token('acme', '{write:authorizations,write:buckets/logs}', 'parent'));
	INSERT INTO family SELECT 'child', influx_tokens.create_token_as(token, '{write:buckets/logs}', 'child')
	FROM family WHERE name = 'parent';
});

my $checks = q{
	SELECT string_agg(name || ':' || allowed::text, ',' ORDER BY name, n)
	FROM (
	  SELECT name, 1 AS n, influx_tokens.token_check(token, 'write', 'metrics') AS allowed FROM handed_out
	  UNION ALL
	  SELECT name, 2, influx_tokens.token_check(token, 'read', 'logs') FROM handed_out
	  UNION ALL
	  SELECT name, 3, influx_tokens.token_allows(token, 'read:orgs') FROM handed_out
	) s
};
my $listing = q{
	SELECT string_agg(concat_ws('|', id, org, description, status, labels, permissions, created_at, expires_at), E'\n' ORDER BY id)
	FROM influx_tokens.token_list
};

my $before_checks = $node->safe_psql('source', $checks);
my $before_list = $node->safe_psql('source', $listing);
is($before_checks,
	'reader:false,reader:true,reader:true,revoked:false,revoked:false,revoked:false,writer:true,writer:false,writer:false',
	'checks in the source database');

my $dump = $node->basedir . '/source.dump';
my ($dump_out, $dump_err) = run_command([ 'pg_dump', '-Fc', '-d', $node->connstr('source'), '-f', $dump ]);
ok(-s $dump, 'pg_dump');
is($dump_err, '', 'pg_dump warns about nothing (no circular foreign key in the token table)');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('target'), $dump ], 'pg_restore into a new database');

is($node->safe_psql('target', $checks), $before_checks, 'every token answers the same after restore');
is($node->safe_psql('target', $listing), $before_list, 'token_list is identical after restore');
is($node->safe_psql('target', "SELECT count(*) FROM influx_tokens.token_labels"), '2', 'labels restored');
is($node->safe_psql('target', q{
	SELECT c.parent_id = p.id FROM influx_tokens.token_list c, influx_tokens.token_list p
	WHERE c.description = 'child' AND p.description = 'parent'}), 't', 'the child still names its parent');

# The restored database goes on working: new ids follow the old ones.
my $max_id = $node->safe_psql('target', 'SELECT max(id) FROM influx_tokens.tokens');
$node->safe_psql('target', q{
	INSERT INTO handed_out VALUES ('new', influx_tokens.create_token('acme', '{write:buckets/logs}'))
});
cmp_ok($node->safe_psql('target', q{
	SELECT i.id FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = 'new'}),
	'>', $max_id, 'a token created after restore gets a new id');
is($node->safe_psql('target', q{
	SELECT influx_tokens.token_check(token, 'write', 'logs') FROM handed_out WHERE name = 'new'}),
	't', 'a token created after restore works');
is($node->safe_psql('target', "SELECT influx_tokens.create_bucket('acme', 'new_bucket') > 3"),
	't', 'bucket ids continue after restore');

$node->stop;
done_testing();
