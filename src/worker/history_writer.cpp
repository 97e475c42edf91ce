// pgview_auto — the worker's share of the refresh history (see history_writer.hpp).
#include "worker/history_writer.hpp"

#include "config/settings.hpp"
#include "engine/history.hpp"
#include "registry/history.hpp"
#include "registry/session.hpp"
#include "shmem/history_ring.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace pgview::worker {

namespace {

constexpr int batch = 1000;
constexpr int64 prune_every_us = INT64CONST(10) * 60 * 1000000;
TimestampTz last_prune = 0;

// body() in a transaction of its own; false (logged) if it failed.
template <typename F>
bool in_transaction(F body) {
    MemoryContext caller = CurrentMemoryContext;
    volatile bool ok = true;
    PG_TRY();
    {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        registry::lock_registry_gate(AccessShareLock);
        body();
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller);
        EmitErrorReport();
        FlushErrorState();
        AbortCurrentTransaction();
        ok = false;
    }
    PG_END_TRY();
    MemoryContextSwitchTo(caller);
    return ok;
}

} // namespace

int write_history(Oid dbid) {
    int total = 0;
    for (;;) {
        shmem::HistoryEntry *entries;
        int n = shmem::history_take(dbid, &entries, batch);
        if (n == 0)
            break;
        total += n;
        auto *rows = static_cast<registry::HistoryRow *>(palloc(sizeof(registry::HistoryRow) * n));
        for (int i = 0; i < n; i++)
            rows[i] = engine::history_row_of(entries[i]);
        bool ok = in_transaction([rows, n] {
            registry::with_registry([rows, n] {
                if (registry::history_installed())
                    registry::history_append(rows, n);
            });
        });
        if (!ok)
            ereport(LOG, (errmsg("pgview_auto: %d refresh history entries could not be written and are lost", n)));
        pfree(rows);
        pfree(entries);
        if (n < batch)
            break;
    }
    return total;
}

void discard_history(Oid dbid) {
    shmem::HistoryEntry *entries;
    int n;
    while ((n = shmem::history_take(dbid, &entries, batch)) > 0)
        pfree(entries);
}

void prune_history_when_due(void) {
    TimestampTz now = GetCurrentTimestamp();
    if (last_prune != 0 && now - last_prune < prune_every_us)
        return;
    last_prune = now;
    volatile int64 deleted = 0;
    in_transaction([&deleted] {
        deleted = registry::with_registry([] {
            return registry::history_installed() ? registry::history_prune(config::history_days) : 0;
        });
    });
    if (deleted > 0)
        ereport(DEBUG1, (errmsg("pgview_auto: " INT64_FORMAT " refresh history rows older than %d days deleted",
                                static_cast<int64>(deleted), config::history_days)));
}

} // namespace pgview::worker
