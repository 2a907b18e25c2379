import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import percent


class ClosedRecordIntegrity(DealRule):
    """A deal's record contradicts its stage: a win without amount or date, a close in the future, impossible probabilities.

    **Why**

    Closed deals are the history every win rate, cycle time and forecast
    model learns from; open deals at 0% or 100% are closed deals nobody
    closed. Records that contradict themselves poison both.

    A deal is flagged for each of these that holds:

    - closed won without an ``amount``, or without a ``close_date``;
    - closed (won or lost) with a ``close_date`` after the audit date;
    - won with its own ``probability`` below 100, or lost above 0;
    - open with its own probability at 100 or 0.

    Only a deal's own probability counts (the stage's is right by
    definition), and a field the export does not have is never evidence: a
    won deal is not flagged for a missing amount when the export has no
    amount column. Deals without a probability of their own are not
    evaluable for the probability checks.

    **Example**

    With ``as_of = 2026-03-31``: a Closed Won deal closing 2026-04-01 is
    flagged ("closed with a close date after as_of"), one closing
    2026-03-31 is not; a Closed Lost deal at 10% is flagged; a Proposal deal
    at 100% is flagged, at 99% it is not.

    **Fix**

    Correct the record: the real close date and amount of the win, the
    probability its stage implies, or the stage the deal is really in.
    """

    code = "HY060"
    name = "closed-record-integrity"
    summary = "Won without amount or close date, closed in the future, or a probability its stage contradicts"
    severity = "error"
    group = "integrity"
    weight = 15
    options_schema = {"type": "object", "properties": {}}

    def _problems(self, ctx) -> list[pl.Expr]:
        closed, won = ~ctx.is_open, ctx.is_won
        lost = closed & ~won
        own = pl.col("probability")
        problems = []
        if ctx.has_field("amount"):
            problems.append(pl.when(won & pl.col("amount").is_null()).then(pl.lit("won without an amount")))
        if ctx.has_field("close_date"):
            problems.append(pl.when(won & pl.col("close_date").is_null()).then(pl.lit("won without a close date")))
            problems.append(
                pl.when(closed & (pl.col("close_date") > pl.lit(ctx.as_of))).then(
                    pl.concat_str([pl.lit("closed with a close date after as_of ("), pl.col("close_date").cast(pl.String), pl.lit(")")])
                )
            )
        shown = percent(own)
        problems += [
            pl.when(won & (own < 100)).then(pl.concat_str([pl.lit("won at "), shown, pl.lit("%")])),
            pl.when(lost & (own > 0)).then(pl.concat_str([pl.lit("lost at "), shown, pl.lit("%")])),
            pl.when(ctx.is_open & ((own == 100) | (own == 0))).then(pl.concat_str([pl.lit("open at "), shown, pl.lit("%")])),
        ]
        return problems

    def message_expr(self, ctx) -> pl.Expr:
        return pl.concat_str(self._problems(ctx), separator="; ", ignore_nulls=True)

    def condition(self, ctx) -> pl.Expr:
        return pl.any_horizontal(*(problem.is_not_null() for problem in self._problems(ctx)))

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {"stage": pl.col("stage"), "amount": pl.col("amount"), "close_date": pl.col("close_date"), "probability": pl.col("probability")}

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {"probability": ctx.is_known_stage & pl.col("probability").is_null()}
