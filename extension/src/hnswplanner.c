/*-------------------------------------------------------------------------
 *
 * hnswplanner.c
 *	  A planner hook that spares a scan the distances nobody reads.
 *
 * For SELECT id FROM t ORDER BY v <-> $1 LIMIT k the plan is a Limit over
 * an index scan whose target list carries the ORDER BY expression as a
 * hidden (resjunk) column: the executor computes v <-> $1 for every row the
 * index returns, reading and de-TOASTing each row's vector, only to throw
 * the value away, since the index already returned the rows in order.  For
 * a 784-dimension column that was a sixth of a query's time (HNSW-NOTES.md).
 *
 * After the standard planner has run, when the plan is exactly an hnsw index
 * scan, or a Limit (not WITH TIES, which compares the values) directly over
 * one, a hidden column that is one of the scan's ORDER BY expressions is
 * replaced by a NULL constant of its type.  A distance the query selects is
 * visible, not resjunk, and is computed as before.  EXPLAIN VERBOSE shows the
 * NULL in the scan's output list.
 *
 * The hook is installed when the library is loaded: for most queries before
 * planning, when the parser reads a vector literal or a vector parameter is
 * bound; a session whose first use of the library is planning over the index
 * (with no vector input) misses it for that one plan.  A prepared statement
 * is planned again once generic.  session_preload_libraries = 'vecdb' makes
 * every plan have it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amapi.h"
#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/planner.h"
#include "utils/syscache.h"

#include "hnsw.h"

static planner_hook_type prev_planner_hook = NULL;

/*
 * Is the index one of ours?  Known by its access method's routines, not by
 * the name "hnsw", which pgvector's access method also has.
 */
static bool
is_our_index(Oid indexid)
{
	HeapTuple	tuple;
	Oid			am;
	IndexAmRoutine *routine;
	bool		result;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(indexid));
	if (!HeapTupleIsValid(tuple))
		return false;
	am = ((Form_pg_class) GETSTRUCT(tuple))->relam;
	ReleaseSysCache(tuple);
	routine = GetIndexAmRoutineByAmId(am, true);
	result = routine != NULL && routine->amgettuple == hnswgettuple;
	if (routine)
		pfree(routine);
	return result;
}

/* Replace the hidden ORDER BY distances of a plan of the shape above by NULLs */
static void
skip_hidden_distances(PlannedStmt *stmt)
{
	Plan	   *top = stmt->planTree;
	Plan	   *scan = top;
	IndexScan  *is;
	ListCell   *lc;

	if (stmt->commandType != CMD_SELECT || top == NULL)
		return;
	if (IsA(top, Limit))
	{
		if (((Limit *) top)->limitOption == LIMIT_OPTION_WITH_TIES)
			return;
		scan = outerPlan(top);
	}
	if (scan == NULL || !IsA(scan, IndexScan))
		return;
	is = (IndexScan *) scan;
	if (is->indexorderbyorig == NIL ||
		list_length(top->targetlist) != list_length(scan->targetlist) ||
		!is_our_index(is->indexid))
		return;

	foreach(lc, top->targetlist)
	{
		TargetEntry *shown = lfirst_node(TargetEntry, lc);
		TargetEntry *tle;

		if (!shown->resjunk)
			continue;
		tle = list_nth_node(TargetEntry, scan->targetlist, foreach_current_index(lc));
		if (IsA(tle->expr, Const) || !list_member(is->indexorderbyorig, tle->expr))
			continue;
		tle->expr = (Expr *) makeNullConst(exprType((Node *) tle->expr),
										   exprTypmod((Node *) tle->expr),
										   exprCollation((Node *) tle->expr));
	}
}

/* planner_hook: the standard planner (or the previous hook), then the above */
static PlannedStmt *
hnsw_planner(Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams)
{
	PlannedStmt *stmt;

	if (prev_planner_hook)
		stmt = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	else
		stmt = standard_planner(parse, query_string, cursorOptions, boundParams);
	skip_hidden_distances(stmt);
	return stmt;
}

/* Install the hook (at library load) */
void
HnswPlannerInit(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = hnsw_planner;
}
