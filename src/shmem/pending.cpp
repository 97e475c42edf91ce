// pgview_auto — pending changes per (database, matview) (see pending.hpp).
#include "shmem/pending.hpp"

#include "config/settings.hpp"
#include "shmem/layout.hpp"
#include "shmem/pending_keys.hpp"

extern "C" {
#include "access/xact.h"
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

namespace {

bool my_ticket_in_flight = false;

// The matview's next refresh must be full: its pending keys are of no use.
void keys_useless(Entry *e) {
    e->keys_full = true;
    pending_keys_take(&e->keys, e->nkeys, nullptr);
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
        auto *sk = static_cast<changes::SinkKey *>(lfirst(lc));
        bool added;
        if (!pending_keys_add(e->key.dbid, e->key.matview, &e->keys, sk->sink, sk->image, &added)) {
            keys_useless(e); // no room (pgview_auto.max_pending_keys), or an image longer than a slot
            e->overflows++;
            e->overflowed = true;
            return;
        }
        e->nkeys += added;
    }
}

} // namespace

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

void move_pending(Oid old_matview, Oid new_matview, bool mark, bool wake_worker) {
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    DatabaseSlot *db = find_database(MyDatabaseId, true);
    Entry *old = find_entry(old_matview, HASH_FIND);
    TimestampTz since = old != nullptr && old->dirty ? old->pending_since : now;
    if (old != nullptr) {
        if (old->nkeys > 0) // (a rebuilt matview's refresh is full anyway)
            pending_keys_take(&old->keys, old->nkeys, nullptr);
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
        pending_keys_take(&e->keys, e->nkeys, keyed != nullptr && *keyed ? keys : nullptr);
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
    // (The worker claims before its transaction starts: no catalog look-up then.)
    const char *name = overflowed && IsTransactionState() ? get_rel_name(matview) : nullptr;
    if (overflowed)
        ereport(LOG, (errmsg("pgview_auto: the changed keys of \"%s\" did not fit in shared memory: it is "
                             "refreshed in full", name != nullptr ? name : psprintf("OID %u", matview)),
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
                 e->overflows + (db != nullptr ? db->overflows : 0), e->nkeys};
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
        if (kept)
            continue;
        pending_keys_take(&e->keys, e->nkeys, nullptr); // (none: a clean entry's were claimed)
        hash_search(entries, &e->key, HASH_REMOVE, nullptr); // the entry just returned: allowed during a seq scan
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
                    e->next_refresh, e->failures_in_row, e->overflows + db_overflows, e->nkeys};
        count++;
    }
    LWLockRelease(state->lock);
    *matviews = m;
    *infos = p;
    return count;
}

} // namespace pgview::shmem
