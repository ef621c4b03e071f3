/*-------------------------------------------------------------------------
 *
 * store.c
 *	  What the store API (sql/50_store.sql) cannot do in SQL: flush WAL.
 *
 * vecdb.sync(store) promises that every write made so far is on disk.  A
 * committed write is durable once WAL up to its commit record is flushed;
 * with synchronous_commit off the commit returns before that, and the WAL
 * writer catches up within wal_writer_delay.  SQL has no way to ask for the
 * flush (pg_current_wal_flush_lsn() only reports it), so this does what the
 * commit of a synchronous transaction does, for all WAL inserted so far.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "fmgr.h"
#include "utils/pg_lsn.h"

PG_FUNCTION_INFO_V1(vecdb_flush_wal);

/*
 * vecdb._flush_wal(): flush WAL up to the current insert position and
 * return that position
 */
Datum
vecdb_flush_wal(PG_FUNCTION_ARGS)
{
	XLogRecPtr	upto;

	/* a standby's WAL is the primary's: only the primary can make it durable */
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("recovery is in progress"),
				 errhint("Writes and their sync happen on the primary.")));

	upto = GetXLogInsertRecPtr();
	XLogFlush(upto);

	PG_RETURN_LSN(upto);
}
