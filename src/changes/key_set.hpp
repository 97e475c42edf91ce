// pgview_auto — the transaction's changed keys, per incremental view: what the
// capture triggers collect and what the refresh at commit (or, through shared
// memory, the worker) recomputes. Sink 0 holds the view's keys; sink i > 0 the
// captured join values of the view's i-th join source, which its key query
// turns into keys at refresh time. Past pgview_auto.max_keys distinct entries a
// view is "full": collection stops and its refresh recomputes everything.
// Kept in TopTransactionContext; a rolled-back savepoint keeps its keys (at
// worst keys refreshed for nothing, never one missed). C-level: may ereport.
#pragma once

#include "changes/key_image.hpp"

extern "C" {
#include "nodes/pg_list.h"
}

namespace pgview::changes {

struct SinkKey {
    int sink;
    KeyImage image;
};

void keyset_add(Oid view, int sink, const KeyImage &image);
void keyset_touch(Oid view);      // a keyed change (possibly of no row) happened
void keyset_mark_full(Oid view);  // a change that cannot be keyed
bool keyset_is_full(Oid view);    // (collecting more is pointless)
// What was collected for view: false when nothing (the view's changes were not
// keyed at all: refresh it in full). *full: refresh in full anyway. *keys: the
// SinkKey *s, removed from the set (a later change collects afresh).
bool keyset_take(Oid view, bool *full, List **keys);
bool keyset_known(Oid view);      // something collected (keys, or full)
void keyset_forget(void);         // end of transaction


} // namespace pgview::changes
