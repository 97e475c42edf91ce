// pgview_auto — the restart rule (see restart_rule.hpp).
#include "worker/restart_rule.hpp"

#include "watch/registry.hpp"
#include "worker/shared_state.hpp"

extern "C" {
#include "access/xlog.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
}

namespace pgview::worker {

void settle_database(void) {
    if (!shared_state_ready() || RecoveryInProgress() || !begin_settling(MyDatabaseId))
        return;
    PG_TRY();
    {
        if (watch::registry_installed()) {
            watch::WatchRow *rows;
            watch::OptionsRow *options;
            watch::ScheduleRow *schedules;
            int nrows, noptions;
            int nschedules{};
            watch::with_registry([&] {
                watch::registry_load(&rows, &nrows, &options, &noptions, CurrentMemoryContext);
                nschedules = watch::registry_load_schedules(&schedules, CurrentMemoryContext);
            });
            TimestampTz now = GetCurrentTimestamp();
            for (int i = 0; i < noptions; i++)
                if (options[i].options.mode == 'a' || options[i].options.mode == 'm')
                    mark_dirty_since(options[i].matview, now);
            for (int i = 0; i < nschedules; i++)
                mark_dirty_since(schedules[i].matview, now);
        }
    }
    PG_CATCH();
    {
        end_settling(MyDatabaseId, false); // someone else will try again
        PG_RE_THROW();
    }
    PG_END_TRY();
    end_settling(MyDatabaseId, true);
}

} // namespace pgview::worker
