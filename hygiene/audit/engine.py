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
class _NotEvaluable:
    """What one rule says about the deals it cannot judge: masks, and reasons when it gives them."""

    configured: ConfiguredRule
    #: The rule's masks (see :func:`_not_evaluable_masks_of`); None when they are its reasons' ``is_not_null``.
    masks: list[pl.Expr] | None
    #: Why each deal cannot be judged (``DealRule.not_evaluable_reason``), or None.
    reason: pl.Expr | None
    #: Whether the rule adds columns of its own (its masks come after those of the rules that add none).
    own_columns: bool = False


@attrs.define(kw_only=True)
class _Vectorised:
    """A vectorised rule's expressions, kept until its table (the deals with its own columns) exists."""

    configured: ConfiguredRule
    columns: dict[str, pl.Expr]
    condition: pl.Expr
    message: pl.Expr | None
    details: pl.Expr
    severity: pl.Expr | None


@attrs.define(kw_only=True)
class _Plans:
    """The rules' work, gathered so that the vectorised parts are collected in one pass."""

    parts: list[pl.DataFrame] = attrs.field(factory=list)
    errors: int = 0
    #: Vectorised rules, planned but not yet collected.
    vectorised: list[_Vectorised] = attrs.field(factory=list)
    #: Every rule's not-evaluable masks and reasons, collected in the same pass as the flagged deals.
    not_evaluable: list[_NotEvaluable] = attrs.field(factory=list)

    #: Rules that failed: their findings and counts so far are dropped, as an audit they could not finish.
    failed_codes: set[str] = attrs.field(factory=set)

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
    # Each rule's not-evaluable mask is kept per deal, so that a report narrowed to some owners
    # (``--owner``, digests) counts only their deals.
    masks, reasons = _collect_rules(deals, plans, contexts)
    periods = {code: ctx.period.name for code, ctx in contexts.items()}
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
    """Add one rule's work to ``plans``: expressions for a vectorised rule, findings for the others."""
    rule = configured.rule
    try:
        vectorised = isinstance(rule, DealRule) and rule.is_vectorised()
        columns = rule.columns(ctx) if vectorised else {}
        if vectorised:
            plans.vectorised.append(
                _Vectorised(
                    configured=configured,
                    columns=columns,
                    condition=rule.condition(ctx).fill_null(False),
                    message=rule.message_expr(ctx),
                    details=details_json(rule.details(ctx)),
                    severity=rule.severity_expr(ctx, configured.severity),
                )
            )
        elif isinstance(rule, DealRule):
            plans.add(configured.code, _row_at_a_time(configured, deals, ctx))
        else:
            plans.add(configured.code, findings_from_pipeline_rule(configured, rule.check(deals, ctx)))
        reason = rule.not_evaluable_reason(ctx) if isinstance(rule, DealRule) else None
        if reason is not None and type(rule).not_evaluable is DealRule.not_evaluable:
            # The masks are the reasons' is_not_null: the reasons alone are computed, once.
            plans.not_evaluable.append(_NotEvaluable(configured=configured, masks=None, reason=reason, own_columns=bool(columns)))
        elif (masks := _not_evaluable_masks_of(configured.code, rule.not_evaluable(ctx))) is not None:
            plans.not_evaluable.append(_NotEvaluable(configured=configured, masks=masks, reason=reason, own_columns=bool(columns)))
    except BaseException as exc:  # a plugin's bug (a panic, a SystemExit) must not abort the audit
        if not is_crash(exc):
            # A rule that finds its configuration unusable only once it sees the deals says so like the core does.
            raise
        plans.failed(configured, exc)


def _collect_rules(
    deals: pl.DataFrame, plans: _Plans, contexts: Mapping[str, RuleContext]
) -> tuple[list[pl.Series], dict[str, dict[str, int]]]:
    """Collect every vectorised rule's flagged deals and every rule's not-evaluable masks and reasons in one pass.

    A rule's own columns (``DealRule.columns``) are computed first, once, and
    added to the deal table its other expressions read; its flag plan and
    its not-evaluable plan then both read them instead of computing them
    twice. Returns the masks (one value per deal) and, per rule code that
    gives reasons, the deals per reason.
    """
    tables = _rule_tables(deals, plans)
    flagged = [work for work in plans.vectorised if work.configured.code not in plans.failed_codes]
    judged = [job for job in plans.not_evaluable if job.configured.code not in plans.failed_codes]
    flag_plans = [_flag_plan(work, tables.get(work.configured.code, deals)) for work in flagged]
    judge_plans = [_not_evaluable_plan(job, tables.get(job.configured.code, deals)) for job in judged]
    results = _collect_each(flag_plans + judge_plans)
    for work, result in zip(flagged, results[: len(flagged)], strict=True):
        _add_flagged(plans, work.configured, result, work.message is None, contexts[work.configured.code])
    masks: list[tuple[bool, int, str, pl.Series]] = []
    reasons: dict[str, dict[str, int]] = {}
    for index, (job, result) in enumerate(zip(judged, results[len(flagged) :], strict=True)):
        code = job.configured.code
        if isinstance(result, BaseException):
            plans.failed(job.configured, result)
            continue
        try:
            own_masks, counts = _read_not_evaluable(job, result, deals.height)
        except Exception as exc:  # not a mask: the rule's expression is unusable
            plans.failed(job.configured, exc)
            continue
        masks.extend((job.own_columns, index, code, mask) for mask in own_masks)
        if counts:
            reasons[code] = counts
    # Rules without columns of their own first, as the pipeline table has always held them.
    ordered = [mask for own, _, code, mask in sorted(masks, key=lambda item: (item[0], item[1])) if code not in plans.failed_codes]
    return ordered, {code: counts for code, counts in sorted(reasons.items()) if code not in plans.failed_codes}


def _rule_tables(deals: pl.DataFrame, plans: _Plans) -> dict[str, pl.DataFrame]:
    """The deal table of each rule with columns of its own (``DealRule.columns``), those columns computed in one pass."""
    works = [work for work in plans.vectorised if work.columns and work.configured.code not in plans.failed_codes]
    lazy = deals.lazy()
    column_plans = [lazy.with_columns(**work.columns).select(list(work.columns)) for work in works]
    tables: dict[str, pl.DataFrame] = {}
    for work, result in zip(works, _collect_each(column_plans), strict=True):
        if isinstance(result, BaseException):
            plans.failed(work.configured, result)
            continue
        # Series added to an eager table are shared, not copied; a name the table has is replaced, as with_columns does.
        tables[work.configured.code] = deals.with_columns(result.get_columns())
    return tables


def _flag_plan(work: _Vectorised, table: pl.DataFrame) -> pl.LazyFrame:
    """The plan of the deals a vectorised rule flags, as finding columns (or whole deals, when messages are made in Python)."""
    plan = table.lazy().filter(work.condition)
    if work.message is None:
        # Keep the deal columns whole (finding columns such as owner would clash): messages need the deals.
        plan = plan.with_columns(work.details.alias(DETAILS_COLUMN))
        if work.severity is not None:
            plan = plan.with_columns(work.severity.alias(SEVERITY_COLUMN))
        return plan
    return plan.select(flagged_deal_columns(work.configured, work.message, work.details, work.severity))


#: The column of a not-evaluable plan holding the rule's reasons.
_REASON_COLUMN = "__not_evaluable_reason__"


def _not_evaluable_plan(job: _NotEvaluable, table: pl.DataFrame) -> pl.LazyFrame:
    exprs = list(job.masks or [])
    if job.reason is not None:
        exprs.append(job.reason.alias(_REASON_COLUMN))
    return table.lazy().select(exprs)


def _read_not_evaluable(job: _NotEvaluable, result: pl.DataFrame, height: int) -> tuple[list[pl.Series], dict[str, int]]:
    """A rule's collected not-evaluable plan as masks (one true/false per deal) and deals per reason."""
    if result.height not in (1, height) or not result.width:
        raise ValueError(f"not_evaluable() gave {result.height} rows and {result.width} columns, not one true/false per deal")

    def per_deal(series: pl.Series) -> pl.Series:
        # A constant (one row) is the same for every deal.
        return series.new_from_index(0, height) if result.height != height else series

    counts: dict[str, int] = {}
    reason = per_deal(result.get_column(_REASON_COLUMN)) if job.reason is not None else None
    if reason is not None:
        # Counted before being read as text: a categorical reason (RuleContext.history_gap) is counted by its codes.
        tally = reason.drop_nulls().value_counts()
        counts = {text: int(n) for text, n in sorted(tally.select(pl.first().cast(pl.String), pl.last()).iter_rows())}
    if job.masks is None:
        assert reason is not None
        return [reason.is_not_null().alias(not_evaluable_column(job.configured.code))], counts
    masks = [per_deal(column.cast(pl.Boolean).fill_null(False)) for column in result.iter_columns() if column.name != _REASON_COLUMN]
    return masks, counts


def _row_at_a_time(configured: ConfiguredRule, frame: pl.DataFrame, ctx: RuleContext) -> pl.DataFrame:
    rule = configured.rule
    rows, messages = [], []
    for row, deal in _rows_as_deals(frame, ctx.extra_columns):
        message = rule.check(deal, ctx)
        if message is not None:
            rows.append(row)
            messages.append(str(message))
    return findings_from_messages(configured, rows, messages)


def _add_flagged(plans: _Plans, configured: ConfiguredRule, flagged: pl.DataFrame | BaseException, python_messages: bool, ctx: RuleContext) -> None:
    """Turn what a vectorised rule flagged into findings."""
    if configured.code in plans.failed_codes:
        return
    if isinstance(flagged, BaseException):
        plans.failed(configured, flagged)
        return
    if python_messages:
        try:
            flagged = _with_python_messages(configured, flagged, ctx)
        except BaseException as exc:
            if not is_crash(exc):
                raise
            plans.failed(configured, exc)
            return
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
