"""What the rules say about a deal, and what they cannot judge: what rule cases do not show."""

from hygiene.testing import audit_deals, run_rules

AS_OF = "2026-03-31"


def test_an_unapproved_discount_names_the_discount_and_the_limit():
    deal = {"id": "D1", "name": "Acme renewal", "stage": "Proposal", "discount": "25"}

    [finding] = run_rules([deal], rules=["EX001"], as_of=AS_OF)

    assert (finding.deal_id, finding.severity) == ("D1", "warning")
    assert finding.message == "25.0% discount without approval (limit 20%)"
    assert finding.details == {"discount": 25.0, "max_discount": 20}


def test_open_deals_with_an_unreadable_discount_are_not_evaluable():
    deals = [
        {"id": "D1", "stage": "Proposal", "discount": "lots"},
        {"id": "D2", "stage": "Proposal", "discount": ""},
        {"id": "D3", "stage": "Closed Lost", "discount": "lots"},
    ]

    report = audit_deals(deals, rules=["EX001"], as_of=AS_OF)

    assert report.summary()["not_evaluable"] == {"EX001": 1}


def test_without_a_discount_column_no_open_deal_can_be_evaluated():
    deals = [{"id": "D1", "stage": "Proposal"}, {"id": "D2", "stage": "Closed Won"}]

    assert audit_deals(deals, rules=["EX001"], as_of=AS_OF).summary()["not_evaluable"] == {"EX001": 1}


def test_a_commit_deal_missing_both_says_so_in_one_finding():
    deal = {"id": "D1", "stage": "Negotiation", "forecast_category": "commit"}

    [finding] = run_rules([deal], rules=["commit-without-champion"], as_of=AS_OF)

    assert finding.message == "commit deal has no champion and no next step"
