"""``report.figures()`` puts each finding on its deal by the deal's position, and falls back to joins when an id repeats.

The positions and the joins must give the same figures, the same tables in
the same order, exactly: the HTML report's bytes depend on them.
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import hygiene.api.figures as figures_module
from hygiene.testing import audit_deals

from test_html_report import AS_OF, DEALS, deal

TABLES = ("deals", "deal_findings", "owners", "teams", "managers", "regions", "stages", "rules", "findings_by_stage", "data_quality")
FIGURES = ("open_deals", "open_amount", "amount_at_risk", "deals_at_risk", "score", "quota", "won", "weighted", "gap", "coverage", "win_rate", "not_evaluable")


def _by_joins(report, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(figures_module, "_deal_positions", lambda findings, pipeline: None)
        return figures_module.compute_figures(report)


def _assert_same(one, other):
    for name in TABLES:
        assert_frame_equal(getattr(one, name), getattr(other, name), check_exact=True)
    for name in FIGURES:
        assert getattr(one, name) == getattr(other, name), name


@pytest.mark.parametrize("deals", [DEALS, [*DEALS, deal("D9", "Dee", stage="Negotiation", close_date="2026-01-10", amount=None)]], ids=["sample", "deal-without-amount"])
def test_positions_give_the_figures_the_joins_give(deals, monkeypatch):
    report = audit_deals(deals, rules=["HY001", "HY002", "HY003", "HY004", "HY040"], quotas={"Ada": 20000, "Bob": 5000}, as_of=AS_OF)
    assert figures_module._deal_positions(report.findings, report.pipeline) is not None
    by_positions = figures_module.compute_figures(report)
    assert by_positions.deal_findings.height == report.findings.height
    assert by_positions.deals.filter(pl.col("id") == "D1").get_column("findings").item() >= 1
    _assert_same(by_positions, _by_joins(report, monkeypatch))


def test_a_repeated_id_falls_back_to_the_joins(monkeypatch):
    """An audit keeps one deal per id; a report built by hand may repeat one: each of its findings then counts on both deals, as the joins count it."""
    import attrs

    audited = audit_deals(DEALS, rules=["HY001", "HY002", "HY003", "HY004"], as_of=AS_OF)
    assert audited.pipeline.get_column("id").is_unique().all()
    repeated = audited.pipeline.filter(pl.col("id") == "D1").with_columns(pl.lit("Bob").alias("owner"), pl.col("row") + 100)
    report = attrs.evolve(audited, pipeline=pl.concat([audited.pipeline, repeated]))
    assert figures_module._deal_positions(report.findings, report.pipeline) is None
    figures = figures_module.compute_figures(report)
    counts = figures.deals.filter(pl.col("id") == "D1").get_column("findings").to_list()
    assert len(counts) == 2 and counts[0] == counts[1] >= audited.findings.filter(pl.col("deal_id") == "D1").height > 0
    _assert_same(figures, _by_joins(report, monkeypatch))
