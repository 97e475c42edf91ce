// pgview_auto — saving dependents and making them again (see save_restore.hpp).
#include "alter/save_restore.hpp"

#include <algorithm>

#include "alter/dependents.hpp"
#include "alter/locks.hpp"
#include "alter/rebuild.hpp"
#include "alter/saved_store.hpp"
#include "alter/steps.hpp"
#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "syscat/relation_info.hpp"

extern "C" {
#include "catalog/pg_inherits.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace pgview::alter {

namespace {

constexpr const char *undefined_column = "42703";
constexpr const char *undefined_object = "42704";
constexpr const char *insufficient_privilege = "42501";

const Wording save_wording{"pgview_save_dependents", ""};
const Wording restore_wording{
    "pgview_restore_dependents",
    "Change what its query reads so that it works again (or drop the relation that took its name), then call "
    "pgview_restore_dependents() again; pgview_saved_dependents shows what is saved."};

// rel (attnum 0: any column) and, for a table, its inheritance children and
// partitions: what changes on a table changes there too.
std::vector<ColumnRef> columns_of(Oid rel, const std::optional<std::vector<std::string>> &names) {
    std::vector<Oid> rels{rel};
    List *all = pg_call([rel] { return find_all_inheritors(rel, NoLock, nullptr); });
    ListCell *lc;
    foreach (lc, all)
        if (lfirst_oid(lc) != rel)
            rels.push_back(lfirst_oid(lc));
    std::vector<ColumnRef> out;
    if (!names) {
        for (Oid r : rels)
            out.push_back({r, 0, "", false});
        return out;
    }
    for (const std::string &name : *names) {
        for (Oid r : rels) {
            int attnum = pg_call([r, &name] { return static_cast<int>(get_attnum(r, name.c_str())); });
            if (attnum == InvalidAttrNumber && r == rel)
                throw Error(undefined_column,
                            "column \"" + name + "\" of relation " + qualified_name(rel) + " does not exist");
            if (attnum > 0)
                out.push_back({r, attnum, name, false});
        }
    }
    return out;
}

// Every dependent at once, and the relation itself, or waited for holding
// none (locks.hpp). The relation too: what follows a save is the caller's own
// ALTER of it, which would otherwise wait for its writers while we hold the
// views their COMMIT refreshes.
void lock_dependents(const Plan &plan, Oid rel) {
    std::vector<LockRequest> locks{{rel, AccessExclusiveLock, true}};
    for (const Dependent &d : plan.order)
        locks.push_back({d.relid, AccessExclusiveLock, false});
    lock_all_or_wait(locks);
}

// Making a relation of another role needs what doing it by hand needs:
// membership in that role.
void require_member(const std::string &role, const std::string &what) {
    Oid oid = pg_call([&role] { return get_role_oid(role.c_str(), true); });
    if (!OidIsValid(oid))
        throw Error(undefined_object, "role \"" + role + "\" does not exist",
                    what + " was saved with that owner.", "Create the role, then call pgview_restore_dependents() again.");
    bool member = pg_call([oid] { return is_member_of_role(GetUserId(), oid); });
    if (!member)
        throw Error(insufficient_privilege, "must be a member of role \"" + role + "\" to make " + what + " again",
                    "pgview_restore_dependents makes each saved relation again as its owner.",
                    "Run it as a member of that role, or as a superuser.");
}

} // namespace

int save_dependents(Oid rel, const std::optional<std::vector<std::string>> &columns) {
    pg_call([rel] { syscat::require_catalog_relation(rel, "pgview_save_dependents"); });
    std::vector<ColumnRef> refs = columns_of(rel, columns);
    create::SqlRunner sql;
    Plan plan = plan_dependents(sql, refs);
    check_plan(sql, plan, "pgview_save_dependents", "save");
    if (plan.order.empty())
        return 0;
    lock_dependents(plan, rel);
    Plan again = plan_dependents(sql, refs); // made or dropped while we waited
    if (relids(again) != relids(plan)) {
        check_plan(sql, again, "pgview_save_dependents", "save");
        lock_dependents(again, rel);
        plan = std::move(again);
    }
    std::vector<SavedRelation> saved = capture(sql, plan.order);
    std::string me = pg_call([] { return GetUserNameFromId(GetUserId(), false); });
    store(saved, me);
    drop_saved(saved, save_wording);
    return static_cast<int>(saved.size());
}

int restore_dependents() {
    create::SqlRunner sql;
    std::string me = pg_call([] { return GetUserNameFromId(GetUserId(), false); });
    std::vector<StoredRelation> stored = load(me); // its own: another role's saves are theirs to restore
    if (stored.empty())
        return 0;
    std::vector<SavedRelation> saved;
    for (const StoredRelation &s : stored) {
        require_member(s.relation.owner, s.relation.describe());
        if (s.relation.kind == RebuildKind::definition) {
            Oid table = relation_named(s.relation.table_view);
            if (OidIsValid(table))
                require_member(pg_call([table] { return GetUserNameFromId(syscat::relation_owner(table), false); }),
                               s.relation.describe());
        }
        saved.push_back(s.relation);
    }
    ActionRows rows; // the count is the answer
    std::vector<Oid> created = recreate_saved(sql, saved, restore_wording, rows);
    reattach(stored, created);
    sync_primary_keys(sql, saved);
    populate(saved, created, rows);
    forget_saved(me);
    return static_cast<int>(stored.size());
}

int discard_dependents(const std::optional<std::string> &relation) {
    std::string me = pg_call([] { return GetUserNameFromId(GetUserId(), false); });
    auto owners = saved_owners(relation, me);
    if (owners.empty() && relation)
        throw Error(undefined_object, "no saved relation " + *relation, {},
                    "pgview_saved_dependents shows what is saved, with the names to use.");
    for (const auto &[name, owner] : owners) {
        // Giving up another role's view needs what dropping it needs; the owner
        // may be gone since, then a superuser.
        Oid oid = pg_call([&owner] { return get_role_oid(owner.c_str(), true); });
        bool allowed = pg_call([oid] { return OidIsValid(oid) ? is_member_of_role(GetUserId(), oid) : superuser(); });
        if (!allowed)
            throw Error(insufficient_privilege, "must be a member of role \"" + owner + "\" to discard saved " + name,
                        {}, "Run it as a member of that role, or as a superuser.");
    }
    return discard_saved(relation, me);
}

} // namespace pgview::alter
