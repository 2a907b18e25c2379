"""Human-readable documentation of rules and plugins."""

from __future__ import annotations

import inspect
import json

from hygiene.api.errors import ConfigError
from hygiene.api.models import RULE_ERROR_CODE, RULE_ERROR_NAME
from hygiene.plugin.registry import Registered, Registry

#: Who reports HY999: the engine itself, not a plugin.
CORE = "hygiene (core)"


class RuleError:
    """A rule raised an exception, so the findings it would have made are missing.

    **Why**

    A plugin's bug, or data it did not expect, must not take the other rules
    down with it. The audit runs the other rules, reports the failure as
    this finding (naming the plugin, the rule and the exception) and exits
    with code 2, so that a CI job never passes on an incomplete audit.

    **Example**

    ``rule OOPS001 (crashes) from plugin 'oops' failed: ZeroDivisionError:
    division by zero``: OOPS001 found nothing, because it could not run.

    **Fix**

    Tell the plugin's authors (``hygiene plugins`` shows its version), with
    the export's shape if you can. Until it is fixed, ``--ignore`` the rule
    or block its plugin with ``-p no:NAME``.
    """

    code = RULE_ERROR_CODE
    name = RULE_ERROR_NAME
    summary = "A rule raised an exception; its findings are missing"
    severity = "error"
    options_schema = {"type": "object", "properties": {}}


def find_rule(registry: Registry, key: str):
    if key in registry.rules:
        return registry.rules[key]
    by_name = registry.rule_by_name()
    if key in by_name:
        return by_name[key]
    upper = key.upper()
    if upper in registry.rules:
        return registry.rules[upper]
    raise ConfigError(f"unknown rule {key!r} (`hygiene rules` lists them)")


def options_table(schema) -> list[str]:
    lines = []
    for key, spec in schema.get("properties", {}).items():
        kind = spec.get("type") or (" | ".join(json.dumps(v) for v in spec["enum"]) if "enum" in spec else "any")
        default = f" (default: {json.dumps(spec['default'])})" if "default" in spec else ""
        description = spec.get("description", "")
        lines.append(f"  {key}: {kind}{default}" + (f"\n      {description}" if description else ""))
    return lines


def explain_rule(registry: Registry, key: str) -> str:
    """A rule's documentation, options and origin; also HY999, which the core reports."""
    is_rule_error = key.upper() == RULE_ERROR_CODE or key == RULE_ERROR_NAME
    entry = Registered(RuleError, CORE) if is_rule_error else find_rule(registry, key)
    cls = entry.cls
    lines = [f"{cls.code} {cls.name} ({cls.severity}, from plugin {entry.plugin})", "", cls.summary, ""]
    doc = inspect.cleandoc(cls.__doc__ or "")
    if doc:
        lines += [doc, ""]
    if cls is RuleError:
        lines.append("The core reports it: it cannot be selected, ignored or configured.")
        return "\n".join(lines)
    options = options_table(cls.options_schema)
    lines.append("Options ([rules.%s] in hygiene.toml; also severity and enabled):" % cls.name)
    lines += options or ["  (none)"]
    return "\n".join(lines)


def describe_plugins(registry: Registry) -> str:
    rules_by_plugin: dict[str, list[str]] = {}
    for code, entry in registry.rules.items():
        rules_by_plugin.setdefault(entry.plugin, []).append(code)
    sources_by_plugin: dict[str, list[str]] = {}
    for name, entry in registry.sources.items():
        sources_by_plugin.setdefault(entry.plugin, []).append(name)
    reporters_by_plugin: dict[str, list[str]] = {}
    for name, entry in registry.reporters.items():
        reporters_by_plugin.setdefault(entry.plugin, []).append(name)
    presets_by_plugin: dict[str, list[str]] = {}
    for name, entry in registry.presets.items():
        presets_by_plugin.setdefault(entry.plugin, []).append(name)
    lines = []
    for info in registry.plugins:
        origin = f"{info.distribution} {info.version}" if info.distribution else "local"
        kind = "built-in" if info.builtin else "third-party" if info.distribution else "configured"
        lines.append(f"{info.name} ({origin}, {kind}): {info.module}")
        lines.append(f"  hooks: {', '.join(info.hooks) or '(none)'}")
        for label, index in (
            ("rules", rules_by_plugin),
            ("sources", sources_by_plugin),
            ("reporters", reporters_by_plugin),
            ("presets", presets_by_plugin),
        ):
            if info.name in index:
                lines.append(f"  {label}: {', '.join(index[info.name])}")
        if info.error:
            lines.append(f"  error: {info.error}")
    return "\n".join(lines)
