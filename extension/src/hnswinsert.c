/*-------------------------------------------------------------------------
 *
 * hnswinsert.c
 *	  Adding one element to the graph (Alg. 1): planning its neighbours,
 *	  which builds share with inserts, and writing it to the index's pages.
 *
 * An insert on disk goes in four steps, each crash-safe on its own:
 *
 *	1. plan: search the graph (share buffer locks, one page at a time) for
 *	   the new node's neighbours on each of its layers.  If layer 0 holds a
 *	   node with identical data and room for another heap TID, the TID is
 *	   added to it and the insert is done: duplicates share a node.
 *	2. allocate slots (the metapage's free list first, then the chain of
 *	   free slots, else its high-water mark, extending the relation as
 *	   needed) and write the upper slots,
 *	   then the node slot with all its lists.  Nothing points to it yet: a
 *	   crash here leaks a slot, never corrupts the graph.
 *	3. link: add the node to each neighbour's list.  A full list is pruned
 *	   with Alg. 4 from its current members plus the new node; the pruning is
 *	   computed from a copy and applied only if the list is unchanged when
 *	   the page is locked exclusively, else it is recomputed.
 *	4. if the node's level is above the entry point's, make it the entry
 *	   point.
 *
 * Heavyweight lock: an insert holds HNSW_UPDATE_LOCK in share mode, or in
 * exclusive mode when it may become the entry point (an empty graph, or a
 * level above the current top), so two inserts never race for the entry
 * point and VACUUM can wait for every insert in flight.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "common/hashfn.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"

/*
 * Plan an element's neighbours (Alg. 1, lines 5-15, without the writes):
 * for each layer from min(level, top) down to 0, the neighbours Alg. 4
 * picks from the ef_construction nearest.  Also spots an identical element
 * on layer 0 that could take the heap TID.
 */
void
HnswPlanNeighbours(HnswSearch *s, uint32 entry, int entry_level, int level, HnswPlan *plan)
{
	const HnswShape *shape = s->shape;
	HnswGraph  *g = s->graph;
	int			ef = shape->ef_construction;
	HnswCandidate *w = palloc(sizeof(HnswCandidate) * (ef + 1));
	HnswCandidate *eps = palloc(sizeof(HnswCandidate) * (ef + 1));
	char	  **data = palloc(sizeof(char *) * (ef + 1));
	char	   *copies = g->stable ? NULL : palloc((Size) shape->datasize * ef);
	int		   *keep = palloc(sizeof(int) * 2 * shape->m);
	int			neps = 1;

	plan->level = level;
	plan->top = -1;
	s->tiebreak = hash_bytes((const unsigned char *) s->query, shape->datasize) ^ g->nslots;
	plan->duplicate = HNSW_NO_SLOT;
	s->skip_deleted = true;
	HnswSearchReset(s);
	if (!HnswSearchToLayer(s, entry, entry_level, Min(level, entry_level), &eps[0]))
		goto done;

	plan->top = Min(level, entry_level);
	for (int layer = plan->top; layer >= 0; layer--)
	{
		int			n;
		int			k;
		int			lm = HnswLayerM(shape, layer);

		n = HnswSearchLayer(s, eps, neps, ef, layer, w);
		for (int i = 0; i < n; i++)
		{
			if (g->stable)
				data[i] = (char *) g->slot_ptr(g, w[i].slot, HnswDataOffset(shape), shape->datasize);
			else
			{
				data[i] = copies + (Size) i * shape->datasize;
				HnswReadData(g, w[i].slot, data[i]);
			}
		}
		if (layer == 0)
		{
			for (int i = 0; i < n && w[i].distance == w[0].distance; i++)
				if (memcmp(data[i], s->query, shape->datasize) == 0)
				{
					plan->duplicate = w[i].slot;
					break;
				}
		}
		k = HnswSelectNeighbours(shape, w, n, data, lm, keep);
		plan->count[layer] = k;
		for (int i = 0; i < k; i++)
		{
			plan->ids[layer][i] = w[keep[i]].slot;
			plan->dists[layer][i] = w[keep[i]].distance;
		}
		for (int i = k; i < lm; i++)
			plan->ids[layer][i] = HNSW_NO_SLOT;

		/* the nearest found are the entry points one layer down */
		memcpy(eps, w, sizeof(HnswCandidate) * n);
		neps = n;
		HnswSearchReset(s);
		if (layer > 0)
			for (int i = 0; i < neps; i++)
				HnswSearchEnter(s, eps[i].slot, &eps[i]);
	}

done:
	pfree(w);
	pfree(eps);
	pfree(data);
	if (copies)
		pfree(copies);
	pfree(keep);
}

/* Room for a plan of an index of this shape */
HnswPlan *
HnswPlanAlloc(const HnswShape *shape)
{
	HnswPlan   *plan = palloc0(sizeof(HnswPlan));

	for (int layer = 0; layer <= HNSW_MAX_LEVEL; layer++)
	{
		int			lm = HnswLayerM(shape, layer);

		plan->ids[layer] = palloc(sizeof(uint32) * lm);
		plan->dists[layer] = palloc(sizeof(float) * lm);
	}
	return plan;
}

/* Upper slots a node of this level needs */
int
HnswUpperSlotsNeeded(const HnswShape *shape, int level)
{
	int			per_slot = shape->upper_capacity / shape->m;

	return level == 0 ? 0 : (level + per_slot - 1) / per_slot;
}

/*
 * Fill in a node slot and its upper slots (in memory) from a plan.  upper[]
 * are the slot ids of the upper chain; images[0] is the node slot, images[1..]
 * the upper slots, each slotsize bytes.
 */
void
HnswFormNode(const HnswShape *shape, const HnswPlan *plan, uint32 node, const uint32 *upper,
			 const char *data, ItemPointer heap_tid, char **images)
{
	HnswSlotHeader *hdr = (HnswSlotHeader *) images[0];
	int			nupper = HnswUpperSlotsNeeded(shape, plan->level);
	int			per_slot = shape->upper_capacity / shape->m;
	uint32	   *ids;

	memset(images[0], 0, shape->slotsize);
	hdr->kind = HNSW_SLOT_NODE;
	hdr->level = plan->level;
	hdr->ntids = 1;
	hdr->flags = 0;
	hdr->upper = nupper > 0 ? upper[0] : HNSW_NO_SLOT;
	hdr->u.tids[0] = *heap_tid;
	ids = (uint32 *) (images[0] + HNSW_NEIGHBOURS_OFFSET);
	for (int i = 0; i < 2 * shape->m; i++)
		ids[i] = (plan->top >= 0 && i < plan->count[0]) ? plan->ids[0][i] : HNSW_NO_SLOT;
	memcpy(images[0] + HnswDataOffset(shape), data, shape->datasize);

	for (int j = 0; j < nupper; j++)
	{
		HnswSlotHeader *uh = (HnswSlotHeader *) images[j + 1];
		uint32	   *uids = (uint32 *) (images[j + 1] + HNSW_UPPER_IDS_OFFSET);

		memset(images[j + 1], 0, shape->slotsize);
		uh->kind = HNSW_SLOT_UPPER;
		uh->upper = j + 1 < nupper ? upper[j + 1] : HNSW_NO_SLOT;
		uh->u.up.owner = node;
		uh->u.up.first_layer = 1 + j * per_slot;
		for (int i = 0; i < shape->upper_capacity; i++)
			uids[i] = HNSW_NO_SLOT;
		for (int l = 0; l < per_slot; l++)
		{
			int			layer = 1 + j * per_slot + l;

			if (layer > plan->level)
				break;
			if (layer <= plan->top)
				for (int i = 0; i < plan->count[layer]; i++)
					uids[l * shape->m + i] = plan->ids[layer][i];
		}
	}
}

/* ---------------------------------------------------------------------
 * On disk
 * ---------------------------------------------------------------------
 */

/* Initialize block blkno, which must be the next one, as an empty slot page */
static void
extend_index(Relation index)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	HnswInitSlotPage(page);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Take the first slot of the free chain (metapage locked exclusively): its
 * id, and the chain's new head (id + 1, 0 for none).  False for a chain that
 * does not lead to a FREE slot: the caller drops it (its slots are lost to
 * reuse until REINDEX; the graph is untouched) and warns once unlocked.
 */
static bool
chain_pop(Relation index, const HnswShape *shape, const HnswMetaPageData *meta, uint32 head,
		  uint32 *slot, uint32 *next)
{
	HnswSlotHeader hdr;

	*slot = head - 1;
	if (*slot >= meta->nslots)
		return false;
	HnswReadSlotHeader(index, shape, *slot, &hdr);
	if (hdr.kind != HNSW_SLOT_FREE || (hdr.upper != HNSW_NO_SLOT && hdr.upper >= meta->nslots))
		return false;
	*next = hdr.upper == HNSW_NO_SLOT ? 0 : hdr.upper + 1;
	return true;
}

/* Take n slots: recycled ones first, then new ones at the end */
static void
allocate_slots(Relation index, const HnswShape *shape, int n, uint32 *out)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	GenericXLogState *state;
	HnswMetaPageData *meta;
	uint32		nslots;
	int			nfree;
	uint32		chain_head;
	uint32		chain_length;
	uint32		broken = HNSW_NO_SLOT;
	BlockNumber last;
	int			offset;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = HnswPageGetMeta(BufferGetPage(metabuf));
	nfree = meta->nfree;
	nslots = meta->nslots;
	chain_head = meta->chain_head;
	chain_length = meta->chain_length;
	for (int i = 0; i < n; i++)
	{
		uint32		next;

		if (nfree > 0)
			out[i] = meta->free[--nfree];
		else if (chain_head != 0 && chain_pop(index, shape, meta, chain_head, &out[i], &next))
		{
			chain_head = next;
			chain_length = chain_length > 0 ? chain_length - 1 : 0;
		}
		else
		{
			if (chain_head != 0)
				broken = chain_head - 1;
			chain_head = 0;
			chain_length = 0;
			out[i] = nslots++;
		}
	}

	/* make sure the pages of the new slots exist before the metapage says so */
	if (nslots > meta->nslots)
	{
		HnswSlotLocation(shape, nslots - 1, &last, &offset);
		if (offset + shape->slotsize > (int) (HNSW_PAYLOAD_START + HNSW_PAYLOAD))
			last++;
		while (RelationGetNumberOfBlocks(index) <= last)
			extend_index(index);
	}

	state = GenericXLogStart(index);
	meta = HnswMetaForUpdate(GenericXLogRegisterBuffer(state, metabuf, 0));
	meta->nfree = nfree;
	meta->nslots = nslots;
	meta->chain_head = chain_head;
	meta->chain_length = chain_length;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(metabuf);
	if (broken != HNSW_NO_SLOT)
		ereport(WARNING,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("hnsw index \"%s\": the chain of free slots is broken at slot %u",
						RelationGetRelationName(index), broken),
				 errdetail("The slots left in the chain are not reused; REINDEX reclaims them.")));
}

/* Make node the entry point if it is above the current one (or there is none) */
static void
update_entry_point(Relation index, uint32 node, int level)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPageData *meta;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = HnswPageGetMeta(BufferGetPage(metabuf));
	if (meta->entry == HNSW_NO_SLOT || level > meta->entry_level)
	{
		GenericXLogState *state = GenericXLogStart(index);

		meta = HnswMetaForUpdate(GenericXLogRegisterBuffer(state, metabuf, 0));
		meta->entry = node;
		meta->entry_level = level;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(metabuf);
}

/*
 * Add new (element data newdata) to the list of node on a layer, pruning
 * with Alg. 4 when the list is full.  Retries when a concurrent writer
 * changed the list between reading and locking it.
 *
 * Returns how many live members the pruning dropped, writing them to
 * dropped[] and, for each, the nearest member that kept its place to
 * cover[] (the one through which the heuristic judged it reachable).  Sets
 * *kept when the list ends up holding newnode.
 */
static int
link_to(Relation index, const HnswShape *shape, HnswGraph *g, uint32 node, int layer,
		uint32 newnode, const char *newdata, uint32 *dropped, uint32 *cover, bool *kept)
{
	int			lm = HnswLayerM(shape, layer);
	uint32	   *cur = palloc(sizeof(uint32) * (lm + 1));
	uint32	   *list = palloc(sizeof(uint32) * (lm + 1));
	char	  **data = palloc(sizeof(char *) * (lm + 1));
	char	   *copies = palloc((Size) shape->datasize * (lm + 1));
	char	   *nodedata = palloc(shape->datasize);
	int			ndropped = 0;

	for (int attempt = 0; attempt < 5; attempt++)
	{
		HnswSlotHeader hdr;
		int			n;
		int			nlist;

		if (!HnswReadHeader(g, node, &hdr) || hdr.kind != HNSW_SLOT_NODE ||
			hdr.level < layer || (hdr.flags & HNSW_NODE_DELETED))
			break;
		n = HnswReadNeighbours(g, node, layer, cur);
		for (int i = 0; i < n; i++)
			if (cur[i] == newnode)
			{
				*kept = true;
				goto out;
			}

		memcpy(list, cur, sizeof(uint32) * n);
		list[n] = newnode;
		nlist = n + 1;
		if (n == lm)
		{
			HnswReadData(g, node, nodedata);
			for (int i = 0; i < n; i++)
			{
				data[i] = copies + (Size) i * shape->datasize;
				HnswReadData(g, cur[i], data[i]);
			}
			data[n] = (char *) newdata;
			nlist = HnswPrune(shape, node, nodedata, list, data, n + 1, lm, list);
		}
		if (!HnswSwapList(index, shape, g, node, layer, cur, n, list, nlist))
			continue;

		for (int j = 0; j < nlist; j++)
			if (list[j] == newnode)
				*kept = true;

		/*
		 * The members the pruning dropped may have lost their only way in.
		 * A deleted one is left out: VACUUM is taking it out of the graph,
		 * and a new link to it could outlive its slot.
		 */
		for (int i = 0; i < n; i++)
		{
			bool		gone = true;
			float		best = 0;

			for (int j = 0; j < nlist && gone; j++)
				gone = list[j] != cur[i];
			if (!gone || !HnswReadHeader(g, cur[i], &hdr) || hdr.kind != HNSW_SLOT_NODE ||
				(hdr.flags & HNSW_NODE_DELETED))
				continue;
			dropped[ndropped] = cur[i];
			cover[ndropped] = HNSW_NO_SLOT;
			for (int j = 0; j < nlist; j++)
			{
				int			p = n;
				float		d;

				while (p > 0 && (p == n ? newnode : cur[p]) != list[j])
					p--;
				if ((p == n ? newnode : cur[p]) != list[j])
					continue;
				d = HnswDistance(shape, data[i], data[p]);
				if (cover[ndropped] == HNSW_NO_SLOT || d < best)
				{
					cover[ndropped] = list[j];
					best = d;
				}
			}
			ndropped++;
		}
		break;
	}
out:
	pfree(cur);
	pfree(list);
	pfree(data);
	pfree(copies);
	pfree(nodedata);
	return ndropped;
}

/* how many in-links of a new node, and pruned nodes, an insert tracks */
#define HNSW_MAX_KEEPERS 256

/* entries given up to link pruned nodes, in this backend (see keep_a_way_in) */
static uint64 relinks = 0;

typedef struct AdoptArg
{
	int			off;
	int			lm;
	const uint32 *ids;
	int			n;
	uint32		owner;			/* upper slot: its node */
	int			layer;
	int			placed;			/* ids[0 .. placed) are in the list now */
} AdoptArg;

/* Append ids to a list while it has room, skipping those already in it */
static bool
apply_adopt(char *slotdata, void *arg)
{
	AdoptArg   *a = arg;
	uint32	   *list = (uint32 *) (slotdata + a->off);
	int			n = 0;
	bool		changed = false;

	a->placed = 0;
	if (!HnswListOwned(slotdata, a->owner, a->layer))
		return false;
	while (n < a->lm && list[n] != HNSW_NO_SLOT)
		n++;
	for (; a->placed < a->n; a->placed++)
	{
		bool		present = false;

		for (int j = 0; j < n; j++)
			if (list[j] == a->ids[a->placed])
				present = true;
		if (present)
			continue;
		if (n == a->lm)
			break;
		list[n++] = a->ids[a->placed];
		changed = true;
	}
	return changed;
}

/*
 * Give node's list on a layer the ids, in order, as far as it has room: the
 * new node adopts the neighbours its links pushed out of full lists, so that
 * they keep a way in.  Returns how many of the ids the list holds after it
 * (a prefix of them).
 */
int
HnswAdoptNeighbours(Relation index, const HnswShape *shape, HnswGraph *g, uint32 node,
					int layer, const uint32 *ids, int n)
{
	AdoptArg	a;
	uint32		lslot;

	if (n == 0 || !HnswListLocation(shape, g, node, layer, &lslot, &a.off))
		return 0;
	a.lm = HnswLayerM(shape, layer);
	a.ids = ids;
	a.n = n;
	a.owner = node;
	a.layer = layer;
	a.placed = 0;
	HnswUpdateSlot(index, shape, lslot, apply_adopt, &a);
	return a.placed;
}

/*
 * Put node into source's list on a layer: in a free place, else over an
 * entry that node links to itself (which then stays reachable through
 * node), else over the last entry.  Returns the entry given up in that last
 * case, which may have lost its only way in, else HNSW_NO_SLOT.
 */
static uint32
link_from(Relation index, const HnswShape *shape, HnswGraph *g, uint32 source, uint32 node,
		  int layer)
{
	int			lm = HnswLayerM(shape, layer);
	uint32	   *mine = palloc(sizeof(uint32) * lm);
	uint32	   *theirs = palloc(sizeof(uint32) * lm);
	uint32	   *list = palloc(sizeof(uint32) * lm);
	uint32		lost = HNSW_NO_SLOT;

	for (int attempt = 0; attempt < 5; attempt++)
	{
		int			n = HnswReadNeighbours(g, source, layer, theirs);
		int			nmine = HnswReadNeighbours(g, node, layer, mine);
		int			victim = n - 1;
		bool		covered = false;

		if (n < lm)
		{
			HnswAdoptNeighbours(index, shape, g, source, layer, &node, 1);
			break;
		}
		if (HnswContainsId(theirs, n, node))
			break;
		for (int i = n - 1; i >= 0 && !covered; i--)
			if (HnswContainsId(mine, nmine, theirs[i]))
			{
				victim = i;
				covered = true;
			}
		memcpy(list, theirs, sizeof(uint32) * n);
		list[victim] = node;
		if (!HnswSwapList(index, shape, g, source, layer, theirs, n, list, n))
			continue;
		relinks++;
		if (!covered)
			lost = theirs[victim];
		break;
	}
	pfree(mine);
	pfree(theirs);
	pfree(list);
	return lost;
}

/*
 * Whether a search for node's own vector from the entry point finds it on a
 * layer; if not, writes the nearest live node the search found (which is
 * reachable, having been found) to *nearest.
 */
static bool
findable(Relation index, const HnswShape *shape, HnswGraph *g, uint32 node, int layer,
		 uint32 *nearest)
{
	HnswMetaPageData meta;
	HnswSearch	s;
	HnswCandidate ep;
	HnswCandidate *found;
	char	   *data = palloc(shape->datasize);
	int			ef = Max(shape->m, 10);
	int			n = 0;
	bool		hit = false;

	*nearest = HNSW_NO_SLOT;
	HnswReadMeta(index, &meta);
	HnswReadData(g, node, data);
	found = palloc(sizeof(HnswCandidate) * (ef + 1));
	HnswSearchInit(&s, g, data);
	s.skip_deleted = true;
	if (meta.entry_level >= layer && HnswSearchToLayer(&s, meta.entry, meta.entry_level, layer, &ep))
		n = HnswSearchLayer(&s, &ep, 1, ef, layer, found);
	for (int i = 0; i < n && !hit; i++)
		hit = found[i].slot == node;
	for (int i = 0; i < n && *nearest == HNSW_NO_SLOT; i++)
		if (found[i].slot != node)
			*nearest = found[i].slot;
	HnswSearchFree(&s);
	pfree(found);
	pfree(data);
	return hit;
}

/*
 * A node pruned out of a list, which neither the new node nor the member
 * that covered it had room to take, may have lost its only way in.  Search
 * for it as a query would; if that does not find it, give it a link from
 * the nearest node the search did find, in a free place or over an entry
 * that it links to itself (so that one stays reachable through it), else
 * over the last one, which then gets the same treatment (a few levels
 * deep).
 */
static void
keep_a_way_in(Relation index, const HnswShape *shape, HnswGraph *g, uint32 node, int layer,
			  int depth)
{
	uint32		source;
	uint32		victim;
	HnswSlotHeader hdr;

	/* a deleted node needs no way in: a link to it could outlive its slot */
	if (!HnswReadHeader(g, node, &hdr) || hdr.kind != HNSW_SLOT_NODE ||
		(hdr.flags & HNSW_NODE_DELETED) ||
		findable(index, shape, g, node, layer, &source) || source == HNSW_NO_SLOT)
		return;
	victim = link_from(index, shape, g, source, node, layer);
	if (victim != HNSW_NO_SLOT && depth < 3)
		keep_a_way_in(index, shape, g, victim, layer, depth + 1);
}

/*
 * Pruning kept the new node in no list, so nothing leads to it: make room
 * for it in its nearest neighbour's list.  The entry it replaces is one the
 * new node itself links to, when there is one, so that it stays reachable
 * (through the new node); otherwise the last one, which the new node then
 * adopts if it has room.
 */
static void
force_link(Relation index, const HnswShape *shape, HnswGraph *g, uint32 node, uint32 newnode)
{
	uint32		victim = link_from(index, shape, g, node, newnode, 0);

	if (victim != HNSW_NO_SLOT && HnswAdoptNeighbours(index, shape, g, newnode, 0, &victim, 1) == 0)
		keep_a_way_in(index, shape, g, victim, 0, 1);
}

typedef struct TidArg
{
	ItemPointerData tid;
	const char *data;
	int			dataoff;
	int			datasize;
	bool		added;
} TidArg;

static bool
add_tid(char *slotdata, void *arg)
{
	TidArg	   *t = arg;
	HnswSlotHeader *hdr = (HnswSlotHeader *) slotdata;

	if (hdr->kind != HNSW_SLOT_NODE || (hdr->flags & HNSW_NODE_DELETED) ||
		hdr->ntids >= HNSW_HEAPTIDS || hdr->ntids == 0 ||
		memcmp(slotdata + t->dataoff, t->data, t->datasize) != 0)
		return false;
	hdr->u.tids[hdr->ntids++] = t->tid;
	t->added = true;
	return true;
}

/* Write an element into the index's pages (the four steps above) */
void
HnswInsertElement(Relation index, const HnswShape *shape, const char *data, ItemPointer heap_tid)
{
	HnswMetaPageData meta;
	HnswPageGraph pg;
	HnswSearch	s;
	HnswPlan   *plan = HnswPlanAlloc(shape);
	LOCKMODE	lockmode = ShareLock;
	int			level = HnswRandomLevel(&pg_global_prng_state, shape->m);
	int			nupper;
	uint32		slots[1 + HNSW_MAX_LEVEL];
	char	   *images[1 + HNSW_MAX_LEVEL];
	bool		linked = false;
	uint64		relinks_before = relinks;
	uint32		keepers[HNSW_MAX_KEEPERS];
	int			nkeepers = 0;
	uint32		alldropped[HNSW_MAX_KEEPERS];
	int			nalldropped = 0;

	LockPage(index, HNSW_UPDATE_LOCK, lockmode);
	HnswReadMeta(index, &meta);
	if (meta.entry == HNSW_NO_SLOT || level > meta.entry_level)
	{
		UnlockPage(index, HNSW_UPDATE_LOCK, lockmode);
		lockmode = ExclusiveLock;
		LockPage(index, HNSW_UPDATE_LOCK, lockmode);
		HnswReadMeta(index, &meta);
	}

	/* 1. plan */
	HnswPageGraphInit(&pg, index, shape);
	HnswSearchInit(&s, &pg.g, data);
	HnswPlanNeighbours(&s, meta.entry, meta.entry_level, level, plan);
	if (plan->duplicate != HNSW_NO_SLOT)
	{
		TidArg		t = {*heap_tid, data, HnswDataOffset(shape), shape->datasize, false};

		HnswUpdateSlot(index, shape, plan->duplicate, add_tid, &t);
		if (t.added)
			goto done;
	}

	/* 2. allocate and write */
	nupper = HnswUpperSlotsNeeded(shape, level);
	allocate_slots(index, shape, 1 + nupper, slots);
	for (int i = 0; i <= nupper; i++)
		images[i] = palloc(shape->slotsize);
	HnswFormNode(shape, plan, slots[0], slots + 1, data, heap_tid, images);
	for (int i = nupper; i >= 0; i--)
		HnswWriteSlotBytes(index, shape, slots[i], 0, images[i], shape->slotsize);

	/* 3. link: the graph grew, so let the reader see the new slots */
	HnswReadMeta(index, &meta);
	pg.g.nslots = Max(pg.g.nslots, meta.nslots);
	for (int layer = plan->top; layer >= 0; layer--)
	{
		int			lm = HnswLayerM(shape, layer);
		uint32	   *dropped = palloc(sizeof(uint32) * (lm + 1) * Max(plan->count[layer], 1));
		uint32	   *cover = palloc(sizeof(uint32) * (lm + 1) * Max(plan->count[layer], 1));
		int			ndropped = 0;
		int			nunique = 0;
		int			placed;

		for (int i = 0; i < plan->count[layer]; i++)
		{
			bool		kept = false;

			ndropped += link_to(index, shape, &pg.g, plan->ids[layer][i], layer, slots[0], data,
								dropped + ndropped, cover + ndropped, &kept);
			if (kept && nkeepers < HNSW_MAX_KEEPERS)
				keepers[nkeepers++] = plan->ids[layer][i];
			linked |= kept;
		}
		for (int i = 0; i < ndropped && nalldropped < HNSW_MAX_KEEPERS; i++)
			alldropped[nalldropped++] = dropped[i];
		for (int i = 0; i < ndropped; i++)
		{
			bool		seen = false;

			for (int j = 0; j < nunique && !seen; j++)
				seen = dropped[j] == dropped[i];
			if (!seen)
			{
				dropped[nunique] = dropped[i];
				cover[nunique++] = cover[i];
			}
		}

		/*
		 * The new node adopts what its links pushed out while it has room;
		 * each one left over gets a link from the member that covered it in
		 * the pruning, if that one has room (the heuristic dropped it as
		 * reachable through there, which is true only with that link).
		 */
		placed = HnswAdoptNeighbours(index, shape, &pg.g, slots[0], layer, dropped, nunique);
		for (int i = placed; i < nunique; i++)
			if (cover[i] == slots[0] || cover[i] == HNSW_NO_SLOT ||
				HnswAdoptNeighbours(index, shape, &pg.g, cover[i], layer, &dropped[i], 1) == 0)
				keep_a_way_in(index, shape, &pg.g, dropped[i], layer, 0);
		pfree(dropped);
		pfree(cover);
	}
	if (!linked && plan->top >= 0 && plan->count[0] > 0)
		force_link(index, shape, &pg.g, plan->ids[0][0], slots[0]);

	/*
	 * An entry given up above may have been the new node's own way in: make
	 * sure a search still finds it (rare, and only then worth a search).
	 */
	{
		/* every node that took the new one in was itself pruned out somewhere */
		bool		all_pruned = nkeepers > 0;

		for (int i = 0; i < nkeepers && all_pruned; i++)
			all_pruned = HnswContainsId(alldropped, nalldropped, keepers[i]);
		if ((relinks != relinks_before || all_pruned) && plan->top >= 0)
			keep_a_way_in(index, shape, &pg.g, slots[0], 0, 1);
	}

	/* 4. entry point */
	if (meta.entry == HNSW_NO_SLOT || level > meta.entry_level)
		update_entry_point(index, slots[0], level);

done:
	HnswSearchFree(&s);
	HnswPageGraphEnd(&pg);
	UnlockPage(index, HNSW_UPDATE_LOCK, lockmode);
}

/* aminsert: index one heap tuple */
bool
hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
		   IndexInfo *indexInfo)
{
	MemoryContext ctx;
	MemoryContext old;
	HnswShape	shape;
	char	   *data;

	if (isnull[0])
		return false;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw insert", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);
	HnswInitShape(index, &shape, HnswColumnDims(index));
	data = palloc(shape.datasize);
	if (HnswDatumToElement(&shape, values[0], data))
		HnswInsertElement(index, &shape, data, heap_tid);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
