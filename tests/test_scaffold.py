"""``hygiene plugin new NAME``: a plugin a team starts from, green from the first run."""

from __future__ import annotations

import tomllib

import pytest
from _throwaway_install import importable, install_project, run_pytest

from hygiene.api.errors import ConfigError
from hygiene.commands.plugin_new import plugin_names

FILES = [
    "README.md",
    "pyproject.toml",
    "src/acme_hygiene/__init__.py",
    "src/acme_hygiene/large_deal_without_next_step.py",
    "tests/conftest.py",
    "tests/rule_cases/ACME001-large-deal-without-next-step.rulecases.toml",
    "tests/test_rules.py",
]


@pytest.fixture
def scaffold(tmp_path, hygiene_cli):
    """``hygiene plugin new acme-hygiene`` run in ``tmp_path``; returns the plugin's folder."""
    result = hygiene_cli("plugin", "new", "acme-hygiene")
    assert result.exit_code == 0, result.output
    return tmp_path / "acme-hygiene"


def test_it_writes_a_distribution_with_an_entry_point_a_rule_its_cases_and_tests(scaffold):
    written = sorted(path.relative_to(scaffold).as_posix() for path in scaffold.rglob("*") if path.is_file())
    assert written == FILES
    project = tomllib.loads((scaffold / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "acme-hygiene"
    assert project["entry-points"] == {"hygiene": {"acme-hygiene": "acme_hygiene"}}


def test_it_says_what_it_wrote_and_what_to_do_next(tmp_path, hygiene_cli):
    result = hygiene_cli("plugin", "new", "acme-hygiene", "--directory", "plugins/acme", "--prefix", "SALES")

    assert result.stdout == (
        "wrote plugins/acme/ (acme-hygiene, rule SALES001):\n"
        "  pyproject.toml\n  README.md\n  src/acme_hygiene/__init__.py\n  src/acme_hygiene/large_deal_without_next_step.py\n"
        "  tests/conftest.py\n  tests/rule_cases/SALES001-large-deal-without-next-step.rulecases.toml\n  tests/test_rules.py\n"
        'next steps:\n  - pip install -e "./plugins/acme[test]"\n  - python -m pytest plugins/acme\n'
    )
    assert (tmp_path / "plugins/acme/src/acme_hygiene/large_deal_without_next_step.py").read_text().count('code = "SALES001"') == 1


def test_its_own_tests_pass_as_written(scaffold, tmp_path):
    pythonpath = install_project(scaffold, tmp_path / "site")

    completed = run_pytest(scaffold, pythonpath, "-q")

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "5 passed" in completed.stdout  # three rule cases, two tests


def test_once_installed_its_rule_is_listed_and_explained(scaffold, tmp_path, hygiene_cli):
    with importable(install_project(scaffold, tmp_path / "site")):
        listed = hygiene_cli("rules").stdout
        explained = hygiene_cli("explain", "ACME001").stdout

    row = next(line for line in listed.splitlines() if line.startswith("ACME001"))
    assert row.split()[:4] == ["ACME001", "large-deal-without-next-step", "warning", "acme-hygiene"]
    assert explained.startswith("ACME001 large-deal-without-next-step (warning, from plugin acme-hygiene)\n")
    assert "**Why**" in explained and "  min_amount: number (default: 50000)" in explained


def test_it_never_overwrites(scaffold, hygiene_cli):
    readme = scaffold / "README.md"
    readme.write_text("our notes\n", encoding="utf-8")

    result = hygiene_cli("plugin", "new", "acme-hygiene")

    assert result.exit_code == 2
    assert result.stderr == "hygiene: error: plugin new: acme-hygiene already exists and is not an empty folder; nothing was written\n"
    assert readme.read_text(encoding="utf-8") == "our notes\n"


def test_an_empty_folder_is_fine(tmp_path, hygiene_cli):
    (tmp_path / "acme").mkdir()

    assert hygiene_cli("plugin", "new", "acme-hygiene", "--directory", "acme").exit_code == 0


@pytest.mark.parametrize(
    ("name", "prefix", "expected"),
    [
        ("acme-hygiene", None, ("acme-hygiene", "acme_hygiene", "ACME")),
        ("hygiene-plugin-acme-sales", None, ("hygiene-plugin-acme-sales", "hygiene_plugin_acme_sales", "ACME")),
        ("Acme.Rules", None, ("acme-rules", "acme_rules", "ACME")),
        ("acme-hygiene", "SALES2", ("acme-hygiene", "acme_hygiene", "SALES2")),
    ],
)
def test_names_and_the_code_prefix_come_from_name(name, prefix, expected):
    names = plugin_names(name, prefix)

    assert (names.distribution, names.package, names.prefix) == expected


@pytest.mark.parametrize(
    ("name", "prefix", "error"),
    [
        ("hygiene-plugin", None, "plugin new: cannot tell a rule code prefix from 'hygiene-plugin'; give one with --prefix, e.g. --prefix ACME"),
        ("acme", "HYPE", "--prefix: 'HYPE' starts with HY, which is reserved for hygiene's built-in rules; choose another"),
        ("acme", "acme", "--prefix: 'acme' is not a code prefix: uppercase letters and digits, starting with a letter, e.g. ACME"),
        ("9lives", "NINE", "plugin new: '9lives' gives the package name '9lives', which Python cannot import; start it with a letter"),
        ("acme hygiene", None, "plugin new: 'acme hygiene' is not a distribution name (letters, digits, '-', '_', '.'), e.g. 'acme-hygiene'"),
    ],
)
def test_a_name_or_prefix_that_cannot_work_is_refused(name, prefix, error):
    with pytest.raises(ConfigError) as raised:
        plugin_names(name, prefix)

    assert str(raised.value) == error
