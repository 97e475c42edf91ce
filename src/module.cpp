// pgview_auto — module entry: magic block and load-time set-up.
#include "pg/guard.hpp"

extern "C" {
#include "fmgr.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

void _PG_init(void) {
    // Nothing yet: the dependency catalog needs no shared state. Later parts
    // (watch cache, worker) register their hooks here.
}
