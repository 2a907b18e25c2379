import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import before_min_stage, min_stage_order


class CloseTooSoonForStage(DealRule):
    """An open deal closes within days while still early in the process.

    **Why**

    A deal in discovery does not sign next week. Its close date is a
    placeholder, or the stage was never updated; either way the forecast
    for this period counts it wrongly.

    Flags open deals whose ``close_date`` falls from the audit date up to
    ``min_days`` days after it (both ends included; past close dates are
    ``past-due-close-date``'s business) while their stage comes before
    ``min_stage`` (default: the first open stage whose probability reaches
    50). Deals without a close date, and deals in stages the table does not
    know, are not evaluable.

    **Example**

    With ``as_of = 2026-03-31``, ``min_days = 14`` and the default stages: a
    Qualification deal closing 2026-04-14 (14 days) is flagged, one closing
    2026-04-15 (15 days) is not; a Proposal deal closing tomorrow is not.

    **Fix**

    Move the close date to when a deal at this stage can really close, or
    update the stage if the deal has moved on.
    """

    code = "HY033"
    name = "close-too-soon-for-stage"
    summary = "Open deal closing within min_days while in a stage before min_stage"
    severity = "warning"
    group = "forecast"
    weight = 10
    options_schema = {
        "type": "object",
        "properties": {
            "min_days": {"type": "integer", "minimum": 0, "default": 14, "description": "Close dates up to this many days after as_of are 'soon'."},
            "min_stage": {
                "type": "string",
                "minLength": 1,
                "description": "The earliest stage a deal closing soon may be in; when absent, the first open stage whose probability reaches 50.",
            },
        },
    }

    def _days_to_close(self, ctx) -> pl.Expr:
        return -ctx.days_since("close_date")

    def condition(self, ctx) -> pl.Expr:
        soon = self._days_to_close(ctx).is_between(0, ctx.options["min_days"], closed="both")
        return ctx.is_open & soon & before_min_stage(ctx, self.name)

    def message_expr(self, ctx) -> pl.Expr:
        _, min_stage = min_stage_order(ctx, self.name)
        return pl.concat_str(
            [
                pl.lit("closes "),
                pl.col("close_date").cast(pl.String),
                pl.lit(", in "),
                self._days_to_close(ctx).cast(pl.String),
                pl.lit(" days, while still in "),
                pl.col("stage"),
                pl.lit(f" (before {min_stage})"),
            ]
        )

    def details(self, ctx) -> dict[str, pl.Expr]:
        _, min_stage = min_stage_order(ctx, self.name)
        return {
            "close_date": pl.col("close_date"),
            "days_to_close": self._days_to_close(ctx),
            "stage": pl.col("stage"),
            "min_stage": pl.lit(min_stage, pl.String),
        }

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {"close_date": ctx.is_open & pl.col("close_date").is_null(), "stage": ctx.is_open & ctx.stage_order.is_null()}
