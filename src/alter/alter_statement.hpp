// pgview_auto — the statement pgview_alter runs: exactly one ALTER TABLE (or
// ALTER FOREIGN TABLE, RENAME, SET SCHEMA of a table), checked by the parser
// before anything runs, and the columns it changes in a way views cannot
// follow (a new type, a dropped column). Nothing here changes the database.
#pragma once

#include <string>
#include <vector>

extern "C" {
#include "postgres.h"
}

namespace pgview::alter {

struct AlterStatement {
    std::string text;          // as given: run through SPI with the caller's rights
    Oid table = InvalidOid;    // InvalidOid: ALTER TABLE IF EXISTS of a missing table
    bool has_commands = false; // an ALTER TABLE with subcommands (not RENAME / SET SCHEMA)
    bool recurse = true;       // not ONLY: inheritance children and partitions follow
    int lockmode = 0;          // the lock the ALTER TABLE will take
    std::vector<std::string> retyped; // ALTER COLUMN ... TYPE
    std::vector<std::string> dropped; // DROP COLUMN (IF EXISTS of a missing column left out)
    std::vector<std::string> added;   // ADD COLUMN
};

// 42601 for a syntax error, nothing, or more than one statement; 0A000 for any
// other statement; 42P01 for a missing table (without IF EXISTS); 42809 for a
// relation that is not a table.
AlterStatement parse_statement(const std::string &text);

// A column whose dependents must be rebuilt: attnum 0 stands for the whole relation.
struct ColumnRef {
    Oid rel;
    int attnum;
    std::string name;
    bool dropped; // DROP COLUMN without an ADD COLUMN of the same name in the statement
};

// The retyped and dropped columns, on the table and (without ONLY) on every
// inheritance child and partition that changes with it. 42703 for a column the
// table does not have.
std::vector<ColumnRef> changed_columns(const AlterStatement &statement);

} // namespace pgview::alter
