// pgview_auto — the capture trigger: AFTER INSERT OR UPDATE OR DELETE OR
// TRUNCATE FOR EACH STATEMENT on every watched table. It only adds the table to
// the transaction's dirty set: no I/O, no catalog write, no look-up. The
// matviews watching it are found at commit (so a matview dropped and created
// again meanwhile is found under its new OID).
#include "capture/changed.hpp"

#include "analysis/capture_plan.hpp"
#include "pg/guard.hpp"
#include "changes/dirty_set.hpp"
#include "registry/watch_cache.hpp"

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
    if (!pgview::capture::keys_trigger_follows(trigger->tg_relation, trigger->tg_event))
        pgview::capture::statement_captured();
    return PointerGetDatum(nullptr);
}

namespace pgview::capture {

namespace {
StatementEnd statement_end = nullptr;
}

void on_statement_end(StatementEnd callback) { statement_end = callback; }

bool keys_trigger_follows(Relation rel, TriggerEvent event) {
    const char *name = TRIGGER_FIRED_BY_INSERT(event)   ? "pgview_auto_keys_insert"
                       : TRIGGER_FIRED_BY_UPDATE(event) ? "pgview_auto_keys_update"
                       : TRIGGER_FIRED_BY_DELETE(event) ? "pgview_auto_keys_delete"
                                                        : nullptr;
    if (name == nullptr || rel->trigdesc == nullptr)
        return false;
    // (Statement triggers of one event fire in name order: ours are named so that
    // the keys triggers come after pgview_auto_capture.)
    bool replica = SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA;
    for (int i = 0; i < rel->trigdesc->numtriggers; i++) {
        const Trigger &t = rel->trigdesc->triggers[i];
        bool fires = replica ? t.tgenabled == TRIGGER_FIRES_ON_REPLICA || t.tgenabled == TRIGGER_FIRES_ALWAYS
                             : t.tgenabled != TRIGGER_DISABLED && t.tgenabled != TRIGGER_FIRES_ON_REPLICA;
        if (fires && strcmp(t.tgname, name) == 0)
            return true;
    }
    return false;
}

void statement_captured() {
    if (statement_end != nullptr &&
        pg_call([] { return changes::statement_dirty_any() && registry::any_immediate_watch(); }))
        statement_end();
}

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
