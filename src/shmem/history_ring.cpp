// pgview_auto — the refresh history's buffer in shared memory (see history_ring.hpp).
#include "shmem/history_ring.hpp"

#include <algorithm>

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

struct Ring {
    LWLock *lock;
    int capacity;
    int used;
    int hint; // where the next free slot is looked for first
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
        if (ring->used >= ring->capacity) {
            ring->dropped++;
            continue;
        }
        int i = ring->hint;
        while (ring->entries[i].seq != 0)
            i = (i + 1) % ring->capacity;
        ring->entries[i] = *n;
        ring->entries[i].seq = ++ring->last_seq;
        ring->hint = (i + 1) % ring->capacity;
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
    auto *mine = static_cast<int *>(palloc(sizeof(int) * ring->capacity));
    int n = 0, found = 0;
    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    for (int i = 0; i < ring->capacity; i++)
        if (ring->entries[i].seq != 0 && ring->entries[i].dbid == dbid)
            mine[found++] = i;
    // Oldest first.
    std::sort(mine, mine + found, [](int a, int b) { return ring->entries[a].seq < ring->entries[b].seq; });
    for (; n < found && n < max; n++) {
        HistoryEntry &e = ring->entries[mine[n]];
        taken[n] = e;
        e.seq = 0;
        ring->used--;
    }
    if (n > 0)
        ring->hint = mine[0];
    Waiting *w = waiting_of(dbid, false);
    if (w != nullptr)
        w->n = Max(w->n - n, 0);
    LWLockRelease(ring->lock);
    pfree(mine);
    *out = taken;
    return n;
}

void history_forget_database(Oid dbid) {
    if (ring == nullptr)
        return;
    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    for (int i = 0; i < ring->capacity; i++)
        if (ring->entries[i].seq != 0 && ring->entries[i].dbid == dbid) {
            ring->entries[i].seq = 0;
            ring->used--;
        }
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
    for (int i = 0; i < ring->capacity; i++)
        n += ring->entries[i].seq != 0 && ring->entries[i].dbid == dbid;
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
