// pgview_auto — commands that need a database to themselves (see database_pause.hpp).
// C-level: the hook runs PostgreSQL's own code and holds no C++ object.
#include "worker/database_pause.hpp"

#include "shmem/databases.hpp"
#include "shmem/pending.hpp"
#include "shmem/state.hpp"
#include "shmem/waiters.hpp"

extern "C" {
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/latch.h"
#include "storage/procarray.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

namespace pgview::worker {

namespace {

// How long a command waits for a worker to leave (its refresh is cancelled at
// once; this bounds a stuck one, after which the command fails as it would).
constexpr int leave_timeout_ms = 10000;

ProcessUtility_hook_type prev_process_utility = nullptr;
bool paused_any = false; // this backend paused a database in this transaction
Oid dropping = InvalidOid; // the database this transaction's DROP DATABASE removes

bool has_option(List *options, const char *name, DefElem **found) {
    ListCell *lc;
    foreach (lc, options) {
        auto *option = lfirst_node(DefElem, lc);
        if (strcmp(option->defname, name) == 0) {
            *found = option;
            return true;
        }
    }
    return false;
}

// The database the command needs to itself (InvalidOid: none, or not this
// user's to take: the command fails on its own then, and no worker is touched).
Oid database_needed_alone(Node *parsetree) {
    const char *name = nullptr;
    DefElem *option;
    switch (nodeTag(parsetree)) {
    case T_DropdbStmt:
        name = reinterpret_cast<DropdbStmt *>(parsetree)->dbname;
        break;
    case T_CreatedbStmt:
        if (has_option(reinterpret_cast<CreatedbStmt *>(parsetree)->options, "template", &option) &&
            option->arg != nullptr)
            name = defGetString(option);
        break;
    case T_RenameStmt:
        if (reinterpret_cast<RenameStmt *>(parsetree)->renameType == OBJECT_DATABASE)
            name = reinterpret_cast<RenameStmt *>(parsetree)->subname;
        break;
    case T_AlterDatabaseStmt:
        if (has_option(reinterpret_cast<AlterDatabaseStmt *>(parsetree)->options, "tablespace", &option))
            name = reinterpret_cast<AlterDatabaseStmt *>(parsetree)->dbname;
        break;
    default:
        break;
    }
    if (name == nullptr)
        return InvalidOid;
    Oid dbid = get_database_oid(name, true);
    if (!OidIsValid(dbid) || dbid == MyDatabaseId || !pg_database_ownercheck(dbid, GetUserId()))
        return InvalidOid;
    return dbid;
}

void stop_worker(Oid dbid) {
    paused_any = true;
    int pid = shmem::pause_database(dbid);
    if (pid == 0)
        return;
    (void) kill(pid, SIGTERM); // as pg_terminate_backend: its refresh is cancelled, its claim given back
    // The command counts connected backends, and the worker's goes last.
    TimestampTz give_up = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), leave_timeout_ms);
    while (BackendPidGetProc(pid) != nullptr && GetCurrentTimestamp() < give_up) {
        CHECK_FOR_INTERRUPTS();
        (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}

void process_utility(PlannedStmt *pstmt, const char *query, bool read_only_tree, ProcessUtilityContext context,
                     ParamListInfo params, QueryEnvironment *env, DestReceiver *dest, QueryCompletion *qc) {
    Oid dbid = database_needed_alone(pstmt->utilityStmt);
    if (OidIsValid(dbid)) {
        stop_worker(dbid);
        if (IsA(pstmt->utilityStmt, DropdbStmt))
            dropping = dbid;
    }
    if (prev_process_utility != nullptr)
        prev_process_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query, read_only_tree, context, params, env, dest, qc);
}

void on_xact_end(XactEvent event, void *) {
    if (!paused_any)
        return;
    switch (event) {
    case XACT_EVENT_COMMIT:
        if (OidIsValid(dropping))
            shmem::forget_dropped_database(dropping);
        [[fallthrough]];
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PREPARE:
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_PARALLEL_ABORT:
        shmem::unpause_databases();
        paused_any = false;
        dropping = InvalidOid;
        break;
    default:
        break;
    }
}

} // namespace

void database_pause_init(void) {
    prev_process_utility = ProcessUtility_hook;
    ProcessUtility_hook = process_utility;
    RegisterXactCallback(on_xact_end, nullptr);
}

} // namespace pgview::worker
