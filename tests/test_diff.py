"""``hygiene diff OLD.json NEW.json``: new, fixed and changed findings between two JSON reports."""

from __future__ import annotations

import json
import random

import jsonschema
import pytest

from _ci_gate import AS_OF, CLEAN, NO_CLOSE_DATE, PAST_DUE, STALE, deal, one_error_line
from hygiene.files import shipped_schema
from hygiene.api.models import fingerprint

LATER = "2026-04-07"
DIFF_VALIDATOR = jsonschema.Draft202012Validator(shipped_schema("diff.schema.json"), format_checker=jsonschema.FormatChecker())


@pytest.fixture
def week_over_week(report_file):
    """Last week: D1 stale, D2 without a close date, D4 past due. This week: D2 fixed, D5 new, D1 staler and now an error."""
    old = report_file("old.json", [STALE, NO_CLOSE_DATE, PAST_DUE, CLEAN])
    new = report_file(
        "new.json",
        [STALE, deal(NO_CLOSE_DATE, "D2", close_date="2026-06-30"), PAST_DUE, deal(NO_CLOSE_DATE, "D5", name="Epsilon")],
        as_of=LATER,
        config={"rules": {"stale-stage": {"severity": "error"}}},
    )
    return old, new


def test_new_fixed_and_changed_findings_on_the_console(hygiene_cli, week_over_week):
    result = hygiene_cli("diff", *week_over_week)

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "new (1)",
        "  error   HY002 missing-close-date: D5 Epsilon: open deal in Proposal has no close date",
        "fixed (1)",
        "  error   HY002 missing-close-date: D2 Beta: open deal in Proposal has no close date",
        # D4's days past due and D1's days in stage grew with the week: counters, not changes.
        "changed (1)",
        "  HY001 stale-stage: D1 Alpha",
        "    severity: warning -> error",
        "Diff old.json (deals.csv, as of 2026-03-31) -> new.json (deals.csv, as of 2026-04-07): 1 new, 1 fixed, 1 changed",
    ]


def test_the_json_diff_matches_its_schema(hygiene_cli, week_over_week):
    result = hygiene_cli("diff", *week_over_week, "--format", "json")

    document = json.loads(result.stdout)
    DIFF_VALIDATOR.validate(document)
    assert document["summary"] == {"new": 1, "fixed": 1, "changed": 1}
    assert [f["fingerprint"] for f in document["new_findings"]] == [fingerprint("HY002", "D5")]
    assert [f["fingerprint"] for f in document["fixed_findings"]] == [fingerprint("HY002", "D2")]
    assert {f["deal_id"]: sorted(f["changes"]) for f in document["changed_findings"]} == {"D1": ["severity"]}
    assert document["old"] == {"file": "old.json", "source": "deals.csv", "as_of": AS_OF}


@pytest.mark.parametrize(("fail_on", "exit_code"), [("error", 1), ("warning", 1), ("never", 0)])
def test_the_exit_code_follows_fail_on_for_new_findings(hygiene_cli, week_over_week, fail_on, exit_code):
    assert hygiene_cli("diff", *week_over_week, "--fail-on", fail_on).exit_code == exit_code


def test_a_new_warning_does_not_fail_the_default_fail_on(hygiene_cli, report_file):
    old = report_file("old.json", [CLEAN])
    new = report_file("new.json", [CLEAN, STALE])

    result = hygiene_cli("diff", old, new)

    assert (result.exit_code, result.stdout.splitlines()[0]) == (0, "new (1)")
    assert hygiene_cli("diff", old, new, "--fail-on", "warning").exit_code == 1


def test_a_report_and_itself_reordered_have_no_difference(tmp_path, hygiene_cli, report_file):
    old = report_file("old.json", [STALE, NO_CLOSE_DATE, PAST_DUE, deal(NO_CLOSE_DATE, "D5")])
    document = json.loads((tmp_path / old).read_text(encoding="utf-8"))
    random.Random(7).shuffle(document["findings"])
    (tmp_path / "shuffled.json").write_text(json.dumps(document), encoding="utf-8")

    result = hygiene_cli("diff", old, "shuffled.json")

    assert (result.exit_code, result.stdout) == (0, "Diff old.json (deals.csv, as of 2026-03-31) -> shuffled.json (deals.csv, as of 2026-03-31): 0 new, 0 fixed, 0 changed\n")


def test_findings_are_paired_by_fingerprint_as_a_multiset(hygiene_cli, report_file):
    twice = [deal(CLEAN, "D7", name=f"row {i}") for i in range(3)]
    old = report_file("old.json", twice)
    new = report_file("new.json", [*twice, deal(CLEAN, "D7", name="row 3")])

    document = json.loads(hygiene_cli("diff", old, new, "--format", "json").stdout)

    assert [(f["code"], f["row"]) for f in document["new_findings"]] == [("HY902", 5)]
    assert document["summary"] == {"new": 1, "fixed": 0, "changed": 0}


def test_output_writes_the_diff_to_a_file(tmp_path, hygiene_cli, week_over_week):
    result = hygiene_cli("diff", *week_over_week, "--format", "json", "--output", "reports/diff.json")

    assert (result.exit_code, result.stdout) == (1, "")
    DIFF_VALIDATOR.validate(json.loads((tmp_path / "reports" / "diff.json").read_text(encoding="utf-8")))


def test_text_from_the_export_cannot_drive_the_terminal(hygiene_cli, report_file):
    old = report_file("old.json", [CLEAN])
    new = report_file("new.json", [CLEAN, deal(NO_CLOSE_DATE, "D\x1b[2J9", name="Evil\nFAKE")])

    line = hygiene_cli("diff", old, new).stdout.splitlines()[1]

    assert line == "  error   HY002 missing-close-date: D\\x1b[2J9 Evil\\x0aFAKE: open deal in Proposal has no close date"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("{", "not a hygiene JSON report: invalid JSON at line 1 column 2: Expecting property name enclosed in double quotes"),
        ('{"findings": []}', "not a hygiene JSON report: top level: 'schema_version' is a required property"),
    ],
)
def test_a_report_that_cannot_be_read_exits_2_with_one_line(tmp_path, hygiene_cli, report_file, content, problem):
    new = report_file("new.json", [CLEAN])
    if content is not None:
        (tmp_path / "old.json").write_text(content, encoding="utf-8")

    assert one_error_line(hygiene_cli("diff", "old.json", new)) == f"old.json: {problem}"


def test_a_report_off_the_schema_is_named_with_the_key(tmp_path, hygiene_cli, report_file):
    old = report_file("old.json", [STALE])
    document = json.loads((tmp_path / old).read_text(encoding="utf-8"))
    document["findings"][0]["fingerprint"] = "not-a-fingerprint"
    (tmp_path / old).write_text(json.dumps(document), encoding="utf-8")

    line = one_error_line(hygiene_cli("diff", old, old))

    assert line == "old.json: not a hygiene JSON report: findings[0].fingerprint: 'not-a-fingerprint' does not match '^[0-9a-f]{20}$'"


# Counters: detail keys that grow with time alone are not changes.


def test_the_json_report_declares_each_rules_counters(tmp_path, report_file):
    document = json.loads((tmp_path / report_file("r.json", [STALE])).read_text(encoding="utf-8"))

    assert document["counters"] == {"HY001": ["days_in_stage"], "HY003": ["days_past_due"], "HY005": ["age_days", "inactive_days"]}


def test_only_counters_moving_is_no_change_but_other_wording_is(hygiene_cli, report_file):
    old = report_file("old.json", [STALE, PAST_DUE])
    # A week later, and the stage's limit raised from 21 to 30 days: D1's limit changed (a real change), D4 only aged.
    stages = [
        {"name": "Proposal", "probability": 60, "max_days": 30},
        {"name": "Negotiation", "probability": 80, "max_days": 30},
        {"name": "Closed Won", "probability": 100, "closed": True, "won": True},
        {"name": "Closed Lost", "probability": 0, "closed": True},
    ]
    new = report_file("new.json", [STALE, PAST_DUE], as_of=LATER, config={"pipeline": {"stages": stages}})

    document = json.loads(hygiene_cli("diff", old, new, "--format", "json").stdout)

    assert [(f["deal_id"], sorted(f["changes"])) for f in document["changed_findings"]] == [("D1", ["details", "message"])]
    [change] = document["changed_findings"]
    assert change["changes"]["message"] == {"old": "in Negotiation for 89 days (limit 21)", "new": "in Negotiation for 96 days (limit 30)"}


def test_reports_written_before_counters_were_declared_take_them_from_the_other_report(tmp_path, hygiene_cli, report_file):
    old = report_file("old.json", [PAST_DUE])
    document = json.loads((tmp_path / old).read_text(encoding="utf-8"))
    del document["counters"]
    (tmp_path / old).write_text(json.dumps(document), encoding="utf-8")
    new = report_file("new.json", [PAST_DUE], as_of=LATER)

    assert json.loads(hygiene_cli("diff", old, new, "--format", "json").stdout)["summary"] == {"new": 0, "fixed": 0, "changed": 0}


@pytest.mark.parametrize(
    ("old", "old_days", "new", "new_days", "same"),
    [
        ("close date 2026-02-01 is 58 days past due", 58, "close date 2026-02-01 is 65 days past due", 65, True),
        ("is 58 days past due", 58, "is 158 days past due", 65, False),  # 158 is not the counter's 65
        ("is 1,234 days past due", 1234, "is 1,241 days past due", 1241, True),
        ("is 58 days past due (owner Ada)", 58, "is 65 days past due (owner Bob)", 65, False),
        ("58 days; 58 days", 58, "65 days; 65 days", 65, True),
    ],
)
def test_a_message_is_compared_with_its_counters_masked(old, old_days, new, new_days, same):
    from hygiene.ci.diff import _masked

    masked_old = _masked(old, {"days_past_due": old_days}, ("days_past_due",))
    masked_new = _masked(new, {"days_past_due": new_days}, ("days_past_due",))
    assert (masked_old == masked_new) is same
