"""Audit runs in the store: recording one, and each finding's status against the previous run.

A finding is ``new`` when the previous recorded run (the newest with an
earlier ``as_of``) did not have its fingerprint, else ``persisting``, with
``runs``: how many runs in a row, this one included, have had it. A
previous finding that is gone is *resolved*: ``closed`` when its deal has
closed or left the export, ``cleared`` when the deal is still open (or, for
an owner-level finding, the owner's figures improved): someone fixed it.

Comparing with the previous *earlier* run, never with a run of the same
date, keeps a re-run of the same audit byte-identical.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import polars as pl

from hygiene.history.store import AuditRun, HistoryStore

STATUS_SCHEMA = {"fingerprint": pl.String, "status": pl.String, "runs": pl.Int64}
RESOLVED_KEYS = ("fingerprint", "code", "deal_id", "owner")


@attrs.define(frozen=True, kw_only=True)
class PipelineFigures:
    """What the audited open pipeline is worth, and how much of it carries an error or warning (each deal once)."""

    open_pipeline: float
    amount_at_risk: float


@attrs.define(kw_only=True)
class RunComparison:
    previous: AuditRun | None
    #: ``fingerprint``, ``status`` (``new`` / ``persisting``), ``runs`` for every current finding.
    statuses: pl.DataFrame
    closed: list[dict[str, Any]]
    cleared: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        counts = dict(self.statuses.group_by("status").len().iter_rows())
        persisting = self.statuses.filter(pl.col("status") == "persisting").sort("fingerprint")
        return {
            "previous_run": None if self.previous is None else self.previous.to_dict(),
            "finding_status": {"new": int(counts.get("new", 0)), "persisting": int(counts.get("persisting", 0))},
            "persisting": [{"fingerprint": f, "runs": int(n)} for f, n in persisting.select("fingerprint", "runs").iter_rows()],
            "resolved": {"closed": self.closed, "cleared": self.cleared},
        }


def compare_with_previous_run(store: HistoryStore, as_of: dt.date, findings: pl.DataFrame, open_ids: pl.Series, present_ids: pl.Series) -> RunComparison:
    """Statuses of ``findings`` against the newest run recorded before ``as_of``.

    ``open_ids``: deals open in this audit; ``present_ids``: every deal in it.
    """
    runs = store.audit_runs(before=as_of)
    previous = runs[-1] if runs else None
    current = findings.filter(pl.col("fingerprint").is_not_null()).select("fingerprint").unique(maintain_order=True)
    if previous is None:
        statuses = current.with_columns(pl.lit("new").alias("status"), pl.lit(1, pl.Int64).alias("runs"))
        return RunComparison(previous=None, statuses=statuses.cast(STATUS_SCHEMA), closed=[], cleared=[])
    before = store.run_findings(previous.as_of)
    statuses = current.join(before.select("fingerprint", "runs"), on="fingerprint", how="left").select(
        "fingerprint",
        pl.when(pl.col("runs").is_null()).then(pl.lit("new")).otherwise(pl.lit("persisting")).alias("status"),
        (pl.col("runs").fill_null(0) + 1).cast(pl.Int64).alias("runs"),
    )
    resolved = before.join(current, on="fingerprint", how="anti").sort("code", "deal_id", "owner", "fingerprint", nulls_last=True)
    is_closed = pl.col("deal_id").is_not_null() & (~pl.col("deal_id").is_in(open_ids.implode()) | ~pl.col("deal_id").is_in(present_ids.implode()))
    closed = resolved.filter(is_closed).select(RESOLVED_KEYS).to_dicts()
    cleared = resolved.filter(~is_closed).select(RESOLVED_KEYS).to_dicts()
    return RunComparison(previous=previous, statuses=statuses, closed=closed, cleared=cleared)


def audit_run(report, figures: PipelineFigures, recorded_at: str) -> AuditRun:
    """The figures of an :class:`~hygiene.api.AuditReport` as the store records them."""
    findings = report.findings
    by_rule_owner: dict[str, dict[str, int]] = {}
    for code, owner, n in findings.group_by("code", "owner").len().sort("code", "owner", nulls_last=True).iter_rows():
        by_rule_owner.setdefault(code, {})[owner if owner is not None else ""] = int(n)
    counts = {"by_rule": report.count_by("code"), "by_owner": report.count_by("owner"), "by_rule_and_owner": by_rule_owner}
    return AuditRun(
        as_of=report.as_of,
        recorded_at=recorded_at,
        source=report.source,
        hygiene_version=report.tool_version,
        deals=report.deals,
        open_deals=report.open_deals,
        findings=findings.height,
        score=report.score()["overall"],
        open_pipeline=figures.open_pipeline,
        amount_at_risk=figures.amount_at_risk,
        counts=counts,
    )


def record_run(store: HistoryStore, report, figures: PipelineFigures, statuses: pl.DataFrame, recorded_at: str) -> None:
    """Record the audit in the store (replacing a run of the same ``as_of``), with each finding's run count."""
    findings = report.findings.filter(pl.col("fingerprint").is_not_null()).join(statuses.select("fingerprint", "runs"), on="fingerprint", how="left")
    findings = findings.with_columns(pl.col("runs").fill_null(1))
    store.record_audit_run(audit_run(report, figures, recorded_at), findings)
