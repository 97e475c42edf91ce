// pgview_auto — see quote.hpp.
#include "pg/quote.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_operator.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
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

const char *equality_operator(Oid type, bool missing_ok) {
    TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_EQ_OPR);
    if (!OidIsValid(tc->eq_opr)) {
        if (missing_ok)
            return nullptr;
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                        errmsg("type %s has no default equality operator", format_type_be(type)),
                        errhint("A key column needs a type with a default btree or hash operator class.")));
    }
    HeapTuple tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tc->eq_opr));
    if (!HeapTupleIsValid(tup))
        elog(ERROR, "pgview_auto: operator %u vanished", tc->eq_opr);
    auto *form = reinterpret_cast<Form_pg_operator>(GETSTRUCT(tup));
    const char *op = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(form->oprnamespace)),
                              NameStr(form->oprname));
    ReleaseSysCache(tup);
    return op;
}

std::string relation_name(Oid relid) {
    return pg_call([relid] { return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid))); });
}

std::string qualified_name(Oid relid) {
    return pg_call([relid] { return quote_relation(relid); });
}

} // namespace pgview
