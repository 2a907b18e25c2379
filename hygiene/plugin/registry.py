"""The registry: every rule, source, reporter and CRM preset the plugins provide, and the one place they are checked.

Plugins' rules, sources and reporters, and the configuration's custom
rules, all enter through :meth:`Registry.add_rule` / :meth:`Registry.add`,
so one set of checks (and one wording) applies to all of them: metadata, a
code and name of the right shape, the reserved ``HY`` prefix, and no clash
with what is already registered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import attrs
import pluggy

from hygiene.api.errors import PluginError
from hygiene.api.models import SEVERITIES
from hygiene.api.preset import Preset
from hygiene.api.reporter import Reporter
from hygiene.api.rule import DealRule, PipelineRule
from hygiene.api.source import Source
from hygiene.plugin.loading import LocalModule, PluginInfo, build_plugin_manager

RULE_CODE = re.compile(r"^[A-Z][A-Z0-9]*[0-9]{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
#: Codes of hygiene's own rules; a plugin or a configuration picks a prefix of its own.
RESERVED_CODE_PREFIX = "HY"


def rule_code_problem(code: str, *, builtin: bool = False) -> str | None:
    """What is wrong with ``code`` as a rule code (None when nothing is)."""
    if not RULE_CODE.match(code):
        return f"code {code!r} is not a rule code: uppercase letters, then three digits, e.g. 'ACME001'"
    if not builtin and code.startswith(RESERVED_CODE_PREFIX):
        return (
            f"code {code!r} has the prefix {RESERVED_CODE_PREFIX}, which is reserved for hygiene's built-in rules: "
            "use a prefix of your own, e.g. 'ACME001'"
        )
    return None


def rule_name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a rule name (None when nothing is)."""
    if not RULE_NAME.match(name):
        return f"name {name!r} is not a rule name: kebab-case, e.g. 'stale-stage'"
    return None


@attrs.define(frozen=True)
class Registered:
    """A class a plugin registered, the plugin it came from, and how errors name it."""

    cls: type
    plugin: str
    #: Where the class was declared, when not in a module (a custom rule's place in the configuration).
    label: str | None = None

    def describe(self) -> str:
        if self.label is not None:
            return self.label
        return f"plugin {self.plugin!r} ({self.cls.__module__}.{self.cls.__qualname__})"


@attrs.define(kw_only=True)
class Registry:
    """Everything the loaded plugins provide, keyed by code or name."""

    plugins: list[PluginInfo]
    rules: dict[str, Registered] = attrs.field(factory=dict)
    sources: dict[str, Registered] = attrs.field(factory=dict)
    reporters: dict[str, Registered] = attrs.field(factory=dict)
    #: CRM presets by name (``Registered.cls`` holds the :class:`hygiene.Preset` itself).
    presets: dict[str, Registered] = attrs.field(factory=dict)

    def rule_by_name(self) -> dict[str, Registered]:
        return {entry.cls.name: entry for entry in self.rules.values()}

    def plugin(self, name: str) -> PluginInfo | None:
        return next((info for info in self.plugins if info.name == name), None)

    def add_rule(self, entry: Registered, *, builtin: bool = False) -> None:
        """Register a rule class; :class:`PluginError` when it is malformed or its code or name is taken."""
        check_rule(entry)
        by_name = self.rule_by_name()
        for key, taken in ((entry.cls.code, self.rules.get(entry.cls.code)), (entry.cls.name, by_name.get(entry.cls.name))):
            if taken is not None:
                raise PluginError(f"rule {key!r} is registered twice: by {taken.describe()} and by {entry.describe()}")
        # After the clash check: a third party's HY001 is better named as the clash it is.
        check_rule_prefix(entry, builtin=builtin)
        self.rules = dict(sorted({**self.rules, entry.cls.code: entry}.items()))

    def add_preset(self, entry: Registered) -> None:
        """Register a CRM preset (a :class:`hygiene.Preset` instance, not a class)."""
        preset = entry.cls
        if not isinstance(preset, Preset):
            raise PluginError(f"plugin {entry.plugin!r} registered {preset!r} as a preset, which is not a hygiene.Preset")
        if not RULE_NAME.match(preset.name):
            raise PluginError(f"plugin {entry.plugin!r}: preset {preset.name!r} has a name that is not kebab-case, e.g. 'salesforce-export'")
        if "id" not in preset.fields or "stage" not in preset.fields:
            raise PluginError(f"plugin {entry.plugin!r}: preset {preset.name!r} names no column for id or stage")
        if preset.name in self.presets:
            other = self.presets[preset.name]
            raise PluginError(f"preset {preset.name!r} is registered twice: by plugin {other.plugin!r} and by plugin {entry.plugin!r}")
        self.presets = dict(sorted({**self.presets, preset.name: entry}.items()))

    def add(self, kind: str, entry: Registered) -> None:
        """Register a ``source`` or ``reporter`` class."""
        base, index = {"source": (Source, self.sources), "reporter": (Reporter, self.reporters)}[kind]
        if not isinstance(entry.cls, type) or not issubclass(entry.cls, base):
            raise PluginError(f"plugin {entry.plugin!r} registered {entry.cls!r} as a {kind}, which is not a {base.__name__} subclass")
        if not isinstance(getattr(entry.cls, "name", None), str):
            raise _malformed(entry, "has no name")
        if entry.cls.name in index:
            other = index[entry.cls.name]
            raise PluginError(f"{kind} {entry.cls.name!r} is registered twice: by plugin {other.plugin!r} and by plugin {entry.plugin!r}")
        index[entry.cls.name] = entry
        sorted_index = dict(sorted(index.items()))
        index.clear()
        index.update(sorted_index)


def _malformed(entry: Registered, problem: str) -> PluginError:
    return PluginError(f"plugin {entry.plugin!r}: {entry.cls.__module__}.{entry.cls.__qualname__} {problem}")


def check_rule(entry: Registered) -> None:
    """What every rule class must declare; :class:`PluginError` naming the plugin and the class otherwise."""
    cls = entry.cls
    if not isinstance(cls, type) or not issubclass(cls, (DealRule, PipelineRule)):
        raise PluginError(f"plugin {entry.plugin!r} registered {cls!r}, which is not a DealRule or PipelineRule subclass")
    for attribute in ("code", "name", "summary"):
        if not isinstance(getattr(cls, attribute, None), str) or not getattr(cls, attribute):
            raise _malformed(entry, f"has no {attribute}")
    problem = rule_code_problem(cls.code, builtin=True) or rule_name_problem(cls.name)
    if problem is not None:
        raise PluginError(f"{entry.describe()}: {problem}")
    if cls.severity not in SEVERITIES:
        raise _malformed(entry, f"has severity {cls.severity!r}; expected one of {', '.join(SEVERITIES)}")
    if issubclass(cls, DealRule) and not (cls.is_vectorised() or cls.is_row_at_a_time()):
        raise _malformed(entry, "implements neither condition() nor check()")


def check_rule_prefix(entry: Registered, *, builtin: bool) -> None:
    """Only hygiene's own rules use the reserved code prefix."""
    if not builtin and (problem := rule_code_problem(entry.cls.code)) is not None:
        raise PluginError(f"{entry.describe()}: {problem}")


def load_registry(
    *,
    blocked: Iterable[str] = (),
    local_plugins: Iterable[tuple[str, Path | LocalModule | str]] = (),
    strict: bool = True,
) -> Registry:
    """Load the plugins and register their rules, sources, reporters and presets.

    With ``strict`` the first problem raises :class:`PluginError`; otherwise
    it is recorded on its plugin (``hygiene plugins`` shows it) and the rest
    is still registered.
    """
    manager, infos = build_plugin_manager(blocked=blocked, local_plugins=local_plugins, strict=strict)
    registry = Registry(plugins=infos)
    by_name = {info.name: info for info in infos}
    steps = (
        ("hygiene_register_rules", lambda entry: registry.add_rule(entry, builtin=by_name[entry.plugin].builtin)),
        ("hygiene_register_sources", lambda entry: registry.add("source", entry)),
        ("hygiene_register_reporters", lambda entry: registry.add("reporter", entry)),
        ("hygiene_register_presets", registry.add_preset),
    )
    for hook_name, register in steps:
        for entry in _collect(manager, hook_name, by_name, strict):
            try:
                register(entry)
            except PluginError as exc:
                if strict:
                    raise
                by_name[entry.plugin].error = str(exc)
    return registry


def _collect(manager: pluggy.PluginManager, hook_name: str, infos: dict[str, PluginInfo], strict: bool) -> list[Registered]:
    collected: list[Registered] = []
    for impl in getattr(manager.hook, hook_name).get_hookimpls():
        try:
            classes = impl.function()
        except Exception as exc:
            message = f"plugin {impl.plugin_name!r}: {hook_name}() raised {type(exc).__name__}: {exc}"
            if strict:
                raise PluginError(message) from exc
            infos[impl.plugin_name].error = message
            continue
        collected.extend(Registered(cls, impl.plugin_name) for cls in classes or ())
    return collected
