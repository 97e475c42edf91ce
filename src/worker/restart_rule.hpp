// pgview_auto — after a crash or restart every async, manual and scheduled
// matview is dirty. Shared memory starts empty; the first backend of a database
// that needs its pending state (the worker, pgview_wait, pgview_status,
// pgview_refresh_pending) marks them all, once. Not during recovery: a standby
// refreshes nothing. The same marking serves a database whose shared entries
// overflowed (pgview_auto.max_matviews): "all dirty" becomes dirty bits again.
// C-level, in a transaction.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
}

namespace pgview::worker {

void settle_database(void);

// Every matview of this database watched in mode async or manual, or
// scheduled, is marked dirty since `since`; the ones shared memory has no
// room for come back (an oid list): the caller refreshes them at once, in
// full, or leaves the database marked all dirty (it is, again, for them).
// Background views are read from the registry; `modes` says which watch modes
// count ("am": async and manual; schedules always count).
List *mark_background_views(TimestampTz since, const char *modes);

} // namespace pgview::worker
