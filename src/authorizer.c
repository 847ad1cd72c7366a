/*-------------------------------------------------------------------------
 *
 * authorizer.c
 *	  Who is asking: the token forms of the management functions (*_as,
 *	  PUBLIC's) decide with InfluxDB's authorizer rules whether their token
 *	  may act.
 *
 * Every management operation has one body in SQL whose first argument is
 * the acting token's id, NULL for an administrator, who is never asked.
 * The administrator's form and the token form call the same body; the
 * token form turns its token's text into that id first (_actor).  The body
 * asks _authorize what InfluxDB's authorizer package asks for the same
 * operation (authorizer/auth.go, bucket.go, org.go):
 *	  - seeing a token: read on authorizations, in its organization, for its
 *		ID; changing or deleting it: write on the same;
 *	  - creating a bucket: write on the organization's buckets; renaming or
 *		dropping one: write on that bucket; seeing one: read on it;
 *	  - seeing an organization: read on it (orgs, by its ID).
 * The decision is the checks' own (grants_allow), on the acting token as a
 * check sees it now, lineage included (lookup.c): "**" and InfluxDB's
 * grants without an organization reach every organization, as in checks,
 * and a grant in the token's organization reaches only that one.
 *
 * No token may leave another with more than it holds itself
 * (_authorize_state): reactivating, rotating, or setting the permissions
 * or the expiry of a token by token requires that the acting token could
 * have created it as it then stands (delegation.c's rule).  Revoking,
 * deleting, describing and labelling take nothing but write.  A token
 * never changes itself or a token it descends from, and rotates only its
 * descendants (_authorize_token, _rotate_token, in SQL): so the acting
 * token's own record, which only it and its ancestors shape, cannot move
 * with the change it is judged against, a rotation never hands it a
 * secret its lineage does not bound, and its holder never holds the row
 * lock of its own token (a revoke of it never waits).  Every change is
 * judged once more at commit, under a lock of the acting token and its
 * ancestors (commit_check.c), as create_token_as is.
 *
 * SQLSTATEs, which the example front end maps to InfluxDB's answers:
 * 28000 (invalid_authorization_specification) for a token that may not do
 * this at all: unknown, revoked, expired, or without the permission
 * (InfluxDB's 401); 42501 for an escalation (InfluxDB's 403).  Messages
 * name the permission missing, never a token.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(influx_tokens__actor);
PG_FUNCTION_INFO_V1(influx_tokens__authorize);
PG_FUNCTION_INFO_V1(influx_tokens__authorize_state);
PG_FUNCTION_INFO_V1(influx_tokens__check_lineage_expiry);

/*
 * raise_not_valid raises the error for an acting token that cannot act.
 */
static void
raise_not_valid(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("the token is not valid"),
			 errdetail("It is unknown, revoked or expired, or its parent token is.")));
}

/*
 * _actor(token): the id of the token with this secret if it is usable now
 * (as token_check sees it: through the cache), else the error.
 */
Datum
influx_tokens__actor(PG_FUNCTION_ARGS)
{
	uint8		digest[TOKEN_DIGEST_LENGTH];
	const TokenRecord *token = NULL;
	UsagePending *usage;

	if (!PG_ARGISNULL(0) && secret_digest(PG_GETARG_TEXT_PP(0), digest))
	{
		cache_prepare();
		token = token_cache_get(digest, &usage);
	}
	if (token == NULL || !token_is_usable(token))
		raise_not_valid();
	PG_RETURN_INT64(token->id);
}

/*
 * acting_token returns the acting token as a check sees it now, or raises
 * the error if it cannot act (only when raise: else NULL).
 */
static TokenRecord *
acting_token(int64 actor_id, bool raise)
{
	TokenRecord *actor = lookup_token_by_id(actor_id, true);

	if (actor != NULL && token_is_usable(actor))
		return actor;
	if (raise)
		raise_not_valid();
	return NULL;
}

/*
 * _authorize(actor, action, resource_type, org_id, bucket_id, influx_id,
 * raise): may the acting token (NULL: an administrator) perform action on
 * the resource: the type as a whole in the organization (bucket_id and
 * influx_id NULL), a bucket (bucket_id, our id; influx_id its InfluxDB ID
 * for the message), or another resource by InfluxDB ID?  False, or with
 * raise the error naming the permission as InfluxDB does ("write:orgs/
 * <org>/authorizations/<id> is unauthorized").
 */
Datum
influx_tokens__authorize(PG_FUNCTION_ARGS)
{
	bool		raise = PG_ARGISNULL(6) || PG_GETARG_BOOL(6);
	TokenRecord *actor;
	text	   *action_text;
	text	   *type_text;
	text	   *influx_id = PG_ARGISNULL(5) ? NULL : PG_GETARG_TEXT_PP(5);
	ResourceRequest request = {0};
	char		org_digits[INFLUX_ID_LENGTH + 1];

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(true);
	require_argument(fcinfo, 1, "action");
	require_argument(fcinfo, 2, "resource type");
	actor = acting_token(PG_GETARG_INT64(0), raise);
	if (actor == NULL)
		PG_RETURN_BOOL(false);

	action_text = PG_GETARG_TEXT_PP(1);
	type_text = PG_GETARG_TEXT_PP(2);
	request.action = action_from_text(VARDATA_ANY(action_text), VARSIZE_ANY_EXHDR(action_text));
	request.type = resource_type_from_name(VARDATA_ANY(type_text), VARSIZE_ANY_EXHDR(type_text));
	if (request.type < 0)
		elog(ERROR, "_authorize() asked about no resource type");
	request.org_id = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3);
	if (!PG_ARGISNULL(4))
		request.id = PG_GETARG_INT64(4);
	else if (influx_id != NULL)
	{
		uint64		id;

		if (!parse_influx_id(VARDATA_ANY(influx_id), VARSIZE_ANY_EXHDR(influx_id), &id))
			elog(ERROR, "_authorize() asked about an invalid InfluxDB ID");
		request.id = (int64) id;
	}
	if (grants_allow(actor->grants, actor->ngrants, actor->org_id, &request))
	{
		/* A change: its commit asks again whether the acting token is usable. */
		if (raise && request.action == PERMISSION_WRITE)
			commit_check_note_act(actor->id, 0);
		PG_RETURN_BOOL(true);
	}
	if (!raise)
		PG_RETURN_BOOL(false);

	/* An organization is asked for as itself: "read:orgs/<id>". */
	if (request.type == RESOURCE_ORGS && influx_id != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("%s:orgs/%s is unauthorized", action_name(request.action),
						text_to_cstring(influx_id))));
	format_influx_id(lookup_org_influx_id(request.org_id), org_digits);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("%s:orgs/%s/%s%s%s is unauthorized", action_name(request.action),
					org_digits, resource_type_name(request.type),
					influx_id != NULL ? "/" : "",
					influx_id != NULL ? text_to_cstring(influx_id) : "")));
	PG_RETURN_BOOL(false);
}

/*
 * _authorize_state(actor, token_id): the error unless the acting token
 * (NULL: an administrator) could have created the token as it now stands
 * in this transaction: every grant of its own held by the acting token,
 * and no later expiry than the acting token's.
 */
Datum
influx_tokens__authorize_state(PG_FUNCTION_ARGS)
{
	TokenRecord *target;

	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	require_argument(fcinfo, 1, "token id");
	target = lookup_token_by_id(PG_GETARG_INT64(1), false);
	if (target == NULL)
		PG_RETURN_VOID();
	switch (delegation_state_verdict(acting_token(PG_GETARG_INT64(0), true), target))
	{
		case DELEGATION_ALLOWED:
		case DELEGATION_NO_AUTHORIZATIONS:
			/* Its commit decides again, on the acting token as it is then. */
			commit_check_note_act(PG_GETARG_INT64(0), target->id);
			break;
		case DELEGATION_PARENT_UNUSABLE:
			raise_not_valid();
			break;
		case DELEGATION_GRANT_NOT_HELD:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("token " INT64_FORMAT " would hold a permission the acting token does not hold",
							target->id),
					 errhint("A token may give another token only what it holds itself.")));
			break;
		case DELEGATION_OUTLIVES_PARENT:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("token " INT64_FORMAT " would be valid longer than the acting token",
							target->id),
					 errhint("Give it an expiry no later than the acting token's.")));
			break;
	}
	PG_RETURN_VOID();
}

/*
 * _check_lineage_expiry(parent_id, expires_at): expires_at, or the error if
 * a token with this parent (NULL: none) would expire later than the parent
 * as a check sees it (its own expiry, or an ancestor's), or never while the
 * parent does.  A check bounds it anyway (lookup.c); this says so when the
 * expiry is set, for administrators too.
 */
Datum
influx_tokens__check_lineage_expiry(PG_FUNCTION_ARGS)
{
	TokenRecord *parent;

	if (PG_ARGISNULL(0))
	{
		if (PG_ARGISNULL(1))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));
	}
	parent = lookup_token_by_id(PG_GETARG_INT64(0), true);
	if (parent != NULL && parent->has_expiry &&
		(PG_ARGISNULL(1) || PG_GETARG_TIMESTAMPTZ(1) > parent->expires_at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the token would outlive its parent token"),
				 errdetail("Its parent token (or one of the parent's ancestors) expires at %s.",
						   timestamp_for_message(parent->expires_at)),
				 errhint("A token made by create_token_as expires no later than its parent.")));
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(1));
}
