"""Configuration and plugins, loaded together: the state every command (and ``hygiene.testing``) starts from."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import attrs

from hygiene.api.errors import ConfigError
from hygiene.config.custom_rules import register_custom_rules
from hygiene.config.schema import config_schema
from hygiene.config.selection import rule_tables_by_code
from hygiene.config.settings import DEFAULT_CONFIG_NAME, Config, RawConfig, read_config, validate
from hygiene.files import begin_run, note_input
from hygiene.files import note_input
from hygiene.plugin.loading import LocalModule
from hygiene.plugin.registry import Registry, load_registry


@attrs.define(kw_only=True)
class Session:
    config: Config
    registry: Registry


def find_config(config_path: str | None) -> tuple[Path | None, str | None]:
    if config_path is not None:
        return Path(config_path), config_path
    default = Path(DEFAULT_CONFIG_NAME)
    return (default, DEFAULT_CONFIG_NAME) if default.is_file() else (None, None)


def local_plugins(raw: RawConfig) -> list[tuple[str, Path | LocalModule]]:
    """``plugins = [...]`` entries: a path to a ``.py`` file (relative to the config) or a module name
    (imported from the config's folder first, then from the installed packages)."""
    entries = raw.data.get("plugins", [])
    name = raw.file or "configuration"
    if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
        raise ConfigError(f"{name}: plugins: expected a list of module names or .py paths")
    resolved: list[tuple[str, Path | LocalModule]] = []
    seen: dict[object, int] = {}
    for index, entry in enumerate(entries):
        same = (raw.base_dir / entry).resolve() if entry.endswith(".py") or "/" in entry or "\\" in entry else entry
        if same in seen:
            raise ConfigError(f"{name}: plugins[{index}]: {entry!r} is listed twice (first as plugins[{seen[same]}])")
        seen[same] = index
        if entry.endswith(".py") or "/" in entry or "\\" in entry:
            path = raw.base_dir / entry
            if not path.is_file():
                raise ConfigError(f"{name}: plugins[{index}]: no such file {entry!r}")
            note_input(path, entry, "a plugin")
            resolved.append((entry, path))
        else:
            resolved.append((entry, LocalModule(entry, raw.base_dir)))
    return resolved


def load_plugins(raw: RawConfig, *, blocked: Iterable[str] = (), strict: bool = True) -> Registry:
    """The installed plugins, the configuration's local plugins, and its custom rules."""
    registry = load_registry(blocked=blocked, local_plugins=local_plugins(raw), strict=strict)
    register_custom_rules(raw, registry, strict=strict)
    return registry


def session_schema(registry: Registry) -> dict:
    """The configuration schema for what ``registry`` holds: its rules' options and its sources' keys."""
    source_options: dict = {}
    for entry in registry.sources.values():
        for key, spec in entry.cls.options_schema.get("properties", {}).items():
            source_options.setdefault(key, spec)
    return config_schema({code: entry.cls for code, entry in registry.rules.items()}, source_options)


def load_session(config_path: str | None, *, blocked: Iterable[str] = (), strict: bool = True) -> Session:
    """A run starts here: the files it reads from now on are its inputs, which none of its writers may replace."""
    begin_run()
    path, display = find_config(config_path)
    raw = read_config(path, display)
    registry = load_plugins(raw, blocked=blocked, strict=strict)
    return Session(config=validate(raw, session_schema(registry)), registry=registry)


def rule_rows(session: Session, groups: list[str] = ()) -> list[tuple[str, str, str, str, str, str]]:
    """``hygiene rules``: a header, then each rule (of ``groups`` when given) with its configured severity."""
    from hygiene.config.selection import group_key

    tables = rule_tables_by_code(session.config, session.registry.rules)
    wanted = {group_key(group) for group in groups}
    known = {group_key(getattr(entry.cls, "group", "other")) for entry in session.registry.rules.values()}
    if unknown := sorted(group for group in groups if group_key(group) not in known):
        names = ", ".join(sorted({entry.cls.group for entry in session.registry.rules.values()}))
        raise ConfigError(f"--group: {unknown[0]!r} is not a rule group (groups: {names})")
    rows = [("CODE", "NAME", "SEVERITY", "PLUGIN", "GROUP", "SUMMARY")]
    for code, entry in session.registry.rules.items():
        group = getattr(entry.cls, "group", "other")
        if wanted and group_key(group) not in wanted:
            continue
        severity = tables.get(code, {}).get("severity", entry.cls.severity)
        rows.append((code, entry.cls.name, severity, entry.plugin, group, entry.cls.summary))
    return rows


def guessed_session(export: Path, *, blocked: Iterable[str] = ()):
    """A session for auditing ``export`` with no configuration: what ``hygiene init`` would write, unwritten.

    Returns the session and the :class:`~hygiene.commands.init.Guess`.
    """
    from hygiene.commands.init import guess_config

    # The audit reads it as its source: so its messages name it, not the guess that reads it first.
    note_input(export, str(export), "the source")
    registry = load_registry(blocked=blocked)
    guess = guess_config(export, registry, config_path=Path.cwd() / DEFAULT_CONFIG_NAME)
    # The stage table stays the preset's (or the default one), not every stage the export holds:
    # a stage no table knows is still reported, as an unwritten configuration cannot be checked.
    raw = RawConfig(data={**guess.head, "quotas": {}}, file=None, base_dir=Path.cwd())
    return Session(config=validate(raw, session_schema(registry)), registry=registry), guess
