"""Plugins installed as distributions with a ``hygiene`` entry point, as ``pip install`` would leave them.

Each test builds a throwaway distribution (a module and its ``*.dist-info``)
and puts its folder on ``sys.path`` (in-process, through ``installed``) or
on ``PYTHONPATH`` (for the console script).
"""

from __future__ import annotations

import json
import textwrap

import pytest

from hygiene import __version__
from hygiene.api.models import fingerprint

#: The audit date: no test reads the clock.
AS_OF = "2026-03-31"

NEXT_STEP_RULE = '''
    import polars as pl

    from hygiene import DealRule, hookimpl


    class NoNextStep(DealRule):
        """An open deal has no next step.

        **Why**

        Nobody knows what happens next.

        **Example**

        An open deal in Proposal with an empty next step.

        **Fix**

        Agree the next step with the buyer.
        """

        code = "{code}"
        name = "{name}"
        summary = "Open deal has no next step"
        severity = "warning"
        message_template = "open deal in {{stage}} has no next step"

        def condition(self, ctx):
            return ctx.is_open & pl.col("next_step").is_null()


    @hookimpl
    def hygiene_register_rules():
        return [NoNextStep]
'''
BROKEN_AT_IMPORT = """
    raise RuntimeError("cannot reach the licence server")
"""
MISSPELLED_HOOK = """
    from hygiene import hookimpl


    @hookimpl
    def hygiene_register_rulez():
        return []
"""
FAILING_RULE = """
    from hygiene import DealRule, hookimpl


    class Crashes(DealRule):
        code = "OOPS001"
        name = "crashes"
        summary = "Always fails"

        def condition(self, ctx):
            raise ZeroDivisionError("division by zero")


    @hookimpl
    def hygiene_register_rules():
        return [Crashes]
"""

EVERY_RULE_FORM = """
    import polars as pl

    from hygiene import DealRule, Finding, PipelineRule, hookimpl


    class ProposalWithoutNextStep(DealRule):
        code = "FORM001"
        name = "row-at-a-time"
        summary = "check() on one Deal"

        def check(self, deal, ctx):
            if deal.stage == "Proposal" and deal.next_step is None:
                return f"{deal.id} has no next step ({deal.extras['Region']})"


    class PythonMessage(DealRule):
        code = "FORM002"
        name = "python-message"
        summary = "condition() with message()"

        def condition(self, ctx):
            return ctx.is_open & pl.col("next_step").is_null()

        def message(self, deal, ctx):
            return f"{deal.id} in {deal.stage}, row {deal.row}"


    class WholePipeline(PipelineRule):
        code = "FORM003"
        name = "whole-pipeline"
        summary = "check() on the deal table"

        def check(self, deals, ctx):
            return [Finding(message=f"{deals.height} deals", owner="Sales")]


    @hookimpl
    def hygiene_register_rules():
        return [ProposalWithoutNextStep, PythonMessage, WholePipeline]
"""

EXPORT = [
    ["Id", "Stage", "Close Date", "Next Step", "Region"],
    ["D1", "Proposal", "2026-06-30", "Call the CFO", "EMEA"],
    ["D2", "Proposal", "2026-03-01", "", "APAC"],
    ["D3", "Closed Lost", "2026-02-01", "", "EMEA"],
]


def next_step_rule(code: str = "ACME001", name: str = "no-next-step") -> str:
    return textwrap.dedent(NEXT_STEP_RULE.format(code=code, name=name))


@pytest.fixture
def acme(make_plugin):
    """The ``acme-hygiene`` distribution, entry point ``acme``, registering rule ACME001 no-next-step."""
    return make_plugin("acme-hygiene", "acme_hygiene", next_step_rule(), entry_point="acme", version="2.3.1")


@pytest.fixture
def broken(make_plugin):
    return make_plugin("broken-hygiene", "broken_hygiene", BROKEN_AT_IMPORT, entry_point="broken")


@pytest.fixture
def export(write_csv):
    return write_csv(EXPORT)


# A rule from an installed plugin works like a built-in one.


def test_an_installed_plugins_rule_is_listed_explained_and_run(acme, installed, export, hygiene_cli):
    installed(acme)
    listed = hygiene_cli("rules")
    assert "ACME001  no-next-step" in listed.stdout
    assert "acme" in listed.stdout.split("ACME001", 1)[1].splitlines()[0]
    assert "**Why**" in hygiene_cli("explain", "no-next-step").stdout
    audited = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--select", "ACME", "--fail-on", "warning")
    assert audited.exit_code == 1
    assert "warning ACME001 no-next-step: D2: open deal in Proposal has no next step [row 3]" in audited.stdout
    assert "D3" not in audited.stdout


def test_every_rule_form_a_plugin_author_may_write_produces_findings(make_plugin, installed, export, hygiene_cli):
    installed(make_plugin("forms-hygiene", "forms_hygiene", EVERY_RULE_FORM, entry_point="forms"))
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--select", "FORM", "--format", "json")
    findings = [(f["code"], f["deal_id"], f["owner"], f["message"], f["fingerprint"]) for f in json.loads(result.stdout)["findings"]]
    assert findings == [
        ("FORM003", None, "Sales", "3 deals", fingerprint("FORM003", None, "Sales", "2026-Q1")),
        ("FORM001", "D2", None, "D2 has no next step (APAC)", fingerprint("FORM001", "D2")),
        ("FORM002", "D2", None, "D2 in Proposal, row 3", fingerprint("FORM002", "D2")),
    ]


def test_console_script_runs_an_installed_plugins_rule(acme, export, run_hygiene):
    completed = run_hygiene("audit", "deals.csv", "--as-of", AS_OF, "--select", "no-next-step", pythonpath=[acme])
    assert completed.returncode == 0, completed.stderr
    assert "ACME001 no-next-step: D2: open deal in Proposal has no next step" in completed.stdout


def test_a_configured_plugin_file_registers_its_rules(tmp_path, export, hygiene_cli):
    (tmp_path / "team_rules.py").write_text(next_step_rule("TEAM001", "team-next-step"), encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text('plugins = ["team_rules.py"]\n', encoding="utf-8")
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--select", "TEAM001")
    assert "TEAM001 team-next-step: D2" in result.stdout


# Users decide what loads.


@pytest.mark.parametrize(("setting", "third_party_loaded"), [("1", False), ("true", False), ("0", True), ("", True)])
def test_autoload_can_be_disabled_leaving_only_the_builtins(acme, installed, hygiene_cli, setting, third_party_loaded):
    installed(acme)
    result = hygiene_cli("rules", env={"HYGIENE_DISABLE_PLUGIN_AUTOLOAD": setting})
    assert result.exit_code == 0
    assert "HY001" in result.stdout
    assert ("ACME001" in result.stdout) == third_party_loaded


def test_autoload_disabled_skips_a_broken_plugin(broken, installed, hygiene_cli):
    installed(broken)
    assert hygiene_cli("rules", env={"HYGIENE_DISABLE_PLUGIN_AUTOLOAD": "1"}).exit_code == 0


@pytest.mark.parametrize("name", ["broken", "broken-hygiene"])
def test_p_no_name_blocks_one_plugin_by_entry_point_or_distribution(acme, broken, installed, hygiene_cli, name):
    installed(acme, broken)
    result = hygiene_cli("rules", "-p", f"no:{name}")
    assert result.exit_code == 0
    assert "ACME001" in result.stdout


def test_console_script_honours_the_autoload_switch_and_p_no(acme, broken, run_hygiene):
    disabled = run_hygiene("rules", pythonpath=[acme, broken], env={"HYGIENE_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert (disabled.returncode, "ACME001" in disabled.stdout) == (0, False)
    blocked = run_hygiene("rules", "-p", "no:broken", pythonpath=[acme, broken])
    assert (blocked.returncode, "ACME001" in blocked.stdout) == (0, True)


# A broken plugin stops the run with one line naming it.


def test_a_plugin_that_fails_to_import_exits_2_naming_it(broken, installed, hygiene_cli):
    installed(broken)
    result = hygiene_cli("rules")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "hygiene: error: plugin 'broken' (broken_hygiene) failed to load: RuntimeError: cannot reach the licence server\n"
    )


def test_console_script_plugin_import_error_is_one_line(broken, export, run_hygiene):
    completed = run_hygiene("audit", "deals.csv", "--as-of", AS_OF, pythonpath=[broken])
    assert completed.returncode == 2
    assert completed.stderr == (
        "hygiene: error: plugin 'broken' (broken_hygiene) failed to load: RuntimeError: cannot reach the licence server\n"
    )


def test_a_misspelled_hook_fails_loudly(make_plugin, installed, hygiene_cli):
    installed(make_plugin("typo-hygiene", "typo_hygiene", MISSPELLED_HOOK, entry_point="typo"))
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    assert result.stderr.startswith("hygiene: error: plugin 'typo' (typo_hygiene) is invalid: unknown hook 'hygiene_register_rulez'")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("code", "name", "clash"),
    [
        ("HY001", "acme-stale", "rule 'HY001' is registered twice: by plugin 'builtin-rules' (hygiene_rules.stale_stage.StaleStage)"),
        ("ACME002", "stale-stage", "rule 'stale-stage' is registered twice: by plugin 'builtin-rules' (hygiene_rules.stale_stage.StaleStage)"),
    ],
)
def test_a_rule_code_or_name_taken_by_another_plugin_exits_2_naming_both(make_plugin, installed, hygiene_cli, code, name, clash):
    installed(make_plugin("clash-hygiene", "clash_hygiene", next_step_rule(code, name), entry_point="clash"))
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    assert result.stderr == f"hygiene: error: {clash} and by plugin 'clash' (clash_hygiene.NoNextStep)\n"


def test_two_third_party_plugins_with_the_same_rule_code_are_both_named(acme, make_plugin, installed, hygiene_cli):
    installed(acme, make_plugin("zeta-hygiene", "zeta_hygiene", next_step_rule("ACME001", "zeta-next-step"), entry_point="zeta"))
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    assert "by plugin 'acme' (acme_hygiene.NoNextStep) and by plugin 'zeta' (zeta_hygiene.NoNextStep)" in result.stderr


def test_a_rule_that_raises_does_not_stop_the_others_but_exits_2(make_plugin, installed, export, hygiene_cli):
    installed(make_plugin("oops-hygiene", "oops_hygiene", FAILING_RULE, entry_point="oops"))
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--select", "OOPS001,HY003", "--format", "json")
    assert result.exit_code == 2
    assert "rule OOPS001 (crashes) from plugin 'oops' failed: ZeroDivisionError: division by zero" in result.stdout
    findings = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["deal_id"]) for f in findings] == [("HY003", "D2"), ("HY999", None)]


# `hygiene plugins` shows what is installed, even when part of it is broken.


def test_plugins_lists_versions_hooks_and_what_each_registers(acme, installed, hygiene_cli):
    installed(acme)
    result = hygiene_cli("plugins")
    assert result.exit_code == 0
    assert "acme (acme-hygiene 2.3.1, third-party): acme_hygiene\n  hooks: hygiene_register_rules\n  rules: ACME001\n" in result.stdout
    assert f"builtin-sources (pipeline-hygiene {__version__}, built-in): hygiene_plugins.sources\n" in result.stdout
    assert "  sources: arrow, csv, excel, json, jsonl, parquet, sql\n" in result.stdout
    assert "  presets: dynamics, hubspot, pipedrive, salesforce-export, salesforce-report, zoho\n" in result.stdout
    assert "  reporters: console, csv, github, gitlab, html, json, junit, markdown, xlsx\n" in result.stdout


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (BROKEN_AT_IMPORT, "RuntimeError: cannot reach the licence server"),
        (MISSPELLED_HOOK, "unknown hook 'hygiene_register_rulez'"),
        (next_step_rule("HY002", "faulty-next-step"), "rule 'HY002' is registered twice"),
    ],
    ids=["import error", "misspelled hook", "rule clash"],
)
def test_plugins_shows_a_plugins_error_beside_the_working_ones(acme, make_plugin, installed, hygiene_cli, source, error):
    installed(acme, make_plugin("faulty-hygiene", "faulty_hygiene", source, entry_point="faulty"))
    result = hygiene_cli("plugins")
    assert result.exit_code == 0
    faulty = result.stdout.split("faulty (faulty-hygiene 1.0, third-party): faulty_hygiene\n", 1)[1]
    assert faulty.split("\n  error: ", 1)[1].startswith(error)
    assert "  rules: ACME001\n" in result.stdout
