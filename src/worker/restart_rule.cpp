// pgview_auto — the restart rule (see restart_rule.hpp).
#include "worker/restart_rule.hpp"

#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"
#include "shmem/databases.hpp"
#include "shmem/pending.hpp"
#include "shmem/state.hpp"
#include "shmem/waiters.hpp"

extern "C" {
#include "access/xlog.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
}

namespace pgview::worker {

List *mark_background_views(TimestampTz since, const char *modes) {
    if (!registry::registry_installed())
        return NIL;
    registry::WatchRow *rows;
    registry::OptionsRow *options;
    registry::ScheduleRow *schedules;
    int nrows, noptions, nschedules;
    MemoryContext caller = CurrentMemoryContext; // (SPI_connect switches to its own)
    registry::with_registry([&] {
        registry::registry_load(&rows, &nrows, &options, &noptions, caller);
        nschedules = registry::registry_load_schedules(&schedules, caller);
    });
    List *no_room = NIL;
    for (int i = 0; i < noptions; i++)
        if (strchr(modes, options[i].options.mode) != nullptr && !shmem::mark_dirty_since(options[i].matview, since))
            no_room = list_append_unique_oid(no_room, options[i].matview);
    for (int i = 0; i < nschedules; i++)
        if (!shmem::mark_dirty_since(schedules[i].matview, since))
            no_room = list_append_unique_oid(no_room, schedules[i].matview);
    return no_room;
}

void settle_database(void) {
    if (!shmem::shared_state_ready() || RecoveryInProgress() || !shmem::begin_settling(MyDatabaseId))
        return;
    PG_TRY();
    {
        (void) mark_background_views(GetCurrentTimestamp(), "am");
    }
    PG_CATCH();
    {
        shmem::end_settling(MyDatabaseId, false); // someone else will try again
        PG_RE_THROW();
    }
    PG_END_TRY();
    shmem::end_settling(MyDatabaseId, true);
}

} // namespace pgview::worker
