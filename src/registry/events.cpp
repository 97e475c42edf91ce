// pgview_auto — events (see events.hpp).
#include "registry/events.hpp"

#include "registry/statement.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

namespace pgview::registry {

using namespace detail;

namespace {

// The insert and the pruning in one statement: the DELETE does not see the
// row the INSERT adds (one snapshot), only the ones past max_events before it.
Statement add_event = {
    "WITH e AS (INSERT INTO pgview_auto.event (event, relation, message, detail, hint, role, owner) "
    "           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id) "
    "DELETE FROM pgview_auto.event o USING e WHERE o.id OPERATOR(pg_catalog.<=) "
    "(e.id OPERATOR(pg_catalog.-) 1000::int8)",
    7,
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, NAMEOID, NAMEOID},
    nullptr};
static_assert(max_events == 1000, "add_event spells max_events");

Datum text_or_null(const char *s, char *null_flag) {
    *null_flag = s == nullptr ? 'n' : ' ';
    return s == nullptr ? (Datum) 0 : CStringGetTextDatum(s);
}

Datum role_or_null(Oid role, char *null_flag) {
    const char *name = OidIsValid(role) ? GetUserNameFromId(role, true) : nullptr;
    *null_flag = name == nullptr ? 'n' : ' ';
    return name == nullptr ? (Datum) 0 : DirectFunctionCall1(namein, CStringGetDatum(name));
}

} // namespace

void report_event(int level, const Event &e) {
    if (OidIsValid(registry_relid("event"))) {
        Oid by = GetOuterUserId(); // the role that ran the command, not the owner scope's
        Datum values[7];
        char nulls[8] = "       ";
        values[0] = CStringGetTextDatum(e.event);
        values[1] = text_or_null(e.relation, &nulls[1]);
        values[2] = CStringGetTextDatum(e.message);
        values[3] = text_or_null(e.detail, &nulls[3]);
        values[4] = text_or_null(e.hint, &nulls[4]);
        values[5] = role_or_null(by, &nulls[5]);
        values[6] = role_or_null(e.owner, &nulls[6]);
        with_registry([&] { run(add_event, values, nulls, SPI_OK_DELETE); });
    }
    ereport(level, (errmsg("%s", e.message), e.detail != nullptr ? errdetail("%s", e.detail) : 0,
                    e.hint != nullptr ? errhint("%s", e.hint) : 0));
}

} // namespace pgview::registry
