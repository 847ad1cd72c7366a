/*-------------------------------------------------------------------------
 *
 * shared_cache.c
 *	  The token cache all backends share, and the log of changed tokens that
 *	  keeps every cache right, in shared memory (only when the library is
 *	  in shared_preload_libraries).
 *
 * PostgreSQL has no invalidation message an extension can address to one
 * key, so changes travel through a ring of their own:
 *
 *	  - The ring remembers the digests of the last CHANGE_RING_SIZE changed
 *		tokens.  change_end counts every change ever published; change n
 *		sits in slot n % CHANGE_RING_SIZE.  A backend remembers how far it
 *		has read (cache.c) and, before each check, drops the tokens changed
 *		since from its own cache; one that fell more than the ring behind
 *		cannot know what it missed and drops everything.
 *	  - A transaction publishes the digests of the tokens it changed from
 *		its XACT_EVENT_COMMIT callback, which runs after the commit became
 *		visible to other snapshots (ProcArrayEndTransaction), never before,
 *		and only if it commits.  Publishing also removes those tokens from
 *		the shared table, in the same critical section.
 *	  - Publishing "everything" (TRUNCATE, a transaction that changed too
 *		many tokens to list, a committed prepared transaction that changed
 *		tokens) empties the shared table and moves change_end a whole ring
 *		ahead, so every backend drops everything.
 *	  - A prepared transaction's digests die with the session that prepared
 *		it.  Its xid is remembered here instead; every check looks whether a
 *		remembered one is over for every new snapshot (gone from the proc
 *		array) and, if it committed, publishes everything.  So its commit
 *		is in force at any backend's next check, whoever committed it (a
 *		session, logical replication's apply worker).  Prepared transactions
 *		a restart kept are unknown to the new shared memory: the first check
 *		after a start remembers every transaction its snapshot sees
 *		running, and until then nobody uses the shared table.
 *
 * The shared table holds what a check needs of a token (a TokenRecord with
 * at most SHARED_MAX_GRANTS grants), keyed by database, tokens table and
 * digest, so databases never see each other's tokens and a table dropped
 * with its extension is never read again.  Its slots are a fixed array,
 * found through a shared hash index and reused by a clock sweep: a hit sets
 * the slot's referenced bit, the sweep clears it once and evicts a slot
 * whose bit is clear.  Only tokens that exist are stored.
 *
 * A load races a commit: its snapshot may miss a change whose publication
 * comes only after.  So a backend stores what it loaded only if none of the
 * changes published since it last read the ring (before it took the
 * snapshot) names that token; a change published after the store removes
 * the entry again.  Either way no stale record survives a publication.
 *
 * Locking, once for the file: one LWLock.  Readers of the table and of the
 * ring hold it shared; stores, publications and evictions hold it
 * exclusive, so a store's look at the ring and a publication's removal
 * cannot interleave.  change_end is also read without the lock, as a hint
 * that there is nothing to read (it only grows, and is written under the
 * exclusive lock after the ring slots it covers).  The referenced bit is
 * set under the shared lock: a lost update only makes eviction slightly
 * less fair.
 *
 * Nothing here survives a restart or a crash: shared memory is created
 * anew, empty, and so is every backend's cache.  A hot standby's backends
 * never use this (see cache.c): its changes arrive by WAL replay, which
 * publishes nothing here.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include "access/transam.h"
#include "access/twophase.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/procarray.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapshot.h"

/* How many changed tokens the ring remembers. */
#define CHANGE_RING_SIZE 8192

/* Tokens with more grants than this are cached by each backend only. */
#define SHARED_MAX_GRANTS 8

#define SHARED_RECORD_BYTES \
	(offsetof(TokenRecord, grants) + SHARED_MAX_GRANTS * sizeof(TokenGrant))

typedef struct SharedKey
{
	Oid			database;
	Oid			tokens_relid;
	uint8		digest[TOKEN_DIGEST_LENGTH];
} SharedKey;

/* The hash index: key to slot. */
typedef struct SharedIndexEntry
{
	SharedKey	key;
	int32		slot;
} SharedIndexEntry;

typedef struct SharedSlot
{
	SharedKey	key;
	bool		in_use;
	bool		referenced;		/* the clock's bit */
	union
	{
		int64		align;
		char		bytes[SHARED_RECORD_BYTES];
	}			record;
} SharedSlot;

/*
 * The lock and change_end are read by every check of every backend;
 * change_end changes only when a transaction publishes.  They get a cache
 * line of their own, so that the counters and the clock, written by stores,
 * do not take it away from the readers.
 */
typedef struct SharedState
{
	union
	{
		struct
		{
			LWLock	   *lock;
			pg_atomic_uint64 change_end;	/* changes published so far */
			pg_atomic_uint32 nprepared; /* prepared[0 .. nprepared-1] are in use */
			pg_atomic_uint32 started;	/* the transactions running at start are noted */
		}			read_mostly;
		char		pad[PG_CACHE_LINE_SIZE];
	}			head;
	int32		clock_hand;
	int32		nfree;			/* free_slots[0 .. nfree-1] are unused slots */
	/* hits and misses: added by each backend at the end of its transactions */
	pg_atomic_uint64 hits;
	pg_atomic_uint64 misses;
	/* under the exclusive lock */
	uint64		stores;
	uint64		evictions;
	uint64		removals;
	uint64		flushes;
	uint8		ring[CHANGE_RING_SIZE][TOKEN_DIGEST_LENGTH];
	/*
	 * Transactions whose commit publishes everything: prepared ones that
	 * changed tokens, and every one running when the server started (among
	 * them the prepared ones a restart kept).  Room for all at once.
	 */
	TransactionId prepared[FLEXIBLE_ARRAY_MEMBER];
} SharedState;

#define shared_lock (shared->head.read_mostly.lock)
#define shared_change_end (shared->head.read_mostly.change_end)
#define shared_nprepared (shared->head.read_mostly.nprepared)
#define shared_started (shared->head.read_mostly.started)
#define PREPARED_SLOTS (MaxBackends + max_prepared_xacts)

static int	shared_cache_size = 100000;

static SharedState *shared = NULL;

/* This backend's hits and misses not yet added to the shared counters. */
static uint64 local_hits = 0;
static uint64 local_misses = 0;
static SharedSlot *slots = NULL;
static int32 *free_slots = NULL;
static HTAB *shared_index = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * shared_cache_available says whether the ring (and, when
 * influx_tokens.shared_cache_size > 0, the shared table) exists.
 */
bool
shared_cache_available(void)
{
	return shared != NULL;
}

/*
 * shared_key_hash hashes a SharedKey by the first bytes of its digest
 * (SHA-256 output needs no more mixing) and its database and table.
 */
static uint32
shared_key_hash(const void *key, Size keysize)
{
	const SharedKey *k = key;
	uint32		h;

	memcpy(&h, k->digest, sizeof(h));
	return h ^ k->database ^ (k->tokens_relid * 0x9E3779B1U);
}

/*
 * shared_cache_shmem_size is the shared memory of the ring and the table.
 */
static Size
shared_state_size(void)
{
	return add_size(offsetof(SharedState, prepared),
					mul_size(PREPARED_SLOTS, sizeof(TransactionId)));
}

static Size
shared_cache_shmem_size(void)
{
	Size		size = MAXALIGN(shared_state_size());

	if (shared_cache_size > 0)
	{
		size = add_size(size, mul_size(shared_cache_size, sizeof(SharedSlot)));
		size = add_size(size, mul_size(shared_cache_size, sizeof(int32)));
		size = add_size(size, hash_estimate_size(shared_cache_size, sizeof(SharedIndexEntry)));
	}
	return size;
}

/*
 * shared_cache_shmem_request asks for the shared memory and the lock.
 */
static void
shared_cache_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_cache_shmem_size());
	RequestNamedLWLockTranche("influx_tokens cache", 1);
}

/*
 * shared_cache_shmem_startup creates (or attaches to) the shared state.
 */
static void
shared_cache_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("influx_tokens cache", shared_state_size(), &found);
	if (!found)
	{
		memset(shared, 0, shared_state_size());
		shared_lock = &(GetNamedLWLockTranche("influx_tokens cache"))->lock;
		pg_atomic_init_u64(&shared_change_end, 0);
		pg_atomic_init_u32(&shared_nprepared, 0);
		pg_atomic_init_u32(&shared_started, 0);
		pg_atomic_init_u64(&shared->hits, 0);
		pg_atomic_init_u64(&shared->misses, 0);
	}
	if (shared_cache_size > 0)
	{
		HASHCTL		info;
		bool		slots_found;

		slots = ShmemInitStruct("influx_tokens cache slots",
								mul_size(shared_cache_size, sizeof(SharedSlot)), &slots_found);
		free_slots = ShmemInitStruct("influx_tokens cache free slots",
									 mul_size(shared_cache_size, sizeof(int32)), &slots_found);
		if (!found)
		{
			memset(slots, 0, mul_size(shared_cache_size, sizeof(SharedSlot)));
			for (int i = 0; i < shared_cache_size; i++)
				free_slots[i] = shared_cache_size - 1 - i;
			shared->nfree = shared_cache_size;
		}
		memset(&info, 0, sizeof(info));
		info.keysize = sizeof(SharedKey);
		info.entrysize = sizeof(SharedIndexEntry);
		info.hash = shared_key_hash;
		info.match = memcmp;
		shared_index = ShmemInitHash("influx_tokens cache index",
									 shared_cache_size, shared_cache_size,
									 &info, HASH_ELEM | HASH_FUNCTION | HASH_COMPARE);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * shared_key is the key of a token of this database's tokens table.
 */
static inline SharedKey
shared_key(Oid tokens_relid, const uint8 *digest)
{
	SharedKey	key;

	memset(&key, 0, sizeof(key));
	key.database = MyDatabaseId;
	key.tokens_relid = tokens_relid;
	memcpy(key.digest, digest, TOKEN_DIGEST_LENGTH);
	return key;
}

/*
 * shared_cache_change_end returns how many changes were published so far
 * (without the lock: a hint, see the top of the file).
 */
uint64
shared_cache_change_end(void)
{
	pg_read_barrier();
	return pg_atomic_read_u64(&shared_change_end);
}

/*
 * shared_cache_changes_since copies into changed (room for max digests) the
 * digests of the changes published since *seen, at most max of them, and
 * moves *seen past them.  Returns their number, or -1 if the ring no longer
 * holds them all (the caller drops everything; *seen is then the end).
 */
int
shared_cache_changes_since(uint64 *seen, uint8 (*changed)[TOKEN_DIGEST_LENGTH], int max)
{
	uint64		end;
	int			count = 0;

	LWLockAcquire(shared_lock, LW_SHARED);
	end = pg_atomic_read_u64(&shared_change_end);
	if (end - *seen > CHANGE_RING_SIZE)
	{
		count = -1;
		*seen = end;
	}
	else
		for (; *seen < end && count < max; (*seen)++)
			memcpy(changed[count++], shared->ring[*seen % CHANGE_RING_SIZE], TOKEN_DIGEST_LENGTH);
	LWLockRelease(shared_lock);
	return count;
}

/*
 * shared_cache_get returns a copy, allocated in context, of the record of
 * the token with this digest in the tokens table tokens_relid of this
 * database, or NULL if the shared table does not hold it.
 */
TokenRecord *
shared_cache_get(Oid tokens_relid, const uint8 *digest, MemoryContext context)
{
	SharedKey	key;
	SharedIndexEntry *entry;
	TokenRecord *copy = NULL;

	if (shared_index == NULL)
		return NULL;
	key = shared_key(tokens_relid, digest);
	LWLockAcquire(shared_lock, LW_SHARED);
	entry = hash_search(shared_index, &key, HASH_FIND, NULL);
	if (entry != NULL)
	{
		SharedSlot *slot = &slots[entry->slot];
		const TokenRecord *record = (const TokenRecord *) slot->record.bytes;
		Size		size = offsetof(TokenRecord, grants) + record->ngrants * sizeof(TokenGrant);

		/* An allocation cannot fail here but by an ERROR, which releases the lock. */
		copy = MemoryContextAlloc(context, size);
		memcpy(copy, record, size);
		if (!slot->referenced)
			slot->referenced = true;
	}
	LWLockRelease(shared_lock);
	if (copy != NULL)
		local_hits++;
	else
		local_misses++;
	return copy;
}

/*
 * shared_cache_count_usage adds this backend's hits and misses to the
 * shared counters (at the end of each transaction).
 */
void
shared_cache_count_usage(void)
{
	if (shared == NULL || (local_hits == 0 && local_misses == 0))
		return;
	pg_atomic_fetch_add_u64(&shared->hits, local_hits);
	pg_atomic_fetch_add_u64(&shared->misses, local_misses);
	local_hits = 0;
	local_misses = 0;
}

/*
 * remove_slot frees a slot and its index entry (exclusive lock held).
 */
static void
remove_slot(int32 slot_number)
{
	SharedSlot *slot = &slots[slot_number];

	hash_search(shared_index, &slot->key, HASH_REMOVE, NULL);
	slot->in_use = false;
	free_slots[shared->nfree++] = slot_number;
}

/*
 * claim_slot returns a free slot, evicting by the clock if none is
 * (exclusive lock held).
 */
static int32
claim_slot(void)
{
	while (shared->nfree == 0)
	{
		int32		hand = shared->clock_hand;
		SharedSlot *slot = &slots[hand];

		shared->clock_hand = (hand + 1) % shared_cache_size;
		if (slot->referenced)
			slot->referenced = false;
		else if (slot->in_use)
		{
			remove_slot(hand);
			shared->evictions++;
		}
	}
	return free_slots[--shared->nfree];
}

/*
 * shared_cache_put stores the record of a token just loaded from the
 * tables, unless a change published after seen (the ring position the
 * loading backend had read before its snapshot) names the token, the
 * record has too many grants, or another backend stored it meanwhile.
 */
void
shared_cache_put(Oid tokens_relid, const uint8 *digest, const TokenRecord *record,
				 uint64 seen)
{
	SharedKey	key;
	SharedIndexEntry *entry;
	uint64		end;
	bool		found;
	int32		slot_number;
	SharedSlot *slot;

	if (shared_index == NULL || record->ngrants > SHARED_MAX_GRANTS)
		return;
	key = shared_key(tokens_relid, digest);

	LWLockAcquire(shared_lock, LW_EXCLUSIVE);
	end = pg_atomic_read_u64(&shared_change_end);
	if (end - seen > CHANGE_RING_SIZE)
	{
		LWLockRelease(shared_lock);
		return;
	}
	for (uint64 n = seen; n < end; n++)
		if (memcmp(shared->ring[n % CHANGE_RING_SIZE], digest, TOKEN_DIGEST_LENGTH) == 0)
		{
			LWLockRelease(shared_lock);
			return;
		}
	if (hash_search(shared_index, &key, HASH_FIND, NULL) != NULL)
	{
		LWLockRelease(shared_lock);
		return;
	}

	slot_number = claim_slot();
	entry = hash_search(shared_index, &key, HASH_ENTER_NULL, &found);
	if (entry == NULL)
	{
		/* The index is full (it is sized for every slot; should not happen). */
		free_slots[shared->nfree++] = slot_number;
		LWLockRelease(shared_lock);
		return;
	}
	entry->slot = slot_number;
	slot = &slots[slot_number];
	slot->key = key;
	slot->in_use = true;
	slot->referenced = false;
	memcpy(slot->record.bytes, record,
		   offsetof(TokenRecord, grants) + record->ngrants * sizeof(TokenGrant));
	shared->stores++;
	LWLockRelease(shared_lock);
}

/*
 * shared_cache_publish makes changes of the committed transaction known to
 * every backend: the tokens with these digests (in tokens_relid of this
 * database), or every token when everything is true or there are too many
 * to list.  Called from the commit callback: it must not fail, and it does
 * not (no allocation, no error path).
 */
static void
publish_locked(Oid tokens_relid, uint8 (*digests)[TOKEN_DIGEST_LENGTH], int count,
			   bool everything)
{
	uint64		end = pg_atomic_read_u64(&shared_change_end);

	if (everything || count > CHANGE_RING_SIZE / 2)
	{
		if (shared_index != NULL)
			for (int32 i = 0; i < shared_cache_size; i++)
				if (slots[i].in_use)
					remove_slot(i);
		shared->flushes++;
		end += CHANGE_RING_SIZE + 1;
	}
	else
		for (int i = 0; i < count; i++)
		{
			memcpy(shared->ring[end % CHANGE_RING_SIZE], digests[i], TOKEN_DIGEST_LENGTH);
			end++;
			if (shared_index != NULL)
			{
				SharedKey	key = shared_key(tokens_relid, digests[i]);
				SharedIndexEntry *entry = hash_search(shared_index, &key, HASH_FIND, NULL);

				if (entry != NULL)
				{
					remove_slot(entry->slot);
					shared->removals++;
				}
			}
		}
	pg_write_barrier();
	pg_atomic_write_u64(&shared_change_end, end);
}

void
shared_cache_publish(Oid tokens_relid, uint8 (*digests)[TOKEN_DIGEST_LENGTH], int count,
					 bool everything)
{
	LWLockAcquire(shared_lock, LW_EXCLUSIVE);
	publish_locked(tokens_relid, digests, count, everything);
	LWLockRelease(shared_lock);
}

/*
 * resolved_prepared says whether a remembered transaction is over for every
 * new snapshot (not in the proc array any more: its commit is in the commit
 * log before that), and whether it committed.
 */
static bool
resolved_prepared(TransactionId xid, bool *committed)
{
	if (TransactionIdIsInProgress(xid))
		return false;
	*committed = TransactionIdDidCommit(xid);
	return true;
}

/*
 * forget_resolved publishes everything if a remembered transaction
 * committed, and forgets those that are over (exclusive lock held).
 */
static void
forget_resolved(void)
{
	uint32		n = pg_atomic_read_u32(&shared_nprepared);

	for (uint32 i = 0; i < n;)
	{
		bool		committed;

		if (resolved_prepared(shared->prepared[i], &committed))
		{
			if (committed)
				publish_locked(InvalidOid, NULL, 0, true);
			shared->prepared[i] = shared->prepared[--n];
		}
		else
			i++;
	}
	pg_atomic_write_u32(&shared_nprepared, n);
}

/*
 * remember_locked adds a transaction to those whose commit publishes
 * everything (exclusive lock held).  There is room for every transaction
 * that can be running or prepared at once, once the resolved ones are
 * forgotten.
 */
static void
remember_locked(TransactionId xid)
{
	uint32		n = pg_atomic_read_u32(&shared_nprepared);

	for (uint32 i = 0; i < n; i++)
		if (TransactionIdEquals(shared->prepared[i], xid))
			return;
	if (n == (uint32) PREPARED_SLOTS)
	{
		forget_resolved();
		n = pg_atomic_read_u32(&shared_nprepared);
		if (n == (uint32) PREPARED_SLOTS)
			return;				/* cannot happen: see above */
	}
	shared->prepared[n] = xid;
	pg_atomic_write_u32(&shared_nprepared, n + 1);
}

/*
 * shared_cache_note_prepared remembers a transaction being prepared that
 * changed tokens: its digests die with the preparing session, so when it
 * commits, whoever checks first publishes everything
 * (shared_cache_check_prepared).
 */
void
shared_cache_note_prepared(TransactionId xid)
{
	LWLockAcquire(shared_lock, LW_EXCLUSIVE);
	remember_locked(xid);
	LWLockRelease(shared_lock);
}

/*
 * shared_cache_started says whether the transactions running when the
 * server started have been noted; until then nobody reads or fills the
 * shared table.  shared_cache_note_started notes them, from the first
 * check after the start: a prepared transaction the restart kept is among
 * them, and which tokens it changed was known only to a session that is
 * gone.  Any transaction then running is noted too (it costs one
 * publication of everything when it commits).
 */
bool
shared_cache_started(void)
{
	return pg_atomic_read_u32(&shared_started) != 0;
}

void
shared_cache_note_started(Snapshot snapshot)
{
	LWLockAcquire(shared_lock, LW_EXCLUSIVE);
	if (pg_atomic_read_u32(&shared_started) == 0)
	{
		for (uint32 i = 0; i < snapshot->xcnt; i++)
			remember_locked(snapshot->xip[i]);
		pg_write_barrier();
		pg_atomic_write_u32(&shared_started, 1);
	}
	LWLockRelease(shared_lock);
}

/*
 * shared_cache_check_prepared publishes everything once a remembered
 * transaction has committed, and forgets the ones that are over.  Every
 * check in shared mode calls it; it costs one atomic read while none is
 * remembered.
 */
void
shared_cache_check_prepared(void)
{
	uint32		n;
	bool		any_resolved = false;

	if (pg_atomic_read_u32(&shared_nprepared) == 0)
		return;

	LWLockAcquire(shared_lock, LW_SHARED);
	n = pg_atomic_read_u32(&shared_nprepared);
	for (uint32 i = 0; i < n && !any_resolved; i++)
	{
		bool		committed;

		any_resolved = resolved_prepared(shared->prepared[i], &committed);
	}
	LWLockRelease(shared_lock);
	if (!any_resolved)
		return;

	LWLockAcquire(shared_lock, LW_EXCLUSIVE);
	forget_resolved();
	LWLockRelease(shared_lock);
}

/*
 * shared_cache_get_stats reports the shared table's counters.
 */
SharedCacheStats
shared_cache_get_stats(void)
{
	SharedCacheStats result;

	memset(&result, 0, sizeof(result));
	result.capacity = shared_cache_size;
	result.memory_bytes = (int64) shared_cache_shmem_size();
	result.bytes_per_token = shared_cache_size > 0 ?
		(int64) (shared_cache_shmem_size() - MAXALIGN(shared_state_size())) / shared_cache_size : 0;
	result.max_grants = SHARED_MAX_GRANTS;
	LWLockAcquire(shared_lock, LW_SHARED);
	result.tokens = shared_index ? shared_cache_size - shared->nfree : 0;
	result.hits = (int64) pg_atomic_read_u64(&shared->hits);
	result.misses = (int64) pg_atomic_read_u64(&shared->misses);
	result.stores = (int64) shared->stores;
	result.evictions = (int64) shared->evictions;
	result.removals = (int64) shared->removals;
	result.flushes = (int64) shared->flushes;
	result.changes = (int64) pg_atomic_read_u64(&shared_change_end);
	LWLockRelease(shared_lock);
	return result;
}

/*
 * shared_cache_init defines the setting and asks for shared memory; called
 * once from _PG_init.  Without preloading nothing is shared and every
 * backend's cache works alone (cache.c).
 */
void
shared_cache_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("influx_tokens.shared_cache_size",
							"Tokens cached in shared memory for all backends (0 switches the shared table off).",
							"Changed tokens are still tracked per token when 0.",
							&shared_cache_size, 100000, 0, 50000000, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shared_cache_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shared_cache_shmem_startup;
}
