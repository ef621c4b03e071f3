/*-------------------------------------------------------------------------
 *
 * hnswpage.c
 *	  The index's pages: reading the slot array through shared buffers (a
 *	  search's HnswPageGraph) and changing slots and the metapage through
 *	  generic WAL.
 *
 * Reading.  A reader re-pins buffers without a buffer-table lookup, keeps
 * its last few pinned, and prefetches what a search will read next (see
 * "Pins" below).  A slot that straddles two pages is handed out in two
 * pieces (slot_parts) or copied (slot_ptr).
 *
 * Writing.  Every change goes through generic WAL, under exclusive buffer
 * locks: a slot (on one or two pages), or a slot and the metapage in one
 * record (the chain of free slots), the metapage locked first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"


/* ---------------------------------------------------------------------
 * The graph on pages
 * ---------------------------------------------------------------------
 */

/* Where slot starts: its block and its byte offset in the page */
void
HnswSlotLocation(const HnswShape *shape, uint32 slot, BlockNumber *blkno, int *offset)
{
	uint64		linear = (uint64) slot * shape->slotsize;

	*blkno = HNSW_FIRST_DATA_BLKNO + (BlockNumber) (linear / HNSW_PAYLOAD);
	*offset = HNSW_PAYLOAD_START + (int) (linear % HNSW_PAYLOAD);
}

/*
 * Pins.  A reader pins a block when it reads a slot there and keeps its last
 * HNSW_READER_PINS blocks pinned, a ring: a node's list is read soon after
 * its distance, but a search rarely comes back to a page later (a query
 * touches a few hundred of an index's thousands of pages).  Keeping every
 * page pinned for the whole scan, as we first did, cost more: past 8 pins
 * PostgreSQL tracks a backend's pins in a hash table, and releasing hundreds
 * of pins at the end of each query touched their descriptors again.  The
 * ring is 6, so that with the executor's own pins (the heap page of the last
 * row, an outer scan's page) a backend stays within PostgreSQL's 8.
 *
 * Across scans a backend remembers which buffer held each block of the
 * indexes it searched last, and re-pins through ReadRecentBuffer, which only
 * checks that buffer's tag: no buffer-mapping hash lookup, which was the
 * largest single cost of a search (HNSW-NOTES.md).  A stale entry only
 * costs the ordinary lookup.  The same memory lets a search prefetch a
 * block before pinning it: the buffer's descriptor and page are at known
 * addresses.  A reader reads its entry's fields afresh at each use, so an
 * entry recycled for another index under it (more than HNSW_RECENT_INDEXES
 * indexes read at once) only costs lookups: every re-pin checks the tag.
 */
#define HNSW_RECENT_INDEXES 4

typedef struct RecentBuffers
{
	RelFileNode node;
	Buffer	   *buffers;		/* by block number; InvalidBuffer unknown */
	BlockNumber nbuffers;
} RecentBuffers;

static RecentBuffers recent[HNSW_RECENT_INDEXES];
static int	recent_next;

static RecentBuffers *
recent_for(Relation index)
{
	RecentBuffers *r;

	for (int i = 0; i < HNSW_RECENT_INDEXES; i++)
		if (recent[i].buffers && RelFileNodeEquals(recent[i].node, index->rd_node))
			return &recent[i];
	r = &recent[recent_next];
	recent_next = (recent_next + 1) % HNSW_RECENT_INDEXES;
	if (r->buffers)
		pfree(r->buffers);
	r->buffers = NULL;			/* (if the allocation below fails) */
	r->nbuffers = 0;
	r->node = index->rd_node;
	r->nbuffers = 1024;
	r->buffers = MemoryContextAllocZero(TopMemoryContext, sizeof(Buffer) * r->nbuffers);
	return r;
}

/* Pin a block, through the recent-buffer memory when it is right */
static Buffer
pin_block(HnswPageGraph *pg, BlockNumber blkno)
{
	RecentBuffers *r = pg->recent;
	Buffer		buf;

	if (blkno < r->nbuffers && BufferIsValid(r->buffers[blkno]) &&
		ReadRecentBuffer(pg->index->rd_node, MAIN_FORKNUM, blkno, r->buffers[blkno]))
		return r->buffers[blkno];
	buf = ReadBuffer(pg->index, blkno);
	if (blkno >= r->nbuffers)
	{
		BlockNumber n = Max(r->nbuffers * 2, blkno + 1024);

		r->buffers = repalloc_huge(r->buffers, sizeof(Buffer) * n);
		memset(r->buffers + r->nbuffers, 0, sizeof(Buffer) * (n - r->nbuffers));
		r->nbuffers = n;
	}
	r->buffers[blkno] = buf;
	return buf;
}

/* The pinned buffer of a block, or InvalidBuffer */
static inline Buffer
pinned(HnswPageGraph *pg, BlockNumber blkno)
{
	for (int i = 0; i < HNSW_READER_PINS; i++)
		if (pg->pinned_block[i] == blkno)
			return pg->pinned_buffer[i];
	return InvalidBuffer;
}

/*
 * The pinned buffer of a block, pinning it in place of the oldest pin if
 * need be, but never in place of block keep (or InvalidBlockNumber).  Never
 * called while a slot is locked: the oldest pin could be the locked page.
 */
static Buffer
page_pin(HnswPageGraph *pg, BlockNumber blkno, BlockNumber keep)
{
	Buffer		buf = pinned(pg, blkno);
	int			i;

	if (BufferIsValid(buf))
		return buf;
	i = pg->next_pin;
	if (pg->pinned_block[i] == keep && keep != InvalidBlockNumber)
		i = (i + 1) % HNSW_READER_PINS;
	pg->next_pin = (i + 1) % HNSW_READER_PINS;
	if (pg->pinned_block[i] != InvalidBlockNumber)
		ReleaseBuffer(pg->pinned_buffer[i]);
	pg->pinned_block[i] = InvalidBlockNumber;	/* in case pinning fails */
	buf = pin_block(pg, blkno);
	pg->pinned_block[i] = blkno;
	pg->pinned_buffer[i] = buf;
	return buf;
}

static const char *
page_slot_parts(HnswGraph *g, uint32 slot, int off, int len, int *len1, const char **rest)
{
	HnswPageGraph *pg = (HnswPageGraph *) g;
	uint64		linear = (uint64) slot * g->shape->slotsize + off;
	BlockNumber blkno = HNSW_FIRST_DATA_BLKNO + (BlockNumber) (linear / HNSW_PAYLOAD);
	int			pos = (int) (linear % HNSW_PAYLOAD);
	bool		straddles = pos + len > (int) HNSW_PAYLOAD;
	Buffer		buf;
	Buffer		next;

	Assert(!BufferIsValid(pg->locked[0]));
	buf = page_pin(pg, blkno, InvalidBlockNumber);
	if (!straddles)
	{
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		pg->locked[0] = buf;
		*len1 = len;
		*rest = NULL;
		return BufferGetPage(buf) + HNSW_PAYLOAD_START + pos;
	}

	/* the slot straddles two pages: lock both, lower first */
	next = page_pin(pg, blkno + 1, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	LockBuffer(next, BUFFER_LOCK_SHARE);
	pg->locked[0] = buf;
	pg->locked[1] = next;
	*len1 = HNSW_PAYLOAD - pos;
	*rest = BufferGetPage(next) + HNSW_PAYLOAD_START;
	return BufferGetPage(buf) + HNSW_PAYLOAD_START + pos;
}

static void
page_slot_release(HnswGraph *g)
{
	HnswPageGraph *pg = (HnswPageGraph *) g;

	if (BufferIsValid(pg->locked[1]))
	{
		LockBuffer(pg->locked[1], BUFFER_LOCK_UNLOCK);
		pg->locked[1] = InvalidBuffer;
	}
	if (BufferIsValid(pg->locked[0]))
	{
		LockBuffer(pg->locked[0], BUFFER_LOCK_UNLOCK);
		pg->locked[0] = InvalidBuffer;
	}
}

static const char *
page_slot_ptr(HnswGraph *g, uint32 slot, int off, int len)
{
	HnswPageGraph *pg = (HnswPageGraph *) g;
	int			len1;
	const char *rest;
	const char *p = page_slot_parts(g, slot, off, len, &len1, &rest);

	if (rest == NULL)
		return p;
	/* in two pieces: copy them together and let the pages go at once */
	memcpy(pg->scratch, p, len1);
	memcpy(pg->scratch + len1, rest, len - len1);
	page_slot_release(g);
	return pg->scratch;
}

/*
 * Where a block's page is, for a prefetch: its pinned buffer, else the
 * buffer that held it last time (prefetching its descriptor too, which
 * pinning will write); NULL if unknown.  Only addresses are computed here,
 * nothing is read: a page evicted since is prefetched for nothing.
 */
static inline const char *
prefetch_block(HnswPageGraph *pg, BlockNumber blkno)
{
	Buffer		buf = pinned(pg, blkno);

	if (!BufferIsValid(buf))
	{
		if (blkno >= pg->recent->nbuffers)
			return NULL;
		buf = pg->recent->buffers[blkno];
		if (!BufferIsValid(buf) || BufferIsLocal(buf))
			return NULL;
		__builtin_prefetch(GetBufferDescriptor(buf - 1), 1);
	}
	return (const char *) BufferGetBlock(buf);
}

/*
 * Prefetch a slot: its header and the start of its element data, or with
 * whole, every line of its element data (the hardware prefetcher does not
 * cross 4 kB pages, and a vector is often across one).
 */
/*
 * Prefetch the byte at a position of the concatenated payloads; *current and
 * *page remember the last block looked up, for the next position
 */
static inline void
prefetch_at(HnswPageGraph *pg, uint64 linear, BlockNumber *current, const char **page)
{
	BlockNumber blkno = HNSW_FIRST_DATA_BLKNO + (BlockNumber) (linear / HNSW_PAYLOAD);

	if (blkno != *current)
	{
		*page = prefetch_block(pg, blkno);
		*current = blkno;
	}
	if (*page)
		__builtin_prefetch(*page + HNSW_PAYLOAD_START + linear % HNSW_PAYLOAD);
}

static void
page_prefetch(HnswGraph *g, uint32 slot, bool whole)
{
	HnswPageGraph *pg = (HnswPageGraph *) g;
	const HnswShape *shape = g->shape;
	uint64		linear = (uint64) slot * shape->slotsize;
	int			doff = HnswDataOffset(shape);
	BlockNumber current = InvalidBlockNumber;
	const char *page = NULL;

	if (!whole)
	{
		/* the header and the first lines of the data */
		const int	offs[4] = {0, 64, doff, doff + 64};

		for (int i = 0; i < 4; i++)
			prefetch_at(pg, linear + offs[i], &current, &page);
		return;
	}
	/* every 64 bytes from the data's start, and its last byte (starts are not line-aligned) */
	for (int rel = doff; rel < shape->slotsize + 63; rel += 64)
		prefetch_at(pg, linear + Min(rel, shape->slotsize - 1), &current, &page);
}

/* Start reading an index's pages; nslots comes from its metapage */
void
HnswPageGraphInit(HnswPageGraph *pg, Relation index, const HnswShape *shape)
{
	HnswMetaPageData meta;

	HnswReadMeta(index, &meta);
	pg->g.shape = shape;
	pg->g.nslots = meta.nslots;
	pg->entry = meta.entry;
	pg->entry_level = meta.entry_level;
	pg->g.stable = false;
	pg->g.slot_ptr = page_slot_ptr;
	pg->g.slot_parts = page_slot_parts;
	pg->g.slot_release = page_slot_release;
	pg->g.prefetch = page_prefetch;
	pg->index = index;
	for (int i = 0; i < HNSW_READER_PINS; i++)
		pg->pinned_block[i] = InvalidBlockNumber;
	pg->next_pin = 0;
	pg->recent = recent_for(index);
	pg->locked[0] = pg->locked[1] = InvalidBuffer;
	pg->scratch = palloc(shape->slotsize);
}

/* Unpin everything */
void
HnswPageGraphEnd(HnswPageGraph *pg)
{
	page_slot_release(&pg->g);
	for (int i = 0; i < HNSW_READER_PINS; i++)
		if (pg->pinned_block[i] != InvalidBlockNumber)
		{
			ReleaseBuffer(pg->pinned_buffer[i]);
			pg->pinned_block[i] = InvalidBlockNumber;
		}
	pfree(pg->scratch);
}


/* ---------------------------------------------------------------------
 * Pages
 * ---------------------------------------------------------------------
 */

static void
init_page(Page page, uint16 kind)
{
	HnswPageOpaqueData *opaque;

	PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
	opaque = (HnswPageOpaqueData *) PageGetSpecialPointer(page);
	opaque->kind = kind;
	opaque->page_id = HNSW_PAGE_ID;
	opaque->unused = 0;
}

/* An empty slot page: the whole payload is data (pd_lower = pd_upper) */
void
HnswInitSlotPage(Page page)
{
	init_page(page, 1);
	((PageHeader) page)->pd_lower = ((PageHeader) page)->pd_upper;
}

HnswMetaPageData *
HnswPageGetMeta(Page page)
{
	return (HnswMetaPageData *) PageGetContents(page);
}

/*
 * The metadata of a metapage about to be changed: pd_lower is moved past
 * the whole structure, since generic WAL does not log what lies between
 * pd_lower and pd_upper, and a metapage written by an older version ends
 * before the free-slot chain's fields.
 */
HnswMetaPageData *
HnswMetaForUpdate(Page page)
{
	HnswMetaPageData *meta = HnswPageGetMeta(page);
	LocationIndex end = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;

	if (((PageHeader) page)->pd_lower < end)
		((PageHeader) page)->pd_lower = end;
	return meta;
}

/* A metapage for an empty graph of this shape */
void
HnswInitMetaPage(Page page, const HnswShape *shape)
{
	HnswMetaPageData *meta;

	init_page(page, 0);
	meta = HnswPageGetMeta(page);
	memset(meta, 0, sizeof(*meta));
	meta->magic = HNSW_MAGIC;
	meta->version = HNSW_VERSION;
	meta->dims = shape->dims;
	meta->m = shape->m;
	meta->ef_construction = shape->ef_construction;
	meta->slotsize = shape->slotsize;
	meta->datasize = shape->datasize;
	meta->entry = HNSW_NO_SLOT;
	meta->entry_level = -1;
	meta->nslots = 0;
	meta->nfree = 0;
	meta->chain_head = 0;
	meta->chain_length = 0;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
}

/* A copy of the metapage's contents, checked */
void
HnswReadMeta(Relation index, HnswMetaPageData *meta)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(meta, HnswPageGetMeta(BufferGetPage(buf)), sizeof(*meta));
	UnlockReleaseBuffer(buf);
	if (meta->magic != HNSW_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not an hnsw index", RelationGetRelationName(index))));
	if (meta->version != HNSW_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("hnsw index \"%s\" has on-disk version %u, this build reads version %d",
						RelationGetRelationName(index), meta->version, HNSW_VERSION),
				 errhint("REINDEX the index.")));
}

/* Where a node keeps its list for a layer: a slot and a byte offset in it */
bool
HnswListLocation(const HnswShape *shape, HnswGraph *g, uint32 node, int layer,
				 uint32 *slot, int *off)
{
	int			first;

	if (layer == 0)
	{
		*slot = node;
		*off = HNSW_NEIGHBOURS_OFFSET;
		return true;
	}
	*slot = HnswUpperSlotFor(shape, g, node, layer, &first);
	*off = HNSW_UPPER_IDS_OFFSET + first * (int) sizeof(uint32);
	return *slot != HNSW_NO_SLOT;
}

/* Whether slot data still holds node's list for layer (not freed or reused) */
bool
HnswListOwned(const char *slotdata, uint32 node, int layer)
{
	const HnswSlotHeader *hdr = (const HnswSlotHeader *) slotdata;

	return layer == 0 ? hdr->kind == HNSW_SLOT_NODE
		: (hdr->kind == HNSW_SLOT_UPPER && hdr->u.up.owner == node);
}

typedef struct SwapArg
{
	uint32		node;
	int			layer;
	int			off;
	int			lm;
	const uint32 *expect;
	int			nexpect;
	const uint32 *list;
	int			nlist;
	bool		stale;
} SwapArg;

static bool
apply_swap(char *slotdata, void *arg)
{
	SwapArg    *a = arg;
	uint32	   *ids = (uint32 *) (slotdata + a->off);
	int			n = 0;

	if (!HnswListOwned(slotdata, a->node, a->layer))
		return false;
	while (n < a->lm && ids[n] != HNSW_NO_SLOT)
		n++;
	if (n != a->nexpect || memcmp(ids, a->expect, sizeof(uint32) * n) != 0)
	{
		a->stale = true;
		return false;
	}
	for (int i = 0; i < a->lm; i++)
		ids[i] = i < a->nlist ? a->list[i] : HNSW_NO_SLOT;
	return true;
}

/*
 * Replace node's list on a layer by list, if it still is expect (what list
 * was computed from).  False if a concurrent writer changed it: recompute and
 * retry.  A list that no longer exists counts as done.
 */
bool
HnswSwapList(Relation index, const HnswShape *shape, HnswGraph *g, uint32 node, int layer,
			 const uint32 *expect, int nexpect, const uint32 *list, int nlist)
{
	SwapArg		a;
	uint32		slot;

	if (!HnswListLocation(shape, g, node, layer, &slot, &a.off))
		return true;
	a.node = node;
	a.layer = layer;
	a.lm = HnswLayerM(shape, layer);
	a.expect = expect;
	a.nexpect = nexpect;
	a.list = list;
	a.nlist = nlist;
	a.stale = false;
	HnswUpdateSlot(index, shape, slot, apply_swap, &a);
	return !a.stale;
}

typedef struct CopyArg
{
	int			off;
	const char *src;
	int			len;
} CopyArg;

static bool
copy_into_slot(char *slotdata, void *arg)
{
	CopyArg    *c = arg;

	memcpy(slotdata + c->off, c->src, c->len);
	return true;
}

/* Overwrite len bytes at off in a slot, WAL-logged */
void
HnswWriteSlotBytes(Relation index, const HnswShape *shape, uint32 slot, int off,
				   const char *src, int len)
{
	CopyArg		c = {off, src, len};

	HnswUpdateSlot(index, shape, slot, copy_into_slot, &c);
}

/*
 * The common part of HnswUpdateSlot and HnswUpdateSlotAndMeta: with meta,
 * the metapage is locked first (the order allocate_slots uses: metapage,
 * then slot pages) and changed in the same WAL record.  Returns whether
 * update changed anything.
 */
static bool
update_slot(Relation index, const HnswShape *shape, uint32 slot, bool meta,
			bool (*update) (char *slotdata, HnswMetaPageData *meta, void *arg), void *arg)
{
	BlockNumber blkno;
	int			offset;
	int			first;
	Buffer		metabuf = InvalidBuffer;
	Buffer		buf;
	Buffer		next = InvalidBuffer;
	GenericXLogState *state;
	HnswMetaPageData *m = NULL;
	Page		page;
	Page		page2 = NULL;
	bool		changed;

	if (meta)
	{
		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	}
	HnswSlotLocation(shape, slot, &blkno, &offset);
	first = HNSW_PAYLOAD_START + HNSW_PAYLOAD - offset;
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (first < shape->slotsize)
	{
		next = ReadBuffer(index, blkno + 1);
		LockBuffer(next, BUFFER_LOCK_EXCLUSIVE);
	}

	state = GenericXLogStart(index);
	if (meta)
		m = HnswMetaForUpdate(GenericXLogRegisterBuffer(state, metabuf, 0));
	page = GenericXLogRegisterBuffer(state, buf, 0);
	if (!BufferIsValid(next))
		changed = update(page + offset, m, arg);
	else
	{
		char	   *tmp = palloc(shape->slotsize);

		page2 = GenericXLogRegisterBuffer(state, next, 0);
		memcpy(tmp, page + offset, first);
		memcpy(tmp + first, page2 + HNSW_PAYLOAD_START, shape->slotsize - first);
		changed = update(tmp, m, arg);
		if (changed)
		{
			memcpy(page + offset, tmp, first);
			memcpy(page2 + HNSW_PAYLOAD_START, tmp + first, shape->slotsize - first);
		}
		pfree(tmp);
	}
	if (changed)
		GenericXLogFinish(state);
	else
		GenericXLogAbort(state);

	if (BufferIsValid(next))
		UnlockReleaseBuffer(next);
	UnlockReleaseBuffer(buf);
	if (meta)
		UnlockReleaseBuffer(metabuf);
	return changed;
}

typedef struct PlainUpdate
{
	bool		(*update) (char *slotdata, void *arg);
	void	   *arg;
} PlainUpdate;

static bool
plain_update(char *slotdata, HnswMetaPageData *meta, void *arg)
{
	PlainUpdate *p = arg;

	return p->update(slotdata, p->arg);
}

/*
 * Change a slot under exclusive lock, through generic WAL: update() edits
 * the slot's bytes in place and returns whether it changed anything.  A
 * straddling slot is edited in a copy and written back to both pages.
 */
void
HnswUpdateSlot(Relation index, const HnswShape *shape, uint32 slot,
			   bool (*update) (char *slotdata, void *arg), void *arg)
{
	PlainUpdate p = {update, arg};

	update_slot(index, shape, slot, false, plain_update, &p);
}

/* The same with the metapage changed in the same WAL record; true if done */
bool
HnswUpdateSlotAndMeta(Relation index, const HnswShape *shape, uint32 slot,
					  bool (*update) (char *slotdata, HnswMetaPageData *meta, void *arg),
					  void *arg)
{
	return update_slot(index, shape, slot, true, update, arg);
}

/*
 * A copy of a slot's header read straight from its pages, for a caller that
 * holds the metapage lock and no reader (the chain of free slots).  The slot
 * must be below the metapage's nslots: its pages exist (allocate_slots
 * extends the index before it counts new slots).
 */
void
HnswReadSlotHeader(Relation index, const HnswShape *shape, uint32 slot, HnswSlotHeader *hdr)
{
	BlockNumber blkno;
	int			offset;
	int			first;
	Buffer		buf;

	HnswSlotLocation(shape, slot, &blkno, &offset);
	first = Min((int) sizeof(HnswSlotHeader), HNSW_PAYLOAD_START + (int) HNSW_PAYLOAD - offset);
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(hdr, BufferGetPage(buf) + offset, first);
	UnlockReleaseBuffer(buf);
	if (first < (int) sizeof(HnswSlotHeader))
	{
		buf = ReadBuffer(index, blkno + 1);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		memcpy((char *) hdr + first, BufferGetPage(buf) + HNSW_PAYLOAD_START,
			   sizeof(HnswSlotHeader) - first);
		UnlockReleaseBuffer(buf);
	}
}
