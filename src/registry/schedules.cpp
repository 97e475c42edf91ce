// pgview_auto — schedules in the registry (see schedules.hpp).
#include "registry/schedules.hpp"

#include "registry/statement.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace pgview::registry {

using namespace detail;

namespace {

Statement load_schedules = {
    "SELECT s.matview, " INTERVAL_US("s.every") ", s.only_if_dirty "
    "FROM pgview_auto.schedule s JOIN pg_class m ON m.oid = s.matview",
    0, {}, nullptr};
Statement set_schedule = {
    "INSERT INTO pgview_auto.schedule AS s (matview, every, only_if_dirty) VALUES ($1, $2, $3) "
    "ON CONFLICT (matview) DO UPDATE SET every = excluded.every, only_if_dirty = excluded.only_if_dirty",
    3, {REGCLASSOID, INTERVALOID, BOOLOID}, nullptr};
// A schedule with only_if_dirty on a matview nothing watches: nothing marks it
// dirty, so the schedule never refreshes it (but after a restart).
Statement idle_schedule = {
    "SELECT EXISTS (SELECT FROM pgview_auto.schedule s WHERE s.matview = $1 AND s.only_if_dirty "
    "  AND NOT EXISTS (SELECT FROM pgview_auto.watched o WHERE o.matview = s.matview))",
    1, {REGCLASSOID}, nullptr};
Statement remove_schedule = {
    "DELETE FROM pgview_auto.schedule WHERE matview = $1",
    1, {REGCLASSOID}, nullptr};

} // namespace

int registry_load_schedules(ScheduleRow **rows, MemoryContext into) {
    if (!registry_at_least("0.3.0")) {
        *rows = static_cast<ScheduleRow *>(MemoryContextAllocZero(into, sizeof(ScheduleRow)));
        return 0;
    }
    int n = run(load_schedules, nullptr, nullptr, SPI_OK_SELECT);
    auto *r = static_cast<ScheduleRow *>(MemoryContextAllocZero(into, sizeof(ScheduleRow) * (n + 1)));
    for (int i = 0; i < n; i++) {
        bool isnull;
        r[i].matview = column_oid(i, 1);
        r[i].every_us = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
        r[i].only_if_dirty = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
    }
    *rows = r;
    return n;
}

void registry_set_schedule(Oid matview, const Interval *every, bool only_if_dirty) {
    Datum values[3] = {ObjectIdGetDatum(matview), IntervalPGetDatum(every), BoolGetDatum(only_if_dirty)};
    run(set_schedule, values, nullptr, SPI_OK_INSERT);
}

bool registry_schedule_idle(Oid matview) {
    if (!registry_at_least("0.3.0"))
        return false;
    Datum values[1] = {ObjectIdGetDatum(matview)};
    run(idle_schedule, values, nullptr, SPI_OK_SELECT);
    bool isnull;
    return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

bool registry_remove_schedule(Oid matview) {
    Datum values[1] = {ObjectIdGetDatum(matview)};
    return run(remove_schedule, values, nullptr, SPI_OK_DELETE) > 0;
}

} // namespace pgview::registry
