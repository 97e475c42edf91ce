// pgview_auto — a table view's key from its query's shape (see derived_key.hpp).
#include "analysis/derived_key.hpp"

extern "C" {
#include "access/genam.h"
#include "access/table.h"
#include "catalog/pg_index.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parsetree.h"
#include "tcop/tcopprot.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
}

namespace pgview::analysis {

namespace {

DerivedKey none(const char *why) { return DerivedKey{NIL, nullptr, why}; }

// The output column that is exactly this table's column (varno rti), or nullptr.
const char *output_of(Query *q, Index rti, AttrNumber attno) {
    ListCell *lc;
    foreach (lc, q->targetList) {
        auto *tle = lfirst_node(TargetEntry, lc);
        if (tle->resjunk || tle->resname == nullptr || !IsA(tle->expr, Var))
            continue;
        auto *v = reinterpret_cast<Var *>(tle->expr);
        if (v->varno == static_cast<int>(rti) && v->varattno == attno && v->varlevelsup == 0)
            return tle->resname;
    }
    return nullptr;
}

// The range table entries the FROM clause reads, through inner joins only; false
// when it holds anything else (an outer join, a subquery, a function...).
bool inner_tables(Query *q, Node *node, List **rtis) {
    if (node == nullptr)
        return true;
    if (IsA(node, RangeTblRef)) {
        int rti = castNode(RangeTblRef, node)->rtindex;
        RangeTblEntry *rte = rt_fetch(rti, q->rtable);
        if (rte->rtekind != RTE_RELATION ||
            (rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE))
            return false;
        *rtis = lappend_int(*rtis, rti);
        return true;
    }
    if (IsA(node, JoinExpr)) {
        auto *j = castNode(JoinExpr, node);
        return j->jointype == JOIN_INNER && inner_tables(q, j->larg, rtis) && inner_tables(q, j->rarg, rtis);
    }
    if (IsA(node, FromExpr)) {
        ListCell *lc;
        foreach (lc, castNode(FromExpr, node)->fromlist)
            if (!inner_tables(q, static_cast<Node *>(lfirst(lc)), rtis))
                return false;
        return true;
    }
    return false;
}

// The primary key's columns of a table (its attnums), NIL when it has none.
List *primary_key_of(Oid relid) {
    Relation rel = table_open(relid, AccessShareLock);
    Oid pk = RelationGetPrimaryKeyIndex(rel);
    List *cols = NIL;
    if (OidIsValid(pk)) {
        Relation index = index_open(pk, AccessShareLock);
        for (int i = 0; i < index->rd_index->indnkeyatts; i++)
            cols = lappend_int(cols, index->rd_index->indkey.values[i]);
        index_close(index, AccessShareLock);
    }
    table_close(rel, AccessShareLock);
    return cols;
}

} // namespace

DerivedKey derive_key(Query *q) {
    if (q->commandType != CMD_SELECT || q->utilityStmt != nullptr)
        return none("it is not a SELECT");
    if (q->setOperations != nullptr)
        return none("it is a UNION, INTERSECT or EXCEPT");
    if (q->hasTargetSRFs)
        return none("a set-returning function in its select list can repeat rows");
    if (q->groupingSets != NIL)
        return none("GROUPING SETS, ROLLUP and CUBE give rows of several groupings");
    if (q->groupClause != NIL) {
        List *columns = NIL;
        ListCell *lc;
        foreach (lc, q->groupClause) {
            TargetEntry *tle = get_sortgroupclause_tle(lfirst_node(SortGroupClause, lc), q->targetList);
            if (tle->resjunk || tle->resname == nullptr)
                return none("some GROUP BY expression is not a column of its select list");
            columns = list_append_unique(columns, makeString(tle->resname));
        }
        List *names = NIL;
        foreach (lc, columns)
            names = lappend(names, strVal(lfirst(lc)));
        return DerivedKey{names, "its GROUP BY", nullptr};
    }
    if (q->hasAggs)
        return none("an aggregate without GROUP BY gives one row");
    if (q->distinctClause != NIL && !q->hasDistinctOn) {
        List *names = NIL;
        ListCell *lc;
        foreach (lc, q->targetList) {
            auto *tle = lfirst_node(TargetEntry, lc);
            if (!tle->resjunk && tle->resname != nullptr)
                names = lappend(names, tle->resname);
        }
        return DerivedKey{names, "its DISTINCT", nullptr};
    }
    if (q->limitCount != nullptr || q->limitOffset != nullptr || q->hasDistinctOn)
        // (still unique on the tables' keys, but a change moves rows of other keys in or out)
        return none("LIMIT, OFFSET or DISTINCT ON choose rows by other rows");
    if (q->jointree == nullptr || q->jointree->fromlist == NIL)
        return none("it reads no table: no write changes it, only its functions can");
    List *rtis = NIL;
    if (!inner_tables(q, reinterpret_cast<Node *>(q->jointree), &rtis) || rtis == NIL)
        return none("it reads something other than tables through inner joins (an outer join, a view, a "
                    "subquery, a function), and has no GROUP BY or DISTINCT");
    List *names = NIL;
    ListCell *lc;
    foreach (lc, rtis) {
        RangeTblEntry *rte = rt_fetch(lfirst_int(lc), q->rtable);
        List *pk = primary_key_of(rte->relid);
        if (pk == NIL)
            return none(psprintf("table %s has no primary key", get_rel_name(rte->relid)));
        ListCell *a;
        foreach (a, pk) {
            const char *out = output_of(q, lfirst_int(lc), static_cast<AttrNumber>(lfirst_int(a)));
            if (out == nullptr)
                return none(psprintf("the primary key of %s is not in its select list (as plain columns)",
                                     get_rel_name(rte->relid)));
            names = list_append_unique_ptr(names, const_cast<char *>(out));
        }
    }
    return DerivedKey{names, list_length(rtis) == 1 ? "the primary key of the table it reads"
                                                    : "the primary keys of the tables it joins", nullptr};
}

DerivedKey derive_key_of_text(const char *sql) {
    List *raw = pg_parse_query(sql);
    if (list_length(raw) != 1)
        return none("it is not one statement");
#if PG_VERSION_NUM >= 150000
    Query *q = parse_analyze_fixedparams(linitial_node(RawStmt, raw), sql, nullptr, 0, nullptr);
#else
    Query *q = parse_analyze(linitial_node(RawStmt, raw), sql, nullptr, 0, nullptr);
#endif
    return derive_key(q);
}

} // namespace pgview::analysis
