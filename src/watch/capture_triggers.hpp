// pgview_auto — creating and dropping the capture trigger on a source table
// (and its partitions: statement triggers of a partitioned table fire only for
// statements naming the parent). C-level, inside a registry session.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview::watch {

inline constexpr const char *capture_trigger_name = "pgview_auto_capture";

// Tables that get a capture trigger for `table`: itself and every partition.
// Palloc'd array; also locks them (ShareRowExclusiveLock, as CREATE TRIGGER does).
int capture_targets(Oid table, Oid **targets);

// Make the triggers of table and its partitions match the registry: present
// while some watch names the table or one of its ancestors, absent otherwise.
// An unneeded trigger is dropped only if the table's lock is free at once
// (never queued behind its readers and writers); else it stays, capturing
// nothing, until a later sync.
void sync_capture_trigger(Oid table);

// Every capture trigger of the database no watch needs any more goes.
void sync_all_capture_triggers(void);

// True while we run our own CREATE/DROP TRIGGER: our event triggers ignore it.
bool in_internal_ddl(void);
// Runs a utility statement through SPI (connected) as our own DDL. C-level.
void execute_internal_ddl(const char *sql);

// A trigger named capture_trigger_name on table that runs our capture function
// goes with the extension (DROP EXTENSION needs no CASCADE): records that
// dependency if missing (pg_restore recreates the triggers without it).
void adopt_capture_trigger(Oid table);

} // namespace pgview::watch
