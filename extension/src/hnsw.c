/*-------------------------------------------------------------------------
 *
 * hnsw.c
 *	  The hnsw access method's handler, options, settings and cost estimate.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/amapi.h"
#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

#include "hnsw.h"

int			hnsw_ef_search = HNSW_DEFAULT_EF_SEARCH;
int			hnsw_iterative_scan = HNSW_ITERATIVE_OFF;
int			hnsw_max_scan_tuples = 20000;
double		hnsw_scan_mem_multiplier = 1.0;

static relopt_kind hnsw_relopt_kind;

static const struct config_enum_entry iterative_scan_options[] = {
	{"off", HNSW_ITERATIVE_OFF, false},
	{"relaxed_order", HNSW_ITERATIVE_RELAXED, false},
	{"strict_order", HNSW_ITERATIVE_STRICT, false},
	{NULL, 0, false}
};

/* Register the reloptions and the hnsw.* settings (from _PG_init) */
void
HnswInit(void)
{
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m", "Maximum number of connections per node per layer",
					  HNSW_DEFAULT_M, HNSW_MIN_M, HNSW_MAX_M, AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction",
					  "Size of the candidate list while building the graph",
					  HNSW_DEFAULT_EF_CONSTRUCTION, HNSW_MIN_EF_CONSTRUCTION,
					  HNSW_MAX_EF_CONSTRUCTION, AccessExclusiveLock);

	DefineCustomIntVariable("hnsw.ef_search", "Size of the candidate list while searching.",
							"Larger values find more of the true nearest neighbours, more slowly.",
							&hnsw_ef_search, HNSW_DEFAULT_EF_SEARCH,
							HNSW_MIN_EF_SEARCH, HNSW_MAX_EF_SEARCH,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("hnsw.iterative_scan",
							 "Whether a scan goes on past ef_search rows when more are needed.",
							 "off stops after ef_search rows; relaxed_order and strict_order continue "
							 "the search, so filtered queries still return LIMIT rows.",
							 &hnsw_iterative_scan, HNSW_ITERATIVE_OFF, iterative_scan_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.max_scan_tuples",
							"Heap tuples an iterative scan returns at most.",
							NULL, &hnsw_max_scan_tuples, 20000, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("hnsw.scan_mem_multiplier",
							 "Memory an iterative scan may use, as a multiple of work_mem.",
							 NULL, &hnsw_scan_mem_multiplier, 1.0, 1.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("hnsw");
	HnswPlannerInit();
}

/* amoptions */
static bytea *
hnswoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, ef_construction)},
	};

	return (bytea *) build_reloptions(reloptions, validate, hnsw_relopt_kind,
									  sizeof(HnswOptions), tab, lengthof(tab));
}

int
HnswGetM(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts ? opts->m : HNSW_DEFAULT_M;
}

int
HnswGetEfConstruction(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;
	int			m = HnswGetM(index);
	int			ef = opts ? opts->ef_construction : HNSW_DEFAULT_EF_CONSTRUCTION;

	if (ef < 2 * m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m"),
				 errdetail("ef_construction is %d and m is %d.", ef, m)));
	return ef;
}

/*
 * amcostestimate.  The first round of a search evaluates about
 * levels * m + ef_search * m nodes, each on a random page, all before the
 * first row comes out: that is the startup cost.  Each further row costs
 * what a round costs per row, so a LIMIT over a selective WHERE clause,
 * which makes the scan read many rows per row returned, grows expensive
 * and the planner picks another plan when it should.
 */
static void
hnswcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				 Cost *indexStartupCost, Cost *indexTotalCost,
				 Selectivity *indexSelectivity, double *indexCorrelation,
				 double *indexPages)
{
	GenericCosts costs;
	double		tuples = Max(path->indexinfo->tuples, 1.0);
	Relation	index;
	int			m;
	double		levels;
	double		visited;
	double		per_row;

	/* without ORDER BY the index is of no use */
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	index = index_open(path->indexinfo->indexoid, NoLock);
	m = HnswGetM(index);
	index_close(index, NoLock);

	levels = Max(1.0, log(tuples) / log((double) m));
	visited = Min(tuples, levels * m + (double) hnsw_ef_search * m);

	MemSet(&costs, 0, sizeof(costs));
	costs.numIndexTuples = visited;
	genericcostestimate(root, path, loop_count, &costs);

	/* a distance costs more than an index tuple's qual */
	costs.indexTotalCost += visited * cpu_operator_cost * 4;

	per_row = costs.indexTotalCost / Max(1.0, Min(tuples, (double) hnsw_ef_search));
	*indexStartupCost = costs.indexTotalCost;
	*indexTotalCost = costs.indexTotalCost + Max(0.0, tuples - hnsw_ef_search) * per_row;
	*indexSelectivity = 1.0;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}

/* amvalidate: the opclasses are ours and checked by the regression tests */
static bool
hnswvalidate(Oid opclassoid)
{
	return true;
}

/* ambuildphasename */
static char *
hnswbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case HNSW_PHASE_LOAD:
			return "building graph in memory";
		case HNSW_PHASE_WRITE:
			return "writing index pages";
		case HNSW_PHASE_INSERT:
			return "inserting on disk";
		default:
			return NULL;
	}
}

PG_FUNCTION_INFO_V1(hnswhandler);

/* The access method's handler: what CREATE ACCESS METHOD hnsw points to */
Datum
hnswhandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = 2;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = false;
	amroutine->amoptionalkey = true;
	amroutine->amsearcharray = false;
	amroutine->amsearchnulls = false;
	amroutine->amstorage = false;
	amroutine->amclusterable = false;
	amroutine->ampredlocks = false;
	amroutine->amcanparallel = false;
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = false;
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	amroutine->amkeytype = InvalidOid;

	amroutine->ambuild = hnswbuild;
	amroutine->ambuildempty = hnswbuildempty;
	amroutine->aminsert = hnswinsert;
	amroutine->ambulkdelete = hnswbulkdelete;
	amroutine->amvacuumcleanup = hnswvacuumcleanup;
	amroutine->amcanreturn = NULL;
	amroutine->amcostestimate = hnswcostestimate;
	amroutine->amoptions = hnswoptions;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = hnswbuildphasename;
	amroutine->amvalidate = hnswvalidate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = hnswbeginscan;
	amroutine->amrescan = hnswrescan;
	amroutine->amgettuple = hnswgettuple;
	amroutine->amgetbitmap = NULL;
	amroutine->amendscan = hnswendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}
