// pgview_auto — running saved SQL as its roles (see steps.hpp).
#include "alter/steps.hpp"

#include "pg/guard.hpp"
#include "pg/owner_scope.hpp"
#include "capture/triggers.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/regproc.h"
}

namespace pgview::alter {

namespace {

// C-level: statements [from, to) of one role; *current tells the caller which
// one failed.
void run_as(const char *role_name, const char *const *sql, int from, int to, int *current) {
    *current = from;
    Oid role = get_role_oid(role_name, false);
    run_as_owner(
        role, OwnerScope::plain,
        [sql, from, to, current] {
            for (int i = from; i < to; i++) {
                *current = i;
                capture::execute_internal_ddl(sql[i]);
            }
        },
        {{"default_tablespace", ""}});
}

} // namespace

void run_statements(const std::vector<Statement> &statements, const std::string &verb, const std::string &hint) {
    std::vector<const char *> sql;
    for (const Statement &s : statements)
        sql.push_back(s.sql.c_str());
    int current = 0;
    size_t from = 0;
    while (from < statements.size()) {
        size_t to = from;
        while (to < statements.size() && statements[to].role == statements[from].role)
            to++;
        const char *role = statements[from].role.c_str();
        int a = static_cast<int>(from), b = static_cast<int>(to);
        try {
            pg_call([role, &sql, a, b, &current] { run_as(role, sql.data(), a, b, &current); });
        } catch (const Error &e) {
            throw Error(e.sqlstate(), "cannot " + verb + " " + statements[current].what + ": " + e.what(),
                        e.detail(), hint);
        }
        from = to;
    }
}

Oid relation_named(const std::string &name) {
    return pg_call([&name] {
        return RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(name.c_str())), NoLock, true);
    });
}

} // namespace pgview::alter
