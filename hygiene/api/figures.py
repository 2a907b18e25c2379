"""The figures people read in a report, computed once in polars for every reporter.

An audit keeps a *pipeline table* (one row per audited deal: who owns it,
its team, stage, amount, whether it is open) beside the findings. From the
two, :func:`compute_figures` derives what the HTML report, the workbook,
the digests and the console all show: open pipeline, amount at risk,
tables per owner, team, manager and region, pipeline by stage, findings
and amount at risk by rule, data quality per field. A reporter reads
``report.figures()`` and never recomputes them, so two reports of one
audit never disagree.

A figure that cannot be computed is a :class:`Figure` with ``value`` None
and a ``reason`` ("no open deal has an amount"), never a zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import polars as pl

if TYPE_CHECKING:
    from hygiene.api.models import Period
    from hygiene.api.stages import StageTable

#: The deal columns the pipeline table keeps, beside the derived ones.
PIPELINE_FIELDS = ("id", "name", "account", "owner", "team", "stage", "amount", "close_date")
#: Grouping columns taken from the roster or the export when they exist: a deal's team, manager, region.
GROUP_COLUMNS = ("team", "manager", "region")
#: The severities that put a deal at risk (info findings only inform).
AT_RISK_SEVERITIES = ("error", "warning")
NOT_EVALUABLE_PREFIX = "__not_evaluable__:"
#: Per rule and missing field, for rules that name the fields they lack (see ``Rule.not_evaluable``).
NOT_EVALUABLE_FIELD_PREFIX = "__not_evaluable_field__:"
#: Separates the rule code from the field in a :func:`not_evaluable_field_column`.
_FIELD_SEPARATOR = "\x1f"
#: The deal fields whose completeness the data-quality table reports.
QUALITY_FIELDS = (
    "name",
    "account",
    "owner",
    "team",
    "amount",
    "probability",
    "forecast_category",
    "created_date",
    "close_date",
    "stage_entered_date",
    "last_activity_date",
    "close_date_pushes",
    "contacts",
    "next_step",
)


def not_evaluable_column(code: str) -> str:
    """The pipeline-table column that is True where rule ``code`` could not judge the deal."""
    return f"{NOT_EVALUABLE_PREFIX}{code}"


def not_evaluable_counts(pipeline: pl.DataFrame) -> dict[str, int]:
    """Deals each rule could not evaluate, by rule code, from the pipeline table's masks."""
    columns = sorted(c for c in pipeline.columns if c.startswith(NOT_EVALUABLE_PREFIX))
    if not columns:
        return {}
    row = pipeline.select(pl.col(c).sum().cast(pl.Int64) for c in columns).row(0)
    return {column[len(NOT_EVALUABLE_PREFIX) :]: int(n) for column, n in zip(columns, row, strict=True)}


def not_evaluable_field_column(code: str, field: str) -> str:
    """The pipeline-table column that is True where rule ``code`` could not judge the deal for want of ``field``."""
    return f"{NOT_EVALUABLE_FIELD_PREFIX}{code}{_FIELD_SEPARATOR}{field}"


def not_evaluable_field_counts(pipeline: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Per rule code, the deals it could not evaluate per missing field (a deal lacking two counts under both)."""
    columns = sorted(c for c in pipeline.columns if c.startswith(NOT_EVALUABLE_FIELD_PREFIX))
    if not columns:
        return {}
    row = pipeline.select(pl.col(c).sum().cast(pl.Int64) for c in columns).row(0)
    counts: dict[str, dict[str, int]] = {}
    for column, n in zip(columns, row, strict=True):
        code, _, field = column[len(NOT_EVALUABLE_FIELD_PREFIX) :].partition(_FIELD_SEPARATOR)
        counts.setdefault(code, {})[field] = int(n)
    return {code: dict(sorted(fields.items())) for code, fields in sorted(counts.items())}


def _group_source(frame: pl.DataFrame, name: str) -> pl.Expr:
    """The ``team``, ``manager`` or ``region`` of each deal: its own column, else an export column of that name."""
    if name in frame.columns:
        return pl.col(name).cast(pl.String)
    for column in frame.columns:
        if column.strip().lower().replace(" ", "_").replace("-", "_") in (name, f"{name}_name"):
            return pl.col(column).cast(pl.String)
    return pl.lit(None, pl.String)


def pipeline_table(deals: pl.DataFrame, stages: StageTable, period: Period) -> pl.DataFrame:
    """One row per audited deal, prepared by the engine: what reports show about it.

    Columns: ``id``, ``name``, ``account``, ``owner``, ``team``, ``manager``,
    ``region`` (null when the export and roster have none), ``stage``,
    ``stage_rank`` (its position in the stage table; unknown stages last),
    ``amount``, ``probability`` (the deal's, else its stage's), ``close_date``,
    ``open``, ``won``, ``closing_in_period``, ``row``, ``lacking`` (a bit per
    :data:`QUALITY_FIELDS` entry the deal has no value for) and, per rule
    with missing-data checks, its :func:`not_evaluable_column`.
    """
    from hygiene.api.fields import ROW_COLUMN
    from hygiene.api.rule import OPEN_COLUMN, STAGE_PROBABILITY_COLUMN, WON_COLUMN
    from hygiene.api.stages import stage_key

    ranks = {stage_key(stage.name): rank for rank, stage in enumerate(stages.stages)}
    stage_rank = (
        pl.col("stage").str.strip_chars().str.to_lowercase().replace_strict(ranks, default=len(ranks), return_dtype=pl.Int32)
    )
    close = pl.col("close_date") if "close_date" in deals.columns else pl.lit(None, pl.Date)
    types = {"amount": pl.Float64, "close_date": pl.Date, "probability": pl.Float64}
    # The engine also audits hand-made tables (tests, ``hygiene.testing``) holding only some fields.
    absent = [field for field in (*PIPELINE_FIELDS, "probability") if field not in deals.columns]
    lacking = _lacking_mask(deals)
    deals = deals.with_columns(pl.lit(None, types.get(field, pl.String)).alias(field) for field in absent)
    return deals.select(
        *PIPELINE_FIELDS,
        *[_group_source(deals, name).alias(name) for name in GROUP_COLUMNS if name != "team"],
        stage_rank.fill_null(len(ranks)).alias("stage_rank"),
        pl.coalesce(pl.col("probability"), pl.col(STAGE_PROBABILITY_COLUMN)).alias("probability"),
        pl.col(OPEN_COLUMN).alias("open"),
        pl.col(WON_COLUMN).alias("won"),
        close.is_between(pl.lit(period.start), pl.lit(period.end), closed="both").fill_null(False).alias("closing_in_period"),
        pl.col(ROW_COLUMN).alias("row"),
        lacking.alias("lacking"),
    ).select(
        "id", "name", "account", "owner", "team", "manager", "region", "stage", "stage_rank", "amount", "probability",
        "close_date", "open", "won", "closing_in_period", "row", "lacking", pl.col(f"^{NOT_EVALUABLE_PREFIX}.*$"),
        pl.col(f"^{NOT_EVALUABLE_FIELD_PREFIX}.*$"),
    )


def empty_pipeline() -> pl.DataFrame:
    """A pipeline table with no deal (for reports built without an audit)."""
    return pl.DataFrame(
        schema={
            "id": pl.String, "name": pl.String, "account": pl.String, "owner": pl.String, "team": pl.String,
            "manager": pl.String, "region": pl.String, "stage": pl.String, "stage_rank": pl.Int32, "amount": pl.Float64,
            "probability": pl.Float64, "close_date": pl.Date, "open": pl.Boolean, "won": pl.Boolean,
            "closing_in_period": pl.Boolean, "row": pl.Int64, "lacking": pl.UInt32,
        }
    )


def _lacking_mask(deals: pl.DataFrame) -> pl.Expr:
    """Per deal, a bit per :data:`QUALITY_FIELDS` entry that is null (missing or unreadable)."""
    bits = [pl.col(field).is_null().cast(pl.UInt32) * (1 << index) for index, field in enumerate(QUALITY_FIELDS) if field in deals.columns]
    absent = sum(1 << index for index, field in enumerate(QUALITY_FIELDS) if field not in deals.columns)
    return pl.sum_horizontal(*bits, pl.lit(absent, pl.UInt32)).cast(pl.UInt32) if bits else pl.lit(absent, pl.UInt32)


def data_quality_table(pipeline: pl.DataFrame, invalid_values: pl.DataFrame | None, mapped_fields: Sequence[str]) -> pl.DataFrame:
    """Per deal field, how many open deals lack it: ``missing`` (empty) and ``unreadable`` (a value that could not be read).

    A field the export has no column for is ``mapped`` False: every open
    deal lacks it. ``share_lacking`` is of open deals; null when there is none.
    """
    # Only the three columns it reads: the pipeline table is wide (a mask per rule), and most deals are open.
    open_deals = pipeline.select("id", "open", "lacking").filter(pl.col("open"))
    total = open_deals.height
    unreadable: dict[str, int] = {}
    if invalid_values is not None and invalid_values.height:
        of_open = invalid_values.filter(pl.col("deal_id").is_in(open_deals.get_column("id").implode()))
        unreadable = {field: int(n) for field, n in of_open.group_by("field").len().iter_rows()}
    lacking = open_deals.select(
        ((pl.col("lacking") & (1 << index)) > 0).sum().alias(field) for index, field in enumerate(QUALITY_FIELDS)
    ).row(0, named=True) if total else {}
    rows = []
    for field in QUALITY_FIELDS:
        empty = int(lacking.get(field) or 0)
        bad = min(unreadable.get(field, 0), empty)
        rows.append(
            {
                "field": field,
                "mapped": field in mapped_fields,
                "open_deals": total,
                "missing": empty - bad,
                "unreadable": bad,
                "share_lacking": round(empty / total, 4) if total else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={"field": pl.String, "mapped": pl.Boolean, "open_deals": pl.Int64, "missing": pl.Int64, "unreadable": pl.Int64, "share_lacking": pl.Float64},
        orient="row",
    )


@attrs.define(frozen=True)
class Figure:
    """A number a report shows, or why it cannot be computed (``value`` None, ``reason`` set)."""

    value: float | None
    reason: str | None = None

    @property
    def evaluable(self) -> bool:
        return self.value is not None


def _ratio(numerator: float | None, denominator: float | None, reason: str) -> Figure:
    if numerator is None or not denominator:
        return Figure(None, reason)
    return Figure(round(numerator / denominator, 4))


#: The columns of :attr:`HistoryFigures.deal_changes`: one row per change of a deal field, values as reports show them.
DEAL_CHANGE_SCHEMA: dict[str, pl.DataType] = {"deal_id": pl.String, "date": pl.Date, "field": pl.String, "before": pl.String, "after": pl.String}


def _deal_change_table(value: Any) -> pl.DataFrame:
    return pl.DataFrame(schema=DEAL_CHANGE_SCHEMA) if value is None else value.select(list(DEAL_CHANGE_SCHEMA)).cast(DEAL_CHANGE_SCHEMA)


@attrs.define(frozen=True, kw_only=True)
class HistoryFigures:
    """What a report shows about earlier audits, when a history store provides them.

    ``hygiene audit`` fills them from the store (see
    ``hygiene.history.report_history``); a report built by hand may pass
    its own. ``previous`` holds the header figures of the previous run (keys
    ``as_of``, ``open_deals``, ``open_amount``, ``amount_at_risk``,
    ``score``, ``findings``, any of them missing); ``waterfall`` the
    period's pipeline flow as ``(label, amount)`` steps, starting and ending
    with totals, the changes between them signed; ``waterfall_range`` the
    two snapshot dates it runs between; ``trend`` one ``(as_of, score,
    open_amount)`` point per run, oldest first, this audit last;
    ``deal_changes`` the recent changes of each deal, a table of
    :data:`DEAL_CHANGE_SCHEMA` (newest first within a deal). ``scope``: the
    report scope (``AuditReport.scope``) the previous run, waterfall and
    trend describe, empty for the whole audit (see
    ``hygiene.history.scoped_history``); ``no_comparison``: why a report
    of that scope has no comparison with the previous run or no waterfall,
    a sentence the reports print. Reports render what is there and invent
    nothing that is not.
    """

    previous: Mapping[str, Any] | None = None
    waterfall: Sequence[tuple[str, float]] = ()
    waterfall_range: tuple[dt.date, dt.date] | None = None
    trend: Sequence[tuple[dt.date, float | None, float | None]] = ()
    deal_changes: pl.DataFrame = attrs.field(default=None, converter=_deal_change_table)
    scope: tuple[str, ...] = ()
    no_comparison: str | None = None

    def changes_of(self, deal_ids: Sequence[str]) -> dict[str, list[str]]:
        """The recent changes of some deals as short texts (``2026-11-09: amount 9,000 → 8,000``), newest first."""
        rows = self.deal_changes.filter(pl.col("deal_id").is_in(list(deal_ids)))
        texts: dict[str, list[str]] = {}
        for deal, date, field, before, after in rows.iter_rows():
            texts.setdefault(deal, []).append(f"{date.isoformat()}: {field.replace('_', ' ')} {before or '(empty)'} → {after or '(empty)'}")
        return texts

    def narrowed(self, deal_ids: pl.Series, scope: tuple[str, ...] = ()) -> HistoryFigures:
        """These figures for a report narrowed to some deals and described by ``scope`` (``--owner``, digests).

        The deals' own changes stay. The previous run, the waterfall and the
        trend stay when they were computed for that very scope; figures of
        another scope (the whole pipeline's) are left out rather than
        compared with the narrowed report, and ``no_comparison`` says so.
        """
        changes = self.deal_changes.filter(pl.col("deal_id").is_in(deal_ids.implode()))
        if scope and scope == self.scope:
            return attrs.evolve(self, deal_changes=changes)
        had_comparison = bool(self.previous or self.waterfall or self.trend)
        reason = "no comparison: the history store's figures of earlier runs are of another scope" if had_comparison else self.no_comparison
        return HistoryFigures(deal_changes=changes, scope=scope, no_comparison=reason)


def most_common(deals: pl.DataFrame, by: str, column: str) -> pl.DataFrame:
    """Per value of ``by``, its most common non-null ``column`` (ties: the alphabetically first): an owner's team."""
    counted = deals.select(by, column).filter(pl.col(by).is_not_null() & pl.col(column).is_not_null()).group_by(by, column).len()
    return counted.sort([by, "len", column], descending=[False, True, False]).group_by(by, maintain_order=True).first().select(by, column)


def _group_rows(deals: pl.DataFrame, findings: pl.DataFrame, by: str, quotas: Mapping[str, float], owner_groups: pl.DataFrame) -> pl.DataFrame:
    """Per value of ``by`` (owner, team, manager, region): the figures of a manager's table.

    ``owner_groups`` holds each owner's :func:`most_common` team, manager and
    region, computed once for every table.
    """
    wanted = dict.fromkeys([by, "owner", "team", "open", "amount", "at_risk", "won", "closing_in_period", "probability", "findings", "errors", "warnings"])
    keyed = deals.select(list(wanted)).filter(pl.col(by).is_not_null())
    amount = pl.col("amount")
    rows = keyed.group_by(by).agg(
        pl.col("open").sum().cast(pl.Int64).alias("open_deals"),
        amount.filter(pl.col("open")).sum().alias("open_amount"),
        pl.col("at_risk").sum().cast(pl.Int64).alias("deals_at_risk"),
        amount.filter(pl.col("at_risk")).sum().alias("amount_at_risk"),
        amount.filter(pl.col("won") & pl.col("closing_in_period")).sum().alias("won"),
        (amount * pl.col("probability").fill_null(0.0) / 100).filter(pl.col("open") & pl.col("closing_in_period")).sum().alias("weighted"),
        amount.filter(pl.col("open") & pl.col("closing_in_period")).sum().alias("open_in_period"),
        amount.filter(pl.col("open") & pl.col("closing_in_period")).count().alias("open_in_period_with_amount"),
        (pl.col("open") & pl.col("closing_in_period")).sum().alias("open_in_period_deals"),
        pl.col("findings").sum().cast(pl.Int64).alias("findings"),
        pl.col("errors").sum().cast(pl.Int64).alias("errors"),
        pl.col("warnings").sum().cast(pl.Int64).alias("warnings"),
        *([pl.col("owner").drop_nulls().n_unique().alias("owners")] if by != "owner" else []),
    )
    if by == "owner":
        rows = rows.join(owner_groups.select("owner", "team").filter(pl.col("team").is_not_null()), on="owner", how="left")
    group_findings = findings.filter(pl.col("deal_id").is_null() & pl.col(by).is_not_null()).group_by(by).len("owner_findings") if by == "owner" else None
    if group_findings is not None and group_findings.height:
        rows = rows.join(group_findings, on=by, how="full", coalesce=True).with_columns(
            pl.col("owner_findings").fill_null(0).cast(pl.Int64),
        )
        rows = rows.with_columns((pl.col("findings").fill_null(0) + pl.col("owner_findings")).alias("findings")).drop("owner_findings")
    quota_frame = (
        pl.DataFrame({"owner": list(quotas), "quota": [float(q) for q in quotas.values()]}, schema={"owner": pl.String, "quota": pl.Float64})
        if quotas
        else pl.DataFrame(schema={"owner": pl.String, "quota": pl.Float64})
    )
    if by == "owner":
        rows = rows.join(quota_frame, on="owner", how="full", coalesce=True) if quotas else rows.with_columns(pl.lit(None, pl.Float64).alias("quota"))
    else:
        owners_of_group = owner_groups.select("owner", by).filter(pl.col(by).is_not_null())
        team_quota = owners_of_group.join(quota_frame, on="owner").group_by(by).agg(pl.col("quota").sum())
        rows = rows.join(team_quota, on=by, how="left")
    zero = pl.lit(0.0)
    rows = rows.with_columns(
        pl.col("open_deals", "deals_at_risk", "findings", "errors", "warnings").fill_null(0),
        pl.col("open_amount", "amount_at_risk", "won", "weighted", "open_in_period").fill_null(zero),
        pl.col("open_in_period_with_amount", "open_in_period_deals").fill_null(0),
    ).with_columns(
        # Cents: a parallel float sum may differ in its last bit from run to run; the report must not.
        pl.col("open_amount", "amount_at_risk", "won", "weighted", "open_in_period").round(2),
    )
    # No open deal in the period is a real coverage of zero; open deals without amounts are unknown.
    amounts_unknown = (pl.col("open_in_period_deals") > 0) & (pl.col("open_in_period_with_amount") == 0)
    to_win = pl.col("quota") - pl.col("won")
    rows = rows.with_columns(
        pl.when(pl.col("open_deals") > 0).then(((pl.col("open_deals") - pl.col("deals_at_risk")) / pl.col("open_deals")).round(4)).alias("score"),
        (pl.col("quota") - pl.col("won") - pl.col("weighted")).round(2).alias("gap"),
        pl.when(pl.col("quota").is_not_null() & (to_win > 0) & ~amounts_unknown)
        .then((pl.col("open_in_period") / to_win).round(2))
        .alias("coverage"),
        pl.when(pl.col("quota").is_null())
        .then(pl.lit("no quota"))
        .when(to_win <= 0)
        .then(pl.lit("quota already won"))
        .when(amounts_unknown)
        .then(pl.lit("no open deal closing in the period has an amount"))
        .alias("coverage_reason"),
    )
    # Worst first: lowest score, then most amount at risk; groups without open deals last.
    return rows.sort(["score", "amount_at_risk", by], descending=[False, True, False], nulls_last=True)


@attrs.define(frozen=True, kw_only=True)
class ReportFigures:
    """Everything a human-facing report shows, computed once from an :class:`~hygiene.api.report.AuditReport`.

    Tables are polars frames in display order. ``deals`` is the pipeline
    table with ``findings``, ``errors``, ``warnings``, ``at_risk`` (open,
    with an error or warning finding) and ``worst`` (most severe finding)
    per deal; ``deal_findings`` the findings with each deal's amount,
    stage, team, manager and region. ``owners``, ``teams``, ``managers``
    and ``regions`` are per-group tables (empty when the export has no such
    column), worst score first.
    """

    open_deals: int
    open_amount: Figure
    open_without_amount: int
    amount_at_risk: Figure
    deals_at_risk: int
    #: Deals at risk whose amount is unknown: not in ``amount_at_risk`` (a missing amount is not zero).
    at_risk_without_amount: int
    score: Figure
    quota: Figure
    won: Figure
    weighted: Figure
    gap: Figure
    coverage: Figure
    win_rate: Figure
    deals: pl.DataFrame
    deal_findings: pl.DataFrame
    owners: pl.DataFrame
    teams: pl.DataFrame
    managers: pl.DataFrame
    regions: pl.DataFrame
    stages: pl.DataFrame
    rules: pl.DataFrame
    findings_by_stage: pl.DataFrame
    data_quality: pl.DataFrame
    not_evaluable: list[dict[str, Any]]

    def groups(self) -> dict[str, pl.DataFrame]:
        """The per-group tables that have rows, by grouping column."""
        tables = {"team": self.teams, "manager": self.managers, "region": self.regions}
        return {name: table for name, table in tables.items() if table.height}


def compute_figures(report) -> ReportFigures:
    """The figures of ``report`` (an :class:`~hygiene.api.report.AuditReport`, which imports this module); ``report.figures()`` caches them."""
    from hygiene.api.models import SEVERITY_RANK

    pipeline = report.pipeline if report.pipeline is not None else empty_pipeline()
    findings = report.findings
    info = pipeline.select("id", "amount", "stage", "stage_rank", "team", "manager", "region", "open").rename({"id": "deal_id"})
    per_deal_figures = [
        pl.len().cast(pl.Int64).alias("findings"),
        (pl.col("severity") == "error").sum().cast(pl.Int64).alias("errors"),
        (pl.col("severity") == "warning").sum().cast(pl.Int64).alias("warnings"),
        pl.col("severity").replace_strict(SEVERITY_RANK, return_dtype=pl.Int32).min().alias("worst_rank"),
    ]
    positions = _deal_positions(findings, pipeline)
    columns = pipeline.select(pl.exclude("lacking", f"^{NOT_EVALUABLE_PREFIX}.*$", f"^{NOT_EVALUABLE_FIELD_PREFIX}.*$"))
    if positions is None:
        deal_findings = findings.join(info, on="deal_id", how="left", maintain_order="left")
        per_deal = deal_findings.filter(pl.col("deal_id").is_not_null()).group_by("deal_id").agg(per_deal_figures).rename({"deal_id": "id"})
        # Row order kept: float sums over the deals must add in the same order on every run.
        deals = columns.join(per_deal, on="id", how="left", maintain_order="left")
    else:
        # Each deal's columns gathered by its position, and the per-deal figures put back by it: no join of text ids.
        # Named as the join names them: a column the findings have too (amount) gets the suffix "_right".
        gathered = [pl.col(c).gather(positions).alias(f"{c}_right" if c in findings.columns else c) for c in info.columns if c != "deal_id"]
        deal_findings = pl.concat([findings, info.lazy().select(gathered).collect()], how="horizontal")
        per_deal = pl.DataFrame({"position": positions, "severity": findings.get_column("severity")}).filter(pl.col("position").is_not_null())
        per_deal = per_deal.group_by("position").agg(per_deal_figures)
        deals = columns.with_columns(_scattered(per_deal, pipeline.height))
    deal_findings = deal_findings.with_columns(
        pl.col("team", "manager", "region").fill_null(pl.lit(None, pl.String)),
        pl.col("open").fill_null(False),
    )
    # An owner-level finding has no deal; its groups come from the owner's deals.
    ranks = {rank: name for name, rank in SEVERITY_RANK.items()}
    deals = (
        deals
        .with_columns(pl.col("findings", "errors", "warnings").fill_null(0))
        .with_columns(
            (pl.col("open") & ((pl.col("errors") + pl.col("warnings")) > 0)).alias("at_risk"),
            pl.col("worst_rank").replace_strict(ranks, default=None, return_dtype=pl.String).alias("worst"),
        )
        .drop("worst_rank")
    )
    owner_groups = deals.select(pl.col("owner").drop_nulls().unique())
    for name in GROUP_COLUMNS:
        owner_groups = owner_groups.join(most_common(deals, "owner", name), on="owner", how="left")
    deal_findings = _groups_for_owner_findings(deal_findings, owner_groups)
    totals = deals.select(
        pl.col("open").sum().cast(pl.Int64).alias("open_deals"),
        pl.col("amount").filter(pl.col("open")).sum().alias("open_amount"),
        pl.col("amount").filter(pl.col("open")).count().alias("open_with_amount"),
        pl.col("at_risk").sum().cast(pl.Int64).alias("deals_at_risk"),
        pl.col("amount").filter(pl.col("at_risk")).sum().alias("amount_at_risk"),
        pl.col("amount").filter(pl.col("at_risk")).count().alias("at_risk_with_amount"),
        pl.col("won").sum().cast(pl.Int64).alias("won_deals"),
        (~pl.col("open")).sum().cast(pl.Int64).alias("closed_deals"),
    ).row(0, named=True)
    open_deals = int(totals["open_deals"])
    no_amount = "no open deal has an amount"
    open_amount = Figure(round(float(totals["open_amount"]), 2)) if totals["open_with_amount"] else Figure(None, no_amount if open_deals else "no open deal")
    at_risk = _at_risk_figure(open_deals, totals["deals_at_risk"], totals["at_risk_with_amount"], totals["amount_at_risk"])
    score = Figure(round((open_deals - totals["deals_at_risk"]) / open_deals, 4)) if open_deals else Figure(None, "no open deal")
    owners = _group_rows(deals, deal_findings, "owner", report.quotas, owner_groups)
    quota, won, weighted, gap, coverage = _quota_figures(owners, report.quotas)
    win_rate = _ratio(totals["won_deals"], totals["closed_deals"], "no closed deal")
    rule_names = {rule.code: rule.name for rule in report.rules}
    return ReportFigures(
        open_deals=open_deals,
        open_amount=open_amount,
        open_without_amount=open_deals - int(totals["open_with_amount"]),
        amount_at_risk=at_risk,
        deals_at_risk=int(totals["deals_at_risk"]),
        at_risk_without_amount=int(totals["deals_at_risk"]) - int(totals["at_risk_with_amount"]),
        score=score,
        quota=quota,
        won=won,
        weighted=weighted,
        gap=gap,
        coverage=coverage,
        win_rate=win_rate,
        deals=deals,
        deal_findings=deal_findings,
        owners=owners,
        teams=_group_rows(deals, deal_findings, "team", report.quotas, owner_groups),
        managers=_group_rows(deals, deal_findings, "manager", report.quotas, owner_groups),
        regions=_group_rows(deals, deal_findings, "region", report.quotas, owner_groups),
        stages=_stage_rows(deals),
        rules=_rule_rows(deal_findings, report, rule_names),
        findings_by_stage=_findings_by_stage(deal_findings),
        data_quality=data_quality_table(pipeline, report.invalid_values, report.mapped_fields),
        not_evaluable=[
            {"code": code, "name": rule_names.get(code, ""), "deals": count, "reason": _reason_text(report.not_evaluable_reasons.get(code))}
            for code, count in report.not_evaluable.items()
            if count
        ],
    )


def _deal_positions(findings: pl.DataFrame, pipeline: pl.DataFrame) -> pl.Series | None:
    """Each finding's deal as its position in ``pipeline`` (null: no deal there), or None when a finding's deal id is on several deals.

    One join of the ids alone, shared by the findings' deal columns and the
    deals' finding counts. A repeated id matches several deals, which a join
    of the tables handles and positions do not: then there are none.
    """
    codes = pipeline.select(pl.col("id").alias("deal_id"), pl.int_range(pl.len(), dtype=pl.UInt32).alias("position"))
    joined = findings.select("deal_id").join(codes, on="deal_id", how="left", maintain_order="left")
    return joined.get_column("position") if joined.height == findings.height else None


def _scattered(per_deal: pl.DataFrame, height: int) -> list[pl.Series]:
    """The per-deal figures (one row per ``position``) as columns of the deal table, null where a deal has no finding."""
    positions = per_deal.get_column("position")
    return [
        pl.repeat(None, height, dtype=per_deal.schema[name], eager=True).alias(name).scatter(positions, per_deal.get_column(name))
        for name in ("findings", "errors", "warnings", "worst_rank")
    ]


def _at_risk_figure(open_deals: int, deals_at_risk: int, with_amount: int, amount: float | None) -> Figure:
    """The amount at risk: the sum over open deals with an error or warning finding, or why there is none."""
    if not deals_at_risk:
        return Figure(0.0) if open_deals else Figure(None, "no open deal")
    if with_amount:
        return Figure(round(float(amount), 2))
    return Figure(None, "no deal at risk has an amount")


@attrs.define(frozen=True, kw_only=True)
class AmountAtRisk:
    """The amount at risk alone, as :class:`ReportFigures` has it, without the rest of the figures.

    ``by_owner`` and ``by_team`` hold, per group with a deal at risk (in
    name order), the sum of its at-risk deals' amounts, rounded to the cent.
    """

    amount: Figure
    deals_at_risk: int
    at_risk_without_amount: int
    by_owner: dict[str, float]
    by_team: dict[str, float]


def at_risk_plans(pipeline: pl.DataFrame | None, flagged_ids: pl.Series) -> list[pl.LazyFrame]:
    """The lazy frames :func:`amount_at_risk` reads, for the caller to collect with others in one pass.

    ``flagged_ids``: the deal ids with an error or warning finding. Only the
    pipeline's ``owner``, ``team``, ``amount`` and ``open`` columns are read.
    """
    deals = (pipeline if pipeline is not None else empty_pipeline()).lazy()
    at_risk = pl.col("open") & pl.col("id").is_in(flagged_ids.implode())
    marked = deals.select("owner", "team", "amount", "open", at_risk.alias("at_risk"))
    totals = marked.select(
        pl.col("open").sum().cast(pl.Int64).alias("open_deals"),
        pl.col("at_risk").sum().cast(pl.Int64).alias("deals_at_risk"),
        pl.col("amount").filter(pl.col("at_risk")).sum().alias("amount_at_risk"),
        pl.col("amount").filter(pl.col("at_risk")).count().cast(pl.Int64).alias("at_risk_with_amount"),
    )
    risky = marked.filter(pl.col("at_risk"))
    by = [
        risky.filter(pl.col(column).is_not_null()).group_by(column).agg(pl.col("amount").sum().round(2).alias("amount")).sort(column)
        for column in ("owner", "team")
    ]
    return [totals, *by]


def amount_at_risk(collected: Sequence[pl.DataFrame]) -> AmountAtRisk:
    """The amount at risk from the collected :func:`at_risk_plans`: the same figures as :func:`compute_figures`' ."""
    totals, by_owner, by_team = collected
    row = totals.row(0, named=True)
    deals_at_risk, with_amount = int(row["deals_at_risk"]), int(row["at_risk_with_amount"])
    return AmountAtRisk(
        amount=_at_risk_figure(int(row["open_deals"]), deals_at_risk, with_amount, row["amount_at_risk"]),
        deals_at_risk=deals_at_risk,
        at_risk_without_amount=deals_at_risk - with_amount,
        by_owner=dict(by_owner.iter_rows()),
        by_team=dict(by_team.iter_rows()),
    )


def _groups_for_owner_findings(deal_findings: pl.DataFrame, owner_groups: pl.DataFrame) -> pl.DataFrame:
    if not owner_groups.height:
        return deal_findings
    joined = deal_findings.join(owner_groups, on="owner", how="left", suffix="_of_owner", maintain_order="left")
    return joined.with_columns(
        pl.coalesce(pl.col(name), pl.col(f"{name}_of_owner")).alias(name) for name in GROUP_COLUMNS
    ).drop([f"{name}_of_owner" for name in GROUP_COLUMNS])


def _quota_figures(owners: pl.DataFrame, quotas: Mapping[str, float]) -> tuple[Figure, Figure, Figure, Figure, Figure]:
    if not quotas:
        reason = "no [quotas] configured"
        return Figure(None, reason), Figure(None, reason), Figure(None, reason), Figure(None, reason), Figure(None, reason)
    quota_owners = owners.filter(pl.col("quota").is_not_null())
    sums = quota_owners.select(pl.col("quota", "won", "weighted", "open_in_period", "open_in_period_with_amount", "open_in_period_deals").sum()).row(0, named=True)
    quota, won, weighted = float(sums["quota"]), float(sums["won"]), float(sums["weighted"])
    to_win = quota - won
    if to_win <= 0:
        coverage = Figure(None, "quota already won")
    elif sums["open_in_period_deals"] and not sums["open_in_period_with_amount"]:
        coverage = Figure(None, "no open deal closing in the period has an amount")
    else:
        coverage = Figure(round(float(sums["open_in_period"]) / to_win, 2))
    return Figure(quota), Figure(round(won, 2)), Figure(round(weighted, 2)), Figure(round(quota - won - weighted, 2)), coverage


def _stage_rows(deals: pl.DataFrame) -> pl.DataFrame:
    return (
        deals.select("stage", "stage_rank", "open", "amount", "findings", "at_risk")
        .filter(pl.col("stage").is_not_null())
        .group_by("stage")
        .agg(
            pl.col("stage_rank").min(),
            pl.col("open").first(),
            pl.len().cast(pl.Int64).alias("deals"),
            pl.col("amount").sum().round(2).alias("amount"),
            pl.col("findings").sum().cast(pl.Int64).alias("findings"),
            pl.col("at_risk").sum().cast(pl.Int64).alias("deals_at_risk"),
            pl.col("amount").filter(pl.col("at_risk")).sum().round(2).alias("amount_at_risk"),
        )
        .sort(["stage_rank", "stage"])
    )


def _rule_rows(deal_findings: pl.DataFrame, report, names: Mapping[str, str]) -> pl.DataFrame:
    at_risk = pl.col("open") & pl.col("severity").is_in(AT_RISK_SEVERITIES) & pl.col("deal_id").is_not_null()
    per_rule = deal_findings.select("code", "rule", "severity", "deal_id", "amount", "open").group_by("code").agg(
        pl.col("rule").first(),
        pl.col("severity").first(),
        pl.len().cast(pl.Int64).alias("findings"),
        pl.col("deal_id").drop_nulls().n_unique().cast(pl.Int64).alias("deals"),
        # A deal repeats in a rule's findings only for duplicate rows; count its amount once.
        pl.struct("deal_id", "amount").filter(at_risk).unique().struct.field("amount").sum().round(2).alias("amount_at_risk"),
    )
    return per_rule.sort(["amount_at_risk", "findings", "code"], descending=[True, True, False])


def _findings_by_stage(deal_findings: pl.DataFrame) -> pl.DataFrame:
    return (
        deal_findings.select("stage", "code", "stage_rank")
        .filter(pl.col("stage").is_not_null())
        .group_by("stage", "code")
        .agg(pl.len().cast(pl.Int64).alias("findings"), pl.col("stage_rank").first())
        .sort(["stage_rank", "stage", "code"])
    )


def _reason_text(reasons: dict[str, int] | None) -> str:
    """Why a rule could not evaluate deals, from the reasons it counted (most frequent first)."""
    if not reasons:
        return "the deal lacks the data the rule needs"
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return "; ".join(f"{reason} ({count})" if len(ranked) > 1 else reason for reason, count in ranked)
