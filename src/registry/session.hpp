// pgview_auto — a registry session: the extension's tables (schema pgview_auto)
// read and written with SPI as the registry's owner, in the owner scope.
#pragma once

#include <type_traits>

#include "pg/owner_scope.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "storage/lockdefs.h"
}

namespace pgview::registry {

// The longest interval pgview_auto takes (arguments past it are refused) and
// reads (a registry row holding more, from an older version or a dump, counts
// as this much): 1000 years of 30-day months, in microseconds. Timestamps
// computed from it stay far inside PostgreSQL's range.
#define PGVIEW_MAX_INTERVAL_US INT64CONST(31104000000000000)
inline constexpr int64 max_interval_us = PGVIEW_MAX_INTERVAL_US;

// A registry session: SPI connected, running as the registry's owner in the
// owner scope (pg/owner_scope.hpp), with a snapshot when none is active (at
// commit there is none). Every registry function below runs inside one.
// C-level: call it inside pg_call; body may ereport, and the scope is left
// (the caller's user and settings back) before the error goes on.
struct RegistryConnection {
    bool pushed_snapshot;
};
Oid registry_owner(void); // 55000 with a hint when the extension is not installed here
void registry_connect(RegistryConnection *c);
void registry_disconnect(const RegistryConnection *c);
template <typename F>
auto with_registry(F &&body) -> decltype(body()) {
    return run_as_owner(registry_owner(), OwnerScope::plain, [&body]() -> decltype(body()) {
        RegistryConnection c;
        registry_connect(&c);
        if constexpr (std::is_void_v<decltype(body())>) {
            body();
            registry_disconnect(&c);
        } else {
            auto result = body();
            registry_disconnect(&c);
            return result;
        }
    });
}
bool registry_installed(void); // schema pgview_auto and its tables exist here
// The registry's gate: DROP EXTENSION pgview_auto takes it (ACCESS EXCLUSIVE)
// before it drops anything, and every transaction of the worker (ACCESS SHARE)
// before it touches any of the extension's tables. Without it, DROP EXTENSION,
// which locks the tables in the order it drops them, and the worker, which
// reads them in the order its queries name them, could each hold one the
// other waits for: a deadlock, DROP EXTENSION's or the worker's to lose.
void lock_registry_gate(LOCKMODE mode);
// The installed SQL version is at least `version` (inside a session): the library
// works with every SQL version the repo ships until ALTER EXTENSION UPDATE runs.
bool registry_at_least(const char *version);
Oid registry_relid(const char *table);

} // namespace pgview::registry
