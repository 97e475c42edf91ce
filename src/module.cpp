// pgview_auto — module entry: magic block and load-time set-up.
#include "analysis/capture_plan.hpp"
#include "pg/guard.hpp"
#include "commit/commit_refresh.hpp"
#include "commit/immediate.hpp"
#include "tableview/table_view_registry.hpp"
#include "registry/watch_cache.hpp"
#include "worker/database_pause.hpp"
#include "config/settings.hpp"
#include "shmem/databases.hpp"
#include "shmem/pending.hpp"
#include "shmem/state.hpp"
#include "shmem/waiters.hpp"

extern "C" {
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

namespace {
void register_launcher() {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished; // nothing runs on a standby
    worker.bgw_restart_time = 5;                            // seconds, after a crash
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "pgview_auto");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "pgview_launcher_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "pgview_auto launcher");
    snprintf(worker.bgw_type, BGW_MAXLEN, "pgview_auto launcher");
    RegisterBackgroundWorker(&worker);
}
} // namespace

void _PG_init(void) {
    bool preload = process_shared_preload_libraries_in_progress;
    // Commit mode and the dependency catalog work without shared_preload_libraries:
    // the library is loaded by the first call of any of its functions (the capture
    // trigger included), before the commit that needs the callback.
    pgview::config::settings_init(preload);
    pgview::registry::watch_cache_init();
    pgview::tableview::cache_init();
    pgview::analysis::capture_plan_init();
    pgview::commit::commit_refresh_init();
    pgview::commit::immediate_init();
    // pg_upgrade runs the server in binary-upgrade mode: start no worker then.
    if (preload && !IsBinaryUpgrade) {
        pgview::shmem::shared_state_init();
        pgview::worker::database_pause_init();
        register_launcher();
    }
}
