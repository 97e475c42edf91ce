// pgview_auto — the keyed refresh of a table view (see keyed_refresh.hpp).
#include "engine/keyed.hpp"

#include "pg/quote.hpp"
#include "pg/owner_scope.hpp"
#include "syscat/relation_info.hpp"
#include "engine/difference.hpp"
#include "tableview/write_guard.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"

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

constexpr int lock_buckets = 1024;   // the buckets a view's keys hash into
constexpr int max_bucket_locks = 32; // past this many, the table's EXCLUSIVE lock instead
constexpr int max_join_rounds = 8;   // join keys looked up again until none is new

// ------------------------------------------------------------- saved plans

// Statements run from plans prepared once per backend (planning the keyed
// statement costs more than running it), found by their text.
struct PlanEntry {
    const char *sql; // hash key
    SPIPlanPtr plan;
};
HTAB *plans = nullptr;

uint32 sql_hash(const void *key, Size) {
    const char *s = *static_cast<const char *const *>(key);
    return hash_bytes(reinterpret_cast<const unsigned char *>(s), static_cast<int>(strlen(s)));
}
int sql_match(const void *a, const void *b, Size) {
    return strcmp(*static_cast<const char *const *>(a), *static_cast<const char *const *>(b));
}
void *sql_copy(void *dest, const void *src, Size) {
    *static_cast<const char **>(dest) = MemoryContextStrdup(TopMemoryContext, *static_cast<const char *const *>(src));
    return dest;
}

SPIPlanPtr saved_plan(const char *sql, int nargs, Oid *types) {
    if (plans == nullptr) {
        HASHCTL ctl;
        ctl.keysize = sizeof(const char *);
        ctl.entrysize = sizeof(PlanEntry);
        ctl.hash = sql_hash;
        ctl.match = sql_match;
        ctl.keycopy = sql_copy;
        plans = hash_create("pgview_auto keyed refresh plans", 32, &ctl,
                            HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_KEYCOPY);
    }
    auto *e = static_cast<PlanEntry *>(hash_search(plans, &sql, HASH_FIND, nullptr));
    if (e != nullptr)
        return e->plan;
    // A generic plan: the planner's cost of a custom plan for every call is what
    // a keyed refresh must not pay (the keys' index scans do not depend on them).
    SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
    if (plan == nullptr)
        elog(ERROR, "pgview_auto: could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
    SPI_keepplan(plan);
    e = static_cast<PlanEntry *>(hash_search(plans, &sql, HASH_ENTER, nullptr));
    e->plan = plan;
    return plan;
}

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

// Column `col` of the given images as an array of `type`; *has_null when one is NULL.
Datum column_array(const List *images, int ncols, const Oid *types, int col, bool *has_null) {
    int n = list_length(images);
    Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n + 1)));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * (n + 1)));
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * ncols));
    bool *value_nulls = static_cast<bool *>(palloc(sizeof(bool) * ncols));
    for (int i = 0; i < n; i++) {
        auto *image = static_cast<changes::KeyImage *>(list_nth(images, i));
        if (!changes::decode_key(*image, ncols, types, values, value_nulls))
            elog(ERROR, "pgview_auto: a captured key could not be read back");
        elems[i] = values[col];
        nulls[i] = value_nulls[col];
        *has_null = *has_null || nulls[i];
    }
    int16 typlen;
    bool byval;
    char align;
    get_typlenbyvalalign(types[col], &typlen, &byval, &align);
    int dims[1] = {n};
    int lbs[1] = {1};
    return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, types[col], typlen, byval, align));
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
        args[i] = column_array(values, nattrs, types, i, &has_null);
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

// ------------------------------------------------------------- locks

// Buckets of the keys (hashed with each key type's hash function, so equal keys
// agree), ascending, with the number of keys in each. -1: some type cannot hash.
int buckets_of(const KeyedSpec *spec, const List *images, int32 **buckets, int64 **counts) {
    int64 *per = static_cast<int64 *>(palloc0(sizeof(int64) * lock_buckets));
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * spec->nkeys));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * spec->nkeys));
    TypeCacheEntry **tc = static_cast<TypeCacheEntry **>(palloc(sizeof(TypeCacheEntry *) * spec->nkeys));
    for (int k = 0; k < spec->nkeys; k++) {
        tc[k] = lookup_type_cache(spec->key_types[k], TYPECACHE_HASH_PROC_FINFO);
        if (!OidIsValid(tc[k]->hash_proc))
            return -1;
    }
    ListCell *lc;
    foreach (lc, images) {
        auto *image = static_cast<changes::KeyImage *>(lfirst(lc));
        if (!changes::decode_key(*image, spec->nkeys, spec->key_types, values, nulls))
            elog(ERROR, "pgview_auto: a captured key could not be read back");
        uint32 h = 0;
        for (int k = 0; k < spec->nkeys; k++) {
            uint32 part = nulls[k] ? 0
                                   : DatumGetUInt32(FunctionCall1Coll(&tc[k]->hash_proc_finfo, spec->key_collations[k],
                                                                      values[k]));
            h = hash_combine(h, part);
        }
        per[h % lock_buckets]++;
    }
    int n = 0;
    for (int b = 0; b < lock_buckets; b++)
        n += per[b] > 0;
    *buckets = static_cast<int32 *>(palloc(sizeof(int32) * (n + 1)));
    *counts = static_cast<int64 *>(palloc(sizeof(int64) * (n + 1)));
    n = 0;
    for (int b = 0; b < lock_buckets; b++)
        if (per[b] > 0) {
            (*buckets)[n] = b;
            (*counts)[n++] = per[b];
        }
    return n;
}

// A serialization failure in fn (a REPEATABLE READ writer whose keys were
// refreshed by a transaction its snapshot does not see) said in our words.
void in_serializable_words(const KeyedSpec *spec, void (*fn)(void *), void *arg) {
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
                               quote_relation(spec->view)),
                        errdetail("This REPEATABLE READ or SERIALIZABLE transaction changed rows that keys of the "
                                  "table view depend on, and another transaction refreshed some of those keys after "
                                  "this one's snapshot was taken: refreshing them from it would undo that."),
                        errhint("Retry the transaction.")));
    }
    PG_END_TRY();
}

struct LockCall {
    const KeyedSpec *spec;
    int n;
    int32 *buckets;
    int64 *counts;
    int64 total;
    bool count_refresh;
    bool claim_stats;
};

void lock_rows(void *arg) {
    auto *c = static_cast<LockCall *>(arg);
    registry::with_registry([&] {
        if (c->n > 0)
            registry::key_lock_count(c->spec->view, c->n, c->buckets, c->counts, c->total, c->count_refresh);
        if (c->claim_stats)
            registry::stats_claim(c->spec->view);
    });
}

// Locks the buckets of `images` (and counts them, the first row counting the
// refresh when count_refresh), or the whole table when they are too many.
void lock_keys(const KeyedSpec *spec, const List *images, int64 total, bool count_refresh, bool *coarse) {
    int32 *buckets = nullptr;
    int64 *counts = nullptr;
    int n = *coarse ? -1 : buckets_of(spec, images, &buckets, &counts);
    if (n < 0 || n > max_bucket_locks)
        *coarse = true;
    // A REPEATABLE READ writer's snapshot must not be older than a refresh of
    // its keys: one by bucket rows, or by the statistics row that a full or
    // table-locked refresh claims.
    bool claim_stats = IsolationUsesXactSnapshot();
    int32 table_row = -1;
    int64 total_keys = total, no_keys = 0;
    LockCall call{spec, n, buckets, counts, total, count_refresh, claim_stats};
    if (*coarse) {
        LockRelationOid(spec->view, ExclusiveLock);
        call = {spec, 1, &table_row, &total_keys, total, count_refresh, true};
    } else {
        LockRelationOid(spec->view, RowExclusiveLock);
        if (n == 0) // a keyed change of no row: counted on the table's own row
            call = {spec, count_refresh ? 1 : 0, &table_row, &no_keys, 0, count_refresh, claim_stats};
    }
    if (call.n > 0 || call.claim_stats)
        in_serializable_words(spec, lock_rows, &call);
}

// ------------------------------------------------------------- the statement

void append_list(StringInfo sql, const char *prefix, char **names, int n, const char *sep = ", ") {
    for (int i = 0; i < n; i++)
        appendStringInfo(sql, "%s%s%s", i > 0 ? sep : "", prefix, quote_identifier(names[i]));
}

// a.k1 = b.k1 AND ... (NULL-safe when nulls)
void append_match(StringInfo sql, const char *a, const char *b, const KeyedSpec *spec, bool nulls) {
    for (int k = 0; k < spec->nkeys; k++) {
        const char *col = quote_identifier(spec->key_names[k]);
        const char *eq = spec->key_eq[k];
        if (nulls)
            appendStringInfo(sql, "%s(%s.%s %s %s.%s OR (%s.%s IS NULL AND %s.%s IS NULL))", k > 0 ? " AND " : "", a,
                             col, eq, b, col, a, col, b, col);
        else
            appendStringInfo(sql, "%s%s.%s %s %s.%s", k > 0 ? " AND " : "", a, col, eq, b, col);
    }
}

// The rows of alias whose key is one of the parameters' ($1 .. $nkeys: one
// array per key column; with several columns, also the exact tuples: the
// per-column filters alone are what the planner pushes down to indexes).
void append_key_filter(StringInfo sql, const char *alias, const KeyedSpec *spec, bool nulls) {
    for (int k = 0; k < spec->nkeys; k++) {
        const char *col = quote_identifier(spec->key_names[k]);
        const char *eq = spec->key_eq[k];
        if (nulls)
            appendStringInfo(sql, "%s(%s.%s %s ANY ($%d) OR %s.%s IS NULL)", k > 0 ? " AND " : "", alias, col, eq,
                             k + 1, alias, col);
        else
            appendStringInfo(sql, "%s%s.%s %s ANY ($%d)", k > 0 ? " AND " : "", alias, col, eq, k + 1);
    }
    if (spec->nkeys > 1 || nulls) {
        appendStringInfoString(sql, " AND EXISTS (SELECT FROM pgview_keys WHERE ");
        append_match(sql, "pgview_keys", alias, spec, nulls);
        appendStringInfoChar(sql, ')');
    }
}

// DELETE, UPDATE and INSERT of the rows with the given keys, as data-modifying
// CTEs over one run of the query restricted to those keys (one snapshot).
char *keyed_statement(const KeyedSpec *spec, bool nulls) {
    Relation rel = relation_open(spec->view, NoLock); // the caller holds a lock
    TupleDesc desc = RelationGetDescr(rel);
    char **cols = static_cast<char **>(palloc(sizeof(char *) * (desc->natts + 1)));
    char **rest = static_cast<char **>(palloc(sizeof(char *) * (desc->natts + 1)));
    int ncols = 0, nrest = 0;
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped)
            continue;
        char *name = pstrdup(NameStr(att->attname));
        cols[ncols++] = name;
        bool is_key = false;
        for (int k = 0; k < spec->nkeys; k++)
            is_key = is_key || strcmp(spec->key_names[k], name) == 0;
        if (!is_key)
            rest[nrest++] = name;
    }
    relation_close(rel, NoLock);
    const char *table = quote_relation(spec->view);
    const char *definition = quote_relation(spec->definition);

    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfoString(&sql, "WITH ");
    if (spec->nkeys > 1 || nulls) {
        // (the unnest(a, b) shorthand exists unqualified only)
        appendStringInfoString(&sql, "pgview_keys AS (SELECT * FROM ROWS FROM (");
        for (int k = 0; k < spec->nkeys; k++)
            appendStringInfo(&sql, "%spg_catalog.unnest($%d)", k > 0 ? ", " : "", k + 1);
        appendStringInfoString(&sql, ") AS u(");
        append_list(&sql, "", spec->key_names, spec->nkeys);
        appendStringInfoString(&sql, ")), ");
    }
    appendStringInfoString(&sql, "n AS MATERIALIZED (SELECT ");
    append_list(&sql, "q.", cols, ncols);
    appendStringInfo(&sql, " FROM %s q WHERE ", definition);
    append_key_filter(&sql, "q", spec, nulls);
    appendStringInfo(&sql, "), d AS (DELETE FROM %s t WHERE ", table);
    append_key_filter(&sql, "t", spec, nulls);
    appendStringInfoString(&sql, " AND NOT EXISTS (SELECT FROM n WHERE ");
    append_match(&sql, "n", "t", spec, nulls);
    appendStringInfoString(&sql, ")), ");
    if (nrest == 0) {
        appendStringInfoString(&sql, "u AS (SELECT 1 WHERE false), ");
    } else {
        appendStringInfo(&sql, "u AS (UPDATE %s t SET (", table);
        append_list(&sql, "", rest, nrest);
        appendStringInfoString(&sql, ") = ROW(");
        append_list(&sql, "n.", rest, nrest);
        appendStringInfoString(&sql, ") FROM n WHERE ");
        append_key_filter(&sql, "t", spec, nulls); // (finds the table's rows by its key's index)
        appendStringInfoString(&sql, " AND ");
        append_match(&sql, "n", "t", spec, nulls);
        appendStringInfoString(&sql, " AND NOT (t.*)::pg_catalog.text OPERATOR(pg_catalog.=) (n.*)::pg_catalog.text "
                                     "), ");
    }
    appendStringInfo(&sql, "i AS (INSERT INTO %s (", table);
    append_list(&sql, "", cols, ncols);
    appendStringInfoString(&sql, ") SELECT ");
    append_list(&sql, "n.", cols, ncols);
    appendStringInfo(&sql, " FROM n WHERE NOT EXISTS (SELECT FROM %s o WHERE ", table);
    append_key_filter(&sql, "o", spec, nulls);
    appendStringInfoString(&sql, " AND ");
    append_match(&sql, "o", "n", spec, nulls);
    // The data-modifying CTEs run whether read or not: the statement itself only
    // says whether the query gave a key twice.
    appendStringInfoString(&sql, ")) SELECT EXISTS (SELECT FROM n GROUP BY ");
    append_list(&sql, "n.", spec->key_names, spec->nkeys);
    appendStringInfoString(&sql, " HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1)");
    return sql.data;
}

void run_statement(const KeyedSpec *spec, const ViewKeys &keys) {
    Datum *args = static_cast<Datum *>(palloc(sizeof(Datum) * spec->nkeys));
    Oid *argtypes = static_cast<Oid *>(palloc(sizeof(Oid) * spec->nkeys));
    bool nulls = false;
    for (int k = 0; k < spec->nkeys; k++) {
        argtypes[k] = get_array_type(spec->key_types[k]);
        args[k] = column_array(keys.images, spec->nkeys, spec->key_types, k, &nulls);
    }
    SPIPlanPtr plan = saved_plan(keyed_statement(spec, nulls), spec->nkeys, argtypes);
    int rc = 0;
    tableview::writing_table_views([plan, args, &rc] { rc = SPI_execute_plan(plan, args, nullptr, false, 0); });
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "pgview_auto: the keyed refresh of table view %s failed", get_rel_name(spec->view));
    bool isnull;
    elog(DEBUG1, "pgview_auto: table view %s refreshed for %d keys", get_rel_name(spec->view),
         list_length(keys.images));
    if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
        ereport(ERROR, (errcode(ERRCODE_CARDINALITY_VIOLATION),
                        errmsg("the query of table view \"%s\" gives some unique key more than once",
                               get_rel_name(spec->view)),
                        errhint("Fix the query, or the table view's unique_key.")));
}

} // namespace

KeyedSpec *keyed_spec(const analysis::KeyedView *kv) {
    auto *spec = static_cast<KeyedSpec *>(palloc0(sizeof(KeyedSpec)));
    spec->view = kv->view;
    spec->definition = kv->definition;
    spec->nkeys = kv->nkeys;
    spec->key_names = static_cast<char **>(palloc(sizeof(char *) * kv->nkeys));
    spec->key_types = static_cast<Oid *>(palloc(sizeof(Oid) * kv->nkeys));
    spec->key_collations = static_cast<Oid *>(palloc(sizeof(Oid) * kv->nkeys));
    spec->key_eq = static_cast<const char **>(palloc(sizeof(char *) * kv->nkeys));
    Relation rel = relation_open(kv->definition, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rel);
    for (int k = 0; k < kv->nkeys; k++) {
        spec->key_names[k] = pstrdup(kv->key_names[k]);
        spec->key_types[k] = kv->key_types[k];
        spec->key_eq[k] = equality_operator(kv->key_types[k]);
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

bool refresh_keys(const KeyedSpec *spec, List *sink_keys, int max_keys, int64 *nkeys) {
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

    // As the table's owner, restricted like REFRESH, in the owner scope.
    engine::check_constraints_immediately(spec->view);
    bool done = run_as_owner(
        syscat::relation_owner(spec->view), OwnerScope::restricted,
        [&]() -> bool {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "pgview_auto: SPI_connect failed");

        // Join values to keys, under a snapshot taken now (looked up again below).
        PushActiveSnapshot(GetTransactionSnapshot());
        for (int s = 1; s <= spec->njoins; s++)
            (void) keys_from_join(spec, s, join_values[s - 1], &keys);
        PopActiveSnapshot();
        if (list_length(keys.images) > max_keys) {
            SPI_finish();
            return false;
        }

        // A view with keys found through joins: a writer of a table on such a path
        // (a new ledger row joining the account another writer is moving) can
        // create a key the other's key query cannot see yet, and neither would
        // wait for the other on a key. Its keyed refreshes serialize on the table
        // view instead; each one's key query runs again after the lock (below).
        bool coarse = spec->njoins > 0;
        lock_keys(spec, keys.images, list_length(keys.images), true, &coarse);
        // Locked, then the snapshot. A join key looked up before the lock may have
        // moved (another writer's change to the joined table, now committed): look
        // again, lock what is new, until nothing is.
        for (int round = 0; spec->njoins > 0; round++) {
            PushActiveSnapshot(GetTransactionSnapshot());
            List *before = list_copy(keys.images);
            bool fresh = false;
            for (int s = 1; s <= spec->njoins; s++)
                fresh = keys_from_join(spec, s, join_values[s - 1], &keys) || fresh;
            PopActiveSnapshot();
            if (!fresh)
                break;
            List *added = list_copy_tail(keys.images, list_length(before));
            if (round + 1 >= max_join_rounds)
                coarse = true; // keys keep moving: lock the table and stop chasing them
            lock_keys(spec, added, list_length(added), false, &coarse);
        }

        PushActiveSnapshot(GetTransactionSnapshot());
        if (keys.images != NIL)
            run_statement(spec, keys);
        PopActiveSnapshot();
        *nkeys = list_length(keys.images); // (the list lives in SPI's memory)
        SPI_finish();
        return true;
        },
        // The statements run from generic plans made for a few keys: reaching
        // each key's rows by index is what they are for, whatever the size of
        // the table at planning time (a small table would otherwise be read
        // whole per refresh) ... which inflates the cost of a plan that has no
        // index to use past jit_above_cost: compiling it would cost more than
        // running it, every time.
        {{"enable_seqscan", "off"}, {"jit", "off"}});
    if (done)
        CommandCounterIncrement();
    return done;
}

} // namespace pgview::engine
