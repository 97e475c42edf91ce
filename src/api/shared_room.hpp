// pgview_auto — a watch in mode async or manual, or a schedule, needs an entry
// in shared memory (pgview_auto.max_matviews, sized at server start): it is
// taken when the user asks, and refused then (53400, with the setting to raise)
// rather than found missing at some writer's commit.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview::api {

// No-op without the worker (nothing is kept in shared memory then).
void reserve_shared_entry(Oid matview, const char *function);

} // namespace pgview::api
