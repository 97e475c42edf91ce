// pgview_auto — pgview_save_dependents and pgview_restore_dependents, for
// migration tools that run their own DDL in between: save (as SQL, by name)
// and drop what reads some columns of a relation, then make it all again in
// this or a later transaction (or after pg_dump / pg_restore of the database).
#pragma once

#include <optional>
#include <string>
#include <vector>

extern "C" {
#include "postgres.h"
}

namespace pgview::alter {

// columns: nullopt for everything that reads rel. Returns the relations saved.
int save_dependents(Oid rel, const std::optional<std::vector<std::string>> &columns);
// Returns the relations made again.
int restore_dependents();
// Saved relations given up: one (by its saved name) or all. Returns how many.
int discard_dependents(const std::optional<std::string> &relation);

} // namespace pgview::alter
