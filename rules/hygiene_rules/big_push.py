import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import text


class BigPush(DealRule):
    """An open deal's close date moved a long way later, in one push or in all.

    **Why**

    A close date pushed by a month or more in one go means the buying
    process changed (a new approver, a budget freeze); pushes adding up to
    a quarter mean the date was never real. Either way the forecast that
    counted on it is wrong.

    ``max_push_days`` is the longest single push and ``push_days_total``
    the days of all pushes added up (history derives both). Deals without
    them are not evaluable, with the reason.

    **Example**

    With the defaults: one push of 21 days is flagged, one of 20 is not;
    pushes of 20 + 20 + 5 = 45 days are flagged, 44 are not.

    **Fix**

    Find out what moved the date, record it in the next step, and re-check
    the deal's stage and forecast category against it.
    """

    code = "HY202"
    name = "big-push"
    summary = "Open deal with one close-date push of min_push_days or pushes adding up to min_total_days"
    severity = "warning"
    group = "history"
    options_schema = {
        "type": "object",
        "properties": {
            "min_push_days": {"type": "integer", "minimum": 1, "default": 21, "description": "Days of one push that make it big."},
            "min_total_days": {"type": "integer", "minimum": 1, "default": 45, "description": "Days of all pushes together that make them big."},
        },
    }

    def _one_big(self, ctx) -> pl.Expr:
        return (pl.col("max_push_days") >= ctx.options["min_push_days"]).fill_null(False)

    def _many(self, ctx) -> pl.Expr:
        return (pl.col("push_days_total") >= ctx.options["min_total_days"]).fill_null(False)

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (self._one_big(ctx) | self._many(ctx))

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "max_push_days": pl.col("max_push_days"),
            "push_days_total": pl.col("push_days_total"),
            "close_date_pushes": pl.col("close_date_pushes"),
            "last_push_from": pl.col("last_push_from"),
            "last_push_to": pl.col("last_push_to"),
        }

    def message_expr(self, ctx) -> pl.Expr:
        options = ctx.options
        return pl.concat_str(
            [
                pl.when(self._one_big(ctx)).then(text("one push of {} days (limit {})", pl.col("max_push_days"), pl.lit(options["min_push_days"]))),
                pl.when(self._many(ctx)).then(text("pushes of {} days in all (limit {})", pl.col("push_days_total"), pl.lit(options["min_total_days"]))),
                text("last from {} to {}", pl.col("last_push_from"), pl.col("last_push_to")),
            ],
            separator=", ",
            ignore_nulls=True,
        )

    def not_evaluable_reason(self, ctx) -> pl.Expr:
        return pl.when(ctx.is_open).then(ctx.history_gap("max_push_days", "push_days_total"))
