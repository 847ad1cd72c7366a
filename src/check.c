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

#include "utils/memutils.h"


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
 * bucket_question is the question of token_check: action on the bucket
 * of this name.
 */
ParsedPermission
bucket_question(PermissionAction action, const char *bucket_name, size_t bucket_name_length)
{
	ParsedPermission question = {0};

	question.action = action;
	question.resource_type = RESOURCE_BUCKETS;
	question.scope = SCOPE_TOKEN_ORG;
	question.bucket_name = bucket_name;
	question.bucket_name_length = bucket_name_length;
	return question;
}

/*
 * question_org is the organization a question is about: the named one
 * (token_check's org argument; false if it does not exist), the one a
 * permission string gives by InfluxDB ID (0 if unknown here: then only a
 * grant without an organization can cover it, as in InfluxDB), none for a
 * resource without one, or the token's own.
 */
static bool
question_org(const TokenRecord *token, const ParsedPermission *question,
			 const char *org_name, size_t org_name_length, int64 *org_id)
{
	if (org_name != NULL)
	{
		*org_id = org_cache_get_id(org_name, org_name_length);
		return *org_id != 0;
	}
	if (question->scope == SCOPE_NO_ORG)
		*org_id = 0;
	else if (question->scope == SCOPE_INFLUX_ORG)
		*org_id = lookup_org_by_influx_id(question->org_influx_id);
	else
		*org_id = token->org_id;
	return true;
}

/*
 * record_permits decides whether a known, usable token's grants cover the
 * question (see token_permits).  A bucket is resolved, and the InfluxDB ID
 * of an organization read, only when some grant could cover it.
 *
 * The question's organization is the one it names (question_org), with two
 * exceptions where the resource's own organization is known: a bucket
 * named by InfluxDB ID is in its organization (a question naming another
 * one asks for nothing there); an organization asked for in our spelling
 * ("read:orgs", "read:orgs/<id>") is in itself, as InfluxDB's authorizer
 * asks.  Of any other resource only its ID is known: a question in our
 * spelling places it in the token's organization, and a caller that serves
 * several organizations names the resource's ("orgs/<org>/<type>/<id>").
 */
static bool
record_permits(const TokenRecord *token, const ParsedPermission *question,
			   const char *org_name, size_t org_name_length)
{
	ResourceRequest request;
	bool		one_resource = question->bucket_name != NULL || question->influx_id != 0;
	bool		org_in_itself = question->resource_type == RESOURCE_ORGS &&
		question->scope == SCOPE_TOKEN_ORG;

	request.action = question->action;
	request.type = question->resource_type;
	request.id = 0;
	request.any_id = false;
	if (!question_org(token, question, org_name, org_name_length, &request.org_id))
		return false;

	if (!one_resource)
	{
		if (grants_allow(token->grants, token->ngrants, token->org_id, &request))
			return true;
		if (!org_in_itself)
			return false;
		/* Only a grant on the organization by ID is left: read its ID if one could. */
		request.any_id = true;
		if (!grants_allow(token->grants, token->ngrants, token->org_id, &request))
			return false;
		request.any_id = false;
		request.id = (int64) lookup_org_influx_id(request.org_id);
		return grants_allow(token->grants, token->ngrants, token->org_id, &request);
	}

	request.any_id = true;
	if (!grants_allow(token->grants, token->ngrants, token->org_id, &request))
		return false;
	request.any_id = false;

	if (request.type == RESOURCE_ORGS && question->scope != SCOPE_NO_ORG)
	{
		/* An organization is in itself: asked for in another, it is not there. */
		int64		org_id = lookup_org_by_influx_id(question->influx_id);

		if (question->scope == SCOPE_INFLUX_ORG && org_id != request.org_id)
			return false;
		request.id = (int64) question->influx_id;
		request.org_id = org_id;
	}
	else if (request.type != RESOURCE_BUCKETS)
		request.id = (int64) question->influx_id;
	else if (question->bucket_name != NULL)
	{
		if (request.org_id == 0)
			return false;
		request.id = bucket_cache_get_id(request.org_id, question->bucket_name,
										 question->bucket_name_length);
	}
	else
	{
		int64		bucket_org_id;

		request.id = lookup_bucket_by_influx_id(question->influx_id, &bucket_org_id);
		if (question->scope == SCOPE_INFLUX_ORG && bucket_org_id != request.org_id)
			return false;
	}
	if (request.id == 0)
		return false;
	return grants_allow(token->grants, token->ngrants, token->org_id, &request);
}

/*
 * digest_permits decides, for the token with this digest, what
 * token_permits decides for its text; the outcome counts in the token's
 * usage when count_usage.
 */
bool
digest_permits(const uint8 *digest, bool count_usage, const ParsedPermission *question,
			   const char *org_name, size_t org_name_length)
{
	const TokenRecord *token;
	UsagePending *usage;
	bool		allowed;

	cache_prepare();
	token = token_cache_get(digest, &usage);
	if (token == NULL)
		return false;

	allowed = token_is_usable(token) &&
		record_permits(token, question, org_name, org_name_length);
	if (count_usage)
		usage_note_check(usage, token->id, allowed);
	return allowed;
}

/*
 * The last token a call site of token_check or token_allows was given, with
 * its digest, in the call site's memory (fn_extra): a query that checks one
 * token row after row (a batch of writes, a join) runs the format test and
 * the SHA-256 once.  The text is compared in constant time, and wiped when
 * the call site's memory is reset or freed.  Longer texts are not kept
 * (ours are 44 characters, InfluxDB's 88).
 */
#define CALL_SITE_TOKEN_MAX 128

typedef struct CallSiteToken
{
	MemoryContextCallback wipe;
	size_t		length;			/* 0: none */
	char		text[CALL_SITE_TOKEN_MAX];
	uint8		digest[TOKEN_DIGEST_LENGTH];
} CallSiteToken;

static void
wipe_call_site_token(void *arg)
{
	CallSiteToken *memo = arg;

	explicit_bzero(memo->text, sizeof(memo->text));
	explicit_bzero(memo->digest, sizeof(memo->digest));
	memo->length = 0;
}

/*
 * call_site_digest computes into digest the digest of a token checks would
 * accept, or says false for anything else, remembering the last one at the
 * call site (flinfo, may be NULL).
 */
static bool
call_site_digest(FmgrInfo *flinfo, const char *token_text, size_t token_length, uint8 *digest)
{
	CallSiteToken *memo = flinfo != NULL ? flinfo->fn_extra : NULL;

	if (memo != NULL && memo->length == token_length && token_length > 0 &&
		timingsafe_bcmp(memo->text, token_text, token_length) == 0)
	{
		memcpy(digest, memo->digest, TOKEN_DIGEST_LENGTH);
		return true;
	}
	if (!token_is_acceptable(token_text, token_length))
		return false;
	token_digest(token_text, token_length, digest);
	if (flinfo == NULL || token_length > CALL_SITE_TOKEN_MAX)
		return true;
	if (memo == NULL)
	{
		memo = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(CallSiteToken));
		memo->wipe.func = wipe_call_site_token;
		memo->wipe.arg = memo;
		MemoryContextRegisterResetCallback(flinfo->fn_mcxt, &memo->wipe);
		flinfo->fn_extra = memo;
	}
	memo->length = token_length;
	memcpy(memo->text, token_text, token_length);
	memcpy(memo->digest, digest, TOKEN_DIGEST_LENGTH);
	return true;
}

/*
 * token_permits decides whether the token in token_text may do what the
 * question (a parsed permission string) asks, in the named organization
 * when org_name is not NULL (token_check's), else in the organization the
 * question names or the token's own.  Every failure (garbage, unknown
 * token, inactive, expired, unknown organization or resource, no matching
 * grant) is plain false.  flinfo is the caller's call site (see
 * CallSiteToken), or NULL.
 *
 * The order keeps the common case cheap: a token the call site was given
 * last needs neither the format test nor the hash, the format test rejects
 * garbage before any hashing (and one of our tokens with a bad checksum),
 * the cache answers known tokens without reading a table, and an
 * organization or bucket is looked up only if some grant could cover it.
 * The outcome for a known token counts in its usage.
 */
bool
token_permits(FmgrInfo *flinfo, const char *token_text, size_t token_length,
			  const ParsedPermission *question, const char *org_name, size_t org_name_length)
{
	uint8		digest[TOKEN_DIGEST_LENGTH];

	if (!call_site_digest(flinfo, token_text, token_length, digest))
		return false;
	return digest_permits(digest, true, question, org_name, org_name_length);
}
