// pgview_auto — the non-template half of the C/C++ boundary (see guard.hpp).
#include "pg/guard.hpp"

#include <cstring>

namespace pgview {

namespace {
// capture_error runs inside a catch clause: it must not longjmp (an ERROR from
// palloc would leave the C++ runtime's caught-exception stack dangling), so it
// copies with MCXT_ALLOC_NO_OOM and falls back to a static text.
char *copy_text(const char *s, const char *fallback) noexcept {
    size_t len = std::strlen(s) + 1;
    auto *copy = static_cast<char *>(
        MemoryContextAllocExtended(CurrentMemoryContext, len, MCXT_ALLOC_NO_OOM));
    if (copy == nullptr)
        return const_cast<char *>(fallback);
    std::memcpy(copy, s, len);
    return copy;
}

char *copy_or_null(const std::string &s) noexcept {
    return s.empty() ? nullptr : copy_text(s.c_str(), "");
}

int sqlstate_code(const std::string &s) noexcept {
    if (s.size() != 5)
        return ERRCODE_INTERNAL_ERROR;
    return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}
} // namespace

void capture_error(PendingError &out, const Error &e) noexcept {
    out.pg_error_data = e.pg_error_data();
    out.sqlerrcode = sqlstate_code(e.sqlstate());
    out.message = copy_text(e.what(), "out of memory");
    out.detail = copy_or_null(e.detail());
    out.hint = copy_or_null(e.hint());
}

void capture_error(PendingError &out, const std::exception &e, int sqlerrcode) noexcept {
    out.sqlerrcode = sqlerrcode;
    out.message = copy_text(e.what(), "out of memory");
}

void raise_pending(const PendingError &p) {
    if (p.pg_error_data)
        ReThrowError(static_cast<ErrorData *>(p.pg_error_data));
    ereport(ERROR, (errcode(p.sqlerrcode), errmsg_internal("%s", p.message),
                    p.detail ? errdetail_internal("%s", p.detail) : 0,
                    p.hint ? errhint("%s", p.hint) : 0));
    pg_unreachable();
}

void throw_pg_error(MemoryContext restore_to) {
    MemoryContextSwitchTo(restore_to);
    ErrorData *edata = CopyErrorData();
    FlushErrorState();
    char code[6];
    std::memcpy(code, unpack_sql_state(edata->sqlerrcode), sizeof code);
    Error e(code, edata->message ? edata->message : "", edata->detail ? edata->detail : "",
            edata->hint ? edata->hint : "");
    e.set_pg_error_data(edata);
    throw e;
}

} // namespace pgview
