// pgview_auto — see quote.hpp.
#include "pg/quote.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace pgview {

std::string ident(const std::string &name) {
    return pg_call([&name] { return quote_identifier(name.c_str()); });
}

std::string literal(const std::string &text) {
    return pg_call([&text] { return quote_literal_cstr(text.c_str()); });
}

const char *quote_relation(Oid relid) {
    // A relation dropped meanwhile (or a stale OID) has no name to quote.
    char *name = get_rel_name(relid);
    char *schema = name != nullptr ? get_namespace_name(get_rel_namespace(relid)) : nullptr;
    if (schema == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", relid)));
    return quote_qualified_identifier(schema, name);
}

std::string qualified_name(Oid relid) {
    return pg_call([relid] { return quote_relation(relid); });
}

} // namespace pgview
