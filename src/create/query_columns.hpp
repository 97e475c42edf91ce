// pgview_auto — the columns a query gives and the columns a relation has, read
// before anything is created: pgview_create checks unique_key against the
// query's columns, and a table view's new query against the table's columns,
// so that a mistake is an error before the first statement runs.
#pragma once

#include <string>
#include <vector>

#include "create/sql_runner.hpp"

extern "C" {
#include "postgres.h"
}

namespace pgview::create {

struct Column {
    std::string name;
    Oid type;
    int typmod;
    std::string type_name; // as format_type writes it, e.g. "numeric(10,2)"
};

// The query's output columns. The query is parsed and analyzed (prepared, with
// the caller's rights and search_path, as CREATE VIEW would), never run; its
// own errors (an unknown column, say) are raised as they are.
std::vector<Column> query_columns(SqlRunner &sql, const std::string &query);
// The relation's columns (dropped ones left out), in order.
std::vector<Column> relation_columns(SqlRunner &sql, Oid rel);

// "day date, total numeric" for messages.
std::string describe_columns(const std::vector<Column> &columns);

} // namespace pgview::create
