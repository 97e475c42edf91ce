// pgview_auto — registry sessions (see session.hpp).
#include "registry/session.hpp"

#include "registry/statement.hpp"
#include "syscat/relation_info.hpp"
#include "util/version.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "storage/lmgr.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace pgview::registry {

using namespace detail;

namespace {

constexpr const char *registry_schema = "pgview_auto";

Statement installed_version = {
    "SELECT extversion FROM pg_extension WHERE extname = 'pgview_auto'", 0, {}, nullptr};

} // namespace

Oid registry_relid(const char *table) {
    Oid nsp = get_namespace_oid(registry_schema, true);
    return OidIsValid(nsp) ? get_relname_relid(table, nsp) : InvalidOid;
}

bool registry_installed(void) { return OidIsValid(registry_relid("watch")); }

void lock_registry_gate(LOCKMODE mode) {
    Oid watched = registry_relid("watched");
    if (OidIsValid(watched))
        LockRelationOid(watched, mode);
}

Oid registry_owner(void) {
    Oid watched = registry_relid("watched");
    if (!OidIsValid(watched))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("extension \"pgview_auto\" is not installed in this database"),
                        errhint("Run CREATE EXTENSION pgview_auto.")));
    return syscat::relation_owner(watched);
}

void registry_connect(RegistryConnection *c) {
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "pgview_auto: SPI_connect failed");
    c->pushed_snapshot = !ActiveSnapshotSet();
    if (c->pushed_snapshot)
        PushActiveSnapshot(GetTransactionSnapshot());
}

void registry_disconnect(const RegistryConnection *c) {
    if (c->pushed_snapshot)
        PopActiveSnapshot();
    SPI_finish();
}

bool registry_at_least(const char *version) {
    if (run(installed_version, nullptr, nullptr, SPI_OK_SELECT) == 0)
        return false;
    return compare_versions(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), version) >= 0;
}

} // namespace pgview::registry
