// pgview_auto — the refresh history (see history.hpp).
#include "registry/history.hpp"

#include "registry/statement.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace pgview::registry {

using namespace detail;

namespace {

// Deletes the old batches; returns how many refreshes they held.
Statement prune = {
    "WITH gone AS (DELETE FROM pgview_auto.refresh_log "
    "  WHERE last_finished OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) "
    "    ($1 OPERATOR(pg_catalog.*) '1 day'::pg_catalog.interval)) "
    "  RETURNING pg_catalog.cardinality(matview) AS n) "
    "SELECT pg_catalog.sum(n)::pg_catalog.int8 FROM gone",
    1, {INT4OID}, nullptr};

// The columns a row fills, by name: a later version's table may have more, in
// another order (they get their defaults' NULL; none has a non-NULL default).
constexpr const char *columns[] = {"last_finished", "matview", "started_at", "finished_at", "origin",
                                   "strategy",      "keys",    "rows_changed", "failed",   "error", "pid"};
constexpr int ncolumns = sizeof columns / sizeof columns[0];

// One array of the n refreshes' values of one column (NULL elements where
// isnull says).
Datum array_of(const Datum *values, const bool *isnull, int n, Oid element) {
    int16 len;
    bool byval;
    char align;
    get_typlenbyvalalign(element, &len, &byval, &align);
    int dims[1] = {n};
    int lbs[1] = {1};
    return PointerGetDatum(construct_md_array(const_cast<Datum *>(values), const_cast<bool *>(isnull), 1, dims, lbs,
                                              element, len, byval, align));
}

// The batch's one tuple: each column an array of the rows' values.
void fill(TupleTableSlot *slot, const AttrNumber *attnum, const HistoryRow *rows, int n) {
    ExecClearTuple(slot);
    int natts = slot->tts_tupleDescriptor->natts;
    for (int a = 0; a < natts; a++)
        slot->tts_isnull[a] = true;
    auto set = [slot, attnum](int c, Datum value) {
        slot->tts_values[attnum[c] - 1] = value;
        slot->tts_isnull[attnum[c] - 1] = false;
    };
    auto *v = static_cast<Datum *>(palloc(sizeof(Datum) * n));
    auto *nulls = static_cast<bool *>(palloc0(sizeof(bool) * n));
    // (each column's values, then its array: the arrays copy them)
    auto column = [&](int c, Oid element, auto value, auto is_null) {
        for (int i = 0; i < n; i++) {
            nulls[i] = is_null(rows[i]);
            v[i] = nulls[i] ? (Datum) 0 : value(rows[i]);
        }
        set(c, array_of(v, nulls, n, element));
    };
    auto never = [](const HistoryRow &) { return false; };
    TimestampTz last = rows[0].finished;
    for (int i = 1; i < n; i++)
        last = Max(last, rows[i].finished);
    set(0, TimestampTzGetDatum(last));
    column(1, OIDOID, [](const HistoryRow &r) { return ObjectIdGetDatum(r.view); }, never);
    column(2, TIMESTAMPTZOID, [](const HistoryRow &r) { return TimestampTzGetDatum(r.started); }, never);
    column(3, TIMESTAMPTZOID, [](const HistoryRow &r) { return TimestampTzGetDatum(r.finished); }, never);
    column(4, CHAROID, [](const HistoryRow &r) { return CharGetDatum(r.origin); }, never);
    column(5, CHAROID, [](const HistoryRow &r) { return CharGetDatum(r.strategy); }, never);
    column(6, INT8OID, [](const HistoryRow &r) { return Int64GetDatum(r.keys); },
           [](const HistoryRow &r) { return r.keys < 0; });
    column(7, INT8OID, [](const HistoryRow &r) { return Int64GetDatum(r.rows); },
           [](const HistoryRow &r) { return r.rows < 0; });
    column(8, BOOLOID, [](const HistoryRow &r) { return BoolGetDatum(r.failed); }, never);
    column(9, TEXTOID, [](const HistoryRow &r) { return CStringGetTextDatum(r.error); },
           [](const HistoryRow &r) { return r.error == nullptr; });
    column(10, INT4OID, [](const HistoryRow &r) { return Int32GetDatum(r.pid); }, never);
    ExecStoreVirtualTuple(slot);
}

} // namespace

bool history_installed(void) { return OidIsValid(registry_relid("refresh_log")); }

// One tuple for the whole batch, inserted as the executor would (the table's
// index too), without a statement to plan. The worker writes a batch per pass
// for every writer's refreshes (thousands a second); a tuple per refresh cost
// eight writers about 5% of their TPS, a tuple per batch about 3-4%. The
// values come from us: the table has no constraint to check, no trigger.
void history_append(const HistoryRow *rows, int n) {
    if (n <= 0)
        return;
    Relation rel = table_open(registry_relid("refresh_log"), RowExclusiveLock);
    AttrNumber attnum[ncolumns];
    for (int c = 0; c < ncolumns; c++) {
        attnum[c] = get_attnum(RelationGetRelid(rel), columns[c]);
        if (attnum[c] == InvalidAttrNumber)
            elog(ERROR, "pgview_auto: pgview_auto.refresh_log has no column %s", columns[c]);
    }
    EState *estate = CreateExecutorState();
    ResultRelInfo *target = makeNode(ResultRelInfo);
    InitResultRelInfo(target, rel, 1, nullptr, 0);
    ExecOpenIndices(target, false);
    TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), table_slot_callbacks(rel));
    fill(slot, attnum, rows, n);
    table_tuple_insert(rel, slot, GetCurrentCommandId(true), 0, nullptr);
    if (target->ri_NumIndices > 0)
        list_free(ExecInsertIndexTuples(target, slot, estate, false, false, nullptr, NIL));
    ExecDropSingleTupleTableSlot(slot);
    ExecCloseIndices(target);
    FreeExecutorState(estate);
    table_close(rel, NoLock);
}

int64 history_prune(int days) {
    Datum values[1] = {Int32GetDatum(days)};
    (void) run(prune, values, nullptr, SPI_OK_SELECT);
    bool isnull;
    Datum n = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return isnull ? 0 : DatumGetInt64(n);
}

} // namespace pgview::registry
