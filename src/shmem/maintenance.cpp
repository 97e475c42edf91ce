// pgview_auto — maintenance figures (see maintenance.hpp).
#include "shmem/maintenance.hpp"

#include "config/settings.hpp"

extern "C" {
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace pgview::shmem {

namespace {

constexpr int strategies = 4;

struct Key {
    Oid dbid;
    Oid view;
    char strategy;
};
struct Entry {
    Key key;
    int64 refreshes, keys, rows, duration_us;
    int64 last_keys;
    TimestampTz last_at;
    char last_reason[maintenance_reason_size];
};
struct Header {
    LWLock *lock;
    int64 lost;
};

Header *header = nullptr;
HTAB *table = nullptr;

// This transaction's notes (TopTransactionContext).
struct Note {
    Key key;
    int64 keys, rows, duration_us;
    TimestampTz at;
    char reason[maintenance_reason_size];
};
List *notes = NIL;

long capacity() { return static_cast<long>(config::max_matviews) * strategies; }

} // namespace

Size maintenance_shmem_size(void) {
    return add_size(MAXALIGN(sizeof(Header)), hash_estimate_size(capacity(), sizeof(Entry)));
}

void maintenance_request_lock(void) { RequestNamedLWLockTranche("pgview_auto maintenance", 1); }

void maintenance_shmem_init(void) {
    bool found;
    header = static_cast<Header *>(ShmemInitStruct("pgview_auto maintenance", sizeof(Header), &found));
    if (!found) {
        header->lock = &(GetNamedLWLockTranche("pgview_auto maintenance"))->lock;
        header->lost = 0;
    }
    HASHCTL ctl;
    ctl.keysize = sizeof(Key);
    ctl.entrysize = sizeof(Entry);
    table = ShmemInitHash("pgview_auto maintenance figures", capacity(), capacity(), &ctl,
                          HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
}

bool maintenance_kept(void) { return table != nullptr; }

void maintenance_note(Oid view, char strategy, int64 keys, int64 rows, int64 duration_us, const char *reason) {
    if (table == nullptr)
        return;
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    auto *n = static_cast<Note *>(palloc0(sizeof(Note)));
    n->key.dbid = MyDatabaseId;
    n->key.view = view;
    n->key.strategy = strategy;
    n->keys = keys;
    n->rows = rows;
    n->duration_us = duration_us;
    n->at = GetCurrentTimestamp();
    strlcpy(n->reason, reason != nullptr ? reason : "", sizeof(n->reason));
    notes = lappend(notes, n);
    MemoryContextSwitchTo(old);
}

void maintenance_at_end(bool committed) {
    if (committed && notes != NIL && table != nullptr) {
        LWLockAcquire(header->lock, LW_EXCLUSIVE);
        ListCell *lc;
        foreach (lc, notes) {
            auto *n = static_cast<Note *>(lfirst(lc));
            bool found;
            auto *e = static_cast<Entry *>(hash_search(table, &n->key, HASH_ENTER_NULL, &found));
            if (e == nullptr) {
                header->lost++;
                continue;
            }
            if (!found) {
                e->refreshes = e->keys = e->rows = e->duration_us = e->last_keys = 0;
                e->last_at = 0;
                e->last_reason[0] = '\0';
            }
            e->refreshes++;
            e->keys += n->keys;
            e->rows += n->rows;
            e->duration_us += n->duration_us;
            if (n->at >= e->last_at) {
                e->last_at = n->at;
                e->last_keys = n->keys;
                memcpy(e->last_reason, n->reason, sizeof(e->last_reason));
            }
        }
        LWLockRelease(header->lock);
    }
    notes = NIL; // (its memory goes with the transaction)
}

int maintenance_rows(MaintenanceRow **out, int64 *lost) {
    *out = nullptr;
    *lost = 0;
    if (table == nullptr)
        return 0;
    auto *rows = static_cast<MaintenanceRow *>(palloc(sizeof(MaintenanceRow) * (capacity() + 1)));
    int n = 0;
    LWLockAcquire(header->lock, LW_SHARED);
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, table);
    Entry *e;
    while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr)
        if (e->key.dbid == MyDatabaseId)
        {
            MaintenanceRow &r = rows[n++];
            r = {e->key.view, e->key.strategy, e->refreshes, e->keys, e->rows, e->duration_us, e->last_keys,
                 e->last_at, {}};
            memcpy(r.last_reason, e->last_reason, sizeof(r.last_reason));
        }
    *lost = header->lost;
    LWLockRelease(header->lock);
    *out = rows;
    return n;
}

} // namespace pgview::shmem
