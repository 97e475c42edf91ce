// pgview_auto — every refresh, at commit or on demand, goes here.
//
// For each view, in one global order (topological over the watches, then OID)
// so that writers refreshing several views cannot deadlock:
//   1. its changes from the provider (the transaction's change set, or keys
//      claimed from shared memory), and the chooser's plan (engine/plan.hpp);
//   2. the plan's locks (a matview as REFRESH would lock it, a table view's
//      keys or the table), and only then
//   3. the snapshot the refresh reads: in READ COMMITTED a new one, which sees
//      every transaction that committed before the lock was granted (the
//      previous refresher's included);
//   4. the plan's statement as the view's owner (REFRESH, or a statement of
//      engine/statement.hpp run by engine/apply.hpp);
//   5. its figures (pgview_status, pgview_maintenance). In REPEATABLE READ /
//      SERIALIZABLE, the statistics row (or the keys' bucket rows) is claimed
//      before the refresh: a newer refresh by another transaction makes that a
//      serialization failure (40001) instead of a regressed view.
#pragma once

#include <vector>

#include "changes/change_set.hpp"

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
}

namespace pgview::engine {

enum class Origin { commit, prepare, manual, worker, statement };

// -1: use the matview's watch option (or "when possible" if unwatched).
inline constexpr int use_watch_option = -2;

// Where a refresh finds a table view's changes (the transaction's change set
// at commit, the keys claimed from the worker's shared memory): false when none
// were collected for the view (refresh it in full). C-level.
using ChangeProvider = bool (*)(Oid view, changes::ViewChanges *out);

// Refreshes `roots` and, with cascade, every matview watching them (transitively),
// in refresh order. root_concurrently applies to the roots: -1 when possible,
// 0 never, 1 required, use_watch_option. With `deferred`, matviews whose watch
// mode is not 'commit' are appended there instead of refreshed (the background
// worker takes them). A table view refreshed incrementally takes its keys
// from `keys` (nullptr: every refresh is full). Returns the number refreshed.
int refresh_matviews(const std::vector<Oid> &roots, bool cascade, int root_concurrently, Origin origin,
                     std::vector<Oid> *deferred = nullptr, ChangeProvider changes = nullptr);

// The roots and every matview watching them, in refresh order (the global lock order).
std::vector<Oid> cascade_order(const std::vector<Oid> &roots);

} // namespace pgview::engine
