"""One audit, end to end, in flow order: read the source, normalise, run the rules, apply waivers, report.

The command line and ``hygiene.testing`` both go through :func:`run_audit`,
so what a test proves is what a user gets.
"""

from __future__ import annotations

import datetime as dt

import attrs
import polars as pl

from hygiene.api.periods import period_containing
from hygiene.api.report import AuditReport, RuleInfo
from hygiene.api.source import RawTable
from hygiene.api.stages import StageTable
from hygiene.audit.engine import AuditInputs, evaluate_rules
from hygiene.audit.normalise import ReadOptions, normalise
from hygiene.audit.read import read_source
from hygiene.audit.steps import run_step
from hygiene.audit.waivers import apply_waivers
from hygiene.config.selection import ConfiguredRule, configure_rules
from hygiene.config.settings import Config
from hygiene.plugin.registry import Registry


@attrs.define(frozen=True, kw_only=True)
class AuditOptions:
    """What the command line may override in a configuration."""

    as_of: dt.date
    source_path: str | None = None
    select: list[str] | None = None
    ignore: tuple[str, ...] = ()


def run_audit(config: Config, registry: Registry, options: AuditOptions, raw: RawTable | None = None) -> AuditReport:
    """Audit the configured source (or ``raw``, already read) and return an :class:`AuditReport`."""
    from hygiene import __version__

    rules = configure_rules(config, registry.rules, select=options.select, ignore=options.ignore)
    if raw is None:
        with run_step("reading the source"):
            raw = read_source(config, registry, options.source_path)
    with run_step("normalising the deals"):
        deals = normalise(raw, config.source.fields, read_options(config))
    del raw  # the raw text table is the largest thing in memory: let it go before the rules run
    inputs = AuditInputs(
        as_of=options.as_of,
        period=_report_period(rules, options.as_of, config.fiscal_year_start_month),
        stages=StageTable.from_stages(config.stages) if config.stages else StageTable(),
        quotas=config.quotas,
        invalid_values=deals.invalid_values,
        duplicate_rows=deals.duplicate_rows,
        extra_columns=deals.extra_columns,
        fiscal_year_start_month=config.fiscal_year_start_month,
    )
    with run_step("running the rules"):
        run = evaluate_rules(deals.frame, rules, inputs)
    with run_step("applying the waivers"):
        waivers = apply_waivers(
            run.findings, config.waivers, as_of=options.as_of, configured=rules, registered=registry.rules, config_file=config.file
        )
    return AuditReport(
        tool_version=__version__,
        as_of=options.as_of,
        period=inputs.period,
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


def read_options(config: Config) -> ReadOptions:
    """How the configuration says the export's values are written."""
    return ReadOptions(date_format=config.source.date_format, decimal=config.source.decimal, date_window=config.source.date_window)


def _report_period(rules: list[ConfiguredRule], as_of: dt.date, fiscal_year_start_month: int):
    """The report's period: the quota rules' when they agree on one, else the fiscal quarter."""
    kinds = {c.options["period"] for c in rules if "period" in c.options}
    kind = kinds.pop() if len(kinds) == 1 else "quarter"
    return period_containing(as_of, kind, fiscal_year_start_month)
