// pgview_auto — the keys of async and manual table views waiting for the
// worker: a shared hash table of (database, view, sink, key image), filled by
// writers at COMMIT and emptied by the refresh that claims them. Fixed size
// (pgview_auto.max_pending_keys); a key that does not fit (table full, image
// longer than a slot) makes that view's next refresh full instead — nothing is
// lost. Every function expects the caller to hold the shared state's lock
// (worker/shared_state.cpp), exclusively for changes. C-level, never ereports
// (COMMIT calls it).
#pragma once

#include "changes/change_set.hpp"

namespace pgview::shmem {

Size pending_keys_shmem_size(void);
void pending_keys_shmem_init(void);  // in shmem_startup_hook, under AddinShmemInitLock

// One view's pending keys are linked from its entry in the pending table
// (layout.hpp): taking them follows that chain instead of scanning the whole
// key table, which the refresher would do under the lock every writer's COMMIT
// waits for. (dynahash never moves an entry, so the links stay valid.)
struct PendingKey;
using KeyChain = PendingKey *; // nullptr: none

// False when the key could not be kept (the view must be refreshed in full);
// *added: it was not pending yet (the view's count of keys grows by one).
bool pending_keys_add(Oid dbid, Oid view, KeyChain *chain, int sink, const changes::KeyImage &image, bool *added);
// Removes the chain's keys (`expected`: the view's count of them); with `out`,
// returns them as palloc'd SinkKey *s (the caller's memory context; may ereport
// on out of memory, so call it only where an error is allowed, never at COMMIT:
// the keys are copied out before any is removed, so such an error loses none).
void pending_keys_take(KeyChain *chain, int expected, List **out);


} // namespace pgview::shmem
