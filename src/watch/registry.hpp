// pgview_auto — the watch registry and refresh statistics (extension tables in
// schema pgview_auto), read and written with SPI as the registry's owner.
// C-level: every function may ereport; call through pg_call from C++.
#pragma once

#include <type_traits>

#include "pg/owner_scope.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgview::watch {

// The longest interval pgview_auto takes (arguments past it are refused) and
// reads (a registry row holding more, from an older version or a dump, counts
// as this much): 1000 years of 30-day months, in microseconds. Timestamps
// computed from it stay far inside PostgreSQL's range.
#define PGVIEW_MAX_INTERVAL_US INT64CONST(31104000000000000)
inline constexpr int64 max_interval_us = PGVIEW_MAX_INTERVAL_US;

// Options of a watched matview. concurrently: -1 = NULL (when possible), 0, 1.
struct MatviewOptions {
    char mode;            // 'c' commit, 'a' async, 'm' manual
    int concurrently;
    bool on_error_warn;
    int64 debounce_us;    // async: quiet time before refreshing
    int64 max_delay_us;   // async: longest wait after the first change; -1: none
    int incremental;      // table views: -1 = NULL (when possible), 0 never, 1 required
    bool needs_full;      // watched anew: the next refresh is full (the view may be stale from before)
};
const char *mode_name(char mode);

// A registry session: SPI connected, running as the registry's owner in the
// owner scope (pg/owner_scope.hpp), with a snapshot when none is active (at
// commit there is none). Every registry function below runs inside one.
// C-level: call it inside pg_call; body may ereport, and the scope is left
// (the caller's user and settings back) before the error goes on.
struct RegistryConnection {
    bool pushed_snapshot;
};
Oid registry_owner(void); // 55000 with a hint when the extension is not installed here
void registry_connect(RegistryConnection *c);
void registry_disconnect(const RegistryConnection *c);
template <typename F>
auto with_registry(F &&body) -> decltype(body()) {
    return run_as_owner(registry_owner(), OwnerScope::plain, [&body]() -> decltype(body()) {
        RegistryConnection c;
        registry_connect(&c);
        if constexpr (std::is_void_v<decltype(body())>) {
            body();
            registry_disconnect(&c);
        } else {
            auto result = body();
            registry_disconnect(&c);
            return result;
        }
    });
}
bool registry_installed(void); // schema pgview_auto and its tables exist here
// The installed SQL version is at least `version` (inside a session): the library
// works with every SQL version the repo ships until ALTER EXTENSION UPDATE runs.
bool registry_at_least(const char *version);
Oid registry_relid(const char *table);

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

// DDL tracking (inside a session, 0.4.0 and later). Arrays are palloc'd in the
// caller's context.
struct DroppedRelation {
    Oid relid;
    char *name; // schema.name, quoted as needed
    bool is_matview; // else a table, a view or a foreign table
};
int ddl_dropped_relations(DroppedRelation **out); // in a sql_drop event trigger
bool registry_is_watched(Oid matview);
// A watched matview was dropped: its watch becomes an orphan found again by name
// (requested sources kept by name); its rows and statistics go. Returns its former
// sources and, in *name, the orphan's name.
int registry_orphan(Oid matview, const DroppedRelation *dropped, int ndropped, Oid **old_sources, char **name);
// A source (or requested view) was dropped: its rows go; (matview, source) pairs back.
int registry_forget_source(Oid relid, Oid **matviews, Oid **sources);
// Then the watches of these matviews left with no source go too; their names
// (schema.name) come back in *names (palloc'd).
int registry_forget_empty_watches(const Oid *matviews, int n, char ***names);
// An orphaned watch, by its exact name (schema.name, each part quoted as
// quote_identifier does). Its requested sources come back by name (NULL:
// everything); arrays palloc'd in the caller's context.
struct Orphan {
    Oid owner; // the owner of its matview when dropped; InvalidOid: unknown (orphaned before 0.6.0)
    MatviewOptions options;
    char **requested;
    int nrequested;
};
bool registry_find_orphan(const char *name, Orphan *out);
// A matview of an orphan's name was created: the watch is its again.
bool registry_restore_orphan(Oid matview, const char *name);
void registry_sync_names(void);                       // after RENAME / SET SCHEMA / OWNER TO: names and owners
void registry_rename_schema(const char *old_name, const char *new_name); // orphans follow ALTER SCHEMA RENAME
int registry_requests(Oid matview, Oid **requested);  // distinct requests (InvalidOid: everything)
int registry_sources(Oid matview, Oid requested, Oid **sources); // what (matview, requested) captures now
int registry_remove_orphan(const char *name);         // by its exact name
void stats_forget(Oid matview);

// Keyed refreshes (inside a session): upserts the rows (matview, bucket) of
// pgview_auto.key_lock in ascending bucket order (their row locks, held to
// commit, are the key locks), adding counts[i] keys to each; with
// count_refresh the first row also counts one refresh of `total` keys.
void key_lock_count(Oid matview, int n, const int32 *buckets, const int64 *counts, int64 total, bool count_refresh);

// Statistics (inside a session).
void stats_claim(Oid matview);                    // row lock; 40001 for a stale snapshot
void stats_success(Oid matview, int64 duration_us, bool concurrently);
void stats_failure(Oid matview, const char *message);
// The last error of every matview that has one (raw text: show it only to
// roles that may read the matview). Arrays palloc'd in the caller's context.
int stats_errors(Oid **matviews, char ***messages);
void stats_reset(Oid matview, Oid user); // InvalidOid: every matview `user` owns (or is gone)

} // namespace pgview::watch
