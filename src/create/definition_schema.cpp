// pgview_auto — where table views keep their queries (see the header).
#include "create/definition_schema.hpp"
#include "capture/triggers.hpp"
#include "pg/error.hpp"
#include "pg/guard.hpp"
#include "registry/session.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "mb/pg_wchar.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace pgview::create {

namespace {

// The schema, made on first use as the extension's owner: made by an install
// script it would be part of the extension (DROP EXTENSION would take the
// definitions along), or, left out of it by the script, made twice by a
// restore (pg_dump dumps the schema and runs CREATE EXTENSION first). C-level,
// in our turn (with_definition_rights).
Oid ensure_definition_schema() {
    Oid schema = get_namespace_oid(definition_schema, true);
    if (OidIsValid(schema))
        return schema;
    registry::with_registry([] {
        capture::execute_internal_ddl("CREATE SCHEMA pgview_query");
        capture::execute_internal_ddl("GRANT USAGE ON SCHEMA pgview_query TO PUBLIC");
        capture::execute_internal_ddl(
            "COMMENT ON SCHEMA pgview_query IS 'pgview_auto: the queries of table views (one view per table view)'");
    });
    CommandCounterIncrement();
    return get_namespace_oid(definition_schema, false);
}

} // namespace

std::string free_definition_name(Oid schema, const std::string &table_name) {
    const char *name = pg_call([schema, &table_name] {
        for (int n = 1;; n++) {
            char suffix[16] = "";
            if (n > 1)
                snprintf(suffix, sizeof suffix, "_%d", n);
            int room = NAMEDATALEN - 1 - static_cast<int>(strlen(suffix));
            int keep = pg_mbcliplen(table_name.c_str(), static_cast<int>(table_name.size()), room);
            char *candidate = psprintf("%.*s%s", keep, table_name.c_str(), suffix);
            if (!OidIsValid(get_relname_relid(candidate, schema)))
                return static_cast<const char *>(candidate);
        }
    });
    return name;
}

void with_definition_rights(const std::function<void(Oid schema)> &body) {
    Oid schema = InvalidOid;
    bool granted = pg_call([&schema] {
        // A lock PostgreSQL itself never takes (on schema OID 0): it only
        // orders the sessions that make the schema, grant and revoke here.
        LockDatabaseObject(NamespaceRelationId, InvalidOid, 0, ShareUpdateExclusiveLock);
        schema = ensure_definition_schema();
        if (pg_namespace_aclcheck(schema, ACL_ID_PUBLIC, ACL_CREATE) == ACLCHECK_OK)
            return false; // granted for good by someone: nothing to take back
        registry::with_registry(
            [] { capture::execute_internal_ddl("GRANT CREATE ON SCHEMA pgview_query TO PUBLIC"); });
        CommandCounterIncrement();
        return true;
    });
    body(schema);
    if (granted)
        pg_call([] {
            registry::with_registry(
                [] { capture::execute_internal_ddl("REVOKE CREATE ON SCHEMA pgview_query FROM PUBLIC"); });
            CommandCounterIncrement();
        });
}

} // namespace pgview::create
