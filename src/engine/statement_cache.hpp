// pgview_auto — what a keyed recompute or a delta of a view needs, copied out
// of the capture plan when its plan is chosen (the capture plan may be made
// again meanwhile: a refresh that writes a table view another view watches
// fires capture triggers, which rebuild it after an invalidation), and the
// delta statements of each view kept from one refresh to the next until the
// capture plan is made again (building them costs more than running them).
// C-level.
#pragma once

#include "analysis/capture_plan.hpp"
#include "engine/recompute.hpp"
#include "engine/statement.hpp"

namespace pgview::engine {

// keyed_spec(kv), kept while the capture plan is current.
const KeyedSpec *cached_keyed_spec(const analysis::KeyedView *kv);

// A copy of the shape without its expressions (which only capture evaluates).
const analysis::DeltaShape *copy_delta_shape(const analysis::DeltaShape *shape);

// The delta statements for spec's view (the caller holds a lock on it): kept
// while the capture plan the spec and shape were copied from is current.
const DeltaStatements *delta_statements(const KeyedSpec *spec, const analysis::DeltaShape *shape, bool single);

} // namespace pgview::engine
