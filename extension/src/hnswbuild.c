/*-------------------------------------------------------------------------
 *
 * hnswbuild.c
 *	  CREATE INDEX for hnsw: the graph is built in memory, in exactly the
 *	  slot layout of the pages, then written out page by page.
 *
 * The in-memory graph is one array of slots as large as
 * maintenance_work_mem allows.  Each heap tuple is planned against it (the
 * same HnswPlanNeighbours an insert uses, over an HnswMemGraph) and linked
 * in place.  Because memory and disk share the layout, writing the index is
 * a copy of the array into pages, WAL-logged as full pages afterwards
 * (log_newpage_range), as PostgreSQL's own index builds do.
 *
 * If the array fills up before the heap scan ends, the graph built so far
 * is written out, a NOTICE says so, and the remaining tuples are inserted
 * on disk one by one like ordinary inserts: slower, but correct in any
 * amount of memory.
 *
 * Level draws use a private generator with a fixed seed, so building the
 * same table twice gives the same graph.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lwlock.h"
#include "storage/smgr.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/rel.h"

#include "hnsw.h"

#define HNSW_BUILD_SEED 0x5eed

/* keys of a parallel build's shared memory table of contents */
#define HNSW_KEY_SHARED			UINT64CONST(0xA000000000000001)
#define HNSW_KEY_SLOTS			UINT64CONST(0xA000000000000002)
#define HNSW_KEY_LOCKS			UINT64CONST(0xA000000000000003)
#define HNSW_KEY_QUERY_TEXT		UINT64CONST(0xA000000000000004)

/*
 * What the participants of a parallel build share, besides the slot array
 * and its locks (one LWLock per slot, guarding the lists of the node in it).
 * A parallel heap scan descriptor follows the struct.
 */
typedef struct HnswBuildShared
{
	/* set by the leader before the launch */
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	int			tranche;
	uint32		capacity;

	/* the graph's size: slots handed out, all of them formed once inserts end */
	pg_atomic_uint32 nslots;
	pg_atomic_uint64 indtuples;

	/*
	 * Every in-memory insert holds graph_lock shared; the participant that
	 * finds the array full takes it exclusively to write the graph to disk,
	 * after which all insert on disk.
	 */
	LWLock		graph_lock;
	bool		flushed;		/* under graph_lock */

	slock_t		mutex;			/* guards the fields below */
	uint32		entry;
	int			entry_level;
	double		reltuples;
	int			participants;	/* for the participants' level seeds */
} HnswBuildShared;

#define ParallelTableScanFromShared(shared) \
	((ParallelTableScanDesc) ((char *) (shared) + BUFFERALIGN(sizeof(HnswBuildShared))))

typedef struct HnswBuildState
{
	Relation	heap;
	Relation	index;
	HnswShape	shape;

	/* the in-memory graph: private in a serial build, shared in a parallel one */
	HnswMemGraph mg;
	uint32		capacity;		/* slots the array holds */
	uint32		entry;			/* serial builds; a parallel one's is shared */
	int			entry_level;
	HnswBuildShared *shared;	/* NULL in a serial build */
	LWLock	   *locks;			/* per slot, parallel builds only */
	HnswSearch	search;
	HnswPlan   *plan;
	pg_prng_state prng;

	/* after the array filled up: inserts on disk */
	bool		on_disk;

	double		indtuples;		/* this participant's */
	double		reltuples;
	char	   *data;			/* the current element */
	MemoryContext tmpctx;
} HnswBuildState;

/*
 * The few places where the participants of a parallel build meet.  In a
 * serial build they cost a branch.
 */
static inline void
node_lock(HnswBuildState *bs, uint32 node)
{
	if (bs->locks)
		LWLockAcquire(&bs->locks[node], LW_EXCLUSIVE);
}

static inline void
node_unlock(HnswBuildState *bs, uint32 node)
{
	if (bs->locks)
		LWLockRelease(&bs->locks[node]);
}

static void
get_entry(HnswBuildState *bs, uint32 *entry, int *level)
{
	if (bs->shared)
	{
		SpinLockAcquire(&bs->shared->mutex);
		*entry = bs->shared->entry;
		*level = bs->shared->entry_level;
		SpinLockRelease(&bs->shared->mutex);
	}
	else
	{
		*entry = bs->entry;
		*level = bs->entry_level;
	}
}

/* A new node becomes the entry point if it reaches above the current one */
static void
offer_entry(HnswBuildState *bs, uint32 node, int level)
{
	uint32	   *entry = &bs->entry;
	int		   *entry_level = &bs->entry_level;

	if (bs->shared)
	{
		SpinLockAcquire(&bs->shared->mutex);
		entry = &bs->shared->entry;
		entry_level = &bs->shared->entry_level;
	}
	if (*entry == HNSW_NO_SLOT || level > *entry_level)
	{
		*entry = node;
		*entry_level = level;
	}
	if (bs->shared)
		SpinLockRelease(&bs->shared->mutex);
}

/* n consecutive free slots of the array, or HNSW_NO_SLOT if it is full */
static uint32
alloc_slots(HnswBuildState *bs, int n)
{
	uint32		first;

	if (bs->shared == NULL)
	{
		if (bs->mg.g.nslots + n > bs->capacity)
			return HNSW_NO_SLOT;
		first = bs->mg.g.nslots;
		bs->mg.g.nslots += n;
		return first;
	}
	first = pg_atomic_read_u32(&bs->shared->nslots);
	do
	{
		if (first + n > bs->capacity)
			return HNSW_NO_SLOT;
	} while (!pg_atomic_compare_exchange_u32(&bs->shared->nslots, &first, first + n));
	/* this participant's bound on slot ids must cover its own new slots */
	bs->mg.g.nslots = Max(bs->mg.g.nslots, first + n);
	return first;
}

/* Where node's list for a layer lives in memory */
static uint32 *
mem_list(HnswBuildState *bs, uint32 node, int layer)
{
	const HnswShape *shape = &bs->shape;
	char	   *slot = bs->mg.base + (Size) node * shape->slotsize;

	if (layer == 0)
		return (uint32 *) (slot + HNSW_NEIGHBOURS_OFFSET);
	else
	{
		int			first;
		uint32		upper = HnswUpperSlotFor(shape, &bs->mg.g, node, layer, &first);

		Assert(upper != HNSW_NO_SLOT);
		return (uint32 *) (bs->mg.base + (Size) upper * shape->slotsize + HNSW_UPPER_IDS_OFFSET) + first;
	}
}

/*
 * Add newnode to node's list on a layer, pruning a full list with Alg. 4;
 * writes the members the pruning dropped to dropped, returns how many
 */
static int
mem_link(HnswBuildState *bs, uint32 node, int layer, uint32 newnode, uint32 *dropped)
{
	const HnswShape *shape = &bs->shape;
	int			lm = HnswLayerM(shape, layer);
	uint32	   *ids = mem_list(bs, node, layer);
	uint32		cand[2 * HNSW_MAX_M + 1];
	char	   *data[2 * HNSW_MAX_M + 1];
	int			n = 0;
	int			k;

	int			ndropped = 0;

	while (n < lm && ids[n] != HNSW_NO_SLOT)
		n++;
	if (n < lm)
	{
		ids[n] = newnode;
		return 0;
	}
	for (int i = 0; i < n; i++)
	{
		cand[i] = ids[i];
		data[i] = bs->mg.base + (Size) ids[i] * shape->slotsize + HnswDataOffset(shape);
	}
	cand[n] = newnode;
	data[n] = bs->mg.base + (Size) newnode * shape->slotsize + HnswDataOffset(shape);
	k = HnswPrune(shape, node, bs->mg.base + (Size) node * shape->slotsize + HnswDataOffset(shape),
				  cand, data, n + 1, lm, cand);
	for (int i = 0; i < n; i++)
	{
		bool		kept = false;

		for (int j = 0; j < k; j++)
			if (cand[j] == ids[i])
				kept = true;
		if (!kept)
			dropped[ndropped++] = ids[i];
	}
	for (int i = 0; i < lm; i++)
		ids[i] = i < k ? cand[i] : HNSW_NO_SLOT;
	return ndropped;
}

/*
 * Insert an element into the in-memory graph; false when it is full.
 *
 * In a parallel build other participants insert at the same time.  A node's
 * lists change only under its slot's lock; searches read them without one,
 * which is safe because ids are written whole and a node is complete before
 * any list holds its id (a search may see a list halfway through a rewrite:
 * some ids old, some new, all valid).  A node's data never changes.
 */
static bool
mem_insert(HnswBuildState *bs, const char *data, ItemPointer tid)
{
	const HnswShape *shape = &bs->shape;
	HnswPlan   *plan = bs->plan;
	int			level = HnswRandomLevel(&bs->prng, shape->m);
	int			nupper = HnswUpperSlotsNeeded(shape, level);
	uint32		slots[1 + HNSW_MAX_LEVEL];
	char	   *images[1 + HNSW_MAX_LEVEL];
	uint32		entry;
	int			entry_level;
	uint32		first;

	get_entry(bs, &entry, &entry_level);
	if (bs->shared)
		bs->mg.g.nslots = pg_atomic_read_u32(&bs->shared->nslots);
	if (bs->mg.g.nslots + 1 + nupper > bs->capacity)
		return false;

	bs->search.query = data;
	HnswPlanNeighbours(&bs->search, entry, entry_level, level, plan);
	if (plan->duplicate != HNSW_NO_SLOT)
	{
		HnswSlotHeader *hdr = (HnswSlotHeader *) (bs->mg.base + (Size) plan->duplicate * shape->slotsize);
		bool		added = false;

		node_lock(bs, plan->duplicate);
		if (hdr->ntids < HNSW_HEAPTIDS)
		{
			hdr->u.tids[hdr->ntids++] = *tid;
			added = true;
		}
		node_unlock(bs, plan->duplicate);
		if (added)
			return true;
	}

	first = alloc_slots(bs, 1 + nupper);
	if (first == HNSW_NO_SLOT)
		return false;
	for (int i = 0; i <= nupper; i++)
	{
		slots[i] = first + i;
		images[i] = bs->mg.base + (Size) slots[i] * shape->slotsize;
	}
	HnswFormNode(shape, plan, slots[0], slots + 1, data, tid, images);
	/* the node is whole before its id appears in any list */
	pg_write_barrier();

	for (int layer = plan->top; layer >= 0; layer--)
	{
		int			lm = HnswLayerM(shape, layer);
		uint32		dropped[2 * HNSW_MAX_M];
		int			ndropped = 0;
		uint32	   *mine = mem_list(bs, slots[0], layer);
		int			n = 0;

		for (int i = 0; i < plan->count[layer]; i++)
		{
			uint32		d[2 * HNSW_MAX_M];
			uint32		neighbour = plan->ids[layer][i];
			int			nd;

			node_lock(bs, neighbour);
			nd = mem_link(bs, neighbour, layer, slots[0], d);
			node_unlock(bs, neighbour);
			for (int j = 0; j < nd && ndropped < lm; j++)
				dropped[ndropped++] = d[j];
		}
		/* the new node adopts what its links pushed out, while it has room */
		node_lock(bs, slots[0]);
		while (n < lm && mine[n] != HNSW_NO_SLOT)
			n++;
		for (int j = 0; j < ndropped && n < lm; j++)
		{
			bool		present = dropped[j] == slots[0];

			for (int i = 0; i < n && !present; i++)
				present = mine[i] == dropped[j];
			if (!present)
				mine[n++] = dropped[j];
		}
		node_unlock(bs, slots[0]);
	}

	offer_entry(bs, slots[0], level);
	return true;
}

/* Mark what the entry point reaches over every layer's lists; returns how many nodes are not reached */
static uint32
mem_reach(HnswBuildState *bs, bool *reached, uint32 *queue)
{
	const HnswShape *shape = &bs->shape;
	uint32		nslots = bs->mg.g.nslots;
	uint32		head = 0,
				tail = 0,
				missing = 0;

	memset(reached, 0, nslots);
	if (bs->entry == HNSW_NO_SLOT)
		return 0;
	reached[bs->entry] = true;
	queue[tail++] = bs->entry;
	while (head < tail)
	{
		uint32		node = queue[head++];
		HnswSlotHeader *hdr = (HnswSlotHeader *) (bs->mg.base + (Size) node * shape->slotsize);

		for (int layer = 0; layer <= hdr->level; layer++)
		{
			uint32	   *ids = mem_list(bs, node, layer);
			int			lm = HnswLayerM(shape, layer);

			for (int i = 0; i < lm && ids[i] != HNSW_NO_SLOT; i++)
				if (!reached[ids[i]])
				{
					reached[ids[i]] = true;
					queue[tail++] = ids[i];
				}
		}
	}
	for (uint32 slot = 0; slot < nslots; slot++)
		if (!reached[slot] &&
			((HnswSlotHeader *) (bs->mg.base + (Size) slot * shape->slotsize))->kind == HNSW_SLOT_NODE)
			missing++;
	return missing;
}

/*
 * Heuristic pruning can leave a node with no incoming link, most often under
 * inner product, where a short vector is nobody's nearest neighbour.  Such a
 * node could never be found, so give it one: from its nearest reached
 * neighbour, into a free place or over that neighbour's last entry.  The
 * loser of a replacement may become unreachable in turn, so repeat a few
 * times.
 */
static void
mem_connect_unreachable(HnswBuildState *bs)
{
	const HnswShape *shape = &bs->shape;
	uint32		nslots = bs->mg.g.nslots;
	bool	   *reached = palloc(nslots + 1);
	uint32	   *queue = palloc(sizeof(uint32) * (nslots + 1));
	int			lm = 2 * shape->m;

	for (int round = 0; round < 5; round++)
	{
		if (mem_reach(bs, reached, queue) == 0)
			break;
		for (uint32 slot = 0; slot < nslots; slot++)
		{
			uint32	   *ids;
			uint32		source = HNSW_NO_SLOT;
			uint32	   *from;
			int			n = 0;

			if (reached[slot] ||
				((HnswSlotHeader *) (bs->mg.base + (Size) slot * shape->slotsize))->kind != HNSW_SLOT_NODE)
				continue;

			/* a reached neighbour with room, else the nearest reached one */
			ids = mem_list(bs, slot, 0);
			for (int i = 0; i < lm && ids[i] != HNSW_NO_SLOT; i++)
				if (reached[ids[i]])
				{
					if (source == HNSW_NO_SLOT)
						source = ids[i];
					if (mem_list(bs, ids[i], 0)[lm - 1] == HNSW_NO_SLOT)
					{
						source = ids[i];
						break;
					}
				}
			if (source == HNSW_NO_SLOT)
			{
				/* none of its own neighbours is reached: the nearest reached node */
				const char *data = bs->mg.base + (Size) slot * shape->slotsize + HnswDataOffset(shape);
				float		best = 0;

				for (uint32 other = 0; other < nslots; other++)
				{
					float		d;

					if (!reached[other] ||
						((HnswSlotHeader *) (bs->mg.base + (Size) other * shape->slotsize))->kind != HNSW_SLOT_NODE)
						continue;
					d = HnswDistance(shape, data, bs->mg.base + (Size) other * shape->slotsize + HnswDataOffset(shape));
					if (source == HNSW_NO_SLOT || d < best)
						source = other, best = d;
				}
				if (source == HNSW_NO_SLOT)
					continue;
			}
			from = mem_list(bs, source, 0);
			while (n < lm && from[n] != HNSW_NO_SLOT)
				n++;
			/* a full list loses a random entry, so two orphans cannot keep evicting each other */
			from[n < lm ? n : lm / 2 + (int) pg_prng_uint64_range(&bs->prng, 0, lm - lm / 2 - 1)] = slot;
			reached[slot] = true;
		}
	}
	pfree(reached);
	pfree(queue);
}

/* Write the metapage and the in-memory graph to the index's pages */
static void
flush_graph(HnswBuildState *bs)
{
	const HnswShape *shape = &bs->shape;
	Size		bytes = (Size) bs->mg.g.nslots * shape->slotsize;
	BlockNumber npages = (BlockNumber) ((bytes + HNSW_PAYLOAD - 1) / HNSW_PAYLOAD);
	Buffer		buf;
	Page		page;
	HnswMetaPageData *meta;

	if (bs->shared)
	{
		/* every insert has ended (the caller holds graph_lock exclusively) */
		bs->mg.g.nslots = pg_atomic_read_u32(&bs->shared->nslots);
		get_entry(bs, &bs->entry, &bs->entry_level);
		bytes = (Size) bs->mg.g.nslots * shape->slotsize;
		npages = (BlockNumber) ((bytes + HNSW_PAYLOAD - 1) / HNSW_PAYLOAD);
	}
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_WRITE);
	mem_connect_unreachable(bs);

	buf = ReadBuffer(bs->index, P_NEW);
	Assert(BufferGetBlockNumber(buf) == HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	HnswInitMetaPage(page, shape);
	meta = HnswPageGetMeta(page);
	meta->entry = bs->entry;
	meta->entry_level = bs->entry_level;
	meta->nslots = bs->mg.g.nslots;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	for (BlockNumber b = 0; b < npages; b++)
	{
		Size		off = (Size) b * HNSW_PAYLOAD;
		Size		len = Min((Size) HNSW_PAYLOAD, bytes - off);

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(bs->index, P_NEW);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		HnswInitSlotPage(page);
		memcpy(page + HNSW_PAYLOAD_START, bs->mg.base + off, len);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}

	if (RelationNeedsWAL(bs->index))
		log_newpage_range(bs->index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(bs->index), true);
}

static void
notice_overflow(double tuples)
{
	ereport(NOTICE,
			(errmsg("hnsw graph no longer fits into maintenance_work_mem after %.0f tuples",
					tuples),
			 errdetail("The rest of the build inserts on disk, which takes much longer."),
			 errhint("Increase maintenance_work_mem to speed up builds.")));
}

/*
 * Add an element to the in-memory graph, or to the index on disk once the
 * graph has been written out because the array filled up.
 */
static void
build_insert(HnswBuildState *bs, const char *data, ItemPointer tid)
{
	HnswBuildShared *shared = bs->shared;
	bool		inserted = false;

	if (bs->on_disk)
	{
		HnswInsertElement(bs->index, &bs->shape, data, tid);
		return;
	}
	if (shared == NULL)
	{
		if (mem_insert(bs, data, tid))
			return;
		notice_overflow(bs->indtuples);
		flush_graph(bs);
	}
	else
	{
		LWLockAcquire(&shared->graph_lock, LW_SHARED);
		if (!shared->flushed)
			inserted = mem_insert(bs, data, tid);
		LWLockRelease(&shared->graph_lock);
		if (inserted)
			return;
		/* the first participant to find the array full writes it out */
		LWLockAcquire(&shared->graph_lock, LW_EXCLUSIVE);
		if (!shared->flushed)
		{
			notice_overflow((double) pg_atomic_read_u64(&shared->indtuples));
			flush_graph(bs);
			shared->flushed = true;
		}
		LWLockRelease(&shared->graph_lock);
	}
	bs->on_disk = true;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_INSERT);
	HnswInsertElement(bs->index, &bs->shape, data, tid);
}

/* Called for each heap tuple by the table AM */
static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	HnswBuildState *bs = state;
	MemoryContext old;

	if (isnull[0])
		return;

	old = MemoryContextSwitchTo(bs->tmpctx);
	if (HnswDatumToElement(&bs->shape, values[0], bs->data))
	{
		int64		done;

		build_insert(bs, bs->data, tid);
		bs->indtuples++;
		done = bs->shared ? (int64) pg_atomic_add_fetch_u64(&bs->shared->indtuples, 1)
			: (int64) bs->indtuples;
		/* workers' own progress goes nowhere: the leader reports everyone's */
		if (done % 1000 == 0 && !IsParallelWorker())
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpctx);
}

/*
 * Set up a participant's state over an in-memory graph of capacity slots
 * at base (private memory, or the shared array of a parallel build).
 */
static void
init_state(HnswBuildState *bs, Relation heap, Relation index, char *base, uint32 capacity,
		   uint64 seed)
{
	memset(bs, 0, sizeof(*bs));
	bs->heap = heap;
	bs->index = index;
	HnswInitShape(index, &bs->shape, HnswColumnDims(index));
	bs->entry = HNSW_NO_SLOT;
	bs->entry_level = -1;
	pg_prng_seed(&bs->prng, seed);
	bs->data = palloc(bs->shape.datasize);
	bs->plan = HnswPlanAlloc(&bs->shape);
	bs->tmpctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build tuple",
									   ALLOCSET_DEFAULT_SIZES);
	bs->capacity = capacity;
	HnswMemGraphInit(&bs->mg, &bs->shape, base, capacity);
	HnswSearchInit(&bs->search, &bs->mg.g, bs->data);
}

static void
free_state(HnswBuildState *bs)
{
	HnswSearchFree(&bs->search);
	MemoryContextDelete(bs->tmpctx);
}

/*
 * Slots that maintenance_work_mem holds once a search's needs are met;
 * each slot of a parallel build also has a lock
 */
static uint32
graph_capacity(const HnswShape *shape, bool parallel)
{
	Size		mem = (Size) maintenance_work_mem * 1024;
	Size		room = mem > 1024 * 1024 ? mem - 256 * 1024 : mem / 2;
	Size		per_slot = shape->slotsize + (parallel ? sizeof(LWLock) : 0);

	return (uint32) Max(Min(room / per_slot, (Size) (HNSW_NO_SLOT - 1)), 2);
}

/*
 * How many workers to ask for.  PostgreSQL sizes parallel scans by the
 * heap's pages, and wide vectors live out of line in the TOAST table, so a
 * heap of 784-dimensional vectors looks too small to share out even though
 * reading and linking them is most of an hour's work: we count the TOAST
 * pages too, with the same rule (one worker from min_parallel_table_scan_size,
 * one more for each tripling).  A parallel_workers setting on the table
 * wins, as it does for btree.  Expression and partial indexes take
 * PostgreSQL's answer, which also checks that the expressions are parallel
 * safe.
 */
static int
build_workers(Relation heap, Relation index, IndexInfo *indexInfo)
{
	BlockNumber pages;
	double		threshold;
	int			workers = 0;

	if (!IsUnderPostmaster || max_parallel_maintenance_workers == 0 ||
		RelationUsesLocalBuffers(heap) || IsInParallelMode())
		return 0;
	if (indexInfo->ii_Expressions != NIL || indexInfo->ii_Predicate != NIL)
		return plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
	if (RelationGetParallelWorkers(heap, -1) != -1)
		return Min(RelationGetParallelWorkers(heap, -1), max_parallel_maintenance_workers);

	pages = RelationGetNumberOfBlocks(heap);
	if (OidIsValid(heap->rd_rel->reltoastrelid))
	{
		Relation	toast = table_open(heap->rd_rel->reltoastrelid, AccessShareLock);

		pages += RelationGetNumberOfBlocks(toast);
		table_close(toast, AccessShareLock);
	}
	threshold = Max(min_parallel_table_scan_size, 1);
	if (pages >= threshold)
	{
		workers = 1;
		for (threshold *= 3; pages >= threshold && workers < max_parallel_maintenance_workers;
			 threshold *= 3)
			workers++;
	}
	return Min(workers, max_parallel_maintenance_workers);
}

/* Scan the heap (this participant's share of it) into the graph */
static void
participate(HnswBuildState *bs, IndexInfo *indexInfo, bool progress)
{
	HnswBuildShared *shared = bs->shared;
	double		reltuples;

	reltuples = table_index_build_scan(bs->heap, bs->index, indexInfo, true, progress,
									   build_callback, bs,
									   table_beginscan_parallel(bs->heap,
																ParallelTableScanFromShared(shared)));
	SpinLockAcquire(&shared->mutex);
	shared->reltuples += reltuples;
	SpinLockRelease(&shared->mutex);
	elog(DEBUG2, "hnsw build participant: %.0f of %.0f heap tuples", bs->indtuples, reltuples);
}

/* A participant's state over the shared graph of a parallel build */
static void
attach_state(HnswBuildState *bs, Relation heap, Relation index, shm_toc *toc)
{
	HnswBuildShared *shared = shm_toc_lookup(toc, HNSW_KEY_SHARED, false);
	int			participant;

	SpinLockAcquire(&shared->mutex);
	participant = shared->participants++;
	SpinLockRelease(&shared->mutex);

	init_state(bs, heap, index, shm_toc_lookup(toc, HNSW_KEY_SLOTS, false), shared->capacity,
			   HNSW_BUILD_SEED + participant);
	bs->shared = shared;
	bs->locks = shm_toc_lookup(toc, HNSW_KEY_LOCKS, false);
	LWLockRegisterTranche(shared->tranche, "hnsw build");
}

/* Entry point of a parallel build's workers (named in CreateParallelContext) */
PGDLLEXPORT void HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc);

void
HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	HnswBuildShared *shared = shm_toc_lookup(toc, HNSW_KEY_SHARED, false);
	char	   *query = shm_toc_lookup(toc, HNSW_KEY_QUERY_TEXT, true);
	LOCKMODE	heap_lockmode = shared->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	LOCKMODE	index_lockmode = shared->isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	Relation	heap;
	Relation	index;
	IndexInfo  *indexInfo;
	HnswBuildState bs;

	debug_query_string = query;
	pgstat_report_activity(STATE_RUNNING, debug_query_string);

	heap = table_open(shared->heaprelid, heap_lockmode);
	index = index_open(shared->indexrelid, index_lockmode);
	indexInfo = BuildIndexInfo(index);
	indexInfo->ii_Concurrent = shared->isconcurrent;

	attach_state(&bs, heap, index, toc);
	participate(&bs, indexInfo, false);
	free_state(&bs);

	index_close(index, index_lockmode);
	table_close(heap, heap_lockmode);
}

/*
 * A parallel build: the slot array, a lock per slot and the parallel heap
 * scan in one dynamic shared memory segment, the leader and the workers
 * inserting into the one graph.  Returns false, having changed nothing, if
 * the segment cannot be had; the caller then builds serially.
 */
static bool
build_parallel(Relation heap, Relation index, IndexInfo *indexInfo, int nworkers,
			   IndexBuildResult *result)
{
	HnswShape	shape;
	uint32		capacity;
	ParallelContext *pcxt;
	Snapshot	snapshot;
	Size		shared_size;
	HnswBuildShared *shared;
	char	   *slots;
	LWLock	   *locks;
	char	   *query = NULL;
	HnswBuildState bs;
	bool		leader_participates;

	HnswInitShape(index, &shape, HnswColumnDims(index));
	capacity = graph_capacity(&shape, true);

	/*
	 * Shared memory is reserved in full when the segment is made, unlike a
	 * private allocation, which costs only the pages touched: ask for what
	 * the heap's estimated tuples need (with a margin; the upper layers
	 * take one slot per m nodes or so), not all of maintenance_work_mem.
	 */
	{
		BlockNumber pages;
		double		tuples;
		double		allvisfrac;
		double		need;

		estimate_rel_size(heap, NULL, &pages, &tuples, &allvisfrac);
		need = tuples * (1.5 + 2.0 / shape.m) + 1000;
		if (need < capacity)
			capacity = (uint32) need;
	}

	EnterParallelMode();
	pcxt = CreateParallelContext("vecdb", "HnswParallelBuildMain", nworkers);
	/* like btree: a plain CREATE INDEX sees every tuple, CONCURRENTLY an MVCC snapshot */
	snapshot = indexInfo->ii_Concurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;

	shared_size = add_size(BUFFERALIGN(sizeof(HnswBuildShared)),
						   table_parallelscan_estimate(heap, snapshot));
	shm_toc_estimate_chunk(&pcxt->estimator, shared_size);
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(capacity, shape.slotsize));
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(capacity, sizeof(LWLock)));
	shm_toc_estimate_keys(&pcxt->estimator, 3);
	if (debug_query_string)
	{
		shm_toc_estimate_chunk(&pcxt->estimator, strlen(debug_query_string) + 1);
		shm_toc_estimate_keys(&pcxt->estimator, 1);
	}

	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}

	shared = shm_toc_allocate(pcxt->toc, shared_size);
	memset(shared, 0, sizeof(HnswBuildShared));
	shared->heaprelid = RelationGetRelid(heap);
	shared->indexrelid = RelationGetRelid(index);
	shared->isconcurrent = indexInfo->ii_Concurrent;
	shared->tranche = LWLockNewTrancheId();
	shared->capacity = capacity;
	pg_atomic_init_u32(&shared->nslots, 0);
	pg_atomic_init_u64(&shared->indtuples, 0);
	LWLockRegisterTranche(shared->tranche, "hnsw build");
	LWLockInitialize(&shared->graph_lock, shared->tranche);
	SpinLockInit(&shared->mutex);
	shared->entry = HNSW_NO_SLOT;
	shared->entry_level = -1;
	table_parallelscan_initialize(heap, ParallelTableScanFromShared(shared), snapshot);
	shm_toc_insert(pcxt->toc, HNSW_KEY_SHARED, shared);

	slots = shm_toc_allocate(pcxt->toc, mul_size(capacity, shape.slotsize));
	shm_toc_insert(pcxt->toc, HNSW_KEY_SLOTS, slots);
	locks = shm_toc_allocate(pcxt->toc, mul_size(capacity, sizeof(LWLock)));
	for (uint32 i = 0; i < capacity; i++)
		LWLockInitialize(&locks[i], shared->tranche);
	shm_toc_insert(pcxt->toc, HNSW_KEY_LOCKS, locks);
	if (debug_query_string)
	{
		query = shm_toc_allocate(pcxt->toc, strlen(debug_query_string) + 1);
		strcpy(query, debug_query_string);
		shm_toc_insert(pcxt->toc, HNSW_KEY_QUERY_TEXT, query);
	}

	LaunchParallelWorkers(pcxt);
	ereport(DEBUG1,
			(errmsg_internal("hnsw build of \"%s\": %d of %d parallel workers launched",
							 RelationGetRelationName(index), pcxt->nworkers_launched, nworkers)));

	/* the leader scans too, unless told not to while workers run */
	leader_participates = parallel_leader_participation || pcxt->nworkers_launched == 0;
	attach_state(&bs, heap, index, pcxt->toc);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
	if (leader_participates)
		participate(&bs, indexInfo, true);
	WaitForParallelWorkersToFinish(pcxt);

	if (!shared->flushed)
		flush_graph(&bs);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
								 (int64) pg_atomic_read_u64(&shared->indtuples));
	result->heap_tuples = shared->reltuples;
	result->index_tuples = (double) pg_atomic_read_u64(&shared->indtuples);

	free_state(&bs);
	if (IsMVCCSnapshot(snapshot))
		UnregisterSnapshot(snapshot);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return true;
}

/* ambuild */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result = palloc0(sizeof(IndexBuildResult));
	HnswBuildState bs;
	HnswShape	shape;
	uint32		capacity;
	int			nworkers;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	nworkers = build_workers(heap, index, indexInfo);
	if (nworkers > 0 && build_parallel(heap, index, indexInfo, nworkers, result))
		return result;

	HnswInitShape(index, &shape, HnswColumnDims(index));
	capacity = graph_capacity(&shape, false);
	init_state(&bs, heap, index,
			   MemoryContextAllocHuge(CurrentMemoryContext, (Size) capacity * shape.slotsize),
			   capacity, HNSW_BUILD_SEED);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
	bs.reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
										  build_callback, &bs, NULL);
	if (!bs.on_disk)
		flush_graph(&bs);

	pfree(bs.mg.base);
	free_state(&bs);
	result->heap_tuples = bs.reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged index, an empty metapage */
void
hnswbuildempty(Relation index)
{
	HnswShape	shape;
	Page		page = (Page) palloc(BLCKSZ);

	HnswInitShape(index, &shape, HnswColumnDims(index));
	HnswInitMetaPage(page, &shape);
	PageSetChecksumInplace(page, HNSW_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, HNSW_METAPAGE_BLKNO, (char *) page, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				HNSW_METAPAGE_BLKNO, page, true);
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
	pfree(page);
}
