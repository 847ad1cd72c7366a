/*-------------------------------------------------------------------------
 *
 * manage.c
 *	  C building blocks of the management functions (the PL/pgSQL in
 *	  influx_tokens.sql): validation of every argument, name and token
 *	  resolution, delegation's checks, and token_info.  The import's are in
 *	  import.c.
 *
 * Each validation rule lives here once, and each function raises the error
 * the user sees, naming the argument, with no PL/pgSQL frames of its own
 * in the error's context.  A token's text enters only through these
 * functions and is never quoted back: errors about a token say what is
 * wrong without the value.
 *
 * Tokens are found the way checks find them (lookup.c: the latest committed
 * state plus the session's own changes), and "usable" is check.c's rule, so
 * management and checks never disagree about a token.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(influx_tokens__generate_token);
PG_FUNCTION_INFO_V1(influx_tokens__token_digest);
PG_FUNCTION_INFO_V1(influx_tokens__token_ref);
PG_FUNCTION_INFO_V1(influx_tokens__parent_token);
PG_FUNCTION_INFO_V1(influx_tokens__lock_token);
PG_FUNCTION_INFO_V1(influx_tokens__authorize_child);
PG_FUNCTION_INFO_V1(influx_tokens__org_id);
PG_FUNCTION_INFO_V1(influx_tokens__bucket_id);
PG_FUNCTION_INFO_V1(influx_tokens__resolve_permissions);
PG_FUNCTION_INFO_V1(influx_tokens__check_labels);
PG_FUNCTION_INFO_V1(influx_tokens__check_description);
PG_FUNCTION_INFO_V1(influx_tokens__check_expiry);
PG_FUNCTION_INFO_V1(influx_tokens__check_name);
PG_FUNCTION_INFO_V1(influx_tokens__for_message);
PG_FUNCTION_INFO_V1(influx_tokens_token_info);

/* Bounds on array arguments: a sane token never comes near them. */
#define MAX_PERMISSIONS 1000
#define MAX_LABELS 1000

/* Longest description, in characters. */
#define DESCRIPTION_MAX_CHARS 1024

/* A token id given in digits: shorter than any secret can be. */
#define TOKEN_ID_MAX_DIGITS 15


/*
 * require_argument raises the error for a NULL where a value is needed.
 */
void
require_argument(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
}

/*
 * secret_digest computes the digest of a secret that checks would accept;
 * false for anything else.
 */
bool
secret_digest(text *secret, uint8 *digest)
{
	const char *value = VARDATA_ANY(secret);
	size_t		length = VARSIZE_ANY_EXHDR(secret);

	if (!token_is_acceptable(value, length))
		return false;
	token_digest(value, length, digest);
	return true;
}

/*
 * token_by_secret returns what checks know of the token whose secret this
 * is (current, or rotated out and in its grace period); NULL if none.
 */
static TokenRecord *
token_by_secret(text *secret)
{
	uint8		digest[TOKEN_DIGEST_LENGTH];

	if (!secret_digest(secret, digest))
		return NULL;
	return lookup_token(digest);
}

/*
 * timestamp_for_message formats a timestamp as timestamptz output does.
 */
static char *
timestamp_for_message(TimestampTz value)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(value)));
}

/*
 * require_future_expiry raises the error for an expiry that does not lie in
 * the future of the clock (checks read the clock, not the transaction's
 * start).
 */
static void
require_future_expiry(TimestampTz expires_at)
{
	if (expires_at <= GetCurrentTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expiry time %s is not in the future",
						timestamp_for_message(expires_at)),
				 errhint("Pass NULL for a token that never expires.")));
}

/*
 * digest_datum makes a bytea of a digest.
 */
Datum
digest_datum(const uint8 *digest)
{
	bytea	   *result = palloc(VARHDRSZ + TOKEN_DIGEST_LENGTH);

	SET_VARSIZE(result, VARHDRSZ + TOKEN_DIGEST_LENGTH);
	memcpy(VARDATA(result), digest, TOKEN_DIGEST_LENGTH);
	return PointerGetDatum(result);
}

/*
 * _generate_token(): a new random token.  It is stored nowhere; the caller
 * stores its digest and hands the token out once.
 */
Datum
influx_tokens__generate_token(PG_FUNCTION_ARGS)
{
	char		token[TOKEN_LENGTH + 1];
	text	   *result;

	token_generate(token);
	result = cstring_to_text_with_len(token, TOKEN_LENGTH);
	explicit_bzero(token, sizeof(token));
	PG_RETURN_TEXT_P(result);
}

/*
 * _token_digest(token): the SHA-256 of a token that checks would accept.
 */
Datum
influx_tokens__token_digest(PG_FUNCTION_ARGS)
{
	text	   *token;
	uint8		digest[TOKEN_DIGEST_LENGTH];

	require_argument(fcinfo, 0, "token");
	token = PG_GETARG_TEXT_PP(0);
	if (!token_is_acceptable(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("token is not well-formed")));
	token_digest(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), digest);
	PG_RETURN_DATUM(digest_datum(digest));
}

/*
 * token_id_in_digits parses a token id written as at most
 * TOKEN_ID_MAX_DIGITS decimal digits; false for anything else.
 */
static bool
token_id_in_digits(const char *value, size_t length, int64 *id)
{
	size_t		i;

	if (length == 0 || length > TOKEN_ID_MAX_DIGITS)
		return false;
	*id = 0;
	for (i = 0; i < length; i++)
	{
		if (value[i] < '0' || value[i] > '9')
			return false;
		*id = *id * 10 + (value[i] - '0');
	}
	return true;
}

/*
 * _token_ref(token): the id of the token an administrator names, by its
 * secret or by its id in digits.  The two forms cannot be confused: a secret
 * is longer than any id written this way.  The value is never quoted.
 */
Datum
influx_tokens__token_ref(PG_FUNCTION_ARGS)
{
	text	   *token;
	int64		id;
	TokenRecord *record;

	require_argument(fcinfo, 0, "token");
	token = PG_GETARG_TEXT_PP(0);
	if (token_id_in_digits(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), &id))
		PG_RETURN_INT64(id);

	if (!token_is_acceptable(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the value given is neither a token nor a token id"),
				 errhint("Name a token by its text, or by its id (a bigint, or at most %d digits in a string).",
						 TOKEN_ID_MAX_DIGITS)));
	record = token_by_secret(token);
	if (record == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("token does not exist"),
				 errdetail("No token has this secret (a secret replaced by a rotation counts only during its grace period).")));
	PG_RETURN_INT64(record->id);
}

/*
 * raise_delegation_refusal raises the error create_token_as reports for a
 * refused delegation; permission is the refused grant's text and
 * parent_valid_until the parent's validity, where the verdict needs them.
 */
static void
raise_delegation_refusal(DelegationVerdict verdict, text *permission,
						 TimestampTz expires_at, TimestampTz parent_valid_until)
{
	switch (verdict)
	{
		case DELEGATION_ALLOWED:
			return;
		case DELEGATION_PARENT_UNUSABLE:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("parent token is not valid"),
					 errdetail("It is unknown, revoked or expired.")));
			break;
		case DELEGATION_NO_AUTHORIZATIONS:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
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
							   timestamp_for_message(parent_valid_until))));
			break;
	}
}

/*
 * _parent_token(token, OUT id, OUT org_id, OUT valid_until): a token that
 * may create tokens now (usable, holding write:authorizations), and until
 * when its secret is valid (NULL for ever).  The grants a child asks for
 * are decided by _authorize_child, once they are resolved in the parent's
 * organization.
 */
Datum
influx_tokens__parent_token(PG_FUNCTION_ARGS)
{
	TokenRecord *record;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	require_argument(fcinfo, 0, "parent token");
	record = token_by_secret(PG_GETARG_TEXT_PP(0));
	raise_delegation_refusal(delegation_grants_verdict(record, NULL, 0, NULL), NULL, 0, 0);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[0] = Int64GetDatum(record->id);
	values[1] = Int64GetDatum(record->org_id);
	values[2] = TimestampTzGetDatum(record->expires_at);
	nulls[2] = !record->has_expiry;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * _lock_token(id): locks a token's row for a change (FOR NO KEY UPDATE, so
 * that a foreign-key lock taken by a child's creation does not stall it)
 * and returns the id; an error if there is no such token.
 */
Datum
influx_tokens__lock_token(PG_FUNCTION_ARGS)
{
	int64		id;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	bool		found;

	require_argument(fcinfo, 0, "token id");
	id = PG_GETARG_INT64(0);
	values[0] = Int64GetDatum(id);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT FROM influx_tokens.tokens AS t"
							  " WHERE t.id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
							  1, argtypes, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not lock token " INT64_FORMAT, id);
	found = SPI_processed > 0;
	SPI_finish();
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("token " INT64_FORMAT " does not exist", id)));
	PG_RETURN_INT64(id);
}

/*
 * required_text_field returns field attno of a row as text, or raises the
 * error for a NULL there (what names the field).
 */
static text *
required_text_field(HeapTupleHeader row, int attno, const char *what)
{
	bool		isnull;
	Datum		field = GetAttributeByNum(row, attno, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
	return DatumGetTextPP(field);
}

/*
 * grant_from_datum reads a resolved_grant (action, resource_type,
 * bucket_id, permission) into *grant.
 */
static void
grant_from_datum(Datum value, TokenGrant *grant)
{
	HeapTupleHeader row = DatumGetHeapTupleHeader(value);
	text	   *action = required_text_field(row, 1, "action");
	text	   *type = required_text_field(row, 2, "resource type");
	bool		isnull;
	Datum		bucket_id;

	grant->action = action_from_text(VARDATA_ANY(action), VARSIZE_ANY_EXHDR(action));
	grant->resource_type = resource_type_from_name(VARDATA_ANY(type), VARSIZE_ANY_EXHDR(type));
	bucket_id = GetAttributeByNum(row, 3, &isnull);
	grant->bucket_id = isnull ? 0 : DatumGetInt64(bucket_id);
}

/*
 * _authorize_child(parent_token, grants, expires_at): the expiry of a child
 * the parent token may create with these resolved grants, asked to expire
 * at expires_at (NULL: as late as allowed, which is the end of the parent
 * secret's validity, or never); the error create_token_as reports if the
 * parent may not (delegation.c's rule, with one lookup of the parent).
 */
Datum
influx_tokens__authorize_child(PG_FUNCTION_ARGS)
{
	TokenRecord *parent;
	ArrayType  *array;
	Datum	   *rows;
	bool	   *row_nulls;
	int			count;
	TokenGrant *grants;
	bool		has_expiry = !PG_ARGISNULL(2);
	TimestampTz expires_at = has_expiry ? PG_GETARG_TIMESTAMPTZ(2) : 0;
	DelegationVerdict verdict;
	int			refused = 0;
	int			i;

	require_argument(fcinfo, 0, "parent token");
	require_argument(fcinfo, 1, "grants");
	parent = token_by_secret(PG_GETARG_TEXT_PP(0));
	array = PG_GETARG_ARRAYTYPE_P(1);
	deconstruct_array(array, ARR_ELEMTYPE(array), -1, false, TYPALIGN_DOUBLE,
					  &rows, &row_nulls, &count);
	grants = palloc(Max(count, 1) * sizeof(TokenGrant));
	for (i = 0; i < count; i++)
	{
		if (row_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("grant must not be NULL")));
		grant_from_datum(rows[i], &grants[i]);
	}

	/* The grants first, then the expiry: errors come in that order. */
	verdict = delegation_grants_verdict(parent, grants, count, &refused);
	raise_delegation_refusal(verdict, verdict == DELEGATION_GRANT_NOT_HELD ?
							 required_text_field(DatumGetHeapTupleHeader(rows[refused]), 4,
												 "permission") : NULL, 0, 0);

	if (has_expiry)
		require_future_expiry(expires_at);
	else if (parent->has_expiry)
	{
		has_expiry = true;
		expires_at = parent->expires_at;
	}
	raise_delegation_refusal(delegation_verdict(parent, grants, count, has_expiry, expires_at, NULL),
							 NULL, expires_at, parent->expires_at);
	if (!has_expiry)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(expires_at);
}

/*
 * org_id_of returns the id of the named organization, or raises the error.
 */
static int64
org_id_of(text *org)
{
	const char *name = VARDATA_ANY(org);
	size_t		length = VARSIZE_ANY_EXHDR(org);
	int64		id;

	check_name("organization", name, length);
	id = lookup_org_id(name, length);
	if (id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("organization \"%s\" does not exist",
						value_for_message(name, length))));
	return id;
}

/*
 * _org_id(org): the id of the named organization.
 */
Datum
influx_tokens__org_id(PG_FUNCTION_ARGS)
{
	require_argument(fcinfo, 0, "organization name");
	PG_RETURN_INT64(org_id_of(PG_GETARG_TEXT_PP(0)));
}

/*
 * looks_like_influx_id says whether a name has the shape of an InfluxDB ID
 * (16 hexadecimal digits): a hint that an ID was given for a name.
 */
static bool
looks_like_influx_id(const char *name, size_t length)
{
	size_t		i;

	if (length != 16)
		return false;
	for (i = 0; i < length; i++)
	{
		if (!isxdigit((unsigned char) name[i]))
			return false;
	}
	return true;
}

/*
 * bucket_id_of returns the id of a bucket of an organization (org_name only
 * words the message; NULL for "the token's organization"), or raises the
 * error.
 */
static int64
bucket_id_of(int64 org_id, const char *org_name, const char *name, size_t length)
{
	int64		id;

	check_name("bucket", name, length);
	id = lookup_bucket_id(org_id, name, length);
	if (id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 org_name ?
				 errmsg("bucket \"%s\" does not exist in organization \"%s\"",
						value_for_message(name, length),
						value_for_message(org_name, strlen(org_name))) :
				 errmsg("bucket \"%s\" does not exist in the token's organization",
						value_for_message(name, length)),
				 looks_like_influx_id(name, length) ?
				 errhint("Permissions and functions name buckets by name; this looks like an InfluxDB bucket ID (bucket_list shows both).") : 0));
	return id;
}

/*
 * _bucket_id(org_id, org, bucket): the id of a bucket of an organization.
 */
Datum
influx_tokens__bucket_id(PG_FUNCTION_ARGS)
{
	text	   *bucket;

	require_argument(fcinfo, 0, "organization id");
	require_argument(fcinfo, 2, "bucket name");
	bucket = PG_GETARG_TEXT_PP(2);
	PG_RETURN_INT64(bucket_id_of(PG_GETARG_INT64(0),
								 PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
								 VARDATA_ANY(bucket), VARSIZE_ANY_EXHDR(bucket)));
}

/*
 * text_elements deconstructs a one-dimensional text array argument of at
 * most max elements, none of them NULL; what names the argument and
 * element names one element in messages.
 */
static int
text_elements(ArrayType *array, int max, const char *what, const char *element,
			  Datum **elements)
{
	bool	   *nulls;
	int			count;
	int			i;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array", what)));
	count = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	if (count > max)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many %s (%d)", what, count),
				 errdetail("At most %d are allowed.", max)));
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, elements, &nulls, &count);
	for (i = 0; i < count; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", element)));
	}
	return count;
}

/*
 * same_grant compares two grants.
 */
static bool
same_grant(const TokenGrant *a, const TokenGrant *b)
{
	return a->action == b->action && a->resource_type == b->resource_type &&
		a->bucket_id == b->bucket_id;
}

/*
 * _resolve_permissions(org_id, org, permissions): the grants a permission
 * array stands for, as resolved_grant[], bucket names resolved to ids in
 * the organization once, duplicates removed.  org only words messages
 * (NULL: "the token's organization").
 */
Datum
influx_tokens__resolve_permissions(PG_FUNCTION_ARGS)
{
	int64		org_id;
	const char *org_name;
	Datum	   *permissions;
	int			count;
	TokenGrant *grants;
	Datum	   *rows;
	int			nrows = 0;
	Oid			array_type = get_fn_expr_rettype(fcinfo->flinfo);
	Oid			row_type = get_element_type(array_type);
	TupleDesc	desc;
	int			i;

	require_argument(fcinfo, 0, "organization id");
	require_argument(fcinfo, 2, "permissions");
	org_id = PG_GETARG_INT64(0);
	org_name = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	count = text_elements(PG_GETARG_ARRAYTYPE_P(2), MAX_PERMISSIONS, "permissions",
						  "permission", &permissions);
	if (count == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("permissions must not be empty"),
				 errhint("Give at least one permission, e.g. '{write:buckets/metrics}'.")));

	desc = lookup_rowtype_tupdesc_copy(row_type, -1);
	grants = palloc(count * sizeof(TokenGrant));
	rows = palloc(count * sizeof(Datum));
	for (i = 0; i < count; i++)
	{
		text	   *permission_text = DatumGetTextPP(permissions[i]);
		ParsedPermission parsed;
		TokenGrant *grant = &grants[nrows];
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		int			j;
		bool		duplicate = false;

		parse_permission(VARDATA_ANY(permission_text), VARSIZE_ANY_EXHDR(permission_text),
						 &parsed);
		grant->action = parsed.action;
		grant->resource_type = parsed.resource_type;
		grant->bucket_id = parsed.bucket_name == NULL ? 0 :
			bucket_id_of(org_id, org_name, parsed.bucket_name, parsed.bucket_name_length);
		for (j = 0; j < nrows && !duplicate; j++)
			duplicate = same_grant(&grants[j], grant);
		if (duplicate)
			continue;

		values[0] = CStringGetTextDatum(action_name(grant->action));
		values[1] = CStringGetTextDatum(resource_type_name(grant->resource_type));
		values[2] = Int64GetDatum(grant->bucket_id);
		nulls[2] = (grant->bucket_id == 0);
		values[3] = PointerGetDatum(permission_text);
		rows[nrows++] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(rows, nrows, row_type, -1, false, TYPALIGN_DOUBLE));
}

/*
 * _check_labels(labels): the labels, validated, without duplicates; '{}'
 * for NULL.
 */
Datum
influx_tokens__check_labels(PG_FUNCTION_ARGS)
{
	Datum	   *labels;
	Datum	   *unique;
	int			count;
	int			nunique = 0;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));
	count = text_elements(PG_GETARG_ARRAYTYPE_P(0), MAX_LABELS, "labels", "label", &labels);
	unique = palloc(Max(count, 1) * sizeof(Datum));
	for (i = 0; i < count; i++)
	{
		text	   *label = DatumGetTextPP(labels[i]);
		bool		duplicate = false;
		int			j;

		check_name("label", VARDATA_ANY(label), VARSIZE_ANY_EXHDR(label));
		for (j = 0; j < nunique && !duplicate; j++)
		{
			text	   *seen = DatumGetTextPP(unique[j]);

			duplicate = VARSIZE_ANY_EXHDR(seen) == VARSIZE_ANY_EXHDR(label) &&
				memcmp(VARDATA_ANY(seen), VARDATA_ANY(label), VARSIZE_ANY_EXHDR(label)) == 0;
		}
		if (!duplicate)
			unique[nunique++] = PointerGetDatum(label);
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(unique, nunique, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * _check_description(description): the description, if acceptable (NULL
 * is: no description).
 */
Datum
influx_tokens__check_description(PG_FUNCTION_ARGS)
{
	text	   *description;
	int			chars;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	description = PG_GETARG_TEXT_PP(0);
	chars = pg_mbstrlen_with_len(VARDATA_ANY(description), VARSIZE_ANY_EXHDR(description));
	if (chars > DESCRIPTION_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("description is too long (%d characters)", chars),
				 errdetail("A description is at most %d characters long.", DESCRIPTION_MAX_CHARS)));
	if (looks_like_token(VARDATA_ANY(description), VARSIZE_ANY_EXHDR(description)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("description looks like it contains a token"),
				 errdetail("Descriptions are stored and shown in plain text; a token must never be.")));
	PG_RETURN_TEXT_P(description);
}

/*
 * _check_expiry(expires_at): the expiry, if it lies in the future of the
 * clock (checks read the clock, not the transaction's start); NULL is "never".
 */
Datum
influx_tokens__check_expiry(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	require_future_expiry(PG_GETARG_TIMESTAMPTZ(0));
	PG_RETURN_TIMESTAMPTZ(PG_GETARG_TIMESTAMPTZ(0));
}

/*
 * _check_name(kind, name): the name, if valid for an organization, a bucket
 * or a label.
 */
Datum
influx_tokens__check_name(PG_FUNCTION_ARGS)
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
	PG_RETURN_TEXT_P(name);
}

/*
 * _for_message(value): a user-supplied value as error messages quote it
 * (clipped, and redacted if it looks like a token), for RAISE statements.
 */
Datum
influx_tokens__for_message(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(value_for_message(VARDATA_ANY(value),
													   VARSIZE_ANY_EXHDR(value))));
}

/*
 * token_info(token): the token's row of token_list, read the way checks
 * read (the latest committed state and the session's own changes, also
 * under REPEATABLE READ), or no row.  The query is by id: the token's text
 * is in no query.  SECURITY DEFINER in SQL: token_list is not PUBLIC's.
 */
Datum
influx_tokens_token_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TokenRecord *record;
	SPIPlanPtr	plan;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	uint64		i;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	record = token_by_secret(PG_GETARG_TEXT_PP(0));
	if (record == NULL)
		return (Datum) 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare("SELECT id, org, description, status, labels, permissions, created_at,"
					   " expires_at, parent_id, last_used_at, checks_allowed, checks_denied,"
					   " updated_at, influx_id, previous_secret_valid_until"
					   " FROM influx_tokens.token_list WHERE id OPERATOR(pg_catalog.=) $1",
					   1, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	values[0] = Int64GetDatum(record->id);
	if (SPI_execute_snapshot(plan, values, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed");
	for (i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
	SPI_finish();
	return (Datum) 0;
}
