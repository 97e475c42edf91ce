// pgview_auto — running code as another role (see role_context.hpp).
#include "pg/role_context.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
}

namespace pgview {

void enter_role(RoleContext *ctx, Oid role, bool safe_search_path) {
    GetUserIdAndSecContext(&ctx->saved_user, &ctx->saved_sec_context);
    SetUserIdAndSecContext(role, ctx->saved_sec_context | SECURITY_LOCAL_USERID_CHANGE);
    ctx->guc_nest_level = -1;
    if (safe_search_path) {
        ctx->guc_nest_level = NewGUCNestLevel();
        (void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                                 GUC_ACTION_SAVE, true, 0, false);
    }
}

void leave_role(const RoleContext *ctx) {
    if (ctx->guc_nest_level >= 0)
        AtEOXact_GUC(true, ctx->guc_nest_level);
    SetUserIdAndSecContext(ctx->saved_user, ctx->saved_sec_context);
}

} // namespace pgview
