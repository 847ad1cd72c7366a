/*-------------------------------------------------------------------------
 *
 * influx_tokens.h
 *	  Shared declarations of the influx_tokens extension.
 *
 * Each concern lives in one file:
 *	  token_format.c	generation and the cheap well-formedness tests
 *	  digest.c			SHA-256 of a token
 *	  names.c			validation of names and labels, redaction in messages
 *	  redaction.c		tokens taken out of PostgreSQL's own reports
 *	  permission.c		the permission language and grant matching
 *	  lookup.c			reading the extension's tables (no SPI)
 *	  cache.c			the per-backend cache and its invalidation
 *	  shared_cache.c	the token cache all backends share, and the ring of
 *						changed tokens (when preloaded)
 *	  usage.c			usage counters in shared memory and their file
 *	  check.c			the authorization decision
 *	  delegation.c		the no-escalation rule of tokens creating tokens
 *	  commit_check.c	what a transaction's new tokens must still satisfy
 *						when it commits
 *	  identity.c		the transaction's current token (authenticate) and
 *						the functions row-level security policies call
 *	  sql_api.c			SQL entry points of the checks, _PG_init
 *	  manage.c			C building blocks of the management functions
 *	  create.c			creating tokens, one a call or many (the only writer
 *						of new token rows)
 *	  import.c			C building blocks of the import from InfluxDB
 *	  legacy.c			entry points named by the 1.0 and 1.1 scripts
 * Layers call downwards only: sql_api/manage -> check -> cache -> lookup
 * -> permission -> names, token_format, digest; cache also uses
 * shared_cache; check and cache count checks through usage.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INFLUX_TOKENS_H
#define INFLUX_TOKENS_H

#include "postgres.h"
#include "pg_compat.h"

#include "fmgr.h"
#include "lib/ilist.h"
#include "access/htup.h"
#include "utils/array.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

/* ---- token_format.c ---- */

/*
 * A token is "ixt_", 34 random base62 characters (202 bits of entropy) and
 * 6 base62 characters of the CRC-32C of the random part.  URL-safe, and a
 * mistyped or invented token fails the checksum without a table lookup.
 */
#define TOKEN_PREFIX			"ixt_"
#define TOKEN_PREFIX_LENGTH		4
#define TOKEN_RANDOM_LENGTH		34
#define TOKEN_CHECKSUM_LENGTH	6
#define TOKEN_LENGTH \
	(TOKEN_PREFIX_LENGTH + TOKEN_RANDOM_LENGTH + TOKEN_CHECKSUM_LENGTH)

/*
 * Imported tokens (InfluxDB's, or any secret an installation chose) have no
 * checksum; what a check can still refuse without a lookup is a length
 * outside these bounds or a character outside printable ASCII.
 */
#define IMPORTED_TOKEN_MIN_LENGTH 16
#define IMPORTED_TOKEN_MAX_LENGTH 512

extern void token_generate(char *out);
extern bool token_is_well_formed(const char *token, size_t length);
extern bool token_is_importable(const char *token, size_t length);
extern bool token_is_acceptable(const char *token, size_t length);

/* ---- digest.c ---- */

#define TOKEN_DIGEST_LENGTH 32	/* SHA-256 */

extern void token_digest(const char *token, size_t length, uint8 *digest);

/* ---- names.c ---- */

/* Longest organization, bucket or label name, in characters. */
#define NAME_MAX_CHARS 128

/* Longest bad value quoted back in an error message, in bytes. */
#define QUOTED_VALUE_MAX_BYTES 64

extern bool is_base64url(char c);
extern bool token_span(const char *value, size_t length, size_t *start, size_t *end);
extern bool looks_like_token(const char *value, size_t length);
extern char *value_for_message(const char *value, size_t length);
extern void check_name(const char *kind, const char *name, size_t length);

/* ---- redaction.c ---- */

extern void redaction_init(void);

/* ---- permission.c ---- */

typedef enum PermissionAction
{
	PERMISSION_READ,
	PERMISSION_WRITE
} PermissionAction;

/*
 * Index into the resource type table of permission.c: buckets first,
 * authorizations second, orgs fourth; the wildcards and "instance" are
 * negative.
 */
typedef int ResourceType;

#define RESOURCE_TYPE_UNKNOWN (-1)
#define RESOURCE_BUCKETS 0
#define RESOURCE_AUTHORIZATIONS 1	/* second in permission.c's table */
#define RESOURCE_ORGS 3				/* fourth in permission.c's table */
#define RESOURCE_ALL (-2)			/* "*": every type in the organization */
#define RESOURCE_EVERYWHERE (-3)	/* "**": every type in every organization */
#define RESOURCE_INSTANCE (-4)		/* InfluxDB's "instance": never granted */

/* An InfluxDB ID: 16 hexadecimal digits of a non-zero 64-bit number. */
#define INFLUX_ID_LENGTH 16

/* Which spelling of a resource a permission string used (permission.c). */
typedef enum PermissionScope
{
	SCOPE_TOKEN_ORG,			/* "<type>...": the token's organization */
	SCOPE_NO_ORG,				/* "/<type>...": InfluxDB's resource without orgID */
	SCOPE_INFLUX_ORG			/* "orgs/<org>/<type>...": with this orgID */
} PermissionScope;

/*
 * A permission string, parsed.  A resource is named by bucket_name
 * (buckets/<name>, pointing into the parsed string) or by influx_id (its
 * InfluxDB ID), or is the type as a whole when neither is set.
 */
typedef struct ParsedPermission
{
	PermissionAction action;
	ResourceType resource_type;
	PermissionScope scope;
	uint64		org_influx_id;	/* SCOPE_INFLUX_ORG's organization */
	uint64		influx_id;		/* 0: none */
	const char *bucket_name;
	size_t		bucket_name_length;
} ParsedPermission;

/*
 * One stored grant of a token.  resource_id 0 is the type as a whole;
 * otherwise one resource: our id of a bucket, the InfluxDB ID of any other
 * type.  any_org is InfluxDB's resource without an orgID: for a whole type,
 * every organization; for one resource, only how it is written.  16 bytes,
 * as a cache holds many.
 */
typedef struct TokenGrant
{
	int64		resource_id;
	int16		resource_type;	/* ResourceType */
	uint8		action;			/* PermissionAction */
	bool		any_org;
} TokenGrant;

/*
 * What a check asks for: an action on a resource type in an organization
 * (our id; 0: a resource without one), on the type as a whole (id 0) or
 * one resource (id as in TokenGrant).  any_id asks instead whether some
 * grant could cover one resource of the type, whichever (a flag, not a
 * special id: every 64-bit value is some InfluxDB ID).
 */
typedef struct ResourceRequest
{
	PermissionAction action;
	ResourceType type;
	int64		org_id;
	int64		id;
	bool		any_id;
} ResourceRequest;

extern bool parse_influx_id(const char *text, size_t length, uint64 *id);
extern void format_influx_id(uint64 id, char *out);
extern uint64 influx_id_generate(void);
extern bool parse_action(const char *text, size_t length,
						 PermissionAction *action);
extern PermissionAction action_from_text(const char *text, size_t length);
extern ResourceType resource_type_from_name(const char *name, size_t length);
extern const char *action_name(PermissionAction action);
extern const char *resource_type_name(ResourceType type);
extern void parse_permission(const char *text, size_t length, bool ids_only,
							 ParsedPermission *permission);
extern bool grants_allow(const TokenGrant *grants, int ngrants, int64 grant_org_id,
						 const ResourceRequest *request);
extern ResourceRequest grant_as_request(const TokenGrant *grant, int64 org_id);
extern bool grant_is_held(const TokenGrant *held, int nheld, int64 held_org_id,
						  const TokenGrant *grant, int64 grant_org_id);

/* ---- lookup.c ---- */

/* What a check needs to know of one token; read-only once looked up. */
typedef struct TokenRecord
{
	int64		id;
	int64		org_id;
	bool		active;
	bool		has_expiry;
	TimestampTz expires_at;
	int			ngrants;
	TokenGrant	grants[FLEXIBLE_ARRAY_MEMBER];
} TokenRecord;

extern TokenRecord *lookup_token(const uint8 *digest);
extern TokenRecord *lookup_token_by_id(int64 id, bool with_lineage);
extern bool lookup_digest_taken(const uint8 *digest);
extern int64 lookup_bucket_id(int64 org_id, const char *name, size_t length);
extern int64 lookup_org_id(const char *name, size_t length);
extern int64 lookup_org_by_influx_id(uint64 influx_id);
extern int64 lookup_bucket_by_influx_id(uint64 influx_id, int64 *org_id);
extern uint64 lookup_org_influx_id(int64 org_id);
extern char *lookup_org_name(int64 org_id);
extern void lookup_buckets_of_org(int64 org_id, void (*found) (int64 id, text *name, void *arg),
								  void *arg);
extern bool lookup_is_extension_relation(Oid relid);
extern bool lookup_is_token_relation(Oid relid);
extern bool lookup_was_token_relation(Oid relid);
extern Oid	lookup_tokens_relid(void);
extern void lookup_forget_relations(void);

/*
 * The most digests one changed row of tokens or permissions names: two
 * tokens (a grant moved from one to another), each seen in two versions
 * (as visible and as locked), each with its secret and the one its last
 * rotation replaced.
 */
#define LOOKUP_MAX_CHANGED_DIGESTS 8

extern int	lookup_changed_digests(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple,
								   uint8 (*digests)[TOKEN_DIGEST_LENGTH],
								   int64 *lineage_ids, int *nlineage);
extern uint8 (*lookup_descendant_digests(const int64 *ids, int nids, int max,
										 int *count))[TOKEN_DIGEST_LENGTH];
extern int	lookup_token_digests(int64 token_id, uint8 (*digests)[TOKEN_DIGEST_LENGTH]);

/* ---- shared_cache.c ---- */

typedef struct SharedCacheStats
{
	int			capacity;		/* influx_tokens.shared_cache_size */
	int			max_grants;		/* tokens with more grants are not shared */
	int64		tokens;			/* tokens in the shared table now */
	int64		memory_bytes;	/* shared memory of the table and the ring */
	int64		bytes_per_token;	/* of the table, per token it can hold */
	int64		hits;
	int64		misses;
	int64		stores;
	int64		evictions;
	int64		removals;		/* entries removed because their token changed */
	int64		flushes;		/* times everything was dropped */
	int64		changes;		/* changes published so far */
} SharedCacheStats;

extern void shared_cache_init(void);
extern bool shared_cache_available(void);
extern uint64 shared_cache_change_end(void);
extern int	shared_cache_changes_since(uint64 *seen, uint8 (*changed)[TOKEN_DIGEST_LENGTH],
									   int max);
extern TokenRecord *shared_cache_get(Oid tokens_relid, const uint8 *digest,
									MemoryContext context);
extern void shared_cache_count_usage(void);
extern void shared_cache_put(Oid tokens_relid, const uint8 *digest, const TokenRecord *record,
							 uint64 seen);
extern void shared_cache_publish(Oid tokens_relid, uint8 (*digests)[TOKEN_DIGEST_LENGTH],
								 int count, bool everything);
extern void shared_cache_note_prepared(TransactionId xid);
extern bool shared_cache_started(void);
extern void shared_cache_note_started(Snapshot snapshot);
extern void shared_cache_check_prepared(void);
extern SharedCacheStats shared_cache_get_stats(void);

/* ---- usage.c (the pending counts; the rest is declared below) ---- */

/*
 * Checks of one token not yet counted in shared memory.  Its owner (the
 * cache entry of the token, cache.c) keeps it; usage.c lists it until the
 * end of the transaction, when the counts are added to shared memory.  The
 * owner calls usage_pending_forget before freeing it.
 */
typedef struct UsagePending
{
	int64		token_id;
	uint64		allowed;
	uint64		denied;
	bool		listed;			/* in usage.c's list of pending counts */
	dlist_node	node;
} UsagePending;

/* ---- cache.c ---- */

typedef struct CacheStats
{
	int			capacity;		/* influx_tokens.cache_size */
	long		tokens;			/* tokens cached now */
	long		buckets;		/* buckets cached now */
	int64		memory_bytes;	/* memory held by the cache */
	int64		hits;
	int64		misses;
	int64		evictions;
	int64		invalidations;	/* times the whole cache was cleared */
} CacheStats;

extern void cache_init(void);
extern void cache_prepare(void);
extern const TokenRecord *token_cache_get(const uint8 *digest,
										  UsagePending **usage);
extern int64 bucket_cache_get_id(int64 org_id, const char *name, size_t length);
extern int64 org_cache_get_id(const char *name, size_t length);
extern void cache_note_table_change(Oid relid);
extern void cache_note_token_change(Oid relid, uint8 (*digests)[TOKEN_DIGEST_LENGTH], int count);
extern void cache_note_every_token_changed(Oid relid);
extern void cache_note_descendants_changed(Oid relid, const int64 *token_ids, int count);
extern void cache_note_token_id_changed(int64 token_id);
extern void cache_note_table_insert(void);
extern CacheStats cache_get_stats(void);

/* ---- usage.c ---- */

extern void usage_init(void);
extern void usage_pending_init(UsagePending *pending, int64 token_id);
extern void usage_note_check(UsagePending *pending, int64 token_id,
							 bool allowed);
extern void usage_pending_forget(UsagePending *pending);
extern void usage_flush(void);

/* ---- check.c ---- */

extern bool token_is_usable(const TokenRecord *token);

extern ParsedPermission bucket_question(PermissionAction action, const char *bucket_name,
										size_t bucket_name_length);
extern bool digest_permits(const uint8 *digest, bool count_usage,
						   const ParsedPermission *question,
						   const char *org_name, size_t org_name_length);
extern bool token_permits(FmgrInfo *flinfo, const char *token, size_t token_length,
						  const ParsedPermission *question,
						  const char *org_name, size_t org_name_length);

/* ---- delegation.c ---- */

typedef enum DelegationVerdict
{
	DELEGATION_ALLOWED,
	DELEGATION_PARENT_UNUSABLE,
	DELEGATION_NO_AUTHORIZATIONS,
	DELEGATION_GRANT_NOT_HELD,
	DELEGATION_OUTLIVES_PARENT
} DelegationVerdict;

extern DelegationVerdict delegation_state_verdict(const TokenRecord *holder,
												  const TokenRecord *target);
extern DelegationVerdict delegation_grants_verdict(const TokenRecord *parent,
												   const TokenGrant *grants, int ngrants,
												   int *refused_grant);
extern DelegationVerdict delegation_verdict(const TokenRecord *parent,
											const TokenGrant *grants, int ngrants,
											bool has_expiry, TimestampTz expires_at,
											int *refused_grant);
extern const char *delegation_refusal_reason(DelegationVerdict verdict);


/* ---- manage.c: building blocks other files reuse ---- */

/* Grants resolved from permission strings, with each one's string (for messages). */
typedef struct ResolvedGrants
{
	int			count;
	TokenGrant *grants;
	text	  **permissions;
} ResolvedGrants;

extern bool secret_digest(text *secret, uint8 *digest);
extern Datum digest_datum(const uint8 *digest);
extern char *timestamp_for_message(TimestampTz value);
extern void require_future_expiry(TimestampTz expires_at);
extern int64 org_id_of(text *org);
extern ResolvedGrants resolve_grants(int64 org_id, const char *org_name, ArrayType *permissions);
extern ArrayType *valid_labels(ArrayType *labels);
extern text *valid_description(text *description);

/* ---- import.c ---- */

extern void import_digest(text *token, uint8 *digest);

/* ---- commit_check.c ---- */

extern void commit_check_init(void);
extern void commit_check_note_token(int64 token_id, const TokenRecord *as_made,
									const uint8 *parent_digest);
extern void commit_check_note_act(int64 actor_id, int64 target_id);
extern void commit_check_note_change(void);

/* ---- identity.c ---- */

extern void identity_init(void);

/* ---- sql_api.c, manage.c: SQL entry points other files reuse ---- */


extern void require_argument(FunctionCallInfo fcinfo, int argno, const char *what);
extern PermissionAction action_argument(FunctionCallInfo fcinfo, int argno);
extern Datum influx_tokens_token_check(PG_FUNCTION_ARGS);
extern Datum influx_tokens_token_allows(PG_FUNCTION_ARGS);
extern Datum influx_tokens__invalidate_cache(PG_FUNCTION_ARGS);
extern Datum influx_tokens_cache_stats(PG_FUNCTION_ARGS);
extern Datum influx_tokens_shared_cache_stats(PG_FUNCTION_ARGS);
extern Datum influx_tokens__generate_token(PG_FUNCTION_ARGS);
extern Datum influx_tokens__token_digest(PG_FUNCTION_ARGS);
extern Datum influx_tokens__check_name(PG_FUNCTION_ARGS);
extern Datum influx_tokens__for_message(PG_FUNCTION_ARGS);

#endif							/* INFLUX_TOKENS_H */
