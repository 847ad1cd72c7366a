/*-------------------------------------------------------------------------
 *
 * token_format.c
 *	  Generating tokens, and telling a well-formed token from garbage
 *	  without touching any table.
 *
 * The format follows GitHub's: a type prefix, a random part in base62 (so a
 * double click selects the whole token and no URL escaping is needed) and a
 * CRC-32C of the random part.  The checksum is no secret; it only lets a
 * check reject a truncated, mistyped or made-up token before computing a
 * digest or reading an index.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "port.h"
#include "port/pg_crc32c.h"

static const char base62_alphabet[] =
"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/*
 * Bytes at or above this value are rejected when drawing a base62 digit, so
 * that every digit is equally likely (248 = 4 * 62).
 */
#define BASE62_REJECT_FROM 248

/*
 * Value of each byte as a base62 digit, -1 for bytes that are not one.  A
 * table rather than range tests: the characters of a token are random, so
 * range tests mispredict about once per character, and that cost more than
 * the rest of a cached check.
 */
static const int8 base62_values[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
	-1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
	25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, -1, -1, -1, -1, -1,
	-1, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
	51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/*
 * checksum_of returns the CRC-32C of the random part of a token.  CRC-32C
 * rather than zlib's CRC-32 because PostgreSQL computes it with the CPU's
 * CRC instruction where there is one: a table-driven CRC-32 of 34 bytes cost
 * more than the SHA-256 and the cache lookup of a check together.
 */
static uint32
checksum_of(const char *random_part)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, random_part, TOKEN_RANDOM_LENGTH);
	FIN_CRC32C(crc);
	return crc;
}

/*
 * encode_checksum writes the checksum of the random part as a fixed-width,
 * most-significant-first base62 number (62^6 > 2^32).
 */
static void
encode_checksum(const char *random_part, char *out)
{
	uint32		value = checksum_of(random_part);
	int			i;

	for (i = TOKEN_CHECKSUM_LENGTH - 1; i >= 0; i--)
	{
		out[i] = base62_alphabet[value % 62];
		value /= 62;
	}
}

/*
 * token_generate writes a new token of TOKEN_LENGTH characters plus a
 * terminating NUL into out.  Randomness comes from pg_strong_random; an
 * unavailable random source is an error, never a weaker token.
 */
void
token_generate(char *out)
{
	uint8		random_bytes[64];
	int			used = lengthof(random_bytes);
	int			filled = 0;
	char	   *random_part = out + TOKEN_PREFIX_LENGTH;

	memcpy(out, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH);

	while (filled < TOKEN_RANDOM_LENGTH)
	{
		uint8		byte;

		if (used == lengthof(random_bytes))
		{
			if (!pg_strong_random(random_bytes, sizeof(random_bytes)))
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("could not generate random token")));
			used = 0;
		}
		byte = random_bytes[used++];
		if (byte < BASE62_REJECT_FROM)
			random_part[filled++] = base62_alphabet[byte % 62];
	}

	encode_checksum(random_part, random_part + TOKEN_RANDOM_LENGTH);
	out[TOKEN_LENGTH] = '\0';
	explicit_bzero(random_bytes, sizeof(random_bytes));
}

/*
 * token_is_well_formed says whether a string has the shape of one of our
 * tokens: the prefix, the right length, base62 characters and a matching
 * checksum.  It reads nothing but its argument, and runs on every check, so
 * it decodes the checksum instead of encoding the expected one.
 */
bool
token_is_well_formed(const char *token, size_t length)
{
	const unsigned char *random_part;
	int			invalid = 0;
	uint64		checksum = 0;
	int			i;

	if (length != TOKEN_LENGTH ||
		memcmp(token, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH) != 0)
		return false;

	random_part = (const unsigned char *) token + TOKEN_PREFIX_LENGTH;
	for (i = 0; i < TOKEN_RANDOM_LENGTH; i++)
		invalid |= base62_values[random_part[i]];
	for (i = TOKEN_RANDOM_LENGTH; i < TOKEN_RANDOM_LENGTH + TOKEN_CHECKSUM_LENGTH; i++)
	{
		int			digit = base62_values[random_part[i]];

		invalid |= digit;
		checksum = checksum * 62 + digit;
	}
	if (invalid < 0)
		return false;

	return checksum == checksum_of((const char *) random_part);
}

/*
 * token_is_importable says whether a string could be an imported token.
 */
bool
token_is_importable(const char *token, size_t length)
{
	size_t		i;

	if (length < IMPORTED_TOKEN_MIN_LENGTH || length > IMPORTED_TOKEN_MAX_LENGTH)
		return false;
	for (i = 0; i < length; i++)
	{
		unsigned char c = (unsigned char) token[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

/*
 * token_is_acceptable is the format test of the check path: one of our
 * tokens (prefix and checksum), or something an import could have stored.
 * A string with our prefix must pass our checksum.
 */
bool
token_is_acceptable(const char *token, size_t length)
{
	if (length >= TOKEN_PREFIX_LENGTH &&
		memcmp(token, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH) == 0)
		return token_is_well_formed(token, length);
	return token_is_importable(token, length);
}
