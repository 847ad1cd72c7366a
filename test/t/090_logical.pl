# Logical replication is a supported topology: a publisher and a subscriber
# both have the extension, the extension's tables are published (FOR ALL
# TABLES), and the subscriber answers checks.
# - Every management function works on the publisher, also those that
#   delete rows (a published table needs a replica identity).
# - A change applied on the subscriber is in force in a subscriber session
#   that had the token cached, at its next check after the apply (the apply
#   worker fires row-level triggers only; see cache.c).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->append_conf('postgresql.conf', "max_prepared_transactions = 4\n");
$pub->start;
my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init;
# The subscriber preloads the library: its backends share a cache, and the
# apply worker's row-level triggers publish each changed token.
$sub->append_conf('postgresql.conf',
	"shared_preload_libraries = 'influx_tokens'\nmax_prepared_transactions = 4\n");
$sub->start;

# The table the test hands tokens over with exists on both sides, so that no
# token text is ever written into this test's log.
for my $node ($pub, $sub)
{
	$node->safe_psql('postgres', q{
		CREATE EXTENSION influx_tokens;
		CREATE TABLE handed_out (name text PRIMARY KEY, token text);
	});
}

$pub->safe_psql('postgres', q{
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	SELECT influx_tokens.create_bucket('acme', 'logs');
	INSERT INTO handed_out
	SELECT name, influx_tokens.create_token('acme', perms)
	FROM (VALUES ('revoke', '{write:buckets/metrics}'::text[]),
	             ('delete', '{write:buckets/metrics}'),
	             ('perm',   '{write:buckets/metrics}'),
	             ('drop',   '{write:buckets/logs}'),
	             ('rotate', '{write:buckets/metrics}'),
	             ('prepared', '{write:buckets/metrics}'),
	             ('parent', '{write:authorizations,write:buckets/metrics}')) AS v(name, perms);
	INSERT INTO handed_out
	SELECT 'child', influx_tokens.create_token_as(token, '{write:buckets/metrics}')
	FROM handed_out WHERE name = 'parent';
	CREATE PUBLICATION everything FOR ALL TABLES;
});
my $pub_connstr = $pub->connstr . ' dbname=postgres';
# two_phase: the subscriber prepares what the publisher prepares, and its
# apply worker commits it (not through a COMMIT PREPARED statement).
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION everything CONNECTION '$pub_connstr' PUBLICATION everything WITH (two_phase = true)");
$sub->wait_for_subscription_sync($pub, 'everything');

my $checker = $sub->background_psql('postgres');

sub check
{
	my ($name, $bucket) = @_;
	return $checker->query_safe(
		"SELECT influx_tokens.token_check(token, 'write', '$bucket') FROM handed_out WHERE name = '$name'");
}

sub cache_stats
{
	return $checker->query_safe('SELECT hits || \' \' || invalidations FROM influx_tokens.cache_stats()');
}

# The subscriber session knows every token and has it cached.
my %before = (revoke => 'metrics', delete => 'metrics', perm => 'metrics', drop => 'logs',
	rotate => 'metrics', child => 'metrics');
for my $name (sort keys %before)
{
	is(check($name, $before{$name}), 't', "subscriber: $name works before the change");
}
my ($hits) = split / /, cache_stats();
check('revoke', 'metrics');
my ($hits_after, $invalidations) = split / /, cache_stats();
cmp_ok($hits_after, '>', $hits, 'subscriber: a second check is a cache hit');

# Changes on the publisher, each by the function an administrator uses; the
# ones that delete rows need a replica identity on every published table.
sub change_ok
{
	my ($sql, $what) = @_;
	my ($ret, $out, $err) = $pub->psql('postgres', $sql);
	is($ret, 0, "publisher: $what") or diag($err);
}
change_ok(q{SELECT influx_tokens.revoke_token(token) FROM handed_out WHERE name = 'revoke'},
	'revoke_token');
change_ok(q{SELECT influx_tokens.delete_token(token) FROM handed_out WHERE name = 'delete'},
	'delete_token');
change_ok(q{SELECT influx_tokens.set_token_permissions(token, '{write:buckets/logs}')
            FROM handed_out WHERE name = 'perm'}, 'set_token_permissions');
change_ok(q{SELECT influx_tokens.drop_bucket('acme', 'logs')}, 'drop_bucket');
change_ok(q{UPDATE handed_out SET token = influx_tokens.rotate_token(token) WHERE name = 'rotate'},
	'rotate_token');
change_ok(q{SELECT influx_tokens.revoke_token(token, cascade => true) FROM handed_out WHERE name = 'parent'},
	'revoke_token with cascade');
$pub->wait_for_catchup('everything');

# The same long-lived subscriber session, at its next check.
is(check('revoke', 'metrics'), 'f', 'subscriber: a revoked token is refused');
is(check('delete', 'metrics'), 'f', 'subscriber: a deleted token is refused');
is(check('perm', 'metrics'), 'f', 'subscriber: a permission taken away is refused');
is(check('drop', 'logs'), 'f', 'subscriber: a grant on a dropped bucket is refused');
is(check('child', 'metrics'), 'f', 'subscriber: a child revoked by cascade is refused');
is(check('rotate', 'metrics'), 't', 'subscriber: the new secret of a rotated token works');
cmp_ok($sub->safe_psql('postgres', 'SELECT changes FROM influx_tokens.shared_cache_stats()'), '>', 0,
	'subscriber: the apply worker published each changed token');
is((split / /, cache_stats())[1], $invalidations,
	'subscriber: the session dropped those tokens only, its cache was never cleared');

$pub->safe_psql('postgres', q{
	INSERT INTO handed_out SELECT 'reactivate', influx_tokens.create_token('acme', '{read:buckets}')});
$pub->wait_for_catchup('everything');
is($checker->query_safe(q{SELECT influx_tokens.token_check(token, 'read', 'metrics')
                          FROM handed_out WHERE name = 'reactivate'}), 't',
	'subscriber: a token created after the subscription works');
$pub->safe_psql('postgres', q{SELECT influx_tokens.revoke_token(token) FROM handed_out WHERE name = 'reactivate'});
$pub->wait_for_catchup('everything');
is($checker->query_safe(q{SELECT influx_tokens.token_check(token, 'read', 'metrics')
                          FROM handed_out WHERE name = 'reactivate'}), 'f',
	'subscriber: ... and is refused once revoked');
$pub->safe_psql('postgres', q{SELECT influx_tokens.activate_token(token) FROM handed_out WHERE name = 'reactivate'});
$pub->wait_for_catchup('everything');
is($checker->query_safe(q{SELECT influx_tokens.token_check(token, 'read', 'metrics')
                          FROM handed_out WHERE name = 'reactivate'}), 't',
	'subscriber: ... and works again once reactivated');

# A prepared transaction on the publisher, prepared and committed on the
# subscriber by the apply worker: the revoke is in force in the cached
# session and in a new backend (the shared cache) once applied.
is($checker->query_safe(q{SELECT influx_tokens.token_check(token, 'write', 'metrics')
                          FROM handed_out WHERE name = 'prepared'}), 't',
	'subscriber: a token works before a prepared revoke');
is($sub->safe_psql('postgres', q{SELECT influx_tokens.token_check(token, 'write', 'metrics')
                                 FROM handed_out WHERE name = 'prepared'}), 't',
	'subscriber: also in a new backend (now shared)');
$pub->safe_psql('postgres', q{
	BEGIN;
	SELECT influx_tokens.revoke_token(token) FROM handed_out WHERE name = 'prepared';
	PREPARE TRANSACTION 'revoke_prepared';});
$pub->wait_for_catchup('everything');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'), '1',
	'subscriber: the transaction is prepared there too');
is($sub->safe_psql('postgres', q{SELECT influx_tokens.token_check(token, 'write', 'metrics')
                                 FROM handed_out WHERE name = 'prepared'}), 't',
	'subscriber: the prepared revoke is not in force yet');
$pub->safe_psql('postgres', "COMMIT PREPARED 'revoke_prepared'");
$pub->wait_for_catchup('everything');
is($sub->safe_psql('postgres', q{SELECT influx_tokens.token_check(token, 'write', 'metrics')
                                 FROM handed_out WHERE name = 'prepared'}), 'f',
	'subscriber: after the apply worker commits it, a new backend refuses the token');
is($checker->query_safe(q{SELECT influx_tokens.token_check(token, 'write', 'metrics')
                          FROM handed_out WHERE name = 'prepared'}), 'f',
	'subscriber: and so does the session that had it cached');

# The subscriber's own tables: every published table has a replica identity.
is($pub->safe_psql('postgres', q{
	SELECT string_agg(c.relname, ',' ORDER BY c.relname)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'influx_tokens' AND c.relkind = 'r'
	  AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)}), '',
	'every table of the extension has a primary key');

$checker->quit;
done_testing();
