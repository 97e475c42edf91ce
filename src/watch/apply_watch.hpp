// pgview_auto — recording one watch: resolve its sources on the dependency
// graph, replace its registry rows, put capture triggers where they are needed
// and take them away where they no longer are. Used by pgview_watch and by the
// DDL event triggers (re-resolving after CREATE OR REPLACE VIEW, restoring an
// orphaned watch).
#pragma once

#include <optional>
#include <string>

#include "watch/registry.hpp"

namespace pgview::watch {

// The relation as regclass prints it (quoted, qualified when not on search_path).
std::string relation_name(Oid relid);

// Throws pgview::Error for a source that reaches no table (55000), a cycle of
// cascades (42P19), or (with check_privileges) a captured table the current user
// lacks TRIGGER privilege on (42501).
void apply_watch(Oid matview, std::optional<Oid> requested, const MatviewOptions &options,
                 bool check_privileges);

// The orphaned watch of matview's name, if there is one (its matview was
// dropped while watched), comes back on matview with its options and sources;
// NOTICE. Called for a new materialized view or table view.
void restore_orphan(Oid matview);

} // namespace pgview::watch
