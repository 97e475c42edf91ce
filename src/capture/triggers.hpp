// pgview_auto — creating and dropping the capture triggers on a source table
// (and its partitions and inheritance children: statement triggers fire only for
// statements naming the table itself). C-level, inside a registry session.
//
// Every captured table has:
//   pgview_auto_capture   AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE FOR EACH
//                         STATEMENT, ENABLE ALWAYS: marks the table dirty;
//   pgview_auto_replica   AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW, ENABLE
//                         REPLICA (leaf tables only): logical replication's apply
//                         workers fire row triggers only; dirty mark and keys;
// and a table some incremental view derives keys from also has
//   pgview_auto_keys_insert / _update / _delete  AFTER ... FOR EACH STATEMENT
//                         with transition tables: the changed rows' keys.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
}

namespace pgview::capture {

inline constexpr const char *capture_trigger_name = "pgview_auto_capture";
inline constexpr const char *replica_trigger_name = "pgview_auto_replica";
inline constexpr const char *guard_trigger_name = "pgview_auto_guard";

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

// pgview_auto.sync_capture_triggers(): each table synced as above, and each
// table view guarded, but a trigger is created only where the table's lock is
// free at once (never queued behind its writers); the tables left for a later
// call come back.
List *repair_capture_triggers(const List *tables, const List *table_views);

// Tables among `source` and its partitions (and the inheritance children
// `watcher` may put a trigger on) that carry no enabled capture trigger: their
// changes reach no view (the table's owner dropped or disabled it, or the
// watcher lost TRIGGER on it). Empty for a matview.
List *uncaptured_tables(Oid source, Oid watcher);

// True while we run our own CREATE/DROP TRIGGER: our event triggers ignore it.
bool in_internal_ddl(void);
// Runs a utility statement through SPI (connected) as our own DDL. C-level.
void execute_internal_ddl(const char *sql);

// Our triggers on table (each named as above, running our function) go with the
// extension (DROP EXTENSION needs no CASCADE): records that dependency where
// missing (pg_restore recreates the triggers without it).
void adopt_capture_trigger(Oid table);
bool is_capture_trigger_name(const char *name); // (the guard's name too: adopted alike)

// A table view's write guard (tableview/write_guard.hpp), made where missing
// and adopted by the extension. C-level, SPI connected.
void guard_table_view(Oid table);

} // namespace pgview::capture
