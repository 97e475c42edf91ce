// pgview_auto — refresh statistics (pgview_auto.refresh_stats) and the bucket
// rows of keyed refreshes (pgview_auto.key_lock: their row locks are the key
// locks, and they count). C-level, inside a registry session (session.hpp).
#pragma once

#include "registry/session.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgview::registry {

// Keyed refreshes (inside a session): upserts the rows (matview, bucket) of
// pgview_auto.key_lock in ascending bucket order (their row locks, held to
// commit, are the key locks), adding counts[i] keys to each; with
// count_refresh the first row also counts one refresh of `total` keys.
void key_lock_count(Oid matview, int n, const int32 *buckets, const int64 *counts, int64 total, bool count_refresh);

// Statistics (inside a session).
void stats_forget(Oid matview); // its statistics and key-lock rows go
void stats_claim(Oid matview);                    // row lock; 40001 for a stale snapshot
void stats_success(Oid matview, int64 duration_us, bool concurrently);
void stats_failure(Oid matview, const char *message);
// The last error of every matview that has one (raw text: show it only to
// roles that may read the matview). Arrays palloc'd in the caller's context.
int stats_errors(Oid **matviews, char ***messages);
void stats_reset(Oid matview, Oid user); // InvalidOid: every matview `user` owns (or is gone)
// A relation about to be dropped and made again under a new OID (or_replace,
// save/restore): its statistics and key-lock rows (what pgview_status counts)
// taken out as jsonb text, palloc'd in the caller's context (nullptr: none, or
// SQL before 0.6.0); stats_give adds them to the new relation's (counts summed,
// the newer last refresh kept). Both inside a session.
char *stats_take(Oid matview);
void stats_give(Oid matview, const char *taken);

} // namespace pgview::registry
