import polars as pl

from hygiene import DealRule


class PastDueCloseDate(DealRule):
    """An open deal's close date is in the past.

    **Why**

    A close date before today on a deal that is still open is a promise
    already broken. It keeps the deal in a period that is over (or
    closing), inflating that forecast and hiding the slip.

    **Example**

    With ``as_of = 2026-03-31``, an open deal with ``close_date =
    2026-03-30`` is flagged (1 day past due); one closing on 2026-03-31 is
    not.

    **Fix**

    Either the deal closed (mark it won or lost) or it slipped (move the
    close date to when the customer will really sign).
    """

    code = "HY003"
    name = "past-due-close-date"
    summary = "Open deal's close date is before the audit date"
    severity = "error"
    group = "forecast"
    weight = 20
    message_template = "close date {close_date} is {days_past_due} days past due"

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (pl.col("close_date") < pl.lit(ctx.as_of))

    counter_details = ("days_past_due",)

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {"close_date": pl.col("close_date"), "days_past_due": ctx.days_since("close_date")}
