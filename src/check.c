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

#include "utils/snapmgr.h"

/*
 * token_is_usable says whether a token is active and unexpired at now.
 */
static bool
token_is_usable(const TokenRecord *token, TimestampTz now)
{
	if (!token->active)
		return false;
	return !token->has_expiry || token->expires_at > now;
}

/*
 * token_permits decides whether the token in token_text may perform action
 * on a resource type of its organization, or on the named bucket when
 * bucket_name is not NULL.  Every failure (garbage, unknown token, inactive,
 * expired, unknown bucket, no matching grant) is plain false.
 */
bool
token_permits(const char *token_text, size_t token_length,
			  PermissionAction action, ResourceType type,
			  const char *bucket_name, size_t bucket_name_length)
{
	uint8		digest[TOKEN_DIGEST_LENGTH];
	Snapshot	snapshot;
	TokenRecord *token;
	bool		allowed = false;

	if (!token_is_well_formed(token_text, token_length))
		return false;
	token_digest(token_text, token_length, digest);

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	token = lookup_token(digest, snapshot);
	if (token != NULL && token_is_usable(token, GetCurrentTimestamp()))
	{
		int64		bucket_id = 0;

		if (bucket_name != NULL)
			bucket_id = lookup_bucket_id(token->org_id, bucket_name,
										 bucket_name_length, snapshot);
		if (bucket_name == NULL || bucket_id != 0)
			allowed = grants_allow(token->grants, token->ngrants,
								   action, type, bucket_id);
	}
	UnregisterSnapshot(snapshot);
	return allowed;
}
