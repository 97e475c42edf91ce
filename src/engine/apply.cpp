// pgview_auto — the runner (see apply.hpp).
#include "engine/apply.hpp"

#include "tableview/write_guard.hpp"

extern "C" {
#include "access/relation.h"
#include "access/htup_details.h"
#include "catalog/pg_constraint.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "nodes/makefuncs.h"
#include "utils/rel.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace pgview::engine {

namespace {

struct PlanEntry {
    const char *sql; // hash key
    SPIPlanPtr plan;
};
HTAB *plans = nullptr;

uint32 sql_hash(const void *key, Size) {
    const char *s = *static_cast<const char *const *>(key);
    return hash_bytes(reinterpret_cast<const unsigned char *>(s), static_cast<int>(strlen(s)));
}
int sql_match(const void *a, const void *b, Size) {
    return strcmp(*static_cast<const char *const *>(a), *static_cast<const char *const *>(b));
}
void *sql_copy(void *dest, const void *src, Size) {
    *static_cast<const char **>(dest) = MemoryContextStrdup(TopMemoryContext, *static_cast<const char *const *>(src));
    return dest;
}

} // namespace

void check_constraints_immediately(Oid table) {
    // (The relcache's trigger descriptor: no catalog scan per refresh.)
    List *constraints = NIL;
    Relation rel = relation_open(table, AccessShareLock);
    if (rel->trigdesc != nullptr)
        for (int i = 0; i < rel->trigdesc->numtriggers; i++) {
            const Trigger &t = rel->trigdesc->triggers[i];
            if (t.tgdeferrable && OidIsValid(t.tgconstraint))
                constraints = list_append_unique_oid(constraints, t.tgconstraint);
        }
    relation_close(rel, AccessShareLock);
    if (constraints == NIL)
        return;
    ConstraintsSetStmt *stmt = makeNode(ConstraintsSetStmt);
    stmt->deferred = false;
    ListCell *lc;
    foreach (lc, constraints) {
        HeapTuple con = SearchSysCache1(CONSTROID, ObjectIdGetDatum(lfirst_oid(lc)));
        if (!HeapTupleIsValid(con))
            continue;
        auto *form = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(con));
        stmt->constraints = lappend(stmt->constraints, makeRangeVar(get_namespace_name(form->connamespace),
                                                                    pstrdup(NameStr(form->conname)), -1));
        ReleaseSysCache(con);
    }
    AfterTriggerSetState(stmt);
}

void spi_connect(void) {
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "pgview_auto: SPI_connect failed");
}

void spi_finish(void) { SPI_finish(); }

SPIPlanPtr saved_plan(const char *sql, int nargs, const Oid *types) {
    if (plans == nullptr) {
        HASHCTL ctl;
        ctl.keysize = sizeof(const char *);
        ctl.entrysize = sizeof(PlanEntry);
        ctl.hash = sql_hash;
        ctl.match = sql_match;
        ctl.keycopy = sql_copy;
        plans = hash_create("pgview_auto refresh plans", 32, &ctl, HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_KEYCOPY);
    }
    auto *e = static_cast<PlanEntry *>(hash_search(plans, &sql, HASH_FIND, nullptr));
    if (e != nullptr)
        return e->plan;
    // A generic plan: the planner's cost of a custom plan for every call is what
    // a keyed refresh must not pay (the keys' index scans do not depend on them).
    SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, const_cast<Oid *>(types), CURSOR_OPT_GENERIC_PLAN);
    if (plan == nullptr)
        elog(ERROR, "pgview_auto: could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
    SPI_keepplan(plan);
    e = static_cast<PlanEntry *>(hash_search(plans, &sql, HASH_ENTER, nullptr));
    e->plan = plan;
    return plan;
}

int execute_writing(SPIPlanPtr plan, Datum *args, const bool *nulls) {
    int rc = 0;
    char *n = nullptr;
    int nargs = SPI_getargcount(plan);
    if (nulls != nullptr) {
        n = static_cast<char *>(palloc(nargs + 1));
        for (int i = 0; i < nargs; i++)
            n[i] = nulls[i] ? 'n' : ' ';
    }
    PushActiveSnapshot(GetTransactionSnapshot());
    tableview::writing_table_views([&] { rc = SPI_execute_plan(plan, args, n, false, 0); });
    PopActiveSnapshot();
    return rc;
}

} // namespace pgview::engine
