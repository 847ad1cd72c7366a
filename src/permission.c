/*-------------------------------------------------------------------------
 *
 * permission.c
 *	  The permission language: "<action>:<resource>" strings, the resource
 *	  types InfluxDB 2 knows, and whether a token's grants cover a request.
 *
 * A permission is "<action>:<resource>", action read or write, and the
 * resource one of (InfluxDB's model, {type, orgID?, id?}, in two spellings):
 *	  <type>				every resource of the type in the token's
 *							organization (buckets: also those created later);
 *	  buckets/<name>		one bucket, bound to the bucket itself (renaming it
 *							keeps the grant, dropping it removes the grant);
 *	  <type>/<id>			one resource of another type, by InfluxDB ID;
 *	  /<type>				every resource of the type in every organization
 *							(InfluxDB's resource without an orgID);
 *	  /<type>/<id>			one resource by InfluxDB ID, without an orgID;
 *	  orgs/<org>/<type>[/<id>]
 *							InfluxDB's own form with the organization's ID,
 *							which must be the token's organization;
 *	  *						every resource of every type in the organization,
 *							also of types added in later versions (all-access);
 *	  **					every resource of every type in every organization
 *							(operator), "instance" excepted.
 * The slash forms are what influx CLI prints (api.Permission.String), so an
 * export's strings are permissions as they stand.  Write never implies
 * read, and a grant on one type never covers another, as in InfluxDB.
 * Wildcards are not stored as lists of types, so they do not lose power
 * when a type is added (InfluxDB issue #22401).  "instance" (InfluxDB: every
 * resource of the action) parses, so that checks can ask for it and
 * permission_matches can show InfluxDB's rule, but no token is ever granted
 * it (manage.c refuses it, as InfluxDB's API does).
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

/*
 * InfluxDB 2's resource types.  Buckets come first (RESOURCE_BUCKETS == 0),
 * authorizations second (RESOURCE_AUTHORIZATIONS == 1);
 * the position of a name is its ResourceType, which never leaves this
 * backend (tables store the name).
 */
static const char *const resource_type_names[] = {
	"buckets",
	"authorizations",
	"dashboards",
	"orgs",
	"sources",
	"tasks",
	"telegrafs",
	"users",
	"variables",
	"scrapers",
	"secrets",
	"labels",
	"views",
	"documents",
	"notificationRules",
	"notificationEndpoints",
	"checks",
	"dbrp",
	"notebooks",
	"annotations",
	"remotes",
	"replications",
};

#define PERMISSION_FORM_HINT \
	"A permission is <action>:<resource> with action read or write, e.g. \"write:buckets/metrics\", \"read:buckets\", \"read:orgs\", \"read:/buckets\" or \"write:orgs/<org ID>/buckets/<bucket ID>\"."

#define INFLUX_ID_HINT "InfluxDB IDs are 16 lower-case hexadecimal digits, not all zero."

/*
 * text_equals compares a counted string with a C string.
 */
static inline bool
text_equals(const char *text, size_t length, const char *cstring)
{
	return strlen(cstring) == length && memcmp(text, cstring, length) == 0;
}

/*
 * parse_influx_id reads an InfluxDB ID: exactly 16 lower-case hexadecimal
 * digits, not all zero (influxdb's ID.Decode and ID.Valid).  False for
 * anything else.
 */
bool
parse_influx_id(const char *text, size_t length, uint64 *id)
{
	uint64		value = 0;
	size_t		i;

	if (length != INFLUX_ID_LENGTH)
		return false;
	for (i = 0; i < length; i++)
	{
		char		c = text[i];

		if (c >= '0' && c <= '9')
			value = (value << 4) | (uint64) (c - '0');
		else if (c >= 'a' && c <= 'f')
			value = (value << 4) | (uint64) (c - 'a' + 10);
		else
			return false;
	}
	*id = value;
	return value != 0;
}

/*
 * format_influx_id writes an InfluxDB ID as its 16 digits and a NUL.
 */
void
format_influx_id(uint64 id, char *out)
{
	static const char digits[] = "0123456789abcdef";
	int			i;

	for (i = INFLUX_ID_LENGTH - 1; i >= 0; i--)
	{
		out[i] = digits[id & 0xf];
		id >>= 4;
	}
	out[INFLUX_ID_LENGTH] = '\0';
}

/*
 * influx_id_generate returns a new random InfluxDB ID (never 0), as
 * InfluxDB gives one to every organization and bucket, from
 * pg_strong_random.
 */
uint64
influx_id_generate(void)
{
	uint64		id = 0;

	while (id == 0)
	{
		if (!pg_strong_random(&id, sizeof(id)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random bytes for an InfluxDB ID")));
	}
	return id;
}

/*
 * parse_action recognizes "read" and "write".
 */
bool
parse_action(const char *text, size_t length, PermissionAction *action)
{
	if (text_equals(text, length, "read"))
		*action = PERMISSION_READ;
	else if (text_equals(text, length, "write"))
		*action = PERMISSION_WRITE;
	else
		return false;
	return true;
}

/*
 * action_from_text is parse_action for a caller's argument: anything but
 * "read" or "write" is an error.
 */
PermissionAction
action_from_text(const char *text, size_t length)
{
	PermissionAction action;

	if (!parse_action(text, length, &action))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid action \"%s\"", value_for_message(text, length)),
				 errhint("The action is \"read\" or \"write\".")));
	return action;
}

/*
 * resource_type_from_name returns the ResourceType of a name, or
 * RESOURCE_TYPE_UNKNOWN.
 */
ResourceType
resource_type_from_name(const char *name, size_t length)
{
	int			i;

	if (text_equals(name, length, "*"))
		return RESOURCE_ALL;
	if (text_equals(name, length, "**"))
		return RESOURCE_EVERYWHERE;
	if (text_equals(name, length, "instance"))
		return RESOURCE_INSTANCE;

	for (i = 0; i < (int) lengthof(resource_type_names); i++)
	{
		if (text_equals(name, length, resource_type_names[i]))
			return i;
	}
	return RESOURCE_TYPE_UNKNOWN;
}

/*
 * action_name is the inverse of parse_action.
 */
const char *
action_name(PermissionAction action)
{
	return action == PERMISSION_READ ? "read" : "write";
}

/*
 * resource_type_name is the inverse of resource_type_from_name.
 */
const char *
resource_type_name(ResourceType type)
{
	if (type == RESOURCE_ALL)
		return "*";
	if (type == RESOURCE_EVERYWHERE)
		return "**";
	if (type == RESOURCE_INSTANCE)
		return "instance";
	Assert(type >= 0 && type < (int) lengthof(resource_type_names));
	return resource_type_names[type];
}

/*
 * invalid_permission raises the error about a permission string; detail
 * (may be NULL) says what is wrong.
 */
static void
invalid_permission(const char *text, size_t length, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid permission \"%s\"", value_for_message(text, length)),
			 detail ? errdetail_internal("%s", detail) : 0,
			 errhint(PERMISSION_FORM_HINT)));
}

/*
 * permission_id reads the InfluxDB ID of a permission, or raises the error.
 */
static uint64
permission_id(const char *text, size_t length, const char *id, size_t id_length,
			  const char *what)
{
	uint64		value;

	if (!parse_influx_id(id, id_length, &value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s ID in permission \"%s\"", what,
						value_for_message(text, length)),
				 errhint(INFLUX_ID_HINT)));
	return value;
}

/*
 * parse_permission parses a permission string into *permission, or raises
 * an error that quotes the string and says what is wrong with it.  The
 * bucket name, if any, points into text.  With ids_only, a bucket is named
 * by its InfluxDB ID in every form (permission_matches, which reads no
 * table).
 */
void
parse_permission(const char *text, size_t length, bool ids_only,
				 ParsedPermission *permission)
{
	const char *colon = memchr(text, ':', length);
	const char *resource;
	const char *end = text + length;
	const char *type_start;
	const char *slash;
	size_t		type_length;

	memset(permission, 0, sizeof(*permission));
	if (colon == NULL)
		invalid_permission(text, length, NULL);
	if (!parse_action(text, colon - text, &permission->action))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid action in permission \"%s\"",
						value_for_message(text, length)),
				 errhint(PERMISSION_FORM_HINT)));

	/* Which spelling: "/<type>", "orgs/<org>/<type>" or ours. */
	resource = colon + 1;
	permission->scope = SCOPE_TOKEN_ORG;
	type_start = resource;
	if (resource < end && *resource == '/')
	{
		permission->scope = SCOPE_NO_ORG;
		type_start = resource + 1;
	}
	else if ((size_t) (end - resource) > 5 && memcmp(resource, "orgs/", 5) == 0)
	{
		const char *org_start = resource + 5;
		const char *org_end = memchr(org_start, '/', end - org_start);

		/* "orgs/<id>" alone is the organization by ID, in our spelling. */
		if (org_end != NULL)
		{
			permission->scope = SCOPE_INFLUX_ORG;
			permission->org_influx_id = permission_id(text, length, org_start,
													  org_end - org_start, "organization");
			type_start = org_end + 1;
		}
	}

	slash = memchr(type_start, '/', end - type_start);
	type_length = slash ? (size_t) (slash - type_start) : (size_t) (end - type_start);
	permission->resource_type = resource_type_from_name(type_start, type_length);
	if (permission->resource_type == RESOURCE_TYPE_UNKNOWN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown resource type in permission \"%s\"",
						value_for_message(text, length)),
				 errhint("Resource types are InfluxDB 2's: buckets, orgs, authorizations, tasks, dashboards, labels, users and the like; * for all of them, ** for all of them in every organization.")));

	if (permission->resource_type == RESOURCE_ALL && permission->scope == SCOPE_NO_ORG)
		invalid_permission(text, length,
						   "\"*\" is every type in the token's organization; \"**\" is every type in every organization.");
	if (permission->resource_type == RESOURCE_EVERYWHERE && permission->scope == SCOPE_INFLUX_ORG)
		invalid_permission(text, length,
						   "\"**\" is every type in every organization, not in one.");

	if (slash != NULL)
	{
		const char *ref = slash + 1;
		size_t		ref_length = end - ref;

		if (permission->resource_type < 0)
			invalid_permission(text, length,
							   "\"*\", \"**\" and \"instance\" cannot be granted one resource at a time.");
		if (ref_length == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid permission \"%s\"",
							value_for_message(text, length)),
					 errdetail("The resource after \"%s/\" is empty.",
							   resource_type_name(permission->resource_type)),
					 errhint("Write \"%s:%s\" for every one of the organization.",
							 action_name(permission->action),
							 resource_type_name(permission->resource_type))));
		if (permission->resource_type == RESOURCE_BUCKETS &&
			permission->scope == SCOPE_TOKEN_ORG && !ids_only)
		{
			/* Our spelling names a bucket; a name may contain "/". */
			check_name("bucket", ref, ref_length);
			permission->bucket_name = ref;
			permission->bucket_name_length = ref_length;
		}
		else
			permission->influx_id =
				permission_id(text, length, ref, ref_length,
							  permission->resource_type == RESOURCE_BUCKETS ? "bucket" :
							  permission->resource_type == RESOURCE_ORGS ? "organization" :
							  "resource");
	}
}

/*
 * grant_covers says whether one grant covers a request.  grant_org_id is
 * the organization of the grant's holder (the token's; for a grant that
 * names none, InfluxDB's "without an orgID", it matters only to "*").
 *
 * InfluxDB's Permission.Matches, in order: actions must be equal (write
 * never implies read); "instance" covers every resource of the action;
 * otherwise types must be equal; a grant on one resource (an ID) covers
 * exactly the requests for that ID (for a type other than buckets, if the
 * grant names an organization, only in that organization: see below); a
 * grant on a type without an organization covers every request of the
 * type; a grant on a type in an organization covers the requests in that
 * organization, never one that names none.  Beyond InfluxDB: "*" covers every request in
 * the holder's organization, "*" itself included; "**" covers every request
 * anywhere but "instance".  A request with any_id asks whether some grant
 * could cover a request for one resource of the type: a check then resolves a
 * bucket only when something could cover it.
 */
static bool
grant_covers(const TokenGrant *grant, int64 grant_org_id, const ResourceRequest *request)
{
	if (grant->action != request->action)
		return false;
	switch (grant->resource_type)
	{
		case RESOURCE_INSTANCE:
			return true;
		case RESOURCE_EVERYWHERE:
			return request->type != RESOURCE_INSTANCE;
		case RESOURCE_ALL:
			return request->org_id == grant_org_id &&
				request->type != RESOURCE_EVERYWHERE && request->type != RESOURCE_INSTANCE;
		default:
			break;
	}
	if (grant->resource_type != request->type)
		return false;
	if (grant->resource_id != 0)
	{
		if (!request->any_id && grant->resource_id != request->id)
			return false;

		/*
		 * A grant on a bucket or an organization is on one whose
		 * organization manage.c checked: its ID says everything, as in
		 * InfluxDB.  Of any other resource only the ID is known, so a grant
		 * naming an organization covers it there only, where InfluxDB's
		 * matchesV1 covers it in any organization: a token could otherwise
		 * delegate "X in my organization" for an X of another one, and
		 * reach it.
		 */
		if (grant->any_org || grant->resource_type == RESOURCE_BUCKETS ||
			grant->resource_type == RESOURCE_ORGS || request->any_id)
			return true;
		return request->org_id != 0 && request->org_id == grant_org_id;
	}
	if (grant->any_org)
		return true;
	return request->org_id != 0 && request->org_id == grant_org_id;
}

/*
 * grants_allow says whether any of a token's grants covers the request;
 * grant_org_id is the token's organization.
 */
bool
grants_allow(const TokenGrant *grants, int ngrants, int64 grant_org_id,
			 const ResourceRequest *request)
{
	int			i;

	for (i = 0; i < ngrants; i++)
	{
		if (grant_covers(&grants[i], grant_org_id, request))
			return true;
	}
	return false;
}

/*
 * grant_as_request is the request a grant stands for: what a token must
 * hold to give the grant to another (delegation), in the organization
 * org_id of the token that would hold it.
 */
ResourceRequest
grant_as_request(const TokenGrant *grant, int64 org_id)
{
	ResourceRequest request;

	request.action = grant->action;
	request.type = grant->resource_type;
	request.org_id = grant->any_org ? 0 : org_id;
	request.id = grant->resource_id;
	request.any_id = false;
	return request;
}

/*
 * grant_is_held says whether the grants of a token in organization
 * held_org_id hold a grant of a token in organization grant_org_id, in the
 * sense that the first may give it to the second: the grant, as the request
 * it stands for there, is covered, and it is of a type anyone may hold
 * ("instance" is never granted).  The rule of delegation (delegation.c),
 * which checks apply to every grant of a token with a parent (lookup.c).
 */
bool
grant_is_held(const TokenGrant *held, int nheld, int64 held_org_id,
			  const TokenGrant *grant, int64 grant_org_id)
{
	ResourceRequest request = grant_as_request(grant, grant_org_id);

	return grant->resource_type != RESOURCE_TYPE_UNKNOWN &&
		grant->resource_type != RESOURCE_INSTANCE &&
		grants_allow(held, nheld, held_org_id, &request);
}
