// pgview_auto — a table view's key from its query's shape (see derived_key.hpp).
#include "analysis/derived_key.hpp"

#include "analysis/join_tree.hpp"
#include "analysis/key_analysis.hpp"
#include "analysis/query_tree.hpp"

extern "C" {
#include "access/genam.h"
#include "access/table.h"
#include "catalog/pg_index.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "tcop/tcopprot.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
}

namespace pgview::analysis {

namespace {

DerivedKey none(const char *why) { return DerivedKey{NIL, nullptr, why, false, false}; }

// The query with its views expanded, as key_analysis reads a definition (a copy).
Query *rewritten_copy(Query *q) {
    auto *copy = static_cast<Query *>(copyObjectImpl(q));
    AcquireRewriteLocks(copy, false, false);
    List *rewritten = QueryRewrite(copy);
    return list_length(rewritten) == 1 ? linitial_node(Query, rewritten) : nullptr;
}

// How well a partition lets changes be applied by key: sources found by key
// (the more the better), then of those the fewer found through a join's key
// query (one more query per change), then the more columns (smaller
// partitions to recompute).
struct Score {
    int by_key = -1, by_join = 0, columns = 0;
    bool better_than(const Score &o) const {
        if (by_key != o.by_key)
            return by_key > o.by_key;
        if (by_join != o.by_join)
            return by_join < o.by_join;
        return columns > o.columns;
    }
};

Score score_of(Query *rewritten, List *names) {
    KeyAnalysis *ka = analyze_query_keys(rewritten, names);
    Score s;
    s.by_key = 0;
    s.columns = list_length(names);
    ListCell *lc;
    foreach (lc, ka->sources) {
        char kind = static_cast<SourceKey *>(lfirst(lc))->kind;
        s.by_key += kind != derive_full;
        s.by_join += kind == derive_join;
    }
    return s;
}

// The candidate among `candidates` (lists of output column names) that lets
// key_analysis find the most sources' changes by key (Score), or NIL when none
// finds any (a key, and its index, would only cost).
List *best_of(Query *rewritten, List *candidates) {
    List *best = NIL;
    Score best_score;
    ListCell *c;
    foreach (c, candidates) {
        Score s = score_of(rewritten, static_cast<List *>(lfirst(c)));
        if (s.by_key > 0 && s.better_than(best_score)) {
            best = static_cast<List *>(lfirst(c));
            best_score = s;
        }
    }
    return best;
}

// A list of names, and each of its names alone.
List *with_singles(List *candidates, List *names) {
    candidates = lappend(candidates, names);
    if (list_length(names) > 1) {
        ListCell *lc;
        foreach (lc, names)
            candidates = lappend(candidates, list_make1(lfirst(lc)));
    }
    return candidates;
}

bool same_names(List *a, List *b) {
    if (list_length(a) != list_length(b))
        return false;
    for (int i = 0; i < list_length(a); i++)
        if (strcmp(static_cast<char *>(list_nth(a, i)), static_cast<char *>(list_nth(b, i))) != 0)
            return false;
    return true;
}

// The partitions a query's rows may be keyed by: output columns that are plain
// columns of one item of FROM (a table, a subquery) never NULL-extended by an
// outer join (a column of an outer join's nullable side would be NULL in rows
// no changed row names): all of that item's such columns, or one of them; all
// plain columns (found by lookup where no changed row names them); for
// a set operation, its columns (each branch's at those positions). At most
// INDEX_MAX_KEYS columns (their index).
List *partition_candidates(Query *q) {
    List *candidates = NIL;
    ListCell *lc;
    if (q->setOperations != nullptr) {
        List *names = NIL;
        foreach (lc, q->targetList) {
            auto *tle = lfirst_node(TargetEntry, lc);
            if (!tle->resjunk && tle->resname != nullptr && list_length(names) < INDEX_MAX_KEYS)
                names = list_append_unique_ptr(names, tle->resname);
        }
        return names == NIL ? NIL : with_singles(candidates, names);
    }
    JoinTree *jt = read_jointree(q);
    List **by_item = static_cast<List **>(palloc0(sizeof(List *) * (jt->nitems + 1)));
    List *all = NIL; // every plain column, NULL-extended or not
    foreach (lc, q->targetList) {
        auto *tle = lfirst_node(TargetEntry, lc);
        if (tle->resjunk || tle->resname == nullptr || !IsA(tle->expr, Var))
            continue;
        // (a join's USING column is its input's, or COALESCE of both for FULL)
        Node *flat = flatten_join_alias_vars(q, reinterpret_cast<Node *>(tle->expr));
        if (!IsA(flat, Var))
            continue;
        auto *v = reinterpret_cast<Var *>(flat);
        int item = static_cast<int>(v->varno);
        if (v->varlevelsup != 0 || v->varattno <= 0 || item > jt->nitems || !jt->in_from[item] ||
            !OidIsValid(default_equality(v->vartype)))
            continue;
        if (list_length(all) < INDEX_MAX_KEYS)
            all = list_append_unique_ptr(all, tle->resname);
        if (jt->ancestors[item] != NIL || list_length(by_item[item]) >= INDEX_MAX_KEYS)
            continue;
        by_item[item] = list_append_unique_ptr(by_item[item], tle->resname);
    }
    for (int item = 1; item <= jt->nitems; item++)
        if (by_item[item] != NIL)
            candidates = with_singles(candidates, by_item[item]);
    // A FULL JOIN's rows have no column that is never NULL-extended: their
    // changes are found by looking the changed values up in the view's rows
    // (row_lookup.hpp), with every plain column as the partition.
    bool known = false;
    foreach (lc, candidates)
        known = known || same_names(static_cast<List *>(lfirst(lc)), all);
    if (all != NIL && !known)
        candidates = lappend(candidates, all);
    return candidates;
}

// The best partition of the rows (partition_candidates, Score), or none.
DerivedKey partition_of(Query *q, const char *why_not_unique) {
    Query *rewritten = rewritten_copy(q);
    List *best = rewritten != nullptr ? best_of(rewritten, partition_candidates(q)) : NIL;
    if (best == NIL)
        return none(psprintf("%s, and no partition of its rows by plain columns lets a change be found by key",
                             why_not_unique));
    return DerivedKey{best, psprintf("its plain columns, not unique (%s)", why_not_unique), nullptr, true, false};
}

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

// (A unique key stays the key even where a coarser partition would let more
// sources' changes be found by key: its unique index is the table's primary
// key, which ORMs map the table by.)
DerivedKey derive_key(Query *q) {
    if (q->commandType != CMD_SELECT || q->utilityStmt != nullptr)
        return none("it is not a SELECT");
    if (q->setOperations != nullptr)
        return partition_of(q, "it is a UNION, INTERSECT or EXCEPT");
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
        return DerivedKey{names, "its GROUP BY", nullptr, false, false};
    }
    if (q->hasAggs)
        return DerivedKey{NIL, "its aggregates without GROUP BY (one row)", nullptr, false, true};
    if (q->distinctClause != NIL && !q->hasDistinctOn) {
        List *names = NIL;
        ListCell *lc;
        foreach (lc, q->targetList) {
            auto *tle = lfirst_node(TargetEntry, lc);
            if (!tle->resjunk && tle->resname != nullptr)
                names = lappend(names, tle->resname);
        }
        return DerivedKey{names, "its DISTINCT", nullptr, false, false};
    }
    if (q->limitCount != nullptr || q->limitOffset != nullptr || q->hasDistinctOn)
        // (still unique on the tables' keys, but a change moves rows of other keys in or out)
        return none("LIMIT, OFFSET or DISTINCT ON choose rows by other rows");
    if (q->jointree == nullptr || q->jointree->fromlist == NIL)
        return none("it reads no table: no write changes it, only its functions can");
    List *rtis = NIL;
    if (!inner_tables(q, reinterpret_cast<Node *>(q->jointree), &rtis) || rtis == NIL)
        return partition_of(q, "it reads something other than tables through inner joins (an outer join, a "
                               "view, a subquery, a function), and has no GROUP BY or DISTINCT");
    List *names = NIL;
    ListCell *lc;
    foreach (lc, rtis) {
        RangeTblEntry *rte = rt_fetch(lfirst_int(lc), q->rtable);
        List *pk = primary_key_of(rte->relid);
        if (pk == NIL)
            return partition_of(q, psprintf("table %s has no primary key", get_rel_name(rte->relid)));
        ListCell *a;
        foreach (a, pk) {
            const char *out = output_of(q, lfirst_int(lc), static_cast<AttrNumber>(lfirst_int(a)));
            if (out == nullptr)
                return partition_of(q, psprintf("the primary key of %s is not in its select list (as plain "
                                                "columns)",
                                                get_rel_name(rte->relid)));
            names = list_append_unique_ptr(names, const_cast<char *>(out));
        }
    }
    return DerivedKey{names,
                      list_length(rtis) == 1 ? "the primary key of the table it reads"
                                             : "the primary keys of the tables it joins",
                      nullptr, false, false};
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
