// pgview_auto — keyed recompute and the full difference (see recompute.hpp).
#include "engine/recompute.hpp"

#include "engine/apply.hpp"
#include "engine/statement.hpp"

extern "C" {
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"
}

namespace pgview::engine {

namespace {

constexpr int max_join_rounds = 8; // join keys looked up again until none is new

// ------------------------------------------------------------- keys

// The view's keys, deduplicated by image, with their values decoded.
struct ViewKeys {
    HTAB *seen;
    List *images; // KeyImage *
    bool nulls;   // some key has a NULL part
};
struct SeenEntry {
    changes::KeyImage key; // compared by bytes
};

uint32 image_hash(const void *key, Size) {
    auto *k = static_cast<const changes::KeyImage *>(key);
    return hash_bytes(reinterpret_cast<const unsigned char *>(k->data), k->len);
}
int image_match(const void *a, const void *b, Size) {
    auto *x = static_cast<const changes::KeyImage *>(a);
    auto *y = static_cast<const changes::KeyImage *>(b);
    return x->len != y->len ? 1 : memcmp(x->data, y->data, x->len);
}

ViewKeys make_keys() {
    HASHCTL ctl;
    ctl.keysize = sizeof(changes::KeyImage);
    ctl.entrysize = sizeof(SeenEntry);
    ctl.hash = image_hash;
    ctl.match = image_match;
    ctl.hcxt = CurrentMemoryContext;
    return {hash_create("pgview_auto keys of a refresh", 64, &ctl, HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT),
            NIL, false};
}

// Adds a key; true when it is new.
bool add_key(ViewKeys *keys, const changes::KeyImage &image) {
    bool found;
    (void) hash_search(keys->seen, &image, HASH_ENTER, &found);
    if (found)
        return false;
    auto *copy = static_cast<changes::KeyImage *>(palloc(sizeof(changes::KeyImage)));
    *copy = image;
    keys->images = lappend(keys->images, copy);
    return true;
}

// ------------------------------------------------------------- join keys

// Keys of the view for the captured join values of sink s: its key query.
// Returns whether a new key was found.
bool keys_from_join(const KeyedSpec *spec, int s, const List *values, ViewKeys *keys) {
    if (values == NIL)
        return false;
    int nattrs = spec->join_nattrs[s - 1];
    Oid *types = spec->join_types[s - 1];
    Oid *argtypes = static_cast<Oid *>(palloc(sizeof(Oid) * nattrs));
    Datum *args = static_cast<Datum *>(palloc(sizeof(Datum) * nattrs));
    for (int i = 0; i < nattrs; i++) {
        bool has_null = false;
        argtypes[i] = get_array_type(types[i]);
        args[i] = changes::key_column_array(values, nattrs, types, i, &has_null);
    }
    SPIPlanPtr plan = saved_plan(spec->join_queries[s - 1], nattrs, argtypes);
    if (SPI_execute_plan(plan, args, nullptr, true, 0) != SPI_OK_SELECT)
        elog(ERROR, "pgview_auto: the key query of a table view failed");
    bool fresh = false;
    Datum *v = static_cast<Datum *>(palloc(sizeof(Datum) * spec->nkeys));
    bool *n = static_cast<bool *>(palloc(sizeof(bool) * spec->nkeys));
    for (uint64 r = 0; r < SPI_processed; r++) {
        for (int k = 0; k < spec->nkeys; k++)
            v[k] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, k + 1, &n[k]);
        // (encode_key copies the values out of the tuple table)
        fresh = add_key(keys, changes::encode_key(spec->nkeys, v, n, spec->key_types)) || fresh;
    }
    SPI_freetuptable(SPI_tuptable);
    return fresh;
}

} // namespace

KeyedSpec *keyed_spec(const analysis::KeyedView *kv) {
    auto *spec = static_cast<KeyedSpec *>(palloc0(sizeof(KeyedSpec)));
    spec->generation = analysis::capture_plan_generation();
    spec->view = kv->view;
    spec->definition = kv->definition;
    spec->nkeys = kv->nkeys;
    spec->key_types = static_cast<Oid *>(palloc(sizeof(Oid) * kv->nkeys));
    spec->key_collations = static_cast<Oid *>(palloc(sizeof(Oid) * kv->nkeys));
    Relation rel = relation_open(kv->definition, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rel);
    for (int k = 0; k < kv->nkeys; k++) {
        spec->key_names = lappend(spec->key_names, pstrdup(kv->key_names[k]));
        spec->key_types[k] = kv->key_types[k];
        spec->key_collations[k] = InvalidOid;
        for (int i = 0; i < desc->natts; i++)
            if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), kv->key_names[k]) == 0)
                spec->key_collations[k] = TupleDescAttr(desc, i)->attcollation;
    }
    relation_close(rel, AccessShareLock);
    spec->njoins = list_length(kv->join_sources);
    spec->join_queries = static_cast<char **>(palloc(sizeof(char *) * (spec->njoins + 1)));
    spec->join_nattrs = static_cast<int *>(palloc(sizeof(int) * (spec->njoins + 1)));
    spec->join_types = static_cast<Oid **>(palloc(sizeof(Oid *) * (spec->njoins + 1)));
    for (int s = 0; s < spec->njoins; s++) {
        auto *sk = static_cast<analysis::SourceKey *>(list_nth(kv->join_sources, s));
        spec->join_queries[s] = pstrdup(sk->key_query);
        spec->join_nattrs[s] = list_length(sk->capture_types);
        spec->join_types[s] = static_cast<Oid *>(palloc(sizeof(Oid) * (spec->join_nattrs[s] + 1)));
        for (int i = 0; i < spec->join_nattrs[s]; i++)
            spec->join_types[s][i] = list_nth_oid(sk->capture_types, i);
    }
    return spec;
}

namespace {

// The statement's one row: deleted, updated, inserted, and whether the query
// gave some key twice (an error, as REFRESH ... CONCURRENTLY's).
int64 rows_changed(Oid view) {
    if (SPI_processed != 1)
        elog(ERROR, "pgview_auto: the refresh of table view %s failed", get_rel_name(view));
    HeapTuple row = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull;
    int64 deleted = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
    int64 updated = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
    int64 inserted = DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull));
    elog(DEBUG1, "pgview_auto: table view %s refreshed: " INT64_FORMAT " rows deleted, " INT64_FORMAT
                 " updated, " INT64_FORMAT " inserted",
         get_rel_name(view), deleted, updated, inserted);
    if (DatumGetBool(SPI_getbinval(row, desc, 4, &isnull)))
        ereport(ERROR, (errcode(ERRCODE_CARDINALITY_VIOLATION),
                        errmsg("the query of table view \"%s\" gives some unique key more than once",
                               get_rel_name(view)),
                        errhint("Fix the query, or the table view's unique_key.")));
    return deleted + updated + inserted;
}

} // namespace

bool recompute_keys(const KeyedSpec *spec, List *sink_keys, int max_keys, bool lock_table, Applied *out) {
    ViewKeys keys = make_keys();
    List **join_values = static_cast<List **>(palloc0(sizeof(List *) * (spec->njoins + 1)));
    ListCell *lc;
    foreach (lc, sink_keys) {
        auto *sk = static_cast<changes::SinkKey *>(lfirst(lc));
        if (sk->sink == 0)
            (void) add_key(&keys, sk->image);
        else if (sk->sink <= spec->njoins)
            join_values[sk->sink - 1] = lappend(join_values[sk->sink - 1], &sk->image);
    }

    return apply_as_owner(spec->view, true, [&]() -> bool {
        // Join values to keys, under a snapshot taken now (looked up again below).
        PushActiveSnapshot(GetTransactionSnapshot());
        for (int s = 1; s <= spec->njoins; s++)
            (void) keys_from_join(spec, s, join_values[s - 1], &keys);
        PopActiveSnapshot();
        if (list_length(keys.images) > max_keys)
            return false;

        // A view with keys found through joins: a writer of a table on such a path
        // (a new ledger row joining the account another writer is moving) can
        // create a key the other's key query cannot see yet, and neither would
        // wait for the other on a key. Its keyed refreshes serialize on the table
        // view instead; each one's key query runs again after the lock (below).
        bool coarse = lock_table || spec->njoins > 0;
        KeyTypes kt = spec->key_types_of();
        lock_keys_for_recompute(kt, keys.images, true, &coarse);
        // Locked, then the snapshot. A join key looked up before the lock may have
        // moved (another writer's change to the joined table, now committed): look
        // again, lock what is new, until nothing is.
        for (int round = 0; spec->njoins > 0; round++) {
            PushActiveSnapshot(GetTransactionSnapshot());
            int before = list_length(keys.images);
            bool fresh = false;
            for (int s = 1; s <= spec->njoins; s++)
                fresh = keys_from_join(spec, s, join_values[s - 1], &keys) || fresh;
            PopActiveSnapshot();
            if (!fresh)
                break;
            List *added = list_copy_tail(keys.images, before);
            if (round + 1 >= max_join_rounds)
                coarse = true; // keys keep moving: lock the table and stop chasing them
            lock_keys_for_recompute(kt, added, false, &coarse);
        }

        out->keys = list_length(keys.images);
        out->rows = 0;
        if (keys.images == NIL)
            return true;
        Datum *args = static_cast<Datum *>(palloc(sizeof(Datum) * spec->nkeys));
        Oid *argtypes = static_cast<Oid *>(palloc(sizeof(Oid) * spec->nkeys));
        bool nulls = false;
        for (int k = 0; k < spec->nkeys; k++) {
            argtypes[k] = get_array_type(spec->key_types[k]);
            args[k] = changes::key_column_array(keys.images, spec->nkeys, spec->key_types, k, &nulls);
        }
        const TableShape *t = table_shape(spec->view, spec->definition, spec->key_names);
        SPIPlanPtr plan = saved_plan(difference_sql(t, true, nulls), spec->nkeys, argtypes);
        if (execute_writing(plan, args) != SPI_OK_SELECT)
            elog(ERROR, "pgview_auto: the keyed refresh of table view %s failed", get_rel_name(spec->view));
        out->rows = rows_changed(spec->view);
        return true;
    });
}

void apply_difference(Oid table, Oid definition, List *key_names, Applied *out) {
    (void) apply_as_owner(table, false, [&]() -> bool {
        const TableShape *t = table_shape(table, definition, key_names);
        SPIPlanPtr plan = saved_plan(difference_sql(t, false, false), 0, nullptr);
        if (execute_writing(plan, nullptr) != SPI_OK_SELECT)
            elog(ERROR, "pgview_auto: the refresh of table view %s failed", get_rel_name(table));
        *out = Applied{0, rows_changed(table)};
        return true;
    });
}

} // namespace pgview::engine
