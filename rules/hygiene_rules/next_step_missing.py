import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import next_step_problem


class NextStepMissing(DealRule):
    """An open deal in a stage that needs a next step has none, or its date is missing or past.

    **Why**

    A next step with a date is the cheapest evidence that a deal is alive:
    someone agreed to do something by a day. Without it, the stage and the
    close date are the rep's hope, not the buyer's commitment.

    The rule looks at open deals whose stage ``requires_next_step`` (by
    default every open stage after the first; set it per stage in
    ``[[pipeline.stages]]``). It flags an empty ``next_step``; when the
    export has a ``next_step_date`` field, also a next step without a date
    or with a date before the audit date (the audit date itself is fine).
    Deals in stages the table does not know, and every deal of an export
    without a ``next_step`` field, are not evaluable.

    **Example**

    With ``as_of = 2026-03-31``: a Proposal deal with next step "Send the
    order form" dated 2026-03-30 is flagged ("next step date 2026-03-30 is
    past"); dated 2026-03-31 it is not. A Prospecting deal without a next
    step is not flagged (its stage does not require one).

    **Fix**

    Agree the next step with the buyer, write it down with its date, and
    update it when it is done.
    """

    code = "HY020"
    name = "next-step-missing"
    summary = "Open deal in a stage that requires a next step, without one or with its date missing or past"
    severity = "warning"
    group = "next steps"
    weight = 10
    options_schema = {"type": "object", "properties": {}}

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & ctx.stage_requires_next_step & next_step_problem(ctx).is_not_null()

    def message_expr(self, ctx) -> pl.Expr:
        return pl.concat_str([next_step_problem(ctx), pl.lit(" in "), pl.col("stage")])

    def details(self, ctx) -> dict[str, pl.Expr]:
        details = {"stage": pl.col("stage"), "next_step": pl.col("next_step")}
        if ctx.has_field("next_step_date"):
            details["next_step_date"] = pl.col("next_step_date")
        return details

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        missing = {"stage": ctx.is_open & ctx.stage_requires_next_step.is_null()}
        if not ctx.has_field("next_step"):
            missing["next_step"] = ctx.is_open & ctx.stage_requires_next_step.fill_null(False)
        return missing
