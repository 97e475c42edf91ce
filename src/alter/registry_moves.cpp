// pgview_auto — the registry follows rebuilt relations (see registry_moves.hpp).
#include "alter/registry_moves.hpp"

#include "pg/guard.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"
#include "registry/watch_cache.hpp"
#include "shmem/databases.hpp"
#include "shmem/pending.hpp"
#include "shmem/state.hpp"
#include "shmem/waiters.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
}

namespace pgview::alter {

namespace {

// One statement: the watch's rows move together with its options (the foreign
// key from watch to watched is checked at the end of the statement).
constexpr const char *repoint_sql =
    "WITH m AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[]), "
    "          pg_catalog.unnest($2::pg_catalog.oid[])) AS m(old, new)), "
    "o AS (UPDATE pgview_auto.watched o SET matview = m.new FROM m "
    "      WHERE o.matview OPERATOR(pg_catalog.=) m.old RETURNING 1), "
    "w AS (UPDATE pgview_auto.watch w SET "
    "        matview = coalesce((SELECT m.new FROM m WHERE m.old OPERATOR(pg_catalog.=) w.matview), w.matview), "
    "        requested = coalesce((SELECT m.new FROM m WHERE m.old OPERATOR(pg_catalog.=) w.requested), w.requested), "
    "        source = coalesce((SELECT m.new FROM m WHERE m.old OPERATOR(pg_catalog.=) w.source), w.source), "
    "        via = coalesce((SELECT m.new FROM m WHERE m.old OPERATOR(pg_catalog.=) w.via), w.via) "
    "      WHERE w.matview OPERATOR(pg_catalog.=) ANY ($1) OR w.requested OPERATOR(pg_catalog.=) ANY ($1) "
    "         OR w.source OPERATOR(pg_catalog.=) ANY ($1) OR w.via OPERATOR(pg_catalog.=) ANY ($1) RETURNING 1), "
    "s AS (UPDATE pgview_auto.schedule s SET matview = m.new FROM m "
    "      WHERE s.matview OPERATOR(pg_catalog.=) m.old RETURNING 1), "
    "r AS (UPDATE pgview_auto.refresh_stats r SET matview = m.new FROM m "
    "      WHERE r.matview OPERATOR(pg_catalog.=) m.old RETURNING 1), "
    "t AS (UPDATE pgview_auto.table_view t SET definition = m.new FROM m "
    "      WHERE t.definition OPERATOR(pg_catalog.=) m.old RETURNING 1), "
    "k AS (UPDATE pgview_auto.key_lock k SET matview = m.new FROM m "
    "      WHERE k.matview OPERATOR(pg_catalog.=) m.old RETURNING 1) "
    "SELECT (SELECT pg_catalog.count(*) FROM o), (SELECT pg_catalog.count(*) FROM w), "
    "       (SELECT pg_catalog.count(*) FROM s), (SELECT pg_catalog.count(*) FROM r), "
    "       (SELECT pg_catalog.count(*) FROM t)";

Datum oid_array_datum(const Oid *oids, int n) {
    Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n + 1)));
    for (int i = 0; i < n; i++)
        elems[i] = ObjectIdGetDatum(oids[i]);
    return PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

// C-level.
void repoint(const Oid *olds, const Oid *news, int n) {
    registry::with_registry([&] {
        Oid types[2] = {OIDARRAYOID, OIDARRAYOID};
        Datum values[2] = {oid_array_datum(olds, n), oid_array_datum(news, n)};
        if (SPI_execute_with_args(repoint_sql, 2, types, values, nullptr, false, 0) != SPI_OK_SELECT)
            elog(ERROR, "pgview_auto: moving registry rows to rebuilt relations failed");
    });
    CommandCounterIncrement(); // the watch cache reloads from the rows as they are now
}

// Pending moves of this transaction (TopTransactionContext), applied at COMMIT.
struct PendingMove {
    Oid old_matview;
    Oid new_matview;
    bool mark;        // a background (async or manual) watch: dirty at COMMIT
    bool wake_worker; // async
};
PendingMove *pending = nullptr;
int npending = 0;
bool callback_registered = false;

void forget_moves() {
    pending = nullptr;
    npending = 0;
}

// PRE_COMMIT: a move made in a subtransaction that was rolled back has no new
// relation any more; the watch options are read while the catalog can be.
void settle_moves() {
    int kept = 0;
    for (int i = 0; i < npending; i++) {
        PendingMove m = pending[i];
        if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(m.new_matview)))
            continue;
        const registry::MatviewOptions *options = registry::options_of(m.new_matview);
        m.mark = options != nullptr && registry::background_mode(options->mode);
        m.wake_worker = options != nullptr && options->mode == 'a';
        pending[kept++] = m;
    }
    npending = kept;
}

void on_xact_event(XactEvent event, void *) {
    if (npending == 0)
        return;
    switch (event) {
    case XACT_EVENT_PRE_COMMIT:
    case XACT_EVENT_PRE_PREPARE:
        entry_guard([] { pg_call([] { settle_moves(); }); });
        break;
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PREPARE: // the prepared transaction holds the new matview locked until it ends
        for (int i = 0; i < npending; i++)
            shmem::move_pending(pending[i].old_matview, pending[i].new_matview, pending[i].mark,
                                 pending[i].wake_worker);
        forget_moves();
        break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
    case XACT_EVENT_PARALLEL_COMMIT:
        forget_moves();
        break;
    default:
        break;
    }
}

} // namespace

void repoint_registry(const Moves &moves) {
    if (moves.empty())
        return;
    std::vector<Oid> olds, news;
    for (const auto &[o, n] : moves) {
        olds.push_back(o);
        news.push_back(n);
    }
    pg_call([&olds, &news] { repoint(olds.data(), news.data(), static_cast<int>(olds.size())); });
}

void move_pending_at_commit(const Moves &moves) {
    if (moves.empty() || !shmem::shared_state_ready())
        return;
    pg_call([&moves] {
        if (!callback_registered) {
            RegisterXactCallback(on_xact_event, nullptr);
            callback_registered = true;
        }
        MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
        auto *grown = static_cast<PendingMove *>(palloc(sizeof(PendingMove) * (npending + moves.size() + 1)));
        for (int i = 0; i < npending; i++)
            grown[i] = pending[i];
        for (const auto &move : moves)
            grown[npending++] = {move.first, move.second, false, false};
        pending = grown;
        MemoryContextSwitchTo(old);
    });
}

} // namespace pgview::alter
