/*-------------------------------------------------------------------------
 *
 * create.c
 *	  Creating tokens: create_token, create_token_as and import_token (one
 *	  token a call, and their _with_id forms) and create_tokens (a fleet in
 *	  one call), through one writer of new token rows.
 *
 * Every path validates its arguments with manage.c's rules, in the order
 * the SQL signature lists them, and then stores its tokens (store_tokens,
 * the only writer of new token rows: see below how, and why not through
 * SQL).  No query is planned, so no digest can become a constant of a plan
 * that auto_explain prints.  create_tokens stores CREATE_BATCH tokens at a
 * time and hands them out before it makes the next batch, so its memory
 * does not grow with the count.
 *
 * A token's text exists only in the result: it is generated here, hashed,
 * copied into the result, and the buffer that held it is wiped.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type_d.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(influx_tokens_create_token);
PG_FUNCTION_INFO_V1(influx_tokens_create_token_with_id);
PG_FUNCTION_INFO_V1(influx_tokens_create_token_as);
PG_FUNCTION_INFO_V1(influx_tokens_create_token_as_with_id);
PG_FUNCTION_INFO_V1(influx_tokens_import_token);
PG_FUNCTION_INFO_V1(influx_tokens_create_tokens);

/* Tokens stored by one round of the three statements. */
#define CREATE_BATCH 1000

/* Most tokens one create_tokens call makes. */
#define CREATE_MAX_COUNT 1000000

/* What every token a call creates gets, validated. */
typedef struct TokenSpec
{
	int64		org_id;
	ResolvedGrants grants;
	text	   *description;	/* NULL: none */
	ArrayType  *labels;			/* no duplicates; may be empty */
	bool		has_expiry;
	TimestampTz expires_at;
	int64		parent_id;		/* 0: none */
	bool		delegated;		/* the commit checks the delegation again */
	uint8		parent_digest[TOKEN_DIGEST_LENGTH];
} TokenSpec;

/*
 * How rows are written: as logical replication's apply worker writes them
 * (execReplication.c), through the table access method and
 * ExecInsertIndexTuples, which maintains every index (partial ones
 * included) and checks uniqueness.  What an INSERT statement adds on top
 * is not needed here and costs most of a call that creates one token:
 * executor start-up, CHECK constraints compiled anew for every statement,
 * a foreign-key query per grant for a token row written a moment before,
 * and statement triggers (an INSERT invalidates nothing cached; the cache
 * is told directly, cache_note_table_insert).  The values are valid by
 * construction (manage.c's rules, the CHECK constraints' too); every
 * column is filled by name, and a column this library does not know is an
 * error, so that a newer schema is never written with a column left unset.
 */

/* What fills a column. */
typedef enum ColumnRole
{
	COLUMN_UNKNOWN,
	COLUMN_ID,					/* the next value of the table's sequence */
	COLUMN_ORG_ID,
	COLUMN_DIGEST,
	COLUMN_DESCRIPTION,
	COLUMN_STATUS,
	COLUMN_NOW,					/* created_at, updated_at */
	COLUMN_EXPIRES_AT,
	COLUMN_PARENT_ID,
	COLUMN_NULL,				/* previous_digest, previous_valid_until, influx ids */
	COLUMN_TOKEN_ID,
	COLUMN_ACTION,
	COLUMN_RESOURCE_TYPE,
	COLUMN_BUCKET_ID,
	COLUMN_RESOURCE_ID,			/* the InfluxDB ID of a grant on one non-bucket */
	COLUMN_ANY_ORG,
	COLUMN_LABEL
} ColumnRole;

typedef struct ColumnName
{
	const char *name;
	ColumnRole	role;
} ColumnName;

static const ColumnName token_columns[] = {
	{"id", COLUMN_ID}, {"org_id", COLUMN_ORG_ID}, {"digest", COLUMN_DIGEST},
	{"description", COLUMN_DESCRIPTION}, {"status", COLUMN_STATUS},
	{"created_at", COLUMN_NOW}, {"updated_at", COLUMN_NOW},
	{"expires_at", COLUMN_EXPIRES_AT}, {"parent_id", COLUMN_PARENT_ID},
	{"previous_digest", COLUMN_NULL}, {"previous_valid_until", COLUMN_NULL},
	{"influx_id", COLUMN_NULL}, {"influx_user_id", COLUMN_NULL},
	{"influx_user_name", COLUMN_NULL}, {NULL, COLUMN_UNKNOWN}
};
static const ColumnName grant_columns[] = {
	{"token_id", COLUMN_TOKEN_ID}, {"action", COLUMN_ACTION},
	{"resource_type", COLUMN_RESOURCE_TYPE}, {"bucket_id", COLUMN_BUCKET_ID},
	{"id", COLUMN_ID}, {"resource_id", COLUMN_RESOURCE_ID}, {"any_org", COLUMN_ANY_ORG},
	{NULL, COLUMN_UNKNOWN}
};
static const ColumnName label_columns[] = {
	{"token_id", COLUMN_TOKEN_ID}, {"label", COLUMN_LABEL}, {NULL, COLUMN_UNKNOWN}
};

/* One table being written, with its indexes open. */
typedef struct TableWriter
{
	Relation	rel;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	ColumnRole *roles;			/* by attribute number - 1 */
	Oid			sequence;		/* for COLUMN_ID; InvalidOid if none */
} TableWriter;

/*
 * relation_of returns the OID of one of the extension's relations.
 */
static Oid
relation_of(const char *name)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid("influx_tokens", false));

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"influx_tokens.%s\" does not exist", name)));
	return relid;
}

/*
 * writer_open opens a table for writing rows whose columns columns names.
 */
static void
writer_open(TableWriter *writer, const char *table, const char *sequence,
			const ColumnName *columns)
{
	TupleDesc	desc;
	int			i;

	writer->rel = table_open(relation_of(table), RowExclusiveLock);
	writer->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(writer->rri, writer->rel, 1, NULL, 0);
	ExecOpenIndices(writer->rri, false);
	writer->slot = table_slot_create(writer->rel, NULL);
	writer->sequence = sequence ? relation_of(sequence) : InvalidOid;

	desc = RelationGetDescr(writer->rel);
	writer->roles = palloc(desc->natts * sizeof(ColumnRole));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attribute = TupleDescAttr(desc, i);
		const ColumnName *column;

		writer->roles[i] = COLUMN_NULL;
		if (attribute->attisdropped)
			continue;
		for (column = columns; column->name != NULL; column++)
		{
			if (strcmp(column->name, NameStr(attribute->attname)) == 0)
				break;
		}
		if (column->name == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column \"%s\" of relation \"influx_tokens.%s\" is unknown to this library",
							NameStr(attribute->attname), table),
					 errhint("Install the library of the extension's version (make install).")));
		writer->roles[i] = column->role;
	}
}

/*
 * writer_insert writes one row, its columns filled by fill, and its index
 * entries; returns the id it gave the row (0 for a table without one).
 * What the row needs is allocated in the per-tuple memory, freed after it.
 */
static int64
writer_insert(TableWriter *writer, EState *estate,
			  Datum (*fill) (ColumnRole role, const void *row, bool *isnull), const void *row)
{
	TupleTableSlot *slot = writer->slot;
	int			natts = slot->tts_tupleDescriptor->natts;
	MemoryContext caller_context = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
	int64		id = 0;
	int			i;

	ExecClearTuple(slot);
	for (i = 0; i < natts; i++)
	{
		slot->tts_isnull[i] = false;
		if (writer->roles[i] == COLUMN_ID)
		{
			id = nextval_internal(writer->sequence, false);
			slot->tts_values[i] = Int64GetDatum(id);
		}
		else if (writer->roles[i] == COLUMN_NULL)
			slot->tts_isnull[i] = true;
		else
			slot->tts_values[i] = fill(writer->roles[i], row, &slot->tts_isnull[i]);
	}
	ExecStoreVirtualTuple(slot);
	simple_table_tuple_insert(writer->rel, slot);
	if (writer->rri->ri_NumIndices > 0)
		list_free(COMPAT_EXEC_INSERT_INDEX_TUPLES(writer->rri, slot, estate));
	ExecClearTuple(slot);
	MemoryContextSwitchTo(caller_context);
	ResetPerTupleExprContext(estate);
	return id;
}

/*
 * writer_close closes what writer_open opened.
 */
static void
writer_close(TableWriter *writer)
{
	ExecDropSingleTupleTableSlot(writer->slot);
	ExecCloseIndices(writer->rri);
	table_close(writer->rel, NoLock);
}

/* One token row to fill, and one grant or label row. */
typedef struct TokenRow
{
	const TokenSpec *spec;
	const uint8 *digest;
	Datum		now;
} TokenRow;

typedef struct GrantRow
{
	int64		token_id;
	const TokenGrant *grant;
	const char *label;			/* for a label row */
	Datum		label_datum;
} GrantRow;

/*
 * fill_token gives a column of a tokens row its value.
 */
static Datum
fill_token(ColumnRole role, const void *row_arg, bool *isnull)
{
	const TokenRow *row = row_arg;
	const TokenSpec *spec = row->spec;

	switch (role)
	{
		case COLUMN_ORG_ID:
			return Int64GetDatum(spec->org_id);
		case COLUMN_DIGEST:
			return digest_datum(row->digest);
		case COLUMN_DESCRIPTION:
			*isnull = spec->description == NULL;
			return PointerGetDatum(spec->description);
		case COLUMN_STATUS:
			return CStringGetTextDatum("active");
		case COLUMN_NOW:
			return row->now;
		case COLUMN_EXPIRES_AT:
			*isnull = !spec->has_expiry;
			return TimestampTzGetDatum(spec->expires_at);
		case COLUMN_PARENT_ID:
			*isnull = spec->parent_id == 0;
			return Int64GetDatum(spec->parent_id);
		default:
			elog(ERROR, "no value for column role %d of tokens", (int) role);
	}
	return (Datum) 0;
}

/*
 * fill_grant gives a column of a permissions or token_labels row its value.
 */
static Datum
fill_grant(ColumnRole role, const void *row_arg, bool *isnull)
{
	const GrantRow *row = row_arg;

	switch (role)
	{
		case COLUMN_TOKEN_ID:
			return Int64GetDatum(row->token_id);
		case COLUMN_ACTION:
			return CStringGetTextDatum(action_name(row->grant->action));
		case COLUMN_RESOURCE_TYPE:
			return CStringGetTextDatum(resource_type_name(row->grant->resource_type));
		case COLUMN_BUCKET_ID:
			*isnull = row->grant->resource_type != RESOURCE_BUCKETS ||
				row->grant->resource_id == 0;
			return Int64GetDatum(row->grant->resource_id);
		case COLUMN_RESOURCE_ID:
			{
				char		digits[INFLUX_ID_LENGTH + 1];

				*isnull = row->grant->resource_type == RESOURCE_BUCKETS ||
					row->grant->resource_id == 0;
				if (*isnull)
					return (Datum) 0;
				format_influx_id((uint64) row->grant->resource_id, digits);
				return CStringGetTextDatum(digits);
			}
		case COLUMN_ANY_ORG:
			return BoolGetDatum(row->grant->any_org);
		case COLUMN_LABEL:
			return row->label_datum;
		default:
			elog(ERROR, "no value for column role %d of a grant or label", (int) role);
	}
	return (Datum) 0;
}

/*
 * store_tokens stores count tokens by their digests, as spec says, sets ids
 * to their ids, and has the commit check them (commit_check.c).
 */
static void
store_tokens(const TokenSpec *spec, const uint8 (*digests)[TOKEN_DIGEST_LENGTH], int count,
			 int64 *ids)
{
	EState	   *estate = CreateExecutorState();
	TableWriter tokens;
	TableWriter grants;
	TableWriter labels;
	Datum	   *label_elements;
	int			nlabels;
	TokenRow	token_row = {spec, NULL, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp())};
	TokenRecord *child = NULL;
	int			i;
	int			j;

	/* A child as made, for the commit to judge (commit_check.c). */
	if (spec->delegated)
	{
		child = palloc0(offsetof(TokenRecord, grants) + spec->grants.count * sizeof(TokenGrant));
		child->org_id = spec->org_id;
		child->active = true;
		child->has_expiry = spec->has_expiry;
		child->expires_at = spec->expires_at;
		child->ngrants = spec->grants.count;
		memcpy(child->grants, spec->grants.grants, spec->grants.count * sizeof(TokenGrant));
	}

	/* What INSERT would refuse: no writes in a read-only transaction or on a standby. */
	PreventCommandIfReadOnly("creating tokens");
	deconstruct_array(spec->labels, TEXTOID, -1, false, TYPALIGN_INT, &label_elements, NULL, &nlabels);
	writer_open(&tokens, "tokens", "tokens_id_seq", token_columns);
	writer_open(&grants, "permissions", "permissions_id_seq", grant_columns);
	writer_open(&labels, "token_labels", NULL, label_columns);
	cache_note_table_insert();

	for (i = 0; i < count; i++)
	{
		GrantRow	grant_row = {0, NULL, NULL, (Datum) 0};

		token_row.digest = digests[i];
		ids[i] = writer_insert(&tokens, estate, fill_token, &token_row);

		grant_row.token_id = ids[i];
		for (j = 0; j < spec->grants.count; j++)
		{
			grant_row.grant = &spec->grants.grants[j];
			writer_insert(&grants, estate, fill_grant, &grant_row);
		}
		for (j = 0; j < nlabels; j++)
		{
			grant_row.label_datum = label_elements[j];
			writer_insert(&labels, estate, fill_grant, &grant_row);
		}
		if (spec->delegated)
		{
			commit_check_note_token(ids[i], child, spec->parent_digest);
		}
		else
			commit_check_note_token(ids[i], NULL, NULL);
	}

	writer_close(&labels);
	writer_close(&grants);
	writer_close(&tokens);
	FreeExecutorState(estate);
	CommandCounterIncrement();
}

/*
 * new_secrets fills tokens with count new tokens and digests with their
 * digests.
 */
static void
new_secrets(char (*tokens)[TOKEN_LENGTH + 1], uint8 (*digests)[TOKEN_DIGEST_LENGTH], int count)
{
	int			i;

	for (i = 0; i < count; i++)
	{
		token_generate(tokens[i]);
		token_digest(tokens[i], TOKEN_LENGTH, digests[i]);
	}
}

/*
 * spec_description_and_labels validates the description and labels
 * arguments (at these positions) into spec.
 */
static void
spec_description_and_labels(FunctionCallInfo fcinfo, int description_arg, int labels_arg,
							TokenSpec *spec)
{
	spec->description = PG_ARGISNULL(description_arg) ? NULL :
		valid_description(PG_GETARG_TEXT_PP(description_arg));
	spec->labels = valid_labels(PG_ARGISNULL(labels_arg) ? NULL : PG_GETARG_ARRAYTYPE_P(labels_arg));
}

/*
 * spec_in_org validates the arguments of a token an administrator creates
 * in an organization (org, permissions, description, labels, expires_at,
 * at these positions) into spec.
 */
static void
spec_in_org(FunctionCallInfo fcinfo, int org_arg, int permissions_arg, int description_arg,
			int labels_arg, int expires_arg, TokenSpec *spec)
{
	text	   *org;

	memset(spec, 0, sizeof(*spec));
	require_argument(fcinfo, org_arg, "organization name");
	org = PG_GETARG_TEXT_PP(org_arg);
	spec->org_id = org_id_of(org);
	require_argument(fcinfo, permissions_arg, "permissions");
	spec->grants = resolve_grants(spec->org_id, text_to_cstring(org),
								  PG_GETARG_ARRAYTYPE_P(permissions_arg));
	spec_description_and_labels(fcinfo, description_arg, labels_arg, spec);
	spec->has_expiry = !PG_ARGISNULL(expires_arg);
	if (spec->has_expiry)
	{
		spec->expires_at = PG_GETARG_TIMESTAMPTZ(expires_arg);
		require_future_expiry(spec->expires_at);
	}
}

/*
 * raise_delegation_refusal raises the error create_token_as reports for a
 * refused delegation: 28000 for a parent that may not create tokens at all,
 * 42501 for an escalation, as the token forms of management (authorizer.c); permission is the refused grant's string, expires_at
 * and valid_until the child's and the parent's expiry, where the verdict
 * needs them.
 */
static void
raise_delegation_refusal(DelegationVerdict verdict, text *permission,
						 TimestampTz expires_at, TimestampTz valid_until)
{
	switch (verdict)
	{
		case DELEGATION_ALLOWED:
			return;
		case DELEGATION_PARENT_UNUSABLE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("parent token is not valid"),
					 errdetail("It is unknown, revoked or expired.")));
			break;
		case DELEGATION_NO_AUTHORIZATIONS:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("parent token does not hold write:authorizations")));
			break;
		case DELEGATION_GRANT_NOT_HELD:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission \"%s\" is not held by the parent token",
							value_for_message(VARDATA_ANY(permission),
											  VARSIZE_ANY_EXHDR(permission)))));
			break;
		case DELEGATION_OUTLIVES_PARENT:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("expiry time %s is later than the parent token's validity",
							timestamp_for_message(expires_at)),
					 errdetail("The parent token is valid until %s.",
							   timestamp_for_message(valid_until))));
			break;
	}
}

/*
 * spec_delegated validates the arguments of create_token_as (parent_token,
 * permissions, description, labels, expires_at) into spec, deciding the
 * delegation (delegation.c) with one lookup of the parent: a usable parent
 * holding write:authorizations, then every grant asked for, resolved in
 * the parent's organization, then the expiry (by default as late as the
 * parent's secret is valid).
 */
static void
spec_delegated(FunctionCallInfo fcinfo, TokenSpec *spec)
{
	const TokenRecord *parent = NULL;
	UsagePending *usage;
	DelegationVerdict verdict;
	int			refused = 0;

	memset(spec, 0, sizeof(*spec));
	require_argument(fcinfo, 0, "parent token");
	/* The checks' cache: a service minting tokens uses one parent over and over. */
	if (secret_digest(PG_GETARG_TEXT_PP(0), spec->parent_digest))
	{
		cache_prepare();
		parent = token_cache_get(spec->parent_digest, &usage);
	}
	raise_delegation_refusal(delegation_grants_verdict(parent, NULL, 0, NULL), NULL, 0, 0);

	require_argument(fcinfo, 1, "permissions");
	spec->org_id = parent->org_id;
	spec->grants = resolve_grants(parent->org_id, NULL, PG_GETARG_ARRAYTYPE_P(1));
	verdict = delegation_grants_verdict(parent, spec->grants.grants, spec->grants.count, &refused);
	raise_delegation_refusal(verdict, verdict == DELEGATION_GRANT_NOT_HELD ?
							 spec->grants.permissions[refused] : NULL, 0, 0);

	spec->has_expiry = !PG_ARGISNULL(4);
	if (spec->has_expiry)
	{
		spec->expires_at = PG_GETARG_TIMESTAMPTZ(4);
		require_future_expiry(spec->expires_at);
	}
	else if (parent->has_expiry)
	{
		spec->has_expiry = true;
		spec->expires_at = parent->expires_at;
	}
	raise_delegation_refusal(delegation_verdict(parent, spec->grants.grants, spec->grants.count,
												spec->has_expiry, spec->expires_at, NULL),
							 NULL, spec->expires_at, parent->expires_at);

	spec_description_and_labels(fcinfo, 2, 3, spec);
	spec->parent_id = parent->id;
	spec->delegated = true;
}

/*
 * created_result returns a new token as the function's result: its text
 * (with_id false) or (id, token); the buffer holding the text is wiped.
 */
static Datum
created_result(FunctionCallInfo fcinfo, int64 id, char *token, bool with_id)
{
	text	   *token_text = cstring_to_text_with_len(token, TOKEN_LENGTH);
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	explicit_bzero(token, TOKEN_LENGTH + 1);
	if (!with_id)
		PG_RETURN_TEXT_P(token_text);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(id);
	values[1] = PointerGetDatum(token_text);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * create_one creates one token as spec says and returns it as the
 * function's result.
 */
static Datum
create_one(FunctionCallInfo fcinfo, const TokenSpec *spec, bool with_id)
{
	char		token[1][TOKEN_LENGTH + 1];
	uint8		digest[1][TOKEN_DIGEST_LENGTH];
	int64		id;

	new_secrets(token, digest, 1);
	store_tokens(spec, (const uint8 (*)[TOKEN_DIGEST_LENGTH]) digest, 1, &id);
	return created_result(fcinfo, id, token[0], with_id);
}

/*
 * create_token(org, permissions, description, labels, expires_at) and
 * create_token_with_id(...): a token an administrator creates; its text,
 * or (id, token).
 */
Datum
influx_tokens_create_token(PG_FUNCTION_ARGS)
{
	TokenSpec	spec;

	spec_in_org(fcinfo, 0, 1, 2, 3, 4, &spec);
	return create_one(fcinfo, &spec, false);
}

Datum
influx_tokens_create_token_with_id(PG_FUNCTION_ARGS)
{
	TokenSpec	spec;

	spec_in_org(fcinfo, 0, 1, 2, 3, 4, &spec);
	return create_one(fcinfo, &spec, true);
}

/*
 * create_token_as(parent_token, permissions, description, labels,
 * expires_at) and create_token_as_with_id(...): a token a token creates
 * (PUBLIC: the parent is the credential); decided now and again at commit.
 */
Datum
influx_tokens_create_token_as(PG_FUNCTION_ARGS)
{
	TokenSpec	spec;

	spec_delegated(fcinfo, &spec);
	return create_one(fcinfo, &spec, false);
}

Datum
influx_tokens_create_token_as_with_id(PG_FUNCTION_ARGS)
{
	TokenSpec	spec;

	spec_delegated(fcinfo, &spec);
	return create_one(fcinfo, &spec, true);
}

/*
 * import_token(org, token, permissions, description, labels, expires_at):
 * stores an existing token (its plaintext, or InfluxDB 2.9's hashed form)
 * by its digest, so that checks accept exactly that string; its id.
 */
Datum
influx_tokens_import_token(PG_FUNCTION_ARGS)
{
	TokenSpec	spec;
	uint8		digest[1][TOKEN_DIGEST_LENGTH];
	int64		id;

	spec_in_org(fcinfo, 0, 2, 3, 4, 5, &spec);
	require_argument(fcinfo, 1, "token");
	import_digest(PG_GETARG_TEXT_PP(1), digest[0]);
	if (lookup_digest_taken(digest[0]))
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("this token already exists")));
	store_tokens(&spec, (const uint8 (*)[TOKEN_DIGEST_LENGTH]) digest, 1, &id);
	PG_RETURN_INT64(id);
}

/* What create_tokens keeps between the rows it returns. */
typedef struct FleetState
{
	TokenSpec	spec;
	int64		remaining;		/* tokens still to make */
	int			batch_size;		/* tokens in the current batch */
	int			next;			/* the next of them to hand out */
	char		(*tokens)[TOKEN_LENGTH + 1];
	uint8		(*digests)[TOKEN_DIGEST_LENGTH];
	int64	   *ids;
	TupleDesc	desc;
} FleetState;

/*
 * fleet_start validates create_tokens' arguments (org, permissions, count,
 * description, labels, expires_at) into a new state.
 */
static FleetState *
fleet_start(FunctionCallInfo fcinfo)
{
	FleetState *state = palloc0(sizeof(FleetState));
	int64		count;
	TupleDesc	desc;

	spec_in_org(fcinfo, 0, 1, 3, 4, 5, &state->spec);
	require_argument(fcinfo, 2, "count");
	count = PG_GETARG_INT64(2);
	if (count < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("count must not be negative")));
	if (count > CREATE_MAX_COUNT)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many tokens (" INT64_FORMAT ")", count),
				 errdetail("At most %d tokens are created by one call.", CREATE_MAX_COUNT)));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	state->desc = BlessTupleDesc(desc);
	state->remaining = count;
	state->tokens = palloc(CREATE_BATCH * sizeof(*state->tokens));
	state->digests = palloc(CREATE_BATCH * sizeof(*state->digests));
	state->ids = palloc(CREATE_BATCH * sizeof(int64));
	return state;
}

/*
 * create_tokens(org, permissions, count, description, labels, expires_at):
 * count tokens with the same permissions, each with its own secret, as
 * rows (id, token), made and stored a batch at a time.  In the select list
 * the rows stream out; in FROM, PostgreSQL collects them first (in
 * work_mem, then in a temporary file).
 */
Datum
influx_tokens_create_tokens(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	FleetState *state;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		row;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext caller_context;

		funcctx = SRF_FIRSTCALL_INIT();
		caller_context = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		funcctx->user_fctx = fleet_start(fcinfo);
		MemoryContextSwitchTo(caller_context);
	}
	funcctx = SRF_PERCALL_SETUP();
	state = funcctx->user_fctx;

	if (state->next == state->batch_size)
	{
		if (state->remaining == 0)
			SRF_RETURN_DONE(funcctx);
		state->batch_size = (int) Min(state->remaining, CREATE_BATCH);
		state->next = 0;
		new_secrets(state->tokens, state->digests, state->batch_size);
		store_tokens(&state->spec, (const uint8 (*)[TOKEN_DIGEST_LENGTH]) state->digests,
					 state->batch_size, state->ids);
		state->remaining -= state->batch_size;
	}

	values[0] = Int64GetDatum(state->ids[state->next]);
	values[1] = PointerGetDatum(cstring_to_text_with_len(state->tokens[state->next], TOKEN_LENGTH));
	explicit_bzero(state->tokens[state->next], TOKEN_LENGTH + 1);
	state->next++;
	row = HeapTupleGetDatum(heap_form_tuple(state->desc, values, nulls));
	SRF_RETURN_NEXT(funcctx, row);
}
