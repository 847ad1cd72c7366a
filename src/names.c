/*-------------------------------------------------------------------------
 *
 * names.c
 *	  Validation of organization, bucket and label names, and the one way
 *	  a bad value is quoted back in an error message.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "mb/pg_wchar.h"

/*
 * value_for_message returns a copy of a user-supplied value fit to quote in
 * an error message: clipped at a character boundary to at most
 * QUOTED_VALUE_MAX_BYTES bytes (with "..." appended when clipped), so that a
 * 1 MB argument does not make a 1 MB log line.  Never pass a token here.
 */
char *
value_for_message(const char *value, size_t length)
{
	int			clipped;

	if (length <= QUOTED_VALUE_MAX_BYTES)
		return pnstrdup(value, length);

	clipped = pg_mbcliplen(value, (int) length, QUOTED_VALUE_MAX_BYTES);
	return psprintf("%s...", pnstrdup(value, clipped));
}

/*
 * check_name raises an error unless name is acceptable as the name of an
 * organization, a bucket or a label: 1 to NAME_MAX_CHARS characters, none
 * of them a control character, and no leading or trailing white space
 * (which would make two names that look equal differ).  kind ("bucket",
 * "organization", "label") only words the message.
 */
void
check_name(const char *kind, const char *name, size_t length)
{
	size_t		i;

	if (length == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s name must not be empty", kind)));

	if (pg_mbstrlen_with_len(name, (int) length) > NAME_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("%s name \"%s\" is too long", kind,
						value_for_message(name, length)),
				 errdetail("Names are at most %d characters long.",
						   NAME_MAX_CHARS)));

	for (i = 0; i < length; i++)
	{
		unsigned char c = (unsigned char) name[i];

		if (c < 0x20 || c == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s name \"%s\" contains a control character",
							kind, value_for_message(name, length))));
	}

	if (name[0] == ' ' || name[length - 1] == ' ')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s name \"%s\" begins or ends with a space",
						kind, value_for_message(name, length))));
}
