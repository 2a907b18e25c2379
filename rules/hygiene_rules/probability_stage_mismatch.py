import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import option_percent, percent


class ProbabilityStageMismatch(DealRule):
    """An open deal's own probability is far from its stage's.

    **Why**

    The stage table says what a deal at that stage usually closes at. A rep
    who types 90% on a Qualification deal, or 10% on one in Negotiation,
    either knows something the stage does not say (write it down) or left a
    stale number that now skews the weighted forecast.

    Flags open deals whose ``probability`` differs from their stage's by
    more than ``max_gap`` percentage points. Deals without a probability of
    their own, and deals in stages the table does not know, are not
    evaluable.

    **Example**

    With ``max_gap = 25``: a Proposal deal (60%) at 85% is exactly 25 points
    off: not flagged; at 86% it is flagged, as it is at 34%.

    **Fix**

    Set the probability back to the stage's, or move the deal to the stage
    its probability describes.
    """

    code = "HY031"
    name = "probability-stage-mismatch"
    summary = "Open deal whose probability differs from its stage's by more than max_gap points"
    severity = "info"
    group = "forecast"
    weight = 5
    options_schema = {
        "type": "object",
        "properties": {
            "max_gap": {"type": "number", "minimum": 0, "maximum": 100, "default": 25, "description": "Percentage points a deal's probability may differ from its stage's."},
        },
    }

    def _gap(self, ctx) -> pl.Expr:
        return (pl.col("probability") - ctx.stage_probability).abs()

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (self._gap(ctx) > ctx.options["max_gap"])

    def message_expr(self, ctx) -> pl.Expr:
        return pl.concat_str(
            [
                pl.lit("probability "),
                percent(pl.col("probability")),
                pl.lit("% against "),
                percent(ctx.stage_probability),
                pl.lit("% for "),
                pl.col("stage"),
                pl.lit(" ("),
                percent(self._gap(ctx)),
                pl.lit(f" points apart, at most {option_percent(ctx.options['max_gap'])})"),
            ]
        )

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "stage": pl.col("stage"),
            "probability": pl.col("probability"),
            "stage_probability": ctx.stage_probability,
            "gap": self._gap(ctx),
            "max_gap": pl.lit(ctx.options["max_gap"]),
        }

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {
            "probability": ctx.is_open & pl.col("probability").is_null(),
            "stage": ctx.is_open & ctx.stage_probability.is_null(),
        }
