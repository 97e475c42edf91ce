// pgview_auto — configuration parameters (see settings.hpp).
#include "config/settings.hpp"

#include "pg/owner_scope.hpp"

extern "C" {
#include "postgres.h"
#include "pgtime.h"
#include "utils/guc.h"
}

namespace pgview::config {

bool enabled = true;
int max_workers = 2;
int naptime_ms = 1000;
int retry_delay_ms = 5000;
int max_matviews = 1024;
bool notify = false;
int max_keys = 10000;
int max_delta_groups = 250000;
bool delta = true;
int max_pending_keys = 65536;
bool history = true;
int history_days = 7;
int history_buffer = 4096;

namespace {
bool is_preloaded = false;
}

bool preloaded(void) { return is_preloaded; }

namespace {
// A time zone name PostgreSQL knows (as SET TIME ZONE takes it), checked when
// the setting is read, not at every refresh.
bool check_timezone_name(char **newval, void **, GucSource) {
    if (*newval == nullptr || (*newval)[0] == '\0' || pg_tzset(*newval) != nullptr)
        return true;
    GUC_check_errdetail("\"%s\" is not a time zone name PostgreSQL knows.", *newval);
    GUC_check_errhint("Use a name from pg_timezone_names, such as UTC or Europe/Berlin.");
    return false;
}
} // namespace

void settings_init(bool preload) {
    is_preloaded = preload;
    DefineCustomBoolVariable("pgview_auto.enabled", "Refresh materialized views in the background worker.",
                             "When off, writers still mark matviews dirty; nothing is refreshed in the "
                             "background until it is on again. Refresh at commit is not affected.",
                             &enabled, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgview_auto.naptime", "Longest time a pgview_auto worker sleeps between checks.",
                            "Writers wake the worker at once; this bounds the delay of schedules and retries.",
                            &naptime_ms, 1000, 10, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("pgview_auto.retry_delay", "Delay before a failed background refresh is retried.",
                            "Doubles after each further failure, up to 64 times this value.", &retry_delay_ms,
                            5000, 10, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("pgview_auto.notify", "NOTIFY pgview_refresh after each refresh.",
                             "The payload is the materialized view's qualified name.", &notify, false,
                             PGC_USERSET, 0, nullptr, nullptr, nullptr);
    if (preload) {
        DefineCustomIntVariable("pgview_auto.max_workers", "Per-database pgview_auto workers running at once.",
                                "Each takes one of max_worker_processes.", &max_workers, 2, 1, 64,
                                PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
        DefineCustomIntVariable("pgview_auto.max_matviews",
                                "Materialized views whose pending changes shared memory tracks one by one.",
                                "Past this, a database's changes are tracked as \"everything is dirty\".",
                                &max_matviews, 1024, 1, 1000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    }
    DefineCustomIntVariable("pgview_auto.max_keys",
                            "Keys of one table view a transaction recomputes incrementally at commit.",
                            "Past this many changed keys the table view is refreshed in full instead. Keys that wait "
                            "for the worker are bounded by pgview_auto.max_pending_keys instead.",
                            &max_keys, 10000, 1, 100000000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("pgview_auto.delta",
                            "Keeps table views of invertible aggregates by delta arithmetic where it can.",
                            "Off: their changes are captured as keys and recomputed (keyed recompute), as for any "
                            "other table view; read where the rows change, and at the refresh.",
                            &delta, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgview_auto.max_delta_groups",
                            "Groups of one table view a transaction keeps deltas for (delta arithmetic).",
                            "Each takes a few hundred bytes of the transaction's memory until COMMIT; past this many "
                            "the table view is refreshed in full instead.",
                            &max_delta_groups, 250000, 1, 100000000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    if (preload)
        DefineCustomIntVariable("pgview_auto.max_pending_keys",
                                "Changed keys of async and manual table views shared memory holds for the worker.",
                                "A key that finds no room makes its table view's next refresh full.",
                                &max_pending_keys, 65536, 0, 100000000, PGC_POSTMASTER, 0, nullptr, nullptr,
                                nullptr);
    DefineCustomBoolVariable("pgview_auto.history", "Every refresh appends a row to pgview_refresh_log.",
                             "Off: refreshes are not written to the history (the rows already there stay).",
                             &history, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgview_auto.history_days", "Days of refresh history pgview_refresh_log keeps.",
                            "Older rows are deleted by the database's worker (at its start, then every 10 "
                            "minutes) or by pgview_prune_history().",
                            &history_days, 7, 1, 3650, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    if (preload)
        DefineCustomIntVariable("pgview_auto.history_buffer",
                                "Refresh history entries shared memory holds until the worker writes them.",
                                "Past this many entries waiting, new ones are dropped and counted "
                                "(pgview_history_buffer()). 0: each refresh writes its history row itself.",
                                &history_buffer, 4096, 0, 1000000, PGC_POSTMASTER, 0, nullptr, nullptr,
                                nullptr);
    DefineCustomStringVariable("pgview_auto.timezone", "TimeZone of every refresh and key computation.",
                               "Refreshes and key captures run with pinned output settings, whoever wrote and "
                               "whatever they SET: DateStyle ISO, MDY; IntervalStyle postgres; TimeZone this "
                               "value; extra_float_digits 1; bytea_output hex; lc_monetary and lc_numeric C.",
                               &pinned_timezone, "UTC", PGC_SIGHUP, 0, check_timezone_name, nullptr, nullptr);
    MarkGUCPrefixReserved("pgview_auto");
}

void require_preloaded(const char *what) {
    if (!is_preloaded)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("%s needs the pgview_auto background worker", what),
                        errdetail("pgview_auto is not in shared_preload_libraries."),
                        errhint("Add pgview_auto to shared_preload_libraries in postgresql.conf and restart "
                                "the server, or use mode => 'commit'.")));
}

} // namespace pgview::config
