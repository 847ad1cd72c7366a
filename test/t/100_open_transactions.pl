# A token's holder with an open transaction (create_token_as is PUBLIC's)
# can neither stall an administrator's incident response nor slip a child
# past a change of its parent (SECURITY.md, "Delegation and open
# transactions"):
# - while the holder's transaction that created a child is open, revoking,
#   deleting, rotating or changing the expiry or permissions of the parent,
#   and dropping a bucket or organization the child names, never wait;
# - when the holder then commits, the commit decides again on the parent as
#   it is now: a child the parent would no longer create is refused, and the
#   whole transaction rolls back;
# - a child whose bucket was renamed meanwhile keeps the bucket (its id) the
#   parent held, never another;
# - such a transaction cannot be prepared (the locks of the commit check
#   would outlive it);
# - a change made by token (the *_as functions) is judged again at commit on
#   the acting token as it is then, and the acting token can be revoked,
#   narrowed or expired meanwhile without waiting.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('open_transactions');
$node->init;
$node->append_conf('postgresql.conf', "max_prepared_transactions = 2\n");
$node->start;

# The app role has PUBLIC's grants on the extension and nothing else; tokens
# are handed over through a table, so that none appears in this test's log.
$node->safe_psql('postgres', q{
	CREATE EXTENSION influx_tokens;
	CREATE ROLE app LOGIN;
	CREATE TABLE handed_out (name text PRIMARY KEY, token text);
	GRANT SELECT, INSERT ON handed_out TO app;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', b) FROM unnest('{a,b,drop_me,a2,b2}'::text[]) AS b;
	SELECT influx_tokens.create_org('doomed');
	SELECT influx_tokens.create_bucket('doomed', 'a');
});

sub sql
{
	my ($query) = @_;
	return $node->safe_psql('postgres', $query);
}

# hand_out makes a parent token (as the administrator).
sub hand_out
{
	my ($name, $org, $permissions) = @_;
	sql("INSERT INTO handed_out VALUES ('$name', influx_tokens.create_token('$org', '$permissions'))");
}

# open_child has the holder begin a transaction that creates a child of the
# named parent and leave it open; returns the holder's session.
sub open_child
{
	my ($name, $permissions) = @_;
	my $holder = $node->background_psql('postgres', extra_params => [ '-U', 'app' ],
		on_error_stop => 0);
	$holder->query_safe('BEGIN');
	$holder->query_safe("INSERT INTO handed_out SELECT '$name child',
	    influx_tokens.create_token_as(token, '$permissions') FROM handed_out WHERE name = '$name'");
	return $holder;
}

# admin_does runs an administrator's change with a lock timeout: it must
# succeed without waiting for the holder.
sub admin_does
{
	my ($name, $query) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "SET lock_timeout = '2s'; $query");
	is($ret, 0, "$name: the administrator's change does not wait for the holder's open transaction")
	  or diag($err);
}

# commit_result commits the holder's transaction; returns its error, or ''.
sub commit_result
{
	my ($holder) = @_;
	$holder->query('COMMIT');
	my $err = $holder->{stderr};
	$holder->quit;
	return $err;
}

sub child_exists
{
	my ($name) = @_;
	return sql("SELECT count(*) FROM handed_out WHERE name = '$name child'");
}

my $parent_grants = '{write:authorizations,write:buckets/a,write:buckets/b}';

# Each change of the parent that takes away what the child was made with.
my @refused = (
	[ 'revoke with cascade', 'acme',
		"SELECT influx_tokens.revoke_token(token, cascade => true) FROM handed_out WHERE name = 'revoke with cascade'",
		qr/no longer allowed by its parent.*\n.*unknown, revoked or expired/ ],
	[ 'delete', 'acme',
		"SELECT influx_tokens.delete_token(token) FROM handed_out WHERE name = 'delete'",
		qr/no longer allowed by its parent.*\n.*unknown, revoked or expired/ ],
	[ 'expiry shortened', 'acme',
		"SELECT influx_tokens.set_token_expiry(token, now() + interval '1 hour') FROM handed_out WHERE name = 'expiry shortened'",
		qr/no longer allowed by its parent.*\n.*expire later/ ],
	[ 'permissions narrowed', 'acme',
		"SELECT influx_tokens.set_token_permissions(token, '{write:authorizations,write:buckets/b}') FROM handed_out WHERE name = 'permissions narrowed'",
		qr/no longer allowed by its parent.*\n.*does not hold every permission/ ],
	[ 'rotated without grace', 'acme',
		"SELECT influx_tokens.rotate_token(token) FROM handed_out WHERE name = 'rotated without grace'",
		qr/no longer allowed by its parent.*\n.*unknown, revoked or expired/ ],
	[ 'rotated with grace', 'acme',
		"SELECT influx_tokens.rotate_token(token, interval '1 hour') FROM handed_out WHERE name = 'rotated with grace'",
		qr/no longer allowed by its parent.*\n.*expire later/ ],
	[ 'authorizations taken away', 'acme',
		"SELECT influx_tokens.set_token_permissions(token, '{write:buckets/a}') FROM handed_out WHERE name = 'authorizations taken away'",
		qr/no longer allowed by its parent.*\n.*write:authorizations/ ],
	[ 'organization dropped', 'doomed',
		"SELECT influx_tokens.drop_org('doomed', cascade => true)",
		qr/organization or bucket of a token written in this transaction was dropped/ ],
);
for my $case (@refused)
{
	my ($name, $org, $change, $error) = @$case;
	my $grants = $org eq 'acme' ? $parent_grants : '{write:authorizations,write:buckets/a}';
	hand_out($name, $org, $grants);
	my $holder = open_child($name, '{write:buckets/a}');
	admin_does($name, $change);
	like(commit_result($holder), $error, "$name: the holder's commit is refused, saying why");
	is(child_exists($name), '0', "$name: nothing of the holder's transaction is committed");
}

# A bucket the child names, dropped: the drop does not wait, the commit fails.
hand_out('bucket dropped', 'acme', '{write:authorizations,write:buckets/drop_me}');
my $holder = open_child('bucket dropped', '{write:buckets/drop_me}');
admin_does('bucket dropped', "SELECT influx_tokens.drop_bucket('acme', 'drop_me')");
like(commit_result($holder), qr/organization or bucket of a token written in this transaction was dropped/,
	'bucket dropped: the holder\'s commit is refused, saying why');
is(child_exists('bucket dropped'), '0', 'bucket dropped: nothing of the holder\'s transaction is committed');
is(sql(q{SELECT count(*) FROM influx_tokens.permissions p
         WHERE NOT EXISTS (SELECT FROM influx_tokens.buckets b WHERE b.id = p.bucket_id) AND p.bucket_id IS NOT NULL}),
	'0', 'no grant names a bucket that does not exist');

# Two buckets swap names while the child is being made: the child keeps the
# bucket the parent held (by id), now under its new name.
hand_out('swap', 'acme', '{write:authorizations,write:buckets/a2}');
$holder = open_child('swap', '{write:buckets/a2}');
admin_does('swap', q{
	SELECT influx_tokens.rename_bucket('acme', 'a2', 'tmp');
	SELECT influx_tokens.rename_bucket('acme', 'b2', 'a2');
	SELECT influx_tokens.rename_bucket('acme', 'tmp', 'b2');});
is(commit_result($holder), '', 'swap: the holder\'s commit succeeds');
is(sql(q{SELECT influx_tokens.token_check(token, 'write', 'b2') || ' ' || influx_tokens.token_check(token, 'write', 'a2')
         FROM handed_out WHERE name = 'swap child'}), 'true false',
	'swap: the child writes the bucket the parent held (now b2), not the one now named a2');
is(sql(q{SELECT influx_tokens.token_check(token, 'write', 'b2') || ' ' || influx_tokens.token_check(token, 'write', 'a2')
         FROM handed_out WHERE name = 'swap'}), 'true false', 'swap: ... as the parent does');

# A change that takes nothing away: the child commits, and a cascading
# revoke after the commit reaches it.
hand_out('unrelated change', 'acme', $parent_grants);
$holder = open_child('unrelated change', '{write:buckets/a}');
admin_does('unrelated change',
	"SELECT influx_tokens.set_token_description(token, 'still the parent') FROM handed_out WHERE name = 'unrelated change'");
is(commit_result($holder), '', 'unrelated change: the holder\'s commit succeeds');
is(sql(q{SELECT influx_tokens.token_check(token, 'write', 'a') FROM handed_out WHERE name = 'unrelated change child'}),
	't', 'unrelated change: the child works');
sql(q{SELECT influx_tokens.revoke_token(token, cascade => true) FROM handed_out WHERE name = 'unrelated change'});
is(sql(q{SELECT influx_tokens.token_check(token, 'write', 'a') FROM handed_out WHERE name = 'unrelated change child'}),
	'f', 'unrelated change: a cascading revoke after the commit reaches the child');

# A rolled-back savepoint that made a child leaves nothing for the commit
# to refuse.
hand_out('savepoint', 'acme', $parent_grants);
$holder = $node->background_psql('postgres', extra_params => [ '-U', 'app' ], on_error_stop => 0);
$holder->query_safe('BEGIN; SAVEPOINT s');
$holder->query_safe(q{SELECT influx_tokens.create_token_as(token, '{write:buckets/a}') IS NOT NULL FROM handed_out WHERE name = 'savepoint'});
$holder->query_safe('ROLLBACK TO SAVEPOINT s');
admin_does('savepoint', q{SELECT influx_tokens.revoke_token(token) FROM handed_out WHERE name = 'savepoint'});
is(commit_result($holder), '', 'savepoint: a child rolled back to a savepoint does not fail the commit');

# A grant on the organization by its InfluxDB ID, made while an import gives
# the organization another ID: the commit sees the new ID and refuses the
# grant (40001), rather than leave it naming an ID no organization has.
sql(q{SELECT influx_tokens.create_org('renamed'); UPDATE influx_tokens.orgs SET influx_id = '0c0c0c0c0c0c0c01' WHERE name = 'renamed'});
hand_out('by id', 'renamed', '{write:authorizations,read:orgs}');
$holder = open_child('by id', '{read:orgs/0c0c0c0c0c0c0c01}');
admin_does('an import giving the organization another ID',
	q{SELECT influx_tokens.import_influxdb2('[{"orgID": "0c0c0c0c0c0c0c02", "org": "renamed", "token": "renamed-org-token-01", "permissions": ["read:/buckets"]}]')});
like(commit_result($holder), qr/is granted by ID has another ID now/,
	'by id: the holder\'s commit refuses a grant on the organization\'s old ID');
is(child_exists('by id'), '0', 'by id: nothing of the transaction is left');
is(sql(q{SELECT count(*) FROM influx_tokens.permissions WHERE resource_id = '0c0c0c0c0c0c0c01'}), '0',
	'by id: no grant names the old ID');

# ---- Changes made by token (the *_as functions) are judged again at
# commit, on the acting token as it is then.  The holder's transaction
# holds the row of the token it changed, never its own: revoking,
# narrowing or expiring the acting token does not wait, and the commit
# then fails, leaving the token as it was.
sql(q{INSERT INTO handed_out VALUES ('target', influx_tokens.create_token('acme', '{write:buckets/a}'))});
my $target_iid = sql(q{SELECT lpad(to_hex(i.id), 16, '0') FROM handed_out h, influx_tokens.token_info(h.token) i
                       WHERE h.name = 'target'});
my $target_grants = q{SELECT array_to_string(i.permissions, ',') FROM handed_out h, influx_tokens.token_info(h.token) i
                      WHERE h.name = 'target'};
sub open_act
{
	my ($name, $act) = @_;
	my $actor = $node->background_psql('postgres', extra_params => [ '-U', 'app' ], on_error_stop => 0);
	$actor->query_safe('BEGIN');
	$actor->query_safe("SELECT $act FROM handed_out WHERE name = '$name'");
	return $actor;
}
my $widen = "influx_tokens.set_token_permissions_as(token, '$target_iid', '{write:buckets/a,write:buckets/b}')";
for my $case (
	[ 'acting token revoked', "SELECT influx_tokens.revoke_token(token) FROM handed_out WHERE name = 'acting token revoked'",
		qr/that made a change in this transaction is no longer valid/ ],
	[ 'acting token narrowed',
		"SELECT influx_tokens.set_token_permissions(token, '{write:authorizations,read:authorizations,write:buckets/a}') FROM handed_out WHERE name = 'acting token narrowed'",
		qr/would hold more than token \d+ that changed it/ ],
	[ 'acting token expired',
		"SELECT influx_tokens.set_token_expiry(token, clock_timestamp() + interval '0.2 second') FROM handed_out WHERE name = 'acting token expired'; SELECT pg_sleep(0.4)",
		qr/that made a change in this transaction is no longer valid/ ])
{
	my ($name, $change, $error) = @$case;
	hand_out($name, 'acme', '{write:authorizations,read:authorizations,write:buckets/a,write:buckets/b}');
	my $actor = open_act($name, $widen);
	admin_does($name, $change);
	like(commit_result($actor), $error, "$name: the change made by it is refused at commit, saying why");
	is(sql($target_grants), 'write:buckets/a', "$name: the token it changed is as it was");
}
hand_out('acting token kept', 'acme', '{write:authorizations,read:authorizations,write:buckets/a,write:buckets/b}');
my $actor = open_act('acting token kept', $widen);
admin_does('acting token described',
	"SELECT influx_tokens.set_token_description(token, 'still acting') FROM handed_out WHERE name = 'acting token kept'");
is(commit_result($actor), '', 'a change that takes nothing from the acting token commits');
is(sql($target_grants), 'write:buckets/a,write:buckets/b', 'and is kept');

# A holder dropping a bucket it holds a grant on locks its own row only FOR
# KEY SHARE (the grants' trigger): revoking it does not wait.
sql(q{SELECT influx_tokens.create_bucket('acme', 'drop_too')});
hand_out('dropper', 'acme', '{write:buckets/drop_too}');
my $drop_iid = sql(q{SELECT influx_id FROM influx_tokens.bucket_list WHERE name = 'drop_too'});
$actor = open_act('dropper', "influx_tokens.drop_bucket_as(token, '$drop_iid')");
admin_does('dropper revoked', q{SELECT influx_tokens.revoke_token(token) FROM handed_out WHERE name = 'dropper'});
like(commit_result($actor), qr/no longer valid/, 'dropper: its drop is refused at commit');
is(sql(q{SELECT count(*) FROM influx_tokens.bucket_list WHERE name = 'drop_too'}), '1', 'dropper: the bucket is still there');

# Nor can a change made by token be prepared.
hand_out('prepared act', 'acme', '{write:authorizations,read:authorizations,write:buckets/a,write:buckets/b}');
$actor = open_act('prepared act', $widen);
$actor->query("PREPARE TRANSACTION 'held act'");
like($actor->{stderr}, qr/cannot prepare a transaction that changed tokens or buckets by token/,
	'prepared act: refused');
$actor->quit;
is(sql(q{SELECT count(*) FROM pg_prepared_xacts}), '0', 'prepared act: nothing is left prepared');

# PREPARE TRANSACTION would hold the commit check's locks at the holder's
# pleasure: refused.
hand_out('prepare', 'acme', $parent_grants);
$holder = open_child('prepare', '{write:buckets/a}');
$holder->query('PREPARE TRANSACTION \'held\'');
like($holder->{stderr}, qr/cannot prepare a transaction that created tokens with create_token_as/,
	'prepare: a transaction that made a child cannot be prepared');
$holder->quit;
is(sql(q{SELECT count(*) FROM pg_prepared_xacts}), '0', 'prepare: nothing is left prepared');
is(child_exists('prepare'), '0', 'prepare: nor committed');

done_testing();
