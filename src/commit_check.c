/*-------------------------------------------------------------------------
 *
 * commit_check.c
 *	  What a transaction's new tokens must still satisfy when it commits.
 *
 * Creating a token takes no lock that lasts.  The creating transaction may
 * be a token holder's (create_token_as is PUBLIC's), and a lock held until
 * it ends would let the holder stall an administrator's revoke, expiry
 * change, rotation, or drop of a bucket or organization: incident response.
 * That is also why tokens.org_id and permissions.bucket_id are plain
 * columns, not foreign keys (a foreign key check holds FOR KEY SHARE on the
 * referenced row until the end of the transaction).
 *
 * What such locks would guarantee is checked instead when the transaction
 * commits (XACT_EVENT_PRE_COMMIT: after the deferred triggers, when no user
 * code runs any more), under row locks held only from there to the commit:
 *	  - the organization of every token written, and every bucket its grants
 *		name, still exist (FOR KEY SHARE: a concurrent drop waits for that
 *		moment, or this commit waits for the drop and fails);
 *	  - a grant on an organization by ID in the token's organization still
 *		names that organization (manage.c's rule): an import may have given
 *		it another InfluxDB ID meanwhile (an update of that unique column
 *		conflicts with FOR KEY SHARE, so it too waits or is waited for);
 *	  - a child made by create_token_as is still allowed by its parent
 *		(delegation.c's rule, on the parent as it is now, found by the secret
 *		that minted the child) with the parent and its ancestors locked FOR
 *		SHARE: a concurrent revoke, delete, rotation, expiry or permission
 *		change of any of them waits for that moment, or this commit waits
 *		for it and fails.  A cascading revoke or delete that comes after the
 *		commit sees the child;
 *	  - a change made by token (the token forms of management, authorizer.c)
 *		is still made by a usable token, which could still have left the
 *		token it changed as it stands, with the acting token and its
 *		ancestors locked FOR SHARE (as a parent's): a revoke, narrowing or
 *		expiry of the acting token that commits first fails the change.
 * Locks are taken in one order, organizations, then buckets, then tokens by
 * ascending id (a parent is older than its children), which is the order
 * drop_org, drop_bucket and the revoking functions take them in, so that
 * the two never wait for each other in a circle.
 *
 * The parents are read once without locks and the children judged; only
 * the parents are read again under the locks, so a transaction that made
 * many children holds the locks for as long as a few lookups take.
 *
 * PREPARE TRANSACTION would keep the locks until COMMIT PREPARED, at the
 * caller's pleasure: a transaction that made children cannot be prepared;
 * one that only wrote tokens is checked at PREPARE.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(influx_tokens__recheck_at_commit);

/*
 * A child made by create_token_as, the digest of the secret that made it,
 * and the child as it was made: while the transaction changes no token
 * (an UPDATE or DELETE of tokens or permissions: rows_changed) it is still
 * exactly that, since no other transaction can see it, and the commit
 * judges it without reading it again.  subxact is the subtransaction it
 * belongs to; a rollback of that drops it.
 */
typedef struct DelegatedChild
{
	int64		child_id;
	uint8		parent_digest[TOKEN_DIGEST_LENGTH];
	TokenRecord *as_made;
	SubTransactionId subxact;
	bool		rolled_back;
} DelegatedChild;

/*
 * A change made by token: the acting token and, where the change could
 * leave a token with more (authorizer.c), that token (0: none).
 */
typedef struct TokenAct
{
	int64		actor_id;
	int64		target_id;
	SubTransactionId subxact;
	bool		rolled_back;
} TokenAct;

/* What this transaction wrote, in TopTransactionContext; forgotten at its end. */
typedef struct PendingChecks
{
	int64	   *token_ids;
	int			ntokens;
	int			tokens_capacity;
	DelegatedChild *children;
	int			nchildren;
	int			children_capacity;
	TokenAct   *acts;
	int			nacts;
	int			acts_capacity;
	Oid			check_as;		/* the extension's owner, who may read and lock */
	bool		rows_changed;	/* tokens or permissions updated or deleted */
} PendingChecks;

static PendingChecks pending = {NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, InvalidOid, false};

/*
 * grow makes room for one more element of size in an array of the pending
 * checks.
 */
static void *
grow(void *array, int count, int *capacity, Size size)
{
	if (count < *capacity)
		return array;
	*capacity = *capacity == 0 ? 16 : *capacity * 2;
	if (array == NULL)
		return MemoryContextAlloc(TopTransactionContext, *capacity * size);
	return repalloc(array, *capacity * size);
}

/*
 * commit_check_note_token has the commit of this transaction check a token
 * it wrote (its organization and buckets) and, for a child of a parent
 * (as_made not NULL: the child as made, and the digest of the secret of
 * the parent that made it), the delegation.  Called by the SECURITY
 * DEFINER functions that write tokens, so the current user is the
 * extension's owner.
 */
void
commit_check_note_token(int64 token_id, const TokenRecord *as_made, const uint8 *parent_digest)
{
	pending.check_as = GetUserId();
	pending.token_ids = grow(pending.token_ids, pending.ntokens, &pending.tokens_capacity,
							 sizeof(int64));
	pending.token_ids[pending.ntokens++] = token_id;

	if (as_made != NULL)
	{
		DelegatedChild *child;
		Size		size = offsetof(TokenRecord, grants) + as_made->ngrants * sizeof(TokenGrant);

		pending.children = grow(pending.children, pending.nchildren,
								&pending.children_capacity, sizeof(DelegatedChild));
		child = &pending.children[pending.nchildren++];
		child->child_id = token_id;
		memcpy(child->parent_digest, parent_digest, TOKEN_DIGEST_LENGTH);
		child->as_made = MemoryContextAlloc(TopTransactionContext, size);
		memcpy(child->as_made, as_made, size);
		child->as_made->id = token_id;
		child->subxact = GetCurrentSubTransactionId();
		child->rolled_back = false;
	}
}

/*
 * commit_check_note_act has the commit of this transaction check a change
 * made by token again: the acting token still usable and, for target_id
 * (0: none), still able to have made that token as it then stands.  Called
 * by the SECURITY DEFINER token forms, as commit_check_note_token is.  One
 * act per acting token and target is enough.
 */
void
commit_check_note_act(int64 actor_id, int64 target_id)
{
	TokenAct   *act;

	for (int i = 0; i < pending.nacts; i++)
		if (pending.acts[i].actor_id == actor_id && pending.acts[i].target_id == target_id &&
			!pending.acts[i].rolled_back && pending.acts[i].subxact == GetCurrentSubTransactionId())
			return;
	pending.check_as = GetUserId();
	pending.acts = grow(pending.acts, pending.nacts, &pending.acts_capacity, sizeof(TokenAct));
	act = &pending.acts[pending.nacts++];
	act->actor_id = actor_id;
	act->target_id = target_id;
	act->subxact = GetCurrentSubTransactionId();
	act->rolled_back = false;
}

/*
 * commit_check_note_change records that this transaction updated or
 * deleted rows of tokens or permissions (the trigger says so): from then
 * on, children made in it are read again at commit.
 */
void
commit_check_note_change(void)
{
	pending.rows_changed = true;
}

/*
 * _recheck_at_commit(token_id): commit_check_note_token for a token whose
 * grants a management function replaced (set_token_permissions), and the
 * invalidation of that token in every cache.  Returns token_id.
 */
Datum
influx_tokens__recheck_at_commit(PG_FUNCTION_ARGS)
{
	require_argument(fcinfo, 0, "token id");
	commit_check_note_token(PG_GETARG_INT64(0), NULL, NULL);
	/* Its grants were replaced: deleting none and inserting some names nobody. */
	cache_note_token_id_changed(PG_GETARG_INT64(0));
	PG_RETURN_INT64(PG_GETARG_INT64(0));
}

/*
 * ids_array makes an int8[] of ids.
 */
static Datum
ids_array(const int64 *ids, int count)
{
	Datum	   *elements = palloc(Max(count, 1) * sizeof(Datum));
	int			i;

	for (i = 0; i < count; i++)
		elements[i] = Int64GetDatum(ids[i]);
	return PointerGetDatum(construct_array(elements, count, INT8OID, sizeof(int64),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * query_is_true runs a query of one boolean column and one row with the
 * ids as $1 and returns its value.
 */
static bool
query_is_true(const char *query, Datum ids)
{
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		values[1] = {ids};
	bool		isnull;
	bool		result;

	if (SPI_execute_with_args(query, 1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "commit check query failed");
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return !isnull && result;
}

/*
 * lock_references locks the organizations of the written tokens and the
 * buckets their grants name (FOR KEY SHARE, in id order), and raises the
 * error a foreign key would have if one of them no longer exists.
 */
static void
lock_references(Datum token_ids)
{
	const char *orgs =
		"WITH wanted AS (SELECT DISTINCT t.org_id AS id FROM influx_tokens.tokens AS t"
		"                WHERE t.id OPERATOR(pg_catalog.=) ANY ($1)),"
		"     locked AS (SELECT o.id FROM influx_tokens.orgs AS o"
		"                WHERE o.id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT w.id FROM wanted AS w))"
		"                ORDER BY o.id FOR KEY SHARE)"
		" SELECT (SELECT pg_catalog.count(*) FROM wanted) OPERATOR(pg_catalog.=)"
		"        (SELECT pg_catalog.count(*) FROM locked)";
	const char *buckets =
		"WITH wanted AS (SELECT DISTINCT p.bucket_id AS id FROM influx_tokens.permissions AS p"
		"                WHERE p.token_id OPERATOR(pg_catalog.=) ANY ($1) AND p.bucket_id IS NOT NULL),"
		"     locked AS (SELECT b.id FROM influx_tokens.buckets AS b"
		"                WHERE b.id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT w.id FROM wanted AS w))"
		"                ORDER BY b.id FOR KEY SHARE)"
		" SELECT (SELECT pg_catalog.count(*) FROM wanted) OPERATOR(pg_catalog.=)"
		"        (SELECT pg_catalog.count(*) FROM locked)";

	const char *org_grants =
		"SELECT NOT EXISTS (SELECT FROM influx_tokens.permissions AS p"
		"                   JOIN influx_tokens.tokens AS t ON t.id OPERATOR(pg_catalog.=) p.token_id"
		"                   JOIN influx_tokens.orgs AS o ON o.id OPERATOR(pg_catalog.=) t.org_id"
		"                   WHERE p.token_id OPERATOR(pg_catalog.=) ANY ($1)"
		"                     AND p.resource_type OPERATOR(pg_catalog.=) 'orgs' AND NOT p.any_org"
		"                     AND p.resource_id OPERATOR(pg_catalog.<>) o.influx_id)";

	if (!query_is_true(orgs, token_ids) || !query_is_true(buckets, token_ids))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("an organization or bucket of a token written in this transaction was dropped"),
				 errdetail("It was dropped while the transaction was open; the transaction is rolled back.")));
	/* Grants on one resource exist from 1.2 on. */
	if (get_attnum(get_relname_relid("permissions", get_namespace_oid("influx_tokens", false)),
				   "resource_id") != InvalidAttrNumber &&
		!query_is_true(org_grants, token_ids))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("the organization a token written in this transaction is granted by ID has another ID now"),
				 errdetail("An import gave the organization another InfluxDB ID while the transaction was open; the transaction is rolled back."),
				 errhint("Try again: the permission then names the organization's new ID.")));
}

/*
 * lock_ancestors locks the tokens with these ids and all their ancestors
 * FOR SHARE, in id order.
 */
static void
lock_ancestors(Datum parent_ids)
{
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		values[1] = {parent_ids};

	if (SPI_execute_with_args(
							  "WITH RECURSIVE chain(id) AS ("
							  "    SELECT pg_catalog.unnest($1)"
							  "  UNION"
							  "    SELECT t.parent_id FROM influx_tokens.tokens AS t"
							  "    JOIN chain AS c ON t.id OPERATOR(pg_catalog.=) c.id"
							  "    WHERE t.parent_id IS NOT NULL)"
							  " SELECT FROM influx_tokens.tokens AS t"
							  " WHERE t.id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT c.id FROM chain AS c))"
							  " ORDER BY t.id FOR SHARE",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock the parent tokens");
}

/*
 * same_record says whether two lookups of a token found the same state.
 */
static bool
same_record(const TokenRecord *a, const TokenRecord *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->id == b->id && a->org_id == b->org_id && a->active == b->active &&
		a->has_expiry == b->has_expiry &&
		(!a->has_expiry || a->expires_at == b->expires_at) &&
		a->ngrants == b->ngrants &&
		memcmp(a->grants, b->grants, a->ngrants * sizeof(TokenGrant)) == 0;
}

/*
 * judge_child raises the error if the parent (as found now) would not
 * create the child as it stands; a child that no longer exists (rolled
 * back to a savepoint, deleted again) is fine.
 */
static void
judge_child(const DelegatedChild *pending_child, const TokenRecord *parent)
{
	const TokenRecord *child;
	DelegationVerdict verdict;

	if (pending_child->rolled_back)
		return;
	child = pending.rows_changed ? lookup_token_by_id(pending_child->child_id, false) :
		pending_child->as_made;
	if (child == NULL)
		return;
	verdict = delegation_verdict(parent, child->grants, child->ngrants,
								 child->has_expiry, child->expires_at, NULL);
	if (verdict != DELEGATION_ALLOWED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("token " INT64_FORMAT " made by create_token_as is no longer allowed by its parent",
						pending_child->child_id),
				 errdetail("%s", delegation_refusal_reason(verdict)),
				 errhint("The parent token changed while this transaction was open; the transaction is rolled back.")));
}

/*
 * parents_now looks up the parent of every pending child as it is now,
 * once for a run of children minted by the same secret (a service makes
 * its children with one parent).
 */
static TokenRecord **
parents_now(void)
{
	TokenRecord **parents = palloc(pending.nchildren * sizeof(TokenRecord *));
	int			i;

	for (i = 0; i < pending.nchildren; i++)
	{
		if (i > 0 && memcmp(pending.children[i].parent_digest, pending.children[i - 1].parent_digest,
							TOKEN_DIGEST_LENGTH) == 0)
			parents[i] = parents[i - 1];
		else
			parents[i] = lookup_token(pending.children[i].parent_digest);
	}
	return parents;
}

/*
 * judge_act raises the error if a change made by token is no longer one its
 * acting token (as found now, under the lock: actor, NULL if gone) may make.
 */
static void
judge_act(const TokenAct *act, const TokenRecord *actor)
{
	TokenRecord *target;

	if (actor == NULL || !token_is_usable(actor))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("token " INT64_FORMAT " that made a change in this transaction is no longer valid",
						act->actor_id),
				 errhint("It was revoked, deleted or expired while the transaction was open; the transaction is rolled back.")));
	if (act->target_id == 0)
		return;
	target = lookup_token_by_id(act->target_id, false);
	if (target != NULL && delegation_state_verdict(actor, target) != DELEGATION_ALLOWED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("token " INT64_FORMAT " would hold more than token " INT64_FORMAT " that changed it",
						act->target_id, act->actor_id),
				 errhint("The acting token changed while this transaction was open; the transaction is rolled back.")));
}

/*
 * verify_delegations judges every pending child by its parent, then locks
 * the parents, the acting tokens of changes made by token and all their
 * ancestors (in one statement, so in one id order), judges again the
 * children of any parent that changed in between, and judges the changes.
 */
static void
verify_delegations(void)
{
	TokenRecord **parents = pending.nchildren > 0 ? parents_now() : NULL;
	TokenRecord **locked_parents;
	TokenRecord *actor = NULL;
	int64	   *ids = palloc((pending.nchildren + pending.nacts + 1) * sizeof(int64));
	int			nids = 0;
	int			i;

	for (i = 0; i < pending.nchildren; i++)
	{
		judge_child(&pending.children[i], parents[i]);
		if (parents[i] != NULL && (i == 0 || parents[i] != parents[i - 1]))
			ids[nids++] = parents[i]->id;
	}
	for (i = 0; i < pending.nacts; i++)
		if (!pending.acts[i].rolled_back)
			ids[nids++] = pending.acts[i].actor_id;
	if (nids == 0)
		return;

	lock_ancestors(ids_array(ids, nids));

	if (pending.nchildren > 0)
	{
		locked_parents = parents_now();
		for (i = 0; i < pending.nchildren; i++)
		{
			if (!same_record(parents[i], locked_parents[i]))
				judge_child(&pending.children[i], locked_parents[i]);
		}
	}
	/* An acting token is looked up once for the run of its acts. */
	for (i = 0; i < pending.nacts; i++)
	{
		if (pending.acts[i].rolled_back)
			continue;
		if (actor == NULL || actor->id != pending.acts[i].actor_id)
			actor = lookup_token_by_id(pending.acts[i].actor_id, true);
		judge_act(&pending.acts[i], actor);
	}
}

/*
 * extension_present says whether the extension's token table still exists
 * (a transaction may write tokens and then drop the extension).
 */
static bool
extension_present(void)
{
	Oid			namespace_oid = get_namespace_oid("influx_tokens", true);

	return OidIsValid(namespace_oid) && OidIsValid(get_relname_relid("tokens", namespace_oid));
}

/*
 * verify_pending checks everything this transaction wrote, as the
 * extension's owner.
 */
static void
verify_pending(void)
{
	Oid			saved_user;
	int			saved_context;

	if ((pending.ntokens == 0 && pending.nacts == 0) || !extension_present())
		return;

	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(pending.check_as,
						   saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	/* At commit no statement is running: SPI needs a snapshot to start from. */
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (pending.ntokens > 0)
		lock_references(ids_array(pending.token_ids, pending.ntokens));
	verify_delegations();
	SPI_finish();
	PopActiveSnapshot();
	SetUserIdAndSecContext(saved_user, saved_context);
}

/*
 * forget_pending drops the lists (their memory goes with the transaction's).
 */
static void
forget_pending(void)
{
	pending.rows_changed = false;
	pending.token_ids = NULL;
	pending.ntokens = pending.tokens_capacity = 0;
	pending.children = NULL;
	pending.nchildren = pending.children_capacity = 0;
	pending.acts = NULL;
	pending.nacts = pending.acts_capacity = 0;
}

/*
 * transaction_event runs the checks before commit and before prepare, and
 * forgets them when the transaction ends either way.
 */
static void
transaction_event(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			verify_pending();
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (pending.nchildren > 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction that created tokens with create_token_as"),
						 errdetail("Its parent tokens would stay locked until COMMIT PREPARED.")));
			if (pending.nacts > 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction that changed tokens or buckets by token"),
						 errdetail("The acting tokens would stay locked until COMMIT PREPARED.")));
			verify_pending();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			forget_pending();
			break;
		default:
			break;
	}
}

/*
 * subtransaction_event drops the children and acts of a subtransaction
 * rolled back, and hands those of one committed to its parent.
 */
static void
subtransaction_event(SubXactEvent event, SubTransactionId subxact,
					 SubTransactionId parent_subxact, void *arg)
{
	int			i;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	for (i = 0; i < pending.nchildren; i++)
	{
		DelegatedChild *child = &pending.children[i];

		if (child->subxact != subxact)
			continue;
		if (event == SUBXACT_EVENT_ABORT_SUB)
			child->rolled_back = true;
		else
			child->subxact = parent_subxact;
	}
	for (i = 0; i < pending.nacts; i++)
	{
		TokenAct   *act = &pending.acts[i];

		if (act->subxact != subxact)
			continue;
		if (event == SUBXACT_EVENT_ABORT_SUB)
			act->rolled_back = true;
		else
			act->subxact = parent_subxact;
	}
}

/*
 * commit_check_init registers the transaction callbacks; called once from
 * _PG_init.
 */
void
commit_check_init(void)
{
	RegisterXactCallback(transaction_event, NULL);
	RegisterSubXactCallback(subtransaction_event, NULL);
}
