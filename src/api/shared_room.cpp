// pgview_auto — see shared_room.hpp.
#include "api/shared_room.hpp"

#include <string>

#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "watch/apply_watch.hpp"
#include "config/settings.hpp"
#include "shmem/databases.hpp"
#include "shmem/pending.hpp"
#include "shmem/state.hpp"
#include "shmem/waiters.hpp"

namespace pgview::api {

void reserve_shared_entry(Oid matview, const char *function) {
    if (!shmem::shared_state_ready() || pg_call([matview] { return shmem::reserve(matview); }))
        return;
    throw Error("53400",
                std::string(function) + ": no room in shared memory to track " + pgview::relation_name(matview),
                "pgview_auto tracks at most " + std::to_string(config::max_matviews) +
                    " materialized views and table views in mode async or manual, or scheduled, at once "
                    "(pgview_auto.max_matviews).",
                shmem::max_matviews_hint);
}

} // namespace pgview::api
