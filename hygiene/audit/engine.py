"""Run rules over the deal table and gather their findings into one table.

The engine calls each rule once. Vectorised deal rules become lazy polars
plans that are collected together; row-at-a-time rules and pipeline rules
are called directly. A rule that raises does not stop the others: it
becomes a ``rule-error`` finding and the run ends with exit code 2. That
holds for every call into a rule (``columns``,
``condition``, ``details``, ``message_expr``, ``message``,
``not_evaluable``, ``check``), for collecting its plans, and for anything it
raises, a polars panic or a ``SystemExit`` included; what a pipeline rule
returns is checked like its code is. A rule
that raises :class:`hygiene.HygieneError` (a configuration it can only
judge unusable once it sees the deals) stops the run with that one line,
as the core's own errors do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import polars as pl

from hygiene.api.extras import ExtraColumns
from hygiene.api.fields import (
    CANONICAL_FIELDS,
    CLOSED_FLAG_COLUMN,
    GROUP_LEVELS,
    HISTORY_SNAPSHOTS_COLUMN,
    ROW_COLUMN,
    SNAPSHOTS_SEEN_COLUMN,
    STAGE_ENTERED_LOWER_BOUND_COLUMN,
    WON_FLAG_COLUMN,
)
from hygiene.api.figures import (
    not_evaluable_column,
    not_evaluable_counts,
    not_evaluable_field_column,
    not_evaluable_field_counts,
    pipeline_table,
)
from hygiene.api.models import Deal, Period
from hygiene.api.periods import period_containing
from hygiene.api.rule import (
    KNOWN_STAGE_COLUMN,
    OPEN_COLUMN,
    STAGE_MAX_DAYS_COLUMN,
    STAGE_MAX_INACTIVE_DAYS_COLUMN,
    STAGE_ORDER_COLUMN,
    STAGE_PROBABILITY_COLUMN,
    STAGE_REQUIRES_NEXT_STEP_COLUMN,
    WON_COLUMN,
    DealRule,
    RuleContext,
)
from hygiene.api.stages import StageTable, stage_key
from hygiene.audit.findings import (
    details_json,
    findings_from_messages,
    findings_from_pipeline_rule,
    finish,
    flagged_deal_columns,
    rule_error,
)
from hygiene.audit.steps import is_crash
from hygiene.config.selection import ConfiguredRule

#: Details of a finding whose message is still to be made by ``message(deal, ctx)``.
DETAILS_COLUMN = "__details__"
#: Severity of such a finding, for rules with a ``severity_expr``.
SEVERITY_COLUMN = "__severity__"


@attrs.define(kw_only=True)
class RuleRun:
    """What the engine produced: findings (sorted) and the counts around them."""

    findings: pl.DataFrame
    deals: int
    open_deals: int
    #: ``id`` and ``owner`` of every open deal: the population of the hygiene score.
    open_deal_owners: pl.DataFrame
    not_evaluable: dict[str, int]
    rule_errors: int
    #: Per rule code that gives reasons (``not_evaluable_reason``): deals per reason.
    not_evaluable_reasons: dict[str, dict[str, int]] = attrs.field(factory=dict)
    #: One row per audited deal with what reports show about it (see :func:`hygiene.api.figures.pipeline_table`).
    pipeline: pl.DataFrame | None = None
    #: ``id``, ``open``, ``amount``, ``currency`` and the group columns of every audited deal (see ``hygiene.api.groups``).
    deal_groups: pl.DataFrame | None = None
    #: Per rule code, the not-evaluable deals per missing field, for rules that name their fields.
    not_evaluable_by_field: dict[str, dict[str, int]] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class AuditInputs:
    """What rules know besides the deals: the audit date and period, the stage table, quotas, what normalisation set aside."""

    as_of: dt.date
    period: Period
    stages: StageTable
    quotas: Mapping[str, float]
    invalid_values: pl.DataFrame | None = None
    duplicate_rows: pl.DataFrame | None = None
    extra_columns: tuple[str, ...] = ()
    fiscal_year_start_month: int = 1
    #: The canonical fields the export provides (see :meth:`RuleContext.has_field`); None when unknown.
    source_fields: Iterable[str] | None = None


@attrs.define(kw_only=True)
class _Plans:
    """The rules' work, gathered so that the vectorised parts are collected in one pass."""

    parts: list[pl.DataFrame] = attrs.field(factory=list)
    errors: int = 0
    #: Vectorised rules' flagged deals: (rule, plan, whether messages are still to be made in Python).
    flagged: list[tuple[ConfiguredRule, pl.LazyFrame, bool]] = attrs.field(factory=list)
    #: Not-evaluable counts over the deal table, and over tables rules extended with columns of their own.
    counts: list[tuple[ConfiguredRule, list[pl.Expr]]] = attrs.field(factory=list)
    count_plans: list[tuple[ConfiguredRule, pl.LazyFrame]] = attrs.field(factory=list)

    #: Rules that failed: their findings and counts so far are dropped, as an audit they could not finish.
    failed_codes: set[str] = attrs.field(factory=set)
    #: Not-evaluable deals per reason, for rules that give reasons.
    reason_plans: list[tuple[str, pl.LazyFrame]] = attrs.field(factory=list)

    def failed(self, configured: ConfiguredRule, exc: BaseException) -> None:
        if configured.code in self.failed_codes:
            return
        self.failed_codes.add(configured.code)
        self.parts = [part for code, part in self.coded_parts() if code != configured.code]
        self._codes = [code for code in self._codes if code != configured.code]
        self.add(None, rule_error(configured, exc))
        self.errors += 1

    _codes: list[str | None] = attrs.field(factory=list)

    def add(self, code: str | None, part: pl.DataFrame) -> None:
        if code in self.failed_codes:
            return
        self.parts.append(part)
        self._codes.append(code)

    def coded_parts(self) -> list[tuple[str | None, pl.DataFrame]]:
        return list(zip(self._codes, self.parts, strict=True))


def prepare_deals(frame: pl.DataFrame, stages: StageTable) -> pl.DataFrame:
    """Add the stage-derived columns rules read through :class:`RuleContext` helpers.

    Stages are looked up once per distinct stage value of the export (a
    handful), not once per deal.
    """
    maps = stages.column_maps()
    names = [name for name in frame.get_column("stage").unique().to_list() if name is not None]

    def lookup(attribute: str, default: object) -> dict[str, object]:
        return {name: maps[attribute].get(stage_key(name), default) for name in names}

    stage = pl.col("stage")
    known = {name: stage_key(name) in maps["closed"] for name in names}
    # A table that did not go through an audit (no history step) reads as one without history.
    missing_history = [pl.lit(None, pl.Int64).alias(c) for c in (SNAPSHOTS_SEEN_COLUMN, HISTORY_SNAPSHOTS_COLUMN) if c not in frame.columns]
    if STAGE_ENTERED_LOWER_BOUND_COLUMN not in frame.columns:
        missing_history.append(pl.lit(False).alias(STAGE_ENTERED_LOWER_BOUND_COLUMN))
    is_open = (~stage.replace_strict(lookup("closed", False), default=False, return_dtype=pl.Boolean)).fill_null(True)
    is_won = stage.replace_strict(lookup("won", False), default=False, return_dtype=pl.Boolean).fill_null(False)
    # Where the export says itself that a deal is closed or won (IsClosed / IsWon, a status column), it wins over the stage.
    if CLOSED_FLAG_COLUMN in frame.columns:
        is_open = pl.when(pl.col(CLOSED_FLAG_COLUMN).is_not_null()).then(~pl.col(CLOSED_FLAG_COLUMN)).otherwise(is_open)
    if WON_FLAG_COLUMN in frame.columns:
        is_won = pl.coalesce(pl.col(WON_FLAG_COLUMN), is_won)
    return frame.with_columns(
        *missing_history,
        stage.replace_strict(known, default=False, return_dtype=pl.Boolean).fill_null(False).alias(KNOWN_STAGE_COLUMN),
        is_open.alias(OPEN_COLUMN),
        is_won.alias(WON_COLUMN),
        stage.replace_strict(lookup("probability", None), default=None, return_dtype=pl.Float64).alias(STAGE_PROBABILITY_COLUMN),
        stage.replace_strict(lookup("max_days", None), default=None, return_dtype=pl.Int64).alias(STAGE_MAX_DAYS_COLUMN),
        stage.replace_strict(lookup("order", None), default=None, return_dtype=pl.Int64).alias(STAGE_ORDER_COLUMN),
        stage.replace_strict(lookup("max_inactive_days", None), default=None, return_dtype=pl.Int64).alias(STAGE_MAX_INACTIVE_DAYS_COLUMN),
        stage.replace_strict(lookup("requires_next_step", None), default=None, return_dtype=pl.Boolean).alias(STAGE_REQUIRES_NEXT_STEP_COLUMN),
    )


def deal_from_row(row: Mapping[str, Any], extra_columns: Iterable[str]) -> Deal:
    values = {field: row.get(field) for field in CANONICAL_FIELDS}
    return Deal(**values, extras={column: row.get(column) for column in extra_columns}, row=row.get(ROW_COLUMN))


def _rows_as_deals(frame: pl.DataFrame, extra_columns: tuple[str, ...]) -> Iterable[tuple[dict[str, Any], Deal]]:
    for row in frame.iter_rows(named=True):
        yield row, deal_from_row(row, extra_columns)


def evaluate_rules(frame: pl.DataFrame, rules: list[ConfiguredRule], inputs: AuditInputs) -> RuleRun:
    """Run ``rules`` over the normalised deal table ``frame``."""
    deals = prepare_deals(frame, inputs.stages)
    contexts = _contexts(deals, rules, inputs)
    plans = _Plans()
    for configured in rules:
        _plan(configured, deals, contexts[configured.code], plans)
    _collect_flagged(plans, contexts)
    # Each rule's not-evaluable mask is kept per deal, so that a report narrowed to some owners
    # (``--owner``, digests) counts only their deals.
    masks = _not_evaluable_masks(deals, plans)
    periods = {code: ctx.period.name for code, ctx in contexts.items()}
    reasons = _count_reasons(plans.reason_plans)
    findings = finish(plans.parts, periods, inputs.period.name)
    pipeline = pipeline_table(deals, inputs.stages, inputs.period)
    if masks:
        pipeline = pipeline.hstack(masks)
    # Select, then filter: filtering first would copy every column of the deal table.
    open_deal_owners = deals.select("id", "owner", OPEN_COLUMN).filter(pl.col(OPEN_COLUMN)).drop(OPEN_COLUMN)
    return RuleRun(
        findings=findings,
        deals=deals.height,
        open_deals=open_deal_owners.height,
        open_deal_owners=open_deal_owners,
        not_evaluable=not_evaluable_counts(pipeline),
        not_evaluable_by_field=not_evaluable_field_counts(pipeline),
        rule_errors=plans.errors,
        not_evaluable_reasons=reasons,
        pipeline=pipeline,
        deal_groups=deals.select(
            "id",
            pl.col(OPEN_COLUMN).alias("open"),
            *(
                pl.col(c) if c in deals.columns else pl.lit(None, pl.Float64 if c == "amount" else pl.String).alias(c)
                for c in ("amount", "currency", *GROUP_LEVELS)
            ),
        ),
    )


def _count_reasons(reason_plans: list[tuple[str, pl.LazyFrame]]) -> dict[str, dict[str, int]]:
    collected = _collect_each([plan for _, plan in reason_plans])
    failed = next((result for result in collected if isinstance(result, BaseException)), None)
    if failed is not None:
        raise failed
    counts = {code: {reason: int(n) for reason, n in sorted(frame.iter_rows())} for (code, _), frame in zip(reason_plans, collected, strict=True)}
    return {code: reasons for code, reasons in sorted(counts.items()) if reasons}


def _not_evaluable_masks_of(code: str, result: pl.Expr | Mapping[str, pl.Expr] | None) -> list[pl.Expr] | None:
    """A rule's not-evaluable masks: one in all, then one per field when the rule names them (a mapping)."""
    if result is None:
        return None
    if not isinstance(result, Mapping):
        return [result.fill_null(False).alias(not_evaluable_column(code))]
    masks = {field: expr.fill_null(False) for field, expr in result.items()}
    if not masks:
        return None
    total = pl.any_horizontal(*masks.values()).alias(not_evaluable_column(code))
    return [total, *(mask.alias(not_evaluable_field_column(code, field)) for field, mask in masks.items())]


def _contexts(deals: pl.DataFrame, rules: list[ConfiguredRule], inputs: AuditInputs) -> dict[str, RuleContext]:
    """Each rule's context; a rule with a ``period`` option (month, quarter, year) gets that period of the fiscal calendar."""
    shared = dict(
        as_of=inputs.as_of,
        stages=inputs.stages,
        quotas=dict(inputs.quotas),
        invalid_values=inputs.invalid_values,
        duplicate_rows=inputs.duplicate_rows,
        extra_columns=inputs.extra_columns,
        typed_extras=ExtraColumns(deals, inputs.extra_columns),
        source_fields=None if inputs.source_fields is None else frozenset(inputs.source_fields),
        table_columns=tuple(deals.columns),
    )

    def period(options: Mapping[str, Any]) -> Period:
        if "period" not in options:
            return inputs.period
        return period_containing(inputs.as_of, options["period"], inputs.fiscal_year_start_month)

    return {c.code: RuleContext(options=c.options, period=period(c.options), **shared) for c in rules}


def _plan(configured: ConfiguredRule, deals: pl.DataFrame, ctx: RuleContext, plans: _Plans) -> None:
    """Add one rule's work to ``plans``: a lazy plan for a vectorised rule, findings for the others."""
    rule = configured.rule
    try:
        vectorised = isinstance(rule, DealRule) and rule.is_vectorised()
        columns = rule.columns(ctx) if vectorised else {}
        table = deals.lazy().with_columns(**columns) if columns else deals.lazy()
        if vectorised:
            message = rule.message_expr(ctx)
            severity = rule.severity_expr(ctx, configured.severity)
            plan = table.filter(rule.condition(ctx).fill_null(False))
            if message is None:
                # Keep the deal columns whole (finding columns such as owner would clash): messages need the deals.
                plan = plan.with_columns(details_json(rule.details(ctx)).alias(DETAILS_COLUMN))
                if severity is not None:
                    plan = plan.with_columns(severity.alias(SEVERITY_COLUMN))
            else:
                plan = plan.select(flagged_deal_columns(configured, message, details_json(rule.details(ctx)), severity))
            plans.flagged.append((configured, plan, message is None))
        elif isinstance(rule, DealRule):
            plans.add(configured.code, _row_at_a_time(configured, deals, ctx))
        else:
            plans.add(configured.code, findings_from_pipeline_rule(configured, rule.check(deals, ctx)))
        if (masks := _not_evaluable_masks_of(configured.code, rule.not_evaluable(ctx))) is not None:
            if columns:
                plans.count_plans.append((configured, table.select(masks)))
            else:
                plans.counts.append((configured, masks))
            if isinstance(rule, DealRule) and (reason := rule.not_evaluable_reason(ctx)) is not None:
                plans.reason_plans.append((configured.code, table.select(reason.alias("reason")).drop_nulls().group_by("reason").len()))
    except BaseException as exc:  # a plugin's bug (a panic, a SystemExit) must not abort the audit
        if not is_crash(exc):
            # A rule that finds its configuration unusable only once it sees the deals says so like the core does.
            raise
        plans.failed(configured, exc)


def _not_evaluable_masks(deals: pl.DataFrame, plans: _Plans) -> list[pl.Series]:
    """Each rule's mask of the deals it could not judge (one value per deal); a mask that fails is its rule's failure."""
    lazy = deals.lazy()
    jobs = [(configured, lazy.select(mask)) for configured, mask in plans.counts] + plans.count_plans
    jobs = [(configured, plan) for configured, plan in jobs if configured.code not in plans.failed_codes]
    masks: list[tuple[str, pl.Series]] = []
    for (configured, _), result in zip(jobs, _collect_each([plan for _, plan in jobs]), strict=True):
        if isinstance(result, BaseException):
            plans.failed(configured, result)
            continue
        try:
            if result.height not in (1, deals.height) or not result.width:
                raise ValueError(f"not_evaluable() gave {result.height} rows and {result.width} columns, not one true/false per deal")
            for column in result.iter_columns():
                mask = column.cast(pl.Boolean).fill_null(False)
                if result.height != deals.height:  # a constant: the same for every deal
                    mask = mask.new_from_index(0, deals.height)
                masks.append((configured.code, mask))
        except Exception as exc:  # not a mask: the rule's expression is unusable
            plans.failed(configured, exc)
    return [mask for code, mask in masks if code not in plans.failed_codes]


def _row_at_a_time(configured: ConfiguredRule, frame: pl.DataFrame, ctx: RuleContext) -> pl.DataFrame:
    rule = configured.rule
    rows, messages = [], []
    for row, deal in _rows_as_deals(frame, ctx.extra_columns):
        message = rule.check(deal, ctx)
        if message is not None:
            rows.append(row)
            messages.append(str(message))
    return findings_from_messages(configured, rows, messages)


def _collect_flagged(plans: _Plans, contexts: Mapping[str, RuleContext]) -> None:
    """Collect the vectorised rules' plans and turn what they flagged into findings."""
    for (configured, _, python_messages), flagged in zip(plans.flagged, _collect_each([plan for _, plan, _ in plans.flagged]), strict=True):
        if configured.code in plans.failed_codes:
            continue
        if isinstance(flagged, BaseException):
            plans.failed(configured, flagged)
            continue
        if python_messages:
            try:
                flagged = _with_python_messages(configured, flagged, contexts[configured.code])
            except BaseException as exc:
                if not is_crash(exc):
                    raise
                plans.failed(configured, exc)
                continue
        plans.add(configured.code, flagged)


def _with_python_messages(configured: ConfiguredRule, flagged: pl.DataFrame, ctx: RuleContext) -> pl.DataFrame:
    """Findings for deals a vectorised rule flagged, with messages from its ``message(deal, ctx)``."""
    rule = configured.rule
    messages = []
    for _, deal in _rows_as_deals(flagged, ctx.extra_columns):
        message = rule.message(deal, ctx)
        if message is None:
            raise TypeError(f"message() returned {message!r} for deal {deal.id!r}; expected a message")
        messages.append(str(message))
    severity = pl.col(SEVERITY_COLUMN) if SEVERITY_COLUMN in flagged.columns else None
    return flagged.select(flagged_deal_columns(configured, pl.lit(pl.Series(messages, dtype=pl.String)), pl.col(DETAILS_COLUMN), severity))


#: What a plan's text shows for ``pl.format``, which polars' streaming engine can panic on
#: (``assertion failed: i < self.len()`` in its string-view code; polars issue #25525). At ten
#: million deals of the benchmark export this panicked inside ``collect_all``::
#:
#:     plan = deals.lazy().filter(pl.col("close_date_pushes") >= 3).select(
#:         pl.when(pl.col("close_date_pushes") >= 3)
#:         .then(pl.format("close date pushed {} times (limit {})", pl.col("close_date_pushes"), pl.lit(3)))
#:     )
#:     pl.collect_all([plan])  # engine "auto": the streaming engine
#:
#: The same plan with ``pl.concat_str`` completes, which is what built-in rules use; a plan that
#: still formats (a third-party rule's) is collected by the in-memory engine instead.
STREAMING_UNSAFE_MARKERS = (".str.format(",)


def streams_safely(plan: pl.LazyFrame) -> bool:
    """Whether ``plan`` may run on polars' streaming engine: it holds no expression known to panic there."""
    text = plan.explain(optimized=False)
    return not any(marker in text for marker in STREAMING_UNSAFE_MARKERS)


def _collect_each(plans: list[pl.LazyFrame]) -> list[pl.DataFrame | BaseException]:
    """Collect all plans in one parallel pass; isolate failures (a panic too) by retrying one by one.

    Plans that would not stream safely (see :func:`streams_safely`) go in a pass of their own on
    the in-memory engine.
    """
    if not plans:
        return []
    engines = ["auto" if streams_safely(plan) else "in-memory" for plan in plans]
    results: list[pl.DataFrame | BaseException | None] = [None] * len(plans)
    for engine in dict.fromkeys(engines):
        indices = [index for index, used in enumerate(engines) if used == engine]
        for index, result in zip(indices, _collect_together([plans[i] for i in indices], engine), strict=True):
            results[index] = result
    return results  # type: ignore[return-value]


def _collect_together(plans: list[pl.LazyFrame], engine: str) -> list[pl.DataFrame | BaseException]:
    try:
        return list(pl.collect_all(plans, engine=engine))
    except BaseException as exc:
        if not is_crash(exc):
            raise
        results: list[pl.DataFrame | BaseException] = []
        for plan in plans:
            try:
                results.append(plan.collect(engine=engine))
            except BaseException as one:
                if not is_crash(one):
                    raise
                results.append(one)
        return results
