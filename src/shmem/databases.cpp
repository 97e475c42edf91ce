// pgview_auto — one slot per database: its worker, the queue of databases
// waiting for one, pauses, the restart rule's settling (see databases.hpp).
#include "shmem/databases.hpp"

#include <algorithm>

#include "shmem/history_ring.hpp"
#include "shmem/layout.hpp"
#include "shmem/pending_keys.hpp"

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

void request_worker(Oid dbid) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, true);
    if (db != nullptr) {
        want_worker(db);
        wake(db);
    }
    LWLockRelease(state->lock);
}

void history_wants_flush(Oid dbid, bool wake_now) {
    LWLockAcquire(state->lock, LW_SHARED);
    DatabaseSlot *db = find_database(dbid, false);
    bool served = db != nullptr && (db->worker_pid != 0 || db->wants_worker);
    if (served && wake_now)
        wake(db);
    LWLockRelease(state->lock);
    if (!served)
        request_worker(dbid);
}

int database_slots(DatabaseSlotView *out, int max) {
    int n = 0;
    LWLockAcquire(state->lock, LW_SHARED);
    for (const DatabaseSlot &slot : state->databases)
        if (slot.dbid != InvalidOid && n < max)
            out[n++] = {slot.dbid, slot.wants_worker, slot.worker_pid, slot.wants_since, slot.paused_by != 0};
    LWLockRelease(state->lock);
    return n;
}

void launcher_attach(void) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->launcher_latch = MyLatch;
    LWLockRelease(state->lock);
}

int databases_wanting_workers(Oid *dbids, int max) {
    struct Waiting {
        Oid dbid;
        TimestampTz since;
    } waiting[max_databases];
    int n = 0;
    LWLockAcquire(state->lock, LW_SHARED);
    for (const DatabaseSlot &slot : state->databases)
        if (slot.dbid != InvalidOid && slot.wants_worker && slot.worker_pid == 0)
            waiting[n++] = {slot.dbid, slot.wants_since};
    LWLockRelease(state->lock);
    // The longest waiting first: workers take turns (see others_waiting).
    std::sort(waiting, waiting + n, [](const Waiting &a, const Waiting &b) { return a.since < b.since; });
    int kept = 0;
    for (int i = 0; i < n && kept < max; i++)
        if (!database_paused(waiting[i].dbid))
            dbids[kept++] = waiting[i].dbid;
    return kept;
}

int databases_due(TimestampTz now) {
    int n = 0;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    for (DatabaseSlot &slot : state->databases)
        if (slot.dbid != InvalidOid && !slot.wants_worker && slot.worker_pid == 0 && slot.next_due != 0 &&
            slot.next_due <= now) {
            slot.next_due = 0;
            want_worker(&slot);
            n++;
        }
    LWLockRelease(state->lock);
    return n;
}

bool others_waiting(Oid dbid) {
    LWLockAcquire(state->lock, LW_SHARED);
    bool waiting = false;
    for (const DatabaseSlot &slot : state->databases)
        waiting = waiting || (slot.dbid != InvalidOid && slot.dbid != dbid && slot.wants_worker &&
                              slot.worker_pid == 0 && slot.paused_by == 0);
    LWLockRelease(state->lock);
    return waiting;
}

bool worker_attach(Oid dbid) {
    if (database_paused(dbid))
        return false;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, true);
    bool attached = db != nullptr && db->paused_by == 0;
    if (attached) {
        db->worker_pid = MyProcPid;
        db->worker_latch = MyLatch;
    }
    LWLockRelease(state->lock);
    return attached;
}

int pause_database(Oid dbid) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, true);
    int worker = 0;
    if (db != nullptr) { // no slot left: no worker can serve it either
        db->paused_by = MyProcPid;
        worker = db->worker_pid;
    }
    LWLockRelease(state->lock);
    return worker;
}

void unpause_databases(void) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    for (DatabaseSlot &slot : state->databases)
        if (slot.dbid != InvalidOid && slot.paused_by == MyProcPid)
            slot.paused_by = 0;
    if (state->launcher_latch != nullptr)
        SetLatch(state->launcher_latch); // it may start the worker again
    LWLockRelease(state->lock);
}

bool database_paused(Oid dbid) {
    LWLockAcquire(state->lock, LW_SHARED);
    DatabaseSlot *db = find_database(dbid, false);
    int by = db != nullptr ? db->paused_by : 0;
    LWLockRelease(state->lock);
    if (by == 0)
        return false;
    if (BackendPidGetProc(by) != nullptr)
        return true;
    // That backend is gone without ending the pause (it cannot, short of a
    // crash, which resets shared memory; but never trust a pid for good).
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    db = find_database(dbid, false);
    if (db != nullptr && db->paused_by == by)
        db->paused_by = 0;
    LWLockRelease(state->lock);
    return false;
}

void worker_detach(Oid dbid, bool still_wanted, TimestampTz next_due) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, false);
    if (db != nullptr && db->worker_pid == MyProcPid) {
        db->next_due = next_due;
        db->worker_pid = 0;
        db->worker_latch = nullptr;
        db->wants_worker = false;
        if (still_wanted || db->all_dirty)
            want_worker(db); // at the back of the queue

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

void forget_dropped_database(Oid dbid) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, entries);
    Entry *e;
    while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr) {
        if (e->key.dbid != dbid)
            continue;
        if (e->nkeys > 0)
            pending_keys_take(&e->keys, e->nkeys, nullptr);
        hash_search(entries, &e->key, HASH_REMOVE, nullptr); // allowed during a seq scan
    }
    DatabaseSlot *db = find_database(dbid, false);
    if (db != nullptr)
        db->dbid = InvalidOid; // no worker: it left before the drop could succeed
    LWLockRelease(state->lock);
    history_forget_database(dbid);
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

} // namespace pgview::shmem
