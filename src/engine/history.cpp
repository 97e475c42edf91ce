// pgview_auto — every refresh's line in the history (see history.hpp).
#include "engine/history.hpp"

#include "config/settings.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
}

namespace pgview::engine {

const char *origin_name(Origin origin) {
    switch (origin) {
    case Origin::commit: return "commit";
    case Origin::prepare: return "prepare";
    case Origin::manual: return "manual";
    case Origin::worker: return "worker";
    case Origin::statement: return "statement";
    }
    return "?";
}

char origin_letter(Origin origin) { return origin_name(origin)[0]; }

const char *origin_name_of_letter(char letter) {
    for (Origin o : {Origin::commit, Origin::prepare, Origin::manual, Origin::worker, Origin::statement})
        if (origin_letter(o) == letter)
            return origin_name(o);
    return "?";
}

registry::HistoryRow history_row_of(const shmem::HistoryEntry &e) {
    return {e.view, e.origin, e.strategy, e.failed, e.failed ? e.error : nullptr, e.pid,
            e.keys, e.rows,   e.started,  e.finished};
}

namespace {

bool wanted(Oid view) { return config::history && OidIsValid(view); }

void write_now(const shmem::HistoryEntry &e, const char *message) {
    if (!registry::with_registry([] { return registry::history_installed(); }))
        return; // the installed SQL version has no history yet
    registry::HistoryRow row = history_row_of(e);
    row.error = message;
    registry::with_registry([&row] { registry::history_append(&row, 1); });
}

shmem::HistoryEntry entry(Oid view, Origin origin, Strategy strategy, TimestampTz start, TimestampTz end) {
    shmem::HistoryEntry e;
    e.dbid = MyDatabaseId;
    e.view = view;
    e.origin = origin_letter(origin);
    e.strategy = static_cast<char>(strategy);
    e.failed = false;
    e.pid = MyProcPid;
    e.keys = e.rows = -1;
    e.started = start;
    e.finished = end;
    e.seq = 0;
    e.error[0] = '\0';
    return e;
}

} // namespace

void history_refreshed(Oid view, Origin origin, Strategy strategy, int64 keys, int64 rows, TimestampTz start,
                       TimestampTz end) {
    if (!wanted(view))
        return;
    shmem::HistoryEntry e = entry(view, origin, strategy, start, end);
    e.keys = keys;
    e.rows = rows;
    if (shmem::history_ring_kept())
        shmem::history_note(e);
    else
        write_now(e, nullptr);
}

void history_failed(Oid view, Origin origin, Strategy strategy, TimestampTz start, const char *message, bool doomed) {
    if (!wanted(view))
        return;
    bool ring = shmem::history_ring_kept();
    if (ring != doomed)
        return; // (the other call records it)
    shmem::HistoryEntry e = entry(view, origin, strategy, start, GetCurrentTimestamp());
    e.failed = true;
    if (message == nullptr)
        message = "";
    if (!ring) {
        write_now(e, message);
        return;
    }
    // Cut to the entry's room, on a character boundary.
    int len = static_cast<int>(strlen(message));
    if (len >= shmem::history_error_len) {
        int keep = pg_mbcliplen(message, len, shmem::history_error_len - 4);
        memcpy(e.error, message, keep);
        strcpy(e.error + keep, "...");
    } else {
        memcpy(e.error, message, len + 1);
    }
    shmem::history_note(e);
}

} // namespace pgview::engine
