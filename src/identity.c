/*-------------------------------------------------------------------------
 *
 * identity.c
 *	  The transaction's current token: authenticate(token), and what
 *	  row-level security policies ask of it (current_token_check,
 *	  current_token_allows, current_token_buckets, current_token_id,
 *	  current_token_org).
 *
 * authenticate verifies a token once and makes it current until the
 * transaction ends: at commit, at abort, and at the rollback of a savepoint
 * taken before the call (the token current before it is current again).
 * The next transaction on the same connection, behind a pooler in
 * transaction mode another client's, starts with none.
 *
 * Only the token's digest is kept, in backend memory: never in a setting,
 * so pg_settings, pg_stat_activity and the log have nothing to show.  The
 * checks look the token up by digest as token_check does (the cache, then
 * the tables), so a revoke committed elsewhere is in force at the next
 * statement and an expiry at the next check.
 *
 * A policy calls these functions for every row.  Each call site remembers
 * its last question and answer (fn_extra) for the rest of the statement,
 * so a scan over rows of a few buckets asks once per bucket; a new
 * statement or a new current token asks again.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(influx_tokens_authenticate);
PG_FUNCTION_INFO_V1(influx_tokens_current_token_check);
PG_FUNCTION_INFO_V1(influx_tokens_current_token_allows);
PG_FUNCTION_INFO_V1(influx_tokens_current_token_id);
PG_FUNCTION_INFO_V1(influx_tokens_current_token_org);
PG_FUNCTION_INFO_V1(influx_tokens_current_token_buckets);

/*
 * One authenticate call of this transaction: the token it made current
 * (none if the token was not usable), where (the subtransaction), and what
 * was current before it.  Kept in TopTransactionContext.
 */
typedef struct Identity
{
	bool		has_token;
	uint8		digest[TOKEN_DIGEST_LENGTH];
	SubTransactionId subxact;
	struct Identity *previous;
} Identity;

static Identity *current = NULL;

/* Bumped by every change of the current token: call sites' answers expire. */
static uint64 identity_generation = 0;

/*
 * What one call site remembers for the statement: its last few questions
 * (the action, and the bucket or permission asked about) and answers.  A
 * scan's rows name a few buckets, in any order.
 */
#define REMEMBERED_ANSWERS 8

typedef struct Answer
{
	PermissionAction action;
	bool		answer;
	int			length;
	int			capacity;
	char	   *question;
} Answer;

typedef struct Remembered
{
	uint64		generation;
	LocalTransactionId lxid;
	CommandId	command;
	int			count;			/* answers in use */
	int			next;			/* the one to replace when all are */
	Answer		answers[REMEMBERED_ANSWERS];
} Remembered;

/*
 * current_digest returns the digest of the current token, or NULL if no
 * token is current.
 */
static const uint8 *
current_digest(void)
{
	return current != NULL && current->has_token ? current->digest : NULL;
}

/*
 * authenticate(token): makes the token current for the rest of the
 * transaction if it is usable now (active, unexpired), and says whether it
 * is; a token that is not usable (or NULL) leaves no token current.  The
 * check counts in the token's usage once.
 */
Datum
influx_tokens_authenticate(PG_FUNCTION_ARGS)
{
	Identity   *identity = MemoryContextAllocZero(TopTransactionContext, sizeof(Identity));
	const TokenRecord *record = NULL;
	UsagePending *usage;

	identity->subxact = GetCurrentSubTransactionId();
	identity->previous = current;
	if (!PG_ARGISNULL(0) && secret_digest(PG_GETARG_TEXT_PP(0), identity->digest))
	{
		cache_prepare();
		record = token_cache_get(identity->digest, &usage);
	}
	if (record != NULL)
	{
		identity->has_token = token_is_usable(record);
		usage_note_check(usage, record->id, identity->has_token);
	}
	if (!identity->has_token)
		memset(identity->digest, 0, TOKEN_DIGEST_LENGTH);
	current = identity;
	identity_generation++;
	PG_RETURN_BOOL(identity->has_token);
}

/*
 * call_site_memory returns what the call site remembers, forgetting it all
 * when the statement, the transaction or the current token changed.
 */
static Remembered *
call_site_memory(FunctionCallInfo fcinfo)
{
	Remembered *memo = fcinfo->flinfo->fn_extra;

	if (memo == NULL)
	{
		memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(Remembered));
		fcinfo->flinfo->fn_extra = memo;
	}
	if (memo->generation != identity_generation || memo->lxid != COMPAT_MY_LXID ||
		memo->command != GetCurrentCommandId(false))
	{
		memo->generation = identity_generation;
		memo->lxid = COMPAT_MY_LXID;
		memo->command = GetCurrentCommandId(false);
		memo->count = 0;
		memo->next = 0;
	}
	return memo;
}

/*
 * remembered_answer returns the call site's answer to the question (the
 * action and the bytes of the question) if it asked exactly that in this
 * statement for the same current token; else NULL.
 */
static const Answer *
remembered_answer(Remembered *memo, PermissionAction action, const char *question, int length)
{
	int			i;

	for (i = 0; i < memo->count; i++)
	{
		const Answer *answer = &memo->answers[i];

		if (answer->action == action && answer->length == length &&
			memcmp(answer->question, question, length) == 0)
			return answer;
	}
	return NULL;
}

/*
 * remember_answer stores the call site's answer to the question, in place
 * of the oldest when all places are taken, and returns it.
 */
static bool
remember_answer(FunctionCallInfo fcinfo, Remembered *memo, PermissionAction action,
				const char *question, int length, bool answer)
{
	Answer	   *slot;

	if (memo->count < REMEMBERED_ANSWERS)
		slot = &memo->answers[memo->count++];
	else
	{
		slot = &memo->answers[memo->next];
		memo->next = (memo->next + 1) % REMEMBERED_ANSWERS;
	}
	if (slot->capacity < length)
	{
		if (slot->question != NULL)
			pfree(slot->question);
		slot->question = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, Max(length, 1));
		slot->capacity = length;
	}
	slot->action = action;
	slot->answer = answer;
	slot->length = length;
	memcpy(slot->question, question, length);
	return answer;
}

/*
 * ask answers a question of the current token through the call site's
 * memory: the action on the bucket (of the organization, if given), or on
 * the resource a permission names; question is its text for the memory.
 */
static bool
ask(FunctionCallInfo fcinfo, const uint8 *digest, const ParsedPermission *parsed,
	const char *question, int length, const char *org, size_t org_length)
{
	Remembered *memo = call_site_memory(fcinfo);
	const Answer *known = remembered_answer(memo, parsed->action, question, length);

	if (known != NULL)
		return known->answer;
	return remember_answer(fcinfo, memo, parsed->action, question, length,
						   digest_permits(digest, false, parsed, org, org_length));
}

/*
 * current_token_check(action, bucket) and current_token_check(action, org,
 * bucket): may the current token perform action ("read" or "write") on the
 * named bucket of its organization, or of the named one (which only "**"
 * and grants without an organization reach unless it is the token's own)?
 * False when no token is current; never NULL.  The question remembered is
 * the bucket, or the organization, a NUL byte (which no name has) and the
 * bucket.
 */
Datum
influx_tokens_current_token_check(PG_FUNCTION_ARGS)
{
	PermissionAction action = action_argument(fcinfo, 0);
	const uint8 *digest = current_digest();
	int			bucket_argno = PG_NARGS() - 1;
	text	   *org;
	text	   *bucket;
	StringInfoData question;
	ParsedPermission parsed;

	if (digest == NULL || PG_ARGISNULL(bucket_argno) || (PG_NARGS() == 3 && PG_ARGISNULL(1)))
		PG_RETURN_BOOL(false);
	bucket = PG_GETARG_TEXT_PP(bucket_argno);
	parsed = bucket_question(action, VARDATA_ANY(bucket), VARSIZE_ANY_EXHDR(bucket));
	if (PG_NARGS() == 2)
		PG_RETURN_BOOL(ask(fcinfo, digest, &parsed,
						   VARDATA_ANY(bucket), VARSIZE_ANY_EXHDR(bucket), NULL, 0));

	org = PG_GETARG_TEXT_PP(1);
	initStringInfo(&question);
	appendBinaryStringInfo(&question, VARDATA_ANY(org), VARSIZE_ANY_EXHDR(org));
	appendStringInfoChar(&question, '\0');
	appendBinaryStringInfo(&question, VARDATA_ANY(bucket), VARSIZE_ANY_EXHDR(bucket));
	PG_RETURN_BOOL(ask(fcinfo, digest, &parsed, question.data, question.len,
					   VARDATA_ANY(org), VARSIZE_ANY_EXHDR(org)));
}

/*
 * current_token_allows(permission): does the current token hold the
 * permission (as token_allows decides)?  False when no token is current;
 * a malformed permission is an error all the same.
 */
Datum
influx_tokens_current_token_allows(PG_FUNCTION_ARGS)
{
	text	   *permission_text;
	ParsedPermission permission;
	const uint8 *digest = current_digest();

	require_argument(fcinfo, 0, "permission");
	permission_text = PG_GETARG_TEXT_PP(0);
	parse_permission(VARDATA_ANY(permission_text), VARSIZE_ANY_EXHDR(permission_text),
					 false, &permission);
	if (digest == NULL)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(ask(fcinfo, digest, &permission,
					   VARDATA_ANY(permission_text), VARSIZE_ANY_EXHDR(permission_text), NULL, 0));
}

/* What current_token_buckets collects. */
typedef struct BucketList
{
	const TokenRecord *token;
	PermissionAction action;
	ArrayBuildState *names;
} BucketList;

/*
 * add_bucket_if_allowed adds a bucket's name to the list if the token may
 * act on it.
 */
static void
add_bucket_if_allowed(int64 id, text *name, void *arg)
{
	BucketList *list = arg;
	ResourceRequest request = {list->action, RESOURCE_BUCKETS, list->token->org_id, id, false};

	if (grants_allow(list->token->grants, list->token->ngrants, list->token->org_id, &request))
		list->names = accumArrayResult(list->names, PointerGetDatum(name), false, TEXTOID,
									   CurrentMemoryContext);
}

/*
 * current_record returns what the checks know of the current token while
 * it is usable (active, unexpired now); NULL otherwise, or when no token
 * is current.
 */
static const TokenRecord *
current_record(void)
{
	const uint8 *digest = current_digest();
	const TokenRecord *record;
	UsagePending *usage;

	if (digest == NULL)
		return NULL;
	cache_prepare();
	record = token_cache_get(digest, &usage);
	return record != NULL && token_is_usable(record) ? record : NULL;
}

/*
 * current_token_buckets(action): the names of the buckets of its
 * organization the current token may read or write, for policies that a
 * planner can evaluate once per statement and match with an index:
 * bucket = ANY ((SELECT influx_tokens.current_token_buckets('read'))::text[]).
 * Empty when no token is current.
 */
Datum
influx_tokens_current_token_buckets(PG_FUNCTION_ARGS)
{
	BucketList	list = {NULL, action_argument(fcinfo, 0), NULL};

	list.token = current_record();
	if (list.token == NULL)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));
	lookup_buckets_of_org(list.token->org_id, add_bucket_if_allowed, &list);
	if (list.names == NULL)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));
	PG_RETURN_DATUM(makeArrayResult(list.names, CurrentMemoryContext));
}

/*
 * current_token_id(): the current token's id, while it is usable; NULL
 * when no token is current (or it was revoked or expired since).
 */
Datum
influx_tokens_current_token_id(PG_FUNCTION_ARGS)
{
	const TokenRecord *record = current_record();

	if (record == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT64(record->id);
}

/*
 * current_token_org(): the name of the current token's organization, while
 * the token is usable; NULL when no token is current.
 */
Datum
influx_tokens_current_token_org(PG_FUNCTION_ARGS)
{
	const TokenRecord *record = current_record();
	char	   *name;

	if (record == NULL || (name = lookup_org_name(record->org_id)) == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(name));
}

/*
 * transaction_event forgets the current token when the transaction ends
 * (its memory goes with the transaction).
 */
static void
transaction_event(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		current = NULL;
		identity_generation++;
	}
}

/*
 * subtransaction_event undoes the authenticate calls of a subtransaction
 * rolled back, and hands those of one committed to its parent.
 */
static void
subtransaction_event(SubXactEvent event, SubTransactionId subxact,
					 SubTransactionId parent_subxact, void *arg)
{
	Identity   *identity;

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		while (current != NULL && current->subxact == subxact)
			current = current->previous;
		identity_generation++;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (identity = current; identity != NULL; identity = identity->previous)
		{
			if (identity->subxact == subxact)
				identity->subxact = parent_subxact;
		}
	}
}

/*
 * identity_init registers the transaction callbacks; called once from
 * _PG_init.
 */
void
identity_init(void)
{
	RegisterXactCallback(transaction_event, NULL);
	RegisterSubXactCallback(subtransaction_event, NULL);
}
