// pgview_auto — delta arithmetic's analysis of a table view (see delta_analysis.hpp).
//
// The query is read once, top level only: its FROM items, its GROUP BY, each
// output column in order (a table view's columns are its query's). Every test
// that fails leaves a reason; a source qualifies only when every column of the
// view has a move and every row the source contributes is found by the key.
#include "analysis/delta_analysis.hpp"

#include <initializer_list>

#include "analysis/join_tree.hpp"
#include "analysis/key_description.hpp"
#include "analysis/query_tree.hpp"
#include "syscat/relation_info.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
}

namespace pgview::analysis {

namespace {

void refuse(DeltaAnalysis *da, Oid source, const char *reason) {
    auto *r = static_cast<DeltaRefusal *>(palloc(sizeof(DeltaRefusal)));
    *r = {source, reason};
    da->refusals = lappend(da->refusals, r);
}

// Why the query as a whole cannot be kept by deltas, or nullptr.
const char *view_reason(const KeyAnalysis *ka, Query *q) {
    if (q->setOperations != nullptr)
        return "the query is a UNION, INTERSECT or EXCEPT";
    if (!q->hasAggs)
        return "the query does not group rows (delta arithmetic keeps aggregates per GROUP BY key)";
    if (ka->nkeys == 0 && q->groupClause != NIL)
        return "the table view has no unique key";
    if (q->groupingSets != NIL)
        return "GROUPING SETS, ROLLUP or CUBE";
    if (q->havingQual != nullptr)
        return "HAVING can make a group appear or vanish on a value no delta keeps";
    if (q->distinctClause != NIL)
        return "DISTINCT";
    if (q->hasWindowFuncs)
        return "a window function";
    if (q->limitCount != nullptr || q->limitOffset != nullptr)
        return "LIMIT or OFFSET";
    if (q->hasSubLinks)
        return "a subquery in WHERE, SELECT or HAVING";
    if (q->cteList != NIL)
        return "a WITH query";
    if (q->hasTargetSRFs)
        return "a set-returning function in the select list";
    return nullptr;
}

// The FROM items that are plain tables, in range table order; false when an
// item is anything else (a subquery, a function, VALUES, a matview).
bool table_items(Query *q, const JoinTree *jt, List **items) {
    for (int i = 1; i <= jt->nitems; i++) {
        if (!jt->in_from[i])
            continue;
        RangeTblEntry *rte = rt_fetch(i, q->rtable);
        if (rte->rtekind != RTE_RELATION)
            return false;
        char kind = get_rel_relkind(rte->relid);
        if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
            return false;
        *items = lappend_int(*items, i);
    }
    return true;
}

bool only_vars_of(Node *expr, int item) {
    List *vars = pull_var_clause(expr, PVC_RECURSE_AGGREGATES | PVC_RECURSE_WINDOWFUNCS | PVC_RECURSE_PLACEHOLDERS);
    ListCell *lc;
    foreach (lc, vars) {
        Var *v = static_cast<Var *>(lfirst(lc));
        if (v->varlevelsup != 0 || static_cast<int>(v->varno) != item)
            return false;
    }
    return true;
}

bool mentions(Node *expr, int item) {
    List *vars = pull_var_clause(expr, PVC_RECURSE_AGGREGATES | PVC_RECURSE_WINDOWFUNCS | PVC_RECURSE_PLACEHOLDERS);
    ListCell *lc;
    foreach (lc, vars)
        if (static_cast<int>(static_cast<Var *>(lfirst(lc))->varno) == item)
            return true;
    return false;
}

// expr over item's row, as capture evaluates it (varno 1).
Node *over_row(Node *expr, int item) {
    Node *copy = static_cast<Node *>(copyObjectImpl(expr));
    ChangeVarNodes(copy, item, 1, 0);
    return copy;
}

// A plain column of the item declared NOT NULL.
bool not_null(Query *q, Node *expr, int item) {
    Var *v = plain_var(expr);
    if (v == nullptr || static_cast<int>(v->varno) != item || v->varattno <= 0)
        return false;
    HeapTuple tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rt_fetch(item, q->rtable)->relid),
                                    Int16GetDatum(v->varattno));
    if (!HeapTupleIsValid(tup))
        return false;
    bool nn = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tup))->attnotnull;
    ReleaseSysCache(tup);
    return nn;
}

// Whether the columns cover some unique index of relid (a row of it matches at
// most one row of the other side through them).
bool unique_on(Oid relid, List *attnos) {
    AttrNumber *attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * (list_length(attnos) + 1)));
    int n = 0;
    ListCell *lc;
    foreach (lc, attnos)
        attnums[n++] = static_cast<AttrNumber>(lfirst_int(lc));
    Relation rel = relation_open(relid, AccessShareLock);
    bool unique = syscat::unique_on(rel, attnums, n);
    relation_close(rel, AccessShareLock);
    return unique;
}

// Whether equal values of the type are always the same bytes (numeric 1.0 and
// 1.00 are not; nor are strings under a nondeterministic collation): the
// change set keeps one group per distinct bytes.
bool equal_means_same_bytes(Oid type, Oid collation) {
    switch (type) {
    case INT2OID:
    case INT4OID:
    case INT8OID:
    case OIDOID:
    case BOOLOID:
    case DATEOID:
    case TIMESTAMPOID:
    case TIMESTAMPTZOID:
    case UUIDOID:
    case CHAROID:
        return true;
    case TEXTOID:
    case VARCHAROID:
        return !OidIsValid(collation) || get_collation_isdeterministic(collation);
    default:
        return false;
    }
}

struct Building {
    DeltaShape *shape;
    int item;            // the source's range table index
    Query *q;
    List *group_exprs;   // the GROUP BY expressions
    const char *refusal; // the first reason the source does not qualify
};

int arg_index(Building *b, Node *arg) {
    int i = 0;
    ListCell *lc;
    foreach (lc, b->shape->arg_exprs) {
        if (equal(lfirst(lc), arg))
            return i;
        i++;
    }
    b->shape->arg_exprs = lappend(b->shape->arg_exprs, arg);
    return i;
}

// An aggregate's single argument over the source's row, or nullptr (refusal set).
Node *aggregate_argument(Building *b, Aggref *a, const char *column) {
    if (list_length(a->args) != 1) {
        b->refusal = psprintf("column %s aggregates several arguments", quote_identifier(column));
        return nullptr;
    }
    Node *arg = reinterpret_cast<Node *>(static_cast<TargetEntry *>(linitial(a->args))->expr);
    if (!only_vars_of(arg, b->item)) {
        b->refusal = psprintf("column %s aggregates values of another table than %s", quote_identifier(column),
                              rel_name(b->shape->source));
        return nullptr;
    }
    if (find_function(arg, mutable_checker) != InvalidOid) {
        b->refusal = psprintf("column %s aggregates an expression that is not immutable", quote_identifier(column));
        return nullptr;
    }
    return over_row(arg, b->item);
}

// The move of one output column that is an aggregate (or coalesce(sum(x), 0)).
bool aggregate_move(Building *b, Node *expr, const char *column, DeltaColumn *col) {
    bool coalesced = false;
    if (IsA(expr, CoalesceExpr)) {
        auto *c = reinterpret_cast<CoalesceExpr *>(expr);
        Node *fallback = list_length(c->args) == 2 ? strip_coercions(static_cast<Node *>(lsecond(c->args))) : nullptr;
        bool zero = fallback != nullptr && IsA(fallback, Const) && !reinterpret_cast<Const *>(fallback)->constisnull &&
                    IsA(linitial(c->args), Aggref);
        if (zero) {
            Const *k = reinterpret_cast<Const *>(fallback);
            Datum z = k->constvalue;
            switch (k->consttype) {
            case INT2OID: zero = DatumGetInt16(z) == 0; break;
            case INT4OID: zero = DatumGetInt32(z) == 0; break;
            case INT8OID: zero = DatumGetInt64(z) == 0; break;
            case NUMERICOID: zero = DatumGetInt32(DirectFunctionCall2(numeric_cmp, z, DirectFunctionCall1(
                                                                          int4_numeric, Int32GetDatum(0)))) == 0;
                break;
            default: zero = false;
            }
        }
        if (!zero) {
            b->refusal = psprintf("column %s is a coalesce() other than coalesce(sum(x), 0)", quote_identifier(column));
            return false;
        }
        expr = static_cast<Node *>(linitial(c->args));
        coalesced = true;
    }
    if (!IsA(expr, Aggref)) {
        b->refusal = psprintf("column %s is neither a group column nor count, sum, avg, min or max",
                              quote_identifier(column));
        return false;
    }
    auto *a = reinterpret_cast<Aggref *>(expr);
    if (a->aggdistinct != NIL || a->aggfilter != nullptr || a->aggkind != AGGKIND_NORMAL || a->aggvariadic) {
        b->refusal = psprintf("column %s uses DISTINCT, FILTER or an ordered-set form of its aggregate",
                              quote_identifier(column));
        return false;
    }
    const char *name = get_func_name(a->aggfnoid);
    if (get_func_namespace(a->aggfnoid) != PG_CATALOG_NAMESPACE || name == nullptr) {
        b->refusal = psprintf("column %s uses an aggregate that is not invertible", quote_identifier(column));
        return false;
    }
    bool own = b->shape->own_groups;
    bool known = false;
    for (const char *invertible : {"count", "sum", "avg", "min", "max"})
        known = known || strcmp(name, invertible) == 0;
    if (!known) {
        b->refusal = psprintf("column %s uses %s(), which is not invertible", quote_identifier(column), name);
        return false;
    }
    if (strcmp(name, "count") == 0 && a->aggstar && !coalesced) {
        if (!own && !b->shape->one_row) {
            b->refusal = psprintf("column %s is count(*), which counts %s's NULL-extended row of an outer join",
                                  quote_identifier(column), rel_name(b->shape->source));
            return false;
        }
        col->move = Move::rows;
        return true;
    }
    Node *arg = aggregate_argument(b, a, column);
    if (arg == nullptr)
        return false;
    Oid type = exprType(arg);
    col->arg = arg_index(b, arg);
    if (strcmp(name, "count") == 0 && !coalesced) {
        col->move = Move::nonnull;
        return true;
    }
    bool summable = type == INT2OID || type == INT4OID || type == INT8OID || type == NUMERICOID;
    if ((strcmp(name, "sum") == 0 || strcmp(name, "avg") == 0) && !summable) {
        b->refusal = type == FLOAT4OID || type == FLOAT8OID
                         ? psprintf("column %s sums floating-point values: a delta would drift from the query's "
                                    "own sum", quote_identifier(column))
                         : psprintf("column %s sums a %s", quote_identifier(column), format_type_be(type));
        return false;
    }
    if (type == NUMERICOID && exprTypmod(arg) < 0) {
        // A sum's display scale is the largest of its values': a delta keeps the
        // scale of every value ever summed, the query only of those left.
        b->refusal = psprintf("column %s sums numeric values without a declared scale (numeric(p, s) keeps the "
                              "sum's scale fixed)", quote_identifier(column));
        return false;
    }
    if (strcmp(name, "sum") == 0) {
        col->move = coalesced ? Move::coalesce_sum : Move::sum;
        return true;
    }
    if (coalesced) {
        b->refusal = psprintf("column %s is a coalesce() other than coalesce(sum(x), 0)", quote_identifier(column));
        return false;
    }
    if (strcmp(name, "avg") == 0) {
        col->move = Move::avg;
        return true;
    }
    if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0) {
        if (!OidIsValid(lookup_type_cache(type, TYPECACHE_CMP_PROC)->cmp_proc)) {
            b->refusal = psprintf("column %s takes the %s of a type without an ordering", quote_identifier(column),
                                  name);
            return false;
        }
        col->move = name[1] == 'i' ? Move::min : Move::max;
        return true;
    }
    b->refusal = psprintf("column %s uses %s(), which is not invertible", quote_identifier(column), name);
    return false;
}

// A column of the view that counts argument `arg`'s non-null values (count(x)),
// or, for an argument that is NOT NULL, one that counts rows of the source:
// count(*) (own groups) or count(y) of any NOT NULL y. -1 when none.
int counting_column(Building *b, int arg, bool arg_not_null, const bool *arg_nn) {
    DeltaShape *s = b->shape;
    for (int i = 0; i < s->ncolumns; i++)
        if (s->columns[i].move == Move::nonnull && s->columns[i].arg == arg)
            return i;
    if (!arg_not_null)
        return -1;
    if ((s->own_groups || s->one_row) && s->rows_column >= 0)
        return s->rows_column;
    for (int i = 0; i < s->ncolumns; i++)
        if (s->columns[i].move == Move::nonnull && arg_nn[s->columns[i].arg])
            return i;
    return -1;
}

// Sums, averages and their NULLs: resolved once every column is known.
bool resolve_counts(Building *b) {
    DeltaShape *s = b->shape;
    int nargs = list_length(s->arg_exprs);
    bool *arg_nn = static_cast<bool *>(palloc0(sizeof(bool) * (nargs + 1)));
    // (The argument over the source's row: varno 1 now; not_null wants the item.)
    for (int i = 0; i < nargs; i++) {
        Node *e = static_cast<Node *>(copyObjectImpl(list_nth(s->arg_exprs, i)));
        ChangeVarNodes(e, 1, b->item, 0);
        arg_nn[i] = not_null(b->q, e, b->item);
    }
    for (int i = 0; i < s->ncolumns; i++) {
        DeltaColumn &c = s->columns[i];
        if (c.move == Move::coalesce_sum) {
            // When the last value goes the query shows the 0 it was given; with
            // numeric, the delta's zero would keep the values' scale (0.00).
            c.count_column = counting_column(b, c.arg, arg_nn[c.arg], arg_nn);
            Oid type = exprType(static_cast<Node *>(list_nth(s->arg_exprs, c.arg)));
            if (c.count_column < 0 && type == NUMERICOID) {
                b->refusal = psprintf("column %s is coalesce(sum(x), 0) of numeric values without count(x) beside "
                                      "it: a delta cannot tell when it falls back to 0",
                                      quote_identifier(c.name));
                return false;
            }
        }
        if (c.move == Move::sum) {
            c.count_column = counting_column(b, c.arg, arg_nn[c.arg], arg_nn);
            // Own groups, a NOT NULL argument: never NULL while the group exists.
            if (c.count_column < 0 && !(s->own_groups && arg_nn[c.arg])) {
                b->refusal = psprintf("column %s is sum(x) without count(x) beside it: a delta cannot tell when "
                                      "the sum becomes NULL (use coalesce(sum(x), 0), or add count(x))",
                                      quote_identifier(c.name));
                return false;
            }
        } else if (c.move == Move::avg) {
            c.sum_column = -1;
            for (int j = 0; j < s->ncolumns; j++)
                if ((s->columns[j].move == Move::sum || s->columns[j].move == Move::coalesce_sum) &&
                    s->columns[j].arg == c.arg)
                    c.sum_column = j;
            c.count_column = counting_column(b, c.arg, arg_nn[c.arg], arg_nn);
            if (c.sum_column < 0 || c.count_column < 0) {
                b->refusal = psprintf("column %s is avg(x): delta arithmetic keeps it from sum(x) and count(x), "
                                      "which the select list must have too",
                                      quote_identifier(c.name));
                return false;
            }
        }
    }
    return true;
}

// The filters a source row must pass: conjuncts of quals that mention only
// the source; false (refusal set) when a conjunct mixes it with other items.
bool collect_filters(Building *b, Node *quals, bool source_only_allowed) {
    if (quals == nullptr)
        return true;
    quals = flatten_join_alias_vars(b->q, quals);
    List *conjuncts = conjuncts_of(quals);
    ListCell *lc;
    foreach (lc, conjuncts) {
        Node *c = static_cast<Node *>(lfirst(lc));
        if (!mentions(c, b->item))
            continue;
        if (!source_only_allowed || !only_vars_of(c, b->item) || find_function(c, mutable_checker) != InvalidOid) {
            b->refusal = psprintf("a condition mixes %s with other tables, or is not immutable",
                                  rel_name(b->shape->source));
            return false;
        }
        b->shape->filters = lappend(b->shape->filters, over_row(c, b->item));
    }
    return true;
}

// The LEFT JOIN of shape update: P LEFT JOIN T ON equalities P.k = T.fk (and
// conditions on T alone). Returns the preserved item, or 0 (refusal set).
int preserved_item(Building *b) {
    auto *from = b->q->jointree;
    if (list_length(from->fromlist) != 1 || !IsA(linitial(from->fromlist), JoinExpr)) {
        b->refusal = "only one table, or one table on the nullable side of a LEFT JOIN, is kept by delta arithmetic";
        return 0;
    }
    auto *j = static_cast<JoinExpr *>(linitial(from->fromlist));
    Node *preserved = j->jointype == JOIN_LEFT ? j->larg : j->jointype == JOIN_RIGHT ? j->rarg : nullptr;
    Node *nullable = j->jointype == JOIN_LEFT ? j->rarg : j->jointype == JOIN_RIGHT ? j->larg : nullptr;
    if (preserved == nullptr || !IsA(preserved, RangeTblRef) || !IsA(nullable, RangeTblRef) ||
        reinterpret_cast<RangeTblRef *>(nullable)->rtindex != b->item) {
        b->refusal = psprintf("%s is not on the nullable side of a LEFT JOIN from a single table",
                              rel_name(b->shape->source));
        return 0;
    }
    int p = reinterpret_cast<RangeTblRef *>(preserved)->rtindex;
    // The ON clause: equalities between P and T, and conditions on T alone.
    Node *on = flatten_join_alias_vars(b->q, j->quals);
    List *conjuncts = conjuncts_of(on);
    List *p_columns = NIL;
    ListCell *lc;
    foreach (lc, conjuncts) {
        Node *c = static_cast<Node *>(lfirst(lc));
        if (only_vars_of(c, b->item) && find_function(c, mutable_checker) == InvalidOid) {
            b->shape->filters = lappend(b->shape->filters, over_row(c, b->item));
            continue;
        }
        auto *op = IsA(c, OpExpr) ? reinterpret_cast<OpExpr *>(c) : nullptr;
        Var *l = op != nullptr && list_length(op->args) == 2 ? plain_var(static_cast<Node *>(linitial(op->args))) : nullptr;
        Var *r = op != nullptr && list_length(op->args) == 2 ? plain_var(static_cast<Node *>(lsecond(op->args))) : nullptr;
        Var *pv = l != nullptr && static_cast<int>(l->varno) == p ? l : r;
        Var *tv = pv == l ? r : l;
        if (op == nullptr || l == nullptr || r == nullptr || !is_equality(op->opno) || pv == nullptr || tv == nullptr ||
            static_cast<int>(pv->varno) != p || static_cast<int>(tv->varno) != b->item) {
            b->refusal = "the LEFT JOIN's condition is not equalities between the two tables (and conditions on the "
                         "joined table alone)";
            return 0;
        }
        p_columns = lappend_int(p_columns, pv->varattno);
    }
    if (p_columns == NIL || !unique_on(rt_fetch(p, b->q->rtable)->relid, p_columns)) {
        b->refusal = psprintf("%s's join columns are not unique: a row of %s could count in several groups",
                              rel_name(rt_fetch(p, b->q->rtable)->relid), rel_name(b->shape->source));
        return 0;
    }
    return p;
}

void build_layout(DeltaShape *s) {
    int n = list_length(s->arg_exprs);
    auto *args = static_cast<changes::DeltaArg *>(palloc0(sizeof(changes::DeltaArg) * (n + 1)));
    for (int i = 0; i < n; i++) {
        Oid type = exprType(static_cast<Node *>(list_nth(s->arg_exprs, i)));
        args[i].type = type;
        args[i].collation = exprCollation(static_cast<Node *>(list_nth(s->arg_exprs, i)));
    }
    for (int c = 0; c < s->ncolumns; c++) {
        const DeltaColumn &col = s->columns[c];
        if (col.arg < 0)
            continue;
        changes::DeltaArg &a = args[col.arg];
        switch (col.move) {
        case Move::nonnull: a.nonnull = true; break;
        case Move::sum:
        case Move::coalesce_sum:
        case Move::avg:
            a.sum = a.type == NUMERICOID ? 'n' : a.type == INT8OID ? 'w' : 'i';
            break;
        case Move::min: a.min = true; break;
        case Move::max: a.max = true; break;
        default: break;
        }
    }
    s->layout = {n, args};
}

// The shape of one source, or nullptr with b->refusal set.
DeltaShape *build_shape(Building *bp, const KeyAnalysis *ka) {
    Building &b = *bp;
    DeltaShape *s = b.shape;
    bool own = s->own_groups;
    Query *q = b.q;
    int item = b.item;
    RangeTblEntry *rte = rt_fetch(item, q->rtable);

    // The key, from the source's row directly (the key analysis's derivation).
    List *sources = sources_of(ka, rte->relid);
    if (list_length(sources) != 1 || static_cast<SourceKey *>(linitial(sources))->kind != derive_direct) {
        b.refusal = psprintf("the key is not found from %s's rows directly", rel_name(rte->relid));
        return nullptr;
    }
    s->key_exprs = static_cast<SourceKey *>(linitial(sources))->exprs;
    ListCell *kc;
    foreach (kc, s->key_exprs) {
        Node *k = static_cast<Node *>(lfirst(kc));
        if (!equal_means_same_bytes(exprType(k), exprCollation(k))) {
            b.refusal = psprintf("the key's type %s has equal values that differ in their bytes: the deltas of "
                                 "two such values would be kept apart", format_type_be(exprType(k)));
            return nullptr;
        }
    }

    if (own || s->one_row) {
        if (!collect_filters(&b, reinterpret_cast<Node *>(q->jointree->quals), true))
            return nullptr;
    } else {
        int p = preserved_item(&b);
        if (p == 0)
            return nullptr;
        // WHERE may only filter the groups (P's rows).
        Node *where = reinterpret_cast<Node *>(q->jointree->quals);
        if (where != nullptr && mentions(flatten_join_alias_vars(q, where), item)) {
            b.refusal = psprintf("WHERE tests columns of %s, the nullable side of the LEFT JOIN",
                                 rel_name(rte->relid));
            return nullptr;
        }
    }

    List *columns = NIL;
    ListCell *lc;
    foreach (lc, q->targetList)
        if (!static_cast<TargetEntry *>(lfirst(lc))->resjunk)
            columns = lappend(columns, lfirst(lc));
    s->ncolumns = list_length(columns);
    s->columns = static_cast<DeltaColumn *>(palloc0(sizeof(DeltaColumn) * (s->ncolumns + 1)));
    int i = 0;
    foreach (lc, columns) {
        auto *tle = static_cast<TargetEntry *>(lfirst(lc));
        DeltaColumn &col = s->columns[i];
        col.arg = col.count_column = col.sum_column = -1;
        col.name = pstrdup(tle->resname != nullptr ? tle->resname : "?column?");
        col.type = exprType(reinterpret_cast<Node *>(tle->expr));
        Node *expr = flatten_join_alias_vars(q, reinterpret_cast<Node *>(tle->expr));
        bool is_key = false;
        for (int k = 0; k < ka->nkeys; k++)
            is_key = is_key || strcmp(ka->key_names[k], col.name) == 0;
        bool is_group = false;
        ListCell *g;
        foreach (g, b.group_exprs)
            is_group = is_group || equal(flatten_join_alias_vars(q, static_cast<Node *>(lfirst(g))), expr);
        if (is_key || is_group) {
            col.move = is_key ? Move::key : Move::fixed;
            if (own && !is_key) {
                // (A new group would need its value: not kept by a delta yet.)
                b.refusal = psprintf("group column %s is not part of the unique key", quote_identifier(col.name));
                return nullptr;
            } else if (!own && mentions(expr, item)) {
                b.refusal = psprintf("group column %s comes from %s, the nullable side of the LEFT JOIN",
                                     quote_identifier(col.name), rel_name(rte->relid));
                return nullptr;
            }
        } else if (!aggregate_move(&b, expr, col.name, &col)) {
            return nullptr;
        }
        if (col.move == Move::rows)
            s->rows_column = i;
        s->extremes = s->extremes || col.move == Move::min || col.move == Move::max;
        i++;
    }
    if (own && s->rows_column < 0) {
        b.refusal = "the select list has no count(*): a delta cannot tell when a group empties";
        return nullptr;
    }
    if (!resolve_counts(&b))
        return nullptr;
    build_layout(s);
    return s;
}

// The shape of one source, or nullptr with the reason in *refusal.
DeltaShape *shape_for(Oid view, const KeyAnalysis *ka, Query *q, int item, bool own, const char **refusal) {
    RangeTblEntry *rte = rt_fetch(item, q->rtable);
    auto *s = static_cast<DeltaShape *>(palloc0(sizeof(DeltaShape)));
    s->view = view;
    s->source = rte->relid;
    s->one_row = q->groupClause == NIL; // (view_reason let only aggregates through)
    s->own_groups = own && !s->one_row;
    s->rows_column = -1;
    Building b{s, item, q, clause_exprs(q->groupClause, q->targetList), nullptr};
    DeltaShape *shape = build_shape(&b, ka);
    *refusal = b.refusal;
    return shape;
}


} // namespace

DeltaAnalysis *analyze_delta(Oid view, Oid definition, const KeyAnalysis *ka) {
    auto *da = static_cast<DeltaAnalysis *>(palloc0(sizeof(DeltaAnalysis)));
    Query *q = rewritten_query(definition);
    if (const char *why = view_reason(ka, q)) {
        refuse(da, InvalidOid, why);
        return da;
    }
    if (find_function(reinterpret_cast<Node *>(q), volatile_checker) != InvalidOid) {
        refuse(da, InvalidOid, "the query calls a volatile function");
        return da;
    }
    JoinTree *jt = read_jointree(q);
    List *items = NIL;
    if (!table_items(q, jt, &items)) {
        refuse(da, InvalidOid, "the query reads something other than tables (a subquery, a function, a "
                               "materialized view)");
        return da;
    }
    ListCell *lc;
    foreach (lc, items) {
        int item = lfirst_int(lc);
        Oid relid = rt_fetch(item, q->rtable)->relid;
        bool own = list_length(items) == 1;
        if (!own && q->groupClause == NIL) {
            refuse(da, relid, "delta arithmetic keeps aggregates without GROUP BY over one table: this query joins "
                              "more");
            continue;
        }
        if (!own && list_length(items) != 2) {
            refuse(da, relid, "delta arithmetic keeps one table, or one table on the nullable side of a LEFT "
                              "JOIN: this query joins more");
            continue;
        }
        if (!own && jt->ancestors[item] == NIL) {
            refuse(da, relid, psprintf("changes of %s make or remove whole groups: their keys are recomputed",
                                       rel_name(relid)));
            continue;
        }
        const char *refusal = nullptr;
        DeltaShape *s = shape_for(view, ka, q, item, own, &refusal);
        if (s != nullptr)
            da->shapes = lappend(da->shapes, s);
        else
            refuse(da, relid, refusal);
    }
    return da;
}

const DeltaShape *delta_shape_of(const DeltaAnalysis *da, Oid source) {
    ListCell *lc;
    foreach (lc, da->shapes)
        if (static_cast<DeltaShape *>(lfirst(lc))->source == source)
            return static_cast<DeltaShape *>(lfirst(lc));
    return nullptr;
}

const char *delta_refusal_of(const DeltaAnalysis *da, Oid source) {
    ListCell *lc;
    foreach (lc, da->refusals) {
        auto *r = static_cast<DeltaRefusal *>(lfirst(lc));
        if (r->source == source || r->source == InvalidOid)
            return r->reason;
    }
    return nullptr;
}

} // namespace pgview::analysis
