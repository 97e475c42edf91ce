// pgview_auto — one relcache callback for all of ours (see the header).
#include "pg/relcache_callbacks.hpp"

extern "C" {
#include "utils/inval.h"
}

namespace pgview {

namespace {

constexpr int max_callbacks = 8;
void (*callbacks[max_callbacks])(Oid);
int ncallbacks = 0;

void dispatch(Datum, Oid relid) {
    for (int i = 0; i < ncallbacks; i++)
        callbacks[i](relid);
}

} // namespace

void on_relcache_invalidation(void (*fn)(Oid relid)) {
    if (ncallbacks == max_callbacks)
        elog(ERROR, "pgview_auto: more than %d relcache callbacks", max_callbacks);
    if (ncallbacks == 0)
        CacheRegisterRelcacheCallback(dispatch, (Datum) 0);
    callbacks[ncallbacks++] = fn;
}

} // namespace pgview
