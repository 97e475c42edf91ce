"""pgview_auto for SQLAlchemy: its SQL functions as executable statements, table views as Tables.

Each construct compiles to one call of the extension's function, its arguments bound:

    conn.execute(CreateView("user_totals", select(...), kind="table view", unique_key=["user_id"]))
    conn.execute(Watch("user_totals"))

The server does the work (checks, quoting, creating, refreshing); an argument left None is
not sent, so the function's own default applies. Relations are given as a Table (quoted by
the dialect) or as text in PostgreSQL's syntax, exactly as the SQL functions take them
('shop."Daily Sales"').
"""
from __future__ import annotations

import datetime
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, Union

import sqlalchemy
from sqlalchemy import Boolean, MetaData, PrimaryKeyConstraint, Table, Text, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

__all__ = [
    "Relation", "Query", "Kind", "PgviewCall", "CreateView", "DropView", "Watch", "Unwatch",
    "Refresh", "Wait", "Alter", "SaveDependents", "RestoreDependents", "query_text", "table_view",
]

Relation = Union[str, Table]
"""A relation: a Table, or its name as PostgreSQL parses it (``'reports."Daily Sales"'``)."""
Query = Union[str, ClauseElement]
"""A query: SQL text, or a Select / text() (compiled with its values inline)."""
Kind = Literal["view", "materialized view", "table view"]
Interval = Union[str, datetime.timedelta]

# pgview_create takes the query's text and refuses bind parameters: a SQLAlchemy query is
# compiled with its values inline. The "named" paramstyle keeps '%' single (psycopg2's
# pyformat would double it inside the text).
_QUERY_DIALECT = postgresql.dialect(paramstyle="named")

_Arg = Tuple[str, Any]  # (SQL type the value is cast to, value)


def query_text(query: Query) -> str:
    """The SQL text pgview_create receives for ``query``."""
    if isinstance(query, str):
        return query
    return str(query.compile(dialect=_QUERY_DIALECT, compile_kwargs={"literal_binds": True}))


class PgviewCall(Executable, ClauseElement):  # type: ignore[misc]
    """``SELECT * FROM function(arguments)``: one call of a pgview_auto function.

    Positional arguments are always sent; named ones only when not None (``name => value``).
    """

    inherit_cache = False  # not cached: the statement is built for its values
    if sqlalchemy.__version__.startswith("1."):  # like DDL, autocommitted by a legacy connection
        _execution_options = Executable._execution_options.union({"autocommit": True})

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        cls.inherit_cache = False  # SQLAlchemy asks each class

    def __init__(self, function: str, positional: Sequence[_Arg], **named: _Arg) -> None:
        self.function = function
        self.positional: List[_Arg] = list(positional)
        self.named: Dict[str, _Arg] = {k: v for k, v in named.items() if v[1] is not None}


def _render_value(compiler: Any, key: str, sql_type: str, value: Any, kw: Dict[str, Any]) -> str:
    def bind(v: Any, type_: Any = Text) -> str:
        return str(compiler.process(bindparam(key, v, type_=type_, unique=True), **kw))

    if sql_type == "boolean":
        return bind(value, Boolean)
    if sql_type.endswith("[]"):
        return f"CAST(ARRAY[{', '.join(bind(str(v)) for v in value)}] AS {sql_type})"
    if isinstance(value, Table):
        value = compiler.preparer.format_table(value)
    elif isinstance(value, ClauseElement):
        value = query_text(value)
    elif isinstance(value, datetime.timedelta):
        value = f"{value.total_seconds()} seconds"
    return f"CAST({bind(value)} AS {sql_type})"


def _compile_call(call: PgviewCall, compiler: Any, **kw: Any) -> str:
    args = [_render_value(compiler, "arg", t, v, kw) for t, v in call.positional]
    # Named notation takes the parameter names as they are, keywords too (concurrently, cascade).
    args += [f"{name} => {_render_value(compiler, name, t, v, kw)}" for name, (t, v) in call.named.items()]
    return f"SELECT * FROM {call.function}({', '.join(args)})"


compiles(PgviewCall)(_compile_call)


class CreateView(PgviewCall):
    """``pgview_create``: a view, materialized view or table view (``kind``) from ``query``.

    Returns one row, the relation (regclass). ``unique_key``: columns of the query (a unique
    index; for a table view, its key and incremental refresh).
    """

    def __init__(self, name: Relation, query: Query, kind: Optional[Kind] = None,
                 unique_key: Optional[Sequence[str]] = None, or_replace: Optional[bool] = None,
                 if_not_exists: Optional[bool] = None, with_data: Optional[bool] = None,
                 options: Optional[Sequence[str]] = None) -> None:
        self.name, self.query, self.kind = name, query, kind
        self.unique_key, self.options = unique_key, options
        super().__init__("pgview_create", [("text", name), ("text", query)],
                         kind=("text", kind), or_replace=("boolean", or_replace),
                         if_not_exists=("boolean", if_not_exists), with_data=("boolean", with_data),
                         options=("text[]", options), unique_key=("text[]", unique_key))


class DropView(PgviewCall):
    """``pgview_drop``: drop a view, materialized view or table view (true when dropped)."""

    def __init__(self, name: Relation, cascade: Optional[bool] = None,
                 if_exists: Optional[bool] = None) -> None:
        super().__init__("pgview_drop", [("text", name)], cascade=("boolean", cascade),
                         if_exists=("boolean", if_exists))


class Watch(PgviewCall):
    """``pgview_watch``: refresh ``view`` when ``source`` (None: every table it reads) changes.

    Returns the tables captured for it, one row each.
    """

    def __init__(self, view: Relation, source: Optional[Relation] = None,
                 mode: Optional[str] = None, concurrently: Optional[bool] = None,
                 on_error: Optional[str] = None, debounce: Optional[Interval] = None,
                 max_delay: Optional[Interval] = None, incremental: Optional[bool] = None) -> None:
        super().__init__("pgview_watch", [("regclass", view)], source=("regclass", source),
                         mode=("text", mode), concurrently=("boolean", concurrently),
                         on_error=("text", on_error), debounce=("interval", debounce),
                         max_delay=("interval", max_delay), incremental=("boolean", incremental))


class Unwatch(PgviewCall):
    """``pgview_unwatch``: stop what ``Watch(view, source)`` started (the rows removed)."""

    def __init__(self, view: Relation, source: Optional[Relation] = None) -> None:
        super().__init__("pgview_unwatch", [("regclass", view)], source=("regclass", source))


class Refresh(PgviewCall):
    """``pgview_refresh``: refresh now (with ``cascade``, what watches it too)."""

    def __init__(self, view: Relation, concurrently: Optional[bool] = None,
                 cascade: Optional[bool] = None) -> None:
        super().__init__("pgview_refresh", [("regclass", view)],
                         concurrently=("boolean", concurrently), cascade=("boolean", cascade))


class Wait(PgviewCall):
    """``pgview_wait``: true once every change committed before the call is in ``view``."""

    def __init__(self, view: Relation, timeout: Optional[Interval] = None) -> None:
        super().__init__("pgview_wait", [("regclass", view)], timeout=("interval", timeout))


class Alter(PgviewCall):
    """``pgview_alter``: one ALTER TABLE, with the views that read what it changes rebuilt.

    Rows: (relation, kind, action), what was done (``dry_run``: what would be).
    """

    def __init__(self, statement: str, dry_run: Optional[bool] = None) -> None:
        super().__init__("pgview_alter", [("text", statement)], dry_run=("boolean", dry_run))


class SaveDependents(PgviewCall):
    """``pgview_save_dependents``: save and drop what reads ``columns`` of ``table`` (None: any)."""

    def __init__(self, table: Relation, columns: Optional[Sequence[str]] = None) -> None:
        super().__init__("pgview_save_dependents", [("regclass", table)],
                         columns=("name[]", columns))


class RestoreDependents(PgviewCall):
    """``pgview_restore_dependents``: make again what ``SaveDependents`` saved."""

    def __init__(self) -> None:
        super().__init__("pgview_restore_dependents", [])


_KEY_OF = text("SELECT unique_key FROM pgview_auto.table_view "
               "WHERE relation = CAST(:relation AS pg_catalog.regclass)")


def table_view(name: str, metadata: MetaData, autoload_with: Connection,
               schema: Optional[str] = None, **kw: Any) -> Table:
    """The table view ``name`` reflected as a Table whose primary key is the view's key.

    A table view whose key columns are never NULL has them as its PRIMARY KEY in the database
    (pgview_auto 0.7.0), which reflection finds. For one whose key can be NULL (a unique index
    only), the key registered with ``pgview_create(..., unique_key => ...)`` becomes the
    Table's primary key, so declarative and automap can map it. A primary key the table has in
    the database is kept as it is. ``LookupError`` if ``name`` is not a table view.
    """
    table = Table(name, metadata, autoload_with=autoload_with, schema=schema, **kw)
    relation = autoload_with.dialect.identifier_preparer.format_table(table)
    row = autoload_with.execute(_KEY_OF, {"relation": relation}).first()
    if row is None:
        raise LookupError(f"{relation} is not a table view of pgview_auto")
    if row[0] and not table.primary_key.columns:
        table.append_constraint(PrimaryKeyConstraint(*(table.c[k] for k in row[0])))
    return table
