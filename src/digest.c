/*-------------------------------------------------------------------------
 *
 * digest.c
 *	  SHA-256 of a token, the only form in which tokens are stored.
 *
 * A token carries over 200 bits of entropy, so a fast unsalted hash is
 * enough: nobody can search that space, and an unsalted digest keeps us
 * compatible with InfluxDB 2.9's hashed tokens.
 *
 * Every check hashes its token, so the cost matters.  Measured on the
 * development machine for a 44-byte token (test/bench has the whole
 * benchmark): pg_cryptohash_create() per call, which allocates an OpenSSL
 * context and registers it with the resource owner, ~600 ns; one reused EVP
 * context, ~90 ns; OpenSSL's low-level SHA256_Init/Update/Final on a stack
 * context, ~50 ns, which is what we use.  Those functions are deprecated in
 * OpenSSL 3 (still present, and computing the same SHA-256 through the same
 * assembly); if a later OpenSSL drops them, the EVP variant is the fallback.
 * A stack context means nothing to allocate, nothing to leak on error, and
 * nothing left in memory afterwards (it is wiped).
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

/*
 * token_digest writes the SHA-256 of token[0..length) into digest, which has
 * room for TOKEN_DIGEST_LENGTH bytes.  It never reports the input.
 */
void
token_digest(const char *token, size_t length, uint8 *digest)
{
	SHA256_CTX	context;
	bool		ok;

	StaticAssertStmt(TOKEN_DIGEST_LENGTH == SHA256_DIGEST_LENGTH,
					 "token digests are SHA-256");

	ok = SHA256_Init(&context) == 1 &&
		SHA256_Update(&context, token, length) == 1 &&
		SHA256_Final(digest, &context) == 1;
	OPENSSL_cleanse(&context, sizeof(context));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute SHA-256 digest")));
}
