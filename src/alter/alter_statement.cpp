// pgview_auto — checking pgview_alter's statement (see alter_statement.hpp).
#include "alter/alter_statement.hpp"

#include <algorithm>

#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "syscat/relation_info.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/tablecmds.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "storage/lockdefs.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace pgview::alter {

namespace {

constexpr const char *syntax_error = "42601";
constexpr const char *feature_not_supported = "0A000";
constexpr const char *undefined_column = "42703";
constexpr const char *hint = "Give one ALTER TABLE statement, e.g. 'ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2)'.";

bool is_table_object(ObjectType type) { return type == OBJECT_TABLE || type == OBJECT_FOREIGN_TABLE; }

// The relation an accepted statement names, or nullptr for any other statement.
RangeVar *target_of(Node *stmt, bool *missing_ok) {
    switch (nodeTag(stmt)) {
    case T_AlterTableStmt: {
        auto *s = reinterpret_cast<AlterTableStmt *>(stmt);
        *missing_ok = s->missing_ok;
        return is_table_object(s->objtype) ? s->relation : nullptr;
    }
    case T_RenameStmt: {
        auto *s = reinterpret_cast<RenameStmt *>(stmt);
        *missing_ok = s->missing_ok;
        bool table = is_table_object(s->renameType) ||
                     ((s->renameType == OBJECT_COLUMN || s->renameType == OBJECT_TABCONSTRAINT) &&
                      is_table_object(s->relationType));
        return table ? s->relation : nullptr;
    }
    case T_AlterObjectSchemaStmt: {
        auto *s = reinterpret_cast<AlterObjectSchemaStmt *>(stmt);
        *missing_ok = s->missing_ok;
        return is_table_object(s->objectType) ? s->relation : nullptr;
    }
    default:
        return nullptr;
    }
}

void add_unique(std::vector<std::string> &list, const char *name) {
    if (std::find(list.begin(), list.end(), name) == list.end())
        list.emplace_back(name);
}

int column_number(Oid rel, const std::string &name) {
    return pg_call([rel, &name] { return static_cast<int>(get_attnum(rel, name.c_str())); });
}

// A child's column goes with the parent's DROP COLUMN when it is inherited only
// from that parent (PostgreSQL's rule; a locally defined one stays).
bool dropped_with_parent(Oid child, const std::string &name) {
    return pg_call([child, &name] {
        HeapTuple tup = SearchSysCacheAttName(child, name.c_str());
        if (!HeapTupleIsValid(tup))
            return false;
        auto *att = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tup));
        bool goes = !att->attislocal && att->attinhcount == 1;
        ReleaseSysCache(tup);
        return goes;
    });
}

std::vector<Oid> descendants(Oid table) {
    std::vector<Oid> out;
    List *all = pg_call([table] { return find_all_inheritors(table, NoLock, nullptr); });
    ListCell *lc;
    foreach (lc, all)
        if (lfirst_oid(lc) != table)
            out.push_back(lfirst_oid(lc));
    return out;
}

} // namespace

AlterStatement parse_statement(const std::string &text) {
    AlterStatement st;
    st.text = text;
    List *stmts;
    try {
        stmts = pg_call([&text] { return raw_parser(text.c_str(), RAW_PARSE_DEFAULT); });
    } catch (const Error &e) {
        // The parser's cursor position would point into the caller's own statement.
        throw Error(syntax_error, std::string("the statement given to pgview_alter is not valid SQL: ") + e.what(), {},
                    hint);
    }
    if (list_length(stmts) != 1)
        throw Error(syntax_error,
                    list_length(stmts) == 0 ? "the statement given to pgview_alter is empty"
                                            : "the statement given to pgview_alter holds more than one statement",
                    {}, hint);
    Node *stmt = static_cast<RawStmt *>(linitial(stmts))->stmt;
    bool missing_ok = false;
    RangeVar *rv = target_of(stmt, &missing_ok);
    if (nodeTag(stmt) == T_AlterTableMoveAllStmt)
        throw Error(feature_not_supported, "pgview_alter does not run ALTER TABLE ALL IN TABLESPACE", {},
                    "Move the tables one by one.");
    if (rv == nullptr) {
        std::string tag = pg_call([stmt] { return GetCommandTagName(CreateCommandTag(stmt)); });
        throw Error(feature_not_supported, "pgview_alter runs ALTER TABLE statements only, not " + tag, {}, hint);
    }
    st.table = pg_call([rv, missing_ok] { return RangeVarGetRelid(rv, NoLock, missing_ok); });
    if (!OidIsValid(st.table))
        return st; // IF EXISTS: PostgreSQL says it is skipped
    char relkind = pg_call([&st] { return get_rel_relkind(st.table); });
    if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE && relkind != RELKIND_FOREIGN_TABLE)
        throw Error(sqlstate::wrong_object_type,
                    "\"" + std::string(rv->relname) + "\" is " + syscat::relkind_description(relkind) + ", not a table",
                    {}, "pgview_alter changes tables; views are changed with CREATE OR REPLACE VIEW.");
    st.recurse = rv->inh;
    st.lockmode = AccessExclusiveLock;
    if (!IsA(stmt, AlterTableStmt))
        return st;

    auto *alter = reinterpret_cast<AlterTableStmt *>(stmt);
    st.has_commands = true;
    st.lockmode = pg_call([alter] { return static_cast<int>(AlterTableGetLockLevel(alter->cmds)); });
    ListCell *lc;
    foreach (lc, alter->cmds) {
        auto *cmd = static_cast<AlterTableCmd *>(lfirst(lc));
        switch (cmd->subtype) {
        case AT_AlterColumnType:
            add_unique(st.retyped, cmd->name);
            break;
        case AT_DropColumn:
            // DROP COLUMN IF EXISTS of a missing column does nothing (PostgreSQL's NOTICE).
            if (!cmd->missing_ok || column_number(st.table, cmd->name) != InvalidAttrNumber)
                add_unique(st.dropped, cmd->name);
            break;
        case AT_AddColumn:
            add_unique(st.added, reinterpret_cast<ColumnDef *>(cmd->def)->colname);
            break;
        default:
            break; // defaults, constraints, storage, ...: no view depends on them
        }
    }
    return st;
}

std::vector<ColumnRef> changed_columns(const AlterStatement &st) {
    std::vector<ColumnRef> out;
    if (!OidIsValid(st.table))
        return out;
    std::vector<Oid> children = st.recurse ? descendants(st.table) : std::vector<Oid>{};
    auto column = [&](const std::string &name, bool dropping) {
        int attnum = column_number(st.table, name);
        if (attnum == InvalidAttrNumber)
            throw Error(undefined_column,
                        "column \"" + name + "\" of relation " + qualified_name(st.table) + " does not exist");
        if (attnum < 0)
            return; // a system column: PostgreSQL refuses the statement itself
        bool replaced = std::find(st.added.begin(), st.added.end(), name) != st.added.end();
        out.push_back({st.table, attnum, name, dropping && !replaced});
        for (Oid child : children) {
            if (dropping && !dropped_with_parent(child, name))
                continue;
            int child_attnum = column_number(child, name);
            if (child_attnum > 0)
                out.push_back({child, child_attnum, name, dropping && !replaced});
        }
    };
    for (const std::string &name : st.retyped)
        column(name, false);
    for (const std::string &name : st.dropped)
        column(name, true);
    return out;
}

} // namespace pgview::alter
