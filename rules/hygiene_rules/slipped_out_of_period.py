import polars as pl

from hygiene import DealRule


class SlippedOutOfPeriod(DealRule):
    """An open deal's close date left the current period since the previous snapshot.

    **Why**

    A deal that was going to close this period and now closes in a later
    one takes its amount out of this period's forecast. One slip is news a
    manager needs the week it happens, not at the end of the quarter.

    The close date at the previous snapshot (``close_date_previous``, from
    history) was inside the current period, bounds inclusive, and the
    close date now is outside it. Deals without a previous close date
    (history too short, or the deal seen once) are not evaluable, with the
    reason.

    **Example**

    In the quarter 2026-10-01 to 2026-12-31, a deal whose close date moved
    from 2026-12-31 to 2027-01-01 is flagged; one that moved from
    2026-11-30 to 2026-12-31 is not.

    **Fix**

    Ask the owner what changed; if the deal really moved, move it in the
    forecast too, and agree the next step that brings it back.
    """

    code = "HY200"
    name = "slipped-out-of-period"
    summary = "Open deal whose close date moved out of the current period since the previous snapshot"
    severity = "warning"
    group = "history"
    message_template = "close date moved out of {period}: from {close_date_previous} to {close_date}"

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & ctx.in_period("close_date_previous") & ~ctx.in_period("close_date") & pl.col("close_date").is_not_null()

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "period": pl.lit(ctx.period.name),
            "close_date_previous": pl.col("close_date_previous"),
            "close_date": pl.col("close_date"),
        }

    def not_evaluable_reason(self, ctx) -> pl.Expr:
        return pl.when(ctx.is_open).then(ctx.history_gap("close_date_previous"))
