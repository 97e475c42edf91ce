// pgview_auto — recording one watch: resolve its sources on the dependency
// graph, replace its registry rows, put capture triggers where they are needed
// and take them away where they no longer are. Used by pgview_watch and by the
// DDL event triggers (re-resolving after CREATE OR REPLACE VIEW, restoring an
// orphaned watch).
#pragma once

#include <optional>
#include <string>

#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"

namespace pgview::watch {


// Whose TRIGGER privilege a watch needs on what it attaches work to (the
// tables it captures, the matview sources whose refreshes refresh it).
enum class PrivilegeCheck {
    caller,      // pgview_watch: the caller's, on everything; one missing is an error (42501)
    owner_skips, // re-resolving in someone's DDL: the matview owner's, on newly found sources;
                 // one it lacks is left out (WARNING), the DDL goes on
    none,        // checked already (restoring an orphan)
};

// Throws pgview::Error for a source that reaches no table (55000), a cycle of
// cascades (42P19), or (PrivilegeCheck::caller) a missing privilege (42501).
void apply_watch(Oid matview, std::optional<Oid> requested, const registry::MatviewOptions &options, PrivilegeCheck check);

// The orphaned watch of this relation's name, if there is one (a watched
// matview or table view of that name was dropped), comes back with its options
// and sources (NOTICE), when the relation is a materialized view or a table
// view owned by the orphan's owner who may put a trigger on every table the
// watch would capture; else the orphan stays (NOTICE saying why).
void restore_orphan(Oid relid);

} // namespace pgview::watch
