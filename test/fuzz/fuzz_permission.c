/*-------------------------------------------------------------------------
 *
 * fuzz_permission.c
 *	  libFuzzer target for the permission-string parser (src/permission.c)
 *	  and name validation (src/names.c).
 *
 * Properties checked for every input, besides memory safety (ASan, UBSan):
 * - parsing either succeeds or raises an error with SQLSTATE 22023 or 42622
 *   and a message that quotes at most 64 bytes of the input;
 * - a permission that parses prints back to exactly the input;
 * - the bucket name, if any, lies inside the input.
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
		char	   *printed;

		parse_permission(text, size, &permission);

		printed = permission.bucket_name
			? psprintf("%s:%s/%.*s", action_name(permission.action),
					   resource_type_name(permission.resource_type),
					   (int) permission.bucket_name_length, permission.bucket_name)
			: psprintf("%s:%s", action_name(permission.action),
					   resource_type_name(permission.resource_type));
		if (strlen(printed) != size || memcmp(printed, text, size) != 0)
			abort();
		if (permission.bucket_name &&
			(permission.bucket_name < text ||
			 permission.bucket_name + permission.bucket_name_length > text + size))
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

	/* Name validation, on the same input. */
	if (sigsetjmp(jump, 0) == 0)
		check_name("bucket", text, size);

	fuzz_error_jump = NULL;
	fuzz_free_all();
	return 0;
}
