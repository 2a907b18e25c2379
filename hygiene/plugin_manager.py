"""Build the plugin manager and collect what plugins register.

Plugins come from the ``hygiene`` entry-point group (the built-ins are
registered there too, by this distribution) and from modules a
configuration names. Each is loaded on its own, so one broken plugin is
named in one line instead of taking the others down.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import attrs
import pluggy

from hygiene import hookspecs
from hygiene.errors import PluginError
from hygiene.markers import ENTRY_POINT_GROUP, PROJECT_NAME

BUILTIN_DISTRIBUTION = "pipeline-hygiene"
AUTOLOAD_ENV = "HYGIENE_DISABLE_PLUGIN_AUTOLOAD"


@attrs.define(kw_only=True)
class PluginInfo:
    """A plugin as ``hygiene plugins`` shows it."""

    name: str
    distribution: str | None
    version: str | None
    module: str
    builtin: bool
    hooks: list[str] = attrs.field(factory=list)
    error: str | None = None


@attrs.define(frozen=True)
class Registered:
    """A class a plugin registered, and the plugin it came from."""

    cls: type
    plugin: str


@attrs.define(kw_only=True)
class Registry:
    """Everything the loaded plugins provide, keyed by code or name."""

    plugins: list[PluginInfo]
    rules: dict[str, Registered]
    sources: dict[str, Registered]
    reporters: dict[str, Registered]
    manager: pluggy.PluginManager

    def rule_by_name(self) -> dict[str, Registered]:
        return {entry.cls.name: entry for entry in self.rules.values()}


@attrs.define(frozen=True)
class LocalModule:
    """A configured plugin given by module name, looked for in ``folder`` (the configuration's) first."""

    name: str
    folder: Path

    def __str__(self) -> str:
        return self.name


def autoload_disabled() -> bool:
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _load_module_from_path(path: Path) -> ModuleType:
    module_name = f"hygiene_local_plugin_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _import_local_module(target: LocalModule) -> ModuleType:
    # Only while importing: the team's package then resolves its own submodules through its __path__.
    folder = str(target.folder)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
        importlib.invalidate_caches()
    try:
        return importlib.import_module(target.name)
    finally:
        if added:
            sys.path.remove(folder)


def _load_local_plugin(target: Path | LocalModule | str) -> ModuleType:
    if isinstance(target, Path):
        return _load_module_from_path(target)
    if isinstance(target, LocalModule):
        return _import_local_module(target)
    return importlib.import_module(target)


def build_plugin_manager(
    *,
    blocked: Iterable[str] = (),
    local_plugins: Iterable[tuple[str, Path | LocalModule | str]] = (),
    strict: bool = True,
) -> tuple[pluggy.PluginManager, list[PluginInfo]]:
    """Create the manager and register every plugin.

    ``blocked`` names plugins (entry-point names or distribution names) not
    to load. With :data:`AUTOLOAD_ENV` set, only this distribution's own
    entry points load. ``local_plugins`` are ``(label, path-or-module)``
    pairs from a configuration's ``plugins`` list. With ``strict`` a plugin
    that fails to load raises :class:`PluginError`; otherwise the error is
    recorded on its :class:`PluginInfo`.
    """
    blocked = set(blocked)
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []
    only_builtins = autoload_disabled()

    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        dist = entry_point.dist
        dist_name = dist.metadata["Name"] if dist is not None else None
        builtin = dist_name == BUILTIN_DISTRIBUTION
        if entry_point.name in blocked or (dist_name in blocked and not builtin):
            continue
        if only_builtins and not builtin:
            continue
        if manager.has_plugin(entry_point.name):
            continue  # the same distribution seen twice on sys.path
        info = PluginInfo(
            name=entry_point.name,
            distribution=dist_name,
            version=dist.version if dist is not None else None,
            module=entry_point.value,
            builtin=builtin,
        )
        infos.append(info)
        try:
            plugin = entry_point.load()
        except Exception as exc:  # a plugin may fail in any way; name it and go on or stop
            info.error = f"{type(exc).__name__}: {exc}"
            if strict:
                raise PluginError(f"plugin {entry_point.name!r} ({entry_point.value}) failed to load: {info.error}") from exc
            continue
        _register(manager, plugin, info, strict)

    for label, target in local_plugins:
        info = PluginInfo(name=label, distribution=None, version=None, module=str(target), builtin=False)
        infos.append(info)
        if label in blocked:
            continue
        try:
            plugin = _load_local_plugin(target)
        except Exception as exc:
            info.error = f"{type(exc).__name__}: {exc}"
            if strict:
                raise PluginError(f"plugin {label!r} failed to load: {info.error}") from exc
            continue
        _register(manager, plugin, info, strict)
    return manager, infos


def _register(manager: pluggy.PluginManager, plugin: object, info: PluginInfo, strict: bool) -> None:
    try:
        manager.register(plugin, name=info.name)
        manager.check_pending()
    except (pluggy.PluginValidationError, ValueError) as exc:
        if manager.is_registered(plugin):
            manager.unregister(plugin)
        info.error = str(exc)
        if strict:
            raise PluginError(f"plugin {info.name!r} ({info.module}) is invalid: {exc}") from exc
        return
    info.hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or [])


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


def load_registry(
    *,
    blocked: Iterable[str] = (),
    local_plugins: Iterable[tuple[str, Path | LocalModule | str]] = (),
    strict: bool = True,
) -> Registry:
    """Load the plugins and index their rules, sources and reporters."""
    from hygiene.registry_checks import check_reporter, check_rule, check_rule_prefix, check_source

    manager, infos = build_plugin_manager(blocked=blocked, local_plugins=local_plugins, strict=strict)
    by_name = {info.name: info for info in infos}
    rules: dict[str, Registered] = {}
    rule_names: dict[str, Registered] = {}
    for entry in _collect(manager, "hygiene_register_rules", by_name, strict):
        try:
            check_rule(entry)
            for index, key in ((rules, entry.cls.code), (rule_names, entry.cls.name)):
                if key in index:
                    other = index[key]
                    raise PluginError(
                        f"rule {key!r} is registered twice: by plugin {other.plugin!r} "
                        f"({other.cls.__module__}.{other.cls.__qualname__}) and by plugin {entry.plugin!r} "
                        f"({entry.cls.__module__}.{entry.cls.__qualname__})"
                    )
            check_rule_prefix(entry, builtin=by_name[entry.plugin].builtin)
        except PluginError as exc:
            if strict:
                raise
            by_name[entry.plugin].error = str(exc)
            continue
        rules[entry.cls.code] = entry
        rule_names[entry.cls.name] = entry
    sources = _index(_collect(manager, "hygiene_register_sources", by_name, strict), check_source, "source", by_name, strict)
    reporters = _index(_collect(manager, "hygiene_register_reporters", by_name, strict), check_reporter, "reporter", by_name, strict)
    return Registry(
        plugins=infos,
        rules=dict(sorted(rules.items())),
        sources=sources,
        reporters=reporters,
        manager=manager,
    )


def _index(entries, check, kind: str, infos: dict[str, PluginInfo], strict: bool) -> dict[str, Registered]:
    index: dict[str, Registered] = {}
    for entry in entries:
        try:
            check(entry)
            if entry.cls.name in index:
                other = index[entry.cls.name]
                raise PluginError(
                    f"{kind} {entry.cls.name!r} is registered twice: by plugin {other.plugin!r} and by plugin {entry.plugin!r}"
                )
        except PluginError as exc:
            if strict:
                raise
            infos[entry.plugin].error = str(exc)
            continue
        index[entry.cls.name] = entry
    return dict(sorted(index.items()))
