// pgview_auto — the statements of each plan (see statement.hpp).
#include "engine/statement.hpp"

#include "pg/quote.hpp"
#include "syscat/relation_info.hpp"

extern "C" {
#include "access/relation.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace pgview::engine {

namespace {

using analysis::DeltaColumn;
using analysis::DeltaShape;
using analysis::Move;

const char *col(const TableShape *t, int i) { return t->cols[i]; }
const char *key(const TableShape *t, int k) { return t->cols[t->key_cols[k]]; }
bool is_key(const TableShape *t, int i) {
    for (int k = 0; k < t->nkeys; k++)
        if (t->key_cols[k] == i)
            return true;
    return false;
}

void append_columns(StringInfo sql, const char *prefix, const TableShape *t, bool skip_keys) {
    bool first = true;
    for (int i = 0; i < t->ncols; i++) {
        if (skip_keys && is_key(t, i))
            continue;
        appendStringInfo(sql, "%s%s%s", first ? "" : ", ", prefix, col(t, i));
        first = false;
    }
}

void append_keys(StringInfo sql, const char *prefix, const TableShape *t) {
    for (int k = 0; k < t->nkeys; k++)
        appendStringInfo(sql, "%s%s%s", k > 0 ? ", " : "", prefix, key(t, k));
}

// a.k1 = b.k1 AND ... with each key type's equality (NULL-safe with nulls).
void append_match(StringInfo sql, const char *a, const char *b, const TableShape *t, bool nulls) {
    for (int k = 0; k < t->nkeys; k++) {
        const char *c = key(t, k);
        if (nulls)
            appendStringInfo(sql, "%s(%s.%s %s %s.%s OR (%s.%s IS NULL AND %s.%s IS NULL))", k > 0 ? " AND " : "", a,
                             c, t->key_eq[k], b, c, a, c, b, c);
        else
            appendStringInfo(sql, "%s%s.%s %s %s.%s", k > 0 ? " AND " : "", a, c, t->key_eq[k], b, c);
    }
}

// The rows of alias whose key is one of the parameters' ($1 .. $nkeys: one
// array per key column; with several columns, also the exact tuples: the
// per-column filters alone are what the planner pushes down to indexes).
void append_key_filter(StringInfo sql, const char *alias, const TableShape *t, bool nulls) {
    for (int k = 0; k < t->nkeys; k++) {
        const char *c = key(t, k);
        if (nulls)
            appendStringInfo(sql, "%s(%s.%s %s ANY ($%d) OR %s.%s IS NULL)", k > 0 ? " AND " : "", alias, c,
                             t->key_eq[k], k + 1, alias, c);
        else
            appendStringInfo(sql, "%s%s.%s %s ANY ($%d)", k > 0 ? " AND " : "", alias, c, t->key_eq[k], k + 1);
    }
    if (t->nkeys > 1 || nulls) {
        appendStringInfoString(sql, " AND EXISTS (SELECT FROM pgview_keys WHERE ");
        append_match(sql, "pgview_keys", alias, t, nulls);
        appendStringInfoChar(sql, ')');
    }
}

// A row's columns outside the key changed: their bytes differ (as REFRESH ...
// CONCURRENTLY's *= says: 1.0 and 1.00 differ, which a
// type's own equality would call equal and leave stale).
void append_changed(StringInfo sql, const TableShape *t) {
    appendStringInfoString(sql, "NOT pg_catalog.record_image_eq(ROW(");
    append_columns(sql, "t.", t, true);
    appendStringInfoString(sql, "), ROW(");
    append_columns(sql, "n.", t, true);
    appendStringInfoString(sql, "))");
}

// WITH pgview_keys AS (the keys' arrays as rows), for filters on several
// columns or with NULLs.
void append_keys_cte(StringInfo sql, const TableShape *t) {
    appendStringInfoString(sql, "pgview_keys AS (SELECT * FROM ROWS FROM (");
    for (int k = 0; k < t->nkeys; k++)
        appendStringInfo(sql, "%spg_catalog.unnest($%d)", k > 0 ? ", " : "", k + 1);
    appendStringInfoString(sql, ") AS u(");
    append_keys(sql, "", t);
    appendStringInfoString(sql, ")), ");
}

// The difference for a table view whose rows may repeat (no key, or a key
// that only partitions them): a multiset, the k-th copy of a row on one side
// matching the k-th on the other; keyed: within the keys' partitions only.
char *multiset_sql(const TableShape *t, bool keyed, bool nulls) {
    StringInfoData sql;
    initStringInfo(&sql);
    const char *table = t->table_name;
    auto filter = [&](const char *alias) {
        if (!keyed)
            return;
        appendStringInfoString(&sql, " WHERE ");
        append_key_filter(&sql, alias, t, nulls);
    };
    appendStringInfoString(&sql, "WITH ");
    if (keyed && (t->nkeys > 1 || nulls))
        append_keys_cte(&sql, t);
    appendStringInfoString(&sql, "n AS MATERIALIZED (SELECT ");
    append_columns(&sql, "", t, false);
    appendStringInfoString(&sql, ", pgview_row, pg_catalog.row_number() OVER (PARTITION BY pgview_row) AS pgview_copy "
                                 "FROM (SELECT q.*, (q.*)::pg_catalog.text AS pgview_row FROM (SELECT ");
    append_columns(&sql, "q.", t, false);
    appendStringInfo(&sql, " FROM %s q", t->definition_name);
    filter("q");
    appendStringInfo(&sql, ") q) s), o AS MATERIALIZED (SELECT ctid AS pgview_ctid, pgview_row, "
                           "pg_catalog.row_number() OVER (PARTITION BY pgview_row) AS pgview_copy FROM (SELECT t.ctid, "
                           "(t.*)::pg_catalog.text AS pgview_row FROM %s t",
                     table);
    filter("t");
    appendStringInfo(&sql,
                     ") s), d AS (DELETE FROM %s t USING o WHERE "
                     "t.ctid OPERATOR(pg_catalog.=) o.pgview_ctid AND NOT EXISTS (SELECT FROM n WHERE n.pgview_row "
                     "OPERATOR(pg_catalog.=) o.pgview_row AND n.pgview_copy OPERATOR(pg_catalog.=) o.pgview_copy) "
                     "RETURNING 1), i AS (INSERT INTO %s (",
                     table, table);
    append_columns(&sql, "", t, false);
    appendStringInfoString(&sql, ") SELECT ");
    append_columns(&sql, "", t, false);
    appendStringInfoString(&sql, " FROM n WHERE NOT EXISTS (SELECT FROM o WHERE o.pgview_row OPERATOR(pg_catalog.=) "
                                 "n.pgview_row AND o.pgview_copy OPERATOR(pg_catalog.=) n.pgview_copy) RETURNING 1) "
                                 "SELECT (SELECT pg_catalog.count(*) FROM d), 0::pg_catalog.int8, "
                                 "(SELECT pg_catalog.count(*) FROM i), false");
    return sql.data;
}

// ------------------------------------------------------------- delta

const char *arg_name(const char *what, int arg) { return psprintf("d.pgview_%s%d", what, arg); }

// The view column of the shape's column j, by name.
int table_col(const TableShape *t, const DeltaColumn &c) {
    const char *quoted = quote_identifier(c.name);
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i], quoted) == 0)
            return i;
    elog(ERROR, "pgview_auto: column %s of a table view is gone", quoted);
    return -1;
}

// Expressions of a column's new value; `old` is the column's value before the
// change (t.col in an UPDATE, the empty group's value in an INSERT).
struct DeltaExprs {
    const TableShape *t;
    const DeltaShape *s;
    bool empty; // the group is new: old values are those of a group with no row

    const char *old(int j) const {
        const DeltaColumn &c = s->columns[j];
        if (!empty)
            return psprintf("t.%s", col(t, table_col(t, c)));
        switch (c.move) {
        case Move::rows:
        case Move::nonnull:
        case Move::coalesce_sum: return "0";
        default: return "NULL";
        }
    }
    // The new count of the view's column j (count(*) or count(x)).
    const char *count(int j) const {
        const DeltaColumn &c = s->columns[j];
        const char *d = c.move == Move::rows ? "d.pgview_r" : arg_name("c", c.arg);
        return psprintf("(%s OPERATOR(pg_catalog.+) %s)", old(j), d);
    }
    const char *sum(int j) const {
        return psprintf("(COALESCE(%s, 0) OPERATOR(pg_catalog.+) %s)", old(j), arg_name("s", s->columns[j].arg));
    }
    const char *when_empty(int count_column, const char *empty_value, const char *value) const {
        if (count_column < 0)
            return value;
        return psprintf("CASE WHEN %s OPERATOR(pg_catalog.=) 0 THEN %s ELSE %s END", count(count_column), empty_value,
                        value);
    }
    const char *extreme(int j, const char *fn, const char *what) const {
        const DeltaColumn &c = s->columns[j];
        Oid collation = s->layout.args[c.arg].collation;
        const char *collate = "";
        if (OidIsValid(collation) && collation != DEFAULT_COLLATION_OID)
            collate = psprintf(" COLLATE %s", quote_identifier(get_collation_name(collation)));
        return psprintf("%s(%s, %s%s)", fn, old(j), arg_name(what, c.arg), collate);
    }
    // nullptr: the column is not written (key and group columns).
    const char *value(int j) const {
        const DeltaColumn &c = s->columns[j];
        switch (c.move) {
        case Move::key:
        case Move::fixed: return nullptr;
        case Move::rows:
        case Move::nonnull: return count(j);
        case Move::sum: return when_empty(c.count_column, "NULL", sum(j));
        case Move::coalesce_sum:
            return when_empty(c.count_column, psprintf("CAST(0 AS %s)", format_type_be_qualified(c.type)), sum(j));
        case Move::avg:
            return when_empty(c.count_column, "NULL",
                              psprintf("(CAST(%s AS pg_catalog.numeric) OPERATOR(pg_catalog./) CAST(%s AS "
                                       "pg_catalog.numeric))",
                                       sum(c.sum_column), count(c.count_column)));
        case Move::min: return extreme(j, "LEAST", "lo");
        case Move::max: return extreme(j, "GREATEST", "hi");
        }
        return nullptr;
    }
};

// The groups' values: one parameter each (an array of them, or one scalar).
void add_param(DeltaStatements *out, List **names, Oid element_type, const char *name, bool single) {
    out->param_types[out->nparams++] = single ? element_type : get_array_type(element_type);
    *names = lappend(*names, const_cast<char *>(name));
}

// WITH d AS (the groups' arrays as rows, numbered); single: one group, its
// values as scalars (the planner then reduces d to the parameters: the
// statement is a plain UPDATE of one row found by its key's index).
char *groups_cte(const TableShape *t, const DeltaShape *s, DeltaStatements *out, bool single) {
    int max = t->nkeys + 1 + 4 * s->layout.nargs;
    out->param_types = static_cast<Oid *>(palloc(sizeof(Oid) * (max + 1)));
    out->nparams = 0;
    List *names = NIL;
    for (int k = 0; k < t->nkeys; k++)
        add_param(out, &names, t->types[t->key_cols[k]], psprintf("pgview_k%d", k), single);
    add_param(out, &names, INT8OID, "pgview_r", single);
    for (int a = 0; a < s->layout.nargs; a++) {
        const changes::DeltaArg &arg = s->layout.args[a];
        add_param(out, &names, INT8OID, psprintf("pgview_c%d", a), single);
        if (arg.sum != 0)
            add_param(out, &names, arg.sum == 'i' ? INT8OID : NUMERICOID, psprintf("pgview_s%d", a), single);
        if (arg.min)
            add_param(out, &names, arg.type, psprintf("pgview_lo%d", a), single);
        if (arg.max)
            add_param(out, &names, arg.type, psprintf("pgview_hi%d", a), single);
    }
    StringInfoData sql;
    initStringInfo(&sql);
    if (single) {
        appendStringInfoString(&sql, "WITH d AS (SELECT ");
        for (int p = 0; p < out->nparams; p++)
            appendStringInfo(&sql, "$%d AS %s, ", p + 1, static_cast<const char *>(list_nth(names, p)));
        appendStringInfoString(&sql, "1::pg_catalog.int8 AS pgview_n) ");
        return sql.data;
    }
    appendStringInfoString(&sql, "WITH d AS (SELECT * FROM ROWS FROM (");
    for (int p = 0; p < out->nparams; p++)
        appendStringInfo(&sql, "%spg_catalog.unnest($%d)", p > 0 ? ", " : "", p + 1);
    appendStringInfoString(&sql, ") WITH ORDINALITY AS d(");
    for (int p = 0; p < out->nparams; p++)
        appendStringInfo(&sql, "%s, ", static_cast<const char *>(list_nth(names, p)));
    appendStringInfoString(&sql, "pgview_n)) ");
    return sql.data;
}

void append_delta_match(StringInfo sql, const TableShape *t) {
    if (t->nkeys == 0)
        appendStringInfoString(sql, "true"); // (the view's one row: aggregates without GROUP BY)
    for (int k = 0; k < t->nkeys; k++)
        appendStringInfo(sql, "%st.%s %s d.pgview_k%d", k > 0 ? " AND " : "", key(t, k), t->key_eq[k], k);
}

} // namespace

TableShape *table_shape(Oid table, Oid definition, List *key_names) {
    auto *t = static_cast<TableShape *>(palloc0(sizeof(TableShape)));
    t->table = table;
    t->definition = definition;
    t->table_name = quote_relation(table);
    t->definition_name = quote_relation(definition);
    Relation rel = relation_open(table, NoLock); // the caller holds a lock
    TupleDesc desc = RelationGetDescr(rel);
    t->cols = static_cast<char **>(palloc(sizeof(char *) * (desc->natts + 1)));
    t->types = static_cast<Oid *>(palloc(sizeof(Oid) * (desc->natts + 1)));
    char **raw = static_cast<char **>(palloc(sizeof(char *) * (desc->natts + 1)));
    AttrNumber *attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * (desc->natts + 1)));
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped)
            continue;
        attnums[t->ncols] = att->attnum;
        raw[t->ncols] = pstrdup(NameStr(att->attname));
        t->types[t->ncols] = att->atttypid;
        t->cols[t->ncols++] = pstrdup(quote_identifier(NameStr(att->attname)));
    }
    t->nkeys = list_length(key_names);
    t->key_cols = static_cast<int *>(palloc(sizeof(int) * (t->nkeys + 1)));
    t->key_eq = static_cast<const char **>(palloc(sizeof(char *) * (t->nkeys + 1)));
    for (int k = 0; k < t->nkeys; k++) {
        const char *name = static_cast<const char *>(list_nth(key_names, k));
        t->key_cols[k] = -1;
        for (int i = 0; i < t->ncols; i++)
            if (strcmp(raw[i], name) == 0)
                t->key_cols[k] = i;
        if (t->key_cols[k] < 0)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("key column \"%s\" of table view %s does not exist", name, t->table_name)));
        t->key_eq[k] = equality_operator(t->types[t->key_cols[k]]);
    }
    AttrNumber *key_attnums = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * (t->nkeys + 1)));
    for (int k = 0; k < t->nkeys; k++)
        key_attnums[k] = attnums[t->key_cols[k]];
    t->partition = t->nkeys > 0 && !syscat::unique_on(rel, key_attnums, t->nkeys);
    relation_close(rel, NoLock);
    return t;
}

char *difference_sql(const TableShape *t, bool keyed, bool nulls) {
    if (t->nkeys == 0 || t->partition)
        return multiset_sql(t, keyed && t->nkeys > 0, nulls);
    const char *table = t->table_name;
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfoString(&sql, "WITH ");
    if (keyed && (t->nkeys > 1 || nulls))
        append_keys_cte(&sql, t);
    // (keyed: the query restricted to the keys, which the planner pushes down)
    auto filter = [&](const char *alias, const char *glue) {
        if (!keyed)
            return;
        appendStringInfoString(&sql, glue);
        append_key_filter(&sql, alias, t, nulls);
    };
    appendStringInfoString(&sql, "n AS MATERIALIZED (SELECT ");
    append_columns(&sql, "q.", t, false);
    appendStringInfo(&sql, " FROM %s q", t->definition_name);
    filter("q", " WHERE ");
    appendStringInfo(&sql, "), d AS (DELETE FROM %s t WHERE ", table);
    filter("t", "");
    appendStringInfo(&sql, "%sNOT EXISTS (SELECT FROM n WHERE ", keyed ? " AND " : "");
    append_match(&sql, "n", "t", t, nulls);
    appendStringInfoString(&sql, ") RETURNING 1), ");
    if (t->ncols == t->nkeys) {
        appendStringInfoString(&sql, "u AS (SELECT 1 WHERE false), ");
    } else {
        appendStringInfo(&sql, "u AS (UPDATE %s t SET (", table);
        append_columns(&sql, "", t, true);
        appendStringInfoString(&sql, ") = ROW(");
        append_columns(&sql, "n.", t, true);
        appendStringInfoString(&sql, ") FROM n WHERE ");
        filter("t", ""); // (finds the table's rows by its key's index)
        appendStringInfoString(&sql, keyed ? " AND " : "");
        append_match(&sql, "n", "t", t, nulls);
        appendStringInfoString(&sql, " AND ");
        append_changed(&sql, t);
        appendStringInfoString(&sql, " RETURNING 1), ");
    }
    appendStringInfo(&sql, "i AS (INSERT INTO %s (", table);
    append_columns(&sql, "", t, false);
    appendStringInfoString(&sql, ") SELECT ");
    append_columns(&sql, "n.", t, false);
    appendStringInfo(&sql, " FROM n WHERE NOT EXISTS (SELECT FROM %s o WHERE ", table);
    filter("o", "");
    appendStringInfoString(&sql, keyed ? " AND " : "");
    append_match(&sql, "o", "n", t, nulls);
    // The data-modifying CTEs run whether read or not; the counts are for the
    // statistics, the last column says whether the query gave a key twice.
    appendStringInfoString(&sql, ") RETURNING 1) SELECT (SELECT pg_catalog.count(*) FROM d), (SELECT "
                                 "pg_catalog.count(*) FROM u), (SELECT pg_catalog.count(*) FROM i), EXISTS (SELECT FROM "
                                 "n GROUP BY ");
    append_keys(&sql, "n.", t);
    appendStringInfoString(&sql, " HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1)");
    return sql.data;
}

DeltaStatements *delta_sql(const TableShape *t, const DeltaShape *s, bool single) {
    auto *out = static_cast<DeltaStatements *>(palloc0(sizeof(DeltaStatements)));
    out->single = single;
    const char *with = groups_cte(t, s, out, single);
    DeltaExprs change{t, s, false};

    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(&sql, "%sUPDATE %s t SET ", with, t->table_name);
    bool first = true;
    for (int j = 0; j < s->ncolumns; j++) {
        const char *v = change.value(j);
        if (v == nullptr)
            continue;
        appendStringInfo(&sql, "%s%s = %s", first ? "" : ", ", col(t, table_col(t, s->columns[j])), v);
        first = false;
    }
    appendStringInfoString(&sql, " FROM d WHERE ");
    append_delta_match(&sql, t);
    appendStringInfoString(&sql, " RETURNING d.pgview_n");
    out->update = sql.data;
    if (!s->own_groups)
        return out;

    // A new group: the values of a group with no row, changed. Its key columns
    // are returned (the key types' equality is their bytes': analysis checked).
    DeltaExprs fresh{t, s, true};
    initStringInfo(&sql);
    appendStringInfo(&sql, "%sINSERT INTO %s AS t (", with, t->table_name);
    StringInfoData values;
    initStringInfo(&values);
    for (int j = 0; j < s->ncolumns; j++) {
        int c = table_col(t, s->columns[j]);
        const char *v = s->columns[j].move == Move::key ? nullptr : fresh.value(j);
        if (v == nullptr) {
            int k = 0;
            while (k < t->nkeys && t->key_cols[k] != c)
                k++;
            v = psprintf("d.pgview_k%d", k);
        }
        appendStringInfo(&sql, "%s%s", j > 0 ? ", " : "", col(t, c));
        appendStringInfo(&values, "%s%s", j > 0 ? ", " : "", v);
    }
    appendStringInfo(&sql, ") SELECT %s FROM d WHERE d.pgview_r OPERATOR(pg_catalog.>) 0 ON CONFLICT DO NOTHING "
                           "RETURNING ", values.data);
    append_keys(&sql, "t.", t);
    out->insert = sql.data;

    initStringInfo(&sql);
    appendStringInfo(&sql, "%sDELETE FROM %s t USING d WHERE ", with, t->table_name);
    append_delta_match(&sql, t);
    appendStringInfo(&sql, " AND t.%s OPERATOR(pg_catalog.=) 0",
                     col(t, table_col(t, s->columns[s->rows_column])));
    out->delete_empty = sql.data;
    return out;
}

} // namespace pgview::engine
