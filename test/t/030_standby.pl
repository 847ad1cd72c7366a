# Checks on a streaming-replication hot standby: tokens created on the
# primary work there after replay; revoke, delete, expiry change and bucket
# drop on the primary are refused there after replay, also by a standby
# session that was connected (with the token cached) all along; management
# functions fail with a read-only error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
# Preloaded on both (the standby's configuration is the primary's): the primary's backends share a cache and invalidate per
# token; the standby's cannot (replay publishes nothing), and keep the
# coarse invalidation that replay delivers.
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'influx_tokens'\n");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	SELECT influx_tokens.create_bucket('acme', 'logs');
	CREATE TABLE handed_out (name text PRIMARY KEY, token text);
});
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

# Tokens are created after the standby exists: they reach it by replay.
$primary->safe_psql('postgres', q{
	INSERT INTO handed_out
	SELECT name, influx_tokens.create_token('acme', perms)
	FROM (VALUES ('revoke', '{write:buckets/metrics}'::text[]),
	             ('delete', '{write:buckets/metrics}'),
	             ('expiry', '{write:buckets/metrics}'),
	             ('drop',   '{write:buckets/logs}'),
	             ('reader', '{read:buckets,read:orgs}')) AS v(name, perms);
});
$primary->wait_for_catchup($standby);

my $session = $standby->background_psql('postgres');

sub check
{
	my ($name, $action, $bucket) = @_;
	return $session->query_safe(
		"SELECT influx_tokens.token_check(token, '$action', '$bucket') FROM handed_out WHERE name = '$name'");
}

sub id_of
{
	my ($name) = @_;
	return $primary->safe_psql('postgres',
		"SELECT i.id FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = '$name'");
}

sub on_primary
{
	$primary->safe_psql('postgres', $_[0]);
	$primary->wait_for_catchup($standby);
}

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is(check('revoke', 'write', 'metrics'), 't', 'token created on the primary works on the standby');
is(check('revoke', 'write', 'metrics'), 't', 'and works again, from the standby session\'s cache');
cmp_ok($session->query_safe('SELECT hits FROM influx_tokens.cache_stats()'), '>', 0,
	'the standby session answered from its cache');
is(check('reader', 'read', 'logs'), 't', 'read-all token reads on the standby');
is(check('reader', 'write', 'logs'), 'f', 'read-all token does not write on the standby');
is($session->query_safe(
	"SELECT influx_tokens.token_allows(token, 'read:orgs') FROM handed_out WHERE name = 'reader'"),
	't', 'token_allows works on the standby');
is($session->query_safe(
	"SELECT i.permissions FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = 'reader'"),
	'{read:buckets,read:orgs}', 'token_info works on the standby');

on_primary('SELECT influx_tokens.revoke_token(' . id_of('revoke') . ')');
is(check('revoke', 'write', 'metrics'), 'f', 'revoke on the primary is refused on the standby after replay');

is(check('delete', 'write', 'metrics'), 't', 'token works on the standby before delete');
on_primary('SELECT influx_tokens.delete_token(' . id_of('delete') . ')');
is(check('delete', 'write', 'metrics'), 'f', 'delete on the primary is refused on the standby after replay');

is(check('expiry', 'write', 'metrics'), 't', 'token works on the standby before its expiry changes');
on_primary('SELECT influx_tokens.set_token_expiry(' . id_of('expiry')
	  . ", clock_timestamp() + interval '200 ms')");
$primary->safe_psql('postgres', 'SELECT pg_sleep(0.4)');
is(check('expiry', 'write', 'metrics'), 'f', 'expiry set on the primary is in force on the standby');

is(check('drop', 'write', 'logs'), 't', 'token works on the standby before its bucket is dropped');
on_primary("SELECT influx_tokens.drop_bucket('acme', 'logs')");
is(check('drop', 'write', 'logs'), 'f', 'bucket drop on the primary is refused on the standby after replay');

# The check path writes nothing, so it runs in a read-only transaction; management does not.
my ($ret, $out, $err) = $standby->psql('postgres',
	"SELECT influx_tokens.create_token('acme', '{read:orgs}')");
isnt($ret, 0, 'create_token fails on the standby');
like($err, qr/read-only transaction/, 'with a read-only error');
($ret, $out, $err) = $standby->psql('postgres', "SELECT influx_tokens.create_bucket('acme', 'x')");
like($err, qr/read-only transaction/, 'create_bucket fails on the standby with a read-only error');
($ret, $out, $err) = $standby->psql('postgres',
	"SELECT influx_tokens.revoke_token(i.id) FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = 'reader'");
like($err, qr/read-only transaction/, 'revoke_token fails on the standby with a read-only error');
is(check('reader', 'read', 'logs'), 'f', 'the dropped bucket stays refused');
is(check('reader', 'read', 'metrics'), 't', 'and the reader still reads what exists');
is($standby->safe_psql('postgres', 'SELECT stores FROM influx_tokens.shared_cache_stats()'), '0',
	'the standby\'s backends never fill the shared cache (replay publishes nothing to it)');
cmp_ok($primary->safe_psql('postgres', 'SELECT changes FROM influx_tokens.shared_cache_stats()'), '>', 0,
	'while the primary published its changes per token');

$session->quit;
$standby->stop;
$primary->stop;
done_testing();
