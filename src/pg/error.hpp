// pgview_auto — the one C++ exception type that crosses our own code.
//
// Pure C++ (no PostgreSQL headers): the graph and other pure parts throw it with
// a SQLSTATE spelled as five characters. The boundary (src/pg/guard.hpp) turns
// it into ereport(ERROR) at the extern "C" entry point, and turns PostgreSQL
// errors met inside C++ code into it (keeping the original ErrorData).
#pragma once

#include <stdexcept>
#include <string>

namespace pgview {

class Error : public std::runtime_error {
public:
    Error(std::string sqlstate, const std::string &message,
          std::string detail = {}, std::string hint = {})
        : std::runtime_error(message), sqlstate_(std::move(sqlstate)),
          detail_(std::move(detail)), hint_(std::move(hint)) {}

    const std::string &sqlstate() const { return sqlstate_; }
    const std::string &detail() const { return detail_; }
    const std::string &hint() const { return hint_; }

    // A PostgreSQL ErrorData (palloc'd copy) when this exception carries an error
    // that PostgreSQL raised; the entry guard re-throws it unchanged (SQLSTATE,
    // message, detail, hint, context, position). Opaque here: no PG headers.
    void *pg_error_data() const { return pg_error_data_; }
    void set_pg_error_data(void *edata) { pg_error_data_ = edata; }

private:
    std::string sqlstate_;
    std::string detail_;
    std::string hint_;
    void *pg_error_data_ = nullptr;
};

// SQLSTATEs our pure C++ code raises (PostgreSQL's errcodes.h spells the same).
namespace sqlstate {
inline constexpr const char *internal_error = "XX000";
inline constexpr const char *wrong_object_type = "42809";
inline constexpr const char *null_value_not_allowed = "22004";
inline constexpr const char *invalid_parameter_value = "22023";
inline constexpr const char *object_not_in_prerequisite_state = "55000";
inline constexpr const char *invalid_recursion = "42P19";
inline constexpr const char *feature_not_supported = "0A000";
} // namespace sqlstate

} // namespace pgview
