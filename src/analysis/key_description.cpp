// pgview_auto — describing derivations (see key_description.hpp).
#include "analysis/key_description.hpp"

#include "analysis/query_tree.hpp"

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


namespace {

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

} // namespace

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


} // namespace pgview::analysis
