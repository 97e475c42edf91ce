// pgview_auto — what DDL does to the registry: relations dropped (from the
// sql_drop event), a watched relation's watch kept as an orphan by name and
// restored when a relation of that name is made again, names and owners kept
// current. C-level, inside a registry session (session.hpp).
#pragma once

#include "registry/watches.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgview::registry {

// DDL tracking (inside a session, 0.4.0 and later). Arrays are palloc'd in the
// caller's context.
struct DroppedRelation {
    Oid relid;
    char *name; // schema.name, quoted as needed
    bool is_matview; // else a table, a view or a foreign table
};
int ddl_dropped_relations(DroppedRelation **out); // in a sql_drop event trigger
// pgview_drop is dropping: what it drops says goodbye to its watch too (no
// orphan is kept). Set for the DROP statement's lifetime, in this backend.
class WatchesGoWithDrop {
public:
    WatchesGoWithDrop() : previous_(active_) { active_ = true; }
    ~WatchesGoWithDrop() { active_ = previous_; }
    WatchesGoWithDrop(const WatchesGoWithDrop &) = delete;
    WatchesGoWithDrop &operator=(const WatchesGoWithDrop &) = delete;
    static bool active() { return active_; }

private:
    bool previous_;
    static inline bool active_ = false;
};
// A watched matview was dropped: its watch becomes an orphan found again by name
// (requested sources kept by name); its rows and statistics go. Returns its former
// sources and, in *name, the orphan's name.
int registry_orphan(Oid matview, const DroppedRelation *dropped, int ndropped, Oid **old_sources, char **name);
// A source (or requested view) was dropped: its rows go; (matview, source) pairs back.
int registry_forget_source(Oid relid, Oid **matviews, Oid **sources);
// Then the watches of these matviews left with no source go too; their names
// (schema.name) come back in *names (palloc'd).
int registry_forget_empty_watches(const Oid *matviews, int n, char ***names);
// An orphaned watch, by its exact name (schema.name, each part quoted as
// quote_identifier does). Its requested sources come back by name (NULL:
// everything); arrays palloc'd in the caller's context.
struct Orphan {
    Oid owner; // the owner of its matview when dropped; InvalidOid: unknown (orphaned before 0.6.0)
    MatviewOptions options;
    char **requested;
    int nrequested;
};
bool registry_find_orphan(const char *name, Orphan *out);
// A matview of an orphan's name was created: the watch is its again.
bool registry_restore_orphan(Oid matview, const char *name);
void registry_sync_names(void);                       // after RENAME / SET SCHEMA / OWNER TO: names and owners
void registry_rename_schema(const char *old_name, const char *new_name); // orphans follow ALTER SCHEMA RENAME
int registry_remove_orphan(const char *name);         // by its exact name

} // namespace pgview::registry
