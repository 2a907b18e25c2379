"""The canonical deal table, prepared once for every figure: outcomes, exact amounts, size bands, grouping columns."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

import attrs
import polars as pl

from hygiene.api.fields import CLOSED_FLAG_COLUMN, WON_FLAG_COLUMN, column_key
from hygiene.api.stages import StageTable, stage_key
from hygiene.config.schema import ROSTER_FIELDS, SEGMENT_FIELDS
from hygiene.forecast.settings import ForecastSettings

OPEN = "__open__"
WON = "__won__"
CLOSED = "__closed__"
STAGE_PROBABILITY = "__stage_probability__"
#: The amount in whole cents: sums of integers do not depend on the order polars adds them in.
CENTS = "__cents__"
BAND = "__size_band__"
#: Closed deals whose close date falls in the trailing window.
IN_WINDOW = "__in_window__"
NO_VALUE = "(none)"

#: Every field figures can be grouped by, in the order reports list them.
GROUP_FIELDS = ("owner", *ROSTER_FIELDS, *SEGMENT_FIELDS, "size_band")


#: The canonical fields the figures read (plan B lists id, name, stage, close date and category).
_USED_FIELDS = ("id", "name", "stage", "amount", "probability", "forecast_category", "created_date", "close_date")
#: Every canonical field the forecast reads from an export: the figures', the grouping fields, the roster's
#: (it may fill segment) and the currency the amounts are converted from. ``hygiene forecast`` types only these.
READ_FIELDS = (*_USED_FIELDS, "owner", *ROSTER_FIELDS, "segment", *SEGMENT_FIELDS, "currency")


def group_column(field: str) -> str:
    return f"__by_{field}__"


@attrs.define(frozen=True, kw_only=True)
class PreparedDeals:
    """Deals with the columns figures read; ``reasons`` says why a grouping field is missing."""

    frame: pl.DataFrame
    #: The closed deals whose close date falls in the trailing window.
    closed: pl.DataFrame
    as_of: dt.date
    window_start: dt.date
    #: field -> the export column it was read from, for the fields found.
    sources: Mapping[str, str]
    #: field -> why it cannot be used ("no region column").
    reasons: Mapping[str, str]
    size_bands: tuple[float, ...]
    band_labels: tuple[str, ...]
    has_created: bool
    has_category: bool

    def has(self, field: str) -> bool:
        return field in self.sources

    def closed_in_window(self) -> pl.DataFrame:
        return self.closed


def _find_column(columns: Sequence[str], field: str, configured: Mapping[str, str]) -> str | None:
    """A canonical column of that name, else the configured column, else an export column named like the field."""
    if field in configured:
        wanted = configured[field]
        return wanted if wanted in columns else next((c for c in columns if c.casefold() == wanted.casefold()), None)
    if field in columns:
        return field
    return next((c for c in columns if not c.startswith("__") and column_key(c) == column_key(field)), None)


def prepare(frame: pl.DataFrame, stages: StageTable, settings: ForecastSettings, as_of: dt.date) -> PreparedDeals:
    """Add outcome, amount, window and grouping columns to a normalised deal table."""
    maps = stages.column_maps()
    names = [name for name in frame.get_column("stage").unique().to_list() if name is not None]

    def lookup(attribute: str, default: object) -> dict[str, object]:
        return {name: maps[attribute].get(stage_key(name), default) for name in names}

    stage = pl.col("stage")
    closed = stage.replace_strict(lookup("closed", False), default=False, return_dtype=pl.Boolean).fill_null(False)
    won = stage.replace_strict(lookup("won", False), default=False, return_dtype=pl.Boolean).fill_null(False)
    # Where the export says itself that a deal is closed or won (a status column, IsClosed / IsWon), it wins over the stage, as in the audit.
    if CLOSED_FLAG_COLUMN in frame.columns:
        closed = pl.coalesce(pl.col(CLOSED_FLAG_COLUMN), closed)
    if WON_FLAG_COLUMN in frame.columns:
        won = pl.coalesce(pl.col(WON_FLAG_COLUMN), won)
    window_start = settings.window.start(as_of)
    amount = pl.col("amount") if "amount" in frame.columns else pl.lit(None, pl.Float64)
    close = pl.col("close_date") if "close_date" in frame.columns else pl.lit(None, pl.Date)
    table = frame.with_columns(
        closed.alias(CLOSED),
        (~closed).alias(OPEN),
        won.alias(WON),
        # A stage table may mix whole and decimal probabilities (10 and 12.5): one type for polars.
        stage.replace_strict({k: None if v is None else float(v) for k, v in lookup("probability", None).items()}, default=None, return_dtype=pl.Float64).alias(STAGE_PROBABILITY),
        (amount * 100).round(0).cast(pl.Int64).alias(CENTS),
    ).with_columns((pl.col(CLOSED) & close.is_between(window_start, as_of)).fill_null(False).alias(IN_WINDOW))

    sources: dict[str, str] = {}
    reasons: dict[str, str] = {}
    groups = []
    for field in ("owner", *ROSTER_FIELDS, *SEGMENT_FIELDS):
        column = _find_column(frame.columns, field, settings.columns)
        if column is None or frame.get_column(column).null_count() == frame.height:
            # Normalisation gives every canonical field a column, null when the export has none.
            reasons[field] = f"no {field} column" if column in (None, field) else f"no {field} values in column {column!r}"
            continue
        sources[field] = column
        groups.append(group_label(frame, column).alias(group_column(field)))
    table = table.with_columns(groups) if groups else table

    bands = settings.size_bands or _quartile_bands(table)
    labels = band_labels(bands)
    if bands and "amount" in frame.columns:
        band_index = pl.lit(0, pl.Int64)
        for bound in bands:
            band_index = band_index + (pl.col("amount") >= bound).cast(pl.Int64)
        band = pl.when(pl.col("amount").is_null()).then(pl.lit(NO_VALUE)).otherwise(
            band_index.replace_strict(dict(enumerate(labels)), return_dtype=pl.String)
        )
        table = table.with_columns(band.alias(group_column("size_band")), band_index.alias(BAND))
        sources["size_band"] = "amount"
    else:
        reasons["size_band"] = "no amount values to band"
    # Only what the figures read: every filter and partition below copies the columns it keeps.
    kept = [c for c in (*_USED_FIELDS, *(group_column(f) for f in sources)) if c in table.columns]
    table = table.select(*kept, CLOSED, OPEN, WON, STAGE_PROBABILITY, CENTS, IN_WINDOW, *([BAND] if BAND in table.columns else []))
    return PreparedDeals(
        frame=table,
        closed=table.filter(pl.col(IN_WINDOW)),
        as_of=as_of,
        window_start=window_start,
        sources=sources,
        reasons=reasons,
        size_bands=bands,
        band_labels=labels,
        has_created="created_date" in frame.columns and frame.get_column("created_date").null_count() < frame.height,
        has_category="forecast_category" in frame.columns and frame.get_column("forecast_category").null_count() < frame.height,
    )


def group_label(frame: pl.DataFrame, column: str) -> pl.Expr:
    """The column as a group's name: its text stripped, empty and missing values as :data:`NO_VALUE`.

    Worked out on the column's distinct values (a grouping column has few),
    so that only the values stripping changes are rewritten, not a million
    strings.
    """
    text = pl.col("value").str.strip_chars()
    distinct = frame.select(pl.col(column).cast(pl.String).unique().alias("value")).with_columns(
        pl.when(text == "").then(None).otherwise(text).fill_null(NO_VALUE).alias("label")
    )
    changed = distinct.filter(pl.col("value").is_not_null() & (pl.col("value") != pl.col("label")))
    label = pl.col(column).cast(pl.String)
    if changed.height:
        label = label.replace(changed.get_column("value"), changed.get_column("label"))
    return label.fill_null(NO_VALUE)


def _quartile_bands(table: pl.DataFrame) -> tuple[float, ...]:
    """The quartiles of the window's closed amounts, to two significant digits (so the bands read like 25,000)."""
    if "amount" not in table.columns:
        return ()
    amounts = table.filter(pl.col(IN_WINDOW) & (pl.col("amount") > 0)).get_column("amount")
    if amounts.len() < 4:
        return ()
    bounds = []
    for q in (0.25, 0.5, 0.75):
        value = float(amounts.quantile(q, interpolation="linear"))
        digits = 1 - math.floor(math.log10(value))
        rounded = round(value, digits)
        if rounded > 0 and (not bounds or rounded > bounds[-1]):
            bounds.append(rounded)
    return tuple(bounds)


def band_labels(bounds: Sequence[float]) -> tuple[str, ...]:
    """``< 25,000``, ``25,000-50,000``, ``>= 50,000`` for bounds 25,000 and 50,000."""
    if not bounds:
        return ()
    text = [f"{b:,.0f}" if float(b).is_integer() else f"{b:,}" for b in bounds]
    labels = [f"< {text[0]}"]
    labels += [f"{low}-{high}" for low, high in zip(text, text[1:])]
    labels.append(f">= {text[-1]}")
    return tuple(labels)
