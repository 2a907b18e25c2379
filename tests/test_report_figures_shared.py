"""The report's derived figures (score, health, groups) are computed once and shared, and never outlive their tables."""

from __future__ import annotations

import polars as pl

from hygiene.testing import audit_deals

AS_OF = "2026-03-31"


def _report():
    return audit_deals(
        [
            {"id": "D1", "owner": "Ada", "stage": "Proposal", "amount": "1000"},  # no close date: a finding
            {"id": "D2", "owner": "Ada", "stage": "Proposal", "amount": "2000", "close_date": "2026-06-30"},
            {"id": "D3", "owner": "Bob", "stage": "Proposal", "amount": "3000"},
            {"id": "D4", "owner": "Bob", "stage": "Closed Won", "amount": "4000", "close_date": "2026-01-15"},
        ],
        rules=["missing-close-date"],
        as_of=AS_OF,
    )


def test_health_summary_and_the_deals_below_100_agree_with_the_health_table():
    report = _report()

    unhealthy = report.unhealthy_deals()
    table = report.deal_health()

    assert unhealthy.to_dicts() == table.filter(pl.col("health") < 100).to_dicts()
    assert unhealthy.get_column("deal_id").to_list() == ["D1", "D3"]
    summary = report.health_summary()
    assert summary["deals_below_100"] == 2
    assert summary["average"] == round(table.get_column("health").mean(), 1)
    assert summary["by_owner"] == {
        owner: round(value, 1) for owner, value in table.group_by("owner").agg(pl.col("health").mean()).sort("owner").iter_rows()
    }


def test_figures_are_recomputed_when_the_findings_are_replaced():
    report = _report()
    before = (report.score()["overall"], report.health_summary()["deals_below_100"], report.groups()["owner"][0]["findings"])

    report.findings = report.findings.filter(pl.col("deal_id") != "D1")

    assert before == (round(1 / 3, 4), 2, 1)
    assert report.score()["overall"] == round(2 / 3, 4)
    assert report.health_summary()["deals_below_100"] == 1
    assert report.unhealthy_deals().get_column("deal_id").to_list() == ["D3"]
    assert report.groups()["owner"][0] == {**report.groups()["owner"][0], "name": "Ada", "findings": 0}
    assert report.header()["summary"]["findings"] == 1


def test_a_caller_changing_the_groups_it_got_does_not_change_the_next_callers():
    report = _report()

    report.groups()["owner"][0]["findings"] = 99

    assert report.groups()["owner"][0]["findings"] == 1
