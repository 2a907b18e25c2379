"""CRM change logs as history, for a store that starts with years of it; and HubSpot's stage-entry columns.

Two Salesforce formats (``hygiene snapshot import FILE --format ...``):

- ``salesforce-opportunity-history``: ``OpportunityHistory``, one row per
  change holding the opportunity's state after it (``OpportunityId``,
  ``CreatedDate``, ``StageName``, ``Amount``, ``CloseDate``,
  ``Probability``, ``ForecastCategory``);
- ``salesforce-field-history``: ``OpportunityFieldHistory``, one row per
  changed field (``OpportunityId``, ``CreatedDate``, ``Field``,
  ``OldValue``, ``NewValue``); the state before a field's first change is
  its first ``OldValue``, fields never changed stay unknown.

The store keeps days, not instants: of several changes on one day the
last (by ``CreatedDate``, then file order) is the day's state. Every day
on which something changed becomes a snapshot of kind ``import``; a deal
is first seen on the day of its first row, which for Salesforce is its
creation, so its ``created_date`` is that day. A change log never says a
deal was deleted, so imported deals stay until an export says otherwise.

An import fills a store that holds no exports yet (importing again
replaces the earlier import); exports added afterwards continue it.

HubSpot's deal export has no change log but one column per stage,
``Date entered "<stage> (<pipeline>)"``: :func:`hubspot_stage_entry` reads
the deal's current stage's column as its ``stage_entered_date``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import polars as pl

from hygiene.api.errors import HygieneError, SourceError
from hygiene.api.fields import CANONICAL_FIELDS

if TYPE_CHECKING:
    from hygiene.history.store import HistoryStore

FORMATS = ("salesforce-opportunity-history", "salesforce-field-history")
_OPPORTUNITY_HISTORY = {"StageName": "stage", "Amount": "amount", "CloseDate": "close_date", "Probability": "probability", "ForecastCategory": "forecast_category"}
#: OpportunityFieldHistory ``Field`` values -> canonical fields.
_FIELD_HISTORY = {
    "StageName": "stage",
    "Amount": "amount",
    "CloseDate": "close_date",
    "Probability": "probability",
    "ForecastCategoryName": "forecast_category",
    "ForecastCategory": "forecast_category",
    "Owner": "owner",
    "Name": "name",
    "NextStep": "next_step",
}
_TYPES = {"str": pl.String, "float": pl.Float64, "int": pl.Int64, "date": pl.Date}
_HUBSPOT_COLUMN = re.compile(r'^Date entered "(?P<stage>.+) \((?P<pipeline>.+)\)"$')


@attrs.define(frozen=True, kw_only=True)
class ImportResult:
    deals: int
    changes: int
    dates: int
    first: dt.date | None
    last: dt.date | None


def _read(path: Path, display: str, required: tuple[str, ...]) -> pl.DataFrame:
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except FileNotFoundError:
        raise SourceError(f"{display}: no such file") from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise SourceError(f"{display}: cannot read it as CSV: {(str(exc).splitlines() or [''])[0]}") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SourceError(f"{display}: not this format: no column {missing[0]!r} (its columns: {', '.join(frame.columns[:20])})")
    return frame.with_row_index("__line__", offset=2)


def _instant(display: str) -> pl.Expr:
    return pl.col("CreatedDate").str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _typed(field: str, text: pl.Expr) -> pl.Expr:
    kind = CANONICAL_FIELDS[field]
    text = pl.when(text.str.strip_chars() == "").then(None).otherwise(text.str.strip_chars())
    if kind == "date":
        return text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    if kind == "float":
        return text.cast(pl.Float64, strict=False)
    return text


def _check_dates(frame: pl.DataFrame, display: str) -> pl.DataFrame:
    frame = frame.with_columns(_instant(display).alias("__day__"))
    bad = frame.filter(pl.col("__day__").is_null())
    if bad.height:
        line, value = bad.select("__line__", "CreatedDate").row(0)
        raise SourceError(f"{display}: row {line}, column 'CreatedDate': {value!r} is not a date (YYYY-MM-DD[ HH:MM:SS])")
    return frame


def opportunity_history_versions(path: Path, display: str) -> pl.DataFrame:
    """``OpportunityHistory`` as one state per opportunity per day on which it changed."""
    frame = _check_dates(_read(path, display, ("OpportunityId", "CreatedDate", *_OPPORTUNITY_HISTORY)), display)
    if "IsDeleted" in frame.columns:
        frame = frame.filter(pl.col("IsDeleted").str.strip_chars() != "1")
    states = frame.sort("OpportunityId", "CreatedDate", "__line__").select(
        pl.col("OpportunityId").str.strip_chars().alias("deal_id"),
        pl.col("__day__").alias("valid_from"),
        *(_typed(field, pl.col(column)).alias(field) for column, field in _OPPORTUNITY_HISTORY.items()),
    )
    rows = states.group_by("deal_id", "valid_from").len().rename({"len": "__rows__"})
    return states.unique(["deal_id", "valid_from"], keep="last", maintain_order=True).join(rows, on=["deal_id", "valid_from"])


def field_history_versions(path: Path, display: str) -> pl.DataFrame:
    """``OpportunityFieldHistory`` replayed into one state per opportunity per day on which a field changed."""
    frame = _check_dates(_read(path, display, ("OpportunityId", "CreatedDate", "Field", "OldValue", "NewValue")), display)
    events = frame.with_columns(pl.col("OpportunityId").str.strip_chars().alias("deal_id"), pl.col("Field").str.strip_chars().alias("Field")).sort("deal_id", "CreatedDate", "__line__")
    days = events.group_by("deal_id", pl.col("__day__").alias("valid_from")).len().rename({"len": "__rows__"}).sort("deal_id", "valid_from")
    states = days
    for field in dict.fromkeys(_FIELD_HISTORY.values()):
        names = [name for name, target in _FIELD_HISTORY.items() if target == field]
        changes = events.filter(pl.col("Field").is_in(names))
        if not changes.height:
            states = states.with_columns(pl.lit(None, _TYPES[CANONICAL_FIELDS[field]]).alias(field))
            continue
        after = changes.unique(["deal_id", "__day__"], keep="last", maintain_order=True).select("deal_id", pl.col("__day__").alias("valid_from"), _typed(field, pl.col("NewValue")).alias(field))
        first = changes.unique("deal_id", keep="first", maintain_order=True).select(
            "deal_id", pl.col("__day__").alias("__first__"), _typed(field, pl.col("OldValue")).alias("__before__")
        )
        # Before its first change a field held that change's OldValue; from then on, the day's last NewValue.
        states = (
            states.join_asof(after.sort("deal_id", "valid_from"), on="valid_from", by="deal_id", strategy="backward", check_sortedness=False)
            .join(first, on="deal_id", how="left")
            .with_columns(pl.when(pl.col("__first__").is_null() | (pl.col("valid_from") < pl.col("__first__"))).then(pl.col("__before__")).otherwise(pl.col(field)).alias(field))
            .drop("__first__", "__before__")
        )
    return states


def _as_versions(states: pl.DataFrame) -> pl.DataFrame:
    """Consecutive states of each deal as type-2 versions: identical neighbours merged, ``created_date`` the first day."""
    # The store's modules (SQLAlchemy) load only for an import: every audit reads hubspot_stage_entry from here.
    from hygiene.history.schema import EXTRAS_COLUMN, TRACKED_FIELDS
    from hygiene.history.store import content_hashes

    first_day = pl.col("valid_from").min().over("deal_id")
    states = states.with_columns(first_day.alias("created_date"))
    frame = states.select(
        "deal_id",
        "valid_from",
        *(pl.col(f).cast(_TYPES[CANONICAL_FIELDS[f]]) if f in states.columns else pl.lit(None, _TYPES[CANONICAL_FIELDS[f]]).alias(f) for f in TRACKED_FIELDS),
        pl.lit(None, pl.String).alias(EXTRAS_COLUMN),
    ).sort("deal_id", "valid_from")
    frame = frame.with_columns(content_hashes(frame))
    same_as_before = (pl.col("deal_id") == pl.col("deal_id").shift(1)) & (pl.col("content_hash") == pl.col("content_hash").shift(1))
    frame = frame.filter(~same_as_before.fill_null(False))
    next_from = pl.when(pl.col("deal_id") == pl.col("deal_id").shift(-1)).then(pl.col("valid_from").shift(-1))
    return frame.with_columns(next_from.alias("valid_to"))


def import_history(store: HistoryStore, path: Path, display: str, history_format: str, *, hygiene_version: str | None = None, added_at: str) -> ImportResult:
    """Read a CRM change log and make it the store's history (one transaction)."""
    from hygiene import __version__

    if history_format not in FORMATS:
        raise HygieneError(f"--format {history_format!r}: expected one of {', '.join(FORMATS)}")
    states = opportunity_history_versions(path, display) if history_format == FORMATS[0] else field_history_versions(path, display)
    rows = states.get_column("__rows__").sum() if "__rows__" in states.columns else states.height
    versions = _as_versions(states.drop("__rows__", strict=False))
    store.import_versions(versions, source=display, hygiene_version=hygiene_version or __version__, added_at=added_at)
    dates = sorted(set(versions.get_column("valid_from").to_list()))
    return ImportResult(
        deals=versions.get_column("deal_id").n_unique(),
        changes=int(rows),
        dates=len(dates),
        first=dates[0] if dates else None,
        last=dates[-1] if dates else None,
    )


def hubspot_stage_entry(frame: pl.DataFrame, extra_columns: tuple[str, ...]) -> pl.DataFrame:
    """Fill ``stage_entered_date`` from HubSpot's ``Date entered "<stage> (<pipeline>)"`` column of the deal's stage.

    When a ``Pipeline`` column exists the pipeline must match too; stages
    and pipelines match case-insensitively. The export's own
    ``stage_entered_date`` wins.
    """
    columns = [(c, m.group("stage").strip().lower(), m.group("pipeline").strip().lower()) for c in extra_columns if (m := _HUBSPOT_COLUMN.match(c))]
    if not columns:
        return frame
    stage = pl.col("stage").str.strip_chars().str.to_lowercase()
    pipeline_column = next((c for c in extra_columns if c.strip().lower() == "pipeline"), None)
    pipeline = pl.col(pipeline_column).str.strip_chars().str.to_lowercase() if pipeline_column else None
    candidates = []
    for column, stage_name, pipeline_name in columns:
        matches = stage == stage_name
        if pipeline is not None:
            matches = matches & (pipeline == pipeline_name)
        entered = pl.col(column).cast(pl.String).str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        candidates.append(pl.when(matches).then(entered))
    return frame.with_columns(pl.coalesce(pl.col("stage_entered_date"), *candidates).alias("stage_entered_date"))
