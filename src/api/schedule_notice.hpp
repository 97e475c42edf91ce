// pgview_auto — a schedule with only_if_dirty refreshes a matview only when a
// write marked it dirty, which needs a watch: pgview_schedule and
// pgview_unwatch say so (NOTICE) when they leave such a schedule with no watch.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview::api {

// NOTICE if matview's schedule can never find it dirty. `unwatched`: the call
// just removed its watch (else it just scheduled it). C++.
void notice_if_schedule_idle(Oid matview, bool unwatched);

} // namespace pgview::api
