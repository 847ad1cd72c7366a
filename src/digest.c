/*-------------------------------------------------------------------------
 *
 * digest.c
 *	  SHA-256 of a token, the only form in which tokens are stored.
 *
 * A token carries over 200 bits of entropy, so a fast unsalted hash is
 * enough: nobody can search that space, and an unsalted digest keeps us
 * compatible with InfluxDB 2.9's hashed tokens.
 *
 * pg_cryptohash_create() allocates an OpenSSL context and registers it with
 * the resource owner on every call, which costs more than the hash itself
 * for a 44-byte input.  Instead one context and one fetched algorithm live
 * for the life of the backend and are re-initialized for each digest.
 * Nothing is left in them that an error could leak: each use starts with a
 * fresh EVP_DigestInit_ex.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include <openssl/evp.h>

static EVP_MD *sha256_algorithm = NULL;
static EVP_MD_CTX *sha256_context = NULL;

/*
 * digest_failed reports an OpenSSL failure; it never mentions the input.
 */
static void
digest_failed(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not compute SHA-256 digest")));
}

/*
 * token_digest writes the SHA-256 of token[0..length) into digest, which has
 * room for TOKEN_DIGEST_LENGTH bytes.
 */
void
token_digest(const char *token, size_t length, uint8 *digest)
{
	unsigned int digest_length = 0;

	if (sha256_algorithm == NULL)
	{
		sha256_algorithm = EVP_MD_fetch(NULL, "SHA256", NULL);
		if (sha256_algorithm == NULL)
			digest_failed();
	}
	if (sha256_context == NULL)
	{
		sha256_context = EVP_MD_CTX_new();
		if (sha256_context == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
	}

	if (EVP_DigestInit_ex(sha256_context, sha256_algorithm, NULL) != 1 ||
		EVP_DigestUpdate(sha256_context, token, length) != 1 ||
		EVP_DigestFinal_ex(sha256_context, digest, &digest_length) != 1 ||
		digest_length != TOKEN_DIGEST_LENGTH)
		digest_failed();
}
