# Claims of SECURITY.md that need a whole server to test:
# - no token text ends up anywhere in the database, nor in a dump of it;
# - pg_read_all_data sees digests, never tokens, and a plain role sees neither;
# - no token appears in the server log, even when every error is logged with
#   its statement and every statement with its bind parameters (with
#   log_parameter_max_length = 0, as SECURITY.md recommends);
# - nor in a plan logged by auto_explain (nested statements), when
#   management functions get the token as a bind parameter (1.2: the text
#   overloads and create_token_as hand it to C through simple expressions);
# - bytes that are not valid UTF-8 (in a SQL_ASCII database) are just data;
# - installation refuses an influx_tokens schema owned by another role.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('security');
$node->init;
$node->append_conf('postgresql.conf', q{
log_min_duration_statement = 0
log_parameter_max_length = 0
log_parameter_max_length_on_error = 0
log_min_error_statement = info
log_min_messages = info
shared_preload_libraries = 'auto_explain'
auto_explain.log_min_duration = 0
auto_explain.log_nested_statements = on
});
# From PostgreSQL 16 on auto_explain also logs the bind parameters of the
# statement it explains, unless told not to (as SECURITY.md says).
$node->append_conf('postgresql.conf', "auto_explain.log_parameter_max_length = 0\n")
  if $node->pg_version >= 16;
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	CREATE TABLE handed_out (name text PRIMARY KEY, token text);
	INSERT INTO handed_out SELECT 'token' || i, influx_tokens.create_token('acme', '{write:buckets/metrics,read:orgs}',
	    'token number ' || i, ARRAY['n:' || i]) FROM generate_series(1, 20) AS i;
	INSERT INTO handed_out VALUES ('parent', influx_tokens.create_token('acme',
	    '{write:authorizations,read:authorizations,write:buckets,read:buckets,write:buckets/metrics,read:orgs}', 'parent'));
	CREATE ROLE app LOGIN;
	CREATE ROLE reader LOGIN IN ROLE pg_read_all_data;
});
my @tokens = split /\n/, $node->safe_psql('postgres', 'SELECT token FROM handed_out ORDER BY name');
is(scalar(@tokens), 21, 'twenty-one tokens handed out');
my $parent = $node->safe_psql('postgres', q{SELECT token FROM handed_out WHERE name = 'parent'});

# Only the app's own table (handed_out, a stand-in for the app's secret store) has them.
$node->safe_psql('postgres', 'CREATE TABLE app_secrets AS SELECT * FROM handed_out; DROP TABLE handed_out');
my $dump = $node->basedir . '/all.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $dump, '--exclude-table=app_secrets' ],
	'pg_dump of everything but the app table');
my $dumped = slurp_file($dump);
like($dumped, qr/COPY influx_tokens\.tokens/, 'the dump holds the token table');
is(scalar(grep { index($dumped, $_) >= 0 } @tokens), 0, 'no token appears in the dump');
is(scalar(grep { index($dumped, substr($_, 4, 20)) >= 0 } @tokens), 0, 'nor any part of a token\'s random body');

# pg_read_all_data reads digests (not tokens); a plain role reads nothing.
is($node->safe_psql('postgres', 'SET ROLE reader; SELECT count(*) FROM influx_tokens.tokens'), '21',
	'pg_read_all_data can read the token table (digests)');
my ($ret, $out, $err) = $node->psql('postgres', 'SET ROLE app; SELECT count(*) FROM influx_tokens.tokens');
like($err, qr/permission denied for table tokens/, 'a plain role cannot read the token table');

# A day of mistakes, logged in full: tokens through bind parameters (pgbench
# -M prepared; chr(58) spells the colon of a permission, since pgbench would
# take ':orgs' in a literal for a variable) and through the app table, in
# every wrong argument.
$node->safe_psql('postgres', 'GRANT SELECT ON app_secrets TO app');
my $tok = $tokens[0];
$node->pgbench("--no-vacuum --client=2 --transactions=50 -M prepared -D tok=$tok", 0, [qr{processed: 100/100}], [],
	'checks with the token as a bind parameter', {
		'check' => q{SELECT influx_tokens.token_check(:tok, 'write', 'metrics');
SELECT influx_tokens.token_allows(:tok, 'read' || chr(58) || 'orgs');
SELECT count(*) FROM influx_tokens.token_info(:tok);
} });
my $managed = $tokens[1];
$node->pgbench("--no-vacuum --client=2 --transactions=20 -M prepared -D mt=$managed -D pt=$parent", 0,
	[qr{processed: 40/40}], [], 'management by token text and delegation, the tokens as bind parameters', {
		'manage' => q{SELECT influx_tokens.revoke_token(:mt);
SELECT influx_tokens.activate_token(:mt);
SELECT influx_tokens.set_token_description(:mt, 'described');
SELECT influx_tokens.add_token_labels(:mt, ARRAY['x']);
SELECT influx_tokens.set_token_expiry(:mt, NULL);
SELECT count(*) FROM influx_tokens.create_token_as_with_id(:pt, ARRAY['write' || chr(58) || 'buckets/metrics']);
SELECT influx_tokens.create_token_as(:pt, ARRAY['read' || chr(58) || 'orgs']) IS NOT NULL;
} });
# The token forms of management, the acting token as a bind parameter.
sub influx_id_of
{
	my ($name) = @_;
	return $node->safe_psql('postgres', "SELECT lpad(to_hex(i.id), 16, '0') FROM app_secrets AS s,"
		  . " influx_tokens.token_info(s.token) AS i WHERE s.name = '$name'");
}
my $managed_iid = influx_id_of('token1');    # $managed: the names sort as the tokens do
# A token rotates only itself and the tokens it created.
$node->safe_psql('postgres', q{
	INSERT INTO app_secrets SELECT 'child', influx_tokens.create_token_as(token,
	    '{write:authorizations,write:buckets/metrics,read:orgs}') FROM app_secrets WHERE name = 'parent'});
my $rotated_iid = influx_id_of('child');
my $org_iid = $node->safe_psql('postgres', "SELECT influx_id FROM influx_tokens.org_list WHERE name = 'acme'");
$node->pgbench("--no-vacuum --client=1 --transactions=10 -M prepared -D pt=$parent -D mid=$managed_iid "
	  . "-D rid=$rotated_iid -D oid=$org_iid", 0,
	[qr{processed: 10/10}], [], 'management by token (the token forms), the tokens as bind parameters', {
		'manage_as' => q{SELECT count(*) FROM influx_tokens.list_tokens_as(:pt);
SELECT (influx_tokens.find_token_as(:pt, :mid)).id IS NOT NULL;
SELECT influx_tokens.revoke_token_as(:pt, :mid);
SELECT influx_tokens.activate_token_as(:pt, :mid);
SELECT influx_tokens.set_token_description_as(:pt, :mid, 'described by token');
SELECT influx_tokens.set_token_expiry_as(:pt, :mid, NULL);
SELECT influx_tokens.set_token_permissions_as(:pt, :mid, ARRAY['write' || chr(58) || 'buckets/metrics', 'read' || chr(58) || 'orgs']);
SELECT influx_tokens.rotate_token_as(:pt, :rid) IS NOT NULL;
SELECT count(*) FROM influx_tokens.list_buckets_as(:pt);
SELECT (influx_tokens.create_bucket_as(:pt, :oid, 'by token')).name;
SELECT influx_tokens.drop_bucket_as(:pt, (SELECT b.influx_id FROM influx_tokens.list_buckets_as(:pt) AS b WHERE b.name = 'by token'));
SELECT count(*) FROM influx_tokens.list_orgs_as(:pt);
} });
for my $sql (
	q{SELECT influx_tokens.find_token_as(token, token) FROM app_secrets},
	q{SELECT influx_tokens.revoke_token_as(token, token) FROM app_secrets},
	q{SELECT influx_tokens.create_bucket_as(token, token, token) FROM app_secrets},
	q{SELECT influx_tokens.rename_bucket_as(token, token, token) FROM app_secrets},
	q{SELECT influx_tokens.find_org_as(token, token) FROM app_secrets},
	q{SELECT influx_tokens.set_token_description_as('ixt_x', token, token) FROM app_secrets},
	q{SELECT influx_tokens.token_check(token, token, 'metrics') FROM app_secrets},
	q{SELECT influx_tokens.token_allows(token, token) FROM app_secrets},
	q{SELECT influx_tokens.token_allows(token, 'write:buckets/' || token) FROM app_secrets},
	q{SELECT influx_tokens.create_org(token) FROM app_secrets},
	q{SELECT influx_tokens.create_bucket('acme', token) FROM app_secrets},
	q{SELECT influx_tokens.create_bucket(token, 'x') FROM app_secrets},
	q{SELECT influx_tokens.create_token('acme', ARRAY[token]) FROM app_secrets},
	q{SELECT influx_tokens.create_token('acme', '{read:orgs}', 'see ' || token) FROM app_secrets},
	q{SELECT influx_tokens.create_token('acme', '{read:orgs}', NULL, ARRAY[token]) FROM app_secrets},
	q{SELECT influx_tokens.rename_bucket('acme', 'metrics', token) FROM app_secrets},
	q{SELECT influx_tokens.drop_org(token) FROM app_secrets})
{
	my ($r, $o, $e) = $node->psql('postgres', $sql);
	isnt($r, 0, "refused: $sql");
	unlike($e, qr/ixt_[0-9A-Za-z]{20}/, "no token in the error: $sql");
}

my $log = slurp_file($node->logfile);
like($log, qr/duration: .*token_check/, 'statements were logged');
like($log, qr/Query Text: .*_set_status/, 'auto_explain logged the nested statements');
like($log, qr/ERROR: .*redacted: looks like a token/, 'errors were logged, redacted');
is(scalar(grep { index($log, $_) >= 0 } @tokens), 0, 'no token appears in the server log');
unlike($log, qr/ixt_[0-9A-Za-z]{40}/, 'nothing shaped like a token appears in the server log');

# Invalid UTF-8 where the encoding allows it: SQL_ASCII takes any bytes.
$node->safe_psql('postgres', q{CREATE DATABASE ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql('ascii', q{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'b');
	-- Random bytes 0x01-0xff (no NUL, which no text value holds), most of them not UTF-8.
	CREATE TABLE junk AS SELECT i, convert_from(decode(replace(substr(md5(i::text) || md5((i * 7)::text), 1, 2 + 2 * (i % 30)),
	                                                           '00', '01'), 'hex'), 'SQL_ASCII') AS s
	FROM generate_series(1, 3000) AS i;
	CREATE TABLE t AS SELECT influx_tokens.create_token('acme', '{write:buckets/b}') AS token;
});
is($node->safe_psql('ascii', q{
	SELECT count(*) FILTER (WHERE influx_tokens.token_check(s, 'write', 'b') IS NOT FALSE)
	     + count(*) FILTER (WHERE influx_tokens.token_check((SELECT token FROM t), 'write', s) IS NOT FALSE)
	     + count(*) FILTER (WHERE influx_tokens.token_allows(s, 'read:orgs') IS NOT FALSE)
	FROM junk}), '0', 'arbitrary bytes as token or bucket: always false, never NULL');
is($node->safe_psql('ascii', q{
	CREATE FUNCTION error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
	BEGIN EXECUTE statement; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END $$;
	SELECT string_agg(DISTINCT e, ',' ORDER BY e) FROM (
	  SELECT error_of(format('SELECT influx_tokens.create_bucket(%L, %L)', 'acme', s)) AS e FROM junk
	  UNION ALL SELECT error_of(format('SELECT influx_tokens.token_allows(%L, %L)', 'x', s)) FROM junk
	  UNION ALL SELECT error_of(format('SELECT influx_tokens.create_token(%L, ARRAY[%L])', 'acme', 'write:buckets/' || s)) FROM junk) x}),
	'22023,23505,ok', 'arbitrary bytes as names and permissions: created, or a clear error (invalid, duplicate)');
is($node->safe_psql('ascii', q{SELECT influx_tokens.token_check(token, 'write', 'b') FROM t}), 't',
	'the real token still works');

# An influx_tokens schema prepared by another role is refused at installation.
$node->safe_psql('postgres', q{CREATE DATABASE planted; CREATE ROLE planter});
$node->safe_psql('planted', q{CREATE SCHEMA influx_tokens AUTHORIZATION planter});
($ret, $out, $err) = $node->psql('planted', 'CREATE EXTENSION influx_tokens CASCADE');
like($err, qr/schema influx_tokens exists and is owned by another role/,
	'installation refuses a schema owned by another role');
is($node->safe_psql('planted', q{SELECT count(*) FROM pg_extension WHERE extname = 'influx_tokens'}), '0',
	'and installs nothing');

# A schema of the installer's own is refused too when another role may create in it, or it holds objects.
$node->safe_psql('postgres', q{CREATE DATABASE open_schema; CREATE DATABASE full_schema});
$node->safe_psql('open_schema', q{CREATE SCHEMA influx_tokens; GRANT CREATE ON SCHEMA influx_tokens TO planter});
($ret, $out, $err) = $node->psql('open_schema', 'CREATE EXTENSION influx_tokens');
like($err, qr/another role may create objects in schema influx_tokens/,
	'installation refuses a schema another role may create objects in');
$node->safe_psql('full_schema', q{CREATE SCHEMA influx_tokens;
	CREATE FUNCTION influx_tokens._check_name(kind text, name name) RETURNS text LANGUAGE sql AS 'SELECT NULL'});
($ret, $out, $err) = $node->psql('full_schema', 'CREATE EXTENSION influx_tokens');
like($err, qr/schema influx_tokens already holds objects/, 'installation refuses a schema that holds objects');
is($node->safe_psql('open_schema', q{SELECT count(*) FROM pg_extension WHERE extname = 'influx_tokens'})
	. $node->safe_psql('full_schema', q{SELECT count(*) FROM pg_extension WHERE extname = 'influx_tokens'}),
	'00', 'and installs nothing in either');

# Hostile default privileges of the installing role do not survive the installation.
$node->safe_psql('postgres', q{CREATE DATABASE defaults; CREATE ROLE eager});
$node->safe_psql('defaults', q{
	ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO eager;
	ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO eager;
	ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO eager;
	ALTER DEFAULT PRIVILEGES GRANT CREATE ON SCHEMAS TO eager;
	CREATE EXTENSION influx_tokens;});
is($node->safe_psql('defaults', q{
	SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'influx_tokens'::regnamespace AND c.relkind IN ('r', 'v', 'S')
	  AND (has_table_privilege('eager', c.oid, 'SELECT') OR has_table_privilege('eager', c.oid, 'INSERT'))}),
	'0', 'default privileges give no table, view or sequence to another role');
is($node->safe_psql('defaults', q{
	SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p
	WHERE p.pronamespace = 'influx_tokens'::regnamespace AND has_function_privilege('eager', p.oid, 'EXECUTE')}),
	'_permission_text,activate_token_as,add_token_labels_as,authenticate,create_bucket_as,create_token_as,'
	  . 'create_token_as_with_id,current_token_allows,current_token_buckets,current_token_check,'
	  . 'current_token_check,current_token_id,current_token_org,delete_token_as,drop_bucket_as,'
	  . 'find_bucket_as,find_org_as,find_token_as,list_buckets_as,list_orgs_as,list_tokens_as,'
	  . 'permission_matches,remove_token_labels_as,rename_bucket_as,revoke_token_as,rotate_token_as,'
	  . 'set_token_description_as,set_token_expiry_as,set_token_permissions_as,token_allows,token_check,'
	  . 'token_check,token_info',
	'default privileges give no function beyond what PUBLIC has');
is($node->safe_psql('defaults', q{SELECT has_schema_privilege('eager', 'influx_tokens', 'CREATE')}), 'f',
	'nor CREATE on the schema');
my ($mint_ret, $mint_out, $mint_err) = $node->psql('defaults',
	q{SET ROLE eager; SELECT influx_tokens.create_org('x')});
like($mint_err, qr/permission denied for function create_org/, 'the role cannot manage tokens');

$node->stop;
done_testing();
