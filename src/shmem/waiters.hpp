// pgview_auto — waiters (pgview_wait): what a waiter is owed, taken at its
// call; served once a refresh covers every ticket up to the matview's last one
// but those then in flight (committed after the call, they are not owed).
// C-level.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
}

namespace pgview::shmem {

// Waiters: what a waiter is owed, taken at its call.
struct WaitTarget {
    uint64 ticket;   // the matview's last ticket (0: none)
    int n;           // tickets in flight then (not owed), up to max_in_flight
    bool overflowed; // the database is all dirty (or not settled): not servable yet
    static constexpr int max_in_flight = 64;
    uint64 in_flight[max_in_flight];
};
void wait_target(Oid matview, WaitTarget *target);
bool served(Oid matview, const WaitTarget &target);
bool wait_for_refresh(long timeout_ms);     // sleeps on the shared condition variable

} // namespace pgview::shmem
