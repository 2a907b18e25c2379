import polars as pl

from hygiene import DealRule

from hygiene_rules.text_values import per_distinct_value


class StageRegressed(DealRule):
    """An open deal moved back to an earlier stage, and is still there.

    **Why**

    A deal that goes backwards (Negotiation back to Proposal) lost
    something: the buyer, the budget, the decision. Its stage probability
    drops with it, and the forecast should hear about it.

    ``stage_previous`` is the stage the deal was in before its current
    stage (history derives it); a move to an *earlier open stage* of the
    stage table's order flags the deal until it moves on. Reopened deals
    (from a closed stage) are not regressions. Deals without history
    (``stage_regressions`` unknown) are not evaluable, with the reason.

    **Example**

    With the default stage table: a deal now in Proposal that was in
    Negotiation is flagged ("moved back from Negotiation to Proposal on
    2026-11-09, 1 move back in all"); one that moved from Proposal to
    Negotiation is not.

    **Fix**

    Find out what was lost; update the close date, amount and next step to
    match the stage the deal is really in.
    """

    code = "HY204"
    name = "stage-regressed"
    summary = "Open deal that moved back to an earlier stage"
    severity = "warning"
    group = "history"
    message_template = "moved back from {stage_previous} to {stage} on {stage_entered_date} ({stage_regressions} moves back in all)"

    def _rank(self, ctx, column: str) -> pl.Expr:
        order = {stage.name.strip().lower(): index for index, stage in enumerate(ctx.stages.stages) if not stage.closed}
        # A stage table's few names for any number of deals: each distinct stage is ranked once.
        return per_distinct_value(column, lambda stage: stage.str.strip_chars().str.to_lowercase().replace_strict(order, default=None, return_dtype=pl.Int64))

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (self._rank(ctx, "stage_previous") > self._rank(ctx, "stage"))

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "stage_previous": pl.col("stage_previous"),
            "stage": pl.col("stage"),
            "stage_entered_date": pl.col("stage_entered_date"),
            "stage_regressions": pl.col("stage_regressions").fill_null(1),
        }

    def not_evaluable_reason(self, ctx) -> pl.Expr:
        known = pl.col("stage_previous").is_not_null() | pl.col("stage_regressions").is_not_null()
        return pl.when(ctx.is_open & ~known).then(ctx.history_gap("stage_regressions"))
