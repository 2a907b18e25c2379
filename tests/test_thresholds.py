"""When ``hygiene audit`` fails: --fail-on against baselines and waivers, --max-findings, --min-score, --exit-zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from _ci_gate import AS_OF, CLEAN, NO_CLOSE_DATE, PAST_DUE, STALE, deal, json_report, waiver, write_broken_rule_plugin
from hygiene.testing import audit_deals
from hygiene.ci.gates import Gates, parse_min_score

# The matrix: D1 is stale (a warning), D2 has no close date (an error), D3 is clean.
FULL = [STALE, NO_CLOSE_DATE, CLEAN]
#: The export each baseline is written from.
BASELINES = {"none": None, "error-known": [NO_CLOSE_DATE, CLEAN], "all-known": FULL}
WAIVERS = {
    "none": [],
    "error-waived": [waiver("D2", "missing-close-date")],
    "all-waived": [waiver("D*", "HY")],
}
#: (baseline, waivers) -> the exit code with fail_on = error, warning, never.
EXIT_CODES = {
    ("none", "none"): (1, 1, 0),
    ("none", "error-waived"): (0, 1, 0),
    ("none", "all-waived"): (0, 0, 0),
    ("error-known", "none"): (0, 1, 0),
    ("error-known", "error-waived"): (0, 1, 0),
    ("error-known", "all-waived"): (0, 0, 0),
    ("all-known", "none"): (0, 0, 0),
    ("all-known", "error-waived"): (0, 0, 0),
    ("all-known", "all-waived"): (0, 0, 0),
}
FAIL_ON = ("error", "warning", "never")


@pytest.mark.parametrize("fail_on", FAIL_ON)
@pytest.mark.parametrize(("baseline", "waivers"), list(EXIT_CODES))
def test_exit_code_matrix_of_fail_on_baseline_and_waivers(make_deals, hygiene_config, hygiene_cli, fail_on, baseline, waivers):
    baseline_args: tuple[str, ...] = ()
    if BASELINES[baseline] is not None:
        make_deals(BASELINES[baseline], name="then.csv")
        written = hygiene_cli("baseline", "then.csv", "--as-of", AS_OF)
        assert written.exit_code == 0, written.output
        baseline_args = ("--baseline", ".hygiene-baseline.json")
    make_deals(FULL)
    hygiene_config({"waivers": WAIVERS[waivers]})

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--fail-on", fail_on, *baseline_args)

    assert result.exit_code == EXIT_CODES[baseline, waivers][FAIL_ON.index(fail_on)], result.output


# --max-findings


@pytest.mark.parametrize(
    ("fail_on", "max_findings", "exit_code"),
    [
        ("error", 3, 0),  # three errors: not more than three
        ("error", 2, 1),
        ("warning", 3, 1),  # and a warning makes four
        ("warning", 4, 0),
        ("never", 0, 0),
    ],
)
def test_max_findings_fails_only_when_more_findings_reach_fail_on(make_deals, hygiene_cli, fail_on, max_findings, exit_code):
    make_deals([NO_CLOSE_DATE, deal(NO_CLOSE_DATE, "D5"), PAST_DUE, STALE])

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--fail-on", fail_on, "--max-findings", max_findings)

    assert result.exit_code == exit_code, result.output


def test_max_findings_counts_only_new_findings_against_a_baseline(make_deals, hygiene_cli):
    make_deals([NO_CLOSE_DATE, PAST_DUE], name="then.csv")
    assert hygiene_cli("baseline", "then.csv", "--as-of", AS_OF).exit_code == 0
    make_deals([NO_CLOSE_DATE, PAST_DUE, deal(NO_CLOSE_DATE, "D5")])

    at_limit = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--baseline", ".hygiene-baseline.json", "--max-findings", "1")
    over = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--baseline", ".hygiene-baseline.json")

    assert (at_limit.exit_code, over.exit_code) == (0, 1)
    assert over.stderr == "hygiene: 1 new finding at or above error (fail_on): HY002 D5\n"


def test_max_findings_is_a_whole_number_of_at_least_zero(make_deals, hygiene_cli):
    make_deals([CLEAN])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--max-findings", "-1")
    assert result.exit_code == 2
    assert "Invalid value for '--max-findings'" in result.stderr


# --min-score: a percentage; the score is the share of open deals with no error or warning.


@pytest.mark.parametrize(
    ("clean", "flagged", "min_score", "exit_code"),
    [
        (3, 1, "75", 0),  # 3 of 4 deals clean: exactly 75%
        (3, 1, "75%", 0),
        (3, 1, "75.01", 1),
        (4, 3, "57.14", 0),  # 4 of 7: 57.14% once rounded to four decimals of a fraction
        (4, 3, "57.15", 1),
        (0, 2, "0", 0),
        (0, 2, "1", 1),
        (2, 0, "100", 0),
    ],
)
def test_min_score_fails_below_the_percentage_and_passes_at_it(make_deals, hygiene_cli, clean, flagged, min_score, exit_code):
    make_deals([deal(CLEAN, f"C{i}") for i in range(clean)] + [deal(NO_CLOSE_DATE, f"F{i}") for i in range(flagged)])

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--fail-on", "never", "--min-score", min_score)

    assert result.exit_code == exit_code, result.output


def test_a_failed_min_score_names_the_score_and_the_threshold(make_deals, hygiene_cli):
    make_deals([CLEAN, CLEAN | {"id": "D5"}, deal(NO_CLOSE_DATE, "D6")])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--fail-on", "never", "--min-score", "70")
    assert (result.exit_code, result.stderr) == (1, "hygiene: hygiene score 66.67% is below --min-score 70%\n")


def test_known_findings_still_lower_the_score(make_deals, hygiene_cli):
    make_deals([CLEAN, NO_CLOSE_DATE])
    assert hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF).exit_code == 0

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--baseline", ".hygiene-baseline.json", "--min-score", "60")

    assert (result.exit_code, result.stderr) == (1, "hygiene: hygiene score 50% is below --min-score 60%\n")


def test_an_audit_without_open_deals_has_no_score_and_passes_min_score(make_deals, hygiene_cli):
    # Won in the past: a won deal closing after as_of would be an error (HY060 closed-record-integrity).
    make_deals([deal(CLEAN, "W1", stage="Closed Won", close_date="2026-03-30")])
    assert hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--min-score", "100").exit_code == 0


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0.8", "'0.8' looks like a fraction; give a percentage from 0 to 100 (80 for 80%), or write 0.8% if you mean it"),
        ("101", "'101' is not a percentage from 0 to 100"),
        ("-5", "'-5' is not a percentage from 0 to 100"),
        ("NaN", "'NaN' is not a percentage from 0 to 100"),
        ("eighty", "'eighty' is not a number; give a percentage from 0 to 100, e.g. 80"),
    ],
)
def test_min_score_refuses_what_is_not_a_percentage(make_deals, hygiene_cli, value, problem):
    make_deals([CLEAN])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--min-score", value)
    assert result.exit_code == 2
    assert f"Invalid value for '--min-score': {problem}" in result.stderr


@pytest.mark.parametrize(("text", "value"), [("80", Decimal(80)), (" 80 % ", Decimal(80)), ("0.5%", Decimal("0.5")), ("0", Decimal(0)), ("1", Decimal(1))])
def test_min_score_reads_percentages(text, value):
    assert parse_min_score(text) == value


# --exit-zero and what it does not hide.


def test_exit_zero_passes_every_failing_gate_silently(make_deals, hygiene_cli):
    make_deals([NO_CLOSE_DATE, STALE])
    failing = ("audit", "deals.csv", "--as-of", AS_OF, "--fail-on", "warning", "--min-score", "90")
    assert hygiene_cli(*failing).exit_code == 1

    result = hygiene_cli(*failing, "--exit-zero", "--format", "json")

    assert (result.exit_code, result.stderr) == (0, "")
    assert json_report(result.stdout)["summary"]["findings"] == 2


def test_a_rule_error_exits_2_even_with_exit_zero(tmp_path, make_deals, hygiene_config, hygiene_cli):
    make_deals([CLEAN])
    hygiene_config({"plugins": [write_broken_rule_plugin(tmp_path)]})

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--exit-zero", "--format", "json")

    assert result.exit_code == 2
    [error] = [f for f in json_report(result.stdout)["findings"] if f["code"] == "HY999"]
    assert "OOPS001" in error["message"] and "division by zero" in error["message"]


def test_every_failing_gate_is_named_on_standard_error(make_deals, hygiene_cli):
    make_deals([NO_CLOSE_DATE, deal(NO_CLOSE_DATE, "D5"), CLEAN])

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--max-findings", "1", "--min-score", "50")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "hygiene: 2 findings at or above error (fail_on), more than --max-findings 1",
        "hygiene: hygiene score 33.33% is below --min-score 50%",
    ]


def test_strict_baseline_needs_a_baseline(make_deals, hygiene_cli):
    make_deals([CLEAN])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--strict-baseline")
    assert result.exit_code == 2
    assert "--strict-baseline needs --baseline FILE" in result.stderr


def test_fail_on_alone_decides_the_exit_code():
    report = audit_deals([STALE, CLEAN], as_of=AS_OF)
    codes = [Gates(fail_on=fail_on).exit_code(report) for fail_on in ("error", "warning", "never")]
    assert codes == [0, 1, 0]


# The same gates as hygiene.toml keys; the command line beats them.


@pytest.mark.parametrize(
    ("config", "args", "exit_code"),
    [
        ({"max_findings": 2}, (), 0),  # two errors: not more than two
        ({"max_findings": 1}, (), 1),
        ({"max_findings": 1}, ("--max-findings", "2"), 0),  # the command line beats the configuration
        ({"max_findings": 5}, ("--max-findings", "1"), 1),
        ({"fail_on": "never", "max_findings": 0}, (), 0),
    ],
)
def test_max_findings_in_the_configuration(make_deals, hygiene_config, hygiene_cli, config, args, exit_code):
    make_deals([NO_CLOSE_DATE, PAST_DUE, CLEAN])
    hygiene_config(config)

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--fail-on", "never" if config.get("fail_on") == "never" else "error", *args)

    assert result.exit_code == exit_code, result.output


@pytest.mark.parametrize(
    ("min_score", "args", "exit_code"),
    [
        (50, (), 0),  # one open deal of two is clean: 50% is not below 50
        ("50.1%", (), 1),
        (51, ("--min-score", "50"), 0),  # the command line beats the configuration
    ],
)
def test_min_score_in_the_configuration(make_deals, hygiene_config, hygiene_cli, min_score, args, exit_code):
    make_deals([STALE, CLEAN])
    hygiene_config({"min_score": min_score})

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--fail-on", "never", *args)

    assert result.exit_code == exit_code, result.output
    if exit_code:
        assert "hygiene score 50% is below --min-score 50.1%" in result.stderr


def test_a_fraction_as_min_score_in_the_configuration_is_refused_naming_the_key(make_deals, hygiene_config, hygiene_cli):
    make_deals([CLEAN])
    hygiene_config({"min_score": 0.8})

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF)

    assert result.exit_code == 2
    assert result.stderr.startswith("hygiene: error: hygiene.toml: min_score: '0.8' looks like a fraction")


def test_strict_baseline_in_the_configuration_fails_while_the_baseline_lists_fixed_findings(make_deals, hygiene_config, hygiene_cli):
    make_deals([NO_CLOSE_DATE, CLEAN], name="then.csv")
    assert hygiene_cli("baseline", "then.csv", "--as-of", AS_OF).exit_code == 0
    make_deals([CLEAN])
    hygiene_config({"strict_baseline": True})

    strict = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--baseline", ".hygiene-baseline.json")
    without_baseline = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF)

    assert strict.exit_code == 1
    assert "--strict-baseline: .hygiene-baseline.json still lists 1 fixed finding" in strict.stderr
    # Without a baseline there is nothing to be strict about: a local run of a CI configuration passes.
    assert without_baseline.exit_code == 0, without_baseline.output
