// pgview_auto — a table view's rows are its query's: nobody writes them but its
// refresh. Every table view carries pgview_auto_guard, BEFORE INSERT OR UPDATE
// OR DELETE OR TRUNCATE FOR EACH STATEMENT, which refuses a statement unless
// this backend is inside one of our own writes (a refresh, the fill at
// pgview_create). Logical replication's apply workers fire no such trigger
// (it is not ENABLE REPLICA/ALWAYS): a subscriber's copy of a table view is
// kept by its publisher. pg_restore loads the rows before it creates triggers.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgview::tableview {

// Runs body() with our own writes into table views allowed (C-level: body may
// ereport; the permission ends with it either way).
void writing_table_views(void (*body)(void *), void *arg);
template <typename F>
void writing_table_views(F &&body) {
    writing_table_views([](void *f) { (*static_cast<F *>(f))(); }, static_cast<void *>(&body));
}

} // namespace pgview::tableview
