import polars as pl

from hygiene import DealRule

from hygiene_rules.commit_in_early_stage import FORECAST_CATEGORIES


class FarOutCloseDate(DealRule):
    """An open deal closes implausibly far in the future; an error when it is forecast as commit or best case.

    **Why**

    A close date nine months out is where reps park deals they do not want
    to close lost. Such deals inflate coverage for every future period. One
    forecast as commit or best case is worse: it cannot close this period
    and still claims to.

    Flags open deals whose ``close_date`` is more than ``max_days_out`` days
    after the audit date. The finding is an error (not the rule's severity)
    when the deal's forecast category is in ``error_categories`` (default
    commit and best case). Deals without a close date are not evaluable
    (``missing-close-date`` flags them).

    **Example**

    With ``as_of = 2026-03-31`` and ``max_days_out = 270``: a close date of
    2026-12-26 (270 days out) is not flagged, 2026-12-27 (271) is: a
    warning for a pipeline deal, an error for a commit deal.

    **Fix**

    Set the close date the buyer would agree to, or close the deal lost and
    reopen it when it is real.
    """

    code = "HY032"
    name = "far-out-close-date"
    summary = "Open deal closing more than max_days_out days after as_of (an error for commit and best case)"
    severity = "warning"
    group = "forecast"
    weight = 10
    options_schema = {
        "type": "object",
        "properties": {
            "max_days_out": {"type": "integer", "minimum": 0, "default": 270, "description": "Days after as_of a close date may be."},
            "error_categories": {
                "type": "array",
                "items": {"enum": FORECAST_CATEGORIES},
                "default": ["commit", "best_case"],
                "description": "Forecast categories whose far-out deals are errors.",
            },
        },
    }
    message_template = "closes {close_date}, {days_out} days out (limit {max_days_out})"

    def _days_out(self, ctx) -> pl.Expr:
        return -ctx.days_since("close_date")

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (self._days_out(ctx) > ctx.options["max_days_out"])

    def severity_expr(self, ctx, severity: str) -> pl.Expr:
        graver = ctx.forecast_category.is_in(ctx.options["error_categories"]).fill_null(False)
        return pl.when(graver).then(pl.lit("error")).otherwise(pl.lit(severity))

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "close_date": pl.col("close_date"),
            "days_out": self._days_out(ctx),
            "max_days_out": pl.lit(ctx.options["max_days_out"]),
            "forecast_category": pl.col("forecast_category"),
        }

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {"close_date": ctx.is_open & pl.col("close_date").is_null()}
