"""Decide which rules run, with which severity and options.

``select`` and ``ignore`` take codes (``HY001``), prefixes (``HY``, ``HY00``),
names (``stale-stage``) or group names (``forecast``, ``next steps``, also
written ``next-steps``); ``ALL`` selects everything. A rule runs when it
is selected, not ignored, and not disabled in its ``[rules.X]`` table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from hygiene.api.errors import ConfigError
from hygiene.api.rule import Rule
from hygiene.config.settings import Config
from hygiene.plugin.registry import Registered


@attrs.define(frozen=True, kw_only=True)
class ConfiguredRule:
    """A rule chosen to run: its instance, its effective severity and validated options, its plugin."""

    rule: Rule
    severity: str
    options: Mapping[str, Any]
    plugin: str
    #: Points each finding takes off its deal's health score.
    weight: int = 0

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def name(self) -> str:
        return self.rule.name


def group_key(group: str) -> str:
    """Group names match case-insensitively, with hyphens and underscores read as spaces."""
    return " ".join(group.replace("-", " ").replace("_", " ").split()).casefold()


def matches(entry: str, cls: type) -> bool:
    return entry == "ALL" or entry == cls.name or cls.code.startswith(entry) or group_key(entry) == group_key(getattr(cls, "group", ""))


def _check_entries(entries: Iterable[str], rules: dict[str, Registered], where: str) -> None:
    for entry in entries:
        if not any(matches(entry, r.cls) for r in rules.values()):
            raise ConfigError(f"{where}: {entry!r} matches no rule code, prefix, name or group (`hygiene rules` lists them)")


def rule_tables_by_code(config: Config, rules: dict[str, Registered]) -> dict[str, dict[str, Any]]:
    """``[rules.X]`` tables keyed by rule code; a rule given by both code and name is an error."""
    by_name = {r.cls.name: code for code, r in rules.items()}
    tables: dict[str, dict[str, Any]] = {}
    written: dict[str, str] = {}
    name = config.file or "configuration"
    for key, table in config.rule_tables.items():
        code = key if key in rules else by_name.get(key)
        if code is None:
            raise ConfigError(f"{name}: rules: unknown rule {key!r} (`hygiene rules` lists them)")
        if code in tables:
            raise ConfigError(f"{name}: rules.{key}: rule {code} is configured twice (also as rules.{written[code]})")
        tables[code] = table
        written[code] = key
    return tables


def configure_rules(
    config: Config,
    rules: dict[str, Registered],
    *,
    select: list[str] | None = None,
    ignore: Iterable[str] = (),
) -> list[ConfiguredRule]:
    """The rules to run, in code order. Command-line ``select`` replaces the config's; ``ignore`` adds to it."""
    name = config.file or "configuration"
    selected = select if select else config.select
    ignored = [*config.ignore, *ignore]
    _check_entries(config.select or [], rules, f"{name}: select")
    _check_entries(config.ignore, rules, f"{name}: ignore")
    _check_entries(select or [], rules, "--select")
    _check_entries(ignore, rules, "--ignore")
    tables = rule_tables_by_code(config, rules)

    configured = []
    for code, entry in sorted(rules.items()):
        cls = entry.cls
        table = tables.get(code, {})
        if selected is not None and not any(matches(s, cls) for s in selected):
            continue
        if any(matches(i, cls) for i in ignored) or table.get("enabled", True) is False:
            continue
        options = cls.option_defaults()
        options.update({k: v for k, v in table.items() if k not in ("severity", "enabled", "weight")})
        severity = table.get("severity", cls.severity)
        weight = table.get("weight", cls.default_weight(severity))
        configured.append(ConfiguredRule(rule=cls(), severity=severity, options=options, plugin=entry.plugin, weight=weight))
    return configured
