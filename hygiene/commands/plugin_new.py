"""``hygiene plugin new NAME``: a plugin package to start from, shaped like the example plugin.

It writes a distribution with a ``hygiene`` entry point, one vectorised rule
(documented, with an options schema), its rule cases, a test using
``hygiene.testing`` and a README. Its tests pass as written, so a team
starts from green and edits. Nothing is ever overwritten.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import attrs

from hygiene.api.errors import ConfigError
from hygiene.plugin.registry import RESERVED_CODE_PREFIX, RULE_CODE

#: A distribution name as PEP 508 allows it (letters, digits, ``-``, ``_``, ``.``; alphanumeric at both ends).
DISTRIBUTION_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
CODE_PREFIX = re.compile(r"^[A-Z][A-Z0-9]*$")
#: Words of a distribution name that say nothing about whose plugin it is.
GENERIC_WORDS = frozenset({"hygiene", "plugin", "plugins", "rule", "rules", "pipeline"})
RULE_NAME = "large-deal-without-next-step"
RULE_MODULE = "large_deal_without_next_step"


@attrs.define(frozen=True)
class PluginNames:
    """What the new plugin is called, everywhere it is named."""

    distribution: str
    package: str
    prefix: str

    @property
    def code(self) -> str:
        return f"{self.prefix}001"


@attrs.define(frozen=True)
class NewPlugin:
    directory: Path
    names: PluginNames
    files: list[Path]


def plugin_names(name: str, prefix: str | None = None) -> PluginNames:
    """The distribution, package and code prefix for ``name``; the prefix defaults to its first own word."""
    if not DISTRIBUTION_NAME.match(name):
        raise ConfigError(f"plugin new: {name!r} is not a distribution name (letters, digits, '-', '_', '.'), e.g. 'acme-hygiene'")
    distribution = re.sub(r"[-_.]+", "-", name).lower()
    package = distribution.replace("-", "_")
    if not package.isidentifier():
        raise ConfigError(f"plugin new: {name!r} gives the package name {package!r}, which Python cannot import; start it with a letter")
    if prefix is None:
        words = [word for word in distribution.split("-") if word not in GENERIC_WORDS and word[0].isalpha()]
        if not words:
            raise ConfigError(f"plugin new: cannot tell a rule code prefix from {name!r}; give one with --prefix, e.g. --prefix ACME")
        prefix = re.sub(r"[^A-Z0-9]", "", words[0].upper())[:8]
    if not CODE_PREFIX.match(prefix) or not RULE_CODE.match(f"{prefix}001"):
        raise ConfigError(f"--prefix: {prefix!r} is not a code prefix: uppercase letters and digits, starting with a letter, e.g. ACME")
    if prefix.startswith(RESERVED_CODE_PREFIX):
        raise ConfigError(
            f"--prefix: {prefix!r} starts with {RESERVED_CODE_PREFIX}, which is reserved for hygiene's built-in rules; choose another"
        )
    return PluginNames(distribution=distribution, package=package, prefix=prefix)


def write_plugin(name: str, directory: Path | None = None, prefix: str | None = None) -> NewPlugin:
    """Write the plugin ``name`` into ``directory`` (default ``./NAME``), which must not exist or be empty."""
    names = plugin_names(name, prefix)
    directory = directory or Path(name)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ConfigError(f"plugin new: {directory} already exists and is not an empty folder; nothing was written")
    values = {
        "distribution": names.distribution,
        "package": names.package,
        "code": names.code,
        "rule_name": RULE_NAME,
        "rule_module": RULE_MODULE,
    }
    written = []
    for relative, template in FILES.items():
        path = directory / string.Template(relative).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as stream:
            stream.write(string.Template(template).substitute(values))
        written.append(path)
    return NewPlugin(directory=directory, names=names, files=written)


PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "${distribution}"
version = "0.1.0"
description = "Our own pipeline hygiene rules, as a hygiene plugin."
readme = "README.md"
requires-python = ">=3.11"
dependencies = [
    "pipeline-hygiene>=0.1",
    "polars>=1.20",
]

[project.optional-dependencies]
test = ["pytest>=8"]

# What makes it a plugin: hygiene loads every module named in this group.
[project.entry-points.hygiene]
${distribution} = "${package}"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-ra --strict-markers"
"""

INIT = '''\
"""${distribution}: our pipeline hygiene rules, loaded by hygiene through the entry point in pyproject.toml."""

from hygiene import hookimpl

from ${package}.${rule_module} import LargeDealWithoutNextStep


@hookimpl
def hygiene_register_rules():
    return [LargeDealWithoutNextStep]
'''

RULE = '''\
import polars as pl

from hygiene import DealRule


class LargeDealWithoutNextStep(DealRule):
    """A large open deal has no next step.

    **Why**

    The bigger the deal, the more the forecast leans on it. Without an
    agreed next step nobody knows whether it is moving, and it slips
    unnoticed until the end of the quarter.

    A deal is large from ``min_amount`` (an option) up. Open deals without
    an amount cannot be judged; the summary counts them as not evaluable.

    **Example**

    With the default ``min_amount`` of 50,000, an open deal of 80,000 with
    an empty next step is flagged. One of 20,000 is not, nor a closed one.

    **Fix**

    Agree the next step with the buyer and record it in the CRM.
    """

    code = "${code}"
    name = "${rule_name}"
    summary = "Large open deal without a next step"
    severity = "warning"
    options_schema = {
        "type": "object",
        "properties": {
            "min_amount": {
                "type": "number",
                "minimum": 0,
                "default": 50000,
                "description": "The amount from which a deal counts as large.",
            },
        },
    }
    message_template = "{amount:,} deal in {stage} has no next step"

    def condition(self, ctx):
        large = pl.col("amount") >= ctx.options["min_amount"]
        return ctx.is_open & large & pl.col("next_step").is_null()

    def not_evaluable(self, ctx):
        return ctx.is_open & pl.col("amount").is_null()
'''

CONFTEST = """\
# hygiene's test kit: run_rules, the make_deals / hygiene_config / hygiene_cli fixtures,
# and every *.rulecases.toml file below this folder collected as tests.
pytest_plugins = ["hygiene.testing"]
"""

RULE_CASES = """\
# Which deals ${code} flags, at its boundaries. Each case is one test.
rule = "${code}"
as_of = 2026-03-31

[[case]]
name = "a large open deal without a next step is flagged; min_amount itself is large"
deals = [
  { id = "LARGE", stage = "Proposal", amount = 80000 },
  { id = "AT-LIMIT", stage = "Proposal", amount = 50000 },
  { id = "SMALL", stage = "Proposal", amount = 49999 },
]
expect = ["LARGE", "AT-LIMIT"]

[[case]]
name = "a next step or a closed stage clears the deal"
deals = [
  { id = "NEXT-STEP", stage = "Proposal", amount = 80000, next_step = "Demo on Monday" },
  { id = "WON", stage = "Closed Won", amount = 80000 },
]
expect = []

[[case]]
name = "min_amount is an option"
options = { min_amount = 100000 }
deals = [{ id = "LARGE", stage = "Proposal", amount = 80000 }]
expect = []
"""

TEST_RULES = '''\
"""What ${code} says about a deal; which deals it flags is in rule_cases/."""

from hygiene.testing import audit_deals, run_rules


def test_the_message_names_the_amount_and_the_stage():
    deal = {"id": "D1", "stage": "Negotiation", "amount": 125000}

    [finding] = run_rules([deal], rules=["${code}"], as_of="2026-03-31")

    assert finding.message == "125,000 deal in Negotiation has no next step"


def test_open_deals_without_an_amount_are_not_evaluable():
    deals = [{"id": "D1", "stage": "Proposal"}, {"id": "D2", "stage": "Closed Lost"}]

    report = audit_deals(deals, rules=["${code}"], as_of="2026-03-31")

    assert report.summary()["not_evaluable"] == {"${code}": 1}
'''

README = """\
# ${distribution}

Our own pipeline hygiene rules, as a [hygiene](https://pypi.org/project/pipeline-hygiene/) plugin.

| code | name | flags |
|---|---|---|
| ${code} | ${rule_name} | a large open deal without a next step |

```bash
pip install -e ".[test]"
hygiene rules                 # lists ${code}
hygiene explain ${code}       # its documentation and options
python -m pytest              # the rule cases in tests/rule_cases/ and tests/test_rules.py
```

Add a rule: a module under `src/${package}/` with a class like
`LargeDealWithoutNextStep` (a docstring with **Why**, **Example** and **Fix**
sections, an `options_schema`), listed in `hygiene_register_rules()` in
`src/${package}/__init__.py`, with a `tests/rule_cases/CODE-name.rulecases.toml`
file saying which deals it flags. Codes keep this plugin's prefix; `HY` is
hygiene's own.
"""

#: Where each file goes (``${package}`` and the like are filled in) and what it holds.
FILES = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    "src/${package}/__init__.py": INIT,
    "src/${package}/${rule_module}.py": RULE,
    "tests/conftest.py": CONFTEST,
    "tests/rule_cases/${code}-${rule_name}.rulecases.toml": RULE_CASES,
    "tests/test_rules.py": TEST_RULES,
}
