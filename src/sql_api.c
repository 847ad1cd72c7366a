/*-------------------------------------------------------------------------
 *
 * sql_api.c
 *	  SQL-callable functions of influx_tokens.
 *
 * token_check and token_allows are the public checks.  The functions whose
 * names start with an underscore are building blocks of the PL/pgSQL
 * management functions in the install script; PUBLIC cannot call them.
 * None of them ever puts a token into an error message.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(token_check);
PG_FUNCTION_INFO_V1(token_check_in_org);
PG_FUNCTION_INFO_V1(token_allows);
PG_FUNCTION_INFO_V1(generate_token);
PG_FUNCTION_INFO_V1(token_digest_if_well_formed);
PG_FUNCTION_INFO_V1(parse_permission_sql);
PG_FUNCTION_INFO_V1(check_name_sql);
PG_FUNCTION_INFO_V1(value_for_message_sql);
PG_FUNCTION_INFO_V1(looks_like_token_sql);
PG_FUNCTION_INFO_V1(invalidate_cache_trigger);
PG_FUNCTION_INFO_V1(cache_stats);

void		_PG_init(void);

/*
 * _PG_init registers what each subsystem needs once per backend.
 */
void
_PG_init(void)
{
	usage_init();
	cache_init();
	MarkGUCPrefixReserved("influx_tokens");
}

/*
 * required_argument raises the error for a NULL that a check cannot decide
 * on (an action or a permission): a caller's bug, not a denial.
 */
static void
required_argument(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", what)));
}

/*
 * action_argument returns the action argument ("read" or "write") of a
 * check; anything else, NULL included, is an error even when the check
 * would be false anyway: it is a caller's bug, not a denial.
 */
static PermissionAction
action_argument(FunctionCallInfo fcinfo, int argno)
{
	text	   *action_text;

	required_argument(fcinfo, argno, "action");
	action_text = PG_GETARG_TEXT_PP(argno);
	return action_from_text(VARDATA_ANY(action_text), VARSIZE_ANY_EXHDR(action_text));
}

/*
 * check_bucket is the body of both token_check variants: org_argno is -1
 * for the token's own organization.
 */
static bool
check_bucket(FunctionCallInfo fcinfo, int org_argno, int bucket_argno)
{
	PermissionAction action = action_argument(fcinfo, 1);
	text	   *token;
	text	   *org = NULL;
	text	   *bucket;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(bucket_argno) ||
		(org_argno >= 0 && PG_ARGISNULL(org_argno)))
		return false;
	token = PG_GETARG_TEXT_PP(0);
	bucket = PG_GETARG_TEXT_PP(bucket_argno);
	if (org_argno >= 0)
		org = PG_GETARG_TEXT_PP(org_argno);

	return token_permits(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token),
						 action, RESOURCE_BUCKETS,
						 org ? VARDATA_ANY(org) : NULL, org ? VARSIZE_ANY_EXHDR(org) : 0,
						 VARDATA_ANY(bucket), VARSIZE_ANY_EXHDR(bucket));
}

/*
 * token_check(token, action, bucket): may the token perform action ("read"
 * or "write") on the named bucket of its organization?  Never NULL.
 */
Datum
token_check(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(check_bucket(fcinfo, -1, 2));
}

/*
 * token_check(token, action, org, bucket): the same for a bucket of the
 * named organization, which only an operator token ("**") may reach unless
 * it is the token's own.  Never NULL.
 */
Datum
token_check_in_org(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(check_bucket(fcinfo, 2, 3));
}

/*
 * token_allows(token, permission): does the token hold the permission given
 * as a permission string, e.g. 'read:orgs' or 'write:buckets/metrics'?
 * Never NULL; a malformed permission string is an error.
 */
Datum
token_allows(PG_FUNCTION_ARGS)
{
	text	   *permission_text;
	text	   *token;
	ParsedPermission permission;

	required_argument(fcinfo, 1, "permission");
	permission_text = PG_GETARG_TEXT_PP(1);
	parse_permission(VARDATA_ANY(permission_text),
					 VARSIZE_ANY_EXHDR(permission_text), &permission);

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	token = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(token_permits(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token),
								 permission.action, permission.resource_type,
								 NULL, 0,
								 permission.bucket_name,
								 permission.bucket_name_length));
}

/*
 * _generate_token(): a new random token.  It is stored nowhere; the caller
 * stores its digest and hands the token out once.
 */
Datum
generate_token(PG_FUNCTION_ARGS)
{
	char		token[TOKEN_LENGTH + 1];
	text	   *result;

	token_generate(token);
	result = cstring_to_text_with_len(token, TOKEN_LENGTH);
	explicit_bzero(token, sizeof(token));
	PG_RETURN_TEXT_P(result);
}

/*
 * _token_digest(token): the SHA-256 of anything a check would look up (one
 * of our tokens, or an importable one), NULL for anything else (so that it
 * matches no row).
 */
Datum
token_digest_if_well_formed(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	bytea	   *result;

	if (!token_is_acceptable(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token)))
		PG_RETURN_NULL();

	result = palloc(VARHDRSZ + TOKEN_DIGEST_LENGTH);
	SET_VARSIZE(result, VARHDRSZ + TOKEN_DIGEST_LENGTH);
	token_digest(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token),
				 (uint8 *) VARDATA(result));
	PG_RETURN_BYTEA_P(result);
}

/*
 * _parse_permission(permission, OUT action, OUT resource_type, OUT bucket):
 * the parts of a permission string, or an error naming what is wrong.
 */
Datum
parse_permission_sql(PG_FUNCTION_ARGS)
{
	text	   *permission_text;
	ParsedPermission permission;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("permission must not be NULL")));
	permission_text = PG_GETARG_TEXT_PP(0);
	parse_permission(VARDATA_ANY(permission_text),
					 VARSIZE_ANY_EXHDR(permission_text), &permission);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	values[0] = CStringGetTextDatum(action_name(permission.action));
	values[1] = CStringGetTextDatum(resource_type_name(permission.resource_type));
	if (permission.bucket_name != NULL)
		values[2] = PointerGetDatum(cstring_to_text_with_len(permission.bucket_name,
															 (int) permission.bucket_name_length));
	else
		nulls[2] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * _check_name(kind, name): raise an error unless name is a valid name for
 * an organization, a bucket or a label.
 */
Datum
check_name_sql(PG_FUNCTION_ARGS)
{
	char	   *kind;
	text	   *name;

	if (PG_ARGISNULL(0))
		elog(ERROR, "kind must not be NULL");
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s name must not be NULL", kind)));
	name = PG_GETARG_TEXT_PP(1);
	check_name(kind, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
	PG_RETURN_VOID();
}

/*
 * _for_message(value): a user-supplied value as error messages quote it
 * (clipped, and redacted if it looks like a token), for the PL/pgSQL
 * functions' RAISE statements.
 */
Datum
value_for_message_sql(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(value_for_message(VARDATA_ANY(value),
													   VARSIZE_ANY_EXHDR(value))));
}

/*
 * _looks_like_token(value): does the value contain something shaped like a
 * token?  Descriptions and names must not store one in plain text.
 */
Datum
looks_like_token_sql(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(looks_like_token(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)));
}

/*
 * _invalidate_cache(): statement-level trigger on the tables checks read;
 * see cache.c for why this keeps every backend's cache correct.
 */
Datum
invalidate_cache_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_invalidate_cache() must be called as a trigger")));

	cache_note_table_change(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/*
 * cache_stats(): this backend's cache, for administrators and benchmarks.
 */
Datum
cache_stats(PG_FUNCTION_ARGS)
{
	CacheStats	stats = cache_get_stats();
	TupleDesc	desc;
	Datum		values[8];
	bool		nulls[8] = {false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	values[0] = Int32GetDatum(stats.capacity);
	values[1] = Int64GetDatum(stats.tokens);
	values[2] = Int64GetDatum(stats.buckets);
	values[3] = Int64GetDatum(stats.memory_bytes);
	values[4] = Int64GetDatum(stats.hits);
	values[5] = Int64GetDatum(stats.misses);
	values[6] = Int64GetDatum(stats.evictions);
	values[7] = Int64GetDatum(stats.invalidations);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
