# Crashes: the server is stopped in immediate mode (no shutdown checkpoint,
# like a power cut) in the middle of bulk token creation and of a
# revoke-heavy workload.  After restart every committed token works exactly
# as committed, nothing uncommitted is visible, and no token has a partial
# set of permissions.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'a');
	SELECT influx_tokens.create_bucket('acme', 'b');
	-- A token and its record here are created in the same transaction.
	CREATE TABLE created (token text PRIMARY KEY);
	CREATE TABLE revoked (id bigint PRIMARY KEY);
});

# Starts pgbench in the background with one script, for up to a minute.
sub start_pgbench
{
	my ($script, $clients) = @_;
	my $file = $node->basedir . "/script_" . int(rand(1e9)) . ".sql";
	PostgreSQL::Test::Utils::append_to_file($file, $script);
	my ($out, $err) = ('', '');
	return IPC::Run::start(
		[ 'pgbench', '--no-vacuum', "--client=$clients", '--jobs=2', '--time=60', '-f', $file,
		  $node->connstr('postgres') ],
		'>', \$out, '2>', \$err);
}

sub crash_while
{
	my ($what, $handle, $seconds) = @_;
	sleep $seconds;
	$node->stop('immediate');
	$handle->finish;    # pgbench fails once the server is gone; that is the point
	$node->start;
	note "crashed during $what, restarted";
}

my $token_state = q{
	SELECT count(*) AS tokens,
	       count(*) FILTER (WHERE (SELECT count(*) FROM influx_tokens.permissions p WHERE p.token_id = t.id) <> 3) AS partial,
	       count(*) FILTER (WHERE NOT EXISTS (SELECT FROM influx_tokens.token_labels l WHERE l.token_id = t.id)) AS unlabeled
	FROM influx_tokens.tokens t
};

# 1. Bulk creation: many small committed transactions, and one large uncommitted one.
my $small = start_pgbench(q{
INSERT INTO created SELECT influx_tokens.create_token('acme', '{write:buckets/a,read:buckets,read:orgs}', 'bulk', '{crash}');
}, 4);
my $large = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  q{INSERT INTO created SELECT influx_tokens.create_token('acme', '{write:buckets/a,read:buckets,read:orgs}', 'large', '{crash}') FROM generate_series(1, 1000000)} ],
	'>', \my $lout, '2>', \my $lerr);
crash_while('bulk creation', $small, 3);
$large->finish;

my $n_created = $node->safe_psql('postgres', 'SELECT count(*) FROM created');
cmp_ok($n_created, '>', 0, "tokens were committed before the crash ($n_created)");
is($node->safe_psql('postgres', $token_state), "$n_created|0|0",
	'exactly the committed tokens exist, each with all its permissions and labels');
is($node->safe_psql('postgres', q{SELECT count(*) FROM influx_tokens.token_list WHERE description = 'large'}),
	'0', 'nothing of the uncommitted bulk creation is visible');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM created c
	WHERE influx_tokens.token_check(c.token, 'write', 'a') AND influx_tokens.token_check(c.token, 'read', 'b')
	  AND NOT influx_tokens.token_check(c.token, 'write', 'b') AND influx_tokens.token_allows(c.token, 'read:orgs')}),
	$n_created, 'every committed token works exactly as created');

# 2. Revoke-heavy workload: each revoke is recorded in its own transaction.
$node->safe_psql('postgres',
	'CREATE TABLE ids AS SELECT row_number() OVER (ORDER BY id) AS k, id FROM influx_tokens.tokens');
my $revokes = start_pgbench(qq{
\\set k random(1, $n_created)
BEGIN;
SELECT influx_tokens.revoke_token(id) FROM ids WHERE k = :k;
INSERT INTO revoked SELECT id FROM ids WHERE k = :k ON CONFLICT DO NOTHING;
COMMIT;
}, 4);
crash_while('revokes', $revokes, 3);

my $n_revoked = $node->safe_psql('postgres', 'SELECT count(*) FROM revoked');
cmp_ok($n_revoked, '>', 0, "revokes were committed before the crash ($n_revoked)");
is($node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE r.id IS NOT NULL AND t.status <> 'inactive'),
	       count(*) FILTER (WHERE r.id IS NULL AND t.status <> 'active')
	FROM influx_tokens.tokens t LEFT JOIN revoked r ON r.id = t.id}),
	'0|0', 'exactly the committed revokes are in force');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM created c JOIN influx_tokens.token_info(c.token) i ON true
	LEFT JOIN revoked r ON r.id = i.id
	WHERE influx_tokens.token_check(c.token, 'write', 'a') = (r.id IS NOT NULL)}),
	'0', 'checks after restart refuse every revoked token and allow every other');
is($node->safe_psql('postgres', $token_state), "$n_created|0|0", 'no token was lost or damaged');

$node->stop;
done_testing();
