// pgview_auto — module entry: magic block and load-time set-up.
#include "pg/guard.hpp"
#include "refresh/commit_refresh.hpp"
#include "watch/watch_cache.hpp"

extern "C" {
#include "fmgr.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

void _PG_init(void) {
    // Both work without shared_preload_libraries: the library is loaded by the
    // first call of any of its functions, the capture trigger included, which
    // runs before the commit that needs the callback.
    pgview::watch::watch_cache_init();
    pgview::refresh::commit_refresh_init();
}
