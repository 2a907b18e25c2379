import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import scheduled_activity


class NoScheduledActivity(DealRule):
    """An open deal in a stage that needs a next step has nothing on the calendar.

    **Why**

    Past the first stage, every healthy deal has its next meeting or call
    booked. A deal with nothing scheduled waits for the buyer to move, and
    buyers rarely do.

    The rule looks at open deals whose stage ``requires_next_step`` (by
    default every open stage after the first) and flags those whose
    ``next_activity_date`` is empty or before the audit date; a date today
    or later counts as scheduled. An export without a
    ``next_activity_date`` field says nothing about the calendar: its deals
    are not evaluable, as are deals in stages the table does not know.

    **Example**

    With ``as_of = 2026-03-31``, a Proposal deal with its next activity on
    2026-03-30 is flagged, one with 2026-03-31 or later is not, and one
    with no next activity at all is flagged. A Prospecting deal (the first
    stage) is never flagged.

    **Fix**

    Book the next meeting with the buyer before leaving the current one,
    and record it in the CRM.
    """

    code = "HY011"
    name = "no-scheduled-activity"
    summary = "Open deal in a stage that requires a next step, with no activity scheduled"
    severity = "warning"
    group = "activity"
    weight = 5
    options_schema = {"type": "object", "properties": {}}

    def condition(self, ctx) -> pl.Expr:
        if not ctx.has_field("next_activity_date"):
            return pl.lit(False)
        return ctx.is_open & ctx.stage_requires_next_step & ~scheduled_activity(ctx)

    def message_expr(self, ctx) -> pl.Expr:
        return (
            pl.when(pl.col("next_activity_date").is_null())
            .then(pl.concat_str([pl.lit("nothing scheduled in "), pl.col("stage")]))
            .otherwise(
                pl.concat_str([pl.lit("nothing scheduled in "), pl.col("stage"), pl.lit(": the last planned activity, "), pl.col("next_activity_date").cast(pl.String), pl.lit(", is past")])
            )
        )

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {"stage": pl.col("stage"), "next_activity_date": pl.col("next_activity_date")}

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        missing = {"stage": ctx.is_open & ctx.stage_requires_next_step.is_null()}
        if not ctx.has_field("next_activity_date"):
            missing["next_activity_date"] = ctx.is_open & ctx.stage_requires_next_step.fill_null(False)
        return missing
