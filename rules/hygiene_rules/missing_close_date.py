import polars as pl

from hygiene import DealRule


class MissingCloseDate(DealRule):
    """An open deal has no close date.

    **Why**

    A deal without a close date cannot land in any forecast period: it is
    invisible to the quarter's number, and nobody is accountable for when
    it will close.

    **Example**

    An open deal in Proposal with an empty ``close_date`` is flagged; a
    Closed Lost deal with an empty ``close_date`` is not (it is not open).

    **Fix**

    Ask the owner for the date the customer expects to sign, and set it.
    """

    code = "HY002"
    name = "missing-close-date"
    summary = "Open deal has no close date"
    severity = "error"
    group = "forecast"
    weight = 20
    message_template = "open deal in {stage} has no close date"

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & pl.col("close_date").is_null()

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {"stage": pl.col("stage")}
