// pgview_auto — shared memory: sized at start, initialised once (see layout.hpp).
#include "shmem/layout.hpp"

#include "config/settings.hpp"
#include "shmem/activity.hpp"
#include "shmem/history_ring.hpp"
#include "shmem/maintenance.hpp"
#include "shmem/pending_keys.hpp"
#include "shmem/state.hpp"

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

namespace pgview::shmem::layout {

SharedState *state = nullptr;
InFlight *in_flight = nullptr; // MaxBackends slots, by pgprocno
HTAB *entries = nullptr;
shmem_request_hook_type prev_shmem_request = nullptr;
shmem_startup_hook_type prev_shmem_startup = nullptr;

void request_shmem() {
    if (prev_shmem_request)
        prev_shmem_request();
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)) + MAXALIGN(mul_size(MaxBackends, sizeof(InFlight))) +
                           hash_estimate_size(config::max_matviews, sizeof(Entry)) + pending_keys_shmem_size() +
                           maintenance_shmem_size() + history_ring_shmem_size() + activity_shmem_size());
    RequestNamedLWLockTranche("pgview_auto", 1);
    maintenance_request_lock();
    history_ring_request_lock();
}

void startup_shmem() {
    if (prev_shmem_startup)
        prev_shmem_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    state = static_cast<SharedState *>(ShmemInitStruct("pgview_auto state", sizeof(SharedState), &found));
    if (!found) {
        // A new server start, or a restart after a crash: everything starts clean,
        // and each database's first worker marks all its matviews dirty.
        memset(state, 0, sizeof(SharedState));
        state->lock = &(GetNamedLWLockTranche("pgview_auto"))->lock;
        ConditionVariableInit(&state->refreshed);
    }
    in_flight = static_cast<InFlight *>(
        ShmemInitStruct("pgview_auto in-flight tickets", mul_size(MaxBackends, sizeof(InFlight)), &found));
    if (!found)
        memset(in_flight, 0, mul_size(MaxBackends, sizeof(InFlight)));
    HASHCTL ctl;
    ctl.keysize = sizeof(EntryKey);
    ctl.entrysize = sizeof(Entry);
    // HASH_FIXED_SIZE: sized at start and never more (see pending_keys.cpp).
    entries = ShmemInitHash("pgview_auto pending", config::max_matviews, config::max_matviews, &ctl,
                            HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
    pending_keys_shmem_init();
    maintenance_shmem_init();
    history_ring_shmem_init();
    activity_shmem_init();
    LWLockRelease(AddinShmemInitLock);
}

DatabaseSlot *find_database(Oid dbid, bool create) {
    DatabaseSlot *free_slot = nullptr;
    for (DatabaseSlot &slot : state->databases) {
        if (slot.dbid == dbid)
            return &slot;
        if (slot.dbid == InvalidOid && free_slot == nullptr)
            free_slot = &slot;
    }
    if (create && free_slot != nullptr) {
        memset(free_slot, 0, sizeof(DatabaseSlot));
        free_slot->dbid = dbid;
    }
    return create ? free_slot : nullptr;
}

Entry *find_entry(Oid matview, HASHACTION action) {
    EntryKey key{MyDatabaseId, matview};
    bool found;
    auto *e = static_cast<Entry *>(hash_search(entries, &key, action, &found));
    if (e != nullptr && !found && action == HASH_ENTER_NULL) {
        e->dirty = false;
        e->pending_since = e->last_change = e->retry_at = e->next_refresh = 0;
        e->failures_in_row = 0;
        e->marked = 0;
        e->done = Coverage{};
        e->keys_full = false;
        e->nkeys = 0;
        e->keys = nullptr;
        e->overflows = 0;
        e->overflowed = false;
        e->schedule_next = 0;
    }
    return e;
}

// No entry could be made for a matview (the table is full): its database is
// all dirty instead (lock held). Nothing is lost; counted.
void database_overflow(DatabaseSlot *db, TimestampTz now) {
    if (db == nullptr)
        return;
    db->overflows++;
    if (!db->all_dirty) {
        db->all_dirty = true;
        db->all_dirty_since = now;
    }
}


InFlight *my_slot() {
    int procno = MyProc != nullptr ? MyProc->pgprocno : -1;
    return procno >= 0 && procno < MaxBackends ? &in_flight[procno] : nullptr;
}

bool touches(const InFlight &f, Oid matview) {
    if (f.n > in_flight_matviews)
        return true;
    for (int i = 0; i < f.n; i++)
        if (f.matviews[i] == matview)
            return true;
    return false;
}

// The database wants a worker (lock held): it joins the queue if not in it.
void want_worker(DatabaseSlot *db) {
    if (!db->wants_worker)
        db->wants_since = GetCurrentTimestamp();
    db->wants_worker = true;
}

void wake(DatabaseSlot *db) {
    if (db != nullptr && db->worker_latch != nullptr)
        SetLatch(db->worker_latch);
    else if (state->launcher_latch != nullptr)
        SetLatch(state->launcher_latch);
}

} // namespace pgview::shmem::layout

namespace pgview::shmem {

using namespace layout;

void shared_state_init(void) {
    prev_shmem_request = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_shmem_startup = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

bool shared_state_ready(void) { return state != nullptr; }


} // namespace pgview::shmem
