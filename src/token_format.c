/*-------------------------------------------------------------------------
 *
 * token_format.c
 *	  Generating tokens, and telling a well-formed token from garbage
 *	  without touching any table.
 *
 * The format follows GitHub's: a type prefix, a random part in base62 (so a
 * double click selects the whole token and no URL escaping is needed) and a
 * CRC-32 of the random part.  The checksum is no secret; it only lets a
 * check reject a truncated, mistyped or made-up token before computing a
 * digest or reading an index.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "port.h"
#include "utils/pg_crc.h"

static const char base62_alphabet[] =
"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/*
 * Bytes at or above this value are rejected when drawing a base62 digit, so
 * that every digit is equally likely (248 = 4 * 62).
 */
#define BASE62_REJECT_FROM 248

/* Lookup table from character to base62 value, -1 for other characters. */
static int8 base62_value[256];
static bool base62_value_ready = false;

/*
 * base62_init fills the reverse lookup table once per backend.
 */
static void
base62_init(void)
{
	int			i;

	if (base62_value_ready)
		return;
	memset(base62_value, -1, sizeof(base62_value));
	for (i = 0; i < 62; i++)
		base62_value[(unsigned char) base62_alphabet[i]] = (int8) i;
	base62_value_ready = true;
}

/*
 * encode_checksum writes the CRC-32 of the random part as a fixed-width,
 * most-significant-first base62 number (62^6 > 2^32).
 */
static void
encode_checksum(const char *random_part, char *out)
{
	pg_crc32	crc;
	uint64		value;
	int			i;

	INIT_TRADITIONAL_CRC32(crc);
	COMP_TRADITIONAL_CRC32(crc, random_part, TOKEN_RANDOM_LENGTH);
	FIN_TRADITIONAL_CRC32(crc);

	value = crc;
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
 * checksum.  It reads nothing but its argument.
 */
bool
token_is_well_formed(const char *token, size_t length)
{
	const char *random_part = token + TOKEN_PREFIX_LENGTH;
	char		expected_checksum[TOKEN_CHECKSUM_LENGTH];
	int			i;

	if (length != TOKEN_LENGTH ||
		memcmp(token, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH) != 0)
		return false;

	base62_init();
	for (i = 0; i < TOKEN_RANDOM_LENGTH + TOKEN_CHECKSUM_LENGTH; i++)
	{
		if (base62_value[(unsigned char) random_part[i]] < 0)
			return false;
	}

	encode_checksum(random_part, expected_checksum);
	return memcmp(expected_checksum, random_part + TOKEN_RANDOM_LENGTH,
				  TOKEN_CHECKSUM_LENGTH) == 0;
}
