// pgview_auto — the owner scope (see owner_scope.hpp).
#include "pg/owner_scope.hpp"

#include <cstring>
#include <exception>

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
}

namespace pgview {

char *pinned_timezone = nullptr; // GUC pgview_auto.timezone (worker/settings.cpp)

namespace {

// What every scope sets. The values are PostgreSQL's defaults where it has one
// that does not depend on the locale; TimeZone is the server-wide
// pgview_auto.timezone (UTC unless the DBA says otherwise).
constexpr Setting pinned[] = {
    {"search_path", "pg_catalog, pg_temp"},
    {"DateStyle", "ISO, MDY"},
    {"IntervalStyle", "postgres"},
    {"extra_float_digits", "1"}, // any value > 0 prints the shortest exact form
    {"bytea_output", "hex"},
    {"lc_monetary", "C"},
    {"lc_numeric", "C"},
};

// C-level. A setting that already has the value is left alone (most sessions
// run with the defaults: nothing to do then); whatever code inside the scope
// sets is rolled back on leaving all the same (AtEOXact_GUC(false, ...) undoes
// every change made at the scope's nesting level and above).
void pin(const char *name, const char *value) {
    const char *current = GetConfigOption(name, true, false);
    if (current != nullptr && strcmp(current, value) == 0)
        return;
    (void) set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

} // namespace

OwnerScope::OwnerScope(Oid role, unsigned flags, std::initializer_list<Setting> extra)
    : exceptions_at_entry_(std::uncaught_exceptions()) {
    GetUserIdAndSecContext(&saved_user_, &saved_context_);
    int context = saved_context_ | SECURITY_LOCAL_USERID_CHANGE;
    if (flags & restricted)
        context |= SECURITY_RESTRICTED_OPERATION;
    // The settings first, as the caller: a setting's check may look at the user.
    guc_level_ = NewGUCNestLevel();
    try {
        pg_call([&extra] {
            for (const Setting &s : pinned)
                pin(s.name, s.value);
            pin("TimeZone", pinned_timezone != nullptr && pinned_timezone[0] != '\0' ? pinned_timezone : "UTC");
            for (const Setting &s : extra)
                pin(s.name, s.value);
        });
    } catch (...) {
        leave(false);
        throw;
    }
    SetUserIdAndSecContext(role, context);
}

OwnerScope::~OwnerScope() { leave(std::uncaught_exceptions() == exceptions_at_entry_); }

void OwnerScope::leave(bool) noexcept {
    // Nothing the owner's code SET inside may reach the caller: roll every
    // setting of this level and above back (as REFRESH MATERIALIZED VIEW does
    // after the owner's query), then the user id and security context.
    if (guc_level_ >= 0)
        AtEOXact_GUC(false, guc_level_);
    guc_level_ = -1;
    SetUserIdAndSecContext(saved_user_, saved_context_);
}

} // namespace pgview
