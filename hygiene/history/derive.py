"""Fields derived from history, for the deals of an audit.

The audit's export is the deal state at ``as_of``; the store supplies
what came before (every version that began before ``as_of``). Each deal's
sequence of versions, oldest first and ending with the export, gives:

- ``stage_entered_date``: where the current unbroken run in the current
  stage began. A run that begins at the store's first snapshot may have
  begun earlier: the date is then a *lower bound* on days in stage
  (``history-lower-bound``), unless the deal was created that day.
- ``close_date_pushes`` (transitions where the close date moved later;
  pull-ins are not pushes), ``push_days_total``, ``max_push_days``,
  ``pull_ins``, and the last push's ``last_push_from`` / ``last_push_to``.
- ``close_date_previous``, ``amount_previous`` (at the previous snapshot,
  the newest before ``as_of``), ``amount_first`` (first seen),
  ``amount_at_commit`` (when the current run in the commit forecast
  category began), ``stage_previous`` (the stage before the current run),
  ``stage_regressions`` (moves to an earlier open stage of the stage
  table), ``last_change_date`` (last change of any tracked field),
  ``first_seen_date`` and ``owner_changes``.

A value in the export always wins; history fills only what the export
lacks. With fewer than two snapshots, or for a deal seen in one, the
fields that need a transition stay null: a rule then reports the deal as
not evaluable (``RuleContext.history_gap``), never as zero pushes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import polars as pl

from hygiene.api.fields import (
    CANONICAL_FIELDS,
    DERIVABLE_FIELDS,
    HISTORY_SNAPSHOTS_COLUMN,
    SNAPSHOTS_SEEN_COLUMN,
    STAGE_ENTERED_LOWER_BOUND_COLUMN,
)

if TYPE_CHECKING:
    from hygiene.history.store import HistoryStore
from hygiene.api.stages import StageTable, stage_key

#: The version columns derivations read.
SEQUENCE_COLUMNS = ("content_hash", "stage", "close_date", "amount", "owner", "forecast_category")
#: Fields that need at least one transition (two snapshots of the deal).
TRANSITION_FIELDS = (
    "close_date_pushes",
    "push_days_total",
    "max_push_days",
    "pull_ins",
    "last_push_from",
    "last_push_to",
    "close_date_previous",
    "amount_previous",
    "stage_previous",
    "stage_regressions",
    "owner_changes",
)
COMMIT_CATEGORY = "commit"
SOURCE_EXPORT = "export"
SOURCE_HISTORY = "history"
SOURCE_LOWER_BOUND = "history-lower-bound"

_POLARS_TYPES = {"str": pl.String, "float": pl.Float64, "int": pl.Int64, "date": pl.Date}


@attrs.define(kw_only=True)
class DerivedDeals:
    """The deal table with history filled in, and where each derivable value came from."""

    frame: pl.DataFrame
    #: ``id`` and one ``<field>_source`` column per derivable field: ``export``, ``history``, ``history-lower-bound`` or null.
    sources: pl.DataFrame
    #: Snapshots the store holds up to ``as_of``, the audited export counted as one.
    history_snapshots: int
    previous_snapshot: dt.date | None
    first_snapshot: dt.date | None
    #: Every deal's stored versions that began on or before ``as_of`` (deals no longer exported too), with
    #: :data:`SEQUENCE_COLUMNS` and the ``report_columns`` asked for; None unless asked for.
    versions: pl.DataFrame | None = None


def source_column(field: str) -> str:
    return f"{field}_source"


def no_history(deals: pl.DataFrame) -> pl.DataFrame:
    """The internal history columns, null: an audit without a store."""
    return deals.with_columns(
        pl.lit(None, pl.Int64).alias(SNAPSHOTS_SEEN_COLUMN),
        pl.lit(None, pl.Int64).alias(HISTORY_SNAPSHOTS_COLUMN),
        pl.lit(False).alias(STAGE_ENTERED_LOWER_BOUND_COLUMN),
    )


def export_sources(deals: pl.DataFrame) -> pl.DataFrame:
    """``<field>_source`` columns for an audit without history: ``export`` where the export has a value."""
    return deals.select("id", *(pl.when(pl.col(f).is_not_null()).then(pl.lit(SOURCE_EXPORT)).alias(source_column(f)) for f in DERIVABLE_FIELDS))


def derive_fields(
    deals: pl.DataFrame,
    extra_columns: Sequence[str],
    store: HistoryStore,
    as_of: dt.date,
    stages: StageTable,
    *,
    export_sha256: str | None = None,
    report_columns: Sequence[str] = (),
) -> DerivedDeals:
    """Fill the derivable fields of ``deals`` (the normalised export at ``as_of``) from ``store``.

    When the store's snapshot of ``as_of`` was added from this very file
    (``export_sha256`` matches its SHA-256: the weekly job adds, then
    audits), the stored versions already hold the export, and no digest of
    it is computed. ``report_columns``: version columns to read besides
    the derivations' own, and to keep in ``versions`` (the reports' history
    figures come from the same one read).
    """
    from hygiene.history.store import VERSION_SCHEMA, version_rows  # SQLAlchemy loads with a store only

    snapshots = [s for s in store.snapshots() if s.date <= as_of]
    stored_export = bool(snapshots) and snapshots[-1].date == as_of and export_sha256 is not None and snapshots[-1].sha256 == export_sha256
    dates = [s.date for s in snapshots if s.date < as_of]
    history_snapshots = len(dates) + 1
    previous = dates[-1] if dates else None
    first = dates[0] if dates else None
    columns = list(dict.fromkeys([*SEQUENCE_COLUMNS, *report_columns]))
    # Versions that began on or before as_of: the derivations of an export not stored yet take those before it.
    read = store.versions(columns, before=as_of + dt.timedelta(days=1)) if dates else None
    if stored_export:
        ids = deals.select(pl.col("id").alias("deal_id"))
        stored = read.select("deal_id", "valid_from", "valid_to", *SEQUENCE_COLUMNS).join(ids, on="deal_id", how="semi") if read is not None else None
        current = None
    else:
        current = version_rows(deals, extra_columns).select("deal_id", *SEQUENCE_COLUMNS)
        stored = (
            read.filter(pl.col("valid_from") < as_of).select("deal_id", "valid_from", "valid_to", *SEQUENCE_COLUMNS).join(current.select("deal_id"), on="deal_id", how="semi")
            if read is not None
            else None
        )
    versions = None
    if report_columns:
        versions = read if read is not None else pl.DataFrame(schema={c: VERSION_SCHEMA[c] for c in ["deal_id", "valid_from", "valid_to", *columns]})
    del read
    if stored is None or not stored.height:
        derived = _single_snapshot(current if current is not None else deals.select(pl.col("id").alias("deal_id"), "amount"), as_of)
    elif current is None:
        derived = _from_sequences(_stored_sequences(stored, [*dates, as_of], as_of), previous, first, as_of, stages)
    else:
        derived = _from_sequences(_sequences(stored, current, dates, as_of), previous, first, as_of, stages)
    derived = derived.with_columns(pl.lit(history_snapshots, pl.Int64).alias(HISTORY_SNAPSHOTS_COLUMN))
    if history_snapshots < 2:
        derived = derived.with_columns(pl.lit(None, _POLARS_TYPES[CANONICAL_FIELDS[f]]).alias(f) for f in (*TRANSITION_FIELDS, "stage_entered_date", "last_change_date", "first_seen_date", "amount_first"))
    frame, sources = _fill(deals, derived)
    return DerivedDeals(frame=frame, sources=sources, history_snapshots=history_snapshots, previous_snapshot=previous, first_snapshot=first, versions=versions)


def _stored_sequences(stored: pl.DataFrame, dates: list[dt.date], as_of: dt.date) -> pl.DataFrame:
    """Each deal's versions up to and including the snapshot of ``as_of``, which is the audited export."""
    day_after = as_of + dt.timedelta(days=1)
    date_index = pl.Series("dates", dates, dtype=pl.Date)
    ends = stored.select(pl.when(pl.col("valid_to").is_null() | (pl.col("valid_to") > as_of)).then(pl.lit(day_after)).otherwise(pl.col("valid_to")).alias("end"))["end"]
    seen = date_index.search_sorted(ends, side="left").cast(pl.Int64) - date_index.search_sorted(stored["valid_from"], side="left").cast(pl.Int64)
    # Versions still valid at as_of end "after" it, as the export row of the other path begins at it: contiguity reads the same.
    return stored.with_columns(ends.alias("valid_to"), seen.alias("seen")).sort("deal_id", "valid_from")


def _single_snapshot(current: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Deals no stored version knows: each seen once, at ``as_of``."""
    return current.select(
        "deal_id",
        pl.lit(as_of).alias("stage_entered_date"),
        pl.lit(False).alias("lower_bound"),
        pl.lit(as_of).alias("first_seen_date"),
        pl.lit(as_of).alias("last_change_date"),
        pl.col("amount").alias("amount_first"),
        pl.lit(1, pl.Int64).alias(SNAPSHOTS_SEEN_COLUMN),
        *(pl.lit(None, _POLARS_TYPES[CANONICAL_FIELDS[f]]).alias(f) for f in TRANSITION_FIELDS),
        pl.lit(None, pl.Float64).alias("amount_at_commit"),
    )


def _sequences(stored: pl.DataFrame, current: pl.DataFrame, dates: list[dt.date], as_of: dt.date) -> pl.DataFrame:
    """Each deal's versions up to ``as_of``, oldest first, the export last (unless it continues the last stored version)."""
    date_index = pl.Series("dates", dates, dtype=pl.Date)
    ends = stored.select(pl.when(pl.col("valid_to").is_null() | (pl.col("valid_to") > as_of)).then(pl.lit(as_of)).otherwise(pl.col("valid_to")).alias("end"))["end"]
    seen = date_index.search_sorted(ends, side="left").cast(pl.Int64) - date_index.search_sorted(stored["valid_from"], side="left").cast(pl.Int64)
    stored = stored.with_columns(
        pl.when(pl.col("valid_to").is_null() | (pl.col("valid_to") >= as_of)).then(pl.lit(as_of)).otherwise(pl.col("valid_to")).alias("valid_to"),
        seen.alias("seen"),
    )
    last = stored.group_by("deal_id").agg(pl.col("content_hash").last().alias("last_hash"), pl.col("valid_to").last().alias("last_to"))
    continues = current.join(last, on="deal_id", how="left").select(
        "deal_id", ((pl.col("last_to") == as_of) & (pl.col("last_hash") == pl.col("content_hash"))).fill_null(False).alias("continues")
    )
    appended = (
        current.join(continues.filter(~pl.col("continues")), on="deal_id", how="semi")
        .with_columns(pl.lit(as_of).alias("valid_from"), pl.lit(None, pl.Date).alias("valid_to"), pl.lit(1, pl.Int64).alias("seen"))
        .select(stored.columns)
    )
    # The export's snapshot counts for the deals whose last stored version it continues, too.
    stored = stored.join(continues.filter(pl.col("continues")).select("deal_id", pl.lit(True).alias("extend")), on="deal_id", how="left")
    is_last = pl.col("deal_id") != pl.col("deal_id").shift(-1).fill_null("")
    stored = stored.sort("deal_id", "valid_from").with_columns(
        pl.when(pl.col("extend").fill_null(False) & is_last).then(pl.col("seen") + 1).otherwise(pl.col("seen")).alias("seen")
    ).drop("extend")
    return pl.concat([stored, appended]).sort("deal_id", "valid_from")


def _from_sequences(seq: pl.DataFrame, previous: dt.date, first: dt.date, as_of: dt.date, stages: StageTable) -> pl.DataFrame:
    order = {stage_key(s.name): index for index, s in enumerate(stages.stages) if not s.closed}
    key = pl.col("stage").str.strip_chars().str.to_lowercase()
    same_deal = pl.col("deal_id") == pl.col("deal_id").shift(1)
    push = (pl.col("close_date") - pl.col("close_date").shift(1)).dt.total_days()
    rank = key.replace_strict(order, default=None, return_dtype=pl.Int64)
    commit = pl.col("forecast_category").str.strip_chars().str.to_lowercase() == COMMIT_CATEGORY
    seq = seq.with_columns(
        same_deal.fill_null(False).alias("same"),
        key.alias("key"),
        rank.alias("rank"),
        commit.fill_null(False).alias("commit"),
    ).with_columns(
        pl.when(pl.col("same")).then(push).alias("push"),
        (~pl.col("same") | (pl.col("key") != pl.col("key").shift(1)).fill_null(True) | (pl.col("valid_from") != pl.col("valid_to").shift(1))).alias("stage_break"),
        (~pl.col("same") | (pl.col("commit") != pl.col("commit").shift(1)) | (pl.col("valid_from") != pl.col("valid_to").shift(1))).alias("commit_break"),
        (pl.col("same") & (pl.col("rank") < pl.col("rank").shift(1))).fill_null(False).alias("regression"),
        # A change of owner needs an owner on both sides: a CRM change log without owners is not a hand-over.
        (pl.col("same") & (pl.col("owner") != pl.col("owner").shift(1))).fill_null(False).alias("owner_change"),
        pl.when(pl.col("same")).then(pl.col("close_date").shift(1)).alias("push_from"),
        pl.when(pl.col("same")).then(pl.col("stage").shift(1)).alias("stage_before"),
    ).with_columns(
        pl.col("stage_break").cum_sum().alias("stage_run"),
        pl.col("commit_break").cum_sum().alias("commit_run"),
        # The versions are sorted by deal: a running count of deal starts numbers the deals, and
        # grouping on that integer costs a fraction of hashing every version's text id.
        (~pl.col("same")).cum_sum().alias("deal_number"),
    )
    at_previous = (pl.col("valid_from") <= previous) & (pl.col("valid_to") > previous)
    pushed = pl.col("push") > 0
    in_last_stage_run = pl.col("stage_run") == pl.col("stage_run").last()
    in_last_commit_run = pl.col("commit_run") == pl.col("commit_run").last()
    derived = seq.group_by("deal_number").agg(
        pl.col("deal_id").first(),
        pl.col("valid_from").filter(in_last_stage_run).first().alias("stage_entered_date"),
        pl.col("valid_from").first().alias("first_seen_date"),
        pl.col("valid_from").last().alias("last_change_date"),
        pl.col("amount").first().alias("amount_first"),
        pl.col("amount").filter(in_last_commit_run).first().alias("commit_amount"),
        pl.col("commit").last().alias("in_commit"),
        pl.col("seen").sum().alias(SNAPSHOTS_SEEN_COLUMN),
        pushed.sum().cast(pl.Int64).alias("close_date_pushes"),
        pl.col("push").filter(pushed).sum().cast(pl.Int64).alias("push_days_total"),
        pl.col("push").filter(pushed).max().cast(pl.Int64).alias("max_push_days"),
        (pl.col("push") < 0).sum().cast(pl.Int64).alias("pull_ins"),
        pl.col("push_from").filter(pushed).last().alias("last_push_from"),
        pl.col("close_date").filter(pushed).last().alias("last_push_to"),
        pl.col("close_date").filter(at_previous).first().alias("close_date_previous"),
        pl.col("amount").filter(at_previous).first().alias("amount_previous"),
        pl.col("stage_before").filter(in_last_stage_run).first().alias("stage_previous"),
        pl.col("regression").sum().cast(pl.Int64).alias("stage_regressions"),
        pl.col("owner_change").sum().cast(pl.Int64).alias("owner_changes"),
    )
    seen_once = pl.col(SNAPSHOTS_SEEN_COLUMN) < 2
    return derived.with_columns(
        (pl.col("stage_entered_date") == pl.col("first_seen_date")).and_(pl.col("first_seen_date") == first).alias("lower_bound"),
        pl.when(pl.col("in_commit")).then(pl.col("commit_amount")).alias("amount_at_commit"),
        *(pl.when(~seen_once).then(pl.col(f)).alias(f) for f in TRANSITION_FIELDS),
    ).drop("deal_number", "commit_amount", "in_commit")


def _fill(deals: pl.DataFrame, derived: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The export's value where it has one, else history's; and which it was."""
    derived = derived.rename({f: f"__derived__{f}" for f in DERIVABLE_FIELDS if f in derived.columns})
    joined = deals.join(derived, left_on="id", right_on="deal_id", how="left", maintain_order="left")
    # A deal created on the day its stage run began is exact, even at the store's first snapshot.
    created_then = pl.col("created_date").is_not_null() & (pl.col("created_date") >= pl.col("__derived__stage_entered_date"))
    lower_bound = (pl.col("stage_entered_date").is_null() & pl.col("lower_bound").fill_null(False) & ~created_then.fill_null(False)).alias(STAGE_ENTERED_LOWER_BOUND_COLUMN)
    joined = joined.with_columns(lower_bound)
    sources = joined.select(
        "id",
        *(
            pl.when(pl.col(f).is_not_null())
            .then(pl.lit(SOURCE_EXPORT))
            .when(pl.col(f"__derived__{f}").is_not_null())
            .then(pl.lit(SOURCE_LOWER_BOUND) if f == "stage_entered_date" else pl.lit(SOURCE_HISTORY))
            .alias(source_column(f))
            for f in DERIVABLE_FIELDS
        ),
    ).with_columns(
        pl.when(pl.col(source_column("stage_entered_date")) == SOURCE_LOWER_BOUND)
        .then(pl.when(joined[STAGE_ENTERED_LOWER_BOUND_COLUMN]).then(pl.lit(SOURCE_LOWER_BOUND)).otherwise(pl.lit(SOURCE_HISTORY)))
        .otherwise(pl.col(source_column("stage_entered_date")))
        .alias(source_column("stage_entered_date"))
    )
    frame = joined.with_columns(
        pl.coalesce(pl.col(f), pl.col(f"__derived__{f}").cast(deals.schema[f])).alias(f) for f in DERIVABLE_FIELDS
    ).drop([f"__derived__{f}" for f in DERIVABLE_FIELDS] + ["lower_bound"])
    if SNAPSHOTS_SEEN_COLUMN not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.Int64).alias(SNAPSHOTS_SEEN_COLUMN))
    return frame, sources
