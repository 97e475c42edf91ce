// pgview_auto — the keyed (incremental) refresh of a table view: the rows whose
// key is in a set S are replaced by the query's rows whose key is in S.
//
//   1. join values become keys through each join source's key query;
//   2. lock the keys: each key hashes (with its type's hash function, so equal
//      keys agree) into one of a fixed number of buckets; the buckets' rows in
//      pgview_auto.key_lock are upserted in ascending order (row locks held to
//      commit), under a ROW EXCLUSIVE lock on the table: writers of different
//      keys go on in parallel, writers of the same key serialize, and a full
//      refresh (EXCLUSIVE) excludes them all. Past a few buckets, the table's
//      EXCLUSIVE lock instead (bounded lock use);
//   3. only then the snapshot (DESIGN.md's rule, per key): whichever of two
//      writers of a key refreshes last sees both; join keys are looked up
//      again under it until no new key appears;
//   4. one statement from a saved plan: DELETE, UPDATE in place, INSERT of the
//      changed rows only, as the table's owner with search_path = pg_catalog,
//      pg_temp, restricted like REFRESH.
// REPEATABLE READ / SERIALIZABLE writers cannot take a newer snapshot: a bucket
// row updated by a transaction their snapshot does not see makes their upsert
// fail with 40001 (PostgreSQL's own rule), and the statistics row is claimed
// as for a full refresh (a full or table-locked refresh updates it).
// The bucket rows also count the refreshes and keys (pgview_status).
#pragma once

#include "analysis/capture_plan.hpp"
#include "changes/change_set.hpp"

namespace pgview::engine {

// What the refresh needs of an incremental view, copied out of the capture
// plan cache (which an invalidation may reset meanwhile). C-level.
struct KeyedSpec {
    Oid view;
    Oid definition;
    int nkeys;
    char **key_names;
    Oid *key_types;
    Oid *key_collations;
    const char **key_eq; // each key type's own equality operator, with its schema
    int njoins;
    char **join_queries; // sink i's key query is join_queries[i - 1]
    int *join_nattrs;
    Oid **join_types;
};
KeyedSpec *keyed_spec(const analysis::KeyedView *kv);

// Refreshes spec's view for the SinkKey *s in keys. False (nothing done) when
// the view keys exceed max_keys: refresh in full instead. *nkeys: the view keys
// refreshed. C-level: may ereport.
bool refresh_keys(const KeyedSpec *spec, List *keys, int max_keys, int64 *nkeys);

} // namespace pgview::engine
