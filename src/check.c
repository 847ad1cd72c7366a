/*-------------------------------------------------------------------------
 *
 * check.c
 *	  The authorization decision: may this token do this?
 *
 * A check sees the latest committed state of the tables plus the session's
 * own uncommitted changes, whatever the isolation level: a revoke that has
 * committed anywhere is in force at once, even inside a long REPEATABLE READ
 * transaction.  Expiry is compared with the clock, not the transaction's
 * start time, so a token can expire in the middle of a transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"


/*
 * token_is_usable says whether a token is active and unexpired by the
 * clock: the one rule for "may this token act now", for checks and for
 * delegation alike.
 */
bool
token_is_usable(const TokenRecord *token)
{
	if (!token->active)
		return false;
	return !token->has_expiry || token->expires_at > GetCurrentTimestamp();
}

/*
 * record_permits decides whether a known, usable token's grants cover the
 * request (see token_permits).
 */
static bool
record_permits(const TokenRecord *token, PermissionAction action,
			   ResourceType type, const char *org_name, size_t org_name_length,
			   const char *bucket_name, size_t bucket_name_length)
{
	int64		org_id;
	bool		same_org;
	int64		bucket_id = 0;

	if (org_name == NULL)
		org_id = token->org_id;
	else if ((org_id = org_cache_get_id(org_name, org_name_length)) == 0)
		return false;
	same_org = (org_id == token->org_id);

	if (!grants_allow(token->grants, token->ngrants, action, type,
					  GRANT_ANY_BUCKET, same_org))
		return false;

	if (bucket_name != NULL)
	{
		bucket_id = bucket_cache_get_id(org_id, bucket_name, bucket_name_length);
		if (bucket_id == 0)
			return false;
	}
	return grants_allow(token->grants, token->ngrants, action, type, bucket_id,
						same_org);
}

/*
 * digest_permits decides, for the token with this digest, what
 * token_permits decides for its text; the outcome counts in the token's
 * usage when count_usage.
 */
bool
digest_permits(const uint8 *digest, bool count_usage, PermissionAction action, ResourceType type,
			   const char *org_name, size_t org_name_length,
			   const char *bucket_name, size_t bucket_name_length)
{
	const TokenRecord *token;
	UsagePending *usage;
	bool		allowed;

	cache_prepare();
	token = token_cache_get(digest, &usage);
	if (token == NULL)
		return false;

	allowed = token_is_usable(token) &&
		record_permits(token, action, type, org_name, org_name_length,
					   bucket_name, bucket_name_length);
	if (count_usage)
		usage_note_check(usage, token->id, allowed);
	return allowed;
}

/*
 * token_permits decides whether the token in token_text may perform action
 * on a resource type, or on the named bucket when bucket_name is not NULL,
 * in the named organization, or the token's own when org_name is NULL.
 * Every failure (garbage, unknown token, inactive, expired, unknown
 * organization or bucket, no matching grant) is plain false.
 *
 * The order keeps the common case cheap: the format test rejects garbage
 * before any hashing (and one of our tokens with a bad checksum), the cache
 * answers known tokens without reading a table, and an organization or
 * bucket is looked up only if some grant could cover it.  The outcome for
 * a known token counts in its usage.
 */
bool
token_permits(const char *token_text, size_t token_length,
			  PermissionAction action, ResourceType type,
			  const char *org_name, size_t org_name_length,
			  const char *bucket_name, size_t bucket_name_length)
{
	uint8		digest[TOKEN_DIGEST_LENGTH];

	if (!token_is_acceptable(token_text, token_length))
		return false;
	token_digest(token_text, token_length, digest);
	return digest_permits(digest, true, action, type, org_name, org_name_length,
						  bucket_name, bucket_name_length);
}
