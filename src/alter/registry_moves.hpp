// pgview_auto — what pgview_auto knows about a rebuilt relation follows it to
// its new OID, within the transaction that rebuilt it: its watch (options,
// sources, cascades through it), schedule, statistics and table-view
// registration. No watch turns orphan and back, no statistic is lost.
// The background worker's pending state, in shared memory and not
// transactional, follows at COMMIT: a rebuilt async or manual matview is
// marked dirty then (writers that committed while it was rebuilt are not lost).
#pragma once

#include <utility>
#include <vector>

extern "C" {
#include "postgres.h"
}

namespace pgview::alter {

using Moves = std::vector<std::pair<Oid, Oid>>; // (old OID, new OID)

void repoint_registry(const Moves &moves);
void move_pending_at_commit(const Moves &moves);

} // namespace pgview::alter
