"""What the human-facing reports show about earlier audits, read from the history store.

:func:`history_figures` fills :class:`hygiene.HistoryFigures` for an audit:
the previous run's header figures (the change since then), the pipeline
flow of the period (:mod:`hygiene.history.flow`), the trend of score and
open pipeline over the recorded runs, and each deal's recent changes (its
stored versions, then the audited export). Everything comes through the
store's read functions (``audit_runs``, ``snapshot_dates``,
``deals_as_of``, ``versions``), so this module knows no SQL.

An audit passes the versions its derivations read (with
:data:`REPORT_VERSION_COLUMNS`): the waterfall's two states and the
recent changes come from them, by ``valid_from`` / ``valid_to``, and the
store's versions are read once per audit. It builds only what a requested
report shows (``level``): the previous run and the trend cost a read of
the recorded runs; the waterfall and the changes, a pass over the
versions.

Only runs with an earlier ``as_of`` count as previous, and the flow ends at
the newest snapshot on or before ``as_of``: re-running an audit gives the
same report byte for byte.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from hygiene.api.figures import DEAL_CHANGE_SCHEMA, HistoryFigures
from hygiene.api.models import Period
from hygiene.api.stages import StageTable
from hygiene.api.reporter import HISTORY_ALL, HISTORY_NONE
from hygiene.history.flow import FLOW_COLUMNS, pipeline_flow
from hygiene.history.store import AuditRun, HistoryStore

#: The deal fields whose changes a report lists, in this order within a day.
CHANGE_FIELDS = ("stage", "amount", "close_date", "owner", "forecast_category", "probability")
#: The version columns the waterfall and the recent changes read.
REPORT_VERSION_COLUMNS = tuple(dict.fromkeys([*FLOW_COLUMNS, *CHANGE_FIELDS]))
#: Changes kept per deal: the most recent ones.
RECENT_CHANGES = 5
#: The waterfall's steps between its two totals: flow bucket, label, sign of its amount.
_FLOW_STEPS = (
    ("created", "created", 1),
    ("increased", "increased", 1),
    ("decreased", "decreased", -1),
    ("won", "won", -1),
    ("lost", "lost", -1),
    ("removed", "removed", -1),
)


def previous_figures(run: AuditRun) -> dict[str, Any]:
    """A recorded run's header figures, under the keys :class:`HistoryFigures` ``previous`` uses."""
    return {
        "as_of": run.as_of.isoformat(),
        "open_deals": run.open_deals,
        "open_amount": run.open_pipeline,
        "amount_at_risk": run.amount_at_risk,
        "score": run.score,
        "findings": run.findings,
    }


def flow_range(dates: list[dt.date], period: Period, as_of: dt.date) -> tuple[dt.date, dt.date] | None:
    """The two snapshots the period's waterfall runs between, or None when there are not two.

    It ends at the newest snapshot on or before ``as_of`` and starts at the
    newest one on or before the period's first day, else at the period's
    first snapshot.
    """
    known = sorted(d for d in dates if d <= as_of)
    if len(known) < 2:
        return None
    end = known[-1]
    before = [d for d in known if d <= period.start]
    start = before[-1] if before else next(d for d in known if d >= period.start)
    return (start, end) if start < end else None


def waterfall_steps(flow: dict[str, Any]) -> list[tuple[str, float]]:
    """The flow's buckets as waterfall steps: the beginning total, the signed changes, the ending total."""
    buckets = flow["buckets"]

    def label(name: str, title: str) -> str:
        count = buckets[name]["count"]
        return f"{title} ({count:,} deal{'s' if count != 1 else ''})"

    steps = [(label("beginning", f"open at {flow['from']}"), float(buckets["beginning"]["amount"]))]
    steps += [(label(name, title), sign * float(buckets[name]["amount"])) for name, title, sign in _FLOW_STEPS]
    steps.append((label("ending", f"open at {flow['to']}"), float(buckets["ending"]["amount"])))
    return steps


def _text(value: pl.Expr, field: str) -> pl.Expr:
    """A field's value as a report shows it: amounts with thousands separators, dates in ISO, the rest as text."""
    if field == "amount":
        return value.round(0).cast(pl.Int64).map_elements(lambda v: f"{v:,}", return_dtype=pl.String)
    if field == "probability":
        return value.round(0).cast(pl.Int64).cast(pl.String) + pl.lit("%")
    return value.cast(pl.String)


def deal_changes(store: HistoryStore, as_of: dt.date, current: pl.DataFrame, *, versions: pl.DataFrame | None = None) -> pl.DataFrame:
    """Each audited deal's most recent changes of :data:`CHANGE_FIELDS`: stored versions before ``as_of``, then the export.

    One row per change (``deal_id``, ``date``, ``field``, ``before``,
    ``after``; a value that was empty is null), newest first within a deal,
    at most :data:`RECENT_CHANGES` per deal; deals in order of id. A deal
    seen once has no change; a deal that left the export is not audited and
    not listed. ``versions``: stored versions already read (with the
    fields), instead of reading them from the store.
    """
    fields = [f for f in CHANGE_FIELDS if f in current.columns]
    if not fields:
        return pl.DataFrame(schema=DEAL_CHANGE_SCHEMA)
    if versions is None:
        stored = store.versions(fields, before=as_of).select("deal_id", "valid_from", *fields)
    else:
        stored = versions.filter(pl.col("valid_from") < as_of).select("deal_id", "valid_from", *fields)
    audited = current.select(pl.col("id").alias("deal_id"), pl.lit(as_of).alias("valid_from"), *fields)
    audited = audited.filter(pl.col("deal_id").is_not_null()).unique("deal_id", keep="first", maintain_order=True)
    stored = stored.cast(dict(audited.schema))
    # Only the versions that differ from the one before them matter, a few in a hundred: they are found
    # in one pass over the stored versions (sorted by deal, then valid_from), and only they are formatted.
    same_deal = pl.col("deal_id") == pl.col("deal_id").shift(1)
    differs = pl.any_horizontal(pl.col(f).ne_missing(pl.col(f).shift(1)) for f in fields)
    stepped = stored.with_columns(pl.col(f).shift(1).alias(f"before__{f}") for f in fields).filter(same_deal & differs)
    # The export against each audited deal's newest stored version (a deal not stored yet has no change).
    newest = stored.filter(pl.col("deal_id").ne_missing(pl.col("deal_id").shift(-1))).drop("valid_from")
    exported = (
        audited.join(newest.rename({f: f"before__{f}" for f in fields}), on="deal_id", how="inner", maintain_order="left")
        .filter(pl.any_horizontal(pl.col(f).ne_missing(pl.col(f"before__{f}")) for f in fields))
        .select(stepped.columns)
    )
    stepped = stepped.filter(pl.col("deal_id").is_in(audited.get_column("deal_id").implode()))
    steps = pl.concat([stepped, exported])
    per_field = [
        steps.select(
            "deal_id",
            pl.col("valid_from").alias("date"),
            pl.lit(field).alias("field"),
            pl.col(f"before__{field}").alias("before"),
            pl.col(field).alias("after"),
            pl.lit(index).alias("order"),
        )
        .filter(pl.col("before").ne_missing(pl.col("after")))
        # Formatted after the filter: only changes are ever text.
        .with_columns(_text(pl.col("before"), field), _text(pl.col("after"), field))
        for index, field in enumerate(fields)
    ]
    changes = pl.concat(per_field).sort(["deal_id", "date", "order"], descending=[False, True, False])
    return changes.group_by("deal_id", maintain_order=True).head(RECENT_CHANGES).drop("order").cast(DEAL_CHANGE_SCHEMA)


def history_figures(
    store: HistoryStore,
    *,
    as_of: dt.date,
    period: Period,
    stages: StageTable,
    deals: pl.DataFrame,
    score: float | None,
    open_amount: float | None,
    versions: pl.DataFrame | None = None,
    level: str = HISTORY_ALL,
) -> HistoryFigures | None:
    """What the reports show about earlier audits: previous run, the period's waterfall, trend and deal changes.

    ``deals`` is the audited deal table as the export gives it (before
    currency conversion, as the store keeps it); ``score`` and
    ``open_amount`` are this audit's, the trend's last point.
    ``versions``: the stored versions the audit read, every deal's, with
    :data:`REPORT_VERSION_COLUMNS` (None: read them here). ``level``
    (``hygiene.api.reporter.HISTORY_LEVELS``): without ``all``, only the
    previous run and the trend; with ``none``, nothing at all (None).
    """
    if level == HISTORY_NONE:
        return None
    runs = store.audit_runs(before=as_of)
    trend = [(run.as_of, run.score, run.open_pipeline) for run in runs]
    if runs:
        trend.append((as_of, score, open_amount))
    previous = previous_figures(runs[-1]) if runs else None
    if level != HISTORY_ALL:
        return HistoryFigures(previous=previous, trend=trend)
    dates = store.snapshot_dates()
    flow_dates = flow_range(dates, period, as_of)
    waterfall: list[tuple[str, float]] = []
    if flow_dates is not None:
        waterfall = waterfall_steps(pipeline_flow(store, *flow_dates, stages, versions=versions))
    return HistoryFigures(
        previous=previous,
        waterfall=waterfall,
        waterfall_range=flow_dates,
        trend=trend,
        deal_changes=deal_changes(store, as_of, deals, versions=versions),
    )
