// pgview_auto — see query_columns.hpp.
#include "create/query_columns.hpp"

#include "pg/guard.hpp"
#include "pg/quote.hpp"

extern "C" {
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/plancache.h"
}

namespace pgview::create {

namespace {

// C-level: the result descriptor of the prepared query, copied into the
// caller's memory context; the plan is freed.
TupleDesc prepared_result(const char *query) {
    MemoryContext caller = CurrentMemoryContext;
    SPIPlanPtr plan = SPI_prepare(query, 0, nullptr);
    if (plan == nullptr)
        elog(ERROR, "pgview_auto: could not prepare the query: %s", SPI_result_code_string(SPI_result));
    List *sources = SPI_plan_get_plan_sources(plan);
    TupleDesc result = nullptr;
    if (list_length(sources) == 1) {
        auto *source = static_cast<CachedPlanSource *>(linitial(sources));
        if (source->resultDesc != nullptr) {
            MemoryContext old = MemoryContextSwitchTo(caller);
            result = CreateTupleDescCopy(source->resultDesc);
            MemoryContextSwitchTo(old);
        }
    }
    SPI_freeplan(plan);
    return result;
}

} // namespace

std::vector<Column> query_columns(SqlRunner &, const std::string &query) {
    const char *text = query.c_str();
    TupleDesc desc = pg_call([text] { return prepared_result(text); });
    std::vector<Column> out;
    if (desc == nullptr)
        return out;
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        const char *type_name = pg_call([a] { return format_type_with_typemod(a->atttypid, a->atttypmod); });
        out.push_back({NameStr(a->attname), a->atttypid, a->atttypmod, type_name});
    }
    return out;
}

std::vector<Column> relation_columns(SqlRunner &sql, Oid rel) {
    std::vector<Column> out;
    for (const auto &row : sql.rows("SELECT attname, atttypid, atttypmod, "
                                    "       pg_catalog.format_type(atttypid, atttypmod) "
                                    "FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attnum > 0 "
                                    "AND NOT attisdropped ORDER BY attnum",
                                    rel))
        out.push_back({row[0], static_cast<Oid>(std::stoul(row[1])), std::stoi(row[2]), row[3]});
    return out;
}

std::string describe_columns(const std::vector<Column> &columns) {
    std::string out;
    for (const Column &c : columns)
        out += (out.empty() ? "" : ", ") + ident(c.name) + " " + c.type_name;
    return out;
}

} // namespace pgview::create
