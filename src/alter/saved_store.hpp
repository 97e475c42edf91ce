// pgview_auto — saved dependents between pgview_save_dependents and
// pgview_restore_dependents: rows of pgview_auto.saved_dependent (an extension
// configuration table: pg_dump keeps them), by name only, so they survive a
// later transaction and a dump restored into another database.
//
// What pgview_auto knew about a saved relation goes with it: its watch becomes
// an orphan kept by name (as when a watched matview is dropped; it comes back
// when the relation is made again), its schedule, refresh statistics and
// table-view registration are kept in its row. Read and written as the
// registry owner.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "alter/saved_relation.hpp"

namespace pgview::alter {

struct StoredRelation {
    SavedRelation relation;
    std::vector<std::string> unique_key; // kind definition: the table view's key
    bool keyed = false;                  // ... registered with a key (else compared whole)
    std::string schedule;                // jsonb text, "" for none
    std::string refresh_stats;           // jsonb text, "" for none
};

// Before the relations are dropped: detach what the registry knows about them
// (and about the table views whose definitions they are), keeping it in the
// returned rows; then store them as a new batch (restored before older ones:
// a later save can only hold what earlier saved relations read).
void store(const std::vector<SavedRelation> &saved, const std::string &saved_by);

// Rows belong to the role that saved them (saved_by): each role sees, restores
// and discards its own; a member of that role (a superuser) may discard them.

// Every row `saved_by` saved, in the order to make them again.
std::vector<StoredRelation> load(const std::string &saved_by);

// After the relations are made again (new OIDs by name): registration,
// watch, schedule and statistics come back; the rows go.
void reattach(const std::vector<StoredRelation> &stored, const std::vector<Oid> &created);
void forget_saved(const std::string &saved_by);

// Saved rows of one relation (its saved name) or of all (nullopt) that `role`
// may give up (saved by it or a role it is a member of): (relation, owner).
std::vector<std::pair<std::string, std::string>> saved_owners(const std::optional<std::string> &relation,
                                                                const std::string &role);
int discard_saved(const std::optional<std::string> &relation, const std::string &role);

} // namespace pgview::alter
