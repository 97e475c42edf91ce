// pgview_auto — the worker's share of the refresh history (issue 24): it
// writes its database's entries from the shared buffer
// (shmem/history_ring.hpp) to pgview_auto.refresh_log, in transactions of its
// own, and deletes rows older than pgview_auto.history_days (at its first pass,
// then every 10 minutes). C-level; errors are logged, never raised: a batch
// that cannot be written is lost (and said so in the server log).
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview::worker {

// Outside a transaction. Returns the entries taken from the buffer.
int write_history(Oid dbid);
// Its database has no pgview_auto (or a version without the history): the
// entries are dropped.
void discard_history(Oid dbid);
// Outside a transaction: prunes when due.
void prune_history_when_due(void);

} // namespace pgview::worker
