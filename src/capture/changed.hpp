// pgview_auto — what the capture trigger does, for changes that do not pass
// through it.
#pragma once

extern "C" {
#include "postgres.h"
#include "commands/trigger.h"
#include "utils/rel.h"
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

// The end of a statement's capture on a table: the last of our statement
// triggers for its event has collected its changes. What runs then (views in
// mode 'immediate', commit/immediate.hpp) is registered from above, so that
// capture depends on nothing above it. C++ (the callback may throw).
using StatementEnd = void (*)();
void on_statement_end(StatementEnd callback); // from _PG_init
// From a capture trigger: whether one of our statement triggers for this event
// fires after it on this table (then that one ends the statement's capture).
bool keys_trigger_follows(Relation rel, TriggerEvent event);
void statement_captured();

} // namespace pgview::capture
