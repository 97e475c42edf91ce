"""pgview_auto.alembic against a real server: migrations up and down under views (online and
as offline SQL), reversed operations, and autogenerate with the filter."""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import textwrap
import unittest
from typing import Any, Dict, List, Tuple

import alembic
from alembic import command
from alembic.autogenerate import compare_metadata, render_python_code
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.operations.ops import UpgradeOps
from alembic.script import Script
from sqlalchemy import (BigInteger, Column, Date, Index, Integer, MetaData, Numeric, String, Table, Text,
                        inspect, text)
from sqlalchemy.exc import NotSupportedError
from sqlalchemy.orm import declarative_base

from pgview_auto.alembic import (AutogenerateFilter, CreateViewOp, DropViewOp, PgviewAlterOp,
                                 RestoreDependentsOp, UnwatchOp, WatchOp, autogenerate_filter)
from pgview_auto.sqlalchemy import CreateView, Watch, table_view

from .support import Database, column_types, relations, rows, stale_rows, watches
from .test_sqlalchemy import Base, setup_schema

ENV_PY = '''
from alembic import context
from sqlalchemy import create_engine, pool

from pgview_auto.alembic import autogenerate_filter  # registers op.create_view, op.pgview_alter, ...

config = context.config
target_metadata = config.attributes.get("target_metadata")
url = config.get_main_option("sqlalchemy.url")
if context.is_offline_mode():
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    with create_engine(url, poolclass=pool.NullPool).connect() as connection:
        pgview = autogenerate_filter(connection)
        context.configure(connection=connection, target_metadata=target_metadata,
                          include_name=pgview.include_name, include_object=pgview.include_object,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
'''

HEADER = '''
import sqlalchemy as sa
from alembic import op
from pgview_auto.alembic import CreateViewOp, WatchOp
revision, down_revision, branch_labels, depends_on = {revision!r}, {down!r}, None, None
'''

REVISIONS = {
    "r1_orders": '''
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("user_id", sa.Integer, nullable=False),
                    sa.Column("day", sa.Date, nullable=False),
                    sa.Column("amount", sa.Numeric(10, 2), nullable=False),
                    sa.Column("note", sa.Text))
    op.create_index("orders_user_id", "orders", ["user_id"])

def downgrade():
    op.drop_index("orders_user_id", "orders")
    op.drop_table("orders")
''',
    # op.create_view / op.watch, and their inverses by hand
    "r2_views": '''
orders = sa.table("orders", sa.column("day"), sa.column("amount"))
DAILY = (sa.select(orders.c.day, sa.func.count().label("orders"), sa.func.sum(orders.c.amount).label("total"))
         .where(orders.c.amount > 0).group_by(orders.c.day))
TOTALS = "SELECT user_id, count(*) AS orders, sum(amount) AS spent FROM orders GROUP BY user_id"

def upgrade():
    op.create_view("daily_sales", DAILY, kind="materialized view", unique_key=["day"])
    op.create_view("user_totals", TOTALS, kind="table view", unique_key=["user_id"])
    op.create_view("big_orders", "SELECT id, user_id, amount, note FROM orders WHERE amount > 100")
    op.watch("daily_sales")
    op.watch("user_totals")

def downgrade():
    op.unwatch("user_totals")
    op.unwatch("daily_sales")
    op.drop_view("big_orders")
    op.drop_view("user_totals")
    op.drop_view("daily_sales")
''',
    # operations as objects, the downgrade their reverse (as a rendered downgrade is)
    "r3_weekly": '''
OPS = [CreateViewOp("weekly_sales", "SELECT date_trunc('week', day) AS week, sum(total) AS total "
                    "FROM daily_sales GROUP BY 1", kind="materialized view", unique_key=["week"]),
       WatchOp("weekly_sales", "daily_sales")]

def upgrade():
    for operation in OPS:
        op.invoke(operation)

def downgrade():
    for operation in reversed(OPS):
        op.invoke(operation.reverse())
''',
    "r4_amount": '''
def upgrade():
    op.pgview_alter("ALTER TABLE orders ALTER COLUMN amount TYPE numeric(14,2)",
                    reverse="ALTER TABLE orders ALTER COLUMN amount TYPE numeric(10,2)")

def downgrade():
    op.pgview_alter("ALTER TABLE orders ALTER COLUMN amount TYPE numeric(10,2)")
''',
    # Alembic's own alter_column between saving and restoring what reads the column
    "r5_note": '''
def upgrade():
    op.pgview_save_dependents("orders", ["note"])
    op.alter_column("orders", "note", type_=sa.String(200), existing_type=sa.Text)
    op.pgview_restore_dependents()

def downgrade():
    op.pgview_save_dependents("orders", ["note"])
    op.alter_column("orders", "note", type_=sa.Text, existing_type=sa.String(200))
    op.pgview_restore_dependents()
''',
}
ORDER = list(REVISIONS)

QUERIES = {  # what each materialized view and table view must equal
    "daily_sales": "SELECT day, count(*) AS orders, sum(amount) AS total FROM orders "
                   "WHERE amount > 0 GROUP BY day",
    "user_totals": "SELECT user_id, count(*) AS orders, sum(amount) AS spent FROM orders GROUP BY user_id",
    "weekly_sales": "SELECT date_trunc('week', day) AS week, sum(total) AS total FROM "
                    "(SELECT day, sum(amount) AS total FROM orders WHERE amount > 0 GROUP BY day) d "
                    "GROUP BY 1",
}

State = Tuple[List[Tuple[Any, ...]], List[Tuple[Any, ...]], str, str]
VIEWS_R2: List[Tuple[Any, ...]] = [("big_orders", "view"), ("daily_sales", "materialized view"),
            ("user_totals", "table view")]
WATCHES_R2: List[Tuple[Any, ...]] = [("daily_sales", "orders", "commit", None), ("user_totals", "orders", "commit", None)]
VIEWS_R3 = VIEWS_R2 + [("weekly_sales", "materialized view")]
WATCHES_R3 = WATCHES_R2 + [("weekly_sales", "daily_sales", "commit", None)]


def head_metadata() -> MetaData:
    """The schema at the last revision, as an application's models would declare it."""
    metadata = MetaData()
    Table("orders", metadata, Column("id", Integer, primary_key=True),
          Column("user_id", Integer, nullable=False), Column("day", Date, nullable=False),
          Column("amount", Numeric(14, 2), nullable=False), Column("note", String(200)),
          Index("orders_user_id", "user_id"))
    return metadata


def migration_env(directory: str, db: Database) -> Config:
    """An Alembic environment in ``directory`` with the revisions above."""
    os.makedirs(os.path.join(directory, "versions"))
    template = os.path.join(os.path.dirname(alembic.__file__), "templates", "generic", "script.py.mako")
    shutil.copy(template, directory)
    with open(os.path.join(directory, "env.py"), "w") as f:
        f.write(ENV_PY)
    for i, (name, body) in enumerate(REVISIONS.items()):
        with open(os.path.join(directory, "versions", f"{name}.py"), "w") as f:
            f.write(HEADER.format(revision=name, down=ORDER[i - 1] if i else None) + body)
    config = Config(output_buffer=io.StringIO())
    config.set_main_option("script_location", directory)
    config.set_main_option("sqlalchemy.url", str(db.url))
    return config


class Migrations(unittest.TestCase):
    db: Database
    directory: str
    config: Config

    @classmethod
    def setUpClass(cls) -> None:
        cls.db = Database("migrations")
        cls.directory = tempfile.mkdtemp(prefix="pgview_alembic_")
        cls.config = migration_env(os.path.join(cls.directory, "migrations"), cls.db)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.db.drop()
        shutil.rmtree(cls.directory)

    def setUp(self) -> None:
        self.addCleanup(command.downgrade, self.config, "base")

    def assert_state(self, views: List[Tuple[Any, ...]], watched: List[Tuple[Any, ...]],
                     amount: str, note: str) -> None:
        """The views and watches there are, the column types, and every view fresh after a write."""
        with self.db.engine.begin() as conn:
            self.assertEqual(relations(conn), views)
            self.assertEqual(watches(conn), watched)
            self.assertEqual(column_types(conn, "orders", ["amount", "note"]), [amount, note])
            if ("big_orders", "view") in views:
                self.assertEqual(column_types(conn, "big_orders", ["amount", "note"]), [amount, note])
            conn.execute(text("INSERT INTO orders (user_id, day, amount, note) "
                              "SELECT g % 3, DATE '2024-01-01' + g % 10, g * 7.5, 'n' || g "
                              "FROM generate_series(1, 20) g"))
        with self.db.engine.connect() as conn:
            for view, _ in views:
                if view in QUERIES:
                    self.assertEqual(stale_rows(conn, view, QUERIES[view]), 0, view)

    def test_upgrade_and_downgrade_under_views(self) -> None:
        states: List[State] = [  # after each revision: views, watches, orders.amount, orders.note
            ([], [], "numeric(10,2)", "text"),
            (VIEWS_R2, WATCHES_R2, "numeric(10,2)", "text"),
            (VIEWS_R3, WATCHES_R3, "numeric(10,2)", "text"),
            (VIEWS_R3, WATCHES_R3, "numeric(14,2)", "text"),
            (VIEWS_R3, WATCHES_R3, "numeric(14,2)", "character varying(200)"),
        ]
        for revision, state in zip(ORDER, states):
            with self.subTest(upgrade=revision):
                command.upgrade(self.config, revision)
                self.assert_state(*state)
        with self.subTest("autogenerate at head proposes nothing"):
            self.config.attributes["target_metadata"] = head_metadata()
            with contextlib.redirect_stdout(io.StringIO()):  # "Generating ...": Alembic prints it
                script = command.revision(self.config, "check", autogenerate=True, rev_id="check")
            assert isinstance(script, Script)
            with open(script.path) as f:
                generated = f.read()
            os.remove(script.path)
            empty = "# ### commands auto generated by Alembic - please adjust! ###\n    pass\n"
            self.assertEqual(generated.count(empty), 2, generated)
        for revision, state in zip(reversed(ORDER[:-1]), reversed(states[:-1])):
            with self.subTest(downgrade=revision):
                command.downgrade(self.config, revision)
                self.assert_state(*state)
        command.downgrade(self.config, "base")
        with self.db.engine.connect() as conn:
            self.assertEqual(rows(conn, "SELECT to_regclass('orders')"), [(None,)])
            self.assertEqual(watches(conn), [])  # no orphaned watch left behind

    def test_plain_alter_column_fails_under_views(self) -> None:
        command.upgrade(self.config, "r2_views")
        with self.db.engine.begin() as conn:
            op: Any = Operations(MigrationContext.configure(conn))
            with self.assertRaises(NotSupportedError) as caught:
                op.alter_column("orders", "amount", type_=Numeric(16, 2))
            self.assertEqual(caught.exception.orig.pgcode, "0A000")  # type: ignore[union-attr]
            self.assertIn("cannot alter type of a column used by a view or rule",
                          str(caught.exception.orig))

    def test_offline_sql(self) -> None:
        """``alembic upgrade --sql``: the calls with their values inline, runnable as they are."""
        buffer = io.StringIO()
        config = Config(output_buffer=buffer)
        for key in ("script_location", "sqlalchemy.url"):
            config.set_main_option(key, self.config.get_main_option(key) or "")
        command.upgrade(config, "head", sql=True)
        script = buffer.getvalue()
        for statement in [
            "SELECT * FROM pgview_create(CAST('daily_sales' AS text), CAST('SELECT orders.day, "
            "count(*) AS orders, sum(orders.amount) AS total \nFROM orders \n"
            "WHERE orders.amount > 0 GROUP BY orders.day' AS text), "
            "kind => CAST('materialized view' AS text), "
            "unique_key => CAST(ARRAY['day'] AS text[]));",
            "SELECT * FROM pgview_watch(CAST('weekly_sales' AS regclass), "
            "source => CAST('daily_sales' AS regclass));",
            "SELECT * FROM pgview_alter(CAST('ALTER TABLE orders ALTER COLUMN amount TYPE "
            "numeric(14,2)' AS text));",
            "SELECT * FROM pgview_save_dependents(CAST('orders' AS regclass), "
            "columns => CAST(ARRAY['note'] AS name[]));",
            "SELECT * FROM pgview_restore_dependents();",
        ]:
            self.assertIn(statement, script)
        other = Database("offline")
        try:
            raw = other.engine.raw_connection()
            try:
                raw.cursor().execute(script)
                raw.commit()
            finally:
                raw.close()
            with other.engine.connect() as conn:
                self.assertEqual(relations(conn), VIEWS_R3)
                self.assertEqual(watches(conn), WATCHES_R3)
                self.assertEqual(column_types(conn, "big_orders", ["amount", "note"]),
                                 ["numeric(14,2)", "character varying(200)"])
        finally:
            other.drop()

    def test_reverse_operations_rendered(self) -> None:
        upgrade = UpgradeOps(ops=[
            CreateViewOp("t", "SELECT 1 AS k", kind="table view", unique_key=["k"]),
            WatchOp("t", mode="async", debounce="1 second"),
            PgviewAlterOp("ALTER TABLE a ALTER b TYPE int", reverse="ALTER TABLE a ALTER b TYPE text"),
        ])
        self.assertEqual(render_python_code(upgrade), textwrap.dedent("""\
            # ### commands auto generated by Alembic - please adjust! ###
                op.create_view('t', 'SELECT 1 AS k', kind='table view', unique_key=['k'])
                op.watch('t', mode='async', debounce='1 second')
                op.pgview_alter('ALTER TABLE a ALTER b TYPE int', reverse='ALTER TABLE a ALTER b TYPE text')
                # ### end Alembic commands ###"""))
        downgrade: Any = upgrade.reverse()
        self.assertEqual(render_python_code(downgrade), textwrap.dedent("""\
            # ### commands auto generated by Alembic - please adjust! ###
                op.pgview_alter('ALTER TABLE a ALTER b TYPE text', reverse='ALTER TABLE a ALTER b TYPE int')
                op.unwatch('t', watch_options={'mode': 'async', 'debounce': '1 second'})
                op.drop_view('t', definition='SELECT 1 AS k', kind='table view', unique_key=['k'])
                # ### end Alembic commands ###"""))
        for operation, message in [
            (DropViewOp("t"), "^drop_view\\('t'\\) cannot be reversed without definition=$"),
            (PgviewAlterOp("ALTER TABLE a ADD c int"), "cannot be reversed without reverse=$"),
            (CreateViewOp("t", "SELECT 2", or_replace=True), "the previous definition is unknown"),
            (RestoreDependentsOp(), "cannot be reversed without table=$"),
        ]:
            with self.subTest(operation=type(operation).__name__):
                with self.assertRaisesRegex(ValueError, message):
                    operation.reverse()
        self.assertIsInstance(UnwatchOp("t").reverse(), WatchOp)


def differences(metadata: MetaData, db: Database, pgview: AutogenerateFilter | None,
                include_schemas: bool = False) -> List[Tuple[str, str]]:
    """What autogenerate proposes, as (operation, object name)."""
    opts: Dict[str, Any] = {"compare_type": True, "include_schemas": include_schemas}
    if pgview is not None:
        opts.update(include_name=pgview.include_name, include_object=pgview.include_object)
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    flat = [d for diff in diffs for d in (diff if isinstance(diff, list) else [diff])]
    return sorted((d[0], f"{d[2]}.{d[3]}") if d[0].startswith("modify_")
                  else (d[0], getattr(d[1], "fullname", None) or d[1].name) for d in flat)


class Autogenerate(unittest.TestCase):
    """Autogenerate against a database with the extension, a matview and table views."""

    db: Database
    pgview: AutogenerateFilter

    @classmethod
    def setUpClass(cls) -> None:
        cls.db = Database("autogenerate")
        setup_schema(cls.db)  # users, orders, daily_sales (matview), user_totals (table view)
        with cls.db.engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA reports"))
            conn.execute(CreateView("reports.by_day", "SELECT day, count(*) AS n FROM orders GROUP BY day",
                                    kind="table view", unique_key=["day"]))
            conn.execute(Watch("reports.by_day"))
            cls.pgview = autogenerate_filter(conn)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.db.drop()

    def test_no_change_proposed(self) -> None:
        for include_schemas in (False, True):
            with self.subTest(include_schemas=include_schemas):
                self.assertEqual(differences(Base.metadata, self.db, self.pgview, include_schemas), [])

    def test_reflection_sees_only_the_users_relations(self) -> None:
        # A table view's query is a view in schema pgview_query, not beside the table:
        # SQLAlchemy lists the table view as a table and no view of the extension's making.
        with self.db.engine.connect() as conn:
            inspector = inspect(conn)
            self.assertEqual(inspector.get_view_names(schema="reports"), [])
            self.assertIn("by_day", inspector.get_table_names(schema="reports"))
            self.assertIn("user_totals", inspector.get_table_names())
            self.assertEqual([v for v in inspector.get_view_names() if v.endswith("_pgview_query")
                              or v in ("user_totals", "by_day")], [])
            self.assertEqual(sorted(inspector.get_view_names(schema="pgview_query")), ["by_day", "user_totals"])

    def test_what_the_filter_leaves_out(self) -> None:
        # (the table views' keys are their primary keys: no index of theirs is listed apart)
        self.assertEqual(differences(Base.metadata, self.db, None), [("remove_table", "user_totals")])
        # SQLAlchemy 1.4 lists no schema named like 'pg_%' (LIKE's '_' matches the 'v' of
        # pgview_auto): the filter's schema rule is for versions that do.
        self.assertEqual(differences(Base.metadata, self.db, None, include_schemas=True),
                         [("remove_table", "reports.by_day"), ("remove_table", "user_totals")])
        self.assertFalse(self.pgview.include_name("pgview_auto", "schema", {}))
        self.assertFalse(self.pgview.include_name("pgview_query", "schema", {}))
        self.assertTrue(self.pgview.include_name("reports", "schema", {}))
        self.assertEqual(self.pgview.owned_schemas, frozenset({"pgview_auto", "pgview_query"}))
        self.assertLessEqual({(None, "pgview_watches"), (None, "pgview_saved_dependents"),
                              ("pgview_query", "user_totals"), ("pgview_query", "by_day")},
                             self.pgview.owned)
        self.assertEqual(self.pgview.table_views, {(None, "user_totals"): ("user_id",),
                                                   ("reports", "by_day"): ("day",)})

    def test_table_views_in_the_metadata(self) -> None:
        reflected = MetaData()
        for table in Base.metadata.tables.values():
            table.to_metadata(reflected)
        with self.db.engine.connect() as conn:
            table_view("user_totals", reflected, autoload_with=conn)
        self.assertEqual(differences(reflected, self.db, self.pgview), [])

        declared: Any = declarative_base()  # the table view as a model of the application
        for table in Base.metadata.tables.values():
            table.to_metadata(declared.metadata)

        class UserTotal(declared):  # type: ignore[misc, valid-type]
            __tablename__ = "user_totals"
            user_id = Column(Integer, primary_key=True)  # the table view's PRIMARY KEY
            name = Column(Text)
            orders = Column(BigInteger)
            spent = Column(Numeric)

        self.assertEqual(differences(declared.metadata, self.db, self.pgview), [])
        # its key is its PRIMARY KEY (NOT NULL columns): nothing is left for the filter here
        self.assertEqual(differences(declared.metadata, self.db, None), [])

    def test_without_the_extension(self) -> None:
        plain = Database("plain", extension=False)
        try:
            Base.metadata.create_all(plain.engine)
            with plain.engine.connect() as conn:
                pgview = autogenerate_filter(conn)
            self.assertEqual((pgview.owned_schemas, pgview.owned, pgview.table_views),
                             (frozenset(), frozenset(), {}))
            self.assertEqual(differences(Base.metadata, plain, pgview, include_schemas=True), [])
        finally:
            plain.drop()


if __name__ == "__main__":
    unittest.main()
