// pgview_auto — configuration parameters (GUCs) and whether we were preloaded:
// every setting of the extension is defined here, and read from here.
#pragma once

namespace pgview::config {

extern bool enabled;        // pgview_auto.enabled: background refresh on/off
extern int max_workers;     // pgview_auto.max_workers: per-database workers at once
extern int naptime_ms;      // pgview_auto.naptime: longest sleep of a worker
extern int retry_delay_ms;  // pgview_auto.retry_delay: first retry after a failed refresh
extern int max_matviews;    // pgview_auto.max_matviews: size of the shared table
extern bool notify;         // pgview_auto.notify: NOTIFY pgview_refresh after each refresh
extern bool delta;          // pgview_auto.delta: delta arithmetic where it can
extern int max_delta_groups; // pgview_auto.max_delta_groups: delta groups of one table view a transaction keeps
extern int max_keys;        // pgview_auto.max_keys: keys of one table view a transaction recomputes
extern int max_pending_keys; // pgview_auto.max_pending_keys: keys waiting in shared memory
extern bool history;        // pgview_auto.history: every refresh appends to pgview_refresh_log
extern int history_days;    // pgview_auto.history_days: the worker deletes older history rows
extern int history_buffer;  // pgview_auto.history_buffer: entries buffered in shared memory (0: none)

// Loaded through shared_preload_libraries: the worker and its shared memory exist.
bool preloaded(void);

void settings_init(bool preload); // from _PG_init
// Raises 55000 with a hint to preload the library, naming what needs it.
void require_preloaded(const char *what);

} // namespace pgview::config
