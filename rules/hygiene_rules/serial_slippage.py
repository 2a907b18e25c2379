import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import text


class SerialSlippage(DealRule):
    """An open deal's close date was pushed later again and again.

    **Why**

    One push is normal; a close date pushed every few weeks is a deal
    nobody is willing to call. Each push keeps its amount in the forecast
    for another period it will not close in.

    ``close_date_pushes`` counts the snapshot-to-snapshot moves of the close
    date to a later date (pull-ins are not pushes); history derives it, or
    the export supplies it. Deals without it are not evaluable, with the
    reason: missing is never zero.

    **Example**

    With ``min_pushes = 3``: a deal pushed 3 times is flagged ("pushed 3
    times, 73 days in all, last from 2026-09-30 to 2026-11-15"); one pushed
    twice is not.

    **Fix**

    Agree a close date with the buyer that you will hold to, or move the
    deal out of this period's forecast, or close it lost.
    """

    code = "HY201"
    name = "serial-slippage"
    summary = "Open deal whose close date was pushed at least min_pushes times"
    severity = "warning"
    group = "history"
    options_schema = {
        "type": "object",
        "properties": {
            "min_pushes": {"type": "integer", "minimum": 1, "default": 3, "description": "Close-date pushes that make a deal a serial slipper."},
        },
    }

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (pl.col("close_date_pushes") >= ctx.options["min_pushes"])

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "close_date_pushes": pl.col("close_date_pushes"),
            "push_days_total": pl.col("push_days_total"),
            "last_push_from": pl.col("last_push_from"),
            "last_push_to": pl.col("last_push_to"),
            "min_pushes": pl.lit(ctx.options["min_pushes"]),
        }

    def message_expr(self, ctx) -> pl.Expr:
        return pl.concat_str(
            [
                text("pushed {} times", pl.col("close_date_pushes")),
                text("{} days in all", pl.col("push_days_total")),
                text("last from {} to {}", pl.col("last_push_from"), pl.col("last_push_to")),
            ],
            separator=", ",
            ignore_nulls=True,
        )

    def not_evaluable_reason(self, ctx) -> pl.Expr:
        return pl.when(ctx.is_open).then(ctx.history_gap("close_date_pushes"))
