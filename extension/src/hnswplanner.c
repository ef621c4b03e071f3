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
 * The hook is installed when the library is loaded, which for a new session
 * happens during the planning of its first statement that uses the index; a
 * prepared statement is planned again once generic, so the hook only misses
 * a session's first plan (session_preload_libraries = 'vecdb' avoids that).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/planner.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "catalog/pg_class.h"

#include "hnsw.h"

static planner_hook_type prev_planner_hook = NULL;

/* Is the index an hnsw index? */
static bool
is_hnsw_index(Oid indexid)
{
	Oid			am = get_am_oid("hnsw", true);
	HeapTuple	tuple;
	bool		result;

	if (!OidIsValid(am))
		return false;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(indexid));
	if (!HeapTupleIsValid(tuple))
		return false;
	result = ((Form_pg_class) GETSTRUCT(tuple))->relam == am;
	ReleaseSysCache(tuple);
	return result;
}

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
		!is_hnsw_index(is->indexid))
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

void
HnswPlannerInit(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = hnsw_planner;
}
