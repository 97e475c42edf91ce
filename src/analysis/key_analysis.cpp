// pgview_auto — deriving keys from the definition's query tree (see key_analysis.hpp).
//
// The walk goes down the rewritten query (views expanded into subqueries) with
// the key as a list of expressions valid at each level. At a level, the checks
// that make a row depend only on rows of its own key come first (GROUP BY,
// windows, DISTINCT ON, LIMIT, volatile functions); then each item of the FROM
// list is looked at as the place a change comes from: a table gets its
// derivation, a subquery is entered with the key rewritten into its output
// columns. Equalities are used only where they hold in every output row that
// contains the changed row (see usable()).
#include "analysis/key_analysis.hpp"

#include "analysis/join_tree.hpp"
#include "analysis/key_description.hpp"
#include "analysis/not_null.hpp"
#include "analysis/query_tree.hpp"
#include "analysis/row_lookup.hpp"

extern "C" {
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

namespace {


// ---------------------------------------------------------------- results

struct Analysis {
    KeyAnalysis *out;
    List *queries; // the queries being walked, innermost first (for CTE references)
};

void add(Analysis *a, SourceKey *sk) { a->out->sources = lappend(a->out->sources, sk); }



void full_for(Analysis *a, List *tables, const char *reason) {
    ListCell *lc;
    foreach (lc, tables) {
        SourceKey *sk = new_source(lfirst_oid(lc), derive_full);
        sk->reason = pstrdup(reason);
        add(a, sk);
    }
}

void full_for_all(Analysis *a, Query *q, const char *reason) {
    full_for(a, tables_in(reinterpret_cast<Node *>(q)), reason);
}

// A relation read by the query whose changes no trigger captures (a
// materialized view, a foreign table): refreshed in full, why. nullptr: a table.
SourceKey *uncaptured_source(Oid relid) {
    char relkind = get_rel_relkind(relid);
    if (relkind != RELKIND_MATVIEW && relkind != RELKIND_FOREIGN_TABLE)
        return nullptr;
    SourceKey *sk = new_source(relid, derive_full);
    sk->reason = pstrdup(relkind == RELKIND_MATVIEW
                             ? "a materialized view changes only by REFRESH: its refresh cascades in full"
                             : "a foreign table's changed rows cannot be captured");
    return sk;
}

// ---------------------------------------------------------------- sublinks

SourceKey *direct_source(Oid relid, int t, List *keys);

// The inner column of a subquery's correlation with the outer query: a conjunct
// `inner.y = outer.x` of its WHERE (or, for IN / = ANY, the test `outer.x =
// inner.y` with y its output column), over its one table. *outer gets x.
Var *correlation(SubLink *sublink, Query *sub, Var **outer) {
    auto inner_var = [&](Node *n) -> Var * {
        Var *v = plain_var(n);
        return v != nullptr && v->varlevelsup == 0 && v->varno == 1 && v->varattno > 0 ? v : nullptr;
    };
    auto outer_var = [](Node *n, int levelsup) -> Var * {
        n = strip_coercions(n); // (plain_var takes this level's Vars only)
        Var *v = n != nullptr && IsA(n, Var) ? reinterpret_cast<Var *>(n) : nullptr;
        return v != nullptr && static_cast<int>(v->varlevelsup) == levelsup && v->varattno > 0 ? v : nullptr;
    };
    // (Matched by its output, the subquery's rows must each stand alone: an
    // aggregate, LIMIT or window over all of b lets any row change the set.)
    bool plain = !sub->hasAggs && sub->groupClause == NIL && !sub->hasWindowFuncs && sub->limitCount == nullptr &&
                 sub->limitOffset == nullptr && sub->distinctClause == NIL && !sub->hasTargetSRFs;
    if (plain && sublink->subLinkType == ANY_SUBLINK && sublink->testexpr != nullptr &&
        IsA(sublink->testexpr, OpExpr)) {
        auto *op = reinterpret_cast<OpExpr *>(sublink->testexpr);
        if (list_length(op->args) == 2 && is_equality(op->opno) && IsA(lsecond(op->args), Param) &&
            reinterpret_cast<Param *>(lsecond(op->args))->paramid == 1 && list_length(sub->targetList) >= 1) {
            Var *x = outer_var(static_cast<Node *>(linitial(op->args)), 0);
            Var *y = inner_var(reinterpret_cast<Node *>(linitial_node(TargetEntry, sub->targetList)->expr));
            if (x != nullptr && y != nullptr && x->vartype == y->vartype) {
                *outer = x;
                return y;
            }
        }
    }
    Node *quals = sub->jointree->quals;
    if (quals == nullptr)
        return nullptr;
    List *conjuncts = conjuncts_of(quals);
    ListCell *lc;
    foreach (lc, conjuncts) {
        auto *c = static_cast<Node *>(lfirst(lc));
        if (!IsA(c, OpExpr) || list_length(reinterpret_cast<OpExpr *>(c)->args) != 2 ||
            !is_equality(reinterpret_cast<OpExpr *>(c)->opno))
            continue;
        auto *op = reinterpret_cast<OpExpr *>(c);
        for (int side = 0; side < 2; side++) {
            Var *y = inner_var(static_cast<Node *>(list_nth(op->args, side)));
            Var *x = outer_var(static_cast<Node *>(list_nth(op->args, 1 - side)), 1);
            if (x != nullptr && y != nullptr && x->vartype == y->vartype) {
                *outer = x;
                return y;
            }
        }
    }
    return nullptr;
}

// A subquery over one table correlated with FROM item `item` of q by an
// equality (see correlation()).
struct Correlated {
    Oid relid; // the subquery's table
    Var *x;    // the outer column (of item x->varno)
    Var *y;    // the subquery table's column
};

// A subquery in WHERE or SELECT over one table, correlated by an equality
// (EXISTS (SELECT FROM b WHERE b.y = a.x ...), a.x IN (SELECT b.y FROM b ...)
// with b.y NOT NULL,
// (SELECT ... FROM b WHERE b.y = a.x)): its value for an outer row depends only
// on the rows of b whose y equals the row's x, so a change to b's rows of y = v
// touches the outer rows of x = v only. filter: the sublink is a conjunct of
// the query's WHERE. false: not such a subquery.
bool correlate(Query *q, const JoinTree *jt, SubLink *sublink, bool filter, Correlated *out) {
    if (sublink->subselect == nullptr || !IsA(sublink->subselect, Query))
        return false;
    auto *sub = reinterpret_cast<Query *>(sublink->subselect);
    if (sub->setOperations != nullptr || sub->cteList != NIL || sub->hasSubLinks || sub->jointree == nullptr ||
        list_length(sub->jointree->fromlist) != 1 || !IsA(linitial(sub->jointree->fromlist), RangeTblRef) ||
        reinterpret_cast<RangeTblRef *>(linitial(sub->jointree->fromlist))->rtindex != 1 ||
        list_length(sub->rtable) != 1)
        return false;
    RangeTblEntry *rte = rt_fetch(1, sub->rtable);
    if (rte->rtekind != RTE_RELATION || (rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE))
        return false;
    if (find_function(reinterpret_cast<Node *>(sub), volatile_checker) != InvalidOid)
        return false;
    Var *x = nullptr;
    Var *y = correlation(sublink, sub, &x);
    int item = x != nullptr ? static_cast<int>(x->varno) : 0;
    if (y == nullptr || item < 1 || item > jt->nitems || !jt->in_from[item])
        return false;
    // x IN (SELECT y ...) is NULL, not false, for every outer row once some y is
    // NULL, and for an outer row whose x is NULL once any row is there (which
    // NOT IN and a select list tell apart; a WHERE filters both out): only a
    // NOT NULL y, and a NOT NULL x or a plain WHERE conjunct, keep a change local.
    if (sublink->subLinkType == ANY_SUBLINK) {
        RangeTblEntry *outer = rt_fetch(item, q->rtable);
        bool x_not_null = outer->rtekind == RTE_RELATION && jt->ancestors[item] == NIL &&
                          attribute_not_null(outer->relid, x->varattno);
        if (!attribute_not_null(rte->relid, y->varattno) || (!x_not_null && !filter))
            return false;
    }
    *out = {rte->relid, x, y};
    return true;
}

// When the key is a function of x alone, b's changed rows give it (x replaced
// by b.y). nullptr: not so.
SourceKey *correlated_source(Query *q, const JoinTree *jt, List *keys, SubLink *sublink, bool filter) {
    Correlated c;
    if (keys == NIL || !correlate(q, jt, sublink, filter, &c))
        return nullptr;
    Var *x = c.x, *y = c.y;
    int item = static_cast<int>(x->varno);
    // The key over the outer item's row, then x replaced by the inner column.
    List *over_item = keys_in(jt, keys, item);
    if (over_item == NIL)
        return nullptr;
    List *exprs = NIL;
    ListCell *lc;
    foreach (lc, over_item) {
        Node *k = static_cast<Node *>(lfirst(lc));
        List *vars = pull_var_clause(k, 0);
        ListCell *vc;
        foreach (vc, vars) {
            Var *v = static_cast<Var *>(lfirst(vc));
            if (static_cast<int>(v->varno) != item || v->varattno != x->varattno)
                return nullptr; // the key needs more of the outer row than x
        }
        // (every Var is x, of y's type: it becomes y of the inner table's row, item 1)
        k = static_cast<Node *>(copy_node(k));
        foreach (vc, pull_var_clause(k, 0)) {
            Var *v = static_cast<Var *>(lfirst(vc));
            v->varno = 1;
            v->varattno = y->varattno;
            v->varnosyn = 0;
            v->varattnosyn = 0;
        }
        exprs = lappend(exprs, k);
    }
    SourceKey *sk = direct_source(c.relid, 1, exprs);
    RangeTblEntry *outer = rt_fetch(item, q->rtable);
    sk->key_from = psprintf("%s (through the subquery's %s.%s = %s.%s)", sk->key_from, rel_name(c.relid),
                            column_name(c.relid, y->varattno), outer->eref->aliasname,
                            get_rte_attribute_name(outer, x->varattno));
    return sk;
}

// A correlated subquery of the top query's WHERE or select list whose outer
// column x the view outputs: b's changed rows of y = v alter only the rows
// whose x is v (a row whose x is NULL matches no b row, changed or not), which
// a lookup in the view's rows finds. nullptr: not so.
SourceKey *correlated_lookup(Query *q, const JoinTree *jt, SubLink *sublink, bool filter) {
    Correlated c;
    if (!correlate(q, jt, sublink, filter, &c))
        return nullptr;
    return lookup_correlated(q, c.relid, c.x, c.y->varattno);
}

struct SublinkSearch {
    Analysis *a;
    Query *q;
    const JoinTree *jt;
    List *keys;
    List *lookup_ok; // SubLink *s of the top query's WHERE and select list
    List *filters;   // SubLink *s that are conjuncts of this level's WHERE
};

bool sublink_walker(Node *node, SublinkSearch *s) {
    if (node == nullptr)
        return false;
    if (IsA(node, SubLink)) {
        auto *sublink = reinterpret_cast<SubLink *>(node);
        bool filter = list_member_ptr(s->filters, sublink);
        SourceKey *sk = correlated_source(s->q, s->jt, s->keys, sublink, filter);
        if (sk == nullptr && list_member_ptr(s->lookup_ok, sublink))
            sk = correlated_lookup(s->q, s->jt, sublink, filter);
        if (sk != nullptr) {
            add(s->a, sk);
            return false;
        }
        List *tables = tables_in(sublink->subselect);
        ListCell *lc;
        foreach (lc, tables) {
            SourceKey *sk = new_source(lfirst_oid(lc), derive_full);
            sk->reason = psprintf("a subquery in WHERE, SELECT or HAVING reads %s: a change to it may alter "
                                  "every row", rel_name(lfirst_oid(lc)));
            add(s->a, sk);
        }
        return false; // the subquery's own sublinks read tables counted above
    }
    return expression_tree_walker(node, as_walker(sublink_walker), s);
}

// The sublinks that are conjuncts of a query's WHERE: as they are (plain),
// under NOT (negated), or both.
List *where_sublinks(Query *q, bool plain, bool negated) {
    List *out = NIL;
    List *conjuncts = conjuncts_of(q->jointree != nullptr ? q->jointree->quals : nullptr);
    ListCell *lc;
    foreach (lc, conjuncts) {
        Node *c = static_cast<Node *>(lfirst(lc));
        bool is_not = IsA(c, BoolExpr) && reinterpret_cast<BoolExpr *>(c)->boolop == NOT_EXPR;
        if (is_not)
            c = static_cast<Node *>(linitial(reinterpret_cast<BoolExpr *>(c)->args));
        if (IsA(c, SubLink) && (is_not ? negated : plain))
            out = lappend(out, c);
    }
    return out;
}

// The sublinks of the top query's WHERE conjuncts and select list (where a
// row whose correlation column is NULL-extended matches nothing).
List *top_sublinks(Query *q) {
    List *out = where_sublinks(q, true, true);
    ListCell *lc;
    foreach (lc, q->targetList) {
        Node *e = reinterpret_cast<Node *>(lfirst_node(TargetEntry, lc)->expr);
        if (IsA(e, SubLink))
            out = lappend(out, e);
    }
    return out;
}

// Tables read by sublinks of this query level (not inside its subqueries in FROM,
// which are walked on their own) are refreshed in full, but those of a subquery
// correlated by an equality that maps their changes to the key (or, in the top
// query, to a lookup of the view's rows).
void sublinks_full(Analysis *a, Query *q, const JoinTree *jt, List *keys, bool top) {
    SublinkSearch s{a, q, jt, keys, top ? top_sublinks(q) : NIL, where_sublinks(q, true, false)};
    (void) query_tree_walker(q, as_walker(sublink_walker), &s, QTW_IGNORE_RANGE_TABLE);
    // Function, VALUES and table-function items of FROM may hold sublinks too.
    ListCell *lc;
    foreach (lc, q->rtable) {
        auto *rte = static_cast<RangeTblEntry *>(lfirst(lc));
        if (rte->rtekind == RTE_FUNCTION || rte->rtekind == RTE_VALUES || rte->rtekind == RTE_TABLEFUNC)
            (void) range_table_entry_walker(rte, as_walker(sublink_walker), &s, 0);
    }
}

// ---------------------------------------------------------------- joins

// ---------------------------------------------------------------- derivations

SourceKey *direct_source(Oid relid, int t, List *keys) {
    SourceKey *sk = new_source(relid, derive_direct);
    StringInfoData from;
    initStringInfo(&from);
    ListCell *lc;
    foreach (lc, keys) {
        Node *k = static_cast<Node *>(lfirst(lc));
        ChangeVarNodes(k, t, 1, 0);
        sk->exprs = lappend(sk->exprs, k);
        appendStringInfo(&from, "%s%s", from.len > 0 ? ", " : "", deparse_on(k, relid));
    }
    sk->key_from = from.data;
    // The index a keyed refresh finds this table's rows by: on the first key
    // column computed from it (a constant key, a UNION branch's label, needs none).
    foreach (lc, sk->exprs)
        if (contain_var_clause(static_cast<Node *>(lfirst(lc)))) {
            sk->index_hint = missing_index(relid, static_cast<Node *>(lfirst(lc)));
            break;
        }
    return sk;
}

void walk(Analysis *a, Query *q, List *keys);

// Leaves of a set operation tree (range table indexes of the branch subqueries).
void setop_leaves(Node *node, List **out) {
    if (IsA(node, RangeTblRef))
        *out = lappend_int(*out, reinterpret_cast<RangeTblRef *>(node)->rtindex);
    else if (IsA(node, SetOperationStmt)) {
        setop_leaves(reinterpret_cast<SetOperationStmt *>(node)->larg, out);
        setop_leaves(reinterpret_cast<SetOperationStmt *>(node)->rarg, out);
    }
}

void walk_setop(Analysis *a, Query *q, List *keys) {
    // The key must be output columns of the set operation (Vars of its first
    // branch, by position); each branch is walked with its own columns at those positions.
    List *positions = NIL;
    ListCell *lc;
    foreach (lc, keys) {
        Var *v = plain_var(static_cast<Node *>(lfirst(lc)));
        if (v == nullptr) {
            full_for_all(a, q, "the key is computed over a UNION, INTERSECT or EXCEPT instead of being one of "
                               "its columns");
            return;
        }
        positions = lappend_int(positions, v->varattno);
    }
    List *leaves = NIL;
    setop_leaves(q->setOperations, &leaves);
    foreach (lc, leaves) {
        RangeTblEntry *rte = rt_fetch(lfirst_int(lc), q->rtable);
        List *branch_keys = NIL;
        ListCell *p;
        foreach (p, positions)
            branch_keys = lappend(branch_keys,
                                  copy_node(static_cast<TargetEntry *>(list_nth(rte->subquery->targetList,
                                                                                 lfirst_int(p) - 1))->expr));
        walk(a, rte->subquery, branch_keys);
    }
}

// The query a CTE reference names (levelsup queries out from q).
CommonTableExpr *find_cte(Analysis *a, RangeTblEntry *rte) {
    Query *owner = static_cast<Query *>(list_nth(a->queries, static_cast<int>(rte->ctelevelsup)));
    ListCell *lc;
    foreach (lc, owner->cteList) {
        auto *cte = static_cast<CommonTableExpr *>(lfirst(lc));
        if (strcmp(cte->ctename, rte->ctename) == 0)
            return cte;
    }
    return nullptr;
}

// A subquery (or CTE) item: the key rewritten into its output columns, then walked inside.
void walk_subquery(Analysis *a, const JoinTree *jt, int s, RangeTblEntry *rte, Query *inner, const char *name,
                   List *keys) {
    List *mapped = keys_in(jt, keys, s);
    if (mapped == NIL) {
        full_for_all(a, inner, psprintf("the key is not found from the rows of subquery %s (no equality of joins "
                                        "makes its columns the key)", name));
        return;
    }
    // Vars of item s are its output columns: replace them by the columns' expressions.
    List *inner_keys = NIL;
    ListCell *lc;
    foreach (lc, mapped) {
        Node *k = static_cast<Node *>(lfirst(lc));
        List *vars = pull_var_clause(k, PVC_RECURSE_AGGREGATES | PVC_RECURSE_WINDOWFUNCS | PVC_RECURSE_PLACEHOLDERS);
        ListCell *vc;
        foreach (vc, vars) {
            Var *v = static_cast<Var *>(lfirst(vc));
            if (static_cast<int>(v->varno) != s || v->varattno <= 0) {
                full_for_all(a, inner, psprintf("the key is not found from the rows of subquery %s", name));
                return;
            }
        }
        inner_keys = lappend(inner_keys, k);
    }
    List *replaced = NIL;
    foreach (lc, inner_keys)
        replaced = lappend(replaced, ReplaceVarsFromTargetList(static_cast<Node *>(lfirst(lc)), s, 0, rte,
                                                               inner->targetList, REPLACEVARS_REPORT_ERROR, 0,
                                                               nullptr));
    walk(a, inner, replaced);
}

// Item i of the top query, a subquery or CTE whose walk (the sources from
// `before` on) left some source in full: a lookup of the view's rows instead,
// when one bounds its changes (row_lookup.hpp).
void lookup_if_full(Analysis *a, Query *q, int i, int before) {
    bool full = false;
    for (int s = before; s < list_length(a->out->sources); s++)
        full = full || static_cast<SourceKey *>(list_nth(a->out->sources, s))->kind == derive_full;
    SourceKey *sk = full ? lookup_source(q, i) : nullptr;
    if (sk == nullptr)
        return;
    a->out->sources = list_truncate(a->out->sources, before);
    add(a, sk);
}

// A key no changed row names (from an outer join's nullable side): every item
// of the top query's FROM by a lookup of the view's rows or in full, and the
// sources its subqueries in WHERE and SELECT found from the key (from `before`
// on) in full.
void lookups_only(Analysis *a, Query *q, const JoinTree *jt, int before, const char *why) {
    for (int s = before; s < list_length(a->out->sources); s++) {
        auto *sk = static_cast<SourceKey *>(list_nth(a->out->sources, s));
        if (sk->kind != derive_full) {
            SourceKey *full = new_source(sk->relid, derive_full);
            full->reason = pstrdup(why);
            list_nth_cell(a->out->sources, s)->ptr_value = full;
        }
    }
    for (int i = 1; i <= jt->nitems; i++) {
        if (!jt->in_from[i])
            continue;
        RangeTblEntry *rte = rt_fetch(i, q->rtable);
        SourceKey *sk = rte->rtekind == RTE_RELATION ? uncaptured_source(rte->relid) : nullptr;
        if (sk == nullptr && (rte->rtekind == RTE_RELATION || rte->rtekind == RTE_SUBQUERY || rte->rtekind == RTE_CTE))
            sk = lookup_source(q, i);
        if (sk != nullptr) {
            add(a, sk);
            continue;
        }
        if (rte->rtekind == RTE_RELATION)
            full_for(a, list_make1_oid(rte->relid), why);
        else if (rte->rtekind == RTE_SUBQUERY)
            full_for_all(a, rte->subquery, why);
        else if (rte->rtekind == RTE_CTE && find_cte(a, rte) != nullptr)
            full_for_all(a, reinterpret_cast<Query *>(find_cte(a, rte)->ctequery), why);
    }
}

void walk(Analysis *a, Query *q, List *keys) {
    a->queries = lcons(q, a->queries);
    if (q->setOperations != nullptr) {
        if (q->limitCount != nullptr || q->limitOffset != nullptr)
            full_for_all(a, q, "LIMIT or OFFSET: a change may move rows of other keys in or out");
        else
            walk_setop(a, q, keys);
        a->queries = list_delete_first(a->queries);
        return;
    }
    const char *reason = nullptr;
    Oid func;
    List *non_junk = NIL;
    ListCell *lc;
    foreach (lc, q->targetList)
        if (!static_cast<TargetEntry *>(lfirst(lc))->resjunk)
            non_junk = lappend(non_junk, static_cast<TargetEntry *>(lfirst(lc))->expr);
    if (q->limitCount != nullptr || q->limitOffset != nullptr)
        reason = "LIMIT or OFFSET: a change may move rows of other keys in or out";
    else if ((func = find_function(reinterpret_cast<Node *>(q), volatile_checker)) != InvalidOid)
        reason = psprintf("the query calls the volatile function %s()", get_func_name(func));
    else if (q->groupingSets != NIL)
        reason = "GROUPING SETS, ROLLUP or CUBE: a row sums up rows of several keys";
    else if (q->hasAggs && q->groupClause == NIL)
        reason = "the query aggregates all rows into one (an aggregate without GROUP BY)";
    else if (q->groupClause != NIL && !keys_function_of(keys, clause_exprs(q->groupClause, q->targetList)))
        reason = "the key is not one of the GROUP BY columns: a group holds rows of several keys";
    else if (q->hasDistinctOn && !keys_function_of(keys, clause_exprs(q->distinctClause, q->targetList)))
        reason = "DISTINCT ON does not include the key: it picks one row among rows of several keys";
    else if (q->distinctClause != NIL && !q->hasDistinctOn && !keys_function_of(keys, non_junk))
        reason = "the key is not among the columns of the DISTINCT";
    if (reason == nullptr && q->hasWindowFuncs) {
        foreach (lc, q->windowClause) {
            auto *wc = static_cast<WindowClause *>(lfirst(lc));
            if (!keys_function_of(keys, clause_exprs(wc->partitionClause, q->targetList))) {
                reason = psprintf("the window function %s() is not partitioned by the key",
                                  window_function_name(q, wc->winref));
                break;
            }
        }
    }
    if (reason == nullptr) {
        List *flat = NIL;
        foreach (lc, keys) {
            Node *k = flatten_join_alias_vars(q, static_cast<Node *>(lfirst(lc)));
            if ((func = find_function(k, mutable_checker)) != InvalidOid) {
                reason = psprintf("the key calls %s(), which is not immutable", get_func_name(func));
                break;
            }
            if (contain_agg_clause(k) || contain_window_function(k)) {
                reason = "the key is computed by an aggregate or a window function";
                break;
            }
            flat = lappend(flat, k);
        }
        keys = flat;
    }
    if (reason != nullptr) {
        full_for_all(a, q, reason);
        a->queries = list_delete_first(a->queries);
        return;
    }

    JoinTree *jt = read_jointree(q);
    // (lookups in the view's rows need the view's columns: the top query's)
    bool top = list_length(a->queries) == 1;
    int before_sublinks = list_length(a->out->sources);
    sublinks_full(a, q, jt, keys, top);
    // A key taken from the nullable side of an outer join: a change there may move
    // a row into or out of the NULL key, which no changed row names; only a
    // lookup of the rows it can alter finds their keys.
    List *key_vars = pull_var_clause(reinterpret_cast<Node *>(keys), 0);
    foreach (lc, key_vars) {
        Var *v = static_cast<Var *>(lfirst(lc));
        if (v->varlevelsup == 0 && static_cast<int>(v->varno) <= jt->nitems && jt->ancestors[v->varno] != NIL) {
            RangeTblEntry *rte = rt_fetch(v->varno, q->rtable);
            const char *why = psprintf("the key column %s comes from the nullable side of an outer join",
                                       rte->rtekind == RTE_RELATION
                                           ? psprintf("%s.%s", rel_name(rte->relid),
                                                      column_name(rte->relid, v->varattno))
                                           : get_rte_attribute_name(rte, v->varattno));
            if (top)
                lookups_only(a, q, jt, before_sublinks, why);
            else
                full_for_all(a, q, why);
            a->queries = list_delete_first(a->queries);
            return;
        }
    }

    for (int i = 1; i <= jt->nitems; i++) {
        if (!jt->in_from[i])
            continue;
        RangeTblEntry *rte = rt_fetch(i, q->rtable);
        if (rte->rtekind == RTE_RELATION) {
            SourceKey *sk = uncaptured_source(rte->relid);
            if (sk == nullptr) {
                List *direct = keys_in(jt, keys, i);
                if (direct != NIL)
                    sk = direct_source(rte->relid, i, direct);
                else if ((sk = join_source(jt, q, rte->relid, i, keys, a->out)) == nullptr &&
                         (!top || (sk = lookup_source(q, i)) == nullptr)) {
                    sk = new_source(rte->relid, derive_full);
                    sk->reason = psprintf("the key is not found from rows of %s (no equality of joins leads from it "
                                          "to the key columns)",
                                          rel_name(rte->relid));
                }
            }
            add(a, sk);
        } else if (rte->rtekind == RTE_SUBQUERY) {
            int before = list_length(a->out->sources);
            walk_subquery(a, jt, i, rte, rte->subquery, rte->eref->aliasname, keys);
            if (top)
                lookup_if_full(a, q, i, before);
        } else if (rte->rtekind == RTE_CTE) {
            CommonTableExpr *cte = find_cte(a, rte);
            if (cte == nullptr)
                continue;
            auto *inner = reinterpret_cast<Query *>(cte->ctequery);
            int before = list_length(a->out->sources);
            if (cte->cterecursive)
                full_for_all(a, inner, psprintf("WITH RECURSIVE %s", cte->ctename));
            else
                walk_subquery(a, jt, i, rte, inner, cte->ctename, keys);
            if (top)
                lookup_if_full(a, q, i, before);
        }
    }
    a->queries = list_delete_first(a->queries);
}

} // namespace

namespace {
void analyze(KeyAnalysis *ka, Query *q, List *key_names);
} // namespace

KeyAnalysis *analyze_keys(Oid definition, List *key_names) {
    auto *ka = static_cast<KeyAnalysis *>(palloc0(sizeof(KeyAnalysis)));
    Relation rel = relation_open(definition, AccessShareLock);
    (void) collect_relations_walker(reinterpret_cast<Node *>(get_view_query(rel)), &ka->depends_on);
    relation_close(rel, AccessShareLock);
    ka->depends_on = list_append_unique_oid(ka->depends_on, definition);
    Query *q = rewritten_query(definition);
    (void) collect_relations_walker(reinterpret_cast<Node *>(q), &ka->depends_on);
    analyze(ka, q, key_names);
    return ka;
}

KeyAnalysis *analyze_query_keys(Query *rewritten, List *key_names) {
    auto *ka = static_cast<KeyAnalysis *>(palloc0(sizeof(KeyAnalysis)));
    analyze(ka, static_cast<Query *>(copy_node(rewritten)), key_names);
    return ka;
}

namespace {
// Aggregates without GROUP BY (and no set operation): the one row's key is
// empty, and a change to any table the query reads is a change to that row.
bool one_row(Query *q) {
    return q->setOperations == nullptr && q->hasAggs && q->groupClause == NIL && q->groupingSets == NIL;
}

void analyze_one_row(KeyAnalysis *ka, Query *q) {
    ka->nkeys = 0;
    ka->key_names = static_cast<char **>(palloc(sizeof(char *)));
    ka->key_types = static_cast<Oid *>(palloc(sizeof(Oid)));
    Analysis a{ka, NIL};
    Oid func = find_function(reinterpret_cast<Node *>(q), volatile_checker);
    if (func != InvalidOid) {
        full_for_all(&a, q, psprintf("the query calls the volatile function %s()", get_func_name(func)));
        return;
    }
    ListCell *lc;
    foreach (lc, tables_in(reinterpret_cast<Node *>(q))) {
        Oid relid = lfirst_oid(lc);
        SourceKey *sk = uncaptured_source(relid);
        if (sk == nullptr) {
            sk = new_source(relid, derive_direct);
            sk->key_from = pstrdup("its one row (an aggregate without GROUP BY)");
        }
        add(&a, sk);
    }
}

// A lookup that reads another table's rows (row_lookup.hpp) sees them as they
// are after every change of the transaction; that is the state the lookup
// needs when that table's own changes are found without reading others (its
// changes then are, in effect, applied first). Where they are found through
// other tables too (a key query, another such lookup), the lookup is not
// exact: that source is refreshed in full.
void settle_lookup_reads(KeyAnalysis *ka) {
    ListCell *lc;
    foreach (lc, ka->sources) {
        auto *sk = static_cast<SourceKey *>(lfirst(lc));
        const char *why = nullptr;
        ListCell *r;
        foreach (r, sk->lookup_reads) {
            ListCell *o;
            foreach (o, ka->sources) {
                auto *other = static_cast<SourceKey *>(lfirst(o));
                if (other->relid == lfirst_oid(r) && other->kind == derive_join &&
                    (other->lookup_where == nullptr || other->lookup_reads != NIL))
                    why = psprintf("its changes would be looked up through the rows of %s, whose own changes are "
                                   "found through other tables' rows",
                                   rel_name(other->relid));
            }
        }
        if (why != nullptr) {
            SourceKey *full = new_source(sk->relid, derive_full);
            full->reason = const_cast<char *>(why);
            lfirst(lc) = full;
        }
    }
}

void analyze(KeyAnalysis *ka, Query *q, List *key_names) {
    if (key_names == NIL && one_row(q)) {
        analyze_one_row(ka, q);
        return;
    }
    if (key_names == NIL) {
        ka->view_reason = pstrdup("the table view has no unique key (pgview_create's unique_key)");
        Analysis all{ka, NIL};
        full_for_all(&all, q, ka->view_reason);
        return;
    }
    ka->nkeys = list_length(key_names);
    ka->key_names = static_cast<char **>(palloc(sizeof(char *) * ka->nkeys));
    ka->key_types = static_cast<Oid *>(palloc(sizeof(Oid) * ka->nkeys));
    List *keys = NIL;
    int i = 0;
    ListCell *lc;
    foreach (lc, key_names) {
        const char *name = static_cast<const char *>(lfirst(lc));
        TargetEntry *found = nullptr;
        ListCell *t;
        foreach (t, q->targetList) {
            auto *tle = static_cast<TargetEntry *>(lfirst(t));
            if (!tle->resjunk && tle->resname != nullptr && strcmp(tle->resname, name) == 0)
                found = tle;
        }
        if (found == nullptr)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("the query of the table view has no column \"%s\" for its unique key", name)));
        ka->key_names[i] = pstrdup(name);
        ka->key_types[i] = exprType(reinterpret_cast<Node *>(found->expr));
        keys = lappend(keys, copy_node(found->expr));
        i++;
    }
    Analysis a{ka, NIL};
    walk(&a, q, keys);
    settle_lookup_reads(ka);
}
} // namespace

List *sources_of(const KeyAnalysis *analysis, Oid relid) {
    List *out = NIL;
    ListCell *lc;
    foreach (lc, analysis->sources)
        if (static_cast<SourceKey *>(lfirst(lc))->relid == relid)
            out = lappend(out, lfirst(lc));
    return out;
}

} // namespace pgview::analysis
