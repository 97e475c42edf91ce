// pgview_auto — see schedule_notice.hpp.
#include "api/schedule_notice.hpp"

#include <string>

#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "syscat/relation_info.hpp"
#include "tableview/table_view_registry.hpp"
#include "watch/apply_watch.hpp"
#include "registry/events.hpp"
#include "registry/orphans.hpp"
#include "registry/schedules.hpp"
#include "registry/session.hpp"
#include "registry/stats.hpp"
#include "registry/watches.hpp"

namespace pgview::api {

void notice_if_schedule_idle(Oid matview, bool unwatched) {
    bool idle = pg_call([matview] {
        bool i = registry::with_registry([&] { return registry::registry_schedule_idle(matview); });
        return i;
    });
    if (!idle)
        return;
    std::string name = pgview::relation_name(matview);
    std::string message = std::string(tableview::noun(matview)) + " " + name +
                          (unwatched ? " is no longer watched: its schedule (only_if_dirty) will not refresh it"
                                     : " is not watched: its schedule (only_if_dirty) will not refresh it");
    std::string hint = "Watch it with pgview_watch(" + literal(name) +
                       ", mode => 'manual') so that writes mark it dirty, or schedule it with only_if_dirty => "
                       "false to refresh it at every run.";
    pg_call([&message, &hint, matview] {
        registry::report_event(NOTICE, {"schedule idle", quote_relation(matview), syscat::relation_owner(matview),
                                        message.c_str(),
                                        "A scheduled run with only_if_dirty refreshes only what a write marked dirty "
                                        "through a watch; without one, nothing does (but a server restart).",
                                        hint.c_str()});
    });
}

} // namespace pgview::api
