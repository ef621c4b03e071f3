/*-------------------------------------------------------------------------
 *
 * hnswvacuum.c
 *	  VACUUM for hnsw: drop dead heap TIDs, repair the neighbour lists that
 *	  point to nodes left without any, and recycle those nodes' slots.
 *
 * Three passes over the slot array, with inserts running throughout:
 *
 *	1. Remove dead TIDs from every node.  A node left with none is marked
 *	   HNSW_NODE_DELETED: searches still walk through it (it is a useful
 *	   bridge until its neighbours are repaired) but inserts never choose it
 *	   as a neighbour and scans return nothing from it.
 *	   Barrier: take HNSW_UPDATE_LOCK exclusively for an instant.  Every
 *	   insert that started before a node was marked has finished; every later
 *	   one saw the mark.  So from here on no new link to a deleted node
 *	   appears.
 *	2. Repair: every live node whose list (on any layer) holds a deleted node
 *	   gets a new list, chosen with Alg. 4 from its live neighbours plus the
 *	   live neighbours of its deleted ones (the two-hop neighbourhood, as in
 *	   hnswlib's repair of deleted elements).  If the entry point is deleted,
 *	   the live node with the highest level replaces it.
 *	   Barrier again: inserts that read the old entry point have finished.
 *	3. Free: deleted nodes and their upper slots become HNSW_SLOT_FREE and go
 *	   to the metapage's free list for inserts to reuse, or, past its 1,500
 *	   places, to a chain through the free slots themselves (each names the
 *	   next; the metapage holds the head), so every slot VACUUM frees is
 *	   reused before the index grows.
 *
 * At the end of every VACUUM (amvacuumcleanup), slots lost by inserts that
 * failed between taking and writing them are found and freed (see
 * reclaim_lost_slots).
 *
 * A scan that is still walking through a node freed in pass 3 finds a FREE
 * slot, or a node reused by an insert; either way it only reads a valid
 * slot, and heap visibility is checked by the executor.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "common/pg_prng.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"

typedef struct VacuumState
{
	Relation	index;
	HnswShape	shape;
	HnswPageGraph pg;
	uint8	   *deleted;		/* bitmap: nodes marked deleted */
	uint32		deleted_bits;	/* slots the bitmap covers (the graph at the start) */
	uint32		ndeleted;
	bool		unrepaired;		/* a list kept changing under its repair */
	IndexBulkDeleteCallback callback;
	void	   *callback_state;
	IndexBulkDeleteResult *stats;
	MemoryContext tmpctx;
} VacuumState;

/* nodes added after the start are never marked: inserts skip deleted nodes */
#define IS_DELETED(vs, slot) \
	((slot) < (vs)->deleted_bits && (((vs)->deleted[(slot) >> 3] >> ((slot) & 7)) & 1))

/* Let the reader see slots added since it last looked (reads drop ids beyond) */
static void
see_new_slots(VacuumState *vs)
{
	HnswMetaPageData meta;

	HnswReadMeta(vs->index, &meta);
	vs->pg.g.nslots = Max(vs->pg.g.nslots, meta.nslots);
}

typedef struct TidsArg
{
	VacuumState *vs;
	int			removed;
	int			left;
} TidsArg;

/* Pass 1 on one slot: keep the live TIDs; mark the node deleted if none are */
static bool
remove_dead_tids(char *slotdata, void *arg)
{
	TidsArg    *t = arg;
	HnswSlotHeader *hdr = (HnswSlotHeader *) slotdata;
	int			n = 0;

	t->removed = t->left = 0;
	if (hdr->kind != HNSW_SLOT_NODE || (hdr->flags & HNSW_NODE_DELETED))
		return false;
	for (int i = 0; i < hdr->ntids && i < HNSW_HEAPTIDS; i++)
	{
		if (t->vs->callback(&hdr->u.tids[i], t->vs->callback_state))
			t->removed++;
		else
			hdr->u.tids[n++] = hdr->u.tids[i];
	}
	if (t->removed == 0)
	{
		t->left = n;
		return false;
	}
	for (int i = n; i < HNSW_HEAPTIDS; i++)
		ItemPointerSetInvalid(&hdr->u.tids[i]);
	hdr->ntids = n;
	if (n == 0)
		hdr->flags |= HNSW_NODE_DELETED;
	t->left = n;
	return true;
}

static void
pass_remove(VacuumState *vs)
{
	for (uint32 slot = 0; slot < vs->pg.g.nslots; slot++)
	{
		HnswSlotHeader hdr;
		TidsArg		t = {vs, 0, 0};

		vacuum_delay_point();
		if (!HnswReadHeader(&vs->pg.g, slot, &hdr) || hdr.kind != HNSW_SLOT_NODE)
			continue;
		if (!(hdr.flags & HNSW_NODE_DELETED))
		{
			HnswUpdateSlot(vs->index, &vs->shape, slot, remove_dead_tids, &t);
			vs->stats->tuples_removed += t.removed;
			vs->stats->num_index_tuples += t.left;
			if (t.left > 0)
				continue;
			if (!HnswReadHeader(&vs->pg.g, slot, &hdr) || !(hdr.flags & HNSW_NODE_DELETED))
				continue;
		}
		vs->deleted[slot >> 3] |= 1 << (slot & 7);
		vs->ndeleted++;
	}
}

/* Pass 2 on one node and layer: replace its deleted neighbours, if it has any */
static void
repair_list(VacuumState *vs, uint32 node, int layer)
{
	const HnswShape *shape = &vs->shape;
	HnswGraph  *g = &vs->pg.g;
	int			lm = HnswLayerM(shape, layer);
	int			maxc = lm + lm * lm;
	uint32	   *cur = palloc(sizeof(uint32) * lm);
	uint32	   *cand = palloc(sizeof(uint32) * maxc);
	uint32	   *hop = palloc(sizeof(uint32) * lm);
	char	  **data = palloc(sizeof(char *) * maxc);
	char	   *nodedata = palloc(shape->datasize);

	int			attempt;

	for (attempt = 0; attempt < 5; attempt++)
	{
		int			n = HnswReadNeighbours(g, node, layer, cur);
		int			nc = 0;
		bool		any = false;
		int			nlist;
		bool		done;

		for (int i = 0; i < n; i++)
			if (IS_DELETED(vs, cur[i]))
				any = true;
		if (!any)
			break;

		for (int i = 0; i < n; i++)
		{
			if (!IS_DELETED(vs, cur[i]))
			{
				if (!HnswContainsId(cand, nc, cur[i]))
					cand[nc++] = cur[i];
				continue;
			}
			/* the deleted neighbour's own neighbours are candidates */
			{
				int			nh = HnswReadNeighbours(g, cur[i], layer, hop);

				for (int j = 0; j < nh; j++)
					if (hop[j] != node && hop[j] < vs->pg.g.nslots && !IS_DELETED(vs, hop[j]) &&
						!HnswContainsId(cand, nc, hop[j]))
					{
						HnswSlotHeader hdr;

						if (HnswReadHeader(g, hop[j], &hdr) && hdr.kind == HNSW_SLOT_NODE &&
							hdr.level >= layer && !(hdr.flags & HNSW_NODE_DELETED))
							cand[nc++] = hop[j];
					}
			}
		}

		HnswReadData(g, node, nodedata);
		for (int i = 0; i < nc; i++)
		{
			data[i] = MemoryContextAlloc(vs->tmpctx, shape->datasize);
			HnswReadData(g, cand[i], data[i]);
		}
		nlist = HnswPrune(shape, node, nodedata, cand, data, nc, lm, cand);
		done = HnswSwapList(vs->index, shape, g, node, layer, cur, n, cand, nlist);
		MemoryContextReset(vs->tmpctx);
		if (done)
			break;

		/*
		 * An insert changed the list under us; it may hold a node newer than
		 * our view of the graph, which a read leaves out, so that the list
		 * would never match what we read: look at the graph as it is now.
		 */
		see_new_slots(vs);
	}
	/* the list may still hold deleted nodes: none may be freed this time */
	if (attempt == 5)
		vs->unrepaired = true;
	pfree(cur);
	pfree(cand);
	pfree(hop);
	pfree(data);
	pfree(nodedata);
}

/* Set the entry point if it still is old */
static void
replace_entry_point(VacuumState *vs, uint32 old, uint32 node, int level)
{
	Buffer		metabuf = ReadBuffer(vs->index, HNSW_METAPAGE_BLKNO);
	HnswMetaPageData *meta;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = HnswPageGetMeta(BufferGetPage(metabuf));
	if (meta->entry == old)
	{
		GenericXLogState *state = GenericXLogStart(vs->index);

		meta = HnswMetaForUpdate(GenericXLogRegisterBuffer(state, metabuf, 0));
		meta->entry = node;
		meta->entry_level = node == HNSW_NO_SLOT ? -1 : level;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(metabuf);
}

static void
pass_repair(VacuumState *vs)
{
	HnswMetaPageData meta;
	uint32		best = HNSW_NO_SLOT;
	int			best_level = -1;

	/*
	 * Inserts that finished before the barrier may have linked their new
	 * nodes to nodes marked in pass 1: repair every node there is now, not
	 * only those there were at the start.
	 */
	see_new_slots(vs);
	for (uint32 slot = 0; slot < vs->pg.g.nslots; slot++)
	{
		HnswSlotHeader hdr;

		vacuum_delay_point();
		if (IS_DELETED(vs, slot) || !HnswReadHeader(&vs->pg.g, slot, &hdr) ||
			hdr.kind != HNSW_SLOT_NODE || (hdr.flags & HNSW_NODE_DELETED))
			continue;
		for (int layer = hdr.level; layer >= 0; layer--)
			repair_list(vs, slot, layer);
		if (hdr.level > best_level)
		{
			best = slot;
			best_level = hdr.level;
		}
	}

	HnswReadMeta(vs->index, &meta);
	if (meta.entry != HNSW_NO_SLOT && meta.entry < vs->pg.g.nslots && IS_DELETED(vs, meta.entry))
		replace_entry_point(vs, meta.entry, best, best_level);
}

static bool
free_slot(char *slotdata, void *arg)
{
	HnswSlotHeader *hdr = (HnswSlotHeader *) slotdata;
	uint32		owner = *(uint32 *) arg;

	if (owner == HNSW_NO_SLOT)
	{
		if (hdr->kind != HNSW_SLOT_NODE || !(hdr->flags & HNSW_NODE_DELETED))
			return false;
	}
	else if (hdr->kind != HNSW_SLOT_UPPER || hdr->u.up.owner != owner)
		return false;
	memset(hdr, 0, sizeof(HnswSlotHeader));
	hdr->kind = HNSW_SLOT_FREE;
	return true;
}

/* Add slots to the metapage's free list; returns how many fit */
static int
push_free(Relation index, const uint32 *slots, int n)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	GenericXLogState *state;
	HnswMetaPageData *meta;
	int			added = 0;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	meta = HnswMetaForUpdate(GenericXLogRegisterBuffer(state, metabuf, 0));
	while (added < n && meta->nfree < HNSW_META_FREE_MAX)
		meta->free[meta->nfree++] = slots[added++];
	GenericXLogFinish(state);
	UnlockReleaseBuffer(metabuf);
	return added;
}

/*
 * Put a slot at the head of the chain: the slot and the metapage in one WAL
 * record.  The slot is freed first (owner as free_slot's argument), unless
 * it is FREE already (owner HNSW_FREED).
 */
#define HNSW_FREED	(HNSW_NO_SLOT - 1)

typedef struct ChainArg
{
	uint32		slot;
	uint32		owner;
} ChainArg;

static bool
push_into_chain(char *slotdata, HnswMetaPageData *meta, void *arg)
{
	ChainArg   *c = arg;
	HnswSlotHeader *hdr = (HnswSlotHeader *) slotdata;

	if (c->owner == HNSW_FREED ? hdr->kind != HNSW_SLOT_FREE : !free_slot(slotdata, &c->owner))
		return false;
	hdr->upper = meta->chain_head == 0 ? HNSW_NO_SLOT : meta->chain_head - 1;
	meta->chain_head = c->slot + 1;
	meta->chain_length++;
	return true;
}

static void
chain_push(Relation index, const HnswShape *shape, uint32 slot, uint32 owner)
{
	ChainArg	c = {slot, owner};

	HnswUpdateSlotAndMeta(index, shape, slot, push_into_chain, &c);
}

/*
 * Pass 3: free every deleted node and its upper slots, into the metapage's
 * free list while it has room, else into the chain.
 */
static void
pass_free(VacuumState *vs)
{
	HnswMetaPageData meta;
	uint32		room;

	HnswReadMeta(vs->index, &meta);
	room = HNSW_META_FREE_MAX - meta.nfree;
	for (uint32 slot = 0; slot < vs->pg.g.nslots; slot++)
	{
		HnswSlotHeader hdr;
		uint32		chain[1 + HNSW_MAX_LEVEL];
		int			n = 0;
		uint32		none = HNSW_NO_SLOT;

		if (!IS_DELETED(vs, slot) || !HnswReadHeader(&vs->pg.g, slot, &hdr) ||
			hdr.kind != HNSW_SLOT_NODE || !(hdr.flags & HNSW_NODE_DELETED))
			continue;
		if (meta.entry == slot)
			continue;			/* the graph's only nodes are deleted ones */

		chain[n++] = slot;
		for (uint32 up = hdr.upper; up != HNSW_NO_SLOT && n <= HNSW_MAX_LEVEL;)
		{
			HnswSlotHeader uh;

			if (!HnswReadHeader(&vs->pg.g, up, &uh) || uh.kind != HNSW_SLOT_UPPER ||
				uh.u.up.owner != slot)
				break;
			chain[n++] = up;
			up = uh.upper;
		}
		vacuum_delay_point();

		/*
		 * Upper slots first.  Into the chain, each is reusable at once, so an
		 * insert may take one while the deleted node still names it: safe,
		 * since every reader of an upper slot checks its kind and owner.
		 */
		if ((uint32) n > room)
		{
			for (int i = n - 1; i >= 1; i--)
				chain_push(vs->index, &vs->shape, chain[i], slot);
			chain_push(vs->index, &vs->shape, slot, none);
			continue;
		}
		for (int i = n - 1; i >= 1; i--)
			HnswUpdateSlot(vs->index, &vs->shape, chain[i], free_slot, &slot);
		HnswUpdateSlot(vs->index, &vs->shape, slot, free_slot, &none);
		{
			/* (room only grows under us: inserts take from the list) */
			int			added = push_free(vs->index, chain, n);

			for (int i = added; i < n; i++)
				chain_push(vs->index, &vs->shape, chain[i], HNSW_FREED);
		}
		room -= n;
	}
}

typedef struct ReplaceArg
{
	int			pos;
	uint32		id;
} ReplaceArg;

static bool
apply_replace(char *slotdata, void *arg)
{
	ReplaceArg *r = arg;
	HnswSlotHeader *hdr = (HnswSlotHeader *) slotdata;

	if (hdr->kind != HNSW_SLOT_NODE)
		return false;
	((uint32 *) (slotdata + HNSW_NEIGHBOURS_OFFSET))[r->pos] = r->id;
	return true;
}

/*
 * Pass 4: every live node must be reachable from the entry point.  Pruning
 * (in inserts and in the repair above) can take away a node's last incoming
 * link; such a node gets one from a reached neighbour of its own, into a free
 * place, or over a random entry of the second half of a full list.  The node
 * that loses its place may need the same in the next round.
 */
static void
pass_connect(VacuumState *vs)
{
	const HnswShape *shape = &vs->shape;
	HnswGraph  *g = &vs->pg.g;
	HnswMetaPageData meta;
	int			lm = 2 * shape->m;
	uint32	   *ids = palloc(sizeof(uint32) * lm);
	bool	   *reached;
	uint32	   *queue;
	uint32		nslots;

	HnswReadMeta(vs->index, &meta);
	if (meta.entry == HNSW_NO_SLOT)
		return;
	nslots = g->nslots = Max(g->nslots, meta.nslots);
	reached = palloc(nslots);
	queue = palloc(sizeof(uint32) * nslots);

	for (int round = 0; round < 8; round++)
	{
		uint32		head = 0,
					tail = 0,
					missing = 0;

		memset(reached, 0, nslots);
		reached[meta.entry] = true;
		queue[tail++] = meta.entry;
		while (head < tail)
		{
			uint32		node = queue[head++];
			HnswSlotHeader hdr;

			vacuum_delay_point();
			if (!HnswReadHeader(g, node, &hdr) || hdr.kind != HNSW_SLOT_NODE)
				continue;
			for (int layer = 0; layer <= hdr.level; layer++)
			{
				int			n = HnswReadNeighbours(g, node, layer, ids);

				for (int i = 0; i < n; i++)
					if (!reached[ids[i]])
					{
						reached[ids[i]] = true;
						queue[tail++] = ids[i];
					}
			}
		}

		for (uint32 slot = 0; slot < nslots; slot++)
		{
			HnswSlotHeader hdr;
			uint32		source = HNSW_NO_SLOT;
			bool		room = false;
			int			n;

			if (reached[slot] || !HnswReadHeader(g, slot, &hdr) || hdr.kind != HNSW_SLOT_NODE ||
				(hdr.flags & HNSW_NODE_DELETED))
				continue;
			missing++;
			n = HnswReadNeighbours(g, slot, 0, ids);
			for (int i = 0; i < n; i++)
			{
				uint32		theirs[2 * HNSW_MAX_M];

				if (!reached[ids[i]])
					continue;
				if (source == HNSW_NO_SLOT)
					source = ids[i];
				if (HnswReadNeighbours(g, ids[i], 0, theirs) < lm)
				{
					source = ids[i];
					room = true;
					break;
				}
			}
			if (source == HNSW_NO_SLOT)
				continue;
			if (room)
				HnswAdoptNeighbours(vs->index, shape, g, source, 0, &slot, 1);
			else
			{
				/*
				 * Over an entry the orphan links to itself, which then stays
				 * reachable through it; failing that, a random one of the
				 * second half, which the next round reconnects if need be.
				 */
				uint32		theirs[2 * HNSW_MAX_M];
				int			nt = HnswReadNeighbours(g, source, 0, theirs);
				ReplaceArg	r = {shape->m + (int) pg_prng_uint64_range(&pg_global_prng_state, 0, shape->m - 1), slot};

				for (int i = nt - 1; i >= 0; i--)
				{
					bool		mine = false;

					for (int j = 0; j < n && !mine; j++)
						mine = ids[j] == theirs[i];
					if (mine)
					{
						r.pos = i;
						break;
					}
				}
				HnswUpdateSlot(vs->index, shape, source, apply_replace, &r);
			}
			reached[slot] = true;
		}
		if (missing == 0)
			break;
	}
	pfree(ids);
	pfree(reached);
	pfree(queue);
}

/* ambulkdelete */
IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	VacuumState vs;
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(ctx);

	if (stats == NULL)
	{
		MemoryContextSwitchTo(old);
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		MemoryContextSwitchTo(ctx);
	}
	stats->num_index_tuples = 0;

	memset(&vs, 0, sizeof(vs));
	vs.index = info->index;
	vs.callback = callback;
	vs.callback_state = callback_state;
	vs.stats = stats;
	vs.tmpctx = AllocSetContextCreate(ctx, "hnsw vacuum list", ALLOCSET_DEFAULT_SIZES);
	HnswInitShape(vs.index, &vs.shape, HnswColumnDims(vs.index));
	HnswPageGraphInit(&vs.pg, vs.index, &vs.shape);
	vs.deleted_bits = vs.pg.g.nslots;
	vs.deleted = palloc0(vs.pg.g.nslots / 8 + 1);

	pass_remove(&vs);
	if (vs.ndeleted > 0)
	{
		LockPage(vs.index, HNSW_UPDATE_LOCK, ExclusiveLock);
		UnlockPage(vs.index, HNSW_UPDATE_LOCK, ExclusiveLock);
		pass_repair(&vs);
		LockPage(vs.index, HNSW_UPDATE_LOCK, ExclusiveLock);
		UnlockPage(vs.index, HNSW_UPDATE_LOCK, ExclusiveLock);
		if (!vs.unrepaired)
			pass_free(&vs);
		pass_connect(&vs);
	}

	HnswPageGraphEnd(&vs.pg);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return stats;
}

/*
 * Lost slots.  An insert takes its slots (from the free list, the chain, or
 * past the end of the array), writes its upper slots, then its node.  One
 * that fails in between (an error, a cancel, a crash) leaves slots nothing
 * will ever reuse: FREE slots that no list names, and UPPER slots that no
 * node reaches.  An insert holds HNSW_UPDATE_LOCK from before it takes its
 * slots until it has written them all, so while VACUUM holds that lock
 * exclusively, every such slot is lost for good.  VACUUM frees them at the
 * end of every cleanup:
 *
 *	1. Without locks, it reads the lists and every slot's header: the FREE
 *	   slots they do not name and the UPPER slots no node reaches are the
 *	   candidates (usually there are none, and nothing more happens).
 *	2. It takes an exact picture of the lists: the chain walked with the
 *	   metapage share-locked (allocations wait meanwhile).  While VACUUM runs
 *	   nothing else adds to the lists (inserts only take from them), so a
 *	   slot the picture does not name stays unnamed.  Lists that do not add
 *	   up (a slot named twice, a chain of another length than the metapage
 *	   says) are left alone, with a WARNING.
 *	3. With HNSW_UPDATE_LOCK held exclusively, it frees the candidates that
 *	   are still lost (FREE and unnamed; UPPER and unreached) into the list,
 *	   or the chain when the list is full.
 */

typedef struct LostScan
{
	uint32	   *free_slots;		/* FREE slots no list names */
	uint32		nfree;
	uint32	   *uppers;			/* UPPER slots no node reaches */
	uint32	   *owners;			/* ... and the owners they name */
	uint32		nuppers;
	double		tids;			/* live heap TIDs, for the cleanup's stats */
} LostScan;

#define BIT_SET(bits, slot)	((bits)[(slot) >> 3] |= (uint8) (1 << ((slot) & 7)))
#define BIT_TEST(bits, slot) (((bits)[(slot) >> 3] >> ((slot) & 7)) & 1)

/*
 * The slots the free list and the chain name, as a bitmap over nslots.
 * With exact, the metapage stays share-locked while the chain is walked (the
 * metapage before slot pages, as always), and false is returned, with a
 * WARNING, for lists that do not add up.
 */
static bool
listed_slots(Relation index, HnswGraph *g, uint32 nslots, bool exact, uint8 **out)
{
	uint8	   *bits = palloc0(nslots / 8 + 1);
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPageData *meta;
	uint32		slot;
	uint32		length = 0;
	const char *trouble = NULL;

	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	meta = HnswPageGetMeta(BufferGetPage(metabuf));
	for (uint32 i = 0; i < meta->nfree && i < HNSW_META_FREE_MAX; i++)
		if (meta->free[i] < nslots)
		{
			if (BIT_TEST(bits, meta->free[i]))
				trouble = "a slot is twice in the free list";
			BIT_SET(bits, meta->free[i]);
		}
	slot = meta->chain_head == 0 ? HNSW_NO_SLOT : meta->chain_head - 1;
	if (!exact)
		LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);
	while (slot != HNSW_NO_SLOT && trouble == NULL)
	{
		HnswSlotHeader hdr;

		if (slot >= nslots || !HnswReadHeader(g, slot, &hdr) || hdr.kind != HNSW_SLOT_FREE)
			trouble = "the chain of free slots leads to a slot that is not free";
		else if (BIT_TEST(bits, slot))
			trouble = "the chain of free slots names a slot twice, or one in the free list";
		else
		{
			BIT_SET(bits, slot);
			length++;
			slot = hdr.upper;
		}
	}
	if (exact && trouble == NULL && length != meta->chain_length)
		trouble = "the chain of free slots is not as long as the metapage says";
	if (exact)
		LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);
	ReleaseBuffer(metabuf);
	*out = bits;
	if (exact && trouble != NULL)
	{
		ereport(WARNING,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("hnsw index \"%s\": slots lost by failed inserts are not freed: %s",
						RelationGetRelationName(index), trouble),
				 errhint("vecdb.hnsw_verify() reports the problem; REINDEX rebuilds the lists.")));
		return false;
	}
	return true;
}

/* An UPPER slot that its owner does not reach through its chain of upper slots */
static bool
unreached_upper(HnswGraph *g, uint32 slot, uint32 owner)
{
	HnswSlotHeader oh;
	uint32		up;

	if (!HnswReadHeader(g, owner, &oh) || oh.kind != HNSW_SLOT_NODE)
		return true;
	up = oh.upper;
	for (int steps = 0; up != HNSW_NO_SLOT && steps <= HNSW_MAX_LEVEL; steps++)
	{
		HnswSlotHeader uh;

		if (up == slot)
			return false;
		if (!HnswReadHeader(g, up, &uh) || uh.kind != HNSW_SLOT_UPPER || uh.u.up.owner != owner)
			return true;
		up = uh.upper;
	}
	return true;
}

/* Step 1: the candidates, and the live heap TIDs; the lists read without locks */
static void
scan_lost(Relation index, HnswGraph *g, uint32 nslots, LostScan *ls)
{
	uint8	   *listed;
	uint32		cap_free = 16,
				cap_up = 16;

	memset(ls, 0, sizeof(LostScan));
	ls->free_slots = palloc(sizeof(uint32) * cap_free);
	ls->uppers = palloc(sizeof(uint32) * cap_up);
	ls->owners = palloc(sizeof(uint32) * cap_up);
	listed_slots(index, g, nslots, false, &listed);
	for (uint32 slot = 0; slot < nslots; slot++)
	{
		HnswSlotHeader hdr;

		if ((slot & 1023) == 0)
			vacuum_delay_point();
		if (!HnswReadHeader(g, slot, &hdr))
			continue;
		if (hdr.kind == HNSW_SLOT_NODE)
			ls->tids += hdr.ntids;
		else if (hdr.kind == HNSW_SLOT_FREE && !BIT_TEST(listed, slot))
		{
			if (ls->nfree == cap_free)
			{
				cap_free *= 2;
				ls->free_slots = repalloc_huge(ls->free_slots, sizeof(uint32) * cap_free);
			}
			ls->free_slots[ls->nfree++] = slot;
		}
		else if (hdr.kind == HNSW_SLOT_UPPER && unreached_upper(g, slot, hdr.u.up.owner))
		{
			if (ls->nuppers == cap_up)
			{
				cap_up *= 2;
				ls->uppers = repalloc_huge(ls->uppers, sizeof(uint32) * cap_up);
				ls->owners = repalloc_huge(ls->owners, sizeof(uint32) * cap_up);
			}
			ls->uppers[ls->nuppers] = slot;
			ls->owners[ls->nuppers++] = hdr.u.up.owner;
		}
	}
	pfree(listed);
}

/* Free the lost slots (steps 2 and 3); returns how many; *tids gets the live heap TIDs */
static uint32
reclaim_lost_slots(Relation index, const HnswShape *shape, double *tids)
{
	HnswPageGraph pg;
	LostScan	ls;
	uint8	   *listed;
	uint32		nslots;
	uint32		nlost = 0;

	HnswPageGraphInit(&pg, index, shape);
	nslots = pg.g.nslots;
	scan_lost(index, &pg.g, nslots, &ls);
	*tids = ls.tids;
	if ((ls.nfree > 0 || ls.nuppers > 0) && listed_slots(index, &pg.g, nslots, true, &listed))
	{
		HnswMetaPageData meta;
		uint32		nstill = 0;
		int			added;

		LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
		/* owners may be newer than the scan */
		HnswReadMeta(index, &meta);
		pg.g.nslots = meta.nslots;
		for (uint32 i = 0; i < ls.nfree; i++)
		{
			HnswSlotHeader hdr;

			if (!BIT_TEST(listed, ls.free_slots[i]) && HnswReadHeader(&pg.g, ls.free_slots[i], &hdr) &&
				hdr.kind == HNSW_SLOT_FREE)
				ls.free_slots[nstill++] = ls.free_slots[i];
		}
		added = push_free(index, ls.free_slots, (int) nstill);
		for (uint32 i = (uint32) added; i < nstill; i++)
			chain_push(index, shape, ls.free_slots[i], HNSW_FREED);
		nlost = nstill;
		for (uint32 i = 0; i < ls.nuppers; i++)
		{
			HnswSlotHeader hdr;

			/* into the chain, freed in the same record (chain_push checks kind and owner) */
			if (HnswReadHeader(&pg.g, ls.uppers[i], &hdr) && hdr.kind == HNSW_SLOT_UPPER &&
				hdr.u.up.owner == ls.owners[i] && unreached_upper(&pg.g, ls.uppers[i], ls.owners[i]))
			{
				chain_push(index, shape, ls.uppers[i], ls.owners[i]);
				nlost++;
			}
		}
		UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
		pfree(listed);
	}
	HnswPageGraphEnd(&pg);
	pfree(ls.free_slots);
	pfree(ls.uppers);
	pfree(ls.owners);
	return nlost;
}

/* amvacuumcleanup */
IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	HnswShape	shape;
	uint32		lost;
	double		tids;

	if (info->analyze_only)
		return stats;
	HnswInitShape(info->index, &shape, HnswColumnDims(info->index));
	lost = reclaim_lost_slots(info->index, &shape, &tids);
	if (lost > 0)
		ereport(info->message_level,
				(errmsg_plural("hnsw index \"%s\": %u slot left by inserts that failed is free again",
							   "hnsw index \"%s\": %u slots left by inserts that failed are free again",
							   lost, RelationGetRelationName(info->index), lost)));
	if (stats == NULL)
	{
		/* no bulkdelete ran: the live TIDs counted by the scan above */
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		stats->num_index_tuples = tids;
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}
