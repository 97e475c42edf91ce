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

// C++ sees expression_tree_walker/mutator as taking a function of no arguments;
// the cast goes through void (*)(), which matches any function type.
using Walker = bool (*)();
using Mutator = Node *(*)();
template <typename F> Walker as_walker(F f) { return reinterpret_cast<Walker>(reinterpret_cast<void (*)()>(f)); }
template <typename F> Mutator as_mutator(F f) { return reinterpret_cast<Mutator>(reinterpret_cast<void (*)()>(f)); }
// copyObject needs typeof, which C++ lacks.
template <typename T> T *copy_node(const T *node) { return static_cast<T *>(copyObjectImpl(node)); }

// ---------------------------------------------------------------- results

struct Analysis {
    KeyAnalysis *out;
    List *queries; // the queries being walked, innermost first (for CTE references)
};

void add(Analysis *a, SourceKey *sk) { a->out->sources = lappend(a->out->sources, sk); }

SourceKey *new_source(Oid relid, char kind) {
    auto *sk = static_cast<SourceKey *>(palloc0(sizeof(SourceKey)));
    sk->relid = relid;
    sk->kind = kind;
    return sk;
}

const char *rel_name(Oid relid) {
    const char *name = get_rel_name(relid);
    return name != nullptr ? quote_identifier(name) : psprintf("%u", relid);
}

const char *column_name(Oid relid, AttrNumber attno) {
    const char *name = get_attname(relid, attno, true);
    return name != nullptr ? quote_identifier(name) : psprintf("%d", attno);
}

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

// ---------------------------------------------------------------- functions

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

// ---------------------------------------------------------------- sublinks

struct SublinkSearch {
    Analysis *a;
};

bool sublink_walker(Node *node, SublinkSearch *s) {
    if (node == nullptr)
        return false;
    if (IsA(node, SubLink)) {
        List *tables = tables_in(reinterpret_cast<SubLink *>(node)->subselect);
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

// Tables read by sublinks of this query level (not inside its subqueries in FROM,
// which are walked on their own) are refreshed in full.
void sublinks_full(Analysis *a, Query *q) {
    SublinkSearch s{a};
    (void) query_tree_walker(q, as_walker(sublink_walker), &s, QTW_IGNORE_RANGE_TABLE);
    // Function, VALUES and table-function items of FROM may hold sublinks too.
    ListCell *lc;
    foreach (lc, q->rtable) {
        auto *rte = static_cast<RangeTblEntry *>(lfirst(lc));
        if (rte->rtekind == RTE_FUNCTION || rte->rtekind == RTE_VALUES || rte->rtekind == RTE_TABLEFUNC)
            (void) range_table_entry_walker(rte, as_walker(sublink_walker), &s, 0);
    }
}

// ---------------------------------------------------------------- grouping

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

// ---------------------------------------------------------------- joins

// An equality between columns of two FROM items of one query level, and where
// it came from: it holds in every output row containing a changed row of item
// t when usable(eq, t) (see below).
struct Equality {
    Var *left;
    Var *right;
    Oid opno;
    List *ancestors;  // outer joins whose nullable side holds the clause's join
    JoinExpr *outer;  // the clause is this outer join's ON clause
    bool never;       // a FULL JOIN's ON clause
};

struct JoinTree {
    int nitems;
    List **ancestors; // per range table index: outer joins whose nullable side holds it
    bool *in_from;    // per range table index: a FROM item (RangeTblRef)
    List *equalities; // Equality *
};

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

Var *plain_var(Node *node) {
    node = strip_coercions(node);
    if (node != nullptr && IsA(node, Var) && reinterpret_cast<Var *>(node)->varlevelsup == 0)
        return reinterpret_cast<Var *>(node);
    return nullptr;
}

void collect_equalities(JoinTree *jt, Query *q, Node *quals, List *ancestors, JoinExpr *outer, bool never) {
    if (quals == nullptr)
        return;
    quals = flatten_join_alias_vars(q, quals);
    List *conjuncts = IsA(quals, List) ? reinterpret_cast<List *>(quals)
                                        : make_ands_implicit(reinterpret_cast<Expr *>(quals));
    ListCell *lc;
    foreach (lc, conjuncts) {
        Node *c = static_cast<Node *>(lfirst(lc));
        if (!IsA(c, OpExpr) || list_length(reinterpret_cast<OpExpr *>(c)->args) != 2)
            continue;
        auto *op = reinterpret_cast<OpExpr *>(c);
        Var *l = plain_var(static_cast<Node *>(linitial(op->args)));
        Var *r = plain_var(static_cast<Node *>(lsecond(op->args)));
        if (l == nullptr || r == nullptr || !is_equality(op->opno))
            continue;
        auto *eq = static_cast<Equality *>(palloc0(sizeof(Equality)));
        *eq = {l, r, op->opno, ancestors, outer, never};
        jt->equalities = lappend(jt->equalities, eq);
    }
}

void visit_jointree(JoinTree *jt, Query *q, Node *node, List *ancestors) {
    if (node == nullptr)
        return;
    if (IsA(node, RangeTblRef)) {
        int i = reinterpret_cast<RangeTblRef *>(node)->rtindex;
        jt->ancestors[i] = ancestors;
        jt->in_from[i] = true;
    } else if (IsA(node, FromExpr)) {
        auto *f = reinterpret_cast<FromExpr *>(node);
        ListCell *lc;
        foreach (lc, f->fromlist)
            visit_jointree(jt, q, static_cast<Node *>(lfirst(lc)), ancestors);
        collect_equalities(jt, q, f->quals, ancestors, nullptr, false);
    } else if (IsA(node, JoinExpr)) {
        auto *j = reinterpret_cast<JoinExpr *>(node);
        List *nullable = lappend(list_copy(ancestors), j);
        switch (j->jointype) {
        case JOIN_INNER:
            visit_jointree(jt, q, j->larg, ancestors);
            visit_jointree(jt, q, j->rarg, ancestors);
            collect_equalities(jt, q, j->quals, ancestors, nullptr, false);
            break;
        case JOIN_LEFT:
            visit_jointree(jt, q, j->larg, ancestors);
            visit_jointree(jt, q, j->rarg, nullable);
            collect_equalities(jt, q, j->quals, ancestors, j, false);
            break;
        case JOIN_RIGHT:
            visit_jointree(jt, q, j->larg, nullable);
            visit_jointree(jt, q, j->rarg, ancestors);
            collect_equalities(jt, q, j->quals, ancestors, j, false);
            break;
        default: // FULL (SEMI/ANTI do not occur in parse trees): both sides nullable
            visit_jointree(jt, q, j->larg, nullable);
            visit_jointree(jt, q, j->rarg, nullable);
            collect_equalities(jt, q, j->quals, ancestors, j, true);
            break;
        }
    }
}

JoinTree *read_jointree(Query *q) {
    auto *jt = static_cast<JoinTree *>(palloc0(sizeof(JoinTree)));
    jt->nitems = list_length(q->rtable);
    jt->ancestors = static_cast<List **>(palloc0(sizeof(List *) * (jt->nitems + 1)));
    jt->in_from = static_cast<bool *>(palloc0(sizeof(bool) * (jt->nitems + 1)));
    visit_jointree(jt, q, reinterpret_cast<Node *>(q->jointree), NIL);
    return jt;
}

// Whether some item known to be real lies on outer join k's nullable side:
// then that side is a real row (k matched) in the output rows considered.
bool matched(const JoinTree *jt, const JoinExpr *k, const bool *real) {
    for (int i = 1; i <= jt->nitems; i++)
        if (real[i] && list_member_ptr(jt->ancestors[i], k))
            return true;
    return false;
}

// An equality holds in every output row in which the items marked real are
// real rows (not NULL-extended) when every outer join whose nullable side holds
// its clause is matched there, and, for an outer join's own ON clause, that join
// is matched (the clause held). WHERE always holds. A FULL JOIN's clause never:
// either side may be NULL-extended.
bool usable(const JoinTree *jt, const Equality *eq, const bool *real) {
    if (eq->never)
        return false;
    ListCell *lc;
    foreach (lc, eq->ancestors)
        if (!matched(jt, static_cast<JoinExpr *>(lfirst(lc)), real))
            return false;
    return eq->outer == nullptr || matched(jt, eq->outer, real);
}

// The items that are real rows in every output row containing a real row of
// item t: t, and closing over usable equalities (a strict equality that holds
// has non-NULL sides, so both its items are real; regions LEFT JOIN accounts
// LEFT JOIN ledger: a real ledger row's account matched it, so accounts is real
// and its ON clause with regions held).
bool *real_items(const JoinTree *jt, int t) {
    bool *real = static_cast<bool *>(palloc0(sizeof(bool) * (jt->nitems + 1)));
    real[t] = true;
    for (bool grew = true; grew;) {
        grew = false;
        ListCell *lc;
        foreach (lc, jt->equalities) {
            auto *eq = static_cast<Equality *>(lfirst(lc));
            int l = static_cast<int>(eq->left->varno), r = static_cast<int>(eq->right->varno);
            if ((real[l] && real[r]) || !usable(jt, eq, real))
                continue;
            real[l] = real[r] = true;
            grew = true;
        }
    }
    return real;
}

// A column of item t equal to v in every output row containing a real row of
// t (breadth-first through usable equalities), or nullptr.
Var *equivalent_in(const JoinTree *jt, Var *v, int t, const bool *real) {
    if (static_cast<int>(v->varno) == t)
        return v;
    List *seen = list_make1(v);
    for (int i = 0; i < list_length(seen); i++) {
        Var *cur = static_cast<Var *>(list_nth(seen, i));
        ListCell *lc;
        foreach (lc, jt->equalities) {
            auto *eq = static_cast<Equality *>(lfirst(lc));
            if (!usable(jt, eq, real))
                continue;
            Var *next = nullptr;
            if (eq->left->varno == cur->varno && eq->left->varattno == cur->varattno)
                next = eq->right;
            else if (eq->right->varno == cur->varno && eq->right->varattno == cur->varattno)
                next = eq->left;
            if (next == nullptr)
                continue;
            if (static_cast<int>(next->varno) == t)
                return next;
            bool known = false;
            ListCell *s;
            foreach (s, seen) {
                Var *k = static_cast<Var *>(lfirst(s));
                known = known || (k->varno == next->varno && k->varattno == next->varattno);
            }
            if (!known)
                seen = lappend(seen, next);
        }
    }
    return nullptr;
}

struct Substitution {
    const JoinTree *jt;
    int target;
    const bool *real; // real_items(jt, target)
    bool failed;
};

// v's value from target's column w: w cast to v's type (exact: the two are equal).
Node *cast_to(Node *w, Var *v) {
    Oid from = exprType(w), to = v->vartype;
    if (from == to)
        return w;
    Node *cast = coerce_to_target_type(nullptr, w, from, to, v->vartypmod, COERCION_EXPLICIT,
                                       COERCE_IMPLICIT_CAST, -1);
    if (cast == nullptr || contain_mutable_functions(cast))
        return nullptr;
    return cast;
}

Node *substitute_mutator(Node *node, Substitution *s) {
    if (node == nullptr)
        return nullptr;
    if (IsA(node, Var) && reinterpret_cast<Var *>(node)->varlevelsup == 0) {
        Var *v = reinterpret_cast<Var *>(node);
        Var *w = equivalent_in(s->jt, v, s->target, s->real);
        Node *value = w != nullptr ? cast_to(reinterpret_cast<Node *>(copy_node(w)), v) : nullptr;
        if (value == nullptr) {
            s->failed = true;
            return node;
        }
        return value;
    }
    return expression_tree_mutator(node, as_mutator(substitute_mutator), s);
}

// The keys in terms of item t's columns, or NIL when some part is not found there.
List *keys_in(const JoinTree *jt, List *keys, int t) {
    Substitution s{jt, t, real_items(jt, t), false};
    List *out = NIL;
    ListCell *lc;
    foreach (lc, keys) {
        Node *k = substitute_mutator(static_cast<Node *>(copy_node(lfirst(lc))), &s);
        if (s.failed)
            return NIL;
        out = lappend(out, k);
    }
    return out;
}

// ---------------------------------------------------------------- describing

const char *deparse_on(Node *expr, Oid relid) {
    return deparse_expression(expr, deparse_context_for(get_rel_name(relid), relid), true, false);
}

// An index of relid whose leading column is attno (or whose leading expression is expr).
bool has_leading_index(Oid relid, AttrNumber attno, Node *expr) {
    Relation rel = relation_open(relid, AccessShareLock);
    List *indexes = RelationGetIndexList(rel);
    bool found = false;
    ListCell *lc;
    foreach (lc, indexes) {
        HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
        if (!HeapTupleIsValid(tup))
            continue;
        auto *index = reinterpret_cast<Form_pg_index>(GETSTRUCT(tup));
        bool usable_index = index->indisvalid && heap_attisnull(tup, Anum_pg_index_indpred, nullptr);
        AttrNumber leading = index->indkey.values[0];
        ReleaseSysCache(tup);
        if (!usable_index)
            continue;
        if (attno != 0 && leading == attno)
            found = true;
        else if (attno == 0 && leading == 0 && expr != nullptr) {
            Relation index_rel = index_open(lfirst_oid(lc), AccessShareLock);
            List *exprs = RelationGetIndexExpressions(index_rel);
            found = exprs != NIL && equal(strip_coercions(static_cast<Node *>(linitial(exprs))), strip_coercions(expr));
            index_close(index_rel, AccessShareLock);
        }
        if (found)
            break;
    }
    relation_close(rel, AccessShareLock);
    return found;
}

// The index a keyed refresh reads relid through (its key column or expression),
// when relid has none: a CREATE INDEX statement to suggest.
char *missing_index(Oid relid, Node *key) {
    Node *stripped = strip_coercions(key);
    bool is_column = IsA(stripped, Var);
    AttrNumber attno = is_column ? reinterpret_cast<Var *>(stripped)->varattno : 0;
    if (has_leading_index(relid, attno, is_column ? nullptr : key))
        return nullptr;
    const char *what = is_column ? column_name(relid, attno) : psprintf("(%s)", deparse_on(stripped, relid));
    return psprintf("CREATE INDEX ON %s.%s (%s)", quote_identifier(get_namespace_name(get_rel_namespace(relid))),
                    quote_identifier(get_rel_name(relid)), what);
}

const char *operator_sql(Oid opno) {
    HeapTuple tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
    if (!HeapTupleIsValid(tup))
        elog(ERROR, "pgview_auto: cache lookup failed for operator %u", opno);
    auto *op = reinterpret_cast<Form_pg_operator>(GETSTRUCT(tup));
    const char *sql = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(op->oprnamespace)),
                               NameStr(op->oprname));
    ReleaseSysCache(tup);
    return sql;
}

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

// One step of a path through joins: item `to`, reached from the previous item
// through `equalities` (each naming the previous item's column and to's column).
struct Hop {
    int to;
    List *equalities;
};

// From table item t to item a through usable equalities, over plain tables
// only; NIL when there is no path. Breadth-first: the shortest path.
List *join_path(const JoinTree *jt, Query *q, int t, int a) {
    int n = jt->nitems;
    const bool *real = real_items(jt, t);
    int *prev = static_cast<int *>(palloc0(sizeof(int) * (n + 1)));
    List *queue = list_make1_int(t);
    prev[t] = t;
    for (int i = 0; i < list_length(queue) && prev[a] == 0; i++) {
        int cur = list_nth_int(queue, i);
        ListCell *lc;
        foreach (lc, jt->equalities) {
            auto *eq = static_cast<Equality *>(lfirst(lc));
            if (!usable(jt, eq, real))
                continue;
            int l = static_cast<int>(eq->left->varno), r = static_cast<int>(eq->right->varno);
            int next = l == cur ? r : (r == cur ? l : 0);
            if (next == 0 || prev[next] != 0 || rt_fetch(next, q->rtable)->rtekind != RTE_RELATION)
                continue;
            prev[next] = cur;
            queue = lappend_int(queue, next);
        }
    }
    if (prev[a] == 0)
        return NIL;
    List *hops = NIL;
    for (int cur = a; cur != t; cur = prev[cur]) {
        auto *hop = static_cast<Hop *>(palloc0(sizeof(Hop)));
        hop->to = cur;
        ListCell *lc;
        foreach (lc, jt->equalities) {
            auto *eq = static_cast<Equality *>(lfirst(lc));
            int l = static_cast<int>(eq->left->varno), r = static_cast<int>(eq->right->varno);
            if (usable(jt, eq, real) && ((l == prev[cur] && r == cur) || (l == cur && r == prev[cur])))
                hop->equalities = lappend(hop->equalities, eq);
        }
        hops = lcons(hop, hops);
    }
    return hops;
}

// The key columns of item a (plain columns, all of one table), or -1.
int single_key_item(List *keys, Query *q) {
    int a = -1;
    ListCell *lc;
    foreach (lc, keys) {
        Var *v = plain_var(static_cast<Node *>(lfirst(lc)));
        if (v == nullptr || (a != -1 && static_cast<int>(v->varno) != a))
            return -1;
        a = static_cast<int>(v->varno);
    }
    return a > 0 && rt_fetch(a, q->rtable)->rtekind == RTE_RELATION ? a : -1;
}

const char *column_sql(const char *alias, Oid relid, AttrNumber attno) {
    return psprintf("%s.%s", alias, column_name(relid, attno));
}

// Keys found from a changed row of table item t through joins to item a: the
// captured columns of t (those of the first join), and the key query over the
// tables of the path.
SourceKey *join_source(const JoinTree *jt, Query *q, Oid relid, int t, List *keys, const KeyAnalysis *ka) {
    int a = single_key_item(keys, q);
    if (a < 0 || a == t)
        return nullptr;
    List *hops = join_path(jt, q, t, a);
    if (hops == NIL)
        return nullptr;
    SourceKey *sk = new_source(relid, derive_join);
    // Aliases: the changed table's values come from unnest(...) u(c1, ...); the
    // path's tables are r1, r2, ...
    int nhops = list_length(hops);
    const char **alias = static_cast<const char **>(palloc0(sizeof(char *) * (jt->nitems + 1)));
    for (int i = 0; i < nhops; i++)
        alias[static_cast<Hop *>(list_nth(hops, i))->to] = psprintf("r%d", i + 1);

    StringInfoData sql, from, where, first, described;
    initStringInfo(&sql);
    initStringInfo(&from);
    initStringInfo(&where);
    initStringInfo(&first);
    initStringInfo(&described);
    // The first hop: t's columns become parameters.
    auto *hop1 = static_cast<Hop *>(linitial(hops));
    ListCell *lc;
    foreach (lc, hop1->equalities) {
        auto *eq = static_cast<Equality *>(lfirst(lc));
        Var *mine = static_cast<int>(eq->left->varno) == t ? eq->left : eq->right;
        Var *theirs = mine == eq->left ? eq->right : eq->left;
        if (!list_member_int(sk->capture_attnos, mine->varattno)) {
            sk->capture_attnos = lappend_int(sk->capture_attnos, mine->varattno);
            sk->capture_types = lappend_oid(sk->capture_types, mine->vartype);
        }
        int param = 1;
        while (list_nth_int(sk->capture_attnos, param - 1) != mine->varattno)
            param++;
        Oid other = rt_fetch(theirs->varno, q->rtable)->relid;
        const char *u = psprintf("u.c%d", param);
        const char *r = column_sql(alias[theirs->varno], other, theirs->varattno);
        appendStringInfo(&first, "%s%s %s %s", first.len > 0 ? " AND " : "", mine == eq->left ? u : r,
                         operator_sql(eq->opno), mine == eq->left ? r : u);
        appendStringInfo(&described, "%s%s.%s = %s.%s", described.len > 0 ? " AND " : "", rel_name(relid),
                         column_name(relid, mine->varattno), rel_name(other), column_name(other, theirs->varattno));
    }
    // FROM the path's tables, joined by the later hops' equalities.
    for (int i = 0; i < nhops; i++) {
        auto *hop = static_cast<Hop *>(list_nth(hops, i));
        Oid rel = rt_fetch(hop->to, q->rtable)->relid;
        appendStringInfo(&from, "%s%s.%s %s", i > 0 ? ", " : "",
                         quote_identifier(get_namespace_name(get_rel_namespace(rel))),
                         quote_identifier(get_rel_name(rel)), alias[hop->to]);
        if (i == 0)
            continue;
        foreach (lc, hop->equalities) {
            auto *eq = static_cast<Equality *>(lfirst(lc));
            Oid lrel = rt_fetch(eq->left->varno, q->rtable)->relid, rrel = rt_fetch(eq->right->varno, q->rtable)->relid;
            appendStringInfo(&where, " AND %s %s %s", column_sql(alias[eq->left->varno], lrel, eq->left->varattno),
                             operator_sql(eq->opno), column_sql(alias[eq->right->varno], rrel, eq->right->varattno));
            appendStringInfo(&described, ", %s.%s = %s.%s", rel_name(lrel), column_name(lrel, eq->left->varattno),
                             rel_name(rrel), column_name(rrel, eq->right->varattno));
        }
    }
    // SELECT the key columns of item a, cast to the key types.
    Oid arel = rt_fetch(a, q->rtable)->relid;
    appendStringInfoString(&sql, "SELECT DISTINCT ");
    StringInfoData key_desc;
    initStringInfo(&key_desc);
    int i = 0;
    foreach (lc, keys) {
        Var *v = plain_var(static_cast<Node *>(lfirst(lc)));
        const char *col = column_sql(alias[a], arel, v->varattno);
        if (v->vartype != ka->key_types[i])
            col = psprintf("CAST(%s AS %s)", col, format_type_be_qualified(ka->key_types[i]));
        appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "", col);
        appendStringInfo(&key_desc, "%s%s.%s", i > 0 ? ", " : "", rel_name(arel), column_name(arel, v->varattno));
        i++;
    }
    appendStringInfo(&sql, " FROM %s WHERE EXISTS (SELECT FROM ROWS FROM (", from.data);
    i = 0;
    ListCell *tc;
    foreach (tc, sk->capture_types) {
        i++;
        appendStringInfo(&sql, "%spg_catalog.unnest($%d::%s[])", i > 1 ? ", " : "", i,
                         format_type_be_qualified(lfirst_oid(tc)));
    }
    appendStringInfoString(&sql, ") AS u(");
    for (int k = 1; k <= i; k++)
        appendStringInfo(&sql, "%sc%d", k > 1 ? ", " : "", k);
    appendStringInfo(&sql, ") WHERE %s)%s", first.data, where.data);
    sk->key_query = sql.data;
    sk->key_from = psprintf("%s through %s", key_desc.data, described.data);
    List *first_cols = NIL;
    foreach (lc, sk->capture_attnos)
        first_cols = lappend(first_cols, makeVar(1, static_cast<AttrNumber>(lfirst_int(lc)), InvalidOid, -1, InvalidOid, 0));
    sk->index_hint = missing_index(relid, static_cast<Node *>(linitial(first_cols)));
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

    sublinks_full(a, q);
    JoinTree *jt = read_jointree(q);
    // A key taken from the nullable side of an outer join: a change there may move
    // a row into or out of the NULL key, which no changed row names.
    List *key_vars = pull_var_clause(reinterpret_cast<Node *>(keys), 0);
    foreach (lc, key_vars) {
        Var *v = static_cast<Var *>(lfirst(lc));
        if (v->varlevelsup == 0 && static_cast<int>(v->varno) <= jt->nitems && jt->ancestors[v->varno] != NIL) {
            RangeTblEntry *rte = rt_fetch(v->varno, q->rtable);
            full_for_all(a, q, psprintf("the key column %s comes from the nullable side of an outer join",
                                        rte->rtekind == RTE_RELATION
                                            ? psprintf("%s.%s", rel_name(rte->relid), column_name(rte->relid, v->varattno))
                                            : get_rte_attribute_name(rte, v->varattno)));
            a->queries = list_delete_first(a->queries);
            return;
        }
    }

    for (int i = 1; i <= jt->nitems; i++) {
        if (!jt->in_from[i])
            continue;
        RangeTblEntry *rte = rt_fetch(i, q->rtable);
        if (rte->rtekind == RTE_RELATION) {
            char relkind = get_rel_relkind(rte->relid);
            SourceKey *sk = nullptr;
            if (relkind == RELKIND_MATVIEW) {
                sk = new_source(rte->relid, derive_full);
                sk->reason = pstrdup("a materialized view changes only by REFRESH: its refresh cascades in full");
            } else if (relkind == RELKIND_FOREIGN_TABLE) {
                sk = new_source(rte->relid, derive_full);
                sk->reason = pstrdup("a foreign table's changed rows cannot be captured");
            } else {
                List *direct = keys_in(jt, keys, i);
                if (direct != NIL)
                    sk = direct_source(rte->relid, i, direct);
                else if ((sk = join_source(jt, q, rte->relid, i, keys, a->out)) == nullptr) {
                    sk = new_source(rte->relid, derive_full);
                    sk->reason = psprintf("the key is not found from rows of %s (no equality of joins leads from it "
                                          "to the key columns)",
                                          rel_name(rte->relid));
                }
            }
            add(a, sk);
        } else if (rte->rtekind == RTE_SUBQUERY) {
            walk_subquery(a, jt, i, rte, rte->subquery, rte->eref->aliasname, keys);
        } else if (rte->rtekind == RTE_CTE) {
            CommonTableExpr *cte = find_cte(a, rte);
            if (cte == nullptr)
                continue;
            auto *inner = reinterpret_cast<Query *>(cte->ctequery);
            if (cte->cterecursive)
                full_for_all(a, inner, psprintf("WITH RECURSIVE %s", cte->ctename));
            else
                walk_subquery(a, jt, i, rte, inner, cte->ctename, keys);
        }
    }
    a->queries = list_delete_first(a->queries);
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

} // namespace

KeyAnalysis *analyze_keys(Oid definition, List *key_names) {
    auto *ka = static_cast<KeyAnalysis *>(palloc0(sizeof(KeyAnalysis)));
    Relation rel = relation_open(definition, AccessShareLock);
    (void) collect_relations_walker(reinterpret_cast<Node *>(get_view_query(rel)), &ka->depends_on);
    relation_close(rel, AccessShareLock);
    ka->depends_on = list_append_unique_oid(ka->depends_on, definition);
    Query *q = rewritten_query(definition);
    (void) collect_relations_walker(reinterpret_cast<Node *>(q), &ka->depends_on);
    if (key_names == NIL) {
        ka->view_reason = pstrdup("the table view has no unique key (pgview_create's unique_key)");
        Analysis all{ka, NIL};
        full_for_all(&all, q, ka->view_reason);
        return ka;
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
    return ka;
}

List *sources_of(const KeyAnalysis *analysis, Oid relid) {
    List *out = NIL;
    ListCell *lc;
    foreach (lc, analysis->sources)
        if (static_cast<SourceKey *>(lfirst(lc))->relid == relid)
            out = lappend(out, lfirst(lc));
    return out;
}

} // namespace pgview::analysis
