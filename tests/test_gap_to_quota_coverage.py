"""gap-to-quota's trailing win-rate basis and clean-pipeline coverage; the default stays as it was."""

from __future__ import annotations

import pytest

from hygiene import ConfigError
from hygiene.testing import run_rules

AS_OF = "2026-02-15"  # 2026-Q1; the 4-quarter window starts on 2025-02-16
WIN_RATE = {"gap-to-quota": {"coverage_basis": "win_rate"}}


def history(n=10, won=4, amount=1000, close="2025-12-01"):
    """``n`` closed deals of Ada's, ``won`` of them won: a 40% win rate by amount, so 2.5x coverage is needed."""
    return [{"id": f"H{i}", "owner": "Ada", "stage": "Closed Won" if i < won else "Closed Lost", "amount": amount, "close_date": close} for i in range(n)]


def open_deals(total, close="2026-03-20", **extra):
    return [{"id": "O1", "owner": "Ada", "stage": "Proposal", "amount": total, "close_date": close, **extra}]


def coverage_findings(deals, options=WIN_RATE, quota=10000):
    return run_rules(deals, rules=["gap-to-quota"], options=options, as_of=AS_OF, quotas={"Ada": quota})


def test_coverage_at_the_required_level_is_not_flagged_and_just_below_it_is():
    assert coverage_findings(history() + open_deals(25000)) == []
    (finding,) = coverage_findings(history() + open_deals(24999))
    assert finding.owner == "Ada"
    assert finding.details["required_coverage"] == 2.5
    assert finding.details["win_rate"] == 0.4
    assert finding.details["coverage"] == 2.5  # 2.4999x, shown to two decimals; the test is on the exact ratio
    assert finding.message == "coverage 2.50x of the 2.50x needed at a 40.0% trailing win rate: open 24,999 for the 10,000 left of 2026-Q1 quota 10,000"


def test_fewer_than_min_deals_closed_falls_back_to_3x():
    (finding,) = coverage_findings(history(n=9, won=4) + open_deals(29000))
    assert finding.details["required_coverage"] == 3.0 and finding.details["win_rate"] is None
    assert "the 3x rule (fewer than 10 closed deals, or none won, in 4 quarters)" in finding.message
    assert coverage_findings(history(n=9, won=4) + open_deals(30000)) == []


def test_deals_closed_before_the_window_do_not_count():
    # Closed on 2025-02-15, the day before the window: Ada has no history, so 3x.
    (finding,) = coverage_findings(history(close="2025-02-15") + open_deals(29000))
    assert finding.details["closed_deals"] == 0 and finding.details["required_coverage"] == 3.0
    (finding,) = coverage_findings(history(close="2025-02-16") + open_deals(24000))
    assert finding.details["closed_deals"] == 10


def test_clean_pipeline_leaves_out_past_due_and_unreadable_deals():
    deals = history() + open_deals(25000) + [{"id": "P", "owner": "Ada", "stage": "Proposal", "amount": 50000, "close_date": "2026-01-10"}]
    assert coverage_findings(deals) == []
    options = {"gap-to-quota": {"coverage_basis": "win_rate", "clean_pipeline": True}}
    assert coverage_findings(deals, options) == []  # the 25,000 clean deal alone covers 2.5x
    deals[-2]["close_date"] = "2026-02-01"  # now past due too
    (finding,) = coverage_findings(deals, options)
    assert finding.details["open_amount"] == 0.0 and finding.details["clean_pipeline"] is True
    unreadable = history() + open_deals(25000, contacts="many")
    (finding,) = coverage_findings(unreadable, options)
    assert finding.details["open_amount"] == 0.0


def test_clean_pipeline_with_the_default_basis_weighs_only_clean_deals():
    deals = [{"id": "P", "owner": "Ada", "stage": "Negotiation", "amount": 20000, "close_date": "2026-02-01"}]
    assert run_rules(deals, rules=["gap-to-quota"], as_of=AS_OF, quotas={"Ada": 10000}) == []
    (finding,) = run_rules(deals, rules=["gap-to-quota"], options={"gap-to-quota": {"clean_pipeline": True}}, as_of=AS_OF, quotas={"Ada": 10000})
    assert finding.details["weighted"] == 0.0


def test_the_default_basis_is_unchanged():
    # 25,000 at Proposal (60%) is 15,000 weighted: the probability basis does not flag it, whatever the win rate.
    assert run_rules(history(won=0) + open_deals(25000), rules=["gap-to-quota"], as_of=AS_OF, quotas={"Ada": 10000}) == []


def test_a_bad_window_is_a_config_error():
    with pytest.raises(ConfigError, match="window"):
        coverage_findings(history(), {"gap-to-quota": {"coverage_basis": "win_rate", "window": "last year"}})
