# A token passed as a bind parameter in any argument of any function an
# application or an administrator calls is never quoted back, neither to
# the client nor into the server log: PostgreSQL's own input functions
# quote the values they refuse ("invalid input syntax for type bigint",
# "malformed array literal", timestamps, booleans, JSON), before any
# function of ours runs, and the library's emit_log_hook takes tokens out
# of every report of a backend that has loaded it (shared_preload_libraries
# here).  The server logs hostilely: every statement with its bind
# parameters, and the parameters of failed statements.  Also: README's
# import recipe with a truncated export.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('bind_parameters');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'influx_tokens'
log_statement = 'all'
log_min_duration_statement = 0
log_parameter_max_length = -1
log_parameter_max_length_on_error = -1
log_min_error_statement = info
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION influx_tokens;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	CREATE TABLE handed_out AS
	SELECT influx_tokens.create_token('acme', '{write:authorizations,write:buckets/metrics}') AS token;
});
my $token = $node->safe_psql('postgres', 'SELECT token FROM handed_out');
# An InfluxDB 2 token and an InfluxDB 3 one, as an import would bring them.
my $influx2 = 'Sn' . ('aXtpY8FrmW6F5gJYZvz-HvqK5m8C7_eHIT' x 3) . 'AEY3fC9kfTC5vYLUVHPdGmJfMDXx2oZQ';
$influx2 = substr($influx2, 0, 86) . '==';
my $influx3 = 'apiv3_' . ('Q2hhbmdlIHRoaXMgdG9rZW4gYmVmb3JlIHVzZQ' x 2);

# A harmless value of each argument type, for the arguments that do not
# get the token.
my %harmless = (
	'text' => 'acme', 'text[]' => '{}', 'bigint' => '1', 'boolean' => 'false',
	'timestamp with time zone' => 'infinity', 'interval' => '0', 'jsonb' => '[]',
	'integer' => '1');

# Every function of the extension but the internal ones (named _...), with
# its argument types.
my @functions = map { [ split /\|/ ] } split /\n/, $node->safe_psql('postgres', q{
	SELECT p.proname || '|' || coalesce(string_agg(format_type(t.type, NULL), '|' ORDER BY t.n), '')
	FROM pg_proc p LEFT JOIN LATERAL unnest(p.proargtypes) WITH ORDINALITY AS t(type, n) ON true
	WHERE p.pronamespace = 'influx_tokens'::regnamespace AND p.proname NOT LIKE '\_%'
	  AND p.prorettype <> 'trigger'::regtype
	GROUP BY p.oid, p.proname ORDER BY p.proname, p.oid});
cmp_ok(scalar(@functions), '>=', 30, 'the functions of the extension are listed');

my $script = $node->basedir . '/call.sql';
my ($calls, $quoted_to_client) = (0, 0);
my @secrets = ($token, $influx2, $influx3);
for my $function (@functions)
{
	my ($name, @types) = @$function;
	for my $k (0 .. $#types)
	{
		next unless exists $harmless{ $types[$k] };
		for my $secret (@secrets)
		{
			# pgbench -M prepared sends the variables as bind parameters of
			# unspecified type; the casts give each its argument's type.
			my @args = map { ":a$_\::" . ($types[$_] eq 'text[]' ? 'text[]' : $types[$_]) } 0 .. $#types;
			open(my $fh, '>', $script) or die;
			print $fh "SELECT influx_tokens.$name(" . join(', ', @args) . ");\n";
			close $fh;
			my @defines = map { ('-D', "a$_=" . ($_ == $k ? $secret : $harmless{ $types[$_] })) } 0 .. $#types;
			my ($out, $err) = ('', '');
			IPC::Run::run([ 'pgbench', '-n', '-t', '1', '-M', 'prepared', '-f', $script, @defines,
					'-h', $node->host, '-p', $node->port, 'postgres' ],
				'>', \$out, '2>', \$err);
			$calls++;
			if (index($out . $err, $secret) >= 0 || index($out . $err, substr($secret, 4, 24)) >= 0)
			{
				$quoted_to_client++;
				diag("quoted back: $name, argument " . ($k + 1) . " ($types[$k])");
			}
		}
	}
}
cmp_ok($calls, '>=', 150, "every argument of every function got each kind of token ($calls calls)");
is($quoted_to_client, 0, 'no error sent to the client quotes a token or a piece of one');

# README's import recipe with an export cut off in the middle of a token:
# the text form says where and quotes nothing; jsonb's own error (a cast in
# the caller's query) has its pieces of input taken out.
my $export = '[{"id": "0a1b2c3d4e5f6071", "org": "acme", "token": "' . $influx2 . '"}]';
open(my $file, '>', $node->data_dir . '/auths.json') or die;
print $file substr($export, 0, length($export) - 34);
close $file;
for my $call ("pg_read_file('auths.json')", "pg_read_file('auths.json')::jsonb")
{
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT influx_tokens.import_influxdb2($call)");
	like($err, qr/not valid JSON|invalid input syntax for type json/, "truncated export refused: import_influxdb2($call)");
	is(index($err, substr($influx2, 20, 20)), -1, "no piece of its token in the error: import_influxdb2($call)");
}

my $log = slurp_file($node->logfile);
like($log, qr/invalid input syntax for type bigint: "\(redacted\)"/, 'bigint arguments: the error is in the log, redacted');
like($log, qr/malformed array literal: "\(redacted\)"/, 'array arguments: redacted');
like($log, qr/invalid input syntax for type timestamp with time zone: "\(redacted\)"/, 'timestamp arguments: redacted');
like($log, qr/invalid input syntax for type boolean: "\(redacted\)"/, 'boolean arguments: redacted');
like($log, qr/invalid input syntax for type json/, 'jsonb arguments: refused');
like($log, qr/parameters: \$1 = /, 'bind parameters were logged');
is(scalar(grep { index($log, $_) >= 0 } @secrets), 0, 'no token appears in the server log');
is(scalar(grep { index($log, substr($_, 6, 24)) >= 0 } @secrets), 0, 'nor any piece of one');
unlike($log, qr/ixt_[0-9A-Za-z]{16}/, 'nothing shaped like one of our tokens appears in the server log');

$node->stop;
done_testing();
