// pgview_auto — how each source's changes will refresh a view: incrementally
// (with how the key is found) or in full (with why). What pgview_explain shows
// and what pgview_watch(..., incremental => true) requires. C++ (errors as
// pgview::Error).
#pragma once

#include <string>
#include <vector>

extern "C" {
#include "postgres.h"
}

namespace pgview::analysis {

struct SourcePlan {
    Oid source;
    bool incremental;
    std::string key_from; // how the key is found (incremental)
    std::string reason;   // why in full; for an incremental source, a missing index
};

// One entry per source table, ordered by name. `incremental_option`: the watch's
// option (-1 NULL, 0 false, 1 true); false makes every source full.
std::vector<SourcePlan> source_plans(Oid view, int incremental_option);

} // namespace pgview::analysis
