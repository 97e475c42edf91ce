// pgview_auto — after a crash or restart every async, manual and scheduled
// matview is dirty. Shared memory starts empty; the first backend of a database
// that needs its pending state (the worker, pgview_wait, pgview_status,
// pgview_refresh_pending) marks them all, once. Not during recovery: a standby
// refreshes nothing. C-level, in a transaction.
#pragma once

namespace pgview::worker {
void settle_database(void);
}
