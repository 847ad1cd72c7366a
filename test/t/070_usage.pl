# Usage tracking with the library in shared_preload_libraries: counts per
# token across sessions, cached or not; last_used_at; kept over a clean
# restart and, thanks to the saving worker, over a crash; save_usage()
# forgets deleted tokens; the switch and the size limit are obeyed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('usage');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'influx_tokens'
influx_tokens.usage_save_interval = 1
influx_tokens.usage_max = 100
});
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
is($node->safe_psql('postgres', 'SELECT count(*) FROM influx_tokens._usage()'), '1', 'only the used token remains');

# No more than influx_tokens.usage_max tokens are counted; the rest read as zero.
$node->safe_psql('postgres', q{
	INSERT INTO handed_out SELECT 'many' || i, influx_tokens.create_token('acme', '{write:buckets/b}', 'many')
	FROM generate_series(1, 150) AS i;
	SELECT count(influx_tokens.token_check(token, 'write', 'b')) FROM handed_out WHERE name LIKE 'many%';
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM influx_tokens._usage()'), '100', 'the counters stop at usage_max');
is(usage('used'), '11|3|t', 'tokens already counted go on being counted');

# The check path writes nothing: a read-only transaction checks and counts.
$node->safe_psql('postgres', q{
	BEGIN READ ONLY;
	SELECT influx_tokens.token_check(token, 'write', 'b') FROM handed_out WHERE name = 'used';
	COMMIT;
});
is(usage('used'), '12|3|t', 'counted in a read-only transaction');

$node->stop;
done_testing();
