"""Moving whole polars frames in and out of the store's database, past SQLAlchemy's per-value processing.

SQLAlchemy Core builds the statements; the rows go straight to the driver a
slice at a time (``COPY`` on PostgreSQL, ``executemany`` elsewhere) and come
back the same way, so that only a slice's rows ever exist as Python
objects. Dates are day numbers on SQLite (see :class:`hygiene.history.schema.EpochDay`)
and are cast a whole column at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl
import sqlalchemy as sa

#: Rows handed to or read from the database driver at a time.
SLICE = 100_000


def is_postgres(connection: sa.Connection) -> bool:
    return connection.dialect.name == "postgresql"


def read_frame(connection: sa.Connection, query, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The rows of ``query`` as a frame of ``schema`` (its columns in the query's order), inside ``connection``'s transaction."""
    postgres = is_postgres(connection)
    # SQLite hands dates back as day numbers and PostgreSQL bytea as bytes: one cast per column makes them what `schema` says.
    raw_schema = {c: (pl.Int32 if t == pl.Date and not postgres else pl.Binary if t == pl.String and postgres and c in _binary_columns(query) else t) for c, t in schema.items()}
    if postgres:
        result = connection.execute(query.execution_options(stream_results=True, yield_per=SLICE))
        parts = [pl.DataFrame(rows, schema=raw_schema, orient="row") for rows in result.partitions(SLICE)]
    else:
        parts = [pl.DataFrame(rows, schema=raw_schema, orient="row") for rows in _sqlite_rows(connection, query)]
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=raw_schema)
    return frame.with_columns(pl.col(c).cast(schema[c]) for c, t in raw_schema.items() if t != schema[c])


def _binary_columns(query) -> set[str]:
    """The columns of ``query`` that the database keeps as bytes (``LargeBinary``, PostgreSQL's ``bytea``)."""
    return {c.name for c in query.selected_columns if isinstance(c.type, sa.LargeBinary) or isinstance(getattr(c.type, "_variant_mapping", {}).get("postgresql"), sa.LargeBinary)}


def _sqlite_rows(connection: sa.Connection, query) -> Iterable[list[tuple]]:
    """The rows of ``query`` in slices, straight from the sqlite3 cursor on ``connection`` (inside its transaction, if any).

    SQLAlchemy's result rows cost more than the read itself (1M versions:
    about 4.7 s against 2 s); the values need no processing here.
    """
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(SLICE):
            yield rows
    finally:
        cursor.close()


def bulk_insert(connection: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """Insert ``frame``'s rows into ``table`` in bulk: ``COPY`` on PostgreSQL, one ``executemany`` elsewhere.

    Columns null in every row are left out (the database fills them with
    null), and values go to the driver a column at a time: building
    Python tuples row by row costs more than the insert itself.
    """
    postgres = is_postgres(connection)
    present = [c.name for c in table.columns if c.name in frame.columns]
    nulls = frame.select(pl.col(present).null_count()).row(0) if frame.height else [0] * len(present)
    names = [name for name, n in zip(present, nulls, strict=True) if n < frame.height]
    # In the table's key order: SQLite then appends to its B-tree (or fills it in order) instead of splitting pages at random.
    keys = [c.name for c in table.primary_key.columns if c.name in names]
    frame = frame.select(names).sort(keys) if keys and not postgres else frame.select(names)
    dates = [n for n in names if frame.schema[n] == pl.Date]
    if dates:
        frame = frame.with_columns(pl.col(dates).dt.to_string("%Y-%m-%d") if postgres else pl.col(dates).cast(pl.Int32))
    if postgres:
        binary = [n for n in names if isinstance(table.c[n].type.dialect_impl(connection.dialect), sa.LargeBinary) and frame.schema[n] == pl.String]
        if binary:
            frame = frame.with_columns(pl.col(binary).cast(pl.Binary))
    slices = (zip(*(part.get_column(n).to_list() for n in names), strict=True) for part in frame.iter_slices(SLICE))
    if postgres:
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for values in slices:
                for row in values:
                    copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in names) if connection.dialect.paramstyle == "qmark" else ", ".join("%s" for _ in names)
    for values in slices:
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})", list(values))
