// pgview_auto — equalities through joins (see join_tree.hpp).
#include "analysis/join_tree.hpp"

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

void collect_equalities(JoinTree *jt, Query *q, Node *quals, List *ancestors, JoinExpr *outer, bool never) {
    if (quals == nullptr)
        return;
    quals = flatten_join_alias_vars(q, quals);
    List *conjuncts = conjuncts_of(quals);
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


} // namespace pgview::analysis
