// pgview_auto — see sql_runner.hpp.
#include "create/sql_runner.hpp"

#include <exception>

#include "pg/guard.hpp"
#include "pg/subtransaction.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
}

namespace pgview::create {

namespace {

void execute(const char *sql) {
    int rc = SPI_execute(sql, false, 0);
    if (rc < 0)
        elog(ERROR, "pgview_auto: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

} // namespace

SqlRunner::SqlRunner() {
    pg_call([] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "pgview_auto: SPI_connect failed");
    });
}

// On an error the transaction is aborted, which also ends the SPI connection;
// SPI_finish is only for the way out without one.
SqlRunner::~SqlRunner() {
    if (std::uncaught_exceptions() == 0)
        (void) SPI_finish(); // reports misuse by its return code, never by ERROR
}

void SqlRunner::run(const std::string &sql) {
    pg_call([&sql] { execute(sql.c_str()); });
}

namespace {

// The result of the last SPI query as text (NULL as "").
std::vector<std::vector<std::string>> fetch_rows() {
    std::vector<std::vector<std::string>> out;
    for (uint64 r = 0; r < SPI_processed; r++) {
        std::vector<std::string> row;
        for (int c = 1; c <= SPI_tuptable->tupdesc->natts; c++) {
            char *v = pg_call([r, c] { return SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c); });
            row.emplace_back(v != nullptr ? v : "");
        }
        out.push_back(std::move(row));
    }
    return out;
}

} // namespace

std::vector<std::vector<std::string>> SqlRunner::rows(const std::string &sql, Oid param) {
    pg_call([&sql, param] {
        Oid types[1] = {OIDOID};
        Datum values[1] = {ObjectIdGetDatum(param)};
        // Not read-only: a fresh snapshot, which sees what the statements run
        // before in this call created (an index restored, say).
        if (SPI_execute_with_args(sql.c_str(), 1, types, values, nullptr, false, 0) != SPI_OK_SELECT)
            elog(ERROR, "pgview_auto: \"%s\" failed", sql.c_str());
    });
    return fetch_rows();
}

std::vector<std::vector<std::string>> SqlRunner::rows(const std::string &sql, const std::vector<std::string> &params) {
    std::vector<const char *> texts;
    for (const std::string &p : params)
        texts.push_back(p.c_str());
    pg_call([&sql, &texts] {
        int n = static_cast<int>(texts.size());
        Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * (n + 1)));
        Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * (n + 1)));
        for (int i = 0; i < n; i++) {
            types[i] = TEXTOID;
            values[i] = CStringGetTextDatum(texts[i]);
        }
        // Not read-only: a fresh snapshot that sees what this call changed so far.
        if (SPI_execute_with_args(sql.c_str(), n, types, values, nullptr, false, 0) != SPI_OK_SELECT)
            elog(ERROR, "pgview_auto: \"%s\" failed", sql.c_str());
    });
    return fetch_rows();
}

std::string SqlRunner::try_run(const std::string &sql) {
    ErrorData *failure = pg_call([&sql] {
        return run_in_subtransaction([](void *arg) { execute(static_cast<const char *>(arg)); },
                                     const_cast<char *>(sql.c_str()));
    });
    return failure == nullptr ? std::string() : std::string(failure->message);
}

} // namespace pgview::create
