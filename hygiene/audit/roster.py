"""The roster: who owns deals, and the team, manager, region, segment and quota each belongs to.

``[roster] path = "team.csv"`` (any file a source plugin reads: CSV,
xlsx ...) holds one row per owner. Owners join by name, or by id where
the export carries owner ids (Salesforce's ``OwnerId``) and the roster
has an ``owner_id`` column: the deal's owner is then the roster's name. A
deal's own ``team`` (or manager, region, segment) is kept where the export
has one; the roster fills the rest. Quotas come from the roster's
``quota`` column, converted to the audit's period, for owners active in
that period; ``[quotas]`` beats them owner by owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs
import polars as pl

from hygiene.config.settings import RosterSettings
from hygiene.api.errors import SourceError
from hygiene.api.fields import GROUP_LEVELS, ROSTER_ROW_FIELDS
from hygiene.api.models import Period
from hygiene.plugin.registry import Registry
from hygiene.api.fields import column_key
from hygiene.audit.export_mapping import read_side_raw
from hygiene.audit.normalise import list_columns

#: Roster columns recognised without ``[roster.fields]``, preferred first (the field's own name is tried last).
ROSTER_COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "owner": ("Owner", "Owner Name", "Sales Agent", "Sales Rep", "Rep", "Agent", "Name", "Full Name", "User"),
    "owner_id": ("Owner Id", "OwnerId", "User Id", "UserId", "Id"),
    "team": ("Team", "Sales Team", "Squad"),
    "manager": ("Manager", "Sales Manager", "Reports To"),
    "region": ("Region", "Regional Office", "Office", "Territory", "Geo"),
    "segment": ("Segment", "Market Segment"),
    "quota": ("Quota", "Target"),
    "quota_period": ("Quota Period", "Period"),
    "active": ("Active", "Is Active", "IsActive"),
    "start_date": ("Start Date", "Started", "Hire Date"),
    "end_date": ("End Date", "Left", "Leave Date"),
}
MONTHS_IN = {"month": 1, "quarter": 3, "year": 12}
TRUE_WORDS = ("1", "true", "yes", "y", "t", "x", "active")
FALSE_WORDS = ("0", "false", "no", "n", "f", "inactive")


def guess_roster_fields(columns: list[str], explicit: Mapping[str, str]) -> dict[str, str]:
    """Roster field -> column: the explicit ``[roster.fields]``, else a recognised name."""
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(column_key(column), column)
    used = set(explicit.values())
    resolved = dict(explicit)
    for field in ROSTER_ROW_FIELDS:
        if field in resolved:
            continue
        for name in (*ROSTER_COLUMN_NAMES.get(field, ()), field):
            column = by_key.get(column_key(name))
            if column is not None and column not in used:
                resolved[field] = column
                used.add(column)
                break
    return resolved


@attrs.define(kw_only=True)
class Roster:
    """The roster as read: one row per owner, columns named by roster field."""

    frame: pl.DataFrame
    location: str

    @property
    def has_ids(self) -> bool:
        return self.frame.get_column("owner_id").drop_nulls().len() > 0

    def levels(self) -> tuple[str, ...]:
        """The grouping levels the roster gives (owner always, then team, manager, region, segment where filled)."""
        return ("owner", *(level for level in GROUP_LEVELS[1:] if self.frame.get_column(level).drop_nulls().len()))

    def join(self, deals: pl.DataFrame) -> pl.DataFrame:
        """``deals`` with owner ids replaced by roster names and the group columns filled from the roster."""
        roster = self.frame.filter(pl.col("owner").is_not_null())
        if self.has_ids:
            names = dict(roster.filter(pl.col("owner_id").is_not_null()).select("owner_id", "owner").unique("owner_id", keep="first", maintain_order=True).iter_rows())
            deals = deals.with_columns(pl.col("owner").replace(names))
        groups = roster.select(
            pl.col("owner").str.strip_chars().str.to_lowercase().alias("__roster_key__"),
            *(pl.col(level).alias(f"__roster_{level}__") for level in GROUP_LEVELS[1:]),
        ).unique("__roster_key__", keep="first", maintain_order=True)
        joined = deals.with_columns(pl.col("owner").str.strip_chars().str.to_lowercase().alias("__roster_key__")).join(
            groups, on="__roster_key__", how="left", maintain_order="left"
        )
        return joined.with_columns(
            pl.coalesce(pl.col(level), pl.col(f"__roster_{level}__")).alias(level) for level in GROUP_LEVELS[1:]
        ).drop("__roster_key__", *(f"__roster_{level}__" for level in GROUP_LEVELS[1:]))

    def quotas(self, period: Period, period_kind: str) -> dict[str, float]:
        """Owner -> quota for ``period``: owners active in it with a quota, converted from their ``quota_period``."""
        rows = self.frame.filter(pl.col("owner").is_not_null() & pl.col("quota").is_not_null())
        quotas: dict[str, float] = {}
        for row in rows.iter_rows(named=True):
            if row["active"] is False:
                continue
            if row["start_date"] is not None and row["start_date"] > period.end:
                continue
            if row["end_date"] is not None and row["end_date"] < period.start:
                continue
            own = row["quota_period"] or period_kind
            quotas.setdefault(row["owner"], round(row["quota"] * MONTHS_IN[period_kind] / MONTHS_IN[own], 2))
        return quotas


def read_roster(settings: RosterSettings, base_dir: Path, registry: Registry, config_file: str | None) -> Roster:
    """Read and check the roster: one line naming the file, row, column and value for anything unusable."""
    raw = read_side_raw(base_dir / settings.path, settings.path, registry, settings.sheet)
    frame = raw.frame
    display = settings.path
    fields = guess_roster_fields(frame.columns, settings.fields)
    for field, column in settings.fields.items():
        if column not in frame.columns:
            raise SourceError(f"{display}: no column {column!r} (roster.fields.{field}); its columns are: {list_columns(frame.columns)}")
    if "owner" not in fields:
        raise SourceError(
            f"{display}: no owner column (looked for {', '.join(repr(n) for n in ROSTER_COLUMN_NAMES['owner'])}; "
            f"map it with [roster.fields] owner = \"Column Name\"); its columns are: {list_columns(frame.columns)}"
        )
    rows = list(raw.rows) if raw.rows is not None else list(range(raw.first_row, raw.first_row + frame.height))
    columns = {}
    for field, kind in ROSTER_ROW_FIELDS.items():
        column = fields.get(field)
        if column is None:
            columns[field] = pl.Series(field, [None] * frame.height, dtype={"str": pl.String, "float": pl.Float64, "date": pl.Date}[kind])
            continue
        series = frame.get_column(column)
        if kind == "str":
            text = series.cast(pl.String).str.strip_chars()
            columns[field] = text.replace("", None).alias(field)
        elif kind == "float":
            columns[field] = _numbers(series, rows, display, column).alias(field)
        else:
            columns[field] = _dates(series, rows, display, column).alias(field)
    table = pl.DataFrame(columns)
    period = table.get_column("quota_period").str.to_lowercase()
    for row, value in zip(rows, period.to_list(), strict=True):
        if value is not None and value not in MONTHS_IN:
            raise SourceError(f"{display}: row {row}, column {fields['quota_period']!r}: {value!r} is not a quota period (month, quarter or year)")
    active = table.get_column("active").str.to_lowercase()
    for row, value in zip(rows, active.to_list(), strict=True):
        if value is not None and value not in TRUE_WORDS + FALSE_WORDS:
            raise SourceError(f"{display}: row {row}, column {fields['active']!r}: {value!r} is not yes or no")
    table = table.with_columns(
        period.alias("quota_period"),
        pl.when(active.is_in(FALSE_WORDS)).then(False).when(active.is_in(TRUE_WORDS)).then(True).alias("active"),
    )
    return Roster(frame=table, location=display)


def _numbers(series: pl.Series, rows: list[int], display: str, column: str) -> pl.Series:
    if series.dtype.is_numeric():
        return series.cast(pl.Float64)
    text = series.cast(pl.String).str.strip_chars().str.replace_all(",", "")
    values = text.cast(pl.Float64, strict=False)
    for row, raw, value in zip(rows, series.to_list(), values.to_list(), strict=True):
        if raw not in (None, "") and (value is None or value < 0):
            raise SourceError(f"{display}: row {row}, column {column!r}: {raw!r} is not a quota (a number of at least 0)")
    return values


def _dates(series: pl.Series, rows: list[int], display: str, column: str) -> pl.Series:
    if series.dtype == pl.Date:
        return series
    if isinstance(series.dtype, pl.Datetime):
        return series.dt.date()
    text = series.cast(pl.String).str.strip_chars()
    values = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    for row, raw, value in zip(rows, text.to_list(), values.to_list(), strict=True):
        if raw not in (None, "") and value is None:
            raise SourceError(f"{display}: row {row}, column {column!r}: {raw!r} is not a date (YYYY-MM-DD)")
    return values


def closest_owners(name: str, owners: list[str], limit: int = 3) -> list[str]:
    """The owner names most like ``name`` (for a quota that matches nobody)."""
    import difflib

    by_key = {owner.casefold(): owner for owner in owners}
    return [by_key[key] for key in difflib.get_close_matches(name.casefold(), list(by_key), n=limit, cutoff=0.6)]

