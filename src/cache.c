/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Per-backend cache of tokens (by digest) and of bucket and organization
 *	  names (by scope and name), and its invalidation.
 *
 * Correctness first.  Every UPDATE, DELETE and TRUNCATE of the
 * extension's tables fires a statement-level trigger
 * (cache_note_table_change) that
 *	  - clears this backend's cache at once, so the changing session sees its
 *		own uncommitted change at its next check, and
 *	  - registers a relcache invalidation of the changed table, which
 *		PostgreSQL delivers to every other backend (and, through the WAL, to
 *		hot standbys) when the transaction commits, and throws away if it
 *		aborts.
 * An INSERT changes nothing cached (cache_note_table_insert), so creating
 * tokens leaves every cache warm.
 * The relcache callback only clears the cache; checks call
 * AcceptInvalidationMessages() before trusting it.  An abort of a
 * transaction that changed the tables clears the cache too, since entries
 * may have been loaded from its uncommitted state.
 *
 * A load can race with a commit elsewhere: the snapshot misses the commit
 * but its invalidation arrives while we read.  Each load therefore notes
 * the cache generation before taking its snapshot and stores its result only
 * if no invalidation came in between.
 *
 * Only tokens that exist are cached (whatever their status), so a flood of
 * unknown tokens can never push known ones out.  Both tables are bounded by
 * influx_tokens.cache_size entries and evict the least recently used.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "lib/ilist.h"
#include "mb/pg_wchar.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"

/* Longest name in bytes: NAME_MAX_CHARS characters of up to 4 bytes. */
#define NAME_MAX_BYTES (NAME_MAX_CHARS * MAX_MULTIBYTE_CHAR_LEN)

typedef struct CachedToken
{
	uint8		digest[TOKEN_DIGEST_LENGTH];	/* hash key */
	dlist_node	lru;
	TokenRecord *record;		/* allocated in cache_context, read-only */
	UsagePending usage;			/* checks not yet counted (usage.c) */
} CachedToken;

/*
 * The name cache holds bucket names (scoped by their organization's id) and
 * organization names (scope 0, which no organization has).
 */
typedef struct NameKey
{
	int64		scope;			/* the bucket's organization; 0 for an organization */
	uint32		name_length;
	char		name[NAME_MAX_BYTES];
} NameKey;

typedef struct CachedName
{
	NameKey		key;			/* hash key */
	dlist_node	lru;
	int64		id;				/* the bucket's or the organization's id */
} CachedName;

/* A hash table bounded by cache_size entries, most recently used first. */
typedef struct BoundedTable
{
	HTAB	   *table;
	dlist_head	lru;
	long		entries;
	Size		lru_offset;		/* where the dlist_node sits in an entry */
} BoundedTable;

static int	cache_size = 10000;

static MemoryContext cache_context = NULL;
static BoundedTable token_table;
static BoundedTable name_table;

/* Bumped by every invalidation; a load that sees it move stores nothing. */
static uint64 cache_generation = 0;
static bool cache_valid = false;

/* Whether the current transaction changed the tables, and where it last said so. */
static bool changed_in_transaction = false;
static LocalTransactionId notified_lxid = InvalidLocalTransactionId;
static SubTransactionId notified_subxid = InvalidSubTransactionId;

static CacheStats stats;

/*
 * The bucket (or organization) most recently resolved: an app server checks
 * the same bucket over and over, and comparing one key is cheaper than a
 * hash lookup.  Cleared with the cache.
 */
static NameKey last_name;
static int64 last_name_id = 0;

static void release_token(void *entry);
static void bounded_trim(BoundedTable *t, long limit, void (*release) (void *entry));

/*
 * digest_hash hashes a token digest by taking its first four bytes: SHA-256
 * output is already uniformly distributed, so hashing it again is wasted work.
 */
static uint32
digest_hash(const void *key, Size keysize)
{
	uint32		h;

	memcpy(&h, key, sizeof(h));
	return h;
}

/*
 * name_key_hash hashes the used part of a NameKey only.
 */
static uint32
name_key_hash(const void *key, Size keysize)
{
	const NameKey *k = key;

	return hash_combine(hash_bytes_uint32((uint32) k->scope ^ (uint32) (k->scope >> 32)),
						hash_bytes((const unsigned char *) k->name, (int) k->name_length));
}

/*
 * name_key_match compares the used parts of two BucketKeys (0 if equal).
 */
static int
name_key_match(const void *key1, const void *key2, Size keysize)
{
	const NameKey *a = key1;
	const NameKey *b = key2;

	if (a->scope != b->scope || a->name_length != b->name_length)
		return 1;
	return memcmp(a->name, b->name, a->name_length);
}

/*
 * name_key_copy copies the used part of a NameKey into a new entry.
 */
static void *
name_key_copy(void *dest, const void *src, Size keysize)
{
	const NameKey *k = src;

	return memcpy(dest, src, offsetof(NameKey, name) + k->name_length);
}

/*
 * cache_build creates both tables in a fresh memory context.
 */
static void
cache_build(void)
{
	HASHCTL		ctl;

	if (cache_context == NULL)
		cache_context = AllocSetContextCreate(CacheMemoryContext,
											  "influx_tokens cache",
											  ALLOCSET_DEFAULT_SIZES);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = TOKEN_DIGEST_LENGTH;
	ctl.entrysize = sizeof(CachedToken);
	ctl.hash = digest_hash;
	ctl.match = memcmp;
	ctl.hcxt = cache_context;
	token_table.table = hash_create("influx_tokens tokens", 1024, &ctl,
									HASH_ELEM | HASH_FUNCTION | HASH_COMPARE |
									HASH_CONTEXT);
	dlist_init(&token_table.lru);
	token_table.entries = 0;
	token_table.lru_offset = offsetof(CachedToken, lru);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(NameKey);
	ctl.entrysize = sizeof(CachedName);
	ctl.hash = name_key_hash;
	ctl.match = name_key_match;
	ctl.keycopy = name_key_copy;
	ctl.hcxt = cache_context;
	name_table.table = hash_create("influx_tokens names", 256, &ctl,
									 HASH_ELEM | HASH_FUNCTION | HASH_COMPARE |
									 HASH_KEYCOPY | HASH_CONTEXT);
	dlist_init(&name_table.lru);
	name_table.entries = 0;
	name_table.lru_offset = offsetof(CachedName, lru);

	cache_valid = true;
}

/*
 * cache_invalidate forgets everything cached; the memory is given back at
 * the next use, not inside an invalidation callback.
 */
static void
cache_invalidate(void)
{
	cache_generation++;
	last_name_id = 0;
	if (cache_valid)
		stats.invalidations++;
	cache_valid = false;
}

/*
 * cache_prepare brings the cache up to date with every invalidation received
 * so far; a check calls it once, before any cache_get.  Only here is memory
 * of a cleared cache given back, so records returned by token_cache_get stay
 * valid until the next check even if an invalidation arrives meanwhile.
 * The checks pending in the entries are counted before they are freed.
 */
void
cache_prepare(void)
{
	AcceptInvalidationMessages();
	if (!cache_valid)
	{
		usage_flush();
		if (cache_context != NULL)
			MemoryContextReset(cache_context);
		cache_build();
	}

	/* influx_tokens.cache_size may have been lowered since the last check. */
	bounded_trim(&token_table, cache_size, release_token);
	bounded_trim(&name_table, cache_size, NULL);
}

/*
 * cache_usable says whether entries may be read and stored now: caching is
 * on, and no invalidation has come in since cache_prepare.
 */
static inline bool
cache_usable(void)
{
	return cache_size > 0 && cache_valid;
}

/*
 * bounded_lookup finds an entry and marks it most recently used.
 */
static void *
bounded_lookup(BoundedTable *t, const void *key)
{
	char	   *entry = hash_search(t->table, key, HASH_FIND, NULL);

	if (entry != NULL)
		dlist_move_head(&t->lru, (dlist_node *) (entry + t->lru_offset));
	return entry;
}

/*
 * bounded_trim evicts least recently used entries until at most limit are
 * left.  release, if given, frees what an evicted entry points to.
 */
static void
bounded_trim(BoundedTable *t, long limit, void (*release) (void *entry))
{
	while (t->entries > limit && !dlist_is_empty(&t->lru))
	{
		char	   *victim = (char *) dlist_tail_node(&t->lru) - t->lru_offset;

		dlist_delete((dlist_node *) (victim + t->lru_offset));
		if (release)
			release(victim);
		hash_search(t->table, victim, HASH_REMOVE, NULL);
		t->entries--;
		stats.evictions++;
	}
}

/*
 * bounded_insert enters a new key (absent, as the caller just looked), after
 * making room for it.
 */
static void *
bounded_insert(BoundedTable *t, const void *key, void (*release) (void *entry))
{
	char	   *entry;
	bool		found;

	bounded_trim(t, cache_size - 1, release);
	entry = hash_search(t->table, key, HASH_ENTER, &found);
	Assert(!found);
	dlist_push_head(&t->lru, (dlist_node *) (entry + t->lru_offset));
	t->entries++;
	return entry;
}

/*
 * release_token frees the record of an evicted token, after counting its
 * pending checks.
 */
static void
release_token(void *entry)
{
	CachedToken *cached = entry;

	usage_pending_forget(&cached->usage);
	pfree(cached->record);
}

/*
 * token_cache_get returns what a check needs to know of the token with this
 * digest, from the cache or else from the tables; NULL if it does not exist.
 * *usage is set to where the checks of a cached token are counted until the
 * transaction ends, or to NULL for a token that could not be cached (its
 * checks are counted at once).  Both are valid until the next cache_prepare.
 */
const TokenRecord *
token_cache_get(const uint8 *digest, UsagePending **usage)
{
	uint64		generation = cache_generation;
	CachedToken *cached;
	TokenRecord *record;
	Size		size;

	*usage = NULL;
	if (cache_usable() && (cached = bounded_lookup(&token_table, digest)) != NULL)
	{
		stats.hits++;
		*usage = &cached->usage;
		return cached->record;
	}

	stats.misses++;
	record = lookup_token(digest);
	if (record == NULL || !cache_usable() || generation != cache_generation)
		return record;

	size = offsetof(TokenRecord, grants) + record->ngrants * sizeof(TokenGrant);
	cached = bounded_insert(&token_table, digest, release_token);
	cached->record = MemoryContextAlloc(cache_context, size);
	memcpy(cached->record, record, size);
	usage_pending_init(&cached->usage, record->id);
	pfree(record);
	*usage = &cached->usage;
	return cached->record;
}

/* How name_cache_get reads a name it has not cached. */
typedef int64 (*NameLookup) (int64 scope, const char *name, size_t length);

/*
 * name_cache_get returns the id of a name within a scope (a bucket within
 * its organization, or an organization within scope 0, which no
 * organization has), from the cache or else through lookup; 0 if there is
 * none.  Only names that exist are cached, like tokens.
 */
static int64
name_cache_get(int64 scope, const char *name, size_t length, NameLookup lookup)
{
	uint64		generation = cache_generation;
	NameKey	key;
	CachedName *cached;
	int64		id;

	/* No valid name is this long, so nothing has it. */
	if (length > NAME_MAX_BYTES)
		return 0;

	if (last_name_id != 0 && cache_usable() && last_name.scope == scope &&
		last_name.name_length == length && memcmp(last_name.name, name, length) == 0)
		return last_name_id;

	key.scope = scope;
	key.name_length = (uint32) length;
	memcpy(key.name, name, length);

	if (cache_usable() && (cached = bounded_lookup(&name_table, &key)) != NULL)
	{
		name_key_copy(&last_name, &key, sizeof(key));
		last_name_id = cached->id;
		return last_name_id;
	}

	id = lookup(scope, name, length);
	if (id != 0 && cache_usable() && generation == cache_generation)
	{
		cached = bounded_insert(&name_table, &key, NULL);
		cached->id = id;
	}
	return id;
}

/*
 * lookup_org_in_scope adapts lookup_org_id to NameLookup.
 */
static int64
lookup_org_in_scope(int64 scope, const char *name, size_t length)
{
	return lookup_org_id(name, length);
}

/*
 * bucket_cache_get_id returns the id of the named bucket of an organization;
 * 0 if there is none.
 */
int64
bucket_cache_get_id(int64 org_id, const char *name, size_t length)
{
	return name_cache_get(org_id, name, length, lookup_bucket_id);
}

/*
 * org_cache_get_id returns the id of the named organization; 0 if there is
 * none.
 */
int64
org_cache_get_id(const char *name, size_t length)
{
	return name_cache_get(0, name, length, lookup_org_in_scope);
}

/*
 * cache_note_table_change is called by the trigger on the extension's
 * tables: clear this backend's cache now, and have every other backend
 * clear theirs when (and only if) this transaction commits.  One
 * invalidation per subtransaction is enough; a later one in an aborted
 * subtransaction would be lost with it, hence the subtransaction id.
 */
void
cache_note_table_change(Oid relid)
{
	cache_invalidate();
	changed_in_transaction = true;

	if (notified_lxid != COMPAT_MY_LXID ||
		notified_subxid != GetCurrentSubTransactionId())
	{
		CacheInvalidateRelcacheByRelid(relid);
		notified_lxid = COMPAT_MY_LXID;
		notified_subxid = GetCurrentSubTransactionId();
	}
}

/*
 * cache_note_table_insert is called by the trigger for an INSERT into the
 * extension's tables.  Nothing cached can be stale: a cache holds only
 * tokens, buckets and organizations that exist, and an INSERT adds ones
 * that did not (the functions that replace a token's grants delete the old
 * ones first, which invalidates).  So other backends keep their caches, and
 * so does this one, except that it may now cache rows of this transaction:
 * if it aborts, they never existed, and the cache is cleared then.
 */
void
cache_note_table_insert(void)
{
	changed_in_transaction = true;
}

/*
 * relcache_changed is the relcache callback: any invalidation of one of our
 * tables, or of every relation (InvalidOid), clears the cache and the
 * remembered relation OIDs.
 */
static void
relcache_changed(Datum arg, Oid relid)
{
	if (relid == InvalidOid || lookup_is_extension_relation(relid))
	{
		lookup_forget_relations();
		cache_invalidate();
	}
}

/*
 * transaction_ended clears the cache after an abort of a transaction that
 * changed the tables: entries may have been loaded from its changes.  (The
 * pending usage counts are added to shared memory by usage.c's own
 * callback; the entries holding them are freed only at the next check.)
 */
static void
transaction_ended(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		if (changed_in_transaction)
			cache_invalidate();
		changed_in_transaction = false;
	}
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
			 event == XACT_EVENT_PREPARE)
		changed_in_transaction = false;
}

/*
 * subtransaction_ended does the same for a rolled-back savepoint.
 */
static void
subtransaction_ended(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && changed_in_transaction)
		cache_invalidate();
}

/*
 * cache_get_stats reports the cache's counters and its current size.
 */
CacheStats
cache_get_stats(void)
{
	CacheStats	result = stats;

	result.capacity = cache_size;
	result.tokens = cache_valid ? token_table.entries : 0;
	result.buckets = cache_valid ? name_table.entries : 0;
	result.memory_bytes = cache_context ? MemoryContextMemAllocated(cache_context, true) : 0;
	return result;
}

/*
 * cache_init defines the setting and registers the callbacks; called once
 * from _PG_init.
 */
void
cache_init(void)
{
	DefineCustomIntVariable("influx_tokens.cache_size",
							"Maximum number of tokens (and of bucket and organization names) each backend caches.",
							"0 switches the cache off; every check then reads the tables.",
							&cache_size,
							10000, 0, 10000000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	CacheRegisterRelcacheCallback(relcache_changed, (Datum) 0);
	RegisterXactCallback(transaction_ended, NULL);
	RegisterSubXactCallback(subtransaction_ended, NULL);
}
