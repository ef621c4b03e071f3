/*-------------------------------------------------------------------------
 *
 * hnswutils.c
 *	  What build, insert, scan and vacuum share: the index's shape and
 *	  distances, the graph in memory, reading slots, the layer search
 *	  (Alg. 2) and the neighbour-selection heuristic (Alg. 4).
 *
 * A search is written once against HnswGraph, which either points into the
 * in-memory slot array of a build or reads the index's pages (hnswpage.c).
 * Before computing the distances of a node's unvisited neighbours, the
 * search prefetches all of their slots, so the cache misses overlap, and
 * every line of the next one's vector while it computes one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/varbit.h"

#include "hnsw.h"
#include "vector.h"

/* the distance functions the opclasses name as support function 1 */
extern Datum vector_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum vector_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum l1_distance(PG_FUNCTION_ARGS);
extern Datum halfvec_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum halfvec_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum halfvec_l1_distance(PG_FUNCTION_ARGS);
extern Datum hamming_distance(PG_FUNCTION_ARGS);
extern Datum jaccard_distance(PG_FUNCTION_ARGS);

/* ---------------------------------------------------------------------
 * Shape, elements, distances
 * ---------------------------------------------------------------------
 */

/* The dimensions of the indexed column, from its typmod */
int
HnswColumnDims(Relation index)
{
	int32		typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	if (typmod < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column with a dimension, for example vector(384), to index it with hnsw.")));
	return typmod;
}

/* Work out element type, metric and slot geometry of an index */
void
HnswInitShape(Relation index, HnswShape *shape, int dims)
{
	FmgrInfo   *proc = index_getprocinfo(index, 1, HNSW_DISTANCE_PROC);
	PGFunction	fn = proc->fn_addr;
	bool		normalized = OidIsValid(index_getprocid(index, 1, HNSW_NORM_PROC));
	int			maxdims;
	int			fixed;

	memset(shape, 0, sizeof(*shape));
	if (fn == vector_l2_squared_distance)
		shape->elem = HNSW_ELEM_FLOAT4, shape->metric = HNSW_METRIC_L2;
	else if (fn == vector_negative_inner_product)
		shape->elem = HNSW_ELEM_FLOAT4, shape->metric = HNSW_METRIC_IP;
	else if (fn == l1_distance)
		shape->elem = HNSW_ELEM_FLOAT4, shape->metric = HNSW_METRIC_L1;
	else if (fn == halfvec_l2_squared_distance)
		shape->elem = HNSW_ELEM_FLOAT16, shape->metric = HNSW_METRIC_L2;
	else if (fn == halfvec_negative_inner_product)
		shape->elem = HNSW_ELEM_FLOAT16, shape->metric = HNSW_METRIC_IP;
	else if (fn == halfvec_l1_distance)
		shape->elem = HNSW_ELEM_FLOAT16, shape->metric = HNSW_METRIC_L1;
	else if (fn == hamming_distance)
		shape->elem = HNSW_ELEM_BIT, shape->metric = HNSW_METRIC_HAMMING;
	else if (fn == jaccard_distance)
		shape->elem = HNSW_ELEM_BIT, shape->metric = HNSW_METRIC_JACCARD;
	else
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("operator class of index \"%s\" has a distance function hnsw does not know",
						RelationGetRelationName(index)),
				 errhint("Use one of the vector_*_ops, halfvec_*_ops or bit_*_ops operator classes.")));
	if (normalized && shape->metric == HNSW_METRIC_IP)
		shape->metric = HNSW_METRIC_COSINE;

	shape->dims = dims;
	shape->m = HnswGetM(index);
	shape->ef_construction = HnswGetEfConstruction(index);
	switch (shape->elem)
	{
		case HNSW_ELEM_FLOAT4:
			shape->datasize = dims * sizeof(float);
			break;
		case HNSW_ELEM_FLOAT16:
			shape->datasize = dims * sizeof(vecdb_half);
			break;
		case HNSW_ELEM_BIT:
			shape->datasize = (dims + 7) / 8;
			break;
	}
	fixed = HnswDataOffset(shape);
	shape->slotsize = MAXALIGN(fixed + shape->datasize);
	shape->upper_capacity = (shape->slotsize - HNSW_UPPER_IDS_OFFSET) / sizeof(uint32);

	if (dims < 1 || shape->slotsize > (int) HNSW_PAYLOAD)
	{
		int			per = shape->elem == HNSW_ELEM_BIT ? 1 : (int) (shape->datasize / dims);

		maxdims = shape->elem == HNSW_ELEM_BIT
			? ((int) HNSW_PAYLOAD - fixed) / 8 * 64
			: ((int) HNSW_PAYLOAD - fixed) / per / 8 * 8;
		if (dims >= 1)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("column cannot have more than %d dimensions for an hnsw index with m = %d",
							maxdims, shape->m),
					 errhint("Use halfvec to halve the size of each vector, or a smaller m.")));
		elog(ERROR, "hnsw index has %d dimensions", dims);
	}
}

static float
dist_f32_l2(const HnswShape *s, const char *a, const char *b)
{
	return vecdb_kernel->l2sq_f32((const float *) a, (const float *) b, s->dims);
}

static float
dist_f32_ip(const HnswShape *s, const char *a, const char *b)
{
	return -vecdb_kernel->dot_f32((const float *) a, (const float *) b, s->dims);
}

static float
dist_f32_l1(const HnswShape *s, const char *a, const char *b)
{
	return vecdb_kernel->l1_f32((const float *) a, (const float *) b, s->dims);
}

static float
dist_f16_l2(const HnswShape *s, const char *a, const char *b)
{
	return vecdb_kernel->l2sq_f16((const vecdb_half *) a, (const vecdb_half *) b, s->dims);
}

static float
dist_f16_ip(const HnswShape *s, const char *a, const char *b)
{
	return -vecdb_kernel->dot_f16((const vecdb_half *) a, (const vecdb_half *) b, s->dims);
}

static float
dist_f16_l1(const HnswShape *s, const char *a, const char *b)
{
	return vecdb_kernel->l1_f16((const vecdb_half *) a, (const vecdb_half *) b, s->dims);
}

static float
dist_hamming(const HnswShape *s, const char *a, const char *b)
{
	return (float) vecdb_kernel->hamming((const uint8_t *) a, (const uint8_t *) b, s->datasize);
}

static float
dist_jaccard(const HnswShape *s, const char *a, const char *b)
{
	uint64_t	and_count,
				or_count;

	vecdb_kernel->and_or_count((const uint8_t *) a, (const uint8_t *) b, s->datasize,
							   &and_count, &or_count);
	if (or_count == 0)
		return 0.0f;
	return 1.0f - (float) ((double) and_count / (double) or_count);
}

/* The distance that orders the index: smaller is nearer */
float
HnswDistance(const HnswShape *shape, const char *a, const char *b)
{
	switch (shape->metric)
	{
		case HNSW_METRIC_L2:
			return shape->elem == HNSW_ELEM_FLOAT4 ? dist_f32_l2(shape, a, b) : dist_f16_l2(shape, a, b);
		case HNSW_METRIC_IP:
		case HNSW_METRIC_COSINE:
			return shape->elem == HNSW_ELEM_FLOAT4 ? dist_f32_ip(shape, a, b) : dist_f16_ip(shape, a, b);
		case HNSW_METRIC_L1:
			return shape->elem == HNSW_ELEM_FLOAT4 ? dist_f32_l1(shape, a, b) : dist_f16_l1(shape, a, b);
		case HNSW_METRIC_HAMMING:
			return dist_hamming(shape, a, b);
		case HNSW_METRIC_JACCARD:
			return dist_jaccard(shape, a, b);
	}
	return 0.0f;
}

/*
 * The same distance when b is in two pieces: its first len1 bytes at b1, the
 * rest at b2 (a node straddling two pages; len1 is a multiple of 8, so no
 * element is cut).  Sums of per-element terms are simply added; the result
 * may differ from HnswDistance's in the last bits, never in order of
 * magnitude, and a given node is always read the same way.
 */
float
HnswDistanceSplit(const HnswShape *shape, const char *a, const char *b1, int len1, const char *b2)
{
	const char *a2 = a + len1;
	int			len2 = shape->datasize - len1;

	if (len1 <= 0)
		return HnswDistance(shape, a, b2);
	if (len2 <= 0)
		return HnswDistance(shape, a, b1);
	switch (shape->metric)
	{
		case HNSW_METRIC_L2:
			if (shape->elem == HNSW_ELEM_FLOAT4)
				return vecdb_kernel->l2sq_f32((const float *) a, (const float *) b1, len1 / 4) +
					vecdb_kernel->l2sq_f32((const float *) a2, (const float *) b2, len2 / 4);
			return vecdb_kernel->l2sq_f16((const vecdb_half *) a, (const vecdb_half *) b1, len1 / 2) +
				vecdb_kernel->l2sq_f16((const vecdb_half *) a2, (const vecdb_half *) b2, len2 / 2);
		case HNSW_METRIC_IP:
		case HNSW_METRIC_COSINE:
			if (shape->elem == HNSW_ELEM_FLOAT4)
				return -(vecdb_kernel->dot_f32((const float *) a, (const float *) b1, len1 / 4) +
						 vecdb_kernel->dot_f32((const float *) a2, (const float *) b2, len2 / 4));
			return -(vecdb_kernel->dot_f16((const vecdb_half *) a, (const vecdb_half *) b1, len1 / 2) +
					 vecdb_kernel->dot_f16((const vecdb_half *) a2, (const vecdb_half *) b2, len2 / 2));
		case HNSW_METRIC_L1:
			if (shape->elem == HNSW_ELEM_FLOAT4)
				return vecdb_kernel->l1_f32((const float *) a, (const float *) b1, len1 / 4) +
					vecdb_kernel->l1_f32((const float *) a2, (const float *) b2, len2 / 4);
			return vecdb_kernel->l1_f16((const vecdb_half *) a, (const vecdb_half *) b1, len1 / 2) +
				vecdb_kernel->l1_f16((const vecdb_half *) a2, (const vecdb_half *) b2, len2 / 2);
		case HNSW_METRIC_HAMMING:
			return (float) (vecdb_kernel->hamming((const uint8_t *) a, (const uint8_t *) b1, len1) +
							vecdb_kernel->hamming((const uint8_t *) a2, (const uint8_t *) b2, len2));
		case HNSW_METRIC_JACCARD:
			{
				uint64_t	and1,
							or1,
							and2,
							or2;

				vecdb_kernel->and_or_count((const uint8_t *) a, (const uint8_t *) b1, len1, &and1, &or1);
				vecdb_kernel->and_or_count((const uint8_t *) a2, (const uint8_t *) b2, len2, &and2, &or2);
				if (or1 + or2 == 0)
					return 0.0f;
				return 1.0f - (float) ((double) (and1 + and2) / (double) (or1 + or2));
			}
	}
	return 0.0f;
}

/*
 * Convert a column or query value into slot element data.  Returns false for
 * a value the index cannot place: a zero vector under cosine.
 */
bool
HnswDatumToElement(const HnswShape *shape, Datum value, char *out)
{
	struct varlena *v = PG_DETOAST_DATUM(value);
	int			dim;

	switch (shape->elem)
	{
		case HNSW_ELEM_FLOAT4:
			{
				Vector	   *vec = (Vector *) v;

				dim = vec->dim;
				vecdb_check_same_dims(shape->dims, dim);
				memcpy(out, vec->x, shape->datasize);
				if (shape->metric == HNSW_METRIC_COSINE)
				{
					float	   *x = (float *) out;
					double		norm = 0.0;

					for (int i = 0; i < dim; i++)
						norm += (double) x[i] * x[i];
					if (norm == 0.0)
						return false;
					norm = sqrt(norm);
					for (int i = 0; i < dim; i++)
						x[i] = (float) (x[i] / norm);
				}
				break;
			}
		case HNSW_ELEM_FLOAT16:
			{
				HalfVector *vec = (HalfVector *) v;

				dim = vec->dim;
				vecdb_check_same_dims(shape->dims, dim);
				memcpy(out, vec->x, shape->datasize);
				if (shape->metric == HNSW_METRIC_COSINE)
				{
					vecdb_half *x = (vecdb_half *) out;
					double		norm = 0.0;

					for (int i = 0; i < dim; i++)
					{
						double		f = vecdb_half_to_float(x[i]);

						norm += f * f;
					}
					if (norm == 0.0)
						return false;
					norm = sqrt(norm);
					for (int i = 0; i < dim; i++)
						x[i] = vecdb_float_to_half((float) (vecdb_half_to_float(x[i]) / norm));
				}
				break;
			}
		case HNSW_ELEM_BIT:
			{
				VarBit	   *bits = (VarBit *) v;

				dim = VARBITLEN(bits);
				if (dim != shape->dims)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("different bit lengths %d and %d", shape->dims, dim)));
				memcpy(out, VARBITS(bits), shape->datasize);
				break;
			}
	}
	if ((Pointer) v != DatumGetPointer(value))
		pfree(v);
	return true;
}

/* A level drawn from the exponential distribution of Alg. 1, mL = 1 / ln(m) */
int
HnswRandomLevel(pg_prng_state *prng, int m)
{
	double		u = pg_prng_double(prng);
	int			level;

	if (u <= 0.0)
		u = 1e-300;
	level = (int) floor(-log(u) / log((double) m));
	return Min(level, HNSW_MAX_LEVEL);
}

/* ---------------------------------------------------------------------
 * Candidate heaps
 * ---------------------------------------------------------------------
 */

void
HnswHeapInit(HnswHeap *h, int capacity, bool max)
{
	h->capacity = Max(capacity, 16);
	h->items = palloc(sizeof(HnswCandidate) * h->capacity);
	h->count = 0;
	h->max = max;
}

static inline bool
heap_before(const HnswHeap *h, const HnswCandidate *a, const HnswCandidate *b)
{
	return h->max ? a->distance > b->distance : a->distance < b->distance;
}

void
HnswHeapPush(HnswHeap *h, HnswCandidate c)
{
	int			i;

	if (h->count == h->capacity)
	{
		h->capacity *= 2;
		h->items = repalloc_huge(h->items, sizeof(HnswCandidate) * h->capacity);
	}
	i = h->count++;
	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (!heap_before(h, &c, &h->items[parent]))
			break;
		h->items[i] = h->items[parent];
		i = parent;
	}
	h->items[i] = c;
}

HnswCandidate
HnswHeapPop(HnswHeap *h)
{
	HnswCandidate top = h->items[0];
	HnswCandidate last = h->items[--h->count];
	int			i = 0;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= h->count)
			break;
		if (child + 1 < h->count && heap_before(h, &h->items[child + 1], &h->items[child]))
			child++;
		if (!heap_before(h, &h->items[child], &last))
			break;
		h->items[i] = h->items[child];
		i = child;
	}
	if (h->count > 0)
		h->items[i] = last;
	return top;
}

/* ---------------------------------------------------------------------
 * The graph in memory (a build)
 * ---------------------------------------------------------------------
 */

static const char *
mem_slot_ptr(HnswGraph *g, uint32 slot, int off, int len)
{
	HnswMemGraph *mg = (HnswMemGraph *) g;

	return mg->base + (Size) slot * g->shape->slotsize + off;
}

static void
mem_slot_release(HnswGraph *g)
{
}

static void
mem_prefetch(HnswGraph *g, uint32 slot, bool whole)
{
	HnswMemGraph *mg = (HnswMemGraph *) g;
	const char *p = mg->base + (Size) slot * g->shape->slotsize;

	if (whole)
	{
		for (int rel = HnswDataOffset(g->shape); rel < g->shape->slotsize + 63; rel += 64)
			__builtin_prefetch(p + Min(rel, g->shape->slotsize - 1));
		return;
	}
	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
	__builtin_prefetch(p + HnswDataOffset(g->shape));
}

void
HnswMemGraphInit(HnswMemGraph *mg, const HnswShape *shape, char *base, uint32 capacity)
{
	mg->g.shape = shape;
	mg->g.nslots = 0;
	mg->g.stable = true;
	mg->g.slot_ptr = mem_slot_ptr;
	mg->g.slot_parts = NULL;
	mg->g.slot_release = mem_slot_release;
	mg->g.prefetch = mem_prefetch;
	mg->base = base;
	mg->capacity = capacity;
}
/* ---------------------------------------------------------------------
 * Reading slots, whichever the graph
 * ---------------------------------------------------------------------
 */

/* A copy of a slot's header; false if the slot is beyond the graph */
bool
HnswReadHeader(HnswGraph *g, uint32 slot, HnswSlotHeader *hdr)
{
	if (slot >= g->nslots)
		return false;
	memcpy(hdr, g->slot_ptr(g, slot, 0, sizeof(HnswSlotHeader)), sizeof(HnswSlotHeader));
	g->slot_release(g);
	return true;
}

/* A copy of a node's element data */
void
HnswReadData(HnswGraph *g, uint32 slot, char *out)
{
	const HnswShape *shape = g->shape;

	memcpy(out, g->slot_ptr(g, slot, HnswDataOffset(shape), shape->datasize), shape->datasize);
	g->slot_release(g);
}

/*
 * The upper slot of node that holds its list for layer (>= 1), and the index
 * of the list's first id in that slot; HNSW_NO_SLOT if the chain is broken
 * (the node was freed and its slots reused under us).
 */
uint32
HnswUpperSlotFor(const HnswShape *shape, HnswGraph *g, uint32 node, int layer, int *index_in_slot)
{
	int			per_slot = shape->upper_capacity / shape->m;
	int			hop = (layer - 1) / per_slot;
	HnswSlotHeader hdr;
	uint32		slot;

	if (!HnswReadHeader(g, node, &hdr) || hdr.kind != HNSW_SLOT_NODE || hdr.level < layer)
		return HNSW_NO_SLOT;
	slot = hdr.upper;
	for (int i = 0;; i++)
	{
		if (slot == HNSW_NO_SLOT || !HnswReadHeader(g, slot, &hdr) ||
			hdr.kind != HNSW_SLOT_UPPER || hdr.u.up.owner != node)
			return HNSW_NO_SLOT;
		if (i == hop)
			break;
		slot = hdr.upper;
	}
	*index_in_slot = ((layer - 1) % per_slot) * shape->m;
	return slot;
}

/* Copy a node's neighbour ids on layer into out; returns how many */
int
HnswReadNeighbours(HnswGraph *g, uint32 slot, int layer, uint32 *out)
{
	const HnswShape *shape = g->shape;
	int			lm = HnswLayerM(shape, layer);
	const uint32 *ids;
	int			n = 0;

	if (slot >= g->nslots)
		return 0;
	if (layer == 0)
	{
		const char *p = g->slot_ptr(g, slot, 0, HnswDataOffset(shape));

		if (((const HnswSlotHeader *) p)->kind == HNSW_SLOT_NODE)
		{
			ids = (const uint32 *) (p + HNSW_NEIGHBOURS_OFFSET);
			while (n < lm && ids[n] != HNSW_NO_SLOT)
			{
				out[n] = ids[n];
				n++;
			}
		}
		g->slot_release(g);
	}
	else
	{
		int			first;
		uint32		upper = HnswUpperSlotFor(shape, g, slot, layer, &first);
		const char *p;

		if (upper == HNSW_NO_SLOT)
			return 0;
		p = g->slot_ptr(g, upper, 0, HNSW_UPPER_IDS_OFFSET + (int) sizeof(uint32) * (first + lm));
		if (((const HnswSlotHeader *) p)->kind == HNSW_SLOT_UPPER &&
			((const HnswSlotHeader *) p)->u.up.owner == slot)
		{
			ids = (const uint32 *) (p + HNSW_UPPER_IDS_OFFSET) + first;
			while (n < lm && ids[n] != HNSW_NO_SLOT)
			{
				out[n] = ids[n];
				n++;
			}
		}
		g->slot_release(g);
	}
	/* ids beyond the graph as we know it are nodes newer than this search */
	for (int i = 0; i < n; i++)
		if (out[i] >= g->nslots)
			out[i--] = out[--n];
	return n;
}

/* ---------------------------------------------------------------------
 * Search (Alg. 2) and neighbour selection (Alg. 4)
 * ---------------------------------------------------------------------
 */

void
HnswSearchInit(HnswSearch *s, HnswGraph *g, const char *query)
{
	memset(s, 0, sizeof(*s));
	s->graph = g;
	s->shape = g->shape;
	s->query = query;
	s->visited_bits = g->nslots + 1024;
	s->visited = palloc0(s->visited_bits / 8 + 1);
	s->touched_cap = 256;
	s->touched = palloc(sizeof(uint32) * s->touched_cap);
}

/* Forget what was visited (between layers, or for a new query) */
void
HnswSearchReset(HnswSearch *s)
{
	for (int i = 0; i < s->ntouched; i++)
		s->visited[s->touched[i] >> 3] = 0;
	s->ntouched = 0;
	if (s->keep_discarded)
		s->discarded.count = 0;
}

void
HnswSearchFree(HnswSearch *s)
{
	pfree(s->visited);
	pfree(s->touched);
	if (s->discarded.items)
		pfree(s->discarded.items);
}

/* Mark a slot visited; false if it already was */
static inline bool
visit(HnswSearch *s, uint32 slot)
{
	uint8		bit = 1 << (slot & 7);

	if (slot >= s->visited_bits)
	{
		/* the graph grew during the search (a build adds nodes as it goes) */
		uint32		bits = Max(slot + 1024, s->visited_bits * 2);

		s->visited = repalloc(s->visited, bits / 8 + 1);
		memset(s->visited + s->visited_bits / 8 + 1, 0, bits / 8 - s->visited_bits / 8);
		s->visited_bits = bits;
	}
	if (s->visited[slot >> 3] & bit)
		return false;
	if (s->visited[slot >> 3] == 0)
	{
		if (s->ntouched == s->touched_cap)
		{
			s->touched_cap *= 2;
			s->touched = repalloc_huge(s->touched, sizeof(uint32) * s->touched_cap);
		}
		s->touched[s->ntouched++] = slot;
	}
	s->visited[slot >> 3] |= bit;
	return true;
}

/*
 * Distance from the query to a node; false if the slot is not a node (freed
 * or an upper slot reached through a stale id).
 */
static inline bool
evaluate(HnswSearch *s, uint32 slot, HnswCandidate *c)
{
	HnswGraph  *g = s->graph;
	const HnswShape *shape = s->shape;
	int			doff = HnswDataOffset(shape);
	int			len1 = shape->slotsize;
	const char *rest = NULL;
	const char *p;
	const HnswSlotHeader *hdr;
	HnswSlotHeader copy;
	bool		ok;

	/* a slot across two pages is read in place, in two pieces */
	if (g->slot_parts)
		p = g->slot_parts(g, slot, 0, shape->slotsize, &len1, &rest);
	else
		p = g->slot_ptr(g, slot, 0, shape->slotsize);
	hdr = (const HnswSlotHeader *) p;
	if (unlikely(rest != NULL && len1 < (int) sizeof(HnswSlotHeader)))
	{
		memcpy(&copy, p, len1);
		memcpy((char *) &copy + len1, rest, sizeof(HnswSlotHeader) - len1);
		hdr = &copy;
	}
	ok = hdr->kind == HNSW_SLOT_NODE;
	if (ok)
	{
		c->slot = slot;
		c->deleted = (hdr->flags & HNSW_NODE_DELETED) != 0;
		if (rest == NULL || len1 >= doff + shape->datasize)
			c->distance = HnswDistance(shape, s->query, p + doff);
		else if (len1 <= doff)
			c->distance = HnswDistance(shape, s->query, rest + (doff - len1));
		else
			c->distance = HnswDistanceSplit(shape, s->query, p + doff, len1 - doff, rest);
	}
	g->slot_release(g);
	s->evaluated++;
	return ok;
}

/* Visit and evaluate an entry point; false if it is not a node */
bool
HnswSearchEnter(HnswSearch *s, uint32 slot, HnswCandidate *c)
{
	if (slot >= s->graph->nslots)
		return false;
	visit(s, slot);
	return evaluate(s, slot, c);
}

/* Remember an evaluated node, for the discarded heap of iterative scans */
static inline void
note_seen(HnswSearch *s, HnswCandidate **seen, int *nseen, int *cap, HnswCandidate c)
{
	if (!s->keep_discarded || c.deleted)
		return;
	if (*nseen == *cap)
	{
		*cap *= 2;
		*seen = repalloc_huge(*seen, sizeof(HnswCandidate) * *cap);
	}
	(*seen)[(*nseen)++] = c;
}

static int
cmp_slots(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return x < y ? -1 : x > y;
}

/*
 * Order candidates by distance.  Ties (duplicates above all) are broken by a
 * hash of the slot id mixed with a seed that differs from list to list: with
 * a fixed order, every list would keep the same few of many equal vectors
 * and the others would lose all their incoming links.
 */
typedef struct TieBreak
{
	uint32		seed;
	const uint32 *slots;		/* position -> slot id, or NULL: .slot is the id */
} TieBreak;

static int
cmp_candidates(const void *a, const void *b, void *arg)
{
	const HnswCandidate *ca = a;
	const HnswCandidate *cb = b;
	const TieBreak *t = arg;
	uint32		sa,
				sb,
				ha,
				hb;

	if (ca->distance != cb->distance)
		return ca->distance < cb->distance ? -1 : 1;
	sa = t->slots ? t->slots[ca->slot] : ca->slot;
	sb = t->slots ? t->slots[cb->slot] : cb->slot;
	ha = murmurhash32(sa ^ t->seed);
	hb = murmurhash32(sb ^ t->seed);
	if (ha != hb)
		return ha < hb ? -1 : 1;
	return sa < sb ? -1 : sa > sb;
}

/*
 * Alg. 2: the ef nearest nodes to the query on a layer, starting from
 * entries (already visited and evaluated).  Writes them to out, nearest
 * first, and returns how many.  Nodes evaluated but not kept go to the
 * discarded heap when the search keeps them (iterative scans).
 */
int
HnswSearchLayer(HnswSearch *s, HnswCandidate *entries, int nentries, int ef, int layer,
				HnswCandidate *out)
{
	HnswGraph  *g = s->graph;
	HnswHeap	cands;
	HnswHeap	w;
	uint32	   *ids = palloc(sizeof(uint32) * 2 * s->shape->m);
	HnswCandidate *seen = NULL;
	int			nseen = 0;
	int			seen_cap = 0;
	int			n;

	if (s->keep_discarded)
	{
		seen_cap = Max(64, ef * 4);
		seen = palloc(sizeof(HnswCandidate) * seen_cap);
	}
	HnswHeapInit(&cands, ef * 4, false);
	HnswHeapInit(&w, ef + 1, true);
	for (int i = 0; i < nentries; i++)
	{
		HnswHeapPush(&cands, entries[i]);
		note_seen(s, &seen, &nseen, &seen_cap, entries[i]);
		if (s->skip_deleted && entries[i].deleted)
			continue;
		HnswHeapPush(&w, entries[i]);
		if (w.count > ef)
			HnswHeapPop(&w);
	}

	while (cands.count > 0)
	{
		HnswCandidate c = HnswHeapPop(&cands);
		int			nn;
		int			k = 0;

		/* every remaining candidate is farther than the kept ones */
		if (w.count >= ef && c.distance > HnswHeapTop(&w).distance)
			break;

		nn = HnswReadNeighbours(g, c.slot, layer, ids);
		for (int i = 0; i < nn; i++)
			if (visit(s, ids[i]))
			{
				ids[k++] = ids[i];
				g->prefetch(g, ids[i], false);
			}

		if (k > 0)
			g->prefetch(g, ids[0], true);
		for (int i = 0; i < k; i++)
		{
			HnswCandidate e;

			if (i + 1 < k)
				g->prefetch(g, ids[i + 1], true);
			if (!evaluate(s, ids[i], &e))
				continue;
			note_seen(s, &seen, &nseen, &seen_cap, e);
			if (w.count < ef || e.distance < HnswHeapTop(&w).distance)
			{
				HnswHeapPush(&cands, e);
				if (s->skip_deleted && e.deleted)
					continue;
				HnswHeapPush(&w, e);
				if (w.count > ef)
					HnswHeapPop(&w);
			}
		}
	}

	n = w.count;
	memcpy(out, w.items, sizeof(HnswCandidate) * n);
	{
		TieBreak	t = {s->tiebreak, NULL};

		qsort_arg(out, n, sizeof(HnswCandidate), cmp_candidates, &t);
	}

	/*
	 * Iterative scans: every node evaluated here and not returned now is kept
	 * for a later round, exactly once (each node is evaluated only once).
	 */
	if (s->keep_discarded)
	{
		uint32	   *kept = palloc(sizeof(uint32) * Max(n, 1));

		for (int i = 0; i < n; i++)
			kept[i] = out[i].slot;
		qsort(kept, n, sizeof(uint32), cmp_slots);
		for (int i = 0; i < nseen; i++)
			if (!bsearch(&seen[i].slot, kept, n, sizeof(uint32), cmp_slots))
				HnswHeapPush(&s->discarded, seen[i]);
		pfree(kept);
		pfree(seen);
	}
	pfree(cands.items);
	pfree(w.items);
	pfree(ids);
	return n;
}

/*
 * Greedy descent (Alg. 1, lines 5-7): from the entry point down to the layer
 * above to_layer with ef = 1.  Writes the entry point for to_layer to ep;
 * false if the graph has no usable entry point.
 */
bool
HnswSearchToLayer(HnswSearch *s, uint32 entry, int entry_level, int to_layer, HnswCandidate *ep)
{
	HnswCandidate c;
	bool		skip = s->skip_deleted;

	if (entry == HNSW_NO_SLOT || !HnswSearchEnter(s, entry, &c))
		return false;
	/* a deleted node still leads the way down */
	s->skip_deleted = false;
	for (int layer = entry_level; layer > to_layer; layer--)
	{
		HnswSearchLayer(s, &c, 1, 1, layer, &c);
		HnswSearchReset(s);
		visit(s, c.slot);
	}
	s->skip_deleted = skip;
	*ep = c;
	return true;
}

/*
 * Alg. 4 without extension or kept pruned connections (as hnswlib does it):
 * walk the candidates nearest first and keep one only if it is nearer to
 * the base than to every one kept so far.  cands are sorted ascending by
 * distance to the base; data[i] is candidate i's element data.  Writes the
 * indexes of the kept candidates to out and returns how many.
 */
int
HnswSelectNeighbours(const HnswShape *shape, HnswCandidate *cands, int ncands,
					 char **data, int mmax, int *out)
{
	int			n = 0;
	int			ndup = 0;

	for (int i = 0; i < ncands && n < mmax; i++)
	{
		bool		good = true;
		bool		dup = false;

		for (int j = 0; j < n; j++)
		{
			if (HnswDistance(shape, data[i], data[out[j]]) < cands[i].distance)
			{
				good = false;
				break;
			}
			if (!dup && memcmp(data[i], data[out[j]], shape->datasize) == 0)
				dup = true;
		}
		/*
		 * Copies of a vector already kept take at most half the list, so a
		 * crowd of identical vectors keeps links to the rest of the graph.
		 */
		if (good && dup && ndup++ >= mmax / 2)
			good = false;
		if (good)
			out[n++] = i;
	}
	return n;
}

/*
 * The neighbour list of base (element data base_data) on a layer with
 * room for mmax, chosen by Alg. 4 from n candidates (slot, data).  Sorts
 * cands by distance to base; writes the chosen slots to out, returns how
 * many.
 */
int
HnswPrune(const HnswShape *shape, uint32 base, const char *base_data, uint32 *slots, char **data,
		  int n, int mmax, uint32 *out)
{
	TieBreak	t = {base, slots};

	HnswCandidate *c = palloc(sizeof(HnswCandidate) * n);
	char	  **d = palloc(sizeof(char *) * n);
	int		   *keep = palloc(sizeof(int) * mmax);
	int			k;

	for (int i = 0; i < n; i++)
	{
		c[i].slot = i;			/* position in slots[] until sorted */
		c[i].distance = HnswDistance(shape, base_data, data[i]);
		c[i].deleted = false;
	}
	qsort_arg(c, n, sizeof(HnswCandidate), cmp_candidates, &t);
	for (int i = 0; i < n; i++)
		d[i] = data[c[i].slot];
	k = HnswSelectNeighbours(shape, c, n, d, mmax, keep);
	/* out may be slots itself: map every index before writing any */
	for (int i = 0; i < k; i++)
		keep[i] = c[keep[i]].slot;
	{
		uint32	   *chosen = palloc(sizeof(uint32) * Max(k, 1));

		for (int i = 0; i < k; i++)
			chosen[i] = slots[keep[i]];
		memcpy(out, chosen, sizeof(uint32) * k);
		pfree(chosen);
	}
	pfree(c);
	pfree(d);
	pfree(keep);
	return k;
}
