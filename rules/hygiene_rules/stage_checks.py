"""What several built-in rules ask of a deal's stage and next step, defined once."""

from __future__ import annotations

import polars as pl

from hygiene import HygieneError

#: The probability that makes a stage "late enough" for commit deals and near close dates, by default.
LATE_STAGE_PROBABILITY = 50


def min_stage_order(ctx, rule_name: str) -> tuple[int | None, str | None]:
    """The order and name of the rule's ``min_stage`` option, else of the first open stage reaching 50%.

    ``(None, None)`` when no open stage reaches 50% (nothing is "too early"
    then). A ``min_stage`` that is not an open stage of the table stops the
    run with one line naming the option.
    """
    wanted = ctx.options.get("min_stage")
    if wanted is not None:
        order = ctx.stages.order_of(wanted)
        if order is None:
            known = ", ".join(repr(stage.name) for stage in ctx.stages.open_stages)
            raise HygieneError(f"rules.{rule_name}.min_stage: {wanted!r} is not an open stage of the stage table (open stages: {known})")
        return order, ctx.stages.open_stages[order].name
    stage = ctx.stages.first_stage_reaching(LATE_STAGE_PROBABILITY)
    if stage is None:
        return None, None
    return ctx.stages.order_of(stage.name), stage.name


def before_min_stage(ctx, rule_name: str) -> pl.Expr:
    """True where the deal's open stage comes before ``min_stage``; null where its stage is unknown."""
    order, _ = min_stage_order(ctx, rule_name)
    if order is None:
        return pl.lit(False)
    return ctx.stage_order < order


def scheduled_activity(ctx) -> pl.Expr:
    """True where a ``next_activity_date`` is today or later (null where the export has no such field)."""
    if not ctx.has_field("next_activity_date"):
        return pl.lit(None, pl.Boolean)
    return (pl.col("next_activity_date") >= pl.lit(ctx.as_of)).fill_null(False)


def next_step_problem(ctx) -> pl.Expr:
    """Why the deal has no valid next step: "no next step", "next step without a date", "next step date ... is past".

    Null where the next step is valid. A ``next_step_date`` counts only when
    the export has that field; without a ``next_step`` field the result is
    null everywhere (nothing to judge).
    """
    if not ctx.has_field("next_step"):
        return pl.lit(None, pl.String)
    problem = pl.when(pl.col("next_step").is_null()).then(pl.lit("no next step"))
    if ctx.has_field("next_step_date"):
        problem = problem.when(pl.col("next_step_date").is_null()).then(pl.lit("next step without a date"))
        problem = problem.when(pl.col("next_step_date") < pl.lit(ctx.as_of)).then(
            pl.concat_str([pl.lit("next step date "), pl.col("next_step_date").cast(pl.String), pl.lit(" is past")])
        )
    return problem.otherwise(pl.lit(None, pl.String))


def percent(expr: pl.Expr) -> pl.Expr:
    """A percentage as text, one decimal at most: 35, 12.5.

    Casts only, no string function: polars' streaming engine has panicked on
    string functions inside ``when``/``then`` at a million deals.
    """
    rounded = expr.round(1)
    return pl.when(rounded == rounded.round(0)).then(rounded.cast(pl.Int64).cast(pl.String)).otherwise(rounded.cast(pl.String))


def option_percent(value: float) -> str:
    return f"{round(value, 1):g}"


def text(template: str, *values: pl.Expr) -> pl.Expr:
    """``template`` with each ``{}`` replaced by a value, as ``pl.format`` does (null when a value is null).

    Built with ``concat_str`` over values cast to text: ``pl.format`` over a
    filtered table panics in polars' streaming engine on some inputs.
    """
    pieces = template.split("{}")
    if len(pieces) != len(values) + 1:
        raise ValueError(f"{template!r} has {len(pieces) - 1} placeholders for {len(values)} values")
    parts: list[pl.Expr] = []
    for piece, value in zip(pieces, [*values, None], strict=True):
        if piece:
            parts.append(pl.lit(piece))
        if value is not None:
            parts.append(value.cast(pl.String))
    return pl.concat_str(parts)
