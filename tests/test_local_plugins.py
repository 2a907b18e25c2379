"""Local plugins: ``plugins = ["audit_rules/discounts.py", "acme_rules.checks"]`` in hygiene.toml.

A path is relative to the configuration file; a module name is imported
from the configuration's folder first, so a team keeps its rules next to
its config without packaging them. Most tests run the command in-process
from a folder other than the configuration's.
"""

from __future__ import annotations

import sys
import textwrap

import pytest

#: The audit date: no test reads the clock.
AS_OF = "2026-03-31"

DISCOUNT_RULE = '''
    import polars as pl

    from hygiene import DealRule, hookimpl


    class BigDiscount(DealRule):
        """Discount above {limit}%."""

        code = "{code}"
        name = "{name}"
        summary = "Discount above {limit}%"
        severity = "warning"
        message_template = "{{discount}}% discount"

        def condition(self, ctx):
            return ctx.is_open & (ctx.extra("discount") > {limit})


    @hookimpl
    def hygiene_register_rules():
        return [BigDiscount]
'''

EXPORT = [
    ["id", "stage", "discount"],
    ["D1", "Proposal", "25"],
    ["D2", "Proposal", "10"],
    ["D3", "Closed Won", "40"],
]


def discount_rule(code: str = "TEAM001", name: str = "big-discount", limit: int = 20) -> str:
    return textwrap.dedent(DISCOUNT_RULE.format(code=code, name=name, limit=limit))


@pytest.fixture
def team(tmp_path, write_csv):
    """A team folder ``team/`` holding hygiene.toml; the export and the command's folder are elsewhere."""
    folder = tmp_path / "team"
    folder.mkdir()
    write_csv(EXPORT)

    def write(plugins: list[str], files: dict[str, str]):
        for relative, source in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source, encoding="utf-8")
        entries = ", ".join(f'"{entry}"' for entry in plugins)
        (folder / "hygiene.toml").write_text(f"plugins = [{entries}]\n", encoding="utf-8")
        return folder

    return write


@pytest.fixture
def forget_team_modules():
    """Team packages imported by name must not leak into other tests."""
    yield
    for name in [name for name in sys.modules if name.split(".")[0] in ("acme_rules", "broken_rules")]:
        del sys.modules[name]


def audit(hygiene_cli, *args: str):
    return hygiene_cli("audit", "deals.csv", "-c", "team/hygiene.toml", "--as-of", AS_OF, *args)


def test_a_path_is_relative_to_the_configuration_file(team, hygiene_cli):
    team(["audit_rules/discounts.py"], {"audit_rules/discounts.py": discount_rule()})

    result = audit(hygiene_cli, "--select", "TEAM001", "--fail-on", "never")

    assert result.exit_code == 0, result.output
    assert "warning TEAM001 big-discount: D1: 25% discount [row 2]" in result.stdout
    assert "D2" not in result.stdout and "D3" not in result.stdout


def test_a_module_name_is_imported_from_the_configurations_folder(team, hygiene_cli, forget_team_modules):
    team(
        ["acme_rules.checks"],
        {"acme_rules/__init__.py": "", "acme_rules/checks.py": discount_rule("ACME001", "acme-discount", limit=5)},
    )
    path_before = list(sys.path)

    result = audit(hygiene_cli, "--select", "ACME", "--fail-on", "never")

    assert "ACME001 acme-discount: D1" in result.stdout and "ACME001 acme-discount: D2" in result.stdout
    assert sys.path == path_before


def test_console_script_imports_a_configured_module_next_to_the_configuration(team, run_hygiene):
    # The installed script's import path holds neither the current folder nor the configuration's.
    team(["acme_rules.checks"], {"acme_rules/__init__.py": "", "acme_rules/checks.py": discount_rule("ACME001", "acme-discount")})

    completed = run_hygiene("audit", "deals.csv", "-c", "team/hygiene.toml", "--as-of", AS_OF, "--select", "ACME001")

    assert completed.returncode == 0, completed.stderr
    assert "ACME001 acme-discount: D1: 25% discount" in completed.stdout


def test_plugins_lists_local_plugins_as_configured(team, hygiene_cli, forget_team_modules):
    team(
        ["audit_rules/discounts.py", "acme_rules.checks"],
        {
            "audit_rules/discounts.py": discount_rule(),
            "acme_rules/__init__.py": "",
            "acme_rules/checks.py": discount_rule("ACME001", "acme-discount"),
        },
    )

    result = hygiene_cli("plugins", "-c", "team/hygiene.toml")

    assert result.exit_code == 0
    assert "audit_rules/discounts.py (local, configured): " in result.stdout
    assert "acme_rules.checks (local, configured): acme_rules.checks\n  hooks: hygiene_register_rules\n  rules: ACME001\n" in result.stdout
    assert "  rules: TEAM001\n" in result.stdout


@pytest.mark.parametrize(
    ("plugins", "files", "error"),
    [
        (
            ["audit_rules/broken.py"],
            {"audit_rules/broken.py": "raise RuntimeError('the discount table moved')\n"},
            "plugin 'audit_rules/broken.py' failed to load: RuntimeError: the discount table moved",
        ),
        (
            ["broken_rules"],
            {"broken_rules.py": "import polars\npolars.no_such_thing\n"},
            "plugin 'broken_rules' failed to load: AttributeError: module 'polars' has no attribute 'no_such_thing'",
        ),
        (["acme_rules.missing"], {}, "plugin 'acme_rules.missing' failed to load: ModuleNotFoundError: No module named 'acme_rules'"),
        (["audit_rules/missing.py"], {}, "team/hygiene.toml: plugins[0]: no such file 'audit_rules/missing.py'"),
    ],
    ids=["import error in a file", "import error in a module", "no such module", "no such file"],
)
def test_a_broken_local_plugin_stops_the_run_naming_it(team, hygiene_cli, forget_team_modules, plugins, files, error):
    team(plugins, files)

    result = audit(hygiene_cli)

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"hygiene: error: {error}")
    assert len(result.stderr.splitlines()) == 1


def test_a_local_plugin_may_not_use_the_reserved_prefix(team, hygiene_cli):
    team(["audit_rules/reserved.py"], {"audit_rules/reserved.py": discount_rule("HY500", "reserved-code")})

    result = hygiene_cli("rules", "-c", "team/hygiene.toml")

    assert result.exit_code == 2
    assert result.stderr.endswith(
        ".BigDiscount): code 'HY500' has the prefix HY, which is reserved for hygiene's built-in rules: use a prefix of your own, e.g. 'ACME001'\n"
    )


def test_p_no_blocks_a_local_plugin_by_its_entry(team, hygiene_cli):
    team(["audit_rules/broken.py"], {"audit_rules/broken.py": "raise RuntimeError('never imported')\n"})

    result = hygiene_cli("rules", "-c", "team/hygiene.toml", "-p", "no:audit_rules/broken.py")

    assert result.exit_code == 0
    assert "HY001" in result.stdout
