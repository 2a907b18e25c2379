"""What a registered rule, source or reporter class must declare."""

from __future__ import annotations

import re

from hygiene.errors import PluginError
from hygiene.models import SEVERITIES

RULE_CODE = re.compile(r"^[A-Z][A-Z0-9]*[0-9]{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
#: Codes of hygiene's own rules; a plugin or a configuration picks a prefix of its own.
RESERVED_CODE_PREFIX = "HY"


def _fail(entry, problem: str) -> PluginError:
    return PluginError(f"plugin {entry.plugin!r}: {entry.cls.__module__}.{entry.cls.__qualname__} {problem}")


def check_rule(entry) -> None:
    from hygiene.rule import DealRule, PipelineRule

    cls = entry.cls
    if not isinstance(cls, type) or not issubclass(cls, (DealRule, PipelineRule)):
        raise PluginError(f"plugin {entry.plugin!r} registered {cls!r}, which is not a DealRule or PipelineRule subclass")
    for attribute in ("code", "name", "summary"):
        if not isinstance(getattr(cls, attribute, None), str) or not getattr(cls, attribute):
            raise _fail(entry, f"has no {attribute}")
    if not RULE_CODE.match(cls.code):
        raise _fail(entry, f"has code {cls.code!r}; codes are uppercase letters then three digits, e.g. 'ACME001'")
    if not RULE_NAME.match(cls.name):
        raise _fail(entry, f"has name {cls.name!r}; names are kebab-case, e.g. 'stale-stage'")
    if cls.severity not in SEVERITIES:
        raise _fail(entry, f"has severity {cls.severity!r}; expected one of {', '.join(SEVERITIES)}")
    if issubclass(cls, DealRule) and not (cls.is_vectorised() or cls.is_row_at_a_time()):
        raise _fail(entry, "implements neither condition() nor check()")


def check_rule_prefix(entry, *, builtin: bool) -> None:
    """Only hygiene's own rules use the reserved code prefix."""
    if not builtin and entry.cls.code.startswith(RESERVED_CODE_PREFIX):
        raise _fail(
            entry,
            f"has code {entry.cls.code!r}; the prefix {RESERVED_CODE_PREFIX} is reserved for hygiene's built-in rules: "
            "use a prefix of your own, e.g. 'ACME001'",
        )


def check_source(entry) -> None:
    from hygiene.source import Source

    if not isinstance(entry.cls, type) or not issubclass(entry.cls, Source):
        raise PluginError(f"plugin {entry.plugin!r} registered {entry.cls!r} as a source, which is not a Source subclass")
    if not isinstance(getattr(entry.cls, "name", None), str):
        raise _fail(entry, "has no name")


def check_reporter(entry) -> None:
    from hygiene.reporter import Reporter

    if not isinstance(entry.cls, type) or not issubclass(entry.cls, Reporter):
        raise PluginError(f"plugin {entry.plugin!r} registered {entry.cls!r} as a reporter, which is not a Reporter subclass")
    if not isinstance(getattr(entry.cls, "name", None), str):
        raise _fail(entry, "has no name")
