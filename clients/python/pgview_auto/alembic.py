"""pgview_auto for Alembic: migration operations and the autogenerate filter.

Importing this module registers the operations (do it in env.py):

    op.create_view(name, query, kind=..., unique_key=...)   reverse: op.drop_view
    op.drop_view(name, definition=...)                      reverse: op.create_view (needs definition)
    op.watch(view, source=None, mode=..., ...)              reverse: op.unwatch
    op.unwatch(view, source=None)                           reverse: op.watch
    op.pgview_alter("ALTER TABLE ...", reverse=...)         reverse: the reverse statement
    op.pgview_save_dependents(table, columns)               reverse: op.pgview_restore_dependents
    op.pgview_restore_dependents(table, columns)            reverse: op.pgview_save_dependents

Changing a column that views read: ``op.alter_column(..., type_=...)`` or ``op.drop_column``
fail with PostgreSQL's own error ("cannot alter type of a column used by a view or rule",
0A000; "cannot drop column ... because other objects depend on it", 2BP01). Either give the
statement to ``op.pgview_alter``, which rebuilds exactly the views in the way (owner, grants,
indexes, watches, data) around it, or put Alembic's own operations between
``op.pgview_save_dependents(table, [columns])`` and ``op.pgview_restore_dependents()``.

Autogenerate: ``autogenerate_filter(connection)`` gives ``include_name`` and
``include_object`` for ``context.configure``; they leave out what pgview_auto owns or manages.
"""
from __future__ import annotations

from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

from alembic.autogenerate.render import renderers
from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import ExecuteSQLOp
from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ClauseElement

from .sqlalchemy import (Alter, CreateView, DropView, Interval, Kind, PgviewCall, Query, Relation,
                         RestoreDependents, SaveDependents, Unwatch, Watch, query_text)

__all__ = [
    "CreateViewOp", "DropViewOp", "WatchOp", "UnwatchOp", "PgviewAlterOp", "SaveDependentsOp",
    "RestoreDependentsOp", "AutogenerateFilter", "autogenerate_filter",
]

_Call = Tuple[List[Any], Dict[str, Any]]  # the operation's arguments: positional, named


class _PgviewOp(MigrateOperation):
    """An operation that runs one pgview_auto statement."""

    op_name = ""

    def statement(self) -> PgviewCall:
        raise NotImplementedError

    def call(self) -> _Call:
        """Its arguments, as ``op.<op_name>(...)`` takes them (for rendering)."""
        raise NotImplementedError

    def to_diff_tuple(self) -> Tuple[Any, ...]:
        positional, named = self.call()
        return (self.op_name, *positional, *sorted(named.items()))


@Operations.register_operation("create_view")
class CreateViewOp(_PgviewOp):
    """Create a view, materialized view or table view (``pgview_create``)."""

    op_name = "create_view"

    def __init__(self, name: Relation, query: Query, kind: Optional[Kind] = None,
                 unique_key: Optional[Sequence[str]] = None, or_replace: Optional[bool] = None,
                 with_data: Optional[bool] = None, options: Optional[Sequence[str]] = None) -> None:
        self.name, self.query, self.kind, self.unique_key = name, query, kind, unique_key
        self.or_replace, self.with_data, self.options = or_replace, with_data, options

    @classmethod
    def create_view(cls, operations: Operations, name: Relation, query: Query,
                    kind: Optional[Kind] = None, unique_key: Optional[Sequence[str]] = None,
                    or_replace: Optional[bool] = None, with_data: Optional[bool] = None,
                    options: Optional[Sequence[str]] = None) -> Any:
        """Create a view (``kind``: 'view', 'materialized view', 'table view') from ``query``
        (SQL text, or a SQLAlchemy query compiled with its values inline) by ``pgview_create``.
        Reversed by ``op.drop_view`` (not when ``or_replace``: the old definition is unknown).
        """
        return operations.invoke(cls(name, query, kind, unique_key, or_replace, with_data, options))

    def statement(self) -> PgviewCall:
        return CreateView(self.name, self.query, self.kind, self.unique_key,
                          or_replace=self.or_replace, with_data=self.with_data, options=self.options)

    def call(self) -> _Call:
        return [self.name, self.query], _given(kind=self.kind, unique_key=self.unique_key,
                                               or_replace=self.or_replace, with_data=self.with_data,
                                               options=self.options)

    def reverse(self) -> MigrateOperation:
        if self.or_replace:
            raise ValueError(f"create_view({self.name!r}, or_replace=True) cannot be reversed: "
                             "the previous definition is unknown; write the downgrade by hand")
        return DropViewOp(self.name, definition=self.query, kind=self.kind,
                          unique_key=self.unique_key, with_data=self.with_data, options=self.options)


@Operations.register_operation("drop_view")
class DropViewOp(_PgviewOp):
    """Drop a view, materialized view or table view (``pgview_drop``)."""

    op_name = "drop_view"

    def __init__(self, name: Relation, cascade: Optional[bool] = None,
                 if_exists: Optional[bool] = None, definition: Optional[Query] = None,
                 kind: Optional[Kind] = None, unique_key: Optional[Sequence[str]] = None,
                 with_data: Optional[bool] = None, options: Optional[Sequence[str]] = None) -> None:
        self.name, self.cascade, self.if_exists = name, cascade, if_exists
        self.definition, self.kind, self.unique_key = definition, kind, unique_key
        self.with_data, self.options = with_data, options

    @classmethod
    def drop_view(cls, operations: Operations, name: Relation, cascade: Optional[bool] = None,
                  if_exists: Optional[bool] = None, definition: Optional[Query] = None,
                  kind: Optional[Kind] = None, unique_key: Optional[Sequence[str]] = None,
                  with_data: Optional[bool] = None, options: Optional[Sequence[str]] = None) -> Any:
        """Drop a view by ``pgview_drop``. ``definition``, ``kind``, ``unique_key``, ``with_data``
        and ``options`` are not used to drop it: they are what its reverse creates again.
        A watched matview or table view keeps its watch as an orphan (restored when one of the
        same name is created again): ``op.unwatch`` first to remove it.
        """
        return operations.invoke(cls(name, cascade, if_exists, definition, kind, unique_key,
                                     with_data, options))

    def statement(self) -> PgviewCall:
        return DropView(self.name, cascade=self.cascade, if_exists=self.if_exists)

    def call(self) -> _Call:
        return [self.name], _given(cascade=self.cascade, if_exists=self.if_exists,
                                   definition=self.definition, kind=self.kind,
                                   unique_key=self.unique_key, with_data=self.with_data,
                                   options=self.options)

    def reverse(self) -> MigrateOperation:
        if self.definition is None:
            raise ValueError(f"drop_view({self.name!r}) cannot be reversed without definition=")
        return CreateViewOp(self.name, self.definition, self.kind, self.unique_key,
                            with_data=self.with_data, options=self.options)


@Operations.register_operation("watch")
class WatchOp(_PgviewOp):
    """Refresh a materialized view or table view when its sources change (``pgview_watch``)."""

    op_name = "watch"

    def __init__(self, view: Relation, source: Optional[Relation] = None, mode: Optional[str] = None,
                 concurrently: Optional[bool] = None, on_error: Optional[str] = None,
                 debounce: Optional[Interval] = None, max_delay: Optional[Interval] = None,
                 incremental: Optional[bool] = None) -> None:
        self.view, self.source = view, source
        self.options = _given(mode=mode, concurrently=concurrently, on_error=on_error,
                              debounce=debounce, max_delay=max_delay, incremental=incremental)

    @classmethod
    def watch(cls, operations: Operations, view: Relation, source: Optional[Relation] = None,
              mode: Optional[str] = None, concurrently: Optional[bool] = None,
              on_error: Optional[str] = None, debounce: Optional[Interval] = None,
              max_delay: Optional[Interval] = None, incremental: Optional[bool] = None) -> Any:
        """Watch ``view`` (``source`` None: every table it reads) by ``pgview_watch``;
        reversed by ``op.unwatch``."""
        return operations.invoke(cls(view, source, mode, concurrently, on_error, debounce,
                                     max_delay, incremental))

    def statement(self) -> PgviewCall:
        return Watch(self.view, self.source, **self.options)

    def call(self) -> _Call:
        return [self.view], _given(source=self.source, **self.options)

    def reverse(self) -> MigrateOperation:
        return UnwatchOp(self.view, self.source, self.options)


@Operations.register_operation("unwatch")
class UnwatchOp(_PgviewOp):
    """Stop what ``op.watch(view, source)`` started (``pgview_unwatch``)."""

    op_name = "unwatch"

    def __init__(self, view: Relation, source: Optional[Relation] = None,
                 watch_options: Optional[Dict[str, Any]] = None) -> None:
        self.view, self.source, self.watch_options = view, source, dict(watch_options or {})

    @classmethod
    def unwatch(cls, operations: Operations, view: Relation, source: Optional[Relation] = None,
                watch_options: Optional[Dict[str, Any]] = None) -> Any:
        """Unwatch by ``pgview_unwatch``. ``watch_options`` (mode, debounce, ...) are not used
        here: they are the options its reverse, ``op.watch``, gives back."""
        return operations.invoke(cls(view, source, watch_options))

    def statement(self) -> PgviewCall:
        return Unwatch(self.view, self.source)

    def call(self) -> _Call:
        return [self.view], _given(source=self.source, watch_options=self.watch_options or None)

    def reverse(self) -> MigrateOperation:
        return WatchOp(self.view, self.source, **self.watch_options)


@Operations.register_operation("pgview_alter")
class PgviewAlterOp(_PgviewOp):
    """One ALTER TABLE with the views in its way rebuilt (``pgview_alter``)."""

    op_name = "pgview_alter"

    def __init__(self, statement: str, reverse: Optional[str] = None) -> None:
        self.alter, self.reverse_statement = statement, reverse

    @classmethod
    def pgview_alter(cls, operations: Operations, statement: str,
                     reverse: Optional[str] = None) -> Any:
        """Run ``statement``, one ALTER TABLE, by ``pgview_alter``: the views, materialized
        views and table views that read the columns it retypes or drops are dropped and made
        again around it, with everything they had, in the migration's transaction (a plain
        ``op.alter_column`` under views fails with PostgreSQL's "cannot alter type of a
        column used by a view or rule"). ``reverse``: the ALTER TABLE that undoes it, run
        the same way by the reverse operation (none is derived).
        """
        return operations.invoke(cls(statement, reverse))

    def statement(self) -> PgviewCall:
        return Alter(self.alter)

    def call(self) -> _Call:
        return [self.alter], _given(reverse=self.reverse_statement)

    def reverse(self) -> MigrateOperation:
        if self.reverse_statement is None:
            raise ValueError(f"pgview_alter({self.alter!r}) cannot be reversed without reverse=")
        return PgviewAlterOp(self.reverse_statement, self.alter)


@Operations.register_operation("pgview_save_dependents")
class SaveDependentsOp(_PgviewOp):
    """Save and drop what reads some columns of a table (``pgview_save_dependents``)."""

    op_name = "pgview_save_dependents"

    def __init__(self, table: Relation, columns: Optional[Sequence[str]] = None) -> None:
        self.table, self.columns = table, columns

    @classmethod
    def pgview_save_dependents(cls, operations: Operations, table: Relation,
                               columns: Optional[Sequence[str]] = None) -> Any:
        """Save and drop the views that read ``columns`` of ``table`` (None: any column), so
        that Alembic's own operations can change them; ``op.pgview_restore_dependents()``
        makes them again, with everything they had."""
        return operations.invoke(cls(table, columns))

    def statement(self) -> PgviewCall:
        return SaveDependents(self.table, self.columns)

    def call(self) -> _Call:
        return [self.table], _given(columns=self.columns)

    def reverse(self) -> MigrateOperation:
        return RestoreDependentsOp(self.table, self.columns)


@Operations.register_operation("pgview_restore_dependents")
class RestoreDependentsOp(_PgviewOp):
    """Make again what was saved (``pgview_restore_dependents``)."""

    op_name = "pgview_restore_dependents"

    def __init__(self, table: Optional[Relation] = None,
                 columns: Optional[Sequence[str]] = None) -> None:
        self.table, self.columns = table, columns

    @classmethod
    def pgview_restore_dependents(cls, operations: Operations, table: Optional[Relation] = None,
                                  columns: Optional[Sequence[str]] = None) -> Any:
        """Make again everything saved. ``table`` and ``columns`` are not used here: they are
        what its reverse, ``op.pgview_save_dependents``, saves."""
        return operations.invoke(cls(table, columns))

    def statement(self) -> PgviewCall:
        return RestoreDependents()

    def call(self) -> _Call:
        return [], _given(table=self.table, columns=self.columns)

    def reverse(self) -> MigrateOperation:
        if self.table is None:
            raise ValueError("pgview_restore_dependents() cannot be reversed without table=")
        return SaveDependentsOp(self.table, self.columns)


def _given(**named: Any) -> Dict[str, Any]:
    return {k: v for k, v in named.items() if v is not None}


@Operations.implementation_for(_PgviewOp)
def _run(operations: Operations, operation: _PgviewOp) -> None:
    operations.invoke(ExecuteSQLOp(operation.statement()))


_NAMES = postgresql.dialect(paramstyle="named").identifier_preparer


def _literal(value: Any) -> str:
    if isinstance(value, Table):
        value = _NAMES.format_table(value)
    elif isinstance(value, ClauseElement):
        value = query_text(value)
    elif isinstance(value, tuple):
        value = list(value)
    return repr(value)


def _render(autogen_context: Any, operation: _PgviewOp) -> str:
    """``op.<name>(...)`` in a generated migration script."""
    positional, named = operation.call()
    args = [_literal(v) for v in positional] + [f"{k}={_literal(v)}" for k, v in named.items()]
    return f"{autogen_context.opts.get('alembic_module_prefix', 'op.')}{operation.op_name}({', '.join(args)})"


renderers.dispatch_for(_PgviewOp)(_render)


# What the extension owns (pg_depend: members of the extension) and manages (the registry
# of table views: the tables, their definition views, their keys).
_OWNED = text("""
SELECT coalesce(n.nspname, cn.nspname) AS nspname, c.relname
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                           AND d.refobjid = e.oid AND d.deptype = 'e'
LEFT JOIN pg_catalog.pg_namespace n ON d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                                    AND n.oid = d.objid
LEFT JOIN pg_catalog.pg_class c ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                AND c.oid = d.objid
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
WHERE e.extname = 'pgview_auto' AND (n.oid IS NOT NULL OR c.oid IS NOT NULL)
""")
_TABLE_VIEWS = text("""
SELECT tn.nspname, t.relname, dn.nspname, dc.relname, tv.unique_key
FROM pgview_auto.table_view tv
JOIN pg_catalog.pg_class t ON t.oid = tv.relation
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
JOIN pg_catalog.pg_class dc ON dc.oid = tv.definition
JOIN pg_catalog.pg_namespace dn ON dn.oid = dc.relnamespace
""")
_DEFINITIONS = "pgview_query"  # where table views keep their queries (not part of the extension)
_HAS_REGISTRY = text("SELECT pg_catalog.to_regclass('pgview_auto.table_view') IS NOT NULL")

_Name = Tuple[Optional[str], str]  # (schema, None for the default one; name), as Alembic has it


class AutogenerateFilter:
    """``include_name`` and ``include_object`` for Alembic's ``context.configure``.

    Left out: the extension's schema and its own tables and views (``pgview_watches``, ...),
    the schema ``pgview_query`` (the definition views of table views), table views that are not
    in the metadata, and the unique index pgview_create made for a table view's key when the
    metadata does not declare it. Everything else is compared as usual. Made from the
    database as it is when the filter is made: make it in env.py, for each run.
    """

    def __init__(self, owned_schemas: FrozenSet[str], owned: FrozenSet[_Name],
                 table_views: Dict[_Name, Tuple[str, ...]]) -> None:
        self.owned_schemas, self.owned, self.table_views = owned_schemas, owned, table_views

    def include_name(self, name: Optional[str], type_: str,
                     parent_names: Dict[str, Optional[str]]) -> bool:
        if type_ == "schema":
            return name not in self.owned_schemas
        if type_ == "table" and name is not None:
            return (parent_names.get("schema_name"), name) not in self.owned
        return True

    def include_object(self, object_: Any, name: Optional[str], type_: str, reflected: bool,
                       compare_to: Optional[Any]) -> bool:
        if type_ == "table":
            if object_.schema in self.owned_schemas or (object_.schema, name) in self.owned:
                return False
            # A table view the metadata does not model is the extension's, not a table to drop.
            return not (reflected and compare_to is None
                        and (object_.schema, name) in self.table_views)
        if type_ in ("index", "unique_constraint") and reflected and compare_to is None:
            table = object_.table
            key = self.table_views.get((table.schema, table.name))
            return key is None or tuple(c.name for c in object_.columns) != key
        return True


def autogenerate_filter(connection: Connection) -> AutogenerateFilter:
    """The filter for the database of ``connection`` (works without the extension too)::

        pgview = autogenerate_filter(connection)
        context.configure(connection=connection, target_metadata=target_metadata,
                          include_name=pgview.include_name, include_object=pgview.include_object)
    """
    default = connection.dialect.default_schema_name

    def schema(nspname: str) -> Optional[str]:
        return None if nspname == default else nspname

    schemas, owned = set(), set()
    for nspname, relname in connection.execute(_OWNED):
        if relname is None:  # the schema itself
            schemas.add(nspname)
        else:
            owned.add((schema(nspname), relname))
    table_views: Dict[_Name, Tuple[str, ...]] = {}
    if connection.execute(_HAS_REGISTRY).scalar():
        schemas.add(_DEFINITIONS)
        for tschema, tname, dschema, dname, key in connection.execute(_TABLE_VIEWS):
            table_views[(schema(tschema), tname)] = tuple(key or ())
            owned.add((schema(dschema), dname))
    return AutogenerateFilter(frozenset(schemas), frozenset(owned), table_views)
