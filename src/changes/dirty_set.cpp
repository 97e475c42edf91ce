// pgview_auto — the transaction's dirty set (see dirty_set.hpp).
#include "changes/dirty_set.hpp"

extern "C" {
#include "utils/memutils.h"
}

namespace pgview::changes {

namespace {
List *dirty = NIL;
List *statement_dirty = NIL; // written since the last statement end (mode immediate)
}

namespace {
bool wake_worker = false; // reset with the dirty set (dirty_forget)
}

void dirty_add(Oid table) {
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    dirty = list_append_unique_oid(dirty, table);
    statement_dirty = list_append_unique_oid(statement_dirty, table);
    MemoryContextSwitchTo(old);
}

bool statement_dirty_any(void) { return statement_dirty != NIL; }

List *statement_dirty_take(void) {
    List *out = statement_dirty;
    statement_dirty = NIL;
    return out;
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
    statement_dirty = NIL;
}

void request_worker_at_commit(void) { wake_worker = true; }
bool worker_requested(void) { return wake_worker; }

} // namespace pgview::changes
