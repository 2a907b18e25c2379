"""The comparison a narrowed report (``--owner``, ``--team``, ``--manager``) makes with earlier audits, in its own scope.

The store records whole audits: a run's header figures are the whole
pipeline's. A narrowed report is compared with the same scope instead,
rebuilt from what each run left in the store: the snapshot of its date
(which deals there were, their stage, amount, owner, team and manager) and
the findings it recorded (each with its deal and owner). For a stored run:

- ``open_deals`` / ``open_amount``: the snapshot's open deals in scope
  (open as the stage table says), and the sum of their amounts;
- ``amount_at_risk``: the open amount of those with an error or warning
  finding recorded by the run, each deal counted once;
- ``score``: the share of open deals in scope without one;
- ``findings``: the run's findings about a deal in scope, and about an
  owner in scope (gap to quota), as :class:`hygiene.ReportScope` keeps them.

The waterfall runs between the same two snapshots as the whole report's,
over the deals in scope at each of them: a deal handed to a rep in the
period enters their pipeline as created, one handed away leaves it as
removed, so the buckets still add up to the scope's ending pipeline.

A run that lacks what the scope needs (no snapshot of its date, or a
snapshot without the column the scope narrows by) is left out of the
trend, and when it is the previous run the report says so
(``no_comparison``) instead of comparing with nothing. Everything is read
through the store's public functions (``audit_runs``, ``run_findings``,
``snapshot_dates``, ``deals_as_of``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import polars as pl

from hygiene.api.figures import HistoryFigures
from hygiene.api.scope import ReportScope, glob_matches
from hygiene.api.stages import StageTable, stage_key
from hygiene.history.flow import FLOW_COLUMNS, pipeline_flow
from hygiene.history.report_history import waterfall_steps
from hygiene.history.store import HistoryStore

#: What a stored snapshot goes through before it is narrowed: the audit's roster and currency conversion.
Prepare = Callable[[pl.DataFrame], pl.DataFrame]
#: The severities that put a deal at risk.
AT_RISK_SEVERITIES = ("error", "warning")


def _dimensions(scope: ReportScope) -> list[str]:
    """The deal columns the scope narrows by."""
    return [column for column, patterns in (("owner", scope.owners), ("team", scope.teams), ("manager", scope.managers)) if patterns]


class ScopedSnapshots:
    """The stored snapshots narrowed to one scope, each read (and prepared) once."""

    def __init__(self, store: HistoryStore, scope: ReportScope, stages: StageTable, prepare: Prepare | None) -> None:
        self.store = store
        self.scope = scope
        self.prepare = prepare
        self.dates = set(store.snapshot_dates())
        self._closed = {key: bool(closed) for key, closed in stages.column_maps()["closed"].items()}
        self._cache: dict[dt.date, pl.DataFrame | str] = {}

    def deals(self, date: dt.date) -> pl.DataFrame | str:
        """The snapshot of ``date`` narrowed to the scope (``id``, ``owner``, ``open``, ``amount`` and the flow's fields), or why there is none."""
        if date not in self._cache:
            self._cache[date] = self._read(date)
        return self._cache[date]

    def _read(self, date: dt.date) -> pl.DataFrame | str:
        if date not in self.dates:
            return f"the store has no snapshot of {date.isoformat()}"
        frame = self.store.deals_as_of(date)
        if self.prepare is not None:
            frame = self.prepare(frame)
        for column in _dimensions(self.scope):
            if column not in frame.columns or frame.get_column(column).null_count() == frame.height:
                return f"the snapshot of {date.isoformat()} has no {column}"
        names = [n for n in frame.get_column("stage").unique().to_list() if n is not None]
        closed = {n: self._closed.get(stage_key(n), False) for n in names}
        frame = frame.filter(self.scope.deal_condition())
        return frame.select(
            *dict.fromkeys(["id", *FLOW_COLUMNS]),
            (~pl.col("stage").replace_strict(closed, default=False, return_dtype=pl.Boolean)).fill_null(True).alias("open"),
        )


def scoped_run_figures(snapshots: ScopedSnapshots, as_of: dt.date, findings: pl.DataFrame) -> dict[str, Any] | str:
    """One stored run's header figures in the scope (the keys of :class:`HistoryFigures` ``previous``), or why they cannot be had."""
    deals = snapshots.deals(as_of)
    if isinstance(deals, str):
        return deals
    scope = snapshots.scope
    ids = deals.get_column("id").implode()
    owners = deals.get_column("owner").drop_nulls().unique().implode()
    owner_level = pl.col("deal_id").is_null() & pl.col("owner").is_not_null()
    owner_in_scope = glob_matches("owner", scope.owners, ignore_case=scope.ignore_case) if scope.owners else pl.lit(True)
    if scope.teams or scope.managers:
        owner_in_scope = owner_in_scope & pl.col("owner").is_in(owners)
    kept = findings.filter(pl.col("deal_id").is_in(ids) | (owner_level & owner_in_scope))
    risky = kept.filter(pl.col("severity").is_in(AT_RISK_SEVERITIES) & pl.col("deal_id").is_not_null()).get_column("deal_id").unique().implode()
    open_deals = deals.filter(pl.col("open")).with_columns(pl.col("id").is_in(risky).alias("at_risk"))
    totals = open_deals.select(
        pl.len().alias("open_deals"),
        pl.col("amount").sum().alias("open_amount"),
        pl.col("amount").count().alias("with_amount"),
        pl.col("at_risk").sum().alias("deals_at_risk"),
        pl.col("amount").filter(pl.col("at_risk")).sum().alias("amount_at_risk"),
        pl.col("amount").filter(pl.col("at_risk")).count().alias("at_risk_with_amount"),
    ).row(0, named=True)
    count = int(totals["open_deals"])
    at_risk = int(totals["deals_at_risk"])
    # As the report's own figure: nothing at risk is 0, deals at risk without amounts are unknown, not 0.
    if not count:
        amount_at_risk = None
    elif not at_risk:
        amount_at_risk = 0.0
    else:
        amount_at_risk = round(float(totals["amount_at_risk"]), 2) if totals["at_risk_with_amount"] else None
    return {
        "as_of": as_of.isoformat(),
        "open_deals": count,
        # Cents, as the report's own figures: a float sum's last bit must not differ from run to run.
        "open_amount": round(float(totals["open_amount"]), 2) if totals["with_amount"] else None,
        "amount_at_risk": amount_at_risk,
        "score": round((count - at_risk) / count, 4) if count else None,
        "findings": kept.height,
    }


def scoped_history_figures(
    store: HistoryStore,
    scope: ReportScope,
    whole: HistoryFigures,
    *,
    as_of: dt.date,
    stages: StageTable,
    score: float | None,
    open_amount: float | None,
    described: tuple[str, ...],
    prepare: Prepare | None = None,
) -> HistoryFigures:
    """``whole`` (the audit's history figures) with the previous run, the trend and the waterfall of ``scope`` instead.

    ``score`` and ``open_amount`` are the narrowed report's own, the trend's
    last point; ``described`` is the narrowed report's ``scope``, which the
    result carries so that :meth:`HistoryFigures.narrowed` keeps it for that
    report only. The deals' own changes are left as they are (narrowing
    filters them).
    """
    snapshots = ScopedSnapshots(store, scope, stages, prepare)
    runs = store.audit_runs(before=as_of)
    trend: list[tuple[dt.date, float | None, float | None]] = []
    previous: dict[str, Any] | None = None
    missing = ""
    for index, run in enumerate(runs):
        figures = scoped_run_figures(snapshots, run.as_of, store.run_findings(run.as_of))
        latest = index == len(runs) - 1
        if isinstance(figures, str):
            if latest:
                missing = f"no comparison with the run of {run.as_of.isoformat()} in this scope: {figures}"
            continue
        trend.append((run.as_of, figures["score"], figures["open_amount"]))
        if latest:
            previous = figures
    if trend:
        trend.append((as_of, score, open_amount))
    waterfall: list[tuple[str, float]] = []
    if whole.waterfall_range is not None:
        start, end = whole.waterfall_range
        states = [snapshots.deals(day) for day in (start, end)]
        reason = next((state for state in states if isinstance(state, str)), None)
        if reason is None:
            waterfall = waterfall_steps(pipeline_flow(store, start, end, stages, versions=_two_states(start, end, *states)))
        elif not missing:
            missing = f"no pipeline flow in this scope: {reason}"
    return attrs.evolve(
        whole,
        previous=previous,
        trend=trend if len(trend) > 1 else [],
        waterfall=waterfall,
        waterfall_range=whole.waterfall_range if waterfall else None,
        scope=described,
        no_comparison=missing or None,
    )


def _two_states(start: dt.date, end: dt.date, before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """The scope's deals at ``start`` and at ``end`` as versions, each valid on its own date only: what the flow reads."""
    columns = ["id", *FLOW_COLUMNS]

    def versions(frame: pl.DataFrame, valid_from: dt.date, valid_to: dt.date | None) -> pl.DataFrame:
        return frame.select(columns).rename({"id": "deal_id"}).with_columns(pl.lit(valid_from).alias("valid_from"), pl.lit(valid_to, pl.Date).alias("valid_to"))

    return pl.concat([versions(before, start, start + dt.timedelta(days=1)), versions(after, end, None)], how="vertical_relaxed")
