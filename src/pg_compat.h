/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *	  Every difference between the PostgreSQL major versions influx_tokens
 *	  supports (15, 17 and 18), in one place.  The C files use these names
 *	  (influx_tokens.h includes this file) and never test PG_VERSION_NUM
 *	  themselves.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_COMPAT_H
#define PG_COMPAT_H

#include "storage/proc.h"

/*
 * The varlena macros (VARDATA_ANY and the like): postgres.h included them
 * up to PostgreSQL 15; from 16 on they are in varatt.h.
 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * The local transaction id of this backend's current transaction.
 * PostgreSQL 17 moved it from PGPROC.lxid into PGPROC.vxid.
 */
#if PG_VERSION_NUM >= 170000
#define COMPAT_MY_LXID (MyProc->vxid.lxid)
#else
#define COMPAT_MY_LXID (MyProc->lxid)
#endif

/*
 * ExecInsertIndexTuples for a new row, no arbiter indexes: PostgreSQL 16
 * added its last argument (onlySummarizing).
 */
#if PG_VERSION_NUM >= 160000
#define COMPAT_EXEC_INSERT_INDEX_TUPLES(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, false)
#else
#define COMPAT_EXEC_INSERT_INDEX_TUPLES(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL)
#endif

#endif							/* PG_COMPAT_H */
