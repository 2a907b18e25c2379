"""What the built-in rules say, what the summary counts, and ``hygiene.testing.run_rules`` itself.

Which deals each rule flags, at its boundaries, is specified as data in
``tests/rule_cases/*.rulecases.toml``; this file covers what those cases
cannot say: the exact messages and details, the not-evaluable counts, and
how rules, options and plugin rules are given to ``run_rules``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from hygiene import DealRule, Finding
from hygiene.api.errors import ConfigError, PluginError
from hygiene.api.models import fingerprint
from hygiene.testing import audit_deals, run_rules

AS_OF = "2026-03-31"
#: Open 181 days and silent for 61 at 2026-06-30: old and inactive enough for HY005's defaults.
DROP_AS_OF = "2026-06-30"
OLD_AND_SILENT = {"created_date": "2025-12-31", "last_activity_date": "2026-04-30"}


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def deal_finding(code: str, rule: str, severity: str, deal_id: str, message: str, details: dict, row: int = 2, **subject) -> Finding:
    """A deal-level finding as the engine completes it."""
    return Finding(
        code=code,
        rule=rule,
        severity=severity,
        deal_id=deal_id,
        message=message,
        details=details,
        row=row,
        fingerprint=fingerprint(code, deal_id),
        **subject,
    )


# The built-in rules' messages and details.


def test_stale_stage_names_the_stage_the_days_in_it_and_the_limit():
    deal = {"id": "D1", "name": "Acme renewal", "owner": "Ada", "stage": "Negotiation", "stage_entered_date": "2026-03-09"}

    finding = only(run_rules([deal], rules=["HY001"], as_of=AS_OF))

    assert finding == deal_finding(
        "HY001",
        "stale-stage",
        "warning",
        "D1",
        "in Negotiation for 22 days (limit 21)",
        {"stage": "Negotiation", "stage_entered_date": "2026-03-09", "days_in_stage": 22, "max_days": 21},
        deal_name="Acme renewal",
        owner="Ada",
    )


@pytest.mark.parametrize(
    ("options", "limit"),
    [({}, 30), ({"max_days": 10}, 10)],
    ids=["default", "option"],
)
def test_stale_stage_limit_of_an_unknown_stage_is_the_max_days_option(options, limit):
    deal = {"id": "D1", "stage": "Discovery", "stage_entered_date": "2026-02-28"}

    finding = only(run_rules([deal], rules=["HY001"], options={"HY001": options}, as_of=AS_OF))

    assert finding.message == f"in Discovery for 31 days (limit {limit})"
    assert finding.details["max_days"] == limit


def test_missing_close_date_names_the_stage():
    finding = only(run_rules([{"id": "D1", "stage": "Proposal"}], rules=["HY002"], as_of=AS_OF))

    assert finding == deal_finding("HY002", "missing-close-date", "error", "D1", "open deal in Proposal has no close date", {"stage": "Proposal"})


def test_past_due_close_date_says_by_how_many_days():
    finding = only(run_rules([{"id": "D1", "stage": "Proposal", "close_date": "2026-03-21"}], rules=["HY003"], as_of=AS_OF))

    assert finding == deal_finding(
        "HY003",
        "past-due-close-date",
        "error",
        "D1",
        "close date 2026-03-21 is 10 days past due",
        {"close_date": "2026-03-21", "days_past_due": 10},
    )


def test_gap_to_quota_worked_example():
    # Quota 100,000; won 40,000; open this quarter 50,000 at 60% and 20,000 at Prospecting's 10%.
    # Weighted 30,000 + 2,000 = 32,000; gap 100,000 - 40,000 - 32,000 = 28,000;
    # coverage = open 70,000 / still to win 60,000 = 1.17.
    deals = [
        {"id": "WON", "owner": "Ada", "stage": "Closed Won", "amount": 40000, "close_date": "2026-01-20"},
        {"id": "PROPOSAL", "owner": "Ada", "stage": "Proposal", "amount": 50000, "close_date": "2026-03-15"},
        {"id": "PROSPECT", "owner": "Ada", "stage": "Prospecting", "amount": 20000, "close_date": "2026-03-31"},
        # None of these count: lost, won last quarter, closing next quarter, another owner.
        {"id": "LOST", "owner": "Ada", "stage": "Closed Lost", "amount": 30000, "close_date": "2026-02-01"},
        {"id": "LAST-QUARTER", "owner": "Ada", "stage": "Closed Won", "amount": 90000, "close_date": "2025-12-31"},
        {"id": "NEXT-QUARTER", "owner": "Ada", "stage": "Negotiation", "amount": 90000, "close_date": "2026-04-01"},
        {"id": "BOBS", "owner": "Bob", "stage": "Closed Won", "amount": 90000, "close_date": "2026-02-01"},
    ]

    finding = only(run_rules(deals, rules=["gap-to-quota"], as_of="2026-02-15", quotas={"Ada": 100000}))

    assert finding == Finding(
        code="HY004",
        rule="gap-to-quota",
        severity="warning",
        owner="Ada",
        message="won 40,000 + weighted 32,000 of 2026-Q1 quota 100,000: gap 28,000, coverage 1.17x",
        details={
            "period": "2026-Q1",
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
            "quota": 100000.0,
            "won": 40000.0,
            "weighted": 32000.0,
            "gap": 28000.0,
            "open_amount": 70000.0,
            "coverage": 1.17,
        },
        fingerprint=fingerprint("HY004", None, "Ada", "2026-Q1"),
    )


def test_a_quota_under_a_misspelt_name_names_the_closest_owners():
    deals = [{"id": "D1", "owner": "Ada Lovelace", "stage": "Proposal", "amount": 1000, "close_date": "2026-03-01"}]
    finding = only(run_rules(deals, rules=["HY004"], as_of="2026-02-15", quotas={"Ada Lovlace": 50000}))

    assert finding.owner == "Ada Lovlace"
    assert finding.message.startswith("no deals in this export: won 0 + weighted 0 of 2026-Q1 quota 50,000")
    assert finding.message.endswith("; the quota's owner matches no owner of the export: closest 'Ada Lovelace'")
    assert finding.details["closest_owners"] == ["Ada Lovelace"]


def test_gap_to_quota_of_an_owner_without_deals_is_the_whole_quota():
    finding = only(run_rules([], rules=["HY004"], as_of="2026-02-15", quotas={"Ada": 50000}))

    assert finding.message == "no deals in this export: won 0 + weighted 0 of 2026-Q1 quota 50,000: gap 50,000, coverage 0.00x"
    assert {key: finding.details[key] for key in ("won", "weighted", "gap", "open_amount", "coverage")} == {
        "won": 0.0,
        "weighted": 0.0,
        "gap": 50000.0,
        "open_amount": 0.0,
        "coverage": 0.0,
    }


@pytest.mark.parametrize(
    ("fiscal_year_start_month", "period", "name", "start", "end"),
    [
        (1, "quarter", "2026-Q1", "2026-01-01", "2026-03-31"),
        (2, "quarter", "FY2027-Q1", "2026-02-01", "2026-04-30"),
        (11, "quarter", "FY2026-Q2", "2026-02-01", "2026-04-30"),
        (1, "month", "2026-02", "2026-02-01", "2026-02-28"),
        (1, "year", "2026", "2026-01-01", "2026-12-31"),
        (7, "year", "FY2026", "2025-07-01", "2026-06-30"),
    ],
)
def test_gap_to_quota_period_follows_the_option_and_the_fiscal_year(fiscal_year_start_month, period, name, start, end):
    finding = only(
        run_rules(
            [],
            rules=["HY004"],
            options={"HY004": {"period": period}},
            as_of="2026-02-15",
            quotas={"Ada": 1},
            fiscal_year_start_month=fiscal_year_start_month,
        )
    )

    assert (finding.details["period"], finding.details["period_start"], finding.details["period_end"]) == (name, start, end)
    assert f" of {name} quota " in finding.message
    assert finding.fingerprint == fingerprint("HY004", None, "Ada", name)


@pytest.mark.parametrize(
    ("deal", "options", "why"),
    [
        ({"stage": "Proposal", "close_date_pushes": 3}, {}, "close date pushed 3 times (limit 3)"),
        ({"stage": "Proposal", "probability": 12.5}, {}, "probability 12.5% (at most 20%)"),
        ({"stage": "Qualification"}, {}, "probability 20% (at most 20%)"),
        (
            {"stage": "Prospecting", "close_date_pushes": 5},
            {},
            "close date pushed 5 times (limit 3) and probability 10% (at most 20%)",
        ),
        (
            {"stage": "Needs Analysis", "close_date_pushes": 2},
            {"max_pushes": 2, "max_probability": 40.5},
            "close date pushed 2 times (limit 2) and probability 40% (at most 40.5%)",
        ),
    ],
    ids=["pushes", "own-probability", "stage-probability", "both", "options"],
)
def test_ruthless_drop_says_why(deal, options, why):
    deal = {"id": "D1", **OLD_AND_SILENT, **deal}

    finding = only(run_rules([deal], rules=["HY005"], options={"HY005": options}, as_of=DROP_AS_OF))

    assert finding.message == f"drop candidate: open 181 days, no activity for 61 days, {why}"
    assert (finding.code, finding.rule, finding.severity) == ("HY005", "ruthless-drop", "warning")


def test_ruthless_drop_details_are_the_evidence():
    deal = {"id": "D1", "stage": "Prospecting", "close_date_pushes": 4, **OLD_AND_SILENT}

    finding = only(run_rules([deal], rules=["HY005"], as_of=DROP_AS_OF))

    assert finding.details == {"age_days": 181, "inactive_days": 61, "close_date_pushes": 4, "probability": 10.0}


def test_invalid_value_names_row_column_and_raw_value():
    deals = [
        {"Opportunity ID": "D1", "stage": "Proposal", "Amount (EUR)": "10"},
        {"Opportunity ID": "D2", "owner": "Ada", "stage": "Proposal", "Amount (EUR)": "12k"},
    ]

    finding = only(run_rules(deals, rules=["HY900"], source_fields={"id": "Opportunity ID", "amount": "Amount (EUR)"}))

    assert finding == deal_finding(
        "HY900",
        "invalid-value",
        "error",
        "D2",
        "row 3, column 'Amount (EUR)': '12k' is not a number",
        {"field": "amount", "column": "Amount (EUR)", "value": "12k", "expected": "a number"},
        row=3,
        owner="Ada",
    )


@pytest.mark.parametrize(
    ("stage", "message"),
    [("Discovery", "stage 'Discovery' is not in the stage table"), ("", "deal has no stage")],
)
def test_unknown_stage_message(stage, message):
    finding = only(run_rules([{"id": "D1", "stage": stage}], rules=["HY901"]))

    assert (finding.code, finding.rule, finding.severity, finding.message) == ("HY901", "unknown-stage", "warning", message)


def test_duplicate_deal_id_points_at_the_first_row():
    deals = [{"id": "D1", "stage": "Proposal"}, {"id": "D2", "stage": "Proposal"}, {"id": "D1", "stage": "Proposal"}]

    finding = only(run_rules(deals, rules=["HY902"]))

    assert finding == deal_finding(
        "HY902", "duplicate-deal-id", "error", "D1", "row 4 repeats deal id 'D1' first seen at row 2", {"first_row": 2}, row=4
    )


# The summary.


def test_summary_counts_open_deals_a_rule_cannot_evaluate():
    report = audit_deals(
        [
            {"id": "NO-STAGE-DATE", "stage": "Proposal", "created_date": "2026-01-01"},
            {"id": "NO-CREATED-DATE", "stage": "Proposal", "stage_entered_date": "2026-03-01"},
            {"id": "NO-DATES", "stage": "Discovery"},
            {"id": "CLOSED-NO-DATES", "stage": "Closed Lost"},
            {"id": "ALL-DATES", "stage": "Proposal", "created_date": "2026-01-01", "stage_entered_date": "2026-03-01"},
        ],
        # The catalogue's other rules count deals of their own: these are the rules this test is about.
        rules=["HY001", "HY005", "HY200", "HY201", "HY202", "HY203", "HY204", "HY205"],
        as_of=AS_OF,
    )

    summary = report.summary()
    assert (summary["deals"], summary["open_deals"]) == (5, 4)
    # The change rules (HY200-HY205) need history, which this audit has none of: every open deal.
    history_rules = {code: 4 for code in ("HY200", "HY201", "HY202", "HY203", "HY204", "HY205")}
    assert summary["not_evaluable"] == {"HY001": 2, "HY005": 2, **history_rules}
    # HY001 and HY005 say why (not_evaluable_reason); only rules that name their fields count per field.
    assert "HY001" in summary["not_evaluable_reasons"] and "HY005" in summary["not_evaluable_reasons"]
    assert "HY001" not in summary["not_evaluable_by_field"] and "HY005" not in summary["not_evaluable_by_field"]


def test_summary_counts_not_evaluable_deals_only_for_rules_that_ran():
    report = audit_deals([{"id": "D1", "stage": "Proposal"}], rules=["HY002"], as_of=AS_OF)

    assert report.summary()["not_evaluable"] == {}


# run_rules: how rules, options and deals are given.


def stale_deal_ids(**kwargs) -> list[str]:
    deals = [
        {"id": "AT-LIMIT", "stage": "Proposal", "stage_entered_date": "2026-03-01"},
        {"id": "PAST-LIMIT", "stage": "Proposal", "stage_entered_date": "2026-02-28"},
        {"id": "UNKNOWN-STAGE", "stage": "Discovery", "stage_entered_date": "2026-03-20"},
    ]
    return [finding.deal_id for finding in run_rules(deals, as_of=AS_OF, **kwargs)]


def test_a_rule_is_given_by_code_name_or_class():
    from hygiene_rules.stale_stage import StaleStage

    assert stale_deal_ids(rules=["HY001"]) == stale_deal_ids(rules=["stale-stage"]) == stale_deal_ids(rules=[StaleStage]) == ["PAST-LIMIT"]


def test_options_are_given_by_code_or_name_and_merged_over_the_defaults():
    assert stale_deal_ids(rules=["HY001"], options={"HY001": {"max_days": 10}}) == ["PAST-LIMIT", "UNKNOWN-STAGE"]
    assert stale_deal_ids(rules=["HY001"], options={"stale-stage": {"max_days": 10}}) == ["PAST-LIMIT", "UNKNOWN-STAGE"]
    assert stale_deal_ids(rules=["HY001"], options={"HY001": {"severity": "error"}}) == ["PAST-LIMIT"]


def test_severity_is_overridden_like_in_the_configuration():
    finding = only(run_rules([{"id": "D1", "stage": "Proposal"}], rules=["HY002"], options={"HY002": {"severity": "info"}}))

    assert finding.severity == "info"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"HY001": {"max_days": "abc"}}, "run_rules(): rules.HY001.max_days: 'abc' is not of type 'integer'"),
        ({"HY001": {"max_days": -1}}, "run_rules(): rules.HY001.max_days: -1 is less than the minimum of 0"),
        ({"stale-stage": {"max_dayz": 3}}, "run_rules(): rules.stale-stage.max_dayz: unknown key"),
        ({"HY004": {"period": "week"}}, "run_rules(): rules.HY004.period: 'week' is not one of 'month', 'quarter', 'year'"),
        ({"HY002": {}}, "run_rules(): options for 'HY002', which is not among the rules run (HY001, HY004)"),
    ],
    ids=["type", "minimum", "unknown-option", "enum", "rule-not-run"],
)
def test_invalid_options_raise_a_config_error_naming_them(options, error):
    with pytest.raises(ConfigError) as raised:
        run_rules([{"id": "D1", "stage": "Proposal"}], rules=["HY001", "HY004"], options=options)

    assert str(raised.value).startswith(error)


def test_an_unknown_rule_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown rule 'stale'"):
        run_rules([], rules=["stale"])


def test_all_installed_rules_run_by_default_and_findings_come_in_report_order():
    deals = [
        {"id": "D2", "owner": "Bob", "stage": "Discovery"},
        {"id": "D1", "owner": "Bob", "stage": "Proposal", "close_date": "2026-03-01", "stage_entered_date": "2026-01-01"},
        {"id": "D3", "owner": "Ada", "stage": "Proposal", "amount": "lots", "close_date": "2026-06-30"},
    ]

    findings = run_rules(deals, as_of=AS_OF, quotas={"Ada": 1000})

    # Errors first, then warnings; within a severity by owner, then deal id, then code.
    # The export has an amount column, so the deals left without one are flagged (HY050).
    assert [(f.severity, f.owner, f.deal_id, f.code) for f in findings] == [
        ("error", "Ada", "D3", "HY050"),
        ("error", "Ada", "D3", "HY900"),
        ("error", "Bob", "D1", "HY003"),
        ("error", "Bob", "D1", "HY050"),
        ("error", "Bob", "D2", "HY002"),
        ("error", "Bob", "D2", "HY050"),
        ("warning", "Ada", None, "HY004"),
        ("warning", "Bob", "D1", "HY001"),
        ("warning", "Bob", "D2", "HY901"),
    ]


def test_deals_take_python_values_or_export_text_alike():
    typed = {"id": "D1", "stage": "Proposal", "amount": 1500.5, "probability": 20, "close_date": dt.date(2026, 3, 1), "close_date_pushes": 3}
    text = {"id": "D1", "stage": "Proposal", "amount": "1500.50", "probability": "20", "close_date": "2026-03-01", "close_date_pushes": "3"}

    assert run_rules([typed], as_of=AS_OF) == run_rules([text], as_of=AS_OF)


# Plugin rules defined here, not installed: both forms of the rule API.


class CommitWithoutNextStep(DealRule):
    """A deal in a committed forecast category has no next step, checked a row at a time.

    **Why** A committed deal without a next step is a forecast without a plan.

    **Example** ``forecast_category = commit`` and an empty ``next_step``.

    **Fix** Agree the next step with the buyer and write it down.
    """

    code = "TST001"
    name = "commit-without-next-step"
    summary = "Committed deal has no next step"
    severity = "error"
    options_schema = {
        "type": "object",
        "properties": {"categories": {"type": "array", "items": {"type": "string"}, "default": ["commit"]}},
    }

    def check(self, deal, ctx):
        if deal.forecast_category in ctx.options["categories"] and not deal.next_step:
            return f"{deal.forecast_category} deal in {deal.extras['Region']} has no next step"
        return None


class SingleThreadedBigDeal(DealRule):
    """A big open deal with few contacts, flagged by a polars condition, worded by Python.

    **Why** One contact leaving kills a big deal.

    **Example** 150,000 with one contact.

    **Fix** Meet more of the buying team.
    """

    code = "TST002"
    name = "single-threaded-big-deal"
    summary = "Big deal with fewer than three contacts"
    severity = "warning"
    options_schema = {"type": "object", "properties": {"min_amount": {"type": "number", "default": 100000}}}

    def condition(self, ctx):
        return ctx.is_open & (pl.col("amount") > ctx.options["min_amount"]) & (pl.col("contacts") < 3)

    def message(self, deal, ctx):
        return f"{deal.name}: {deal.amount:,.0f} with only {deal.contacts} contacts (region {deal.extras['Region']})"


PLUGIN_DEALS = [
    {"id": "COMMIT", "name": "Acme", "stage": "Proposal", "forecast_category": "commit", "Region": "EMEA", "amount": 150000, "contacts": 1},
    {"id": "PLANNED", "name": "Globex", "stage": "Proposal", "forecast_category": "commit", "next_step": "demo", "Region": "APAC", "amount": 90000, "contacts": 1},
    {"id": "BEST-CASE", "name": "Initech", "stage": "Proposal", "forecast_category": "best_case", "Region": "AMER", "amount": 250000, "contacts": 3},
    {"id": "LOST", "name": "Hooli", "stage": "Closed Lost", "forecast_category": "omitted", "Region": "EMEA", "amount": 500000, "contacts": 0},
]


def test_a_row_at_a_time_plugin_rule_sees_deals_their_extras_and_its_options():
    findings = run_rules(PLUGIN_DEALS, rules=[CommitWithoutNextStep])

    assert findings == [
        deal_finding("TST001", "commit-without-next-step", "error", "COMMIT", "commit deal in EMEA has no next step", {}, deal_name="Acme")
    ]
    widened = run_rules(PLUGIN_DEALS, rules=[CommitWithoutNextStep], options={"TST001": {"categories": ["commit", "best_case"]}})
    assert [f.deal_id for f in widened] == ["BEST-CASE", "COMMIT"]


def test_a_vectorised_plugin_rule_words_flagged_deals_with_its_message():
    findings = run_rules(PLUGIN_DEALS, rules=[SingleThreadedBigDeal])

    assert findings == [
        deal_finding(
            "TST002",
            "single-threaded-big-deal",
            "warning",
            "COMMIT",
            "Acme: 150,000 with only 1 contacts (region EMEA)",
            {},
            deal_name="Acme",
        )
    ]
    assert run_rules(PLUGIN_DEALS, rules=[SingleThreadedBigDeal], options={"TST002": {"min_amount": 200000}}) == []


def test_plugin_rules_run_beside_installed_ones_and_their_options_are_validated():
    findings = run_rules(PLUGIN_DEALS, rules=[SingleThreadedBigDeal, "HY002"])
    assert [(f.code, f.deal_id) for f in findings] == [("HY002", "BEST-CASE"), ("HY002", "COMMIT"), ("HY002", "PLANNED"), ("TST002", "COMMIT")]

    with pytest.raises(ConfigError, match=r"rules\.TST002\.min_amount: 'big' is not of type 'number'"):
        run_rules(PLUGIN_DEALS, rules=[SingleThreadedBigDeal], options={"TST002": {"min_amount": "big"}})


def test_a_class_that_is_not_a_valid_rule_is_refused():
    class Misnamed(SingleThreadedBigDeal):
        code = "tst3"

    with pytest.raises(PluginError, match="code 'tst3' is not a rule code"):
        run_rules([], rules=[Misnamed])
