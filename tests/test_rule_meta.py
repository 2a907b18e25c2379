"""Guard rails over every registered rule: the built-ins, the example plugin's, and whatever else is installed.

Each rule has a unique, well-formed code and name, a docstring with
**Why**, **Example** and **Fix** sections, an ``options_schema`` that is a
valid JSON Schema whose defaults validate, and ``hygiene explain`` renders
it. Third-party rules may not use the ``HY`` prefix, and a rule that raises
becomes an HY999 finding instead of ending the audit.
"""

from __future__ import annotations

import inspect
import json
import re
import tempfile
import textwrap
from pathlib import Path

import jsonschema
import pytest
from _throwaway_install import EXAMPLE_PLUGIN, importable, install_project

from hygiene.config.schema import rule_table_schema
from hygiene.api.errors import PluginError
from hygiene.commands.explain import RuleError, explain_rule
from hygiene.plugin.registry import load_registry
from hygiene.plugin.registry import RESERVED_CODE_PREFIX, RULE_CODE, RULE_NAME
from hygiene.testing import run_rules

SECTIONS = ("Why", "Example", "Fix")


def registry_with_the_example_plugin():
    """Every installed plugin, and the example plugin installed the way pip would."""
    with tempfile.TemporaryDirectory() as site, importable(install_project(EXAMPLE_PLUGIN, Path(site))):
        return load_registry()


REGISTRY = registry_with_the_example_plugin()
RULES = sorted(REGISTRY.rules)


def test_the_example_plugins_rules_are_among_those_checked():
    assert {"EX001", "EX002"} <= set(RULES)
    assert {REGISTRY.rules[code].plugin for code in ("EX001", "EX002")} == {"example"}


def test_codes_and_names_are_unique_and_well_formed():
    classes = [entry.cls for entry in REGISTRY.rules.values()] + [RuleError]
    codes = [cls.code for cls in classes]
    names = [cls.name for cls in classes]

    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)
    assert [code for code in codes if not RULE_CODE.match(code)] == []
    assert [name for name in names if not RULE_NAME.match(name)] == []


def assert_documented(cls: type) -> None:
    """A first line, then **Why**, **Example** and **Fix** in this order, none of them empty."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    marks = [doc.find(f"**{section}**") for section in SECTIONS]
    assert doc.split("\n", 1)[0].strip(), "the docstring has no first line"
    assert -1 not in marks, f"missing sections: {[s for s, at in zip(SECTIONS, marks, strict=True) if at == -1]}"
    assert marks == sorted(marks), "sections out of order"
    bodies = re.split(r"\*\*(?:Why|Example|Fix)\*\*", doc)[1:]
    assert all(body.strip() for body in bodies), "an empty section"


@pytest.mark.parametrize("code", RULES)
def test_the_docstring_has_why_example_and_fix(code):
    assert_documented(REGISTRY.rules[code].cls)


@pytest.mark.parametrize("code", RULES)
def test_options_schema_is_valid_and_its_defaults_validate(code):
    cls = REGISTRY.rules[code].cls
    schema = dict(cls.options_schema)

    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator.check_schema(rule_table_schema(schema))
    assert schema.get("type") == "object"
    jsonschema.Draft202012Validator(schema).validate(cls.option_defaults())
    for spec in schema.get("properties", {}).values():
        if "default" in spec:
            jsonschema.Draft202012Validator(spec).validate(spec["default"])


@pytest.mark.parametrize("code", RULES)
def test_explain_renders_the_rule(code):
    entry = REGISTRY.rules[code]
    cls = entry.cls

    text = explain_rule(REGISTRY, code)

    assert text.startswith(f"{code} {cls.name} ({cls.severity}, from plugin {entry.plugin})\n\n{cls.summary}\n")
    assert all(f"**{section}**" in text for section in SECTIONS)
    assert all(f"  {option}: " in text for option in cls.options_schema.get("properties", {}))
    assert explain_rule(REGISTRY, cls.name) == text


@pytest.mark.parametrize("code", RULES)
def test_only_builtin_rules_use_the_reserved_prefix(code):
    entry = REGISTRY.rules[code]
    builtin = {info.name for info in REGISTRY.plugins if info.builtin}

    assert code.startswith(RESERVED_CODE_PREFIX) == (entry.plugin in builtin)


# HY999, the core's own finding.


def test_rule_error_is_documented_and_explained(hygiene_cli):
    assert_documented(RuleError)

    result = hygiene_cli("explain", "HY999")

    assert result.exit_code == 0
    assert result.stdout.startswith("HY999 rule-error (error, from plugin hygiene (core))\n\nA rule raised an exception; its findings are missing\n")
    assert result.stdout.endswith("The core reports it: it cannot be selected, ignored or configured.\n")
    assert hygiene_cli("explain", "rule-error").stdout == result.stdout


# Third-party rules may not take the reserved prefix.

RESERVED_CODE_RULE = """
    from hygiene import DealRule, hookimpl


    class LooksBuiltin(DealRule):
        code = "HY500"
        name = "looks-builtin"
        summary = "A third-party rule with a built-in's prefix"

        def check(self, deal, ctx):
            return None


    @hookimpl
    def hygiene_register_rules():
        return [LooksBuiltin]
"""


def test_an_installed_plugin_with_an_hy_code_exits_2_naming_the_plugin(make_plugin, installed, hygiene_cli):
    installed(make_plugin("lookalike-hygiene", "lookalike_hygiene", RESERVED_CODE_RULE, entry_point="lookalike"))

    result = hygiene_cli("rules")

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "hygiene: error: plugin 'lookalike' (lookalike_hygiene.LooksBuiltin): code 'HY500' has the prefix HY, which is reserved "
        "for hygiene's built-in rules: use a prefix of your own, e.g. 'ACME001'\n"
    )


# A rule that raises on some deals: an HY999 finding, the other rules still run, exit code 2.

FRAGILE_RULES = """
    import polars as pl

    from hygiene import DealRule, hookimpl


    class ParsesNextStep(DealRule):
        code = "FRAG001"
        name = "next-step-date"
        summary = "Reads next_step as a date, which only some deals have"

        def condition(self, ctx):
            return pl.col("next_step").str.to_date("%Y-%m-%d") < pl.lit(ctx.as_of)


    class DividesByContacts(DealRule):
        code = "FRAG002"
        name = "amount-per-contact"
        summary = "Divides by the number of contacts, one deal at a time"

        def check(self, deal, ctx):
            if deal.amount is not None and deal.amount / deal.contacts > 50000:
                return "too much per contact"


    @hookimpl
    def hygiene_register_rules():
        return [ParsesNextStep, DividesByContacts]
"""


def test_rules_that_raise_on_some_deals_become_rule_errors_and_the_others_run(make_plugin, installed, write_csv, hygiene_cli):
    installed(make_plugin("fragile-hygiene", "fragile_hygiene", textwrap.dedent(FRAGILE_RULES), entry_point="fragile"))
    write_csv(
        [
            ["id", "stage", "amount", "contacts", "next_step", "close_date"],
            ["D1", "Proposal", "100000", "4", "2026-01-31", "2026-06-30"],
            ["D2", "Proposal", "100000", "0", "call the CFO", ""],
        ]
    )

    result = hygiene_cli("audit", "deals.csv", "--as-of", "2026-03-31", "--select", "FRAG,HY002", "--format", "json")

    assert result.exit_code == 2
    findings = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["deal_id"]) for f in findings] == [("HY002", "D2"), ("HY999", None), ("HY999", None)]
    vectorised, row_at_a_time = sorted(f["message"] for f in findings if f["code"] == "HY999")
    # After the exception's name come polars' own words, which an upgrade may change.
    assert vectorised.startswith("rule FRAG001 (next-step-date) from plugin 'fragile' failed: InvalidOperationError: ")
    assert "\n" not in vectorised
    assert row_at_a_time == "rule FRAG002 (amount-per-contact) from plugin 'fragile' failed: ZeroDivisionError: float division by zero"
    assert [f["details"] for f in findings if f["code"] == "HY999"] == [
        {"rule": "FRAG001", "plugin": "fragile", "exception": "InvalidOperationError"},
        {"rule": "FRAG002", "plugin": "fragile", "exception": "ZeroDivisionError"},
    ]


def test_run_rules_refuses_a_rule_class_with_the_reserved_prefix_as_its_plugin_would_be():
    plugin: dict = {}
    exec(textwrap.dedent(RESERVED_CODE_RULE), plugin)

    with pytest.raises(PluginError, match=r"LooksBuiltin\): code 'HY500' has the prefix HY, which is reserved"):
        run_rules([], rules=[plugin["LooksBuiltin"]], as_of="2026-03-31")
