import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import before_min_stage, min_stage_order, next_step_problem

FORECAST_CATEGORIES = ["pipeline", "best_case", "commit", "omitted", "closed"]


class CommitInEarlyStage(DealRule):
    """A deal forecast as commit is too early in the process, or has no valid next step.

    **Why**

    Commit means "this closes this period, bet on it". A commit deal still
    in discovery, or with no agreed next step, is a forecast built on hope:
    Salesforce Pipeline Inspection and Clari flag exactly this.

    An open deal whose ``forecast_category`` is in ``categories`` (default
    commit; add ``best_case`` to check those too; categories match ignoring
    case, with spaces read as underscores: "Best Case" is ``best_case``) is
    flagged when its stage comes before ``min_stage`` (default: the first
    open stage whose probability reaches 50), or when it has no valid next
    step: an empty ``next_step``, or, when the export has
    ``next_step_date``, a missing or past one. Deals without a forecast
    category are not evaluable.

    **Example**

    With the default stages (Proposal is the first at 60%), a commit deal
    in Needs Analysis is flagged; a commit deal in Proposal with next step
    "Send the order form" is not; the same deal without a next step is
    flagged.

    **Fix**

    Move the deal to the category its stage supports, or advance the stage
    and agree a dated next step that justifies the commit.
    """

    code = "HY030"
    name = "commit-in-early-stage"
    summary = "Commit deal in a stage before min_stage, or without a valid next step"
    severity = "warning"
    group = "forecast"
    weight = 15
    options_schema = {
        "type": "object",
        "properties": {
            "categories": {
                "type": "array",
                "items": {"enum": FORECAST_CATEGORIES},
                "default": ["commit"],
                "description": "Forecast categories checked (add best_case to check best-case deals too).",
            },
            "min_stage": {
                "type": "string",
                "minLength": 1,
                "description": "The earliest stage a committed deal may be in; when absent, the first open stage whose probability reaches 50.",
            },
        },
    }

    def _committed(self, ctx) -> pl.Expr:
        return ctx.forecast_category.is_in(ctx.options["categories"])

    def _early(self, ctx) -> pl.Expr:
        return before_min_stage(ctx, self.name).fill_null(False)

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & self._committed(ctx) & (self._early(ctx) | next_step_problem(ctx).is_not_null())

    def message_expr(self, ctx) -> pl.Expr:
        _, min_stage = min_stage_order(ctx, self.name)
        reasons = pl.concat_str(
            [
                pl.when(self._early(ctx)).then(pl.concat_str([pl.lit("still in "), pl.col("stage"), pl.lit(f" (before {min_stage})")])),
                next_step_problem(ctx),
            ],
            separator=", ",
            ignore_nulls=True,
        )
        return pl.concat_str([pl.col("forecast_category"), pl.lit(" deal "), reasons])

    def details(self, ctx) -> dict[str, pl.Expr]:
        _, min_stage = min_stage_order(ctx, self.name)
        return {
            "forecast_category": pl.col("forecast_category"),
            "stage": pl.col("stage"),
            "min_stage": pl.lit(min_stage, pl.String),
            "next_step": pl.col("next_step"),
        }

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {"forecast_category": ctx.is_open & pl.col("forecast_category").is_null()}
