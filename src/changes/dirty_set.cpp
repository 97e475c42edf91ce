// pgview_auto — the transaction's dirty set (see dirty_set.hpp).
#include "changes/dirty_set.hpp"

extern "C" {
#include "utils/memutils.h"
}

namespace pgview::changes {

namespace {
List *dirty = NIL;
}

namespace {
bool wake_worker = false; // reset with the dirty set (dirty_forget)
}

void dirty_add(Oid table) {
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    dirty = list_append_unique_oid(dirty, table);
    MemoryContextSwitchTo(old);
}

bool dirty_any(void) { return dirty != NIL; }

List *dirty_take(void) {
    List *out = dirty;
    dirty = NIL;
    return out;
}

void dirty_forget(void) {
    wake_worker = false;
    dirty = NIL;
}

void request_worker_at_commit(void) { wake_worker = true; }
bool worker_requested(void) { return wake_worker; }

} // namespace pgview::changes
