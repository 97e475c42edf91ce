// pgview_auto — see statement_cache.hpp.
#include "engine/statement_cache.hpp"

extern "C" {
#include "utils/hsearch.h"
#include "utils/memutils.h"
}

namespace pgview::engine {

namespace {

struct Entry {
    Oid view;
    const KeyedSpec *spec;
    const DeltaStatements *delta[2]; // arrays, single
};

MemoryContext cache_context = nullptr;
HTAB *cache = nullptr;
uint64 cached_generation = 0;

} // namespace

const analysis::DeltaShape *copy_delta_shape(const analysis::DeltaShape *shape) {
    if (shape == nullptr)
        return nullptr;
    auto *copy = static_cast<analysis::DeltaShape *>(palloc(sizeof(analysis::DeltaShape)));
    *copy = *shape;
    copy->key_exprs = copy->fixed_exprs = copy->arg_exprs = copy->filters = NIL;
    auto *columns = static_cast<analysis::DeltaColumn *>(palloc(sizeof(analysis::DeltaColumn) * (shape->ncolumns + 1)));
    for (int i = 0; i < shape->ncolumns; i++) {
        columns[i] = shape->columns[i];
        columns[i].name = pstrdup(shape->columns[i].name);
    }
    copy->columns = columns;
    auto *args = static_cast<changes::DeltaArg *>(palloc(sizeof(changes::DeltaArg) * (shape->layout.nargs + 1)));
    memcpy(args, shape->layout.args, sizeof(changes::DeltaArg) * shape->layout.nargs);
    copy->layout.args = args;
    return copy;
}

namespace {

// The view's entry while the capture plan `now` is current (nullptr when no
// plan is).
Entry *entry(Oid view, uint64 now) {
    if (now == 0)
        return nullptr;
    if (cache == nullptr || cached_generation != now) {
        if (cache_context == nullptr)
            cache_context = AllocSetContextCreate(CacheMemoryContext, "pgview_auto statements", ALLOCSET_SMALL_SIZES);
        MemoryContextReset(cache_context);
        HASHCTL ctl;
        ctl.keysize = sizeof(Oid);
        ctl.entrysize = sizeof(Entry);
        ctl.hcxt = cache_context;
        cache = hash_create("pgview_auto statements", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
        cached_generation = now;
    }
    bool found;
    auto *e = static_cast<Entry *>(hash_search(cache, &view, HASH_ENTER, &found));
    if (!found) {
        e->spec = nullptr;
        e->delta[0] = e->delta[1] = nullptr;
    }
    return e;
}

} // namespace

const KeyedSpec *cached_keyed_spec(const analysis::KeyedView *kv) {
    Entry *e = entry(kv->view, analysis::capture_plan_generation());
    if (e == nullptr)
        return keyed_spec(kv);
    if (e->spec == nullptr) {
        MemoryContext old = MemoryContextSwitchTo(cache_context);
        e->spec = keyed_spec(kv);
        MemoryContextSwitchTo(old);
    }
    return e->spec;
}

const DeltaStatements *delta_statements(const KeyedSpec *spec, const analysis::DeltaShape *shape, bool single) {
    uint64 now = analysis::capture_plan_generation();
    Entry *e = spec->generation == now ? entry(spec->view, now) : nullptr;
    if (e == nullptr) // made from another plan than the current one: not kept
        return delta_sql(table_shape(spec->view, spec->definition, spec->key_names), shape, single);
    if (e->delta[single] == nullptr) {
        MemoryContext old = MemoryContextSwitchTo(cache_context);
        e->delta[single] = delta_sql(table_shape(spec->view, spec->definition, spec->key_names), shape, single);
        MemoryContextSwitchTo(old);
    }
    return e->delta[single];
}

} // namespace pgview::engine
