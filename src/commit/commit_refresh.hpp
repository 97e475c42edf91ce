// pgview_auto — what happens at commit: the transaction callback.
#pragma once

#include "shmem/databases.hpp"
#include "shmem/pending.hpp"
#include "shmem/state.hpp"
#include "shmem/waiters.hpp"

namespace pgview::commit {
void commit_refresh_init(void);   // from _PG_init
// pgview_refresh_pending claimed matview: done at commit; dirty again if the
// (sub)transaction that claimed it aborts, or at PREPARE TRANSACTION.
void confirm_at_commit(Oid matview, const shmem::Coverage &covered);
}
