// pgview_auto — locking the keys a refresh of a table view writes, so that a
// recompute's snapshot never misses a change another transaction applied to
// the same key, and two writers of different keys go on in parallel.
//
// Each key hashes (with its type's hash function, so equal keys agree) into
// one of a fixed number of buckets of the view. In ascending bucket order:
//   keyed recompute  a ROW EXCLUSIVE lock on the table, then per bucket our
//                    lock tag in EXCLUSIVE mode and its row of
//                    pgview_auto.key_lock upserted (the row counts the keys;
//                    a REPEATABLE READ writer whose snapshot is older than the
//                    row's last refresh gets 40001 there, PostgreSQL's own rule);
//   delta            per bucket our lock tag in SHARE mode: deltas commute, so
//                    delta writers of one key do not wait for each other here
//                    (their UPDATEs of the row serialize as any UPDATE); a
//                    recompute waits for them, and they for it.
// Only then the snapshot (DESIGN.md's rule, per key). Past a few buckets the
// table's lock instead (bounded use of the lock table): EXCLUSIVE for a
// recompute, SHARE ROW EXCLUSIVE for a delta (both exclude every other writer
// of the table view).
// A full refresh takes EXCLUSIVE on the table, which excludes them all.
// C-level: may ereport.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
}

namespace pgview::engine {

// The key columns of a view, as the buckets hash them.
struct KeyTypes {
    Oid view;
    int nkeys;
    const Oid *types;
    const Oid *collations;
};

// Locks for a recompute of the keys `images` (KeyImage *), counting them on the
// bucket rows (the first row also counts one refresh when count_refresh). Sets
// *coarse when it locked the whole table instead (or was asked to).
void lock_keys_for_recompute(const KeyTypes &kt, const List *images, bool count_refresh, bool *coarse);

// Locks for applying deltas to the keys `images` (KeyImage *).
void lock_keys_for_delta(const KeyTypes &kt, const List *images);

} // namespace pgview::engine
