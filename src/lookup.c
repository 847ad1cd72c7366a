/*-------------------------------------------------------------------------
 *
 * lookup.c
 *	  Reading tokens, their grants and buckets straight from the extension's
 *	  tables through their indexes: no SPI, no planning.
 *
 * Every lookup reads with a fresh "latest" snapshot: the newest committed
 * state plus this session's own changes, whatever the isolation level, so
 * a revoke committed anywhere is in force at once (see check.c).
 *
 * Relations, and the columns read, are found by name in schema
 * influx_tokens once, and found again after any relcache invalidation of
 * one of them (the extension was dropped, created again or updated; cache.c
 * owns the callback).  So the tables' column order does not matter here.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation_d.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#define EXTENSION_SCHEMA "influx_tokens"

/* The columns lookups read, by table; InvalidAttrNumber where a version lacks one. */
typedef struct TokenColumns
{
	AttrNumber	id;
	AttrNumber	org_id;
	AttrNumber	digest;
	AttrNumber	status;
	AttrNumber	expires_at;
	AttrNumber	previous_digest;	/* since 1.1 */
	AttrNumber	previous_valid_until;	/* since 1.1 */
	AttrNumber	parent_id;		/* since 1.1 */
} TokenColumns;

/* Columns of a table whose rows are found by name (orgs, buckets). */
typedef struct NameColumns
{
	AttrNumber	id;
	AttrNumber	scope;			/* buckets.org_id; InvalidAttrNumber for orgs */
	AttrNumber	name;
	AttrNumber	influx_id;		/* since 1.1 */
} NameColumns;

typedef struct GrantColumns
{
	AttrNumber	token_id;
	AttrNumber	action;
	AttrNumber	resource_type;
	AttrNumber	bucket_id;
	AttrNumber	resource_id;	/* since 1.2 */
	AttrNumber	any_org;		/* since 1.2 */
} GrantColumns;

typedef struct ExtensionRelations
{
	bool		valid;
	Oid			orgs;
	Oid			orgs_id_index;
	Oid			orgs_name_index;
	Oid			tokens;
	Oid			tokens_id_index;
	Oid			tokens_digest_index;
	Oid			tokens_previous_digest_index;	/* InvalidOid before 1.1 */
	Oid			tokens_parent_id_index; /* InvalidOid before 1.1 */
	Oid			buckets;
	Oid			buckets_name_index;
	Oid			orgs_influx_id_index;	/* InvalidOid before 1.1 */
	Oid			buckets_influx_id_index;	/* InvalidOid before 1.1 */
	Oid			permissions;
	Oid			permissions_token_index;
	TokenColumns token_columns;
	NameColumns org_columns;
	NameColumns bucket_columns;
	GrantColumns grant_columns;
} ExtensionRelations;

static ExtensionRelations relations = {false};

/*
 * relation_in_schema returns the OID of a relation of the extension, or
 * raises an error if the extension's objects are not there.
 */
static Oid
relation_in_schema(Oid namespace_oid, const char *name)
{
	Oid			relid = get_relname_relid(name, namespace_oid);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist",
						EXTENSION_SCHEMA, name),
				 errhint("Is the extension influx_tokens installed in this database?")));
	return relid;
}

/*
 * column_of returns the number of a column of one of the extension's tables,
 * or raises an error if it is missing; InvalidAttrNumber for an optional
 * column that this version of the schema does not have.
 */
static AttrNumber
column_of(Oid relid, const char *name, bool optional)
{
	AttrNumber	attnum = get_attnum(relid, name);

	if (attnum == InvalidAttrNumber && !optional)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s.%s\" does not exist",
						name, EXTENSION_SCHEMA, get_rel_name(relid)),
				 errhint("Update the extension: ALTER EXTENSION influx_tokens UPDATE.")));
	return attnum;
}

/*
 * resolve_columns finds the columns lookups read, by name.
 */
static void
resolve_columns(void)
{
	TokenColumns *t = &relations.token_columns;
	GrantColumns *g = &relations.grant_columns;

	t->id = column_of(relations.tokens, "id", false);
	t->org_id = column_of(relations.tokens, "org_id", false);
	t->digest = column_of(relations.tokens, "digest", false);
	t->status = column_of(relations.tokens, "status", false);
	t->expires_at = column_of(relations.tokens, "expires_at", false);
	t->previous_digest = column_of(relations.tokens, "previous_digest", true);
	t->previous_valid_until = column_of(relations.tokens, "previous_valid_until", true);
	t->parent_id = column_of(relations.tokens, "parent_id", true);

	relations.org_columns.id = column_of(relations.orgs, "id", false);
	relations.org_columns.scope = InvalidAttrNumber;
	relations.org_columns.name = column_of(relations.orgs, "name", false);
	relations.org_columns.influx_id = column_of(relations.orgs, "influx_id", true);

	relations.bucket_columns.id = column_of(relations.buckets, "id", false);
	relations.bucket_columns.scope = column_of(relations.buckets, "org_id", false);
	relations.bucket_columns.name = column_of(relations.buckets, "name", false);
	relations.bucket_columns.influx_id = column_of(relations.buckets, "influx_id", true);

	g->token_id = column_of(relations.permissions, "token_id", false);
	g->action = column_of(relations.permissions, "action", false);
	g->resource_type = column_of(relations.permissions, "resource_type", false);
	g->bucket_id = column_of(relations.permissions, "bucket_id", false);
	g->resource_id = column_of(relations.permissions, "resource_id", true);
	g->any_org = column_of(relations.permissions, "any_org", true);
}

/*
 * resolve_relations finds the extension's relations unless already known.
 */
static void
resolve_relations(void)
{
	Oid			namespace_oid;

	if (relations.valid)
		return;

	namespace_oid = get_namespace_oid(EXTENSION_SCHEMA, true);
	if (!OidIsValid(namespace_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", EXTENSION_SCHEMA),
				 errhint("Is the extension influx_tokens installed in this database?")));

	relations.orgs = relation_in_schema(namespace_oid, "orgs");
	relations.orgs_id_index = relation_in_schema(namespace_oid, "orgs_pkey");
	relations.orgs_name_index = relation_in_schema(namespace_oid, "orgs_name_key");
	relations.tokens = relation_in_schema(namespace_oid, "tokens");
	relations.tokens_id_index = relation_in_schema(namespace_oid, "tokens_pkey");
	relations.tokens_digest_index =
		relation_in_schema(namespace_oid, "tokens_digest_key");
	/* The schema of 1.0 has no rotation: this library serves both. */
	relations.tokens_previous_digest_index =
		get_relname_relid("tokens_previous_digest_key", namespace_oid);
	relations.tokens_parent_id_index = get_relname_relid("tokens_parent_id_idx", namespace_oid);
	relations.buckets = relation_in_schema(namespace_oid, "buckets");
	relations.buckets_name_index =
		relation_in_schema(namespace_oid, "buckets_org_name_key");
	relations.orgs_influx_id_index = get_relname_relid("orgs_influx_id_key", namespace_oid);
	relations.buckets_influx_id_index = get_relname_relid("buckets_influx_id_key", namespace_oid);
	relations.permissions = relation_in_schema(namespace_oid, "permissions");
	relations.permissions_token_index =
		relation_in_schema(namespace_oid, "permissions_key");
	resolve_columns();
	relations.valid = true;
}

/*
 * lookup_is_extension_relation says whether relid is one of the tables
 * checks read (as last resolved).
 */
bool
lookup_is_extension_relation(Oid relid)
{
	return relid == relations.tokens || relid == relations.buckets ||
		relid == relations.permissions || relid == relations.orgs;
}

/*
 * lookup_is_token_relation says whether relid is one of the tables a
 * token's record is read from (tokens, permissions of schema
 * influx_tokens), by name: it never fails, even in the middle of an
 * update of the extension, when not every relation lookups read exists.
 */
bool
lookup_is_token_relation(Oid relid)
{
	char	   *name = get_rel_name(relid);
	char	   *namespace_name;
	bool		result;

	if (name == NULL || (strcmp(name, "tokens") != 0 && strcmp(name, "permissions") != 0))
		return false;
	namespace_name = get_namespace_name(get_rel_namespace(relid));
	result = namespace_name != NULL && strcmp(namespace_name, EXTENSION_SCHEMA) == 0;
	return result;
}

/*
 * lookup_was_token_relation is the same without resolving: as last
 * resolved (for the relcache callback, which must not read catalogs).
 */
bool
lookup_was_token_relation(Oid relid)
{
	return OidIsValid(relid) &&
		(relid == relations.tokens || relid == relations.permissions);
}

/*
 * lookup_tokens_relid returns the OID of the tokens table.
 */
Oid
lookup_tokens_relid(void)
{
	resolve_relations();
	return relations.tokens;
}

/*
 * lookup_forget_relations makes the next lookup find the relations again.
 */
void
lookup_forget_relations(void)
{
	relations.valid = false;
}

/*
 * latest_snapshot returns a registered snapshot of the newest committed
 * state plus everything this session has changed so far, including the
 * current command's changes (hence the command counter increment: a check
 * in the same statement as the create_token that made the token sees it).
 */
static Snapshot
latest_snapshot(void)
{
	CommandCounterIncrement();
	return RegisterSnapshot(GetLatestSnapshot());
}

/*
 * text_matches compares a text datum with a C string.
 */
static bool
text_matches(Datum value, const char *cstring)
{
	text	   *t = DatumGetTextPP(value);

	return VARSIZE_ANY_EXHDR(t) == strlen(cstring) &&
		memcmp(VARDATA_ANY(t), cstring, VARSIZE_ANY_EXHDR(t)) == 0;
}

/*
 * load_grants reads every grant of a token into a new array and stores the
 * count in *ngrants.  Grants whose action or type this version does not
 * know (written by a newer version) are skipped: unknown never allows.
 */
static TokenGrant *
load_grants(int64 token_id, Snapshot snapshot, int *ngrants)
{
	Relation	rel = table_open(relations.permissions, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	int			capacity = 4;
	TokenGrant *grants = palloc(capacity * sizeof(TokenGrant));
	const GrantColumns *columns = &relations.grant_columns;

	*ngrants = 0;
	ScanKeyInit(&key, columns->token_id, BTEqualStrategyNumber,
				F_INT8EQ, Int64GetDatum(token_id));
	scan = systable_beginscan(rel, relations.permissions_token_index, true,
							  snapshot, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		action = heap_getattr(tuple, columns->action, desc, &isnull);
		Datum		type = heap_getattr(tuple, columns->resource_type, desc, &isnull);
		Datum		bucket = heap_getattr(tuple, columns->bucket_id, desc, &isnull);
		bool		bucket_isnull = isnull;
		text	   *action_text = DatumGetTextPP(action);
		text	   *type_text = DatumGetTextPP(type);
		PermissionAction grant_action;
		ResourceType grant_type;
		TokenGrant	grant;

		if (!parse_action(VARDATA_ANY(action_text), VARSIZE_ANY_EXHDR(action_text),
						  &grant_action))
			continue;
		grant_type = resource_type_from_name(VARDATA_ANY(type_text),
											 VARSIZE_ANY_EXHDR(type_text));
		/* No function grants "instance"; a row from elsewhere never widens. */
		if (grant_type == RESOURCE_TYPE_UNKNOWN || grant_type == RESOURCE_INSTANCE)
			continue;
		grant.action = (uint8) grant_action;
		grant.resource_type = (int16) grant_type;
		grant.resource_id = bucket_isnull ? 0 : DatumGetInt64(bucket);
		grant.any_org = false;
		if (columns->resource_id != InvalidAttrNumber)
		{
			Datum		any_org = heap_getattr(tuple, columns->any_org, desc, &isnull);
			Datum		resource;

			grant.any_org = !isnull && DatumGetBool(any_org);
			resource = heap_getattr(tuple, columns->resource_id, desc, &isnull);
			if (!isnull)
			{
				text	   *id_text = DatumGetTextPP(resource);
				uint64		influx_id;

				/* The table's CHECK keeps it valid; anything else allows nothing. */
				if (!parse_influx_id(VARDATA_ANY(id_text), VARSIZE_ANY_EXHDR(id_text),
									 &influx_id))
					continue;
				grant.resource_id = (int64) influx_id;
			}
		}

		if (*ngrants == capacity)
		{
			capacity *= 2;
			grants = repalloc(grants, capacity * sizeof(TokenGrant));
		}
		grants[(*ngrants)++] = grant;
	}
	systable_endscan(scan);
	table_close(rel, NoLock);
	return grants;
}

/*
 * read_token_row fills the header of *record, and *parent_id (0: none), from
 * the tokens row that key finds through index; false if there is none.  For
 * a secret replaced by a
 * rotation (previous_secret), the token expires when the secret's grace
 * period ends, if not before.
 */
static bool
read_token_row(Relation rel, Oid index, ScanKey key, bool previous_secret,
			   Snapshot snapshot, TokenRecord *record, int64 *parent_id)
{
	const TokenColumns *columns = &relations.token_columns;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;

	scan = systable_beginscan(rel, index, true, snapshot, 1, key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		Datum		expires_at;

		found = true;
		record->id = DatumGetInt64(heap_getattr(tuple, columns->id, desc, &isnull));
		record->org_id = DatumGetInt64(heap_getattr(tuple, columns->org_id, desc, &isnull));
		record->active = text_matches(heap_getattr(tuple, columns->status, desc, &isnull),
									  "active");
		expires_at = heap_getattr(tuple, columns->expires_at, desc, &isnull);
		record->has_expiry = !isnull;
		record->expires_at = isnull ? 0 : DatumGetTimestampTz(expires_at);
		*parent_id = 0;
		if (columns->parent_id != InvalidAttrNumber)
		{
			Datum		parent = heap_getattr(tuple, columns->parent_id, desc, &isnull);

			if (!isnull)
				*parent_id = DatumGetInt64(parent);
		}

		if (previous_secret)
		{
			Datum		valid_until = heap_getattr(tuple, columns->previous_valid_until,
												   desc, &isnull);
			TimestampTz until = isnull ? DT_NOBEGIN : DatumGetTimestampTz(valid_until);

			if (!record->has_expiry || until < record->expires_at)
				record->expires_at = until;
			record->has_expiry = true;
		}
	}
	systable_endscan(scan);
	return found;
}

/*
 * Lineage.  A token made by create_token_as acts only within its parent, at
 * every check and not only when it was made: it is usable while every
 * ancestor exists and is active, it expires when the first of them does,
 * and of its grants only those its parent holds (as the parent's own record
 * says, bounded the same way) count, by delegation's rule (grant_is_held).  So revoking,
 * deleting, expiring or narrowing a parent stops or narrows its descendants
 * at their next check, and reactivating or widening it again gives them
 * back no more than they were granted.  The row trigger names the
 * descendants of a changed token, so that no cache keeps them
 * (lookup_descendant_digests).  A chain deeper than LINEAGE_MAX_DEPTH, or a
 * cycle written into the table by hand, is never usable.
 */
#define LINEAGE_MAX_DEPTH 64

static TokenRecord *complete_record(Relation rel, TokenRecord *header, int64 parent_id,
									Snapshot snapshot, int depth);

/*
 * ancestor_record returns the token with this id as a check would see it,
 * bounded by its own ancestors (unless not with_lineage: as stored); NULL
 * if it does not exist or the chain is too deep.
 */
static TokenRecord *
ancestor_record(Relation rel, int64 id, Snapshot snapshot, int depth, bool with_lineage)
{
	ScanKeyData key;
	TokenRecord header = {0};
	int64		parent_id;

	if (depth > LINEAGE_MAX_DEPTH)
		return NULL;
	ScanKeyInit(&key, relations.token_columns.id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(id));
	if (!read_token_row(rel, relations.tokens_id_index, &key, false, snapshot, &header,
						&parent_id))
		return NULL;
	return complete_record(rel, &header, with_lineage ? parent_id : 0, snapshot, depth);
}

/*
 * bound_by_parent narrows a record to what its parent's record (NULL: gone)
 * allows: status, expiry and grants.
 */
static void
bound_by_parent(TokenRecord *record, const TokenRecord *parent)
{
	int			kept = 0;

	if (parent == NULL || parent->org_id != record->org_id)
	{
		record->active = false;
		return;
	}
	record->active = record->active && parent->active;
	if (parent->has_expiry && (!record->has_expiry || parent->expires_at < record->expires_at))
	{
		record->has_expiry = true;
		record->expires_at = parent->expires_at;
	}
	for (int i = 0; i < record->ngrants; i++)
		if (grant_is_held(parent->grants, parent->ngrants, parent->org_id, &record->grants[i],
						  record->org_id))
			record->grants[kept++] = record->grants[i];
	record->ngrants = kept;
}

/*
 * complete_record returns a token's header with its grants, read with the
 * same snapshot as the header, in a single palloc'd chunk, bounded by its
 * lineage (depth: how many descendants asked for it).
 */
static TokenRecord *
complete_record(Relation rel, TokenRecord *header, int64 parent_id, Snapshot snapshot,
				int depth)
{
	TokenGrant *grants = load_grants(header->id, snapshot, &header->ngrants);
	TokenRecord *record = palloc(offsetof(TokenRecord, grants) +
								 header->ngrants * sizeof(TokenGrant));

	memcpy(record, header, offsetof(TokenRecord, grants));
	memcpy(record->grants, grants, header->ngrants * sizeof(TokenGrant));
	pfree(grants);
	if (parent_id != 0)
	{
		TokenRecord *parent = ancestor_record(rel, parent_id, snapshot, depth + 1, true);

		bound_by_parent(record, parent);
		if (parent != NULL)
			pfree(parent);
	}
	return record;
}

/*
 * read_token_by_digest fills the header of *record from the row of the
 * token whose current secret, or whose secret replaced by its last
 * rotation (in its grace period or not: read_token_row caps the expiry),
 * has this digest; false if there is none.
 */
static bool
read_token_by_digest(Relation rel, const uint8 *digest, Snapshot snapshot, TokenRecord *record,
					 int64 *parent_id)
{
	bytea	   *digest_value = palloc(VARHDRSZ + TOKEN_DIGEST_LENGTH);
	ScanKeyData key;
	bool		found;

	SET_VARSIZE(digest_value, VARHDRSZ + TOKEN_DIGEST_LENGTH);
	memcpy(VARDATA(digest_value), digest, TOKEN_DIGEST_LENGTH);
	ScanKeyInit(&key, relations.token_columns.digest, BTEqualStrategyNumber, F_BYTEAEQ,
				PointerGetDatum(digest_value));
	found = read_token_row(rel, relations.tokens_digest_index, &key, false, snapshot, record,
						   parent_id);
	if (!found && OidIsValid(relations.tokens_previous_digest_index))
	{
		ScanKeyInit(&key, relations.token_columns.previous_digest, BTEqualStrategyNumber,
					F_BYTEAEQ, PointerGetDatum(digest_value));
		found = read_token_row(rel, relations.tokens_previous_digest_index, &key, true,
							   snapshot, record, parent_id);
	}
	pfree(digest_value);
	return found;
}

/*
 * lookup_token returns the token with this digest (its current secret, or
 * the one a rotation replaced, while that is in its grace period), with its
 * grants; NULL if there is none.
 */
TokenRecord *
lookup_token(const uint8 *digest)
{
	Snapshot	snapshot;
	Relation	rel;
	TokenRecord header = {0};
	TokenRecord *record = NULL;
	int64		parent_id;

	resolve_relations();
	snapshot = latest_snapshot();
	rel = table_open(relations.tokens, AccessShareLock);
	if (read_token_by_digest(rel, digest, snapshot, &header, &parent_id))
		record = complete_record(rel, &header, parent_id, snapshot, 0);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	return record;
}

/*
 * lookup_digest_taken says whether a token has this digest as its current
 * secret or as the one its last rotation replaced, in its grace period or
 * not.
 */
bool
lookup_digest_taken(const uint8 *digest)
{
	Snapshot	snapshot;
	Relation	rel;
	TokenRecord header = {0};
	int64		parent_id;
	bool		found;

	resolve_relations();
	snapshot = latest_snapshot();
	rel = table_open(relations.tokens, AccessShareLock);
	found = read_token_by_digest(rel, digest, snapshot, &header, &parent_id);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	return found;
}

/*
 * lookup_token_by_id returns the token with this id as lookup_token would
 * (its expiry that of its current secret), or, not with_lineage, as its
 * row and grants say, unbounded by its ancestors; NULL if there is none.
 */
TokenRecord *
lookup_token_by_id(int64 id, bool with_lineage)
{
	Snapshot	snapshot;
	Relation	rel;
	TokenRecord *record;

	resolve_relations();
	snapshot = latest_snapshot();
	rel = table_open(relations.tokens, AccessShareLock);
	record = ancestor_record(rel, id, snapshot, 0, with_lineage);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	return record;
}

/*
 * lookup_id_by_name returns the id of the row of a table whose name column
 * equals name (and, for a table with a scope column, whose scope equals
 * scope), through index; 0 if there is none.
 */
static int64
lookup_id_by_name(Oid relid, Oid index, const NameColumns *columns,
				  int64 scope, const char *name, size_t length)
{
	Snapshot	snapshot;
	Relation	rel;
	ScanKeyData keys[2];
	int			nkeys = 0;
	SysScanDesc scan;
	HeapTuple	tuple;
	int64		id = 0;
	text	   *name_value;

	snapshot = latest_snapshot();
	name_value = cstring_to_text_with_len(name, (int) length);

	rel = table_open(relid, AccessShareLock);
	if (columns->scope != InvalidAttrNumber)
		ScanKeyInit(&keys[nkeys++], columns->scope, BTEqualStrategyNumber,
					F_INT8EQ, Int64GetDatum(scope));
	/* The index compares names under the column's (default) collation. */
	ScanKeyEntryInitialize(&keys[nkeys++], 0, columns->name,
						   BTEqualStrategyNumber, InvalidOid,
						   DEFAULT_COLLATION_OID, F_TEXTEQ,
						   PointerGetDatum(name_value));
	scan = systable_beginscan(rel, index, true, snapshot, nkeys, keys);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;

		id = DatumGetInt64(heap_getattr(tuple, columns->id, RelationGetDescr(rel), &isnull));
	}
	systable_endscan(scan);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	pfree(name_value);
	return id;
}

/*
 * lookup_bucket_id returns the id of the bucket with this name in an
 * organization, or 0 if there is none.
 */
int64
lookup_bucket_id(int64 org_id, const char *name, size_t length)
{
	resolve_relations();
	return lookup_id_by_name(relations.buckets, relations.buckets_name_index,
							 &relations.bucket_columns, org_id, name, length);
}

/*
 * lookup_org_id returns the id of the organization with this name, or 0 if
 * there is none.
 */
int64
lookup_org_id(const char *name, size_t length)
{
	resolve_relations();
	return lookup_id_by_name(relations.orgs, relations.orgs_name_index,
							 &relations.org_columns, 0, name, length);
}

/*
 * org_text_column returns a copy of a text column (attnum) of the
 * organization with this id; false if there is no such organization.
 * *value is NULL for a NULL column.
 */
static bool
org_text_column(int64 org_id, AttrNumber attnum, text **value)
{
	Snapshot	snapshot;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found;

	resolve_relations();
	snapshot = latest_snapshot();
	rel = table_open(relations.orgs, AccessShareLock);
	ScanKeyInit(&key, relations.org_columns.id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(org_id));
	scan = systable_beginscan(rel, relations.orgs_id_index, true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	found = HeapTupleIsValid(tuple);
	*value = NULL;
	if (found && attnum != InvalidAttrNumber)
	{
		bool		isnull;
		Datum		datum = heap_getattr(tuple, attnum, RelationGetDescr(rel), &isnull);

		if (!isnull)
			*value = DatumGetTextPCopy(datum);
	}
	systable_endscan(scan);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	return found;
}

/*
 * lookup_org_name returns the name of the organization with this id (a
 * palloc'd string), or NULL if there is none.
 */
char *
lookup_org_name(int64 org_id)
{
	text	   *name;

	resolve_relations();
	if (!org_text_column(org_id, relations.org_columns.name, &name) || name == NULL)
		return NULL;
	return text_to_cstring(name);
}

/*
 * lookup_buckets_of_org calls found(id, name, arg) for every bucket of an
 * organization, in name order.
 */
void
lookup_buckets_of_org(int64 org_id, void (*found) (int64 id, text *name, void *arg), void *arg)
{
	const NameColumns *columns = &relations.bucket_columns;
	Snapshot	snapshot;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	resolve_relations();
	snapshot = latest_snapshot();
	rel = table_open(relations.buckets, AccessShareLock);
	ScanKeyInit(&key, columns->scope, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(org_id));
	scan = systable_beginscan(rel, relations.buckets_name_index, true, snapshot, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		TupleDesc	desc = RelationGetDescr(rel);

		found(DatumGetInt64(heap_getattr(tuple, columns->id, desc, &isnull)),
			  DatumGetTextPP(heap_getattr(tuple, columns->name, desc, &isnull)), arg);
	}
	systable_endscan(scan);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
}

/*
 * lookup_by_influx_id returns the id of the row of orgs or buckets
 * (columns) with this InfluxDB ID, through its unique index; 0 if there is
 * none (or the schema, 1.0's, has no InfluxDB IDs).  For buckets, *scope
 * is set to the bucket's organization.
 */
static int64
lookup_by_influx_id(Oid relid, Oid influx_index, const NameColumns *columns,
					uint64 influx_id, int64 *scope)
{
	Snapshot	snapshot;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	int64		id = 0;
	char		digits[INFLUX_ID_LENGTH + 1];

	if (!OidIsValid(influx_index))
		return 0;
	snapshot = latest_snapshot();
	rel = table_open(relid, AccessShareLock);
	format_influx_id(influx_id, digits);
	ScanKeyEntryInitialize(&key, 0, columns->influx_id, BTEqualStrategyNumber,
						   InvalidOid, DEFAULT_COLLATION_OID, F_TEXTEQ,
						   CStringGetTextDatum(digits));
	scan = systable_beginscan(rel, influx_index, true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;

		id = DatumGetInt64(heap_getattr(tuple, columns->id, desc, &isnull));
		if (scope != NULL)
			*scope = DatumGetInt64(heap_getattr(tuple, columns->scope, desc, &isnull));
	}
	systable_endscan(scan);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	return id;
}

/*
 * lookup_org_by_influx_id returns the id of the organization with this
 * InfluxDB ID, or 0.
 */
int64
lookup_org_by_influx_id(uint64 influx_id)
{
	resolve_relations();
	return lookup_by_influx_id(relations.orgs, relations.orgs_influx_id_index,
							   &relations.org_columns, influx_id, NULL);
}

/*
 * lookup_bucket_by_influx_id returns the id of the bucket with this
 * InfluxDB ID and sets *org_id to its organization's, or returns 0.
 */
int64
lookup_bucket_by_influx_id(uint64 influx_id, int64 *org_id)
{
	int64		id;

	resolve_relations();
	*org_id = 0;
	id = lookup_by_influx_id(relations.buckets, relations.buckets_influx_id_index,
							 &relations.bucket_columns, influx_id, org_id);
	return id;
}

/*
 * lookup_org_influx_id returns the InfluxDB ID of an organization (0 if
 * there is no such organization).  Before 1.2 an organization could have
 * none; it then had our id written as one (what 1.1's export wrote).
 */
uint64
lookup_org_influx_id(int64 org_id)
{
	text	   *digits;
	uint64		influx_id;

	resolve_relations();
	if (!org_text_column(org_id, relations.org_columns.influx_id, &digits))
		return 0;
	if (digits == NULL)
		return (uint64) org_id;
	/* The table's CHECK keeps it valid. */
	if (!parse_influx_id(VARDATA_ANY(digits), VARSIZE_ANY_EXHDR(digits), &influx_id))
		return 0;
	return influx_id;
}

/*
 * digest_in returns the digest in column attnum of a tokens row, or NULL
 * if it is NULL (or the column missing).
 */
static const uint8 *
digest_in(HeapTuple tuple, TupleDesc desc, AttrNumber attnum)
{
	bool		isnull;
	Datum		value;
	bytea	   *digest;

	if (attnum == InvalidAttrNumber)
		return NULL;
	value = heap_getattr(tuple, attnum, desc, &isnull);
	if (isnull)
		return NULL;
	digest = DatumGetByteaPP(value);
	if (VARSIZE_ANY_EXHDR(digest) != TOKEN_DIGEST_LENGTH)
		return NULL;
	return (const uint8 *) VARDATA_ANY(digest);
}

/*
 * add_digest_of appends the digest in column attnum of a tokens row to
 * digests, unless it is NULL or already there.
 */
static void
add_digest_of(HeapTuple tuple, TupleDesc desc, AttrNumber attnum,
			  uint8 (*digests)[TOKEN_DIGEST_LENGTH], int *count)
{
	const uint8 *digest = digest_in(tuple, desc, attnum);

	if (digest == NULL)
		return;
	for (int i = 0; i < *count; i++)
		if (memcmp(digests[i], digest, TOKEN_DIGEST_LENGTH) == 0)
			return;
	/* LOOKUP_MAX_CHANGED_DIGESTS is the most the callers can add. */
	if (*count >= LOOKUP_MAX_CHANGED_DIGESTS)
		elog(ERROR, "more than %d digests named by one changed row", LOOKUP_MAX_CHANGED_DIGESTS);
	memcpy(digests[(*count)++], digest, TOKEN_DIGEST_LENGTH);
}

/*
 * add_digests_unchecked appends both digests of a tokens row (each row is
 * seen once: no test for duplicates), to an array with room for them.
 */
static void
add_digests_unchecked(HeapTuple tuple, TupleDesc desc, uint8 (*digests)[TOKEN_DIGEST_LENGTH],
					  int *count)
{
	const uint8 *digest = digest_in(tuple, desc, relations.token_columns.digest);
	const uint8 *previous = digest_in(tuple, desc, relations.token_columns.previous_digest);

	if (digest != NULL)
		memcpy(digests[(*count)++], digest, TOKEN_DIGEST_LENGTH);
	if (previous != NULL)
		memcpy(digests[(*count)++], previous, TOKEN_DIGEST_LENGTH);
}

/*
 * column_changed says whether column attnum differs between two versions
 * of a row (by its stored image: a value stored differently counts as
 * changed, which only invalidates more).
 */
static bool
column_changed(TupleDesc desc, HeapTuple old_tuple, HeapTuple new_tuple, AttrNumber attnum)
{
	Form_pg_attribute att;
	bool		old_null;
	bool		new_null;
	Datum		old_value;
	Datum		new_value;

	if (attnum == InvalidAttrNumber)
		return false;
	att = TupleDescAttr(desc, attnum - 1);
	old_value = heap_getattr(old_tuple, attnum, desc, &old_null);
	new_value = heap_getattr(new_tuple, attnum, desc, &new_null);
	if (old_null || new_null)
		return old_null != new_null;
	return !datum_image_eq(old_value, new_value, att->attbyval, att->attlen);
}

/*
 * token_row_digests adds the digests of a tokens row: its secret and the
 * one its last rotation replaced.
 */
static void
token_row_digests(HeapTuple tuple, TupleDesc desc, uint8 (*digests)[TOKEN_DIGEST_LENGTH],
				  int *count)
{
	add_digest_of(tuple, desc, relations.token_columns.digest, digests, count);
	add_digest_of(tuple, desc, relations.token_columns.previous_digest, digests, count);
}

/*
 * digests_of_token adds the digests of the token with this id, as this
 * session sees it now, and locks its row FOR KEY SHARE until the
 * transaction ends: a concurrent rotation (which changes the digest, a key
 * column) then waits for this transaction, or this waits for it and reads
 * the new secret's digest too.  Without the lock, a change of the token's
 * grants could name the old secret only while a rotation commits the new
 * one, and the new secret could be cached with the old grants.  None if the
 * token is gone (deleted in this transaction: its own row's trigger named
 * them; or concurrently: its deletion does).  KEY SHARE, not more: the lock
 * may be a token holder's (drop_bucket_as), and must not make a revoke of
 * any token wait.  The functions that change grants lock the token (or,
 * for a bucket's or organization's drop, the bucket or organization, which
 * a child's commit locks too) more strongly themselves; see "Lineage".
 */
static void
digests_of_token(int64 token_id, uint8 (*digests)[TOKEN_DIGEST_LENGTH], int *count)
{
	Snapshot	snapshot = latest_snapshot();
	Relation	rel = table_open(relations.tokens, RowShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	ItemPointerData tid;
	bool		found = false;

	ScanKeyInit(&key, relations.token_columns.id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(token_id));
	scan = systable_beginscan(rel, relations.tokens_id_index, true, snapshot, 1, &key);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		token_row_digests(tuple, desc, digests, count);
		tid = tuple->t_self;
		found = true;
	}
	systable_endscan(scan);

	if (found)
	{
		TupleTableSlot *slot = table_slot_create(rel, NULL);
		TM_FailureData failure;

		if (table_tuple_lock(rel, &tid, snapshot, slot, GetCurrentCommandId(false),
							 LockTupleKeyShare, LockWaitBlock,
							 TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &failure) == TM_Ok)
		{
			bool		should_free;
			HeapTuple	latest = ExecFetchSlotHeapTuple(slot, false, &should_free);

			token_row_digests(latest, desc, digests, count);
			if (should_free)
				heap_freetuple(latest);
		}
		ExecDropSingleTupleTableSlot(slot);
	}
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
}

/*
 * lookup_token_digests returns in digests (room for
 * LOOKUP_MAX_CHANGED_DIGESTS) the digests of the token with this id, its
 * row locked as digests_of_token says, and their number.
 */
int
lookup_token_digests(int64 token_id, uint8 (*digests)[TOKEN_DIGEST_LENGTH])
{
	int			count = 0;

	resolve_relations();
	digests_of_token(token_id, digests, &count);
	return count;
}

/*
 * grant_row_token_id returns the token_id of a permissions row.
 */
static int64
grant_row_token_id(HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Datum		value = heap_getattr(tuple, relations.grant_columns.token_id, desc, &isnull);

	return isnull ? 0 : DatumGetInt64(value);
}

/*
 * lookup_changed_digests returns in digests (room for
 * LOOKUP_MAX_CHANGED_DIGESTS) the digests of the tokens whose record a
 * change of one row of tokens or permissions (old_tuple, and new_tuple for
 * an UPDATE) may have changed, and their number.  An update of a tokens row
 * that leaves every column a check reads as it was (a description, a
 * user name) changes no record: none.  The ids of the tokens whose
 * descendants' records the change may have changed too (see "Lineage"
 * above) go into lineage_ids (room for 2), their number into *nlineage: a
 * change of status, expiry, organization or parent, a deletion, or a
 * change of grants; not a rotation, since descendants name their parent by
 * id.
 */
int
lookup_changed_digests(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple,
					   uint8 (*digests)[TOKEN_DIGEST_LENGTH], int64 *lineage_ids, int *nlineage)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			count = 0;

	resolve_relations();
	*nlineage = 0;
	if (RelationGetRelid(rel) == relations.tokens)
	{
		const TokenColumns *c = &relations.token_columns;
		bool		lineage_changed = new_tuple == NULL ||
			column_changed(desc, old_tuple, new_tuple, c->org_id) ||
			column_changed(desc, old_tuple, new_tuple, c->status) ||
			column_changed(desc, old_tuple, new_tuple, c->expires_at) ||
			column_changed(desc, old_tuple, new_tuple, c->parent_id);

		if (!lineage_changed &&
			!column_changed(desc, old_tuple, new_tuple, c->id) &&
			!column_changed(desc, old_tuple, new_tuple, c->digest) &&
			!column_changed(desc, old_tuple, new_tuple, c->previous_digest) &&
			!column_changed(desc, old_tuple, new_tuple, c->previous_valid_until))
			return 0;
		token_row_digests(old_tuple, desc, digests, &count);
		if (new_tuple != NULL)
			token_row_digests(new_tuple, desc, digests, &count);
		if (lineage_changed)
		{
			bool		isnull;
			Datum		id = heap_getattr(old_tuple, c->id, desc, &isnull);

			if (!isnull)
				lineage_ids[(*nlineage)++] = DatumGetInt64(id);
		}
	}
	else if (RelationGetRelid(rel) == relations.permissions)
	{
		int64		old_token = grant_row_token_id(old_tuple, desc);
		int64		new_token = new_tuple ? grant_row_token_id(new_tuple, desc) : old_token;

		digests_of_token(old_token, digests, &count);
		lineage_ids[(*nlineage)++] = old_token;
		if (new_token != old_token)
		{
			digests_of_token(new_token, digests, &count);
			lineage_ids[(*nlineage)++] = new_token;
		}
	}
	return count;
}

/*
 * lookup_descendant_digests returns the digests (secret, and the one the
 * last rotation replaced) of every token descended from one of these, as
 * this session sees the table now, in a palloc'd array, with their number
 * in *count; NULL and *count -1 if there are more than max of them.  A
 * descendant committed after this look cannot have been made from a
 * parent in its old state: its commit locked the parent FOR SHARE, which
 * waits for the changing transaction's lock on the parent's row (an UPDATE
 * or DELETE of it, or _lock_token before its grants are replaced), or on a
 * bucket or organization it names (a drop).  A DELETE of grants written by
 * hand, without either, is not ordered with it (README says so).
 */
uint8	(*
		 lookup_descendant_digests(const int64 *ids, int nids, int max, int *count))[TOKEN_DIGEST_LENGTH]
{
	Snapshot	snapshot;
	Relation	rel;
	TupleDesc	desc;
	int64	   *queue;
	int			queued = 0;
	int			next = 0;
	int			capacity = 2 * max + 2;
	uint8		(*digests)[TOKEN_DIGEST_LENGTH];

	*count = 0;
	resolve_relations();
	if (!OidIsValid(relations.tokens_parent_id_index) ||
		relations.token_columns.parent_id == InvalidAttrNumber)
		return NULL;
	snapshot = latest_snapshot();
	rel = table_open(relations.tokens, AccessShareLock);
	desc = RelationGetDescr(rel);
	queue = palloc((max + nids) * sizeof(int64));
	digests = palloc(capacity * TOKEN_DIGEST_LENGTH);
	for (int i = 0; i < nids; i++)
		queue[queued++] = ids[i];
	while (next < queued && *count >= 0)
	{
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tuple;
		int64		parent = queue[next++];

		ScanKeyInit(&key, relations.token_columns.parent_id, BTEqualStrategyNumber, F_INT8EQ,
					Int64GetDatum(parent));
		scan = systable_beginscan(rel, relations.tokens_parent_id_index, true, snapshot, 1, &key);
		while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		{
			bool		isnull;
			Datum		id = heap_getattr(tuple, relations.token_columns.id, desc, &isnull);
			bool		seen = false;

			/* A cycle written by hand: each token once. */
			for (int i = 0; i < queued && !seen; i++)
				seen = queue[i] == DatumGetInt64(id);
			if (seen)
				continue;
			if (queued - nids >= max)
			{
				*count = -1;
				break;
			}
			queue[queued++] = DatumGetInt64(id);
			add_digests_unchecked(tuple, desc, digests, count);
		}
		systable_endscan(scan);
	}
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	pfree(queue);
	if (*count < 0)
	{
		pfree(digests);
		return NULL;
	}
	return digests;
}
