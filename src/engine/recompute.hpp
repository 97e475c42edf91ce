// pgview_auto — keyed recompute: the rows of a table view whose key is in a
// set S are replaced by the query's rows whose key is in S (the full
// difference restricted to S, engine/statement.hpp).
//
//   1. join values become keys through each join source's key query;
//   2. the keys are locked (engine/key_locks.hpp);
//   3. only then the snapshot: whichever of two writers of a key refreshes last
//      sees both; join keys are looked up again under it until no new key
//      appears;
//   4. one statement from a saved plan, through the runner (engine/apply.hpp).
// REPEATABLE READ / SERIALIZABLE writers cannot take a newer snapshot: a
// bucket row updated by a transaction their snapshot does not see makes them
// fail with 40001 (PostgreSQL's own rule).
#pragma once

#include "analysis/capture_plan.hpp"
#include "changes/change_set.hpp"
#include "engine/key_locks.hpp"

namespace pgview::engine {

// What a keyed refresh needs of a view, copied out of the capture plan cache
// (which an invalidation may reset meanwhile). C-level.
struct KeyedSpec {
    uint64 generation; // of the capture plan it was copied from
    Oid view;
    Oid definition;
    int nkeys;
    List *key_names; // char *
    Oid *key_types;
    Oid *key_collations;
    int njoins;
    char **join_queries; // sink i's key query is join_queries[i - 1]
    int *join_nattrs;
    Oid **join_types;
    KeyTypes key_types_of() const { return {view, nkeys, key_types, key_collations}; }
};
KeyedSpec *keyed_spec(const analysis::KeyedView *kv);

// What a refresh did, for the statistics.
struct Applied {
    int64 keys;
    int64 rows; // rows deleted, updated and inserted
};

// Recomputes the view's rows for the SinkKey *s in keys. False (nothing done)
// when the view keys exceed max_keys: refresh in full instead. lock_table: lock
// the whole table view instead of its keys' buckets (one registry row written
// instead of one per bucket), for a refresher that has no concurrent writer of
// the view to let through. C-level.
bool recompute_keys(const KeyedSpec *spec, List *keys, int max_keys, bool lock_table, Applied *out);

// The full difference of a table view (the caller holds its EXCLUSIVE lock).
// C-level.
void apply_difference(Oid table, Oid definition, List *key_names, Applied *out);

} // namespace pgview::engine
