# Concurrency: pgbench clients check tokens continuously while others create,
# revoke, reactivate and delete tokens and drop buckets.  No errors, no
# deadlocks, and no check is allowed after the change that forbids it has
# committed: a changer records ("acks") each change in a second transaction
# after the first committed, and a checker that sees the ack in its
# statement's snapshot must be refused (else it divides by zero at run time
# and pgbench fails).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('concurrency');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 40\n");
# No autovacuum: its relcache invalidations would hide a missing one of ours.
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'main');
	SELECT influx_tokens.create_bucket('acme', 'd' || k) FROM generate_series(1, 40) AS k;
	CREATE TABLE handed_out (pool text, k int, id bigint, token text, PRIMARY KEY (pool, k));
	CREATE TABLE acked (pool text, k int, PRIMARY KEY (pool, k));
	CREATE TABLE created (token text);
	INSERT INTO handed_out (pool, k, token)
	SELECT pool, k, influx_tokens.create_token('acme',
	           CASE WHEN pool = 'drop' THEN ARRAY['write:buckets/d' || k] ELSE '{write:buckets/main}' END)
	FROM (VALUES ('revoke', 30), ('delete', 30), ('churn', 50), ('drop', 40)) AS p(pool, n),
	     generate_series(1, n) AS k;
	UPDATE handed_out h SET id = (SELECT i.id FROM influx_tokens.token_info(h.token) AS i);
});

# Checkers run in clients of their own, so that their caches live long enough
# to hold tokens when the changes commit.
my %checkers = (
	# Every token is checked (and so cached) whether or not its change has been
	# acknowledged; after the acknowledgment only a refusal is allowed.
	'check_revoke@10' => q{
\set k random(1, 30)
SELECT CASE WHEN c.allowed AND a.k IS NOT NULL THEN 1 / (a.k - a.k) ELSE 0 END
FROM handed_out h LEFT JOIN acked a ON a.pool = h.pool AND a.k = h.k,
     LATERAL (SELECT influx_tokens.token_check(h.token, 'write', 'main') AS allowed OFFSET 0) AS c
WHERE h.pool = 'revoke' AND h.k = :k;
},
	'check_delete@10' => q{
\set k random(1, 30)
SELECT CASE WHEN c.allowed AND a.k IS NOT NULL THEN 1 / (a.k - a.k) ELSE 0 END
FROM handed_out h LEFT JOIN acked a ON a.pool = h.pool AND a.k = h.k,
     LATERAL (SELECT influx_tokens.token_check(h.token, 'write', 'main') AS allowed OFFSET 0) AS c
WHERE h.pool = 'delete' AND h.k = :k;
},
	'check_drop@6' => q{
\set k random(1, 40)
SELECT CASE WHEN c.allowed AND a.k IS NOT NULL THEN 1 / (a.k - a.k) ELSE 0 END
FROM handed_out h LEFT JOIN acked a ON a.pool = h.pool AND a.k = h.k,
     LATERAL (SELECT influx_tokens.token_check(h.token, 'write', 'd' || h.k) AS allowed OFFSET 0) AS c
WHERE h.pool = 'drop' AND h.k = :k;
},
	'check_churn@6' => q{
\set k random(1, 50)
SELECT influx_tokens.token_check(token, 'write', 'main') IS NOT NULL OR 1 / (k - k) = 1 FROM handed_out WHERE pool = 'churn' AND k = :k;
},
);

my %changers = (
	'revoke@2' => q{
\set k random(1, 30)
SELECT influx_tokens.revoke_token(id) FROM handed_out WHERE pool = 'revoke' AND k = :k;
INSERT INTO acked VALUES ('revoke', :k) ON CONFLICT DO NOTHING;
},
	'delete@2' => q{
\set k random(1, 30)
SELECT count(*) AS deleted FROM (
  SELECT influx_tokens.delete_token(id) FROM (
    SELECT t.id FROM influx_tokens.tokens t JOIN handed_out h ON h.id = t.id
    WHERE h.pool = 'delete' AND h.k = :k FOR UPDATE OF t SKIP LOCKED) AS locked) AS done \gset
\if :deleted
INSERT INTO acked VALUES ('delete', :k) ON CONFLICT DO NOTHING;
\endif
},
	'drop@1' => q{
\set k random(1, 40)
SELECT count(*) AS dropped FROM (
  SELECT influx_tokens.drop_bucket('acme', name) FROM (
    SELECT b.name FROM influx_tokens.buckets b WHERE b.name = 'd' || :k FOR UPDATE SKIP LOCKED) AS locked) AS done \gset
\if :dropped
INSERT INTO acked VALUES ('drop', :k) ON CONFLICT DO NOTHING;
\endif
},
	'churn@2' => q{
\set k random(1, 50)
SELECT CASE WHEN random() < 0.5 THEN influx_tokens.revoke_token(id) ELSE influx_tokens.activate_token(id) END
FROM handed_out WHERE pool = 'churn' AND k = :k;
},
	'create@3' => q{
INSERT INTO created SELECT influx_tokens.create_token('acme', '{write:buckets/main}', 'concurrent', '{load}');
},
);

# The changers run in the background for as long as the checkers run.
my $changer_dir = $node->basedir . '/changers';
mkdir $changer_dir;
my @changer_files;
for my $name (sort keys %changers)
{
	my ($file, $weight) = split /\@/, $name;
	PostgreSQL::Test::Utils::append_to_file("$changer_dir/$file.sql", $changers{$name});
	push @changer_files, '-f', "$changer_dir/$file.sql\@$weight";
}
my ($changer_out, $changer_err) = ('', '');
# Flipping a token to the status it already has is a NOTICE, not a problem.
local $ENV{PGOPTIONS} = '-c client_min_messages=warning';
my $changers = IPC::Run::start(
	[ 'pgbench', '--no-vacuum', '--client=4', '--jobs=1', '--time=12', @changer_files,
	  $node->connstr('postgres') ],
	'>', \$changer_out, '2>', \$changer_err);

$node->pgbench('--no-vacuum --client=4 --jobs=1 --time=12', 0,
	[ qr{number of failed transactions: 0 \(0\.000%\)}, qr{processed: [1-9]} ],
	[ qr{^$} ], 'checkers run without errors, and no check passes after its revoke, delete or drop is acknowledged',
	\%checkers);
ok($changers->finish, 'changers ran without errors');
is($changer_err, '', 'changers reported nothing on stderr');
like($changer_out, qr{number of failed transactions: 0 \(0\.000%\)}, 'no changer transaction failed (no deadlock)');

# After the storm: every acknowledged change holds, as seen from a fresh session.
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM acked a JOIN handed_out h USING (pool, k)
	WHERE influx_tokens.token_check(h.token, 'write', CASE WHEN h.pool = 'drop' THEN 'd' || h.k ELSE 'main' END)}),
	'0', 'no acknowledged revoke, delete or bucket drop lets a check through');
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM acked'), '>', 10, 'changes happened during the run');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM handed_out h WHERE h.pool = 'revoke' AND NOT EXISTS (SELECT FROM acked a WHERE a.pool = 'revoke' AND a.k = h.k)
	AND NOT influx_tokens.token_check(h.token, 'write', 'main')}),
	'0', 'tokens nobody revoked still work');

# Concurrent creation: distinct tokens, no lost rows, every one working with its labels.
my $created = $node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT token) FROM created');
my ($n, $distinct) = split /\|/, $created;
cmp_ok($n, '>', 10, "tokens were created concurrently ($n)");
is($distinct, $n, 'all concurrently created tokens are distinct');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM created c WHERE influx_tokens.token_check(c.token, 'write', 'main')
	AND (SELECT labels FROM influx_tokens.token_info(c.token)) = '{load}'}),
	$n, 'every concurrently created token is stored whole and works');
is($node->safe_psql('postgres', q{SELECT count(*) FROM influx_tokens.token_list WHERE description = 'concurrent'}),
	$n, 'no token row was lost or duplicated');

$node->stop;
done_testing();
