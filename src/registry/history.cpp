// pgview_auto — the refresh history (see history.hpp).
#include "registry/history.hpp"

#include "registry/statement.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/hio.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace pgview::registry {

using namespace detail;

namespace {

Statement prune = {
    "DELETE FROM pgview_auto.refresh_log "
    "WHERE finished_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) "
    "  ($1 OPERATOR(pg_catalog.*) '1 day'::pg_catalog.interval))",
    1, {INT4OID}, nullptr};

// The columns a row fills, by name: a later version's table may have more, in
// another order (they get their defaults' NULL; none has a non-NULL default).
constexpr const char *columns[] = {"matview", "started_at", "finished_at", "origin", "strategy",
                                   "keys", "rows_changed", "outcome", "error", "pid"};
constexpr int ncolumns = sizeof columns / sizeof columns[0];

void fill(TupleTableSlot *slot, const AttrNumber *attnum, const HistoryRow &r) {
    ExecClearTuple(slot);
    int natts = slot->tts_tupleDescriptor->natts;
    for (int a = 0; a < natts; a++)
        slot->tts_isnull[a] = true;
    auto set = [slot, attnum](int c, Datum value, bool isnull = false) {
        slot->tts_values[attnum[c] - 1] = value;
        slot->tts_isnull[attnum[c] - 1] = isnull;
    };
    set(0, ObjectIdGetDatum(r.view));
    set(1, TimestampTzGetDatum(r.started));
    set(2, TimestampTzGetDatum(r.finished));
    set(3, CStringGetTextDatum(r.origin));
    set(4, CStringGetTextDatum(r.strategy));
    set(5, Int64GetDatum(r.keys), r.keys < 0);
    set(6, Int64GetDatum(r.rows), r.rows < 0);
    set(7, CStringGetTextDatum(r.failed ? "failed" : "refreshed"));
    set(8, r.error != nullptr ? CStringGetTextDatum(r.error) : (Datum) 0, r.error == nullptr);
    set(9, Int32GetDatum(r.pid));
    ExecStoreVirtualTuple(slot);
}

} // namespace

bool history_installed(void) { return OidIsValid(registry_relid("refresh_log")); }

// As COPY writes a batch: the heap's multi-insert (a WAL record per page, not
// per row) and the table's indexes, without a statement to plan and run per
// batch. The worker writes a row per refresh of every writer (thousands a
// second), on the writers' CPUs. The values come from us: the table's CHECK
// constraints hold by construction; it has no triggers.
// One bulk-insert state for the process's life, not one per batch: its
// strategy's ring of buffers (BAS_BULKWRITE) is reused from batch to batch, so
// the history's ever new pages cycle through those buffers instead of taking
// shared_buffers from the writers' tables (measured: a state per batch left
// every page of the history in the pool, and the writers lost 4-5% of their
// TPS; test/bench/history/RESULTS.md).
namespace {
BulkInsertState bulk_state() {
    static BulkInsertState bulk = nullptr;
    if (bulk == nullptr) {
        MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
        bulk = GetBulkInsertState();
        MemoryContextSwitchTo(old);
    }
    // (a batch that failed left its buffer there; the abort released the pin)
    bulk->current_buf = InvalidBuffer;
#if PG_VERSION_NUM >= 160000
    bulk->next_free = InvalidBlockNumber;
    bulk->last_free = InvalidBlockNumber;
#endif
    return bulk;
}
} // namespace

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
    BulkInsertState bulk = bulk_state();
    // Slots over a copy of the descriptor: the relation's own is reference
    // counted, and a thousand slots pinning it cost the resource owner a
    // quadratic search when they are dropped.
    TupleDesc desc = CreateTupleDescCopy(RelationGetDescr(rel));
    const TupleTableSlotOps *ops = table_slot_callbacks(rel);
    auto **slots = static_cast<TupleTableSlot **>(palloc(sizeof(TupleTableSlot *) * n));
    for (int i = 0; i < n; i++) {
        slots[i] = MakeSingleTupleTableSlot(desc, ops);
        fill(slots[i], attnum, rows[i]);
    }
    table_multi_insert(rel, slots, n, GetCurrentCommandId(true), 0, bulk);
    for (int i = 0; i < n; i++) {
        if (target->ri_NumIndices > 0)
            list_free(ExecInsertIndexTuples(target, slots[i], estate, false, false, nullptr, NIL));
        ExecDropSingleTupleTableSlot(slots[i]);
    }
    pfree(slots);
    FreeTupleDesc(desc);
    ReleaseBulkInsertStatePin(bulk);
    ExecCloseIndices(target);
    FreeExecutorState(estate);
    table_close(rel, NoLock);
}

int64 history_prune(int days) {
    Datum values[1] = {Int32GetDatum(days)};
    return run(prune, values, nullptr, SPI_OK_DELETE);
}

} // namespace pgview::registry
