// pgview_auto — the C/C++ boundary, written once.
//
// PostgreSQL reports errors with longjmp; C++ with exceptions. Neither may cross
// the other's frames:
//   * entry_guard(): every extern "C" function PostgreSQL calls runs its body in
//     it. A C++ exception is caught, its contents copied to palloc'd memory, the
//     try scope ends (every C++ object of the call is destroyed) and only then is
//     ereport(ERROR) raised.
//   * pg_call(): every call from C++ into PostgreSQL code that may ereport(ERROR)
//     runs in it, under its own sigsetjmp. An ERROR becomes a pgview::Error that
//     carries the original ErrorData; the memory context and error state are
//     restored first. The lambda given to pg_call must own no object with a
//     destructor: a longjmp out of it skips its frame.
// A caught PostgreSQL error leaves the transaction in need of abort; the
// exception is meant to travel up to entry_guard, which re-raises it. Code that
// wants to survive an error uses a subtransaction (see the refresher).
#pragma once

#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "pg/error.hpp"

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

namespace pgview {

// Raises a PostgreSQL ERROR for the pending C++ failure. Lives in guard.cpp so
// that no C++ object is alive in the frame that longjmps.
struct PendingError {
    int sqlerrcode = 0;
    char *message = nullptr;
    char *detail = nullptr;
    char *hint = nullptr;
    void *pg_error_data = nullptr; // ErrorData* to re-throw as is
};
void capture_error(PendingError &out, const Error &e) noexcept;
void capture_error(PendingError &out, const std::exception &e, int sqlerrcode) noexcept;
[[noreturn]] void raise_pending(const PendingError &p);
[[noreturn]] void throw_pg_error(MemoryContext restore_to);

// Returns what body returns (Datum for SQL functions, void for callbacks).
template <typename Body>
auto entry_guard(Body &&body) -> decltype(body()) {
    PendingError pending;
    try {
        return body();
    } catch (const Error &e) {
        capture_error(pending, e);
    } catch (const std::bad_alloc &e) {
        capture_error(pending, e, ERRCODE_OUT_OF_MEMORY);
    } catch (const std::exception &e) {
        capture_error(pending, e, ERRCODE_INTERNAL_ERROR);
    } catch (...) {
        capture_error(pending, std::runtime_error("unknown C++ exception"), ERRCODE_INTERNAL_ERROR);
    }
    // Every C++ object of the call has been destroyed by now.
    raise_pending(pending);
}

template <typename F>
auto pg_call(F &&f) -> decltype(f()) {
    using Result = decltype(f());
    static_assert(std::is_void_v<Result> || std::is_scalar_v<Result>,
                  "pg_call returns plain values only (Datum, pointers, numbers)");
    MemoryContext caller_context = CurrentMemoryContext;
    std::exception_ptr cpp_failure; // lives in this frame, which the longjmp lands in
    // Written after sigsetjmp and read after a possible longjmp: volatile.
    volatile bool pg_failed = false;
    [[maybe_unused]] volatile std::conditional_t<std::is_void_v<Result>, int, Result> result{};

    PG_TRY();
    {
        try {
            if constexpr (std::is_void_v<Result>)
                f();
            else
                result = f();
        } catch (...) {
            // A C++ exception must not leave PG_TRY with PG_exception_stack pointing here.
            cpp_failure = std::current_exception();
        }
    }
    PG_CATCH();
    {
        pg_failed = true;
    }
    PG_END_TRY();

    if (pg_failed)
        throw_pg_error(caller_context);
    if (cpp_failure)
        std::rethrow_exception(cpp_failure);
    if constexpr (!std::is_void_v<Result>)
        return result;
}

// PG_FUNCTION_INFO_V1 plus an extern "C" shim running NAME##_impl in entry_guard.
#define PGVIEW_FUNCTION(name)                                                   \
    static Datum name##_impl(FunctionCallInfo fcinfo);                          \
    extern "C" {                                                                \
    PG_FUNCTION_INFO_V1(name);                                                  \
    Datum name(PG_FUNCTION_ARGS) {                                              \
        return pgview::entry_guard([fcinfo] { return name##_impl(fcinfo); });   \
    }                                                                           \
    }                                                                           \
    static Datum name##_impl(FunctionCallInfo fcinfo)

} // namespace pgview
