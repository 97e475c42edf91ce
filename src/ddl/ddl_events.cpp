// pgview_auto — keeping the registry right through DDL (event triggers).
//
// ddl_command_end (only for the tags named in the extension script; the parse
// tree says at once whether a command matters, so unrelated DDL costs nothing):
//   CREATE MATERIALIZED VIEW     an orphaned watch of that name comes back (a new
//                                table view gets it in pgview_create)
//   CREATE OR REPLACE VIEW       watched matviews above the view re-resolve their sources
//   CREATE TABLE ... PARTITION OF / INHERITS, ALTER TABLE ... ATTACH / DETACH
//   PARTITION, INHERIT / NO INHERIT
//                                the child gains or loses its capture trigger
//   RENAME, SET SCHEMA, OWNER TO the registry keeps the matview's new name and owner
//   ALTER SCHEMA ... RENAME      orphaned watches follow the schema's new name
//   CREATE TRIGGER pgview_auto_capture (pg_restore)  it goes with the extension again
// ddl_command_start (DROP EXTENSION only):
//   DROP EXTENSION pgview_auto  its table views stay as plain tables (NOTICE)
// sql_drop:
//   a watched matview            its watch becomes orphaned (kept by name, NOTICE);
//                                its schedule and statistics go; dropped by
//                                pgview_drop, its watch goes too (NOTICE)
//   a source table or view       the watches on it go (NOTICE); triggers follow;
//                                a watch left with no source goes (NOTICE)
//   a table view's definition    alone: the table is a plain table, its watch,
//                                schedule and statistics go (NOTICE)
// Everything runs in the DDL's own transaction: it succeeds with the registry
// right, or fails whole.
#include <optional>
#include <string>
#include <vector>

#include "graph/dependency_graph.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "pg/owner_scope.hpp"
#include "syscat/catalog_reader.hpp"
#include "syscat/relation_info.hpp"
#include "tableview/table_view_registry.hpp"
#include "watch/apply_watch.hpp"
#include "capture/changed.hpp"
#include "capture/triggers.hpp"
#include "registry/events.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"
#include "registry/watch_cache.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/lsyscache.h"
}

using pgview::Error;
using pgview::pg_call;
namespace watch = pgview::watch;
namespace capture = pgview::capture;
namespace registry = pgview::registry;
namespace graph = pgview::graph;
namespace tableview = pgview::tableview;
namespace syscat = pgview::syscat;

namespace {

Oid relation_of(RangeVar *rv) {
    return pg_call([rv] { return RangeVarGetRelid(rv, NoLock, true); });
}

// CREATE OR REPLACE VIEW: the watched matviews above it resolve their sources
// again. A table newly found is captured only if the matview's owner may put a
// trigger on it (else a WARNING): the DDL's user and the registry owner lend
// no rights to someone else's watch, and the DDL never fails for it.
void rewatch_above(Oid view) {
    std::vector<Oid> watched;
    graph::DependencyGraph g = pgview::syscat::read_dependency_graph();
    if (!g.contains(view))
        return;
    for (const graph::Reached &r : g.dependents(view, true))
        if (g.kind(r.id) == graph::Kind::materialized_view &&
            pg_call([&r] { return registry::options_of(r.id) != nullptr; }))
            watched.push_back(r.id);
    for (Oid matview : watched) {
        Oid *requests = nullptr;
        registry::MatviewOptions options{};
        int n = pg_call([&] {
            options = *registry::options_of(matview);
            int count = registry::with_registry([&] { return registry::registry_requests(matview, &requests); });
            return count;
        });
        for (int i = 0; i < n; i++)
            watch::apply_watch(matview, OidIsValid(requests[i]) ? std::optional<Oid>(requests[i]) : std::nullopt,
                               options, watch::PrivilegeCheck::owner_skips);
    }
}

// The tables an ALTER TABLE attaches a partition to or detaches one from: their
// rows changed without their capture trigger (C-level).
List *partitions_moved_under(AlterTableStmt *stmt) {
    List *parents = NIL;
    ListCell *lc;
    foreach (lc, stmt->cmds) {
        auto *cmd = static_cast<AlterTableCmd *>(lfirst(lc));
        if (cmd->subtype != AT_AttachPartition && cmd->subtype != AT_DetachPartition &&
            cmd->subtype != AT_DetachPartitionFinalize)
            continue;
        Oid parent = RangeVarGetRelid(stmt->relation, NoLock, true);
        if (OidIsValid(parent))
            parents = list_append_unique_oid(parents, parent);
    }
    return parents;
}

// C-level: the commands of an ALTER TABLE that change a table's ancestors
// (partitions attached or detached, INHERIT / NO INHERIT), synced one by one.
void sync_partitions_of(AlterTableStmt *stmt) {
    ListCell *lc;
    foreach (lc, stmt->cmds) {
        auto *cmd = static_cast<AlterTableCmd *>(lfirst(lc));
        RangeVar *child;
        if (cmd->subtype == AT_AttachPartition || cmd->subtype == AT_DetachPartition ||
            cmd->subtype == AT_DetachPartitionFinalize)
            child = reinterpret_cast<PartitionCmd *>(cmd->def)->name;
        else if (cmd->subtype == AT_AddInherit || cmd->subtype == AT_DropInherit)
            child = stmt->relation;
        else
            continue;
        Oid table = RangeVarGetRelid(child, NoLock, true);
        if (!OidIsValid(table))
            continue;
        registry::with_registry([&] {
            capture::sync_capture_trigger(table);
        });
    }
}

bool changes_owner(AlterTableStmt *stmt) {
    ListCell *lc;
    foreach (lc, stmt->cmds)
        if (static_cast<AlterTableCmd *>(lfirst(lc))->subtype == AT_ChangeOwner)
            return true;
    return false;
}

void sync_one(Oid table) {
    registry::with_registry([&] {
        capture::sync_capture_trigger(table);
    });
}

// After RENAME, SET SCHEMA, OWNER TO; ALTER SCHEMA ... RENAME also carries the
// orphans (and their requested sources, kept by name) to the new schema name.
void sync_names(RenameStmt *schema_renamed = nullptr) {
    registry::with_registry([&] {
        registry::registry_sync_names();
        if (schema_renamed != nullptr)
            registry::registry_rename_schema(schema_renamed->subname, schema_renamed->newname);
    });
}

// The definition view of a dropped table view, if this DROP did not take it
// already: as its owner, marked as our own DDL (our triggers skip it).
void drop_definition(Oid definition) {
    if (get_rel_relkind(definition) == '\0')
        return;
    pgview::run_as_owner(syscat::relation_owner(definition), pgview::OwnerScope::plain, [definition] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "pgview_auto: SPI_connect failed");
        capture::execute_internal_ddl(psprintf("DROP VIEW %s", pgview::quote_relation(definition)));
        SPI_finish();
    });
}

// A table view whose definition was dropped alone is a plain table now, which
// nothing refreshes: its watch, schedule and statistics go with the definition
// (capture triggers follow, without waiting inside the user's DDL). NOTICE.
// C-level.
void forget_former_table_view(Oid table) {
    int n{};
    bool scheduled{};
    registry::with_registry([&] {
        Oid *sources;
        int vanished;
        n = registry::registry_remove(table, InvalidOid, &sources, &vanished);
        scheduled = registry::registry_remove_schedule(table);
        registry::stats_forget(table);
        CommandCounterIncrement();
        for (int i = 0; i < n; i++)
            if (get_rel_relkind(sources[i]) != '\0' && get_rel_relkind(sources[i]) != RELKIND_MATVIEW)
                capture::sync_capture_trigger(sources[i]);
    });
    const char *gone = n > 0 && scheduled ? "Its watch and its schedule were removed."
                       : n > 0            ? "Its watch was removed."
                       : scheduled        ? "Its schedule was removed."
                                          : nullptr;
    registry::report_event(
        NOTICE, {"table view ended", pgview::quote_relation(table), syscat::relation_owner(table),
                 psprintf("pgview_auto: table \"%s\" is no longer a table view: its definition was dropped",
                          get_rel_name(table)),
                 gone,
                 "pgview_create(..., kind => 'table view', or_replace => true) cannot restore it; "
                 "drop the table and create the table view again."});
}

// The owner of a relation named as the registry keeps names (schema.name,
// quoted), or InvalidOid when there is none. C-level.
Oid owner_of_named(const char *name) {
    Oid relid = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(name)), NoLock, true);
    return OidIsValid(relid) ? syscat::relation_owner(relid) : InvalidOid;
}

// DROP EXTENSION pgview_auto is about to run: the table views it leaves behind
// stay as plain tables, each with its definition view. Say which (C-level).
void notice_table_views_left() {
    registry::with_registry([&] {
        if (SPI_execute("SELECT pg_catalog.count(*), pg_catalog.string_agg(relation::text, ', ' ORDER BY relation::text) "
                        "FROM pgview_auto.table_view",
                        true, 0) != SPI_OK_SELECT)
            elog(ERROR, "pgview_auto: reading pgview_auto.table_view failed");
        bool isnull;
        int64 n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        char *names = n > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2) : nullptr;
        if (n > 0)
            ereport(NOTICE, (errmsg("pgview_auto: %lld table view%s will stay as plain table%s: %s", (long long) n,
                                    n == 1 ? "" : "s", n == 1 ? "" : "s", names),
                             errdetail("Each keeps its rows and its definition view (in schema pgview_query); "
                                       "nothing refreshes them without the extension."),
                             errhint("Drop them first with pgview_drop, or drop the tables and the views of "
                                     "schema pgview_query afterwards.")));
    });
}

// DROP EXTENSION pgview_auto is about to run: pgview_query, which is not part
// of the extension (create/definition_schema.hpp), goes with it when nothing
// is left in it. C-level.
void drop_empty_definition_schema() {
    Oid schema = get_namespace_oid("pgview_query", true);
    if (!OidIsValid(schema))
        return;
    registry::with_registry([schema] {
        Datum arg = ObjectIdGetDatum(schema);
        Oid type = OIDOID;
        if (SPI_execute_with_args("SELECT FROM pg_catalog.pg_depend WHERE refclassid OPERATOR(pg_catalog.=) "
                                  "'pg_catalog.pg_namespace'::pg_catalog.regclass AND refobjid OPERATOR(pg_catalog.=) $1 "
                                  "AND deptype OPERATOR(pg_catalog.=) 'n' LIMIT 1",
                                  1, &type, &arg, nullptr, true, 1) != SPI_OK_SELECT)
            elog(ERROR, "pgview_auto: reading pg_depend failed");
        if (SPI_processed == 0)
            capture::execute_internal_ddl("DROP SCHEMA pgview_query");
    });
}

bool drops_this_extension(DropStmt *stmt) {
    if (stmt->removeType != OBJECT_EXTENSION)
        return false;
    ListCell *lc;
    foreach (lc, stmt->objects)
        if (strcmp(strVal(lfirst(lc)), "pgview_auto") == 0)
            return true;
    return false;
}

} // namespace

// ddl_command_start, for DROP EXTENSION only (the tag filter of the event trigger).
PGVIEW_FUNCTION(pgview_on_ddl_command_start) {
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
        throw Error("39P01", "pgview_auto.on_ddl_command_start() must be called as an event trigger");
    auto *trigger = reinterpret_cast<EventTriggerData *>(fcinfo->context);
    if (!IsA(trigger->parsetree, DropStmt) || !drops_this_extension(reinterpret_cast<DropStmt *>(trigger->parsetree)))
        PG_RETURN_VOID();
    pg_call([] { registry::lock_registry_gate(AccessExclusiveLock); }); // before anything is dropped
    if (pg_call([] { return OidIsValid(registry::registry_relid("table_view")); }))
        pg_call([] { notice_table_views_left(); });
    pg_call([] { drop_empty_definition_schema(); });
    PG_RETURN_VOID();
}

PGVIEW_FUNCTION(pgview_on_ddl_command_end) {
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
        throw Error("39P01", "pgview_auto.on_ddl_command_end() must be called as an event trigger");
    if (capture::in_internal_ddl())
        PG_RETURN_VOID();
    auto *trigger = reinterpret_cast<EventTriggerData *>(fcinfo->context);
    Node *parsetree = trigger->parsetree;
    switch (nodeTag(parsetree)) {
    case T_CreateTableAsStmt: {
        auto *stmt = reinterpret_cast<CreateTableAsStmt *>(parsetree);
        if (stmt->objtype == OBJECT_MATVIEW) {
            Oid matview = relation_of(stmt->into->rel);
            if (OidIsValid(matview))
                watch::restore_orphan(matview);
        }
        break;
    }
    case T_ViewStmt: {
        auto *stmt = reinterpret_cast<ViewStmt *>(parsetree);
        if (stmt->replace) { // a new view has no matview above it yet
            Oid view = relation_of(stmt->view);
            if (OidIsValid(view))
                rewatch_above(view);
        }
        break;
    }
    case T_CreateStmt: {
        auto *stmt = reinterpret_cast<CreateStmt *>(parsetree);
        if (stmt->partbound != nullptr || stmt->inhRelations != NIL) { // a partition, or an inheritance child
            Oid partition = relation_of(stmt->relation);
            if (OidIsValid(partition))
                pg_call([partition] { sync_one(partition); });
        }
        break;
    }
    case T_AlterTableStmt: {
        List *moved = pg_call([parsetree] {
            auto *stmt = reinterpret_cast<AlterTableStmt *>(parsetree);
            sync_partitions_of(stmt);
            if (changes_owner(stmt))
                sync_names(); // the registry keeps the owner of each watch (its orphan's owner)
            return partitions_moved_under(stmt);
        });
        // A partition attached or detached: the parent's rows changed, and no
        // capture trigger saw it. Its watchers are refreshed in full.
        ListCell *lc;
        foreach (lc, moved)
            capture::changed_in_full(lfirst_oid(lc));
        break;
    }
    case T_RefreshMatViewStmt: {
        // REFRESH MATERIALIZED VIEW by hand (our own refreshes do not pass
        // here): what watches the matview is refreshed in turn. WITH NO DATA
        // leaves nothing to read.
        auto *stmt = reinterpret_cast<RefreshMatViewStmt *>(parsetree);
        Oid matview = relation_of(stmt->relation);
        if (OidIsValid(matview) && !stmt->skipData)
            capture::changed_in_full(matview);
        break;
    }
    case T_RenameStmt: {
        auto *stmt = reinterpret_cast<RenameStmt *>(parsetree);
        pg_call([stmt] { sync_names(stmt->renameType == OBJECT_SCHEMA ? stmt : nullptr); });
        break;
    }
    case T_AlterObjectSchemaStmt:
        pg_call([] { sync_names(); });
        break;
    case T_CreateTrigStmt: {
        auto *stmt = reinterpret_cast<CreateTrigStmt *>(parsetree);
        if (capture::is_capture_trigger_name(stmt->trigname)) {
            Oid table = relation_of(stmt->relation);
            if (OidIsValid(table))
                pg_call([table] { capture::adopt_capture_trigger(table); });
        }
        break;
    }
    default:
        break;
    }
    PG_RETURN_VOID();
}

PGVIEW_FUNCTION(pgview_on_sql_drop) {
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
        throw Error("39P01", "pgview_auto.on_sql_drop() must be called as an event trigger");
    if (capture::in_internal_ddl())
        PG_RETURN_VOID();
    registry::DroppedRelation *dropped = nullptr;
    int ndropped = 0;
    pg_call([&dropped, &ndropped] {
        registry::with_registry([&] {
            ndropped = registry::ddl_dropped_relations(&dropped);
            // Watched matviews first: their watches become orphans, by name.
            for (int i = 0; i < ndropped; i++) {
                Oid relid = dropped[i].relid;
                // Only these two can be watched or scheduled.
                const char *noun = dropped[i].is_matview ? "materialized view" : "table view";
                if (registry::registry_is_watched(relid) && registry::WatchesGoWithDrop::active()) {
                    // pgview_drop: the watch goes with the view (no orphan).
                    Oid *old_sources;
                    int vanished;
                    int n = registry::registry_remove(relid, InvalidOid, &old_sources, &vanished);
                    registry::stats_forget(relid);
                    registry::report_event(
                        NOTICE, {"watch removed", dropped[i].name, InvalidOid,
                                 psprintf("pgview_auto: %s %s was dropped with pgview_drop; its watch was removed",
                                          noun, dropped[i].name),
                                 nullptr, nullptr});
                    CommandCounterIncrement();
                    for (int j = 0; j < n; j++)
                        if (get_rel_relkind(old_sources[j]) != '\0' && get_rel_relkind(old_sources[j]) != RELKIND_MATVIEW)
                            capture::sync_capture_trigger(old_sources[j]);
                } else if (registry::registry_is_watched(relid)) {
                    Oid *old_sources;
                    char *name;
                    int n = registry::registry_orphan(relid, dropped, ndropped, &old_sources, &name);
                    registry::Orphan orphan{};
                    Oid owner = registry::registry_find_orphan(name, &orphan) ? orphan.owner : InvalidOid;
                    registry::report_event(
                        NOTICE, {"watch orphaned", name, owner,
                                 psprintf("pgview_auto: %s %s was dropped; its watch is kept as orphaned", noun, name),
                                 "It comes back when a materialized view or a table view of that name is created.",
                                 psprintf("pgview_unwatch('%s') removes it.", name)});
                    CommandCounterIncrement();
                    for (int j = 0; j < n; j++)
                        if (get_rel_relkind(old_sources[j]) != '\0' && get_rel_relkind(old_sources[j]) != RELKIND_MATVIEW)
                            capture::sync_capture_trigger(old_sources[j]);
                } else {
                    registry::stats_forget(relid);
                }
                if (registry::registry_remove_schedule(relid))
                    registry::report_event(NOTICE, {"schedule removed", dropped[i].name, InvalidOid,
                                                    psprintf("pgview_auto: schedule of dropped %s %s removed", noun,
                                                             dropped[i].name),
                                                    nullptr, nullptr});
            }
            // Then sources: the watches on them go.
            for (int i = 0; i < ndropped; i++) {
                Oid *matviews, *sources;
                int n = registry::registry_forget_source(dropped[i].relid, &matviews, &sources);
                if (n > 0)
                    registry::report_event(
                        NOTICE, {"watch removed", dropped[i].name, syscat::relation_owner(matviews[0]),
                                 psprintf("pgview_auto: %s was dropped; %d watch%s on it removed", dropped[i].name, n,
                                          n == 1 ? "" : "es"),
                                 nullptr, nullptr});
                CommandCounterIncrement();
                // A watch left with no source at all (it named this one) goes too.
                char **unwatched;
                int nunwatched = n > 0 ? registry::registry_forget_empty_watches(matviews, n, &unwatched) : 0;
                for (int j = 0; j < nunwatched; j++)
                    registry::report_event(
                        NOTICE, {"watch removed", unwatched[j], owner_of_named(unwatched[j]),
                                 psprintf("pgview_auto: %s watches nothing any more; its watch was removed",
                                          unwatched[j]),
                                 psprintf("Its last source, %s, was dropped.", dropped[i].name),
                                 psprintf("pgview_watch(%s, ...) watches it again.",
                                          quote_literal_cstr(unwatched[j]))});
                for (int j = 0; j < n; j++)
                    if (get_rel_relkind(sources[j]) != '\0' && get_rel_relkind(sources[j]) != RELKIND_MATVIEW)
                        capture::sync_capture_trigger(sources[j]);
            }
        });
    });
    // Table views: the table takes its definition view with it; a definition
    // dropped alone (DROP VIEW, or CASCADE from a table it read) leaves a plain table.
    for (int i = 0; i < ndropped; i++) {
        tableview::TableView tv = tableview::forget(dropped[i].relid);
        if (tv.table == dropped[i].relid)
            pg_call([&tv] { drop_definition(tv.definition); });
        else if (tv.definition == dropped[i].relid && OidIsValid(tv.table))
            pg_call([&tv] {
                if (get_rel_relkind(tv.table) != '\0') // not dropped by the same command
                    forget_former_table_view(tv.table);
            });
    }
    PG_RETURN_VOID();
}
