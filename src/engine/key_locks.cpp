// pgview_auto — key locks (see key_locks.hpp).
#include "engine/key_locks.hpp"

#include "changes/key_image.hpp"
#include "pg/quote.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"

extern "C" {
#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/typcache.h"
}

namespace pgview::engine {

namespace {

constexpr int lock_buckets = 1024;   // the buckets a view's keys hash into
constexpr int max_bucket_locks = 32; // past this many, the table's lock instead
// Our lock tags: advisory locks of the view's database, (view, bucket), with
// a fourth field of our own (pg_advisory_lock uses 1 and 2), so that no
// user's advisory lock can take them.
constexpr uint16 key_lock_space = 0x7076;

int compare_int32(const void *a, const void *b) {
    int32 x = *static_cast<const int32 *>(a), y = *static_cast<const int32 *>(b);
    return x < y ? -1 : x > y;
}

// Buckets of the keys, ascending, with the number of keys in each. -1: some
// type cannot hash.
int buckets_of(const KeyTypes &kt, const List *images, int32 **buckets, int64 **counts) {
    int nimages = list_length(images);
    int32 *each = static_cast<int32 *>(palloc(sizeof(int32) * (nimages + 1)));
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * kt.nkeys));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * kt.nkeys));
    TypeCacheEntry **tc = static_cast<TypeCacheEntry **>(palloc(sizeof(TypeCacheEntry *) * kt.nkeys));
    for (int k = 0; k < kt.nkeys; k++) {
        tc[k] = lookup_type_cache(kt.types[k], TYPECACHE_HASH_PROC_FINFO);
        if (!OidIsValid(tc[k]->hash_proc))
            return -1;
    }
    int i = 0;
    ListCell *lc;
    foreach (lc, images) {
        auto *image = static_cast<changes::KeyImage *>(lfirst(lc));
        if (!changes::decode_key(*image, kt.nkeys, kt.types, values, nulls))
            elog(ERROR, "pgview_auto: a captured key could not be read back");
        uint32 h = 0;
        for (int k = 0; k < kt.nkeys; k++) {
            uint32 part = nulls[k] ? 0
                                   : DatumGetUInt32(FunctionCall1Coll(&tc[k]->hash_proc_finfo, kt.collations[k],
                                                                      values[k]));
            h = hash_combine(h, part);
        }
        each[i++] = static_cast<int32>(h % lock_buckets);
    }
    qsort(each, nimages, sizeof(int32), compare_int32);
    *buckets = static_cast<int32 *>(palloc(sizeof(int32) * (nimages + 1)));
    *counts = static_cast<int64 *>(palloc(sizeof(int64) * (nimages + 1)));
    int n = 0;
    for (i = 0; i < nimages; i++) {
        if (n > 0 && (*buckets)[n - 1] == each[i]) {
            (*counts)[n - 1]++;
            continue;
        }
        (*buckets)[n] = each[i];
        (*counts)[n++] = 1;
    }
    return n;
}

void lock_buckets_in(Oid view, int n, const int32 *buckets, LOCKMODE mode) {
    for (int i = 0; i < n; i++) {
        LOCKTAG tag;
        SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, view, static_cast<uint32>(buckets[i]), key_lock_space);
        (void) LockAcquire(&tag, mode, false, false);
    }
}

// A serialization failure in fn (a REPEATABLE READ writer whose keys were
// refreshed by a transaction its snapshot does not see) said in our words.
void in_serializable_words(Oid view, void (*fn)(void *), void *arg) {
    MemoryContext caller = CurrentMemoryContext;
    PG_TRY();
    {
        fn(arg);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller);
        ErrorData *e = CopyErrorData();
        if (e->sqlerrcode != ERRCODE_T_R_SERIALIZATION_FAILURE)
            PG_RE_THROW();
        FlushErrorState();
        ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                        errmsg("table view %s was refreshed by a transaction newer than this one's snapshot",
                               quote_relation(view)),
                        errdetail("This REPEATABLE READ or SERIALIZABLE transaction changed rows that keys of the "
                                  "table view depend on, and another transaction refreshed some of those keys after "
                                  "this one's snapshot was taken: refreshing them from it would undo that."),
                        errhint("Retry the transaction.")));
    }
    PG_END_TRY();
}

struct RowsCall {
    Oid view;
    int n;
    const int32 *buckets;
    const int64 *counts;
    int64 total;
    bool count_refresh;
    bool claim_stats;
};

void lock_rows(void *arg) {
    auto *c = static_cast<RowsCall *>(arg);
    registry::with_registry([&] {
        if (c->n > 0)
            registry::key_lock_count(c->view, c->n, c->buckets, c->counts, c->total, c->count_refresh);
        if (c->claim_stats)
            registry::stats_claim(c->view);
    });
}

} // namespace

void lock_keys_for_recompute(const KeyTypes &kt, const List *images, bool count_refresh, bool *coarse) {
    int32 *buckets = nullptr;
    int64 *counts = nullptr;
    int64 total = list_length(images);
    int n = *coarse ? -1 : buckets_of(kt, images, &buckets, &counts);
    if (n < 0 || n > max_bucket_locks)
        *coarse = true;
    // A REPEATABLE READ writer's snapshot must not be older than a refresh of
    // its keys: one by bucket rows, or by the statistics row that a full or
    // table-locked refresh claims.
    bool claim_stats = IsolationUsesXactSnapshot();
    int32 table_row = -1;
    int64 no_keys = 0;
    RowsCall call{kt.view, n, buckets, counts, total, count_refresh, claim_stats};
    if (*coarse) {
        LockRelationOid(kt.view, ExclusiveLock);
        call = {kt.view, 1, &table_row, &total, total, count_refresh, true};
    } else {
        LockRelationOid(kt.view, RowExclusiveLock);
        lock_buckets_in(kt.view, n, buckets, ExclusiveLock);
        if (n == 0) // a keyed change of no row: counted on the table's own row
            call = {kt.view, count_refresh ? 1 : 0, &table_row, &no_keys, 0, count_refresh, claim_stats};
    }
    if (call.n > 0 || call.claim_stats)
        in_serializable_words(kt.view, lock_rows, &call);
}

void lock_keys_for_delta(const KeyTypes &kt, const List *images) {
    int32 *buckets = nullptr;
    int64 *counts = nullptr;
    int n = buckets_of(kt, images, &buckets, &counts);
    if (n < 0 || n > max_bucket_locks) {
        // (SHARE would let two such writers hold it and then deadlock on their
        // UPDATEs' ROW EXCLUSIVE: this mode conflicts with itself.)
        LockRelationOid(kt.view, ShareRowExclusiveLock);
        return;
    }
    LockRelationOid(kt.view, RowExclusiveLock);
    lock_buckets_in(kt.view, n, buckets, ShareLock);
}

} // namespace pgview::engine
