// pgview_auto — this backend's cache of the watch registry.
//
// The capture trigger asks it, at every statement on a watched table, which
// matviews to mark dirty: a hash look-up, no I/O. It is loaded from the registry
// on first use and dropped when the registry changes (a statement trigger on the
// registry tables sends a relcache invalidation, seen by every backend once the
// change commits) or when a relation's relcache entry is invalidated (partition
// attach/detach, inheritance, grants). C-level: may ereport.
#pragma once

#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"

namespace pgview::registry {

void watch_cache_init(void); // from _PG_init: registers the invalidation callback
// relid is one of the watch tables as of this backend's last load: for other
// caches' invalidation callbacks (no catalog access there).
bool is_registry_table(Oid relid);

// Matviews watching `relid` or one of its ancestors (tables only): every
// watcher of a partitioned ancestor; a watcher of an inheritance parent only if
// its owner may put a trigger on relid. For a matview, its direct watchers
// (its REFRESH by hand writes it). The array stays valid until the next
// call into this cache.
const Oid *watchers_of(Oid relid, int *n);

// Options of a watched matview; nullptr when it is not watched.
const MatviewOptions *options_of(Oid matview);
// Some view of this database is watched in mode 'immediate': without one, the
// end of a statement's capture has nothing to do (the capture trigger's hot path).
bool any_immediate_watch(void);

// Every registry row whose source is a materialized view: the cascade edges.
void matview_sources(const WatchRow **rows, int *n);

} // namespace pgview::registry
