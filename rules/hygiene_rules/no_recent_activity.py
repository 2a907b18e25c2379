import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import scheduled_activity


class NoRecentActivity(DealRule):
    """An open deal has gone quiet for longer than its stage allows.

    **Why**

    Deals die of silence. The later the stage, the shorter the silence a
    healthy deal can afford: a week without contact in Negotiation says more
    than a month in Prospecting. Pipedrive calls these "rotting" deals.

    Days without activity are whole calendar days from
    ``last_activity_date`` to the audit date; the limit is the stage's
    ``max_inactive_days`` (by default 45, 30, 21, 14 and 7 days from the
    first open stage to the last), or the ``max_inactive_days`` option for
    stages the table does not know. With ``scheduled_counts = true`` a
    ``next_activity_date`` today or later resets the clock: a deal with a
    meeting booked is not silent. Deals without a ``last_activity_date``
    (and nothing scheduled that counts) are not evaluable.

    **Example**

    With ``as_of = 2026-03-31`` and the default stages, a Negotiation deal
    (7 days) last touched on 2026-03-23 (8 days) is flagged; one touched on
    2026-03-24 (7 days) is not. A Prospecting deal (45 days) touched on
    2026-02-14 is exactly at its limit: not flagged.

    **Fix**

    Contact the buyer and log it, or, if the deal has stalled for good,
    move it back a stage or close it lost.
    """

    code = "HY010"
    name = "no-recent-activity"
    summary = "Open deal without activity for longer than its stage's max_inactive_days"
    severity = "warning"
    group = "activity"
    weight = 10
    options_schema = {
        "type": "object",
        "properties": {
            "scheduled_counts": {
                "type": "boolean",
                "default": False,
                "description": "A next_activity_date today or later resets the clock.",
            },
            "max_inactive_days": {
                "type": "integer",
                "minimum": 0,
                "default": 30,
                "description": "Days without activity allowed in a stage the stage table does not know.",
            },
        },
    }
    message_template = "no activity for {days_inactive} days in {stage} (limit {max_inactive_days})"

    def _limit(self, ctx) -> pl.Expr:
        return ctx.stage_max_inactive_days.fill_null(ctx.options["max_inactive_days"])

    def _scheduled(self, ctx) -> pl.Expr:
        if not ctx.options["scheduled_counts"]:
            return pl.lit(False)
        return scheduled_activity(ctx).fill_null(False)

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (ctx.days_since("last_activity_date") > self._limit(ctx)) & ~self._scheduled(ctx)

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "stage": pl.col("stage"),
            "last_activity_date": pl.col("last_activity_date"),
            "days_inactive": ctx.days_since("last_activity_date"),
            "max_inactive_days": self._limit(ctx),
        }

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {"last_activity_date": ctx.is_open & pl.col("last_activity_date").is_null() & ~self._scheduled(ctx)}
