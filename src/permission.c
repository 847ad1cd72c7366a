/*-------------------------------------------------------------------------
 *
 * permission.c
 *	  The permission language: "<action>:<resource>" strings, the resource
 *	  types InfluxDB 2 knows, and whether a token's grants cover a request.
 *
 * A permission is read or write on one of:
 *	  buckets				every bucket of the token's organization, also
 *							buckets created later;
 *	  buckets/<name>		one bucket, bound to the bucket itself (renaming it
 *							keeps the grant, dropping it removes the grant);
 *	  <type>				every resource of another type in the organization;
 *	  *						every resource of every type in the organization,
 *							also of types added in later versions (all-access);
 *	  **					every resource of every type in every organization
 *							(operator).
 * Write never implies read, and a grant on one type never covers another,
 * as in InfluxDB.  Wildcards are not stored as lists of types, so they do
 * not lose power when a type is added (InfluxDB issue #22401).
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
	"instance",
};

#define PERMISSION_FORM_HINT \
	"A permission is <action>:<resource> with action read or write, e.g. \"write:buckets/metrics\", \"read:buckets\" or \"read:orgs\"."

/*
 * text_equals compares a counted string with a C string.
 */
static inline bool
text_equals(const char *text, size_t length, const char *cstring)
{
	return strlen(cstring) == length && memcmp(text, cstring, length) == 0;
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
	Assert(type >= 0 && type < (int) lengthof(resource_type_names));
	return resource_type_names[type];
}

/*
 * parse_permission parses a permission string into *permission, or raises
 * an error that quotes the string and says what is wrong with it.  The
 * bucket name, if any, points into text.
 */
void
parse_permission(const char *text, size_t length, ParsedPermission *permission)
{
	const char *colon = memchr(text, ':', length);
	const char *resource;
	const char *slash;
	size_t		resource_length;
	size_t		type_length;

	if (colon == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid permission \"%s\"",
						value_for_message(text, length)),
				 errhint(PERMISSION_FORM_HINT)));

	if (!parse_action(text, colon - text, &permission->action))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid action in permission \"%s\"",
						value_for_message(text, length)),
				 errhint(PERMISSION_FORM_HINT)));

	resource = colon + 1;
	resource_length = length - (resource - text);
	slash = memchr(resource, '/', resource_length);
	type_length = slash ? (size_t) (slash - resource) : resource_length;

	permission->resource_type = resource_type_from_name(resource, type_length);
	permission->bucket_name = NULL;
	permission->bucket_name_length = 0;

	if (permission->resource_type == RESOURCE_TYPE_UNKNOWN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown resource type in permission \"%s\"",
						value_for_message(text, length)),
				 errhint("Resource types are InfluxDB 2's: buckets, orgs, authorizations, tasks, dashboards, labels, users and the like; * for all of them, ** for all of them in every organization.")));

	if (slash != NULL)
	{
		if (permission->resource_type != RESOURCE_BUCKETS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid permission \"%s\"",
							value_for_message(text, length)),
					 errdetail("Only buckets can be granted one by one; other resource types are granted as a whole.")));
		permission->bucket_name = slash + 1;
		permission->bucket_name_length = resource_length - type_length - 1;
		if (permission->bucket_name_length == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid permission \"%s\"",
							value_for_message(text, length)),
					 errdetail("The bucket name after \"buckets/\" is empty."),
					 errhint("Write \"%s:buckets\" for every bucket of the organization.",
							 action_name(permission->action))));
		check_name("bucket", permission->bucket_name,
				   permission->bucket_name_length);
	}
}

/*
 * grants_allow says whether any of a token's grants covers a request for
 * action on a resource type, or on one bucket when bucket_id is not 0, in
 * the token's own organization (same_org) or another one.
 * GRANT_ANY_BUCKET asks whether some grant of that action and type exists at
 * all, which lets a check skip resolving a bucket that nothing could cover.
 *
 * InfluxDB's rule: action and type must be equal; a grant on the whole type
 * covers every request of that type in the organization; a grant on one
 * bucket covers only that bucket, never the whole type.  Beyond it: "*"
 * covers every request in the organization, including one for "*"; "**"
 * covers every request anywhere.  Only "**" reaches another organization.
 */
bool
grants_allow(const TokenGrant *grants, int ngrants,
			 PermissionAction action, ResourceType type, int64 bucket_id,
			 bool same_org)
{
	int			i;

	for (i = 0; i < ngrants; i++)
	{
		const TokenGrant *grant = &grants[i];

		if (grant->action != action)
			continue;
		if (grant->resource_type == RESOURCE_EVERYWHERE)
			return true;
		if (!same_org)
			continue;
		if (grant->resource_type == RESOURCE_ALL)
		{
			if (type != RESOURCE_EVERYWHERE)
				return true;
			continue;
		}
		if (grant->resource_type != type)
			continue;
		if (grant->bucket_id == 0 || bucket_id == GRANT_ANY_BUCKET)
			return true;
		if (bucket_id != 0 && grant->bucket_id == bucket_id)
			return true;
	}
	return false;
}
