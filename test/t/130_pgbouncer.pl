# The transaction's current token behind a real connection pooler:
# PgBouncer in transaction pooling mode with 2 server connections and 8
# clients, each with a token for its own bucket, interleaving transactions
# that authenticate, read and write a table guarded by row-level security.
# No client ever sees or writes another's rows, and a transaction that does
# not authenticate sees nothing, whichever server connection (and whichever
# earlier client's transaction on it) it gets.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pgbouncer = '/usr/sbin/pgbouncer';
die "PgBouncer is not installed (test/install-deps.sh installs it)" unless -x $pgbouncer;

my $clients = 8;
my $node = PostgreSQL::Test::Cluster->new('pgbouncer');
$node->init;
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION influx_tokens;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'b' || i) FROM generate_series(1, $clients) AS i;
	CREATE TABLE handed_out AS
	SELECT i AS client, influx_tokens.create_token('acme', ARRAY['read:buckets/b' || i, 'write:buckets/b' || i]) AS token
	FROM generate_series(1, $clients) AS i;
	CREATE TABLE points (bucket text NOT NULL, line text NOT NULL);
	ALTER TABLE points ENABLE ROW LEVEL SECURITY;
	CREATE POLICY read_by_token ON points FOR SELECT USING (influx_tokens.current_token_check('read', bucket));
	CREATE POLICY write_by_token ON points FOR INSERT WITH CHECK (influx_tokens.current_token_check('write', bucket));
	CREATE ROLE app LOGIN;
	GRANT SELECT ON handed_out TO app;
	GRANT SELECT, INSERT ON points TO app;
});

# PgBouncer on a free port of the nodes' socket directory, in front of the node.
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $dir = $node->basedir;
open(my $users, '>', "$dir/userlist.txt") or die;
print $users qq{"app" ""\n};
close $users;
open(my $ini, '>', "$dir/pgbouncer.ini") or die;
print $ini "[databases]\npostgres = host=" . $node->host . " port=" . $node->port . " dbname=postgres\n"
  . "[pgbouncer]\nlisten_addr =\nlisten_port = $port\nunix_socket_dir = " . $node->host . "\n"
  . "auth_type = trust\nauth_file = $dir/userlist.txt\npool_mode = transaction\n"
  . "default_pool_size = 2\nmin_pool_size = 0\nreserve_pool_size = 0\nmax_client_conn = 50\n"
  . "logfile = $dir/pgbouncer.log\npidfile = $dir/pgbouncer.pid\n";
close $ini;
system($pgbouncer, '-d', "$dir/pgbouncer.ini") == 0 or die "pgbouncer did not start";

# The clients connect to PgBouncer's port: a node object that is never
# started stands for it (same socket directory, PgBouncer's port).
my $bouncer = PostgreSQL::Test::Cluster->new('bouncer', port => $port);
my @sessions;
for my $i (1 .. $clients)
{
	push @sessions, $bouncer->background_psql('postgres', extra_params => [ '-U', 'app' ], on_error_stop => 0);
}
is(scalar(@sessions), $clients, "$clients clients connected through PgBouncer");

# One client's transaction, in steps, so that two can be open at once.
sub begin_as
{
	my ($i) = @_;
	$sessions[ $i - 1 ]->query_safe('BEGIN');
	return $sessions[ $i - 1 ]->query_safe("SELECT influx_tokens.authenticate(token) FROM handed_out WHERE client = $i");
}

sub visible
{
	my ($i) = @_;
	return $sessions[ $i - 1 ]->query_safe(
		q{SELECT coalesce(string_agg(DISTINCT bucket, ',' ORDER BY bucket), '') FROM points});
}

my ($authenticated, $wrong_rows, $empty_without_token, $rounds) = (0, 0, 0, 0);
for my $round (1 .. 4)
{
	for my $i (1 .. $clients)
	{
		my $j = $i % $clients + 1;
		$authenticated += (begin_as($i) eq 't') + (begin_as($j) eq 't');
		$sessions[ $i - 1 ]->query_safe("INSERT INTO points VALUES ('b$i', 'round $round by $i')");
		$sessions[ $j - 1 ]->query_safe("INSERT INTO points VALUES ('b$j', 'round $round by $j')");
		$wrong_rows++ unless visible($i) eq "b$i";
		$wrong_rows++ unless visible($j) eq "b$j";
		$sessions[ $i - 1 ]->query_safe('COMMIT');
		$sessions[ $j - 1 ]->query_safe('COMMIT');
		# The next transaction of a third client, on a server connection one of
		# them just used, without authenticating: nothing.
		my $k = ($i + 3) % $clients + 1;
		$empty_without_token++ if visible($k) eq '';
		$rounds++;
	}
}
is($authenticated, 2 * $rounds, 'every client authenticated in every transaction');
is($wrong_rows, 0, 'no client ever saw a row of another client\'s bucket');
is($empty_without_token, $rounds, 'a transaction that did not authenticate saw no row, every time');

# A write into another client's bucket is refused, through the pool as well.
begin_as(1);
my ($out, $ret) = $sessions[0]->query(q{INSERT INTO points VALUES ('b2', 'forged by 1')});
like($sessions[0]->{stderr}, qr/new row violates row-level security policy/, 'a client cannot write another\'s bucket');
$sessions[0]->query('ROLLBACK');

is($node->safe_psql('postgres', q{SELECT count(*) FROM points WHERE line LIKE 'round % by %' AND bucket <> 'b' || split_part(line, ' ', 4)}),
	'0', 'every stored row is in its writer\'s bucket');
is($node->safe_psql('postgres', 'SELECT count(*) FROM points'), 2 * $rounds, 'and every row was stored');
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'}), '<=', 2,
	'the clients shared at most 2 server connections');

$_->quit for @sessions;
my $pid = slurp_file("$dir/pgbouncer.pid");
chomp $pid;
kill 'TERM', $pid;
$node->stop;
done_testing();
