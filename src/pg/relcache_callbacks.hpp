// pgview_auto — our relcache invalidation callbacks, behind one of PostgreSQL's.
// A backend has room for ten relcache callbacks (MAX_RELCACHE_CALLBACKS) shared
// by every library it loads; past that, registering one is FATAL. Citus alone
// takes most of them: four of ours took the worker past the limit, and it died
// at every start. We take one slot and call ours from it. C-level.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview {

// fn(relid) after each relcache invalidation (InvalidOid: all relations). At
// most a handful (a fixed array): an ERROR when full, at load time.
void on_relcache_invalidation(void (*fn)(Oid relid));

} // namespace pgview
