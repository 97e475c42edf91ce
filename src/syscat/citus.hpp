// pgview_auto — whether a table is Citus's (distributed, reference or Citus
// local). Citus runs the DML of its tables through its own executor: a statement
// trigger on the coordinator's shell table never fires, and the triggers copied
// to the shards fire on the workers under the shards' OIDs. Until capture works
// there, watching such a table would leave its views silently stale; pgview_watch
// refuses it (watch/apply_watch.cpp). C-level.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview::syscat {

// The table's distribution method as pg_dist_partition has it ('h' hash, 'n'
// none: a reference or Citus local table, ...), '\0' when it is not a Citus
// table or Citus is not installed in this database.
char citus_partition_method(Oid relid);

} // namespace pgview::syscat
