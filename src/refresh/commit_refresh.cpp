// pgview_auto — refresh at commit.
//
// XACT_EVENT_PRE_COMMIT comes after every deferred trigger has fired (so their
// writes are captured too) and while the transaction can still run queries and
// fail; it is the last point at which user code may run. The dirty set is
// refreshed there, in the writer's transaction: if the refresh fails (on_error
// 'error') the commit fails with it. At PREPARE TRANSACTION the refresh runs at
// PRE_PREPARE (never CONCURRENTLY) and becomes part of the prepared transaction.
#include "refresh/commit_refresh.hpp"

#include <vector>

#include "pg/guard.hpp"
#include "refresh/dirty_set.hpp"
#include "refresh/refresher.hpp"

extern "C" {
#include "access/xact.h"
}

namespace pgview::refresh {

namespace {

// Refreshing can dirty more (a view's function writing a watched table, say);
// a few rounds settle it, a loop is an error.
constexpr int max_rounds = 8;

void refresh_dirty(Origin origin) {
    for (int round = 0; dirty_any(); round++) {
        if (round == max_rounds)
            throw Error("54000", "materialized view refreshes at commit keep dirtying each other",
                        "Refreshing made watched tables change again " + std::to_string(max_rounds) +
                            " times.",
                        "Check the functions the materialized views call for writes to watched tables.");
        std::vector<Oid> roots;
        pg_call([&roots] {
            List *dirty = dirty_take();
            ListCell *lc;
            foreach (lc, dirty)
                roots.push_back(lfirst_oid(lc));
        });
        refresh_matviews(roots, true, use_watch_option, origin);
    }
}

void on_xact_event(XactEvent event, void *) {
    switch (event) {
    case XACT_EVENT_PRE_COMMIT:
        if (dirty_any())
            entry_guard([] { refresh_dirty(Origin::commit); });
        break;
    case XACT_EVENT_PRE_PREPARE:
        if (dirty_any())
            entry_guard([] { refresh_dirty(Origin::prepare); });
        break;
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PREPARE:
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_PARALLEL_ABORT:
        dirty_forget();
        break;
    default:
        break;
    }
}

} // namespace

void commit_refresh_init(void) { RegisterXactCallback(on_xact_event, nullptr); }

} // namespace pgview::refresh
