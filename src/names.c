/*-------------------------------------------------------------------------
 *
 * names.c
 *	  Validation of organization, bucket and label names, what looks like a
 *	  token, and the one way the extension quotes a bad value in its own
 *	  error messages (clipped, redacted when it looks like a token).
 *	  PostgreSQL's own reports are redacted by redaction.c.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "mb/pg_wchar.h"

/*
 * token_span finds the first thing in a value shaped like one of our tokens
 * (the prefix followed by at least TOKEN_LOOKALIKE_CHARS base62
 * characters, so that a name like "matrixt_data" is not taken for one), an
 * InfluxDB 2 token (86 base64url characters and "==") or an InfluxDB 3 one
 * ("apiv3_" and what follows), and sets [*start, *end) to it; false if
 * there is none.  Imported secrets of other shapes cannot be recognized.
 * Callers mix up arguments (a token passed as a bucket name, an action or a
 * permission); error messages must not carry a token into the server log,
 * and names must not store one in plain text.
 */
#define TOKEN_LOOKALIKE_CHARS 16

bool
is_base64url(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		c == '-' || c == '_';
}

static bool
is_base62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool
token_span(const char *value, size_t length, size_t *start, size_t *end)
{
	const char *limit = value + length;
	const char *p;
	size_t		best = length;
	size_t		best_end = 0;
	size_t		run = 0;
	size_t		i;

	/* InfluxDB 2's tokens. */
	for (i = 0; i < length && i < best; i++)
	{
		run = is_base64url(value[i]) ? run + 1 : 0;
		if (run >= 86 && i + 2 < length && value[i + 1] == '=' && value[i + 2] == '=')
		{
			best = i + 1 - run;
			best_end = i + 3;
		}
	}
	/* InfluxDB 3's tokens. */
	if ((p = memmem(value, length, "apiv3_", 6)) != NULL && (size_t) (p - value) < best)
	{
		const char *c = p + 6;

		while (c < limit && is_base64url(*c))
			c++;
		best = p - value;
		best_end = c - value;
	}
	/* Ours. */
	for (p = value; (p = memmem(p, limit - p, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH)) != NULL;
		 p += TOKEN_PREFIX_LENGTH)
	{
		const char *c = p + TOKEN_PREFIX_LENGTH;

		if ((size_t) (p - value) >= best)
			break;
		while (c < limit && is_base62(*c))
			c++;
		if (c - (p + TOKEN_PREFIX_LENGTH) >= TOKEN_LOOKALIKE_CHARS)
		{
			best = p - value;
			best_end = c - value;
			break;
		}
	}
	if (best == length)
		return false;
	*start = best;
	*end = best_end;
	return true;
}

/*
 * looks_like_token says whether a value contains something shaped like a
 * token (see token_span).
 */
bool
looks_like_token(const char *value, size_t length)
{
	size_t		start;
	size_t		end;

	return token_span(value, length, &start, &end);
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
 * Unicode characters a name must not contain anywhere: controls (Cc),
 * format characters (Cf: zero-width spaces and joiners, bidirectional
 * overrides, the byte-order mark, tags) and line and paragraph separators
 * (Zl, Zp), and spaces (Zs) other than the ASCII space.  All of them make
 * two names that look the same differ, or hide text.  Ranges of code
 * points, from the Unicode 15 character database; ASCII is handled apart.
 */
typedef struct CodePointRange
{
	pg_wchar	first;
	pg_wchar	last;
} CodePointRange;

static const CodePointRange invisible_characters[] = {
	{0x0080, 0x00A0},			/* C1 controls, NO-BREAK SPACE */
	{0x00AD, 0x00AD},			/* SOFT HYPHEN */
	{0x0600, 0x0605}, {0x061C, 0x061C}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
	{0x0890, 0x0891}, {0x08E2, 0x08E2},
	{0x1680, 0x1680},			/* OGHAM SPACE MARK */
	{0x180E, 0x180E},
	{0x2000, 0x200F},			/* spaces, zero width space and joiners, marks */
	{0x2028, 0x202F},			/* separators, bidirectional embeddings, NNBSP */
	{0x205F, 0x2064}, {0x2066, 0x206F},
	{0x3000, 0x3000},			/* IDEOGRAPHIC SPACE */
	{0xFEFF, 0xFEFF},			/* ZERO WIDTH NO-BREAK SPACE (BOM) */
	{0xFFF9, 0xFFFB},
	{0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F},
	{0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
	{0xE0001, 0xE0001}, {0xE0020, 0xE007F},
};

/*
 * is_invisible_character says whether a code point is one of the above.
 */
static bool
is_invisible_character(pg_wchar c)
{
	int			i;

	for (i = 0; i < (int) lengthof(invisible_characters); i++)
	{
		if (c >= invisible_characters[i].first && c <= invisible_characters[i].last)
			return true;
	}
	return false;
}

/*
 * first_invisible_character returns the first code point of a UTF-8 name
 * that is in invisible_characters, and its position (from 1) in *position;
 * 0 if there is none.  In other encodings only ASCII controls are known.
 */
static pg_wchar
first_invisible_character(const char *name, size_t length, int *position)
{
	const unsigned char *p = (const unsigned char *) name;
	const unsigned char *end = p + length;

	if (GetDatabaseEncoding() != PG_UTF8)
		return 0;
	for (*position = 1; p < end; (*position)++)
	{
		int			len = pg_utf_mblen(p);

		if (*p >= 0x80 && p + len <= end && is_invisible_character(utf8_to_unicode(p)))
			return utf8_to_unicode(p);
		p += len;
	}
	return 0;
}

/*
 * check_name raises an error unless name is acceptable as the name of an
 * organization, a bucket or a label: 1 to NAME_MAX_CHARS characters, none
 * of them a control, format or separator character or a non-ASCII space,
 * no leading or trailing space (each would make two names that look equal
 * differ), and nothing that looks like a token.  kind ("bucket",
 * "organization", "label") only words the message.
 */
void
check_name(const char *kind, const char *name, size_t length)
{
	size_t		i;
	pg_wchar	invisible;
	int			position;

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
	if ((invisible = first_invisible_character(name, length, &position)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s name contains the invisible or control character U+%04X at position %d",
						kind, (unsigned int) invisible, position),
				 errdetail("Unicode control, format and separator characters and spaces other than the ASCII space are not allowed in names.")));

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
