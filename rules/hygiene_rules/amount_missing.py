import polars as pl

from hygiene import DealRule, format_number


class AmountMissing(DealRule):
    """An open deal has no amount, or an amount of zero or less.

    **Why**

    A deal without a value is invisible to every pipeline number: coverage,
    weighted forecast, amount at risk. Zero is usually a placeholder typed
    to get past a required field.

    Flags open deals whose ``amount`` is empty, unreadable (also reported
    by ``invalid-value``) or at most 0. An export without an ``amount``
    field says nothing about amounts: its deals are not evaluable rather
    than all flagged.

    **Example**

    An open deal with amount 0 or -500 is flagged, as is one with no amount;
    one with 0.01 is not. A Closed Lost deal with amount 0 is not flagged.

    **Fix**

    Enter the value the buyer is discussing, even as an estimate, and
    refine it as the deal moves.
    """

    code = "HY050"
    name = "amount-missing"
    summary = "Open deal with no amount or an amount of zero or less"
    severity = "error"
    group = "data quality"
    weight = 20
    options_schema = {"type": "object", "properties": {}}

    def condition(self, ctx) -> pl.Expr:
        if not ctx.has_field("amount"):
            return pl.lit(False)
        return ctx.is_open & (pl.col("amount").is_null() | (pl.col("amount") <= 0))

    def message_expr(self, ctx) -> pl.Expr:
        shown = format_number(pl.col("amount"), decimals=2).str.strip_suffix(".00")
        return pl.when(pl.col("amount").is_null()).then(pl.lit("no amount")).otherwise(pl.concat_str([pl.lit("amount "), shown, pl.lit(" is not positive")]))

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {"amount": pl.col("amount")}

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {} if ctx.has_field("amount") else {"amount": ctx.is_open}
