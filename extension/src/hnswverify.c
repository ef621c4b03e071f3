/*-------------------------------------------------------------------------
 *
 * hnswverify.c
 *	  vecdb.hnsw_verify(index): check an hnsw index's on-disk graph.
 *
 * Reads every slot under share locks (so it runs beside inserts, and a
 * concurrent change can at worst show up as a transient problem) and
 * returns one row per problem found; no rows means the graph is sound:
 *
 *	- the metapage: magic, version, shape matching the index definition;
 *	- every slot: a known kind; nodes with a level within bounds, at most
 *	  HNSW_HEAPTIDS valid heap TIDs, an upper-slot chain that belongs to them
 *	  and covers their levels;
 *	- every neighbour id: inside the slot array, a node (not free, not an
 *	  upper slot), not the node itself, and on the layer it is listed for;
 *	- the entry point: a node whose level is the top level of the graph;
 *	- free space: the metapage's free list and the chain of free slots hold
 *	  FREE slots only, each once, and the chain is as long as counted;
 *	- reachability: every live node can be reached from the entry point by
 *	  following neighbour lists.
 *
 * Problems are reported, never raised: a corrupt index must not crash the
 * backend that inspects it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "hnsw.h"

#define MAX_REPORTS_PER_KIND 10

/*
 * A deleted node waiting for a VACUUM to free it: nothing links to it, and
 * its own lists are stale by design
 */
#define KIND_DELETED 0xFE

typedef struct Verify
{
	ReturnSetInfo *rsinfo;
	int			nreports;
} Verify;

static void report(Verify *v, const char *fmt,...) pg_attribute_printf(2, 3);

static void
report(Verify *v, const char *fmt,...)
{
	va_list		args;
	char		buf[512];
	Datum		value;
	bool		isnull = false;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	value = CStringGetTextDatum(buf);
	tuplestore_putvalues(v->rsinfo->setResult, v->rsinfo->setDesc, &value, &isnull);
	v->nreports++;
}

/* A node's neighbour list for a layer as stored, NO_SLOT padding excluded */
static int
raw_list(HnswGraph *g, const HnswShape *shape, uint32 slot, int layer, uint32 *out)
{
	int			lm = HnswLayerM(shape, layer);
	int			first;
	uint32		where = slot;
	int			off = HNSW_NEIGHBOURS_OFFSET;
	const uint32 *ids;
	int			n = 0;

	if (layer > 0)
	{
		where = HnswUpperSlotFor(shape, g, slot, layer, &first);
		if (where == HNSW_NO_SLOT)
			return -1;
		off = HNSW_UPPER_IDS_OFFSET + first * (int) sizeof(uint32);
	}
	ids = (const uint32 *) g->slot_ptr(g, where, off, lm * sizeof(uint32));
	while (n < lm && ids[n] != HNSW_NO_SLOT)
	{
		out[n] = ids[n];
		n++;
	}
	g->slot_release(g);
	return n;
}

static void
verify_graph(Verify *v, Relation index)
{
	HnswShape	shape;
	HnswMetaPageData meta;
	HnswPageGraph pg;
	Buffer		buf;
	uint8	   *kinds;
	uint8	   *levels;
	bool	   *reached;
	uint32	   *queue;
	uint32		head = 0,
				tail = 0;
	uint32	   *ids;
	uint8	   *seen;
	int			bad_ids = 0,
				bad_nodes = 0;
	int			top = -1;
	uint32		live = 0,
				unreachable = 0;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	if (nblocks == 0)
	{
		report(v, "index has no metapage");
		return;
	}
	buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(&meta, HnswPageGetMeta(BufferGetPage(buf)), sizeof(meta));
	UnlockReleaseBuffer(buf);
	if (meta.magic != HNSW_MAGIC)
	{
		report(v, "metapage has magic number 0x%08x, expected 0x%08x", meta.magic, HNSW_MAGIC);
		return;
	}
	if (meta.version != HNSW_VERSION)
	{
		report(v, "metapage has version %u, expected %d", meta.version, HNSW_VERSION);
		return;
	}
	HnswInitShape(index, &shape, HnswColumnDims(index));
	if (meta.dims != (uint32) shape.dims || meta.m != shape.m ||
		meta.slotsize != (uint32) shape.slotsize || meta.datasize != (uint32) shape.datasize)
	{
		report(v, "metapage shape (dims %u, m %u, slot %u bytes) does not match the index (dims %d, m %d, slot %d bytes)",
			   meta.dims, meta.m, meta.slotsize, shape.dims, shape.m, shape.slotsize);
		return;
	}
	if ((uint64) meta.nslots * shape.slotsize > (uint64) (nblocks - 1) * HNSW_PAYLOAD)
	{
		report(v, "metapage counts %u slots but the index has only %u data pages",
			   meta.nslots, nblocks - 1);
		return;
	}
	if (meta.nfree > HNSW_META_FREE_MAX)
		report(v, "metapage free list has %u entries, more than its %d places", meta.nfree, HNSW_META_FREE_MAX);
	else
		for (uint32 i = 0; i < meta.nfree; i++)
			if (meta.free[i] >= meta.nslots)
				report(v, "free list entry %u is slot %u, beyond the %u slots", i, meta.free[i], meta.nslots);

	HnswPageGraphInit(&pg, index, &shape);
	pg.g.nslots = meta.nslots;
	kinds = palloc0(meta.nslots + 1);
	levels = palloc0(meta.nslots + 1);
	reached = palloc0(meta.nslots + 1);
	queue = palloc(sizeof(uint32) * (meta.nslots + 1));
	ids = palloc(sizeof(uint32) * 2 * shape.m);

	/* slots and headers */
	for (uint32 slot = 0; slot < meta.nslots; slot++)
	{
		HnswSlotHeader hdr;

		CHECK_FOR_INTERRUPTS();
		HnswReadHeader(&pg.g, slot, &hdr);
		kinds[slot] = hdr.kind;
		levels[slot] = hdr.level;
		if (hdr.kind > HNSW_SLOT_UPPER)
		{
			if (bad_nodes++ < MAX_REPORTS_PER_KIND)
				report(v, "slot %u has unknown kind %u", slot, hdr.kind);
			continue;
		}
		if (hdr.kind != HNSW_SLOT_NODE)
			continue;
		if (hdr.level > HNSW_MAX_LEVEL || hdr.ntids > HNSW_HEAPTIDS)
		{
			if (bad_nodes++ < MAX_REPORTS_PER_KIND)
				report(v, "node %u has level %u and %u heap TIDs (at most %d and %d)",
					   slot, hdr.level, hdr.ntids, HNSW_MAX_LEVEL, HNSW_HEAPTIDS);
			kinds[slot] = 0xFF;
			continue;
		}
		for (int i = 0; i < hdr.ntids; i++)
			if (!ItemPointerIsValid(&hdr.u.tids[i]))
			{
				if (bad_nodes++ < MAX_REPORTS_PER_KIND)
					report(v, "node %u has an invalid heap TID", slot);
				break;
			}
		if ((hdr.ntids == 0) != ((hdr.flags & HNSW_NODE_DELETED) != 0))
		{
			if (bad_nodes++ < MAX_REPORTS_PER_KIND)
				report(v, "node %u has %u heap TIDs but is %smarked deleted",
					   slot, hdr.ntids, (hdr.flags & HNSW_NODE_DELETED) ? "" : "not ");
		}
		if (hdr.flags & HNSW_NODE_DELETED)
			kinds[slot] = KIND_DELETED;
		else
		{
			live++;
			top = Max(top, hdr.level);
		}
	}

	/*
	 * The free list and the chain of free slots: FREE slots only, each once
	 * in all (a slot listed twice would be given to two inserts), the chain
	 * as long as the metapage says.
	 */
	seen = palloc0(meta.nslots + 1);
	for (uint32 i = 0; i < Min(meta.nfree, HNSW_META_FREE_MAX); i++)
	{
		uint32		slot = meta.free[i];

		if (slot >= meta.nslots)
			continue;			/* reported above */
		if (seen[slot])
			report(v, "free list holds slot %u twice", slot);
		else if (kinds[slot] != HNSW_SLOT_FREE)
			report(v, "free list holds slot %u, which is not free", slot);
		seen[slot] = 1;
	}
	if (meta.chain_head != 0)
	{
		uint32		slot = meta.chain_head - 1;
		uint32		length = 0;

		for (;;)
		{
			HnswSlotHeader hdr;

			CHECK_FOR_INTERRUPTS();
			if (slot >= meta.nslots)
			{
				report(v, "free slot chain leads to slot %u, beyond the %u slots", slot, meta.nslots);
				break;
			}
			if (seen[slot] == 1)
			{
				report(v, "free slot chain holds slot %u, which is also in the free list", slot);
				break;
			}
			if (seen[slot] == 2)
			{
				report(v, "free slot chain comes back to slot %u", slot);
				break;
			}
			seen[slot] = 2;
			if (kinds[slot] != HNSW_SLOT_FREE)
			{
				report(v, "free slot chain holds slot %u, which is not free", slot);
				break;
			}
			length++;
			HnswReadHeader(&pg.g, slot, &hdr);
			if (hdr.upper == HNSW_NO_SLOT)
				break;
			slot = hdr.upper;
		}
		if (length != meta.chain_length)
			report(v, "free slot chain has %u slots, the metapage counts %u", length, meta.chain_length);
	}
	else if (meta.chain_length != 0)
		report(v, "free slot chain is empty, the metapage counts %u slots", meta.chain_length);

	/* upper chains and neighbour lists */
	for (uint32 slot = 0; slot < meta.nslots; slot++)
	{
		CHECK_FOR_INTERRUPTS();
		if (kinds[slot] != HNSW_SLOT_NODE)
			continue;
		for (int layer = 0; layer <= levels[slot]; layer++)
		{
			int			n = raw_list(&pg.g, &shape, slot, layer, ids);

			if (n < 0)
			{
				if (bad_nodes++ < MAX_REPORTS_PER_KIND)
					report(v, "node %u of level %u has no list for layer %d (broken upper-slot chain)",
						   slot, levels[slot], layer);
				break;
			}
			for (int i = 0; i < n; i++)
			{
				const char *why = NULL;

				if (ids[i] >= meta.nslots)
					why = "beyond the slot array";
				else if (ids[i] == slot)
					why = "the node itself";
				else if (kinds[ids[i]] == HNSW_SLOT_FREE)
					why = "a free slot";
				else if (kinds[ids[i]] == KIND_DELETED)
					why = "a deleted node";
				else if (kinds[ids[i]] != HNSW_SLOT_NODE)
					why = "not a node";
				else if (levels[ids[i]] < layer)
					why = "a node that is not on this layer";
				if (why && bad_ids++ < MAX_REPORTS_PER_KIND)
					report(v, "node %u layer %d lists slot %u: %s", slot, layer, ids[i], why);
			}
		}
	}

	/* entry point */
	if (live > 0 || meta.entry != HNSW_NO_SLOT)
	{
		if (meta.entry == HNSW_NO_SLOT || meta.entry >= meta.nslots ||
			kinds[meta.entry] != HNSW_SLOT_NODE)
			report(v, "entry point %u is not a node", meta.entry);
		else if (meta.entry_level != levels[meta.entry])
			report(v, "entry point %u has level %u, the metapage says %d",
				   meta.entry, levels[meta.entry], meta.entry_level);
		else if (meta.entry_level < top)
			report(v, "entry point level %d is below the top level %d of a live node",
				   meta.entry_level, top);
		else
		{
			/* reachability over every layer's lists */
			reached[meta.entry] = true;
			queue[tail++] = meta.entry;
			while (head < tail)
			{
				uint32		node = queue[head++];

				CHECK_FOR_INTERRUPTS();
				for (int layer = 0; layer <= levels[node]; layer++)
				{
					int			n = raw_list(&pg.g, &shape, node, layer, ids);

					for (int i = 0; i < n; i++)
						if (ids[i] < meta.nslots && kinds[ids[i]] == HNSW_SLOT_NODE && !reached[ids[i]])
						{
							reached[ids[i]] = true;
							queue[tail++] = ids[i];
						}
				}
			}
			for (uint32 slot = 0; slot < meta.nslots; slot++)
			{
				if (kinds[slot] != HNSW_SLOT_NODE || reached[slot])
					continue;
				if (unreachable++ < MAX_REPORTS_PER_KIND)
					report(v, "node %u is not reachable from the entry point", slot);
			}
			if (unreachable > MAX_REPORTS_PER_KIND)
				report(v, "%u live nodes in all are not reachable from the entry point", unreachable);
		}
	}
	if (bad_ids > MAX_REPORTS_PER_KIND)
		report(v, "%d bad neighbour ids in all", bad_ids);
	if (bad_nodes > MAX_REPORTS_PER_KIND)
		report(v, "%d bad nodes in all", bad_nodes);

	HnswPageGraphEnd(&pg);
}

PG_FUNCTION_INFO_V1(hnsw_verify);

/* vecdb.hnsw_verify(index regclass) RETURNS SETOF text */
Datum
hnsw_verify(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Verify		v;
	Relation	index;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	v.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	v.nreports = 0;

	index = relation_open(relid, AccessShareLock);
	if (index->rd_rel->relkind != RELKIND_INDEX ||
		index->rd_rel->relam != get_index_am_oid("hnsw", false))
	{
		const char *name = pstrdup(RelationGetRelationName(index));

		relation_close(index, AccessShareLock);
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an hnsw index", name)));
	}
	verify_graph(&v, index);
	relation_close(index, AccessShareLock);
	return (Datum) 0;
}
