/*-------------------------------------------------------------------------
 *
 * sql_api.c
 *	  SQL-callable functions of influx_tokens.
 *
 * token_check and token_allows are the public checks; the cache's trigger
 * and statistics are here too.  The building blocks of the management
 * functions are in manage.c.  None of them ever puts a token into an error
 * message.
 *
 * Naming rule: the C function behind SQL function influx_tokens.NAME is
 * influx_tokens_NAME (so influx_tokens._org_id is influx_tokens__org_id);
 * overloads share one C function.  legacy.c keeps the symbols that the
 * install scripts of 1.0 and 1.1 name.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(influx_tokens_token_check);
PG_FUNCTION_INFO_V1(influx_tokens_token_allows);
PG_FUNCTION_INFO_V1(influx_tokens_permission_matches);
PG_FUNCTION_INFO_V1(influx_tokens__invalidate_cache);
PG_FUNCTION_INFO_V1(influx_tokens_shared_cache_stats);
PG_FUNCTION_INFO_V1(influx_tokens_cache_stats);

void		_PG_init(void);

/*
 * _PG_init registers what each subsystem needs once per backend.
 */
void
_PG_init(void)
{
	redaction_init();
	usage_init();
	shared_cache_init();
	cache_init();
	commit_check_init();
	identity_init();
	MarkGUCPrefixReserved("influx_tokens");
}

/*
 * action_argument returns the action argument ("read" or "write") of a
 * check; anything else, NULL included, is an error even when the check
 * would be false anyway: it is a caller's bug, not a denial.
 */
PermissionAction
action_argument(FunctionCallInfo fcinfo, int argno)
{
	text	   *action_text;

	require_argument(fcinfo, argno, "action");
	action_text = PG_GETARG_TEXT_PP(argno);
	return action_from_text(VARDATA_ANY(action_text), VARSIZE_ANY_EXHDR(action_text));
}

/*
 * token_check(token, action, bucket) and token_check(token, action, org,
 * bucket): may the token perform action ("read" or "write") on the named
 * bucket of its own organization, or of the named one (which only "**"
 * and grants without an organization reach unless it is the token's own)?
 * Both SQL overloads call this function; the argument count tells them
 * apart.  Never NULL.
 */
Datum
influx_tokens_token_check(PG_FUNCTION_ARGS)
{
	PermissionAction action = action_argument(fcinfo, 1);
	int			org_argno = PG_NARGS() == 4 ? 2 : -1;
	int			bucket_argno = PG_NARGS() - 1;
	text	   *token;
	text	   *org = NULL;
	text	   *bucket;
	ParsedPermission question;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(bucket_argno) ||
		(org_argno >= 0 && PG_ARGISNULL(org_argno)))
		PG_RETURN_BOOL(false);
	token = PG_GETARG_TEXT_PP(0);
	bucket = PG_GETARG_TEXT_PP(bucket_argno);
	if (org_argno >= 0)
		org = PG_GETARG_TEXT_PP(org_argno);

	question = bucket_question(action, VARDATA_ANY(bucket), VARSIZE_ANY_EXHDR(bucket));
	PG_RETURN_BOOL(token_permits(fcinfo->flinfo, VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), &question,
								 org ? VARDATA_ANY(org) : NULL, org ? VARSIZE_ANY_EXHDR(org) : 0));
}

/*
 * token_allows(token, permission): does the token hold the permission given
 * as a permission string, e.g. 'read:orgs' or 'write:buckets/metrics'?
 * Never NULL; a malformed permission string is an error.
 */
Datum
influx_tokens_token_allows(PG_FUNCTION_ARGS)
{
	text	   *permission_text;
	text	   *token;
	ParsedPermission permission;

	require_argument(fcinfo, 1, "permission");
	permission_text = PG_GETARG_TEXT_PP(1);
	parse_permission(VARDATA_ANY(permission_text),
					 VARSIZE_ANY_EXHDR(permission_text), false, &permission);

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	token = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(token_permits(fcinfo->flinfo, VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), &permission,
								 NULL, 0));
}

/*
 * matches_org is the organization key permission_matches gives a parsed
 * permission: 0 for none, 1 and 2 for the InfluxDB IDs named (in the
 * order met; the same ID the same key), 3 for our spelling's "the token's
 * organization", which both strings share.  Keys, not the IDs themselves:
 * every 64-bit value is some InfluxDB ID, so no value could stand for
 * "ours".
 */
static int64
matches_org(const ParsedPermission *permission, uint64 *named, int *nnamed)
{
	int			i;

	if (permission->scope == SCOPE_NO_ORG)
		return 0;
	if (permission->scope == SCOPE_TOKEN_ORG)
		return 3;
	for (i = 0; i < *nnamed; i++)
	{
		if (named[i] == permission->org_influx_id)
			return i + 1;
	}
	named[(*nnamed)++] = permission->org_influx_id;
	return *nnamed;
}

/*
 * permission_matches(granted, requested): does a grant cover a request, by
 * the checks' rule (Permission.Matches, permission.c), reading no table?
 * Both are permission strings with every resource named by InfluxDB ID
 * (buckets too); the forms without "orgs/<org>/" or "/" are in one
 * organization shared by both.  For trying the rule, and for tests ported
 * from InfluxDB's.  Never NULL for two permissions.
 */
Datum
influx_tokens_permission_matches(PG_FUNCTION_ARGS)
{
	text	   *granted_text;
	text	   *requested_text;
	ParsedPermission granted;
	ParsedPermission requested;
	TokenGrant	grant;
	ResourceRequest request;
	uint64		named[2];
	int			nnamed = 0;
	int64		grant_org;

	require_argument(fcinfo, 0, "granted permission");
	require_argument(fcinfo, 1, "requested permission");
	granted_text = PG_GETARG_TEXT_PP(0);
	requested_text = PG_GETARG_TEXT_PP(1);
	parse_permission(VARDATA_ANY(granted_text), VARSIZE_ANY_EXHDR(granted_text), true, &granted);
	parse_permission(VARDATA_ANY(requested_text), VARSIZE_ANY_EXHDR(requested_text), true,
					 &requested);

	grant.action = (uint8) granted.action;
	grant.resource_type = (int16) granted.resource_type;
	grant.any_org = granted.scope == SCOPE_NO_ORG;
	grant.resource_id = (int64) granted.influx_id;
	grant_org = matches_org(&granted, named, &nnamed);

	request.action = requested.action;
	request.type = requested.resource_type;
	request.org_id = matches_org(&requested, named, &nnamed);
	request.id = (int64) requested.influx_id;
	request.any_id = false;
	PG_RETURN_BOOL(grants_allow(&grant, 1, grant_org, &request));
}

/*
 * _invalidate_cache(): trigger on the tables checks read; see cache.c for
 * why this keeps every backend's cache correct.  Row by row on tokens and
 * permissions, it names the tokens whose record changed (none when only a
 * description or another column checks never read changed); for a whole
 * statement there, every token; on the other tables, it invalidates
 * coarsely.  An INSERT
 * invalidates nothing that is cached: caches hold only rows that exist (see
 * cache_note_table_insert).
 */
Datum
influx_tokens__invalidate_cache(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	Oid			relid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_invalidate_cache() must be called as a trigger")));
	rel = trigdata->tg_relation;
	relid = RelationGetRelid(rel);

	if (TRIGGER_FIRED_BEFORE(trigdata->tg_event) || TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		/*
		 * Before any change (a check in the same statement, in RETURNING or
		 * a CTE, would read the uncommitted rows before the AFTER triggers
		 * run), and for an INSERT: this transaction may now read rows no
		 * other can, which it must neither share nor keep if it aborts.
		 */
		cache_note_table_insert();
	}
	else if (!lookup_is_token_relation(relid))
	{
		cache_note_table_change(relid);
		commit_check_note_change();
	}
	else if (TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
	{
		uint8		digests[LOOKUP_MAX_CHANGED_DIGESTS][TOKEN_DIGEST_LENGTH];
		int64		lineage_ids[2];
		int			nlineage;
		int			count;

		count = lookup_changed_digests(rel, trigdata->tg_trigtuple,
									   TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
									   trigdata->tg_newtuple : NULL,
									   digests, lineage_ids, &nlineage);
		if (count > 0)
		{
			cache_note_token_change(relid, digests, count);
			commit_check_note_change();
		}
		if (nlineage > 0)
		{
			cache_note_descendants_changed(relid, lineage_ids, nlineage);
			commit_check_note_change();
		}
	}
	else
	{
		/*
		 * A TRUNCATE, or an UPDATE or DELETE seen by the statement-level
		 * trigger of a schema older than 1.2 (served by this library until
		 * ALTER EXTENSION UPDATE): which tokens changed is not known.
		 */
		cache_note_every_token_changed(relid);
		commit_check_note_change();
	}
	return PointerGetDatum(NULL);
}

/*
 * cache_stats(): this backend's cache, for administrators and benchmarks.
 */
Datum
influx_tokens_cache_stats(PG_FUNCTION_ARGS)
{
	CacheStats	stats = cache_get_stats();
	TupleDesc	desc;
	Datum		values[8];
	bool		nulls[8] = {false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	values[0] = Int32GetDatum(stats.capacity);
	values[1] = Int64GetDatum(stats.tokens);
	values[2] = Int64GetDatum(stats.buckets);
	values[3] = Int64GetDatum(stats.memory_bytes);
	values[4] = Int64GetDatum(stats.hits);
	values[5] = Int64GetDatum(stats.misses);
	values[6] = Int64GetDatum(stats.evictions);
	values[7] = Int64GetDatum(stats.invalidations);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * shared_cache_stats(): the token cache all backends share, for
 * administrators and benchmarks; no row when the library is not preloaded.
 */
Datum
influx_tokens_shared_cache_stats(PG_FUNCTION_ARGS)
{
	SharedCacheStats stats;
	TupleDesc	desc;
	Datum		values[12];
	bool		nulls[12] = {false};

	if (!shared_cache_available())
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	stats = shared_cache_get_stats();

	values[0] = Int32GetDatum(stats.capacity);
	values[1] = Int64GetDatum(stats.tokens);
	values[2] = Int32GetDatum(stats.max_grants);
	values[3] = Int64GetDatum(stats.memory_bytes);
	values[4] = Int64GetDatum(stats.bytes_per_token);
	values[5] = Int64GetDatum(stats.hits);
	values[6] = Int64GetDatum(stats.misses);
	values[7] = Int64GetDatum(stats.stores);
	values[8] = Int64GetDatum(stats.evictions);
	values[9] = Int64GetDatum(stats.removals);
	values[10] = Int64GetDatum(stats.flushes);
	values[11] = Int64GetDatum(stats.changes);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
