import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import text


class StaleStage(DealRule):
    """An open deal has sat in its stage longer than the stage allows.

    **Why**

    A deal that does not move is usually not going to close. Each stage has
    a time budget (``max_days`` in the stage table); past it, the deal's
    stage, amount and close date no longer describe reality, and the
    forecast built on them is wrong.

    Days in stage are whole calendar days from ``stage_entered_date`` to
    the audit date. The limit is the stage's ``max_days``, or the rule's
    ``max_days`` option for stages without one (and for unknown stages).
    Deals without a ``stage_entered_date`` are not flagged; the summary
    counts them as not evaluable. With a history store, a date history
    derived from a stage run that began at the store's first snapshot is a
    lower bound: the deal is flagged when even that exceeds the limit (the
    message says "at least"), and is not evaluable otherwise.

    **Example**

    With ``as_of = 2026-03-31``, a deal in Negotiation (max 21 days) that
    entered the stage on 2026-03-01 has been there 30 days: flagged. One
    that entered on 2026-03-10 (21 days) is exactly at the limit: not
    flagged.

    **Fix**

    Talk to the owner: move the deal to the stage it is really in, set a
    next step with a date, or close it lost.
    """

    code = "HY001"
    name = "stale-stage"
    summary = "Open deal has been in its stage longer than the stage's max_days"
    severity = "warning"
    group = "activity"
    weight = 10
    options_schema = {
        "type": "object",
        "properties": {
            "max_days": {
                "type": "integer",
                "minimum": 0,
                "default": 30,
                "description": "Days allowed in a stage that has no max_days of its own.",
            },
        },
    }

    def _limit(self, ctx) -> pl.Expr:
        return ctx.stage_max_days.fill_null(ctx.options["max_days"])

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (ctx.days_since("stage_entered_date") > self._limit(ctx))

    counter_details = ("days_in_stage",)

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "stage": pl.col("stage"),
            "stage_entered_date": pl.col("stage_entered_date"),
            "days_in_stage": ctx.days_since("stage_entered_date"),
            "max_days": self._limit(ctx),
        }

    def message_expr(self, ctx) -> pl.Expr:
        at_least = pl.when(ctx.stage_entered_is_lower_bound).then(pl.lit("at least ")).otherwise(pl.lit(""))
        return text("in {} for {}{} days (limit {})", pl.col("stage"), at_least, ctx.days_since("stage_entered_date"), self._limit(ctx))

    def not_evaluable_reason(self, ctx) -> pl.Expr:
        within = ctx.days_since("stage_entered_date") <= self._limit(ctx)
        return (
            pl.when(~ctx.is_open)
            .then(pl.lit(None, pl.String))
            .when(pl.col("stage_entered_date").is_null())
            .then(ctx.history_gap("stage_entered_date"))
            .when(ctx.stage_entered_is_lower_bound & within)
            .then(pl.lit("in its stage since before the store's first snapshot"))
        )
