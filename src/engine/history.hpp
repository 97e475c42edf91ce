// pgview_auto — every refresh's line in the history (issue 24): what ran, how
// long, keys and rows, done or failed. Buffered in shared memory when the
// library is preloaded (shmem/history_ring.hpp: the worker writes it to
// pgview_auto.refresh_log), else written by the refresh's own transaction
// (registry/history.hpp). Nothing when pgview_auto.history is off. C-level.
#pragma once

#include "engine/plan.hpp"
#include "engine/refresh.hpp"
#include "registry/history.hpp"
#include "shmem/history_ring.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgview::engine {

const char *origin_name(Origin origin); // "commit", "prepare", "manual", "worker"
char origin_letter(Origin origin);
const char *origin_name_of_letter(char letter);

// A buffered entry as the row it becomes (pointing into the entry).
registry::HistoryRow history_row_of(const shmem::HistoryEntry &e);

// A refresh that succeeded (keys and rows -1 when not counted).
void history_refreshed(Oid view, Origin origin, Strategy strategy, int64 keys, int64 rows, TimestampTz start,
                       TimestampTz end);
// A refresh that failed with `message`. doomed: the transaction (or
// subtransaction) is going to roll back: only the shared buffer can keep it;
// else (on_error 'warn', after its subtransaction) the row can be written now.
void history_failed(Oid view, Origin origin, Strategy strategy, TimestampTz start, const char *message, bool doomed);

} // namespace pgview::engine
