/*-------------------------------------------------------------------------
 *
 * hnswscan.c
 *	  Index scans: ORDER BY col <op> query LIMIT k.
 *
 * The first amgettuple searches the graph (greedy descent, then Alg. 2 on
 * layer 0 with ef = hnsw.ef_search) and returns the heap TIDs of the ef
 * nearest nodes, nearest first.  The executor checks visibility and applies
 * the WHERE clause; if it asks for more rows than that (a filter rejected
 * many), an iterative scan (hnsw.iterative_scan) goes on: every node the
 * search evaluated but did not return was kept in a heap, and each further
 * round resumes Alg. 2 from the nearest ef of them, with the visited set
 * kept, so rounds never return a node twice.  It stops when the graph is
 * exhausted, after hnsw.max_scan_tuples heap TIDs, or when the kept
 * candidates outgrow work_mem * hnsw.scan_mem_multiplier.
 *
 * relaxed_order returns each round in order but a later round may return a
 * row nearer than an earlier one; strict_order drops such rows, so the
 * output is ordered by distance at the cost of a few rows.
 *
 * The index distances are exact (vectors are stored unquantized), so no
 * ORDER BY recheck is needed.  Only MVCC snapshots are supported: TIDs are
 * returned after the pages they came from were unlocked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "hnsw.h"

typedef struct HnswScanOpaqueData
{
	MemoryContext ctx;			/* everything below lives here */
	HnswShape	shape;
	HnswPageGraph pg;
	HnswSearch	search;
	bool		searching;		/* pg and search are set up */
	bool		started;		/* the first round ran */
	bool		done;
	char	   *query;

	HnswCandidate *results;		/* the current round, nearest first */
	int			nresults;
	int			next;
	ItemPointerData tids[HNSW_HEAPTIDS];	/* of the node being returned */
	int			ntids;
	int			nexttid;
	float		last_distance;	/* strict_order */
	int64		returned;		/* heap TIDs returned */
	int			ef;
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

/* ambeginscan */
IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw scan", ALLOCSET_DEFAULT_SIZES);
	HnswInitShape(index, &so->shape, HnswColumnDims(index));
	scan->opaque = so;
	return scan;
}

/* Let go of the pins and the search state of the previous query */
static void
end_search(HnswScanOpaque so)
{
	if (so->searching)
	{
		elog(DEBUG1, "hnsw scan: %lld slots read for a distance, %lld heap TIDs returned",
			 (long long) so->search.evaluated, (long long) so->returned);
		HnswPageGraphEnd(&so->pg);
		so->search.evaluated = 0;
	}
	so->searching = false;
	MemoryContextReset(so->ctx);
}

/* amrescan: a new query value */
void
hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	end_search(so);
	so->started = false;
	so->done = false;
	so->nresults = so->next = so->ntids = so->nexttid = 0;
	so->returned = 0;
	so->last_distance = -INFINITY;
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

/* The query in element form; a NULL query orders by distance to zero */
static char *
scan_query(IndexScanDesc scan, HnswScanOpaque so)
{
	char	   *query = palloc0(so->shape.datasize);

	if (scan->numberOfOrderBys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot scan hnsw index without an ORDER BY distance")));
	if (!(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		if (!HnswDatumToElement(&so->shape, scan->orderByData[0].sk_argument, query))
			memset(query, 0, so->shape.datasize);	/* zero vector under cosine */
	}
	return query;
}

/* Run the first round, or resume for another; false when there is no more */
static bool
next_round(IndexScanDesc scan, HnswScanOpaque so)
{
	HnswSearch *s = &so->search;
	HnswCandidate *entries;
	int			n = 0;

	if (!so->started)
	{
		HnswCandidate ep;

		so->started = true;
		so->ef = hnsw_ef_search;
		HnswPageGraphInit(&so->pg, scan->indexRelation, &so->shape);
		so->searching = true;
		if (so->pg.entry == HNSW_NO_SLOT)
			return false;
		so->query = scan_query(scan, so);
		HnswSearchInit(s, &so->pg.g, so->query);
		if (hnsw_iterative_scan != HNSW_ITERATIVE_OFF)
		{
			HnswHeapInit(&s->discarded, 256, false);
			s->keep_discarded = true;
		}
		so->results = palloc(sizeof(HnswCandidate) * (so->ef + 1));
		if (!HnswSearchToLayer(s, so->pg.entry, so->pg.entry_level, 0, &ep))
			return false;
		so->nresults = HnswSearchLayer(s, &ep, 1, so->ef, 0, so->results);
		so->next = 0;
		pgstat_count_index_scan(scan->indexRelation);
		return so->nresults > 0;
	}

	if (hnsw_iterative_scan == HNSW_ITERATIVE_OFF || s->discarded.count == 0)
		return false;
	if (so->returned >= hnsw_max_scan_tuples)
		return false;
	if ((double) s->discarded.count * sizeof(HnswCandidate) +
		(double) s->visited_bits / 8 > work_mem * 1024.0 * hnsw_scan_mem_multiplier)
		return false;

	entries = palloc(sizeof(HnswCandidate) * so->ef);
	while (n < so->ef && s->discarded.count > 0)
		entries[n++] = HnswHeapPop(&s->discarded);
	so->nresults = HnswSearchLayer(s, entries, n, so->ef, 0, so->results);
	so->next = 0;
	pfree(entries);
	return so->nresults > 0;
}

/* amgettuple */
bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old;

	if (!IsMVCCSnapshot(scan->xs_snapshot))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hnsw index scans need an MVCC snapshot")));

	old = MemoryContextSwitchTo(so->ctx);
	for (;;)
	{
		HnswCandidate c;
		HnswSlotHeader hdr;

		if (so->nexttid < so->ntids)
		{
			scan->xs_heaptid = so->tids[so->nexttid++];
			scan->xs_recheck = false;
			scan->xs_recheckorderby = false;
			so->returned++;
			MemoryContextSwitchTo(old);
			return true;
		}
		if (so->done)
			break;
		if (so->next >= so->nresults)
		{
			CHECK_FOR_INTERRUPTS();
			if (!next_round(scan, so))
			{
				so->done = true;
				break;
			}
			continue;
		}

		c = so->results[so->next++];
		if (hnsw_iterative_scan == HNSW_ITERATIVE_STRICT && c.distance < so->last_distance)
			continue;
		if (!HnswReadHeader(&so->pg.g, c.slot, &hdr) || hdr.kind != HNSW_SLOT_NODE)
			continue;
		so->last_distance = Max(so->last_distance, c.distance);
		so->ntids = Min(hdr.ntids, HNSW_HEAPTIDS);
		so->nexttid = 0;
		memcpy(so->tids, hdr.u.tids, sizeof(ItemPointerData) * so->ntids);
	}
	MemoryContextSwitchTo(old);
	return false;
}

/* amendscan */
void
hnswendscan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	end_search(so);
	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}
