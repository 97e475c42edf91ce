"""Shared by the tests: a throwaway database with pgview_auto, owned by a throwaway role.

The server comes from PGVIEW_TEST_HOST, PGVIEW_TEST_PORT and PGVIEW_TEST_USER (a superuser:
it creates the role, the database and the extension); run_tests.sh sets them.
"""
from __future__ import annotations

import os
import uuid
from typing import Any, List, Optional, Sequence, Tuple

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, Engine

HOST = os.environ.get("PGVIEW_TEST_HOST", "localhost")
PORT = int(os.environ.get("PGVIEW_TEST_PORT", "5432"))
SUPERUSER = os.environ.get("PGVIEW_TEST_USER", "postgres")


def url(database: str, user: str) -> URL:
    return URL.create("postgresql+psycopg2", username=user, host=HOST, port=PORT, database=database)


class Database:
    """A new database with pgview_auto, owned by a new login role the application runs as."""

    def __init__(self, label: str, extension: bool = True) -> None:
        self.name = f"pgview_py_{label}_{uuid.uuid4().hex[:8]}"
        self.role = self.name
        self._admin = create_engine(url("postgres", SUPERUSER), isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE ROLE "{self.role}" LOGIN'))
            conn.execute(text(f'CREATE DATABASE "{self.name}" OWNER "{self.role}"'))
        if extension:
            with self.superuser_engine().begin() as conn:
                conn.execute(text("CREATE EXTENSION pgview_auto"))
        self.url = url(self.name, self.role)
        self.engine: Engine = create_engine(self.url, future=True)

    def superuser_engine(self) -> Engine:
        return create_engine(url(self.name, SUPERUSER), future=True)

    def drop(self) -> None:
        self.engine.dispose()
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{self.role}"'))
        self._admin.dispose()


def rows(conn: Connection, sql: str, **params: Any) -> List[Tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(text(sql), params)]


def stale_rows(conn: Connection, relation: str, query: str) -> int:
    """Rows by which ``relation`` differs from ``query`` (EXCEPT ALL both ways): 0 when fresh."""
    return int(conn.execute(text(
        f"SELECT count(*) FROM ((TABLE {relation} EXCEPT ALL ({query})) "
        f"UNION ALL (({query}) EXCEPT ALL TABLE {relation})) d")).scalar_one())


def relations(conn: Connection, schema: Optional[str] = None) -> List[Tuple[Any, ...]]:
    """(relation, kind) of every view, matview and table view, as pgview_views reports them."""
    return rows(conn, "SELECT view::text, kind FROM pgview_views(:schema) ORDER BY 1",
                schema=schema)


def watches(conn: Connection) -> List[Tuple[Any, ...]]:
    """(matview, source, mode, orphaned) of every watch."""
    return rows(conn, "SELECT matview::text, source::text, mode, orphaned FROM pgview_watches "
                      "ORDER BY 1, 2, 4")


def column_types(conn: Connection, relation: str, columns: Sequence[str]) -> List[str]:
    return [conn.execute(text(
        "SELECT pg_catalog.format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute "
        "WHERE attrelid = CAST(:rel AS regclass) AND attname = :col"),
        {"rel": relation, "col": c}).scalar_one() for c in columns]
