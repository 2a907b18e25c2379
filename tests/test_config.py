"""``hygiene.toml``: every mistake is one line naming the key, and every valid setting changes the audit."""

from __future__ import annotations

import json
import textwrap

import pytest

#: The audit date: no test reads the clock.
AS_OF = "2026-03-31"

#: Open in Proposal since 2026-01-01 (89 days at AS_OF, Proposal allows 30), closing next quarter: only stale.
STALE_DEAL = ["D1", "Acme renewal", "Ada Lovelace", "Proposal", "2026-06-30", "2026-01-01", "50000"]
HEADER = ["Id", "Name", "Owner", "Stage", "Close Date", "Stage Entered Date", "Amount"]


@pytest.fixture
def audit_with(tmp_path, write_csv, hygiene_cli):
    """Audit ``deals.csv`` (one stale deal unless given) with ``toml`` as ``./hygiene.toml``."""

    def audit(toml: str, *args: str, rows: list[list[str]] | None = None, config_name: str = "hygiene.toml"):
        """``rows``: the export, its header first."""
        config = tmp_path / config_name
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(textwrap.dedent(toml), encoding="utf-8")
        write_csv(rows or [HEADER, STALE_DEAL])
        if config_name != "hygiene.toml":
            args = ("--config", config_name, *args)
        return hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, *args)

    return audit


def findings_of(result) -> list[dict]:
    return json.loads(result.stdout)["findings"]


#: name: (hygiene.toml, the line after "hygiene.toml: "; "..." ends a line whose rest lists what is allowed)
CONFIG_ERRORS = {
    "unknown top-level key": ('colour = "red"', "colour: unknown key in top level (expected one of: ..."),
    "unknown key in [source]": ('source.tab = "Deals"', "source.tab: unknown key in source (expected one of: ..."),
    "unknown canonical field": ('source.fields.deal = "Id"', "source.fields.deal: unknown key in source.fields (expected one of: account, amount, ..."),
    "list expected": ('select = "HY001"', "select: 'HY001' is not of type 'array'"),
    "number expected": ('quotas."Ada Lovelace" = "lots"', "quotas.Ada Lovelace: 'lots' is not of type 'number'"),
    "table expected": ("rules.stale-stage = 3", "rules.stale-stage: 3 is not of type 'object'"),
    "month out of range": ("pipeline.fiscal_year_start_month = 13", "pipeline.fiscal_year_start_month: 13 is greater than the maximum of 12"),
    "bad fail_on": ('fail_on = "sometimes"', "fail_on: 'sometimes' is not one of 'error', 'warning', 'info', 'never'"),
    "bad severity": ('rules.stale-stage.severity = "fatal"', "rules.stale-stage.severity: 'fatal' is not one of 'error', 'warning', 'info'"),
    "unknown rule": ("rules.stale-stages.max_days = 3", "rules: unknown rule 'stale-stages' (`hygiene rules` lists them)"),
    "rule by code and by name": ("rules.stale-stage.max_days = 3\nrules.HY001.max_days = 4", "rules.HY001: rule HY001 is configured twice (also as rules.stale-stage)"),
    "option of the wrong type": ('rules.stale-stage.max_days = "abc"', "rules.stale-stage.max_days: 'abc' is not of type 'integer'"),
    "option out of range": ("rules.HY001.max_days = -1", "rules.HY001.max_days: -1 is less than the minimum of 0"),
    "undeclared option": ("rules.HY002.max_days = 3", "rules.HY002.max_days: unknown key in rules.HY002 (expected one of: ..."),
    "invalid TOML": ("select = [", "invalid TOML: ..."),
    "stage listed twice": ('pipeline.stages = [{name = "Demo"}, {name = "demo "}]', "pipeline.stages[1].name: stage 'demo ' is listed twice (first at pipeline.stages[0])"),
    "won but not closed": ('pipeline.stages = [{name = "Demo"}, {name = "Won", won = true}]', "pipeline.stages[1]: a won stage must also be closed (add closed = true)"),
    "every stage closed": ('pipeline.stages = [{name = "Lost", closed = true}]', "pipeline.stages: every stage is closed; at least one must be open"),
    "stage without a name": ("pipeline.stages = [{probability = 10}]", "pipeline.stages[0]: 'name' is a required property"),
    "select matching no rule": ('select = ["HY", "XX9"]', "select: 'XX9' matches no rule code, prefix, name or group (`hygiene rules` lists them)"),
    "ignore matching no rule": ('ignore = ["stale-stages"]', "ignore: 'stale-stages' matches no rule code, prefix, name or group (`hygiene rules` lists them)"),
    "unknown source type": ('source.type = "xlsx"', "source.type: unknown source 'xlsx' (known: arrow, csv, excel, json, jsonl, parquet, sql)"),
    "bad source option": ('source.delimiter = "x"', "source.delimiter: 'x' is not one of ',', ';', '\\t', '|'"),
}


@pytest.mark.parametrize(("toml", "line"), list(CONFIG_ERRORS.values()), ids=list(CONFIG_ERRORS))
def test_a_config_error_exits_2_with_one_line_naming_the_key(audit_with, toml, line):
    result = audit_with(toml)
    assert result.exit_code == 2
    assert result.stdout == ""
    [written] = result.stderr.splitlines()
    expected = f"hygiene: error: hygiene.toml: {line}"
    if line.endswith("..."):
        assert written.startswith(expected.removesuffix("...")), written
    else:
        assert written == expected


def test_a_config_saved_with_a_byte_order_mark_is_read(audit_with):
    result = audit_with('\ufefffail_on = "warning"\n')
    assert result.exit_code == 1, result.stderr


def test_a_config_given_with_config_is_named_as_given(audit_with):
    result = audit_with("fail_on = 1", config_name="team/hygiene.toml")
    assert result.exit_code == 2
    assert result.stderr == "hygiene: error: team/hygiene.toml: fail_on: 1 is not one of 'error', 'warning', 'info', 'never'\n"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--format", "xml"), "--format: unknown reporter 'xml' (known: console, csv, github, gitlab, html, json, junit, markdown, xlsx)"),
        (("--select", "HY001,nope"), "--select: 'nope' matches no rule code, prefix, name or group (`hygiene rules` lists them)"),
        (("--ignore", "XX"), "--ignore: 'XX' matches no rule code, prefix, name or group (`hygiene rules` lists them)"),
    ],
)
def test_a_bad_command_line_setting_exits_2_with_one_line(audit_with, args, line):
    result = audit_with("", *args)
    assert (result.exit_code, result.stderr) == (2, f"hygiene: error: {line}\n")


# Valid settings reach the audit.

#: In a stage the table does not know for 40 days: only the rule's max_days option applies.
UNKNOWN_STAGE_DEAL = ["D2", "Globex", "Grace Hopper", "Legal Review", "2026-06-30", "2026-02-19", "1000"]


@pytest.mark.parametrize(("max_days", "flagged"), [(None, True), (39, True), (40, False)])
def test_the_max_days_option_is_the_limit_for_stages_without_one(audit_with, max_days, flagged):
    toml = "" if max_days is None else f"[rules.stale-stage]\nmax_days = {max_days}"
    result = audit_with(toml, "--format", "json", "--select", "stale-stage", rows=[HEADER, UNKNOWN_STAGE_DEAL])
    stale = [f for f in findings_of(result) if f["code"] == "HY001"]
    assert [f["deal_id"] for f in stale] == (["D2"] if flagged else [])
    if flagged:
        assert stale[0]["message"] == f"in Legal Review for 40 days (limit {max_days or 30})"


def test_a_stage_table_replaces_the_default_one(audit_with):
    toml = """
        [[pipeline.stages]]
        name = "Proposal"
        max_days = 120
        [[pipeline.stages]]
        name = "Signed"
        closed = true
        won = true
    """
    result = audit_with(toml, "--format", "json", "--select", "HY001,HY901", rows=[HEADER, STALE_DEAL, UNKNOWN_STAGE_DEAL])
    # 89 days in Proposal is now within its 120; Legal Review is still unknown, so it is stale at the default 30.
    assert [(f["code"], f["deal_id"]) for f in findings_of(result)] == [("HY001", "D2"), ("HY901", "D2")]


@pytest.mark.parametrize(
    ("toml", "args", "severity", "exit_code"),
    [
        ("", (), "warning", 0),
        ('[rules.stale-stage]\nseverity = "error"', (), "error", 1),
        ('[rules.HY001]\nseverity = "info"', ("--fail-on", "warning"), "info", 0),
        ('[rules.HY001]\nseverity = "info"', ("--fail-on", "info"), "info", 1),
        ('fail_on = "warning"', (), "warning", 1),
        ('fail_on = "warning"', ("--fail-on", "never"), "warning", 0),
    ],
)
def test_severity_overrides_and_fail_on_decide_the_exit_code(audit_with, toml, args, severity, exit_code):
    result = audit_with(toml, "--format", "json", *args)
    assert [(f["code"], f["severity"]) for f in findings_of(result)] == [("HY001", severity)]
    assert result.exit_code == exit_code


@pytest.mark.parametrize(
    "toml",
    ["[rules.stale-stage]\nenabled = false", 'ignore = ["stale-stage"]', 'select = ["HY002", "HY003"]', 'select = ["HY00"]\nignore = ["HY001"]'],
)
def test_a_rule_can_be_switched_off(audit_with, toml):
    result = audit_with(toml, "--format", "json")
    assert (result.exit_code, findings_of(result)) == (0, [])
    assert "HY001" not in result.stdout


def test_the_command_lines_select_replaces_the_configs(audit_with):
    result = audit_with('select = ["HY002"]', "--format", "json", "--select", "stale-stage")
    assert [f["code"] for f in findings_of(result)] == ["HY001"]


def test_rules_shows_the_configured_severity(tmp_path, hygiene_cli):
    (tmp_path / "hygiene.toml").write_text('[rules.stale-stage]\nseverity = "error"\n', encoding="utf-8")
    [stale] = [line.split() for line in hygiene_cli("rules").stdout.splitlines() if line.startswith("HY001")]
    assert stale[:3] == ["HY001", "stale-stage", "error"]


def test_the_fiscal_year_sets_the_reports_period(audit_with):
    result = audit_with("[pipeline]\nfiscal_year_start_month = 2", "--format", "json")
    assert json.loads(result.stdout)["period"] == {"name": "FY2027-Q1", "start": "2026-02-01", "end": "2026-04-30"}


def test_source_settings_and_quotas_read_the_export_as_configured(audit_with):
    toml = """
        [source]
        date_format = "%d/%m/%Y"
        decimal = ","
        [source.fields]
        id = "Opportunity"
        owner = "Rep"
        [quotas]
        "Ada Lovelace" = 10000
    """
    rows = [["Opportunity", "Rep", "Stage", "Close Date", "Amount"], ["O-1", "Ada Lovelace", "Closed Won", "15/02/2026", "1.500,50"]]
    result = audit_with(toml, "--format", "json", rows=rows)
    [finding] = findings_of(result)
    assert (finding["code"], finding["owner"], finding["deal_id"]) == ("HY004", "Ada Lovelace", None)
    assert (finding["details"]["won"], finding["details"]["gap"]) == (1500.5, 8499.5)
    assert finding["message"] == "won 1,500 + weighted 0 of 2026-Q1 quota 10,000: gap 8,500, coverage 0.00x"
