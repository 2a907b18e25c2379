import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import text


class UnknownStage(DealRule):
    """A deal's stage is not in the stage table.

    **Why**

    Rules decide what is open, won and stale from the stage table. A stage
    the table does not know (a renamed stage, a typo, a stage from another
    sales process) gets no probability and no time budget, so the audit of
    that deal is partial.

    Stages match case-insensitively, ignoring surrounding spaces. A deal
    with an unknown (or empty) stage counts as open; rules fall back to
    their option defaults for it.

    **Example**

    With the default stage table, ``Stage = "Discovery"`` is flagged;
    ``Stage = "proposal "`` matches Proposal and is not.

    **Fix**

    Add the stage to ``[[pipeline.stages]]`` with its probability,
    ``max_days`` and whether it is closed or won, or fix the deal's stage.
    """

    code = "HY901"
    name = "unknown-stage"
    summary = "Deal's stage is not in the stage table"
    severity = "warning"
    group = "integrity"
    weight = 10

    def condition(self, ctx) -> pl.Expr:
        return ~ctx.is_known_stage

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {"stage": pl.col("stage")}

    def message_expr(self, ctx) -> pl.Expr:
        return (
            pl.when(pl.col("stage").is_null())
            .then(pl.lit("deal has no stage"))
            .otherwise(text("stage '{}' is not in the stage table", pl.col("stage")))
        )
