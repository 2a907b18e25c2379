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

#: The version fields the per-deal derivations read.
DERIVATION_COLUMNS = ("stage", "close_date", "amount", "owner", "forecast_category")
#: The version columns derivations read: with the digest that tells whether an export not stored yet continues a version.
SEQUENCE_COLUMNS = ("content_hash", *DERIVATION_COLUMNS)
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
    #: One boolean column per derivable field, in the rows of ``frame``: whether the export had the value.
    exported: pl.DataFrame
    #: Snapshots the store holds up to ``as_of``, the audited export counted as one.
    history_snapshots: int
    previous_snapshot: dt.date | None
    first_snapshot: dt.date | None
    #: Every deal's stored versions that began on or before ``as_of`` (deals no longer exported too), with
    #: :data:`DERIVATION_COLUMNS` (:data:`SEQUENCE_COLUMNS` for an export not stored yet) and the
    #: ``report_columns`` asked for; None unless asked for.
    versions: pl.DataFrame | None = None

    @property
    def sources(self) -> pl.DataFrame:
        """``id`` and one ``<field>_source`` column per derivable field: ``export``, ``history``, ``history-lower-bound`` or null.

        Built when asked for (``hygiene deals``): an audit needs the values, not where each came from.
        """
        lower_bound = self.frame.get_column(STAGE_ENTERED_LOWER_BOUND_COLUMN)
        return pl.DataFrame([self.frame.get_column("id"), *self.exported.get_columns(), lower_bound]).select(
            "id",
            *(
                pl.when(pl.col(f"__exported__{f}"))
                .then(pl.lit(SOURCE_EXPORT))
                .when(self.frame.get_column(f).is_not_null())
                .then(pl.when(pl.col(STAGE_ENTERED_LOWER_BOUND_COLUMN)).then(pl.lit(SOURCE_LOWER_BOUND)).otherwise(pl.lit(SOURCE_HISTORY)) if f == "stage_entered_date" else pl.lit(SOURCE_HISTORY))
                .alias(source_column(f))
                for f in DERIVABLE_FIELDS
            ),
        )


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
    # An export the store already holds needs no digest to compare: the versions' digests are not read then.
    derived_columns = DERIVATION_COLUMNS if stored_export else SEQUENCE_COLUMNS
    columns = list(dict.fromkeys([*derived_columns, *report_columns]))
    # Versions that began on or before as_of: the derivations of an export not stored yet take those before it.
    read = store.versions(columns, before=as_of + dt.timedelta(days=1)) if dates else None
    if stored_export:
        # Deals the export no longer has are derived too, and left out when the derived fields join the deal table.
        stored = read.select("deal_id", "valid_from", "valid_to", *derived_columns) if read is not None else None
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
    frame, exported = _fill(deals, derived)
    return DerivedDeals(frame=frame, exported=exported, history_snapshots=history_snapshots, previous_snapshot=previous, first_snapshot=first, versions=versions)


def _stored_sequences(stored: pl.DataFrame, dates: list[dt.date], as_of: dt.date) -> pl.DataFrame:
    """Each deal's versions up to and including the snapshot of ``as_of``, which is the audited export."""
    day_after = as_of + dt.timedelta(days=1)
    date_index = pl.Series("dates", dates, dtype=pl.Date)
    ends = stored.select(pl.when(pl.col("valid_to").is_null() | (pl.col("valid_to") > as_of)).then(pl.lit(day_after)).otherwise(pl.col("valid_to")).alias("end"))["end"]
    seen = date_index.search_sorted(ends, side="left").cast(pl.Int64) - date_index.search_sorted(stored["valid_from"], side="left").cast(pl.Int64)
    # Versions still valid at as_of end "after" it, as the export row of the other path begins at it: contiguity reads the same.
    # The store reads versions sorted by deal, then valid_from: the order the derivations need, with no sort here.
    return stored.with_columns(ends.alias("valid_to"), seen.alias("seen"))


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
    """One row per deal from its versions (sorted by deal, then ``valid_from``): one lazy pass, one group-by.

    Every per-version figure is a ``shift`` against the version before; the
    group-by on an integer deal number (a running count of deal starts,
    sorted by construction) keeps only plain sums, maxima and firsts. What
    a run or a push "at its last occurrence" needs is the row number where
    it happened (the largest such row of the deal), and its values are
    gathered from the sequence afterwards, for one row per deal.
    """
    order = {stage_key(s.name): index for index, s in enumerate(stages.stages) if not s.closed}
    # Stage and forecast category are compared as their few distinct values' codes, not as text per version.
    stage_codes, stage_ranks = _stage_codes(seq.get_column("stage"), order)
    commit_values = seq.get_column("forecast_category").unique().drop_nulls()
    in_commit = dict(zip(commit_values.to_list(), (commit_values.str.strip_chars().str.to_lowercase() == COMMIT_CATEGORY).to_list(), strict=True))
    same = pl.col("same")
    push = (pl.col("close_date") - pl.col("close_date").shift(1)).dt.total_days()
    contiguous = pl.col("valid_from") == pl.col("valid_to").shift(1)
    row = pl.col("row")
    steps = (
        seq.lazy()
        .select("deal_id", "valid_from", "valid_to", "stage", "close_date", "amount", "owner", "forecast_category", "seen")
        .with_row_index("row")
        .with_columns(
            (pl.col("deal_id") == pl.col("deal_id").shift(1)).fill_null(False).alias("same"),
            pl.col("stage").replace_strict(stage_ranks, default=None, return_dtype=pl.Int64).alias("rank"),
            pl.col("stage").replace_strict(stage_codes, default=None, return_dtype=pl.Int64).alias("key"),
            pl.col("forecast_category").replace_strict(in_commit, default=False, return_dtype=pl.Boolean).fill_null(False).alias("commit"),
        )
        .with_columns(
            pl.when(same).then(push).alias("push"),
            (~same | (pl.col("key") != pl.col("key").shift(1)).fill_null(True) | ~contiguous).alias("stage_break"),
            (~same | (pl.col("commit") != pl.col("commit").shift(1)) | ~contiguous).alias("commit_break"),
            (same & (pl.col("rank") < pl.col("rank").shift(1))).fill_null(False).alias("regression"),
            # A change of owner needs an owner on both sides: a CRM change log without owners is not a hand-over.
            (same & (pl.col("owner") != pl.col("owner").shift(1))).fill_null(False).alias("owner_change"),
            (~same).cum_sum().set_sorted().alias("deal_number"),
        )
    )
    pushed = pl.col("push") > 0
    at_previous = (pl.col("valid_from") <= previous) & (pl.col("valid_to") > previous)
    per_deal = (
        steps.group_by("deal_number")
        .agg(
            pl.col("deal_id").first(),
            row.first().alias("first_row"),
            pl.col("valid_from").first().alias("first_seen_date"),
            pl.col("valid_from").last().alias("last_change_date"),
            pl.col("amount").first().alias("amount_first"),
            pl.col("commit").last().alias("in_commit"),
            pl.col("seen").sum().alias(SNAPSHOTS_SEEN_COLUMN),
            pushed.sum().cast(pl.Int64).alias("close_date_pushes"),
            pl.when(pushed).then(pl.col("push")).sum().cast(pl.Int64).alias("push_days_total"),
            pl.when(pushed).then(pl.col("push")).max().cast(pl.Int64).alias("max_push_days"),
            (pl.col("push") < 0).sum().cast(pl.Int64).alias("pull_ins"),
            pl.col("regression").sum().cast(pl.Int64).alias("stage_regressions"),
            pl.col("owner_change").sum().cast(pl.Int64).alias("owner_changes"),
            # Rows of the sequence: where the current stage run and commit run began, the last push, the previous snapshot.
            pl.when(pl.col("stage_break")).then(row).max().alias("stage_row"),
            pl.when(pl.col("commit_break")).then(row).max().alias("commit_row"),
            pl.when(pushed).then(row).max().alias("push_row"),
            pl.when(at_previous).then(row).min().alias("previous_row"),
        )
        .collect()
    )
    first_row, stage_row, commit_row, push_row, previous_row = (per_deal.get_column(c) for c in ("first_row", "stage_row", "commit_row", "push_row", "previous_row"))
    stage, close_date, amount = (seq.get_column(c) for c in ("stage", "close_date", "amount"))
    # The stage before the current run: none when the run began at the deal's first version.
    before_run = pl.select(pl.when(stage_row > first_row).then(stage_row - 1)).to_series()
    derived = per_deal.with_columns(
        seq.get_column("valid_from").gather(stage_row).alias("stage_entered_date"),
        stage.gather(before_run).alias("stage_previous"),
        amount.gather(commit_row).alias("commit_amount"),
        # A push is never a deal's first version: the row before it is the same deal's.
        close_date.gather(push_row - 1).alias("last_push_from"),
        close_date.gather(push_row).alias("last_push_to"),
        close_date.gather(previous_row).alias("close_date_previous"),
        amount.gather(previous_row).alias("amount_previous"),
    )
    seen_once = pl.col(SNAPSHOTS_SEEN_COLUMN) < 2
    return derived.with_columns(
        (pl.col("stage_entered_date") == pl.col("first_seen_date")).and_(pl.col("first_seen_date") == first).alias("lower_bound"),
        pl.when(pl.col("in_commit")).then(pl.col("commit_amount")).alias("amount_at_commit"),
        *(pl.when(~seen_once).then(pl.col(f)).alias(f) for f in TRANSITION_FIELDS),
    ).drop("deal_number", "commit_amount", "in_commit", "first_row", "stage_row", "commit_row", "push_row", "previous_row")


def _stage_codes(stages: pl.Series, order: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Each stage name as written: one code per stage key (names that differ in case or spaces share it), and its open rank."""
    names = stages.unique().drop_nulls().sort()
    keys = names.str.strip_chars().str.to_lowercase().to_list()
    numbers = {k: index for index, k in enumerate(dict.fromkeys(keys))}
    codes = {name: numbers[k] for name, k in zip(names.to_list(), keys, strict=True)}
    ranks = {name: order[k] for name, k in zip(names.to_list(), keys, strict=True) if k in order}
    return codes, ranks


def _fill(deals: pl.DataFrame, derived: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The export's value where it has one, else history's; and whether the export had it (see :attr:`DerivedDeals.sources`)."""
    derived = derived.rename({f: f"__derived__{f}" for f in DERIVABLE_FIELDS if f in derived.columns})
    # One join, of the ids alone: the derived columns line up with the deal table's rows, which are not copied.
    lined_up = deals.select("id").join(derived, left_on="id", right_on="deal_id", how="left", maintain_order="left").drop("id")
    joined = deals.hstack(lined_up.get_columns())
    # A deal created on the day its stage run began is exact, even at the store's first snapshot.
    created_then = pl.col("created_date").is_not_null() & (pl.col("created_date") >= pl.col("__derived__stage_entered_date"))
    lower_bound = (pl.col("stage_entered_date").is_null() & pl.col("lower_bound").fill_null(False) & ~created_then.fill_null(False)).alias(STAGE_ENTERED_LOWER_BOUND_COLUMN)
    joined = joined.with_columns(lower_bound)
    exported = joined.select(pl.col(f).is_not_null().alias(f"__exported__{f}") for f in DERIVABLE_FIELDS)
    frame = joined.with_columns(
        pl.coalesce(pl.col(f), pl.col(f"__derived__{f}").cast(deals.schema[f])).alias(f) for f in DERIVABLE_FIELDS
    ).drop([f"__derived__{f}" for f in DERIVABLE_FIELDS] + ["lower_bound"])
    if SNAPSHOTS_SEEN_COLUMN not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.Int64).alias(SNAPSHOTS_SEEN_COLUMN))
    return frame, exported
