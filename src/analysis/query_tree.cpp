// pgview_auto — reading a view's query tree (see query_tree.hpp).
#include "analysis/query_tree.hpp"

extern "C" {
#include "utils/typcache.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
}

namespace pgview::analysis {

bool collect_tables_walker(Node *node, List **tables) {
    if (node == nullptr)
        return false;
    if (IsA(node, RangeTblEntry)) {
        auto *rte = reinterpret_cast<RangeTblEntry *>(node);
        // Views' own range tables still name the view (PostgreSQL 15's OLD/NEW
        // entries): only tables and matviews hold rows.
        if (rte->rtekind == RTE_RELATION && rte->relkind != RELKIND_VIEW)
            *tables = list_append_unique_oid(*tables, rte->relid);
        return false;
    }
    if (IsA(node, Query))
        return query_tree_walker(reinterpret_cast<Query *>(node), as_walker(collect_tables_walker),
                                 tables, QTW_EXAMINE_RTES_BEFORE);
    return expression_tree_walker(node, as_walker(collect_tables_walker), tables);
}

bool collect_relations_walker(Node *node, List **relations) {
    if (node == nullptr)
        return false;
    if (IsA(node, RangeTblEntry)) {
        auto *rte = reinterpret_cast<RangeTblEntry *>(node);
        if (OidIsValid(rte->relid))
            *relations = list_append_unique_oid(*relations, rte->relid);
        return false;
    }
    if (IsA(node, Query))
        return query_tree_walker(reinterpret_cast<Query *>(node), as_walker(collect_relations_walker), relations,
                                 QTW_EXAMINE_RTES_BEFORE);
    return expression_tree_walker(node, as_walker(collect_relations_walker), relations);
}

// Every base table read anywhere inside node (range tables, subqueries, CTEs, sublinks).
List *tables_in(Node *node) {
    List *tables = NIL;
    (void) collect_tables_walker(node, &tables);
    return tables;
}


bool volatile_checker(Oid func, void *found) {
    if (func_volatile(func) != PROVOLATILE_VOLATILE)
        return false;
    *static_cast<Oid *>(found) = func;
    return true;
}

bool mutable_checker(Oid func, void *found) {
    if (func_volatile(func) == PROVOLATILE_IMMUTABLE)
        return false;
    *static_cast<Oid *>(found) = func;
    return true;
}

struct FunctionSearch {
    check_function_callback checker;
    Oid found;
};

bool function_walker(Node *node, FunctionSearch *s) {
    if (node == nullptr)
        return false;
    if (check_functions_in_node(node, s->checker, &s->found))
        return true;
    if (IsA(node, Query))
        return query_tree_walker(reinterpret_cast<Query *>(node), as_walker(function_walker), s, 0);
    return expression_tree_walker(node, as_walker(function_walker), s);
}

// The first function in node the checker picks, or InvalidOid.
Oid find_function(Node *node, check_function_callback checker) {
    FunctionSearch s{checker, InvalidOid};
    (void) function_walker(node, &s);
    return s.found;
}



struct Basis {
    List *exprs; // what the expression may be built from
};

bool not_function_walker(Node *node, Basis *b) {
    if (node == nullptr)
        return false;
    ListCell *lc;
    foreach (lc, b->exprs)
        if (equal(node, lfirst(lc)))
            return false;
    if (IsA(node, Var))
        return reinterpret_cast<Var *>(node)->varlevelsup == 0; // an outer reference is a constant here
    if (IsA(node, Aggref) || IsA(node, WindowFunc) || IsA(node, GroupingFunc) || IsA(node, SubLink))
        return true;
    return expression_tree_walker(node, as_walker(not_function_walker), b);
}

// Whether expr is computed from the basis expressions alone (so rows that agree
// on them agree on expr).
bool is_function_of(Node *expr, List *basis) {
    Basis b{basis};
    return !not_function_walker(expr, &b);
}

List *clause_exprs(List *clauses, List *tlist) {
    List *out = NIL;
    ListCell *lc;
    foreach (lc, clauses)
        out = lappend(out, get_sortgroupclause_expr(static_cast<SortGroupClause *>(lfirst(lc)), tlist));
    return out;
}

bool keys_function_of(List *keys, List *basis) {
    ListCell *lc;
    foreach (lc, keys)
        if (!is_function_of(static_cast<Node *>(lfirst(lc)), basis))
            return false;
    return true;
}

const char *window_function_name(Query *q, Index winref) {
    List *funcs = pull_var_clause(reinterpret_cast<Node *>(q->targetList), PVC_INCLUDE_WINDOWFUNCS |
                                                                             PVC_RECURSE_AGGREGATES |
                                                                             PVC_RECURSE_PLACEHOLDERS);
    ListCell *lc;
    foreach (lc, funcs) {
        Node *n = static_cast<Node *>(lfirst(lc));
        if (IsA(n, WindowFunc) && reinterpret_cast<WindowFunc *>(n)->winref == winref)
            return get_func_name(reinterpret_cast<WindowFunc *>(n)->winfnoid);
    }
    return "a window function";
}


Node *strip_coercions(Node *node) {
    for (;;) {
        if (node == nullptr)
            return node;
        if (IsA(node, RelabelType))
            node = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(node)->arg);
        else if (IsA(node, FuncExpr) && reinterpret_cast<FuncExpr *>(node)->funcformat == COERCE_IMPLICIT_CAST &&
                 list_length(reinterpret_cast<FuncExpr *>(node)->args) == 1)
            node = static_cast<Node *>(linitial(reinterpret_cast<FuncExpr *>(node)->args));
        else if (IsA(node, CoerceViaIO) && reinterpret_cast<CoerceViaIO *>(node)->coerceformat == COERCE_IMPLICIT_CAST)
            node = reinterpret_cast<Node *>(reinterpret_cast<CoerceViaIO *>(node)->arg);
        else
            return node;
    }
}

bool is_equality(Oid opno) {
    List *interpretations = get_op_btree_interpretation(opno);
    ListCell *lc;
    foreach (lc, interpretations)
        if (static_cast<OpBtreeInterpretation *>(lfirst(lc))->strategy == BTEqualStrategyNumber)
            return true;
    return false;
}

List *conjuncts_of(Node *quals) {
    if (quals == nullptr)
        return NIL;
    return IsA(quals, List) ? reinterpret_cast<List *>(quals) : make_ands_implicit(reinterpret_cast<Expr *>(quals));
}

Oid default_equality(Oid type) { return lookup_type_cache(type, TYPECACHE_EQ_OPR)->eq_opr; }

Var *plain_var(Node *node) {
    node = strip_coercions(node);
    if (node != nullptr && IsA(node, Var) && reinterpret_cast<Var *>(node)->varlevelsup == 0)
        return reinterpret_cast<Var *>(node);
    return nullptr;
}


// The definition's query with views expanded, as the planner would get it.
Query *rewritten_query(Oid definition) {
    Relation rel = relation_open(definition, AccessShareLock);
    Query *q = static_cast<Query *>(copy_node(get_view_query(rel)));
    relation_close(rel, AccessShareLock);
    AcquireRewriteLocks(q, false, false);
    List *rewritten = QueryRewrite(q);
    if (list_length(rewritten) != 1)
        elog(ERROR, "pgview_auto: the definition of a table view rewrote into %d queries", list_length(rewritten));
    return static_cast<Query *>(linitial(rewritten));
}



} // namespace pgview::analysis
