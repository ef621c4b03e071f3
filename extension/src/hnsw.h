/*-------------------------------------------------------------------------
 *
 * hnsw.h
 *	  The hnsw index access method: constants, on-disk layout, prototypes.
 *
 * The index is a Hierarchical Navigable Small World graph (Malkov and
 * Yashunin, 2016; "Alg. n" below refers to that paper).  What makes it fast
 * is the layout, chosen from measurements (HNSW-NOTES.md): a search costs
 * what its visited nodes cost, so a visited node must be one contiguous
 * record reached by arithmetic, not a tuple found through line pointers.
 *
 * Layout.  Block 0 is the metapage.  Blocks 1.. form one linear array of
 * fixed-size *slots*: slot s starts at byte s * slotsize of the
 * concatenated page payloads, so a slot may straddle two pages (never more:
 * a slot is at most one payload long).  A node slot holds, in this order:
 *
 *	  HnswSlotHeader (kind, level, heap TIDs, link to its upper-layer slots)
 *	  uint32 neighbours[2m]		 layer 0, HNSW_NO_SLOT-terminated
 *	  element data				 float4 / float16 / bit bytes of the vector
 *
 * so a search reads a node's list and its vector from one place, and a 784
 * dimension index packs 2.5 nodes per page with no per-tuple overhead.
 * Nodes on layers >= 1 (about 1 in m) keep their upper lists in a chain of
 * HNSW_SLOT_UPPER slots in the same array.  Slot ids are dense, so a search
 * marks visited nodes in a bitmap.
 *
 * Locking.  Page contents are read under a share buffer lock and changed
 * under an exclusive one, through generic WAL; a slot that straddles two
 * pages is locked on both, lower block first.  No code path holds content
 * locks on two slots at once.  The metapage is locked before any slot page,
 * never after: allocate_slots reads the free-slot chain under the metapage
 * lock, and VACUUM frees a slot into the chain with both locked
 * (HnswUpdateSlotAndMeta); so a backend holding a slot page's lock must not
 * read or lock the metapage.  Inserts
 * hold a heavyweight share lock on HNSW_UPDATE_LOCK for their duration;
 * VACUUM takes it exclusively for an instant, as a barrier, after it has
 * marked dead nodes (see hnswvacuum.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECDB_HNSW_H
#define VECDB_HNSW_H

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/reloptions.h"
#include "common/pg_prng.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "utils/relcache.h"

#include "distance.h"

#define HNSW_MAGIC				0x76484e53	/* "vHNS" */
#define HNSW_VERSION			1

#define HNSW_METAPAGE_BLKNO		0
#define HNSW_FIRST_DATA_BLKNO	1
#define HNSW_UPDATE_LOCK		0	/* heavyweight page lock "block" */

#define HNSW_DEFAULT_M			16
#define HNSW_MIN_M				2
#define HNSW_MAX_M				100
#define HNSW_DEFAULT_EF_CONSTRUCTION 64
#define HNSW_MIN_EF_CONSTRUCTION 4
#define HNSW_MAX_EF_CONSTRUCTION 1000
#define HNSW_DEFAULT_EF_SEARCH	40
#define HNSW_MIN_EF_SEARCH		1
#define HNSW_MAX_EF_SEARCH		1000
#define HNSW_MAX_LEVEL			16
#define HNSW_HEAPTIDS			4	/* heap TIDs one node can carry */
#define HNSW_NO_SLOT			0xFFFFFFFFu

/* support functions of the opclasses */
#define HNSW_DISTANCE_PROC		1
#define HNSW_NORM_PROC			2	/* cosine: vectors are normalized */

/* phases reported in pg_stat_progress_create_index */
#define HNSW_PHASE_LOAD			2
#define HNSW_PHASE_WRITE		3
#define HNSW_PHASE_INSERT		4

/* slot kinds */
#define HNSW_SLOT_FREE			0	/* never used, or freed by VACUUM */
#define HNSW_SLOT_NODE			1
#define HNSW_SLOT_UPPER			2

/* node flags */
#define HNSW_NODE_DELETED		0x01	/* every heap TID is dead; VACUUM repairs
										 * its neighbours, then frees it */

/* Every slot starts with this header; upper slots use owner/next instead of tids */
typedef struct HnswSlotHeader
{
	uint8		kind;
	uint8		level;			/* node: its top layer */
	uint8		ntids;			/* node: live heap TIDs in tids[] */
	uint8		flags;
	uint32		upper;			/* node: first upper slot; upper: next one */
	union
	{
		ItemPointerData tids[HNSW_HEAPTIDS];
		struct
		{
			uint32		owner;	/* the node this upper slot belongs to */
			uint32		first_layer;	/* layer of its first list */
		}			up;
	}			u;
} HnswSlotHeader;

StaticAssertDecl(sizeof(HnswSlotHeader) == 32, "slot header is 32 bytes");

/* The metapage: graph shape, entry point, space bookkeeping */
#define HNSW_META_FREE_MAX		1500

typedef struct HnswMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dims;			/* elements (bits for bit) per vector */
	uint16		m;
	uint16		ef_construction;
	uint32		slotsize;
	uint32		datasize;		/* bytes of element data in a node slot */
	uint32		entry;			/* entry point slot, or HNSW_NO_SLOT */
	int32		entry_level;	/* its level; -1 when the graph is empty */
	uint32		nslots;			/* slots 0 .. nslots - 1 have been allocated */
	uint32		nfree;			/* entries in free[] */
	uint32		free[HNSW_META_FREE_MAX];	/* free slots VACUUM found */

	/*
	 * Free slots beyond free[]: a chain through the slots themselves (each
	 * FREE slot's header.upper names the next, HNSW_NO_SLOT at the end).
	 * Stored as slot id + 1, so that 0, what a metapage written before these
	 * fields existed holds, is an empty chain.
	 */
	uint32		chain_head;
	uint32		chain_length;
} HnswMetaPageData;

/* Special space of every page: a page type a human can spot in a dump */
#define HNSW_PAGE_ID			0xFF91
typedef struct HnswPageOpaqueData
{
	uint16		kind;			/* 0 metapage, 1 slot page */
	uint16		page_id;
	uint32		unused;
} HnswPageOpaqueData;

StaticAssertDecl(MAXALIGN(SizeOfPageHeaderData) + sizeof(HnswMetaPageData) <=
				 BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData)),
				 "the metapage's data fits in a page");

#define HNSW_PAYLOAD_START		MAXALIGN(SizeOfPageHeaderData)
#define HNSW_PAYLOAD			(BLCKSZ - HNSW_PAYLOAD_START - MAXALIGN(sizeof(HnswPageOpaqueData)))

/* What a slot's elements are and how two of them are compared */
typedef enum HnswElemType
{
	HNSW_ELEM_FLOAT4,
	HNSW_ELEM_FLOAT16,
	HNSW_ELEM_BIT
} HnswElemType;

typedef enum HnswMetric
{
	HNSW_METRIC_L2,				/* squared Euclidean */
	HNSW_METRIC_IP,				/* negative inner product */
	HNSW_METRIC_COSINE,			/* negative inner product of unit vectors */
	HNSW_METRIC_L1,
	HNSW_METRIC_HAMMING,
	HNSW_METRIC_JACCARD
} HnswMetric;

/* Reloptions */
typedef struct HnswOptions
{
	int32		vl_len_;
	int			m;
	int			ef_construction;
} HnswOptions;

/* Everything about an index that does not change after it is built */
typedef struct HnswShape
{
	HnswElemType elem;
	HnswMetric	metric;
	int			dims;
	int			m;
	int			ef_construction;
	int			datasize;
	int			slotsize;
	int			upper_capacity; /* neighbour ids in one upper slot */
} HnswShape;

/* Slot geometry */
#define HNSW_NEIGHBOURS_OFFSET	((int) sizeof(HnswSlotHeader))
#define HNSW_UPPER_IDS_OFFSET	((int) sizeof(HnswSlotHeader))
#define HnswDataOffset(shape)	(HNSW_NEIGHBOURS_OFFSET + (int) sizeof(uint32) * 2 * (shape)->m)
#define HnswLayerM(shape, layer) ((layer) == 0 ? 2 * (shape)->m : (shape)->m)

/* A candidate during a search: a slot and its distance to the query */
typedef struct HnswCandidate
{
	float		distance;
	uint32		slot;
	bool		deleted;		/* the node is marked deleted */
} HnswCandidate;

/* A binary heap of candidates; min-heap or max-heap by distance */
typedef struct HnswHeap
{
	HnswCandidate *items;
	int			count;
	int			capacity;
	bool		max;
} HnswHeap;

/*
 * Where a search reads the graph: the in-memory graph of a build, or the
 * index's pages.  slot_ptr returns a pointer to len bytes at off in the slot,
 * valid until slot_release (pages stay locked in between).
 */
typedef struct HnswGraph HnswGraph;
struct HnswGraph
{
	const HnswShape *shape;
	uint32		nslots;			/* current bound on slot ids */
	bool		stable;			/* slot_ptr results stay valid (memory) */
	const char *(*slot_ptr) (HnswGraph *g, uint32 slot, int off, int len);

	/*
	 * Like slot_ptr without copying a slot that straddles two pages: the
	 * first *len1 bytes are at the result, the rest at *rest.  NULL where
	 * slot_ptr never copies (memory).
	 */
	const char *(*slot_parts) (HnswGraph *g, uint32 slot, int off, int len,
							   int *len1, const char **rest);
	void		(*slot_release) (HnswGraph *g);
	void		(*prefetch) (HnswGraph *g, uint32 slot, bool whole);
};

/* The in-memory graph of a build: slots in one array */
typedef struct HnswMemGraph
{
	HnswGraph	g;
	char	   *base;
	uint32		capacity;
} HnswMemGraph;

/*
 * The index's pages as a graph.  A reader keeps its last few buffers pinned
 * (a slot's list is read again soon after its distance); see hnswpage.c.
 */
#define HNSW_READER_PINS	6

typedef struct HnswPageGraph
{
	HnswGraph	g;
	Relation	index;
	uint32		entry;			/* the metapage's entry point when the reader began */
	int			entry_level;
	BlockNumber pinned_block[HNSW_READER_PINS];	/* a ring, InvalidBlockNumber free */
	Buffer		pinned_buffer[HNSW_READER_PINS];
	int			next_pin;		/* the ring position pinned next */
	struct RecentBuffers *recent;	/* this backend's memory of the index's buffers */
	Buffer		locked[2];		/* buffers locked by the last slot_ptr */
	char	   *scratch;		/* a straddling slot, copied */
} HnswPageGraph;

/* Where a new element goes: its neighbours on each layer (hnswinsert.c) */
typedef struct HnswPlan
{
	int			level;			/* the element's top layer */
	int			top;			/* highest layer planned; -1: empty graph */
	uint32		duplicate;		/* a node with identical data, or HNSW_NO_SLOT */
	int			count[HNSW_MAX_LEVEL + 1];
	uint32	   *ids[HNSW_MAX_LEVEL + 1];
	float	   *dists[HNSW_MAX_LEVEL + 1];
} HnswPlan;

/* A search in progress (Alg. 2) */
typedef struct HnswSearch
{
	HnswGraph  *graph;
	const HnswShape *shape;
	const char *query;			/* element data */
	uint8	   *visited;		/* bitmap over slot ids */
	uint32		visited_bits;
	uint32	   *touched;		/* slots whose bitmap byte is non-zero */
	int			ntouched;
	int			touched_cap;
	bool		skip_deleted;	/* keep deleted nodes out of results */
	HnswHeap	discarded;		/* iterative scans: evaluated, not returned */
	bool		keep_discarded;
	int64		evaluated;		/* distances computed */
	uint32		tiebreak;		/* seed for ordering equal distances */
} HnswSearch;

/* Whether id is among the n ids */
static inline bool
HnswContainsId(const uint32 *ids, int n, uint32 id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* hnsw.c */
extern int	hnsw_ef_search;
extern int	hnsw_iterative_scan;
extern int	hnsw_max_scan_tuples;
extern double hnsw_scan_mem_multiplier;

#define HNSW_ITERATIVE_OFF		0
#define HNSW_ITERATIVE_RELAXED	1
#define HNSW_ITERATIVE_STRICT	2

extern void HnswInit(void);
extern int	HnswGetM(Relation index);
extern int	HnswGetEfConstruction(Relation index);

/* hnswutils.c: shape, elements, distances */
extern void HnswInitShape(Relation index, HnswShape *shape, int dims);
extern int	HnswColumnDims(Relation index);
extern bool HnswDatumToElement(const HnswShape *shape, Datum value, char *out);
extern float HnswDistance(const HnswShape *shape, const char *a, const char *b);
extern float HnswDistanceSplit(const HnswShape *shape, const char *a, const char *b1, int len1,
							   const char *b2);

/* hnswutils.c: heaps */
extern void HnswHeapInit(HnswHeap *h, int capacity, bool max);
extern void HnswHeapPush(HnswHeap *h, HnswCandidate c);
extern HnswCandidate HnswHeapPop(HnswHeap *h);
#define HnswHeapTop(h) ((h)->items[0])

/* hnswutils.c: graph access */
extern void HnswMemGraphInit(HnswMemGraph *mg, const HnswShape *shape, char *base, uint32 capacity);
extern int	HnswReadNeighbours(HnswGraph *g, uint32 slot, int layer, uint32 *out);
extern bool HnswReadHeader(HnswGraph *g, uint32 slot, HnswSlotHeader *hdr);
extern void HnswReadData(HnswGraph *g, uint32 slot, char *out);
extern uint32 HnswUpperSlotFor(const HnswShape *shape, HnswGraph *g, uint32 node, int layer, int *index_in_slot);

/* hnswutils.c: search */
extern void HnswSearchInit(HnswSearch *s, HnswGraph *g, const char *query);
extern void HnswSearchReset(HnswSearch *s);
extern void HnswSearchFree(HnswSearch *s);
extern bool HnswSearchEnter(HnswSearch *s, uint32 slot, HnswCandidate *c);
extern int	HnswSearchLayer(HnswSearch *s, HnswCandidate *entries, int nentries,
							int ef, int layer, HnswCandidate *out);
extern bool HnswSearchToLayer(HnswSearch *s, uint32 entry, int entry_level, int to_layer,
							  HnswCandidate *ep);
extern int	HnswSelectNeighbours(const HnswShape *shape, HnswCandidate *cands, int ncands,
								 char **data, int mmax, int *out);
extern int	HnswPrune(const HnswShape *shape, uint32 base, const char *base_data, uint32 *slots,
					  char **data, int n, int mmax, uint32 *out);
extern int	HnswRandomLevel(pg_prng_state *prng, int m);

/* hnswpage.c: reading pages, and changing them */
extern void HnswPageGraphInit(HnswPageGraph *pg, Relation index, const HnswShape *shape);
extern void HnswPageGraphEnd(HnswPageGraph *pg);
extern void HnswInitSlotPage(Page page);
extern void HnswInitMetaPage(Page page, const HnswShape *shape);
extern HnswMetaPageData *HnswPageGetMeta(Page page);
extern void HnswReadMeta(Relation index, HnswMetaPageData *meta);
extern void HnswSlotLocation(const HnswShape *shape, uint32 slot, BlockNumber *blkno, int *offset);
extern void HnswWriteSlotBytes(Relation index, const HnswShape *shape, uint32 slot, int off,
							   const char *src, int len);
extern bool HnswListLocation(const HnswShape *shape, HnswGraph *g, uint32 node, int layer,
							 uint32 *slot, int *off);
extern bool HnswListOwned(const char *slotdata, uint32 node, int layer);
extern bool HnswSwapList(Relation index, const HnswShape *shape, HnswGraph *g, uint32 node,
						 int layer, const uint32 *expect, int nexpect, const uint32 *list,
						 int nlist);
extern HnswMetaPageData *HnswMetaForUpdate(Page page);
extern void HnswReadSlotHeader(Relation index, const HnswShape *shape, uint32 slot,
							   HnswSlotHeader *hdr);
extern bool HnswUpdateSlotAndMeta(Relation index, const HnswShape *shape, uint32 slot,
								  bool (*update) (char *slotdata, HnswMetaPageData *meta, void *arg),
								  void *arg);
extern void HnswUpdateSlot(Relation index, const HnswShape *shape, uint32 slot,
						   bool (*update) (char *slotdata, void *arg), void *arg);

/* hnswbuild.c */
extern IndexBuildResult *hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void hnswbuildempty(Relation index);

/* hnswinsert.c */
extern bool hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
					   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
					   IndexInfo *indexInfo);
extern HnswPlan *HnswPlanAlloc(const HnswShape *shape);
extern void HnswPlanNeighbours(HnswSearch *s, uint32 entry, int entry_level, int level,
							   HnswPlan *plan);
extern int	HnswUpperSlotsNeeded(const HnswShape *shape, int level);
extern void HnswFormNode(const HnswShape *shape, const HnswPlan *plan, uint32 node,
						 const uint32 *upper, const char *data, ItemPointer heap_tid,
						 char **images);
extern int	HnswAdoptNeighbours(Relation index, const HnswShape *shape, HnswGraph *g,
								uint32 node, int layer, const uint32 *ids, int n);
extern void HnswInsertElement(Relation index, const HnswShape *shape, const char *data,
							  ItemPointer heap_tid);

/* hnswscan.c */
extern IndexScanDesc hnswbeginscan(Relation index, int nkeys, int norderbys);
extern void hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
extern bool hnswgettuple(IndexScanDesc scan, ScanDirection dir);
extern void hnswendscan(IndexScanDesc scan);

/* hnswvacuum.c */
extern IndexBulkDeleteResult *hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
											 IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

/* hnswplanner.c */
extern void HnswPlannerInit(void);

#endif							/* VECDB_HNSW_H */
