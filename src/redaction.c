/*-------------------------------------------------------------------------
 *
 * redaction.c
 *	  Tokens taken out of every report a backend that has loaded the library
 *	  sends to the server log and the client.
 *
 * The extension's own messages never quote a token (names.c), but
 * PostgreSQL's do: an input function quotes the value it refuses
 * ("invalid input syntax for type bigint", "malformed array literal", the
 * JSON parser's DETAIL and CONTEXT), also for a bind parameter, before any
 * function of ours runs.  Such reports pass through emit_log_hook, where
 * anything shaped like a token (names.c's token_span) is replaced.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "lib/stringinfo.h"
#include "utils/elog.h"

/*
 * Details and context lines quote pieces of the input cut at any place (the
 * JSON parser's 'Token "<an unterminated string>" is invalid.' and
 * "JSON data, line 1: ...<the last 50 characters>"), so in them a long
 * enough run of the characters tokens are made of counts as a piece of a
 * token too.  Not in messages and hints, which quote names (a long bucket
 * name must stay readable there).
 */
#define FRAGMENT_MIN_CHARS 32

/*
 * fragment_span finds the first run of at least FRAGMENT_MIN_CHARS
 * base64url characters (what our tokens and InfluxDB's are made of), with
 * the base64 padding that follows it, like token_span.
 */
static bool
fragment_span(const char *value, size_t length, size_t *start, size_t *end)
{
	size_t		run = 0;
	size_t		i;

	for (i = 0; i <= length; i++)
	{
		if (i < length && is_base64url(value[i]))
		{
			run++;
			continue;
		}
		if (run >= FRAGMENT_MIN_CHARS)
		{
			*start = i - run;
			while (i < length && value[i] == '=')
				i++;
			*end = i;
			return true;
		}
		run = 0;
	}
	return false;
}

/*
 * secret_span finds the first token (and, with fragments, the first piece of
 * one) in a value.
 */
static bool
secret_span(const char *value, size_t length, bool fragments, size_t *start, size_t *end)
{
	size_t		fragment_start;
	size_t		fragment_end;
	bool		found = token_span(value, length, start, end);

	if (fragments && fragment_span(value, length, &fragment_start, &fragment_end) &&
		(!found || fragment_start < *start))
	{
		*start = fragment_start;
		*end = fragment_end;
		found = true;
	}
	return found;
}

/*
 * redacted returns text with every token (and, with fragments, every piece
 * of one) replaced by "(redacted)", or text itself when there is nothing
 * to replace (also for NULL).
 */
static char *
redacted(char *text, bool fragments)
{
	StringInfoData result;
	size_t		length;
	size_t		start;
	size_t		end;

	if (text == NULL)
		return NULL;
	length = strlen(text);
	if (!secret_span(text, length, fragments, &start, &end))
		return text;

	initStringInfo(&result);
	do
	{
		appendBinaryStringInfo(&result, text, (int) start);
		appendStringInfoString(&result, "(redacted)");
		text += end;
		length -= end;
	} while (secret_span(text, length, fragments, &start, &end));
	appendBinaryStringInfo(&result, text, (int) length);
	return result.data;
}

/*
 * redact_report is the emit_log_hook: whatever reports an error or a log
 * line in this backend (PostgreSQL's own input functions quoting a value,
 * the JSON parser, a statement logged with log_statement, another
 * extension), it goes to the server log and to the client with every
 * token-shaped part replaced.  It runs before the hooks installed before
 * it, and only for reports bound for the server log (PostgreSQL calls
 * emit_log_hook for those only; see SECURITY.md).  The statement text that
 * log_min_error_statement adds does not pass through it.
 */
static emit_log_hook_type previous_emit_log_hook = NULL;

static void
redact_report(ErrorData *edata)
{
	edata->message = redacted(edata->message, false);
	edata->detail = redacted(edata->detail, true);
	edata->detail_log = redacted(edata->detail_log, true);
	edata->hint = redacted(edata->hint, false);
	edata->context = redacted(edata->context, true);
	edata->internalquery = redacted(edata->internalquery, false);
	if (previous_emit_log_hook)
		previous_emit_log_hook(edata);
}

/*
 * redaction_init installs redact_report; called once from _PG_init.
 */
void
redaction_init(void)
{
	previous_emit_log_hook = emit_log_hook;
	emit_log_hook = redact_report;
}

