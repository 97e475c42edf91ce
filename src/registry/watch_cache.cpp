// pgview_auto — the per-backend watch cache (see watch_cache.hpp).
#include "registry/watch_cache.hpp"

#include "pg/relcache_callbacks.hpp"
#include "syscat/relation_info.hpp"

extern "C" {
#include "utils/acl.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace pgview::registry {

namespace {

struct WatchersEntry {
    Oid relid; // hash key
    int n;
    Oid *matviews;
};
struct OptionsEntry {
    Oid matview; // hash key
    MatviewOptions options;
};

MemoryContext cache_context = nullptr;
bool cache_valid = false;
uint64 generation = 0;          // bumped by every invalidation of the registry tables
Oid watch_relid = InvalidOid;   // registry tables as of the last load
Oid watched_relid = InvalidOid;
WatchRow *rows = nullptr;
int nrows = 0;
WatchRow *matview_rows = nullptr; // the rows whose source is a matview
int nmatview_rows = 0;
HTAB *watchers = nullptr;         // relid -> matviews, filled lazily
HTAB *options = nullptr;          // matview -> options
bool has_immediate = false;       // some watch in mode 'immediate'

void invalidate(Oid relid) {
    bool registry = relid == InvalidOid || is_registry_table(relid);
    if (registry) {
        generation++;        // also while a load is under way: that load is not valid
        cache_valid = false; // memory is reset at the next load
    } else if (cache_valid) {
        // A partition attached or detached, a child inheriting or not, a
        // GRANT: its watchers may have changed.
        bool found;
        hash_search(watchers, &relid, HASH_REMOVE, &found);
    }
}

HTAB *make_hash(const char *name, Size entry_size) {
    HASHCTL ctl;
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = entry_size;
    ctl.hcxt = cache_context;
    return hash_create(name, 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

void ensure_loaded() {
    if (cache_valid)
        return;
    if (cache_context == nullptr)
        cache_context = AllocSetContextCreate(CacheMemoryContext, "pgview_auto watch cache",
                                              ALLOCSET_SMALL_SIZES);
    MemoryContextReset(cache_context);
    watchers = make_hash("pgview_auto watchers", sizeof(WatchersEntry));
    options = make_hash("pgview_auto options", sizeof(OptionsEntry));
    rows = nullptr;
    nrows = nmatview_rows = 0;
    has_immediate = false;
    uint64 loading = generation;
    watch_relid = registry_relid("watch");
    watched_relid = registry_relid("watched");
    if (OidIsValid(watch_relid)) {
        OptionsRow *opts;
        int nopts;
        with_registry([&] {
            registry_load(&rows, &nrows, &opts, &nopts, cache_context);
        });
        for (int i = 0; i < nopts; i++) {
            auto *e = static_cast<OptionsEntry *>(hash_search(options, &opts[i].matview, HASH_ENTER, nullptr));
            e->options = opts[i].options;
            has_immediate = has_immediate || opts[i].options.mode == 'i';
        }
        matview_rows = static_cast<WatchRow *>(MemoryContextAlloc(cache_context, sizeof(WatchRow) * (nrows + 1)));
        for (int i = 0; i < nrows; i++)
            if (rows[i].source_is_matview)
                matview_rows[nmatview_rows++] = rows[i];
    }
    // (Not installed here: nothing is watched.) Valid only once a whole load
    // succeeded: one that failed (a statement cancelled or timed out while it
    // waited for a lock) left nothing valid behind. A registry change that
    // arrived during the load (it takes locks, which processes invalidations)
    // leaves the result for this call only; the next call loads again.
    cache_valid = generation == loading;
}

} // namespace

void watch_cache_init(void) { on_relcache_invalidation(invalidate); }

bool is_registry_table(Oid relid) { return OidIsValid(relid) && (relid == watch_relid || relid == watched_relid); }

const Oid *watchers_of(Oid relid, int *n) {
    ensure_loaded();
    auto *e = static_cast<WatchersEntry *>(hash_search(watchers, &relid, HASH_FIND, nullptr));
    if (e != nullptr) {
        *n = e->n;
        return e->matviews;
    }
    // Catalog look-ups take locks, which processes invalidations and may empty
    // the cache: the ancestors come first, and the entry is kept only if no
    // registry change arrived while it was computed.
    List *ancestors = syscat::inheritance_ancestors(relid);
    bool partition = get_rel_relispartition(relid);
    Oid *found;
    int count;
    uint64 seen;
    for (int attempt = 0;; attempt++) {
        ensure_loaded();
        seen = generation;
        found = static_cast<Oid *>(palloc(sizeof(Oid) * (nrows + 1)));
        Oid *owners = static_cast<Oid *>(palloc(sizeof(Oid) * (nrows + 1)));
        bool *direct = static_cast<bool *>(palloc(sizeof(bool) * (nrows + 1)));
        count = 0;
        for (int i = 0; i < nrows; i++) {
            const WatchRow &row = rows[i];
            bool itself = row.source == relid;
            // (A matview source counts for itself only: written by a REFRESH by hand.)
            if (!(itself || (!row.source_is_matview && list_member_oid(ancestors, row.source))))
                continue;
            int j = 0;
            while (j < count && found[j] != row.matview)
                j++;
            if (j == count) {
                found[count] = row.matview;
                owners[count] = row.owner;
                direct[count++] = itself;
            } else {
                direct[j] = direct[j] || itself;
            }
        }
        // Through an inheritance parent (not a partitioned one): only for a
        // matview whose owner may put a trigger on this child (as the trigger
        // itself, see capture_triggers.cpp).
        if (!partition) {
            int kept = 0;
            for (int j = 0; j < count; j++)
                if (direct[j] || pg_class_aclcheck(relid, owners[j], ACL_TRIGGER) == ACLCHECK_OK)
                    found[kept++] = found[j];
            count = kept;
        }
        if (generation == seen || attempt == 3)
            break;
    }
    list_free(ancestors);
    if (generation != seen) { // the registry keeps changing: use this once, keep nothing
        *n = count;
        return found;
    }
    ensure_loaded(); // valid: only a registry change would reload it
    Oid *kept = static_cast<Oid *>(MemoryContextAlloc(cache_context, sizeof(Oid) * (count + 1)));
    memcpy(kept, found, sizeof(Oid) * count);
    e = static_cast<WatchersEntry *>(hash_search(watchers, &relid, HASH_ENTER, nullptr));
    e->n = count;
    e->matviews = kept;
    *n = count;
    return e->matviews;
}

const MatviewOptions *options_of(Oid matview) {
    ensure_loaded();
    auto *e = static_cast<OptionsEntry *>(hash_search(options, &matview, HASH_FIND, nullptr));
    return e ? &e->options : nullptr;
}

bool any_immediate_watch(void) {
    ensure_loaded();
    return has_immediate;
}

void matview_sources(const WatchRow **out, int *n) {
    ensure_loaded();
    *out = matview_rows;
    *n = nmatview_rows;
}

} // namespace pgview::registry
