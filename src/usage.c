/*-------------------------------------------------------------------------
 *
 * usage.c
 *	  Per-token usage counters (last successful check, checks allowed and
 *	  denied) without a single write to a table on the check path, so that
 *	  checks stay fast and work on hot standbys.
 *
 * The counters live in shared memory, which exists only when the library is
 * in shared_preload_libraries; without it everything else works and the
 * counters read as NULL.  A check adds to counters in the backend's own
 * cached token record (cache.c); those are added to shared memory, with
 * atomics under a shared lock, when the transaction ends, or before the
 * record is evicted or the cache is cleared.  last_used_at is therefore the
 * time the checking transaction flushed, not the exact check.
 *
 * The counters are written to pg_stat/influx_tokens_usage.stat at shutdown,
 * every influx_tokens.usage_save_interval seconds by a background worker,
 * and on demand (save_usage()), and read back at startup.  A crash loses
 * what was counted since the last write.  Entries are never removed behind a
 * backend's back: only save_usage() forgets deleted tokens, under the
 * exclusive lock, and flushes hold the shared lock and check the key.
 *
 *-------------------------------------------------------------------------
 */
#include "influx_tokens.h"

#include <unistd.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#define USAGE_FILE "pg_stat/influx_tokens_usage.stat"
#define USAGE_FILE_MAGIC 0x49545531	/* "ITU1" */

typedef struct UsageEntry
{
	int64		token_id;		/* hash key */
	pg_atomic_uint64 allowed;
	pg_atomic_uint64 denied;
	pg_atomic_uint64 last_used;	/* TimestampTz, 0 for never */
} UsageEntry;

typedef struct UsageShared
{
	LWLock	   *lock;			/* shared: find and add; exclusive: insert, prune */
	pg_atomic_uint64 untracked; /* checks not counted because the table was full */
} UsageShared;

/* One entry of the usage file. */
typedef struct UsageRecord
{
	int64		token_id;
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

PG_FUNCTION_INFO_V1(usage_rows);
PG_FUNCTION_INFO_V1(usage_tracked);
PG_FUNCTION_INFO_V1(usage_prune);
PG_FUNCTION_INFO_V1(usage_save);
PGDLLEXPORT void usage_worker_main(Datum arg);

/*
 * usage_enabled says whether checks are counted in this process now.
 */
bool
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
 * usage_write_file writes every counter to USAGE_FILE, atomically (a
 * temporary file renamed over the old one).  Errors are reported at level
 * elevel: LOG where nobody is there to see an ERROR (postmaster, worker).
 */
static bool
usage_write_file(int elevel)
{
	const char *tmpfile = USAGE_FILE ".tmp";
	FILE	   *file;
	HASH_SEQ_STATUS scan;
	UsageEntry *entry;
	uint32		header[2] = {USAGE_FILE_MAGIC, 0};
	int64		count = 0;

	file = AllocateFile(tmpfile, PG_BINARY_W);
	if (file == NULL)
		goto error;
	if (fwrite(header, sizeof(header), 1, file) != 1)
		goto error;

	LWLockAcquire(usage_shared->lock, LW_SHARED);
	count = hash_get_num_entries(usage_table);
	if (fwrite(&count, sizeof(count), 1, file) != 1)
	{
		LWLockRelease(usage_shared->lock);
		goto error;
	}
	hash_seq_init(&scan, usage_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		UsageRecord record;

		record.token_id = entry->token_id;
		record.allowed = pg_atomic_read_u64(&entry->allowed);
		record.denied = pg_atomic_read_u64(&entry->denied);
		record.last_used = (int64) pg_atomic_read_u64(&entry->last_used);
		if (fwrite(&record, sizeof(record), 1, file) != 1)
		{
			hash_seq_term(&scan);
			LWLockRelease(usage_shared->lock);
			goto error;
		}
	}
	LWLockRelease(usage_shared->lock);

	if (FreeFile(file) != 0)
	{
		file = NULL;
		goto error;
	}
	return durable_rename(tmpfile, USAGE_FILE, elevel) == 0;

error:
	ereport(elevel,
			(errcode_for_file_access(),
			 errmsg("could not write file \"%s\": %m", tmpfile)));
	if (file)
		FreeFile(file);
	unlink(tmpfile);
	return false;
}

/*
 * usage_read_file loads the counters saved by usage_write_file, if any; a
 * missing or damaged file means starting from zero, with a LOG line.
 */
static void
usage_read_file(void)
{
	FILE	   *file = AllocateFile(USAGE_FILE, PG_BINARY_R);
	uint32		header[2];
	int64		count;
	int64		i;

	if (file == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", USAGE_FILE)));
		return;
	}
	if (fread(header, sizeof(header), 1, file) != 1 || header[0] != USAGE_FILE_MAGIC ||
		fread(&count, sizeof(count), 1, file) != 1)
	{
		ereport(LOG, (errmsg("ignoring damaged file \"%s\"", USAGE_FILE)));
		FreeFile(file);
		return;
	}
	for (i = 0; i < count && i < usage_max; i++)
	{
		UsageRecord record;
		UsageEntry *entry;
		bool		found;

		if (fread(&record, sizeof(record), 1, file) != 1)
			break;
		entry = hash_search(usage_table, &record.token_id, HASH_ENTER_NULL, &found);
		if (entry == NULL)
			break;
		pg_atomic_init_u64(&entry->allowed, record.allowed);
		pg_atomic_init_u64(&entry->denied, record.denied);
		pg_atomic_init_u64(&entry->last_used, (uint64) record.last_used);
	}
	FreeFile(file);
}

/*
 * usage_shmem_shutdown saves the counters when the postmaster exits.
 */
static void
usage_shmem_shutdown(int code, Datum arg)
{
	/* Not after a crash: shared memory may be inconsistent. */
	if (code)
		return;
	usage_write_file(LOG);
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
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(int64);
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
 * usage_entry_for returns the shared entry of a token, creating it if there
 * is room (influx_tokens.usage_max entries); NULL if the table is full.
 * Call without the lock held.
 */
static UsageEntry *
usage_entry_for(int64 token_id)
{
	UsageEntry *entry;
	bool		found = true;

	LWLockAcquire(usage_shared->lock, LW_SHARED);
	entry = hash_search(usage_table, &token_id, HASH_FIND, NULL);
	LWLockRelease(usage_shared->lock);
	if (entry != NULL)
		return entry;

	LWLockAcquire(usage_shared->lock, LW_EXCLUSIVE);
	if (hash_get_num_entries(usage_table) >= usage_max)
		entry = hash_search(usage_table, &token_id, HASH_FIND, NULL);
	else
		entry = hash_search(usage_table, &token_id, HASH_ENTER_NULL, &found);
	if (entry != NULL && !found)
	{
		pg_atomic_init_u64(&entry->allowed, 0);
		pg_atomic_init_u64(&entry->denied, 0);
		pg_atomic_init_u64(&entry->last_used, 0);
	}
	LWLockRelease(usage_shared->lock);
	return entry;
}

/*
 * usage_flush adds a token record's pending counts to shared memory and
 * clears them.  now is the time to record as last use.
 */
void
usage_flush(TokenRecord *token, TimestampTz now)
{
	UsageEntry *entry;

	if (token->pending_allowed == 0 && token->pending_denied == 0)
		return;
	if (usage_enabled())
	{
		if (token->usage == NULL)
			token->usage = usage_entry_for(token->id);

		LWLockAcquire(usage_shared->lock, LW_SHARED);
		entry = token->usage;
		/* The entry is pruned only if the token was deleted: then drop the counts. */
		if (entry != NULL && entry->token_id == token->id)
		{
			pg_atomic_fetch_add_u64(&entry->allowed, token->pending_allowed);
			pg_atomic_fetch_add_u64(&entry->denied, token->pending_denied);
			if (token->pending_allowed > 0)
				pg_atomic_write_u64(&entry->last_used, (uint64) now);
		}
		else if (entry == NULL)
			pg_atomic_fetch_add_u64(&usage_shared->untracked,
									token->pending_allowed + token->pending_denied);
		LWLockRelease(usage_shared->lock);
	}
	token->pending_allowed = 0;
	token->pending_denied = 0;
}

/*
 * usage_rows(): every counter, for the token_list view; no rows unless
 * the library is preloaded.
 */
Datum
usage_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS scan;
	UsageEntry *entry;

	InitMaterializedSRF(fcinfo, 0);
	if (!usage_preloaded || usage_table == NULL)
		return (Datum) 0;

	LWLockAcquire(usage_shared->lock, LW_SHARED);
	hash_seq_init(&scan, usage_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		uint64		last_used = pg_atomic_read_u64(&entry->last_used);

		values[0] = Int64GetDatum(entry->token_id);
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
 * usage_tracked(): are the counters kept at all?  (token_list shows NULL
 * rather than 0 when they are not.)
 */
Datum
usage_tracked(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(usage_preloaded && usage_table != NULL);
}

/*
 * usage_prune(live_ids): forgets the counters of every token not in
 * live_ids (deleted tokens); returns how many it forgot.
 */
Datum
usage_prune(PG_FUNCTION_ARGS)
{
	ArrayType  *live = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *ids;
	int			nids;
	HTAB	   *keep;
	HASHCTL		info;
	HASH_SEQ_STATUS scan;
	UsageEntry *entry;
	int64		forgotten = 0;
	int			i;

	if (!usage_preloaded || usage_table == NULL)
		PG_RETURN_INT64(0);

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

	LWLockAcquire(usage_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&scan, usage_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (hash_search(keep, &entry->token_id, HASH_FIND, NULL) == NULL)
		{
			/*
			 * A backend may still hold a pointer to the entry: mark the freed
			 * entry so that its flush (which checks the key) drops the counts.
			 */
			UsageEntry *removed = hash_search(usage_table, &entry->token_id,
											  HASH_REMOVE, NULL);

			removed->token_id = -1;
			forgotten++;
		}
	}
	LWLockRelease(usage_shared->lock);
	hash_destroy(keep);
	PG_RETURN_INT64(forgotten);
}

/*
 * usage_save(): write the counters to disk now.
 */
Datum
usage_save(PG_FUNCTION_ARGS)
{
	if (usage_preloaded && usage_table != NULL)
		usage_write_file(ERROR);
	PG_RETURN_VOID();
}

/*
 * usage_worker_main saves the counters every usage_save_interval seconds,
 * on primaries and hot standbys alike (it writes a file, not a table).
 */
void
usage_worker_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	while (!ShutdownRequestPending)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 usage_save_interval * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!ShutdownRequestPending)
			usage_write_file(LOG);
	}
	proc_exit(0);
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
							"Most tokens whose usage is counted.",
							"Checks of further tokens are not counted; save_usage() forgets deleted tokens.",
							&usage_max, 100000, 100, 100000000, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

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
	strlcpy(worker.bgw_name, "influx_tokens usage saver", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "influx_tokens usage saver", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}
