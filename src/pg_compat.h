/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *	  Every difference between the PostgreSQL major versions influx_tokens
 *	  supports (15, 17 and 18), in one place.  The C files use these names
 *	  and never test PG_VERSION_NUM themselves.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_COMPAT_H
#define PG_COMPAT_H

#include "storage/proc.h"

/*
 * The local transaction id of this backend's current transaction.
 * PostgreSQL 17 moved it from PGPROC.lxid into PGPROC.vxid.
 */
#if PG_VERSION_NUM >= 170000
#define COMPAT_MY_LXID (MyProc->vxid.lxid)
#else
#define COMPAT_MY_LXID (MyProc->lxid)
#endif

#endif							/* PG_COMPAT_H */
