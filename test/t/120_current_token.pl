# The transaction's current token (authenticate) across sessions, as behind
# a connection pooler in transaction mode:
# - the token's text is in no setting, in neither pg_settings nor
#   pg_stat_activity of any session, and not in the log;
# - a revoke committed in another session is in force at the current
#   token's next statement;
# - the next transaction on the same connection starts with no token.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('current_token');
$node->init;
$node->append_conf('postgresql.conf', "log_statement = 'all'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION influx_tokens;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	CREATE TABLE handed_out AS SELECT influx_tokens.create_token('acme', '{read:buckets}') AS token;
	CREATE ROLE app LOGIN;
	GRANT SELECT ON handed_out TO app;
});
my $token = $node->safe_psql('postgres', 'SELECT token FROM handed_out');

my $app = $node->background_psql('postgres', extra_params => [ '-U', 'app' ]);
$app->query_safe('BEGIN');
is($app->query_safe('SELECT influx_tokens.authenticate(token) FROM handed_out'), 't',
	'a session of the app role authenticates');
is($app->query_safe(q{SELECT influx_tokens.current_token_check('read', 'metrics')}), 't',
	'the token is current in its transaction');
is($app->query_safe(q{SELECT count(*) FROM pg_settings WHERE setting LIKE '%' || substr((SELECT token FROM handed_out), 5, 20) || '%'}),
	'0', 'no setting of the session holds the token');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
	WHERE position(substr((SELECT token FROM handed_out), 5, 20) IN coalesce(query, '')) > 0}),
	'0', 'no session\'s pg_stat_activity shows the token');

$node->safe_psql('postgres', q{SELECT influx_tokens.revoke_token(token) FROM handed_out});
is($app->query_safe(q{SELECT influx_tokens.current_token_check('read', 'metrics')}), 'f',
	'a revoke committed elsewhere is in force at the next statement');
is($app->query_safe('SELECT influx_tokens.current_token_id() IS NULL'), 't', '... and the token is no longer current');
$app->query_safe('COMMIT');

$node->safe_psql('postgres', q{SELECT influx_tokens.activate_token(token) FROM handed_out});
$app->query_safe('BEGIN');
is($app->query_safe('SELECT influx_tokens.authenticate(token) FROM handed_out'), 't', 'authenticated again');
$app->query_safe('COMMIT');
is($app->query_safe('SELECT influx_tokens.current_token_id() IS NULL'), 't',
	'the next transaction on the same connection has no current token');
is($app->query_safe(q{SELECT influx_tokens.current_token_check('read', 'metrics')}), 'f',
	'... and may do nothing');
$app->quit;

my $log = slurp_file($node->logfile);
like($log, qr/authenticate/, 'statements were logged');
is(index($log, substr($token, 4, 20)), -1, 'no token appears in the log');

$node->stop;
done_testing();
