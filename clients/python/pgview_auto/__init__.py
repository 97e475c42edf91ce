"""Python adapter of the pgview_auto PostgreSQL extension.

``pgview_auto.sqlalchemy``: its functions as SQLAlchemy statements, table views as Tables.
``pgview_auto.alembic``: Alembic operations (op.create_view, op.pgview_alter, ...) and the
autogenerate filter. Importing this package imports neither SQLAlchemy nor Alembic.
"""

__version__ = "0.6.0"
