// pgview_auto — see not_null.hpp.
#include "analysis/not_null.hpp"

#include "analysis/join_tree.hpp"
#include "analysis/query_tree.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_attribute.h"
#include "nodes/parsenodes.h"
#include "parser/parsetree.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"
}

namespace pgview::analysis {

bool attribute_not_null(Oid relid, AttrNumber attnum) {
    if (attnum <= 0)
        return attnum != 0; // system columns (ctid, ...) are never NULL
    HeapTuple tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
    if (!HeapTupleIsValid(tup))
        return false;
    bool not_null = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tup))->attnotnull;
    ReleaseSysCache(tup);
    return not_null;
}

namespace {

bool never_null(Query *q, Node *expr, int depth) {
    if (depth > 32) // views of views of ...: give up, it is only a proof
        return false;
    expr = strip_coercions(expr);
    if (expr == nullptr)
        return false;
    if (IsA(expr, Const))
        return !reinterpret_cast<Const *>(expr)->constisnull;
    if (IsA(expr, Aggref)) {
        Oid fn = reinterpret_cast<Aggref *>(expr)->aggfnoid;
        return fn == F_COUNT_ || fn == F_COUNT_ANY;
    }
    if (!IsA(expr, Var))
        return false;
    auto *var = reinterpret_cast<Var *>(expr);
    // Set operations, grouping sets (a subtotal row's grouped columns are NULL):
    // not shown here.
    if (var->varlevelsup != 0 || q->setOperations != nullptr || q->groupingSets != NIL)
        return false;
    JoinTree *jt = read_jointree(q);
    if (var->varno < 1 || var->varno > jt->nitems || !jt->in_from[var->varno] || jt->ancestors[var->varno] != NIL)
        return false; // a join's merged column, or from an outer join's nullable side
    RangeTblEntry *rte = rt_fetch(var->varno, q->rtable);
    if (rte->rtekind == RTE_RELATION)
        return attribute_not_null(rte->relid, var->varattno);
    if (rte->rtekind == RTE_SUBQUERY && var->varattno > 0) {
        TargetEntry *te = get_tle_by_resno(rte->subquery->targetList, var->varattno);
        return te != nullptr && never_null(rte->subquery, reinterpret_cast<Node *>(te->expr), depth + 1);
    }
    return false;
}

} // namespace

bool columns_never_null(Oid definition, const char *const *names, int n) {
    Query *q = rewritten_query(definition);
    for (int i = 0; i < n; i++) {
        TargetEntry *found = nullptr;
        ListCell *lc;
        foreach (lc, q->targetList) {
            auto *te = static_cast<TargetEntry *>(lfirst(lc));
            if (!te->resjunk && te->resname != nullptr && strcmp(te->resname, names[i]) == 0) {
                found = te;
                break;
            }
        }
        if (found == nullptr || !never_null(q, reinterpret_cast<Node *>(found->expr), 0))
            return false;
    }
    return true;
}

} // namespace pgview::analysis
