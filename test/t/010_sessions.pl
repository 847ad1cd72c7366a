# Two live sessions: a change committed in one is in force in the other at
# its very next check, whatever that session has checked before and
# whatever its isolation level.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('sessions');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	SELECT influx_tokens.create_bucket('acme', 'logs');
	CREATE TABLE handed_out (name text PRIMARY KEY, token text);
	INSERT INTO handed_out
	SELECT name, influx_tokens.create_token('acme', perms)
	FROM (VALUES ('revoke', '{write:buckets/metrics}'::text[]),
	             ('delete', '{write:buckets/metrics}'),
	             ('expiry', '{write:buckets/metrics}'),
	             ('perm',   '{write:buckets/metrics}'),
	             ('drop',   '{write:buckets/logs}'),
	             ('rr',     '{write:buckets/metrics}')) AS v(name, perms);
});

# Tokens are handed to the checking session through a table, so that no
# token text ever appears in this test's log.
sub token_id
{
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT i.id FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = '$name'");
}

my $checker = $node->background_psql('postgres');

sub check
{
	my ($name, $action, $bucket) = @_;
	return $checker->query_safe(
		"SELECT influx_tokens.token_check(token, '$action', '$bucket') FROM handed_out WHERE name = '$name'");
}

sub cache_hits
{
	return $checker->query_safe('SELECT hits FROM influx_tokens.cache_stats()');
}

# Revoke in one session, denied in the other at once; reactivate likewise.
# The checking session has the token in its cache when the revoke commits.
is(check('revoke', 'write', 'metrics'), 't', 'token works before revoke');
my $hits = cache_hits();
is(check('revoke', 'write', 'metrics'), 't', 'token works from the cache');
cmp_ok(cache_hits(), '>', $hits, 'second check was a cache hit');
my $id = token_id('revoke');
$node->safe_psql('postgres', "SELECT influx_tokens.revoke_token($id)");
is(check('revoke', 'write', 'metrics'), 'f', 'revoke in another session is seen at the next check');
$node->safe_psql('postgres', "SELECT influx_tokens.activate_token($id)");
is(check('revoke', 'write', 'metrics'), 't', 'reactivation is seen at the next check');

# An uncommitted revoke elsewhere changes nothing until it commits.
my $admin = $node->background_psql('postgres');
$admin->query_safe("BEGIN; SELECT influx_tokens.revoke_token($id);");
is(check('revoke', 'write', 'metrics'), 't', 'uncommitted revoke in another session is not in force');
$admin->query_safe('COMMIT');
is(check('revoke', 'write', 'metrics'), 'f', 'revoke is in force right after its commit');

# Delete.
is(check('delete', 'write', 'metrics'), 't', 'token works before delete');
$id = token_id('delete');
$node->safe_psql('postgres', "SELECT influx_tokens.delete_token($id)");
is(check('delete', 'write', 'metrics'), 'f', 'delete in another session is seen at the next check');

# Expiry moved into the past (by a direct update, as set_token_expiry refuses the past).
is(check('expiry', 'write', 'metrics'), 't', 'token works before its expiry changes');
$id = token_id('expiry');
$node->safe_psql('postgres',
	"SELECT influx_tokens.set_token_expiry($id, clock_timestamp() + interval '300 ms')");
is(check('expiry', 'write', 'metrics'), 't', 'token works until its new expiry');
$node->safe_psql('postgres', 'SELECT pg_sleep(0.5)');
is(check('expiry', 'write', 'metrics'), 'f', 'token stops at the expiry set by another session');

# A permission changed with plain SQL by a superuser.
is(check('perm', 'write', 'metrics'), 't', 'token is cached before its permission changes');
$id = token_id('perm');
$node->safe_psql('postgres', "UPDATE influx_tokens.permissions SET action = 'read' WHERE token_id = $id");
is(check('perm', 'write', 'metrics'), 'f', 'direct permission change is seen at the next check');
is(check('perm', 'read', 'metrics'), 't', 'the new permission is in force');
$node->safe_psql('postgres', "UPDATE influx_tokens.permissions SET action = 'write' WHERE token_id = $id");

# Bucket rename: the grant follows the bucket in the other session's cache.
is(check('drop', 'write', 'logs'), 't', 'token works before its bucket is renamed');
$node->safe_psql('postgres', "SELECT influx_tokens.rename_bucket('acme', 'logs', 'logs2')");
is(check('drop', 'write', 'logs'), 'f', 'old bucket name refused after rename in another session');
is(check('drop', 'write', 'logs2'), 't', 'new bucket name allowed after rename in another session');
$node->safe_psql('postgres', "SELECT influx_tokens.rename_bucket('acme', 'logs2', 'logs')");

# Bucket drop.
is(check('drop', 'write', 'logs'), 't', 'token works before its bucket is dropped');
$node->safe_psql('postgres', "SELECT influx_tokens.drop_bucket('acme', 'logs')");
is(check('drop', 'write', 'logs'), 'f', 'bucket drop in another session is seen at the next check');
$node->safe_psql('postgres', "SELECT influx_tokens.create_bucket('acme', 'logs')");
is(check('drop', 'write', 'logs'), 'f', 'a new bucket with the old name is not granted');

# Creating tokens, buckets and organizations in another session invalidates
# nothing: a cache holds only what exists, so it stays warm.
is(check('perm', 'write', 'metrics'), 't', 'token is cached before others create tokens');
my $invalidations = $checker->query_safe('SELECT invalidations FROM influx_tokens.cache_stats()');
$node->safe_psql('postgres', q{
	SELECT count(*) FROM influx_tokens.create_tokens('acme', '{read:buckets}', 100);
	SELECT influx_tokens.create_token('acme', '{write:buckets/metrics}');
	SELECT influx_tokens.create_bucket('acme', 'created_meanwhile');
	SELECT influx_tokens.create_org('created_meanwhile');
	WITH parent AS (SELECT influx_tokens.create_token('acme', '{write:authorizations,write:buckets/metrics}') AS t)
	SELECT influx_tokens.create_token_as(t, '{write:buckets/metrics}') IS NOT NULL FROM parent;
});
$hits = cache_hits();
is(check('perm', 'write', 'metrics'), 't', 'token still works after others created tokens');
cmp_ok(cache_hits(), '>', $hits, '... answered from the cache');
is($checker->query_safe('SELECT invalidations FROM influx_tokens.cache_stats()'), $invalidations,
	'creating tokens, buckets and organizations elsewhere invalidated nothing');

# A REPEATABLE READ transaction still sees a revoke committed after its snapshot.
$checker->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is(check('rr', 'write', 'metrics'), 't', 'token works inside a repeatable read transaction');
$id = token_id('rr');
$node->safe_psql('postgres', "SELECT influx_tokens.revoke_token($id)");
is(check('rr', 'write', 'metrics'), 'f', 'revoke is in force inside an older repeatable read snapshot');
is($checker->query_safe(q{SELECT i.status FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = 'rr'}),
	'inactive', 'token_info says what token_check says, inside the same older snapshot');
$checker->query_safe('COMMIT');

$checker->quit;
$admin->quit;
$node->stop;
done_testing();
