/*-------------------------------------------------------------------------
 *
 * import.c
 *	  C building blocks of the import from InfluxDB: the digest to store
 *	  for an imported token (import_token is create.c's), reading an
 *	  export's JSON without quoting it, the parts of a permission string,
 *	  and the error that names the authorization it is about.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "funcapi.h"
#include "common/base64.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

PG_FUNCTION_INFO_V1(influx_tokens__parse_json);
PG_FUNCTION_INFO_V1(influx_tokens__import_digest_taken);
PG_FUNCTION_INFO_V1(influx_tokens__influx_id);
PG_FUNCTION_INFO_V1(influx_tokens__permission_parts);
PG_FUNCTION_INFO_V1(influx_tokens__raise_for_entry);

/* InfluxDB 2.9's stored form of a hashed token. */
#define INFLUXDB2_SHA256_PREFIX "$influxdb2-sha256$"
#define INFLUXDB2_HASH_PREFIX "$influxdb2-"

/*
 * influxdb2_hash_digest decodes the base64url digest of InfluxDB 2.9's
 * "$influxdb2-sha256$<digest>" form into digest, or raises an error.
 */
static void
influxdb2_hash_digest(const char *encoded, size_t length, uint8 *digest)
{
	char		standard[64];
	uint8		decoded[64];
	int			decoded_length = -1;
	size_t		i;

	if (length <= sizeof(standard))
	{
		for (i = 0; i < length; i++)
			standard[i] = encoded[i] == '-' ? '+' : encoded[i] == '_' ? '/' : encoded[i];
		/* void *: the output type is char * before PostgreSQL 18, uint8 * since */
		if (pg_b64_dec_len((int) length) <= (int) sizeof(decoded))
			decoded_length = pg_b64_decode(standard, (int) length, (void *) decoded,
										   sizeof(decoded));
	}
	if (decoded_length != TOKEN_DIGEST_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid " INFLUXDB2_SHA256_PREFIX " hashed token"),
				 errdetail("The hash is the base64url encoding, with padding, of a 32-byte SHA-256 digest.")));
	memcpy(digest, decoded, TOKEN_DIGEST_LENGTH);
}

/*
 * import_digest computes the digest to store for an imported token: the
 * SHA-256 of a plaintext token, or the digest inside InfluxDB 2.9's stored
 * form, so that nobody needs to see the plaintext; an error for a token
 * that cannot be imported.
 */
void
import_digest(text *token, uint8 *digest)
{
	const char *value = VARDATA_ANY(token);
	size_t		length = VARSIZE_ANY_EXHDR(token);
	size_t		prefix_length = strlen(INFLUXDB2_SHA256_PREFIX);

	if (length >= prefix_length && memcmp(value, INFLUXDB2_SHA256_PREFIX, prefix_length) == 0)
		influxdb2_hash_digest(value + prefix_length, length - prefix_length, digest);
	else if (length >= strlen(INFLUXDB2_HASH_PREFIX) &&
			 memcmp(value, INFLUXDB2_HASH_PREFIX, strlen(INFLUXDB2_HASH_PREFIX)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("only " INFLUXDB2_SHA256_PREFIX " hashed tokens can be imported"),
				 errdetail("influx_tokens stores SHA-256 digests; a token hashed otherwise (such as sha512) must be imported by its plaintext or re-issued.")));
	else if (!token_is_importable(value, length) ||
			 (length >= TOKEN_PREFIX_LENGTH && memcmp(value, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH) == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("token is not in a form that can be imported"),
				 errdetail("An imported token is %d to %d printable ASCII characters, without spaces, and does not start with %s (influx_tokens' own prefix).",
						   IMPORTED_TOKEN_MIN_LENGTH, IMPORTED_TOKEN_MAX_LENGTH,
						   TOKEN_PREFIX)));
	else
		token_digest(value, length, digest);
}

/*
 * line_in_context reads the line number out of the JSON parser's context
 * ("JSON data, line N: ..."), without the piece of input it quotes; 0 if
 * there is none.
 */
static int
line_in_context(const char *context)
{
	const char *p = context;

	if (p == NULL)
		return 0;
	while (*p != '\0' && !isdigit((unsigned char) *p))
		p++;
	return atoi(p);
}

/*
 * _parse_json(document): the document as jsonb, or an error that quotes
 * none of it.  jsonb's own input error quotes the input around the mistake
 * (in its DETAIL and CONTEXT), and an export holds plaintext tokens; so the
 * parse runs in a subtransaction whose error is replaced by one that says
 * only where.  Errors other than bad data (a cancel, out of memory) pass
 * on as they are.
 */
Datum
influx_tokens__parse_json(PG_FUNCTION_ARGS)
{
	MemoryContext caller_context = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	char	   *document;
	volatile Datum result = (Datum) 0;
	volatile int bad_line = -1;

	require_argument(fcinfo, 0, "authorizations");
	document = text_to_cstring(PG_GETARG_TEXT_PP(0));

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller_context);
	PG_TRY();
	{
		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(document));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller_context);
		CurrentResourceOwner = caller_owner;
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(caller_context);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller_context);
		CurrentResourceOwner = caller_owner;
		if (ERRCODE_TO_CATEGORY(error->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			ReThrowError(error);
		bad_line = line_in_context(error->context);
		FreeErrorData(error);
	}
	PG_END_TRY();

	if (bad_line >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("authorizations are not valid JSON"),
				 bad_line > 0 ? errdetail("The JSON is malformed at line %d.", bad_line) : 0,
				 errhint("Check that the export is complete. None of it is quoted here, to keep its tokens out of messages.")));
	PG_RETURN_DATUM(result);
}

/*
 * _import_digest_taken(token): does a token with this secret (plaintext or
 * InfluxDB's hashed form) exist already?  For an import that skips what an
 * earlier run imported.
 */
Datum
influx_tokens__import_digest_taken(PG_FUNCTION_ARGS)
{
	uint8		digest[TOKEN_DIGEST_LENGTH];

	require_argument(fcinfo, 0, "token");
	import_digest(PG_GETARG_TEXT_PP(0), digest);
	PG_RETURN_BOOL(lookup_digest_taken(digest));
}

/*
 * _permission_parts(permission): InfluxDB's fields of a permission string
 * (action, resource type, orgID, id), as an import reads influx CLI's
 * strings; IDs as 16 digits, NULL where absent.  A bucket in our spelling
 * (buckets/<name>) is returned as the name, with no id.  scope is the
 * spelling: 'token' (ours: the token's organization), 'none' ("/<type>":
 * no orgID) or 'org' ("orgs/<org>/<type>").
 */
Datum
influx_tokens__permission_parts(PG_FUNCTION_ARGS)
{
	text	   *permission_text;
	ParsedPermission parsed;
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false, false, true, true, true, false};
	char		digits[INFLUX_ID_LENGTH + 1];

	require_argument(fcinfo, 0, "permission");
	permission_text = PG_GETARG_TEXT_PP(0);
	parse_permission(VARDATA_ANY(permission_text), VARSIZE_ANY_EXHDR(permission_text), false,
					 &parsed);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	values[0] = CStringGetTextDatum(action_name(parsed.action));
	values[1] = CStringGetTextDatum(resource_type_name(parsed.resource_type));
	if (parsed.scope == SCOPE_INFLUX_ORG)
	{
		format_influx_id(parsed.org_influx_id, digits);
		values[2] = CStringGetTextDatum(digits);
		nulls[2] = false;
	}
	if (parsed.influx_id != 0)
	{
		format_influx_id(parsed.influx_id, digits);
		values[3] = CStringGetTextDatum(digits);
		nulls[3] = false;
	}
	if (parsed.bucket_name != NULL)
	{
		values[4] = PointerGetDatum(cstring_to_text_with_len(parsed.bucket_name,
															 (int) parsed.bucket_name_length));
		nulls[4] = false;
	}
	values[5] = CStringGetTextDatum(parsed.scope == SCOPE_TOKEN_ORG ? "token" :
									parsed.scope == SCOPE_NO_ORG ? "none" : "org");
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * _influx_id(value, what): value if it is an InfluxDB ID (16 lower-case hex
 * digits, not all zero, as InfluxDB's ID.Valid) or NULL; an error naming
 * what otherwise.
 */
Datum
influx_tokens__influx_id(PG_FUNCTION_ARGS)
{
	text	   *value;
	uint64		id;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	require_argument(fcinfo, 1, "what");
	value = PG_GETARG_TEXT_PP(0);
	if (!parse_influx_id(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), &id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid InfluxDB %s ID \"%s\"", text_to_cstring(PG_GETARG_TEXT_PP(1)),
						value_for_message(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value))),
				 errhint("InfluxDB IDs are 16 lower-case hexadecimal digits, not all zero.")));
	PG_RETURN_TEXT_P(value);
}

/*
 * _raise_for_entry(entry, sqlstate, message, detail, hint) raises again an
 * error caught while importing one authorization, its message prefixed by
 * the entry it is about, its SQLSTATE, detail and hint kept (PL/pgSQL's
 * RAISE cannot pass an absent detail on).
 */
Datum
influx_tokens__raise_for_entry(PG_FUNCTION_ARGS)
{
	char	   *entry;
	char	   *state;
	char	   *message;

	require_argument(fcinfo, 0, "entry");
	require_argument(fcinfo, 1, "sqlstate");
	require_argument(fcinfo, 2, "message");
	entry = text_to_cstring(PG_GETARG_TEXT_PP(0));
	state = text_to_cstring(PG_GETARG_TEXT_PP(1));
	message = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (strlen(state) != 5)
		state = "XX000";

	ereport(ERROR,
			(errcode(MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])),
			 errmsg_internal("%s: %s", entry, message),
			 PG_ARGISNULL(3) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(3)) == 0 ? 0 :
			 errdetail_internal("%s", text_to_cstring(PG_GETARG_TEXT_PP(3))),
			 PG_ARGISNULL(4) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(4)) == 0 ? 0 :
			 errhint("%s", text_to_cstring(PG_GETARG_TEXT_PP(4)))));
	PG_RETURN_VOID();
}
