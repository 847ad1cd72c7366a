/*-------------------------------------------------------------------------
 *
 * pg_stubs.c
 *	  Just enough of the backend for the extension's pure parsers to run in
 *	  a fuzzer process: error reporting that longjmps back to the harness,
 *	  allocation that the harness frees after every input, and UTF-8
 *	  versions of the multibyte helpers names.c uses.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdarg.h>

#include "fuzz_stubs.h"
#include "mb/pg_wchar.h"

sigjmp_buf *fuzz_error_jump = NULL;
char		fuzz_last_message[1024];
int			fuzz_last_sqlstate;

/* Every allocation of one input, freed by fuzz_free_all. */
typedef struct Allocation
{
	struct Allocation *next;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} Allocation;

static Allocation *allocations = NULL;

static void *
fuzz_alloc(size_t size)
{
	Allocation *a = malloc(offsetof(Allocation, data) + size);

	if (a == NULL)
		abort();
	a->next = allocations;
	allocations = a;
	return a->data;
}

void
fuzz_free_all(void)
{
	while (allocations != NULL)
	{
		Allocation *next = allocations->next;

		free(allocations);
		allocations = next;
	}
}

void *
palloc(Size size)
{
	return fuzz_alloc(size);
}

void
pfree(void *pointer)
{
	/* freed with the rest of the input's allocations */
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out = fuzz_alloc(len + 1);

	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

char *
pstrdup(const char *in)
{
	return pnstrdup(in, strlen(in));
}

char *
psprintf(const char *fmt,...)
{
	va_list		args;
	int			needed;
	char	   *out;

	va_start(args, fmt);
	needed = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	out = fuzz_alloc(needed + 1);
	va_start(args, fmt);
	vsnprintf(out, needed + 1, fmt, args);
	va_end(args);
	return out;
}

/* UTF-8 length of the character starting with byte c (1 for invalid bytes). */
static int
utf8_length(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/* The fuzzed names are UTF-8, as in a UTF8 database. */
int
GetDatabaseEncoding(void)
{
	return PG_UTF8;
}

int
pg_utf_mblen(const unsigned char *s)
{
	return utf8_length(*s);
}

/* The code point of a UTF-8 sequence (its length from the first byte). */
pg_wchar
utf8_to_unicode(const unsigned char *c)
{
	switch (utf8_length(c[0]))
	{
		case 4:
			return ((c[0] & 0x07) << 18) | ((c[1] & 0x3f) << 12) | ((c[2] & 0x3f) << 6) | (c[3] & 0x3f);
		case 3:
			return ((c[0] & 0x0f) << 12) | ((c[1] & 0x3f) << 6) | (c[2] & 0x3f);
		case 2:
			return ((c[0] & 0x1f) << 6) | (c[1] & 0x3f);
		default:
			return c[0];
	}
}

int
pg_mbstrlen_with_len(const char *mbstr, int limit)
{
	int			chars = 0;

	while (limit > 0 && *mbstr)
	{
		int			l = utf8_length((unsigned char) *mbstr);

		limit -= l;
		mbstr += l;
		chars++;
	}
	return chars;
}

int
pg_mbcliplen(const char *mbstr, int len, int limit)
{
	int			clen = 0;

	while (clen < len && *mbstr)
	{
		int			l = utf8_length((unsigned char) *mbstr);

		if (clen + l > limit || clen + l > len)
			break;
		clen += l;
		mbstr += l;
	}
	return clen;
}

/* Error reporting: format the message (to exercise the arguments), then jump. */
bool
errstart(int elevel, const char *domain)
{
	fuzz_last_message[0] = '\0';
	fuzz_last_sqlstate = 0;
	return elevel >= ERROR;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (fuzz_error_jump == NULL)
		abort();
	siglongjmp(*fuzz_error_jump, 1);
}

int
errcode(int sqlerrcode)
{
	fuzz_last_sqlstate = sqlerrcode;
	return 0;
}

/* Formats an error message part into buffer, so that its arguments are exercised. */
#define FORMAT_INTO(buffer, fmt) \
	do { \
		va_list		args; \
		va_start(args, fmt); \
		vsnprintf(buffer, sizeof(buffer), fmt, args); \
		va_end(args); \
	} while (0)

static char discarded[1024];

int
errmsg(const char *fmt,...)
{
	FORMAT_INTO(fuzz_last_message, fmt);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	FORMAT_INTO(fuzz_last_message, fmt);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	FORMAT_INTO(discarded, fmt);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	FORMAT_INTO(discarded, fmt);
	return 0;
}

int
errhint(const char *fmt,...)
{
	FORMAT_INTO(discarded, fmt);
	return 0;
}
