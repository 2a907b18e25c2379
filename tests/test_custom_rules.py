"""``[[custom_rules]]``: rules written in hygiene.toml as a SQL condition and a message template.

The contract's example, what the condition can read (deal fields, extras
typed from their values, ``is_open``, ``is_won``, ``as_of``), how such a
rule is configured like any other, and the one-line errors for each way a
custom rule can be wrong.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import tomli_w
from _throwaway_install import run_pytest

from hygiene.testing import audit_deals, run_rules

#: The audit date: no test reads the clock.
AS_OF = "2026-03-31"

BIG_DEAL = {
    "code": "ACME001",
    "name": "big-deal-single-threaded",
    "summary": "Deal over 100k with fewer than three contacts",
    "severity": "warning",
    "where": "amount > 100000 AND contacts < 3",
    "message": "{name}: {amount} with only {contacts} contacts",
}
DEALS = [
    {"id": "D1", "name": "Acme", "owner": "Ada", "stage": "Proposal", "amount": "250000", "contacts": "1", "discount": "25"},
    {"id": "D2", "name": "Globex", "owner": "Ada", "stage": "Proposal", "amount": "250000", "contacts": "3", "discount": "10"},
    {"id": "D3", "name": "Initech", "owner": "Bob", "stage": "Closed Won", "amount": "400000", "contacts": "2", "discount": "30"},
    {"id": "D4", "name": "Hooli", "owner": "Bob", "stage": "Negotiation", "amount": "150000", "contacts": "", "discount": ""},
    {"id": "D5", "name": "Umbrella", "owner": "Cy", "stage": "Proposal", "amount": "90000", "contacts": "", "discount": "n/a"},
]


def custom_rule(**overrides) -> dict:
    return {**BIG_DEAL, **overrides}


@pytest.fixture
def configured(tmp_path, make_deals, hygiene_config):
    """Write DEALS as deals.csv and a hygiene.toml with these custom rules (and other settings)."""

    def write(*rules: dict, **settings) -> None:
        make_deals(DEALS)
        hygiene_config({**settings, "custom_rules": list(rules)})

    return write


def audit_json(hygiene_cli, *args: str) -> dict:
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def flagged(report: dict, code: str) -> list[str]:
    return [f["deal_id"] for f in report["findings"] if f["code"] == code]


# What a custom rule flags, and what it says.


def test_the_contracts_example_flags_every_deal_it_describes_open_or_closed(configured, hygiene_cli):
    configured(BIG_DEAL)

    report = audit_json(hygiene_cli, "--select", "ACME001")

    assert [(f["deal_id"], f["message"]) for f in report["findings"]] == [
        ("D1", "Acme: 250000.0 with only 1 contacts"),
        ("D3", "Initech: 400000.0 with only 2 contacts"),
    ]
    finding = report["findings"][0]
    assert (finding["rule"], finding["severity"], finding["row"]) == ("big-deal-single-threaded", "warning", 2)
    assert finding["details"] == {"amount": 250000.0, "contacts": 1}


def test_is_open_and_is_won_come_from_the_stage_table(configured, hygiene_cli):
    configured(
        custom_rule(where="is_open AND amount > 100000 AND contacts < 3"),
        custom_rule(code="ACME002", name="big-win", where="is_won AND amount > 300000", message="won {amount:,}"),
    )

    report = audit_json(hygiene_cli, "--select", "ACME")

    assert flagged(report, "ACME001") == ["D1"]
    assert [(f["deal_id"], f["message"]) for f in report["findings"] if f["code"] == "ACME002"] == [("D3", "won 400,000")]


def test_open_deals_the_condition_cannot_judge_are_counted_as_not_evaluable(configured, hygiene_cli):
    configured(custom_rule(where="is_open AND amount > 100000 AND contacts < 3"))

    report = audit_json(hygiene_cli, "--select", "ACME001")

    # D4: big, contacts empty, so "contacts < 3" is unknown. D5 is small: unknown AND false is false.
    assert report["summary"]["not_evaluable"] == {"ACME001": 1}


def test_without_a_message_the_summary_is_the_message(configured, hygiene_cli):
    configured({key: value for key, value in BIG_DEAL.items() if key != "message"})

    report = audit_json(hygiene_cli, "--select", "ACME001")

    assert {f["message"] for f in report["findings"]} == {"Deal over 100k with fewer than three contacts"}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("discount > 20", ["D1"]),  # every value a whole number: Int64
        ("is_open AND discount >= 10", ["D1", "D2"]),
        ("expected_margin < 0.25", ["D2"]),  # decimals: Float64
        ("signed_on < as_of - INTERVAL '30 days'", ["D1"]),  # ISO dates: Date, against the audit date
        ("region = 'EMEA' AND segment IS NULL", ["D1"]),  # text; a column with no value at all is null
        ("lower(region) LIKE 'am%'", ["D2"]),
    ],
)
def test_extras_are_typed_from_their_values_so_numbers_and_dates_compare_as_such(make_deals, hygiene_config, hygiene_cli, where, expected):
    make_deals(
        [
            {"id": "D1", "stage": "Proposal", "discount": "25", "expected_margin": "0.3", "signed_on": "2026-01-15", "region": "EMEA", "segment": ""},
            {"id": "D2", "stage": "Proposal", "discount": "10", "expected_margin": "0.125", "signed_on": "2026-03-15", "region": "Americas", "segment": ""},
            {"id": "D3", "stage": "Closed Lost", "discount": "5", "expected_margin": "", "signed_on": "", "region": "APAC", "segment": ""},
        ]
    )
    hygiene_config({"custom_rules": [custom_rule(where=where, message="{discount}")]})

    assert flagged(audit_json(hygiene_cli, "--select", "ACME001"), "ACME001") == expected


def test_typed_extras_keep_their_type_in_messages_and_details(tmp_path):
    rule = custom_rule(where="discount > 20", message="{discount}% off, {expected_margin:.1f} margin, signed {signed_on}")
    deal = {"id": "D1", "stage": "Proposal", "discount": " 25 ", "expected_margin": "0.25", "signed_on": "2026-01-15"}

    [finding] = run_rules([deal], rules=["ACME001"], as_of=AS_OF, config=write_config(tmp_path, rule))

    assert finding.message == "25% off, 0.2 margin, signed 2026-01-15"
    assert finding.details == {"discount": 25}


def test_an_audit_types_no_extra_when_no_rule_asks(monkeypatch, configured, hygiene_cli):
    from hygiene.api.extras import ExtraColumns

    def refuse(self, name):
        raise AssertionError(f"typed the extra {name!r}")

    monkeypatch.setattr(ExtraColumns, "_infer", refuse)
    configured(BIG_DEAL)

    assert audit_json(hygiene_cli, "--select", "HY,ACME001")["summary"]["deals"] == 5


# A custom rule is configured, listed and explained like a plugin's.


def test_rules_lists_custom_rules_under_the_configuration_file(configured, hygiene_cli):
    configured(BIG_DEAL)

    listed = hygiene_cli("rules").stdout

    row = next(line for line in listed.splitlines() if line.startswith("ACME001"))
    assert row.split()[:4] == ["ACME001", "big-deal-single-threaded", "warning", "hygiene.toml"]


def test_explain_shows_the_condition_and_how_closed_deals_are_treated(configured, hygiene_cli):
    configured(BIG_DEAL)

    explained = hygiene_cli("explain", "big-deal-single-threaded").stdout

    assert explained.startswith("ACME001 big-deal-single-threaded (warning, from plugin hygiene.toml)\n")
    assert "**Flags** every deal, open or closed, for which this condition is true::\n\n    amount > 100000 AND contacts < 3\n" in explained
    assert "``is_open AND ...`` limits a rule to open deals" in explained
    assert "**Message** ``{name}: {amount} with only {contacts} contacts``" in explained


@pytest.mark.parametrize(
    ("settings", "args", "expected"),
    [
        ({"select": ["ACME"]}, (), {"ACME001"}),
        ({"select": ["big-deal-single-threaded"]}, (), {"ACME001"}),
        ({"select": ["HY002", "ACME001"], "ignore": ["ACME001"]}, (), {"HY002"}),
        ({"rules": {"ACME001": {"enabled": False}}}, ("--select", "HY002,ACME001"), {"HY002"}),
        ({}, ("--select", "HY002,ACME", "--ignore", "big-deal-single-threaded"), {"HY002"}),
    ],
)
def test_select_ignore_and_enabled_treat_custom_rules_like_any_rule(configured, hygiene_cli, settings, args, expected):
    configured(BIG_DEAL, **settings)

    report = audit_json(hygiene_cli, *args)

    assert {f["code"] for f in report["findings"]} == expected


def test_a_rules_table_sets_a_custom_rules_severity(configured, hygiene_cli):
    configured(BIG_DEAL, rules={"big-deal-single-threaded": {"severity": "error"}})

    report = audit_json(hygiene_cli, "--select", "ACME001")

    assert {f["severity"] for f in report["findings"]} == {"error"}


def test_a_rules_table_for_a_custom_rule_takes_no_options(configured, hygiene_cli):
    configured(BIG_DEAL, rules={"ACME001": {"min_amount": 5}})

    result = hygiene_cli("rules")

    assert result.exit_code == 2
    assert "rules.ACME001.min_amount: unknown key in rules.ACME001" in result.stderr


def test_plugins_shows_the_configuration_and_its_custom_rules(configured, hygiene_cli):
    configured(BIG_DEAL, custom_rule(code="ACME002", name="bad", where="amount >"))

    result = hygiene_cli("plugins")

    assert result.exit_code == 0
    assert "hygiene.toml (local, configured): [[custom_rules]]\n  hooks: (none)\n  rules: ACME001\n" in result.stdout
    assert "  error: hygiene.toml: custom_rules[1] (ACME002 bad): where: invalid SQL" in result.stdout


# Each way a custom rule can be wrong: exit 2, one line naming the rule and the problem.

RULE = "hygiene.toml: custom_rules[0] (ACME001 big-deal-single-threaded)"
#: Loading the configuration, which every command does; auditing, which reads the export.
LOADING = ("rules",)
AUDITING = ("audit", "deals.csv", "--as-of", AS_OF)

class PolarsWording(str):
    """An expected error line whose middle is polars' own words, which a polars upgrade may change: only our part is pinned."""

    def __new__(cls, prefix: str, suffix: str = "") -> PolarsWording:
        line = super().__new__(cls, prefix + "..." + suffix)
        line.prefix, line.suffix = prefix, suffix
        return line

    def matches(self, line: str) -> bool:
        return line.startswith(self.prefix) and line.endswith(self.suffix) and len(line) > len(self.prefix) + len(self.suffix)


#: A custom rule that cannot work -> (the rule, the one line it stops with, the command that first sees it).
PROBLEMS = {
    "invalid SQL": (custom_rule(where="amount >"), PolarsWording(f"{RULE}: where: invalid SQL: "), LOADING),
    "unknown function": (
        custom_rule(where="frobnicate(amount)"),
        PolarsWording(f"{RULE}: where: invalid SQL: "),
        LOADING,
    ),
    "not true/false": (
        custom_rule(where="amount * 2"),
        f"{RULE}: where: gives Float64 values, not true/false; compare it with something",
        LOADING,
    ),
    "type mismatch": (custom_rule(where="amount > 'lots'"), PolarsWording(f"{RULE}: where: "), LOADING),
    "clock": (
        custom_rule(where="close_date < current_date"),
        f"{RULE}: where: current_date reads the clock; use as_of, the audit date, so that an audit can be repeated",
        LOADING,
    ),
    "subquery": (
        custom_rule(where="id IN (SELECT id FROM deals)"),
        f"{RULE}: where: subqueries (SELECT) are not supported: the condition reads one deal's fields",
        LOADING,
    ),
    "engine column": (
        custom_rule(where="__open__"),
        f"{RULE}: where: '__open__' is not a column rules can read (the engine's own columns start with '__')",
        LOADING,
    ),
    "bad code": (
        custom_rule(code="ACME1"),
        "hygiene.toml: custom_rules[0] (ACME1 big-deal-single-threaded): code 'ACME1' is not a rule code: "
        "uppercase letters, then three digits, e.g. 'ACME001'",
        LOADING,
    ),
    "reserved prefix": (
        custom_rule(code="HY123"),
        "hygiene.toml: custom_rules[0] (HY123 big-deal-single-threaded): code 'HY123' has the prefix HY, which is reserved "
        "for hygiene's built-in rules: use a prefix of your own, e.g. 'ACME001'",
        LOADING,
    ),
    "bad name": (
        custom_rule(name="Big Deal"),
        "hygiene.toml: custom_rules[0] (ACME001 Big Deal): name 'Big Deal' is not a rule name: kebab-case, e.g. 'stale-stage'",
        LOADING,
    ),
    "name of a built-in rule": (
        custom_rule(name="stale-stage"),
        "rule 'stale-stage' is registered twice: by plugin 'builtin-rules' (hygiene_rules.stale_stage.StaleStage) "
        "and by hygiene.toml: custom_rules[0] (ACME001 stale-stage)",
        LOADING,
    ),
    "unbalanced template": (custom_rule(message="{name"), f"{RULE}: message: invalid template: expected '}}' before end of string", LOADING),
    "empty template field": (custom_rule(message="deal {}"), f"{RULE}: message: {{}} names no column; write {{amount}}, {{name}} ...", LOADING),
    "unsupported spec": (custom_rule(message="{amount:x}"), f"{RULE}: message: unsupported format spec 'x' (use ',', '.Nf' or ',.Nf')", LOADING),
    "number spec on text": (custom_rule(message="{stage:,}"), f"{RULE}: message: {{stage:,}} formats a number, but stage is String", LOADING),
    "missing where": (
        {key: value for key, value in BIG_DEAL.items() if key != "where"},
        "hygiene.toml: custom_rules[0]: 'where' is a required property",
        LOADING,
    ),
    "unknown key": (
        custom_rule(options={"min": 1}),
        "hygiene.toml: custom_rules[0].options: unknown key in custom_rules[0] (expected one of: code, group, message, name, severity, summary, weight, where)",
        LOADING,
    ),
    "unknown column": (
        custom_rule(where="discout > 20"),
        f"{RULE}: where: unknown column 'discout': not a deal field, and the export has no such column; did you mean discount?",
        AUDITING,
    ),
    "unknown column in the message": (
        custom_rule(message="{territory}"),
        f"{RULE}: message: unknown column 'territory': not a deal field, and the export has no such column",
        AUDITING,
    ),
    "text extra compared as a number": (
        custom_rule(where="discount > 20 AND is_open"),
        PolarsWording(
            f"{RULE}: where: ", " ('discount' is text: 'n/a' in row 6 is not a number; TRY_CAST(discount AS DOUBLE) reads the others)"
        ),
        AUDITING,
    ),
    "number format of a text extra": (
        custom_rule(message="{discount:.1f}"),
        f"{RULE}: message: {{discount:.1f}} formats a number, but discount is String",
        AUDITING,
    ),
}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_a_custom_rule_that_cannot_work_stops_the_run_with_one_line(configured, hygiene_cli, problem):
    rule, error, command = PROBLEMS[problem]
    configured(rule)
    if command == AUDITING:
        assert hygiene_cli("rules").exit_code == 0, "only the export can tell"

    result = hygiene_cli(*command)

    assert (result.exit_code, result.stdout) == (2, "")
    if isinstance(error, PolarsWording):
        assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
        assert error.matches(result.stderr.removeprefix("hygiene: error: ").removesuffix("\n")), result.stderr
    else:
        assert result.stderr == f"hygiene: error: {error}\n"


def test_two_custom_rules_with_one_code_are_both_named(configured, hygiene_cli):
    configured(BIG_DEAL, custom_rule(name="other-rule"))

    result = hygiene_cli("rules")

    assert result.exit_code == 2
    assert result.stderr == (
        "hygiene: error: rule 'ACME001' is registered twice: by hygiene.toml: custom_rules[0] (ACME001 big-deal-single-threaded) "
        "and by hygiene.toml: custom_rules[1] (ACME001 other-rule)\n"
    )


def test_an_export_column_read_as_a_deal_field_is_not_an_extra(configured, hygiene_cli):
    configured(custom_rule(where='"Deal Size" > 100000'), source={"fields": {"amount": "Deal Size"}})

    result = hygiene_cli("rules")

    assert result.stderr == (
        f"hygiene: error: {RULE}: where: the export column 'Deal Size' is read as the deal field amount ([source.fields]); write amount\n"
    )




def test_try_cast_reads_the_numbers_of_a_text_extra(configured, hygiene_cli):
    configured(custom_rule(where="TRY_CAST(discount AS DOUBLE) > 20"))

    assert flagged(audit_json(hygiene_cli, "--select", "ACME001"), "ACME001") == ["D1", "D3"]


# hygiene.testing runs custom rules and local plugins' rules from a configuration.


def write_config(folder: Path, *rules: dict, plugins: list[str] | None = None) -> Path:
    path = folder / "hygiene.toml"
    path.write_text(tomli_w.dumps({"plugins": plugins or [], "custom_rules": list(rules)}), encoding="utf-8")
    return path


def test_run_rules_takes_custom_rules_from_a_configuration(tmp_path):
    config = write_config(tmp_path, BIG_DEAL)

    findings = run_rules(DEALS, rules=["big-deal-single-threaded"], as_of=AS_OF, config=config)

    assert [f.deal_id for f in findings] == ["D1", "D3"]
    assert audit_deals(DEALS, rules=["ACME001"], as_of=AS_OF, config=config).rules[0].plugin == "hygiene.toml"


LOCAL_RULE = '''
    from hygiene import DealRule, hookimpl


    class NoChampion(DealRule):
        code = "TEAM001"
        name = "no-champion"
        summary = "Deal without a champion"

        def check(self, deal, ctx):
            return None if deal.extras.get("champion") else "no champion"


    @hookimpl
    def hygiene_register_rules():
        return [NoChampion]
'''


def test_rule_cases_name_rules_of_the_configuration_they_point_at(tmp_path):
    (tmp_path / "audit_rules").mkdir()
    (tmp_path / "audit_rules" / "champions.py").write_text(textwrap.dedent(LOCAL_RULE), encoding="utf-8")
    write_config(tmp_path, BIG_DEAL, plugins=["audit_rules/champions.py"])
    cases = tmp_path / "tests"
    cases.mkdir()
    for code, deals, expect in (
        ("ACME001", '[{ id = "BIG", stage = "Proposal", amount = 200000, contacts = 1 }]', '["BIG"]'),
        ("TEAM001", '[{ id = "D1", stage = "Proposal", champion = "Ana" }, { id = "D2", stage = "Proposal" }]', '["D2"]'),
    ):
        (cases / f"{code}.rulecases.toml").write_text(
            f'rule = "{code}"\nconfig = "../hygiene.toml"\n\n[[case]]\nname = "{code} flags"\ndeals = {deals}\nexpect = {expect}\n',
            encoding="utf-8",
        )

    completed = run_pytest(tmp_path, [], "-p", "hygiene.testing", "-q", "tests")

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "2 passed" in completed.stdout
