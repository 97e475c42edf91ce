// pgview_auto — the chooser (see plan.hpp). The order of the tests is the
// order of precedence: a reason to do more work wins over a way to do less.
#include "engine/plan.hpp"

namespace pgview::engine {

const char *strategy_name(Strategy s) {
    switch (s) {
    case Strategy::full_refresh: return "full refresh";
    case Strategy::full_difference: return "full difference";
    case Strategy::keyed_recompute: return "keyed recompute";
    case Strategy::delta: return "delta";
    }
    return "?";
}

Plan choose(const Situation &s) {
    if (!s.table_view)
        return {Strategy::full_refresh, "a materialized view is written only by REFRESH, which recomputes the "
                                        "whole query"};
    if (s.not_keyed != nullptr)
        return {Strategy::full_difference, s.not_keyed};
    if (s.first_fill != nullptr)
        return {Strategy::full_difference, s.first_fill};
    if (!s.changes_known)
        return {Strategy::full_difference, "its changes were not collected by key (a watch through other views, "
                                           "or a change made before the watch)"};
    if (s.full_reason != nullptr)
        return {Strategy::full_difference, s.full_reason};
    if (s.deltas && !s.keys && s.no_delta == nullptr && !s.removed_extremes)
        return {Strategy::delta, "every change is kept as a delta of the view's aggregates"};
    if (s.one_row) // (not a keyed recompute: its one key is every row of the query)
        return {Strategy::full_difference,
                s.no_delta != nullptr ? s.no_delta
                : s.removed_extremes  ? "a row left the view's one row while it keeps min or max: recomputed whole"
                                      : "the view is one row and some change only gives its key: recomputed whole"};
    if (s.deltas && s.no_delta != nullptr)
        return {Strategy::keyed_recompute, s.no_delta};
    if (s.deltas && s.removed_extremes)
        return {Strategy::keyed_recompute, "a row left a group whose min or max it may have been"};
    if (s.deltas)
        return {Strategy::keyed_recompute, "some change came from a source whose changes only give keys"};
    return {Strategy::keyed_recompute, s.no_delta != nullptr ? s.no_delta : "the changes give keys"};
}

} // namespace pgview::engine
