// pgview_auto — keys by lookup in the view's rows (see row_lookup.hpp).
//
// The walk goes up the join tree from the changed item and keeps, at each
// node, what bounds the node's altered rows (rows that appear or disappear
// when t changes), as pairs "column c of the node's output equals t.a":
//   strong   every altered row has c = t.a;
//   or_null  every altered row has c = t.a or c IS NULL (a FULL JOIN's rows
//            carry a side's columns or NULLs);
//   clauses  a cover: every altered row satisfies some clause, a clause being
//            a set of strong pairs for the rows it covers (any one will do).
// Joins transfer pairs through their ON / WHERE equalities (a row in which
// x.a = q.b held has q.b = t.a); an outer join whose preserved side's rows
// may gain or lose their match adds those rows as a clause through the ON
// equality, unless its ON clause reads only an unchanged subtree that the
// changed side preserves (every row of it stays present: matches cannot
// change). At the top, a strong pair whose column the view outputs gives the
// predicate alone; else each clause needs one such pair, OR-ed.
#include "analysis/row_lookup.hpp"

#include "analysis/key_description.hpp"
#include "analysis/query_tree.hpp"
#include "pg/quote.hpp"

extern "C" {
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace pgview::analysis {

namespace {

// Column col of FROM item `item` (a Var of the top query) equals the changed
// row's column src; or, through another table Q (via_rel), is one of Q's values
// of column via_col in its rows whose via_key equals src (via_key 0: any of
// Q's rows). Q's rows are read when the keys are looked up, so Q must not be
// the changed table, and Q's own changes must be found without reading other
// tables (checked over all sources: key_analysis.cpp).
struct Pair {
    int item;
    AttrNumber col;
    AttrNumber src; // 0: none (via any of Q's rows)
    Oid type;       // col's type
    Oid src_type;   // src's type
    Oid via_rel;
    bool via_only;  // the query reads Q without its children
    AttrNumber via_col;
    AttrNumber via_key;
};

Pair *new_pair(int item, AttrNumber col, AttrNumber src, Oid type) {
    auto *p = static_cast<Pair *>(palloc0(sizeof(Pair)));
    *p = {item, col, src, type, type, InvalidOid, false, 0, 0};
    return p;
}

struct Cover {
    bool holds = false; // the node holds the changed item
    bool ok = true;
    List *strong = NIL;  // Pair *
    List *or_null = NIL; // Pair *
    List *clauses = NIL; // List * of Pair *
};

// An equality of two columns of one type by that type's default equality
// (the one the lookup's SQL compares with).
struct Eq {
    Var *a;
    Var *b;
};

bool usable_type(Oid type) {
    return OidIsValid(default_equality(type)) && OidIsValid(get_array_type(type));
}

List *equalities_of(Query *q, Node *quals) {
    List *conjuncts = conjuncts_of(quals != nullptr ? flatten_join_alias_vars(q, quals) : nullptr);
    List *out = NIL;
    ListCell *lc;
    foreach (lc, conjuncts) {
        auto *c = static_cast<Node *>(lfirst(lc));
        if (!IsA(c, OpExpr) || list_length(reinterpret_cast<OpExpr *>(c)->args) != 2)
            continue;
        auto *op = reinterpret_cast<OpExpr *>(c);
        auto *a = static_cast<Node *>(linitial(op->args));
        auto *b = static_cast<Node *>(lsecond(op->args));
        if (!IsA(a, Var) || !IsA(b, Var))
            continue;
        Var *x = reinterpret_cast<Var *>(a), *y = reinterpret_cast<Var *>(b);
        if (x->varlevelsup != 0 || y->varlevelsup != 0 || x->varattno <= 0 || y->varattno <= 0 ||
            x->vartype != y->vartype || op->opno != default_equality(x->vartype))
            continue;
        auto *eq = static_cast<Eq *>(palloc(sizeof(Eq)));
        *eq = {x, y};
        out = lappend(out, eq);
    }
    return out;
}

bool same(const Pair *p, const Pair *q) {
    return p->item == q->item && p->col == q->col && p->src == q->src && p->via_rel == q->via_rel &&
           p->via_col == q->via_col && p->via_key == q->via_key;
}

List *add_pair(List *list, Pair *p) {
    ListCell *lc;
    foreach (lc, list)
        if (same(static_cast<Pair *>(lfirst(lc)), p))
            return list;
    return lappend(list, p);
}

List *union_pairs(List *a, List *b) {
    ListCell *lc;
    foreach (lc, b)
        a = add_pair(a, static_cast<Pair *>(lfirst(lc)));
    return a;
}

// The items of a join tree node.
void items_of(Node *node, Bitmapset **out) {
    if (node == nullptr)
        return;
    if (IsA(node, RangeTblRef)) {
        *out = bms_add_member(*out, reinterpret_cast<RangeTblRef *>(node)->rtindex);
    } else if (IsA(node, JoinExpr)) {
        items_of(reinterpret_cast<JoinExpr *>(node)->larg, out);
        items_of(reinterpret_cast<JoinExpr *>(node)->rarg, out);
    } else if (IsA(node, FromExpr)) {
        ListCell *lc;
        foreach (lc, reinterpret_cast<FromExpr *>(node)->fromlist)
            items_of(static_cast<Node *>(lfirst(lc)), out);
    }
}

bool holds_item(Node *node, int item) {
    Bitmapset *items = nullptr;
    items_of(node, &items);
    return bms_is_member(item, items);
}

struct Walk {
    Query *q;
    int item;
    Oid relid; // the changed table
    List *base;
};

// The table a FROM item reads, when it is one other than the changed table
// (InvalidOid else).
Oid other_table(const Walk *w, int item, bool *only) {
    RangeTblEntry *rte = rt_fetch(item, w->q->rtable);
    if (rte->rtekind != RTE_RELATION || item == w->item || rte->relid == w->relid)
        return InvalidOid;
    *only = !rte->inh;
    return rte->relid;
}

// Pairs moved through the equalities (closed: a = b, b = c), onto items of
// `onto` only (nullptr: anywhere). A plain pair that reaches a column b of
// another table Q also gives each column c of Q, as "one of Q's c where b is
// the changed row's value" (the row of Q the equality matched).
List *transfer(const Walk *w, List *pairs, List *eqs, const Bitmapset *onto) {
    List *reached = list_copy(pairs);
    List *out = NIL;
    auto reach = [&](Pair *n) {
        int before = list_length(reached);
        reached = add_pair(reached, n);
        if (list_length(reached) > before && (onto == nullptr || bms_is_member(n->item, onto)))
            out = add_pair(out, n);
    };
    for (int i = 0; i < list_length(reached); i++) {
        auto *p = static_cast<Pair *>(list_nth(reached, i));
        ListCell *lc;
        foreach (lc, eqs) {
            auto *eq = static_cast<Eq *>(lfirst(lc));
            for (int side = 0; side < 2; side++) {
                Var *from = side == 0 ? eq->a : eq->b, *to = side == 0 ? eq->b : eq->a;
                if (static_cast<int>(from->varno) != p->item || from->varattno != p->col)
                    continue;
                auto *n = static_cast<Pair *>(palloc(sizeof(Pair)));
                *n = *p;
                n->item = static_cast<int>(to->varno);
                n->col = to->varattno;
                n->type = to->vartype;
                reach(n);
                bool only = false;
                Oid q = OidIsValid(p->via_rel) ? InvalidOid : other_table(w, n->item, &only);
                if (!OidIsValid(q))
                    continue;
                Relation rel = relation_open(q, AccessShareLock);
                TupleDesc desc = RelationGetDescr(rel);
                for (int a = 0; a < desc->natts; a++) {
                    Form_pg_attribute att = TupleDescAttr(desc, a);
                    if (att->attisdropped || att->attnum == to->varattno || !usable_type(att->atttypid))
                        continue;
                    auto *v = static_cast<Pair *>(palloc(sizeof(Pair)));
                    *v = {n->item, att->attnum, p->src, att->atttypid, p->src_type, q, only, att->attnum,
                          to->varattno};
                    reach(v);
                }
                relation_close(rel, AccessShareLock);
            }
        }
    }
    return out;
}

// Rows of the other side of an outer join whose match flips equal, through an
// ON equality, a column b of another table B that x reads: one of B's values of
// b (B's rows as they are; any of them).
List *any_of_table(const Walk *w, List *eqs, const Bitmapset *x_items, const Bitmapset *onto) {
    List *out = NIL;
    ListCell *lc;
    foreach (lc, eqs) {
        auto *eq = static_cast<Eq *>(lfirst(lc));
        for (int side = 0; side < 2; side++) {
            Var *mine = side == 0 ? eq->a : eq->b, *theirs = side == 0 ? eq->b : eq->a;
            bool only = false;
            Oid b = bms_is_member(mine->varno, x_items) ? other_table(w, mine->varno, &only) : InvalidOid;
            if (!OidIsValid(b) || !bms_is_member(theirs->varno, onto))
                continue;
            auto *p = static_cast<Pair *>(palloc(sizeof(Pair)));
            *p = {static_cast<int>(theirs->varno), theirs->varattno, 0, theirs->vartype, InvalidOid, b, only,
                  mine->varattno, 0};
            out = add_pair(out, p);
        }
    }
    return out;
}

// Whether the rows of an outer join's other side keep their matches when the
// changed side x changes: its ON clause reads x only through a subtree that
// holds no changed item and that x preserves (every join between them keeps
// that subtree's rows), and tests it by some equality (a NULL-extended row of
// it matches nothing).
bool matches_stable(Query *q, Node *x, Node *quals, List *eqs, int changed) {
    if (checkExprHasSubLink(quals))
        return false; // (a subquery may read x's columns as outer references)
    Bitmapset *x_items = nullptr;
    items_of(x, &x_items);
    Bitmapset *read = nullptr;
    List *vars = pull_var_clause(flatten_join_alias_vars(q, quals), PVC_RECURSE_PLACEHOLDERS);
    ListCell *lc;
    foreach (lc, vars) {
        Var *v = static_cast<Var *>(lfirst(lc));
        if (v->varlevelsup == 0 && bms_is_member(v->varno, x_items))
            read = bms_add_member(read, v->varno);
    }
    if (read == nullptr)
        return false;
    bool tested = false;
    foreach (lc, eqs) {
        auto *eq = static_cast<Eq *>(lfirst(lc));
        tested = tested || bms_is_member(eq->a->varno, read) || bms_is_member(eq->b->varno, read);
    }
    if (!tested)
        return false;
    // Down from x through joins that preserve the side holding every item read.
    Node *y = x;
    for (;;) {
        Node *next = nullptr;
        if (IsA(y, JoinExpr)) {
            auto *j = reinterpret_cast<JoinExpr *>(y);
            Bitmapset *l = nullptr, *r = nullptr;
            items_of(j->larg, &l);
            items_of(j->rarg, &r);
            if (bms_is_subset(read, l) && (j->jointype == JOIN_LEFT || j->jointype == JOIN_FULL))
                next = j->larg;
            else if (bms_is_subset(read, r) && (j->jointype == JOIN_RIGHT || j->jointype == JOIN_FULL))
                next = j->rarg;
        } else if (IsA(y, FromExpr) && list_length(reinterpret_cast<FromExpr *>(y)->fromlist) == 1 &&
                   reinterpret_cast<FromExpr *>(y)->quals == nullptr) {
            next = static_cast<Node *>(linitial(reinterpret_cast<FromExpr *>(y)->fromlist));
        }
        if (next == nullptr)
            break;
        y = next;
    }
    Bitmapset *y_items = nullptr;
    items_of(y, &y_items);
    return y != x && bms_is_subset(read, y_items) && !bms_is_member(changed, y_items);
}

// One table's columns as read by a FROM item: the table itself, or a subquery
// (CTE) that only selects and filters one table's rows. *relid gets the table.
List *base_pairs(Query *q, int item, Oid *relid) {
    RangeTblEntry *rte = rt_fetch(item, q->rtable);
    List *out = NIL;
    if (rte->rtekind == RTE_RELATION) {
        *relid = rte->relid;
        Relation rel = relation_open(rte->relid, AccessShareLock);
        TupleDesc desc = RelationGetDescr(rel);
        for (int a = 0; a < desc->natts; a++) {
            Form_pg_attribute att = TupleDescAttr(desc, a);
            if (att->attisdropped || !usable_type(att->atttypid))
                continue;
            out = lappend(out, new_pair(item, att->attnum, att->attnum, att->atttypid));
        }
        relation_close(rel, AccessShareLock);
        return out;
    }
    Query *sub = nullptr;
    if (rte->rtekind == RTE_SUBQUERY) {
        sub = rte->subquery;
    } else if (rte->rtekind == RTE_CTE && rte->ctelevelsup == 0 && !rte->self_reference) {
        ListCell *lc;
        foreach (lc, q->cteList) {
            auto *cte = static_cast<CommonTableExpr *>(lfirst(lc));
            if (strcmp(cte->ctename, rte->ctename) == 0 && !cte->cterecursive && IsA(cte->ctequery, Query))
                sub = reinterpret_cast<Query *>(cte->ctequery);
        }
    }
    if (sub == nullptr || sub->commandType != CMD_SELECT || sub->setOperations != nullptr || sub->hasAggs ||
        sub->groupClause != NIL || sub->groupingSets != NIL || sub->hasWindowFuncs || sub->hasDistinctOn ||
        sub->distinctClause != NIL || sub->limitCount != nullptr || sub->limitOffset != nullptr ||
        sub->hasTargetSRFs || sub->hasSubLinks || sub->cteList != NIL || sub->jointree == nullptr ||
        list_length(sub->jointree->fromlist) != 1 || !IsA(linitial(sub->jointree->fromlist), RangeTblRef))
        return NIL;
    int inner = reinterpret_cast<RangeTblRef *>(linitial(sub->jointree->fromlist))->rtindex;
    RangeTblEntry *table = rt_fetch(inner, sub->rtable);
    if (table->rtekind != RTE_RELATION)
        return NIL;
    *relid = table->relid;
    ListCell *lc;
    foreach (lc, sub->targetList) {
        auto *tle = lfirst_node(TargetEntry, lc);
        if (tle->resjunk || !IsA(tle->expr, Var))
            continue;
        auto *v = reinterpret_cast<Var *>(tle->expr);
        if (v->varlevelsup != 0 || static_cast<int>(v->varno) != inner || v->varattno <= 0 ||
            !usable_type(v->vartype))
            continue;
        out = lappend(out, new_pair(item, tle->resno, v->varattno, v->vartype));
    }
    return out;
}

Cover visit(Walk *w, Node *node);

// An inner join of x with the rest: every row made from an altered row of x
// satisfied the equalities.
Cover inner(const Walk *w, const Cover &x, List *eqs) {
    Cover c = x;
    c.strong = union_pairs(list_copy(x.strong), transfer(w, x.or_null, eqs, nullptr));
    c.or_null = union_pairs(list_copy(x.or_null), c.strong);
    c.clauses = NIL;
    ListCell *lc;
    foreach (lc, x.clauses) {
        List *clause = static_cast<List *>(lfirst(lc));
        c.clauses = lappend(c.clauses, union_pairs(list_copy(clause), transfer(w, clause, eqs, nullptr)));
    }
    return c;
}

Cover join(Walk *w, JoinExpr *j) {
    bool left = holds_item(j->larg, w->item);
    Node *xs = left ? j->larg : j->rarg;
    Node *other = left ? j->rarg : j->larg;
    Cover x = visit(w, xs);
    if (!x.ok)
        return x;
    List *eqs = equalities_of(w->q, j->quals);
    if (j->jointype == JOIN_INNER)
        return inner(w, x, eqs);
    bool x_preserved = (j->jointype == JOIN_LEFT && left) || (j->jointype == JOIN_RIGHT && !left) ||
                       j->jointype == JOIN_FULL;
    bool other_preserved = (j->jointype == JOIN_LEFT && !left) || (j->jointype == JOIN_RIGHT && left) ||
                           j->jointype == JOIN_FULL;
    Cover c = x;
    if (!other_preserved) {
        // The other side is NULL-extended where x has no match: the rows made
        // from x's altered rows are all the altered rows.
        c.or_null = union_pairs(list_copy(x.or_null), transfer(w, x.or_null, eqs, nullptr));
        return c;
    }
    if (matches_stable(w->q, xs, j->quals, eqs, w->item)) {
        if (!x_preserved)
            return inner(w, x, eqs); // only matched rows are made from x
        c.or_null = union_pairs(list_copy(x.or_null), transfer(w, x.or_null, eqs, nullptr));
        return c;
    }
    // Rows of the other side whose match with x's altered rows flips: they equal
    // such a row through an ON equality (an altered row whose column is NULL
    // matches nothing).
    Bitmapset *onto = nullptr, *x_items = nullptr;
    items_of(other, &onto);
    items_of(xs, &x_items);
    List *ext = transfer(w, x.or_null, eqs, onto);
    if (ext == NIL)
        ext = any_of_table(w, eqs, x_items, onto);
    if (ext == NIL) {
        c.ok = false;
        return c;
    }
    if (!x_preserved) {
        // x is the nullable side: every altered row is the other side's row,
        // matched or not, equal through the ON equality.
        c.strong = ext;
        c.or_null = union_pairs(list_copy(x.or_null), ext);
        c.clauses = list_make1(ext);
        return c;
    }
    c.strong = NIL; // either side may be NULL in an altered row
    c.or_null = union_pairs(list_copy(x.or_null), ext);
    c.clauses = lappend(list_copy(x.clauses), ext);
    return c;
}

Cover visit(Walk *w, Node *node) {
    Cover c;
    if (node == nullptr)
        return c;
    if (IsA(node, RangeTblRef)) {
        if (reinterpret_cast<RangeTblRef *>(node)->rtindex != w->item)
            return c;
        c.holds = true;
        c.strong = w->base;
        c.or_null = w->base;
        c.clauses = list_make1(w->base);
        return c;
    }
    if (IsA(node, JoinExpr)) {
        if (!holds_item(node, w->item))
            return c;
        c = join(w, reinterpret_cast<JoinExpr *>(node));
        c.holds = true;
        return c;
    }
    if (IsA(node, FromExpr)) {
        auto *f = reinterpret_cast<FromExpr *>(node);
        ListCell *lc;
        foreach (lc, f->fromlist) {
            Node *child = static_cast<Node *>(lfirst(lc));
            if (holds_item(child, w->item)) {
                Cover x = visit(w, child);
                if (!x.ok)
                    return x;
                // (the other items are joined inner, the WHERE filters)
                c = inner(w, x, equalities_of(w->q, f->quals));
                c.holds = true;
                return c;
            }
        }
    }
    c.ok = false;
    return c;
}

// The view's column that outputs item's column col, or nullptr.
const char *output_column(Query *q, const Pair *p) {
    ListCell *lc;
    foreach (lc, q->targetList) {
        auto *tle = lfirst_node(TargetEntry, lc);
        if (tle->resjunk || tle->resname == nullptr)
            continue;
        Node *flat = flatten_join_alias_vars(q, reinterpret_cast<Node *>(tle->expr));
        if (!IsA(flat, Var))
            continue;
        auto *v = reinterpret_cast<Var *>(flat);
        if (v->varlevelsup == 0 && static_cast<int>(v->varno) == p->item && v->varattno == p->col &&
            v->vartype == p->type)
            return tle->resname;
    }
    return nullptr;
}

const Pair *first_output(Query *q, List *pairs) {
    ListCell *lc;
    foreach (lc, pairs)
        if (output_column(q, static_cast<Pair *>(lfirst(lc))) != nullptr)
            return static_cast<Pair *>(lfirst(lc));
    return nullptr;
}

// Whether the query's rows are each made of one row of its FROM (no grouping,
// windows or limits that combine rows of other values).
bool rows_stand_alone(Query *q) {
    return q->commandType == CMD_SELECT && q->setOperations == nullptr && !q->hasAggs && q->groupClause == NIL &&
           q->groupingSets == NIL && !q->hasWindowFuncs && !q->hasDistinctOn && q->limitCount == nullptr &&
           q->limitOffset == nullptr && !q->hasTargetSRFs && q->jointree != nullptr &&
           find_function(reinterpret_cast<Node *>(q), volatile_checker) == InvalidOid;
}

// The lookup source of table relid for the chosen pairs: its captured columns
// and the predicate over the view's rows (alias v), one OR-ed test per pair.
SourceKey *make_lookup(Query *q, Oid relid, List *chosen, List *base) {
    SourceKey *sk = new_source(relid, derive_join);
    // The parameter of the changed row's column src ($n, an array of its values).
    auto param_of = [sk](AttrNumber src, Oid type) {
        if (!list_member_int(sk->capture_attnos, src)) {
            sk->capture_attnos = lappend_int(sk->capture_attnos, src);
            sk->capture_types = lappend_oid(sk->capture_types, type);
        }
        int param = 0;
        for (int i = 0; i < list_length(sk->capture_attnos); i++)
            if (list_nth_int(sk->capture_attnos, i) == src)
                param = i + 1;
        return psprintf("$%d::%s[]", param, format_type_be_qualified(type));
    };
    StringInfoData where, described;
    initStringInfo(&where);
    initStringInfo(&described);
    ListCell *lc;
    foreach (lc, chosen) {
        auto *p = static_cast<Pair *>(lfirst(lc));
        const char *col = quote_identifier(output_column(q, p));
        const char *eq = equality_operator(p->type);
        appendStringInfoString(&where, where.len > 0 ? " OR " : "");
        appendStringInfoString(&described, described.len > 0 ? " or " : "");
        if (!OidIsValid(p->via_rel)) {
            const char *array = param_of(p->src, p->type);
            // (a changed row's NULL is looked up as NULL: the rows made from it hold it)
            appendStringInfo(&where, "(v.%s %s ANY (%s) OR (v.%s IS NULL AND pg_catalog.array_position(%s, NULL) IS "
                                     "NOT NULL))",
                             col, eq, array, col, array);
            appendStringInfo(&described, "%s = %s.%s", col, rel_name(relid), column_name(relid, p->src));
            continue;
        }
        // One of Q's values (of Q's rows whose key column is the changed row's),
        // Q's NULL included.
        const char *from = psprintf("%s%s q", p->via_only ? "ONLY " : "", quote_relation(p->via_rel));
        const char *value = quote_identifier(column_name(p->via_rel, p->via_col));
        const char *filter = "true";
        if (p->via_key != 0)
            filter = psprintf("q.%s %s ANY (%s)", quote_identifier(column_name(p->via_rel, p->via_key)),
                              equality_operator(p->src_type), param_of(p->src, p->src_type));
        appendStringInfo(&where, "(v.%s %s ANY (ARRAY(SELECT q.%s FROM %s WHERE %s)) OR (v.%s IS NULL AND EXISTS "
                                 "(SELECT FROM %s WHERE %s AND q.%s IS NULL)))",
                         col, eq, value, from, filter, col, from, filter, value);
        if (p->via_key != 0)
            appendStringInfo(&described, "%s = %s.%s where %s.%s = %s.%s", col, rel_name(p->via_rel), value,
                             rel_name(p->via_rel), column_name(p->via_rel, p->via_key), rel_name(relid),
                             column_name(relid, p->src));
        else
            appendStringInfo(&described, "%s = any %s.%s", col, rel_name(p->via_rel), value);
        sk->lookup_reads = list_append_unique_oid(sk->lookup_reads, p->via_rel);
    }
    // (a change of the table must still be noted when no test reads its values)
    if (sk->capture_attnos == NIL) {
        auto *first = static_cast<Pair *>(linitial(base));
        (void) param_of(first->src, first->src_type);
    }
    sk->lookup_where = where.data;
    sk->key_from = psprintf("the view's rows where %s (looked up in the view and its query)", described.data);
    return sk;
}

} // namespace

SourceKey *lookup_source(Query *q, int item) {
    if (!rows_stand_alone(q))
        return nullptr;
    Oid relid = InvalidOid;
    List *base = base_pairs(q, item, &relid);
    Walk w{q, item, relid, base};
    if (w.base == NIL)
        return nullptr;
    Cover c = visit(&w, reinterpret_cast<Node *>(q->jointree));
    if (!c.ok || !c.holds)
        return nullptr;
    List *chosen = NIL;
    if (const Pair *p = first_output(q, c.strong)) {
        chosen = list_make1(const_cast<Pair *>(p));
    } else {
        ListCell *lc;
        foreach (lc, c.clauses) {
            const Pair *p = first_output(q, static_cast<List *>(lfirst(lc)));
            if (p == nullptr)
                return nullptr;
            chosen = add_pair(chosen, const_cast<Pair *>(p));
        }
    }
    if (chosen == NIL)
        return nullptr;
    return make_lookup(q, relid, chosen, base);
}

SourceKey *lookup_correlated(Query *q, Oid relid, const Var *x, AttrNumber inner) {
    Pair *p = new_pair(static_cast<int>(x->varno), x->varattno, inner, x->vartype);
    if (!rows_stand_alone(q) || get_atttype(relid, inner) != x->vartype || !usable_type(x->vartype) ||
        output_column(q, p) == nullptr)
        return nullptr;
    return make_lookup(q, relid, list_make1(p), list_make1(p));
}

char *lookup_key_query(const SourceKey *sk, Oid view, Oid definition, int nkeys, char *const *key_names) {
    StringInfoData cols, outer;
    initStringInfo(&cols);
    initStringInfo(&outer);
    for (int k = 0; k < nkeys; k++) {
        appendStringInfo(&cols, "%sv.%s", k > 0 ? ", " : "", quote_identifier(key_names[k]));
        appendStringInfo(&outer, "%ss.%s", k > 0 ? ", " : "", quote_identifier(key_names[k]));
    }
    return psprintf("SELECT DISTINCT %s FROM (SELECT %s FROM ONLY %s v WHERE %s UNION ALL SELECT %s FROM %s v "
                    "WHERE %s) s",
                    outer.data, cols.data, quote_relation(view), sk->lookup_where, cols.data,
                    quote_relation(definition), sk->lookup_where);
}

} // namespace pgview::analysis
