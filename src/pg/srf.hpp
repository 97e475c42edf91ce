// pgview_auto — returning rows from a set-returning function (materialize mode).
//
// Rows are produced by pure C++ into plain values, then written to the
// tuplestore in batches, each batch inside one pg_call (tuplestore writes can
// ereport, e.g. on a full disk).
#pragma once

#include <cstddef>
#include <type_traits>

#include "pg/guard.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/tuplestore.h"
}

namespace pgview {

inline constexpr int max_srf_columns = 16;

class SrfOutput {
public:
    // scalar: the function returns SETOF a base type (one column, the expected descriptor).
    explicit SrfOutput(FunctionCallInfo fcinfo, bool scalar = false) : fcinfo_(fcinfo) {
        pg_call([fcinfo, scalar] {
#if PG_VERSION_NUM >= 150000
            InitMaterializedSRF(fcinfo, scalar ? MAT_SRF_USE_EXPECTED_DESC : 0);
#else
#error "pgview_auto needs PostgreSQL 15 or later"
#endif
        });
    }

    // fill(i, values, nulls) sets row i; it may return false to skip the row
    // (e.g. a relation dropped meanwhile). It runs inside pg_call, so it must
    // own no object with a destructor.
    template <typename Fill>
    void put_rows(std::size_t count, Fill &&fill) {
        ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo_->resultinfo);
        pg_call([&] {
            Datum values[max_srf_columns];
            bool nulls[max_srf_columns];
            for (std::size_t i = 0; i < count; i++) {
                for (bool &n : nulls)
                    n = false;
                if constexpr (std::is_same_v<decltype(fill(i, values, nulls)), bool>) {
                    if (!fill(i, values, nulls))
                        continue;
                } else {
                    fill(i, values, nulls);
                }
                tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
            }
        });
    }

private:
    FunctionCallInfo fcinfo_;
};

} // namespace pgview
