# Usage tracking with the library in shared_preload_libraries: counts per
# token across sessions, cached or not; last_used_at; kept over a clean
# restart and, thanks to the saving worker, over a crash; save_usage()
# forgets deleted tokens; the switch and the size limit are obeyed, and
# usage_stats() shows the checks the limit left uncounted.  The usage file
# has one writer (many concurrent save_usage() calls never fail), a file of
# another format or a damaged one is ignored with a LOG line, and two
# databases of one cluster keep their counters apart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('usage');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'influx_tokens'
influx_tokens.usage_save_interval = 1
influx_tokens.usage_max = 100
});
# query runs SQL and returns its output, or "ERROR: ..." without dying, so
# that a missing function fails one assertion rather than the whole file.
sub query
{
	my ($cluster, $db, $sql) = @_;
	my ($out, $err) = ('', '');
	$cluster->psql($db, $sql, stdout => \$out, stderr => \$err);
	return $err =~ /(ERROR:.*)/ ? $1 : $out;
}

$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'b');
	CREATE TABLE handed_out (name text PRIMARY KEY, token text);
	INSERT INTO handed_out VALUES
	  ('used', influx_tokens.create_token('acme', '{write:buckets/b}', 'used')),
	  ('idle', influx_tokens.create_token('acme', '{write:buckets/b}', 'idle'));
});

sub usage
{
	my ($description) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT concat_ws('|', checks_allowed, checks_denied, last_used_at IS NOT NULL)
		FROM influx_tokens.token_list WHERE description = '$description'});
}

sub check_used
{
	my ($allowed, $denied, %opts) = @_;
	my $settings = $opts{settings} // '';
	$node->safe_psql('postgres', qq{
		$settings
		SELECT count(influx_tokens.token_check(token, 'write', 'b')) FROM handed_out, generate_series(1, $allowed) WHERE name = 'used';
		SELECT count(influx_tokens.token_check(token, 'read', 'b')) FROM handed_out, generate_series(1, $denied) WHERE name = 'used';
	});
}

is(usage('idle'), '0|0|f', 'a token never checked: zero counts, no last use');
check_used(5, 2);
is(usage('used'), '5|2|t', 'allowed and denied checks are counted, last use recorded');
check_used(3, 1);
is(usage('used'), '8|3|t', 'another session adds to the counts');
check_used(2, 0, settings => 'SET influx_tokens.cache_size = 0;');
is(usage('used'), '10|3|t', 'checks without the cache are counted too');
check_used(4, 4, settings => 'SET influx_tokens.track_usage = off;');
is(usage('used'), '10|3|t', 'nothing is counted with influx_tokens.track_usage off');
cmp_ok($node->safe_psql('postgres', q{
	SELECT extract(epoch FROM clock_timestamp() - last_used_at) FROM influx_tokens.token_list WHERE description = 'used'}),
	'<', 60, 'last_used_at is recent');

# A clean restart keeps the counts (saved at shutdown).
$node->restart;
is(usage('used'), '10|3|t', 'counts survive a restart');

# A crash loses at most the last interval: the worker saved them.
check_used(1, 0);
sleep 2;
$node->stop('immediate');
$node->start;
is(usage('used'), '11|3|t', 'counts saved by the worker survive a crash');

# Deleted tokens are forgotten by save_usage().
$node->safe_psql('postgres', q{
	INSERT INTO handed_out VALUES ('doomed', influx_tokens.create_token('acme', '{write:buckets/b}', 'doomed'));
	SELECT influx_tokens.token_check(token, 'write', 'b') FROM handed_out WHERE name = 'doomed';
	SELECT influx_tokens.delete_token(i.id) FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = 'doomed';
});
is($node->safe_psql('postgres', 'SELECT influx_tokens.save_usage()'), '1', 'save_usage forgets the deleted token');
is($node->safe_psql('postgres', 'SELECT tracked_tokens FROM influx_tokens.usage_stats()'), '1', 'only the used token remains');

# No more than influx_tokens.usage_max tokens are counted; the rest read as zero.
$node->safe_psql('postgres', q{
	INSERT INTO handed_out SELECT 'many' || i, influx_tokens.create_token('acme', '{write:buckets/b}', 'many')
	FROM generate_series(1, 150) AS i;
	SELECT count(influx_tokens.token_check(token, 'write', 'b')) FROM handed_out WHERE name LIKE 'many%';
});
is($node->safe_psql('postgres', 'SELECT tracked_tokens FROM influx_tokens.usage_stats()'), '100', 'the counters stop at usage_max');
is(usage('used'), '11|3|t', 'tokens already counted go on being counted');

# usage_stats() shows what the limit left uncounted: 'used' was tracked, 99
# of the 150 new tokens found room, the checks of the other 51 were not
# counted.  The worker saves every second.
is(query($node, 'postgres', q{
	SELECT concat_ws('|', tracked_tokens, usage_max, untracked_checks,
	                 last_saved_at > now() - interval '1 minute')
	FROM influx_tokens.usage_stats()}),
	'100|100|51|t', 'usage_stats shows the tracked tokens, the limit, the checks left uncounted, a recent save');

# The check path writes nothing: a read-only transaction checks and counts.
$node->safe_psql('postgres', q{
	BEGIN READ ONLY;
	SELECT influx_tokens.token_check(token, 'write', 'b') FROM handed_out WHERE name = 'used';
	COMMIT;
});
is(usage('used'), '12|3|t', 'counted in a read-only transaction');

# ---- The usage file: a header with a format version, checked on load ----
# Each bad file below is ignored with a LOG line: the server starts and the
# counts read as zero.  The file saved at the clean shutdown is put back last.
my $usage_file = $node->data_dir . '/pg_stat/influx_tokens_usage.stat';
my $used_id = $node->safe_psql('postgres',
	q{SELECT id FROM influx_tokens.token_list WHERE description = 'used'});
$node->stop;

sub read_binary
{
	my ($path) = @_;
	open my $fh, '<:raw', $path or die "could not read $path: $!";
	local $/;
	my $data = <$fh>;
	close $fh;
	return $data;
}

sub write_binary
{
	my ($path, $data) = @_;
	open my $fh, '>:raw', $path or die "could not write $path: $!";
	print $fh $data;
	close $fh;
}

my $saved = read_binary($usage_file);
my %bad_files = (
	'a file of another format version' => substr($saved, 0, 4) . pack('L', 99) . substr($saved, 8),
	'a file in the format of 1.1 (no database)' =>
		pack('LLq', 0x49545531, 0, 1) . pack('qQQq', $used_id, 99, 0, 0),
	'a truncated file' => substr($saved, 0, length($saved) - 3),
	'a file of garbage' => 'this is not a usage file, but it is long enough to read a header from',
);
for my $what (sort keys %bad_files)
{
	write_binary($usage_file, $bad_files{$what});
	my $log_offset = -s $node->logfile;
	ok($node->start(fail_ok => 1), "the server starts with $what");
	ok($node->log_contains(qr/LOG:  ignoring .*file "pg_stat\/influx_tokens_usage\.stat"/, $log_offset),
		"$what is ignored with a LOG line");
	is(usage('used'), '0|0|f', "nothing is loaded from $what");
	$node->stop;
}
write_binary($usage_file, $saved);
$node->start;
is(usage('used'), '12|3|t', 'the file saved at shutdown loads whole');

$node->stop;

# ---- A second cluster: two databases, and many tracked tokens ----
my $cluster = PostgreSQL::Test::Cluster->new('usage_cluster');
$cluster->init;
$cluster->append_conf('postgresql.conf', q{
shared_preload_libraries = 'influx_tokens'
influx_tokens.usage_save_interval = 1
max_connections = 30
});
$cluster->start;

# Two databases with the extension: their token ids overlap (1 in both, 2 in
# db_b only), their counters must not.
for my $db ('db_a', 'db_b')
{
	$cluster->safe_psql('postgres', "CREATE DATABASE $db");
	$cluster->safe_psql($db, q{
		CREATE EXTENSION influx_tokens CASCADE;
		SELECT influx_tokens.create_org('acme');
		SELECT influx_tokens.create_bucket('acme', 'b');
		CREATE TABLE handed_out (name text PRIMARY KEY, token text);
	});
}
$cluster->safe_psql('db_a', q{
	INSERT INTO handed_out VALUES ('a1', influx_tokens.create_token('acme', '{write:buckets/b}', 'a1'));
});
$cluster->safe_psql('db_b', q{
	INSERT INTO handed_out VALUES ('b1', influx_tokens.create_token('acme', '{write:buckets/b}', 'b1'));
	INSERT INTO handed_out VALUES ('b2', influx_tokens.create_token('acme', '{write:buckets/b}', 'b2'));
});

sub usage_in
{
	my ($db, $description) = @_;
	return $cluster->safe_psql($db, qq{
		SELECT concat_ws('|', id, checks_allowed, checks_denied, last_used_at IS NOT NULL)
		FROM influx_tokens.token_list WHERE description = '$description'});
}

sub check_in
{
	my ($db, $name, $times) = @_;
	$cluster->safe_psql($db, qq{
		SELECT count(influx_tokens.token_check(token, 'write', 'b'))
		FROM handed_out, generate_series(1, $times) WHERE name = '$name'});
}

check_in('db_b', 'b1', 3);
check_in('db_b', 'b2', 2);
is(usage_in('db_a', 'a1'), '1|0|0|f', 'checks in db_b do not count for the token of db_a with the same id');
is(query($cluster, 'db_a', q{
	SELECT concat_ws('|', last_used_at IS NULL, checks_allowed, checks_denied) FROM influx_tokens._token_usage(2)}),
	't|0|0', '_token_usage in db_a does not see the token 2 of db_b');
is(usage_in('db_b', 'b1'), '1|3|0|t', 'db_b counts its own checks');
is(query($cluster, 'db_a', 'SELECT influx_tokens.save_usage()'), '0',
	'save_usage() in db_a forgets nothing of db_b');
is(usage_in('db_b', 'b2'), '2|2|0|t', "db_b's counters survive save_usage() in db_a");

check_in('db_a', 'a1', 1);
$cluster->restart;
is(join(' ', usage_in('db_a', 'a1'), usage_in('db_b', 'b1'), usage_in('db_b', 'b2')),
	'1|1|0|t 1|3|0|t 2|2|0|t', 'after a restart each database reads its own counters from the file');

$cluster->safe_psql('db_b', q{
	SELECT influx_tokens.delete_token(i.id) FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = 'b1';
});
is($cluster->safe_psql('db_b', 'SELECT influx_tokens.save_usage()'), '1',
	'save_usage() in db_b forgets the deleted token of db_b');
is(usage_in('db_a', 'a1'), '1|1|0|t', 'and not the token of db_a with the same id');

# One writer of the usage file: tens of thousands of tracked tokens (rows
# inserted directly, with the digest of an importable text, and checked
# once each), the worker saving every second, and 300 save_usage() calls
# from 6 sessions at once.  Two writers of one temporary file made some
# calls fail ("could not rename file").
my $tokens = 20000;
$cluster->safe_psql('postgres', qq{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	INSERT INTO influx_tokens.tokens (org_id, digest, description)
	SELECT o.id, sha256(convert_to('usage-race-' || lpad(i::text, 12, '0'), 'UTF8')), 'race'
	FROM influx_tokens.orgs AS o, generate_series(1, $tokens) AS i;
	SELECT count(influx_tokens.token_check('usage-race-' || lpad(i::text, 12, '0'), 'read', 'b'))
	FROM generate_series(1, $tokens) AS i;
});
is($cluster->safe_psql('postgres', q{SELECT count(*) FROM influx_tokens.token_list WHERE checks_denied = 1}),
	$tokens, "$tokens tokens are tracked");
# token_info and token_list read the counters of the tokens they show, by id:
# with every one of them tracked, one token_info call makes a fixed number
# of function calls (1.1 hashed and looked up the secret once per tracked
# token: 1.2 s per call at 100,000 tracked tokens).
is($cluster->safe_psql('postgres', q{
	SET track_functions = 'all';
	BEGIN;
	SELECT count(*) FROM influx_tokens.token_info('usage-race-' || lpad('1', 12, '0'));
	SELECT string_agg(p.proname || '=' || pg_stat_get_xact_function_calls(p.oid), ',' ORDER BY p.proname)
	FROM pg_proc p
	WHERE p.pronamespace = 'influx_tokens'::regnamespace AND pg_stat_get_xact_function_calls(p.oid) > 0;
	COMMIT;}), "1\n_token_usage=1,token_info=1",
	'one token_info call reads usage once, whatever the number of tracked tokens');
$cluster->pgbench('--no-vacuum --client=6 --jobs=2 --transactions=50', 0,
	[ qr{processed: 300/300}, qr{number of failed transactions: 0 } ], [ qr{^$} ],
	'300 concurrent save_usage() calls while the worker saves: none fails',
	{ 'save_usage' => 'SELECT influx_tokens.save_usage();' });
my @leftovers = glob($cluster->data_dir . '/pg_stat/influx_tokens_usage.stat.*');
is(scalar(@leftovers), 0, 'no temporary file is left behind');
$cluster->stop('immediate');
$cluster->start;
is($cluster->safe_psql('postgres', q{SELECT count(*) FROM influx_tokens.token_list WHERE checks_denied = 1}),
	$tokens, 'the file they wrote loads whole after a crash');

# The worker terminated by someone is started again (after bgw_restart_time,
# 10 s), and a save_usage() made meanwhile waits for it.  It has no database
# connection, so it is found by its process title, not in pg_stat_activity.
sub saver_pid
{
	my $postmaster = $cluster->{_pid};
	for my $line (split /\n/, `ps -o pid=,args= --ppid $postmaster`)
	{
		return $1 if $line =~ /^\s*(\d+)\s.*influx_tokens usage saver/;
	}
	return 0;
}
my $saver_pid = 0;
for (1 .. 100)
{
	last if ($saver_pid = saver_pid()) != 0;
	usleep(100_000);
}
isnt($saver_pid, 0, 'the saving worker runs');
kill 'TERM', $saver_pid;
is($cluster->safe_psql('postgres', 'SELECT influx_tokens.save_usage()'), '0',
	'save_usage() waits for a terminated saving worker to be started again');
my $new_saver_pid = saver_pid();
ok($new_saver_pid != 0 && $new_saver_pid != $saver_pid, 'a new saving worker runs');

# Without a free worker slot there is no saving worker: save_usage() says so
# after its 30 s wait, and the postmaster still saves at shutdown.
$cluster->append_conf('postgresql.conf', "max_worker_processes = 0\n");
$cluster->restart;
$cluster->safe_psql('postgres', q{
	SELECT count(influx_tokens.token_check('usage-race-' || lpad(i::text, 12, '0'), 'read', 'b'))
	FROM generate_series(1, 10) AS i;
});
like(query($cluster, 'postgres', 'SELECT influx_tokens.save_usage()'),
	qr/ERROR:  the usage counters were not saved: the background worker "influx_tokens usage saver" did not answer within 30 seconds/,
	'save_usage() without a saving worker fails with a clear error');
$cluster->append_conf('postgresql.conf', "max_worker_processes = 8\n");
$cluster->restart;
is($cluster->safe_psql('postgres', q{SELECT count(*) FROM influx_tokens.token_list WHERE checks_denied = 2}),
	'10', 'the postmaster saved the counters at shutdown');

$cluster->stop;
done_testing();
