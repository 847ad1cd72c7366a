/*-------------------------------------------------------------------------
 *
 * fuzz_permission.c
 *	  libFuzzer target for the permission-string parser (src/permission.c)
 *	  and name validation (src/names.c).
 *
 * Properties checked for every input, besides memory safety (ASan, UBSan):
 * - parsing either succeeds or raises an error with SQLSTATE 22023 or 42622
 *   and a message that quotes at most 64 bytes of the input;
 * - a permission that parses prints back to exactly the input, in the
 *   spelling it was written in (ours, "/<type>" or "orgs/<org>/<type>");
 * - the bucket name, if any, lies inside the input;
 * - with every resource by ID (permission_matches' reading) it parses or
 *   fails the same way but for bucket names, and covers itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "../../src/influx_tokens.h"
#include "fuzz_stubs.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigjmp_buf	jump;
	ParsedPermission permission;
	const char *text;

	/* The server hands text over without NULs; the parser need not cope with them. */
	if (memchr(data, '\0', size) != NULL)
		return 0;
	text = pnstrdup((const char *) data, size);

	fuzz_error_jump = &jump;
	if (sigsetjmp(jump, 0) == 0)
	{
		char		org[INFLUX_ID_LENGTH + 1];
		char		id[INFLUX_ID_LENGTH + 1];
		char	   *printed;

		parse_permission(text, size, false, &permission);

		format_influx_id(permission.org_influx_id, org);
		format_influx_id(permission.influx_id, id);
		printed = psprintf("%s:%s%s%s%s%s%.*s", action_name(permission.action),
						   permission.scope == SCOPE_NO_ORG ? "/" :
						   permission.scope == SCOPE_INFLUX_ORG ? "orgs/" : "",
						   permission.scope == SCOPE_INFLUX_ORG ? org : "",
						   permission.scope == SCOPE_INFLUX_ORG ? "/" : "",
						   resource_type_name(permission.resource_type),
						   permission.influx_id != 0 ? psprintf("/%s", id) :
						   permission.bucket_name ? "/" : "",
						   permission.bucket_name ? (int) permission.bucket_name_length : 0,
						   permission.bucket_name ? permission.bucket_name : "");
		if (strlen(printed) != size || memcmp(printed, text, size) != 0)
			abort();
		if (permission.bucket_name &&
			(permission.bucket_name < text ||
			 permission.bucket_name + permission.bucket_name_length > text + size))
			abort();
		if (permission.bucket_name && permission.influx_id != 0)
			abort();
	}
	else
	{
		if (fuzz_last_sqlstate != ERRCODE_INVALID_PARAMETER_VALUE &&
			fuzz_last_sqlstate != ERRCODE_NAME_TOO_LONG)
			abort();
		/* The quoted value is clipped: the message stays short whatever the input. */
		if (strlen(fuzz_last_message) > 2 * QUOTED_VALUE_MAX_BYTES + 100)
			abort();
	}

	/* By ID only: a grant covers itself, instance included. */
	if (sigsetjmp(jump, 0) == 0)
	{
		TokenGrant	grant;
		ResourceRequest request;

		parse_permission(text, size, true, &permission);
		grant.action = (uint8) permission.action;
		grant.resource_type = (int16) permission.resource_type;
		grant.any_org = permission.scope == SCOPE_NO_ORG;
		grant.resource_id = (int64) permission.influx_id;
		request.action = permission.action;
		request.type = permission.resource_type;
		request.org_id = permission.scope == SCOPE_NO_ORG ? 0 : 7;
		request.id = (int64) permission.influx_id;
		request.any_id = false;
		if (!grants_allow(&grant, 1, 7, &request))
			abort();
	}

	/* Name validation, on the same input. */
	if (sigsetjmp(jump, 0) == 0)
		check_name("bucket", text, size);

	fuzz_error_jump = NULL;
	fuzz_free_all();
	return 0;
}
