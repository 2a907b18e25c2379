"""The snapshot store: dated exports kept as deal versions in a SQL database.

Through SQLAlchemy 2 Core, so any database SQLAlchemy reaches will do; the
default is an SQLite file, ``.hygiene/history.db`` beside ``hygiene.toml``,
and PostgreSQL is the choice for a team. Diffs are computed in polars and
only changes are written: adding a snapshot reads each current version's
``(deal_key, valid_from, valid_to, content_hash)``, compares digests with the
export, closes the versions that changed or vanished, and inserts the new
versions in bulk (``COPY`` on PostgreSQL). Text is kept once, in the store's
dictionary (:mod:`hygiene.history.dictionary`): a version holds integer keys,
which the reading methods turn back into text.

Every write is one transaction that holds the store's write lock (SQLite
``BEGIN IMMEDIATE``, a PostgreSQL table lock), so an interrupted add leaves
the store as it was and two adds at once queue rather than interleave.

Invariants the code keeps (and the property tests check):

- every ``valid_from`` and ``valid_to`` is a snapshot date;
- a deal's versions never overlap, and two that touch (one's ``valid_to``
  is the other's ``valid_from``) differ: unchanged stretches are one row;
- the deals valid at a snapshot date are exactly the export added for it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
import polars as pl
import sqlalchemy as sa

from hygiene.api.errors import ConfigError, HygieneError
from hygiene.api.fields import CANONICAL_FIELDS
from hygiene.history import schema
from hygiene.history.dictionary import TextDictionary
from hygiene.history.digest import row_digests
from hygiene.history.location import DEFAULT_STORE, URL_VARIABLE, store_configured
from hygiene.history.schema import DIGEST_COLUMNS, EXTRAS_COLUMN, TEXT_FIELDS, TRACKED_FIELDS, audit_findings, audit_runs, deal_versions, snapshots, texts
from hygiene.history.sql import bulk_insert, read_frame

_POLARS_TYPES = {"str": pl.String, "float": pl.Float64, "int": pl.Int64, "date": pl.Date}
#: The versions table as a polars schema.
VERSION_SCHEMA: dict[str, pl.DataType] = {
    "deal_id": pl.String,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "content_hash": pl.Int64,
    **{field: _POLARS_TYPES[CANONICAL_FIELDS[field]] for field in TRACKED_FIELDS},
    EXTRAS_COLUMN: pl.String,
}
#: The versions table as the database keeps it (schema 3): the deal's key and every text field's key in place of their text.
STORED_SCHEMA: dict[str, pl.DataType] = {
    "deal_key": pl.Int64,
    **{column: (pl.Int64 if column in TEXT_FIELDS else dtype) for column, dtype in VERSION_SCHEMA.items() if column != "deal_id"},
}
#: The PostgreSQL advisory lock key writers take ("hygiene" in ASCII).
_PG_LOCK_KEY = 0x68796769656E65


@attrs.define(frozen=True)
class StoreLocation:
    """Where the store is: a SQLAlchemy URL, and how to name it in messages (never with a password)."""

    url: str
    display: str
    #: The SQLite file of the default store (created on first use), else None.
    default_file: Path | None = None
    #: The file of any SQLite store (its folder is created on first use), else None.
    sqlite_file: Path | None = None

    @property
    def exists(self) -> bool:
        return self.default_file is None or self.default_file.is_file()


def locate_store(base_dir: Path, configured_url: str | None, environ: dict[str, str] | None = None) -> StoreLocation:
    """The store to use: ``HYGIENE_HISTORY_URL``, else ``[history] url``, else ``.hygiene/history.db`` in ``base_dir``.

    The variable beats the file so that a password never has to be written
    in ``hygiene.toml``.
    """
    environ = os.environ if environ is None else environ
    url = environ.get(URL_VARIABLE) or configured_url
    if url:
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError:
            # Not echoed: an unparsable URL may still hold a password.
            raise ConfigError("history url: not a SQLAlchemy database URL (expected dialect+driver://user@host/database)") from None
        sqlite_file = _sqlite_file(parsed, base_dir)
        if sqlite_file is not None:
            parsed = parsed.set(database=sqlite_file.as_posix())
            return StoreLocation(url=parsed.render_as_string(hide_password=False), display=str(sqlite_file), sqlite_file=sqlite_file)
        return StoreLocation(url=url, display=parsed.render_as_string(hide_password=True))
    path = base_dir / DEFAULT_STORE
    return StoreLocation(url=f"sqlite:///{path.as_posix()}", display=str(path), default_file=path, sqlite_file=path)


def _sqlite_file(url: sa.engine.URL, base_dir: Path) -> Path | None:
    """The file of an SQLite URL, a relative path taken from ``base_dir`` (the folder of ``hygiene.toml``); None for other databases.

    ``sqlite:///history.db`` then names the same file wherever hygiene is
    run from, as the default store does. In-memory databases and SQLite
    ``file:`` URIs are left as they are.
    """
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("uri"):
        return None
    path = Path(database)
    return path if path.is_absolute() else base_dir / path


@attrs.define(frozen=True, kw_only=True)
class SnapshotInfo:
    date: dt.date
    kind: str
    source: str
    row_count: int
    sha256: str | None
    hygiene_version: str
    added_at: str


@attrs.define(frozen=True, kw_only=True)
class SnapshotChanges:
    """What a snapshot changed against the one before it (by date)."""

    date: dt.date
    previous: dt.date | None
    deals: int
    new: int
    changed: int
    closed: int
    removed: int
    replaced: bool


@attrs.define(frozen=True, kw_only=True)
class AuditRun:
    """One recorded audit: its figures, for ``hygiene trend`` and the next run's finding statuses."""

    as_of: dt.date
    recorded_at: str
    source: str
    hygiene_version: str
    deals: int
    open_deals: int
    findings: int
    score: float | None
    open_pipeline: float
    amount_at_risk: float
    counts: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "deals": self.deals,
            "open_deals": self.open_deals,
            "findings": self.findings,
            "score": self.score,
            "open_pipeline": self.open_pipeline,
            "amount_at_risk": self.amount_at_risk,
            "by_rule": dict(self.counts.get("by_rule", {})),
        }


def content_hashes(frame: pl.DataFrame) -> pl.Series:
    """The digest of each row's tracked fields and extras (:mod:`hygiene.history.digest`): stable across versions and machines."""
    return row_digests(frame, DIGEST_COLUMNS)


def version_rows(deals: pl.DataFrame, extra_columns: Sequence[str]) -> pl.DataFrame:
    """The normalised deal table as the store keeps it: ``deal_id``, the tracked fields, extras as one JSON column, a digest."""
    extras = [c for c in extra_columns if c in deals.columns]
    extras_json = pl.struct(extras).struct.json_encode() if extras else pl.lit(None, pl.String)
    rows = deals.select(
        pl.col("id").alias("deal_id"),
        *(pl.col(f).cast(_POLARS_TYPES[CANONICAL_FIELDS[f]]) if f in deals.columns else pl.lit(None, _POLARS_TYPES[CANONICAL_FIELDS[f]]).alias(f) for f in TRACKED_FIELDS),
        extras_json.alias(EXTRAS_COLUMN),
    )
    return rows.with_columns(content_hashes(rows))


def _iso(value: dt.date | None) -> dt.date | None:
    """A date as a statement parameter: the column's type turns it into what the database stores."""
    return value


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, int):
        return schema.EPOCH + dt.timedelta(days=value)
    return dt.date.fromisoformat(value)


class HistoryStore:
    """A snapshot store. Open one with :meth:`open`; every method is one transaction.

    Reading methods return polars frames (``versions``, ``deals_as_of``) or
    plain values (``snapshots``, ``audit_runs``), ready for reporters and
    for forecasting.
    """

    def __init__(self, engine: sa.Engine, location: StoreLocation) -> None:
        self.engine = engine
        self.location = location
        self._postgres = engine.dialect.name == "postgresql"

    # -- opening -----------------------------------------------------------------

    @classmethod
    def open(cls, location: StoreLocation) -> HistoryStore:
        """Connect, create the tables on first use, upgrade an older schema; one line naming the store when that fails."""
        if location.sqlite_file is not None:
            location.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = sa.create_engine(location.url, **_engine_options(location.url))
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise ConfigError(f"history url {location.display}: cannot use it: {_first_line(exc)}") from None
        _configure(engine)
        store = cls(engine, location)
        try:
            with store._write() as connection:
                schema.create_or_upgrade(connection, location.display)
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            raise HygieneError(f"{location.display}: cannot open the history store: {_first_line(exc.orig or exc)}") from None
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _write(self):
        """A write transaction holding the store's lock (see the module docstring)."""
        return _LockedTransaction(self)

    # -- snapshots ---------------------------------------------------------------

    def snapshots(self) -> list[SnapshotInfo]:
        """Every snapshot, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(snapshots).order_by(snapshots.c.snapshot_date)).mappings().all()
        return [
            SnapshotInfo(
                date=_as_date(row["snapshot_date"]),
                kind=row["kind"],
                source=row["source"],
                row_count=row["row_count"],
                sha256=row["sha256"],
                hygiene_version=row["hygiene_version"],
                added_at=row["added_at"],
            )
            for row in rows
        ]

    def snapshot_dates(self) -> list[dt.date]:
        """The snapshot dates, oldest first."""
        with self.engine.connect() as connection:
            return [_as_date(d) for d in connection.execute(sa.select(snapshots.c.snapshot_date).order_by(snapshots.c.snapshot_date)).scalars()]

    def add_snapshot(
        self,
        rows: pl.DataFrame,
        date: dt.date,
        *,
        source: str,
        sha256: str | None,
        hygiene_version: str,
        added_at: str,
        open_stage: pl.Expr | None = None,
        kind: str = "export",
    ) -> SnapshotChanges:
        """Store ``rows`` (from :func:`version_rows`) as the snapshot of ``date``, replacing one of that date.

        A date older than the newest is a backfill: versions around it are
        split and merged so that every date reads back as it was added.
        ``open_stage`` (true for open deals) lets the summary tell closed
        deals from changed ones.
        """
        with self._write() as connection:
            dates = self._dates(connection)
            replaced = date in dates
            if replaced:
                self._remove(connection, date, dates)
                dates.remove(date)
            previous = max((d for d in dates if d < date), default=None)
            following = min((d for d in dates if d > date), default=None)
            changes = self._insert(connection, rows, date, previous, following, open_stage)
            connection.execute(
                sa.insert(snapshots).values(
                    snapshot_date=_iso(date),
                    kind=kind,
                    source=source,
                    row_count=rows.height,
                    sha256=sha256,
                    hygiene_version=hygiene_version,
                    added_at=added_at,
                )
            )
        return attrs.evolve(changes, replaced=replaced)

    def remove_snapshot(self, date: dt.date) -> None:
        with self._write() as connection:
            dates = self._dates(connection)
            if date not in dates:
                raise HygieneError(f"{self.location.display}: no snapshot dated {date.isoformat()}")
            self._remove(connection, date, dates)

    def prune(self, keep: int) -> list[dt.date]:
        """Remove the oldest snapshots until ``keep`` remain (one transaction); returns the dates removed."""
        with self._write() as connection:
            dates = self._dates(connection)
            removed = dates[: max(len(dates) - keep, 0)]
            for date in removed:
                self._remove(connection, date, list(dates))
                dates.remove(date)
        return removed

    def import_versions(self, versions: pl.DataFrame, *, source: str, hygiene_version: str, added_at: str) -> None:
        """Make ``versions`` (from a CRM change log) the store's history: one ``import`` snapshot per day a version begins.

        Only into a store without exports (a new import replaces an earlier one), in one transaction.
        """
        with self._write() as connection:
            kinds = set(connection.execute(sa.select(snapshots.c.kind).distinct()).scalars())
            if "export" in kinds:
                raise HygieneError(f"{self.location.display}: holds exports already; import CRM history into a new store, before the first `hygiene snapshot add`")
            connection.execute(sa.delete(deal_versions))
            connection.execute(sa.delete(snapshots))
            if not versions.height:
                return
            self._bulk_insert(connection, deal_versions, _encoded(TextDictionary(connection, texts), versions))
            starts = versions.group_by("valid_from").len().rename({"valid_from": "date", "len": "starts"})
            ends = versions.drop_nulls("valid_to").group_by("valid_to").len().rename({"valid_to": "date", "len": "ends"})
            counts = (
                starts.join(ends, on="date", how="full", coalesce=True)
                .fill_null(0)
                .sort("date")
                .select("date", (pl.col("starts") - pl.col("ends")).cum_sum().alias("row_count"))
            )
            rows = counts.select(
                pl.col("date").alias("snapshot_date"),
                pl.lit("import").alias("kind"),
                pl.lit(source).alias("source"),
                "row_count",
                pl.lit(None, pl.String).alias("sha256"),
                pl.lit(hygiene_version).alias("hygiene_version"),
                pl.lit(added_at).alias("added_at"),
            )
            self._bulk_insert(connection, snapshots, rows)

    # -- reading -----------------------------------------------------------------

    def versions(self, columns: Iterable[str] | None = None, *, before: dt.date | None = None, deal_ids: Sequence[str] | None = None) -> pl.DataFrame:
        """Deal versions as a polars frame (all columns, or ``deal_id``, ``valid_from``, ``valid_to`` and ``columns``).

        ``before``: only versions that began before that date (what history
        knew on the eve of it). Sorted by deal and ``valid_from``.
        """
        wanted = list(dict.fromkeys(["deal_id", "valid_from", "valid_to", *(columns or VERSION_SCHEMA)]))
        query = sa.select(*(deal_versions.c[_stored(c)] for c in wanted))
        if before is not None:
            query = query.where(deal_versions.c.valid_from < _iso(before))
        if deal_ids is not None:
            with self.engine.connect() as connection:
                keys = TextDictionary(connection, texts).lookup(pl.Series(list(deal_ids), dtype=pl.String), "id").drop_nulls()
                frame = self._frame(connection, query.where(deal_versions.c.deal_key.in_(keys.to_list())), wanted)
        else:
            frame = self._read(query, wanted)
        return frame.sort("deal_id", "valid_from")

    def deals_as_of(self, date: dt.date) -> pl.DataFrame:
        """The deals as the store saw them on ``date`` (the versions valid then), canonical fields and ``extras`` JSON."""
        query = sa.select(*(deal_versions.c[_stored(c)] for c in VERSION_SCHEMA)).where(_valid_at(date))
        frame = self._read(query, list(VERSION_SCHEMA))
        return frame.sort("deal_id").drop("valid_from", "valid_to", "content_hash").rename({"deal_id": "id"})

    def _read(self, query, columns: Sequence[str]) -> pl.DataFrame:
        """A read outside any write (``columns``: the versions' public names): through Arrow (connectorx) where it can, else through the driver.

        connectorx fetches the rows in native code straight into Arrow
        columns, several times faster than handing each row to Python
        (PostgreSQL only: see :meth:`_arrow_url`). It reads on a connection
        of its own, so only committed data, which is all a read outside a
        write transaction sees anyway. The dictionary is read after the
        versions: its entries are never removed, so it holds every key they name.
        """
        arrow_url = self._arrow_url()
        if arrow_url is not None:
            sql = str(query.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}))
            try:
                import connectorx  # noqa: F401  (optional: not built for every platform)

                frame = pl.read_database_uri(sql, arrow_url, engine="connectorx")
            except Exception:  # noqa: BLE001 - any failure of the fast path leaves the driver's, which reports errors properly
                frame = None
            if frame is not None:
                stored = [_stored(c) for c in columns]
                if not frame.height:
                    frame = pl.DataFrame(schema={c: STORED_SCHEMA[c] for c in stored})
                frame = frame.select(_typed(c, frame.schema[c]) for c in stored)
                with self.engine.connect() as connection:
                    return _decoded(TextDictionary(connection, texts), frame)
        with self.engine.connect() as connection:
            return self._frame(connection, query, columns)

    def _arrow_url(self) -> str | None:
        """The store's URL as connectorx spells it, or None when connectorx cannot read this database."""
        url = self.engine.url
        # Not SQLite: connectorx reads an SQLite file without its write-ahead log, so it can miss committed snapshots.
        if url.get_backend_name() == "postgresql" and not url.query:
            return url.set(drivername="postgresql").render_as_string(hide_password=False)
        return None

    def _frame(self, connection: sa.Connection, query, columns: Sequence[str]) -> pl.DataFrame:
        """The versions ``query`` selects, with ``columns`` (public names), text decoded."""
        frame = read_frame(connection, query, {_stored(c): STORED_SCHEMA[_stored(c)] for c in columns})
        return _decoded(TextDictionary(connection, texts), frame)

    def _stored_frame(self, connection: sa.Connection, query) -> pl.DataFrame:
        """The versions ``query`` selects as stored (keys, not text)."""
        return read_frame(connection, query, {c.name: STORED_SCHEMA[c.name] for c in query.selected_columns})

    def _dates(self, connection: sa.Connection) -> list[dt.date]:
        return [_as_date(d) for d in connection.execute(sa.select(snapshots.c.snapshot_date).order_by(snapshots.c.snapshot_date)).scalars()]

    # -- audit runs ----------------------------------------------------------------

    def record_audit_run(self, run: AuditRun, findings: pl.DataFrame) -> None:
        """Store ``run`` and its findings (``fingerprint``, ``code``, ``deal_id``, ``owner``, ``severity``, ``runs``), replacing a run of the same ``as_of``."""
        with self._write() as connection:
            as_of = _iso(run.as_of)
            connection.execute(sa.delete(audit_findings).where(audit_findings.c.as_of == as_of))
            connection.execute(sa.delete(audit_runs).where(audit_runs.c.as_of == as_of))
            connection.execute(
                sa.insert(audit_runs).values(
                    as_of=as_of,
                    recorded_at=run.recorded_at,
                    source=run.source,
                    hygiene_version=run.hygiene_version,
                    deals=run.deals,
                    open_deals=run.open_deals,
                    findings=run.findings,
                    score=run.score,
                    open_pipeline=run.open_pipeline,
                    amount_at_risk=run.amount_at_risk,
                    counts=json.dumps(run.counts, sort_keys=True, separators=(",", ":")),
                )
            )
            if findings.height:
                frame = findings.select("fingerprint", "code", "deal_id", "owner", "severity", "runs").unique("fingerprint", keep="first", maintain_order=True)
                self._bulk_insert(connection, audit_findings, frame.with_columns(pl.lit(as_of).alias("as_of")))

    def audit_runs(self, *, before: dt.date | None = None) -> list[AuditRun]:
        """Recorded audit runs, oldest first (only those before ``before`` when given)."""
        query = sa.select(audit_runs).order_by(audit_runs.c.as_of)
        if before is not None:
            query = query.where(audit_runs.c.as_of < _iso(before))
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            AuditRun(
                as_of=_as_date(row["as_of"]),
                recorded_at=row["recorded_at"],
                source=row["source"],
                hygiene_version=row["hygiene_version"],
                deals=row["deals"],
                open_deals=row["open_deals"],
                findings=row["findings"],
                score=row["score"],
                open_pipeline=row["open_pipeline"],
                amount_at_risk=row["amount_at_risk"],
                counts=json.loads(row["counts"]),
            )
            for row in rows
        ]

    def run_findings(self, as_of: dt.date) -> pl.DataFrame:
        """The findings recorded for the audit run of ``as_of``."""
        columns = ["fingerprint", "code", "deal_id", "owner", "severity", "runs"]
        query = sa.select(*(audit_findings.c[c] for c in columns)).where(audit_findings.c.as_of == _iso(as_of))
        schema_ = {"fingerprint": pl.String, "code": pl.String, "deal_id": pl.String, "owner": pl.String, "severity": pl.String, "runs": pl.Int64}
        with self.engine.connect() as connection:
            return read_frame(connection, query, schema_)

    # -- writing versions ------------------------------------------------------------

    def _insert(self, connection, rows: pl.DataFrame, date: dt.date, previous: dt.date | None, following: dt.date | None, open_stage: pl.Expr | None) -> SnapshotChanges:
        """Write the versions that make ``date`` read back as ``rows``; nothing for deals that did not change."""
        dictionary = TextDictionary(connection, texts)
        # The export's deals by key (new deals get theirs now); only the versions that start are encoded whole.
        rows = rows.with_columns(dictionary.encode(rows["deal_id"], "id").alias("deal_key"))
        # The state just before `date` (the previous snapshot's); its stage tells closed deals from changed ones.
        keys = ["deal_key", "valid_from", "valid_to", "content_hash", "stage"]
        covering = self._stored_frame(connection, sa.select(*(deal_versions.c[c] for c in keys)).where(_valid_at(date)))
        new = rows.select("deal_key", "content_hash")
        joined = covering.join(new, on="deal_key", how="full", suffix="_new", coalesce=True)
        present_before = pl.col("valid_from").is_not_null()
        present_now = pl.col("content_hash_new").is_not_null()
        differs = pl.col("content_hash") != pl.col("content_hash_new")
        ending = joined.filter(present_before & (~present_now | differs))
        starting_keys = joined.filter(present_now & (~present_before | differs)).select("deal_key")

        # Read before they are closed: the text keys a changed deal's new version most likely shares with its old one.
        likely = self._text_keys_covering(connection, date, ending.select("deal_key", "valid_from")) if ending.height else None
        if ending.height:
            # Closing the covering versions at `date`; a backfill keeps what they said from the next snapshot on.
            if following is not None:
                continuing = ending.filter(pl.col("valid_to").is_null() | (pl.col("valid_to") > following))
                if continuing.height:
                    full = self._versions_covering(connection, date, continuing.select("deal_key", "valid_from"))
                    self._bulk_insert(connection, deal_versions, full.with_columns(pl.lit(following).alias("valid_from")))
            self._set_valid_to(connection, ending.select("deal_key", "valid_from"), date)

        starting = rows.join(starting_keys, on="deal_key", how="semi").drop("deal_id")
        starting = _encoded(dictionary, starting, likely).with_columns(
            pl.lit(date).alias("valid_from"), pl.lit(following, pl.Date).alias("valid_to")
        )
        if following is not None and starting.height:
            starting = self._merge_into_next(connection, starting, following)
        if starting.height:
            self._bulk_insert(connection, deal_versions, starting)

        counts = self._changes(dictionary, rows, joined, previous, open_stage)
        return SnapshotChanges(date=date, previous=previous, deals=rows.height, replaced=False, **counts)

    def _merge_into_next(self, connection, starting: pl.DataFrame, following: dt.date) -> pl.DataFrame:
        """New versions ending at the next snapshot absorb an identical version that begins there."""
        keys = ["deal_key", "valid_from", "valid_to", "content_hash"]
        at_next = self._stored_frame(connection, sa.select(*(deal_versions.c[c] for c in keys)).where(deal_versions.c.valid_from == _iso(following)))
        same = starting.select("deal_key", "content_hash").join(at_next, on=["deal_key", "content_hash"], how="inner")
        if not same.height:
            return starting
        self._delete_versions(connection, same.select("deal_key", "valid_from"))
        extended = same.select("deal_key", pl.col("valid_to").alias("merged_to"))
        return (
            starting.join(extended, on="deal_key", how="left")
            .with_columns(pl.when(pl.col("deal_key").is_in(extended["deal_key"].implode())).then(pl.col("merged_to")).otherwise(pl.col("valid_to")).alias("valid_to"))
            .drop("merged_to")
        )

    def _changes(self, dictionary: TextDictionary, rows: pl.DataFrame, joined: pl.DataFrame, previous: dt.date | None, open_stage: pl.Expr | None) -> dict[str, int]:
        """New, changed, closed and removed deals against the previous snapshot (by date)."""
        if previous is None:
            return {"new": rows.height, "changed": 0, "closed": 0, "removed": 0}
        # `joined` compared with the state just before `date`, which is the previous snapshot's.
        present_before = pl.col("valid_from").is_not_null()
        present_now = pl.col("content_hash_new").is_not_null()
        differs = pl.col("content_hash") != pl.col("content_hash_new")
        counted = joined.select(
            (present_now & ~present_before).sum().alias("new"),
            (present_before & ~present_now).sum().alias("removed"),
            (present_before & present_now & differs).alias("differs"),
            "deal_key",
        )
        new = int(counted["new"][0]) if counted.height else 0
        removed = int(counted["removed"][0]) if counted.height else 0
        changed_keys = counted.filter(pl.col("differs")).select("deal_key")
        closed = 0
        if open_stage is not None and changed_keys.height:
            now_open = rows.join(changed_keys, on="deal_key", how="semi").select("deal_key", open_stage.alias("open_now"))
            before = joined.join(changed_keys, on="deal_key", how="semi")
            before = before.with_columns(dictionary.decode(before["stage"], "stage")).select("deal_key", open_stage.alias("open_before"))
            closed = now_open.join(before, on="deal_key").filter(pl.col("open_before") & ~pl.col("open_now")).height
        return {"new": new, "changed": changed_keys.height - closed, "closed": closed, "removed": removed}

    def _remove(self, connection, date: dt.date, dates: list[dt.date]) -> None:
        """Forget the snapshot of ``date``: the state before it holds until the next snapshot."""
        others = [d for d in dates if d != date]
        following = min((d for d in others if d > date), default=None)
        iso, next_iso = _iso(date), _iso(following)
        v = deal_versions.c
        if following is None:
            connection.execute(sa.delete(deal_versions).where(v.valid_from == iso))
            connection.execute(sa.update(deal_versions).where(v.valid_to == iso).values(valid_to=None))
        else:
            connection.execute(sa.delete(deal_versions).where(v.valid_from == iso, v.valid_to == next_iso))
            connection.execute(sa.update(deal_versions).where(v.valid_from == iso).values(valid_from=next_iso))
            connection.execute(sa.update(deal_versions).where(v.valid_to == iso).values(valid_to=next_iso))
            self._merge_at(connection, following)
        connection.execute(sa.delete(snapshots).where(snapshots.c.snapshot_date == iso))

    def _merge_at(self, connection, date: dt.date) -> None:
        """Join each pair of identical versions that meet at ``date`` into one."""
        keys = ["deal_key", "valid_from", "valid_to", "content_hash"]
        ending = self._stored_frame(connection, sa.select(*(deal_versions.c[c] for c in keys)).where(deal_versions.c.valid_to == _iso(date)))
        beginning = self._stored_frame(connection, sa.select(*(deal_versions.c[c] for c in keys)).where(deal_versions.c.valid_from == _iso(date)))
        same = ending.join(beginning, on=["deal_key", "content_hash"], suffix="_next")
        if not same.height:
            return
        self._delete_versions(connection, same.select("deal_key", pl.col("valid_from_next").alias("valid_from")))
        self._per_key(
            connection,
            f"UPDATE {deal_versions.name} SET valid_to = {{}} WHERE deal_key = {{}} AND valid_from = {{}}",
            same.select(pl.col("valid_to_next").alias("valid_to"), "deal_key", "valid_from"),
        )

    def _versions_covering(self, connection, date: dt.date, keys: pl.DataFrame) -> pl.DataFrame:
        """Whole stored rows of the versions valid at ``date`` among ``keys`` (filtered here: no SQL parameter limit to meet)."""
        query = sa.select(*(deal_versions.c[c] for c in STORED_SCHEMA)).where(_valid_at(date))
        return self._stored_frame(connection, query).join(keys, on=["deal_key", "valid_from"], how="semi")

    def _text_keys_covering(self, connection, date: dt.date, keys: pl.DataFrame) -> pl.DataFrame:
        """The text fields' keys of the versions valid at ``date`` among ``keys``, read by primary key."""
        deal_keys = ", ".join(str(int(k)) for k in keys["deal_key"].unique().sort())
        query = sa.select(deal_versions.c.deal_key, *(deal_versions.c[c] for c in TEXT_FIELDS)).where(_valid_at(date), sa.text(f"deal_key IN ({deal_keys})"))
        return self._stored_frame(connection, query)

    def _set_valid_to(self, connection, keys: pl.DataFrame, date: dt.date) -> None:
        self._per_key(connection, f"UPDATE {deal_versions.name} SET valid_to = {{}} WHERE deal_key = {{}} AND valid_from = {{}}", keys.select(pl.lit(date).alias("valid_to"), "deal_key", "valid_from"))

    def _delete_versions(self, connection, keys: pl.DataFrame) -> None:
        self._per_key(connection, f"DELETE FROM {deal_versions.name} WHERE deal_key = {{}} AND valid_from = {{}}", keys.select("deal_key", "valid_from"))

    def _bulk_insert(self, connection, table: sa.Table, frame: pl.DataFrame) -> None:
        """Insert ``frame``'s rows into ``table`` in bulk (:func:`hygiene.history.sql.bulk_insert`)."""
        bulk_insert(connection, table, frame)

    def _per_key(self, connection, statement: str, values: pl.DataFrame) -> None:
        """Run ``statement`` (``{}`` where each parameter goes) once per row of ``values``, through the driver's ``executemany``.

        SQLAlchemy's own executemany processes every parameter of every row
        in Python (1.4 s for the 50,000 versions a weekly add closes); the
        dates are made day numbers (SQLite) a column at a time instead.
        """
        if not values.height:
            return
        if not self._postgres:
            values = values.with_columns(pl.col(c).cast(pl.Int32) for c, t in values.schema.items() if t == pl.Date)
        marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(statement.format(*(marker for _ in values.columns)), values.rows())


def _stored(column: str) -> str:
    """The versions table's column that holds the public ``column``."""
    return "deal_key" if column == "deal_id" else column


def _encoded(dictionary: TextDictionary, frame: pl.DataFrame, likely: pl.DataFrame | None = None) -> pl.DataFrame:
    """Versions with text (``deal_id``, the text fields) as the store keeps them: keys in the dictionary, added where new.

    ``likely``: the text keys of the same deals' previous versions (see :meth:`TextDictionary.encode`).
    """
    encoded = frame.with_columns(dictionary.encode(frame[c], c, None if likely is None else likely[c]) for c in TEXT_FIELDS if c in frame.columns)
    if "deal_id" in encoded.columns:
        encoded = encoded.with_columns(dictionary.encode(encoded["deal_id"], "id").alias("deal_key")).drop("deal_id")
    return encoded


def _decoded(dictionary: TextDictionary, frame: pl.DataFrame) -> pl.DataFrame:
    """Stored versions with their keys turned back into text (``deal_key`` into ``deal_id``), columns in place."""
    decoded = frame.with_columns(dictionary.decode(frame[c], c) for c in TEXT_FIELDS if c in frame.columns)
    if "deal_key" in decoded.columns:
        decoded = decoded.with_columns(dictionary.decode(decoded["deal_key"], "id").alias("deal_key")).rename({"deal_key": "deal_id"})
    return decoded


def _typed(column: str, arrived: pl.DataType) -> pl.Expr:
    """A stored column read through Arrow as its polars type (SQLite dates arrive as day numbers)."""
    wanted = STORED_SCHEMA.get(column, pl.String)
    if wanted == pl.Date and arrived.is_integer():
        return pl.col(column).cast(pl.Int32).cast(pl.Date)
    return pl.col(column).cast(wanted)


def _valid_at(date: dt.date):
    v = deal_versions.c
    iso = _iso(date)
    return sa.and_(v.valid_from <= iso, sa.or_(v.valid_to.is_(None), v.valid_to > iso))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # A second writer waits for the first rather than failing at once.
        return {"connect_args": {"timeout": 120}}
    return {}


def _configure(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection, _record):
        # pysqlite opens transactions lazily and not for every statement; we issue BEGIN ourselves.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL syncs at checkpoints, not at every commit: a crash still leaves the last committed
        # state or the one before, never a torn one (a power cut may lose the newest commit, not the file).
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        # 64 MB of page cache instead of 2 MB: a snapshot's inserts touch most of the versions table's pages.
        dbapi_connection.execute("PRAGMA cache_size=-65536")

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.info.get("write") else "BEGIN")


class _LockedTransaction:
    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self.connection: sa.Connection | None = None
        self.transaction = None

    def __enter__(self) -> sa.Connection:
        connection = self.store.engine.connect()
        connection.info["write"] = True
        self.connection = connection
        self.transaction = connection.begin()
        if self.store._postgres:
            # One writer at a time, held until commit or rollback; it needs no table, so it also guards creating them.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        return connection

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.connection is not None and self.transaction is not None
        try:
            if exc_type is None:
                self.transaction.commit()
            else:
                self.transaction.rollback()
        finally:
            self.connection.info.pop("write", None)
            self.connection.close()


def configured_location(config) -> StoreLocation:
    """The store a configuration points at (see :func:`locate_store`)."""
    return locate_store(config.base_dir, config.history.url if config.history else None)


def open_configured_store(config, *, create: bool = False) -> HistoryStore | None:
    """The configuration's store; None when nothing configures one and the default file does not exist (unless ``create``)."""
    if not create and not store_configured(config):
        return None
    return HistoryStore.open(configured_location(config))
