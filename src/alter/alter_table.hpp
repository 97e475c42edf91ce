// pgview_auto — pgview_alter: one ALTER TABLE, with exactly the views,
// materialized views and table views that read the columns it changes (and
// what reads those) saved, dropped, and made again around it, in the caller's
// transaction, with the caller's rights for the ALTER itself.
//
// Order of work: check the statement (nothing runs before); check the caller
// owns the table; find the dependents and check everything about them
// (privileges, objects that would block their DROP, dropped columns they
// read); lock them (dependents first, as readers lock them) and then the
// table, and look again; save, drop, ALTER, recreate, move the registry,
// refresh. Any error aborts the whole: nothing of it is left.
#pragma once

#include <string>

#include "alter/rebuild.hpp"

namespace pgview::alter {

// With dry_run, the rows that would be produced; nothing is locked or changed.
ActionRows alter_table(const std::string &statement, bool dry_run);

} // namespace pgview::alter
