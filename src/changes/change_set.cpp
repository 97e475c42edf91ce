// pgview_auto — the transaction's change set (see change_set.hpp).
#include "changes/change_set.hpp"

#include "config/settings.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
}

namespace pgview::changes {

namespace {

// One key (or delta group) of one view: compared by view, sink and bytes.
struct KeyRef {
    Oid view;
    int sink; // -1: a delta group
    KeyImage image;
};
struct KeyEntry {
    KeyRef key;
    DeltaGroup *group; // sink -1
};
struct ViewEntry {
    Oid view;
    bool full;
    const char *full_reason;
    int count;                 // distinct keys
    int ngroups;               // distinct delta groups
    List *keys;                // SinkKey *
    const DeltaLayout *layout;
    List *groups;              // DeltaGroup *
    bool removals;
    const char *no_delta;
    int delta_level;           // deepest (sub)transaction level whose deltas are not settled (0: none)
};

HTAB *views = nullptr;
HTAB *keys = nullptr;
// The entry found last: capture asks for the same view once per changed row
// (a COPY of a million rows: a million look-ups saved). Entries stay where they
// are until removed (dynahash), which change_take and change_forget clear.
Oid last_view = InvalidOid;
ViewEntry *last_entry = nullptr;

uint32 key_hash(const void *key, Size) {
    auto *k = static_cast<const KeyRef *>(key);
    uint32 h = hash_bytes(reinterpret_cast<const unsigned char *>(k->image.data), k->image.len);
    return h ^ hash_combine(k->view, static_cast<uint32>(k->sink));
}

int key_match(const void *a, const void *b, Size) {
    auto *x = static_cast<const KeyRef *>(a);
    auto *y = static_cast<const KeyRef *>(b);
    if (x->view != y->view || x->sink != y->sink || x->image.len != y->image.len)
        return 1;
    return memcmp(x->image.data, y->image.data, x->image.len);
}

void *key_copy(void *dest, const void *src, Size) {
    auto *d = static_cast<KeyRef *>(dest);
    auto *s = static_cast<const KeyRef *>(src);
    *d = *s;
    d->image.data = static_cast<char *>(MemoryContextAlloc(TopTransactionContext, s->image.len + 1));
    memcpy(d->image.data, s->image.data, s->image.len);
    return dest;
}

void ensure_tables() {
    if (views != nullptr)
        return;
    HASHCTL ctl;
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = sizeof(ViewEntry);
    ctl.hcxt = TopTransactionContext;
    views = hash_create("pgview_auto change set: views", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    HASHCTL kctl;
    kctl.keysize = sizeof(KeyRef);
    kctl.entrysize = sizeof(KeyEntry);
    kctl.hash = key_hash;
    kctl.match = key_match;
    kctl.keycopy = key_copy;
    kctl.hcxt = TopTransactionContext;
    keys = hash_create("pgview_auto change set: keys", 64, &kctl,
                       HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_KEYCOPY | HASH_CONTEXT);
}

ViewEntry *view_entry(Oid view, bool create) {
    if (!create && views == nullptr)
        return nullptr;
    if (last_entry != nullptr && last_view == view)
        return last_entry;
    ensure_tables();
    bool found;
    auto *e = static_cast<ViewEntry *>(hash_search(views, &view, create ? HASH_ENTER : HASH_FIND, &found));
    if (e != nullptr && create && !found) {
        e->full = false;
        e->full_reason = nullptr;
        e->count = 0;
        e->ngroups = 0;
        e->keys = NIL;
        e->layout = nullptr;
        e->groups = NIL;
        e->removals = false;
        e->no_delta = nullptr;
        e->delta_level = 0;
    }
    if (e != nullptr) {
        last_view = view;
        last_entry = e;
    }
    return e;
}

// A new distinct key of v: false past pgview_auto.max_keys (v is full then).
bool room_for_one_more(ViewEntry *v) {
    if (++v->count <= config::max_keys)
        return true;
    v->full = true; // past the cap the refresh is full; stop collecting
    v->full_reason = "more changed keys than pgview_auto.max_keys";
    return false;
}

// A new delta group of v: false past pgview_auto.max_delta_groups. (Deltas
// cost per group what a hand-written trigger's UPDATE costs, so they go on
// where recomputing keys would not; the cap bounds the transaction's memory.)
bool room_for_one_more_group(ViewEntry *v) {
    if (++v->ngroups <= config::max_delta_groups)
        return true;
    v->full = true;
    v->full_reason = "more changed groups than pgview_auto.max_delta_groups";
    return false;
}

DeltaGroup *new_group(const DeltaLayout *layout, const KeyImage &key) {
    int n = layout->nargs;
    auto *g = static_cast<DeltaGroup *>(palloc0(sizeof(DeltaGroup)));
    g->key = key;
    g->nonnull = static_cast<int64 *>(palloc0(sizeof(int64) * (n + 1)));
    g->sums = static_cast<Datum *>(palloc0(sizeof(Datum) * (n + 1)));
    g->summed = static_cast<bool *>(palloc0(sizeof(bool) * (n + 1)));
    g->mins = static_cast<Datum *>(palloc0(sizeof(Datum) * (n + 1)));
    g->maxs = static_cast<Datum *>(palloc0(sizeof(Datum) * (n + 1)));
    g->extreme = static_cast<bool *>(palloc0(sizeof(bool) * (n + 1)));
    return g;
}

int64 as_int64(Datum d, Oid type) {
    switch (type) {
    case INT2OID: return DatumGetInt16(d);
    case INT4OID: return DatumGetInt32(d);
    default: return DatumGetInt64(d);
    }
}

// sign * value added to the group's sum of argument i; false when it overflowed.
bool add_to_sum(DeltaGroup *g, const DeltaArg &a, int i, int sign, Datum value) {
    switch (a.sum) {
    case 'i': {
        int64 v = as_int64(value, a.type), sum = g->summed[i] ? DatumGetInt64(g->sums[i]) : 0, out;
        if (sign < 0 ? pg_sub_s64_overflow(sum, v, &out) : pg_add_s64_overflow(sum, v, &out))
            return false;
        g->sums[i] = Int64GetDatum(out);
        break;
    }
    case 'w': {
        if (!g->summed[i])
            g->sums[i] = PointerGetDatum(palloc0(sizeof(__int128)));
        auto *sum = reinterpret_cast<__int128 *>(DatumGetPointer(g->sums[i]));
        __int128 v = DatumGetInt64(value);
        *sum += sign < 0 ? -v : v;
        break;
    }
    case 'n': {
        Datum old = g->summed[i] ? g->sums[i] : DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
        g->sums[i] = DirectFunctionCall2(sign < 0 ? numeric_sub : numeric_add, old, value);
        pfree(DatumGetPointer(old));
        break;
    }
    default:
        return true;
    }
    g->summed[i] = true;
    return true;
}

// An inserted value as the group's extreme, if it is one.
void keep_extreme(DeltaGroup *g, const DeltaArg &a, int i, Datum value) {
    TypeCacheEntry *tc = lookup_type_cache(a.type, TYPECACHE_CMP_PROC_FINFO);
    int16 typlen;
    bool byval;
    get_typlenbyval(a.type, &typlen, &byval);
    auto better = [&](Datum current, int want) {
        int32 c = DatumGetInt32(FunctionCall2Coll(&tc->cmp_proc_finfo, a.collation, value, current));
        return want < 0 ? c < 0 : c > 0;
    };
    if (a.min && (!g->extreme[i] || better(g->mins[i], -1)))
        g->mins[i] = datumCopy(value, byval, typlen);
    if (a.max && (!g->extreme[i] || better(g->maxs[i], 1)))
        g->maxs[i] = datumCopy(value, byval, typlen);
    g->extreme[i] = true;
}

DeltaLayout *copy_layout(const DeltaLayout *layout) {
    auto *copy = static_cast<DeltaLayout *>(palloc(sizeof(DeltaLayout)));
    auto *args = static_cast<DeltaArg *>(palloc(sizeof(DeltaArg) * (layout->nargs + 1)));
    memcpy(args, layout->args, sizeof(DeltaArg) * layout->nargs);
    copy->nargs = layout->nargs;
    copy->args = args;
    return copy;
}

} // namespace

bool same_layout(const DeltaLayout *a, const DeltaLayout *b) {
    if (a == nullptr || b == nullptr || a->nargs != b->nargs)
        return false;
    for (int i = 0; i < a->nargs; i++) {
        const DeltaArg &x = a->args[i], &y = b->args[i];
        if (x.type != y.type || x.collation != y.collation || x.nonnull != y.nonnull || x.sum != y.sum ||
            x.min != y.min || x.max != y.max)
            return false;
    }
    return true;
}

void change_add_key(Oid view, int sink, const KeyImage &image) {
    ViewEntry *v = view_entry(view, true);
    if (v->full)
        return;
    KeyRef ref{view, sink, image};
    bool found;
    auto *e = static_cast<KeyEntry *>(hash_search(keys, &ref, HASH_ENTER, &found));
    if (found || !room_for_one_more(v))
        return;
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    auto *sk = static_cast<SinkKey *>(palloc(sizeof(SinkKey)));
    sk->sink = sink;
    sk->image = e->key.image;
    v->keys = lappend(v->keys, sk);
    MemoryContextSwitchTo(old);
}

void change_add_delta(Oid view, const DeltaLayout *layout, const KeyImage &key, int sign, const Datum *args,
                      const bool *nulls) {
    ViewEntry *v = view_entry(view, true);
    if (v->full)
        return;
    KeyRef ref{view, -1, key};
    bool found;
    auto *e = static_cast<KeyEntry *>(hash_search(keys, &ref, HASH_ENTER, &found));
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    if (!found) {
        e->group = nullptr;
        if (!room_for_one_more_group(v)) {
            MemoryContextSwitchTo(old);
            return;
        }
        if (v->layout == nullptr)
            v->layout = copy_layout(layout);
        e->group = new_group(v->layout, e->key.image);
        v->groups = lappend(v->groups, e->group);
    }
    if (!same_layout(v->layout, layout)) {
        // The view's shape changed within the transaction: these deltas do
        // not add up; its keys are recomputed.
        if (v->no_delta == nullptr)
            v->no_delta = "the table view's definition changed during the transaction";
        MemoryContextSwitchTo(old);
        return;
    }
    DeltaGroup *g = e->group;
    if (g != nullptr) {
        g->rows += sign;
        for (int i = 0; i < layout->nargs; i++) {
            const DeltaArg &a = layout->args[i];
            if (nulls[i])
                continue;
            if (a.nonnull)
                g->nonnull[i] += sign;
            if (!add_to_sum(g, a, i, sign, args[i]) && v->no_delta == nullptr)
                v->no_delta = "a sum of the changes overflowed";
            if ((a.min || a.max) && sign > 0)
                keep_extreme(g, a, i, args[i]);
        }
    }
    MemoryContextSwitchTo(old);
    v->removals = v->removals || sign < 0;
    v->delta_level = Max(v->delta_level, GetCurrentTransactionNestLevel());
}

void change_touch(Oid view) { (void) view_entry(view, true); }

void change_mark_full(Oid view, const char *reason) {
    ViewEntry *v = view_entry(view, true);
    if (!v->full)
        v->full_reason = reason;
    v->full = true;
}

bool change_is_full(Oid view) {
    ViewEntry *v = view_entry(view, false);
    return v != nullptr && v->full;
}

bool change_known(Oid view) { return view_entry(view, false) != nullptr; }

bool change_take(Oid view, ViewChanges *out) {
    ViewEntry *v = view_entry(view, false);
    if (v == nullptr)
        return false;
    *out = {v->full, v->full_reason, v->keys, v->layout, v->groups, v->removals, v->no_delta};
    // Later changes (a refresh writing this view's sources) collect afresh;
    // the dedup entries of what was taken go too.
    ListCell *lc;
    foreach (lc, v->keys) {
        auto *sk = static_cast<SinkKey *>(lfirst(lc));
        KeyRef ref{view, sk->sink, sk->image};
        (void) hash_search(keys, &ref, HASH_REMOVE, nullptr);
    }
    foreach (lc, v->groups) {
        KeyRef ref{view, -1, static_cast<DeltaGroup *>(lfirst(lc))->key};
        (void) hash_search(keys, &ref, HASH_REMOVE, nullptr);
    }
    (void) hash_search(views, &view, HASH_REMOVE, nullptr);
    last_entry = nullptr;
    return true;
}

List *change_all_keys(const ViewChanges &c) {
    List *all = list_copy(c.keys);
    ListCell *lc;
    foreach (lc, c.groups) {
        auto *sk = static_cast<SinkKey *>(palloc(sizeof(SinkKey)));
        sk->sink = 0;
        sk->image = static_cast<DeltaGroup *>(lfirst(lc))->key;
        all = lappend(all, sk);
    }
    return all;
}

void change_subxact_end(bool committed, int level) {
    if (views == nullptr)
        return;
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, views);
    ViewEntry *v;
    while ((v = static_cast<ViewEntry *>(hash_seq_search(&seq))) != nullptr) {
        if (v->delta_level < level)
            continue;
        if (committed)
            v->delta_level = level - 1; // the parent's now
        else if (v->no_delta == nullptr)
            v->no_delta = "a savepoint that changed its rows was rolled back";
    }
}

void change_forget(void) {
    views = nullptr; // the memory goes with TopTransactionContext
    keys = nullptr;
    last_entry = nullptr;
}

} // namespace pgview::changes
