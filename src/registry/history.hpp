// pgview_auto — the refresh history (pgview_auto.refresh_log, read through the
// view pgview_refresh_log): refreshes appended, a batch of them per table row
// (arrays, one element per refresh), old batches pruned. C-level, inside a
// registry session (session.hpp).
#pragma once

#include "registry/session.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgview::registry {

struct HistoryRow {
    Oid view;
    char origin;          // engine::origin_letter: c commit, s statement, p prepare, m manual, w worker
    char strategy;        // engine::Strategy's letter
    bool failed;
    const char *error;    // nullptr when it did not fail
    int32 pid;
    int64 keys;           // -1: not counted (a full refresh)
    int64 rows;           // -1: not counted (REFRESH MATERIALIZED VIEW)
    TimestampTz started;
    TimestampTz finished;
};

// The history table exists here (the installed SQL version has it).
bool history_installed(void);
// Appends n refreshes, one table row.
void history_append(const HistoryRow *rows, int n);
// Deletes the batches whose newest refresh finished more than `days` days
// ago; returns how many refreshes they held.
int64 history_prune(int days);

} // namespace pgview::registry
