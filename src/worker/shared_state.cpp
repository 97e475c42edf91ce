// pgview_auto — shared memory state (see shared_state.hpp).
#include "worker/shared_state.hpp"

#include "worker/settings.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

namespace pgview::worker {

namespace {

constexpr int max_databases = 64;

struct EntryKey {
    Oid dbid;
    Oid matview;
};

struct Entry {
    EntryKey key;
    bool dirty;
    TimestampTz pending_since;
    TimestampTz last_change;
    TimestampTz retry_at;
    TimestampTz next_refresh;
    int failures_in_row;
    uint64 announced;
    uint64 done;
};

struct DatabaseSlot {
    Oid dbid; // InvalidOid: free
    bool wants_worker;
    bool started_once;    // the restart rule has been applied since server start
    bool settling;        // ... is being applied now
    bool all_dirty;       // overflow: every matview of the database is dirty
    TimestampTz all_dirty_since;
    int worker_pid;
    Latch *worker_latch;
};

struct SharedState {
    LWLock *lock;
    Latch *launcher_latch;
    ConditionVariable refreshed;
    DatabaseSlot databases[max_databases];
};

SharedState *state = nullptr;
HTAB *entries = nullptr;
shmem_request_hook_type prev_shmem_request = nullptr;
shmem_startup_hook_type prev_shmem_startup = nullptr;

void request_shmem() {
    if (prev_shmem_request)
        prev_shmem_request();
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)) + hash_estimate_size(max_matviews, sizeof(Entry)));
    RequestNamedLWLockTranche("pgview_auto", 1);
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
    HASHCTL ctl;
    ctl.keysize = sizeof(EntryKey);
    ctl.entrysize = sizeof(Entry);
    entries = ShmemInitHash("pgview_auto pending", max_matviews, max_matviews, &ctl, HASH_ELEM | HASH_BLOBS);
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
        e->announced = e->done = 0;
    }
    return e;
}

void wake(DatabaseSlot *db) {
    if (db != nullptr && db->worker_latch != nullptr)
        SetLatch(db->worker_latch);
    else if (state->launcher_latch != nullptr)
        SetLatch(state->launcher_latch);
}

} // namespace

void shared_state_init(void) {
    prev_shmem_request = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_shmem_startup = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

bool shared_state_ready(void) { return state != nullptr; }

Ticket announce(Oid matview) {
    Ticket t{matview, 0, false};
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    // The database slot must exist for COMMIT to record anything at all.
    t.tracked = find_database(MyDatabaseId, true) != nullptr;
    Entry *e = t.tracked ? find_entry(matview, HASH_ENTER_NULL) : nullptr;
    if (e != nullptr)
        t.ticket = ++e->announced;
    LWLockRelease(state->lock);
    return t;
}

void mark_dirty(const Ticket &t, bool wake_worker) {
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(MyDatabaseId, true);
    Entry *e = t.ticket != 0 ? find_entry(t.matview, HASH_FIND) : nullptr;
    // Only news wakes the worker: a matview turning dirty, or a database without
    // a worker. Later changes just move last_change, which the worker reads when
    // its deadline comes (at 20k commits a second, a wake-up per commit would
    // cost the writers a core).
    bool news = false;
    if (e != nullptr) {
        if (!e->dirty) {
            e->dirty = true;
            e->pending_since = now;
            news = true;
        }
        e->last_change = now;
    } else if (db != nullptr && !db->all_dirty) {
        db->all_dirty = true; // the table was full: never lose a change
        db->all_dirty_since = now;
        news = true;
    }
    if (db != nullptr && wake_worker && (news || db->worker_latch == nullptr)) {
        db->wants_worker = true;
        wake(db);
    }
    LWLockRelease(state->lock);
}

void request_worker(Oid dbid) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, true);
    if (db != nullptr) {
        db->wants_worker = true;
        wake(db);
    }
    LWLockRelease(state->lock);
}

uint64 claim(Oid matview) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    Entry *e = find_entry(matview, HASH_ENTER_NULL);
    uint64 ticket = 0;
    if (e != nullptr) {
        e->dirty = false;
        e->pending_since = 0;
        ticket = e->announced;
    }
    LWLockRelease(state->lock);
    return ticket;
}

void done(Oid matview, uint64 ticket) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    Entry *e = find_entry(matview, HASH_FIND);
    if (e != nullptr) {
        if (ticket > e->done)
            e->done = ticket;
        e->failures_in_row = 0;
        e->retry_at = 0;
    }
    LWLockRelease(state->lock);
    ConditionVariableBroadcast(&state->refreshed);
}

void unclaim(Oid matview, TimestampTz retry_at) {
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    Entry *e = find_entry(matview, HASH_FIND);
    if (e != nullptr) {
        if (!e->dirty) {
            e->dirty = true;
            e->pending_since = now;
        }
        e->failures_in_row++;
        e->retry_at = retry_at;
    }
    LWLockRelease(state->lock);
}

bool take_all_dirty(TimestampTz *since) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(MyDatabaseId, false);
    bool was = db != nullptr && db->all_dirty;
    if (was) {
        *since = db->all_dirty_since;
        db->all_dirty = false;
    }
    LWLockRelease(state->lock);
    return was;
}

void mark_dirty_since(Oid matview, TimestampTz since) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    Entry *e = find_entry(matview, HASH_ENTER_NULL);
    if (e != nullptr) {
        ++e->announced; // a waiter arriving now waits for the refresh this causes
        if (!e->dirty) {
            e->dirty = true;
            e->pending_since = since;
        }
        e->last_change = Max(e->last_change, since);
    } else {
        DatabaseSlot *db = find_database(MyDatabaseId, true);
        if (db != nullptr && !db->all_dirty) {
            db->all_dirty = true;
            db->all_dirty_since = since;
        }
    }
    LWLockRelease(state->lock);
}

bool pending_info(Oid matview, PendingInfo *info) {
    LWLockAcquire(state->lock, LW_SHARED);
    Entry *e = find_entry(matview, HASH_FIND);
    DatabaseSlot *db = find_database(MyDatabaseId, false);
    bool known = e != nullptr;
    if (known)
        *info = {e->dirty, e->pending_since, e->last_change, e->retry_at, e->next_refresh, e->failures_in_row};
    if (db != nullptr && db->all_dirty) {
        if (!known)
            *info = {};
        info->dirty = true;
        if (info->pending_since == 0 || db->all_dirty_since < info->pending_since)
            info->pending_since = db->all_dirty_since;
        known = true;
    }
    LWLockRelease(state->lock);
    return known;
}

void set_next_refresh(Oid matview, TimestampTz when) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    Entry *e = find_entry(matview, HASH_ENTER_NULL);
    if (e != nullptr)
        e->next_refresh = when;
    LWLockRelease(state->lock);
}

void forget_entries_except(const Oid *keep, int n) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, entries);
    Entry *e;
    while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr) {
        if (e->key.dbid != MyDatabaseId || e->dirty)
            continue;
        bool kept = false;
        for (int i = 0; i < n && !kept; i++)
            kept = keep[i] == e->key.matview;
        if (!kept) // removing the entry just returned is allowed during a seq scan
            hash_search(entries, &e->key, HASH_REMOVE, nullptr);
    }
    LWLockRelease(state->lock);
}

int pending_list(Oid **matviews, PendingInfo **infos) {
    LWLockAcquire(state->lock, LW_SHARED);
    long n = hash_get_num_entries(entries);
    Oid *m = static_cast<Oid *>(palloc((n + 1) * sizeof(Oid)));
    PendingInfo *p = static_cast<PendingInfo *>(palloc((n + 1) * sizeof(PendingInfo)));
    int count = 0;
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, entries);
    Entry *e;
    while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr) {
        if (e->key.dbid != MyDatabaseId || count >= n)
            continue;
        m[count] = e->key.matview;
        p[count] = {e->dirty, e->pending_since, e->last_change, e->retry_at, e->next_refresh, e->failures_in_row};
        count++;
    }
    LWLockRelease(state->lock);
    *matviews = m;
    *infos = p;
    return count;
}

uint64 announced_ticket(Oid matview, bool *database_overflowed) {
    LWLockAcquire(state->lock, LW_SHARED);
    Entry *e = find_entry(matview, HASH_FIND);
    DatabaseSlot *db = find_database(MyDatabaseId, false);
    // Not settled yet (restart rule pending): as good as overflowed.
    *database_overflowed = db == nullptr || db->all_dirty || !db->started_once;
    uint64 t = e != nullptr ? e->announced : 0;
    LWLockRelease(state->lock);
    return t;
}

uint64 done_ticket(Oid matview) {
    LWLockAcquire(state->lock, LW_SHARED);
    Entry *e = find_entry(matview, HASH_FIND);
    uint64 t = e != nullptr ? e->done : 0;
    LWLockRelease(state->lock);
    return t;
}

bool wait_for_refresh(long timeout_ms) {
    ConditionVariablePrepareToSleep(&state->refreshed);
    bool timed_out = ConditionVariableTimedSleep(&state->refreshed, timeout_ms, PG_WAIT_EXTENSION);
    ConditionVariableCancelSleep();
    return !timed_out;
}

void launcher_attach(void) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->launcher_latch = MyLatch;
    LWLockRelease(state->lock);
}

int databases_wanting_workers(Oid *dbids, int max) {
    int n = 0;
    LWLockAcquire(state->lock, LW_SHARED);
    for (const DatabaseSlot &slot : state->databases)
        if (slot.dbid != InvalidOid && slot.wants_worker && slot.worker_pid == 0 && n < max)
            dbids[n++] = slot.dbid;
    LWLockRelease(state->lock);
    return n;
}

void worker_attach(Oid dbid) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, true);
    if (db != nullptr) {
        db->worker_pid = MyProcPid;
        db->worker_latch = MyLatch;
    }
    LWLockRelease(state->lock);
}

void worker_detach(Oid dbid, bool still_wanted) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, false);
    if (db != nullptr && db->worker_pid == MyProcPid) {
        db->worker_pid = 0;
        db->worker_latch = nullptr;
        db->wants_worker = still_wanted || db->all_dirty;
    }
    LWLockRelease(state->lock);
}

void forget_database(Oid dbid) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, false);
    if (db != nullptr && db->worker_pid == 0)
        db->dbid = InvalidOid;
    LWLockRelease(state->lock);
}

bool begin_settling(Oid dbid) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, true);
    bool mine = db != nullptr && !db->started_once && !db->settling;
    if (mine)
        db->settling = true;
    LWLockRelease(state->lock);
    return mine;
}

void end_settling(Oid dbid, bool done) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, false);
    if (db != nullptr) {
        db->settling = false;
        db->started_once = db->started_once || done;
    }
    LWLockRelease(state->lock);
    ConditionVariableBroadcast(&state->refreshed);
}

bool settled(Oid dbid) {
    LWLockAcquire(state->lock, LW_SHARED);
    DatabaseSlot *db = find_database(dbid, false);
    bool done = db != nullptr && db->started_once;
    LWLockRelease(state->lock);
    return done;
}

} // namespace pgview::worker
