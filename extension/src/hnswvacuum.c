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
push_free(VacuumState *vs, const uint32 *slots, int n)
{
	Buffer		metabuf = ReadBuffer(vs->index, HNSW_METAPAGE_BLKNO);
	GenericXLogState *state;
	HnswMetaPageData *meta;
	int			added = 0;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(vs->index);
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
chain_push(VacuumState *vs, uint32 slot, uint32 owner)
{
	ChainArg	c = {slot, owner};

	HnswUpdateSlotAndMeta(vs->index, &vs->shape, slot, push_into_chain, &c);
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
				chain_push(vs, chain[i], slot);
			chain_push(vs, slot, none);
			continue;
		}
		for (int i = n - 1; i >= 1; i--)
			HnswUpdateSlot(vs->index, &vs->shape, chain[i], free_slot, &slot);
		HnswUpdateSlot(vs->index, &vs->shape, slot, free_slot, &none);
		{
			/* (room only grows under us: inserts take from the list) */
			int			added = push_free(vs, chain, n);

			for (int i = added; i < n; i++)
				chain_push(vs, chain[i], HNSW_FREED);
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

/* amvacuumcleanup */
IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		/* no bulkdelete ran: count the live TIDs */
		HnswShape	shape;
		HnswPageGraph pg;

		stats = palloc0(sizeof(IndexBulkDeleteResult));
		HnswInitShape(info->index, &shape, HnswColumnDims(info->index));
		HnswPageGraphInit(&pg, info->index, &shape);
		for (uint32 slot = 0; slot < pg.g.nslots; slot++)
		{
			HnswSlotHeader hdr;

			if (HnswReadHeader(&pg.g, slot, &hdr) && hdr.kind == HNSW_SLOT_NODE)
				stats->num_index_tuples += hdr.ntids;
		}
		HnswPageGraphEnd(&pg);
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}
