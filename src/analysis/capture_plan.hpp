// pgview_auto — this backend's plan of what to capture from a changed row, per
// table, and what a keyed refresh of each incremental view needs; built from the
// watch registry and the key analysis of each view (key_analysis.hpp), kept
// until a relevant relcache invalidation (the registry, a view's definition, a
// table it reads). C++ (errors as pgview::Error); the structures themselves are
// plain, in a PostgreSQL memory context, valid until the next call into this cache.
#pragma once

#include "analysis/delta_analysis.hpp"
#include "analysis/key_analysis.hpp"

extern "C" {
#include "access/attnum.h"
}

namespace pgview::analysis {

// An incremental table view: a watched table view with a unique key whose watch
// allows incremental refresh.
struct KeyedView {
    Oid view;
    Oid owner; // key expressions are evaluated with its rights, as its refresh runs them
    Oid definition;
    int nkeys;
    char **key_names;
    Oid *key_types;
    List *join_sources; // SourceKey * of kind derive_join; sink i is the i-th (1-based)
    const KeyAnalysis *analysis;
    const DeltaAnalysis *delta; // which sources delta arithmetic keeps
};

// What one changed row of a table gives one view.
struct CaptureItem {
    Oid view;
    char kind;          // derive_direct, derive_join, derive_full
    int sink;           // direct: 0; join: the join source's sink
    List *exprs;        // direct: key expressions over this table's row (Vars varno 1)
    int nattrs;         // join: captured columns of this table
    AttrNumber *attnos;
    Oid *types;
    const KeyedView *keyed;
    // direct: the changed rows are kept as deltas of this shape (its key,
    // argument and filter expressions over this table's row, varno 1); nullptr:
    // as keys
    const DeltaShape *delta;
};

// The capture items of a table (nullptr-terminated array; empty when no
// incremental view watches it).
CaptureItem *const *capture_items(Oid table);
// nullptr when view is not refreshed incrementally.
const KeyedView *keyed_view(Oid view);
// Whether some incremental view derives keys from this table's rows (it needs
// the key capture triggers).
bool keys_captured_from(Oid table);


// The plan's number: it changes whenever the plan is made again (after an
// invalidation), so what is derived from it (the refresh's statements) can be
// kept until then; 0 while an invalidation is pending (never reads the
// catalogs: the plan is not made again here).
uint64 capture_plan_generation(void);

void capture_plan_init(void); // from _PG_init: its relcache callback

} // namespace pgview::analysis
