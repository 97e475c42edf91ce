// pgview_auto — the refresh history's SQL entry points (issue 24):
// pgview_history_buffer(), pgview_flush_history() and pgview_prune_history(). The history itself is
// the view pgview_refresh_log (sql/).
#include "config/settings.hpp"
#include "engine/history.hpp"
#include "pg/error.hpp"
#include "pg/guard.hpp"
#include "registry/history.hpp"
#include "registry/session.hpp"
#include "shmem/history_ring.hpp"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
}

using pgview::pg_call;

PGVIEW_FUNCTION(pgview_history_buffer) {
    pgview::shmem::HistoryRingState s{};
    pg_call([&s] { s = pgview::shmem::history_ring_state(); });
    TupleDesc desc;
    if (pg_call([fcinfo, &desc] { return get_call_result_type(fcinfo, nullptr, &desc); }) != TYPEFUNC_COMPOSITE)
        throw pgview::Error(pgview::sqlstate::internal_error, "pgview_history_buffer() must return a record");
    Datum values[3] = {Int32GetDatum(s.capacity), Int32GetDatum(s.used), Int64GetDatum(s.dropped)};
    bool nulls[3] = {false, false, false};
    return pg_call([desc, &values, &nulls] {
        return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
    });
}

PGVIEW_FUNCTION(pgview_prune_history) {
    (void) fcinfo;
    int64 deleted = pg_call([] {
        return pgview::registry::with_registry([] { return pgview::registry::history_prune(pgview::config::history_days); });
    });
    return Int64GetDatum(deleted);
}

// This database's buffered entries written now, in the caller's transaction
// (rolled back, they are lost): the history up to date without waiting for
// the worker.
PGVIEW_FUNCTION(pgview_flush_history) {
    (void) fcinfo;
    int written = pg_call([] {
        pgview::shmem::HistoryEntry *entries;
        int n = pgview::shmem::history_take(MyDatabaseId, &entries, INT_MAX);
        if (n == 0)
            return 0;
        auto *rows = static_cast<pgview::registry::HistoryRow *>(palloc(sizeof(pgview::registry::HistoryRow) * n));
        for (int i = 0; i < n; i++)
            rows[i] = pgview::engine::history_row_of(entries[i]);
        pgview::registry::with_registry([rows, n] { pgview::registry::history_append(rows, n); });
        return n;
    });
    return Int32GetDatum(written);
}
