/*-------------------------------------------------------------------------
 *
 * manage.c
 *	  C building blocks of the management functions (the PL/pgSQL in
 *	  influx_tokens.sql): validation of every argument, name and token
 *	  resolution, and token_info.  Creating tokens is create.c's; the
 *	  import's building blocks are in import.c.
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
PG_FUNCTION_INFO_V1(influx_tokens__new_influx_id);
PG_FUNCTION_INFO_V1(influx_tokens__token_ref);
PG_FUNCTION_INFO_V1(influx_tokens__lock_token);
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
char *
timestamp_for_message(TimestampTz value)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(value)));
}

/*
 * require_future_expiry raises the error for an expiry that does not lie in
 * the future of the clock (checks read the clock, not the transaction's
 * start).
 */
void
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
 * _new_influx_id(): a new random InfluxDB ID, the default of orgs and
 * buckets.
 */
Datum
influx_tokens__new_influx_id(PG_FUNCTION_ARGS)
{
	char		digits[INFLUX_ID_LENGTH + 1];

	format_influx_id(influx_id_generate(), digits);
	PG_RETURN_TEXT_P(cstring_to_text(digits));
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
 * org_id_of returns the id of the named organization, or raises the error.
 */
int64
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
		a->resource_id == b->resource_id && a->any_org == b->any_org;
}

/*
 * bucket_by_influx_id returns our id of the bucket with an InfluxDB ID that
 * a permission names, or raises the error; with an organization (our id,
 * not 0), the bucket must be in it.
 */
static int64
bucket_by_influx_id(text *permission, uint64 influx_id, int64 org_id)
{
	int64		bucket_org_id;
	int64		id = lookup_bucket_by_influx_id(influx_id, &bucket_org_id);
	char		digits[INFLUX_ID_LENGTH + 1];

	format_influx_id(influx_id, digits);
	if (id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bucket %s of permission \"%s\" does not exist", digits,
						value_for_message(VARDATA_ANY(permission), VARSIZE_ANY_EXHDR(permission))),
				 errhint("A bucket is found by the InfluxDB ID an import kept, or by the ID export_tokens wrote for it (bucket_list shows both).")));
	if (org_id != 0 && bucket_org_id != org_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bucket %s of permission \"%s\" is not in the token's organization", digits,
						value_for_message(VARDATA_ANY(permission), VARSIZE_ANY_EXHDR(permission)))));
	return id;
}

/*
 * refuse_other_org raises the error about a permission that names an
 * organization other than its token's: in orgs/<org>/..., or (org_by_id)
 * as the organization it grants by ID.
 */
static void
refuse_other_org(text *permission_text, const ParsedPermission *parsed, bool org_by_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("permission \"%s\" is not for the token's organization",
					value_for_message(VARDATA_ANY(permission_text),
									  VARSIZE_ANY_EXHDR(permission_text))),
			 org_by_id ? 0 :
			 errdetail("A permission may name only the organization of its token, as InfluxDB's Authorization.Valid requires."),
			 org_by_id ?
			 errhint("Another organization by its ID is \"%s:/orgs/<id>\", without an organization.",
					 action_name(parsed->action)) : 0));
}

/*
 * grant_of turns a parsed permission into the grant a token of the
 * organization org_id would hold, or raises the error.  InfluxDB's rules
 * (Authorization.Valid, the API): a permission naming an organization must
 * name the token's own, and "instance" is never granted.  *org_influx_id
 * is the organization's InfluxDB ID, read here the first time a permission
 * needs it (0 until then): once for all the permissions of a call.
 */
static TokenGrant
grant_of(int64 org_id, const char *org_name, uint64 *org_influx_id, text *permission_text,
		 const ParsedPermission *parsed)
{
	TokenGrant	grant;
	uint64		named_org = 0;

	if (parsed->resource_type == RESOURCE_INSTANCE)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission \"%s\" cannot be granted",
						value_for_message(VARDATA_ANY(permission_text),
										  VARSIZE_ANY_EXHDR(permission_text))),
				 errdetail("No token holds \"instance\": as in InfluxDB, whose API refuses to create one."),
				 errhint("\"**\" is every resource of every organization.")));

	/* An organization is in itself: "orgs/<id>" in an organization is that one. */
	if (parsed->scope == SCOPE_INFLUX_ORG)
		named_org = parsed->org_influx_id;
	else if (parsed->resource_type == RESOURCE_ORGS && parsed->scope == SCOPE_TOKEN_ORG)
		named_org = parsed->influx_id;
	if (named_org != 0)
	{
		if (*org_influx_id == 0)
			*org_influx_id = lookup_org_influx_id(org_id);
		if (named_org != *org_influx_id)
			refuse_other_org(permission_text, parsed, parsed->scope != SCOPE_INFLUX_ORG);
	}
	if (parsed->scope == SCOPE_INFLUX_ORG && parsed->resource_type == RESOURCE_ORGS &&
		parsed->influx_id != 0 && parsed->influx_id != *org_influx_id)
		refuse_other_org(permission_text, parsed, true);

	grant.action = (uint8) parsed->action;
	grant.resource_type = (int16) parsed->resource_type;
	/* The wildcards have one meaning each, however written. */
	grant.any_org = parsed->scope == SCOPE_NO_ORG && parsed->resource_type >= 0;
	if (parsed->bucket_name != NULL)
		grant.resource_id = bucket_id_of(org_id, org_name, parsed->bucket_name,
										 parsed->bucket_name_length);
	else if (parsed->influx_id != 0 && parsed->resource_type == RESOURCE_BUCKETS)
		grant.resource_id = bucket_by_influx_id(permission_text, parsed->influx_id,
												grant.any_org ? 0 : org_id);
	else
		grant.resource_id = (int64) parsed->influx_id;
	return grant;
}

/*
 * resolve_grants returns the grants a permission array stands for, bucket
 * names and IDs resolved once, duplicates removed, each with the string it
 * came from (for messages).  org_name only words messages (NULL: "the
 * token's organization").
 */
ResolvedGrants
resolve_grants(int64 org_id, const char *org_name, ArrayType *permissions)
{
	ResolvedGrants result = {0, NULL, NULL};
	Datum	   *elements;
	uint64		org_influx_id = 0;
	int			count;
	int			i;

	count = text_elements(permissions, MAX_PERMISSIONS, "permissions", "permission", &elements);
	if (count == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("permissions must not be empty"),
				 errhint("Give at least one permission, e.g. '{write:buckets/metrics}'.")));

	result.grants = palloc(count * sizeof(TokenGrant));
	result.permissions = palloc(count * sizeof(text *));
	for (i = 0; i < count; i++)
	{
		text	   *permission_text = DatumGetTextPP(elements[i]);
		ParsedPermission parsed;
		int			j;
		bool		duplicate = false;

		parse_permission(VARDATA_ANY(permission_text), VARSIZE_ANY_EXHDR(permission_text),
						 false, &parsed);
		result.grants[result.count] = grant_of(org_id, org_name, &org_influx_id, permission_text,
											   &parsed);
		for (j = 0; j < result.count && !duplicate; j++)
			duplicate = same_grant(&result.grants[j], &result.grants[result.count]);
		if (!duplicate)
			result.permissions[result.count++] = permission_text;
	}
	return result;
}

/*
 * _resolve_permissions(org_id, org, permissions): resolve_grants, as
 * resolved_grant[] (action, resource_type, bucket_id, permission,
 * resource_id, any_org).
 */
Datum
influx_tokens__resolve_permissions(PG_FUNCTION_ARGS)
{
	ResolvedGrants resolved;
	Datum	   *rows;
	Oid			array_type = get_fn_expr_rettype(fcinfo->flinfo);
	Oid			row_type = get_element_type(array_type);
	TupleDesc	desc;
	int			i;

	require_argument(fcinfo, 0, "organization id");
	require_argument(fcinfo, 2, "permissions");
	resolved = resolve_grants(PG_GETARG_INT64(0),
							  PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
							  PG_GETARG_ARRAYTYPE_P(2));

	desc = lookup_rowtype_tupdesc_copy(row_type, -1);
	rows = palloc(resolved.count * sizeof(Datum));
	for (i = 0; i < resolved.count; i++)
	{
		const TokenGrant *grant = &resolved.grants[i];
		bool		is_bucket = grant->resource_type == RESOURCE_BUCKETS;
		char		digits[INFLUX_ID_LENGTH + 1];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		/* The row type of 1.0 and 1.1 has no place for what 1.2 added. */
		if (desc->natts < 6 && (grant->any_org || (!is_bucket && grant->resource_id != 0)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("permission \"%s\" needs version 1.2 of the extension",
							value_for_message(VARDATA_ANY(resolved.permissions[i]),
											  VARSIZE_ANY_EXHDR(resolved.permissions[i]))),
					 errhint("ALTER EXTENSION influx_tokens UPDATE.")));
		values[0] = CStringGetTextDatum(action_name(grant->action));
		values[1] = CStringGetTextDatum(resource_type_name(grant->resource_type));
		values[2] = Int64GetDatum(grant->resource_id);
		nulls[2] = !is_bucket || grant->resource_id == 0;
		values[3] = PointerGetDatum(resolved.permissions[i]);
		format_influx_id((uint64) grant->resource_id, digits);
		values[4] = CStringGetTextDatum(digits);
		nulls[4] = is_bucket || grant->resource_id == 0;
		values[5] = BoolGetDatum(grant->any_org);
		rows[i] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(rows, resolved.count, row_type, -1, false, TYPALIGN_DOUBLE));
}

/*
 * valid_labels returns the labels (NULL: none), validated, without
 * duplicates.
 */
ArrayType *
valid_labels(ArrayType *labels)
{
	Datum	   *elements;
	Datum	   *unique;
	int			count;
	int			nunique = 0;
	int			i;

	if (labels == NULL)
		return construct_empty_array(TEXTOID);
	count = text_elements(labels, MAX_LABELS, "labels", "label", &elements);
	unique = palloc(Max(count, 1) * sizeof(Datum));
	for (i = 0; i < count; i++)
	{
		text	   *label = DatumGetTextPP(elements[i]);
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
	return construct_array(unique, nunique, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * _check_labels(labels): valid_labels; '{}' for NULL.
 */
Datum
influx_tokens__check_labels(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(valid_labels(PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0)));
}

/*
 * valid_description returns the description (NULL: none) if acceptable.
 */
text *
valid_description(text *description)
{
	int			chars;

	if (description == NULL)
		return NULL;
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
	return description;
}

/*
 * _check_description(description): valid_description.
 */
Datum
influx_tokens__check_description(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(valid_description(PG_GETARG_TEXT_PP(0)));
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
 * token_info(token): the token's row of token_list, with its organization's
 * InfluxDB ID and InfluxDB's body of it (no token in it), read the way checks
 * read (the latest committed state and the session's own changes, also
 * under REPEATABLE READ), or no row.  The query is by id: the token's text
 * is in no query.  SECURITY DEFINER in SQL: token_list is not PUBLIC's.
 */
static SPIPlanPtr token_info_plan = NULL;

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
	/* Kept for the session: the plan cache replans it after any DDL on what it reads. */
	if (token_info_plan == NULL)
	{
		plan = SPI_prepare("SELECT l.id, l.org, l.description, l.status, l.labels, l.permissions,"
						   " l.created_at, l.expires_at, l.parent_id, l.last_used_at, l.checks_allowed,"
						   " l.checks_denied, l.updated_at, l.influx_id, l.previous_secret_valid_until,"
						   " a.org_influx_id, a.rest"
						   " FROM influx_tokens.token_list AS l"
						   " JOIN influx_tokens._authorizations AS a ON a.id OPERATOR(pg_catalog.=) l.id"
						   " WHERE l.id OPERATOR(pg_catalog.=) $1",
						   1, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		token_info_plan = plan;
	}
	plan = token_info_plan;
	values[0] = Int64GetDatum(record->id);
	if (SPI_execute_snapshot(plan, values, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed");
	for (i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
	SPI_finish();
	return (Datum) 0;
}
