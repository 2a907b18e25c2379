"""One audit, end to end, in flow order: read the source, normalise, derive from history, run the rules, apply waivers, report.

The command line and ``hygiene.testing`` both go through :func:`run_audit`,
so what a test proves is what a user gets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import polars as pl

from hygiene.api.errors import ConfigError
from hygiene.api.groups import grouping_for
from hygiene.api.periods import period_containing
from hygiene.api.report import AuditReport, RuleInfo
from hygiene.api.reporter import HISTORY_ALL, HISTORY_NONE
from hygiene.api.rule import doc_sections
from hygiene.api.source import RawTable
from hygiene.api.stages import StageTable
from hygiene.api.fields import CLOSED_FLAG_COLUMN, WON_FLAG_COLUMN
from hygiene.api.rule import OPEN_COLUMN
from hygiene.api.scope import ReportScope
from hygiene.audit.currency import Money, convert_amounts
from hygiene.audit.engine import AuditInputs, evaluate_rules, prepare_deals
from hygiene.audit.export_mapping import map_forecast_categories, prepare_export
from hygiene.audit.normalise import ReadOptions, normalise
from hygiene.audit.read import read_source
from hygiene.audit.steps import run_step
from hygiene.audit.roster import Roster, read_roster
from hygiene.audit.waivers import apply_waivers
from hygiene.config.presets import apply_preset
from hygiene.config.selection import ConfiguredRule, configure_rules
from hygiene.config.settings import Config
from hygiene.history.crm_history import hubspot_stage_entry
from hygiene.history.derive import DerivedDeals, no_history
from hygiene.history.location import store_configured
from hygiene.plugin.registry import Registry

if TYPE_CHECKING:
    from hygiene.history.status import PipelineFigures
    from hygiene.history.store import HistoryStore

# The history store (SQLAlchemy, numpy) and the forecast (numpy) are imported where an audit uses them:
# an audit without either starts without loading them.


@attrs.define(frozen=True, kw_only=True)
class AuditOptions:
    """What the command line may override in a configuration."""

    as_of: dt.date
    source_path: str | None = None
    select: list[str] | None = None
    ignore: tuple[str, ...] = ()
    #: Record the run in the history store (``hygiene audit`` does; baselines and tests do not).
    record_run: bool = False
    #: When the run happened (UTC, ISO), for the store's record; the audit itself never reads the clock.
    recorded_at: str | None = None
    #: Add the forecast to the report; None: as ``[forecast] in_audit`` says.
    forecast: bool | None = None
    #: What of the history figures to build for the reports (``hygiene.api.reporter.HISTORY_LEVELS``):
    #: the most any requested reporter shows (its ``shows_history``).
    history_figures: str = HISTORY_ALL
    #: The scope the reports will be narrowed to (``--owner``, ``--team``, ``--manager``): their comparison with
    #: earlier runs is made in it (``hygiene.history.scoped_history``). The report itself stays whole.
    scope: ReportScope | None = None


def read_deals(config: Config, registry: Registry, source_path: str | None, raw: RawTable | None = None, *, only_fields: Collection[str] | None = None):
    """The configured source (or ``raw``, already read) as the normalised deal table.

    The ``[source] preset`` (if the caller has not applied it already), the
    export's own columns (status flags, lookups, stage-entry columns) and the
    preset's column candidates all apply here, so that every command reads an
    export the same way. ``only_fields``: type just these canonical fields
    and list no invalid cells (see :func:`hygiene.audit.normalise.normalise`).
    """
    config = apply_preset(config, registry)
    if raw is None:
        with run_step("reading the source"):
            raw = read_source(config, registry, source_path)
    with run_step("reading the export's own columns"):
        raw = prepare_export(raw, config.source, base_dir=config.base_dir, registry=registry, config_file=config.file)
    with run_step("normalising the deals"):
        deals = normalise(raw, config.source.fields, read_options(config), config.source.field_candidates, only_fields=only_fields)
    del raw
    deals.frame = map_forecast_categories(deals.frame, config.source.forecast_categories)
    return deals


def stage_table(config: Config) -> StageTable:
    return StageTable.from_stages(config.stages) if config.stages else StageTable()


def with_history(
    deals,
    as_of: dt.date,
    stages: StageTable,
    store: HistoryStore | None,
    export_sha256: str | None = None,
    *,
    keep_versions: bool = False,
) -> tuple[pl.DataFrame, DerivedDeals | None]:
    """The deal table the rules see: the export, with what history derives where the export lacks it.

    ``derived`` is None without a store. HubSpot's stage-entry columns feed
    ``stage_entered_date`` with or without one. ``keep_versions``: the
    versions read stay in ``derived.versions`` with the columns the
    reports' history figures need, so that they are read once.
    """
    frame = hubspot_stage_entry(deals.frame, deals.extra_columns)
    if store is None:
        return no_history(frame), None
    from hygiene.history.derive import derive_fields
    from hygiene.history.report_history import REPORT_VERSION_COLUMNS

    report_columns = REPORT_VERSION_COLUMNS if keep_versions else ()
    derived = derive_fields(frame, deals.extra_columns, store, as_of, stages, export_sha256=export_sha256, report_columns=report_columns)
    return derived.frame, derived


def with_roster_and_currency(config: Config, registry: Registry, frame: pl.DataFrame, location: str) -> tuple[pl.DataFrame, Roster | None, Money]:
    """The deal table with the roster's columns (team, manager, region, segment) joined in and every amount in one currency."""
    roster = read_roster(config.roster, config.base_dir, registry, config.file) if config.roster is not None else None
    if roster is not None:
        with run_step("joining the roster"):
            frame = roster.join(frame)
    frame, money = convert_amounts(frame, config.currency, base_dir=config.base_dir, registry=registry, location=location, config_file=config.file)
    return frame, roster, money


def run_audit(config: Config, registry: Registry, options: AuditOptions, raw: RawTable | None = None) -> AuditReport:
    """Audit the configured source (or ``raw``, already read) and return an :class:`AuditReport`.

    With a history store (``[history]``, or the default file beside the
    configuration), history fills the fields the export lacks, the report
    compares each finding with the previous recorded run, and, when
    ``options.record_run``, the run is recorded.
    """
    config = apply_preset(config, registry)
    rules = configure_rules(config, registry.rules, select=options.select, ignore=options.ignore)
    raw_given = raw is not None
    deals = read_deals(config, registry, options.source_path, raw)
    del raw  # the raw text table is the largest thing in memory: let it go before the rules run
    stages = stage_table(config)
    store = _open_store(config)
    try:
        # Only a store has snapshots to recognise the export by: without one, hashing it would be a second full read.
        sha256 = None if raw_given or store is None else export_sha256(config, options.source_path)
        frame, derived = with_history(deals, options.as_of, stages, store, sha256, keep_versions=options.history_figures == HISTORY_ALL)
        exported = frame
        frame, roster, money = with_roster_and_currency(config, registry, frame, deals.location)
        report = _audit_frame(config, registry, options, rules, deals, frame, stages, roster, money)
        if _wants_forecast(config, options):
            from hygiene.forecast.report import configured_forecast

            with run_step("computing the forecast"):
                report.forecast = configured_forecast(
                    config, frame, as_of=options.as_of, quotas=report.quotas, source=deals.location, store=store, tool_version=report.tool_version
                )
        if store is not None:
            if options.history_figures != HISTORY_NONE:
                from hygiene.history.report_history import history_figures

                with run_step("reading earlier audits from the history store"):
                    figures = report.figures()
                    report.history_figures = history_figures(
                        store,
                        as_of=options.as_of,
                        period=report.period,
                        stages=stages,
                        deals=exported,
                        score=figures.score.value,
                        open_amount=figures.open_amount.value,
                        versions=derived.versions if derived is not None else None,
                        level=options.history_figures,
                    )
                if options.scope and report.history_figures is not None:
                    report.history_figures = _scoped_history(store, config, registry, options, report, stages, deals.location)
            # The versions read and the deal table before currency conversion served the derivations and the
            # figures: let them go before the run is recorded and the reports are written.
            derived = exported = None
            _compare_and_record(store, config, options, report, frame, stages)
    finally:
        if store is not None:
            store.close()
    return report


def _scoped_history(store: HistoryStore, config: Config, registry: Registry, options: AuditOptions, report: AuditReport, stages: StageTable, location: str):
    """The report's history figures with the previous run, trend and waterfall of ``options.scope`` (see :mod:`hygiene.history.scoped_history`)."""
    from hygiene.history.scoped_history import scoped_history_figures

    scope = options.scope
    narrowed = scope.apply(report).figures()
    return scoped_history_figures(
        store,
        scope,
        report.history_figures,
        as_of=options.as_of,
        stages=stages,
        score=narrowed.score.value,
        open_amount=narrowed.open_amount.value,
        described=scope.described_after(report.scope),
        # A stored snapshot is the export as it was: the roster and the currency conversion make its deals the audit's.
        prepare=lambda frame: with_roster_and_currency(config, registry, frame, location)[0],
    )


def _open_store(config: Config) -> HistoryStore | None:
    """The configured history store, or None; the store's modules load only when there may be one."""
    if not store_configured(config):
        return None
    from hygiene.history.store import open_configured_store

    return open_configured_store(config)


def _wants_forecast(config: Config, options: AuditOptions) -> bool:
    """``--forecast`` / ``--no-forecast``, else ``[forecast] in_audit`` (off by default: the forecast costs a pass over the deals)."""
    if options.forecast is not None:
        return options.forecast
    return bool((config.forecast or {}).get("in_audit", False))


def export_sha256(config: Config, source_path: str | None) -> str | None:
    """The audited file's SHA-256, to recognise a stored snapshot of it (None without a file)."""
    from hygiene.history.snapshots import file_sha256

    if (source_path or config.source.path) is None:
        return None
    return file_sha256(Path(source_path) if source_path else config.base_dir / config.source.path)


def _audit_frame(
    config: Config,
    registry: Registry,
    options: AuditOptions,
    rules: list[ConfiguredRule],
    deals,
    frame: pl.DataFrame,
    stages: StageTable,
    roster: Roster | None,
    money: Money,
) -> AuditReport:
    from hygiene import __version__

    period = _report_period(rules, options.as_of, config.fiscal_year_start_month)
    # [quotas] beats the roster, owner by owner.
    quotas = {**(roster.quotas(period, _period_kind(rules)) if roster is not None else {}), **config.quotas}
    if quotas and money.per_currency:
        raise ConfigError(
            f"{config.file or 'configuration'}: quotas need amounts in one currency, and the deals are in "
            f"{', '.join(money.currencies)}: set [currency] base and [currency.rates] instead of on_mixed = \"per-currency\""
        )
    inputs = AuditInputs(
        as_of=options.as_of,
        period=period,
        stages=stages,
        quotas=quotas,
        invalid_values=deals.invalid_values,
        duplicate_rows=deals.duplicate_rows,
        extra_columns=deals.extra_columns,
        fiscal_year_start_month=config.fiscal_year_start_month,
        source_fields=deals.column_for_field,
    )
    with run_step("running the rules"):
        run = evaluate_rules(frame, rules, inputs)
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
        rules=[
            RuleInfo(
                code=c.code,
                name=c.name,
                severity=c.severity,
                plugin=c.plugin,
                summary=c.rule.summary,
                fix=doc_sections(type(c.rule).__doc__).get("Fix", ""),
                counter_details=tuple(c.rule.counter_details),
                group=c.rule.group,
                weight=c.weight,
            )
            for c in rules
        ],
        findings=waivers.findings.with_columns(pl.lit(None, pl.String).alias("baseline_status")),
        deals=run.deals,
        open_deals=run.open_deals,
        open_deal_owners=run.open_deal_owners,
        not_evaluable=run.not_evaluable,
        not_evaluable_by_field=run.not_evaluable_by_field,
        rule_errors=run.rule_errors,
        waived=waivers.waived,
        not_evaluable_reasons=run.not_evaluable_reasons,
        pipeline=run.pipeline,
        mapped_fields=tuple(deals.column_for_field),
        quotas=dict(quotas),
        invalid_values=deals.invalid_values,
        grouping=grouping_for(
            run.deal_groups,
            roster_owners=roster.frame if roster is not None else None,
            quotas=quotas,
            per_currency=money.per_currency,
        ),
        currency=None if money.per_currency else money.base,
    )


def read_options(config: Config) -> ReadOptions:
    """How the configuration says the export's values are written."""
    return ReadOptions(date_format=config.source.date_format, decimal=config.source.decimal, date_window=config.source.date_window)


def pipeline_figures(report: AuditReport) -> PipelineFigures:
    """Open pipeline and amount at risk as the history store records them: the report's figures (a sum it cannot make is 0 there)."""
    from hygiene.history.status import PipelineFigures

    figures = report.figures()
    return PipelineFigures(
        open_pipeline=figures.open_amount.value or 0.0,
        amount_at_risk=figures.amount_at_risk.value or 0.0,
    )


def _compare_and_record(store: HistoryStore, config: Config, options: AuditOptions, report: AuditReport, frame: pl.DataFrame, stages: StageTable) -> None:
    from hygiene.history.status import compare_with_previous_run, record_run

    prepared = prepare_deals(frame.select("id", "stage", *_status_flags(frame)), stages)
    open_ids = prepared.filter(pl.col(OPEN_COLUMN)).get_column("id")
    comparison = compare_with_previous_run(store, options.as_of, report.findings, open_ids, prepared.get_column("id"))
    figures = pipeline_figures(report)
    report.history = {
        "snapshots": len([d for d in store.snapshot_dates() if d <= options.as_of]),
        "open_pipeline": figures.open_pipeline,
        "amount_at_risk": figures.amount_at_risk,
        **comparison.to_dict(),
    }
    report.finding_statuses = comparison.statuses
    recording = config.history.record_runs if config.history is not None else True
    if options.record_run and recording:
        record_run(store, report, figures, comparison.statuses, options.recorded_at or options.as_of.isoformat())


def _status_flags(frame: pl.DataFrame) -> list[str]:
    """The export's own closed and won flags, where it has them: they decide what is open (see :func:`prepare_deals`)."""
    return [c for c in (CLOSED_FLAG_COLUMN, WON_FLAG_COLUMN) if c in frame.columns]


def _report_period(rules: list[ConfiguredRule], as_of: dt.date, fiscal_year_start_month: int):
    """The report's period: the quota rules' when they agree on one, else the fiscal quarter."""
    return period_containing(as_of, _period_kind(rules), fiscal_year_start_month)


def _period_kind(rules: list[ConfiguredRule]) -> str:
    kinds = {c.options["period"] for c in rules if "period" in c.options}
    return kinds.pop() if len(kinds) == 1 else "quarter"
