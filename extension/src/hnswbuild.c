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

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"

#define HNSW_BUILD_SEED 0x5eed

typedef struct HnswBuildState
{
	Relation	heap;
	Relation	index;
	HnswShape	shape;

	/* the in-memory graph */
	HnswMemGraph mg;
	uint32		capacity;		/* slots the array holds */
	uint32		entry;
	int			entry_level;
	HnswSearch	search;
	HnswPlan   *plan;
	pg_prng_state prng;

	/* after the array filled up: inserts on disk */
	bool		on_disk;

	double		indtuples;
	double		reltuples;
	char	   *data;			/* the current element */
	MemoryContext tmpctx;
} HnswBuildState;

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

/* Insert an element into the in-memory graph; false when it is full */
static bool
mem_insert(HnswBuildState *bs, const char *data, ItemPointer tid)
{
	const HnswShape *shape = &bs->shape;
	HnswPlan   *plan = bs->plan;
	int			level = HnswRandomLevel(&bs->prng, shape->m);
	int			nupper = HnswUpperSlotsNeeded(shape, level);
	uint32		slots[1 + HNSW_MAX_LEVEL];
	char	   *images[1 + HNSW_MAX_LEVEL];

	if (bs->mg.g.nslots + 1 + nupper > bs->capacity)
		return false;

	bs->search.query = data;
	HnswPlanNeighbours(&bs->search, bs->entry, bs->entry_level, level, plan);
	if (plan->duplicate != HNSW_NO_SLOT)
	{
		HnswSlotHeader *hdr = (HnswSlotHeader *) (bs->mg.base + (Size) plan->duplicate * shape->slotsize);

		if (hdr->ntids < HNSW_HEAPTIDS)
		{
			hdr->u.tids[hdr->ntids++] = *tid;
			return true;
		}
	}

	for (int i = 0; i <= nupper; i++)
	{
		slots[i] = bs->mg.g.nslots + i;
		images[i] = bs->mg.base + (Size) slots[i] * shape->slotsize;
	}
	HnswFormNode(shape, plan, slots[0], slots + 1, data, tid, images);
	bs->mg.g.nslots += 1 + nupper;

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
			int			nd = mem_link(bs, plan->ids[layer][i], layer, slots[0], d);

			for (int j = 0; j < nd && ndropped < lm; j++)
				dropped[ndropped++] = d[j];
		}
		/* the new node adopts what its links pushed out, while it has room */
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
	}

	if (bs->entry == HNSW_NO_SLOT || level > bs->entry_level)
	{
		bs->entry = slots[0];
		bs->entry_level = level;
	}
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
		if (!bs->on_disk && !mem_insert(bs, bs->data, tid))
		{
			ereport(NOTICE,
					(errmsg("hnsw graph no longer fits into maintenance_work_mem after %.0f tuples",
							bs->indtuples),
					 errdetail("The rest of the build inserts on disk, which takes much longer."),
					 errhint("Increase maintenance_work_mem to speed up builds.")));
			flush_graph(bs);
			bs->on_disk = true;
			pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_INSERT);
		}
		if (bs->on_disk)
			HnswInsertElement(bs->index, &bs->shape, bs->data, tid);
		bs->indtuples++;
		if ((int64) bs->indtuples % 1000 == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpctx);
}

/* ambuild */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	HnswBuildState bs;
	Size		mem = (Size) maintenance_work_mem * 1024;
	Size		room;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	HnswInitShape(index, &bs.shape, HnswColumnDims(index));
	bs.entry = HNSW_NO_SLOT;
	bs.entry_level = -1;
	pg_prng_seed(&bs.prng, HNSW_BUILD_SEED);
	bs.data = palloc(bs.shape.datasize);
	bs.plan = HnswPlanAlloc(&bs.shape);
	bs.tmpctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build tuple",
									  ALLOCSET_DEFAULT_SIZES);

	/* what maintenance_work_mem leaves for slots once the search's needs are met */
	room = mem > 1024 * 1024 ? mem - 256 * 1024 : mem / 2;
	bs.capacity = (uint32) Min(room / bs.shape.slotsize, (Size) (HNSW_NO_SLOT - 1));
	bs.capacity = Max(bs.capacity, 2);
	HnswMemGraphInit(&bs.mg, &bs.shape,
					 MemoryContextAllocHuge(CurrentMemoryContext, (Size) bs.capacity * bs.shape.slotsize),
					 bs.capacity);
	HnswSearchInit(&bs.search, &bs.mg.g, bs.data);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
	bs.reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
										  build_callback, &bs, NULL);

	if (!bs.on_disk)
		flush_graph(&bs);

	HnswSearchFree(&bs.search);
	pfree(bs.mg.base);
	MemoryContextDelete(bs.tmpctx);

	result = palloc(sizeof(IndexBuildResult));
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
