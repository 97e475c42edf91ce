// pgview_auto — waiters: what pgview_wait is owed, and whether it was served
// (see waiters.hpp).
#include "shmem/waiters.hpp"

#include "shmem/layout.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

namespace pgview::shmem {

using namespace layout;

void wait_target(Oid matview, WaitTarget *target) {
    LWLockAcquire(state->lock, LW_SHARED);
    Entry *e = find_entry(matview, HASH_FIND);
    DatabaseSlot *db = find_database(MyDatabaseId, false);
    // Not settled yet (restart rule pending): as good as overflowed.
    target->overflowed = db == nullptr || db->all_dirty || !db->started_once;
    // Owed: every ticket marked here so far, but those then in flight here.
    // (An overflowed slot is never taken as not owed: it may have marked us.)
    target->ticket = e != nullptr ? e->marked : 0;
    target->n = 0;
    for (int i = 0; i < MaxBackends && target->n < WaitTarget::max_in_flight; i++) {
        const InFlight &f = in_flight[i];
        if (f.ticket != 0 && f.ticket <= target->ticket && f.dbid == MyDatabaseId &&
            f.n <= in_flight_matviews && touches(f, matview))
            target->in_flight[target->n++] = f.ticket;
    }
    LWLockRelease(state->lock);
}

bool served(Oid matview, const WaitTarget &target) {
    LWLockAcquire(state->lock, LW_SHARED);
    Entry *e = find_entry(matview, HASH_FIND);
    Coverage c = e != nullptr ? e->done : Coverage{};
    LWLockRelease(state->lock);
    if (c.upto < target.ticket)
        return false;
    // A ticket the refresh left out is owed only if it was committed by the
    // time of the call, that is, not in flight then.
    for (int i = 0; i < c.n; i++) {
        if (c.except[i] > target.ticket)
            continue;
        bool owed = true;
        for (int j = 0; j < target.n && owed; j++)
            owed = target.in_flight[j] != c.except[i];
        if (owed)
            return false;
    }
    return true;
}

bool wait_for_refresh(long timeout_ms) {
    ConditionVariablePrepareToSleep(&state->refreshed);
    bool timed_out = ConditionVariableTimedSleep(&state->refreshed, timeout_ms, PG_WAIT_EXTENSION);
    ConditionVariableCancelSleep();
    return !timed_out;
}

} // namespace pgview::shmem
