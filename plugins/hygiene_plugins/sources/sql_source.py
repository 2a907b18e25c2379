"""A database table or query, read into polars as Arrow (connectorx) or through SQLAlchemy.

``[source] type = "sql"`` with ``url`` (a SQLAlchemy URL:
``sqlite:///deals.db``, ``postgresql://user@host/crm`` ...) and either
``table`` or ``query``. A URL holding a password belongs in the environment
variable ``HYGIENE_SOURCE_URL``, never in the configuration: one written
there is refused, and every message shows URLs with the password masked.
A relative SQLite path is relative to the configuration's folder.

The rows arrive without a Python loop per row: connectorx reads them
straight into Arrow where it supports the database; any other database
SQLAlchemy reaches is read by ``polars.read_database``. Records are
numbered from 1 in the order the table or query returns them (give a
``query`` with ``ORDER BY`` for a stable order).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from hygiene import ROW_COLUMN, RawTable, Source, SourceError

URL_ENVIRONMENT = "HYGIENE_SOURCE_URL"
#: SQLAlchemy dialects whose databases connectorx reads, and its name for each.
CONNECTORX_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql", "mssql": "mssql", "oracle": "oracle"}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def masked(url) -> str:
    return url.render_as_string(hide_password=True)


class SqlSource(Source):
    """A table or a query of any database SQLAlchemy can reach."""

    name = "sql"
    summary = "Database table or query (SQLAlchemy URL; connectorx where it can)"
    extensions = ()
    reads_file = False
    options_schema = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "minLength": 1, "description": f"SQLAlchemy URL (default: ${URL_ENVIRONMENT}); no password here."},
            "table": {"type": "string", "minLength": 1, "description": "Table to read, optionally schema.table."},
            "query": {"type": "string", "minLength": 1, "description": "SELECT statement to read instead of a table."},
        },
    }

    def read(self, path: Path | None, *, options, display_name: str) -> RawTable:
        import sqlalchemy

        text = options.get("url")
        from_config = text is not None
        if text is None:
            text = os.environ.get(URL_ENVIRONMENT)
        if not text:
            raise SourceError(f"{display_name}: no database: set [source] url, or the environment variable {URL_ENVIRONMENT}")
        try:
            url = sqlalchemy.make_url(text)
        except (sqlalchemy.exc.ArgumentError, ValueError):
            raise SourceError(f"{display_name}: source.url is not a database URL (dialect://user@host/database)") from None
        if from_config and url.password:
            raise SourceError(
                f"{display_name}: source.url holds a password ({masked(url)}): put the URL in the environment variable "
                f"{URL_ENVIRONMENT} instead, so the configuration can be committed"
            )
        if ("table" in options) == ("query" in options):
            raise SourceError(f"{display_name}: give [source] table or query (one of them)")
        dialect = url.get_backend_name()
        if dialect == "sqlite" and url.database and url.database != ":memory:" and not Path(url.database).is_absolute() and path is not None:
            url = url.set(database=str((path / url.database).resolve()))
        if dialect == "sqlite" and url.database and url.database != ":memory:" and not Path(url.database).is_file():
            raise SourceError(f"{masked(url)}: no such database file")
        query, subject = self._query(options, url)
        location = f"{subject} ({masked(url)})"
        frame = self._read_connectorx(url, query) if dialect in CONNECTORX_SCHEMES else None
        if frame is None:
            frame = self._read_sqlalchemy(url, query, location)
        if ROW_COLUMN in frame.columns:
            raise SourceError(f"{location}: has a column named {ROW_COLUMN!r}, which hygiene reserves")
        return RawTable(frame=frame, location=location, first_row=1)

    @staticmethod
    def _query(options, url) -> tuple[str, str]:
        import sqlalchemy

        if "query" in options:
            return options["query"], "query"
        schema, _, name = options["table"].rpartition(".")
        table = sqlalchemy.table(name, schema=schema or None)
        statement = sqlalchemy.select(sqlalchemy.literal_column("*")).select_from(table)
        compiled = statement.compile(dialect=_dialect(url))
        return str(compiled), f"table {options['table']}"

    @staticmethod
    def _read_connectorx(url, query: str) -> pl.DataFrame | None:
        """The rows as Arrow through connectorx; None when connectorx is absent or refuses (SQLAlchemy then reads them)."""
        try:
            import connectorx  # noqa: F401
        except ImportError:
            return None
        scheme = CONNECTORX_SCHEMES[url.get_backend_name()]
        if scheme == "sqlite":
            uri = f"sqlite://{url.database}"
        else:
            uri = url.set(drivername=scheme).render_as_string(hide_password=False)
        try:
            return pl.read_database_uri(query, uri, engine="connectorx")
        except Exception:  # an unsupported type or driver feature: the slower path reads anything
            return None

    @staticmethod
    def _read_sqlalchemy(url, query: str, location: str) -> pl.DataFrame:
        import sqlalchemy

        try:
            engine = sqlalchemy.create_engine(url)
        except (ImportError, sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError) as exc:
            raise SourceError(f"{location}: cannot use this database: {_first_line(exc)}") from None
        try:
            with engine.connect() as connection:
                return pl.read_database(sqlalchemy.text(query), connection, infer_schema_length=None)
        except sqlalchemy.exc.SQLAlchemyError as exc:
            raise SourceError(f"{location}: {_first_line(getattr(exc, 'orig', None) or exc)}") from None
        finally:
            engine.dispose()


def _dialect(url):
    """The URL's SQL dialect, for quoting a table name (no driver is imported)."""
    import sqlalchemy
    from sqlalchemy.engine.default import DefaultDialect

    try:
        return url.get_dialect()()
    except (sqlalchemy.exc.NoSuchModuleError, ImportError):
        return DefaultDialect()
