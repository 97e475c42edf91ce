// pgview_auto — the one way to run anything as another role (the owner scope).
//
// Every refresh (each mode and strategy), key capture and key function, cascade,
// worker job, registry access, pgview_alter rebuild and capture-trigger sync
// runs inside an OwnerScope. Entering it:
//   * switches the user id (SECURITY_LOCAL_USERID_CHANGE, so nothing inside can
//     SET ROLE elsewhere; `restricted` adds SECURITY_RESTRICTED_OPERATION, as
//     REFRESH MATERIALIZED VIEW does for the owner's query);
//   * sets search_path = pg_catalog, pg_temp: SQL and PL/pgSQL function bodies
//     are parsed at run time with the current search_path, so the caller's
//     must never pick the functions and operators that run with these rights;
//   * pins the settings that change what a query returns as text (DateStyle,
//     IntervalStyle, TimeZone, extra_float_digits, bytea_output, lc_monetary,
//     lc_numeric): a key computed at capture and the same key computed by the
//     refresh must agree whoever the writer is and whatever they SET;
//   * applies the caller's extra settings (planner switches of a refresh).
// Leaving restores all of it, on every exit: the destructor runs when the
// body returns or when a C++ exception (a PostgreSQL error turned into one by
// pg_call) passes through. So the scope lives in a C++ frame and everything
// inside it that may ereport runs through pg_call; C-level code enters it with
// run_as_owner(), which re-raises a failure as a PostgreSQL error once the
// scope is left.
//
// This file (with owner_scope.cpp) is the only place in src/ that switches the
// user id; scripts/test.sh checks that.
#pragma once

#include <initializer_list>

#include "pg/guard.hpp"

extern "C" {
#include "postgres.h"
}

namespace pgview {

struct Setting {
    const char *name;
    const char *value;
};

class OwnerScope {
public:
    enum Flags : unsigned {
        plain = 0,
        restricted = 1, // SECURITY_RESTRICTED_OPERATION: the owner's query, functions and triggers run inside
    };

    // Throws pgview::Error when a setting cannot be applied (nothing is left changed then).
    explicit OwnerScope(Oid role, unsigned flags = plain, std::initializer_list<Setting> extra = {});
    ~OwnerScope();
    OwnerScope(const OwnerScope &) = delete;
    OwnerScope &operator=(const OwnerScope &) = delete;

    // The user (and security context) the scope was entered from: the writer,
    // the caller of a function.
    Oid caller() const { return saved_user_; }

private:
    void leave(bool ok) noexcept;

    Oid saved_user_ = InvalidOid;
    int saved_context_ = 0;
    int guc_level_ = -1;
    int exceptions_at_entry_ = 0;
};

// For C-level code (no C++ object with a destructor in the calling frames):
// runs body() in an owner scope; a failure is raised as a PostgreSQL error
// after the scope has been left. body may ereport (it runs through pg_call).
template <typename F>
auto run_as_owner(Oid role, unsigned flags, F &&body, std::initializer_list<Setting> extra = {})
    -> decltype(body()) {
    return entry_guard([&]() -> decltype(body()) {
        OwnerScope scope(role, flags, extra);
        return pg_call(body);
    });
}

// The value TimeZone is pinned to (GUC pgview_auto.timezone, set server-wide).
extern char *pinned_timezone;

} // namespace pgview
