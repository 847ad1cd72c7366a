/*-------------------------------------------------------------------------
 *
 * usage.c
 *	  Per-token usage counters (last successful check, checks allowed and
 *	  denied) without a single write to a table on the check path, so that
 *	  checks stay fast and work on hot standbys.
 *
 * The counters live in shared memory, which exists only when the library is
 * in shared_preload_libraries; without it everything else works and the
 * counters read as NULL.  They are keyed by (database OID, token id), since
 * every database with the extension numbers its tokens from 1, and there
 * are at most influx_tokens.usage_max of them; checks of further tokens are
 * counted in "untracked" only.
 *
 * A check of a cached token adds to pending counts kept in its cache entry
 * (a UsagePending owned by cache.c's entry and listed here); they are added
 * to shared memory when the transaction ends, or before the entry is
 * evicted or the cache is cleared.  A check of a token that could not be
 * cached is counted at once.  last_used_at is therefore the time the
 * checking transaction flushed, not the exact check.
 *
 * Locking rules:
 *	- usage_shared->lock protects the hash table: LW_SHARED to look entries
 *	  up, add to their counters (atomics, so several backends may add at
 *	  once) and read them; LW_EXCLUSIVE to insert or remove entries.  No
 *	  pointer to an entry is kept past the release of the lock: a flush
 *	  looks its tokens up each time (one lookup under LW_SHARED when the
 *	  entry exists), and nothing touches an entry after HASH_REMOVE.
 *	- usage_shared->untracked is an atomic, updated with the lock in any mode.
 *	- usage_shared->mutex (a spinlock) protects the save requests, the
 *	  saving worker's latch and last_saved_at; "saved" is the condition
 *	  variable on which save_usage() waits for its request to be answered.
 *
 * The file, PGSTAT_STAT_PERMANENT_DIRECTORY/influx_tokens_usage.stat, has
 * one writer at a time: the saving worker while the server runs (every
 * influx_tokens.usage_save_interval seconds, and when save_usage() asks it
 * through save_requested and its latch), the postmaster at shutdown once
 * every other process is gone, and the backend itself in single-user mode.
 * It is written to a temporary file renamed over the old one (durable_rename)
 * and read by the postmaster at startup only.  It holds a header with a
 * format number, the records (with their database) and a CRC-32C; a file
 * of another format or damaged is ignored with a LOG line.  A crash loses
 * what was counted since the last save.  Only save_usage() forgets deleted
 * tokens, those of its own database.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include <unistd.h>

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "port/pg_crc32c.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#define USAGE_FILE		PGSTAT_STAT_PERMANENT_DIRECTORY "/influx_tokens_usage.stat"
#define USAGE_TEMP_FILE	USAGE_FILE ".tmp"

/*
 * The file: a UsageFileHeader, count UsageRecords, and the CRC-32C of all
 * that.  1.1 wrote the same magic number, then 0 where the format is now,
 * and records without a database: a file of any other format is ignored.
 */
#define USAGE_FILE_MAGIC	0x49545531	/* "1UTI" in little-endian bytes */
#define USAGE_FILE_FORMAT	1

/* The counters of one token of one database. */
typedef struct UsageKey
{
	Oid			dbid;
	uint32		zero;			/* always 0: keys are hashed as bytes */
	int64		token_id;
} UsageKey;

typedef struct UsageEntry
{
	UsageKey	key;			/* hash key */
	pg_atomic_uint64 allowed;
	pg_atomic_uint64 denied;
	pg_atomic_uint64 last_used;	/* TimestampTz, 0 for never */
} UsageEntry;

/* The saving worker, and how long save_usage() waits for it to answer. */
#define USAGE_SAVER_NAME		"influx_tokens usage saver"
#define USAGE_SAVE_TIMEOUT_MS	30000

typedef struct UsageShared
{
	LWLock	   *lock;			/* the table; see the top of the file */
	pg_atomic_uint64 untracked; /* checks not counted because the table was full */
	ConditionVariable saved;	/* broadcast when a save request is answered */
	slock_t		mutex;			/* protects the fields below */
	Latch	   *saver_latch;	/* the saving worker's, while it runs */
	uint64		save_requested; /* save requests made so far */
	uint64		save_answered;	/* the latest request the worker answered */
	uint64		save_succeeded; /* the latest request answered by a save */
	TimestampTz last_saved_at;	/* of the last successful save, 0 for none */
} UsageShared;

/* The start of the usage file. */
typedef struct UsageFileHeader
{
	uint32		magic;			/* USAGE_FILE_MAGIC */
	uint32		format;			/* USAGE_FILE_FORMAT */
	uint32		record_size;	/* sizeof(UsageRecord) */
	uint32		zero;			/* always 0 */
	int64		count;			/* records that follow */
	TimestampTz saved_at;
} UsageFileHeader;

/* One entry of the usage file. */
typedef struct UsageRecord
{
	UsageKey	key;
	uint64		allowed;
	uint64		denied;
	int64		last_used;
} UsageRecord;

static bool track_usage = true;
static int	usage_max = 100000;
static int	usage_save_interval = 60;

static bool usage_preloaded = false;
static UsageShared *usage_shared = NULL;
static HTAB *usage_table = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

PG_FUNCTION_INFO_V1(influx_tokens__token_usage);
PG_FUNCTION_INFO_V1(influx_tokens__usage_prune);
PG_FUNCTION_INFO_V1(influx_tokens__usage_save);
PG_FUNCTION_INFO_V1(influx_tokens_usage_stats);
/* Named by the 1.1 script. */
PG_FUNCTION_INFO_V1(usage_rows);
PG_FUNCTION_INFO_V1(usage_tracked);
PG_FUNCTION_INFO_V1(usage_prune);
PG_FUNCTION_INFO_V1(usage_save);
PGDLLEXPORT void usage_worker_main(Datum arg);

/* Pending counts of cached tokens, added to shared memory at transaction end. */
static dlist_head pending_list = DLIST_STATIC_INIT(pending_list);

/*
 * Counts of cache entries freed before the transaction ended (evicted, or
 * dropped because their token changed): a backend streaming through more
 * tokens than its cache holds frees one entry per check, and taking the
 * lock for each would make it contend with every other backend.  Added to
 * shared memory together, when ORPHANS_MAX are waiting or at usage_flush.
 */
#define ORPHANS_MAX 256
typedef struct OrphanCounts
{
	int64		token_id;
	uint64		allowed;
	uint64		denied;
} OrphanCounts;

static OrphanCounts orphans[ORPHANS_MAX];
static int	norphans = 0;

static void usage_flush_orphans(void);

/*
 * usage_available says whether the counters exist (the library is
 * preloaded), whether or not checks are counted now (track_usage).
 */
static inline bool
usage_available(void)
{
	return usage_preloaded && usage_table != NULL;
}

/*
 * usage_enabled says whether checks are counted in this process now.
 */
static inline bool
usage_enabled(void)
{
	return usage_preloaded && track_usage && usage_table != NULL;
}

/*
 * usage_shmem_size is the shared memory the counters need.
 */
static Size
usage_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(UsageShared)),
					hash_estimate_size(usage_max, sizeof(UsageEntry)));
}

/*
 * usage_shmem_request asks for the shared memory and the lock (PG 15).
 */
static void
usage_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(usage_shmem_size());
	RequestNamedLWLockTranche("influx_tokens usage", 1);
}

/*
 * usage_saved notes a successful save of the file made at saved_at.
 */
static void
usage_saved(TimestampTz saved_at)
{
	SpinLockAcquire(&usage_shared->mutex);
	usage_shared->last_saved_at = saved_at;
	SpinLockRelease(&usage_shared->mutex);
}

/*
 * usage_write_records writes the header and every counter to file, under
 * the shared lock (so that the count is exact), and adds them to *crc;
 * false if a write failed.
 */
static bool
usage_write_records(FILE *file, TimestampTz saved_at, pg_crc32c *crc)
{
	UsageFileHeader header = {USAGE_FILE_MAGIC, USAGE_FILE_FORMAT,
	sizeof(UsageRecord), 0, 0, saved_at};
	HASH_SEQ_STATUS scan;
	UsageEntry *entry;
	bool		ok;

	LWLockAcquire(usage_shared->lock, LW_SHARED);
	header.count = hash_get_num_entries(usage_table);
	COMP_CRC32C(*crc, &header, sizeof(header));
	ok = fwrite(&header, sizeof(header), 1, file) == 1;
	hash_seq_init(&scan, usage_table);
	while (ok && (entry = hash_seq_search(&scan)) != NULL)
	{
		UsageRecord record;

		record.key = entry->key;
		record.allowed = pg_atomic_read_u64(&entry->allowed);
		record.denied = pg_atomic_read_u64(&entry->denied);
		record.last_used = (int64) pg_atomic_read_u64(&entry->last_used);
		COMP_CRC32C(*crc, &record, sizeof(record));
		ok = fwrite(&record, sizeof(record), 1, file) == 1;
		if (!ok)
			hash_seq_term(&scan);
	}
	LWLockRelease(usage_shared->lock);
	return ok;
}

/*
 * usage_write_file writes every counter to USAGE_FILE, atomically and
 * durably (a temporary file, fsynced and renamed over the old one), and
 * notes the time in last_saved_at.  On any failure the temporary file is
 * closed and removed, the error is logged, and the result is false: its
 * callers (the postmaster, the saving worker) have nobody to raise an
 * ERROR to, and save_usage() raises its own.
 */
static bool
usage_write_file(void)
{
	TimestampTz now = GetCurrentTimestamp();
	FILE	   *file;
	pg_crc32c	crc;
	bool		ok;

	file = AllocateFile(USAGE_TEMP_FILE, PG_BINARY_W);
	if (file == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", USAGE_TEMP_FILE)));
		return false;
	}
	INIT_CRC32C(crc);
	ok = usage_write_records(file, now, &crc);
	FIN_CRC32C(crc);
	ok = ok && fwrite(&crc, sizeof(crc), 1, file) == 1;
	if (!ok)
	{
		int			save_errno = errno;

		FreeFile(file);
		errno = save_errno;
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", USAGE_TEMP_FILE)));
	}
	else if (FreeFile(file) != 0)
	{
		ok = false;
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", USAGE_TEMP_FILE)));
	}
	else
		ok = durable_rename(USAGE_TEMP_FILE, USAGE_FILE, LOG) == 0;
	if (!ok)
		unlink(USAGE_TEMP_FILE);
	else
		usage_saved(now);
	return ok;
}

/*
 * usage_forget_all removes every counter (a bad file was partly loaded).
 * Only at startup, in the postmaster, with no other process to see it.
 */
static void
usage_forget_all(void)
{
	HASH_SEQ_STATUS scan;
	UsageEntry *entry;

	hash_seq_init(&scan, usage_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		UsageKey	key = entry->key;

		hash_search(usage_table, &key, HASH_REMOVE, NULL);
	}
}

/*
 * usage_load_records enters the counters of a file whose header has been
 * checked; as many as influx_tokens.usage_max allows.  Returns why the file
 * is bad, or NULL; *dropped is set to the number of counters left out.
 */
static const char *
usage_load_records(FILE *file, const UsageFileHeader *header, int64 *dropped)
{
	pg_crc32c	crc;
	pg_crc32c	stored;
	int64		i;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, header, sizeof(*header));
	*dropped = 0;
	for (i = 0; i < header->count; i++)
	{
		UsageRecord record;
		UsageEntry *entry = NULL;

		if (fread(&record, sizeof(record), 1, file) != 1)
			return "It is truncated.";
		COMP_CRC32C(crc, &record, sizeof(record));
		if (record.key.zero != 0)
			return "A record is damaged.";
		if (hash_get_num_entries(usage_table) < usage_max)
			entry = hash_search(usage_table, &record.key, HASH_ENTER_NULL, NULL);
		if (entry == NULL)
		{
			(*dropped)++;
			continue;
		}
		pg_atomic_init_u64(&entry->allowed, record.allowed);
		pg_atomic_init_u64(&entry->denied, record.denied);
		pg_atomic_init_u64(&entry->last_used, (uint64) record.last_used);
	}
	FIN_CRC32C(crc);
	if (fread(&stored, sizeof(stored), 1, file) != 1)
		return "It is truncated.";
	if (!EQ_CRC32C(crc, stored))
		return "Its checksum does not match its contents.";
	if (fgetc(file) != EOF)
		return "It goes on after its end.";
	return NULL;
}

/*
 * usage_read_file loads the counters saved by usage_write_file, if any, in
 * the postmaster at startup.  A file that cannot be read, of another format
 * or damaged is ignored with a LOG line: the counters start from zero.
 */
static void
usage_read_file(void)
{
	FILE	   *file = AllocateFile(USAGE_FILE, PG_BINARY_R);
	UsageFileHeader header;
	const char *problem = NULL;
	int64		dropped = 0;

	if (file == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not open file \"%s\": %m", USAGE_FILE)));
		return;
	}
	/* Magic number and format first: a file of 1.1 may be shorter than a header. */
	if (fread(&header, offsetof(UsageFileHeader, record_size), 1, file) != 1)
		problem = "It is too short.";
	else if (header.magic != USAGE_FILE_MAGIC)
		problem = "It is not a usage counters file.";
	else if (header.format == 0)
		problem = "It was written by influx_tokens 1.1, whose counters do not say their database.";
	else if (header.format != USAGE_FILE_FORMAT)
		problem = psprintf("It is in format %u; this server reads format %d.",
						   header.format, USAGE_FILE_FORMAT);
	else if (fread(&header.record_size, sizeof(header) - offsetof(UsageFileHeader, record_size),
				   1, file) != 1)
		problem = "It is too short.";
	else if (header.record_size != sizeof(UsageRecord))
		problem = psprintf("Its records have %u bytes, not %d.",
						   header.record_size, (int) sizeof(UsageRecord));
	else if (header.count < 0)
		problem = "Its header is damaged.";
	else
		problem = usage_load_records(file, &header, &dropped);
	if (ferror(file))
		problem = psprintf("It could not be read: %m");
	FreeFile(file);

	if (problem != NULL)
	{
		usage_forget_all();
		ereport(LOG,
				(errmsg("ignoring usage counters file \"%s\"", USAGE_FILE),
				 errdetail_internal("%s", problem)));
	}
	else
		usage_saved(header.saved_at);
	if (problem == NULL && dropped > 0)
		ereport(LOG,
				(errmsg("%lld usage counters of file \"%s\" were not loaded",
						(long long) dropped, USAGE_FILE),
				 errhint("influx_tokens.usage_max is lower than the number of counters saved.")));
}

/*
 * usage_shmem_shutdown saves the counters when the postmaster exits, after
 * every other process (the saving worker included) is gone.
 */
static void
usage_shmem_shutdown(int code, Datum arg)
{
	/* Not after a crash: shared memory may be inconsistent. */
	if (code)
		return;
	(void) usage_write_file();
}

/*
 * usage_shmem_startup attaches to (or creates) the shared state; the
 * postmaster also reads the saved counters and arranges to save them.
 */
static void
usage_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	usage_shared = ShmemInitStruct("influx_tokens usage", sizeof(UsageShared), &found);
	if (!found)
	{
		usage_shared->lock = &(GetNamedLWLockTranche("influx_tokens usage"))->lock;
		pg_atomic_init_u64(&usage_shared->untracked, 0);
		ConditionVariableInit(&usage_shared->saved);
		SpinLockInit(&usage_shared->mutex);
		usage_shared->saver_latch = NULL;
		usage_shared->save_requested = 0;
		usage_shared->save_answered = 0;
		usage_shared->save_succeeded = 0;
		usage_shared->last_saved_at = 0;
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(UsageKey);
	info.entrysize = sizeof(UsageEntry);
	usage_table = ShmemInitHash("influx_tokens usage table", usage_max, usage_max,
								&info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);

	if (!IsUnderPostmaster)
	{
		if (!found)
			usage_read_file();
		on_shmem_exit(usage_shmem_shutdown, (Datum) 0);
	}
}

/*
 * usage_key is the key of a token of this database.
 */
static inline UsageKey
usage_key(int64 token_id)
{
	UsageKey	key = {MyDatabaseId, 0, token_id};

	return key;
}

/*
 * usage_add finds a token's shared entry and adds counts to it, with the
 * lock held in either mode; false if the token has no entry.  last_used
 * only moves forward, whichever backend flushes first.
 */
static bool
usage_add(const UsageKey *key, uint64 allowed, uint64 denied, TimestampTz now)
{
	UsageEntry *entry = hash_search(usage_table, key, HASH_FIND, NULL);

	if (entry == NULL)
		return false;
	pg_atomic_fetch_add_u64(&entry->allowed, allowed);
	pg_atomic_fetch_add_u64(&entry->denied, denied);
	if (allowed > 0)
	{
		uint64		last = pg_atomic_read_u64(&entry->last_used);

		while (last < (uint64) now &&
			   !pg_atomic_compare_exchange_u64(&entry->last_used, &last, (uint64) now))
			;
	}
	return true;
}

/*
 * usage_add_shared does what can be done under the shared lock: adds counts
 * to the token's entry or, when there is none and no room for one, counts
 * them as untracked (entries are only inserted under the exclusive lock,
 * so a full table stays full meanwhile).  False if the token needs a new
 * entry: then call usage_add_new under the exclusive lock.
 */
static bool
usage_add_shared(const UsageKey *key, uint64 allowed, uint64 denied, TimestampTz now)
{
	if (usage_add(key, allowed, denied, now))
		return true;
	if (hash_get_num_entries(usage_table) < usage_max)
		return false;
	pg_atomic_fetch_add_u64(&usage_shared->untracked, allowed + denied);
	return true;
}

/*
 * usage_add_new adds counts of a token that had no entry a moment ago,
 * creating the entry if there is room (influx_tokens.usage_max entries) and
 * counting the checks as untracked if not.  Call with the lock held
 * exclusively.
 */
static void
usage_add_new(const UsageKey *key, uint64 allowed, uint64 denied, TimestampTz now)
{
	UsageEntry *entry = NULL;

	if (usage_add(key, allowed, denied, now))
		return;
	if (hash_get_num_entries(usage_table) < usage_max)
		entry = hash_search(usage_table, key, HASH_ENTER_NULL, NULL);
	if (entry == NULL)
	{
		pg_atomic_fetch_add_u64(&usage_shared->untracked, allowed + denied);
		return;
	}
	pg_atomic_init_u64(&entry->allowed, 0);
	pg_atomic_init_u64(&entry->denied, 0);
	pg_atomic_init_u64(&entry->last_used, 0);
	(void) usage_add(key, allowed, denied, now);
}

/*
 * usage_count adds one token's counts to shared memory now: one lookup
 * under the shared lock when the token has an entry (or the table is full),
 * else another under the exclusive lock to create it.
 */
static void
usage_count(int64 token_id, uint64 allowed, uint64 denied)
{
	TimestampTz now = GetCurrentTimestamp();
	UsageKey	key = usage_key(token_id);
	bool		added;

	LWLockAcquire(usage_shared->lock, LW_SHARED);
	added = usage_add_shared(&key, allowed, denied, now);
	LWLockRelease(usage_shared->lock);
	if (added)
		return;
	LWLockAcquire(usage_shared->lock, LW_EXCLUSIVE);
	usage_add_new(&key, allowed, denied, now);
	LWLockRelease(usage_shared->lock);
}

/*
 * usage_pending_done clears pending counts that have been added to shared
 * memory, and takes them off the list.
 */
static void
usage_pending_done(UsagePending *pending)
{
	pending->allowed = 0;
	pending->denied = 0;
	if (pending->listed)
		dlist_delete(&pending->node);
	pending->listed = false;
}

/*
 * usage_pending_init prepares the pending counts of a token that was just
 * cached.
 */
void
usage_pending_init(UsagePending *pending, int64 token_id)
{
	pending->token_id = token_id;
	pending->allowed = 0;
	pending->denied = 0;
	pending->listed = false;
}

/*
 * usage_note_check counts the outcome of one check of a known token: in the
 * pending counts of a cached token (the hot path: two increments, counted in
 * shared memory when the transaction ends), or at once for a token that is
 * not cached (pending is NULL).
 */
void
usage_note_check(UsagePending *pending, int64 token_id, bool allowed)
{
	if (!usage_enabled())
		return;
	if (pending == NULL)
	{
		usage_count(token_id, allowed ? 1 : 0, allowed ? 0 : 1);
		return;
	}
	if (allowed)
		pending->allowed++;
	else
		pending->denied++;
	if (!pending->listed)
	{
		dlist_push_tail(&pending_list, &pending->node);
		pending->listed = true;
	}
}

/*
 * usage_pending_forget counts a token's pending checks now, before its
 * owner frees them (a cached token being evicted).
 */
void
usage_pending_forget(UsagePending *pending)
{
	if (!pending->listed)
		return;
	if (usage_table != NULL)
	{
		orphans[norphans].token_id = pending->token_id;
		orphans[norphans].allowed = pending->allowed;
		orphans[norphans].denied = pending->denied;
		if (++norphans == ORPHANS_MAX)
			usage_flush_orphans();
	}
	usage_pending_done(pending);
}

/*
 * usage_flush_orphans adds the counts of freed entries to shared memory:
 * one pass under the shared lock for the tokens that have an entry, a
 * second under the exclusive lock for the others.
 */
static void
usage_flush_orphans(void)
{
	TimestampTz now;
	int			left = 0;

	if (norphans == 0)
		return;
	now = GetCurrentTimestamp();
	LWLockAcquire(usage_shared->lock, LW_SHARED);
	for (int i = 0; i < norphans; i++)
	{
		UsageKey	key = usage_key(orphans[i].token_id);

		if (!usage_add_shared(&key, orphans[i].allowed, orphans[i].denied, now))
			orphans[left++] = orphans[i];
	}
	LWLockRelease(usage_shared->lock);
	if (left > 0)
	{
		LWLockAcquire(usage_shared->lock, LW_EXCLUSIVE);
		for (int i = 0; i < left; i++)
		{
			UsageKey	key = usage_key(orphans[i].token_id);

			usage_add_new(&key, orphans[i].allowed, orphans[i].denied, now);
		}
		LWLockRelease(usage_shared->lock);
	}
	norphans = 0;
}

/*
 * usage_flush adds every pending count to shared memory: at the end of each
 * transaction, and before the cache frees the entries holding them.  One
 * pass under the shared lock serves the tokens that have an entry (the
 * common case: one lookup each) and, once the table is full, those that
 * cannot get one; a second under the exclusive lock creates entries for
 * the others.
 */
void
usage_flush(void)
{
	dlist_mutable_iter iter;
	TimestampTz now;

	if (usage_table == NULL)
		return;
	usage_flush_orphans();
	if (dlist_is_empty(&pending_list))
		return;
	now = GetCurrentTimestamp();

	LWLockAcquire(usage_shared->lock, LW_SHARED);
	dlist_foreach_modify(iter, &pending_list)
	{
		UsagePending *pending = dlist_container(UsagePending, node, iter.cur);
		UsageKey	key = usage_key(pending->token_id);

		if (usage_add_shared(&key, pending->allowed, pending->denied, now))
			usage_pending_done(pending);
	}
	LWLockRelease(usage_shared->lock);
	if (dlist_is_empty(&pending_list))
		return;

	LWLockAcquire(usage_shared->lock, LW_EXCLUSIVE);
	dlist_foreach_modify(iter, &pending_list)
	{
		UsagePending *pending = dlist_container(UsagePending, node, iter.cur);
		UsageKey	key = usage_key(pending->token_id);

		usage_add_new(&key, pending->allowed, pending->denied, now);
		usage_pending_done(pending);
	}
	LWLockRelease(usage_shared->lock);
}

/*
 * usage_transaction_ended counts the transaction's checks in shared memory.
 */
static void
usage_transaction_ended(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
		usage_flush();
}

/*
 * usage_prune_database forgets the counters of every token of this database
 * not in live (an int8 array of the ids of the tokens that exist); returns
 * how many it forgot.  Other databases' counters are not touched.
 */
static int64
usage_prune_database(ArrayType *live)
{
	Datum	   *ids;
	int			nids;
	HTAB	   *keep;
	HASHCTL		info;
	HASH_SEQ_STATUS scan;
	UsageEntry *entry;
	int64		forgotten = 0;
	int			i;

	deconstruct_array(live, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &ids, NULL, &nids);
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(int64);
	info.entrysize = sizeof(int64);
	info.hcxt = CurrentMemoryContext;
	keep = hash_create("influx_tokens live tokens", Max(nids, 16), &info,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < nids; i++)
	{
		int64		id = DatumGetInt64(ids[i]);

		hash_search(keep, &id, HASH_ENTER, NULL);
	}

	/* Removing the entry just returned by hash_seq_search is allowed. */
	LWLockAcquire(usage_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&scan, usage_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		UsageKey	key = entry->key;

		if (key.dbid == MyDatabaseId &&
			hash_search(keep, &key.token_id, HASH_FIND, NULL) == NULL)
		{
			hash_search(usage_table, &key, HASH_REMOVE, NULL);
			forgotten++;
		}
	}
	LWLockRelease(usage_shared->lock);
	hash_destroy(keep);
	return forgotten;
}

/*
 * usage_wait_for_save waits (at most USAGE_SAVE_TIMEOUT_MS) until the saving
 * worker has answered save request number request; false if it has not.
 * *succeeded says whether the file was written.
 */
static bool
usage_wait_for_save(uint64 request, bool *succeeded)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   USAGE_SAVE_TIMEOUT_MS);
	bool		answered;

	ConditionVariablePrepareToSleep(&usage_shared->saved);
	for (;;)
	{
		long		remaining;

		SpinLockAcquire(&usage_shared->mutex);
		answered = usage_shared->save_answered >= request;
		*succeeded = usage_shared->save_succeeded >= request;
		SpinLockRelease(&usage_shared->mutex);
		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (answered || remaining <= 0)
			break;
		(void) ConditionVariableTimedSleep(&usage_shared->saved, remaining,
										   PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return answered;
}

/*
 * usage_request_save has the file written now by the saving worker, the
 * only writer while the server runs, and waits until it has; an error if the
 * save failed or the worker did not answer in time.  In single-user mode
 * there is no worker and no other process: the backend writes the file.
 */
static void
usage_request_save(void)
{
	uint64		request;
	Latch	   *latch;
	bool		answered = true;
	bool		succeeded;

	if (!IsUnderPostmaster)
		succeeded = usage_write_file();
	else
	{
		SpinLockAcquire(&usage_shared->mutex);
		request = ++usage_shared->save_requested;
		latch = usage_shared->saver_latch;
		SpinLockRelease(&usage_shared->mutex);
		/* A worker not running yet sees the request when it starts. */
		if (latch != NULL)
			SetLatch(latch);
		answered = usage_wait_for_save(request, &succeeded);
	}

	if (!answered)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the usage counters were not saved: the background worker \"%s\" did not answer within %d seconds",
						USAGE_SAVER_NAME, USAGE_SAVE_TIMEOUT_MS / 1000),
				 errhint("It needs a free slot of max_worker_processes; the server log says whether it started.")));
	if (!succeeded)
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("the usage counters could not be saved"),
				 errdetail("The reason is in the server log.")));
}

/*
 * usage_worker_save writes the file, answering every save request made up
 * to requested.
 */
static void
usage_worker_save(uint64 requested)
{
	bool		ok = usage_write_file();

	SpinLockAcquire(&usage_shared->mutex);
	usage_shared->save_answered = Max(usage_shared->save_answered, requested);
	if (ok)
		usage_shared->save_succeeded = Max(usage_shared->save_succeeded, requested);
	SpinLockRelease(&usage_shared->mutex);
	ConditionVariableBroadcast(&usage_shared->saved);
}

/*
 * usage_worker_exit tells backends that the saving worker is gone.
 */
static void
usage_worker_exit(int code, Datum arg)
{
	SpinLockAcquire(&usage_shared->mutex);
	usage_shared->saver_latch = NULL;
	SpinLockRelease(&usage_shared->mutex);
}

/*
 * usage_worker_main is the saving worker, the only writer of the file while
 * the server runs: it saves every usage_save_interval seconds and whenever
 * save_usage() asks, on primaries and hot standbys alike (it writes a file,
 * not a table).  It exits with 1 so that the postmaster starts it again
 * (after bgw_restart_time) if someone terminates it while the server runs.
 */
void
usage_worker_main(Datum arg)
{
	TimestampTz last_save = GetCurrentTimestamp();

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	on_shmem_exit(usage_worker_exit, (Datum) 0);
	SpinLockAcquire(&usage_shared->mutex);
	usage_shared->saver_latch = MyLatch;
	SpinLockRelease(&usage_shared->mutex);

	while (!ShutdownRequestPending)
	{
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz next_save = TimestampTzPlusMilliseconds(last_save,
															usage_save_interval * 1000L);
		uint64		requested;
		bool		asked;

		SpinLockAcquire(&usage_shared->mutex);
		requested = usage_shared->save_requested;
		asked = requested > usage_shared->save_answered;
		SpinLockRelease(&usage_shared->mutex);
		if (asked || now >= next_save)
		{
			usage_worker_save(requested);
			last_save = now;
			continue;
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 TimestampDifferenceMilliseconds(now, next_save), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
	proc_exit(1);
}

/* ---- SQL entry points: influx_tokens_ + the SQL name ---- */

/*
 * usage_result_desc returns the row type of a function with OUT
 * parameters, built once per call site (token_list calls _token_usage once
 * per token).
 */
static TupleDesc
usage_result_desc(FunctionCallInfo fcinfo)
{
	TupleDesc	desc = fcinfo->flinfo->fn_extra;

	if (desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		desc = BlessTupleDesc(desc);
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = desc;
	}
	return desc;
}

/*
 * _token_usage(token_id): the counters of one token of this database, for
 * the token_list view: (NULL, NULL, NULL) unless the library is preloaded,
 * (NULL, 0, 0) for a token never counted.
 */
Datum
influx_tokens__token_usage(PG_FUNCTION_ARGS)
{
	UsageKey	key = usage_key(PG_GETARG_INT64(0));
	TupleDesc	desc = usage_result_desc(fcinfo);
	Datum		values[3];
	bool		nulls[3] = {true, true, true};
	uint64		last_used = 0;
	uint64		allowed = 0;
	uint64		denied = 0;
	UsageEntry *entry;

	if (usage_available())
	{
		LWLockAcquire(usage_shared->lock, LW_SHARED);
		entry = hash_search(usage_table, &key, HASH_FIND, NULL);
		if (entry != NULL)
		{
			last_used = pg_atomic_read_u64(&entry->last_used);
			allowed = pg_atomic_read_u64(&entry->allowed);
			denied = pg_atomic_read_u64(&entry->denied);
		}
		LWLockRelease(usage_shared->lock);
		values[0] = TimestampTzGetDatum((TimestampTz) last_used);
		nulls[0] = (last_used == 0);
		values[1] = Int64GetDatum((int64) allowed);
		values[2] = Int64GetDatum((int64) denied);
		nulls[1] = nulls[2] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * _usage_prune(live_ids): forgets the counters of this database's tokens
 * not in live_ids (deleted tokens); returns how many it forgot, 0 unless
 * the library is preloaded.
 */
Datum
influx_tokens__usage_prune(PG_FUNCTION_ARGS)
{
	if (!usage_available())
		PG_RETURN_INT64(0);
	PG_RETURN_INT64(usage_prune_database(PG_GETARG_ARRAYTYPE_P(0)));
}

/*
 * _usage_save(): has the counters written to disk now; true when they
 * were, false when the library is not preloaded, an error if the save
 * failed.
 */
Datum
influx_tokens__usage_save(PG_FUNCTION_ARGS)
{
	if (!usage_available())
		PG_RETURN_BOOL(false);
	usage_request_save();
	PG_RETURN_BOOL(true);
}

/*
 * usage_stats(): tokens tracked (in every database of the cluster, which
 * share usage_max), the limit, checks not counted for lack of room, and the
 * time of the last successful save; all NULL unless the library is
 * preloaded.
 */
Datum
influx_tokens_usage_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	desc = usage_result_desc(fcinfo);
	Datum		values[4];
	bool		nulls[4] = {true, true, true, true};
	TimestampTz last_saved_at;

	if (usage_available())
	{
		LWLockAcquire(usage_shared->lock, LW_SHARED);
		values[0] = Int64GetDatum((int64) hash_get_num_entries(usage_table));
		LWLockRelease(usage_shared->lock);
		values[1] = Int32GetDatum(usage_max);
		values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&usage_shared->untracked));
		SpinLockAcquire(&usage_shared->mutex);
		last_saved_at = usage_shared->last_saved_at;
		SpinLockRelease(&usage_shared->mutex);
		values[3] = TimestampTzGetDatum(last_saved_at);
		nulls[0] = nulls[1] = nulls[2] = false;
		nulls[3] = (last_saved_at == 0);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * ---- Entry points named by the 1.1 script ----
 *
 * src/influx_tokens--1.0--1.1.sql names these symbols, and 1.1 stays
 * installable (and upgradable) with this library, so they keep working.
 */

/*
 * usage_rows(): every counter of this database, for 1.1's token_list view;
 * no rows unless the library is preloaded.
 */
Datum
usage_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS scan;
	UsageEntry *entry;

	InitMaterializedSRF(fcinfo, 0);
	if (!usage_available())
		return (Datum) 0;

	LWLockAcquire(usage_shared->lock, LW_SHARED);
	hash_seq_init(&scan, usage_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		uint64		last_used = pg_atomic_read_u64(&entry->last_used);

		if (entry->key.dbid != MyDatabaseId)
			continue;
		values[0] = Int64GetDatum(entry->key.token_id);
		values[1] = TimestampTzGetDatum((TimestampTz) last_used);
		nulls[1] = (last_used == 0);
		values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&entry->allowed));
		values[3] = Int64GetDatum((int64) pg_atomic_read_u64(&entry->denied));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(usage_shared->lock);
	return (Datum) 0;
}

/*
 * usage_tracked(): are the counters kept at all?  (1.1's token_list shows
 * NULL rather than 0 when they are not.)
 */
Datum
usage_tracked(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(usage_available());
}

/*
 * usage_prune(live_ids): 1.1's name of _usage_prune.
 */
Datum
usage_prune(PG_FUNCTION_ARGS)
{
	return influx_tokens__usage_prune(fcinfo);
}

/*
 * usage_save(): 1.1's _usage_save, which returns void.
 */
Datum
usage_save(PG_FUNCTION_ARGS)
{
	if (usage_available())
		usage_request_save();
	PG_RETURN_VOID();
}

/*
 * usage_init defines the settings; when preloaded, it also asks for shared
 * memory and starts the saving worker.  Called once from _PG_init.
 */
void
usage_init(void)
{
	BackgroundWorker worker;

	DefineCustomBoolVariable("influx_tokens.track_usage",
							 "Counts checks per token (needs shared_preload_libraries).",
							 NULL, &track_usage, true, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("influx_tokens.usage_save_interval",
							"Seconds between two writes of the usage counters to disk.",
							NULL, &usage_save_interval, 60, 1, 86400, PGC_SIGHUP,
							GUC_UNIT_S, NULL, NULL, NULL);

	/* The rest sizes shared memory: only when loaded at server start. */
	if (!process_shared_preload_libraries_in_progress)
		return;
	usage_preloaded = true;
	DefineCustomIntVariable("influx_tokens.usage_max",
							"Most tokens whose usage is counted, in all databases together (100 to 100000000).",
							"Checks of further tokens are not counted; save_usage() forgets deleted tokens.",
							&usage_max, 100000, 100, 100000000, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	RegisterXactCallback(usage_transaction_ended, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = usage_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = usage_shmem_startup;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "influx_tokens", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "usage_worker_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, USAGE_SAVER_NAME, BGW_MAXLEN);
	strlcpy(worker.bgw_type, USAGE_SAVER_NAME, BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}
