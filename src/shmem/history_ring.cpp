// pgview_auto — the refresh history's buffer in shared memory (see history_ring.hpp).
#include "shmem/history_ring.hpp"

#include "config/settings.hpp"
#include "shmem/databases.hpp"
#include "shmem/layout.hpp"

extern "C" {
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
}

namespace pgview::shmem {

namespace {

// Entries waiting per database: a database's first entry asks for its worker.
struct Waiting {
    Oid dbid;
    int n;
};

// A queue in arrival order: entries are written at tail and freed anywhere
// between head and tail (each database's worker takes its own); head moves past
// the freed ones. Counters only grow; a slot is counter % capacity. The worker's
// take looks at the entries from head on, not at the whole ring: every writer's
// COMMIT waits for the same lock.
struct Ring {
    LWLock *lock;
    int capacity;
    int used;    // entries not yet taken
    uint64 head; // the oldest slot not yet freed
    uint64 tail; // the next slot to write
    uint64 last_seq;
    int64 dropped;
    Waiting waiting[layout::max_databases];
    HistoryEntry entries[FLEXIBLE_ARRAY_MEMBER];
};

Ring *ring = nullptr;
List *notes = NIL; // this transaction's HistoryEntry copies (TopTransactionContext)

int capacity() { return config::preloaded() ? config::history_buffer : 0; }

Waiting *waiting_of(Oid dbid, bool create) {
    Waiting *free_slot = nullptr;
    for (Waiting &w : ring->waiting) {
        if (w.dbid == dbid)
            return &w;
        if (free_slot == nullptr && (w.dbid == InvalidOid || w.n == 0))
            free_slot = &w;
    }
    if (create && free_slot != nullptr) {
        free_slot->dbid = dbid;
        free_slot->n = 0;
        return free_slot;
    }
    return nullptr;
}

HistoryEntry &slot(uint64 counter) { return ring->entries[counter % static_cast<uint64>(ring->capacity)]; }

// Under the lock, exclusive.
void advance_head() {
    while (ring->head < ring->tail && slot(ring->head).seq == 0)
        ring->head++;
}

// The queue spans the whole ring but has holes (entries taken behind another
// database's, whose worker has not come yet): its live entries close up, in
// order, so that a database without a worker never stops the others' history.
// Under the lock, exclusive; rare (O(capacity)).
void close_up() {
    uint64 to = ring->head;
    for (uint64 from = ring->head; from < ring->tail; from++) {
        if (slot(from).seq == 0)
            continue;
        if (to != from) {
            slot(to) = slot(from);
            slot(from).seq = 0;
        }
        to++;
    }
    ring->tail = to;
}

} // namespace

Size history_ring_shmem_size(void) {
    if (capacity() == 0)
        return 0;
    return MAXALIGN(add_size(offsetof(Ring, entries), mul_size(capacity(), sizeof(HistoryEntry))));
}

void history_ring_request_lock(void) {
    if (capacity() > 0)
        RequestNamedLWLockTranche("pgview_auto history", 1);
}

void history_ring_shmem_init(void) {
    if (capacity() == 0)
        return;
    bool found;
    ring = static_cast<Ring *>(ShmemInitStruct("pgview_auto history", history_ring_shmem_size(), &found));
    if (!found) {
        memset(ring, 0, history_ring_shmem_size());
        ring->lock = &(GetNamedLWLockTranche("pgview_auto history"))->lock;
        ring->capacity = capacity();
    }
}

bool history_ring_kept(void) { return ring != nullptr; }

void history_note(const HistoryEntry &entry) {
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    auto *copy = static_cast<HistoryEntry *>(palloc(sizeof(HistoryEntry)));
    *copy = entry;
    notes = lappend(notes, copy);
    MemoryContextSwitchTo(old);
}

void history_at_end(bool committed) {
    if (notes == NIL || ring == nullptr) {
        notes = NIL;
        return;
    }
    bool ask_worker = false, wake_worker = false;
    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    ListCell *lc;
    foreach (lc, notes) {
        auto *n = static_cast<HistoryEntry *>(lfirst(lc));
        if (!committed && !n->failed)
            continue;
        if (ring->tail - ring->head == static_cast<uint64>(ring->capacity)) {
            advance_head();
            if (ring->tail - ring->head == static_cast<uint64>(ring->capacity) && ring->used < ring->capacity)
                close_up();
            if (ring->used == ring->capacity) {
                ring->dropped++;
                continue;
            }
        }
        HistoryEntry &e = slot(ring->tail++);
        e = *n;
        e.seq = ++ring->last_seq;
        ring->used++;
        Waiting *w = waiting_of(n->dbid, true);
        if (w == nullptr || w->n++ == 0)
            ask_worker = true; // (no room to count: ask every time)
        if (ring->used == Max(ring->capacity / 2, 1))
            wake_worker = true;
    }
    LWLockRelease(ring->lock);
    notes = NIL; // (its memory goes with the transaction)
    if (ask_worker || wake_worker)
        history_wants_flush(MyDatabaseId, wake_worker);
}

int history_take(Oid dbid, HistoryEntry **out, int max) {
    *out = nullptr;
    if (ring == nullptr || max <= 0)
        return 0;
    // Allocated before the lock (palloc may fail; nothing under the lock may).
    max = Min(max, ring->capacity);
    auto *taken = static_cast<HistoryEntry *>(palloc(sizeof(HistoryEntry) * max));
    int n = 0;
    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    // Oldest first: the queue's order.
    for (uint64 i = ring->head; i < ring->tail && n < max; i++) {
        HistoryEntry &e = slot(i);
        if (e.seq == 0 || e.dbid != dbid)
            continue;
        taken[n++] = e;
        e.seq = 0;
        ring->used--;
    }
    advance_head();
    Waiting *w = waiting_of(dbid, false);
    if (w != nullptr)
        w->n = Max(w->n - n, 0);
    LWLockRelease(ring->lock);
    *out = taken;
    return n;
}

void history_forget_database(Oid dbid) {
    if (ring == nullptr)
        return;
    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    for (uint64 i = ring->head; i < ring->tail; i++) {
        HistoryEntry &e = slot(i);
        if (e.seq != 0 && e.dbid == dbid) {
            e.seq = 0;
            ring->used--;
        }
    }
    advance_head();
    Waiting *w = waiting_of(dbid, false);
    if (w != nullptr)
        w->n = 0;
    LWLockRelease(ring->lock);
}

int history_waiting(Oid dbid) {
    if (ring == nullptr)
        return 0;
    LWLockAcquire(ring->lock, LW_SHARED);
    int n = 0;
    for (uint64 i = ring->head; i < ring->tail; i++)
        n += slot(i).seq != 0 && slot(i).dbid == dbid;
    LWLockRelease(ring->lock);
    return n;
}

HistoryRingState history_ring_state(void) {
    if (ring == nullptr)
        return {0, 0, 0};
    LWLockAcquire(ring->lock, LW_SHARED);
    HistoryRingState s{ring->capacity, ring->used, ring->dropped};
    LWLockRelease(ring->lock);
    return s;
}

} // namespace pgview::shmem
