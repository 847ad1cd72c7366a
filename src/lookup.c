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
 * Relations are found by name in schema influx_tokens once, and found again
 * after any relcache invalidation of one of them (the extension was dropped
 * and created again, say; cache.c owns the callback).  Column numbers below must match the
 * table definitions in src/influx_tokens--1.0.sql; later versions may only
 * append columns.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation_d.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#define EXTENSION_SCHEMA "influx_tokens"

/* influx_tokens.tokens (previous_*: since 1.1) */
#define Anum_tokens_id			1
#define Anum_tokens_org_id		2
#define Anum_tokens_digest		3
#define Anum_tokens_status		5
#define Anum_tokens_expires_at	8
#define Anum_tokens_previous_digest	10
#define Anum_tokens_previous_valid_until 11

/* influx_tokens.orgs */
#define Anum_orgs_id			1
#define Anum_orgs_name			2

/* influx_tokens.buckets */
#define Anum_buckets_id			1
#define Anum_buckets_org_id		2
#define Anum_buckets_name		3

/* influx_tokens.permissions */
#define Anum_permissions_token_id		1
#define Anum_permissions_action			2
#define Anum_permissions_resource_type	3
#define Anum_permissions_bucket_id		4

typedef struct ExtensionRelations
{
	bool		valid;
	Oid			orgs;
	Oid			orgs_name_index;
	Oid			tokens;
	Oid			tokens_digest_index;
	Oid			tokens_previous_digest_index;	/* InvalidOid before 1.1 */
	Oid			buckets;
	Oid			buckets_name_index;
	Oid			permissions;
	Oid			permissions_token_index;
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
	relations.orgs_name_index = relation_in_schema(namespace_oid, "orgs_name_key");
	relations.tokens = relation_in_schema(namespace_oid, "tokens");
	relations.tokens_digest_index =
		relation_in_schema(namespace_oid, "tokens_digest_key");
	/* The schema of 1.0 has no rotation: this library serves both. */
	relations.tokens_previous_digest_index =
		get_relname_relid("tokens_previous_digest_key", namespace_oid);
	relations.buckets = relation_in_schema(namespace_oid, "buckets");
	relations.buckets_name_index =
		relation_in_schema(namespace_oid, "buckets_org_name_key");
	relations.permissions = relation_in_schema(namespace_oid, "permissions");
	relations.permissions_token_index =
		relation_in_schema(namespace_oid, "permissions_key");
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
 * lookup_forget_relations makes the next lookup find the relations again.
 */
void
lookup_forget_relations(void)
{
	relations.valid = false;
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

	*ngrants = 0;
	ScanKeyInit(&key, Anum_permissions_token_id, BTEqualStrategyNumber,
				F_INT8EQ, Int64GetDatum(token_id));
	scan = systable_beginscan(rel, relations.permissions_token_index, true,
							  snapshot, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		action = heap_getattr(tuple, Anum_permissions_action, desc, &isnull);
		Datum		type = heap_getattr(tuple, Anum_permissions_resource_type, desc, &isnull);
		Datum		bucket = heap_getattr(tuple, Anum_permissions_bucket_id, desc, &isnull);
		text	   *action_text = DatumGetTextPP(action);
		text	   *type_text = DatumGetTextPP(type);
		TokenGrant	grant;

		if (!parse_action(VARDATA_ANY(action_text), VARSIZE_ANY_EXHDR(action_text),
						  &grant.action))
			continue;
		grant.resource_type = resource_type_from_name(VARDATA_ANY(type_text),
													  VARSIZE_ANY_EXHDR(type_text));
		if (grant.resource_type == RESOURCE_TYPE_UNKNOWN)
			continue;
		grant.bucket_id = isnull ? 0 : DatumGetInt64(bucket);

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
 * read_token_row fills the header of *record from the tokens row whose
 * digest column (digest_attnum) equals digest, through index; false if
 * there is none.  For a secret replaced by a rotation, the token expires
 * when the secret's grace period ends, if not before.
 */
static bool
read_token_row(Relation rel, Oid index, AttrNumber digest_attnum,
			   bytea *digest, Snapshot snapshot, TokenRecord *record)
{
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;

	ScanKeyInit(&key, digest_attnum, BTEqualStrategyNumber, F_BYTEAEQ,
				PointerGetDatum(digest));
	scan = systable_beginscan(rel, index, true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		Datum		expires_at;

		found = true;
		record->id = DatumGetInt64(heap_getattr(tuple, Anum_tokens_id, desc, &isnull));
		record->org_id = DatumGetInt64(heap_getattr(tuple, Anum_tokens_org_id, desc, &isnull));
		record->active = text_matches(heap_getattr(tuple, Anum_tokens_status, desc, &isnull),
									  "active");
		expires_at = heap_getattr(tuple, Anum_tokens_expires_at, desc, &isnull);
		record->has_expiry = !isnull;
		record->expires_at = isnull ? 0 : DatumGetTimestampTz(expires_at);

		if (digest_attnum == Anum_tokens_previous_digest)
		{
			Datum		valid_until = heap_getattr(tuple, Anum_tokens_previous_valid_until,
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
 * lookup_token returns the token with this digest (its current secret, or
 * the one a rotation replaced, while that is in its grace period), with its
 * grants read with the same snapshot, in a single palloc'd chunk; NULL if
 * there is none.
 */
TokenRecord *
lookup_token(const uint8 *digest)
{
	bytea	   *digest_value = palloc(VARHDRSZ + TOKEN_DIGEST_LENGTH);
	Snapshot	snapshot;
	Relation	rel;
	TokenRecord header = {0};
	bool		found;
	TokenRecord *record;
	TokenGrant *grants;

	resolve_relations();
	snapshot = RegisterSnapshot(GetLatestSnapshot());

	SET_VARSIZE(digest_value, VARHDRSZ + TOKEN_DIGEST_LENGTH);
	memcpy(VARDATA(digest_value), digest, TOKEN_DIGEST_LENGTH);

	rel = table_open(relations.tokens, AccessShareLock);
	found = read_token_row(rel, relations.tokens_digest_index, Anum_tokens_digest,
						   digest_value, snapshot, &header);
	if (!found && OidIsValid(relations.tokens_previous_digest_index))
		found = read_token_row(rel, relations.tokens_previous_digest_index,
							   Anum_tokens_previous_digest, digest_value, snapshot,
							   &header);
	table_close(rel, NoLock);
	pfree(digest_value);

	if (!found)
	{
		UnregisterSnapshot(snapshot);
		return NULL;
	}

	grants = load_grants(header.id, snapshot, &header.ngrants);
	UnregisterSnapshot(snapshot);
	record = palloc(offsetof(TokenRecord, grants) +
					header.ngrants * sizeof(TokenGrant));
	memcpy(record, &header, offsetof(TokenRecord, grants));
	memcpy(record->grants, grants, header.ngrants * sizeof(TokenGrant));
	pfree(grants);
	return record;
}

/*
 * lookup_id_by_name returns the id column of the row of rel whose name
 * column equals name (and, if scope_attnum is set, whose scope column equals
 * scope), through index; 0 if there is none.
 */
static int64
lookup_id_by_name(Oid relid, Oid index, AttrNumber id_attnum,
				  AttrNumber scope_attnum, int64 scope,
				  AttrNumber name_attnum, const char *name, size_t length)
{
	Snapshot	snapshot;
	Relation	rel;
	ScanKeyData keys[2];
	int			nkeys = 0;
	SysScanDesc scan;
	HeapTuple	tuple;
	int64		id = 0;
	text	   *name_value;

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	name_value = cstring_to_text_with_len(name, (int) length);

	rel = table_open(relid, AccessShareLock);
	if (scope_attnum != InvalidAttrNumber)
		ScanKeyInit(&keys[nkeys++], scope_attnum, BTEqualStrategyNumber,
					F_INT8EQ, Int64GetDatum(scope));
	/* The index compares names under the column's (default) collation. */
	ScanKeyEntryInitialize(&keys[nkeys++], 0, name_attnum,
						   BTEqualStrategyNumber, InvalidOid,
						   DEFAULT_COLLATION_OID, F_TEXTEQ,
						   PointerGetDatum(name_value));
	scan = systable_beginscan(rel, index, true, snapshot, nkeys, keys);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;

		id = DatumGetInt64(heap_getattr(tuple, id_attnum, RelationGetDescr(rel), &isnull));
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
							 Anum_buckets_id, Anum_buckets_org_id, org_id,
							 Anum_buckets_name, name, length);
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
							 Anum_orgs_id, InvalidAttrNumber, 0,
							 Anum_orgs_name, name, length);
}
