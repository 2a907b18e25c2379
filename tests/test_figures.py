"""The figures human-facing reports share: amount at risk, per-owner and per-team tables, data quality."""

from __future__ import annotations

import pytest

from hygiene.testing import audit_deals

AS_OF = "2026-03-31"


def deal(id, owner="Ada", **fields):
    return {"id": id, "owner": owner, "stage": "Proposal", "amount": 1000, "close_date": "2026-03-15", "stage_entered_date": "2026-03-20", **fields}


def test_amount_at_risk_counts_a_deal_once_however_many_rules_flag_it():
    # D1 is both stale and past due: its 1,000 counts once. D2 is clean. D3 is closed.
    deals = [
        deal("D1", stage_entered_date="2025-01-01"),
        deal("D2", close_date="2026-04-30", amount=5000),
        deal("D3", stage="Closed Won", close_date="2025-01-01", amount=7000),
    ]
    figures = audit_deals(deals, rules=["HY001", "HY003"], as_of=AS_OF).figures()
    assert figures.amount_at_risk.value == 1000
    assert figures.deals_at_risk == 1
    assert figures.open_amount.value == 6000
    by_rule = {row["code"]: row["amount_at_risk"] for row in figures.rules.iter_rows(named=True)}
    assert by_rule == {"HY001": 1000, "HY003": 1000}


def test_info_findings_do_not_put_a_deal_at_risk():
    report = audit_deals([deal("D1", close_date="2026-03-01")], rules=["HY003"], options={"HY003": {"severity": "info"}}, as_of=AS_OF)
    figures = report.figures()
    assert figures.amount_at_risk.value == 0
    assert figures.score.value == 1.0


def test_deals_at_risk_without_amounts_make_the_amount_at_risk_not_evaluable_not_zero():
    figures = audit_deals([deal("D1", amount=None, close_date="2026-03-01")], rules=["HY003"], as_of=AS_OF).figures()
    assert figures.amount_at_risk.value is None
    assert figures.amount_at_risk.reason == "no deal at risk has an amount"
    assert figures.open_amount.reason == "no open deal has an amount"


def test_coverage_without_amounts_is_not_evaluable_with_its_reason():
    # Ada has a quota; her only open deal closing this quarter has no amount.
    figures = audit_deals([deal("D1", amount=None)], rules=["HY004"], quotas={"Ada": 10000}, as_of=AS_OF).figures()
    assert figures.coverage.value is None
    assert figures.coverage.reason == "no open deal closing in the period has an amount"
    ada = figures.owners.row(0, named=True)
    assert ada["coverage"] is None and ada["coverage_reason"] == "no open deal closing in the period has an amount"


@pytest.mark.parametrize(("won", "expected"), [(5000, 1.0), (5001, 1.0)])
def test_coverage_is_open_amount_in_period_over_what_is_left_to_win(won, expected):
    # Quota 10,000: with 5,000 won and 5,000 open, coverage is 1.0; 5,001 won leaves 4,999 to win (1.0002, shown 1.0).
    deals = [deal("D1", amount=5000), deal("W1", stage="Closed Won", amount=won)]
    figures = audit_deals(deals, rules=["HY004"], quotas={"Ada": 10000}, as_of=AS_OF).figures()
    assert figures.coverage.value == expected
    assert figures.quota.value == 10000 and figures.won.value == won


def test_coverage_of_a_quota_already_won_is_not_evaluable():
    deals = [deal("D1"), deal("W1", stage="Closed Won", amount=10000)]
    figures = audit_deals(deals, rules=["HY004"], quotas={"Ada": 10000}, as_of=AS_OF).figures()
    assert figures.coverage.reason == "quota already won"


def test_win_rate_without_closed_deals_is_not_evaluable():
    figures = audit_deals([deal("D1")], rules=["HY003"], as_of=AS_OF).figures()
    assert figures.win_rate.value is None and figures.win_rate.reason == "no closed deal"


def test_owner_table_is_sorted_worst_score_first_and_includes_owner_level_findings():
    deals = [deal("A1", "Ada"), deal("B1", "Bob", close_date="2026-03-01"), deal("B2", "Bob", close_date="2026-05-01"), deal("C1", "Cy", close_date="2026-05-01")]
    figures = audit_deals(deals, rules=["HY003", "HY004"], quotas={"Cy": 100000}, as_of=AS_OF).figures()
    rows = figures.owners.select("owner", "score", "findings").rows()
    # Ada: 1 open deal, at risk (score 0). Bob: 1 of 2 at risk (0.5). Cy: clean deals, one gap-to-quota finding.
    assert rows == [("Ada", 0.0, 1), ("Bob", 0.5, 1), ("Cy", 1.0, 1)]


def test_team_table_exists_only_when_deals_have_teams():
    without = audit_deals([deal("D1")], rules=["HY003"], as_of=AS_OF).figures()
    assert without.groups() == {}
    with_teams = audit_deals([deal("D1", team="EMEA"), deal("D2", "Bob", team="EMEA", close_date="2026-05-01")], rules=["HY003"], as_of=AS_OF).figures()
    team = with_teams.teams.row(0, named=True)
    assert (team["team"], team["open_deals"], team["deals_at_risk"], team["owners"], team["score"]) == ("EMEA", 2, 1, 2, 0.5)


def test_data_quality_counts_missing_and_unreadable_values_of_open_deals_separately():
    deals = [deal("D1", amount="lots"), deal("D2", amount=None), deal("D3"), deal("D4", stage="Closed Won", amount=None)]
    report = audit_deals(deals, rules=["HY003"], as_of=AS_OF)
    amount = report.figures().data_quality.filter(field="amount").row(0, named=True)
    assert (amount["open_deals"], amount["missing"], amount["unreadable"], amount["share_lacking"]) == (3, 1, 1, 0.6667)


def test_not_evaluable_deals_come_with_the_rules_reason():
    figures = audit_deals([deal("D1", stage_entered_date=None)], rules=["HY001"], as_of=AS_OF).figures()
    assert figures.not_evaluable == [{"code": "HY001", "name": "stale-stage", "deals": 1, "reason": "no stage_entered_date in the export, and no history to derive it from"}]


@pytest.mark.parametrize(
    "deals, options",
    [
        # One deal flagged twice, a clean one, a closed one; two owners in two teams.
        ([deal("D1", stage_entered_date="2025-01-01", team="East"), deal("D2", owner="Bo", close_date="2026-04-30", amount=5000, team="West"),
          deal("D3", stage="Closed Won", close_date="2025-01-01", amount=7000)], {}),
        # Only info findings: nothing at risk, the figure is 0.
        ([deal("D1", close_date="2026-03-01")], {"HY003": {"severity": "info"}}),
        # At risk, without an amount: not evaluable, with its reason.
        ([deal("D1", amount=None, close_date="2026-03-01"), deal("D2", owner=None, close_date="2026-03-01", amount=250.125)], {}),
        # No open deal at all.
        ([deal("D3", stage="Closed Won", close_date="2025-01-01", amount=7000)], {}),
    ],
)
def test_the_json_summary_amount_at_risk_is_the_figures_amount_at_risk(deals, options):
    # The summary reads only the columns it needs; it must still say what every human report says.
    report = audit_deals(deals, rules=["HY001", "HY003"], options=options, as_of=AS_OF)
    summary = report.summary()["amount_at_risk"]
    figures = report.figures()
    risk = figures.amount_at_risk
    assert summary.get("overall") == (None if risk.value is None else round(risk.value, 2))
    assert summary.get("reason") == risk.reason
    assert summary["deals"] == figures.deals_at_risk
    assert summary["deals_without_amount"] == figures.at_risk_without_amount
    for column, table in (("owner", figures.owners), ("team", figures.teams)):
        expected = {row[column]: round(row["amount_at_risk"], 2) for row in table.iter_rows(named=True) if row[column] is not None and row["deals_at_risk"]}
        assert summary[f"by_{column}"] == expected
    if any(d.get("team") for d in deals):
        assert summary["by_team"] == {"East": 1000}
    assert report.summary()["amount_at_risk"] == summary  # the second summary, with the score already kept, agrees
