// pgview_auto — the capture trigger: AFTER INSERT OR UPDATE OR DELETE OR
// TRUNCATE FOR EACH STATEMENT on every watched table. It only adds the table to
// the transaction's dirty set: no I/O, no catalog write, no look-up. The
// matviews watching it are found at commit (so a matview dropped and created
// again meanwhile is found under its new OID).
#include "capture/changed.hpp"

#include "analysis/capture_plan.hpp"
#include "pg/guard.hpp"
#include "changes/dirty_set.hpp"

extern "C" {
#include "commands/trigger.h"
#include "utils/inval.h"
}

PGVIEW_FUNCTION(pgview_capture) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw pgview::Error("39P01", "pgview_auto.capture() must be called as a trigger");
    auto *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
    if (!TRIGGER_FIRED_FOR_STATEMENT(trigger->tg_event) || !TRIGGER_FIRED_AFTER(trigger->tg_event))
        throw pgview::Error("39P01", "pgview_auto.capture() must be an AFTER ... FOR EACH STATEMENT trigger");
    Oid relid = RelationGetRelid(trigger->tg_relation);
    pgview::pg_call([relid] { pgview::changes::dirty_add(relid); });
    pgview::capture::capture_unkeyed(relid, TRIGGER_FIRED_BY_TRUNCATE(trigger->tg_event));
    return PointerGetDatum(nullptr);
}

namespace pgview::capture {

void changed_in_full(Oid relid) {
    pg_call([relid] { changes::dirty_add(relid); });
    capture::capture_unkeyed(relid, true);
}

} // namespace pgview::capture

// Statement trigger on the registry tables: every backend drops its watch cache
// once the change commits (this one at the next command).
PGVIEW_FUNCTION(pgview_registry_changed) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw pgview::Error("39P01", "pgview_auto.registry_changed() must be called as a trigger");
    auto *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
    Oid relid = RelationGetRelid(trigger->tg_relation);
    pgview::pg_call([relid] { CacheInvalidateRelcacheByRelid(relid); });
    return PointerGetDatum(nullptr);
}
