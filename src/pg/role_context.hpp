// pgview_auto — running code as another role.
//
// Our own SQL on the registry runs as the registry's owner with
// search_path = pg_catalog, pg_temp, so no function or operator a user creates
// in their own schema can stand in for the ones we mean. A refresh runs as the
// matview's owner (ExecRefreshMatView then adds SECURITY_RESTRICTED_OPERATION).
// C-level (may ereport); an error leaves the restore to transaction abort, which
// resets the user ID and GUC nesting itself.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview {

struct RoleContext {
    Oid saved_user;
    int saved_sec_context;
    int guc_nest_level;
};

// Switch to `role` (SECURITY_LOCAL_USERID_CHANGE); with safe_search_path, also
// set search_path to pg_catalog, pg_temp until leave_role.
void enter_role(RoleContext *ctx, Oid role, bool safe_search_path);
void leave_role(const RoleContext *ctx);

} // namespace pgview
