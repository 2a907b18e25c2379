"""The test kit for rule authors: run rules on a few deals, and rule cases as data.

:func:`run_rules` audits a handful of deals through the same path as
``hygiene audit`` (a raw table, normalisation, configuration validated
against the rules' option schemas, the engine) and returns the findings::

    from hygiene.testing import run_rules

    findings = run_rules(
        deals=[{"id": "D1", "stage": "Proposal", "stage_entered_date": "2025-12-01"}],
        rules=["stale-stage"],
        as_of="2026-01-31",
    )
    assert [f.deal_id for f in findings] == ["D1"]

:func:`audit_deals` takes the same arguments and returns the whole report
(its summary counts deals, open deals and deals a rule could not evaluate).

It is also an opt-in pytest plugin (``pytest_plugins = ["hygiene.testing"]``
in the top-level ``conftest.py``, or ``-p hygiene.testing``) with these
fixtures:

- ``make_deals(deals, name="deals.csv")`` writes deals as a CSV export in
  ``tmp_path`` and returns its path;
- ``hygiene_config(data, name="hygiene.toml")`` writes a configuration;
- ``hygiene_cli(*args)`` runs the ``hygiene`` command in ``tmp_path`` and
  returns click's ``Result``.

and it collects rule cases written as data: every ``*.rulecases.toml`` file
becomes one test per case::

    rule = "HY001"                 # the rule's code or name
    as_of = 2026-01-31             # defaults for every case: as_of, options,
    options = { max_days = 30 }    # quotas, stages, fiscal_year_start_month,
                                   # source_fields, and config: a hygiene.toml
                                   # (relative to this file) whose local plugins
                                   # and custom rules provide the rule

    [[case]]
    name = "one day past the stage's max_days is flagged"
    deals = [
      { id = "D1", stage = "Proposal", stage_entered_date = 2025-12-31 },
      { id = "D2", stage = "Proposal", stage_entered_date = 2026-01-01 },
    ]
    expect = ["D1"]                # the flagged deal ids; "row 7" for a row without an id,
                                   # the owner for owner-level findings (HY004)

A case may override any default; its ``options`` are merged over the file's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from hygiene.api.errors import ConfigError, HygieneError
from hygiene.api.fields import REQUIRED_FIELDS
from hygiene.api.source import RawTable
from hygiene.audit.run import AuditOptions, run_audit
from hygiene.commands.explain import find_rule
from hygiene.commands.session import load_plugins, session_schema
from hygiene.config.settings import RawConfig, read_config, validate
from hygiene.plugin.registry import Registered, check_rule, check_rule_prefix

#: How configuration problems in a ``run_rules`` call are introduced.
CALLER = "run_rules()"
DEFAULT_AS_OF = "2026-01-31"
RULE_CASES_SUFFIX = ".rulecases.toml"
#: What a rule-cases file may set for all its cases, and each case for itself.
CASE_SETTINGS = ("as_of", "options", "quotas", "stages", "fiscal_year_start_month", "source_fields", "config")


def run_rules(
    deals: Iterable[Mapping[str, Any]] = (),
    rules: Iterable[str | type] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    as_of: str | dt.date = DEFAULT_AS_OF,
    **settings: Any,
) -> list:
    """Run rules over ``deals`` and return their :class:`hygiene.Finding` objects in report order.

    - ``deals``: mappings of field names (canonical, or the columns named in
      ``source_fields``) to values, as Python values or as an export writes
      them (``"2026-01-31"``, ``"1500.50"``). Deal *i* is row *i + 2*, as in
      a CSV export with a header row.
    - ``rules``: rule classes (installed or not) or codes/names of installed
      rules; default all installed rules. Only these rules run.
    - ``options``: rule code or name -> its ``[rules.X]`` table (options,
      ``severity``, ``enabled``), filled with the schema's defaults and
      validated like ``hygiene.toml``: an invalid option raises
      :class:`hygiene.ConfigError` naming it.
    - ``settings``: ``quotas`` (owner -> quota), ``stages`` (a list of
      ``[[pipeline.stages]]`` tables), ``fiscal_year_start_month`` and
      ``source_fields`` (canonical field -> column), as in ``hygiene.toml``;
      ``config``, the path of a ``hygiene.toml`` whose local ``plugins`` and
      ``[[custom_rules]]`` add to the installed rules (its other settings
      are not used: a test states what it depends on).
    """
    return list(audit_deals(deals, rules, options, as_of, **settings).iter_findings())


def audit_deals(
    deals: Iterable[Mapping[str, Any]] = (),
    rules: Iterable[str | type] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    as_of: str | dt.date = DEFAULT_AS_OF,
    quotas: Mapping[str, float] | None = None,
    stages: Sequence[Mapping[str, Any]] | None = None,
    fiscal_year_start_month: int = 1,
    source_fields: Mapping[str, str] | None = None,
    config: str | Path | None = None,
):
    """Audit ``deals`` as ``hygiene audit`` would; the arguments are :func:`run_rules`'.

    Returns the whole :class:`hygiene.AuditReport`, for its summary
    (deals, open deals, not-evaluable counts) or to feed a reporter.
    """
    registry = _registry(rules, config)
    running = {key for entry in registry.rules.values() for key in (entry.cls.code, entry.cls.name)}
    for key in options or {}:
        if key not in running:
            raise ConfigError(f"{CALLER}: options for {key!r}, which is not among the rules run ({', '.join(registry.rules)})")
    pipeline: dict[str, Any] = {"fiscal_year_start_month": fiscal_year_start_month}
    if stages is not None:
        pipeline["stages"] = [dict(stage) for stage in stages]
    data = {
        "source": {"fields": dict(source_fields or {})},
        "pipeline": pipeline,
        "quotas": dict(quotas or {}),
        "rules": {key: dict(table) for key, table in (options or {}).items()},
    }
    config = validate(RawConfig(data=data, file=CALLER, base_dir=Path.cwd()), session_schema(registry))
    return run_audit(config, registry, AuditOptions(as_of=as_date(as_of)), raw=deal_table(deals, source_fields))


def as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def export_text(value: Any) -> str | None:
    """A value as an export's cell holds it."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def export_columns(deals: list[Mapping[str, Any]], source_fields: Mapping[str, str] | None = None) -> list[str]:
    """The header of an export of ``deals``: every key, in order of appearance."""
    if not deals:
        # An empty export still has the required columns.
        return [(source_fields or {}).get(field, field) for field in REQUIRED_FIELDS]
    return list(dict.fromkeys(key for deal in deals for key in deal))


def deal_table(deals: Iterable[Mapping[str, Any]], source_fields: Mapping[str, str] | None = None):
    """Deals as a source would read them: a :class:`hygiene.RawTable` of text columns."""
    import polars as pl

    deals = list(deals)
    columns = export_columns(deals, source_fields)
    frame = pl.DataFrame(
        {column: [export_text(deal.get(column)) for deal in deals] for column in columns},
        schema={column: pl.String for column in columns},
    )
    return RawTable(frame=frame, location="deals")


def _configured_registry(config: str | Path | None):
    """The installed plugins, and those the configuration ``config`` adds (local plugins, custom rules)."""
    if config is None:
        return load_plugins(read_config(None))
    path = Path(config)
    return load_plugins(read_config(path, path.name))


def _registry(rules: Iterable[str | type] | None, config: str | Path | None = None):
    """The installed plugins (and ``config``'s), with only ``rules`` as their rules."""
    registry = _configured_registry(config)
    if rules is None:
        return registry
    chosen: dict[str, Registered] = {}
    for rule in rules:
        if isinstance(rule, str):
            entry = find_rule(registry, rule)
        else:
            installed = registry.rules.get(getattr(rule, "code", None))
            entry = installed if installed is not None and installed.cls is rule else Registered(rule, rule.__module__)
            check_rule(entry)
            if entry is not installed:
                # A class under test is a third party's: the checks its plugin will meet once installed.
                check_rule_prefix(entry, builtin=False)
        chosen[entry.cls.code] = entry
    return attrs.evolve(registry, rules=dict(sorted(chosen.items())))


# The pytest plugin: fixtures.


@pytest.fixture
def make_deals(tmp_path: Path):
    """Write deals (mappings of column -> value) as a CSV export in ``tmp_path``; returns its path."""
    import csv

    def write(deals: Iterable[Mapping[str, Any]], name: str = "deals.csv") -> Path:
        deals = list(deals)
        columns = export_columns(deals)
        path = tmp_path / name
        with path.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(columns)
            writer.writerows([export_text(deal.get(column)) for column in columns] for deal in deals)
        return path

    return write


@pytest.fixture
def hygiene_config(tmp_path: Path):
    """Write a ``hygiene.toml`` (from a dict) in ``tmp_path``; returns its path."""
    import tomli_w

    def write(data: Mapping[str, Any] | None = None, name: str = "hygiene.toml") -> Path:
        path = tmp_path / name
        path.write_text(tomli_w.dumps(dict(data or {})), encoding="utf-8")
        return path

    return write


@pytest.fixture
def hygiene_cli(tmp_path: Path):
    """Run ``hygiene ARGS...`` in ``tmp_path`` (so ``./hygiene.toml`` there is found); returns click's ``Result``."""
    from click.testing import CliRunner

    from hygiene.cli import cli

    def invoke(*args: Any, env: Mapping[str, str] | None = None, input: str | None = None):
        with contextlib.chdir(tmp_path):
            return CliRunner().invoke(cli, [str(arg) for arg in args], env=env, input=input, prog_name="hygiene", catch_exceptions=False)

    return invoke


# The pytest plugin: rule cases as data.


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.name.endswith(RULE_CASES_SUFFIX):
        return RuleCasesFile.from_parent(parent, path=file_path)
    return None


class RuleCasesFile(pytest.File):
    """A ``*.rulecases.toml`` file: one rule, many named cases."""

    def collect(self):
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise self.CollectError(f"{self.path.name}: invalid TOML: {exc}") from None
        _check_keys(data, {"rule", "case", *CASE_SETTINGS}, ("rule", "case"), self.path.name, self.CollectError)
        defaults = {key: data[key] for key in CASE_SETTINGS if key in data}
        seen: set[str] = set()
        for index, case in enumerate(data["case"]):
            where = f"{self.path.name}: case[{index}]"
            _check_keys(case, {"name", "deals", "expect", *CASE_SETTINGS}, ("name", "expect"), where, self.CollectError)
            for key in ("deals", "expect"):
                if not isinstance(case.get(key, []), list):
                    raise self.CollectError(f"{where}: {key}: expected an array")
            if case["name"] in seen:
                raise self.CollectError(f"{where}: the name {case['name']!r} is used twice")
            seen.add(case["name"])
            settings = {**defaults, **{key: case[key] for key in CASE_SETTINGS if key in case}}
            settings["options"] = {**defaults.get("options", {}), **case.get("options", {})}
            if "config" in settings:
                settings["config"] = self.path.parent / settings["config"]
            yield RuleCase.from_parent(self, name=case["name"], rule=data["rule"], case=case, settings=settings)


def _check_keys(table: Any, allowed: set[str], required: Iterable[str], where: str, error: type[Exception]) -> None:
    if not isinstance(table, dict):
        raise error(f"{where}: expected a table")
    for key in table:
        if key not in allowed:
            raise error(f"{where}: unknown key {key!r} (expected one of: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in table:
            raise error(f"{where}: missing key {key!r}")


class RuleCaseMismatch(AssertionError):
    """The rule flagged other deals (or owners) than the case expects."""

    def __init__(self, expected: list[str], findings: list) -> None:
        super().__init__(expected, findings)
        self.expected = expected
        self.findings = findings


def flagged_subject(finding) -> str | None:
    """What a finding flags: its deal id, else its row (``row 7``), else its owner (owner-level findings)."""
    if finding.deal_id is not None:
        return finding.deal_id
    return f"row {finding.row}" if finding.row is not None else finding.owner


class RuleCase(pytest.Item):
    """One ``[[case]]``: run the rule on its deals and compare what is flagged."""

    def __init__(self, *, rule: str, case: Mapping[str, Any], settings: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rule = rule
        self.case = case
        self.settings = settings

    def runtest(self) -> None:
        settings = dict(self.settings)
        options = settings.pop("options")
        findings = run_rules(deals=self.case.get("deals", []), rules=[self.rule], options={self.rule: options}, **settings)
        expected = [str(subject) for subject in self.case["expect"]]
        if sorted(map(str, map(flagged_subject, findings))) != sorted(expected):
            raise RuleCaseMismatch(expected, findings)

    def repr_failure(self, excinfo, style=None):
        error = excinfo.value
        if isinstance(error, HygieneError):
            return f"{self.rule} case {self.name!r}: {error}"
        if not isinstance(error, RuleCaseMismatch):
            return super().repr_failure(excinfo, style=style)
        lines = [
            f"{self.rule} case {self.name!r} flagged other deals than expected",
            f"  expected: {sorted(error.expected)}",
            f"  flagged:  {sorted(str(flagged_subject(f)) for f in error.findings)}",
        ]
        lines += [f"    {flagged_subject(f)}: {f.message}" for f in error.findings]
        return "\n".join(lines)

    def reportinfo(self):
        return self.path, None, f"{self.rule}: {self.name}"
