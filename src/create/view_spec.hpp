// pgview_auto — what pgview_create was asked for, checked before anything is
// created: the kind, the name (parsed as PostgreSQL parses identifiers), the
// query (exactly one SELECT, cut out of the text by the parser so that nothing
// after it can ride along), the options and the unique key. Every problem is a
// pgview::Error with a SQLSTATE; nothing here changes the database.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace pgview::create {

enum class Kind { view, matview, table_view };

const char *kind_name(Kind kind);         // as pgview_create spells it
Kind parse_kind(const std::string &kind); // throws 22023 for anything else

struct QualifiedName {
    std::string schema; // empty: the creation schema of the search_path
    std::string name;
    std::string sql() const; // quoted, schema-qualified when a schema was given
};
// "a.b", "\"My View\"", ...; throws 42602 for an empty or malformed name.
QualifiedName parse_name(const std::string &text);

// The SELECT (or VALUES, or WITH ... SELECT) statement alone; throws 42601 for
// an empty query, more than one statement, or anything but a query.
std::string parse_query(const std::string &text, const std::string &for_name);

// The query reads a temporary table or view (as the caller, with the caller's
// search_path, as CREATE VIEW would see it); false for a query that does not
// analyze (its own error comes when it is used).
bool reads_temporary_relation(const std::string &query);

struct Option {
    std::string name;  // lower case, checked to be a plain (dotted) word
    std::string value; // quoted as a literal when used
};
// 'name=value' strings; for a view only security_barrier, security_invoker and
// check_option; storage parameters otherwise (PostgreSQL checks their names).
std::vector<Option> parse_options(const std::vector<std::string> &options, Kind kind);
std::string option_list(const std::vector<Option> &options); // "a = 'x', b = 'y'"
std::string with_clause(const std::vector<Option> &options); // "" or " WITH (...)"

// Column names for a unique index; throws 22023 on an empty or repeated one.
std::vector<std::string> parse_unique_key(const std::vector<std::string> &columns, Kind kind);

} // namespace pgview::create
