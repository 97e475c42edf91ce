// pgview_auto — the capture plan cache (see capture_plan.hpp).
//
// Everything lives in one memory context, reset at the first use after an
// invalidation (never inside the invalidation callback: a caller may be using
// it). A relation is tracked when an analysis depended on it; an invalidation
// of a tracked relation (or of everything) drops the plan.
#include "analysis/capture_plan.hpp"

#include "analysis/row_lookup.hpp"

#include <string>
#include <vector>

#include "pg/relcache_callbacks.hpp"
#include "pg/guard.hpp"
#include "syscat/relation_info.hpp"
#include "tableview/table_view_registry.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"
#include "registry/watch_cache.hpp"

extern "C" {
#include "access/attmap.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "rewrite/rewriteManip.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace pgview::analysis {

namespace {

struct TableEntry {
    Oid table;
    CaptureItem **items;
};
struct ViewEntry {
    Oid view;
    KeyedView *keyed; // nullptr: not incremental
};

MemoryContext plan_context = nullptr;
bool valid = false;
uint64 generation = 0; // plans made so far (what was derived from one is stale with the next)
HTAB *tables = nullptr;
HTAB *views = nullptr;
HTAB *tracked = nullptr;

HTAB *make_hash(const char *name, Size entry_size) {
    HASHCTL ctl;
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = entry_size;
    ctl.hcxt = plan_context;
    return hash_create(name, 32, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

void ensure_valid() {
    if (valid)
        return;
    if (plan_context == nullptr)
        plan_context = AllocSetContextCreate(CacheMemoryContext, "pgview_auto capture plan", ALLOCSET_SMALL_SIZES);
    MemoryContextReset(plan_context);
    tables = make_hash("pgview_auto capture plan: tables", sizeof(TableEntry));
    views = make_hash("pgview_auto capture plan: views", sizeof(ViewEntry));
    tracked = make_hash("pgview_auto capture plan: tracked", sizeof(Oid));
    valid = true; // an invalidation arriving while we build marks it invalid again
    generation++;
}

void track(Oid relid) { (void) hash_search(tracked, &relid, HASH_ENTER, nullptr); }

// Parents of relid through pg_inherits (partitions and inheritance children alike), nearest first.
List *ancestors_of(Oid relid) {
    List *out = NIL;
    List *queue = list_make1_oid(relid);
    Relation inherits = table_open(InheritsRelationId, AccessShareLock);
    for (int i = 0; i < list_length(queue); i++) {
        ScanKeyData key;
        ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
                    ObjectIdGetDatum(list_nth_oid(queue, i)));
        SysScanDesc scan = systable_beginscan(inherits, InheritsRelidSeqnoIndexId, true, nullptr, 1, &key);
        HeapTuple tup;
        while (HeapTupleIsValid(tup = systable_getnext(scan))) {
            Oid parent = reinterpret_cast<Form_pg_inherits>(GETSTRUCT(tup))->inhparent;
            if (!list_member_oid(out, parent)) {
                out = lappend_oid(out, parent);
                queue = lappend_oid(queue, parent);
            }
        }
        systable_endscan(scan);
    }
    table_close(inherits, AccessShareLock);
    return out;
}

// The key analysis of a table view (C-level, in plan_context).
KeyedView *build_keyed_view(Oid view, Oid definition, int nkeys, const char *const *names) {
    MemoryContext old = MemoryContextSwitchTo(plan_context);
    List *key_names = NIL;
    for (int i = 0; i < nkeys; i++)
        key_names = lappend(key_names, pstrdup(names[i]));
    track(view);
    track(definition);
    KeyAnalysis *ka = analyze_keys(definition, key_names);
    ListCell *lc;
    foreach (lc, ka->depends_on)
        track(lfirst_oid(lc));
    KeyedView *kv = nullptr;
    bool arrays = true;
    for (int i = 0; i < ka->nkeys; i++)
        arrays = arrays && OidIsValid(get_array_type(ka->key_types[i]));
    if (ka->view_reason == nullptr && arrays) {
        kv = static_cast<KeyedView *>(palloc0(sizeof(KeyedView)));
        kv->view = view;
        kv->owner = syscat::relation_owner(view);
        kv->definition = definition;
        kv->nkeys = ka->nkeys;
        kv->key_names = ka->key_names;
        kv->key_types = ka->key_types;
        kv->analysis = ka;
        kv->delta = analyze_delta(view, definition, ka);
        foreach (lc, ka->sources) {
            auto *sk = static_cast<SourceKey *>(lfirst(lc));
            if (sk->kind != derive_join)
                continue;
            if (sk->lookup_where != nullptr)
                sk->key_query = lookup_key_query(sk, view, definition, ka->nkeys, ka->key_names);
            kv->join_sources = lappend(kv->join_sources, sk);
        }
    }
    MemoryContextSwitchTo(old);
    return kv;
}

int sink_of(const KeyedView *kv, const SourceKey *sk) {
    int i = 1;
    ListCell *lc;
    foreach (lc, kv->join_sources) {
        if (lfirst(lc) == sk)
            return i;
        i++;
    }
    return 0;
}

// Expressions over a row of the table read as its ancestor (map: nullptr when
// it is the table itself).
List *mapped(List *exprs, AttrMap *map) {
    List *out = NIL;
    ListCell *e;
    foreach (e, exprs) {
        Node *expr = static_cast<Node *>(copyObjectImpl(lfirst(e)));
        bool whole_row = false;
        if (map != nullptr)
            expr = map_variable_attnos(expr, 1, 0, map, InvalidOid, &whole_row);
        out = lappend(out, expr);
    }
    return out;
}

// The items one view gives a table: from the analysis of the table itself, or
// of the ancestor it is read through (columns mapped by name). C-level.
void add_items(List **items, const KeyedView *kv, Oid table) {
    List *sources = sources_of(kv->analysis, table);
    Oid read_as = table;
    if (sources == NIL) {
        ListCell *lc;
        foreach (lc, ancestors_of(table)) {
            sources = sources_of(kv->analysis, lfirst_oid(lc));
            if (sources != NIL) {
                read_as = lfirst_oid(lc);
                break;
            }
        }
    }
    if (sources == NIL) { // watched, but not read by the query itself: not keyed
        auto *item = static_cast<CaptureItem *>(palloc0(sizeof(CaptureItem)));
        *item = {kv->view, derive_full, 0, NIL, 0, nullptr, nullptr, kv, nullptr};
        *items = lappend(*items, item);
        return;
    }
    AttrMap *map = nullptr;
    if (read_as != table) {
        Relation child = relation_open(table, AccessShareLock);
        Relation parent = relation_open(read_as, AccessShareLock);
        map = build_attrmap_by_name(RelationGetDescr(child), RelationGetDescr(parent));
        relation_close(parent, AccessShareLock);
        relation_close(child, AccessShareLock);
    }
    ListCell *lc;
    foreach (lc, sources) {
        auto *sk = static_cast<SourceKey *>(lfirst(lc));
        auto *item = static_cast<CaptureItem *>(palloc0(sizeof(CaptureItem)));
        item->view = kv->view;
        item->kind = sk->kind;
        item->keyed = kv;
        if (sk->kind == derive_direct) {
            item->exprs = mapped(sk->exprs, map);
            const DeltaShape *shape = delta_shape_of(kv->delta, read_as);
            if (shape != nullptr) {
                // The shape's expressions over this table's row (a partition's
                // columns may be numbered differently from its parent's).
                auto *mine = static_cast<DeltaShape *>(palloc(sizeof(DeltaShape)));
                *mine = *shape;
                mine->key_exprs = mapped(shape->key_exprs, map);
                mine->arg_exprs = mapped(shape->arg_exprs, map);
                mine->filters = mapped(shape->filters, map);
                item->delta = mine;
            }
        } else if (sk->kind == derive_join) {
            item->sink = sink_of(kv, sk);
            item->nattrs = list_length(sk->capture_attnos);
            item->attnos = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * item->nattrs));
            item->types = static_cast<Oid *>(palloc(sizeof(Oid) * item->nattrs));
            for (int i = 0; i < item->nattrs; i++) {
                AttrNumber attno = static_cast<AttrNumber>(list_nth_int(sk->capture_attnos, i));
                item->attnos[i] = map != nullptr ? map->attnums[attno - 1] : attno;
                item->types[i] = list_nth_oid(sk->capture_types, i);
            }
        }
        *items = lappend(*items, item);
    }
}

} // namespace

namespace {

// keyed_view without the validity check: the caller made the cache valid, and
// nothing here resets it (pointers handed out earlier in the call stay good).
const KeyedView *find_keyed_view(Oid view) {
    auto *e = static_cast<ViewEntry *>(pg_call([view] { return hash_search(views, &view, HASH_FIND, nullptr); }));
    if (e != nullptr)
        return e->keyed;
    // (Not before the SQL of 0.6.0 is installed: keyed refreshes lock keys in its table.)
    int incremental = pg_call([view] {
        const registry::MatviewOptions *o = registry::options_of(view);
        if (o == nullptr || o->incremental == 0 || !OidIsValid(registry::registry_relid("key_lock")))
            return 0;
        return 1;
    });
    KeyedView *kv = nullptr;
    tableview::TableView tv;
    // (A definition gone behind the event triggers' back is not analyzed: the
    // full refresh says what is wrong.)
    // (No key: analyze_keys finds the one row of aggregates without GROUP BY, or
    // says the view is not keyed.)
    if (incremental == 1 && tableview::lookup(view, &tv) &&
        pg_call([&tv] { return get_rel_relkind(tv.definition) == RELKIND_VIEW; })) {
        std::vector<const char *> names;
        for (const std::string &k : tv.unique_key)
            names.push_back(k.c_str());
        Oid definition = tv.definition;
        int n = static_cast<int>(names.size());
        const char *const *data = names.data();
        kv = pg_call([&] { return build_keyed_view(view, definition, n, data); });
    }
    pg_call([view, kv] {
        auto *entry = static_cast<ViewEntry *>(hash_search(views, &view, HASH_ENTER, nullptr));
        entry->keyed = kv;
    });
    return kv;
}

} // namespace

const KeyedView *keyed_view(Oid view) {
    pg_call([] { ensure_valid(); });
    return find_keyed_view(view);
}

CaptureItem *const *capture_items(Oid table) {
    pg_call([] { ensure_valid(); });
    auto *e = static_cast<TableEntry *>(pg_call([table] { return hash_search(tables, &table, HASH_FIND, nullptr); }));
    if (e != nullptr)
        return e->items;
    Oid *watchers = nullptr;
    int nwatchers = pg_call([&watchers, table] {
        int n;
        const Oid *v = registry::watchers_of(table, &n);
        watchers = static_cast<Oid *>(palloc(sizeof(Oid) * (n + 1)));
        memcpy(watchers, v, sizeof(Oid) * n);
        return n;
    });
    std::vector<const KeyedView *> keyed;
    for (int i = 0; i < nwatchers; i++)
        if (const KeyedView *kv = find_keyed_view(watchers[i]))
            keyed.push_back(kv);
    const KeyedView *const *kvs = keyed.data();
    int nkeyed = static_cast<int>(keyed.size());
    return pg_call([=] {
        MemoryContext old = MemoryContextSwitchTo(plan_context);
        track(table);
        List *items = NIL;
        for (int i = 0; i < nkeyed; i++)
            add_items(&items, kvs[i], table);
        auto **array = static_cast<CaptureItem **>(palloc0(sizeof(CaptureItem *) * (list_length(items) + 1)));
        for (int i = 0; i < list_length(items); i++)
            array[i] = static_cast<CaptureItem *>(list_nth(items, i));
        auto *entry = static_cast<TableEntry *>(hash_search(tables, &table, HASH_ENTER, nullptr));
        entry->items = array;
        MemoryContextSwitchTo(old);
        return array;
    });
}

uint64 capture_plan_generation(void) { return valid ? generation : 0; }

bool keys_captured_from(Oid table) {
    CaptureItem *const *items = capture_items(table);
    for (int i = 0; items[i] != nullptr; i++)
        if (items[i]->kind != derive_full)
            return true;
    return false;
}

namespace {
// Relcache invalidation: the watch registry (every plan), or a relation some
// analysis depended on.
void invalidate(Oid relid) {
    if (registry::is_registry_table(relid))
        relid = InvalidOid;
    if (!valid)
        return;
    if (relid == InvalidOid || hash_search(tracked, &relid, HASH_FIND, nullptr) != nullptr)
        valid = false;
}
} // namespace

void capture_plan_init(void) { on_relcache_invalidation(invalidate); }

} // namespace pgview::analysis
