import polars as pl

from hygiene import DealRule, format_number

from hygiene_rules.stage_checks import text


class AmountDropped(DealRule):
    """An open deal's amount fell sharply since the previous snapshot, or since it entered commit.

    **Why**

    A shrinking amount is often the first sign of a deal in trouble: a
    smaller scope, a discount to save it, a competitor's lower price. A
    commit deal that shrinks takes money out of a number the team already
    promised.

    The drop is measured against ``amount_previous`` (the amount at the
    previous snapshot) and against ``amount_at_commit`` (the amount when the
    deal's current run in the commit forecast category began); either
    falling by at least ``min_drop_pct`` percent flags the deal. Deals
    without a previous amount are not evaluable, with the reason.

    **Example**

    With ``min_drop_pct = 20``: 1,000 at the previous snapshot and 800 now
    is flagged (20%); 801 is not. A commit deal that entered commit at
    1,000 and is now 750 is flagged even if it was 800 last week.

    **Fix**

    Confirm the new amount with the owner and the reason for the cut; if
    the deal is being saved with a discount, make sure it is approved.
    """

    code = "HY203"
    name = "amount-dropped"
    summary = "Open deal whose amount fell by at least min_drop_pct since the previous snapshot or since it entered commit"
    severity = "warning"
    group = "history"
    options_schema = {
        "type": "object",
        "properties": {
            "min_drop_pct": {"type": "number", "exclusiveMinimum": 0, "maximum": 100, "default": 20, "description": "Percent of the earlier amount lost."},
        },
    }

    def _dropped_from(self, ctx, column: str) -> pl.Expr:
        # amount <= earlier * (1 - pct/100), multiplied out so that exactly the limit compares exactly.
        earlier = pl.col(column)
        return ((earlier > 0) & (pl.col("amount") * 100 <= earlier * (100 - ctx.options["min_drop_pct"]))).fill_null(False)

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (self._dropped_from(ctx, "amount_previous") | self._dropped_from(ctx, "amount_at_commit"))

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "amount": pl.col("amount"),
            "amount_previous": pl.col("amount_previous"),
            "amount_at_commit": pl.col("amount_at_commit"),
            "min_drop_pct": pl.lit(ctx.options["min_drop_pct"]),
        }

    def _describe(self, ctx, column: str, since: str) -> pl.Expr:
        earlier = pl.col(column)
        pct = ((earlier - pl.col("amount")) / earlier * 100).round(0).cast(pl.Int64)
        return pl.when(self._dropped_from(ctx, column)).then(
            text("fell {}% {} ({} to {})", pct, pl.lit(since), format_number(earlier), format_number(pl.col("amount")))
        )

    def message_expr(self, ctx) -> pl.Expr:
        return pl.concat_str(
            [
                pl.lit("amount "),
                pl.concat_str(
                    [self._describe(ctx, "amount_previous", "since the previous snapshot"), self._describe(ctx, "amount_at_commit", "since it entered commit")],
                    separator="; ",
                    ignore_nulls=True,
                ),
            ]
        )

    def not_evaluable_reason(self, ctx) -> pl.Expr:
        return pl.when(ctx.is_open).then(ctx.history_gap("amount", "amount_previous"))
