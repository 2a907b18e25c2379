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
from hygiene.history.dictionary import TextDictionary
from hygiene.history.digest import row_digests
from hygiene.history.sql import SLICE, bulk_insert, read_frame

#: The schema this version of hygiene writes.
#: 2: ``content_hash`` is :mod:`hygiene.history.digest`'s digest (1: BLAKE2b of each row as text).
#: 3: the compact layout: every text value once, in ``hygiene_texts``; versions hold its integer key.
#: 4: an audit run's finding rows keep the deal's id and owner as the dictionary does (``bytea`` on PostgreSQL).
SCHEMA_VERSION = 4

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

#: Text as the database keeps it: SQLite text holds any string; PostgreSQL text cannot hold a NUL byte, so
#: there the UTF-8 bytes go into ``bytea``, which holds every string an export can carry.
TEXT_VALUE = sa.Text().with_variant(sa.LargeBinary(), "postgresql")

#: The store's dictionary: every distinct text value of a field (a deal's id, its stage, owner, name, extras...)
#: once, with a key numbered from 0 without gaps in the order the values first arrived, per field. Entries are
#: never changed or removed, so a key read anywhere means the same value for the life of the store.
texts = sa.Table(
    "hygiene_texts",
    metadata,
    sa.Column("field", sa.String(64), primary_key=True),
    sa.Column("text_key", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("value", TEXT_VALUE, nullable=False),
    sqlite_with_rowid=False,
)

#: The text fields a version keeps as keys into :data:`texts` (the ``id`` one is the version's ``deal_key``).
TEXT_FIELDS: tuple[str, ...] = tuple(field for field in TRACKED_FIELDS if CANONICAL_FIELDS[field] == "str") + (EXTRAS_COLUMN,)

deal_versions = sa.Table(
    "hygiene_deal_versions",
    metadata,
    # The key of the deal's id in `texts` (field "id"): 1 to 4 bytes a row instead of the id's text, in the
    # primary key and in the valid_to index alike.
    sa.Column("deal_key", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("valid_from", DATE, primary_key=True),
    # Null for the deal's current version; else the first snapshot date at which it no longer held.
    sa.Column("valid_to", DATE),
    # A 64-bit digest of the tracked fields and extras (of their text, not their keys): versions compare by it.
    sa.Column("content_hash", sa.BigInteger, nullable=False),
    # A text field (and the extras' JSON) holds its value's key in `texts`; the others hold the value.
    *(sa.Column(field, sa.BigInteger if field in TEXT_FIELDS else _SQL_TYPES[CANONICAL_FIELDS[field]]()) for field in TRACKED_FIELDS),
    sa.Column(EXTRAS_COLUMN, sa.BigInteger),
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
    # The export's text, NUL bytes included: as the dictionary keeps it (see TEXT_VALUE).
    sa.Column("deal_id", TEXT_VALUE),
    sa.Column("owner", TEXT_VALUE),
    sa.Column("severity", sa.String(8), nullable=False),
    # How many audit runs in a row, this one included, have had this finding.
    sa.Column("runs", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)


#: The versions table of schema versions 1 and 2 (every value inline), which the migrations read.
deal_versions_v2 = sa.Table(
    "hygiene_deal_versions",
    sa.MetaData(),
    sa.Column("deal_id", sa.Text, primary_key=True),
    sa.Column("valid_from", DATE, primary_key=True),
    sa.Column("valid_to", DATE),
    sa.Column("content_hash", sa.BigInteger, nullable=False),
    *(sa.Column(field, _SQL_TYPES[CANONICAL_FIELDS[field]]()) for field in TRACKED_FIELDS),
    sa.Column(EXTRAS_COLUMN, sa.Text),
    sqlite_with_rowid=False,
)
sa.Index("hygiene_deal_versions_valid_to", deal_versions_v2.c.valid_to)

_POLARS_TYPES = {"str": pl.String, "float": pl.Float64, "int": pl.Int64, "date": pl.Date}
#: Rows a migration reads and rewrites at a time.
_MIGRATION_SLICE = 100_000


def _digests_from_text_to_words(connection: sa.Connection) -> None:
    """1 -> 2: recompute every version's ``content_hash`` with :func:`hygiene.history.digest.row_digests`.

    Versions compare by digest, so every stored digest must be the one an
    export's row gets today; the versions themselves are unchanged.
    """
    v = deal_versions_v2.c
    sqlite = connection.dialect.name == "sqlite"
    types = {f: _POLARS_TYPES[CANONICAL_FIELDS[f]] for f in TRACKED_FIELDS} | {EXTRAS_COLUMN: pl.String}
    raw = {"deal_id": pl.String, "valid_from": pl.Int64 if sqlite else pl.Date} | {c: (pl.Int32 if t == pl.Date and sqlite else t) for c, t in types.items()}
    result = connection.execute(sa.select(v.deal_id, v.valid_from, *(v[c] for c in DIGEST_COLUMNS)).order_by(v.deal_id, v.valid_from))
    updates = []
    for rows in result.partitions(_MIGRATION_SLICE):
        frame = pl.DataFrame(rows, schema=raw, orient="row")
        frame = frame.with_columns(pl.col(c).cast(pl.Date) for c, t in types.items() if t == pl.Date and sqlite)
        updates.append(frame.select("deal_id", "valid_from", row_digests(frame, DIGEST_COLUMNS)))
    statement = sa.update(deal_versions_v2).where(v.deal_id == sa.bindparam("b_deal"), v.valid_from == sa.bindparam("b_from")).values(content_hash=sa.bindparam("b_hash"))
    for frame in updates:
        connection.execute(statement, [{"b_deal": d, "b_from": f, "b_hash": h} for d, f, h in frame.iter_rows()])


def _text_into_the_dictionary(connection: sa.Connection) -> None:
    """2 -> 3, the compact layout: every text value once, in ``hygiene_texts``; versions keep its integer key.

    The versions are copied a slice at a time (in key order, so that
    memory holds one slice), their text encoded into the dictionary; the
    old table is dropped at the end. Digests are of the text, so they
    carry over unchanged.
    """
    connection.execute(sa.text("DROP INDEX hygiene_deal_versions_valid_to"))
    connection.execute(sa.text("ALTER TABLE hygiene_deal_versions RENAME TO hygiene_deal_versions_v2"))
    old = deal_versions_v2.to_metadata(sa.MetaData(), name="hygiene_deal_versions_v2")
    metadata.create_all(connection, tables=[texts, deal_versions])
    types = {"deal_id": pl.String, "valid_from": pl.Date, "valid_to": pl.Date, "content_hash": pl.Int64}
    types |= {f: _POLARS_TYPES[CANONICAL_FIELDS[f]] for f in TRACKED_FIELDS} | {EXTRAS_COLUMN: pl.String}
    dictionary = TextDictionary(connection, texts)
    last: tuple | None = None
    while True:
        query = sa.select(*(old.c[c] for c in types)).order_by(old.c.deal_id, old.c.valid_from).limit(SLICE)
        if last is not None:
            query = query.where(sa.tuple_(old.c.deal_id, old.c.valid_from) > sa.tuple_(sa.literal(last[0], sa.Text), sa.literal(last[1], DATE)))
        frame = read_frame(connection, query, types)
        if not frame.height:
            break
        last = (frame["deal_id"][-1], frame["valid_from"][-1])
        encoded = frame.with_columns(dictionary.encode(frame[c], c) for c in TEXT_FIELDS)
        bulk_insert(connection, deal_versions, encoded.with_columns(dictionary.encode(frame["deal_id"], "id").alias("deal_key")).drop("deal_id"))
    old.drop(connection)


def _finding_text_as_bytes(connection: sa.Connection) -> None:
    """3 -> 4: an audit run's finding rows keep the deal's id and owner as :data:`TEXT_VALUE` (``bytea`` on PostgreSQL).

    PostgreSQL's ``text`` cannot hold a NUL byte, so a run whose findings
    named such an id failed to record. The rows already there are text
    without NUL and convert in place; SQLite's text holds any string, and
    its tables stay as they are.
    """
    if connection.dialect.name != "postgresql":
        return
    # Only the columns still text: a table already created in this layout is left as it is.
    text = [c["name"] for c in sa.inspect(connection).get_columns(audit_findings.name) if c["name"] in ("deal_id", "owner") and isinstance(c["type"], sa.Text)]
    if text:
        changes = ", ".join(f"ALTER COLUMN {c} TYPE bytea USING convert_to({c}, 'UTF8')" for c in text)
        connection.exec_driver_sql(f"ALTER TABLE {audit_findings.name} {changes}")


#: ``from_version -> migration`` bringing a store from that version to the next, inside the caller's transaction.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {1: _digests_from_text_to_words, 2: _text_into_the_dictionary, 3: _finding_text_as_bytes}


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
