// pgview_auto — schedules (pgview_auto.schedule). C-level, inside a registry
// session (session.hpp).
#pragma once

#include "registry/session.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgview::registry {

// Schedules (inside a session): palloc'd in `into`.
struct ScheduleRow {
    Oid matview;
    int64 every_us;
    bool only_if_dirty;
};
int registry_load_schedules(ScheduleRow **rows, MemoryContext into);
void registry_set_schedule(Oid matview, const Interval *every, bool only_if_dirty);
bool registry_remove_schedule(Oid matview);
// matview has a schedule with only_if_dirty and no watch: nothing marks it dirty.
bool registry_schedule_idle(Oid matview);

} // namespace pgview::registry
