// pgview_auto — checking pgview_create's arguments (see view_spec.hpp).
#include "create/view_spec.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "pg/guard.hpp"
#include "pg/quote.hpp"
#include "pg/subtransaction.hpp"

extern "C" {
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "parser/analyze.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
}

namespace pgview::create {

namespace {

constexpr const char *syntax_error = "42601";
constexpr const char *invalid_name = "42602";

std::string trim(const std::string &s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos)
        return {};
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// A reloption name: word or word.word (toast.fillfactor), nothing to quote.
bool plain_option_name(const std::string &s) {
    bool word_start = true;
    for (char c : s) {
        if (c == '.' && !word_start) {
            word_start = true;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || c == '_' || (!word_start && c >= '0' && c <= '9');
        if (!ok)
            return false;
        word_start = false;
    }
    return !s.empty() && !word_start;
}

} // namespace

const char *kind_name(Kind kind) {
    switch (kind) {
    case Kind::view:
        return "view";
    case Kind::matview:
        return "materialized view";
    case Kind::table_view:
        return "table view";
    }
    return "?";
}

Kind parse_kind(const std::string &kind) {
    if (kind == "view")
        return Kind::view;
    if (kind == "materialized view")
        return Kind::matview;
    if (kind == "table view")
        return Kind::table_view;
    throw Error(sqlstate::invalid_parameter_value, "unknown kind '" + kind + "'", {},
                "kind is one of 'view', 'materialized view', 'table view'.");
}

std::string QualifiedName::sql() const {
    std::string out = schema.empty() ? std::string() : ident(schema) + ".";
    return out + ident(name);
}

QualifiedName parse_name(const std::string &text) {
    if (trim(text).empty())
        throw Error(invalid_name, "the name of the view is empty", {},
                    "Give a name, possibly schema-qualified: 'reports.daily' or '\"Daily Sales\"'.");
    // The parser's own rules: unquoted parts fold to lower case, quotes keep case.
    List *parts = pg_call([&text] { return stringToQualifiedNameList(text.c_str()); });
    int n = list_length(parts);
    if (n > 2)
        throw Error(invalid_name, "improper qualified name (too many dotted names): " + text, {},
                    "Give the view's name as name or schema.name.");
    QualifiedName q;
    q.name = strVal(llast(parts));
    if (n == 2)
        q.schema = strVal(linitial(parts));
    return q;
}

namespace {

bool word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The first bind parameter of a client library's query text outside literals,
// quoted identifiers and comments: ":name" (SQLAlchemy's str(select(...))) or
// "%(name)s" (psycopg2's pyformat); "" if none. "::type" casts are not one.
std::string bind_parameter(const std::string &t) {
    const size_t n = t.size();
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '\'' || c == '"') { // a literal or a quoted identifier ('' and "" double up)
            for (i++; i < n; i++)
                if (t[i] == c) {
                    if (i + 1 < n && t[i + 1] == c)
                        i++;
                    else
                        break;
                }
        } else if (c == '-' && i + 1 < n && t[i + 1] == '-') {
            while (i < n && t[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < n && t[i + 1] == '*') {
            size_t end = t.find("*/", i + 2);
            i = end == std::string::npos ? n : end + 1;
        } else if (c == '$' && (i == 0 || !word_char(t[i - 1]))) { // $tag$ ... $tag$ (not $1)
            size_t j = i + 1;
            while (j < n && word_char(t[j]) && !std::isdigit(static_cast<unsigned char>(t[i + 1])))
                j++;
            if (j < n && t[j] == '$') {
                std::string tag = t.substr(i, j - i + 1);
                size_t end = t.find(tag, j + 1);
                i = end == std::string::npos ? n : end + tag.size() - 1;
            }
        } else if (c == ':' && i + 1 < n && t[i + 1] == ':') {
            i++; // a cast
        } else if (c == ':' && i + 1 < n && word_start(t[i + 1]) && (i == 0 || t[i - 1] != ':')) {
            size_t j = i + 1;
            while (j < n && word_char(t[j]))
                j++;
            return t.substr(i, j - i);
        } else if (c == '%' && i + 1 < n && t[i + 1] == '(') {
            size_t end = t.find(")s", i + 2);
            if (end != std::string::npos && end - i < 64)
                return t.substr(i, end + 2 - i);
        }
    }
    return {};
}

} // namespace

std::string parse_query(const std::string &text, const std::string &for_name) {
    if (trim(text).empty())
        throw Error(syntax_error, "the query for \"" + for_name + "\" is empty", {},
                    "Give a SELECT statement.");
    List *stmts;
    try {
        stmts = pg_call([&text] { return raw_parser(text.c_str(), RAW_PARSE_DEFAULT); });
    } catch (const Error &e) {
        // The parser's cursor position would point into the caller's statement.
        std::string parameter = bind_parameter(text);
        if (!parameter.empty())
            throw Error(syntax_error, "the query for \"" + for_name + "\" is not valid SQL: " + e.what(),
                        "It holds the bind parameter " + parameter +
                            ": a view's query is stored with its values, not with parameters.",
                        "Render the values into the text: with SQLAlchemy, str(stmt.compile(dialect=postgresql.dialect(), "
                        "compile_kwargs={\"literal_binds\": True})) (the pgview_auto.sqlalchemy constructs do this).");
        throw Error(syntax_error, "the query for \"" + for_name + "\" is not valid SQL: " + e.what(), {},
                    "Give a single SELECT statement.");
    }
    if (list_length(stmts) != 1)
        throw Error(syntax_error,
                    list_length(stmts) == 0 ? "the query for \"" + for_name + "\" is empty"
                                            : "the query for \"" + for_name + "\" holds more than one statement",
                    {}, "Give a single SELECT statement.");
    auto *raw = static_cast<RawStmt *>(linitial(stmts));
    if (!IsA(raw->stmt, SelectStmt) || reinterpret_cast<SelectStmt *>(raw->stmt)->intoClause != nullptr)
        throw Error(syntax_error, "the query for \"" + for_name + "\" is not a SELECT statement", {},
                    "A view is defined by a SELECT (or VALUES, or WITH ... SELECT) statement.");
    // Exactly the statement's text: a trailing semicolon or comment is left out.
    size_t from = static_cast<size_t>(raw->stmt_location);
    size_t len = raw->stmt_len == 0 ? std::string::npos : static_cast<size_t>(raw->stmt_len);
    return trim(text.substr(from, len));
}

namespace {
struct TemporaryCheck {
    const char *query;
    bool reads_temporary;
};
// C-level, in a subtransaction: parse analysis as CREATE VIEW would do it.
void analyze_for_temporary(void *arg) {
    auto *check = static_cast<TemporaryCheck *>(arg);
    List *stmts = raw_parser(check->query, RAW_PARSE_DEFAULT);
    Query *query = parse_analyze_fixedparams(linitial_node(RawStmt, stmts), check->query, nullptr, 0, nullptr);
    check->reads_temporary = isQueryUsingTempRelation(query);
}
} // namespace

bool reads_temporary_relation(const std::string &query) {
    TemporaryCheck check{query.c_str(), false};
    ErrorData *failure = pg_call([&check] { return run_in_subtransaction(analyze_for_temporary, &check); });
    // A query that does not analyze fails again where it is used, with its own error.
    return failure == nullptr && check.reads_temporary;
}

std::vector<Option> parse_options(const std::vector<std::string> &options, Kind kind) {
    static const std::set<std::string> view_options{"security_barrier", "security_invoker", "check_option"};
    std::vector<Option> out;
    std::set<std::string> seen;
    for (const std::string &text : options) {
        size_t eq = text.find('=');
        Option o{lower(trim(text.substr(0, eq))), eq == std::string::npos ? "" : trim(text.substr(eq + 1))};
        if (eq == std::string::npos || o.value.empty() || !plain_option_name(o.name))
            throw Error(sqlstate::invalid_parameter_value, "invalid option '" + text + "'", {},
                        "Options are 'name=value' strings, e.g. ARRAY['security_barrier=true'].");
        if (kind == Kind::view && view_options.count(o.name) == 0)
            throw Error(sqlstate::invalid_parameter_value, "unrecognized view option '" + o.name + "'", {},
                        "A view takes security_barrier, security_invoker and check_option.");
        if (kind != Kind::view && view_options.count(o.name) != 0)
            throw Error(sqlstate::invalid_parameter_value,
                        "option '" + o.name + "' applies to views, not to a " + kind_name(kind), {},
                        "A materialized view or table view takes storage parameters, e.g. 'fillfactor=70'.");
        if (!seen.insert(o.name).second)
            throw Error(sqlstate::invalid_parameter_value, "option '" + o.name + "' is given twice");
        out.push_back(std::move(o));
    }
    return out;
}

std::string option_list(const std::vector<Option> &options) {
    std::string out;
    for (const Option &o : options)
        out += (out.empty() ? "" : ", ") + o.name + " = " + literal(o.value);
    return out;
}

std::string with_clause(const std::vector<Option> &options) {
    return options.empty() ? std::string() : " WITH (" + option_list(options) + ")";
}

std::vector<std::string> parse_unique_key(const std::vector<std::string> &columns, Kind kind) {
    if (columns.empty())
        return {};
    if (kind == Kind::view)
        throw Error(sqlstate::invalid_parameter_value, "a view cannot have a unique key", {},
                    "unique_key applies to materialized views and table views.");
    std::set<std::string> seen;
    for (const std::string &c : columns) {
        if (c.empty())
            throw Error(sqlstate::invalid_parameter_value, "unique_key holds an empty column name");
        if (!seen.insert(c).second)
            throw Error(sqlstate::invalid_parameter_value, "unique_key names column \"" + c + "\" twice");
    }
    return columns;
}

} // namespace pgview::create
