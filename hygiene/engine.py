"""Run rules over the deal table and gather their findings into one table.

The engine calls each rule once. Vectorised deal rules become lazy polars
plans that are collected together; row-at-a-time rules and pipeline rules
are called directly. A rule that raises does not stop the others: it
becomes a ``rule-error`` finding and the run ends with exit code 2. A rule
that raises :class:`~hygiene.errors.HygieneError` (a configuration it can
only judge unusable once it sees the deals) stops the run with that one
line, as the core's own errors do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import polars as pl

from hygiene.errors import HygieneError
from hygiene.extras import ExtraColumns
from hygiene.fields import CANONICAL_FIELDS, ROW_COLUMN
from hygiene.models import SEVERITY_RANK, Deal, Finding, Period, hash_fingerprint_key
from hygiene.models import FINGERPRINT_SEPARATOR as SEP
from hygiene.rule import (
    KNOWN_STAGE_COLUMN,
    OPEN_COLUMN,
    STAGE_MAX_DAYS_COLUMN,
    STAGE_PROBABILITY_COLUMN,
    WON_COLUMN,
    DealRule,
    Rule,
    RuleContext,
)
from hygiene.stages import StageTable, stage_key

#: Details of a finding whose message is still to be made by ``message(deal, ctx)``.
DETAILS_COLUMN = "__details__"

RULE_ERROR_CODE = "HY999"
RULE_ERROR_NAME = "rule-error"

FINDING_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String,
    "rule": pl.String,
    "severity": pl.String,
    "deal_id": pl.String,
    "deal_name": pl.String,
    "owner": pl.String,
    "message": pl.String,
    "details": pl.String,  # a JSON object, encoded once here so every reporter writes the same figures
    "row": pl.Int64,
    "amount": pl.Float64,  # for reporters that rank findings by what is at stake
    "fingerprint": pl.String,
}


@attrs.define(frozen=True, kw_only=True)
class ConfiguredRule:
    """A rule instance with its effective severity and validated options."""

    rule: Rule
    severity: str
    options: Mapping[str, Any]
    plugin: str

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def name(self) -> str:
        return self.rule.name


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
    return frame.with_columns(
        stage.replace_strict(known, default=False, return_dtype=pl.Boolean).fill_null(False).alias(KNOWN_STAGE_COLUMN),
        (~stage.replace_strict(lookup("closed", False), default=False, return_dtype=pl.Boolean)).fill_null(True).alias(OPEN_COLUMN),
        stage.replace_strict(lookup("won", False), default=False, return_dtype=pl.Boolean).fill_null(False).alias(WON_COLUMN),
        stage.replace_strict(lookup("probability", None), default=None, return_dtype=pl.Float64).alias(STAGE_PROBABILITY_COLUMN),
        stage.replace_strict(lookup("max_days", None), default=None, return_dtype=pl.Int64).alias(STAGE_MAX_DAYS_COLUMN),
    )


def _details_json(details: Mapping[str, pl.Expr]) -> pl.Expr:
    if not details:
        return pl.lit("{}")
    return pl.struct(**details).struct.json_encode()


def _finding_columns(configured: ConfiguredRule, message: pl.Expr, details: pl.Expr) -> list[pl.Expr]:
    return [
        pl.lit(configured.code).alias("code"),
        pl.lit(configured.name).alias("rule"),
        pl.lit(configured.severity).alias("severity"),
        pl.col("id").alias("deal_id"),
        pl.col("name").alias("deal_name"),
        pl.col("owner"),
        message.alias("message"),
        details.alias("details"),
        pl.col(ROW_COLUMN).alias("row"),
        pl.col("amount"),
    ]


def deal_from_row(row: Mapping[str, Any], extra_columns: Iterable[str]) -> Deal:
    values = {field: row.get(field) for field in CANONICAL_FIELDS}
    return Deal(**values, extras={column: row.get(column) for column in extra_columns}, row=row.get(ROW_COLUMN))


def _rows_as_deals(frame: pl.DataFrame, extra_columns: tuple[str, ...]) -> Iterable[tuple[dict[str, Any], Deal]]:
    for row in frame.iter_rows(named=True):
        yield row, deal_from_row(row, extra_columns)


def _findings_from_messages(configured: ConfiguredRule, rows: list[dict[str, Any]], messages: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "code": [configured.code] * len(rows),
            "rule": [configured.name] * len(rows),
            "severity": [configured.severity] * len(rows),
            "deal_id": [r["id"] for r in rows],
            "deal_name": [r["name"] for r in rows],
            "owner": [r["owner"] for r in rows],
            "message": messages,
            "details": ["{}"] * len(rows),
            "row": [r[ROW_COLUMN] for r in rows],
            "amount": [r["amount"] for r in rows],
        },
        schema={k: v for k, v in FINDING_SCHEMA.items() if k != "fingerprint"},
    )


def _row_at_a_time(configured: ConfiguredRule, frame: pl.DataFrame, ctx: RuleContext) -> pl.DataFrame:
    rule = configured.rule
    rows, messages = [], []
    for row, deal in _rows_as_deals(frame, ctx.extra_columns):
        message = rule.check(deal, ctx)
        if message is not None:
            rows.append(row)
            messages.append(str(message))
    return _findings_from_messages(configured, rows, messages)


def _with_python_messages(configured: ConfiguredRule, flagged: pl.DataFrame, ctx: RuleContext) -> pl.DataFrame:
    """Findings for deals a vectorised rule flagged, with messages from its ``message(deal, ctx)``."""
    rule = configured.rule
    messages = [str(rule.message(deal, ctx)) for _, deal in _rows_as_deals(flagged, ctx.extra_columns)]
    return flagged.select(_finding_columns(configured, pl.lit(pl.Series(messages, dtype=pl.String)), pl.col(DETAILS_COLUMN)))


def _pipeline_findings(configured: ConfiguredRule, result: Iterable[Finding] | pl.DataFrame) -> pl.DataFrame:
    if isinstance(result, pl.DataFrame):
        columns = []
        for column, dtype in FINDING_SCHEMA.items():
            if column in ("code", "rule", "severity", "fingerprint"):
                continue
            if column == "details" and "details" in result.columns and result.schema["details"] != pl.String:
                columns.append(pl.col("details").struct.json_encode())
            elif column in result.columns:
                columns.append(pl.col(column).cast(dtype))
            else:
                columns.append(pl.lit("{}" if column == "details" else None, dtype=dtype).alias(column))
        frame = result.select(columns)
    else:
        findings = list(result)
        frame = pl.DataFrame(
            {
                "deal_id": [f.deal_id for f in findings],
                "deal_name": [f.deal_name for f in findings],
                "owner": [f.owner for f in findings],
                "message": [f.message for f in findings],
                "details": [json.dumps(dict(f.details), default=_json_default, ensure_ascii=False, separators=(",", ":")) for f in findings],
                "row": [f.row for f in findings],
                "amount": [f.details.get("amount") if isinstance(f.details.get("amount"), (int, float)) else None for f in findings],
            },
            schema={k: v for k, v in FINDING_SCHEMA.items() if k not in ("code", "rule", "severity", "fingerprint")},
        )
    return frame.select(
        pl.lit(configured.code).alias("code"),
        pl.lit(configured.name).alias("rule"),
        pl.lit(configured.severity).alias("severity"),
        pl.all(),
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _rule_error(configured: ConfiguredRule, exc: BaseException) -> pl.DataFrame:
    # A finding is one line: polars' errors go on to quote the whole expression below the first.
    reason = (str(exc).strip().splitlines() or [""])[0]
    message = f"rule {configured.code} ({configured.name}) from plugin {configured.plugin!r} failed: {type(exc).__name__}: {reason}"
    details = json.dumps({"rule": configured.code, "plugin": configured.plugin, "exception": type(exc).__name__}, separators=(",", ":"))
    return pl.DataFrame(
        [[RULE_ERROR_CODE, RULE_ERROR_NAME, "error", None, None, None, message, details, None, None]],
        schema={k: v for k, v in FINDING_SCHEMA.items() if k != "fingerprint"},
        orient="row",
    )


def run_rules(
    frame: pl.DataFrame,
    rules: list[ConfiguredRule],
    *,
    as_of: dt.date,
    period: Period,
    stages: StageTable,
    quotas: Mapping[str, float],
    invalid_values: pl.DataFrame | None = None,
    duplicate_rows: pl.DataFrame | None = None,
    extra_columns: tuple[str, ...] = (),
    fiscal_year_start_month: int = 1,
) -> RuleRun:
    """Run ``rules`` over the normalised deal table ``frame``.

    ``period`` is the audit's period; a rule with a ``period`` option
    (``month``, ``quarter``, ``year``) gets that period of the same fiscal
    calendar instead.
    """
    from hygiene.periods import period_containing

    deals = prepare_deals(frame, stages)
    base = dict(
        as_of=as_of,
        stages=stages,
        quotas=dict(quotas),
        invalid_values=invalid_values,
        duplicate_rows=duplicate_rows,
        extra_columns=extra_columns,
        typed_extras=ExtraColumns(deals, extra_columns),
    )
    contexts = {
        c.code: RuleContext(
            options=c.options,
            period=period_containing(as_of, c.options["period"], fiscal_year_start_month) if "period" in c.options else period,
            **base,
        )
        for c in rules
    }

    parts: list[pl.DataFrame] = []
    errors = 0
    plans: list[tuple[ConfiguredRule, pl.LazyFrame, bool]] = []
    evaluability: list[pl.Expr] = []
    # Not-evaluable counts of rules that add columns of their own, each over its own table.
    evaluability_plans: list[pl.LazyFrame] = []
    for configured in rules:
        rule, ctx = configured.rule, contexts[configured.code]
        try:
            vectorised = isinstance(rule, DealRule) and rule.is_vectorised()
            columns = rule.columns(ctx) if vectorised else {}
            table = deals.lazy().with_columns(**columns) if columns else deals.lazy()
            if vectorised:
                message = rule.message_expr(ctx)
                plan = table.filter(rule.condition(ctx).fill_null(False))
                if message is None:
                    # Keep the deal columns whole (finding columns such as owner would clash): messages need the deals.
                    plan = plan.with_columns(_details_json(rule.details(ctx)).alias(DETAILS_COLUMN))
                else:
                    plan = plan.select(_finding_columns(configured, message, _details_json(rule.details(ctx))))
                plans.append((configured, plan, message is None))
            elif isinstance(rule, DealRule):
                parts.append(_row_at_a_time(configured, deals, ctx))
            else:
                parts.append(_pipeline_findings(configured, rule.check(deals, ctx)))
            if isinstance(rule, DealRule) and (expr := rule.not_evaluable(ctx)) is not None:
                count = expr.fill_null(False).sum().cast(pl.Int64).alias(configured.code)
                if columns:
                    evaluability_plans.append(table.select(count))
                else:
                    evaluability.append(count)
        except HygieneError:
            # A rule that finds its configuration unusable only once it sees the deals says so like the core does.
            raise
        except Exception as exc:  # a plugin's bug must not abort the audit
            parts.append(_rule_error(configured, exc))
            errors += 1

    for (configured, _, python_messages), flagged in zip(plans, _collect_each(plans), strict=True):
        if isinstance(flagged, Exception):
            parts.append(_rule_error(configured, flagged))
            errors += 1
            continue
        if python_messages:
            try:
                flagged = _with_python_messages(configured, flagged, contexts[configured.code])
            except Exception as exc:
                parts.append(_rule_error(configured, exc))
                errors += 1
                continue
        parts.append(flagged)

    not_evaluable = deals.select(evaluability).row(0, named=True) if evaluability else {}
    for counted in pl.collect_all(evaluability_plans) if evaluability_plans else ():
        not_evaluable.update(counted.row(0, named=True))
    periods = {code: ctx.period.name for code, ctx in contexts.items()}
    findings = _finish(parts, periods, period.name)
    # Select, then filter: filtering first would copy every column of the deal table.
    open_deal_owners = deals.select("id", "owner", OPEN_COLUMN).filter(pl.col(OPEN_COLUMN)).drop(OPEN_COLUMN)
    return RuleRun(
        findings=findings,
        deals=deals.height,
        open_deals=open_deal_owners.height,
        open_deal_owners=open_deal_owners,
        not_evaluable={code: int(n) for code, n in sorted(not_evaluable.items())},
        rule_errors=errors,
    )


def _collect_each(plans: list[tuple[ConfiguredRule, pl.LazyFrame, bool]]) -> list[pl.DataFrame | Exception]:
    """Collect all plans in one parallel pass; isolate failures by retrying one by one."""
    if not plans:
        return []
    try:
        return list(pl.collect_all([plan for _, plan, _ in plans]))
    except Exception:
        results: list[pl.DataFrame | Exception] = []
        for _, plan, _ in plans:
            try:
                results.append(plan.collect())
            except Exception as exc:
                results.append(exc)
        return results


def _finish(parts: list[pl.DataFrame], periods: Mapping[str, str], default_period: str) -> pl.DataFrame:
    schema = {k: v for k, v in FINDING_SCHEMA.items() if k != "fingerprint"}
    frames = [part.select([pl.col(c).cast(t) for c, t in schema.items()]) for part in parts if part.height]
    findings = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    key = (
        pl.when(pl.col("deal_id").is_not_null())
        .then(pl.concat_str([pl.col("code"), pl.lit(f"{SEP}deal{SEP}"), pl.col("deal_id")]))
        .otherwise(
            pl.concat_str(
                [
                    pl.col("code"),
                    pl.lit(f"{SEP}owner{SEP}"),
                    pl.col("owner").fill_null(""),
                    pl.lit(SEP),
                    pl.col("code").replace_strict(dict(periods), default=default_period, return_dtype=pl.String),
                ]
            )
        )
    )
    keys = findings.select(key).to_series().to_list()
    findings = findings.with_columns(pl.Series("fingerprint", [hash_fingerprint_key(k) for k in keys], dtype=pl.String))
    return sort_findings(findings)


def sort_findings(findings: pl.DataFrame) -> pl.DataFrame:
    """Report order: most severe first, then by owner, deal id, code, row and message."""
    rank = pl.col("severity").replace_strict(SEVERITY_RANK, default=len(SEVERITY_RANK), return_dtype=pl.Int8)
    return findings.sort(
        [rank, "owner", "deal_id", "code", "row", "message"],
        nulls_last=True,
        maintain_order=True,
    )
