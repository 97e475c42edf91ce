// pgview_auto — statements pgview_create and pgview_drop run, through SPI, with
// the caller's rights and search_path (these functions are SECURITY INVOKER:
// the query text is the caller's SQL, run as the caller, by design).
#pragma once

#include <string>
#include <vector>

extern "C" {
#include "postgres.h"
}

namespace pgview::create {

// One connection to SPI for the length of a pgview_create/pgview_drop call.
class SqlRunner {
public:
    SqlRunner();
    ~SqlRunner();
    SqlRunner(const SqlRunner &) = delete;
    SqlRunner &operator=(const SqlRunner &) = delete;

    void run(const std::string &sql);
    // Rows of text columns (NULL as ""), for queries taking one oid parameter.
    std::vector<std::vector<std::string>> rows(const std::string &sql, Oid param);
    // The same for queries taking text parameters ($1, $2, ...; cast them in the SQL,
    // e.g. $1::pg_catalog.oid[]), so one query can read many relations at once; it
    // sees what this call changed so far (a fresh snapshot, not read-only).
    std::vector<std::vector<std::string>> rows(const std::string &sql, const std::vector<std::string> &params);
    // run(), but a failure rolls back only this statement and is returned ("" on success).
    std::string try_run(const std::string &sql);
};

} // namespace pgview::create
