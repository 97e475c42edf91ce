// pgview_auto — a user's event trigger that refuses DDL (a common guard: "no
// DDL outside migrations") must not make writes fail. REFRESH MATERIALIZED
// VIEW CONCURRENTLY is implemented with DDL (CREATE TEMP TABLE ... AS, DROP
// TABLE), which such a trigger sees; a plain REFRESH and our table-view
// statements use none. So a refresh at write time (commit, PREPARE, the
// worker) is plain while such a trigger exists, and pgview_watch refuses
// concurrently => true naming it. C-level.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview::engine {

// The name of an enabled event trigger, not ours, that would fire for the DDL
// REFRESH ... CONCURRENTLY runs; nullptr when there is none.
const char *ddl_guard_in_the_way(void);

} // namespace pgview::engine
