"""The result of an audit, as every reporter receives it."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import attrs
import polars as pl

from hygiene.api.figures import AT_RISK_SEVERITIES, HistoryFigures, ReportFigures, amount_at_risk, at_risk_plans, compute_figures
from hygiene.api.groups import Grouping
from hygiene.api.models import SEVERITIES, Finding, Period, severities_at_or_above

REPORT_SCHEMA_VERSION = 1

#: The columns of :attr:`AuditReport.findings` (before ``baseline_status``), in order.
FINDING_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String,
    "rule": pl.String,
    "severity": pl.String,
    "deal_id": pl.String,
    "deal_name": pl.String,
    "owner": pl.String,
    "message": pl.String,
    "details": pl.String,  # a JSON object, encoded once by the engine so every reporter writes the same figures
    "row": pl.Int64,
    "amount": pl.Float64,  # for reporters that rank findings by what is at stake
    "fingerprint": pl.String,
}


@attrs.define(frozen=True, kw_only=True)
class RuleInfo:
    code: str
    name: str
    severity: str
    plugin: str
    summary: str = ""
    #: The **Fix** section of the rule's documentation: what to do about a finding.
    fix: str = ""
    #: The rule's :attr:`hygiene.DealRule.counter_details`.
    counter_details: tuple[str, ...] = ()
    group: str = "other"
    #: Points each of the rule's findings takes off its deal's health score.
    weight: int = 0


def _number(value: float) -> int | float:
    """A sum as JSON writes it best: a whole number without ``.0``, else rounded to the cent."""
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


@attrs.define(kw_only=True)
class AuditReport:
    """Findings (a polars table, sorted) and what a reader needs around them.

    ``findings`` has the columns of :data:`FINDING_SCHEMA`
    plus ``baseline_status``: ``"new"`` or ``"known"`` when the audit ran
    against a baseline, else null. ``iter_findings()`` yields them as
    :class:`hygiene.Finding` objects for reporters that prefer objects to
    columns. ``fixed`` lists the baseline entries no longer found (each a
    mapping with ``fingerprint``, ``code``, ``deal_id``, ``owner``,
    ``count``); ``waived`` counts findings suppressed by waivers.
    """

    tool_version: str
    as_of: dt.date
    period: Period
    source: str
    config_file: str | None
    rules: list[RuleInfo]
    findings: pl.DataFrame
    deals: int
    open_deals: int
    not_evaluable: dict[str, int]
    rule_errors: int = 0
    #: The baseline the audit ran against, as the user named it (``--baseline FILE``).
    baseline_file: str | None = None
    fixed: list[dict[str, Any]] = attrs.field(factory=list)
    #: Baseline entries of rules this audit did not run (removed, or not selected): neither known nor fixed.
    obsolete: list[dict[str, Any]] = attrs.field(factory=list)
    #: Rules this audit ran that the baseline does not cover: all their findings are new.
    unadopted_rules: list[str] = attrs.field(factory=list)
    #: Which findings a report listing them for a reader shows: ``all``, or only ``new`` ones
    #: (``--show new``). Counts and summaries always cover every finding.
    show: str = "all"
    waived: int = 0
    #: ``id`` and ``owner`` of every open deal (see :meth:`score`).
    open_deal_owners: pl.DataFrame = attrs.field(factory=lambda: pl.DataFrame(schema={"id": pl.String, "owner": pl.String}))
    #: Per rule code that gives reasons: not-evaluable deals per reason (``"history has 1 snapshot"``).
    not_evaluable_reasons: dict[str, dict[str, int]] = attrs.field(factory=dict)
    #: With a history store: the previous audit run, finding statuses and resolved findings (see ``hygiene.history.status``).
    history: dict[str, Any] | None = None
    #: With a history store: ``fingerprint``, ``status`` (``new`` / ``persisting``) and ``runs`` per finding.
    finding_statuses: pl.DataFrame | None = None
    #: One row per audited deal (see :func:`hygiene.api.figures.pipeline_table`); None for reports built by hand.
    pipeline: pl.DataFrame | None = None
    #: The deal fields the export has a column for.
    mapped_fields: tuple[str, ...] = ()
    #: The configured ``[quotas]``: owner -> quota for the period.
    quotas: dict[str, float] = attrs.field(factory=dict)
    #: Cells that could not be read: row, deal_id, deal_name, owner, field, column, value, expected.
    invalid_values: pl.DataFrame | None = None
    #: Earlier audits' figures, when a history store provides them (optional input; reports render what is there).
    history_figures: HistoryFigures | None = None
    #: The ``--owner``/``--team``/``--manager`` filters the report was narrowed by, as the user gave them.
    scope: tuple[str, ...] = ()
    #: What :meth:`groups` is computed from (None: an audit that kept no deal table).
    grouping: Grouping | None = None
    #: The currency every amount is in (None: not known); see ``[currency]``.
    currency: str | None = None
    #: Per rule code, not-evaluable deals per missing field (for rules that name their fields).
    not_evaluable_by_field: dict[str, dict[str, int]] = attrs.field(factory=dict)
    #: ``hygiene audit --forecast``: the forecast document (``hygiene/schemas/forecast.schema.json``), else None.
    forecast: dict[str, Any] | None = None
    _figures: ReportFigures | None = attrs.field(default=None, init=False, repr=False, eq=False)
    #: Figures derived from ``findings`` (and the tables beside it), kept with the tables they were derived from:
    #: the summary, the gates and the reporters each ask for the score, the deals' health and the groups, and a
    #: report given a new table recomputes them.
    _derived: dict[str, tuple[tuple[Any, ...], Any]] = attrs.field(factory=dict, init=False, repr=False, eq=False)

    def _inputs(self, name: str) -> tuple[Any, ...]:
        """The tables the derived figure ``name`` is computed from: when one is replaced, the figure is stale."""
        extra = {
            "score": (self.open_deal_owners,),
            "at_risk": (self.pipeline,),
            "health": (self.pipeline, self.open_deal_owners, self.rules),
            "deal_health": (self.pipeline, self.open_deal_owners, self.rules),
            "per_deal": (self.rules,),
            "groups": (self.grouping,),
        }
        return (self.findings, *extra.get(name, ()))

    def _is_kept(self, name: str) -> bool:
        kept = self._derived.get(name)
        return kept is not None and len(kept[0]) == len(inputs := self._inputs(name)) and all(a is b for a, b in zip(kept[0], inputs, strict=True))

    def _from_findings(self, name: str, compute):
        if not self._is_kept(name):
            self._derived[name] = (self._inputs(name), compute())
        return self._derived[name][1]

    def _compute_together(self, *names: str) -> None:
        """Compute the derived figures ``names`` not yet kept, their polars plans collected in one parallel pass.

        Each figure is a list of lazy frames and a function that turns the
        collected frames into the figure (see :meth:`_figure_plans`), so that
        the JSON header's counts, score, amount at risk, health and groups
        cost one ``collect_all`` over the narrow columns they read.
        """
        wanted = [name for name in names if not self._is_kept(name)]
        if not wanted:
            return
        parts = [(name, *self._figure_plans(name)) for name in wanted]
        collected = pl.collect_all([plan for _, plans, _ in parts for plan in plans])
        offset = 0
        for name, plans, finish in parts:
            self._derived[name] = (self._inputs(name), finish(collected[offset : offset + len(plans)]))
            offset += len(plans)

    def _kept(self, name: str) -> Any:
        self._compute_together(name)
        return self._derived[name][1]

    def _figure_plans(self, name: str):
        """The lazy frames of a derived figure and what makes the figure of them once collected."""
        if name == "counts":
            findings = self.findings.lazy()
            return [findings.group_by(column).len().sort(column) for column in ("severity", "code")], self._counts_from
        if name == "score":
            return self._score_plans(), self._score_from
        if name == "at_risk":
            return at_risk_plans(self.pipeline, self._flagged_ids()), self._amount_at_risk_entry
        if name == "health":
            return self._health_plans(), self._health_from
        if name == "groups":
            if self.grouping is None:
                return [], lambda collected: {}
            return self.grouping.plans(self.findings, self._flagged_ids()), lambda collected: self.grouping.from_collected(self.findings, collected)
        raise KeyError(name)

    def figures(self) -> ReportFigures:
        """The figures human-facing reports show (amount at risk, per-owner and per-team tables, ...), computed once."""
        if self._figures is None:
            self._figures = compute_figures(self)
        return self._figures

    def groups(self) -> dict[str, list[dict[str, Any]]]:
        """Findings, hygiene score, open amount, quota and gap per owner, team, manager, region, segment.

        Level -> one row per group (``name`` null for deals with no value at
        that level); only the levels the audit has data for. See
        :mod:`hygiene.groups`. Computed once per findings table and shared
        by every reporter (each caller gets its own copy).
        """
        return copy.deepcopy(self._kept("groups"))

    def _open_deals(self) -> pl.LazyFrame:
        """``deal_id``, ``owner``, ``team`` and ``amount`` of every open deal: from the pipeline table when the report has one."""
        if self.pipeline is not None:
            return self.pipeline.lazy().filter(pl.col("open")).select(pl.col("id").alias("deal_id"), "owner", "team", "amount")
        deals = self.open_deal_owners.lazy()
        names = self.open_deal_owners.columns
        return deals.select(
            pl.col("id").alias("deal_id"),
            "owner",
            pl.col("team") if "team" in names else pl.lit(None, pl.String).alias("team"),
            pl.col("amount") if "amount" in names else pl.lit(None, pl.Float64).alias("amount"),
        )

    def _findings_per_deal(self) -> pl.DataFrame:
        """Per deal with a finding: ``deal_id``, ``findings`` (how many), ``lost`` (their weights) and ``flagged`` (an error or warning among them)."""
        weights = {rule.code: rule.weight for rule in self.rules}
        return self._from_findings(
            "per_deal",
            lambda: self.findings.lazy()
            .filter(pl.col("deal_id").is_not_null())
            .group_by("deal_id")
            .agg(
                pl.len().cast(pl.Int64).alias("findings"),
                pl.col("code").replace_strict(weights, default=0, return_dtype=pl.Int64).sum().alias("lost"),
                pl.col("severity").is_in(AT_RISK_SEVERITIES).any().alias("flagged"),
            )
            .collect(),
        )

    def _health_table(self) -> pl.LazyFrame:
        """Every open deal with its findings count and health score (see :meth:`deal_health`), in no particular order."""
        per_deal = self._findings_per_deal().lazy().select("deal_id", "findings", "lost")
        return (
            self._open_deals()
            .join(per_deal, on="deal_id", how="left")
            .select(
                "deal_id",
                "owner",
                "team",
                "amount",
                pl.col("findings").fill_null(0),
                (100 - pl.col("lost").fill_null(0)).clip(lower_bound=0).cast(pl.Int64).alias("health"),
            )
        )

    def deal_health(self) -> pl.DataFrame:
        """Every open deal's health score: 100 minus the weights of its findings, floored at 0.

        One row per open deal, in deal id order, with the columns
        ``deal_id``, ``owner``, ``team``, ``amount``, ``findings`` (how many
        findings the deal has) and ``health`` (an integer from 0 to 100). A
        finding weighs what its rule's ``weight`` says (see ``rules``); every
        finding counts, known to a baseline or not; waived ones are gone.
        """
        return self._from_findings("deal_health", lambda: self._health_table().sort("deal_id").collect())

    def unhealthy_deals(self) -> pl.DataFrame:
        """The rows of :meth:`deal_health` below 100 (the JSON report's ``deal_health``), without sorting every open deal."""
        if self._is_kept("deal_health"):
            return self.deal_health().filter(pl.col("health") < 100)
        return self._kept("health")[1]

    def _health_plans(self) -> list[pl.LazyFrame]:
        health = self._health_table().cache()
        average = pl.col("health").mean().round(1)
        return [
            health.select(average.alias("average"), (pl.col("health") < 100).sum().alias("below"), pl.len().alias("deals")),
            health.filter(pl.col("owner").is_not_null()).group_by("owner").agg(average.alias("average")).sort("owner"),
            health.filter(pl.col("health") < 100).sort("deal_id"),
        ]

    @staticmethod
    def _health_from(collected: list[pl.DataFrame]) -> tuple[dict[str, Any], pl.DataFrame]:
        overall, by_owner, unhealthy = collected
        row = overall.row(0, named=True)
        summary = {
            "average": row["average"] if row["deals"] else None,
            "by_owner": {owner: float(value) for owner, value in by_owner.iter_rows()},
            "deals_below_100": int(row["below"]),
        }
        return summary, unhealthy

    def health_summary(self) -> dict[str, Any]:
        """The health scores in brief: the average over open deals (None without any), per owner, and how many are below 100."""
        return copy.deepcopy(self._kept("health")[0])

    def _flagged_ids(self) -> pl.Series:
        """The ids of the deals with an error or warning finding (each once): what puts an open deal at risk."""
        return self._findings_per_deal().filter(pl.col("flagged")).get_column("deal_id")

    @staticmethod
    def _amount_at_risk_entry(collected: list[pl.DataFrame]) -> dict[str, Any]:
        """The summary's ``amount_at_risk``: :meth:`figures`' amount at risk, overall and per owner and team.

        ``overall`` is ``figures().amount_at_risk`` (null, with its
        ``reason``, when it cannot be computed); ``deals`` counts the open
        deals at risk, ``deals_without_amount`` those among them whose amount
        is unknown (not in the sums: a missing amount is not zero);
        ``by_owner`` and ``by_team`` hold the groups with a deal at risk.
        Computed from the narrow columns it needs (see
        :func:`hygiene.api.figures.at_risk_plans`), not from every figure.
        """
        risk = amount_at_risk(collected)
        value = risk.amount.value
        return {
            "overall": None if value is None else _number(value),
            **({"reason": risk.amount.reason} if value is None else {}),
            "deals": risk.deals_at_risk,
            "deals_without_amount": risk.at_risk_without_amount,
            "by_owner": {key: _number(amount) for key, amount in risk.by_owner.items()},
            "by_team": {key: _number(amount) for key, amount in risk.by_team.items()},
        }

    def score(self) -> dict[str, Any]:
        """The hygiene score: the share of open deals with no error or warning finding.

        ``overall`` is a fraction from 0 to 1 (None when there is no open
        deal), rounded to four decimals; ``by_owner`` gives the same per
        owner of open deals (deals without an owner are counted overall only).
        """
        return copy.deepcopy(self._kept("score"))

    def _score_plans(self) -> list[pl.LazyFrame]:
        deals = self.open_deal_owners.lazy().select("owner", pl.col("id").is_in(self._flagged_ids().implode()).alias("flagged"))
        clean = (~pl.col("flagged")).sum() / pl.len()
        return [
            deals.select(clean.alias("score"), pl.len().alias("deals")),
            deals.filter(pl.col("owner").is_not_null()).group_by("owner").agg(clean.alias("score")).sort("owner"),
        ]

    @staticmethod
    def _score_from(collected: list[pl.DataFrame]) -> dict[str, Any]:
        overall, by_owner = collected
        row = overall.row(0, named=True)
        return {
            "overall": round(float(row["score"]), 4) if row["deals"] else None,
            "by_owner": {owner: round(float(value), 4) for owner, value in by_owner.iter_rows()},
        }

    def iter_findings(self) -> Iterator[Finding]:
        for row in self.findings.iter_rows(named=True):
            yield Finding(
                code=row["code"],
                rule=row["rule"],
                severity=row["severity"],
                deal_id=row["deal_id"],
                deal_name=row["deal_name"],
                owner=row["owner"],
                message=row["message"],
                details=json.loads(row["details"]),
                row=row["row"],
                fingerprint=row["fingerprint"],
                baseline_status=row["baseline_status"],
            )

    def count_by(self, column: str) -> dict[str, int]:
        return self._counts(self.findings.group_by(column).len().sort(column))

    @staticmethod
    def _counts(counts: pl.DataFrame) -> dict[str, int]:
        return {key: int(n) for key, n in counts.iter_rows() if key is not None}

    @classmethod
    def _counts_from(cls, collected: list[pl.DataFrame]) -> tuple[dict[str, int], dict[str, int]]:
        by_severity = {severity: 0 for severity in SEVERITIES}
        by_severity.update(cls._counts(collected[0]))
        return by_severity, cls._counts(collected[1])

    def summary(self) -> dict[str, Any]:
        """The JSON report's ``summary``: counts, the score, the deals' health and the amount at risk.

        The counts, the score, the health and the amount at risk are read
        from the narrow columns they need, collected in one parallel pass.
        """
        self._compute_together("counts", "score", "health", "at_risk")
        by_severity, by_rule = self._kept("counts")
        return {
            "deals": self.deals,
            "open_deals": self.open_deals,
            "findings": self.findings.height,
            "by_severity": dict(by_severity),
            "by_rule": dict(by_rule),
            "not_evaluable": dict(self.not_evaluable),
            **({"not_evaluable_reasons": {code: dict(r) for code, r in self.not_evaluable_reasons.items()}} if self.not_evaluable_reasons else {}),
            "not_evaluable_by_field": {code: dict(fields) for code, fields in self.not_evaluable_by_field.items()},
            "score": self.score(),
            "health": self.health_summary(),
            "amount_at_risk": copy.deepcopy(self._kept("at_risk")),
        }

    def counted_findings(self, fail_on: str) -> int:
        """Findings at or above ``fail_on`` (``never`` counts none) that the baseline does not know."""
        counted = pl.col("severity").is_in(severities_at_or_above(fail_on)) & (pl.col("baseline_status").fill_null("new") != "known")
        return int(self.findings.select(counted.sum()).item())

    def baseline_summary(self) -> dict[str, Any] | None:
        """New, known and fixed findings against the baseline (None without one), as the JSON report writes it."""
        if self.baseline_file is None:
            return None
        known = int(self.findings.select((pl.col("baseline_status") == "known").sum()).item())
        return {
            "file": self.baseline_file,
            "new": self.findings.height - known,
            "known": known,
            "fixed": sum(entry["count"] for entry in self.fixed),
            "fixed_entries": [dict(entry) for entry in self.fixed],
            "obsolete": sum(entry["count"] for entry in self.obsolete),
            "obsolete_entries": [dict(entry) for entry in self.obsolete],
            "unadopted_rules": list(self.unadopted_rules),
        }

    def scope_entries(self) -> list[dict[str, str]]:
        """:attr:`scope` as the JSON report writes it: one ``{"by": "owner", "pattern": "Ada*"}`` per pattern."""
        entries = []
        for entry in self.scope:
            by, _, pattern = entry.partition(" ")
            entries.append({"by": by, "pattern": pattern})
        return entries

    def header(self) -> dict[str, Any]:
        """The report's metadata, as the JSON report writes it (its figures collected in one parallel pass)."""
        self._compute_together("counts", "score", "health", "at_risk", "groups")
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "tool": {"name": "hygiene", "version": self.tool_version},
            "as_of": self.as_of.isoformat(),
            "period": self.period.to_dict(),
            "source": self.source,
            "scope": self.scope_entries(),
            "summary": self.summary(),
            "baseline": self.baseline_summary(),
            "waived": self.waived,
            "counters": {rule.code: list(rule.counter_details) for rule in sorted(self.rules, key=lambda r: r.code) if rule.counter_details},
            "currency": self.currency,
            "groups": self.groups(),
            **({"history": self.history} if self.history is not None else {}),
            **({"forecast": self.forecast} if self.forecast is not None else {}),
        }
