// pgview_auto — how each source's changes will refresh a view: incrementally
// (with how the key is found) or in full (with why), and the plan the chooser
// (engine/plan.hpp) makes for a change of that source alone, with its reason.
// What pgview_explain shows and what pgview_watch(..., incremental => true)
// requires. C++ (errors as pgview::Error).
#pragma once

#include <string>
#include <vector>

#include "engine/plan.hpp"

extern "C" {
#include "postgres.h"
}

namespace pgview::engine {

struct SourcePlan {
    Oid source;
    bool incremental;
    std::string key_from; // how the key is found (incremental)
    std::string reason;   // why in full; for an incremental source, a missing index
    Strategy strategy;    // the chooser's plan for a change of this source
    std::string why;      // ... and its reason (for keyed recompute: why not delta)
};

// One entry per source table, ordered by name. `incremental_option`: the watch's
// option (-1 NULL, 0 false, 1 true); false makes every source full.
std::vector<SourcePlan> source_plans(Oid view, int incremental_option);

} // namespace pgview::engine
