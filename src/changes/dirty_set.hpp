// pgview_auto — the transaction's dirty set: watched tables written, whose
// watching matviews are refreshed (or handed to the worker) at commit.
//
// Kept in TopTransactionContext; a rolled-back savepoint keeps its dirt (at worst
// one refresh too many, never one too few); a rolled-back transaction drops it.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
}

namespace pgview::changes {

void dirty_add(Oid table);
bool dirty_any(void);
List *dirty_take(void);     // the set, emptied; allocated in TopTransactionContext
// The tables written since this was last taken (views in mode 'immediate' are
// refreshed at the end of each statement from it); the dirty set keeps them.
bool statement_dirty_any(void);
List *statement_dirty_take(void);
void dirty_forget(void);    // end of transaction: the memory goes with it

// This transaction made work for the background worker (a new async watch, a
// schedule): the commit wakes it.
void request_worker_at_commit(void);
bool worker_requested(void);

} // namespace pgview::changes
