// pgview_auto — the maintenance engine's one decision: how a refresh applies a
// view's changes. Every refresh (at commit, by the worker, by pgview_refresh)
// and pgview_explain ask the same function, so what pgview_explain says is what
// runs.
//
//   full refresh      REFRESH MATERIALIZED VIEW (a materialized view: PostgreSQL
//                     writes it only that way);
//   full difference   a table view: its query run whole, only the rows that
//                     differ written (engine/statement.hpp);
//   keyed recompute   a table view with a unique key: the changed keys' rows
//                     recomputed from the query restricted to those keys;
//   delta             a table view whose columns are group keys and invertible
//                     aggregates: the changed rows' contributions added to the
//                     affected rows (analysis/delta_analysis.hpp).
// Each plan carries its reason, in words a user can act on.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview::engine {

enum class Strategy : char {
    full_refresh = 'R',
    full_difference = 'F',
    keyed_recompute = 'K',
    delta = 'D',
};
const char *strategy_name(Strategy s); // "full refresh", "full difference", "keyed recompute", "delta"

struct Plan {
    Strategy strategy;
    const char *reason; // why this strategy (static text or palloc'd)
};

// What the chooser is told of a refresh (or, for pgview_explain, of a change of
// one source).
struct Situation {
    bool table_view;          // else a materialized view
    const char *not_keyed;    // a table view that cannot be refreshed by key: why (nullptr: it can)
    const char *first_fill;   // it must be filled whole first (never filled, a new watch): why
    bool changes_known;       // the changes were collected (else: refresh in full)
    const char *full_reason;  // some change could not be keyed: why
    bool keys;                // changes that only keys describe (a source delta arithmetic does not keep)
    bool deltas;              // changes kept as deltas
    const char *no_delta;     // why the deltas cannot be applied (the view's shape, a rolled-back savepoint, ...)
    bool removed_extremes;    // a row left a group that keeps min or max
    bool one_row;             // the view's key is empty (aggregates without GROUP BY): recomputing its
                              // one key is recomputing the whole query
};

Plan choose(const Situation &s);

} // namespace pgview::engine
