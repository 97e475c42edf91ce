"""pgview_auto.sqlalchemy against a real server: constructs, an ORM round trip, table views
reflected, mapped by declarative and automap."""
from __future__ import annotations

import datetime
import unittest
import warnings
from decimal import Decimal
from typing import Any, List, Tuple

from sqlalchemy import (Column, Date, ForeignKey, Integer, MetaData, Numeric, Table, Text,
                        create_engine, func, select, text)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import ProgrammingError, RemovedIn20Warning
from sqlalchemy.ext.automap import automap_base
from sqlalchemy.orm import Session, declarative_base, relationship

from pgview_auto.sqlalchemy import (CreateView, DropView, Refresh, Unwatch, Wait, Watch,
                                    query_text, table_view)

from .support import Database, relations, rows, stale_rows, watches

Base: Any = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(Text, nullable=False)


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("users.id"), nullable=False, index=True)
    day = Column(Date, nullable=False)
    amount = Column(Numeric(12, 2), nullable=False)
    user = relationship(User)  # the unit of work inserts users first


# Built with SQLAlchemy, sent to pgview_create as text with the values inline (a '%' included).
DAILY = (select(Order.day, func.count().label("orders"), func.sum(Order.amount).label("total"))
         .where(Order.amount > 0).group_by(Order.day))
USER_TOTALS = (select(User.id.label("user_id"), User.name, func.count(Order.id).label("orders"),
                      func.coalesce(func.sum(Order.amount), 0).label("spent"))
               .select_from(User).outerjoin(Order, Order.user_id == User.id)
               .where(User.name.notlike("bot%")).group_by(User.id, User.name))

D1, D2 = datetime.date(2024, 1, 1), datetime.date(2024, 1, 2)


def setup_schema(db: Database) -> None:
    """The application's tables, a watched matview and a watched table view."""
    Base.metadata.create_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(CreateView("daily_sales", DAILY, kind="materialized view",
                                unique_key=["day"]))
        conn.execute(CreateView("user_totals", USER_TOTALS, kind="table view",
                                unique_key=["user_id"]))
        conn.execute(Watch("daily_sales"))
        conn.execute(Watch("user_totals"))


class Constructs(unittest.TestCase):
    """What the constructs send: the function, the arguments bound, never pasted in."""

    def test_query_text_inlines_values(self) -> None:
        self.assertEqual(query_text(USER_TOTALS),
                         "SELECT users.id AS user_id, users.name, count(orders.id) AS orders, "
                         "coalesce(sum(orders.amount), 0) AS spent \n"
                         "FROM users LEFT OUTER JOIN orders ON orders.user_id = users.id \n"
                         "WHERE users.name NOT LIKE 'bot%' GROUP BY users.id, users.name")
        self.assertEqual(query_text("SELECT 1"), "SELECT 1")

    def test_arguments_are_bound(self) -> None:
        stmt = CreateView("reports.\"Daily Sales\"", "SELECT 1 AS x", kind="table view",
                          unique_key=["x"], with_data=False)
        compiled = stmt.compile(dialect=postgresql.dialect())
        self.assertEqual(str(compiled),
                         "SELECT * FROM pgview_create(CAST(%(arg_1)s AS text), "
                         "CAST(%(arg_2)s AS text), kind => CAST(%(kind_1)s AS text), "
                         "with_data => %(with_data_1)s, "
                         "unique_key => CAST(ARRAY[%(unique_key_1)s] AS text[]))")
        self.assertEqual(compiled.params, {"arg_1": 'reports."Daily Sales"', "arg_2": "SELECT 1 AS x",
                                           "kind_1": "table view", "with_data_1": False,
                                           "unique_key_1": "x"})

    def test_table_names_are_quoted_by_the_dialect(self) -> None:
        table = Table("Orders", MetaData(), Column("id", Integer), schema="Shop")
        stmt = Watch("v", table, mode="async", debounce=datetime.timedelta(milliseconds=50))
        compiled = stmt.compile(dialect=postgresql.dialect())
        self.assertEqual(str(compiled),
                         "SELECT * FROM pgview_watch(CAST(%(arg_1)s AS regclass), "
                         "source => CAST(%(source_1)s AS regclass), mode => CAST(%(mode_1)s AS text), "
                         "debounce => CAST(%(debounce_1)s AS interval))")
        self.assertEqual(compiled.params, {"arg_1": "v", "source_1": '"Shop"."Orders"',
                                           "mode_1": "async", "debounce_1": "0.05 seconds"})


class RoundTrip(unittest.TestCase):
    """An application's writes through the ORM: the views equal their queries after each."""

    db: Database

    @classmethod
    def setUpClass(cls) -> None:
        cls.db = Database("roundtrip")
        setup_schema(cls.db)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.db.drop()

    def assert_views(self, daily: List[Tuple[Any, ...]], totals: List[Tuple[Any, ...]]) -> None:
        with self.db.engine.connect() as conn:
            self.assertEqual(stale_rows(conn, "daily_sales", query_text(DAILY)), 0)
            self.assertEqual(stale_rows(conn, "user_totals", query_text(USER_TOTALS)), 0)
            self.assertEqual(rows(conn, "TABLE daily_sales ORDER BY day"), daily)
            self.assertEqual(rows(conn, "TABLE user_totals ORDER BY user_id"), totals)

    def test_writes_rollback_savepoint(self) -> None:
        with self.db.engine.connect() as conn:
            self.assertEqual(relations(conn), [("daily_sales", "materialized view"),
                                               ("user_totals", "table view")])
            self.assertEqual(watches(conn), [("daily_sales", "orders", "commit", None),
                                             ("user_totals", "orders", "commit", None),
                                             ("user_totals", "users", "commit", None)])
        self.assert_views([], [])

        with Session(self.db.engine) as session:
            ann, bob, bot = User(id=1, name="ann"), User(id=2, name="bob"), User(id=3, name="bot 7")
            session.add_all([ann, bob, bot])
            session.add_all([Order(user_id=1, day=D1, amount=Decimal("10.50")),
                             Order(user_id=1, day=D2, amount=Decimal("4.50")),
                             Order(user_id=3, day=D1, amount=Decimal("1.00"))])
            session.commit()
        self.assert_views([(D1, 2, Decimal("11.50")), (D2, 1, Decimal("4.50"))],
                          [(1, "ann", 2, Decimal("15.00")), (2, "bob", 0, 0)])

        with Session(self.db.engine) as session:  # rolled back: nothing changes
            session.add(Order(user_id=2, day=D1, amount=Decimal("99")))
            session.flush()
            session.rollback()
        self.assert_views([(D1, 2, Decimal("11.50")), (D2, 1, Decimal("4.50"))],
                          [(1, "ann", 2, Decimal("15.00")), (2, "bob", 0, 0)])

        with Session(self.db.engine) as session:  # a savepoint rolled back, the rest committed
            nested = session.begin_nested()
            session.add(Order(user_id=2, day=D2, amount=Decimal("500")))
            session.flush()
            nested.rollback()
            session.add(Order(user_id=2, day=D2, amount=Decimal("7.25")))
            session.commit()
        self.assert_views([(D1, 2, Decimal("11.50")), (D2, 2, Decimal("11.75"))],
                          [(1, "ann", 2, Decimal("15.00")), (2, "bob", 1, Decimal("7.25"))])

        with Session(self.db.engine) as session:  # an order moved, one deleted, a user renamed
            moved = session.execute(select(Order).where(Order.amount == Decimal("10.50"))).scalar_one()
            moved.user_id = 2
            session.delete(session.execute(select(Order).where(Order.amount == Decimal("4.50"))).scalar_one())
            session.get(User, 3).name = "carol"
            session.commit()
        self.assert_views([(D1, 2, Decimal("11.50")), (D2, 1, Decimal("7.25"))],
                          [(1, "ann", 0, 0), (2, "bob", 2, Decimal("17.75")),
                           (3, "carol", 1, Decimal("1.00"))])

        with self.db.engine.connect() as conn:  # incremental: keyed refreshes, no failure
            inc, failures = conn.execute(text(
                "SELECT incremental_refreshes, failures FROM pgview_status() "
                "WHERE matview = 'user_totals'::regclass")).one()
            self.assertGreater(inc, 0)
            self.assertEqual(failures, 0)


class TableViews(unittest.TestCase):
    """Table views reflected with their key, mapped by declarative and automap."""

    db: Database

    @classmethod
    def setUpClass(cls) -> None:
        cls.db = Database("tableviews")
        setup_schema(cls.db)
        with Session(cls.db.engine) as session:
            session.add_all([User(id=1, name="ann"), User(id=2, name="bob")])
            session.add_all([Order(user_id=1, day=D1, amount=Decimal("3")),
                             Order(user_id=1, day=D2, amount=Decimal("4"))])
            session.commit()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.db.drop()

    def test_reflected_with_its_key(self) -> None:
        with self.db.engine.connect() as conn:
            table = table_view("user_totals", MetaData(), autoload_with=conn)
        self.assertEqual([c.name for c in table.columns], ["user_id", "name", "orders", "spent"])
        self.assertEqual([c.name for c in table.primary_key.columns], ["user_id"])
        # users.id is NOT NULL on the preserved side of the join: the key is the table's PRIMARY KEY
        self.assertFalse(table.c.user_id.nullable)

    def test_a_nullable_key_is_no_primary_key(self) -> None:
        """A key that can be NULL stays a unique index; table_view() maps it as the key."""
        with self.db.engine.begin() as conn:
            conn.execute(CreateView("order_users", "SELECT o.id AS order_id, u.name FROM orders o "
                                    "LEFT JOIN users u ON u.id = o.user_id", kind="table view",
                                    unique_key=["order_id", "name"]))
            self.assertEqual(rows(conn, "SELECT count(*) FROM pg_index WHERE indisprimary "
                                        "AND indrelid = 'order_users'::regclass"), [(0,)])
            table = table_view("order_users", MetaData(), autoload_with=conn)
            self.assertEqual([c.name for c in table.primary_key.columns], ["order_id", "name"])
            self.assertTrue(table.c.name.nullable)  # as in the database: no NOT NULL is invented
            conn.execute(DropView("order_users"))

    def test_quoted_names_in_a_schema(self) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(text('CREATE SCHEMA "Reports"'))
            conn.execute(CreateView('"Reports"."Big Days"', 'SELECT day AS "Day", sum(amount) AS total '
                                    "FROM orders GROUP BY day", kind="table view",
                                    unique_key=["Day"]))
            table = table_view("Big Days", MetaData(), autoload_with=conn, schema="Reports")
            self.assertEqual([c.name for c in table.primary_key.columns], ["Day"])
            self.assertEqual(conn.execute(Refresh(table, concurrently=True, cascade=False)).scalar_one(), 1)
            self.assertEqual(conn.execute(DropView(table, cascade=True)).scalar_one(), True)
            self.assertEqual(conn.execute(DropView(table, if_exists=True)).scalar_one(), False)
            conn.execute(text('DROP SCHEMA "Reports"'))

    def test_a_real_primary_key_is_kept(self) -> None:
        """A table view whose key columns are NOT NULL has them as its PRIMARY KEY (0.7.0)."""
        with self.db.engine.begin() as conn:
            conn.execute(CreateView("user_days", "SELECT user_id, day, count(*) AS n FROM orders "
                                    "GROUP BY user_id, day", kind="table view",
                                    unique_key=["user_id", "day"]))
            table = table_view("user_days", MetaData(), autoload_with=conn)
            self.assertEqual([c.name for c in table.primary_key.columns], ["day", "user_id"])
            self.assertEqual(len([c for c in table.constraints if c is table.primary_key]), 1)
            conn.execute(DropView("user_days"))

    def test_not_a_table_view(self) -> None:
        with self.db.engine.connect() as conn:
            with self.assertRaisesRegex(LookupError, "^orders is not a table view of pgview_auto$"):
                table_view("orders", MetaData(), autoload_with=conn)

    def test_declarative_and_automap(self) -> None:
        expected = [(1, "ann", 2, Decimal("7")), (2, "bob", 0, Decimal("0"))]
        metadata = MetaData()
        with self.db.engine.connect() as conn:
            totals = table_view("user_totals", metadata, autoload_with=conn)

        class UserTotal(declarative_base(metadata=metadata)):  # type: ignore[misc]
            __table__ = totals

        with Session(self.db.engine) as session:
            got = session.execute(select(UserTotal).order_by(UserTotal.user_id)).scalars().all()
            self.assertEqual([(t.user_id, t.name, t.orders, t.spent) for t in got], expected)

        auto: Any = automap_base(metadata=metadata)
        auto.prepare(autoload_with=self.db.engine)
        mapped = auto.classes.user_totals
        with Session(self.db.engine) as session:
            ann = session.get(mapped, 1)
            self.assertEqual((ann.user_id, ann.name, ann.orders, ann.spent), expected[0])
        self.assertEqual(sorted(auto.classes.keys()), ["orders", "user_totals", "users"])

        # The table view's own PRIMARY KEY: plain automap maps it, no helper needed.
        plain: Any = automap_base()
        plain.prepare(autoload_with=self.db.engine)
        self.assertIn("user_totals", plain.classes.keys())
        with Session(self.db.engine) as session:
            ann = session.get(plain.classes.user_totals, 1)
            self.assertEqual((ann.user_id, ann.name, ann.orders, ann.spent), expected[0])

    def test_async_watch_wait_unwatch(self) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE events (id int)"))
            conn.execute(CreateView("event_count", "SELECT count(*) AS n FROM events",
                                    kind="materialized view"))
            captured = conn.execute(Watch("event_count", "events", mode="async",
                                          debounce=datetime.timedelta(milliseconds=10))).scalars().all()
            self.assertEqual(captured, ["events"])
        with self.db.engine.begin() as conn:
            conn.execute(text("INSERT INTO events SELECT generate_series(1, 3)"))
        with self.db.engine.begin() as conn:
            self.assertIs(conn.execute(Wait("event_count", timeout="10 seconds")).scalar_one(), True)
            self.assertEqual(rows(conn, "TABLE event_count"), [(3,)])
            self.assertEqual(conn.execute(Unwatch("event_count")).scalar_one(), 1)
            self.assertEqual(watches(conn), [("daily_sales", "orders", "commit", None),
                                             ("user_totals", "orders", "commit", None),
                                             ("user_totals", "users", "commit", None)])
            conn.execute(DropView("event_count"))
            conn.execute(text("DROP TABLE events"))

    def test_legacy_connection_autocommits(self) -> None:
        """SQLAlchemy 1.4's legacy connections autocommit these statements, as they do DDL."""
        legacy = create_engine(self.db.url)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RemovedIn20Warning)  # that autocommit is legacy
                with legacy.connect() as conn:
                    conn.execute(CreateView("one", "SELECT 1 AS x"))
            with self.db.engine.connect() as conn:
                self.assertIn(("one", "view"), relations(conn, "public"))
                conn.execute(DropView("one"))
                conn.commit()
        finally:
            legacy.dispose()

    def test_server_errors_come_through(self) -> None:
        with self.db.engine.connect() as conn:
            with self.assertRaises(ProgrammingError) as caught:
                conn.execute(Watch("orders"))
            self.assertEqual(caught.exception.orig.pgcode, "42809")  # type: ignore[union-attr]


if __name__ == "__main__":
    unittest.main()
