// pgview_auto — the transaction's dirty set (see dirty_set.hpp).
#include "refresh/dirty_set.hpp"

extern "C" {
#include "utils/memutils.h"
}

namespace pgview::refresh {

namespace {
List *dirty = NIL;
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

void dirty_forget(void) { dirty = NIL; }

} // namespace pgview::refresh
