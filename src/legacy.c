/*-------------------------------------------------------------------------
 *
 * legacy.c
 *	  C entry points named by the install scripts of versions 1.0 and 1.1.
 *
 * A database keeps calling these until ALTER EXTENSION influx_tokens
 * UPDATE replaces its SQL definitions, and src/influx_tokens--1.0.sql is
 * still the start of every upgrade path, so the library keeps them.  Each
 * one is the current implementation under its old name, or, where the old
 * SQL function had other semantics, a small adapter keeping those.  Nothing
 * in the current schema (influx_tokens.sql) names them.  The old usage
 * entry points live with the usage counters in usage.c.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

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

/* token_check(token, action, bucket) of 1.0. */
Datum
token_check(PG_FUNCTION_ARGS)
{
	return influx_tokens_token_check(fcinfo);
}

/* token_check(token, action, org, bucket) of 1.1. */
Datum
token_check_in_org(PG_FUNCTION_ARGS)
{
	return influx_tokens_token_check(fcinfo);
}

/* token_allows(token, permission) of 1.0. */
Datum
token_allows(PG_FUNCTION_ARGS)
{
	return influx_tokens_token_allows(fcinfo);
}

/* _generate_token() of 1.0. */
Datum
generate_token(PG_FUNCTION_ARGS)
{
	return influx_tokens__generate_token(fcinfo);
}

/* _token_digest(token) of 1.0: STRICT, NULL for a string checks refuse. */
Datum
token_digest_if_well_formed(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);

	if (!token_is_acceptable(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token)))
		PG_RETURN_NULL();
	return influx_tokens__token_digest(fcinfo);
}

/* _parse_permission(permission, OUT action, OUT resource_type, OUT bucket) of 1.0. */
Datum
parse_permission_sql(PG_FUNCTION_ARGS)
{
	text	   *permission_text;
	ParsedPermission permission;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	require_argument(fcinfo, 0, "permission");
	permission_text = PG_GETARG_TEXT_PP(0);
	parse_permission(VARDATA_ANY(permission_text),
					 VARSIZE_ANY_EXHDR(permission_text), false, &permission);
	/* 1.0's tables hold neither organizations nor IDs in grants. */
	if (permission.scope != SCOPE_TOKEN_ORG || permission.influx_id != 0 ||
		permission.resource_type == RESOURCE_INSTANCE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("permission \"%s\" needs version 1.2 of the extension",
						value_for_message(VARDATA_ANY(permission_text),
										  VARSIZE_ANY_EXHDR(permission_text))),
				 errhint("ALTER EXTENSION influx_tokens UPDATE.")));

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

/* _check_name(kind, name) of 1.0, which returned void. */
Datum
check_name_sql(PG_FUNCTION_ARGS)
{
	(void) influx_tokens__check_name(fcinfo);
	PG_RETURN_VOID();
}

/* _for_message(value) of 1.0. */
Datum
value_for_message_sql(PG_FUNCTION_ARGS)
{
	return influx_tokens__for_message(fcinfo);
}

/* _looks_like_token(value) of 1.0. */
Datum
looks_like_token_sql(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(looks_like_token(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)));
}

/* _invalidate_cache() trigger of 1.0. */
Datum
invalidate_cache_trigger(PG_FUNCTION_ARGS)
{
	return influx_tokens__invalidate_cache(fcinfo);
}

/* cache_stats() of 1.0. */
Datum
cache_stats(PG_FUNCTION_ARGS)
{
	return influx_tokens_cache_stats(fcinfo);
}
