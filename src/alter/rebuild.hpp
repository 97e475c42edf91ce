// pgview_auto — dropping saved relations and making them again, in the
// caller's transaction: dependents first for dropping, dependencies first for
// creating; then everything each one had (saved_relation.hpp); then the data
// (a matview that was populated, and every table view whose definition was
// rebuilt, is refreshed through the refresher: statistics count it).
//
// A table view keeps its table and data; only its definition view is rebuilt.
// When the new definition gives a column another type, the table's column
// follows (ALTER TABLE ... TYPE ... USING, as its owner), and what reads that
// column is rebuilt around it in turn.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "alter/dependents.hpp"
#include "alter/saved_relation.hpp"
#include "create/sql_runner.hpp"

namespace pgview::alter {

struct ActionRow {
    std::string relation;
    std::string kind;
    std::string action;
};
using ActionRows = std::vector<ActionRow>;

// What a caller of a rebuild wants said in errors.
struct Wording {
    std::string who;          // "pgview_alter", "pgview_restore_dependents", ...
    std::string create_hint;  // for a relation that cannot be created again
};

void drop_saved(const std::vector<SavedRelation> &saved, const Wording &wording);

// Returns the new OIDs, in the order of `saved`; a row for each relation.
std::vector<Oid> recreate_saved(create::SqlRunner &sql, const std::vector<SavedRelation> &saved,
                                const Wording &wording, ActionRows &rows);

// Table views whose definition was made again get the primary key their key
// deserves now (create/primary_key.hpp), before they are refreshed.
void sync_primary_keys(create::SqlRunner &sql, const std::vector<SavedRelation> &saved);
void populate(const std::vector<SavedRelation> &saved, const std::vector<Oid> &created, ActionRows &rows);

// The whole cycle within one transaction: save the plan's relations, drop
// them, run `change`, create them again, move their registry rows (and, at
// COMMIT, pending background refreshes) to the new OIDs, refresh.
void rebuild_around(create::SqlRunner &sql, const Plan &plan, const std::function<void()> &change,
                    const Wording &wording, ActionRows &rows);

} // namespace pgview::alter
