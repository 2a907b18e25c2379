"""Read the deal data a configuration (or the command line) points at, through the source plugins."""

from __future__ import annotations

from pathlib import Path

from hygiene.api.errors import ConfigError, SourceError
from hygiene.api.source import RawTable
from hygiene.config.settings import Config
from hygiene.files import note_input
from hygiene.plugin.registry import Registry


def choose_source(config: Config, registry: Registry, path: str) -> type:
    wanted = config.source.type
    name = config.file or "configuration"
    if wanted is not None:
        if wanted not in registry.sources:
            known = ", ".join(registry.sources) or "(none)"
            raise ConfigError(f"{name}: source.type: unknown source {wanted!r} (known: {known})")
        return registry.sources[wanted].cls
    suffix = Path(path).suffix.lower()
    for entry in registry.sources.values():
        if suffix in entry.cls.extensions:
            return entry.cls
    raise SourceError(f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; set [source] type")


def read_source(config: Config, registry: Registry, source_path: str | None) -> RawTable:
    """Read the deal data the configuration (or the command line) points at."""
    wanted = config.source.type
    if source_path is None and wanted in registry.sources and not registry.sources[wanted].cls.reads_file:
        # A database: the source gets the configuration's folder, for what it locates relative to it.
        source_cls = registry.sources[wanted].cls
        _validate_source_options(source_cls, config)
        return source_cls().read(config.base_dir, options=config.source.options, display_name=config.file or "configuration")
    display = source_path or config.source.path
    if display is None:
        where = config.file or "no hygiene.toml found"
        raise ConfigError(f"{where}: no source: pass an export (hygiene audit EXPORT) or set [source] path")
    # A path from the command line is relative to where the user is; one from the config to the config file.
    path = Path(display) if source_path else config.base_dir / display
    source_cls = choose_source(config, registry, display)
    check_export_path(path, display)
    _validate_source_options(source_cls, config)
    note_input(path, display, "the source")
    return source_cls().read(path, options=config.source.options, display_name=display)


def check_export_path(path: Path, display: str) -> None:
    """One line when ``path`` is not a file an export can be read from."""
    if not path.exists():
        raise SourceError(f"{display}: no such file")
    if path.is_dir():
        raise SourceError(f"{display}: is a directory, not an export")
    if not path.is_file():
        # A FIFO would block the read, a device such as /dev/zero would never end.
        raise SourceError(f"{display}: not a regular file (a FIFO, a device or a socket); give the path of an export")


def _validate_source_options(source_cls: type, config: Config) -> None:
    import jsonschema  # at use: jsonschema is slow to import

    allowed = dict(source_cls.options_schema.get("properties", {}))
    name = config.file or "configuration"
    for key, value in config.source.options.items():
        if key not in allowed:
            raise ConfigError(f"{name}: source.{key}: not an option of the {source_cls.name!r} source")
        try:
            jsonschema.validate(value, allowed[key])
        except jsonschema.ValidationError as exc:
            raise ConfigError(f"{name}: source.{key}: {exc.message}") from None
