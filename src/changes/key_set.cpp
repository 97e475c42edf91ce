// pgview_auto — the transaction's key set (see key_set.hpp).
#include "changes/key_set.hpp"

#include "config/settings.hpp"

extern "C" {
#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
}

namespace pgview::changes {

namespace {

// One key of one view (the hash key: compared by view, sink and bytes).
struct KeyRef {
    Oid view;
    int sink;
    KeyImage image;
};
struct KeyEntry {
    KeyRef key;
};
struct ViewEntry {
    Oid view;
    bool full;
    int count;
    List *keys; // SinkKey *, in TopTransactionContext
};

HTAB *views = nullptr;
HTAB *keys = nullptr;

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
    views = hash_create("pgview_auto changed keys: views", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    HASHCTL kctl;
    kctl.keysize = sizeof(KeyRef);
    kctl.entrysize = sizeof(KeyEntry);
    kctl.hash = key_hash;
    kctl.match = key_match;
    kctl.keycopy = key_copy;
    kctl.hcxt = TopTransactionContext;
    keys = hash_create("pgview_auto changed keys", 64, &kctl,
                       HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_KEYCOPY | HASH_CONTEXT);
}

ViewEntry *view_entry(Oid view, bool create) {
    if (!create && views == nullptr)
        return nullptr;
    ensure_tables();
    bool found;
    auto *e = static_cast<ViewEntry *>(hash_search(views, &view, create ? HASH_ENTER : HASH_FIND, &found));
    if (e != nullptr && create && !found) {
        e->full = false;
        e->count = 0;
        e->keys = NIL;
    }
    return e;
}

} // namespace

void keyset_add(Oid view, int sink, const KeyImage &image) {
    ViewEntry *v = view_entry(view, true);
    if (v->full)
        return;
    KeyRef ref{view, sink, image};
    bool found;
    auto *e = static_cast<KeyEntry *>(hash_search(keys, &ref, HASH_ENTER, &found));
    if (found)
        return;
    if (++v->count > config::max_keys) {
        v->full = true; // past the cap the refresh is full; stop collecting
        return;
    }
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    auto *sk = static_cast<SinkKey *>(palloc(sizeof(SinkKey)));
    sk->sink = sink;
    sk->image = e->key.image;
    v->keys = lappend(v->keys, sk);
    MemoryContextSwitchTo(old);
}

void keyset_touch(Oid view) { (void) view_entry(view, true); }

void keyset_mark_full(Oid view) { view_entry(view, true)->full = true; }

bool keyset_is_full(Oid view) {
    ViewEntry *v = view_entry(view, false);
    return v != nullptr && v->full;
}

bool keyset_known(Oid view) { return view_entry(view, false) != nullptr; }

bool keyset_take(Oid view, bool *full, List **out) {
    ViewEntry *v = view_entry(view, false);
    if (v == nullptr)
        return false;
    *full = v->full;
    *out = v->keys;
    // Later changes (a refresh writing this view's sources) collect afresh;
    // the dedup entries of the taken keys go too.
    ListCell *lc;
    foreach (lc, v->keys) {
        auto *sk = static_cast<SinkKey *>(lfirst(lc));
        KeyRef ref{view, sk->sink, sk->image};
        (void) hash_search(keys, &ref, HASH_REMOVE, nullptr);
    }
    (void) hash_search(views, &view, HASH_REMOVE, nullptr);
    return true;
}

void keyset_forget(void) {
    views = nullptr; // the memory goes with TopTransactionContext
    keys = nullptr;
}

} // namespace pgview::changes
