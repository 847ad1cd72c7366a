/*-------------------------------------------------------------------------
 *
 * delegation.c
 *	  The no-escalation rule of a token creating a token (create_token_as).
 *
 * A parent may create a child when it is usable now (check.c's rule),
 * holds write:authorizations, holds every grant the child gets (each grant
 * as the request it stands for, decided by grants_allow, the checks' own
 * rule, on bucket ids, so a name resolved once cannot mean another bucket
 * by the time it is granted: a grant without an organization needs one
 * without an organization or "**"), and the child
 * expires no later than the parent's secret stays valid: the parent's
 * expiry, or the end of the grace period of a secret a rotation replaced
 * (lookup.c caps a record found by such a secret).  InfluxDB has the first
 * three; the last keeps a child from outliving the secret that minted it.
 *
 * The rule is decided when the child is created (manage.c) and again when
 * the creating transaction commits (commit_check.c): one function, so the
 * two can never disagree.  After that, the rule on grants and the bound on
 * status and expiry keep applying at every check (lookup.c's lineage).  It
 * reads nothing; callers look the parent up.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

/*
 * delegation_grants_verdict decides whether parent (NULL: no token has the
 * secret) may create a child with the grants (ngrants of them; none when
 * only the parent itself is in question), leaving the child's expiry out.
 * On DELEGATION_GRANT_NOT_HELD, *refused_grant is the index of the first
 * grant the parent does not hold.
 */
DelegationVerdict
delegation_grants_verdict(const TokenRecord *parent, const TokenGrant *grants, int ngrants,
						  int *refused_grant)
{
	ResourceRequest authorizations = {PERMISSION_WRITE, RESOURCE_AUTHORIZATIONS, 0, 0, false};
	int			i;

	if (parent == NULL || !token_is_usable(parent))
		return DELEGATION_PARENT_UNUSABLE;
	authorizations.org_id = parent->org_id;
	if (!grants_allow(parent->grants, parent->ngrants, parent->org_id, &authorizations))
		return DELEGATION_NO_AUTHORIZATIONS;
	for (i = 0; i < ngrants; i++)
	{
		if (!grant_is_held(parent->grants, parent->ngrants, parent->org_id, &grants[i], parent->org_id))
		{
			if (refused_grant != NULL)
				*refused_grant = i;
			return DELEGATION_GRANT_NOT_HELD;
		}
	}
	return DELEGATION_ALLOWED;
}

/*
 * delegation_verdict decides the same and also the child's expiry
 * (has_expiry false: never), which must not be later than the parent's
 * secret stays valid.
 */
DelegationVerdict
delegation_verdict(const TokenRecord *parent, const TokenGrant *grants, int ngrants,
				   bool has_expiry, TimestampTz expires_at, int *refused_grant)
{
	DelegationVerdict verdict = delegation_grants_verdict(parent, grants, ngrants, refused_grant);

	if (verdict == DELEGATION_ALLOWED && parent->has_expiry &&
		(!has_expiry || expires_at > parent->expires_at))
		return DELEGATION_OUTLIVES_PARENT;
	return verdict;
}

/*
 * delegation_state_verdict decides whether holder could have created target
 * as it stands (its own grants, in its organization, and its own expiry),
 * leaving write:authorizations out (the caller asks for it on the target):
 * what a token may leave another token with when it reactivates, rotates,
 * or sets the permissions or expiry of it.
 */
DelegationVerdict
delegation_state_verdict(const TokenRecord *holder, const TokenRecord *target)
{
	if (holder == NULL || !token_is_usable(holder))
		return DELEGATION_PARENT_UNUSABLE;
	for (int i = 0; i < target->ngrants; i++)
		if (!grant_is_held(holder->grants, holder->ngrants, holder->org_id, &target->grants[i],
						   target->org_id))
			return DELEGATION_GRANT_NOT_HELD;
	if (holder->has_expiry &&
		(!target->has_expiry || target->expires_at > holder->expires_at))
		return DELEGATION_OUTLIVES_PARENT;
	return DELEGATION_ALLOWED;
}

/*
 * delegation_refusal_reason words a refusal for an error detail, without
 * naming any value.
 */
const char *
delegation_refusal_reason(DelegationVerdict verdict)
{
	switch (verdict)
	{
		case DELEGATION_ALLOWED:
			break;
		case DELEGATION_PARENT_UNUSABLE:
			return "The parent token is unknown, revoked or expired (a rotated-out secret counts only during its grace period).";
		case DELEGATION_NO_AUTHORIZATIONS:
			return "The parent token does not hold write:authorizations.";
		case DELEGATION_GRANT_NOT_HELD:
			return "The parent token does not hold every permission of the new token.";
		case DELEGATION_OUTLIVES_PARENT:
			return "The new token would expire later than the parent token's secret stays valid.";
	}
	return "The parent token may create it.";
}
