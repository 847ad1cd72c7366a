/*-------------------------------------------------------------------------
 *
 * names.c
 *	  Validation of organization, bucket and label names, and the one way
 *	  the extension quotes a bad value in its own error messages (clipped,
 *	  redacted when it looks like a token).  PostgreSQL's own input errors
 *	  for arguments of other types (bigint, arrays, timestamps) quote values
 *	  without asking us: see SECURITY.md.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "mb/pg_wchar.h"

/*
 * looks_like_token says whether a value contains something shaped like one
 * of our tokens (the prefix followed by at least TOKEN_LOOKALIKE_CHARS base62
 * characters, so that a name like "matrixt_data" is not taken for one), an
 * InfluxDB 2 token or an InfluxDB 3 one.  Imported secrets of other shapes
 * cannot be recognized.
 * Callers mix up arguments (a token passed as a bucket name, an action or a
 * permission); error messages must not carry a token into the server log,
 * and names must not store one in plain text.
 */
#define TOKEN_LOOKALIKE_CHARS 16

static bool
is_base64url(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		c == '-' || c == '_';
}

bool
looks_like_token(const char *value, size_t length)
{
	const char *end = value + length;
	const char *p = value;
	size_t		run = 0;
	size_t		i;

	/* InfluxDB 2's tokens: 86 base64url characters and "==". */
	for (i = 0; i < length; i++)
	{
		run = is_base64url(value[i]) ? run + 1 : 0;
		if (run >= 86 && i + 2 < length && value[i + 1] == '=' && value[i + 2] == '=')
			return true;
	}
	/* InfluxDB 3's tokens. */
	if (memmem(value, length, "apiv3_", 6) != NULL)
		return true;

	while ((p = memmem(p, end - p, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH)) != NULL)
	{
		const char *c = p + TOKEN_PREFIX_LENGTH;
		int			run = 0;

		while (c < end && run < TOKEN_LOOKALIKE_CHARS &&
			   ((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')))
		{
			c++;
			run++;
		}
		if (run == TOKEN_LOOKALIKE_CHARS)
			return true;
		p += TOKEN_PREFIX_LENGTH;
	}
	return false;
}

/*
 * value_for_message returns a copy of a user-supplied value fit to quote in
 * an error message: anything containing a token prefix is replaced by a
 * placeholder, and the rest is clipped at a character boundary to at most
 * QUOTED_VALUE_MAX_BYTES bytes (with "..." appended when clipped), so that a
 * 1 MB argument does not make a 1 MB log line.
 */
char *
value_for_message(const char *value, size_t length)
{
	int			clipped;

	if (looks_like_token(value, length))
		return pstrdup("(redacted: looks like a token)");
	if (length <= QUOTED_VALUE_MAX_BYTES)
		return pnstrdup(value, length);

	clipped = pg_mbcliplen(value, (int) length, QUOTED_VALUE_MAX_BYTES);
	return psprintf("%s...", pnstrdup(value, clipped));
}

/*
 * check_name raises an error unless name is acceptable as the name of an
 * organization, a bucket or a label: 1 to NAME_MAX_CHARS characters, none
 * of them a control character, no leading or trailing white space (which
 * would make two names that look equal differ), and nothing that looks like
 * a token.  kind ("bucket",
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

	if (looks_like_token(name, length))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s name looks like a token", kind),
				 errdetail("Names are stored and shown in plain text; a token must never be.")));
}
