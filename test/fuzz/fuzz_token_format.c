/*-------------------------------------------------------------------------
 *
 * fuzz_token_format.c
 *	  libFuzzer target for the token format test (src/token_format.c).
 *
 * Properties checked for every input, besides memory safety (ASan, UBSan):
 * - an accepted string has the token's length, prefix and alphabet;
 * - changing any one character of an accepted string makes it rejected
 *   (CRC-32C detects every single-character error);
 * - a freshly generated token is accepted;
 * - the check path's test (token_is_acceptable) takes a string with our
 *   prefix only if it is well formed, and anything else only if it could
 *   be an imported token;
 * - the token look-alike search (token_span, which redaction relies on)
 *   reports a span inside the input, and finds a generated token spliced
 *   into the input at the place the input's first byte chooses.
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
	const char *text = (const char *) data;
	char		generated[TOKEN_LENGTH + 1];
	sigjmp_buf	jump;

	if (token_is_well_formed(text, size))
	{
		char		changed[TOKEN_LENGTH];
		size_t		i;

		if (size != TOKEN_LENGTH || memcmp(text, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH) != 0)
			abort();
		for (i = TOKEN_PREFIX_LENGTH; i < size; i++)
		{
			unsigned char c = (unsigned char) text[i];

			if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
				abort();
		}
		for (i = TOKEN_PREFIX_LENGTH; i < size; i++)
		{
			memcpy(changed, text, size);
			changed[i] = (changed[i] == 'a') ? 'b' : 'a';
			if (token_is_well_formed(changed, size))
				abort();
		}
	}

	if (token_is_acceptable(text, size))
	{
		bool		ours = size >= TOKEN_PREFIX_LENGTH &&
		memcmp(text, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH) == 0;

		if (ours ? !token_is_well_formed(text, size) : !token_is_importable(text, size))
			abort();
	}
	else if (token_is_well_formed(text, size))
		abort();

	{
		size_t		start;
		size_t		end;

		if (token_span(text, size, &start, &end) &&
			(start >= end || end > size || !looks_like_token(text + start, end - start)))
			abort();
	}

	/* A token spliced into the input is found, at or before its place. */
	if (size > 0)
	{
		size_t		at = data[0] % (size + 1);
		char	   *spliced = palloc(size + TOKEN_LENGTH);
		size_t		start;
		size_t		end;

		memcpy(spliced, text, at);
		memcpy(spliced + at, "ixt_0123456789abcdefghijABCDEFGHIJKLMNOPQRST", TOKEN_LENGTH);
		memcpy(spliced + at + TOKEN_LENGTH, text + at, size - at);
		if (!token_span(spliced, size + TOKEN_LENGTH, &start, &end) || start > at)
			abort();
	}

	/* Generation draws from pg_strong_random; its tokens must pass the test. */
	if (size > 0 && data[0] == 'g')
	{
		fuzz_error_jump = &jump;
		if (sigsetjmp(jump, 0) == 0)
		{
			token_generate(generated);
			if (strlen(generated) != TOKEN_LENGTH || !token_is_well_formed(generated, TOKEN_LENGTH))
				abort();
		}
		fuzz_error_jump = NULL;
	}
	fuzz_free_all();
	return 0;
}
