// pgview_auto — what the capture trigger does, for changes that do not pass
// through it.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview::capture {

// Rows of `relid` changed without its capture trigger firing (ATTACH / DETACH
// PARTITION, REFRESH MATERIALIZED VIEW by hand): its watchers are refreshed in
// full, as after a TRUNCATE, in this transaction's way (at commit, or by the
// worker). C++ (errors as pgview::Error).
void changed_in_full(Oid relid);

// The plain capture trigger's share of a change: the views that cannot key
// this table's changes (and with TRUNCATE every view) are marked full.
void capture_unkeyed(Oid table, bool truncate);

} // namespace pgview::capture
