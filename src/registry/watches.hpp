// pgview_auto — watches in the registry: which view watches which source
// (pgview_auto.watch), and each view's options (pgview_auto.watched).
// C-level, inside a registry session (session.hpp): every function may ereport.
#pragma once

#include "registry/session.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgview::registry {

// Options of a watched matview. concurrently: -1 = NULL (when possible), 0, 1.
struct MatviewOptions {
    char mode;            // 'c' commit, 'i' immediate, 'a' async, 'm' manual
    int concurrently;
    bool on_error_warn;
    int64 debounce_us;    // async: quiet time before refreshing
    int64 max_delay_us;   // async: longest wait after the first change; -1: none
    int incremental;      // table views: -1 = NULL (when possible), 0 never, 1 required
    bool needs_full;      // watched anew: the next refresh is full (the view may be stale from before)
};
const char *mode_name(char mode);
// Refreshed by the background worker or pgview_refresh_pending, after commit
// (async, manual), as opposed to inside the writer's transaction (commit, immediate).
inline bool background_mode(char mode) { return mode == 'a' || mode == 'm'; }

// Reads (inside a session). Rows come back as palloc'd arrays in the caller's
// memory context (SPI's own memory is gone after registry_end).
struct WatchRow {
    Oid matview;
    Oid source;
    bool source_is_matview;
    Oid owner; // the matview's
};
struct OptionsRow {
    Oid matview;
    MatviewOptions options;
};
void registry_load(WatchRow **watches, int *nwatches, OptionsRow **options, int *noptions,
                   MemoryContext into);

// Writes (inside a session).
// A new watch of an existing relation is also marked for a full refresh next
// (the view may be stale from before the watch; keyed refreshes would not see it).
void registry_set_options(Oid matview, const MatviewOptions *options);
void registry_needs_full(Oid matview); // (0.6.0) the next refresh of a watched view is full
void registry_full_done(Oid matview);  // a full refresh done: keyed ones may follow
// Replaces the rows of (matview, requested); the sources they had come back in
// *old_sources (palloc'd in the caller's context).
int registry_replace_watch(Oid matview, Oid requested, int n, const Oid *sources, const Oid *vias,
                           Oid **old_sources);
// Removes what pgview_watch(matview, requested) recorded, leaving the matview's
// other requests alone (requested InvalidOid: every row of the matview); its
// options go with its last row. Returns the number of registry rows removed,
// their sources in *removed (palloc'd), and in *vanished how many rows of
// pgview_watches (distinct source and via) disappeared with them.
int registry_remove(Oid matview, Oid requested, Oid **removed, int *vanished);
// relid is watched for matview (as a source, or the view it was found through):
// *request is the request that covers it (InvalidOid: the watch of everything).
bool registry_covering_request(Oid matview, Oid relid, Oid *request);
bool registry_source_needed(Oid table);          // some watch still names table
// some watch names `source` (an inheritance parent of `child`) for a matview
// whose owner may put a trigger on `child`
bool registry_source_needed_by(Oid source, Oid child);
int registry_captured_tables(Oid matview, Oid **tables); // non-matview sources, by name

bool registry_is_watched(Oid matview);
int registry_requests(Oid matview, Oid **requested);  // distinct requests (InvalidOid: everything)
int registry_sources(Oid matview, Oid requested, Oid **sources); // what (matview, requested) captures now

} // namespace pgview::registry
