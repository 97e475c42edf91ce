// pgview_auto — shared memory state (see shared_state.hpp).
#include "worker/shared_state.hpp"

#include <algorithm>

#include "worker/pending_keys.hpp"
#include "config/settings.hpp"

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
    uint64 marked;    // the last ticket marked here (its commit visible)
    Coverage done;    // of the newest refresh committed
    bool keys_full;   // some pending change brought no keys (or they did not fit): refresh in full
    int32 nkeys;      // pending keys in the key table (pending_keys.hpp)
    uint32 overflows; // keys that did not fit in shared memory (each made a refresh full)
    bool overflowed;  // ... since the last claim (which says so in the server log)
    TimestampTz schedule_next; // its schedule's next run (kept across the database's workers)
};

// A committing transaction's ticket, from PRE_COMMIT until its COMMIT (or
// ABORT) event marks each matview: one slot per backend. A refresh claimed
// meanwhile cannot see that transaction's writes (its commit is not visible
// yet), so it leaves that ticket out. A ticket is in flight for a matview or
// marked there, never both (both change under one lock), so a waiter can tell
// what it is owed.
constexpr int in_flight_matviews = 64;
struct InFlight {
    Oid dbid;
    uint64 ticket; // 0: nothing in flight
    int n;         // > in_flight_matviews: overflowed, in flight for every
                   // matview of the database until its COMMIT marks it all dirty
    Oid matviews[in_flight_matviews];
};

struct DatabaseSlot {
    Oid dbid; // InvalidOid: free
    bool wants_worker;
    TimestampTz wants_since;  // when it started wanting one (the launcher serves the longest waiting first)
    TimestampTz next_due;     // a worker that left with nothing to do: when it is next needed (0: when asked)
    bool started_once;    // the restart rule has been applied since server start
    bool settling;        // ... is being applied now
    bool all_dirty;       // overflow: every matview of the database is dirty
    TimestampTz all_dirty_since;
    int worker_pid;
    Latch *worker_latch;
    int paused_by;        // a backend running DROP DATABASE (or the like) on it: no worker now
    uint32 overflows;     // matviews that found no room in the entries table: all dirty instead
};

struct SharedState {
    LWLock *lock;
    Latch *launcher_latch;
    ConditionVariable refreshed;
    uint64 last_ticket; // tickets are numbered across databases
    uint64 last_claim;
    DatabaseSlot databases[max_databases];
};

SharedState *state = nullptr;
InFlight *in_flight = nullptr; // MaxBackends slots, by pgprocno
bool my_ticket_in_flight = false;
HTAB *entries = nullptr;
shmem_request_hook_type prev_shmem_request = nullptr;
shmem_startup_hook_type prev_shmem_startup = nullptr;

void request_shmem() {
    if (prev_shmem_request)
        prev_shmem_request();
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)) + MAXALIGN(mul_size(MaxBackends, sizeof(InFlight))) +
                           hash_estimate_size(config::max_matviews, sizeof(Entry)) + pending_keys_shmem_size());
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

// The matview's next refresh must be full: its pending keys are of no use.
void keys_useless(Entry *e) {
    e->keys_full = true;
    pending_keys_take(e->key.dbid, e->key.matview, e->nkeys, nullptr);
    e->nkeys = 0;
}

// A committed change's keys join the matview's pending ones (lock held). Never
// fails: what does not fit makes the next refresh full.
void add_keys(Entry *e, const Mark &m) {
    if (e->keys_full)
        return;
    if (!m.keyed) {
        keys_useless(e);
        return;
    }
    // Bounded by the shared table's room only (pgview_auto.max_pending_keys): the
    // refresh that claims them recomputes them all. A key already pending is
    // not counted again (nkeys is what pending_keys_take finds).
    ListCell *lc;
    foreach (lc, m.keys) {
        auto *sk = static_cast<incremental::SinkKey *>(lfirst(lc));
        bool added;
        if (!pending_keys_add(e->key.dbid, e->key.matview, sk->sink, sk->image, &added)) {
            keys_useless(e); // no room (pgview_auto.max_pending_keys), or an image longer than a slot
            e->overflows++;
            e->overflowed = true;
            return;
        }
        e->nkeys += added;
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
    // The database slot must exist for COMMIT to record anything at all, and
    // the backend's in-flight slot for a refresh to know what it cannot see.
    InFlight *slot = my_slot();
    t.tracked = slot != nullptr && find_database(MyDatabaseId, true) != nullptr;
    Entry *e = t.tracked ? find_entry(matview, HASH_ENTER_NULL) : nullptr;
    if (e != nullptr) {
        if (slot->ticket == 0) { // one ticket per transaction, for all its matviews
            slot->dbid = MyDatabaseId;
            slot->ticket = ++state->last_ticket;
            slot->n = 0;
            my_ticket_in_flight = true;
        }
        if (!touches(*slot, matview)) {
            if (slot->n < in_flight_matviews)
                slot->matviews[slot->n] = matview;
            slot->n++;
        }
        t.ticket = slot->ticket;
    }
    LWLockRelease(state->lock);
    return t;
}

namespace {

// One matview written by a committed transaction (lock held).
void mark_one(const Mark &m, DatabaseSlot *db, TimestampTz now) {
    Entry *e = m.ticket.ticket != 0 ? find_entry(m.ticket.matview, HASH_FIND) : nullptr;
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
        add_keys(e, m);
        e->last_change = now;
        e->marked = Max(e->marked, m.ticket.ticket);
    } else if (db != nullptr) {
        news = !db->all_dirty;
        database_overflow(db, now); // the table was full: never lose a change
    }
    if (db != nullptr && m.wake_worker && (news || db->worker_latch == nullptr)) {
        want_worker(db);
        wake(db);
    }
}

} // namespace

void commit_marks(const Mark *marks, int n) {
    if (n == 0 && !my_ticket_in_flight)
        return; // the common case: a transaction that wrote no async/manual source
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(MyDatabaseId, true);
    for (int i = 0; i < n; i++)
        mark_one(marks[i], db, now);
    // The ticket is marked everywhere and leaves flight under the same lock (see
    // InFlight): a claim or a waiter sees it in one state or the other.
    InFlight *slot = my_slot();
    if (my_ticket_in_flight && slot != nullptr) {
        if (slot->n > in_flight_matviews) {
            // Refreshes of any matview of this database left our ticket out, and
            // we cannot say which matviews we wrote: all of them are dirty again.
            DatabaseSlot *own = find_database(slot->dbid, true);
            if (own != nullptr && !own->all_dirty) {
                own->all_dirty = true;
                own->all_dirty_since = now;
                want_worker(own);
                wake(own);
            }
        }
        slot->ticket = 0;
        slot->n = 0;
    }
    my_ticket_in_flight = false;
    LWLockRelease(state->lock);
}

void request_worker(Oid dbid) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(dbid, true);
    if (db != nullptr) {
        want_worker(db);
        wake(db);
    }
    LWLockRelease(state->lock);
}

void move_pending(Oid old_matview, Oid new_matview, bool mark, bool wake_worker) {
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(MyDatabaseId, true);
    Entry *old = find_entry(old_matview, HASH_FIND);
    TimestampTz since = old != nullptr && old->dirty ? old->pending_since : now;
    if (old != nullptr) {
        if (old->nkeys > 0) // (a rebuilt matview's refresh is full anyway)
            pending_keys_take(MyDatabaseId, old_matview, old->nkeys, nullptr);
        EntryKey key{MyDatabaseId, old_matview};
        hash_search(entries, &key, HASH_REMOVE, nullptr);
    }
    for (int i = 0; i < MaxBackends; i++) {
        InFlight &f = in_flight[i];
        if (f.ticket == 0 || f.dbid != MyDatabaseId || !touches(f, old_matview) || touches(f, new_matview))
            continue;
        if (f.n < in_flight_matviews)
            f.matviews[f.n] = new_matview;
        f.n++;
    }
    if (mark) {
        Entry *e = find_entry(new_matview, HASH_ENTER_NULL);
        if (e != nullptr) {
            e->keys_full = true;
            if (!e->dirty) {
                e->dirty = true;
                e->pending_since = since;
            }
            e->last_change = now;
        } else {
            database_overflow(db, now);
        }
        if (db != nullptr && wake_worker) {
            want_worker(db);
            wake(db);
        }
    }
    LWLockRelease(state->lock);
}

Coverage claim(Oid matview, bool *keyed, List **keys) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    Entry *e = find_entry(matview, HASH_ENTER_NULL);
    DatabaseSlot *db = find_database(MyDatabaseId, false);
    Coverage c{};
    if (keyed != nullptr)
        *keyed = false;
    bool overflowed = e != nullptr && e->overflowed;
    if (e != nullptr) {
        e->overflowed = false;
        // A keyed refresh only for changes that all brought their keys (a
        // matview that is not dirty, or a database all dirty, gets a full one).
        if (keyed != nullptr)
            *keyed = e->dirty && !e->keys_full && (db == nullptr || !db->all_dirty);
        pending_keys_take(MyDatabaseId, matview, e->nkeys, keyed != nullptr && *keyed ? keys : nullptr);
        e->nkeys = 0;
        e->keys_full = false;
        e->dirty = false;
        e->pending_since = 0;
        // Every ticket is either marked (its commit visible, so the snapshot
        // taken after this sees it) or still in flight: this refresh covers all
        // but those in flight for this matview. Their COMMIT marks it dirty.
        c.claim_no = ++state->last_claim;
        c.upto = state->last_ticket;
        uint64 lowest = c.upto + 1;
        int in_flight_here = 0;
        for (int i = 0; i < MaxBackends; i++) {
            const InFlight &f = in_flight[i];
            if (f.ticket == 0 || f.dbid != MyDatabaseId || !touches(f, matview))
                continue;
            if (in_flight_here < max_except)
                c.except[in_flight_here] = f.ticket;
            in_flight_here++;
            lowest = Min(lowest, f.ticket);
        }
        if (in_flight_here <= max_except)
            c.n = in_flight_here;
        else
            c.upto = lowest - 1; // too many to list: cover less
    }
    LWLockRelease(state->lock);
    if (overflowed)
        ereport(LOG, (errmsg("pgview_auto: the changed keys of \"%s\" did not fit in shared memory: it is "
                             "refreshed in full", get_rel_name(matview)),
                      errhint("Raise pgview_auto.max_pending_keys (now %d), or refresh it more often.",
                              config::max_pending_keys)));
    return c;
}

void done(Oid matview, const Coverage &c) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    Entry *e = find_entry(matview, HASH_FIND);
    if (e != nullptr) {
        if (c.claim_no > e->done.claim_no) // an older refresh finishing later changes nothing
            e->done = c;
        e->failures_in_row = 0;
        e->retry_at = 0;
    }
    LWLockRelease(state->lock);
    ConditionVariableBroadcast(&state->refreshed);
}

void unclaim(Oid matview, TimestampTz retry_at, bool failed) {
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    Entry *e = find_entry(matview, HASH_FIND);
    if (e != nullptr) {
        if (!e->dirty) {
            e->dirty = true;
            e->pending_since = now;
        }
        keys_useless(e); // the claimed keys went with the refresh
        if (failed)
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

const char *const max_matviews_hint =
    "Raise pgview_auto.max_matviews in postgresql.conf and restart the server, or watch it with mode => 'commit'.";

bool reserve(Oid matview) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    bool room = find_entry(matview, HASH_ENTER_NULL) != nullptr;
    LWLockRelease(state->lock);
    return room;
}

bool mark_dirty_since(Oid matview, TimestampTz since) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    Entry *e = find_entry(matview, HASH_ENTER_NULL);
    if (e != nullptr) {
        keys_useless(e); // (after a restart or an overflow nobody knows which keys changed)
        e->marked = ++state->last_ticket; // a waiter arriving now waits for the refresh this causes
        if (!e->dirty) {
            e->dirty = true;
            e->pending_since = since;
        }
        e->last_change = Max(e->last_change, since);
    } else {
        database_overflow(find_database(MyDatabaseId, true), since);
    }
    LWLockRelease(state->lock);
    return e != nullptr;
}

bool pending_info(Oid matview, PendingInfo *info) {
    LWLockAcquire(state->lock, LW_SHARED);
    Entry *e = find_entry(matview, HASH_FIND);
    DatabaseSlot *db = find_database(MyDatabaseId, false);
    bool known = e != nullptr;
    if (known)
        *info = {e->dirty, e->pending_since, e->last_change, e->retry_at, e->next_refresh, e->failures_in_row,
                 e->overflows + (db != nullptr ? db->overflows : 0)};
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

DatabasePending database_pending(void) {
    LWLockAcquire(state->lock, LW_SHARED);
    DatabaseSlot *db = find_database(MyDatabaseId, false);
    DatabasePending d{};
    if (db != nullptr)
        d = {db->all_dirty, db->all_dirty_since, db->overflows, db->worker_pid,
             db->wants_worker && db->worker_pid == 0 ? db->wants_since : 0};
    LWLockRelease(state->lock);
    return d;
}

TimestampTz schedule_clock(Oid matview) {
    LWLockAcquire(state->lock, LW_SHARED);
    Entry *e = find_entry(matview, HASH_FIND);
    TimestampTz next = e != nullptr ? e->schedule_next : 0;
    LWLockRelease(state->lock);
    return next;
}

void set_schedule_clock(Oid matview, TimestampTz next) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    Entry *e = find_entry(matview, HASH_ENTER_NULL);
    if (e != nullptr)
        e->schedule_next = next;
    LWLockRelease(state->lock);
}

void set_next_refresh(Oid matview, TimestampTz when) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    // Clearing needs no entry of its own.
    Entry *e = find_entry(matview, when == 0 ? HASH_FIND : HASH_ENTER_NULL);
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
    DatabaseSlot *db = find_database(MyDatabaseId, false);
    uint32 db_overflows = db != nullptr ? db->overflows : 0;
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, entries);
    Entry *e;
    while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr) {
        if (e->key.dbid != MyDatabaseId || count >= n)
            continue;
        m[count] = e->key.matview;
        p[count] = {e->dirty,        e->pending_since,   e->last_change,           e->retry_at,
                    e->next_refresh, e->failures_in_row, e->overflows + db_overflows};
        count++;
    }
    LWLockRelease(state->lock);
    *matviews = m;
    *infos = p;
    return count;
}

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
            pending_keys_take(dbid, e->key.matview, e->nkeys, nullptr);
        hash_search(entries, &e->key, HASH_REMOVE, nullptr); // allowed during a seq scan
    }
    DatabaseSlot *db = find_database(dbid, false);
    if (db != nullptr)
        db->dbid = InvalidOid; // no worker: it left before the drop could succeed
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
