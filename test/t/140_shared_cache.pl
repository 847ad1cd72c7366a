# The library preloaded: one token cache shared by all backends, and
# invalidation per token (src/shared_cache.c, src/cache.c).  Every rule of
# the per-backend cache still holds across processes: a committed change is
# in force at every backend's next check, an aborted one never is, a session
# sees its own uncommitted changes, a load racing a commit never stores the
# old state, savepoints and prepared transactions, restarts and crashes;
# and a change to one token leaves every other cached.
# test/mutations.sh breaks the mechanism in three ways and shows this file
# failing for each.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('shared_cache');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'influx_tokens'
max_prepared_transactions = 4
influx_tokens.shared_cache_size = 1000
});
$node->start;

my @names = qw(revoke abort own label fresh perms rotate delete logs savepoint prepared
  rolledback race other multi rotrace emptied returning);
$node->safe_psql('postgres', q{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	SELECT influx_tokens.create_bucket('acme', 'logs');
	CREATE TABLE handed_out (name text PRIMARY KEY, token text);
} . join('', map {
	my $perm = $_ eq 'logs' ? 'write:buckets/logs' : 'write:buckets/metrics';
	"INSERT INTO handed_out VALUES ('$_', influx_tokens.create_token('acme', '{$perm}'));\n"
} @names));

# Tokens are handed to sessions through a table: no token text in the log.
sub token_id
{
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT i.id FROM handed_out h, influx_tokens.token_info(h.token) i WHERE h.name = '$name'");
}

sub check_sql
{
	my ($name, $bucket) = @_;
	$bucket //= 'metrics';
	return "SELECT influx_tokens.token_check(token, 'write', '$bucket') FROM handed_out WHERE name = '$name'";
}

# A check in a new connection (a new backend, its own cache empty).
sub fresh_check
{
	my ($name, $bucket) = @_;
	return $node->safe_psql('postgres', check_sql($name, $bucket));
}

my $writer = $node->background_psql('postgres');
my $checker = $node->background_psql('postgres');

sub check
{
	my ($name, $bucket) = @_;
	return $checker->query_safe(check_sql($name, $bucket));
}

sub local_stats
{
	my ($session) = @_;
	$session //= $checker;
	return split /\|/, $session->query_safe(
		'SELECT hits, misses, invalidations FROM influx_tokens.cache_stats()');
}

sub shared_stat
{
	my ($column) = @_;
	return $node->safe_psql('postgres', "SELECT $column FROM influx_tokens.shared_cache_stats()");
}

is($node->safe_psql('postgres', 'SELECT capacity FROM influx_tokens.shared_cache_stats()'),
	'1000', 'the shared cache is there, sized by influx_tokens.shared_cache_size');

# ---- A committed change is in force at the next check; others stay cached.
is(check($_, $_ eq 'logs' ? 'logs' : 'metrics'), 't', "$_ works") for @names;
my ($hits, $misses, $flushes) = local_stats();
my $id = token_id('revoke');
$writer->query_safe("SELECT influx_tokens.revoke_token($id)");
is(check('revoke'), 'f', 'a revoke committed elsewhere is in force at the next check');
is(check('other'), 't', 'an unrelated token still works');
my ($hits2, $misses2, $flushes2) = local_stats();
is($hits2 - $hits, 1, 'the unrelated token was answered from the cache');
is($misses2 - $misses, 1, 'only the revoked token was read again');
is($flushes2, $flushes, 'the cache was not cleared');
is(fresh_check('revoke'), 'f', 'a new backend sees the revoke');
$writer->query_safe("SELECT influx_tokens.activate_token($id)");
is(check('revoke'), 't', 'the reactivation is in force at the next check');
is(fresh_check('revoke'), 't', 'and in a new backend');

# ---- An aborted change never is.
$id = token_id('abort');
$writer->query_safe("BEGIN; SELECT influx_tokens.revoke_token($id); ROLLBACK");
is(check('abort'), 't', 'a rolled-back revoke is never in force');
is(fresh_check('abort'), 't', 'not in a new backend either');

# ---- A session sees its own uncommitted change; others only after the
# commit, which must publish the change after it is visible (a change
# published earlier would let the other backend load the old state again).
$id = token_id('own');
$writer->query_safe("BEGIN");
$writer->query_safe("SELECT influx_tokens.revoke_token($id)");
is($writer->query_safe(check_sql('own')), 'f', 'the revoking session sees its own revoke');
is(check('own'), 't', 'another session does not, before the commit');
is(fresh_check('own'), 't', 'nor a new backend (which stores the committed state)');
$writer->query_safe("COMMIT");
is(check('own'), 'f', 'after the commit the other session does');
is(fresh_check('own'), 'f', 'and so does a new backend');

# ---- Labels and descriptions invalidate nothing; creating tokens neither.
($hits, $misses, $flushes) = local_stats();
$id = token_id('label');
$writer->query_safe("SELECT influx_tokens.set_token_description($id, 'renamed')");
$writer->query_safe("SELECT influx_tokens.add_token_labels($id, '{fleet}')");
$writer->query_safe("SELECT influx_tokens.create_token('acme', '{read:buckets}') IS NOT NULL");
is(check('label'), 't', 'a token whose description and labels changed works');
($hits2, $misses2, $flushes2) = local_stats();
is($misses2 - $misses, 0, 'description, labels and a new token invalidated nothing cached');
is($flushes2, $flushes, 'and cleared nothing');

# ---- A new backend finds in shared memory what others checked.
my $shared_hits = shared_stat('hits');
my $fresh = $node->background_psql('postgres');
is($fresh->query_safe(check_sql('fresh')), 't', 'a new backend checks a token others checked');
cmp_ok(shared_stat('hits'), '>', $shared_hits, 'from the shared cache');
$fresh->quit;

# ---- Every kind of change to one token.
$id = token_id('perms');
$writer->query_safe("SELECT influx_tokens.set_token_permissions($id, '{read:buckets/metrics}')");
is(check('perms'), 'f', 'narrowed permissions are in force at the next check');
is(fresh_check('perms'), 'f', 'and in a new backend');

$id = token_id('rotate');
$writer->query_safe("SELECT influx_tokens.rotate_token($id) IS NOT NULL");
is(check('rotate'), 'f', 'a rotated secret stops at the next check');
is(fresh_check('rotate'), 'f', 'and in a new backend');

$id = token_id('delete');
$writer->query_safe("SELECT influx_tokens.delete_token($id)");
is(check('delete'), 'f', 'a deleted token stops at the next check');
is(fresh_check('delete'), 'f', 'and in a new backend');

$writer->query_safe("SELECT influx_tokens.drop_bucket('acme', 'logs')");
is(check('logs', 'logs'), 'f', 'a dropped bucket is gone at the next check');
is(fresh_check('logs', 'logs'), 'f', 'and in a new backend');

# ---- Savepoints.
$id = token_id('savepoint');
$writer->query_safe("BEGIN; SAVEPOINT s; SELECT influx_tokens.revoke_token($id); ROLLBACK TO s; COMMIT");
is(check('savepoint'), 't', 'a revoke in a rolled-back savepoint is never in force');
$writer->query_safe("BEGIN; SAVEPOINT s; SELECT influx_tokens.revoke_token($id); RELEASE s; COMMIT");
is(check('savepoint'), 'f', 'one in a released savepoint is, once committed');
is(fresh_check('savepoint'), 'f', 'also in a new backend');

# ---- Prepared transactions: in force at COMMIT PREPARED, from any session;
# a ROLLBACK PREPARED leaves nothing behind in the preparing session.
$id = token_id('prepared');
$writer->query_safe("BEGIN; SELECT influx_tokens.revoke_token($id); PREPARE TRANSACTION 'p1'");
is(check('prepared'), 't', 'a prepared revoke is not in force yet');
is(fresh_check('prepared'), 't', 'not in a new backend either (it stores the committed state)');
$node->safe_psql('postgres', "COMMIT PREPARED 'p1'");
is(fresh_check('prepared'), 'f',
	'after COMMIT PREPARED elsewhere it is, first in a new backend (no running one has looked yet)');
is(check('prepared'), 'f', 'and in a session that had it cached');

$id = token_id('rolledback');
$writer->query_safe("BEGIN; SELECT influx_tokens.revoke_token($id)");
is($writer->query_safe(check_sql('rolledback')), 'f', 'the preparing session sees its revoke');
$writer->query_safe("PREPARE TRANSACTION 'p2'");
$node->safe_psql('postgres', "ROLLBACK PREPARED 'p2'");
is($writer->query_safe(check_sql('rolledback')), 't',
	'after ROLLBACK PREPARED the preparing session does not keep the revoke cached');
is(check('rolledback'), 't', 'nor does anyone else');

# ---- A load that races a commit never stores the old state.  The loading
# backend takes its snapshot, reads the tokens row, then waits for the
# permissions table (locked by a third session) while the revoke commits.
$id = token_id('race');
my $locker = $node->background_psql('postgres');
$locker->query_safe("BEGIN; LOCK TABLE influx_tokens.permissions IN ACCESS EXCLUSIVE MODE");
my $loader = $node->background_psql('postgres');
$loader->query_until(qr/loading/, "\\echo loading\n" . check_sql('race') . ";\n");
$node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_locks
	WHERE NOT granted AND relation = 'influx_tokens.permissions'::regclass})
  or die 'the loading backend never waited for the permissions table';
$writer->query_safe("UPDATE influx_tokens.tokens SET status = 'inactive' WHERE id = $id");
$locker->query_safe("COMMIT");
$loader->query_until(qr/^[tf]$/m, '');
is($loader->query_safe(check_sql('race')), 'f', 'the loading backend sees the revoke at its next check');
is(fresh_check('race'), 'f', 'the record it loaded before the commit was not shared');
$loader->quit;
$locker->quit;

# ---- A change of a token's grants racing a rotation of its secret: the
# grants' trigger locks the token's row, so it waits for the rotation and
# names the new secret too (else the new secret could be shared with the
# old grants, loaded between the two commits).
$id = token_id('rotrace');
$writer->query_safe("BEGIN");
$writer->query_safe("UPDATE handed_out SET token = influx_tokens.rotate_token($id) WHERE name = 'rotrace'");
my $granter = $node->background_psql('postgres');
my $granter_pid = $granter->query_safe("SELECT pg_backend_pid()");
$granter->query_safe("BEGIN");
$granter->query_until(qr/sent/, "\\echo sent\nDELETE FROM influx_tokens.permissions WHERE token_id = $id;\n");
# The deletion's trigger has run, or waits for the rotation's row lock.
$node->poll_query_until('postgres', qq{
	SELECT wait_event_type = 'Lock' OR state = 'idle in transaction'
	FROM pg_stat_activity WHERE pid = $granter_pid})
  or die 'the deletion of the grants never ran';
$writer->query_safe("COMMIT");
is(fresh_check('rotrace'), 't', 'the new secret works while the grants\' deletion is uncommitted');
# The deletion is done (its output, if any, goes with the next query's).
$node->poll_query_until('postgres', qq{
	SELECT state = 'idle in transaction' FROM pg_stat_activity WHERE pid = $granter_pid})
  or die 'the deletion of the grants never finished';
$granter->query_safe("COMMIT");
is(fresh_check('rotrace'), 'f', 'once it commits the new secret has no grants, in a new backend');
is(check('rotrace'), 'f', 'and in a session that checked before');
$granter->quit;

# ---- Replacing the grants of a token that has none (deleting no row,
# inserting some) invalidates it too.
$id = token_id('emptied');
$writer->query_safe("DELETE FROM influx_tokens.permissions WHERE token_id = $id");
is(check('emptied'), 'f', 'a token without grants is refused (and cached so)');
is(fresh_check('emptied'), 'f', 'also in a new backend (and shared so)');
$writer->query_safe("SELECT influx_tokens.set_token_permissions($id, '{write:buckets/metrics}')");
is(check('emptied'), 't', 'grants given back by set_token_permissions are in force at the next check');
is(fresh_check('emptied'), 't', 'also in a new backend');

# ---- A check in the statement that changes the row (RETURNING) reads the
# uncommitted row: it must not be shared, nor survive the rollback.
$id = token_id('returning');
$writer->query_safe("SELECT influx_tokens.revoke_token($id)");
is(fresh_check('returning'), 'f', 'a revoked token (shared so)');
is($writer->query_safe(qq{
	BEGIN;
	UPDATE influx_tokens.tokens AS t SET status = 'active' FROM handed_out AS h
	WHERE t.id = $id AND h.name = 'returning'
	RETURNING influx_tokens.token_check(h.token, 'write', 'metrics');
	ROLLBACK}), 't', 'a check in the RETURNING of the reactivating UPDATE sees it');
is(fresh_check('returning'), 'f', 'after the rollback a new backend does not');
is($writer->query_safe(check_sql('returning')), 'f', 'nor does the session that rolled back');

# ---- Databases never see each other's tokens, nor a dropped extension's.
# A database made from another as its template has the same tables, with
# the same OIDs, and the same tokens: only the database tells them apart.
$node->safe_psql('postgres', 'CREATE DATABASE origin');
$node->safe_psql('origin', q{
	CREATE EXTENSION influx_tokens CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	CREATE TABLE kept AS SELECT influx_tokens.create_token('acme', '{write:buckets/metrics}') AS token;
});
$node->safe_psql('postgres', 'CREATE DATABASE copy TEMPLATE origin');
$node->safe_psql('copy', q{
	SELECT influx_tokens.revoke_token(i.id) FROM kept, influx_tokens.token_info(kept.token) i});
my $check_kept = q{SELECT influx_tokens.token_check(token, 'write', 'metrics') FROM kept};
is($node->safe_psql('origin', $check_kept), 't', 'a token works in its database (now shared)');
is($node->safe_psql('copy', $check_kept), 'f',
	'the same token in a copy of the database, revoked there, does not');
is($node->safe_psql('origin', $check_kept), 't', 'and still works in the original');
is(check('multi'), 't', 'a token checked in one database (now in shared memory)');
$node->safe_psql('postgres', q{
	CREATE TABLE kept AS SELECT token FROM handed_out WHERE name = 'multi';
	DROP EXTENSION influx_tokens CASCADE;
	CREATE EXTENSION influx_tokens;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
});
is($node->safe_psql('postgres', q{
	SELECT influx_tokens.token_check(token, 'write', 'metrics') FROM kept}),
	'f', 'a token of a dropped extension is unknown once it is created again');
is(check('multi'), 'f', 'also in a session that had it cached all along');

# A database still at 1.1 (its statement-level triggers do not say which
# token changed) under this library: every change drops everything.
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', q{
	CREATE EXTENSION influx_tokens VERSION '1.1' CASCADE;
	SELECT influx_tokens.create_org('acme');
	SELECT influx_tokens.create_bucket('acme', 'metrics');
	CREATE TABLE kept AS SELECT influx_tokens.create_token('acme', '{write:buckets/metrics}') AS token;
});
my $old_checker = $node->background_psql('old');
is($old_checker->query_safe($check_kept), 't', 'a token of a 1.1 database works (and is cached)');
is($node->safe_psql('old', $check_kept), 't', 'also in a new backend (and is shared)');
$node->safe_psql('old', q{
	SELECT influx_tokens.revoke_token(i.id) FROM kept, influx_tokens.token_info(kept.token) i});
is($old_checker->query_safe($check_kept), 'f', 'a revoke under 1.1 is in force at the next check');
is($node->safe_psql('old', $check_kept), 'f', 'also in a new backend');
$old_checker->quit;

# ---- Lineage: a change to a parent is in force for its descendants at
# their next check, in this backend and in every other (the row trigger
# names the descendants), while every unrelated token stays cached.
$checker->reconnect_and_clear;
$writer->reconnect_and_clear;
$node->safe_psql('postgres', q{
	SELECT influx_tokens.create_bucket('acme', 'lineage');
	INSERT INTO handed_out VALUES ('lbystander', influx_tokens.create_token('acme', '{write:buckets/metrics}'));
	INSERT INTO handed_out VALUES ('lparent', influx_tokens.create_token('acme',
	    '{write:authorizations,write:buckets/metrics,write:buckets/lineage}'));
	INSERT INTO handed_out SELECT 'lchild', influx_tokens.create_token_as(token,
	    '{write:authorizations,write:buckets/metrics,write:buckets/lineage}') FROM handed_out WHERE name = 'lparent';
	INSERT INTO handed_out SELECT 'lgrandchild', influx_tokens.create_token_as(token,
	    '{write:buckets/metrics,write:buckets/lineage}') FROM handed_out WHERE name = 'lchild';
});
my ($lparent, $lchild) = (token_id('lparent'), token_id('lchild'));
is(check('lgrandchild'), 't', 'a grandchild works (and is cached here)');
is(check('lbystander'), 't', 'an unrelated token too');
is(fresh_check('lgrandchild'), 't', 'and in a new backend (and is shared)');
my ($lhits, $lmisses, $lflushes) = local_stats();
$writer->query_safe("SELECT influx_tokens.revoke_token($lparent)");
is(check('lgrandchild'), 'f', 'revoking the grandparent stops the grandchild at its next check');
is(fresh_check('lgrandchild'), 'f', 'also in a new backend: the shared record was dropped');
is(check('lbystander'), 't', 'the unrelated token still works');
my ($lhits2, $lmisses2, $lflushes2) = local_stats();
is($lhits2 - $lhits, 1, 'answered from the cache');
is($lflushes2, $lflushes, 'and the cache was not cleared');
$writer->query_safe("SELECT influx_tokens.activate_token($lparent)");
is(check('lgrandchild'), 't', 'reactivating the grandparent brings the grandchild back');
is(fresh_check('lgrandchild'), 't', 'also in a new backend');
$writer->query_safe("SELECT influx_tokens.set_token_permissions($lchild, '{write:authorizations,write:buckets/metrics}')");
is(check('lgrandchild', 'lineage'), 'f', 'narrowing the parent narrows the grandchild at its next check');
is(check('lgrandchild', 'metrics'), 't', 'to what the parent still holds');
is(fresh_check('lgrandchild', 'lineage'), 'f', 'also in a new backend');
$writer->query_safe("SELECT influx_tokens.set_token_expiry($lparent, clock_timestamp() + interval '1 second')");
is(check('lgrandchild'), 't', 'a grandparent about to expire');
sleep(2);
is(check('lgrandchild'), 'f', 'has taken its grandchild with it when it expired, without a change to read');
is(fresh_check('lgrandchild'), 'f', 'also in a new backend');
$writer->query_safe("SELECT influx_tokens.set_token_expiry($lparent, NULL)");
is(check('lgrandchild'), 't', 'and an expiry removed again gives it back');
$writer->query_safe("SELECT influx_tokens.delete_token($lchild)");
is(check('lgrandchild'), 'f', 'deleting the parent stops the grandchild');
is(fresh_check('lgrandchild'), 'f', 'also in a new backend');

# A child whose creation commits while its parent is being revoked: the
# commit locks the parent FOR SHARE, so it waits for the revoke and fails;
# no window lets a backend cache the child with its parent active.
$node->safe_psql('postgres', q{
	INSERT INTO handed_out VALUES ('rparent', influx_tokens.create_token('acme',
	    '{write:authorizations,write:buckets/metrics}'))});
my $rparent = token_id('rparent');
my $minter = $node->background_psql('postgres', on_error_stop => 0);
$minter->query_safe(q{BEGIN;
	INSERT INTO handed_out SELECT 'rchild', influx_tokens.create_token_as(token, '{write:buckets/metrics}')
	FROM handed_out WHERE name = 'rparent'});
$writer->query_safe("BEGIN; SELECT influx_tokens.revoke_token($rparent)");
$minter->query_until(qr/committing/, "\\echo committing\nCOMMIT;\n");
$node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query = 'COMMIT;'})
  or die 'the creating commit did not wait for the revoke';
$writer->query_safe('COMMIT');
$minter->query('SELECT 1');
like($minter->{stderr}, qr/no longer allowed by its parent/, 'the creation waits for the revoke and fails');
is($node->safe_psql('postgres', q{SELECT count(*) FROM handed_out WHERE name = 'rchild'}), '0',
	'and nothing of it is kept');
$minter->quit;

# A parent with more descendants than one transaction names one by one:
# revoking it drops every cached token, and is in force for all of them.
$node->safe_psql('postgres', q{
	INSERT INTO handed_out VALUES ('bigparent', influx_tokens.create_token('acme',
	    '{write:authorizations,write:buckets/metrics}'));
	CREATE TABLE big_family AS SELECT influx_tokens.create_token_as(h.token, '{write:buckets/metrics}') AS token
	FROM handed_out AS h, generate_series(1, 600) WHERE h.name = 'bigparent'});
is($checker->query_safe(q{
	SELECT count(*) FILTER (WHERE influx_tokens.token_check(token, 'write', 'metrics')) FROM big_family}),
	'600', 'six hundred children work (and are cached)');
my $big_flushes = shared_stat('flushes');
$writer->query_safe('SELECT influx_tokens.revoke_token(' . token_id('bigparent') . ')');
is($checker->query_safe(q{
	SELECT count(*) FILTER (WHERE influx_tokens.token_check(token, 'write', 'metrics')) FROM big_family}),
	'0', 'revoking their parent stops every one');
cmp_ok(shared_stat('flushes'), '>', $big_flushes, 'by dropping everything');

# ---- TRUNCATE, and a transaction changing more tokens than the ring lists.
$node->safe_psql('postgres', q{
	CREATE TABLE many AS
	SELECT influx_tokens.create_token('acme', '{write:buckets/metrics}') AS token
	FROM generate_series(1, 1500);
	INSERT INTO kept SELECT influx_tokens.create_token('acme', '{write:buckets/metrics}');
});
$checker->reconnect_and_clear;
is($checker->query_safe(q{
	SELECT count(*) FILTER (WHERE influx_tokens.token_check(token, 'write', 'metrics')) FROM many}),
	'1500', '1500 tokens work (and are cached)');
my $flushes_before = shared_stat('flushes');
$writer->reconnect_and_clear;
$writer->query_safe("UPDATE influx_tokens.tokens SET status = 'inactive'");
is($checker->query_safe(q{
	SELECT count(*) FILTER (WHERE influx_tokens.token_check(token, 'write', 'metrics')) FROM many}),
	'0', 'one transaction revoking them all (too many to list) stops every one');
cmp_ok(shared_stat('flushes'), '>', $flushes_before, 'by dropping everything');
$writer->query_safe("UPDATE influx_tokens.tokens SET status = 'active'");
is($checker->query_safe(q{
	SELECT bool_or(influx_tokens.token_check(token, 'write', 'metrics')) FROM kept}),
	't', 'reactivated');
$writer->query_safe("SET client_min_messages = warning; TRUNCATE influx_tokens.tokens CASCADE");
is($checker->query_safe(q{
	SELECT bool_or(influx_tokens.token_check(token, 'write', 'metrics')) FROM kept}),
	'f', 'TRUNCATE stops every cached token');

# ---- Restarts and crashes start from an empty shared cache.
$node->safe_psql('postgres',
	"INSERT INTO kept SELECT influx_tokens.create_token('acme', '{write:buckets/metrics}')");
is($node->safe_psql('postgres', q{
	SELECT bool_or(influx_tokens.token_check(token, 'write', 'metrics')) FROM kept}),
	't', 'a token checked (and shared) before a crash');
$writer->quit;
$checker->quit;
$node->stop('immediate');
$node->start;
is(shared_stat('tokens'), '0', 'after a crash the shared cache is empty');
$node->safe_psql('postgres', q{
	UPDATE influx_tokens.tokens SET status = 'inactive'});
is($node->safe_psql('postgres', q{
	SELECT bool_or(influx_tokens.token_check(token, 'write', 'metrics')) FROM kept}),
	'f', 'and serves what the tables say');
$node->restart;
is(shared_stat('tokens'), '0', 'after a restart too');

# ---- A prepared transaction the restart kept, committed by a session that
# checks nothing, while no running backend looks: its tokens were known only
# to the session that prepared it, before the restart.
$node->safe_psql('postgres', q{
	CREATE TABLE restart_token AS
	SELECT influx_tokens.create_token('acme', '{write:buckets/metrics}') AS token});
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT influx_tokens.revoke_token(i.id) FROM restart_token r, influx_tokens.token_info(r.token) i;
	PREPARE TRANSACTION 'kept_by_restart'});
$node->restart;
my $check_restart = q{SELECT influx_tokens.token_check(token, 'write', 'metrics') FROM restart_token};
is($node->safe_psql('postgres', $check_restart), 't', 'the prepared revoke is not in force after the restart');
is($node->safe_psql('postgres', $check_restart), 't', 'nor in the next backend (served from shared memory)');
$node->safe_psql('postgres', "COMMIT PREPARED 'kept_by_restart'");
is($node->safe_psql('postgres', $check_restart), 'f', 'once committed, a new backend refuses the token');

$node->stop;
done_testing();
