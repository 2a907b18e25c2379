"""One audit, end to end: source -> normalise -> rules -> report.

The command line and ``hygiene.testing`` both go through :func:`run_audit`,
so what a test proves is what a user gets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs

from hygiene.config import Config
from hygiene.errors import ConfigError, SourceError
from hygiene.plugin_manager import Registry
from hygiene.source import RawTable


@attrs.define(frozen=True, kw_only=True)
class AuditOptions:
    """What the command line may override in a configuration."""

    as_of: dt.date
    source_path: str | None = None
    select: list[str] | None = None
    ignore: tuple[str, ...] = ()


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
    display = source_path or config.source.path
    if display is None:
        where = config.file or "no hygiene.toml found"
        raise ConfigError(f"{where}: no source: pass an export (hygiene audit EXPORT) or set [source] path")
    # A path from the command line is relative to where the user is; one from the config to the config file.
    path = Path(display) if source_path else config.base_dir / display
    source_cls = choose_source(config, registry, display)
    if not path.exists():
        raise SourceError(f"{display}: no such file")
    if path.is_dir():
        raise SourceError(f"{display}: is a directory, not an export")
    _validate_source_options(source_cls, config)
    return source_cls().read(path, options=config.source.options, display_name=display)


def _validate_source_options(source_cls: type, config: Config) -> None:
    import jsonschema

    allowed = dict(source_cls.options_schema.get("properties", {}))
    name = config.file or "configuration"
    for key, value in config.source.options.items():
        if key not in allowed:
            raise ConfigError(f"{name}: source.{key}: not an option of the {source_cls.name!r} source")
        try:
            jsonschema.validate(value, allowed[key])
        except jsonschema.ValidationError as exc:
            raise ConfigError(f"{name}: source.{key}: {exc.message}") from None


def run_audit(config: Config, registry: Registry, options: AuditOptions, raw: RawTable | None = None):
    """Audit the configured source (or ``raw``, already read) and return an :class:`AuditReport`."""
    import polars as pl

    from hygiene import __version__
    from hygiene.engine import run_rules
    from hygiene.normalise import ReadOptions, normalise
    from hygiene.periods import period_containing
    from hygiene.report import AuditReport, RuleInfo
    from hygiene.selection import configure_rules
    from hygiene.stages import StageTable
    from hygiene.waivers import apply_waivers

    rules = configure_rules(config, registry.rules, select=options.select, ignore=options.ignore)
    if raw is None:
        raw = read_source(config, registry, options.source_path)
    deals = normalise(raw, config.source.fields, ReadOptions(date_format=config.source.date_format, decimal=config.source.decimal))
    del raw  # the raw text table is the largest thing in memory: let it go before the rules run
    stages = StageTable.from_stages(config.stages) if config.stages else StageTable()
    # The report's period is the quota rules' when they agree on one, else the fiscal quarter.
    period_kinds = {c.options["period"] for c in rules if "period" in c.options}
    kind = period_kinds.pop() if len(period_kinds) == 1 else "quarter"
    period = period_containing(options.as_of, kind, config.fiscal_year_start_month)
    run = run_rules(
        deals.frame,
        rules,
        as_of=options.as_of,
        period=period,
        stages=stages,
        quotas=config.quotas,
        invalid_values=deals.invalid_values,
        duplicate_rows=deals.duplicate_rows,
        extra_columns=deals.extra_columns,
        fiscal_year_start_month=config.fiscal_year_start_month,
    )
    waivers = apply_waivers(
        run.findings, config.waivers, as_of=options.as_of, configured=rules, registered=registry.rules, config_file=config.file
    )
    return AuditReport(
        tool_version=__version__,
        as_of=options.as_of,
        period=period,
        source=deals.location,
        config_file=config.file,
        rules=[RuleInfo(code=c.code, name=c.name, severity=c.severity, plugin=c.plugin) for c in rules],
        findings=waivers.findings.with_columns(pl.lit(None, pl.String).alias("baseline_status")),
        deals=run.deals,
        open_deals=run.open_deals,
        open_deal_owners=run.open_deal_owners,
        not_evaluable=run.not_evaluable,
        rule_errors=run.rule_errors,
        waived=waivers.waived,
    )
