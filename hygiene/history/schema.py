"""The store's tables, its schema version and the forward migrations between versions.

hygiene owns these tables (all named ``hygiene_*``, so they can share a
team database with others). ``hygiene_schema_version`` holds one row: the
version the tables are at. Opening a store at an older version applies
the migrations from :data:`MIGRATIONS` in order, in one transaction; a
store written by a newer hygiene is refused with one line, never guessed
at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl
import sqlalchemy as sa

from hygiene.api.errors import HygieneError
from hygiene.api.fields import CANONICAL_FIELDS
from hygiene.history.digest import row_digests

#: The schema this version of hygiene writes.
#: 2: ``content_hash`` is :mod:`hygiene.history.digest`'s digest (1: BLAKE2b of each row as text).
SCHEMA_VERSION = 2

metadata = sa.MetaData()

EPOCH = dt.date(1970, 1, 1)


class EpochDay(sa.types.TypeDecorator):
    """A date on SQLite, which has no date type: its day number since 1970-01-01.

    Three bytes instead of ten for ISO text, and it sorts and compares as
    dates do. Results stay day numbers: the store turns whole columns into
    dates at once (a polars cast), not one value at a time.
    """

    impl = sa.Integer
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or isinstance(value, int):
            return value
        if isinstance(value, str):
            value = dt.date.fromisoformat(value)
        return (value - EPOCH).days


#: Dates are SQL dates, and day numbers on SQLite (see :class:`EpochDay`).
DATE = sa.Date().with_variant(EpochDay(), "sqlite")

_SQL_TYPES = {"str": sa.Text, "float": sa.Float, "int": sa.BigInteger, "date": lambda: DATE}

#: Every canonical field except ``id`` is tracked; a change in any of them (or in the extras) starts a new version.
TRACKED_FIELDS: tuple[str, ...] = tuple(field for field in CANONICAL_FIELDS if field != "id")
EXTRAS_COLUMN = "extras"
#: The columns a version's digest covers, in the digest's order.
DIGEST_COLUMNS: tuple[str, ...] = (*TRACKED_FIELDS, EXTRAS_COLUMN)

schema_version = sa.Table("hygiene_schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))

snapshots = sa.Table(
    "hygiene_snapshots",
    metadata,
    sa.Column("snapshot_date", DATE, primary_key=True),
    # "export" (hygiene snapshot add) or "import" (a date of a CRM change log, hygiene snapshot import).
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64)),
    sa.Column("hygiene_version", sa.String(32), nullable=False),
    sa.Column("added_at", sa.String(32), nullable=False),
)

deal_versions = sa.Table(
    "hygiene_deal_versions",
    metadata,
    sa.Column("deal_id", sa.Text, primary_key=True),
    sa.Column("valid_from", DATE, primary_key=True),
    # Null for the deal's current version; else the first snapshot date at which it no longer held.
    sa.Column("valid_to", DATE),
    # A 64-bit digest of the tracked fields and extras: versions compare by it, not column by column.
    sa.Column("content_hash", sa.BigInteger, nullable=False),
    *(sa.Column(field, _SQL_TYPES[CANONICAL_FIELDS[field]]()) for field in TRACKED_FIELDS),
    sa.Column(EXTRAS_COLUMN, sa.Text),
    sqlite_with_rowid=False,
)
sa.Index("hygiene_deal_versions_valid_to", deal_versions.c.valid_to)

audit_runs = sa.Table(
    "hygiene_audit_runs",
    metadata,
    sa.Column("as_of", DATE, primary_key=True),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("hygiene_version", sa.String(32), nullable=False),
    sa.Column("deals", sa.BigInteger, nullable=False),
    sa.Column("open_deals", sa.BigInteger, nullable=False),
    sa.Column("findings", sa.BigInteger, nullable=False),
    sa.Column("score", sa.Float),
    sa.Column("open_pipeline", sa.Float, nullable=False),
    sa.Column("amount_at_risk", sa.Float, nullable=False),
    # {"by_rule": {code: n}, "by_owner": {owner: n}, "by_rule_and_owner": {code: {owner: n}}}
    sa.Column("counts", sa.Text, nullable=False),
)

audit_findings = sa.Table(
    "hygiene_audit_findings",
    metadata,
    sa.Column("as_of", DATE, primary_key=True),
    sa.Column("fingerprint", sa.String(20), primary_key=True),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("deal_id", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Column("severity", sa.String(8), nullable=False),
    # How many audit runs in a row, this one included, have had this finding.
    sa.Column("runs", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)


_POLARS_TYPES = {"str": pl.String, "float": pl.Float64, "int": pl.Int64, "date": pl.Date}
#: Rows a migration reads and rewrites at a time.
_MIGRATION_SLICE = 100_000


def _digests_from_text_to_words(connection: sa.Connection) -> None:
    """1 -> 2: recompute every version's ``content_hash`` with :func:`hygiene.history.digest.row_digests`.

    Versions compare by digest, so every stored digest must be the one an
    export's row gets today; the versions themselves are unchanged.
    """
    v = deal_versions.c
    sqlite = connection.dialect.name == "sqlite"
    types = {f: _POLARS_TYPES[CANONICAL_FIELDS[f]] for f in TRACKED_FIELDS} | {EXTRAS_COLUMN: pl.String}
    raw = {"deal_id": pl.String, "valid_from": pl.Int64 if sqlite else pl.Date} | {c: (pl.Int32 if t == pl.Date and sqlite else t) for c, t in types.items()}
    result = connection.execute(sa.select(v.deal_id, v.valid_from, *(v[c] for c in DIGEST_COLUMNS)).order_by(v.deal_id, v.valid_from))
    updates = []
    for rows in result.partitions(_MIGRATION_SLICE):
        frame = pl.DataFrame(rows, schema=raw, orient="row")
        frame = frame.with_columns(pl.col(c).cast(pl.Date) for c, t in types.items() if t == pl.Date and sqlite)
        updates.append(frame.select("deal_id", "valid_from", row_digests(frame, DIGEST_COLUMNS)))
    statement = sa.update(deal_versions).where(v.deal_id == sa.bindparam("b_deal"), v.valid_from == sa.bindparam("b_from")).values(content_hash=sa.bindparam("b_hash"))
    for frame in updates:
        connection.execute(statement, [{"b_deal": d, "b_from": f, "b_hash": h} for d, f, h in frame.iter_rows()])


#: ``from_version -> migration`` bringing a store from that version to the next, inside the caller's transaction.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {1: _digests_from_text_to_words}


def current_version(connection: sa.Connection) -> int | None:
    """The version of the store's tables, or None for a database hygiene has not written to."""
    if not sa.inspect(connection).has_table(schema_version.name):
        return None
    return connection.execute(sa.select(schema_version.c.version)).scalar_one_or_none()


def create_or_upgrade(connection: sa.Connection, location: str) -> None:
    """Create the tables in an empty database, or bring an older schema up to :data:`SCHEMA_VERSION`."""
    version = current_version(connection)
    if version is None:
        metadata.create_all(connection)
        connection.execute(sa.insert(schema_version).values(version=SCHEMA_VERSION))
        return
    if version > SCHEMA_VERSION:
        raise HygieneError(
            f"{location}: the history store has schema version {version}, newer than this hygiene reads "
            f"({SCHEMA_VERSION}); upgrade hygiene"
        )
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](connection)
        version += 1
    connection.execute(sa.update(schema_version).values(version=SCHEMA_VERSION))
