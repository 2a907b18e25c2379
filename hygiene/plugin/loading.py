"""Load plugins into a pluggy manager.

Plugins come from the ``hygiene`` entry-point group (the built-ins are
registered there too, by this distribution) and from modules a
configuration names. Each is loaded on its own, so one broken plugin is
named in one line instead of taking the others down.
"""

from __future__ import annotations

import hashlib
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

from hygiene.api.errors import PluginError
from hygiene.plugin import hookspecs
from hygiene.plugin.markers import ENTRY_POINT_GROUP, PROJECT_NAME

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
class LocalModule:
    """A configured plugin given by module name, looked for in ``folder`` (the configuration's) first."""

    name: str
    folder: Path

    def __str__(self) -> str:
        return self.name


def autoload_disabled() -> bool:
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _load_module_from_path(path: Path) -> ModuleType:
    # Named after the file, stably: an error that names the module reads the same in every run.
    digest = hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:12]
    module_name = f"hygiene_local_plugin_{digest}"
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
    for entry_point, info in _installed_plugins(blocked):
        if manager.has_plugin(entry_point.name):
            continue  # the same distribution seen twice on sys.path
        infos.append(info)
        _load_and_register(manager, info, entry_point.load, strict)
    for label, target in local_plugins:
        info = PluginInfo(name=label, distribution=None, version=None, module=str(target), builtin=False)
        infos.append(info)
        if label not in blocked:
            _load_and_register(manager, info, lambda target=target: _load_local_plugin(target), strict)
    return manager, infos


def _installed_plugins(blocked: set[str]):
    """The entry points to load, by name, with their :class:`PluginInfo`."""
    only_builtins = autoload_disabled()
    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        dist = entry_point.dist
        dist_name = dist.metadata["Name"] if dist is not None else None
        builtin = dist_name == BUILTIN_DISTRIBUTION
        if entry_point.name in blocked or (dist_name in blocked and not builtin) or (only_builtins and not builtin):
            continue
        yield entry_point, PluginInfo(
            name=entry_point.name,
            distribution=dist_name,
            version=dist.version if dist is not None else None,
            module=entry_point.value,
            builtin=builtin,
        )


def _load_and_register(manager: pluggy.PluginManager, info: PluginInfo, load, strict: bool) -> None:
    try:
        plugin = load()
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as exc:  # a plugin may fail in any way (SystemExit, a polars panic); name it and go on or stop
        info.error = f"{type(exc).__name__}: {exc}"
        if strict:
            where = f" ({info.module})" if info.distribution is not None else ""
            raise PluginError(f"plugin {info.name!r}{where} failed to load: {info.error}") from exc
        return
    _register(manager, plugin, info, strict)


def _register(manager: pluggy.PluginManager, plugin: object, info: PluginInfo, strict: bool) -> None:
    try:
        manager.register(plugin, name=info.name)
        manager.check_pending()
    except (pluggy.PluginValidationError, ValueError) as exc:
        if manager.is_registered(plugin):
            manager.unregister(plugin)
        # pluggy appends the whole registry to some messages: the first line says what is wrong.
        info.error = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if strict:
            raise PluginError(f"plugin {info.name!r} ({info.module}) is invalid: {info.error}") from exc
        return
    info.hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or [])
