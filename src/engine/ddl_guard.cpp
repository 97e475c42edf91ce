// pgview_auto — see ddl_guard.hpp.
#include "engine/ddl_guard.hpp"

#include <initializer_list>

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_event_trigger.h"
#include "commands/trigger.h"
#include "nodes/bitmapset.h"
#include "tcop/cmdtag.h"
#include "utils/evtcache.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace pgview::engine {

namespace {

// As event_trigger.c decides whether an item fires in this session.
bool fires(const EventTriggerCacheItem *item) {
    if (item->enabled == TRIGGER_DISABLED)
        return false;
    if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
        return item->enabled != TRIGGER_FIRES_ON_ORIGIN;
    return item->enabled != TRIGGER_FIRES_ON_REPLICA;
}

const char *trigger_name_of(Oid function) {
    // pg_event_trigger has no cache by function: scan the (small) catalog.
    Relation rel = table_open(EventTriggerRelationId, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 0, nullptr);
    HeapTuple tup;
    const char *name = nullptr;
    while (name == nullptr && HeapTupleIsValid(tup = systable_getnext(scan))) {
        auto *form = reinterpret_cast<Form_pg_event_trigger>(GETSTRUCT(tup));
        if (form->evtfoid == function)
            name = pstrdup(NameStr(form->evtname));
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return name != nullptr ? name : "?";
}

} // namespace

const char *ddl_guard_in_the_way(void) {
    Oid ours = get_namespace_oid("pgview_auto", true);
    for (EventTriggerEvent event : {EVT_DDLCommandStart, EVT_DDLCommandEnd, EVT_SQLDrop}) {
        ListCell *lc;
        foreach (lc, EventCacheLookup(event)) {
            auto *item = static_cast<EventTriggerCacheItem *>(lfirst(lc));
            if (!fires(item) || get_func_namespace(item->fnoid) == ours)
                continue;
            if (item->tagset == nullptr || bms_is_member(CMDTAG_CREATE_TABLE_AS, item->tagset) ||
                bms_is_member(CMDTAG_DROP_TABLE, item->tagset))
                return trigger_name_of(item->fnoid);
        }
    }
    return nullptr;
}

} // namespace pgview::engine
