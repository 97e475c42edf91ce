// pgview_auto — delta: the changed rows' contributions, summed per group at
// capture (changes/change_set.hpp), added to the view's rows by one UPDATE
// (engine/statement.hpp); a view that owns its groups (one table, grouped by
// the key) also inserts the groups that appear (INSERT ... ON CONFLICT DO
// NOTHING, then the UPDATE again for a group another writer inserted
// meanwhile) and deletes those whose count(*) reaches 0.
// Deltas commute: writers of one key do not wait for each other's commit, only
// for the row (as any UPDATE); key locks (engine/key_locks.hpp) keep them
// apart from a recompute of the same key.
#pragma once

#include "analysis/delta_analysis.hpp"
#include "engine/recompute.hpp"

namespace pgview::engine {

// False (nothing done) when the deltas were captured for another shape of the
// view than its current one (a definition changed in the transaction):
// recompute their keys instead. C-level.
bool apply_deltas(const KeyedSpec *spec, const analysis::DeltaShape *shape, const changes::ViewChanges &c,
                  Applied *out);

} // namespace pgview::engine
