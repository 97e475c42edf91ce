// pgview_auto — the locks pgview_alter and pgview_save_dependents need, taken
// all at once or waited for holding none.
//
// Readers lock a view before the tables under it; a commit-mode writer holds
// its table and locks the views it refreshes at COMMIT. So no order of taking
// "the altered table and its dependent views" suits both: views first, a
// writer's COMMIT deadlocks with us; tables first, a reader does. Instead each
// lock is tried at once (tables first, then views, each by OID); when one is
// busy, every lock taken so far is let go and that one is waited for alone —
// never waiting while holding another — then the others are tried again. So
// writers, readers and other alters queue; nobody dies. (Locks this
// transaction held before stay held: letting go only undoes our own taking.)
#pragma once

#include <vector>

extern "C" {
#include "postgres.h"
#include "storage/lockdefs.h"
}

namespace pgview::alter {

struct LockRequest {
    Oid relid;
    LOCKMODE mode;
    bool table; // tried before the views
};

void lock_all_or_wait(std::vector<LockRequest> locks);

} // namespace pgview::alter
