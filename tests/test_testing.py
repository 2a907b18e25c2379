"""``hygiene.testing`` as a pytest plugin: rule cases collected from data files, and its fixtures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

import hygiene.testing
from hygiene.testing import audit_deals, run_rules

CASES = """
    rule = "HY001"
    as_of = 2026-03-31

    [[case]]
    name = "past the limit"
    deals = [
      { id = "AT", stage = "Proposal", stage_entered_date = 2026-03-01 },
      { id = "PAST", stage = "Proposal", stage_entered_date = 2026-02-28 },
    ]
    expect = ["PAST"]

    [[case]]
    name = "wrong expectation"
    deals = [{ id = "PAST", stage = "Proposal", stage_entered_date = 2026-02-28 }]
    expect = ["AT"]

    [[case]]
    name = "bad option"
    options = { max_days = "abc" }
    expect = []
"""

MALFORMED = {
    "unknown-key": ('rule = "HY001"\n[[case]]\nname = "a"\nexpects = []\n', "case[0]: unknown key 'expects' (expected one of: as_of, config, deals, expect,"),
    "no-expect": ('rule = "HY001"\n[[case]]\nname = "a"\n', "case[0]: missing key 'expect'"),
    "no-rule": ('[[case]]\nname = "a"\nexpect = []\n', "missing key 'rule'"),
    "same-name": ('rule = "HY001"\n[[case]]\nname = "a"\nexpect = []\n[[case]]\nname = "a"\nexpect = []\n', "case[1]: the name 'a' is used twice"),
    "expect-not-array": ('rule = "HY001"\n[[case]]\nname = "a"\nexpect = "D1"\n', "case[0]: expect: expected an array"),
    "not-toml": ('rule = "HY001"\ncase = [', "invalid TOML: "),
}


def documented_examples() -> list[str]:
    """The literal blocks of the module's documentation: the Python example, then the rule-cases file."""
    return [textwrap.dedent(block) for block in re.findall(r"::\n\n((?:    .*\n|\n)+)", hygiene.testing.__doc__)]


def test_the_documented_run_rules_example_works():
    exec(documented_examples()[0], {})


@pytest.fixture(scope="module")
def pytest_output(tmp_path_factory) -> str:
    """What ``pytest -p hygiene.testing -v`` prints for a folder of good, failing and malformed case files."""
    folder = tmp_path_factory.mktemp("cases")
    files = {
        "stale.rulecases.toml": CASES,
        "not-cases.toml": CASES,
        "documented.rulecases.toml": documented_examples()[1],
        **{f"{name}.rulecases.toml": text for name, (text, _) in MALFORMED.items()},
    }
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    # A process of its own: the outer test run's plugins and configuration must not leak into the run.
    command = [sys.executable, "-m", "pytest", "-p", "hygiene.testing", "-p", "no:cacheprovider", "-v", "--continue-on-collection-errors", str(folder)]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120).stdout


def test_each_case_is_a_test_and_only_rulecases_files_are_collected(pytest_output):
    outcomes = re.findall(r"^\S+::(.+?) (PASSED|FAILED)", pytest_output, flags=re.MULTILINE)

    assert sorted(outcomes) == [
        ("bad option", "FAILED"),
        ("one day past the stage's max_days is flagged", "PASSED"),
        ("past the limit", "PASSED"),
        ("wrong expectation", "FAILED"),
    ]


def test_a_failing_case_shows_expected_and_flagged_deals_with_their_messages(pytest_output):
    assert (
        "HY001 case 'wrong expectation' flagged other deals than expected\n"
        "  expected: ['AT']\n"
        "  flagged:  ['PAST']\n"
        "    PAST: in Proposal for 31 days (limit 30)\n"
    ) in pytest_output


def test_a_case_with_invalid_options_fails_with_one_line(pytest_output):
    assert "HY001 case 'bad option': run_rules(): rules.HY001.max_days: 'abc' is not of type 'integer'\n" in pytest_output


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_cases_file_is_a_collection_error_naming_the_problem(pytest_output, name):
    assert f"ERROR {name}.rulecases.toml" in pytest_output
    assert f"{name}.rulecases.toml: {MALFORMED[name][1]}" in pytest_output


def test_cli_fixtures_audit_what_run_rules_finds(make_deals, hygiene_config, hygiene_cli):
    deals = [
        {"id": "D1", "owner": "Ada", "stage": "Negotiation", "stage_entered_date": "2026-03-01", "close_date": "2026-03-30"},
        {"id": "D2", "owner": "Ada", "stage": "Proposal"},
        {"id": "D2", "owner": "Bob", "stage": "Discovery"},
    ]
    make_deals(deals, name="pipeline.csv")
    hygiene_config({"source": {"path": "pipeline.csv"}, "quotas": {"Ada": 1000}, "rules": {"stale-stage": {"severity": "error"}}})

    result = hygiene_cli("audit", "--as-of", "2026-03-31", "--format", "json")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    expected = run_rules(deals, as_of="2026-03-31", quotas={"Ada": 1000}, options={"stale-stage": {"severity": "error"}})
    assert report["findings"] == [finding.to_dict() for finding in expected]
    not_evaluable = report["summary"]["not_evaluable"]
    assert (not_evaluable["HY001"], not_evaluable["HY005"]) == (1, 2)
    assert not_evaluable == audit_deals(deals, as_of="2026-03-31", quotas={"Ada": 1000}).summary()["not_evaluable"]
