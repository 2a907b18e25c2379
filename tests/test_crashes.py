"""Crashes that must not escape: a failing rule is its HY999, a failing reporter is named, never a traceback.

Polars reports some internal failures as a panic (``PanicException``,
a :class:`BaseException`); a plugin may raise ``SystemExit``. Neither may end
a run with a traceback, exit code 0 or 1, or the loss of the other rules'
findings.
"""

from __future__ import annotations

import json
import textwrap

import pytest

#: The audit date: no test reads the clock.
AS_OF = "2026-03-31"

HEADER = ["Id", "Name", "Owner", "Stage", "Amount", "Close Date", "Stage Entered Date"]
EXPORT = [
    HEADER,
    ["D1", "Acme", "Ada Lovelace", "Proposal", "1000", "2026-06-30", "2026-01-01"],
    ["D2", "Beta", "Alan Turing", "Negotiation", "2000", "", "2026-03-20"],
]

RULE_HEADER = '''
import polars as pl

from hygiene import DealRule, Finding, PipelineRule, Reporter, hookimpl
'''


def plugin(tmp_path, body: str, register: str) -> None:
    (tmp_path / "team_rules.py").write_text(RULE_HEADER + textwrap.dedent(body) + textwrap.dedent(register), encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text('plugins = ["team_rules.py"]\n', encoding="utf-8")


def rules_plugin(tmp_path, body: str) -> None:
    plugin(tmp_path, body, "\n@hookimpl\ndef hygiene_register_rules():\n    return [Broken]\n")


def deal_rule(method: str, **extra: str) -> str:
    """A vectorised rule ``TEAM001`` whose ``method`` is ``extra[method]``; the rest work."""
    methods = {
        "condition": "return ctx.is_open",
        "not_evaluable": "return None",
        "columns": "return {}",
        "details": "return {}",
        "message_expr": "return pl.lit('broken rule flagged it')",
        **extra,
    }
    if method == "message":
        methods["message_expr"] = "return None"  # messages are made in Python, by message(deal, ctx)
        methods["message"] = methods.pop("message")
    body = "".join(
        f"\n    def {name}(self, {'deal, ctx' if name == 'message' else 'ctx'}):\n        {code}\n" for name, code in methods.items()
    )
    return f'''
class Broken(DealRule):
    """A rule that fails in {method}."""

    code = "TEAM001"
    name = "broken"
    summary = "fails"
    severity = "warning"
{body}'''


def audit_json(hygiene_cli, *extra):
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json", *extra)
    return result, (json.loads(result.stdout) if result.stdout.strip().startswith("{") else None)


def rule_errors(report) -> list[str]:
    return [f["message"] for f in report["findings"] if f["code"] == "HY999"]


def built_in_codes(report) -> set[str]:
    return {f["code"] for f in report["findings"] if f["code"].startswith("HY") and f["code"] != "HY999"}


PANIC = "return pl.col('name').str.split('c').list.get(-2**63) == 'x'"


@pytest.mark.parametrize(
    ("method", "code"),
    [
        ("condition", PANIC),
        ("condition", "raise SystemExit(0)"),
        ("condition", "raise SystemExit('bye')"),
        ("not_evaluable", "raise ValueError('no counting today')"),
        ("not_evaluable", "return pl.col('name').cast(pl.Int64) > 1"),
        ("not_evaluable", PANIC),
        ("columns", "raise SystemExit(3)"),
        ("details", "raise RuntimeError('no details')"),
        ("message_expr", "raise KeyError('message')"),
        ("message", "raise SystemExit(1)"),
    ],
    ids=["panic", "exit-0", "exit-text", "not-evaluable-raises", "not-evaluable-fails-in-polars", "not-evaluable-panics", "columns", "details", "message-expr", "message"],
)
def test_a_rule_that_fails_anywhere_is_its_hy999_and_the_others_report(write_csv, hygiene_cli, tmp_path, method, code):
    write_csv(EXPORT)
    rules_plugin(tmp_path, deal_rule(method, **{method: code}))
    result, report = audit_json(hygiene_cli)
    assert result.exit_code == 2, result.output
    assert report is not None, result.output
    [error] = rule_errors(report)
    assert error.startswith("rule TEAM001 (broken) from plugin 'team_rules.py' failed: ")
    assert not [f for f in report["findings"] if f["code"] == "TEAM001"]
    assert "HY002" in built_in_codes(report)  # D2's missing close date is still reported
    assert "TEAM001" not in report["summary"]["not_evaluable"]


def test_a_panic_is_named_as_one(write_csv, hygiene_cli, tmp_path):
    write_csv(EXPORT)
    rules_plugin(tmp_path, deal_rule("condition", condition=PANIC))
    _, report = audit_json(hygiene_cli)
    [error] = rule_errors(report)
    assert ": PanicException: polars panicked: " in error


def test_a_custom_rule_that_panics_in_the_audit_is_its_hy999(write_csv, hygiene_cli, tmp_path):
    write_csv(EXPORT)
    (tmp_path / "hygiene.toml").write_text(
        textwrap.dedent(
            """
            [[custom_rules]]
            code = "ACME001"
            name = "split"
            summary = "split part"
            where = "SPLIT_PART(name, 'c', -9223372036854775808) = 'x'"
            """
        ),
        encoding="utf-8",
    )
    result, report = audit_json(hygiene_cli)
    assert result.exit_code == 2, result.output
    [error] = rule_errors(report)
    assert error.startswith("rule ACME001 (split) from plugin 'hygiene.toml' failed: ")
    assert "HY002" in built_in_codes(report)


def test_a_custom_rule_that_panics_while_the_config_loads_is_one_config_error(hygiene_cli, tmp_path):
    (tmp_path / "hygiene.toml").write_text(
        textwrap.dedent(
            """
            [[custom_rules]]
            code = "ACME001"
            name = "decimal"
            summary = "wide decimal"
            where = "CAST(amount AS DECIMAL(76, 0)) > 0"
            """
        ),
        encoding="utf-8",
    )
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    # The Rust runtime prints its own panic note to stderr first; ours is the last line, and the only one of ours.
    assert result.stderr.strip().splitlines()[-1].startswith(
        "hygiene: error: hygiene.toml: custom_rules[0] (ACME001 decimal): where: polars cannot evaluate it (it panicked: "
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "check",
    [
        "return pl.DataFrame({'deal_id': ['D1'], 'message': ['m'], 'details': ['not json']})",
        "return pl.DataFrame({'deal_id': ['D1'], 'message': ['m'], 'details': ['[1, 2]']})",
        "return pl.DataFrame({'deal_id': ['D1'], 'message': ['m'], 'details': ['{\"x\": NaN}']})",
        "return pl.DataFrame({'deal_id': ['D1'], 'owner': ['Ada']})",
        "return pl.DataFrame({'deal_id': ['D1'], 'message': [None]}, schema={'deal_id': pl.String, 'message': pl.String})",
        "return pl.DataFrame({'message': ['m']})",
        "return pl.DataFrame({'deal_id': ['D1'], 'message': ['m'], 'row': ['first']})",
        "return pl.DataFrame({'deal_id': ['D1'], 'message': [3]})",
        "return pl.DataFrame({'deal_id': ['D1'], 'message': ['m'], 'colour': ['red']})",
        "return [Finding(message=None, deal_id='D1')]",
        "return ['not a finding']",
        "return [Finding(message='m', deal_id='D1', details={'x': float('nan')})]",
        "return pl.DataFrame({'deal_id': ['D1'], 'message': ['m'], 'amount': [float('inf')]})",
        "raise SystemExit(0)",
    ],
    ids=["details-not-json", "details-not-object", "details-nan", "no-message", "null-message", "about-nothing", "row-not-int", "message-not-text", "unknown-column", "finding-without-message", "not-findings", "finding-details-nan", "amount-inf", "exit"],
)
def test_what_a_pipeline_rule_returns_is_checked(write_csv, hygiene_cli, tmp_path, check):
    write_csv(EXPORT)
    rules_plugin(
        tmp_path,
        f'''
class Broken(PipelineRule):
    """Returns what is not findings."""

    code = "TEAM001"
    name = "broken"
    summary = "bad output"
    severity = "warning"

    def check(self, deals, ctx):
        {check}
''',
    )
    result, report = audit_json(hygiene_cli)
    assert result.exit_code == 2, result.output
    [error] = rule_errors(report)
    assert error.startswith("rule TEAM001 (broken) from plugin 'team_rules.py' failed: ")
    assert "HY002" in built_in_codes(report)


def test_a_pipeline_rule_frame_that_is_findings_is_accepted(write_csv, hygiene_cli, tmp_path):
    write_csv(EXPORT)
    rules_plugin(
        tmp_path,
        '''
class Broken(PipelineRule):
    """Owner-level and deal-level findings."""

    code = "TEAM001"
    name = "fine"
    summary = "fine"
    severity = "warning"

    def check(self, deals, ctx):
        return pl.DataFrame({"deal_id": ["D1", None], "owner": [None, "Ada"], "message": ["a", "b"], "details": ['{"n": 1}', None]})
''',
    )
    result, report = audit_json(hygiene_cli)
    assert result.exit_code == 1, result.output
    mine = [f for f in report["findings"] if f["code"] == "TEAM001"]
    assert sorted((f["deal_id"] or "", f["message"], json.dumps(f["details"])) for f in mine) == [("", "b", "{}"), ("D1", "a", '{"n": 1}')]


def test_a_plugin_that_exits_while_imported_is_one_line_and_exit_2(write_csv, hygiene_cli, tmp_path):
    write_csv(EXPORT)
    (tmp_path / "team_rules.py").write_text("raise SystemExit(0)\n", encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text('plugins = ["team_rules.py"]\n', encoding="utf-8")
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF)
    assert result.exit_code == 2
    assert result.output.strip() == "hygiene: error: plugin 'team_rules.py' failed to load: SystemExit: 0"


REPORTERS = '''
class Exploding(Reporter):
    """Fails half way."""

    name = "exploding"

    def write(self, report, stream):
        stream.write("half")
        raise {error}


@hookimpl
def hygiene_register_reporters():
    return [Exploding]
'''


@pytest.mark.parametrize(
    ("error", "shown"),
    [("RuntimeError('out of ink')", "RuntimeError: out of ink"), ("SystemExit(0)", "SystemExit: 0")],
    ids=["raises", "exits"],
)
def test_a_failing_reporter_is_named_with_its_target_and_the_others_still_write(write_csv, hygiene_cli, tmp_path, error, shown):
    write_csv(EXPORT)
    plugin(tmp_path, "", REPORTERS.format(error=error))
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "exploding:first.txt", "--format", "json:report.json", "--format", "csv:report.csv")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"hygiene: error: the exploding reporter failed writing first.txt: {shown}"
    assert not (tmp_path / "first.txt").exists()
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["summary"]["findings"] >= 1
    assert (tmp_path / "report.csv").read_text(encoding="utf-8-sig").startswith("severity,code")
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_github_with_output_says_what_to_do(write_csv, hygiene_cli):
    write_csv(EXPORT)
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "github", "--output", "f")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "hygiene: error: --output: the github reporter writes to standard output beside another report, not to a file; "
        "use --format github:PATH to write it to a file"
    )


@pytest.mark.parametrize("entries", ['["team_rules.py", "team_rules.py"]', '["team_rules.py", "./team_rules.py"]', '["team_rules", "team_rules"]'])
def test_a_plugin_listed_twice_is_one_line(write_csv, hygiene_cli, tmp_path, entries):
    write_csv(EXPORT)
    (tmp_path / "team_rules.py").write_text("", encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text(f"plugins = {entries}\n", encoding="utf-8")
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    second = json.loads(entries)[1]
    assert result.output.strip() == f"hygiene: error: hygiene.toml: plugins[1]: {second!r} is listed twice (first as plugins[0])"


def test_a_panic_outside_a_rule_is_one_line_naming_the_step(write_csv, hygiene_cli, monkeypatch):
    from polars.exceptions import PanicException

    import hygiene.audit.run as run

    def panicking(*args, **kwargs):
        raise PanicException("assertion failed: i < self.len()")

    write_csv(EXPORT)
    monkeypatch.setattr(run, "normalise", panicking)
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF)
    assert result.exit_code == 2
    assert result.output.strip() == "hygiene: error: internal error while normalising the deals: polars panicked: assertion failed: i < self.len()"


def test_the_command_line_catches_a_panic_anywhere(hygiene_cli, monkeypatch):
    from polars.exceptions import PanicException

    import hygiene.commands.session as session

    def panicking(*args, **kwargs):
        raise PanicException("index out of bounds")

    monkeypatch.setattr(session, "load_session", panicking)
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    assert result.output.strip() == "hygiene: internal error: PanicException: index out of bounds (run with --debug for the traceback)"
