"""The rule catalogue around the rules: groups, weights, the deal health score, the amount at risk,
per-field not-evaluable counts, per-finding severity and the stage table's new settings."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hygiene import Stage, StageTable
from hygiene.testing import audit_deals, run_rules
from hygiene_rules.vague_next_step import literal_pattern

AS_OF = "2026-03-31"


def codes(findings) -> list[str]:
    return sorted({f.code for f in findings})


# --- Groups ---------------------------------------------------------------------------------


def test_select_takes_a_group_name_next_to_codes(hygiene_config, make_deals, hygiene_cli):
    make_deals([{"id": "D1", "stage": "Proposal", "stage_entered_date": "2026-01-01", "probability": 95, "forecast_category": "Commit"}])
    hygiene_config({"source": {"path": "deals.csv"}, "select": ["forecast", "HY001"]})

    report = json.loads(hygiene_cli("audit", "--as-of", AS_OF, "--format", "json").stdout)

    # forecast: HY002 (no close date) and HY031 (95% against Proposal's 60%); HY030 is silent: Proposal is
    # late enough for commit, and without a next_step field the next step is not judged.
    assert sorted(report["summary"]["by_rule"]) == ["HY001", "HY002", "HY031"]
    assert set(report["summary"]["not_evaluable"]) <= {"HY001", "HY002", "HY003", "HY004", "HY030", "HY031", "HY032", "HY033"}


@pytest.mark.parametrize("written", ["data quality", "data-quality", "Data_Quality"])
def test_a_group_in_the_cli_ignore_removes_its_rules_however_it_is_written(make_deals, hygiene_cli, written):
    make_deals([{"id": "D1", "stage": "Proposal", "amount": 0, "name": "test deal", "close_date": "2026-06-29"}])
    everything = json.loads(hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json").stdout)

    report = json.loads(hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--ignore", written, "--format", "json").stdout)

    assert {"HY050", "HY052"} <= set(everything["summary"]["by_rule"])

    assert not {"HY050", "HY051", "HY052", "HY053", "HY054"} & set(report["summary"]["by_rule"])
    assert "HY050" not in report["summary"]["not_evaluable"]


def test_every_builtin_rule_has_a_group_and_a_weight():
    report = audit_deals([], as_of=AS_OF)
    groups = {rule.code: rule.group for rule in report.rules}

    assert {groups[c] for c in ("HY010", "HY011")} == {"activity"}
    assert {groups[c] for c in ("HY020", "HY021")} == {"next steps"}
    assert {groups[c] for c in ("HY030", "HY031", "HY032", "HY033")} == {"forecast"}
    assert groups["HY040"] == "buying team"
    assert {groups[c] for c in ("HY050", "HY051", "HY052", "HY053", "HY054")} == {"data quality"}
    assert {groups[c] for c in ("HY060", "HY061")} == {"integrity"}
    assert groups["HY070"] == "ownership"
    assert "other" not in groups.values()
    assert all(0 <= rule.weight <= 100 for rule in report.rules)


# --- Health score and amount at risk --------------------------------------------------------

#: HY002 (20) + HY050 (20) + HY031 (5) = 45 points off D1.
BROKEN = {"id": "D1", "owner": "Ana", "team": "East", "stage": "Proposal", "amount": "", "probability": 95}
#: HY003 past due (20): 80.
PAST_DUE = {"id": "D2", "owner": "Ana", "team": "East", "stage": "Proposal", "amount": 1000.5, "close_date": "2026-03-01"}
#: HY031 only (info, 5): 95, and not at risk.
INFO_ONLY = {"id": "D3", "owner": "Bo", "team": "West", "stage": "Proposal", "amount": 500, "close_date": "2026-06-29", "probability": 95}
CLEAN = {"id": "D4", "owner": "Bo", "team": "West", "stage": "Proposal", "amount": 700, "close_date": "2026-06-29"}
#: Closed: no health score, never at risk (HY060: won at 95%).
WON = {"id": "D5", "owner": "Bo", "team": "West", "stage": "Closed Won", "amount": 9000, "close_date": "2026-03-01", "probability": 95}
RULES = ["HY002", "HY003", "HY031", "HY050", "HY060"]


def test_health_is_100_minus_the_weights_of_a_deals_findings():
    report = audit_deals([BROKEN, PAST_DUE, INFO_ONLY, CLEAN, WON], rules=RULES, as_of=AS_OF)

    health = report.deal_health()
    assert dict(zip(health["deal_id"], health["health"], strict=True)) == {"D1": 55, "D2": 80, "D3": 95, "D4": 100}
    assert dict(zip(health["deal_id"], health["findings"], strict=True)) == {"D1": 3, "D2": 1, "D3": 1, "D4": 0}
    assert report.summary()["health"] == {"average": 82.5, "by_owner": {"Ana": 67.5, "Bo": 97.5}, "deals_below_100": 3}


def test_health_is_floored_at_0_and_weights_are_options():
    heavy = {rule: {"weight": 60} for rule in ("HY002", "HY050")}

    report = audit_deals([BROKEN], rules=RULES, options=heavy, as_of=AS_OF)

    assert report.deal_health()["health"].to_list() == [0]


def test_a_weight_of_0_leaves_the_health_alone():
    report = audit_deals([PAST_DUE], rules=RULES, options={"HY003": {"weight": 0}}, as_of=AS_OF)

    assert report.deal_health()["health"].to_list() == [100]


def test_amount_at_risk_counts_each_open_deal_with_an_error_or_warning_once():
    report = audit_deals([BROKEN, PAST_DUE, INFO_ONLY, CLEAN, WON], rules=RULES, as_of=AS_OF)

    # D1 (no amount: counted as a deal, not as 0) and D2 are at risk; D3 has only an info finding; D5 is closed.
    assert report.summary()["amount_at_risk"] == {
        "overall": 1000.5,
        "deals": 2,
        "deals_without_amount": 1,
        "by_owner": {"Ana": 1000.5},
        "by_team": {"East": 1000.5},
    }


def test_amount_at_risk_sums_do_not_depend_on_row_order():
    deals = [dict(PAST_DUE, id=f"P{i}", amount=0.1 + i / 3) for i in range(200)]
    forward = audit_deals(deals, rules=["HY003"], as_of=AS_OF).summary()["amount_at_risk"]
    backward = audit_deals(list(reversed(deals)), rules=["HY003"], as_of=AS_OF).summary()["amount_at_risk"]

    assert forward == backward
    assert forward["overall"] == round(sum(round(d["amount"], 4) for d in deals), 2)


def test_the_json_report_lists_deals_below_100_and_the_summary_figures(make_deals, hygiene_config, hygiene_cli):
    make_deals([BROKEN, PAST_DUE, INFO_ONLY, CLEAN, WON])
    hygiene_config({"source": {"path": "deals.csv"}, "select": RULES})

    report = json.loads(hygiene_cli("audit", "--as-of", AS_OF, "--format", "json").stdout)

    assert report["deal_health"] == [
        {"deal_id": "D1", "owner": "Ana", "team": "East", "amount": None, "findings": 3, "health": 55},
        {"deal_id": "D2", "owner": "Ana", "team": "East", "amount": 1000.5, "findings": 1, "health": 80},
        {"deal_id": "D3", "owner": "Bo", "team": "West", "amount": 500.0, "findings": 1, "health": 95},
    ]
    assert report["summary"]["amount_at_risk"]["overall"] == 1000.5
    assert report["summary"]["health"]["average"] == 82.5


def test_the_console_summary_shows_health_and_amount_at_risk(make_deals, hygiene_cli):
    make_deals([BROKEN, PAST_DUE, INFO_ONLY, CLEAN, WON])

    summary = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--select", ",".join(RULES)).stdout.split("Summary", 1)[1]

    assert "  deal health: 82.5 on average (0-100), 3 open deals below 100\n" in summary
    # The amount at risk is the report's figure (whole units in the console), with the deals whose amount is unknown.
    assert "  amount at risk: 1,000 (2 open deals with an error or warning, 1 of them without an amount)\n" in summary
    # One table per level: team, score, findings, amount at risk (the deal without an amount is not in it), open deals.
    assert "    East    0.0%         4           1,000     2\n" in summary


# --- Not evaluable, per field ---------------------------------------------------------------


def test_not_evaluable_is_counted_per_rule_and_per_field():
    deals = [
        {"id": "D1", "stage": "Proposal", "amount": "", "contacts": 1},
        {"id": "D2", "stage": "Proposal", "amount": 200000, "contacts": ""},
        {"id": "D3", "stage": "Proposal", "amount": 200000, "contacts": 1},
    ]

    report = audit_deals(deals, rules=["single-threaded"], as_of=AS_OF)

    assert report.summary()["not_evaluable"] == {"HY040": 2}
    assert report.summary()["not_evaluable_by_field"] == {"HY040": {"amount": 1, "contacts": 1}}
    assert [f.deal_id for f in report.iter_findings()] == ["D3"]


def test_a_field_the_export_lacks_makes_every_open_deal_not_evaluable_never_flagged():
    report = audit_deals([{"id": "D1", "stage": "Proposal"}, {"id": "D2", "stage": "Closed Lost"}], rules=["amount-missing", "owner-inactive"], as_of=AS_OF)

    assert report.findings.height == 0
    assert report.summary()["not_evaluable_by_field"] == {"HY050": {"amount": 1}, "HY070": {"roster": 1}}


# --- Severity per finding --------------------------------------------------------------------


@pytest.mark.parametrize(("category", "severity"), [("Commit", "error"), ("Best Case", "error"), ("best_case", "error"), ("Pipeline", "warning"), ("", "warning")])
def test_far_out_close_dates_are_errors_for_commit_and_best_case(category, severity):
    [finding] = run_rules([{"id": "D1", "stage": "Proposal", "close_date": "2027-06-30", "forecast_category": category}], rules=["far-out-close-date"], as_of=AS_OF)

    assert finding.severity == severity


def test_the_configured_severity_applies_to_the_other_findings():
    deals = [
        {"id": "C", "stage": "Proposal", "close_date": "2027-06-30", "forecast_category": "Commit"},
        {"id": "P", "stage": "Proposal", "close_date": "2027-06-30", "forecast_category": "Pipeline"},
    ]
    findings = run_rules(deals, rules=["far-out-close-date"], options={"far-out-close-date": {"severity": "info", "error_categories": ["commit"]}}, as_of=AS_OF)

    assert [(f.deal_id, f.severity) for f in findings] == [("C", "error"), ("P", "info")]


# --- Options that cannot work ---------------------------------------------------------------


def test_a_min_stage_that_is_not_an_open_stage_stops_the_audit_with_one_line(make_deals, hygiene_config, hygiene_cli):
    make_deals([{"id": "D1", "stage": "Proposal", "forecast_category": "Commit"}])
    hygiene_config({"source": {"path": "deals.csv"}, "rules": {"commit-in-early-stage": {"min_stage": "Closed Won"}}})

    result = hygiene_cli("audit", "--as-of", AS_OF)

    assert result.exit_code == 2
    assert result.stderr == (
        "hygiene: error: rules.commit-in-early-stage.min_stage: 'Closed Won' is not an open stage of the stage table "
        "(open stages: 'Prospecting', 'Qualification', 'Needs Analysis', 'Proposal', 'Negotiation')\n"
    )


def test_an_invalid_placeholder_pattern_stops_the_audit_with_one_line(make_deals, hygiene_config, hygiene_cli):
    make_deals([{"id": "D1", "stage": "Proposal", "name": "Acme"}])
    hygiene_config({"source": {"path": "deals.csv"}, "rules": {"placeholder-deal": {"patterns": ["^test", "(unclosed"]}}})

    result = hygiene_cli("audit", "--as-of", AS_OF)

    assert (result.exit_code, result.stderr) == (2, "hygiene: error: rules.placeholder-deal.patterns[1]: '(unclosed' is not a valid regular expression\n")


# --- Possible duplicates name each other -----------------------------------------------------


def test_both_deals_of_a_duplicate_pair_name_the_other():
    deals = [
        {"id": "A", "stage": "Proposal", "account": "Acme", "name": "Acme - Platform", "owner": "Ana"},
        {"id": "B", "stage": "Negotiation", "account": "ACME", "name": "platform", "owner": "Bo"},
    ]

    findings = {f.deal_id: f for f in run_rules(deals, rules=["possible-duplicate"], as_of=AS_OF)}

    assert findings["A"].message == "possible duplicate of B (same account, same name)"
    assert findings["B"].details == {"duplicates": ["A"], "duplicate_count": 1, "similarity": 1.0}
    assert (findings["A"].owner, findings["A"].row) == ("Ana", 2)


def test_a_large_group_of_equal_names_names_five_and_counts_the_rest():
    deals = [{"id": f"D{i:02}", "stage": "Proposal", "account": "Acme", "name": "Renewal"} for i in range(12)]

    findings = run_rules(deals, rules=["possible-duplicate"], as_of=AS_OF)

    assert len(findings) == 12
    assert findings[0].message == "possible duplicate of D01, D02, D03, D04, D05 and 6 more (same account, same name)"
    assert findings[0].details["duplicate_count"] == 11


# --- The stage table's new settings ---------------------------------------------------------


def open_stages(count: int) -> StageTable:
    return StageTable.from_stages([Stage(f"S{i}", 10 * i) for i in range(count)] + [Stage("Won", 100, closed=True, won=True)])


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, [45]), (2, [45, 7]), (3, [45, 21, 7]), (5, [45, 30, 21, 14, 7]), (9, [45, 30, 30, 21, 21, 14, 14, 7, 7])],
)
def test_max_inactive_days_defaults_run_from_45_to_7_over_the_open_stages(count, expected):
    table = open_stages(count)

    assert [table.max_inactive_days(f"S{i}") for i in range(count)] == expected
    assert table.max_inactive_days("Won") is None
    assert table.max_inactive_days("Nowhere") is None


def test_requires_next_step_defaults_to_every_open_stage_after_the_first():
    table = open_stages(3)

    assert [table.requires_next_step(f"S{i}") for i in range(3)] == [False, True, True]
    assert table.requires_next_step("Won") is None


def test_order_sorts_open_stages_and_stages_without_one_keep_their_place():
    table = StageTable.from_stages([Stage("B", 50, order=5), Stage("A", 10, order=0), Stage("C", 70), Stage("Won", 100, closed=True, won=True)])

    # C has no order: its position among the open stages (2) is its order.
    assert [stage.name for stage in table.open_stages] == ["A", "C", "B"]
    assert [table.order_of(name) for name in ("A", "C", "B", "Won")] == [0, 1, 2, None]
    assert table.first_stage_reaching(50).name == "C"  # 70%, and before B in the process


def test_the_stage_settings_are_read_from_the_configuration(make_deals, hygiene_config, hygiene_cli):
    make_deals([{"id": "D1", "stage": "Demo", "last_activity_date": "2026-03-27", "next_step": ""}])
    hygiene_config(
        {
            "source": {"path": "deals.csv"},
            "pipeline": {"stages": [{"name": "Demo", "probability": 30, "max_inactive_days": 3, "requires_next_step": True, "order": 1}, {"name": "Won", "closed": True, "won": True}]},
        }
    )

    report = json.loads(hygiene_cli("audit", "--as-of", AS_OF, "--select", "HY010,HY020", "--format", "json").stdout)

    assert [(f["code"], f["message"]) for f in report["findings"]] == [
        ("HY010", "no activity for 4 days in Demo (limit 3)"),
        ("HY020", "no next step in Demo"),
    ]


# --- The vague-next-step word lists ----------------------------------------------------------


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30).filter(lambda t: t.strip()))
def test_a_phrase_pattern_matches_the_phrase_itself(text):
    pattern = literal_pattern(text)

    assert pl.select(pl.lit(text.strip().lower()).str.contains(pattern)).item()
