/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Per-backend cache of tokens (by digest) and of bucket and organization
 *	  names (by scope and name), in front of the shared token cache
 *	  (shared_cache.c), and the invalidation of both.
 *
 * Correctness first.  A backend works in one of two modes, chosen at its
 * first check:
 *
 *	  shared: the library is preloaded and the server is not a hot standby.
 *		A change to a token (every UPDATE or DELETE of a tokens or
 *		permissions row that touches what a check reads) fires a row-level
 *		trigger (cache_note_token_change) that drops that token from this
 *		backend's cache at once, so the changing session sees its own
 *		uncommitted change, and remembers its digests; the transaction's
 *		commit callback publishes them through the shared ring, which also
 *		drops them from the shared table (shared_cache.c explains why no
 *		stale record survives).  Every check first drops the tokens the ring
 *		names since the last one.  An aborted transaction publishes nothing.
 *		Organization and bucket changes stay coarse (they are rare): they
 *		clear every backend's name cache through a relcache invalidation.
 *	  alone: no shared memory (not preloaded), or a hot standby, whose
 *		changes arrive by WAL replay.  Every change to a table checks read
 *		clears the whole cache: the changing backend's at once, every other
 *		backend's through the relcache invalidation the change registers,
 *		which PostgreSQL delivers when (and only if) the transaction commits,
 *		and, through the WAL, on hot standbys.
 *
 * Writers register that relcache invalidation in both modes, for the
 * backends and standbys that work alone; a backend in shared mode ignores
 * it for tokens and permissions (the ring says which token changed).
 * An INSERT changes nothing cached (cache_note_table_insert), so creating
 * tokens leaves every cache warm.  Checks call AcceptInvalidationMessages()
 * before trusting the cache.  A transaction that changed the tables
 * neither reads nor fills the shared table (it may see its own uncommitted
 * rows), and its abort, a rolled-back savepoint or its PREPARE clears this
 * backend's cache, since entries may have been loaded from its changes.
 * A prepared transaction's digests die with the session that prepared it;
 * its PREPARE has the shared state remember it instead, and the first check
 * after its commit, whoever commits it, publishes everything
 * (shared_cache.c, which also covers one a restart kept).
 *
 * A load can race with a commit elsewhere: the snapshot misses the commit
 * but its invalidation arrives while we read.  Each load therefore notes
 * the cache generation before taking its snapshot and stores its result only
 * if no invalidation came in between.  (A change published through the ring
 * meanwhile is dropped at the next check, since the ring is read from where
 * this backend stood before the snapshot.)
 *
 * Only tokens that exist are cached (whatever their status), so a flood of
 * unknown tokens can never push known ones out.  Both tables are bounded by
 * influx_tokens.cache_size entries and evict the least recently used.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "common/hashfn.h"
#include "lib/ilist.h"
#include "mb/pg_wchar.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

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
static bool names_valid = false;

typedef enum CacheMode
{
	CACHE_MODE_UNDECIDED,		/* before the first check: nothing cached yet */
	CACHE_MODE_ALONE,
	CACHE_MODE_SHARED
} CacheMode;

static CacheMode cache_mode = CACHE_MODE_UNDECIDED;

/*
 * How far this backend has read the ring of changed tokens (shared mode),
 * and how many it reads at a time.
 */
#define CHANGES_PER_READ 64
static uint64 changes_seen = 0;

/*
 * The tokens table whose rows this backend's cache holds (shared mode), and
 * whether a relcache invalidation of it came in since that was checked.
 */
static Oid	cached_tokens_relid = InvalidOid;
static bool recheck_tokens_relid = true;

/*
 * The tokens this transaction changed, published when it commits (shared
 * memory available); past PENDING_MAX, "everything" instead.
 */
#define PENDING_MAX 1024
static uint8 (*pending_digests)[TOKEN_DIGEST_LENGTH] = NULL;
static int	pending_count = 0;
static bool pending_everything = false;
static Oid	pending_tokens_relid = InvalidOid;


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
 * names_build creates the name table in cache_context.
 */
static void
names_build(void)
{
	HASHCTL		ctl;

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
	names_valid = true;
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

	names_build();
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
 * names_invalidate forgets every cached name (shared mode: an organization
 * or a bucket changed); given back at the next check, like the cache.
 */
static void
names_invalidate(void)
{
	cache_generation++;
	last_name_id = 0;
	names_valid = false;
}

/*
 * forget_token drops the token with this digest from this backend's cache,
 * counting its pending checks first.
 */
static void
forget_token(const uint8 *digest)
{
	CachedToken *cached;

	if (!cache_valid)
		return;
	cached = hash_search(token_table.table, digest, HASH_FIND, NULL);
	if (cached == NULL)
		return;
	dlist_delete(&cached->lru);
	release_token(cached);
	hash_search(token_table.table, digest, HASH_REMOVE, NULL);
	token_table.entries--;
}

/*
 * decide_mode chooses how this backend's cache is kept right (see the top
 * of the file), once, at its first check, before anything is cached.  A
 * backend that first checked on a hot standby stays alone after a
 * promotion: invalidations replayed before it may still be on their way.
 * One whose first check comes after the promotion starts with an empty
 * cache, after the replay, and may share.
 */
static void
decide_mode(void)
{
	if (shared_cache_available() && !RecoveryInProgress())
	{
		cache_mode = CACHE_MODE_SHARED;
		changes_seen = shared_cache_change_end();
	}
	else
		cache_mode = CACHE_MODE_ALONE;
}

/*
 * read_changes drops the tokens changed elsewhere since the last check, or
 * everything if the ring no longer holds them all.
 */
static void
read_changes(void)
{
	uint8		changed[CHANGES_PER_READ][TOKEN_DIGEST_LENGTH];
	int			count;

	while (shared_cache_change_end() != changes_seen)
	{
		count = shared_cache_changes_since(&changes_seen, changed, CHANGES_PER_READ);
		if (count < 0)
		{
			cache_invalidate();
			return;
		}
		for (int i = 0; i < count; i++)
			forget_token(changed[i]);
	}
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
	if (cache_mode == CACHE_MODE_UNDECIDED)
		decide_mode();
	if (cache_mode == CACHE_MODE_SHARED)
	{
		/*
		 * The relcache invalidations that shared mode ignores also announce
		 * a dropped extension: tokens of another tokens table are not these.
		 */
		if (recheck_tokens_relid)
		{
			Oid			tokens_relid = lookup_tokens_relid();

			if (tokens_relid != cached_tokens_relid)
				cache_invalidate();
			cached_tokens_relid = tokens_relid;
			recheck_tokens_relid = false;
		}
		if (!shared_cache_started())
			shared_cache_note_started(GetLatestSnapshot());
		shared_cache_check_prepared();
		read_changes();
	}
	if (!cache_valid)
	{
		usage_flush();
		if (cache_context != NULL)
			MemoryContextReset(cache_context);
		cache_build();
	}
	else if (!names_valid)
	{
		hash_destroy(name_table.table);
		names_build();
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
 * names_usable is the same for the name table.
 */
static inline bool
names_usable(void)
{
	return cache_usable() && names_valid;
}

/*
 * shared_usable says whether the shared table may be read and filled now:
 * this transaction changed nothing it could see uncommitted.
 */
static inline bool
shared_usable(void)
{
	return cache_mode == CACHE_MODE_SHARED && cache_usable() && !changed_in_transaction &&
		shared_cache_started();
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
 * keep_record enters a token's record (allocated in cache_context) in the
 * cache, with its pending usage counts, and returns it.
 */
static const TokenRecord *
keep_record(const uint8 *digest, TokenRecord *record, UsagePending **usage)
{
	CachedToken *cached = bounded_insert(&token_table, digest, release_token);

	cached->record = record;
	usage_pending_init(&cached->usage, record->id);
	*usage = &cached->usage;
	return record;
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
	TokenRecord *record = NULL;
	TokenRecord *copy;
	Size		size;

	*usage = NULL;
	if (cache_usable() && (cached = bounded_lookup(&token_table, digest)) != NULL)
	{
		stats.hits++;
		*usage = &cached->usage;
		return cached->record;
	}

	stats.misses++;
	if (shared_usable())
	{
		Oid			tokens_relid = lookup_tokens_relid();

		/* A shared hit is copied straight into the cache: nothing else can stale it now. */
		record = shared_cache_get(tokens_relid, digest, cache_context);
		if (record != NULL)
			return keep_record(digest, record, usage);
		record = lookup_token(digest);
		if (record != NULL)
			shared_cache_put(tokens_relid, digest, record, changes_seen);
	}
	else
		record = lookup_token(digest);
	if (record == NULL || !cache_usable() || generation != cache_generation)
		return record;

	size = offsetof(TokenRecord, grants) + record->ngrants * sizeof(TokenGrant);
	copy = MemoryContextAlloc(cache_context, size);
	memcpy(copy, record, size);
	pfree(record);
	return keep_record(digest, copy, usage);
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

	if (last_name_id != 0 && names_usable() && last_name.scope == scope &&
		last_name.name_length == length && memcmp(last_name.name, name, length) == 0)
		return last_name_id;

	key.scope = scope;
	key.name_length = (uint32) length;
	memcpy(key.name, name, length);

	if (names_usable() && (cached = bounded_lookup(&name_table, &key)) != NULL)
	{
		name_key_copy(&last_name, &key, sizeof(key));
		last_name_id = cached->id;
		return last_name_id;
	}

	id = lookup(scope, name, length);
	if (id != 0 && names_usable() && generation == cache_generation)
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
 * notify_others registers, once per subtransaction, the relcache
 * invalidation of a changed table: PostgreSQL delivers it to every other
 * backend (and, through the WAL, to hot standbys) when, and only if, this
 * transaction commits.  One per subtransaction is enough; a later one in
 * an aborted subtransaction would be lost with it, hence the subtransaction
 * id.
 */
static void
notify_others(Oid relid)
{
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
 * pending_reset forgets the changes of the transaction that ended.
 */
static void
pending_reset(void)
{
	pending_count = 0;
	pending_everything = false;
}

/*
 * cache_note_table_change is called by the trigger for a change of an
 * organization or a bucket (coarse, see the top of the file): clear this
 * backend's cache now, and have every other backend clear theirs, or their
 * name caches, when (and only if) this transaction commits.
 */
void
cache_note_table_change(Oid relid)
{
	cache_invalidate();
	notify_others(relid);
}

/*
 * cache_note_token_change is called by the row trigger for a change of a
 * tokens or permissions row (relid) that changed the record of the tokens
 * with these digests: drop them here now, and from every cache when this
 * transaction commits.
 */
void
cache_note_token_change(Oid relid, uint8 (*digests)[TOKEN_DIGEST_LENGTH], int count)
{
	for (int i = 0; i < count; i++)
		forget_token(digests[i]);
	notify_others(relid);
	if (!shared_cache_available() || pending_everything)
		return;
	if (pending_digests == NULL)
		pending_digests = MemoryContextAlloc(TopMemoryContext,
											 PENDING_MAX * TOKEN_DIGEST_LENGTH);
	pending_tokens_relid = lookup_tokens_relid();
	if (pending_count + count > PENDING_MAX)
	{
		pending_everything = true;
		return;
	}
	memcpy(pending_digests[pending_count], digests, (Size) count * TOKEN_DIGEST_LENGTH);
	pending_count += count;
}

/*
 * cache_note_descendants_changed is called by the row trigger for a change
 * of these tokens that their descendants' records depend on (lookup.c's
 * lineage): drop the descendants as cache_note_token_change drops a token,
 * or, past what one transaction names one by one, every token.
 */
void
cache_note_descendants_changed(Oid relid, const int64 *token_ids, int count)
{
	int			ndigests;
	uint8		(*digests)[TOKEN_DIGEST_LENGTH] =
		lookup_descendant_digests(token_ids, count, PENDING_MAX / 2, &ndigests);

	if (ndigests < 0)
		cache_note_every_token_changed(relid);
	else if (ndigests > 0)
		cache_note_token_change(relid, digests, ndigests);
	if (digests != NULL)
		pfree(digests);
}

/*
 * cache_note_every_token_changed is called by the trigger for a TRUNCATE of
 * tokens or permissions: as cache_note_table_change, and every cache drops
 * every token when this transaction commits.
 */
void
cache_note_every_token_changed(Oid relid)
{
	cache_note_table_change(relid);
	pending_everything = true;
}

/*
 * cache_note_token_id_changed is cache_note_token_change for the token with
 * this id, named by a function that replaced its grants (an empty set of
 * grants deletes no row, and new rows invalidate nothing).
 */
void
cache_note_token_id_changed(int64 token_id)
{
	uint8		digests[LOOKUP_MAX_CHANGED_DIGESTS][TOKEN_DIGEST_LENGTH];
	int			count = lookup_token_digests(token_id, digests);

	if (count > 0)
		cache_note_token_change(lookup_tokens_relid(), digests, count);
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
 * relcache_changed is the relcache callback.  An invalidation of every
 * relation (InvalidOid) clears the cache; one of our tables also makes
 * lookups find the relations again, and clears the cache when this backend
 * works alone, or (shared mode) the name cache for an organization or
 * bucket change: the ring says which tokens changed.
 */
static void
relcache_changed(Datum arg, Oid relid)
{
	if (relid == InvalidOid)
	{
		lookup_forget_relations();
		recheck_tokens_relid = true;
		cache_invalidate();
	}
	else if (lookup_is_extension_relation(relid))
	{
		bool		token_data = lookup_was_token_relation(relid);

		lookup_forget_relations();
		recheck_tokens_relid = true;
		if (cache_mode != CACHE_MODE_SHARED)
			cache_invalidate();
		else if (!token_data)
			names_invalidate();
	}
}

/*
 * transaction_ended publishes a committed transaction's token changes
 * (after the commit is visible to every snapshot: see shared_cache.c), and
 * clears the cache after an abort or a PREPARE of a transaction that
 * changed the tables: entries may have been loaded from its changes.  (The
 * pending usage counts are added to shared memory by usage.c's own
 * callback; the entries holding them are freed only at the next check.)
 */
static void
transaction_ended(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if ((pending_count > 0 || pending_everything) && shared_cache_available())
				shared_cache_publish(pending_tokens_relid, pending_digests, pending_count,
									 pending_everything);
			pending_reset();
			changed_in_transaction = false;
			shared_cache_count_usage();
			break;
		case XACT_EVENT_PRE_PREPARE:

			/*
			 * The digests die with this session.  The shared state remembers
			 * the transaction, so that any backend's next check after its
			 * commit drops everything (shared_cache.c); after a restart, the
			 * first check remembers every transaction then running, this one
			 * among them (shared_cache_note_started).
			 */
			if ((pending_count > 0 || pending_everything) && shared_cache_available())
			{
				TransactionId xid = GetTopTransactionIdIfAny();

				if (TransactionIdIsValid(xid))
					shared_cache_note_prepared(xid);
			}
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (changed_in_transaction)
				cache_invalidate();
			pending_reset();
			changed_in_transaction = false;
			shared_cache_count_usage();
			break;
		default:
			break;
	}
}

/*
 * subtransaction_ended does the same for a rolled-back savepoint (its
 * digests stay pending: publishing a token that did not change costs one
 * reload).
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
